"""Is the index whole?  Reading each segment's files and naming the one that is not.

A truncated or corrupt file surfaces inside Whoosh as whatever its decoder
tripped on (``UnpicklingError``, ``struct.error``, a bare ``Exception("Block
tag error")``), which says nothing to a user.  :func:`check_index` opens each
part of each segment on its own, so the failure can be pinned to one file:

* the table of contents (``_articles_N.toc``);
* the term table (``.trm``) — opened, then walked term by term;
* the postings (``.pst``) — every term's pointer must lie inside the file;
* the stored articles and field lengths (``.col`` columns) — every stored
  article is read back;
* the facet arrays of the generation (``facets-N.npz``), when present, must
  count the same documents.

``newsfacet check`` prints the report; the query service calls
:func:`diagnose` when a read fails, so its error names the file and says to
rebuild.
"""

from __future__ import annotations

import functools
import gc
import struct
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from whoosh.codec.whoosh3 import W3TermsReader

from ..errors import IndexDamaged, SearchError
from .store import INDEX_NAME, open_index, tables_path

REBUILD_ADVICE = "run 'newsfacet index --rebuild' on the collection's folders to rebuild it"
# W3TermInfo: "!BfIBBfII" (flags, weight, df, min/max length, max weight, min/max id),
# then for postings kept in the .pst file an 8-byte offset and a 4-byte length.
_TERMINFO = struct.Struct("!BfIBBfII")
_EXTENT = struct.Struct("!qi")


@dataclass
class Problem:
    file: str  # a file name inside the index folder
    reason: str


@dataclass
class CheckReport:
    index_dir: Path
    generation: int | None = None
    segments: int = 0
    documents: int = 0
    deleted: int = 0
    terms: int = 0
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        """What ``newsfacet check`` prints."""
        head = (f"index {self.index_dir}: generation {self.generation}, {self.segments} segment(s), "
                f"{self.documents} article(s) ({self.deleted} deleted awaiting a merge), {self.terms} terms; "
                f"checked in {self.seconds:.1f} s")
        if self.ok:
            return [head, "ok: every file is readable and the counts agree"]
        return [head, *(f"damaged: {p.file}: {p.reason}" for p in self.problems),
                f"The index cannot be trusted: {REBUILD_ADVICE}."]


def _reason(exc: BaseException) -> str:
    if isinstance(exc, FileNotFoundError):
        return "missing"
    text = str(exc) or type(exc).__name__
    return f"cannot be read ({type(exc).__name__}: {text[:120]})"


def check_index(index_dir: Path | str, deep: bool = True) -> CheckReport:
    """Check every segment of the index at *index_dir*.

    :param deep: also read back every stored article (seconds on a large index);
        without it only the tables of contents, term tables and posting pointers.
    :raises IndexNotFound: when there is no index there at all.
    """
    started = time.perf_counter()
    index_dir = Path(index_dir)
    report = CheckReport(index_dir)
    ix = open_index(index_dir)
    report.generation = ix.latest_generation()
    toc_name = f"_{INDEX_NAME}_{report.generation}.toc"
    try:
        toc = ix._read_toc()
    except Exception as exc:  # noqa: BLE001 - any decoder error means the same: unreadable
        report.problems.append(Problem(toc_name, _reason(exc)))
        report.seconds = time.perf_counter() - started
        return report
    storage = ix.storage
    report.segments = len(toc.segments)
    for segment in toc.segments:
        _check_segment(storage, toc.schema, segment, report, deep)
    _check_tables(index_dir, report)
    report.seconds = time.perf_counter() - started
    return report


def _check_segment(storage, schema, segment, report: CheckReport, deep: bool) -> None:
    codec = segment.codec()
    trm = segment.make_filename(codec.TERMS_EXT)
    pst = segment.make_filename(codec.POSTS_EXT)
    report.documents += segment.doc_count()
    report.deleted += segment.deleted_count()
    for name in (trm, pst):
        if not storage.file_exists(name):
            report.problems.append(Problem(name, "missing"))
            return
    try:
        terms = _terms_reader(codec, storage, segment, trm)
    except Exception as exc:  # noqa: BLE001
        report.problems.append(Problem(trm, _reason(exc)))
        return
    try:
        _check_terms(terms, storage.file_length(pst), trm, pst, report)
    finally:
        terms.close()
    try:
        perdoc = codec.per_document_reader(storage, segment)
    except Exception as exc:  # noqa: BLE001
        report.problems.append(Problem(segment.make_filename("._stored.col"), _reason(exc)))
        return
    try:
        _check_documents(perdoc, schema, segment, report, deep)
    finally:
        perdoc.close()


def _terms_reader(codec, storage, segment, trm: str):
    """``codec.terms_reader``, but closing both files when the table cannot be opened
    (Whoosh's own leaves them open)."""
    tifile = storage.open_file(trm)
    postfile = segment.open_file(storage, codec.POSTS_EXT)
    try:
        return W3TermsReader(codec, tifile, storage.file_length(trm), postfile)
    except BaseException:
        tifile.close()
        postfile.close()
        raise


def release_leaked_files() -> None:
    """Close, quietly, the files Whoosh left open when it failed to open a damaged segment.

    They are unreachable garbage once the failure has been handled; collecting
    them now frees the descriptors instead of warning at some later moment.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


def _check_terms(terms, pst_length: int, trm: str, pst: str, report: CheckReport) -> None:
    n = 0
    try:
        for _key, value in terms._tindex.items():
            n += 1
            if value[0] == 0:  # postings in the .pst file, not inlined
                offset, length = _EXTENT.unpack_from(value, _TERMINFO.size)
                if offset < 0 or length < 0 or offset + length > pst_length:
                    report.problems.append(Problem(
                        pst, f"truncated: a posting list ends at byte {offset + length:,}, "
                        f"past the file's {pst_length:,} bytes"))
                    return
    except Exception as exc:  # noqa: BLE001
        report.problems.append(Problem(trm, _reason(exc)))
    report.terms += n


def _check_documents(perdoc, schema, segment, report: CheckReport, deep: bool) -> None:
    stored = segment.make_filename("._stored.col")
    try:
        count = perdoc.doc_count_all()
        if count != segment.doc_count_all():
            report.problems.append(Problem(stored, f"holds {count} articles, the segment {segment.doc_count_all()}"))
            return
        for name in schema.scorable_names():
            if perdoc.has_column(f"_{name}_len"):
                perdoc.doc_field_length(max(0, count - 1), name)
        if deep:
            for docnum in range(count):
                perdoc.stored_fields(docnum)
    except Exception as exc:  # noqa: BLE001
        report.problems.append(Problem(stored, _reason(exc)))


def _check_tables(index_dir: Path, report: CheckReport) -> None:
    if report.generation is None or report.problems:
        return
    path = tables_path(index_dir, report.generation)
    if not path.exists():
        return  # built on first search; not part of the commit's promise
    try:
        with np.load(path, allow_pickle=False) as data:
            live = data["live"]
    except Exception as exc:  # noqa: BLE001
        report.problems.append(Problem(path.name, _reason(exc)))
        return
    if int(live.sum()) != report.documents:
        counted = int(live.sum())
        report.problems.append(Problem(path.name, f"counts {counted} articles, the segments {report.documents}"))


def diagnose(index_dir: Path | str, error: BaseException) -> IndexDamaged | None:
    """An :class:`IndexDamaged` naming the damaged file, or None when the index checks whole
    (then *error* was not damage, and the caller should let it through)."""
    try:
        report = check_index(index_dir, deep=False)
    except Exception:  # noqa: BLE001 - the index is gone or unreadable at its root
        return IndexDamaged(f"the index in {index_dir} cannot be opened ({type(error).__name__}); {REBUILD_ADVICE}")
    if report.ok:
        return None
    first = report.problems[0]
    return IndexDamaged(
        f"the index in {index_dir} is damaged: {first.file} {first.reason}; {REBUILD_ADVICE}", first.file)


def guarded(method):
    """Turn a read that fails on a damaged index file into :class:`IndexDamaged`.

    Whoosh reports a truncated or corrupt file as whatever its decoder
    tripped on.  On such an error the index is checked; if a file is
    damaged, the error names it (logged with its traceback once per file),
    otherwise the original error goes on, since it is not damage.
    """

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except SearchError:
            raise
        except Exception as exc:
            damage = self._diagnose(exc)
            if damage is None:
                raise
        # Outside the except block, so nothing holds the failed reader's frames.
        release_leaked_files()
        raise damage

    return wrapper


__all__ = ["CheckReport", "Problem", "check_index", "diagnose", "guarded", "release_leaked_files"]
