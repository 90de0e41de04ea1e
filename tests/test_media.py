"""Media actions against a real Anki: the bytes in the media folder, names, trash, sources."""

from __future__ import annotations

import base64
import hashlib
import http.server
import os
import threading
import time
from typing import Any, Dict, List

import pytest

from conftest import free_port


def unique(label: str, ext: str = ".txt") -> str:
    return "_ac-media-%s-%d%s" % (label, time.monotonic_ns(), ext)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def on_disk(anki: Any, name: str) -> Any:
    """The bytes of a media file as Anki's media folder holds them, or None."""
    path = os.path.join(anki.call("getMediaDirPath"), name)
    if not os.path.isfile(path):
        return None
    with open(path, "rb") as fh:
        return fh.read()


class Server:
    """A local HTTP server with fixed pages; every other path is a 404."""

    def __init__(self, pages: Dict[str, bytes]) -> None:
        pages_ref = pages

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = pages_ref.get(self.path)
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args: Any) -> None:
                pass

        self.port = free_port()
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(10)


@pytest.fixture
def server() -> Any:
    instance = Server({"/cat.mp3": b"\x00meow\xff" * 100, "/page": b"a page"})
    yield instance
    instance.close()


@pytest.fixture
def stored(anki: Any) -> Any:
    """Names a test stores; afterwards they are deleted and the files the test sent to the media
    trash are removed from it (other trashed files stay)."""
    trash = anki.probe("import os\n"
                       "result = os.path.join(os.path.dirname(mw.col.media.dir()), 'media.trash')")
    before = set(os.listdir(trash)) if os.path.isdir(trash) else set()
    names: List[str] = []
    yield names
    for name in names:
        anki.call("deleteMediaFile", filename=name)
    if os.path.isdir(trash):
        for name in set(os.listdir(trash)) - before:
            os.remove(os.path.join(trash, name))


def trash_names(anki: Any) -> List[str]:
    return anki.probe("import os\n"
                      "t = os.path.join(os.path.dirname(mw.col.media.dir()), 'media.trash')\n"
                      "result = sorted(os.listdir(t)) if os.path.isdir(t) else []")


# -- storeMediaFile --------------------------------------------------------------------------

def test_store_by_data_v6_sample_and_retrieve(anki, stored):
    name = unique("hello")
    stored.append(name)
    reply = anki.invoke("storeMediaFile", filename=name, data="SGVsbG8sIHdvcmxkIQ==")
    # v6 answered null; we answer the stored name (newest upstream does too)
    assert reply == {"result": name, "error": None}
    assert on_disk(anki, name) == b"Hello, world!"
    assert anki.invoke("retrieveMediaFile", filename=name) == {
        "result": "SGVsbG8sIHdvcmxkIQ==", "error": None}


def test_store_by_path(anki, stored, tmp_path):
    source = tmp_path / "picture.png"
    source.write_bytes(b"\x89PNG fake picture")
    name = unique("path", ".png")
    stored.append(name)
    assert anki.call("storeMediaFile", filename=name, path=str(source)) == name
    assert on_disk(anki, name) == b"\x89PNG fake picture"
    missing = str(tmp_path / "missing.png")
    assert "No such file or directory" in anki.error(
        "storeMediaFile", filename=name, path=missing)


def test_store_by_path_obeys_allowed_paths(anki, stored, tmp_path):
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    inside = allowed / "in.txt"
    inside.write_bytes(b"inside")
    outside = tmp_path / "out.txt"
    outside.write_bytes(b"outside")
    name = unique("allowed")
    stored.append(name)
    old = anki.set_config(allowedPaths=[str(allowed)])
    try:
        assert anki.error("storeMediaFile", filename=name, path=str(outside)) == (
            "path is not in a folder allowed by config allowedPaths: %s" % outside)
        assert on_disk(anki, name) is None
        assert anki.call("storeMediaFile", filename=name, path=str(inside)) == name
        assert on_disk(anki, name) == b"inside"
    finally:
        anki.set_config(**old)


def test_store_by_url(anki, stored, server):
    name = unique("cat", ".mp3")
    stored.append(name)
    assert anki.call("storeMediaFile", filename=name, url=server.url("/cat.mp3")) == name
    assert on_disk(anki, name) == b"\x00meow\xff" * 100


def test_store_by_url_errors(anki, server):
    name = unique("404", ".mp3")
    url = server.url("/missing.mp3")
    assert anki.error("storeMediaFile", filename=name, url=url) == (
        "%s download failed with return code 404" % url)
    assert on_disk(anki, name) is None
    # urllib would read local files through file:// URLs, past config allowedPaths
    assert anki.error("storeMediaFile", filename=name, url="file:///etc/hostname") == (
        "url must be an http or https URL: file:///etc/hostname")
    closed = "http://127.0.0.1:%d/x" % free_port()
    assert anki.error("storeMediaFile", filename=name, url=closed).startswith(
        closed + " download failed: ")
    assert on_disk(anki, name) is None


def test_store_needs_a_source(anki):
    name = unique("none")
    expected = 'You must provide a "data", "path", or "url" field.'
    assert anki.error("storeMediaFile", filename=name) == expected
    assert anki.error("storeMediaFile", filename=name, data="", url="") == expected
    assert on_disk(anki, name) is None


def test_store_source_priority_data_path_url(anki, stored, server, tmp_path):
    source = tmp_path / "p.txt"
    source.write_bytes(b"from path")
    name = unique("priority")
    stored.append(name)
    anki.call("storeMediaFile", filename=name, data=b64(b"from data"), path=str(source),
              url=server.url("/missing"))
    assert on_disk(anki, name) == b"from data"
    anki.call("storeMediaFile", filename=name, path=str(source), url=server.url("/missing"))
    assert on_disk(anki, name) == b"from path"


def test_store_skip_hash(anki, stored, server):
    content = b"\x00meow\xff" * 100
    name = unique("skip", ".mp3")
    # match: nothing stored, null
    assert anki.invoke("storeMediaFile", filename=name, url=server.url("/cat.mp3"),
                       skipHash=hashlib.md5(content).hexdigest().upper()) == {
        "result": None, "error": None}
    assert on_disk(anki, name) is None
    # mismatch: stored
    stored.append(name)
    assert anki.call("storeMediaFile", filename=name, url=server.url("/cat.mp3"),
                     skipHash="7e2c2f954ef6051373ba916f000168dc") == name
    assert on_disk(anki, name) == content


def test_store_delete_existing(anki, stored):
    name = unique("existing")
    stored.append(name)
    assert anki.call("storeMediaFile", filename=name, data=b64(b"first")) == name
    trashed_before = trash_names(anki)
    # deleteExisting defaults to true: the old file goes to the trash, the name stays
    assert anki.call("storeMediaFile", filename=name, data=b64(b"second")) == name
    assert on_disk(anki, name) == b"second"
    assert name in set(trash_names(anki)) - set(trashed_before)
    # false: Anki keeps the old file and picks another name for the new content
    renamed = anki.call("storeMediaFile", filename=name, data=b64(b"third"),
                        deleteExisting=False)
    stored.append(renamed)
    stem, ext = os.path.splitext(name)
    assert renamed == "%s-%s%s" % (stem, hashlib.sha1(b"third").hexdigest(), ext)
    assert on_disk(anki, name) == b"second"
    assert on_disk(anki, renamed) == b"third"
    # the same content again is the same file
    assert anki.call("storeMediaFile", filename=name, data=b64(b"second"),
                     deleteExisting=False) == name


def test_store_reduces_name_to_a_media_file_name(anki, stored):
    base = unique("sub")
    stored.append(base)
    media_dir = anki.call("getMediaDirPath")
    assert anki.call("storeMediaFile", filename="../../" + base, data=b64(b"x")) == base
    assert anki.call("storeMediaFile", filename="sub\\dir/" + base, data=b64(b"y")) == base
    assert on_disk(anki, base) == b"y"
    assert not os.path.exists(os.path.join(os.path.dirname(media_dir), base))
    assert anki.error("storeMediaFile", filename="..", data=b64(b"x")) == (
        "filename must be a non-empty file name")
    assert anki.error("storeMediaFile", filename=base, data=b64(b"x"), skipHash=5) == (
        "skipHash must be an MD5 hex string")


# -- retrieveMediaFile -----------------------------------------------------------------------

def test_retrieve_missing_and_traversal(anki, stored):
    media_dir = anki.call("getMediaDirPath")
    assert anki.call("retrieveMediaFile", filename=unique("missing")) is False
    # the collection file sits beside the media folder: not reachable
    assert os.path.isfile(os.path.join(os.path.dirname(media_dir), "collection.anki2"))
    assert anki.call("retrieveMediaFile", filename="../collection.anki2") is False
    assert anki.call("retrieveMediaFile", filename="..") is False
    assert anki.call("retrieveMediaFile", filename=os.path.join(
        os.path.dirname(media_dir), "collection.anki2")) is False
    # a name with a path means the media file of that basename
    name = unique("inside")
    stored.append(name)
    outside = os.path.join(os.path.dirname(media_dir), name)
    with open(outside, "wb") as fh:
        fh.write(b"outside")
    try:
        assert anki.call("retrieveMediaFile", filename="../" + name) is False
        anki.call("storeMediaFile", filename=name, data=b64(b"inside"))
        assert anki.call("retrieveMediaFile", filename="../" + name) == b64(b"inside")
    finally:
        os.remove(outside)


def test_retrieve_normalises_to_nfc(anki, stored):
    name = unique("caf\u00e9")
    stored.append(name)
    decomposed = name.replace("\u00e9", "e\u0301")
    assert anki.call("storeMediaFile", filename=decomposed, data=b64(b"cafe")) == name
    assert anki.call("retrieveMediaFile", filename=decomposed) == b64(b"cafe")


# -- getMediaFilesNames, getMediaDirPath -------------------------------------------------------

def test_get_media_files_names(anki, stored):
    prefix = "_ac-glob-%d-" % time.monotonic_ns()
    for suffix in ("a.txt", "b.txt", "c.dat"):
        stored.append(anki.call("storeMediaFile", filename=prefix + suffix, data=b64(b"g")))
    assert anki.call("getMediaFilesNames", pattern=prefix + "*.txt") == [
        prefix + "a.txt", prefix + "b.txt"]
    assert anki.call("getMediaFilesNames", pattern=prefix + "?.dat") == [prefix + "c.dat"]
    assert anki.call("getMediaFilesNames", pattern=prefix + "[bc].*") == [
        prefix + "b.txt", prefix + "c.dat"]
    everything = anki.call("getMediaFilesNames")
    assert {prefix + s for s in ("a.txt", "b.txt", "c.dat")} <= set(everything)
    assert all("/" not in n for n in everything)
    # only the media folder is searched
    assert anki.call("getMediaFilesNames", pattern="../*") == []
    assert anki.call("getMediaFilesNames", pattern="../collection.anki2") == []


def test_get_media_dir_path(anki):
    path = anki.call("getMediaDirPath")
    assert os.path.isabs(path) and os.path.isdir(path)
    assert path == anki.probe("import os\nresult = os.path.abspath(mw.col.media.dir())")
    assert path.endswith("collection.media")


# -- deleteMediaFile -------------------------------------------------------------------------

def test_delete_media_file_v6_sample_goes_to_trash(anki, stored):
    name = unique("hello")
    stored.append(name)
    anki.call("storeMediaFile", filename=name, data="SGVsbG8sIHdvcmxkIQ==")
    assert anki.invoke("deleteMediaFile", filename=name) == {"result": None, "error": None}
    assert on_disk(anki, name) is None
    assert name in trash_names(anki)
    assert anki.call("retrieveMediaFile", filename=name) is False
    assert anki.invoke("deleteMediaFile", filename=name) == {"result": None, "error": None}


def test_delete_media_file_stays_in_media_folder(anki, tmp_path):
    media_dir = anki.call("getMediaDirPath")
    name = unique("outside")
    outside = os.path.join(os.path.dirname(media_dir), name)
    with open(outside, "wb") as fh:
        fh.write(b"keep me")
    try:
        assert anki.call("deleteMediaFile", filename="../" + name) is None
        assert anki.call("deleteMediaFile", filename=outside) is None
        with open(outside, "rb") as fh:
            assert fh.read() == b"keep me"
    finally:
        os.remove(outside)
