# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""Media actions, and `store_file`, which note actions use for their audio/video/picture."""

from __future__ import annotations

import base64
import hashlib
from typing import Any, Optional

from ..util import api
from .common import check_path


def download(ac: Any, url: str) -> bytes:
    """GET `url` off the main thread (Anki stays responsive), timeout config webTimeout."""
    import urllib.error
    import urllib.request

    timeout = ac.config.get("webTimeout", 10000) / 1000.0

    def fetch() -> Any:
        request = urllib.request.Request(url, headers={"User-Agent": "AnkiConnect"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, b""

    status, data = ac.wait_for(fetch)
    if status != 200:
        raise Exception("%s download failed with return code %s" % (url, status))
    return data


def file_bytes(ac: Any, data: Any = None, path: Any = None, url: Any = None) -> bytes:
    """The content from the first source given: data (base64) > path > url."""
    if data is not None:
        if not isinstance(data, str):
            raise Exception("data must be a base64 string")
        try:
            return base64.b64decode(data, validate=False)
        except (ValueError, TypeError) as exc:
            raise Exception("data is not valid base64: %s" % exc)
    if path is not None:
        with open(check_path(ac, path), "rb") as fh:
            return fh.read()
    if url is not None:
        if not isinstance(url, str):
            raise Exception("url must be a string")
        return download(ac, url)
    raise Exception('You must provide a "data", "path", or "url" field.')


def store_file(ac: Any, filename: Any, data: Any = None, path: Any = None, url: Any = None,
               skipHash: Any = None, deleteExisting: Any = True) -> Optional[str]:
    """Store a file in the media folder; the name it was stored under, or None if skipHash
    matched (nothing stored)."""
    if not isinstance(filename, str) or not filename:
        raise Exception("filename must be a non-empty string")
    content = file_bytes(ac, data, path, url)
    if skipHash is not None and hashlib.md5(content).hexdigest() == skipHash:
        return None
    media = ac.col.media
    if deleteExisting and media.have(filename):
        media.trash_files([filename])
    return media.write_data(filename, content)
