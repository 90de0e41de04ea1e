"""Many clients at once, and many requests on one connection, against the real add-on in a real
Anki: what Yomitan bursts, scripts and pipelining HTTP clients send. Counts and contents only."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from typing import Any, Dict, List

from conftest import BOTH, Anki
from harness import wait_until

HOSTS = BOTH


def version_over_new_connection(anki: Anki, marker: int) -> Any:
    """One `multi` round trip on a connection of its own; the marker comes back in the answer."""
    conn = http.client.HTTPConnection(anki.host, anki.port, timeout=120)
    try:
        conn.request("POST", "/", body=json.dumps({
            "action": "multi", "version": 6, "params": {"actions": [
                {"action": "version"}, {"action": "deckNameFromId", "version": 6,
                                        "params": {"deckId": 10 ** 9 + marker}}]}}),
            headers={"Content-Type": "application/json"})
        return json.loads(conn.getresponse().read())
    finally:
        conn.close()


def test_100_clients_connecting_at_once_20_requests_each(anki: Anki) -> None:
    clients, per_client = 100, 20
    start = threading.Barrier(clients)
    errors: List[str] = []
    answers: Dict[int, List[Any]] = {}

    def client(index: int) -> None:
        got = answers.setdefault(index, [])
        start.wait()  # every client opens its first connection at the same moment
        for i in range(per_client):
            try:
                got.append(version_over_new_connection(anki, index * 1000 + i))
            except Exception as exc:  # what the user saw: ConnectionResetError
                errors.append("%s: %r" % (index, exc))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(600)
    assert errors == []
    assert sum(len(v) for v in answers.values()) == clients * per_client
    for index, got in answers.items():
        # deckNameFromId of an unknown id is an error: each answer is its own request's
        assert got == [{"result": [6, {"result": None, "error": "deck was not found: %d"
                                       % (10 ** 9 + index * 1000 + i)}], "error": None}
                       for i in range(per_client)], got[:2]


def read_answers(sock: socket.socket, count: int) -> List[bytes]:
    """The bodies of `count` HTTP answers with Content-Length, in the order they arrive."""
    buffer = b""
    bodies: List[bytes] = []
    while len(bodies) < count:
        head_end = buffer.find(b"\r\n\r\n")
        if head_end >= 0:
            head = buffer[:head_end].decode("latin-1")
            length = int([line.split(":", 1)[1] for line in head.split("\r\n")
                          if line.lower().startswith("content-length:")][0])
            if len(buffer) >= head_end + 4 + length:
                assert head.startswith("HTTP/1.1 200 "), head
                bodies.append(buffer[head_end + 4:head_end + 4 + length])
                buffer = buffer[head_end + 4 + length:]
                continue
        chunk = sock.recv(1 << 20)
        if not chunk:
            break
        buffer += chunk
    return bodies


def pipelined(count: int, action: str = "deckNameFromId") -> bytes:
    requests = []
    for i in range(count):
        body = json.dumps({"action": action, "version": 6,
                           "params": {"deckId": 10 ** 9 + i}}).encode()
        requests.append(b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\n\r\n%s"
                        % (len(body), body))
    return b"".join(requests)


def test_10000_pipelined_requests_in_one_write_all_answered_in_order(anki: Anki) -> None:
    count = 10_000
    sock = socket.create_connection((anki.host, anki.port), timeout=120)
    try:
        sender = threading.Thread(target=sock.sendall, args=(pipelined(count),))
        sender.start()  # the answers are read while the requests are still being sent
        bodies = read_answers(sock, count)
        sender.join(120)
    finally:
        sock.close()
    assert len(bodies) == count
    assert [json.loads(body) for body in bodies] == [
        {"result": None, "error": "deck was not found: %d" % (10 ** 9 + i)}
        for i in range(count)]
    # and the server goes on serving
    assert anki.request({"action": "version"}) == 6


def test_a_client_that_does_not_read_does_not_make_anki_buffer_without_bound(anki: Anki) -> None:
    """A client pipelines requests with large answers and reads none of them: Anki stops taking
    its requests once about a megabyte of answers waits (TCP back-pressure does the rest), serves
    everyone else meanwhile, and answers everything once the client reads."""
    count = 400  # 40 MB of answers, which Anki would hold without a bound
    requests = []
    for i in range(count):
        # a large answer: the error quotes the (100 kB) note id, as upstream's did
        body = json.dumps({"action": "getNoteTags", "version": 6,
                           "params": {"note": "x" * 100_000 + str(i)}}).encode()
        requests.append(b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\n\r\n%s"
                        % (len(body), body))
    everything = b"".join(requests)
    sock = socket.create_connection((anki.host, anki.port), timeout=120)
    sender = threading.Thread(target=lambda: sock.sendall(everything), daemon=True)
    sender.start()
    try:
        server = anki.module("AnkiConnect") + "._instance['server']"
        # the connection backs up: answers wait, no further request is taken
        wait_until(lambda: anki.probe(
            "result = any(c.backed_up() for c in %s.connections.values())" % server),
            "the connection to back up")
        held = anki.probe("result = max(len(c.out) for c in %s.connections.values())" % server)
        assert held < 1024 * 1024 + 200_000, held  # the mark, and at most one answer more
        # everyone else is served meanwhile
        assert anki.request({"action": "version"}, timeout=30) == 6
        held_again = anki.probe(
            "result = max(len(c.out) for c in %s.connections.values())" % server)
        assert held_again < 1024 * 1024 + 200_000, held_again
        bodies = read_answers(sock, count)
    finally:
        sock.close()
    assert len(bodies) == count
    assert [json.loads(b)["error"] for b in bodies] == [
        "Note was not found: %s" % ("x" * 100_000 + str(i)) for i in range(count)]


def test_the_main_thread_runs_meanwhile_while_a_long_request_works_and_the_next_waits(
        anki: Anki, deck: str) -> None:
    """An importer sends 30,000 notes in one addNotes, and Yomitan looks a word up meanwhile.
    While the notes are added, Anki's main thread (the window's; the loop, without it) runs other
    code: the probe's, which finds the request worker busy with the import. The lookup sent
    meanwhile is answered after the import, and sees all of its notes. The import is one undo
    step, and Anki's Edit menu shows it once the request is answered."""
    count = 30000
    notes = [{"deckName": deck, "modelName": "Basic",
              "fields": {"Front": "long request %d" % i, "Back": "back"}} for i in range(count)]
    answers: Dict[str, Any] = {}

    def send(name: str, action: str, **params: Any) -> None:
        answers[name] = anki.call(action, **params)

    busy = ("result = getattr(getattr(%s._instance['host'], 'worker', None), 'busy', False)"
            % anki.module("AnkiConnect"))
    importer = threading.Thread(target=send, args=("addNotes", "addNotes"), kwargs={"notes": notes})
    importer.start()
    seen_busy = False
    while importer.is_alive() and not seen_busy:
        # this probe runs on the main thread: it sees the worker busy only if the main thread is
        # free while the request works
        seen_busy = anki.probe(busy)
        time.sleep(0.01)
    lookup = threading.Thread(target=send, args=("findNotes", "findNotes"),
                              kwargs={"query": '"deck:%s"' % deck})
    lookup.start()
    importer.join(600)
    lookup.join(600)
    assert seen_busy, "the main thread ran nothing while addNotes of %d notes ran" % count
    added = answers["addNotes"]
    assert len(added) == count and all(isinstance(nid, int) for nid in added)
    assert sorted(answers["findNotes"]) == sorted(added)
    if not anki.headless:
        undo, menu = anki.probe(
            "result = [mw.col.undo_status().undo, mw.form.actionUndo.text()]")
        assert undo == "AnkiConnect: addNotes"
        # (Anki's text isolates the name with bidi marks)
        assert menu.replace("\u2068", "").replace("\u2069", "") == "Undo AnkiConnect: addNotes"
