"""The timings of `make bench` (bench.py, bench_scale.py)."""

import statistics
import time
from typing import Any, Callable


def timed(func: Callable[[], Any]) -> tuple:
    """(seconds `func()` took, its value)."""
    start = time.perf_counter()
    value = func()
    return time.perf_counter() - start, value


def best(func: Callable[[], Any], runs: int = 3) -> float:
    """Median of `runs` timings of a repeatable read."""
    return statistics.median(timed(func)[0] for _ in range(runs))
