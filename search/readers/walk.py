"""The walk: which files under the paths given are read, and by which reader.

:func:`iter_sources` walks folders in sorted order, refusing links and
special files by the rules its docstring gives, and hands each file to the
reader of its kind (:mod:`~search.readers.articles` for text and HTML,
:mod:`~search.readers.jsonl`, :mod:`~search.readers.reuters` for SGML).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from pathlib import Path

from search.document import ReadFailure, Source
from search.readers.articles import read_article
from search.readers.files import OUTSIDE_LINK_REASON, SYMLINK_REASON, InputFile, inside, not_regular
from search.readers.jsonl import read_jsonl
from search.readers.reuters import read_sgml
from search.settings import Options

# The extension (after any .gz) decides how a file is read; an extension the
# user adds to Options.extensions that is not listed here is read as text.
KIND_BY_EXTENSION = {
    ".txt": "text", ".text": "text", ".html": "html", ".htm": "html", ".jsonl": "jsonl", ".sgm": "sgml",
}
SIDECAR_SUFFIX = ".json"


def iter_sources(paths: Iterable[Path], options: Options,
                 on_file: Callable[[], None] | None = None) -> Iterator[Source | ReadFailure]:
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

    *on_file*, if given, is called each time a file to read has been read
    (after its last article), for a progress bar of the files
    :func:`count_files` counts.
    """
    for item in _inputs(paths, options):
        if isinstance(item, ReadFailure):
            yield item
            continue
        yield from _read_input(item, options)
        if on_file is not None:
            on_file()


def walk_stamp(paths: Iterable[Path], options: Options) -> list[list]:
    """What the walk finds under *paths* without opening a file: per file its name in the
    index with the size, modification and change times and inode of it and its sidecar, and
    per refusal its reason.  Equal stamps mean the same files with the same contents, as far
    as the file system can tell (a rewrite changes the change time even when the
    modification time is put back)."""
    rows: list[list] = []
    for item in _inputs(paths, options):
        if isinstance(item, ReadFailure):
            rows.append([item.path, "refused", item.reason])
            continue
        row = [item.rel, item.kind, *_stat(item.path)]
        if item.sidecar is not None:
            row += _stat(item.sidecar)
        rows.append(row)
    return rows


def _stat(path: Path) -> list[int]:
    try:
        st = os.stat(path)
    except OSError:
        return [-1]
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


def count_files(paths: Iterable[Path], options: Options) -> int:
    """How many files :func:`iter_sources` would read under *paths*: the walk alone, no file opened."""
    return sum(1 for item in _inputs(paths, options) if not isinstance(item, ReadFailure))


def _inputs(paths: Iterable[Path], options: Options) -> Iterator[InputFile | ReadFailure]:
    """The files to read under *paths*, and what the walk refuses, in order."""
    for root in paths:
        root = Path(root)
        if root.is_dir():
            yield from _walk(root, options)
        elif root.exists() or root.is_symlink():
            yield from _single(root, options)
        else:
            yield ReadFailure(root.name or str(root), "cannot read: no such file or directory")


def read_path(path: Path, rel: str, options: Options) -> Iterator[Source | ReadFailure]:
    """Read one file as :func:`iter_sources` would a named path, naming it *rel* (no sidecar lookup)."""
    found = _classify(path, rel, options.extensions, frozenset())
    if found is None:
        yield ReadFailure(rel, "unsupported file extension")
        return
    yield from _read_input(_named(found, path, options), options)


def _named(item: InputFile, path: Path, options: Options) -> InputFile:
    root = os.path.realpath(path.parent)
    return replace(item, root=root, follow=options.follow_symlinks, named=True)


def _single(path: Path, options: Options) -> Iterator[InputFile]:
    try:
        siblings = frozenset(os.listdir(path.parent))
    except OSError:
        siblings = frozenset()
    found = _classify(path, path.name, options.extensions, siblings)
    if found is not None:
        yield _named(found, path, options)


def _walk(root: Path, options: Options) -> Iterator[InputFile | ReadFailure]:
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
        return not_regular(mode) if _readable_name(entry.name, extensions) else "ignore"
    target = os.path.realpath(entry.path)
    to_dir = os.path.isdir(target)
    if not to_dir and not _readable_name(entry.name, extensions):
        return "ignore"
    if not follow:
        return SYMLINK_REASON
    if not inside(target, root_real):
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


def _readable_name(name: str, extensions: Iterable[str]) -> bool:
    """Whether a file called *name* would be read as an article (not a sidecar)."""
    return _classify(Path(name), name, extensions, frozenset()) is not None


def _classify(path: Path, rel: str, extensions: Iterable[str], siblings: frozenset[str]) -> InputFile | None:
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
    return InputFile(path, rel, kind, stem, gzipped, sidecar)


def _read_input(item: InputFile, options: Options) -> Iterator[Source | ReadFailure]:
    """Read one walked file into Sources (several for JSONL/SGML) and failures."""
    if item.kind == "jsonl":
        yield from read_jsonl(item, options)
    elif item.kind == "sgml":
        yield from read_sgml(item, options)
    else:
        yield from read_article(item, options)
