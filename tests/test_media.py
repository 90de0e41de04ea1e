"""Media actions against a real Anki: the bytes in the media folder, names, trash, sources."""

from __future__ import annotations

import base64
import hashlib
import http.server
import os
import threading
import time
import uuid
from typing import Any, Dict, List, Optional, Tuple

import pytest

from conftest import BOTH, free_port

HOSTS = BOTH


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
    """A local HTTP server with fixed pages; every other path is a 404. `requests` records each
    request as received: (the raw request target, the Host header). A page in `truncated`
    announces more bytes than it sends, then closes the connection."""

    def __init__(self, pages: Dict[str, bytes],
                 truncated: Optional[Dict[str, bytes]] = None) -> None:
        pages_ref = pages
        truncated_ref = truncated or {}
        requests: List[Tuple[str, str]] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                requests.append((self.path, self.headers.get("Host", "")))
                if self.path in truncated_ref:
                    body = truncated_ref[self.path]
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body) + 1000))
                    self.end_headers()
                    self.wfile.write(body)
                    self.close_connection = True
                    return
                body = pages_ref.get(self.path)
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args: Any) -> None:
                pass

        self.requests = requests
        self.port = free_port()
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def paths(self) -> List[str]:
        return [path for path, _ in self.requests]

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
                       "result = os.path.join(os.path.dirname(col.media.dir()), 'media.trash')")
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
                      "t = os.path.join(os.path.dirname(col.media.dir()), 'media.trash')\n"
                      "result = sorted(os.listdir(t)) if os.path.isdir(t) else []")


def media_snapshot(anki: Any) -> Dict[str, Any]:
    """Every entry of the media folder and of the media trash, with the SHA-1 of each file."""
    media_dir = anki.call("getMediaDirPath")
    snapshot: Dict[str, Any] = {}
    for folder in (media_dir, os.path.join(os.path.dirname(media_dir), "media.trash")):
        if not os.path.isdir(folder):
            continue
        for entry in os.scandir(folder):
            key = os.path.join(folder, entry.name)
            if entry.is_file():
                with open(entry.path, "rb") as fh:
                    snapshot[key] = hashlib.sha1(fh.read()).hexdigest()
            else:
                snapshot[key] = "not a file"
    return snapshot


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


# -- storeMediaFile by url: URLs as users paste them (IRIs) ---------------------------------------

# The v6 document's own sample URL (the shape of Yomitan's Japanese audio source), on our server.
SAMPLE_PATH = "/dictionary/japanese/audiomp3.php?kanji=猫&kana=ねこ"
SAMPLE_SENT = "/dictionary/japanese/audiomp3.php?kanji=%E7%8C%AB&kana=%E3%81%AD%E3%81%93"


def test_store_by_url_v6_sample_url_with_kanji(anki, stored):
    content = b"ID3 neko " + uuid.uuid4().bytes
    server = Server({SAMPLE_SENT: content})
    try:
        name = unique("ねこ_猫", ".mp3")
        stored.append(name)
        assert anki.call("storeMediaFile", filename=name, url=server.url(SAMPLE_PATH)) == name
        assert server.paths() == [SAMPLE_SENT]  # the UTF-8 bytes percent-encoded
        assert on_disk(anki, name) == content
    finally:
        server.close()


IRI_CASES = [
    # non-ASCII and spaces in path and query: UTF-8 bytes, percent-encoded
    ("/音声/ね こ.mp3?q=a b",
     "/%E9%9F%B3%E5%A3%B0/%E3%81%AD%20%E3%81%93.mp3?q=a%20b"),
    # characters outside the BMP
    ("/😺.mp3", "/%F0%9F%98%BA.mp3"),
    # existing escapes stay as they are (no double encoding, hex case kept), beside new ones
    ("/a%20b%2Fc%e7%8c%ab猫.mp3?k=%E7%8C%AB猫&s=%2B",
     "/a%20b%2Fc%e7%8c%ab%E7%8C%AB.mp3?k=%E7%8C%AB%E7%8C%AB&s=%2B"),
    # reserved and other allowed characters keep their meaning: untouched
    ("/r;p=1/x.mp3?a=1&b=2=3;c/d?e:f@g!$'()*+,~-._[]",
     "/r;p=1/x.mp3?a=1&b=2=3;c/d?e:f@g!$'()*+,~-._[]"),
    # a % that starts no escape means itself
    ("/100%.mp3?p=50%&q=%zz&r=%4", "/100%25.mp3?p=50%25&q=%25zz&r=%254"),
    # ASCII that a URI cannot hold
    ('/q.mp3?s="<>{}|\\^`', "/q.mp3?s=%22%3C%3E%7B%7D%7C%5C%5E%60"),
    # the fragment is not sent
    ("/f.mp3?k=猫#ねこ", "/f.mp3?k=%E7%8C%AB"),
    # a lone surrogate (JSON can carry one) is U+FFFD, as in browsers
    ("/x\ud800.mp3", "/x%EF%BF%BD.mp3"),
]


@pytest.mark.parametrize("given, sent", IRI_CASES)
def test_store_by_url_encodes_iri_as_browsers_do(anki, stored, given, sent):
    content = b"content of " + sent.encode("ascii")
    server = Server({sent: content})
    try:
        name = unique("iri")
        stored.append(name)
        assert anki.call("storeMediaFile", filename=name, url=server.url(given)) == name
        assert server.paths() == [sent]
        assert on_disk(anki, name) == content
    finally:
        server.close()


def test_store_by_url_pasted_with_surrounding_whitespace(anki, stored, server):
    name = unique("pasted", ".mp3")
    stored.append(name)
    url = " \t%s\r\n" % server.url("/cat.mp3")
    assert anki.call("storeMediaFile", filename=name, url=url) == name
    assert on_disk(anki, name) == b"\x00meow\xff" * 100
    assert server.paths() == ["/cat.mp3"]


def test_add_note_audio_v6_sample_url_with_kanji(anki, deck, stored):
    """addNote's v6 sample, its audio URL pointed at our server: the file is stored and linked,
    no error text lands in the field."""
    content = b"ID3 neko " + uuid.uuid4().bytes
    server = Server({SAMPLE_SENT: content})
    try:
        word = "front content %d" % time.monotonic_ns()
        filename = unique("yomichan_ねこ_猫", ".mp3")
        stored.append(filename)
        nid = anki.call("addNote", note={
            "deckName": deck, "modelName": "Basic",
            "fields": {"Front": word, "Back": "back content"},
            "options": {"allowDuplicate": False}, "tags": ["yomichan"],
            "audio": {"url": server.url(SAMPLE_PATH), "filename": filename,
                      "skipHash": "7e2c2f954ef6051373ba916f000168dc", "fields": ["Front"]}})
        fields = anki.probe("n = col.get_note(%d)\nresult = dict(n.items())" % nid)
        assert fields == {"Front": word + "[sound:%s]" % filename, "Back": "back content"}
        assert server.paths() == [SAMPLE_SENT]
        assert on_disk(anki, filename) == content
    finally:
        server.close()


def test_add_note_audio_of_an_empty_file_links_the_empty_file(anki, deck, stored, tmp_path):
    """An empty download or file is content like any other: stored and linked (it once came back
    as 'You must provide a "data", "path", or "url" field.' in the field)."""
    server = Server({"/empty.mp3": b""})
    empty = tmp_path / "empty.mp3"
    empty.write_bytes(b"")
    try:
        for source in ({"url": server.url("/empty.mp3")}, {"path": str(empty)}):
            word = "empty audio %d" % time.monotonic_ns()
            filename = unique("empty", ".mp3")
            stored.append(filename)
            nid = anki.call("addNote", note={
                "deckName": deck, "modelName": "Basic", "fields": {"Front": word, "Back": "b"},
                "audio": dict(source, filename=filename, fields=["Front"])})
            fields = anki.probe("n = col.get_note(%d)\nresult = dict(n.items())" % nid)
            assert fields == {"Front": word + "[sound:%s]" % filename, "Back": "b"}
            assert on_disk(anki, filename) == b""
    finally:
        server.close()


def test_store_by_url_host_name_mapped_as_browsers_do(anki, stored, server):
    """Host names go through IDNA's mapping (UTS #46), as in browsers: full-width letters and
    digits are the ASCII ones, so these reach the local server under its plain name."""
    fullwidth = {
        "\uff11\uff12\uff17.\uff10.\uff10.\uff11": "127.0.0.1",  # １２７.０.０.１
        "\uff2c\uff4f\uff43\uff41\uff4c\uff48\uff4f\uff53\uff54": "localhost",  # Ｌｏｃａｌｈｏｓｔ
    }
    for host, sent_host in fullwidth.items():
        del server.requests[:]
        name = unique("host")
        stored.append(name)
        url = "http://%s:%d/page" % (host, server.port)
        assert anki.call("storeMediaFile", filename=name, url=url) == name
        assert on_disk(anki, name) == b"a page"
        assert server.requests == [("/page", "%s:%d" % (sent_host, server.port))]


def test_store_by_url_unresolvable_idn_host_fails_cleanly(anki):
    # no DNS here: the punycode name cannot be resolved, which must be the error
    name = unique("idn")
    before = media_snapshot(anki)
    url = "http://例え.テスト:%d/猫.mp3" % free_port()
    error = anki.error("storeMediaFile", filename=name, url=url)
    assert error.startswith(url + " download failed: ")
    assert "codec" not in error and "ordinal" not in error
    assert media_snapshot(anki) == before




def test_iri_to_uri_host_names_to_punycode(anki):
    """The add-on's encoding function, run inside Anki with what Anki ships."""
    cases = {
        "http://例え.テスト:8080/x": "http://xn--r8jz45g.xn--zckzah:8080/x",
        "https://MÜNCHEN.de/ä?ö=1#ü":
            "https://xn--mnchen-3ya.de/%C3%A4?%C3%B6=1#%C3%BC",
        "http://用户:päss@例え.jp./":
            "http://%E7%94%A8%E6%88%B7:p%C3%A4ss@xn--r8jz45g.jp./",
        "http://[::1]:80/猫": "http://[::1]:80/%E7%8C%AB",
        "http://Example.COM/a%20b": "http://Example.COM/a%20b",
        "http://☃.net/": "http://xn--n3h.net/",
    }
    result = anki.probe("iri_to_uri = %s.iri_to_uri\nresult = {k: iri_to_uri(k) for k in %r}"
                        % (anki.module("actions.media"), list(cases)))
    assert result == cases


def test_store_needs_a_source(anki):
    name = unique("none")
    expected = 'You must provide a "data", "path", or "url" field.'
    assert anki.error("storeMediaFile", filename=name) == expected
    assert anki.error("storeMediaFile", filename=name, data="", url="") == expected
    assert on_disk(anki, name) is None


def test_failing_download_leaves_media_folder_as_it_was(anki, stored, server):
    """Whatever way a download fails, the same-named file stays (deleteExisting is true by
    default) and nothing is written or trashed."""
    truncated = Server({}, truncated={"/short.mp3": b"only the start"})
    try:
        name = unique("kept", ".mp3")
        stored.append(name)
        anki.call("storeMediaFile", filename=name, data=b64(b"the old content"))
        before = media_snapshot(anki)
        failing = {
            server.url("/missing/猫.mp3"): "download failed with return code 404",
            truncated.url("/short.mp3"): "download failed: ",
            "http://127.0.0.1:%d/猫.mp3" % free_port(): "download failed: ",
            "http://例え.テスト/猫.mp3": "download failed: ",
            "http://a..例/猫.mp3": "download failed: invalid host name: a..例",
        }
        for url, expected in failing.items():
            for filename in (name, unique("new", ".mp3")):
                error = anki.error("storeMediaFile", filename=filename, url=url)
                assert error.startswith("%s %s" % (url, expected))
                assert media_snapshot(anki) == before
        assert truncated.paths() == ["/short.mp3", "/short.mp3"]
        assert on_disk(anki, name) == b"the old content"
    finally:
        truncated.close()


# -- storeMediaFile by data: base64 ------------------------------------------------------------

NOT_BASE64 = [
    "!!!!",
    "SGVsbG8",  # padding missing
    "SGVsbG8sIHdvcmxkIQ==!",
    "SGVs*bG8=",
    "SGVsbG8=é",
    "-_-_",  # the URL-safe alphabet is not base64's
    "data:text/plain;base64,SGVsbG8=",
]


def test_store_data_not_base64_is_an_error_and_stores_nothing(anki, stored):
    kept = unique("kept")
    stored.append(kept)
    anki.call("storeMediaFile", filename=kept, data=b64(b"the old content"))
    before = media_snapshot(anki)
    for data in NOT_BASE64:
        for filename in (kept, unique("bad")):
            error = anki.error("storeMediaFile", filename=filename, data=data)
            assert error.startswith("data is not valid base64: "), (data, error)
            assert media_snapshot(anki) == before
    assert on_disk(anki, kept) == b"the old content"
    assert anki.error("storeMediaFile", filename=kept, data=5) == (
        'storeMediaFile: parameter "data" must be a string or null, got 5')


def test_store_data_base64_with_whitespace_mime_style(anki, stored):
    content = bytes(range(256)) * 3
    mime = base64.encodebytes(content).decode("ascii")  # lines of 76 characters
    assert "\n" in mime.strip()
    cases = [mime, mime.replace("\n", "\r\n"), " SGVs\tbG8s\nIHdv cmxk\r\nIQ==\n"]
    expected = [content, content, b"Hello, world!"]
    for data, want in zip(cases, expected):
        name = unique("mime")
        stored.append(name)
        assert anki.call("storeMediaFile", filename=name, data=data) == name
        assert on_disk(anki, name) == want


def test_add_note_picture_data_not_base64_appends_the_error(anki, deck, stored):
    name = unique("bad", ".png")
    stored.append(name)
    before = media_snapshot(anki)
    word = "front %d" % time.monotonic_ns()
    nid = anki.call("addNote", note={
        "deckName": deck, "modelName": "Basic", "fields": {"Front": word, "Back": ""},
        "picture": {"data": "!!!!", "filename": name, "fields": ["Back"]}})
    back = anki.probe("result = col.get_note(%d)['Back']" % nid)
    assert back.startswith("data is not valid base64: ")
    assert media_snapshot(anki) == before


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
        'storeMediaFile: parameter "skipHash" must be a string or null, got 5')


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
    assert path == anki.probe("import os\nresult = os.path.abspath(col.media.dir())")
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


# -- declared param types ---------------------------------------------------------------------

def test_wrong_param_types_answer_the_validation_error_and_change_nothing(anki, stored):
    from test_bad_input import fingerprint

    kept = unique("typed")
    stored.append(kept)
    anki.call("storeMediaFile", filename=kept, data=b64(b"the old content"))
    cases = [
        ({"filename": 5, "data": b64(b"x")},
         'storeMediaFile: parameter "filename" must be a string, got 5'),
        ({"filename": None, "data": b64(b"x")},
         'storeMediaFile: parameter "filename" must be a string, got null'),
        ({"filename": kept, "data": [b64(b"x")]},
         'storeMediaFile: parameter "data" must be a string or null, got ["eA=="]'),
        ({"filename": kept, "path": 1},
         'storeMediaFile: parameter "path" must be a string or null, got 1'),
        ({"filename": kept, "url": {"href": "http://x"}},
         'storeMediaFile: parameter "url" must be a string or null, got {"href": "http://x"}'),
        ({"filename": kept, "data": b64(b"new"), "deleteExisting": "false"},
         'storeMediaFile: parameter "deleteExisting" must be a boolean, got "false"'),
        ({"filename": kept, "data": b64(b"new"), "deleteExisting": None},
         'storeMediaFile: parameter "deleteExisting" must be a boolean, got null'),
    ]
    others = [
        ("retrieveMediaFile", {"filename": None},
         'retrieveMediaFile: parameter "filename" must be a string, got null'),
        ("deleteMediaFile", {"filename": [kept]},
         'deleteMediaFile: parameter "filename" must be a string, got ["%s"]' % kept),
        ("getMediaFilesNames", {"pattern": 1},
         'getMediaFilesNames: parameter "pattern" must be a string, got 1'),
    ]
    before = fingerprint(anki), media_snapshot(anki)
    for action, params, error in [("storeMediaFile",) + case for case in cases] + others:
        assert anki.error(action, **params) == error, (action, params)
        assert (fingerprint(anki), media_snapshot(anki)) == before, (action, params)
    assert on_disk(anki, kept) == b"the old content"
