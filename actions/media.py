# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""Media actions, and `store_file`, which note actions use for their audio/video/picture.

Media files live outside the collection database: Anki cannot undo writing or trashing them, so
these actions do not run in `ac.op` (an undo step that undoes nothing would only mislead)."""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import os
import re
import unicodedata
from typing import Any, List, Optional

from ..util import api
from .common import check_path

# The characters Anki removes from media file names (anki.media, _illegalCharReg).
_ILLEGAL = re.compile(r'[][><:"/?*^\\|\0\r\n]')


def media_name(filename: Any) -> str:
    """The name a client's file name stands for inside the media folder: its last path component
    (either separator), NFC-normalised, without the characters Anki does not allow. Never a
    path: '', '.' and '..' come back as ''."""
    if not isinstance(filename, str):
        raise Exception("filename must be a string")
    name = re.split(r"[/\\]", filename)[-1]
    name = _ILLEGAL.sub("", unicodedata.normalize("NFC", name))
    return "" if name in (".", "..") else name


def _media_path(ac: Any, filename: Any) -> Optional[str]:
    """The path of an existing media file, or None."""
    name = media_name(filename)
    if not name:
        return None
    path = os.path.join(ac.col.media.dir(), name)
    return path if os.path.isfile(path) else None


def download(ac: Any, url: str) -> bytes:
    """GET `url` (http or https) off the main thread (Anki stays responsive), timeout config
    webTimeout."""
    import urllib.error
    import urllib.parse
    import urllib.request

    if urllib.parse.urlsplit(url).scheme.lower() not in ("http", "https"):
        # urllib would also open file:// URLs, which would bypass config allowedPaths
        raise Exception("url must be an http or https URL: %s" % url)
    timeout = ac.config.get("webTimeout", 10000) / 1000.0

    def fetch() -> Any:
        request = urllib.request.Request(url, headers={"User-Agent": "AnkiConnect"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, b""
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise Exception("%s download failed: %s" % (url, reason))

    status, data = ac.wait_for(fetch)
    if status != 200:
        raise Exception("%s download failed with return code %s" % (url, status))
    return data


def file_bytes(ac: Any, data: Any = None, path: Any = None, url: Any = None) -> bytes:
    """The content from the first source given: data (base64) > path > url. Empty strings count
    as not given, as upstream."""
    if data is not None and data != "":
        if not isinstance(data, str):
            raise Exception("data must be a base64 string")
        try:
            return base64.b64decode(data, validate=False)
        except (ValueError, TypeError) as exc:
            raise Exception("data is not valid base64: %s" % exc)
    if path is not None and path != "":
        with open(check_path(ac, path), "rb") as fh:
            return fh.read()
    if url is not None and url != "":
        if not isinstance(url, str):
            raise Exception("url must be a string")
        return download(ac, url)
    raise Exception('You must provide a "data", "path", or "url" field.')


def store_file(ac: Any, filename: Any, data: Any = None, path: Any = None, url: Any = None,
               skipHash: Any = None, deleteExisting: Any = True) -> Optional[str]:
    """Store a file in the media folder; the name it was stored under, or None if skipHash
    matched (nothing stored).

    The name is reduced as `media_name` does. deleteExisting: a same-named file with other
    content is moved to Anki's media trash first; otherwise Anki stores the new content under a
    new name (`name-<sha1>.ext`), which is returned."""
    name = media_name(filename)
    if not name:
        raise Exception("filename must be a non-empty file name")
    if skipHash is not None and not isinstance(skipHash, str):
        raise Exception("skipHash must be an MD5 hex string")
    content = file_bytes(ac, data, path, url)
    if skipHash is not None and hashlib.md5(content).hexdigest() == skipHash.strip().lower():
        return None
    media = ac.col.media
    if deleteExisting:
        existing = _media_path(ac, name)
        if existing is not None and not _same_content(existing, content):
            media.trash_files([name])
    return media.write_data(name, content)


def _same_content(path: str, content: bytes) -> bool:
    if os.path.getsize(path) != len(content):
        return False
    with open(path, "rb") as fh:
        return fh.read() == content


@api()
def storeMediaFile(ac: Any, filename: Any, data: Any = None, path: Any = None, url: Any = None,
                   skipHash: Any = None, deleteExisting: Any = True) -> Optional[str]:
    return store_file(ac, filename, data=data, path=path, url=url, skipHash=skipHash,
                      deleteExisting=deleteExisting)


@api()
def retrieveMediaFile(ac: Any, filename: Any) -> Any:
    """The file's content in base64, or false when the media folder has no such file."""
    path = _media_path(ac, filename)
    if path is None:
        return False
    with open(path, "rb") as fh:
        return base64.b64encode(fh.read()).decode("ascii")


@api()
def getMediaFilesNames(ac: Any, pattern: Any = "*") -> List[str]:
    """Names of the media files matching a shell pattern (*, ?, [...]). Only the media folder is
    searched: a pattern with a path separator matches nothing."""
    if not isinstance(pattern, str):
        raise Exception("pattern must be a string")
    if "/" in pattern or "\\" in pattern:
        return []
    hidden_ok = pattern.startswith(".")  # as glob: * does not match a leading dot
    names = []
    with os.scandir(ac.col.media.dir()) as entries:
        for entry in entries:
            if entry.name.startswith(".") and not hidden_ok:
                continue
            if entry.is_file() and fnmatch.fnmatch(entry.name, pattern):
                names.append(entry.name)
    return sorted(names)


@api()
def getMediaDirPath(ac: Any) -> str:
    return os.path.abspath(ac.col.media.dir())


@api()
def deleteMediaFile(ac: Any, filename: Any) -> None:
    """Move the file to Anki's media trash (Tools > Check Media can restore it); a missing file
    is no error."""
    path = _media_path(ac, filename)
    if path is not None:
        ac.col.media.trash_files([os.path.basename(path)])
    return None
