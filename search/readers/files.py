"""Byte access for the readers: a walked file, opened safely and read within limits.

:class:`InputFile` is one file the walk found.  :func:`read_limited` and
:func:`open_stream` read it without ever opening something that is not a
regular file (a FIFO would block forever, ``/dev/zero`` never ends) or
following a link the walk's rules refuse, and stop at :data:`MAX_FILE_BYTES`
(also once unzipped: a gzip bomb is refused, not inflated).  Streams of many
articles (JSONL, SGML) are read line by line with :func:`limited_lines`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import io
import os
import stat
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO

from search.document import ReadFailure
from search.readers.decoding import GZIP_MAGIC, SNIFF_BYTES, BadInput, check_text
from search.settings import Options

# A single article larger than this is a mis-saved file or a dump, not a page.
MAX_FILE_BYTES = 20 * 1024 * 1024


# One article of a multi-article file is named FILE#N: the line number in a
# JSONL file, the story's NEWID in Reuters SGML (see article_path).
ARTICLE_MARK = "#"


def article_path(rel: str, number: int | str) -> str:
    """The path an article of the multi-article file *rel* is stored and shown under: ``rel#number``."""
    return f"{rel}{ARTICLE_MARK}{number}"


def split_article_path(path: str) -> tuple[str, str] | None:
    """``(file, number)`` for a path named by :func:`article_path`, else None (a whole file,
    or a name that merely holds a ``#``)."""
    head, sep, tail = path.rpartition(ARTICLE_MARK)
    return (head, tail) if sep and head and tail.isdigit() else None


# Reasons for what the walk refuses to read (see iter_sources).
SYMLINK_REASON = "symbolic link"
OUTSIDE_LINK_REASON = "symbolic link to outside the folder"
_SPECIAL_KINDS = (
    (stat.S_ISFIFO, "named pipe"),
    (stat.S_ISSOCK, "socket"),
    (stat.S_ISCHR, "character device"),
    (stat.S_ISBLK, "block device"),
)
# Opening never blocks (a FIFO swapped in after the check) and never follows a
# link the checks did not see; O_NONBLOCK does nothing to a regular file's reads.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)


@dataclass(frozen=True)
class InputFile:
    """One file found by the walk: where it is, how it is named in the index, and
    which links may be followed to read it.

    :param root: the resolved folder walked (for a path named on the command
        line, its folder); a followed link must resolve inside it.
    :param follow: follow links that stay inside *root* (``Options.follow_symlinks``).
    :param named: the user named this path: it is read even if it is a link,
        wherever it points (its sidecar still obeys *root* and *follow*).
    """

    path: Path
    rel: str
    kind: str
    stem: str
    gzipped: bool
    sidecar: Path | None
    root: str = ""
    follow: bool = False
    named: bool = False


def _mtime_date(path: Path) -> dt.date | None:
    try:
        return dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.UTC).date()
    except OSError:
        return None


def fallback_reference(path: Path, options: Options) -> dt.date | None:
    return options.reference_date or _mtime_date(path)


def inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _size(n: int) -> str:
    return f"{n / 2**20:.1f} MiB" if n >= 2**20 else f"{n:,} bytes"


def too_large(size: int | None = None, what: str = "file") -> BadInput:
    # Say how large and what the limit is: the user can split the file or see it is a dump.
    found = f"{_size(size)}, " if size is not None else ""
    return BadInput(f"too large: {found}over the {_size(MAX_FILE_BYTES)} limit for one {what}")


def not_regular(mode: int) -> str:
    """The reason to refuse a file of *mode* that is not a regular file."""
    if stat.S_ISDIR(mode):
        return "cannot read: is a directory"
    for test, kind in _SPECIAL_KINDS:
        if test(mode):
            return f"not a regular file ({kind})"
    return "not a regular file"


def _open_regular(path: Path, item: InputFile, *, sidecar: bool = False) -> BinaryIO:
    """Open *path* (*item*'s file, or its sidecar) for reading, if it is a regular file.

    Checked before opening, from lstat: a symbolic link is refused unless
    *item* may follow it (named on the command line, or ``follow`` and its
    target inside ``root``), and a named pipe, socket or device is refused
    outright, since opening or reading one can block forever (a FIFO with no
    writer) or never end (``/dev/zero``).  The open itself does not block or
    follow a link, and the opened file is checked again, so a file swapped
    after the check is refused too.  Raises :class:`BadInput` with the reason.
    """
    named = item.named and not sidecar
    try:
        info = os.lstat(path)
        target = path
        if stat.S_ISLNK(info.st_mode):
            if not (named or item.follow):
                raise BadInput(SYMLINK_REASON)
            target = Path(os.path.realpath(path))
            if not named and not inside(str(target), item.root):
                raise BadInput(OUTSIDE_LINK_REASON)
            info = os.stat(target)
        if not stat.S_ISREG(info.st_mode):
            raise BadInput(not_regular(info.st_mode))
        handle = open(target, "rb", opener=_open_fd)  # closed below, or by the caller
    except OSError as error:
        raise BadInput(f"cannot read: {_os_reason(error)}") from None
    try:
        mode = os.fstat(handle.fileno()).st_mode
        if not stat.S_ISREG(mode):
            raise BadInput(not_regular(mode))
        return handle
    except BaseException:
        handle.close()
        raise


def _open_fd(path: str, flags: int) -> int:
    return os.open(path, flags | _OPEN_FLAGS)


def read_limited(path: Path, gzipped: bool, item: InputFile, *, sidecar: bool = False) -> bytes:
    """The file's (decompressed) bytes, or :class:`BadInput` with the reason."""
    with _open_regular(path, item, sidecar=sidecar) as handle:
        try:
            size = os.fstat(handle.fileno()).st_size
            if size > MAX_FILE_BYTES:
                raise too_large(size)
            raw = handle.read(MAX_FILE_BYTES + 1)
        except OSError as error:
            raise BadInput(f"cannot read: {_os_reason(error)}") from None
    # Scrapers often save a gzip-encoded response body under a plain name.
    if not gzipped and not raw.startswith(GZIP_MAGIC):
        return raw
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(raw)) as unzipped:
            data = unzipped.read(MAX_FILE_BYTES + 1)
    except (OSError, EOFError, zlib.error) as error:
        raise BadInput(f"corrupt gzip: {error}") from None
    if len(data) > MAX_FILE_BYTES:
        raise too_large(what="file once unzipped")
    return data


def _os_reason(error: OSError) -> str:
    return (error.strerror or str(error)).lower()


def _stream_reason(error: OSError, gzipped: bool) -> str:
    # gzip signals bad data with errno-less OSErrors; real I/O errors carry an errno.
    if gzipped and error.errno is None:
        return f"corrupt gzip: {error}"
    return f"cannot read: {_os_reason(error)}"


@contextlib.contextmanager
def open_stream(item: InputFile) -> Iterator[IO[bytes]]:
    """*item*'s bytes as a stream, unzipped if it is gzipped; :class:`BadInput` if refused."""
    with _open_regular(item.path, item) as raw:
        if item.gzipped:
            with gzip.GzipFile(fileobj=raw, mode="rb") as unzipped:
                yield unzipped
        else:
            yield raw


# What reading a stream of many articles can raise, mapped to a reason by stream_failure.
STREAM_ERRORS = (BadInput, EOFError, zlib.error, OSError)


def stream_failure(item: InputFile, error: Exception) -> ReadFailure:
    """The failure to report for a JSONL or SGML file whose stream broke."""
    if isinstance(error, BadInput):
        return ReadFailure(item.rel, str(error))
    if isinstance(error, (EOFError, zlib.error, gzip.BadGzipFile)):
        return ReadFailure(item.rel, f"corrupt gzip: {error}")
    return ReadFailure(item.rel, _stream_reason(error, item.gzipped))


def check_binary_head(line: bytes) -> None:
    if line.strip():
        try:
            check_text(line[:SNIFF_BYTES], allow_utf16=False)
        except BadInput:
            raise BadInput("binary file") from None


def limited_lines(stream: IO[bytes]) -> Iterator[tuple[bytes, bool]]:
    """``(line, False)`` for each line of *stream*, ``(its start, True)`` for one over the size limit.

    An oversized line is never held whole, and its start is yielded before the
    rest is skipped, so a caller that finds it binary (a gzip bomb of zeros)
    can stop without decompressing all of it.
    """
    while True:
        line = stream.readline(MAX_FILE_BYTES + 1)
        if not line:
            return
        if len(line) > MAX_FILE_BYTES and not line.endswith(b"\n"):
            yield line[:SNIFF_BYTES], True
            while line and not line.endswith(b"\n"):
                line = stream.readline(MAX_FILE_BYTES)
            continue
        yield line, False
