"""Build and update the Whoosh index from folders of scraped articles.

:func:`build_index` is incremental and idempotent: every article carries a
hash of what produced it (file bytes, sidecar, the boilerplate evidence that
applied to it, the alias table and the pipeline version), so a re-run over
the same folder writes nothing, a changed file is re-indexed, and an article
whose file is gone is removed.  A file that cannot be read or yields no text
is reported in the summary and skipped; it never aborts the run.

It streams: the files are read once for the repeated-line evidence and once
more to work; batches are cleaned in a process pool while the previous batch
is written, so memory does not grow with the collection.

Whoosh traps this module designs around (each has a test):

* the multiprocessing writer with ``multisegment=False`` silently drops
  documents, so cleaning runs in a process pool of our own and one writer
  adds the results;
* ``BufferedWriter`` scrambles sortable columns: not used;
* an index left in many segments answers markedly slower, so a run that adds
  many documents ends with a merge into one segment.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import hashlib
import itertools
import json
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.filedb.filestore import FileStorage
from whoosh.index import TOC, FileIndex, LockError, clean_files
from whoosh.writing import CLEAR, SegmentWriter

from . import schema as S
from .aliases import load_aliases
from .clean import RepeatedLines, line_key, split_lines
from .document import Article, Entity, ReadFailure, Source
from .errors import IndexLocked, IndexWriteError, SearchError
from .extract.entities import prepare as prepare_entities
from .pipeline import ExtractionError, article_id, process
from .readers import iter_sources
from .resolution import EntityResolver
from .settings import Options
from .store import ENTITY_STATE_FILE, INDEX_NAME, index_exists, open_index, tables_path  # noqa: F401 (re-exported)

# Below this many articles to process, a process pool costs more than it saves.
POOL_MIN_DOCS = 400
# A run adding more than this many articles ends with a merge to one segment.
OPTIMIZE_MIN_CHANGES = 1000
WRITER_LIMIT_MB = 256


@dataclass
class IndexReport:
    """What a run of :func:`build_index` did."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    failed: list[ReadFailure] = field(default_factory=list)
    total: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        rate = (self.added + self.updated) / self.seconds if self.seconds else 0.0
        return (
            f"{self.added} added, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.removed} removed, {len(self.failed)} failed; {self.total} articles in the index "
            f"({self.seconds:.1f} s, {rate:.0f} articles/s)"
        )


# A file with thousands of bad rows prints this many of them per reason; the rest are counted.
SKIP_LINES_PER_REASON = 5


class SkipPrinter:
    """Writes a run's skipped files and rows as they are reported, a few per file and reason.

    Use it as :func:`build_index`'s ``on_failure``.  Whole files are always
    written; rows of one multi-article file (``file.jsonl#N``) are written for
    the first :data:`SKIP_LINES_PER_REASON` of each kind of reason (the text
    before its first ``": "``, so "bad JSON" rows group whatever the column),
    then only counted, and :meth:`finish` writes one "... and N more" line per
    file and reason.  :class:`IndexReport` keeps every failure either way.
    """

    def __init__(self, write: Callable[[str], None], per_reason: int = SKIP_LINES_PER_REASON):
        self._write = write
        self._per_reason = per_reason
        self._seen: dict[tuple[str, str], int] = {}

    def __call__(self, failure: ReadFailure) -> None:
        """Write *failure*, or count it if its file already showed enough of its reason."""
        head, sep, tail = failure.path.rpartition("#")
        if not (sep and tail.isdigit()):  # a whole file, or a name that merely holds a '#'
            self._write(f"skipped {failure.path}: {failure.reason}")
            return
        key = (head, failure.reason.split(": ", 1)[0])
        count = self._seen[key] = self._seen.get(key, 0) + 1
        if count <= self._per_reason:
            self._write(f"skipped {failure.path}: {failure.reason}")

    def finish(self) -> None:
        """Write the "... and N more" line for each file and reason that had more rows than were shown."""
        for (file, reason), count in self._seen.items():
            if count > self._per_reason:
                rows = "stories" if file.lower().endswith((".sgm", ".sgm.gz")) else "rows"
                self._write(f"... and {count - self._per_reason:,} more {rows} of {file} skipped: {reason}")
        self._seen.clear()


def _create_or_open(index_dir: Path, rebuild: bool):
    index_dir.mkdir(parents=True, exist_ok=True)
    if index_exists(index_dir):
        ix = whoosh_index.open_dir(str(index_dir), indexname=INDEX_NAME)
        # A rebuild keeps the old index until its commit replaces every
        # segment at once, so a failed or killed rebuild loses nothing.
        if set(ix.schema.names()) == set(S.schema().names()):
            return ix
        # Written by an older newsfacet: its fields differ, so start a new index.
        _check_unlocked(index_dir)
    (index_dir / ENTITY_STATE_FILE).unlink(missing_ok=True)
    return whoosh_index.create_in(str(index_dir), S.schema(), indexname=INDEX_NAME)


def _check_unlocked(index_dir: Path) -> None:
    lock = FileStorage(str(index_dir)).lock(f"{INDEX_NAME}_WRITELOCK")
    if not lock.acquire(blocking=False):
        raise IndexLocked(f"another 'newsfacet index' is writing to {index_dir}; try again when it has finished")
    lock.release()


class _Writer(SegmentWriter):
    """Whoosh's writer, storing the facet tables of the generation it commits
    just before the commit becomes visible, so that a server switching to a
    new commit loads them instead of every request thread rebuilding them
    from the index at once (seconds of stall on a large index)."""

    def _commit_toc(self, segments):
        from .facets import FacetTables

        reader = FileIndex._reader(self.storage, self.schema, segments, self.generation)
        try:
            FacetTables.from_reader(reader).save(tables_path(Path(self.storage.folder), self.generation))
        finally:
            reader.close()
        super()._commit_toc(segments)


def _writer(ix, wait: float):
    try:
        # Separate segment files, not one compound file: Whoosh reads a compound
        # segment into memory for every searcher (~180 MB per thread on Reuters).
        return _Writer(ix, timeout=wait, limitmb=WRITER_LIMIT_MB, compound=False)
    except LockError:
        raise IndexLocked(
            f"another 'newsfacet index' is writing to this index (waited {wait:.0f} s); "
            "try again when it has finished"
        ) from None


def _abandon(ix, writer) -> None:
    """Give up *writer* after a failure: unlock the index and delete the partial
    segment it left, so a full disk gets its space back.  The last commit is untouched."""
    if not writer.is_closed:
        try:
            writer.cancel()
        except Exception:
            # cancel() first flushes the partial segment, which fails again on a full
            # disk; after a failed commit the segment is already closed.
            with contextlib.suppress(OSError):
                writer._tempstorage.destroy()
            if writer.writelock:
                writer.writelock.release()
            writer.is_closed = True
    lock = ix.storage.lock(f"{INDEX_NAME}_WRITELOCK")
    with contextlib.suppress(OSError):
        if lock.acquire(blocking=False):  # another indexer may have started meanwhile
            try:
                toc = TOC.read(ix.storage, INDEX_NAME)
                clean_files(ix.storage, INDEX_NAME, toc.generation, toc.segments)
                _remove_other_tables(Path(ix.storage.folder), toc.generation)
            finally:
                lock.release()


_WRITE_TROUBLE = {
    errno.ENOSPC: "the disk holding it is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EFBIG: "a file would exceed the size limit",
    errno.EROFS: "it is on a read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
}


def _write_error(index_dir: Path, error: OSError) -> IndexWriteError:
    why = _WRITE_TROUBLE.get(error.errno) or error.strerror or str(error)
    if error.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        advice = ("searching and serving a read-only index work; to update it, "
                  "make the folder writable or index into another one with --index")
    else:
        advice = "free some space and run 'newsfacet index' again"
    return IndexWriteError(
        f"cannot write the index in {index_dir}: {why}. "
        f"Nothing was lost: the index keeps its last complete commit; {advice}"
    )


def effective_hash(source: Source, repeated_keys: Iterable[str], aliases_hash: str) -> str:
    """Hash of everything that decides what *source* becomes in the index."""
    h = hashlib.blake2b(digest_size=16)
    for part in (S.PIPELINE_VERSION, aliases_hash, source.content_hash, *sorted(repeated_keys)):
        h.update(part.encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()


def _repeated_in(source: Source, repeated: dict[str, int]) -> dict[str, int]:
    if not repeated:
        return {}
    keys = {line_key(line) for line in split_lines(source.content)} if source.kind == "text" else set(repeated)
    return {k: v for k, v in repeated.items() if k in keys}


def _work(task: tuple[Source, dict[str, int], frozenset[str], Options]) -> Article | ReadFailure:
    source, repeated, headlines, options = task
    try:
        article, _ = process(source, options, repeated, headlines)
    except ExtractionError as exc:
        return ReadFailure(source.path, str(exc))
    except RecursionError:
        return ReadFailure(source.path, "markup nested too deeply to parse")
    except Exception as exc:  # a bug on one page must not cost the rest of the run
        return ReadFailure(source.path, f"could not process: {type(exc).__name__}: {exc}")
    return article


def _entities_json(entities: list[Entity]) -> str:
    return json.dumps(
        [{"value": e.value, "type": e.type, "spellings": sorted(e.spellings), "count": e.count} for e in entities],
        ensure_ascii=False,
    )


def _entities_from_json(text: str | None) -> list[Entity]:
    if not text:
        return []
    return [Entity(d["value"], d["type"], set(d.get("spellings", ())), d.get("count", 1)) for d in json.loads(text)]


def _public_entities(entities: list[Entity]) -> list[dict]:
    return [{"value": e.value, "type": e.type} for e in sorted(entities, key=lambda e: (-e.count, e.value))]


def _fields(article: Article, raw: list[Entity], canonical: list[Entity], root: str, ehash: str) -> dict:
    iso = article.date.iso()
    now = dt.datetime.now(dt.UTC)
    return {
        S.ID: article.id,
        S.PATH: article.path,
        S.ROOT: root,
        S.SOURCE: article.source or "",
        S.URL: article.url or "",
        S.TITLE: article.title,
        S.BODY: article.body,
        S.WORDS: f"{article.title}\n{article.body}",
        S.DATE: iso or "",
        S.DATE_NUM: S.date_num(iso),
        S.DATE_PRECISION: article.date.precision,
        S.DATE_EVIDENCE: article.date.evidence,
        S.DATE_PATH: " ".join(S.date_path_terms(iso)),
        S.ENTITY: S.entity_field(canonical),
        S.ENTITIES: json.dumps(_public_entities(canonical), ensure_ascii=False),
        S.RAW_ENTITIES: _entities_json(raw),
        S.CAPTIONS: json.dumps(article.captions, ensure_ascii=False),
        S.DATELINE: article.dateline or "",
        S.META: json.dumps(article.meta, ensure_ascii=False, default=str),
        S.DROPPED: json.dumps([[d.line, d.reason] for d in article.dropped], ensure_ascii=False),
        S.CONTENT_HASH: ehash,
        S.INDEXED_AT: now.isoformat(timespec="seconds"),
        S.INDEXED_NUM: int(now.timestamp() * 1000),
    }


def _load_entity_state(index_dir: Path) -> dict | None:
    path = index_dir / ENTITY_STATE_FILE
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # rebuilt from the documents below; canonical values may shift once


def _save_json_atomic(path: Path, data) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def _progress(iterable, total: int, enabled: bool, desc: str):
    if not enabled:
        return iterable
    from tqdm import tqdm

    return tqdm(iterable, total=total, desc=desc, unit="doc", file=sys.stderr, leave=False)


def build_index(
    paths: Iterable[Path | str],
    index_dir: Path | str,
    options: Options | None = None,
    *,
    rebuild: bool = False,
    progress: bool | None = None,
    procs: int | None = None,
    wait: float = 0.0,
    on_failure: Callable[[ReadFailure], None] | None = None,
) -> IndexReport:
    """Index every article under *paths* into *index_dir*.

    :param paths: folders or files; paths stored are relative to the folder given.
    :param rebuild: start over, re-reading every article; the old contents stay
        searchable until the final commit replaces them all at once.
    :param progress: show a progress bar (default: when stderr is a terminal).
    :param procs: processes for cleaning and extraction (default: CPU count).
    :param wait: seconds to wait for another indexer's lock before giving up.
    :param on_failure: called with each file that is skipped, as it happens.
    :return: an :class:`IndexReport`.
    :raises IndexLocked: when another indexer holds the index.
    :raises IndexWriteError: when the index folder cannot be written (full disk,
        read-only, no permission); the index keeps its last complete commit.
    :raises SearchError: when a path does not exist.
    """
    started = time.perf_counter()
    options = options or Options()
    index_dir = Path(index_dir)
    roots = [Path(p) for p in paths]
    for root in roots:
        if not root.exists():
            raise SearchError(f"no such file or folder: {root}")
    if progress is None:
        progress = sys.stderr.isatty()
    report = IndexReport()

    def fail(failure: ReadFailure) -> None:
        report.failed.append(failure)
        if on_failure:
            on_failure(failure)

    try:
        _write(roots, index_dir, options, rebuild, procs, progress, wait, report, fail)
    except OSError as exc:
        raise _write_error(index_dir, exc) from exc
    report.seconds = time.perf_counter() - started
    return report


def _write(roots, index_dir: Path, options: Options, rebuild: bool, procs, progress: bool, wait: float,
           report: IndexReport, fail) -> None:
    ix = _create_or_open(index_dir, rebuild)
    writer = _writer(ix, wait)
    try:
        root_keys = {str(root.resolve()) for root in roots}
        # Pass 1: which short lines recur across each folder or site.
        repeated = RepeatedLines.from_texts(
            ((s.group, s.content) for s in _sources(roots, options, None) if s.kind == "text"), options
        )
        aliases = load_aliases(options.aliases_path)
        existing, taken = ({}, {}) if rebuild else _existing(ix, root_keys)
        resolver = EntityResolver(aliases, state=None if rebuild else _load_entity_state(index_dir))
        seen_ids: set[str] = set()
        # A rebuild's commit drops every old segment, so there is nothing to replace.
        add = writer.add_document if rebuild else writer.update_document
        # id -> (raw entities, public entities), as the JSON stored: a million
        # articles' entity objects would take gigabytes, their JSON a fraction.
        written: dict[str, tuple[str, str]] = {}
        # Pass 2: read again, skip what is unchanged, clean and extract the rest in a
        # process pool while this process resolves entities and writes each batch.
        tasks = _tasks(roots, options, repeated, aliases.fingerprint(), existing, taken, seen_ids, report, fail)
        for batch in _processed_batches(tasks, options, procs, progress, fail):
            for article, _, _ in batch:
                resolver.observe(article.entities)
            resolver.prime(())  # settle the batch's new names in one pass
            for article, root, ehash in batch:
                canonical = resolver.resolve(article.entities)
                if article.id in existing:
                    report.updated += 1
                else:
                    report.added += 1
                fields_ = _fields(article, article.entities, canonical, root, ehash)
                add(**fields_)
                written[article.id] = (fields_[S.RAW_ENTITIES], fields_[S.ENTITIES])
        for aid in existing:
            if aid not in seen_ids:
                writer.delete_by_term(S.ID, aid)
                report.removed += 1
        changes = report.added + report.updated + report.removed
        if rebuild:
            writer.commit(mergetype=CLEAR)  # the new segment replaces all others at once
        elif changes:
            writer.commit(optimize=changes >= OPTIMIZE_MIN_CHANGES)
        else:
            writer.cancel()
        if written:  # new articles can move earlier ones to a full name they taught the resolver
            report.updated += _reresolve(ix, wait, existing, seen_ids, written, resolver)
        _save_json_atomic(index_dir / ENTITY_STATE_FILE, resolver.state())
    except BaseException:
        _abandon(ix, writer)
        raise
    with ix.searcher() as s:
        report.total = s.doc_count()
        _save_tables(index_dir, s.reader())


# Articles cleaned per batch: large enough to keep both cores busy, small
# enough that a million-article run never holds more than this in memory.
BATCH_SIZE = 2000


def _sources(roots: list[Path], options: Options, fail) -> Iterator[Source]:
    """Every readable source under *roots*, with its root recorded; failures to *fail*."""
    for root in roots:
        key = str(root.resolve())
        for item in iter_sources([root], options):
            if isinstance(item, ReadFailure):
                if fail is not None:
                    fail(item)
                continue
            item.meta.setdefault("_root", key)
            yield item


def _tasks(roots, options, repeated: RepeatedLines, aliases_hash: str, existing, taken, seen_ids, report, fail):
    """Work for the pool: every source whose effective hash changed, as it is read.

    *taken* maps the ids of indexed articles to their folder; it grows as
    this run's folders are read, so two folders holding the same
    relative path (``2023/page-1.html`` and ``2024/page-1.html`` given as
    separate folders) keep both articles.
    """
    group_cache: dict[str, tuple[dict[str, int], frozenset[str]]] = {}
    for source in _sources(roots, options, fail):
        if source.group not in group_cache:
            group_cache[source.group] = (repeated.for_group(source.group), repeated.headlines(source.group))
        group_rep, group_heads = group_cache[source.group]
        rep = _repeated_in(source, group_rep)
        heads = group_heads & rep.keys()
        ehash = effective_hash(source, [*rep, *(f"headline:{k}" for k in heads)], aliases_hash)
        aid = _article_id(source)
        root = source.meta["_root"]
        if taken.setdefault(aid, root) != root:  # the folder indexed first keeps the plain id
            aid = article_id(f"{root}\0{source.path}")
            taken[aid] = root
        source.meta["_id"] = aid
        seen_ids.add(aid)
        if aid in existing and existing[aid][0] == ehash:
            report.unchanged += 1
            continue
        yield (source, rep, heads, options), ehash


def _processed_batches(tasks, options: Options, procs: int | None, progress: bool, fail):
    """Cleaned articles in batches; the pool works on the next batch while the caller writes one."""
    procs = procs or os.cpu_count() or 1
    bar = _progress(None, None, progress, "indexing")
    first = list(itertools.islice(tasks, BATCH_SIZE))
    if procs < 2 or len(first) < POOL_MIN_DOCS:
        while first:
            yield _collect(first, map(_work, (t for t, _ in first)), fail, bar)
            first = list(itertools.islice(tasks, BATCH_SIZE))
        return
    prepare_entities(options)  # built once here, shared by the forked workers
    ctx = multiprocessing.get_context("fork" if sys.platform != "win32" else "spawn")
    with ctx.Pool(procs) as pool, contextlib.closing(bar) if bar is not None else contextlib.nullcontext():
        batch = first
        pending = pool.imap(_work, [t for t, _ in batch], chunksize=16)
        while batch:
            following = list(itertools.islice(tasks, BATCH_SIZE))
            done = _collect(batch, pending, fail, bar)
            if following:
                pending = pool.imap(_work, [t for t, _ in following], chunksize=16)
            yield done
            batch = following


def _collect(batch, outputs, fail, bar) -> list[tuple[Article, str, str]]:
    results = []
    for ((source, *_), ehash), out in zip(batch, outputs, strict=True):
        if bar is not None:
            bar.update(1)
        if isinstance(out, ReadFailure):
            fail(out)
            continue
        results.append((out, source.meta.get("_root", ""), ehash))
        out.id = source.meta["_id"]
        out.meta.pop("_root", None)
        out.meta.pop("_id", None)
    return results


def _reresolve(ix, wait: float, existing, seen: set[str], written, resolver) -> int:
    """Re-write articles whose canonical entities moved once every new name was known.

    A new article can teach the resolver a full name ("Vladimir Putin") that
    an older one, or one written earlier in this run, only had a surname for;
    those join it.  Their stored fields are read back and written again.
    """
    raws: dict[str, tuple[str, str]] = {
        aid: (raw, public) for aid, (_, raw, public) in existing.items() if aid in seen and aid not in written
    }
    raws.update(written)
    resolver.prime(_entities_from_json(raw) for raw, _ in raws.values())
    moved = {}
    for aid, (raw, public) in raws.items():
        canonical = resolver.resolve(_entities_from_json(raw))
        if json.dumps(_public_entities(canonical), ensure_ascii=False) != public:
            moved[aid] = canonical
    if not moved:
        return 0
    writer = _writer(ix, wait)
    try:
        with ix.searcher() as s:
            for aid, canonical in moved.items():
                stored = s.document(**{S.ID: aid})
                if stored is None:
                    continue
                fields_ = dict(stored)
                fields_[S.ENTITIES] = json.dumps(_public_entities(canonical), ensure_ascii=False)
                fields_[S.ENTITY] = S.entity_field(canonical)
                fields_[S.WORDS] = f"{stored[S.TITLE]}\n{stored[S.BODY]}"
                fields_[S.DATE_NUM] = S.date_num(stored.get(S.DATE))
                fields_[S.DATE_PATH] = " ".join(S.date_path_terms(stored.get(S.DATE) or None))
                writer.update_document(**fields_)
        writer.commit()
    except BaseException:
        _abandon(ix, writer)
        raise
    return sum(1 for aid in moved if aid not in written)


def _save_tables(index_dir: Path, reader) -> None:
    """Make sure the latest generation has its facet arrays (the writer stores
    them as it commits), and remove older generations' arrays."""
    from .facets import FacetTables

    generation = reader.generation()
    path = tables_path(index_dir, generation)
    if not path.exists():
        FacetTables.from_reader(reader).save(path)
    _remove_other_tables(Path(index_dir), generation)


def _remove_other_tables(index_dir: Path, generation: int) -> None:
    """Delete the facet arrays of every generation but *generation*."""
    keep = tables_path(index_dir, generation)
    for old in index_dir.glob("facets-*.npz"):
        if old != keep:
            old.unlink(missing_ok=True)


def _article_id(source: Source) -> str:
    return article_id(source.path)


def _existing(ix, root_keys: set[str]) -> tuple[dict[str, tuple[str, str, str]], dict[str, str]]:
    """The articles indexed from these roots, id -> (effective hash, raw entities,
    public entities); and every article's root, id -> root."""
    mine, owners = {}, {}
    with ix.searcher() as s:
        for fields_ in s.all_stored_fields():
            root = fields_.get(S.ROOT)
            owners[fields_[S.ID]] = root
            if root in root_keys:
                mine[fields_[S.ID]] = (fields_[S.CONTENT_HASH], fields_.get(S.RAW_ENTITIES) or "[]",
                                       fields_.get(S.ENTITIES) or "[]")
    return mine, owners
