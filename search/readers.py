"""Input readers: turn files and folders into :class:`~search.document.Source` values.

A collection is whatever a scraper left behind: plain-text dumps, saved HTML
pages (optionally gzipped) with an optional ``NAME.json`` sidecar of metadata,
JSONL exports (one article per line) and Reuters-21578 style SGML (one story
per ``<REUTERS>`` element).  :func:`iter_sources` walks the paths given,
streams one :class:`Source` per article and reports every bad input as a
:class:`ReadFailure` instead of raising, so one broken file never stops a run.
"""

from __future__ import annotations

import codecs
import contextlib
import datetime as dt
import gzip
import hashlib
import html
import io
import json
import os
import re
import stat
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import IO, Any, BinaryIO

import charset_normalizer

from search.document import ReadFailure, Source
from search.settings import Options
from search.textnorm import site_of

# A single article larger than this is a mis-saved file or a dump, not a page.
MAX_FILE_BYTES = 20 * 1024 * 1024
# Bytes inspected to tell text from binary.
SNIFF_BYTES = 8192
# Share of control bytes above which a file is taken for binary.
MAX_CONTROL_SHARE = 0.05
# Stable, short enough for an index field, and fast on large inputs.
HASH_DIGEST_BYTES = 16
# UTF-16 without a BOM, told by its NUL bytes: ASCII and Latin-1 letters have a
# zero high byte, so mostly-Western text has NULs in at least this share of one
# byte column (odd positions for little-endian, even for big-endian) ...
UTF16_MIN_NUL_SHARE = 0.6
# ... and almost none in the other, where binary data has them everywhere.
UTF16_MAX_OTHER_NUL_SHARE = 0.02

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

# The extension (after any .gz) decides how a file is read; an extension the
# user adds to Options.extensions that is not listed here is read as text.
KIND_BY_EXTENSION = {
    ".txt": "text", ".text": "text", ".html": "html", ".htm": "html", ".jsonl": "jsonl", ".sgm": "sgml",
}
SIDECAR_SUFFIX = ".json"

# Field names seen in scraper exports (news-please, trafilatura, custom
# crawlers), first match wins.  Keys are matched case-sensitively.
URL_KEYS = ("url", "link", "canonical_url")
TITLE_KEYS = ("title", "headline")
DATE_KEYS = ("date", "published", "published_at", "date_publish", "datePublished", "publish_date", "pub_date")
SOURCE_KEYS = ("source", "site", "site_name", "sitename", "source_domain", "publisher")
CRAWL_KEYS = ("crawled", "crawl_date", "fetched", "scraped_at", "date_download", "downloaded")
TEXT_KEYS = ("text", "maintext", "content", "body")
HTML_KEYS = ("html", "raw_html")
ENTITY_KEYS = ("entities",)
# Content fields are never copied into meta: they can be megabytes of markup.
_NOT_META = frozenset(URL_KEYS + TITLE_KEYS + DATE_KEYS + SOURCE_KEYS + TEXT_KEYS + HTML_KEYS + ENTITY_KEYS)

# Entity labels of common NER tools mapped onto the four facet types.
ENTITY_TYPE_ALIASES = {
    "person": "person", "per": "person", "people": "person", "persons": "person",
    "org": "org", "organization": "org", "organisation": "org", "orgs": "org", "organizations": "org",
    "place": "place", "places": "place", "loc": "place", "location": "place", "locations": "place", "gpe": "place",
}

# Encodings charset-normalizer may choose from: what news sites actually
# served before UTF-8 won.  DOS and Mac code pages only ever "win" by accident.
DETECTABLE_ENCODINGS = [
    "cp1252", "cp1250", "cp1251", "cp1253", "cp1254", "cp1255", "cp1256", "cp1257", "cp874",
    "iso8859_2", "iso8859_5", "iso8859_7", "iso8859_15", "koi8_r", "koi8_u",
    "shift_jis", "cp932", "euc_jp", "iso2022_jp", "gb18030", "big5", "euc_kr", "cp949",
]
# Latin-1 files decode identically as cp1252 (0x80-0x9F are unused controls in
# latin-1), so cp1252 is the fallback and wins ties on short samples.
FALLBACK_ENCODING = "cp1252"
# Browsers read pages labelled latin-1 or ASCII as windows-1252 (WHATWG), and
# so do the authors who saved them: their curly quotes are 0x93/0x94.
_WINDOWS_1252_LABELS = dict.fromkeys(
    ("iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "latin-1", "l1", "ascii", "us-ascii", "cp819"), "cp1252"
)
_LATIN1_FILL = "newsfacet-latin1-fill"
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
GZIP_MAGIC = b"\x1f\x8b"
_BINARY_MAGIC = (b"%PDF-", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"PK\x03\x04", b"\x7fELF", GZIP_MAGIC)
_CONTROL_BYTES = frozenset(range(32)) - frozenset(b"\t\n\r\f\v\x1b")


def _latin1_fill(error: UnicodeDecodeError) -> tuple[str, int]:
    # cp1252 leaves five bytes undefined; read them as latin-1 rather than lose text.
    return error.object[error.start : error.end].decode("latin-1"), error.end


codecs.register_error(_LATIN1_FILL, _latin1_fill)


class BadInput(Exception):
    """An input that cannot become an article; the message is the failure reason."""


# --------------------------------------------------------------------------- decoding


def decode_bytes(data: bytes, declared: str | None = None) -> str:
    """Decode *data* to text, never failing.

    Order: a BOM (UTF-8/16/32), UTF-16 without a BOM (see
    :func:`utf16_without_bom`), strict UTF-8, the *declared* charset (an HTML
    ``<meta charset>``) if it decodes cleanly, charset-normalizer's best guess
    among :data:`DETECTABLE_ENCODINGS` (cp1252 on a tie), else cp1252 with
    undefined bytes read as latin-1.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding, errors="replace")
    # Before UTF-8: NUL is valid UTF-8, so UTF-16 ASCII text would decode as "H\0e\0l\0".
    utf16 = utf16_without_bom(data)
    if utf16 is not None:
        return data.decode(utf16, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if declared:
        declared = _WINDOWS_1252_LABELS.get(declared.lower(), declared)
        try:
            return data.decode(declared)
        except (LookupError, UnicodeDecodeError):
            pass
    return data.decode(_guess_encoding(data), errors=_LATIN1_FILL)


def _guess_encoding(data: bytes) -> str:
    matches = list(charset_normalizer.from_bytes(data, cp_isolation=DETECTABLE_ENCODINGS))
    if not matches:
        return FALLBACK_ENCODING
    best = matches[0]
    for match in matches:
        tied = match.chaos <= best.chaos + 0.01 and match.coherence >= best.coherence - 0.01
        # Short Western texts score the same under cp1250 and cp1252; a wrong
        # cp1250 guess turns "Tromsø" into "Tromsř", so prefer cp1252.
        if tied and FALLBACK_ENCODING in match.could_be_from_charset:
            return FALLBACK_ENCODING
    return best.encoding


def _declared_charset(data: bytes) -> str | None:
    found = _META_CHARSET.search(data[:4096])
    return found.group(1).decode("ascii").lower() if found else None


def utf16_without_bom(data: bytes) -> str | None:
    """``"utf-16-le"`` or ``"utf-16-be"`` if *data* reads as UTF-16 text without a BOM, else None.

    Windows tools save UTF-16 without a BOM; its NUL high bytes would
    otherwise make the file look binary.  Only mostly Latin-script text is
    recognised (a zero high byte in most characters, see
    :data:`UTF16_MIN_NUL_SHARE`), and the decoded start must not be mostly
    control characters.
    """
    head = data[:SNIFF_BYTES]
    head = head[: len(head) // 2 * 2]
    if len(head) < 4 or b"\x00" not in head:
        return None
    even, odd = head[0::2], head[1::2]
    even_nul, odd_nul = even.count(0) / len(even), odd.count(0) / len(odd)
    if odd_nul >= UTF16_MIN_NUL_SHARE and even_nul <= UTF16_MAX_OTHER_NUL_SHARE:
        encoding = "utf-16-le"
    elif even_nul >= UTF16_MIN_NUL_SHARE and odd_nul <= UTF16_MAX_OTHER_NUL_SHARE:
        encoding = "utf-16-be"
    else:
        return None
    text = head.decode(encoding, errors="replace")
    controls = sum(1 for char in text if ord(char) in _CONTROL_BYTES)
    return encoding if controls <= MAX_CONTROL_SHARE * len(text) else None


def _check_text(data: bytes, allow_utf16: bool = True) -> None:
    """Raise :class:`BadInput` if *data* is empty or binary.

    UTF-16 without a BOM counts as text unless *allow_utf16* is false (JSON
    lines are split at the byte ``\\n``, which UTF-16 text cannot be).
    """
    if not data.strip():
        raise BadInput("empty file")
    head = data[:SNIFF_BYTES]
    if any(data.startswith(bom) for bom, _ in _BOMS):
        return
    if head.startswith(_BINARY_MAGIC):
        raise BadInput("binary file")
    if b"\x00" in head:
        if allow_utf16 and utf16_without_bom(head) is not None:
            return
        raise BadInput("binary file")
    controls = sum(1 for byte in head if byte in _CONTROL_BYTES)
    if controls > MAX_CONTROL_SHARE * len(head):
        raise BadInput("binary file")


def content_hash(*parts: bytes) -> str:
    """Hex blake2b of the concatenated *parts* (an input's bytes, plus a sidecar)."""
    digest = hashlib.blake2b(digest_size=HASH_DIGEST_BYTES)
    for part in parts:
        digest.update(part)
    return digest.hexdigest()


# --------------------------------------------------------------------------- walking


@dataclass(frozen=True)
class _Input:
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


def iter_sources(paths: Iterable[Path], options: Options) -> Iterator[Source | ReadFailure]:
    """Yield one Source per article under *paths*, or a ReadFailure per bad input.

    Folders are walked recursively in sorted order, skipping hidden entries;
    only files whose extension is in ``options.extensions`` are read, and only
    regular files: a named pipe, socket or device with such a name is
    reported ("not a regular file (named pipe)") without ever being opened.

    A symbolic link found in a folder (to a file or a folder) is reported as
    "symbolic link" and skipped, so a collection cannot pull in ``/etc/passwd``
    or a whole system folder.  With ``options.follow_symlinks`` a link is
    followed when it resolves inside the (resolved) folder given, and reported
    as "symbolic link to outside the folder" otherwise.  A followed link is
    read under its own name, except that a link to a file or folder the walk
    reads anyway under its real path (anything not in a hidden folder) is
    passed over, so nothing is indexed twice and a link back up the tree
    cannot loop.  A link whose name has no supported extension is ignored
    like any such file, unless it points at a folder.

    A path given in *paths* is taken as named even when it is itself a
    symbolic link: the user chose it, so ``newsfacet index latest`` with
    ``latest -> crawl-2024-06`` walks that folder (and confines links found
    in it to the folder it resolves to).  A named path that resolves to
    something other than a regular file or folder is still refused.
    """
    for root in paths:
        root = Path(root)
        if root.is_dir():
            inputs = _walk(root, options)
        elif root.exists() or root.is_symlink():
            inputs = _single(root, options)
        else:
            yield ReadFailure(root.name or str(root), "cannot read: no such file or directory")
            continue
        for item in inputs:
            if isinstance(item, ReadFailure):
                yield item
            else:
                yield from _read_input(item, options)


def read_path(path: Path, rel: str, options: Options) -> Iterator[Source | ReadFailure]:
    """Read one file as :func:`iter_sources` would a named path, naming it *rel* (no sidecar lookup)."""
    found = _classify(path, rel, options.extensions, frozenset())
    if found is None:
        yield ReadFailure(rel, "unsupported file extension")
        return
    yield from _read_input(_named(found, path, options), options)


def _named(item: _Input, path: Path, options: Options) -> _Input:
    root = os.path.realpath(path.parent)
    return replace(item, root=root, follow=options.follow_symlinks, named=True)


def _single(path: Path, options: Options) -> Iterator[_Input]:
    try:
        siblings = frozenset(os.listdir(path.parent))
    except OSError:
        siblings = frozenset()
    found = _classify(path, path.name, options.extensions, siblings)
    if found is not None:
        yield _named(found, path, options)


def _walk(root: Path, options: Options) -> Iterator[_Input | ReadFailure]:
    """Files under *root* in sorted path order, and what was refused; each folder
    is listed only when reached."""
    root_real = os.path.realpath(root)
    follow = options.follow_symlinks
    seen_dirs: set[str] = set()
    # An explicit stack, not recursion: scraped archives can nest folders deeply.
    # Each entry is a folder to list (None), a file with its folder's file names,
    # or a refusal's reason, so that refusals come out in path order too.
    stack: list[tuple[Path, str, frozenset[str] | str | None]] = [(root, "", None)]
    while stack:
        path, rel, what = stack.pop()
        if isinstance(what, str):
            yield ReadFailure(rel, what)
            continue
        if what is not None:
            found = _classify(path, rel, options.extensions, what)
            if found is not None:
                yield replace(found, root=root_real, follow=follow)
            continue
        real = os.path.realpath(path)
        if real in seen_dirs:  # a followed link into a hidden folder, reached twice
            continue
        seen_dirs.add(real)
        try:
            entries = sorted((e for e in os.scandir(path) if not e.name.startswith(".")), key=lambda e: e.name)
        except OSError:
            continue  # a folder that vanished or cannot be listed holds no readable article
        verdicts = [(entry, _verdict(entry, root_real, follow, options.extensions)) for entry in entries]
        # Every non-folder name, links included: a linked sidecar is then refused with its reason.
        files = frozenset(entry.name for entry, verdict in verdicts if verdict != "dir")
        for entry, verdict in reversed(verdicts):
            if verdict == "ignore":
                continue
            child_rel = f"{rel}/{entry.name}" if rel else entry.name
            what = None if verdict == "dir" else files if verdict == "file" else verdict
            stack.append((Path(entry.path), child_rel, what))


def _verdict(entry: os.DirEntry[str], root_real: str, follow: bool, extensions: Iterable[str]) -> str:
    """``"dir"`` to walk, ``"file"`` to classify, ``"ignore"``, or the reason to refuse *entry*.

    Decided from the entry's lstat alone (plus a stat of a link's target), so
    nothing that is not a regular file is ever opened.
    """
    try:
        if entry.is_dir(follow_symlinks=False):
            return "dir"
        if entry.is_file(follow_symlinks=False):
            return "file"
        is_link = entry.is_symlink()
        mode = entry.stat(follow_symlinks=False).st_mode
    except OSError:
        return "ignore"  # vanished since the folder was listed
    if not is_link:
        return _not_regular(mode) if _readable_name(entry.name, extensions) else "ignore"
    target = os.path.realpath(entry.path)
    to_dir = os.path.isdir(target)
    if not to_dir and not _readable_name(entry.name, extensions):
        return "ignore"
    if not follow:
        return SYMLINK_REASON
    if not _inside(target, root_real):
        return OUTSIDE_LINK_REASON
    if _walked_anyway(target, root_real, to_dir, extensions):
        return "ignore"  # read under its own path; the link would only index it twice
    # A link to a FIFO or device inside the folder is refused when read, by _open_regular.
    return "dir" if to_dir else "file"


def _walked_anyway(target: str, root_real: str, is_dir: bool, extensions: Iterable[str]) -> bool:
    """Whether the walk of *root_real* reaches the resolved *target* under its own path.

    It does unless a folder on the way is hidden (a resolved path has no links
    on it), or *target* is a file the walk would not read by its own name.
    """
    rel = os.path.relpath(target, root_real)
    parts = [] if rel == os.curdir else rel.split(os.sep)
    if any(part.startswith(".") for part in parts):
        return False
    if is_dir:
        return True
    return bool(parts) and os.path.isfile(target) and _readable_name(parts[-1], extensions)


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _readable_name(name: str, extensions: Iterable[str]) -> bool:
    """Whether a file called *name* would be read as an article (not a sidecar)."""
    return _classify(Path(name), name, extensions, frozenset()) is not None


def _classify(path: Path, rel: str, extensions: Iterable[str], siblings: frozenset[str]) -> _Input | None:
    name = path.name
    lower = name.lower()
    matching = [ext.lower() for ext in extensions if lower.endswith(ext.lower()) and len(lower) > len(ext)]
    if not matching:
        return None
    ext = max(matching, key=len)
    gzipped = ext.endswith(".gz")
    base = ext[: -len(".gz")] if gzipped else ext
    if base == SIDECAR_SUFFIX:
        return None
    kind = KIND_BY_EXTENSION.get(base, "text")
    stem = name[: -len(ext)]
    sidecar = None
    if kind in ("text", "html"):
        for candidate in (stem + SIDECAR_SUFFIX, name + SIDECAR_SUFFIX):
            if candidate in siblings:
                sidecar = path.parent / candidate
                break
    return _Input(path, rel, kind, stem, gzipped, sidecar)


def _read_input(item: _Input, options: Options) -> Iterator[Source | ReadFailure]:
    """Read one walked file into Sources (several for JSONL/SGML) and failures."""
    if item.kind == "jsonl":
        yield from _read_jsonl(item, options)
    elif item.kind == "sgml":
        yield from _read_sgml(item, options)
    else:
        yield from _read_article(item, options)


def _group_of(rel: str) -> str:
    return PurePosixPath(rel).parent.as_posix()


def _mtime_date(path: Path) -> dt.date | None:
    try:
        return dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.UTC).date()
    except OSError:
        return None


def _fallback_reference(path: Path, options: Options) -> dt.date | None:
    return options.reference_date or _mtime_date(path)


# --------------------------------------------------------------------------- byte access


def _size(n: int) -> str:
    return f"{n / 2**20:.1f} MiB" if n >= 2**20 else f"{n:,} bytes"


def _too_large(size: int | None = None, what: str = "file") -> BadInput:
    # Say how large and what the limit is: the user can split the file or see it is a dump.
    found = f"{_size(size)}, " if size is not None else ""
    return BadInput(f"too large: {found}over the {_size(MAX_FILE_BYTES)} limit for one {what}")


def _not_regular(mode: int) -> str:
    """The reason to refuse a file of *mode* that is not a regular file."""
    if stat.S_ISDIR(mode):
        return "cannot read: is a directory"
    for test, kind in _SPECIAL_KINDS:
        if test(mode):
            return f"not a regular file ({kind})"
    return "not a regular file"


def _open_regular(path: Path, item: _Input, *, sidecar: bool = False) -> BinaryIO:
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
            if not named and not _inside(str(target), item.root):
                raise BadInput(OUTSIDE_LINK_REASON)
            info = os.stat(target)
        if not stat.S_ISREG(info.st_mode):
            raise BadInput(_not_regular(info.st_mode))
        handle = open(target, "rb", opener=_open_fd)  # closed below, or by the caller
    except OSError as error:
        raise BadInput(f"cannot read: {_os_reason(error)}") from None
    try:
        mode = os.fstat(handle.fileno()).st_mode
        if not stat.S_ISREG(mode):
            raise BadInput(_not_regular(mode))
        return handle
    except BaseException:
        handle.close()
        raise


def _open_fd(path: str, flags: int) -> int:
    return os.open(path, flags | _OPEN_FLAGS)


def _read_limited(path: Path, gzipped: bool, item: _Input, *, sidecar: bool = False) -> bytes:
    """The file's (decompressed) bytes, or :class:`BadInput` with the reason."""
    with _open_regular(path, item, sidecar=sidecar) as handle:
        try:
            size = os.fstat(handle.fileno()).st_size
            if size > MAX_FILE_BYTES:
                raise _too_large(size)
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
        raise _too_large(what="file once unzipped")
    return data


def _os_reason(error: OSError) -> str:
    return (error.strerror or str(error)).lower()


def _stream_reason(error: OSError, gzipped: bool) -> str:
    # gzip signals bad data with errno-less OSErrors; real I/O errors carry an errno.
    if gzipped and error.errno is None:
        return f"corrupt gzip: {error}"
    return f"cannot read: {_os_reason(error)}"


@contextlib.contextmanager
def _open_stream(item: _Input) -> Iterator[IO[bytes]]:
    """*item*'s bytes as a stream, unzipped if it is gzipped; :class:`BadInput` if refused."""
    with _open_regular(item.path, item) as raw:
        if item.gzipped:
            with gzip.GzipFile(fileobj=raw, mode="rb") as unzipped:
                yield unzipped
        else:
            yield raw


# --------------------------------------------------------------------------- field helpers


def _first(record: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        value = record.get(key)
        if value not in (None, "", [], {}):
            return value
    return None


def _as_text(value: Any) -> str | None:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, bool) or value is None or isinstance(value, (list, dict)):
        return None
    return str(value)


def _as_date(value: Any) -> str | None:
    """A raw date string; numbers are taken as Unix epochs (seconds or ms)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = value / 1000 if value > 1e11 else value
        try:
            return dt.datetime.fromtimestamp(seconds, tz=dt.UTC).isoformat()
        except (OverflowError, OSError, ValueError):
            return None
    return _as_text(value)


def parse_iso_date(value: Any) -> dt.date | None:
    """The calendar day of an ISO-like date/datetime string or epoch number, else None."""
    text = _as_date(value)
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


def _entities(value: Any) -> list[tuple[str, str]]:
    """Entities given as strings, ``{value,type}`` objects or ``{type: [names]}``."""
    pairs: list[tuple[str, str]] = []
    if isinstance(value, dict):
        for label, names in value.items():
            names = names if isinstance(names, list) else [names]
            pairs.extend((name.strip(), _entity_type(label)) for name in names if isinstance(name, str))
    elif isinstance(value, list):
        for entry in value:
            if isinstance(entry, str):
                pairs.append((entry.strip(), "other"))
            elif isinstance(entry, dict):
                name = _as_text(_first(entry, ("value", "name", "text", "entity")))
                if name:
                    pairs.append((name, _entity_type(_first(entry, ("type", "label", "kind")))))
    return list(dict.fromkeys((name, kind) for name, kind in pairs if name))


def _entity_type(label: Any) -> str:
    return ENTITY_TYPE_ALIASES.get(str(label or "").strip().lower(), "other")


@dataclass
class _Fields:
    """Metadata a sidecar or JSONL row gives explicitly."""

    url: str | None = None
    title: str | None = None
    date: str | None = None
    source: str | None = None
    crawled: dt.date | None = None
    entities: list[tuple[str, str]] | None = None
    meta: dict[str, Any] | None = None


def _fields(record: dict[str, Any]) -> _Fields:
    crawl_value = _first(record, CRAWL_KEYS)
    return _Fields(
        url=_as_text(_first(record, URL_KEYS)),
        title=_as_text(_first(record, TITLE_KEYS)),
        date=_as_date(_first(record, DATE_KEYS)),
        source=_as_text(_first(record, SOURCE_KEYS)),
        crawled=parse_iso_date(crawl_value),
        entities=_entities(_first(record, ENTITY_KEYS)),
        meta={key: value for key, value in record.items() if key not in _NOT_META},
    )


# --------------------------------------------------------------------------- single-article files


def _read_article(item: _Input, options: Options) -> Iterator[Source | ReadFailure]:
    fields, sidecar_bytes = _Fields(), b""
    if item.sidecar is not None:
        try:
            sidecar_bytes, fields = _read_sidecar(item.sidecar, item)
        except BadInput as error:
            rel_sidecar = str(PurePosixPath(item.rel).with_name(item.sidecar.name))
            yield ReadFailure(rel_sidecar, str(error))
    try:
        data = _read_limited(item.path, item.gzipped, item)
        _check_text(data)
    except BadInput as error:
        yield ReadFailure(item.rel, str(error))
        return
    declared = _declared_charset(data) if item.kind == "html" else None
    yield Source(
        path=item.rel,
        kind=item.kind,
        content=decode_bytes(data, declared),
        group=_group_of(item.rel),
        url=fields.url,
        title=fields.title,
        date=fields.date,
        source=fields.source,
        entities=fields.entities or [],
        reference_date=fields.crawled or _fallback_reference(item.path, options),
        meta=fields.meta or {},
        content_hash=content_hash(data, sidecar_bytes),
    )


def _read_sidecar(path: Path, item: _Input) -> tuple[bytes, _Fields]:
    data = _read_limited(path, False, item, sidecar=True)
    try:
        record = json.loads(data)
    except (ValueError, UnicodeDecodeError) as error:
        raise BadInput(f"bad sidecar: {error}") from None
    if not isinstance(record, dict):
        raise BadInput("bad sidecar: not a JSON object")
    return data, _fields(record)


# --------------------------------------------------------------------------- JSONL


def _read_jsonl(item: _Input, options: Options) -> Iterator[Source | ReadFailure]:
    fallback = _fallback_reference(item.path, options)
    seen_content = False
    try:
        with _open_stream(item) as stream:
            for number, (line, oversized) in enumerate(_limited_lines(stream), start=1):
                if number == 1:
                    _check_binary_head(line)
                if oversized:
                    seen_content = True  # the file is not empty: one report for it is enough
                    yield ReadFailure(f"{item.rel}#{number}", str(_too_large(what="line")))
                    continue
                if not line.strip():
                    continue
                seen_content = True
                yield _jsonl_row(item.rel, number, line, fallback)
    except _STREAM_ERRORS as error:
        yield _stream_failure(item, error)
        return
    if not seen_content:
        yield ReadFailure(item.rel, "empty file")


# What reading a stream of many articles can raise, mapped to a reason by _stream_failure.
_STREAM_ERRORS = (BadInput, EOFError, zlib.error, OSError)


def _stream_failure(item: _Input, error: Exception) -> ReadFailure:
    """The failure to report for a JSONL or SGML file whose stream broke."""
    if isinstance(error, BadInput):
        return ReadFailure(item.rel, str(error))
    if isinstance(error, (EOFError, zlib.error, gzip.BadGzipFile)):
        return ReadFailure(item.rel, f"corrupt gzip: {error}")
    return ReadFailure(item.rel, _stream_reason(error, item.gzipped))


def _check_binary_head(line: bytes) -> None:
    if line.strip():
        try:
            _check_text(line[:SNIFF_BYTES], allow_utf16=False)
        except BadInput:
            raise BadInput("binary file") from None


def _limited_lines(stream: IO[bytes]) -> Iterator[tuple[bytes, bool]]:
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


def _jsonl_row(rel: str, number: int, line: bytes, fallback: dt.date | None) -> Source | ReadFailure:
    path = f"{rel}#{number}"
    try:
        record = _load_json_line(line)
    except ValueError as error:
        return ReadFailure(path, f"bad JSON: {error}")
    if not isinstance(record, dict):
        return ReadFailure(path, "bad JSON: not an object")
    markup = _as_text(_first(record, HTML_KEYS))
    text = _as_text(_first(record, TEXT_KEYS))
    if markup is None and text is None:
        return ReadFailure(path, "no text or html")
    fields = _fields(record)
    site = fields.source or site_of(fields.url)
    return Source(
        path=path,
        kind="html" if markup is not None else "text",
        content=markup if markup is not None else text or "",
        group=f"{rel}|{site}" if site else rel,
        url=fields.url,
        title=fields.title,
        date=fields.date,
        source=fields.source,
        entities=fields.entities or [],
        reference_date=fields.crawled or fallback,
        meta=fields.meta or {},
        content_hash=content_hash(line.rstrip(b"\r\n")),
    )


def _load_json_line(line: bytes) -> Any:
    try:
        return json.loads(line)
    except UnicodeDecodeError:
        # A row in a legacy encoding: the JSON syntax is ASCII, the strings are not.
        return json.loads(decode_bytes(line))


# --------------------------------------------------------------------------- Reuters SGML

# Reuters codes are lowercase and hyphenated; these few read badly title-cased.
REUTERS_NAMES = {
    "usa": "United States", "uk": "United Kingdom", "ussr": "Soviet Union", "uae": "United Arab Emirates",
    "worldbank": "World Bank", "adb-asia": "Asian Development Bank", "adb-africa": "African Development Bank",
    "euratom": "Euratom", "comecon": "Comecon",
}
# Name particles stay lower case ("de Clercq", "Perez de Cuellar").
_PARTICLES = frozenset({"de", "del", "la", "du", "von", "van", "der", "da", "di", "le"})
REUTERS_ENTITY_TAGS = (("PLACES", "place"), ("PEOPLE", "person"), ("ORGS", "org"))
REUTERS_META_TAGS = (("TOPICS", "topics"), ("EXCHANGES", "exchanges"), ("COMPANIES", "companies"))
REUTERS_SOURCE = "Reuters"
# A line shorter than this ends its paragraph: wire copy is wrapped at ~70 chars.
REUTERS_SHORT_LINE = 40

_STORY_START = b"<REUTERS"
_STORY_END = b"</REUTERS>"
_ATTRIBUTE = re.compile(r'(\w+)="([^"]*)"')
_CONTROL_REF = re.compile(r"&#(\d+);")
_SIGN_OFF_LINE = re.compile(r"^\s*reuters?\s*\.{0,3}\s*$", re.IGNORECASE)
_SIGN_OFF_TAIL = re.compile(r"(?<=[.!?\"')])\s+reuters?\.{0,3}\s*$", re.IGNORECASE)
_TABULAR = re.compile(r"\S {3,}\S|\.{4,}|\t")
_REUTERS_DATE = re.compile(r"(\d{1,2})-([A-Za-z]{3})-(\d{4})")
_MONTHS = {m: i for i, m in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split(), start=1)}


def _read_sgml(item: _Input, options: Options) -> Iterator[Source | ReadFailure]:
    fallback = _fallback_reference(item.path, options)
    stories = 0
    try:
        with _open_stream(item) as stream:
            lines = _CheckedLines(stream)
            for raw in _sgml_elements(lines):
                stories += 1
                if raw is None:
                    yield ReadFailure(item.rel, str(_too_large(what="story")))
                else:
                    yield _reuters_story(item.rel, raw, fallback)
    except _STREAM_ERRORS as error:
        yield _stream_failure(item, error)
        return
    if stories == 0:
        yield ReadFailure(item.rel, "empty file" if lines.empty else "no <REUTERS> stories found")


class _CheckedLines:
    """Lines of a stream, refusing a binary start and noting whether any text was seen."""

    def __init__(self, stream: IO[bytes]):
        self._stream = stream
        self.empty = True

    def __iter__(self) -> Iterator[bytes | None]:
        """Each line, or None for one over the size limit (never read whole: it may be a gzip bomb)."""
        for line, oversized in _limited_lines(self._stream):
            if self.empty and line.strip():
                _check_binary_head(line)
                self.empty = False
            yield None if oversized else line


def _sgml_elements(lines: Iterable[bytes | None]) -> Iterator[bytes | None]:
    """Each ``<REUTERS ...> ... </REUTERS>`` element's bytes, streamed; None for one over the size limit.

    A None in *lines* is a line over the size limit: it makes the story it is
    in too large, and is ignored between stories.
    """
    story: list[bytes] | None = None
    size = 0
    for line in lines:
        if line is None:
            if story is not None:
                story = None
                yield None
            continue
        if story is None:
            if not line.lstrip().startswith(_STORY_START):
                continue
            story, size = [], 0
        size += len(line)
        if size > MAX_FILE_BYTES:  # an unclosed element must not swallow the rest of the file
            story = None
            yield None
            continue
        story.append(line)
        if _STORY_END in line:
            yield b"".join(story)
            story = None


def _sgml_text(raw: str) -> str:
    """Strip control-character references, then unescape the rest."""
    text = _CONTROL_REF.sub(lambda m: "" if int(m.group(1)) < 32 or int(m.group(1)) == 127 else m.group(0), raw)
    return html.unescape(text).replace("\r", "")


def _tag(markup: str, name: str) -> str | None:
    found = re.search(rf"<{name}\b[^>]*>(.*?)</{name}>", markup, re.DOTALL | re.IGNORECASE)
    return found.group(1) if found else None


def _codes(markup: str, name: str) -> list[str]:
    inner = _tag(markup, name) or ""
    codes = (_sgml_text(code).strip() for code in re.findall(r"<D>(.*?)</D>", inner, re.DOTALL))
    return list(dict.fromkeys(code for code in codes if code))


def reuters_name(code: str, kind: str) -> str:
    """A readable name for a Reuters category code (``west-germany`` → ``West Germany``).

    Organisation codes are acronyms (``opec`` → ``OPEC``, ``ico-coffee`` →
    ``ICO (Coffee)``); a few codes have a fixed reading in :data:`REUTERS_NAMES`.
    """
    if code in REUTERS_NAMES:
        return REUTERS_NAMES[code]
    if kind == "org":
        head, _, rest = code.partition("-")
        return f"{head.upper()} ({rest.replace('-', ' ').title()})" if rest else head.upper()
    words = code.split("-")
    if kind != "person":
        return " ".join(word.title() for word in words)
    last = len(words) - 1
    return " ".join(word if word in _PARTICLES and i < last else word.title() for i, word in enumerate(words))


def _reuters_story(rel: str, raw_bytes: bytes, fallback: dt.date | None) -> Source | ReadFailure:
    try:
        raw = raw_bytes.decode("utf-8")
    except UnicodeDecodeError:
        raw = raw_bytes.decode(FALLBACK_ENCODING, errors=_LATIN1_FILL)
    header = raw[: raw.find(">") + 1]
    attrs = dict(_ATTRIBUTE.findall(header))
    newid = attrs.get("NEWID", "")
    path = f"{rel}#{newid}" if newid else rel
    text_open = re.search(r"<TEXT\b([^>]*)>", raw, re.IGNORECASE)
    text_type = dict(_ATTRIBUTE.findall(text_open.group(1))).get("TYPE", "NORM") if text_open else "NORM"
    title, body = _reuters_title_body(_tag(raw, "TEXT") or "", text_type)
    if not title and not body:
        return ReadFailure(path, "no title or body")
    raw_date = _tag(raw, "DATE")
    date = _CONTROL_REF.split(raw_date, maxsplit=1)[0].strip() if raw_date else None
    dateline = _tag(raw, "DATELINE")
    meta: dict[str, Any] = {key: _codes(raw, tag) for tag, key in REUTERS_META_TAGS}
    meta.update(
        dateline=_clean_dateline(dateline) if dateline else None,
        newid=int(newid) if newid.isdigit() else newid or None,
        lewissplit=attrs.get("LEWISSPLIT"),
        text_type=text_type,
    )
    entities = [(reuters_name(code, kind), kind) for tag, kind in REUTERS_ENTITY_TAGS for code in _codes(raw, tag)]
    return Source(
        path=path,
        kind="text",
        content=body or title or "",
        group=f"{rel}|{REUTERS_SOURCE}",
        title=title,
        date=date or None,
        source=REUTERS_SOURCE,
        entities=list(dict.fromkeys(entities)),
        reference_date=_reuters_day(date) or fallback,
        meta=meta,
        content_hash=content_hash(raw_bytes),
    )


def _reuters_title_body(text: str, text_type: str) -> tuple[str | None, str]:
    """Title and body of a ``<TEXT>``.

    ``UNPROC`` stories (tables, corrections and flashes without markup) are
    indexed, not failed: their first line is the title and the rest the body
    (table rows are indented or column-aligned, so they stay one per line).
    ``BRIEF`` stories are a headline only (their body is
    the placeholder "Blah blah blah."), so the body is left empty and the
    caller falls back to the title.
    """
    if text_type.upper() == "UNPROC":
        lines = _drop_sign_off(_sgml_text(text).split("\n"))
        nonblank = [i for i, line in enumerate(lines) if line.strip()]
        if not nonblank:
            return None, ""
        first = nonblank[0]
        return " ".join(lines[first].split()), rewrap_paragraphs(lines[first + 1 :])
    title_raw = _tag(text, "TITLE")
    title = " ".join(_sgml_text(title_raw).split()) if title_raw else None
    body_raw = _tag(text, "BODY") if text_type.upper() != "BRIEF" else None
    body = rewrap_paragraphs(_drop_sign_off(_sgml_text(body_raw).split("\n"))) if body_raw else ""
    return title or None, body


def _drop_sign_off(lines: list[str]) -> list[str]:
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    if lines and _SIGN_OFF_LINE.match(lines[-1]):
        lines = lines[:-1]
    elif lines:
        lines = [*lines[:-1], _SIGN_OFF_TAIL.sub("", lines[-1])]
    return lines


def rewrap_paragraphs(lines: list[str]) -> str:
    """Join hard-wrapped lines into paragraphs, one per line, blank lines between.

    A paragraph starts after a blank line, at an indented line, or after a
    short line; table-like lines (column gaps, dot leaders) stand alone.
    """
    paragraphs: list[str] = []
    current: list[str] = []
    previous = ""
    seen = 0
    for line in lines:
        stripped = line.strip()
        if not stripped:
            _flush(current, paragraphs)
            previous = ""
            continue
        seen += 1
        # The first line shares its row with the dateline, so it is short without ending anything.
        short = len(previous) < REUTERS_SHORT_LINE and seen > 2
        ended = bool(previous) and (short or bool(_TABULAR.search(previous)))
        if line[0].isspace() or _TABULAR.search(stripped) or ended:
            _flush(current, paragraphs)
        if current and current[-1][-1:] == "-" and current[-1][-2:-1].isalpha():
            current[-1] += stripped  # a compound split at its hyphen: "year-" + "ago"
        else:
            current.append(stripped)
        previous = stripped
    _flush(current, paragraphs)
    return "\n\n".join(paragraphs)


def _flush(current: list[str], paragraphs: list[str]) -> None:
    if current:
        paragraphs.append(" ".join(current))
        current.clear()


def _clean_dateline(raw: str) -> str | None:
    text = " ".join(_sgml_text(raw).split()).rstrip(" -")
    return text or None


def _reuters_day(date: str | None) -> dt.date | None:
    found = _REUTERS_DATE.search(date or "")
    if not found:
        return None
    month = _MONTHS.get(found.group(2).upper())
    try:
        return dt.date(int(found.group(3)), month, int(found.group(1))) if month else None
    except ValueError:
        return None
