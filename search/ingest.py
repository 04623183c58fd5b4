"""The incremental indexer: folders of scraped articles into any backend's index.

:func:`build_index` is incremental and idempotent: every article carries a
hash of what produced it (file bytes, sidecar, the boilerplate evidence that
applied to it, the alias table and the pipeline version), so a re-run over
the same folder writes nothing, a changed file is re-indexed, and an article
whose file is gone is removed.  A file that cannot be read or yields no text
is reported in the summary and skipped; it never aborts the run.

It streams: the files are read once for the repeated-line evidence and once
more to work; batches are cleaned in a process pool while the previous batch
is written, so memory does not grow with the collection.  Entities are
resolved collection-wide (:mod:`search.resolution`) as articles arrive, and
articles whose resolved entities moved are rewritten at the end.

Everything here is engine-free: the writing goes through an
:class:`search.api.IndexWriter` (:func:`search.api.open_writer`).  The
Whoosh traps that shape the writing live in :mod:`search.whoosh_backend.writer`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
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

from .aliases import load_aliases
from .clean import RepeatedLines, line_key, split_lines
from .clusters import ClusterIndex
from .document import Article, Entity, ReadFailure, Source
from .errors import SearchError
from .extract import statistical
from .extract.entities import prepare as prepare_entities
from .pipeline import PIPELINE_VERSION, ExtractionError, article_id, process
from .procs import become_helper
from .readers import article_path, count_files, iter_sources, split_article_path, walk_stamp
from .resolution import EntityResolver
from .settings import Options, Settings

# Below this many articles to process, a process pool costs more than it saves.
POOL_MIN_DOCS = 400


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
            f"{self.removed} removed, {len(self.failed)} failed; {plural(self.total, 'article')} in the index "
            f"({self.seconds:.1f} s, {rate:.0f} {'article' if round(rate) == 1 else 'articles'}/s)"
        )


def plural(count: int, noun: str, nouns: str | None = None, *, grouped: bool = False) -> str:
    """``1 article``, ``2 articles`` (``21,578 articles`` if *grouped*): a count with its noun,
    singular only for one."""
    number = f"{count:,}" if grouped else str(count)
    return f"{number} {noun if count == 1 else nouns or noun + 's'}"


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
        row = split_article_path(failure.path)
        if row is None:  # a whole file, or a name that merely holds a '#'
            self._write(f"skipped {failure.path}: {failure.reason}")
            return
        key = (row[0], failure.reason.split(": ", 1)[0])
        count = self._seen[key] = self._seen.get(key, 0) + 1
        if count <= self._per_reason:
            self._write(f"skipped {failure.path}: {failure.reason}")

    def finish(self) -> None:
        """Write the "... and N more" line for each file and reason that had more rows than were shown."""
        for (file, reason), count in self._seen.items():
            if count > self._per_reason:
                more = count - self._per_reason
                row = ("story", "stories") if file.lower().endswith((".sgm", ".sgm.gz")) else ("row", "rows")
                self._write(f"... and {more:,} more {row[more != 1]} of {file} skipped: {reason}")
        self._seen.clear()


def effective_hash(source: Source, repeated_keys: Iterable[str], aliases_hash: str) -> str:
    """Hash of everything that decides what *source* becomes in the index."""
    h = hashlib.blake2b(digest_size=16)
    for part in (PIPELINE_VERSION, aliases_hash, source.content_hash, *sorted(repeated_keys)):
        h.update(part.encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()


def _repeated_in(source: Source, repeated: dict[str, int]) -> dict[str, int]:
    if not repeated:
        return {}
    keys = {line_key(line) for line in split_lines(source.content)} if source.kind == "text" else set(repeated)
    return {k: v for k, v in repeated.items() if k in keys}


@dataclasses.dataclass(frozen=True)
class _Lines:
    """What pass 1 found repeated in each group, and the hash of the aliases: all it
    takes to work out which repeated lines a source holds and its effective hash.

    The run's process does so only for articles already indexed (to skip the
    unchanged); the pool does it for the new ones, beside cleaning them, since
    keying every line of every new article was a tenth of the run's process's time.
    """

    groups: dict[str, tuple[dict[str, int], frozenset[str]]]
    aliases_hash: str

    @classmethod
    def of_run(cls, repeated: RepeatedLines, aliases_hash: str) -> _Lines:
        return cls({g: (repeated.for_group(g), repeated.headlines(g)) for g in repeated.groups()}, aliases_hash)

    def of(self, source: Source) -> tuple[dict[str, int], frozenset[str], str]:
        """*source*'s repeated lines (key -> stories), those that are headlines elsewhere, and its effective hash."""
        group_rep, group_heads = self.groups.get(source.group) or ({}, frozenset())
        rep = _repeated_in(source, group_rep)
        heads = group_heads & rep.keys()
        return rep, heads, effective_hash(source, [*rep, *(f"headline:{k}" for k in heads)], self.aliases_hash)


# In a pool worker: the run's _Lines, set as the worker starts (inherited, not pickled).
_worker_lines: _Lines | None = None


def _start_worker(parent: int, lines: _Lines) -> None:
    global _worker_lines
    _worker_lines = lines
    become_helper(parent)  # one left waiting after a kill -9 would hold the index's lock


def _work(task: tuple[Source, dict[str, int] | None, frozenset[str] | None, Options], prepare=None,
          lines: _Lines | None = None) -> Article | ReadFailure:
    """Clean and extract one source; a task without its repeated lines (None) works them
    out from *lines* (or the worker's) and leaves the effective hash in ``meta["_hash"]``."""
    source, repeated, headlines, options = task
    try:
        ehash = None
        if repeated is None:
            repeated, headlines, ehash = (lines or _worker_lines).of(source)
        article, _ = process(source, options, repeated, headlines)
        if ehash is not None:
            article.meta["_hash"] = ehash
        if prepare is not None:
            article.prepared = prepare(article)
    except ExtractionError as exc:
        return ReadFailure(source.path, str(exc))
    except RecursionError:
        return ReadFailure(source.path, "markup nested too deeply to parse")
    except Exception as exc:  # a bug on one page must not cost the rest of the run
        return ReadFailure(source.path, f"could not process: {type(exc).__name__}: {exc}")
    return article


def entities_json(entities: list[Entity]) -> str:
    """Entities as stored for re-resolution: value, type, every spelling, mention count, roles if any."""
    out = []
    for e in entities:
        d = {"value": e.value, "type": e.type, "spellings": sorted(e.spellings), "count": e.count}
        if e.roles:
            d["roles"] = sorted(e.roles)
        out.append(d)
    return json.dumps(out, ensure_ascii=False)


def entities_from_json(text: str | None) -> list[Entity]:
    if not text:
        return []
    return [
        Entity(d["value"], d["type"], set(d.get("spellings", ())), d.get("count", 1), set(d.get("roles", ())))
        for d in json.loads(text)
    ]


def public_entities(entities: list[Entity]) -> list[dict]:
    """Entities as a hit shows them: value and type, the most mentioned first."""
    return [{"value": e.value, "type": e.type} for e in sorted(entities, key=lambda e: (-e.count, e.value))]


def public_entities_json(entities: list[Entity]) -> str:
    return json.dumps(public_entities(entities), ensure_ascii=False)


class Progress:
    """What a run shows on stderr while it works, when enabled.

    A bar per pass with its total, percentage, rate and time left (tqdm):
    "Reading" over the files the walk counted, then "Indexing" over the
    articles the first pass counted; then one line per closing phase
    ("Committing 21,578 changes… done in 9.8 s"), which would otherwise look
    like a hang.  Disabled, every method does nothing and tqdm is not imported.
    """

    def __init__(self, enabled: bool, stream=None):
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        self._bar = None

    def start(self, desc: str, total: int, unit: str) -> None:
        """A new bar of *total* *unit* (plural), replacing the current one."""
        self.close()
        if self.enabled:
            from tqdm import tqdm

            # As wide as the terminal, following its resizes; 80 columns where the width is
            # unknown (a log) or zero (a pseudo-terminal nobody sized), where tqdm would draw nothing.
            width = {"dynamic_ncols": True} if _columns(self.stream) else {"ncols": 80}
            self._bar = tqdm(total=total, desc=desc, unit=f" {unit}", file=self.stream, leave=True,
                             smoothing=0.1, bar_format=_BAR_FORMAT, **width)

    def update(self, n: int = 1) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def note(self, text: str) -> None:
        """Text after the bar's figures (e.g. the articles counted so far)."""
        if self._bar is not None:
            self._bar.set_postfix_str(text, refresh=False)
            self._bar.update(0)  # redrawn no oftener than tqdm's interval

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def say(self, text: str) -> None:
        """A line of its own."""
        self.close()
        if self.enabled:
            print(text, file=self.stream, flush=True)

    @contextlib.contextmanager
    def phase(self, text: str):
        """A closing step: its line before it starts, how long it took once done."""
        self.close()
        if not self.enabled:
            yield
            return
        started = time.perf_counter()
        print(f"{text}…", end=" ", file=self.stream, flush=True)
        try:
            yield
        except BaseException:
            print(file=self.stream, flush=True)  # the error's message starts a line of its own
            raise
        print(f"done in {time.perf_counter() - started:.1f} s", file=self.stream, flush=True)

    @contextlib.contextmanager
    def aside(self):
        """Room to write a line of one's own (a skipped file) without garbling the bar."""
        if self._bar is None:
            yield
            return
        from tqdm import tqdm

        with tqdm.external_write_mode(file=self.stream):
            yield


def _columns(stream) -> int:
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError):
        return 0


# "Indexing:  45%|████▌     | 9712/21578 articles [00:48<00:59, 201.30 articles/s]"
_BAR_FORMAT = ("{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt}{unit} "
               "[{elapsed}<{remaining}, {rate_noinv_fmt}{postfix}]")


def build_index(
    paths: Iterable[Path | str],
    index: Settings | Path | str,
    options: Options | None = None,
    *,
    rebuild: bool = False,
    progress: bool | None = None,
    procs: int | None = None,
    wait: float = 0.0,
    on_failure: Callable[[ReadFailure], None] | None = None,
) -> IndexReport:
    """Index every article under *paths* into the index *index* names.

    :param paths: folders or files; paths stored are relative to the folder given.
    :param index: the :class:`Settings` naming the backend and index (or just an
        index folder, for the default backend).
    :param rebuild: start over, re-reading every article; the old contents stay
        searchable until the final commit replaces them all at once.
    :param progress: show a progress bar (default: when stderr is a terminal).
    :param procs: processes for cleaning and extraction (default: CPU count).
    :param wait: seconds to wait for another indexer's lock before giving up.
    :param on_failure: called with each file that is skipped, as it happens.
    :return: an :class:`IndexReport`.
    :raises IndexLocked: when another indexer holds the index.
    :raises IndexWriteError: when the index cannot be written (full disk,
        read-only, no permission); it keeps its last complete commit.
    :raises SearchError: when a path does not exist.
    """
    from .api import open_writer

    started = time.perf_counter()
    settings = index if isinstance(index, Settings) else Settings(index_dir=Path(index))
    options = options or Options()
    roots = [Path(p) for p in paths]
    for root in roots:
        if not root.exists():
            raise SearchError(f"no such file or folder: {root}")
    shown = Progress(sys.stderr.isatty() if progress is None else progress)
    report = IndexReport()

    def fail(failure: ReadFailure) -> None:
        report.failed.append(failure)
        if on_failure:
            with shown.aside():
                on_failure(failure)

    writer = open_writer(settings, rebuild=rebuild, wait=wait)
    try:
        _write(writer, roots, options, rebuild, procs, shown, report, fail)
    except OSError as exc:
        writer.abort()
        raise writer.explain(exc) from exc
    except BaseException:
        writer.abort()
        raise
    finally:
        shown.close()
    report.total = writer.count()
    report.seconds = time.perf_counter() - started
    return report


def _write(writer, roots, options: Options, rebuild: bool, procs, shown: Progress, report: IndexReport,
           fail) -> None:
    root_keys = {str(root.resolve()) for root in roots}
    aliases = load_aliases(options.aliases_path)
    # What finds the names (rules, or a spaCy model and its version) decides an
    # article's entities as much as the aliases do: a change re-extracts everything.
    extraction_key = f"{aliases.fingerprint()}\0ner:{statistical.backend(options.ner)}"
    stamps = {} if rebuild else writer.run_stamps()
    runs_key = "\0".join(sorted(root_keys))
    stamp = _run_stamp(roots, options, extraction_key)
    last = stamps.pop(runs_key, None)
    if last is not None and last["stamp"] == stamp:
        # The same files as when this run last finished, read the same way: nothing to do.
        shown.say(f"No file changed since the last run over {'these folders' if len(roots) > 1 else roots[0]}: "
                  f"{plural(last['articles'], 'article', grouped=True)} unchanged")
        report.unchanged = last["articles"]
        for path, reason in last["failed"]:
            fail(ReadFailure(path, reason))
        writer.commit(0)  # nothing written: releases the index
        return
    # Dropped until this run finishes, so that a run that fails leaves no stamp to skip it by.
    writer.save_run_stamps(stamps)
    _write_changes(writer, roots, root_keys, aliases, extraction_key, options, rebuild, procs, shown, report, fail)
    stamps[runs_key] = {"stamp": stamp, "articles": report.added + report.updated + report.unchanged,
                        "failed": [[f.path, f.reason] for f in report.failed]}
    writer.save_run_stamps(stamps)


def _run_stamp(roots: list[Path], options: Options, extraction_key: str) -> str:
    """A digest of everything a run reads: the files (by :func:`walk_stamp`), how they are
    read (the options, the alias table and entity backend, the pipeline version)."""
    how = [PIPELINE_VERSION, extraction_key, dataclasses.asdict(options), [str(r.resolve()) for r in roots]]
    text = json.dumps([how, walk_stamp(roots, options)], ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _write_changes(writer, roots, root_keys, aliases, extraction_key: str, options: Options, rebuild: bool, procs,
                   shown: Progress, report: IndexReport, fail) -> None:
    # Pass 1: which short lines recur across each folder or site; it counts the articles too.
    articles = _Count()
    if shown.enabled:
        shown.start("Reading", count_files(roots, options), "files")
    snapshot = _Snapshot()
    repeated = RepeatedLines.from_texts(_texts(roots, options, articles, shown, snapshot), options)
    shown.start("Indexing", articles.n, "articles")
    existing, taken = ({}, {}) if rebuild else writer.existing(root_keys)
    resolver = EntityResolver(aliases, state=None if rebuild else writer.entity_state())
    clusters = _load_clusters(None if rebuild else writer.cluster_state(), taken)
    # Articles the cluster state lacks (it was lost, or a run died before saving it)
    # are processed again for their fingerprints, as if changed.
    stale = {aid for aid in existing if aid not in clusters}
    seen_ids: set[str] = set()
    # id -> (raw entities, public entities), as the JSON stored: a million
    # articles' entity objects would take gigabytes, their JSON a fraction.
    written: dict[str, tuple[str, str]] = {}
    # Pass 2: read again, skip what is unchanged, clean and extract the rest in a
    # process pool while this process resolves entities and writes each batch.
    lines = _Lines.of_run(repeated, extraction_key)
    tasks = _tasks(roots, options, lines, existing, taken, seen_ids, report, fail, shown, stale, snapshot)
    writer.plan(articles.n, procs or os.cpu_count() or 1)
    written_clusters: dict[str, str] = {}  # id -> the cluster value written this run
    for batch in _processed_batches(tasks, options, procs, shown, fail, lines, getattr(writer, "prepare", None)):
        for article, _, _ in batch:
            resolver.observe(article.entities)
        resolver.settle()  # the batch's new names, in one pass
        for article, root, ehash in batch:
            canonical = resolver.resolve(article.entities)
            if article.id in existing:
                report.updated += 1
            else:
                report.added += 1
            clusters.add(article.id, article.fingerprint, cluster_sort_key(article))
            cluster = written_clusters[article.id] = clusters.stored_value(article.id)
            writer.add(article, article.entities, canonical, root, ehash, cluster)
            written[article.id] = (entities_json(article.entities), public_entities_json(canonical))
            shown.update()  # counted as written: the pool cleans a batch ahead, in a burst
    for aid in existing:
        if aid not in seen_ids:
            writer.delete(aid)
            clusters.remove(aid)
            report.removed += 1
    changes = report.added + report.updated + report.removed
    committing = shown.phase(f"Committing {plural(changes, 'change', grouped=True)} (writing and merging segments)")
    with committing if changes else contextlib.nullcontext():  # no changes: nothing is written
        writer.commit(changes)
    moved: dict[str, list[Entity]] = {}
    if written:  # new articles can move earlier ones to a full name they taught the resolver
        with shown.phase("Resolving entities across the collection"):
            moved = _moved(existing, seen_ids, written, resolver)
    recluster = _reclustered(clusters, existing, written_clusters)
    if moved or recluster:
        rewrite = set(moved) | set(recluster)
        with shown.phase(f"Updating the entities and copies of {plural(len(rewrite), 'article', grouped=True)}"):
            writer.update_entities(moved, recluster)
        # A copy cluster's id is no change to an article's own content: not counted.
        report.updated += sum(1 for aid in moved if aid not in written)
    writer.save_entity_state(resolver.state())
    writer.save_cluster_state(clusters.to_bytes())


def cluster_sort_key(article: Article) -> str:
    """Orders a cluster's copies: the earliest dated first, undated last (then by id)."""
    return article.date.iso() or "9999"


def _load_clusters(state: bytes | None, taken: dict[str, str]) -> ClusterIndex:
    """The saved clusters, without articles no longer in the index; empty when unreadable."""
    try:
        clusters = ClusterIndex(state=state)
    except (ValueError, KeyError, OSError, EOFError):
        return ClusterIndex()  # damaged: every article is fingerprinted again
    if len(clusters) != len(taken) or any(aid not in taken for aid in clusters.ids()):
        for aid in clusters.ids():
            if aid not in taken:
                clusters.remove(aid)
    clusters.take_changed()
    return clusters


def _reclustered(clusters: ClusterIndex, existing, written: dict[str, str]) -> dict[str, str]:
    """Articles whose stored cluster value must change now that the run's copies are all known."""
    out = {}
    for aid in clusters.take_changed(with_size=True) | set(written):
        value = clusters.stored_value(aid)
        before = written[aid] if aid in written else existing[aid].cluster if aid in existing else None
        if value != before:
            out[aid] = value
    return out


class _Count:
    n = 0


# Pass 1 keeps what it read for pass 2 up to this many characters of content:
# parsing a folder of Reuters SGML again was a twentieth of the writing
# process's time, and every collection up to a few hundred thousand articles fits.
SNAPSHOT_CHARS = 200_000_000


class _Snapshot:
    """The sources (and read failures) pass 1 read, in order, for pass 2 to use instead of
    reading the files again; given up, and empty, once they pass *limit* characters."""

    def __init__(self, limit: int | None = None):
        self.items: list[Source | ReadFailure] = []
        self.complete = True
        self._left = SNAPSHOT_CHARS if limit is None else limit

    def keep(self, item: Source | ReadFailure) -> None:
        if not self.complete:
            return
        if isinstance(item, Source):
            self._left -= len(item.content)
            if self._left < 0:
                self.items, self.complete = [], False
                return
        self.items.append(item)

    def replay(self, fail) -> Iterator[Source]:
        """The sources kept, handing each failure to *fail*; the snapshot empties as it goes."""
        items, self.items = self.items, []
        items.reverse()  # popped from the end: what has been handed on is not held twice
        while items:
            item = items.pop()
            if isinstance(item, ReadFailure):
                fail(item)
            else:
                yield item


def _texts(roots, options: Options, articles: _Count, shown: Progress,
           snapshot: _Snapshot | None = None) -> Iterator[tuple[str, str]]:
    """Pass 1: the ``(group, text)`` of every text article, counting all of them into *articles*
    and keeping what it reads in *snapshot*."""
    keep = snapshot.keep if snapshot is not None else None
    for source in _sources(roots, options, keep, on_file=shown.update if shown.enabled else None, keep=keep):
        articles.n += 1
        if shown.enabled and articles.n % 500 == 0:
            shown.note(f"{articles.n:,} articles")
        if source.kind == "text":
            yield source.group, source.content
    shown.note(f"{articles.n:,} articles")


def _moved(existing, seen: set[str], written, resolver) -> dict[str, list[Entity]]:
    """Articles whose resolved entities change once every new name is known.

    A new article can teach the resolver a full name ("Vladimir Putin") that
    an older one, or one written earlier in this run, only had a surname for;
    those join it.
    """
    raws: dict[str, tuple[str, str]] = {
        aid: (state.raw_entities, state.public_entities)
        for aid, state in existing.items() if aid in seen and aid not in written
    }
    raws.update(written)
    resolver.prime(entities_from_json(raw) for raw, _ in raws.values())
    moved = {}
    for aid, (raw, public) in raws.items():
        canonical = resolver.resolve(entities_from_json(raw))
        if public_entities_json(canonical) != public:
            moved[aid] = canonical
    return moved


# Articles cleaned per batch: large enough to keep both cores busy, small
# enough that a million-article run never holds more than this in memory.
BATCH_SIZE = 2000


def _sources(roots: list[Path], options: Options, fail, on_file=None, keep=None) -> Iterator[Source]:
    """Every readable source under *roots*, with its root recorded; failures to *fail*, and
    sources to *keep* too."""
    for root in roots:
        key = str(root.resolve())
        for item in iter_sources([root], options, on_file):
            if isinstance(item, ReadFailure):
                if fail is not None:
                    fail(item)
                continue
            item.meta.setdefault("_root", key)
            if keep is not None:
                keep(item)
            yield item


def _tasks(roots, options, lines: _Lines, existing, taken, seen_ids, report, fail,
           shown: Progress, stale: set[str] = frozenset(), snapshot: _Snapshot | None = None):
    """Work for the pool: every source whose effective hash changed, as it is read.

    *taken* maps the ids of indexed articles to their folder; it grows as
    this run's folders are read, so two folders holding the same
    relative path (``2023/page-1.html`` and ``2024/page-1.html`` given as
    separate folders) keep both articles.
    """
    read = snapshot.replay(fail) if snapshot is not None and snapshot.complete else _sources(roots, options, fail)
    for source in read:
        aid = article_id(source.path)
        root = source.meta["_root"]
        if taken.setdefault(aid, root) != root:  # the folder indexed first keeps the plain id
            aid = article_id(f"{root}\0{source.path}")
            taken[aid] = root
        source.meta["_id"] = aid
        seen_ids.add(aid)
        if aid not in existing:  # new: the pool works out its repeated lines and hash
            yield (source, None, None, options), None
            continue
        rep, heads, ehash = lines.of(source)
        if existing[aid].content_hash == ehash and aid not in stale:
            report.unchanged += 1
            shown.update()
            continue
        yield (source, rep, heads, options), ehash


def _processed_batches(tasks, options: Options, procs: int | None, shown: Progress, fail, lines: _Lines,
                       prepare=None):
    """Cleaned articles in batches; the pool works on the next batch while the caller writes one.

    :param lines: the run's repeated lines, for the tasks that leave them to the pool.
    :param prepare: the writer's per-article preparation, run beside cleaning.
    """
    procs = procs or os.cpu_count() or 1
    first = list(itertools.islice(tasks, BATCH_SIZE))
    if procs < 2 or len(first) < POOL_MIN_DOCS:
        work = functools.partial(_work, prepare=prepare, lines=lines)
        while first:
            yield _collect(first, map(work, (t for t, _ in first)), fail, shown)
            first = list(itertools.islice(tasks, BATCH_SIZE))
        return
    prepare_entities(options)  # built once here, shared by the forked workers
    import search.extract.html  # noqa: F401  (imported once here too, not in every worker)
    # Each worker gets the run's lines as it starts (_start_worker), not pickled with every task.
    work = functools.partial(_work, prepare=prepare)
    ctx = multiprocessing.get_context("fork" if sys.platform != "win32" else "spawn")
    with ctx.Pool(procs, initializer=_start_worker, initargs=(os.getpid(), lines)) as pool:
        batch = first
        pending = pool.imap(work, [t for t, _ in batch], chunksize=16)
        while batch:
            following = list(itertools.islice(tasks, BATCH_SIZE))
            done = _collect(batch, pending, fail, shown)
            if following:
                pending = pool.imap(work, [t for t, _ in following], chunksize=16)
            yield done
            batch = following


def _collect(batch, outputs, fail, shown: Progress) -> list[tuple[Article, str, str]]:
    results = []
    for ((source, *_), ehash), out in zip(batch, outputs, strict=True):
        if isinstance(out, ReadFailure):
            shown.update()  # done with; the rest move the bar once written
            fail(out)
            continue
        results.append((out, source.meta.get("_root", ""), out.meta.pop("_hash", None) or ehash))
        out.id = source.meta["_id"]
        out.meta.pop("_root", None)
        out.meta.pop("_id", None)
    return results




def clean_files(paths: Iterable[Path], options: Options, context: bool = True):
    """What indexing makes of each file, for ``newsfacet clean``: yields
    ``(path, article, cleaned)`` or ``(path, failure reason)``.

    Lines repeated across a file's sibling files count as boilerplate, as
    they do when its folder is indexed (unless *context* is false), and the
    article's entities are resolved with the alias file of *options*.

    ``FILE#N`` names one article of a multi-article file, as search results
    show it (:func:`search.readers.article_path`: the line of a JSONL file,
    the NEWID of a Reuters story); only that article is cleaned.
    """
    from .resolution import EntityResolver

    aliases = load_aliases(options.aliases_path)
    for name in paths:
        path, wanted = Path(name), None
        selector = None if path.exists() else split_article_path(str(name))
        if selector is not None and Path(selector[0]).is_file():
            path = Path(selector[0])
            wanted = article_path(path.name, selector[1])
        if not path.exists():
            yield str(name), "no such file"
            continue
        folder = path.parent
        # One article's evidence is its group's: a multi-article file is a group of
        # its own (search.readers), so the folder around it adds nothing.
        siblings = [] if not context else list(iter_sources([path if wanted else folder], options))
        repeated = RepeatedLines.from_texts(
            ((s.group, s.content) for s in siblings if not isinstance(s, ReadFailure) and s.kind == "text"), options
        )
        sources = iter_sources([path], options)
        if wanted is not None:
            sources = _only(sources, path.name, wanted)
        for source in sources:
            if isinstance(source, str):
                yield str(name), source
                continue
            if isinstance(source, ReadFailure):
                yield str(name) if wanted is None else source.path, source.reason
                continue
            group = next(
                (s.group for s in siblings if not isinstance(s, ReadFailure) and s.path.split("/")[-1] == path.name),
                source.group,
            )
            try:
                article, cleaned = process(source, options, repeated.for_group(group), repeated.headlines(group))
            except ExtractionError as exc:
                yield source.path, str(exc)
                continue
            resolver = EntityResolver(aliases)
            resolver.observe(article.entities)
            article.entities = resolver.resolve(article.entities)
            yield source.path, article, cleaned


def _only(sources: Iterator[Source | ReadFailure], file: str, wanted: str) -> Iterator[Source | ReadFailure | str]:
    """The source (or failure) named *wanted* among *sources*, then nothing; a failure of the
    whole *file*; or the reason none is there, as a string."""
    for item in sources:
        if item.path == wanted:
            yield item
            return
        if isinstance(item, ReadFailure) and item.path == file:
            yield item
            return
    yield f"no such article in {file} (#N is the line number in a JSONL file, the NEWID in Reuters SGML)"
