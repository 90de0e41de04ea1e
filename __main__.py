# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""`python -m ankiconnect serve --collection PATH [--bind ADDRESS] [--port PORT] [--config FILE]`:
the API without Anki's window (headless.py). Exit status 0 after SIGTERM or SIGINT, 2 when it
cannot start (the reason on stderr)."""

from __future__ import annotations

import argparse
import sys
from typing import List, Optional


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="ankiconnect", description="The AnkiConnect API on a collection, without Anki's "
        "window: the same wire protocol as the add-on; gui* actions answer an error.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve a collection until SIGTERM or SIGINT")
    serve.add_argument("--collection", required=True,
                       help="the collection file (collection.anki2); made if only its folder "
                       "exists")
    serve.add_argument("--bind", help="the address to listen on (config webBindAddress, "
                       "default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="the port (config webBindPort, default 8765)")
    serve.add_argument("--config", help="a JSON file with the add-on's config keys")
    args = parser.parse_args(argv)

    from .headless import ServeError, read_config, serve as run

    try:
        return run(args.collection, args.bind, args.port, read_config(args.config))
    except ServeError as exc:
        print("ankiconnect: %s" % exc, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
