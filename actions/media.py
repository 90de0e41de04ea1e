# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""Media actions, and `store_content`, which note actions use for their audio/video/picture.

Media files live outside the collection database: Anki cannot undo writing or trashing them, so
these actions do not run in `ctx.op` (an undo step that undoes nothing would only mislead)."""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import os
import re
import unicodedata
from typing import Any, List, Literal, Optional, Union

from ..context import Context
from ..registry import api
from .common import check_path

# The characters Anki removes from media file names (anki.media, _illegalCharReg).
_ILLEGAL = re.compile(r'[][><:"/?*^\\|\0\r\n]')


def media_name(filename: str) -> str:
    """The name a client's file name stands for inside the media folder: its last path component
    (either separator), NFC-normalised, without the characters Anki does not allow. Never a
    path: '', '.' and '..' come back as ''."""
    name = re.split(r"[/\\]", filename)[-1]
    name = _ILLEGAL.sub("", unicodedata.normalize("NFC", name))
    return "" if name in (".", "..") else name


def _media_path(ctx: Context, filename: str) -> Optional[str]:
    """The path of an existing media file, or None."""
    name = media_name(filename)
    if not name:
        return None
    path = os.path.join(ctx.col.media.dir(), name)
    return path if os.path.isfile(path) else None


# RFC 3986: what may stand as it is in a URI (unreserved and reserved characters, and a % that
# starts an escape). Anything else (non-ASCII, space, " < > \ ^ ` { | }, a % that starts no
# escape...) is percent-encoded as UTF-8, as browsers and requests do; reserved characters keep
# their meaning, existing escapes stay as they are.
_NOT_IN_URI = re.compile(r"%(?![0-9A-Fa-f]{2})|[^A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]")
# RFC 3986 appendix B: scheme, authority, and the rest (path, query, fragment).
_URI_PARTS = re.compile(r"([^:/?#]+:)?(?://([^/?#]*))?(.*)", re.DOTALL)


def _quote(text: str) -> str:
    return _NOT_IN_URI.sub(
        lambda m: "".join("%%%02X" % b for b in m.group().encode("utf-8")), text)


def _idna_host(host: str) -> str:
    """A host name as DNS and the Host header need it: ASCII names as they are, others in IDNA
    (punycode). Like browsers and requests, with the `idna` package every Anki release ships (a
    dependency of requests; IDNA 2008, UTS #46 mapping); Python's own codec (IDNA 2003) for what
    IDNA 2008 refuses but browsers allow (symbols such as U+2603)."""
    if host.isascii():
        return host
    import idna

    try:
        return idna.encode(host, uts46=True).decode("ascii")
    except UnicodeError:  # idna.IDNAError
        pass
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValueError("invalid host name: %s" % host)


def iri_to_uri(iri: str) -> str:
    """The URI of an IRI as users paste it (RFC 3987): surrounding whitespace dropped, the
    host name in IDNA, everything else percent-encoded where a URI does not allow it.
    ValueError for a host name IDNA cannot encode."""
    # as browsers: no C0 control or space around it, no tab or newline in it, U+FFFD for a lone
    # surrogate (JSON can carry one; UTF-8 cannot)
    iri = re.sub(r"[\t\n\r]", "", iri).strip("".join(map(chr, range(0x21))))
    iri = re.sub("[\ud800-\udfff]", "\ufffd", iri)
    match = _URI_PARTS.match(iri)
    assert match is not None  # every string matches
    scheme, authority, rest = match.groups()
    uri = _quote(scheme or "")
    if authority is not None:
        userinfo, at, hostport = authority.rpartition("@")
        host, colon, port = hostport, "", ""
        if not hostport.startswith("["):  # an IPv6 literal is ASCII
            host, colon, port = hostport.partition(":")
        uri += "//" + _quote(userinfo + at) + _idna_host(host) + _quote(colon + port)
    return uri + _quote(rest)


def download(ctx: Context, url: str) -> bytes:
    """GET `url` (http or https; an IRI is encoded as `iri_to_uri` does) off the main thread
    (Anki stays responsive), timeout config webTimeout. Errors name `url` as given."""
    import http.client
    import urllib.error
    import urllib.request

    try:
        uri = iri_to_uri(url)
    except ValueError as exc:
        raise Exception("%s download failed: %s" % (url, exc))
    scheme = _URI_PARTS.match(uri).group(1) or ""  # type: ignore[union-attr]
    if scheme.lower() not in ("http:", "https:"):
        # urllib would also open file:// URLs, which would bypass config allowedPaths
        raise Exception("url must be an http or https URL: %s" % url)
    timeout = ctx.config.get("webTimeout", 10000) / 1000.0

    def fetch() -> Any:
        request = urllib.request.Request(uri, headers={"User-Agent": "AnkiConnect"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, b""
        except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise Exception("%s download failed: %s" % (url, reason))

    status, data = ctx.run_in_thread(fetch)
    if status != 200:
        raise Exception("%s download failed with return code %s" % (url, status))
    return data


# ASCII whitespace, which MIME base64 (RFC 2045) puts between lines; anything else that is not
# base64 is an error, not silently dropped.
_BASE64_SPACE = re.compile(r"[ \t\n\r\f\v]+")


def decode_base64(data: str) -> bytes:
    try:
        return base64.b64decode(_BASE64_SPACE.sub("", data), validate=True)
    except ValueError as exc:  # binascii.Error; non-ASCII text
        raise Exception("data is not valid base64: %s" % exc)


def file_bytes(ctx: Context, data: Any = None, path: Any = None, url: Any = None) -> bytes:
    """The content from the first source given: data (base64) > path > url. Empty strings count
    as not given, as upstream."""
    if data is not None and data != "":
        if not isinstance(data, str):
            raise Exception("data must be a base64 string")
        return decode_base64(data)
    if path is not None and path != "":
        with open(check_path(ctx, path), "rb") as fh:
            return fh.read()
    if url is not None and url != "":
        if not isinstance(url, str):
            raise Exception("url must be a string")
        return download(ctx, url)
    raise Exception('You must provide a "data", "path", or "url" field.')


def store_file(ctx: Context, filename: str, data: Optional[str] = None,
               path: Optional[str] = None, url: Optional[str] = None,
               skipHash: Optional[str] = None, deleteExisting: bool = True) -> Optional[str]:
    """Store a file in the media folder; the name it was stored under, or None if skipHash
    matched (nothing stored).

    The name is reduced as `media_name` does. deleteExisting: a same-named file with other
    content is moved to Anki's media trash first; otherwise Anki stores the new content under a
    new name (`name-<sha1>.ext`), which is returned."""
    name = media_name(filename)
    if not name:
        raise Exception("filename must be a non-empty file name")
    return store_content(ctx, name, file_bytes(ctx, data, path, url), skipHash, deleteExisting)


def store_content(ctx: Context, filename: str, content: bytes, skipHash: Optional[str] = None,
                  deleteExisting: Any = True) -> Optional[str]:
    """`store_file` once the content is known (it may be empty, as any file)."""
    name = media_name(filename)
    if not name:
        raise Exception("filename must be a non-empty file name")
    if skipHash is not None and hashlib.md5(content).hexdigest() == skipHash.strip().lower():
        return None
    media = ctx.col.media
    if deleteExisting:
        existing = _media_path(ctx, name)
        if existing is not None and not _same_content(existing, content):
            media.trash_files([name])
    return media.write_data(name, content)


def _same_content(path: str, content: bytes) -> bool:
    if os.path.getsize(path) != len(content):
        return False
    with open(path, "rb") as fh:
        return fh.read() == content


@api(effect="destructive", idempotent=True)
def storeMediaFile(ctx: Context, filename: str, data: Optional[str] = None,
                   path: Optional[str] = None, url: Optional[str] = None,
                   skipHash: Optional[str] = None, deleteExisting: bool = True) -> Optional[str]:
    """Store a file in the media folder; the name it was stored under, or null when `skipHash`
    matched (nothing stored).

    The content comes from the first source given (empty strings count as not given): `data`,
    else `path` (a file on the server, in a folder config `allowedPaths` allows), else `url`
    (http or https, downloaded within config `webTimeout`). The name is reduced to a media file
    name (its last path component, NFC, without characters Anki does not allow). v6 answered
    null; the stored name (as newer upstream) tells a client its file was renamed.

    Params:
    - filename: the name to store the file under.
    - data: the content, in base64.
    - path: the absolute path of a file on the server.
    - url: the address to download the content from.
    - skipHash: MD5 (hex) of content not to store.
    - deleteExisting: true: a same-named file with other content goes to Anki's media trash
      first; false: Anki stores the new content under a new name (`name-<sha1>.ext`).
    Errors:
    - `You must provide a "data", "path", or "url" field.`: no source.
    - `<url> download failed with return code <status>`: the server did not answer 200.
    - `<url> download failed: <reason>`: no answer (refused, timed out, bad host name...).
    - `url must be an http or https URL: <url>`: another scheme.
    - `data is not valid base64: <reason>`: `data` is not base64 (whitespace is allowed).
    - `path is not in a folder allowed by config allowedPaths: <path>`: a path outside them.
    - `filename must be a non-empty file name`: nothing left of the name.
    """
    return store_file(ctx, filename, data=data, path=path, url=url, skipHash=skipHash,
                      deleteExisting=deleteExisting)


@api(effect="read")
def retrieveMediaFile(ctx: Context, filename: str) -> Union[str, Literal[False]]:
    """The content of a media file, in base64; false when the media folder has no such file.

    The name is reduced to a media file name as storeMediaFile does: no path leads out of the
    media folder.

    Params:
    - filename: the media file's name.
    """
    path = _media_path(ctx, filename)
    if path is None:
        return False
    with open(path, "rb") as fh:
        return base64.b64encode(fh.read()).decode("ascii")


@api(effect="read")
def getMediaFilesNames(ctx: Context, pattern: str = "*") -> List[str]:
    """The names of the media files that match a shell pattern, sorted.

    `*`, `?` and `[...]` as in a shell; `*` does not match a leading dot. Only the media folder
    is searched: a pattern with a path separator matches nothing.

    Params:
    - pattern: the pattern.
    """
    if "/" in pattern or "\\" in pattern:
        return []
    hidden_ok = pattern.startswith(".")  # as glob: * does not match a leading dot
    names = []
    with os.scandir(ctx.col.media.dir()) as entries:
        for entry in entries:
            if entry.name.startswith(".") and not hidden_ok:
                continue
            if entry.is_file() and fnmatch.fnmatch(entry.name, pattern):
                names.append(entry.name)
    return sorted(names)


@api(effect="read")
def getMediaDirPath(ctx: Context) -> str:
    """The absolute path of the open profile's media folder (`collection.media`)."""
    return os.path.abspath(ctx.col.media.dir())


@api(effect="destructive", idempotent=True)
def deleteMediaFile(ctx: Context, filename: str) -> None:
    """Move a media file to Anki's media trash; a missing file is no error.

    Tools > Check Media can restore it. The name is reduced as storeMediaFile does.

    Params:
    - filename: the media file's name.
    """
    path = _media_path(ctx, filename)
    if path is not None:
        ctx.col.media.trash_files([os.path.basename(path)])
    return None
