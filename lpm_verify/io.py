"""Atomic file output: a result is written to a temporary file beside its target and renamed."""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` so that a reader sees the old file or the new one, never a part."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600; give the file the usual mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Atomically write ``text`` as UTF-8.  A file name that is not UTF-8 reaches text as lone surrogates
    (Python's ``surrogateescape``); those are written escaped (``\\udcff``), the rest unchanged."""
    return write_bytes_atomic(path, text.encode("utf-8", "backslashreplace"))


def write_json_atomic(path: str | os.PathLike[str], data: Any) -> Path:
    """Atomically write ``data`` as indented JSON."""
    return write_text_atomic(path, json.dumps(data, indent=2, sort_keys=False) + "\n")


def fsync_file(path: str | os.PathLike[str]) -> None:
    """Flush ``path``'s content to disk (before it is renamed into place)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_folder(path: str | os.PathLike[str]) -> None:
    """Flush a folder's entries (the renames into it) to disk, where the OS allows it."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some filesystems do not support fsync on a directory
        pass
    finally:
        os.close(fd)


#: Digests computed inside :func:`hashed_once` (None outside it: every call reads the file).
_DIGESTS: dict[tuple, str] | None = None


@contextmanager
def hashed_once() -> Iterator[None]:
    """Within the body, :func:`file_sha256` reads each file version once (a report keys several results by
    the same checkpoints).  A version is the file's inode, size, mtime and status-change time; only within
    one body, because a file rewritten twice within the clock's granularity keeps all four."""
    global _DIGESTS
    outer, _DIGESTS = _DIGESTS, ({} if _DIGESTS is None else _DIGESTS)
    try:
        yield
    finally:
        _DIGESTS = outer


def file_sha256(path: str | os.PathLike[str], chunk: int = 2 ** 20) -> str:
    """Hex SHA-256 of a file's content, read in ``chunk``-byte pieces (a VGG checkpoint is 0.5 GB: it is
    hashed without being held in memory).  A cache keyed by this, not by path, size and mtime, cannot
    mistake a replaced file of the same size and time for the old one."""
    key = None
    if _DIGESTS is not None:
        st = os.stat(path)
        key = (os.path.realpath(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        if key in _DIGESTS:
            return _DIGESTS[key]
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    if key is not None:
        _DIGESTS[key] = digest.hexdigest()
    return digest.hexdigest()
