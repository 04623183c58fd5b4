"""Writing the Whoosh index: :class:`WhooshWriter`, the :class:`search.api.IndexWriter` for Whoosh.

Whoosh traps this module designs around (each has a test):

* the multiprocessing writer with ``multisegment=False`` silently drops
  documents, so cleaning runs in a process pool of the indexer's own and one
  writer adds the results;
* ``BufferedWriter`` scrambles sortable columns: not used;
* an index left in many segments answers markedly slower, so a run that adds
  many documents ends with a merge of the older segments into one (beside the
  new segment of a large run's writer process);
* a compound segment file is read into memory for every searcher: segments
  are written as separate files.

The text fields are analysed in the extraction pool (:func:`prepare_article`,
the writer's ``prepare`` hook, in one pass per field by :mod:`.postings`) and
the writer adds the postings it gets (:mod:`.segment`), so the one writing
process, the one a run waits on, does less; the index is byte for byte what
Whoosh's own analysis writes (tests/test_prepared.py, tests/test_postings.py).
Rewriting an article's entities re-adds its stored text the same way.  The
pool also lists each article's words for the spelling vocabulary, which is
kept beside the index (:mod:`.vocabulary`) rather than as a second, unstemmed
text field.

A large run writes its new articles' segment in a second process
(:mod:`.writer_process`) while the run's own process resolves entities and
copy clusters.

A failed run (a full disk, a kill) leaves the last commit whole: the partial
segment is removed and the lock released (:meth:`WhooshWriter.abort`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import json
import os
from collections.abc import Callable
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.filedb.filestore import FileStorage
from whoosh.index import TOC, FileIndex, LockError, clean_files
from whoosh.writing import CLEAR

from ..document import Article, Entity, Stored
from ..errors import IndexLocked, IndexWriteError
from ..ingest import entities_json, public_entities_json
from . import schema as S
from .facet_parts import PartsCache
from .facets import FacetTables
from .postings import TextPostings
from .segment import PREPARED, PreparedSegmentWriter
from .store import (
    CLUSTER_STATE_FILE,
    ENTITY_STATE_FILE,
    INDEX_NAME,
    RUN_STAMPS_FILE,
    index_exists,
    load_cluster_state,
    load_entity_state,
    load_run_stamps,
    tables_path,
)
from .vocabulary import VOCABULARY_ANALYZER, VocabularyDelta, save_for_commit, vocabulary_path
from .writer_process import SegmentProcess

# Text fields analysed in the extraction pool (:func:`prepare_article`), not in the writer.
ANALYSED_IN_POOL = (S.TITLE, S.BODY)
# A run adding more than this many articles ends with a merge to one segment.
OPTIMIZE_MIN_CHANGES = 1000
WRITER_LIMIT_MB = 256
# A run adding at least this many articles with a process pool writes them in a
# process of its own (:mod:`.writer_process`); a smaller one is done before the
# process would have paid for itself.
WRITER_PROCESS_MIN_ARTICLES = 2000
# Writer processes of such a run: each writes one segment, and their flushes at
# the commit, a run's one long step that nothing else overlaps, run side by side.
WRITER_PROCESSES = 2


class WhooshWriter:
    """One indexing run's writer on the Whoosh index in *index_dir* (created if missing).

    :param rebuild: the run re-adds everything; its commit replaces every old
        segment at once, so the old index answers until then.
    :param wait: seconds to wait for another writer's lock.
    :raises IndexLocked: when another indexer holds the index.
    """

    def __init__(self, index_dir: Path | str, rebuild: bool = False, wait: float = 0.0):
        self.prepare = prepare_article
        self.index_dir = Path(index_dir)
        self.rebuild = rebuild
        self.wait = wait
        try:
            self.ix = _create_or_open(self.index_dir, rebuild)
            self._writer = _writer(self.ix, wait)
        except OSError as exc:  # a read-only or full folder, before anything was written
            raise self.explain(exc) from exc
        # The spelling vocabulary's changes; a rebuild's commit drops every old
        # segment, so its vocabulary is only what this run adds.
        self._vocabulary = VocabularyDelta()
        # Nothing committed to replace: a rebuild's commit drops every old segment.
        self._fresh = rebuild or not any(seg.doc_count() for seg in self._writer.segments)
        self._writer.vocabulary = (self._vocabulary, self._fresh)
        self._committed = None  # a searcher of the last commit, for replacements and deletions
        self._processes = False  # whether the run may use writer processes (:meth:`plan`)

    def plan(self, articles: int, procs: int) -> None:
        """A run of up to *articles* with *procs* processes writes its new segment in a
        process of its own when it is large enough to gain from it."""
        self._processes = procs >= 2
        if self._processes and articles >= WRITER_PROCESS_MIN_ARTICLES:
            self._write_elsewhere(articles)

    def _write_elsewhere(self, articles: int, prepare: Callable[[dict], None] | None = None) -> None:
        try:
            self._writer.write_elsewhere(WRITER_PROCESSES, articles, prepare)
        except OSError as exc:  # no process could be started
            raise self.explain(exc) from exc

    def existing(self, roots: set[str]) -> tuple[dict[str, Stored], dict[str, str]]:
        mine, owners = {}, {}
        with self.ix.searcher() as s:
            for fields_ in s.all_stored_fields():
                root = fields_.get(S.ROOT)
                owners[fields_[S.ID]] = root
                if root in roots:
                    mine[fields_[S.ID]] = Stored(fields_[S.CONTENT_HASH], fields_.get(S.RAW_ENTITIES) or "[]",
                                                 fields_.get(S.ENTITIES) or "[]", fields_.get(S.CLUSTER) or "")
        return mine, owners

    def entity_state(self) -> dict | None:
        return load_entity_state(self.index_dir)

    def run_stamps(self) -> dict:
        return load_run_stamps(self.index_dir)

    def save_run_stamps(self, stamps: dict) -> None:
        _save_json_atomic(self.index_dir / RUN_STAMPS_FILE, stamps)

    def cluster_state(self) -> bytes | None:
        return load_cluster_state(self.index_dir)

    def add(self, article: Article, raw: list[Entity], canonical: list[Entity], root: str, content_hash: str,
            cluster: str = "") -> None:
        fields_ = _fields(article, raw, canonical, root, content_hash, cluster)
        words = None
        if article.prepared is not None:
            prepared = dict(article.prepared)
            words = prepared.pop(_WORDS, None)
            fields_[PREPARED] = prepared
        if not self._fresh:
            self._forget(article.id)
        self._vocabulary.add(text_words(article.title, article.body) if words is None else words)
        self._writer.add_document(**fields_)

    def delete(self, article_id: str) -> None:
        self._forget(article_id)

    def _forget(self, article_id: str) -> None:
        """Delete the committed article *article_id*, if any, and its words from the vocabulary."""
        for docnum, stored in self._committed_versions(article_id):
            self._vocabulary.remove(text_words(stored.get(S.TITLE), stored.get(S.BODY)))
            self._writer.delete_document(docnum)

    def _committed_versions(self, article_id: str) -> list[tuple[int, dict]]:
        """``(document number, stored fields)`` of *article_id* in the last commit.

        What ``update_document`` looks up before it deletes, with one searcher
        for the whole run: it opens a new one for every document."""
        if self._committed is None:
            self._committed = self._writer.searcher()
        s = self._committed
        return [(docnum, s.stored_fields(docnum)) for docnum in s.document_numbers(**{S.ID: article_id})]

    def _close_committed(self) -> None:
        if self._committed is not None:
            self._committed.close()
            self._committed = None

    def commit(self, changes: int) -> None:
        self._close_committed()
        if self.rebuild:
            self._writer.commit(mergetype=CLEAR)  # the new segment replaces all others at once
        elif changes:
            self._writer.commit(optimize=changes >= OPTIMIZE_MIN_CHANGES)
        else:
            self._writer.cancel()

    def update_entities(self, moved: dict[str, list[Entity]], clusters: dict[str, str] | None = None) -> int:
        """Rewrite moved articles from their stored fields, in a second commit: those
        whose entities moved (*moved*) and those whose cluster changed (*clusters*)."""
        self._writer = _writer(self.ix, self.wait, self._writer.parts)  # the first commit's shares of the tables
        count = 0
        clusters = clusters or {}
        rewrite = dict.fromkeys([*moved, *clusters])
        # Many rewrites are analysed and written by writer processes, side by side.
        elsewhere = self._processes and self.prepare is not None and len(rewrite) >= WRITER_PROCESS_MIN_ARTICLES
        if elsewhere:
            self._write_elsewhere(len(rewrite), _prepare_stored)
        for aid in rewrite:
            versions = self._committed_versions(aid)
            if not versions:
                continue
            stored = versions[0][1]
            fields_ = dict(stored)
            canonical = moved.get(aid)
            if canonical is None:
                canonical = [Entity(e["value"], e["type"]) for e in json.loads(stored.get(S.ENTITIES) or "[]")]
            fields_[S.ENTITIES] = public_entities_json(canonical) if aid in moved else stored.get(S.ENTITIES)
            fields_[S.ENTITY] = S.entity_field(canonical)
            if aid in clusters:
                fields_.pop(S.CLUSTER, None)
                if clusters[aid]:
                    fields_[S.CLUSTER] = clusters[aid]
            fields_[S.DATE_NUM] = S.date_num(stored.get(S.DATE))
            fields_[S.DATE_PATH] = " ".join(S.date_path_terms(stored.get(S.DATE) or None))
            if self.prepare is not None and not elsewhere:  # the text is unchanged: so are its words
                _prepare_stored(fields_)
            for docnum, _ in versions:
                self._writer.delete_document(docnum)
            self._writer.add_document(**fields_)
            count += 1
        self._close_committed()
        self._writer.commit()
        return count

    def save_entity_state(self, state: dict) -> None:
        _save_json_atomic(self.index_dir / ENTITY_STATE_FILE, state)

    def save_cluster_state(self, state: bytes) -> None:
        path = self.index_dir / CLUSTER_STATE_FILE
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_bytes(state)
        os.replace(tmp, path)

    def count(self) -> int:
        with self.ix.searcher() as s:
            _save_tables(self.index_dir, s.reader())
            return s.doc_count()

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self._close_committed()
        _abandon(self.ix, self._writer)

    def explain(self, error: OSError) -> IndexWriteError:
        return _write_error(self.index_dir, error)


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
    (index_dir / CLUSTER_STATE_FILE).unlink(missing_ok=True)
    (index_dir / RUN_STAMPS_FILE).unlink(missing_ok=True)
    return whoosh_index.create_in(str(index_dir), S.schema(), indexname=INDEX_NAME)


def _check_unlocked(index_dir: Path) -> None:
    lock = FileStorage(str(index_dir)).lock(f"{INDEX_NAME}_WRITELOCK")
    if not lock.acquire(blocking=False):
        raise IndexLocked(f"another 'newsfacet index' is writing to {index_dir}; try again when it has finished")
    lock.release()


class _Writer(PreparedSegmentWriter):
    """Whoosh's writer, storing the facet tables and the spelling vocabulary of
    the generation it commits just before the commit becomes visible, so that a
    server switching to a new commit loads them instead of every request thread
    rebuilding them from the index at once (seconds of stall on a large index).

    After :meth:`write_elsewhere` the documents it is given are written into
    segments of their own by writer processes (:mod:`.writer_process`), which
    its commit adds to the ones it writes itself."""

    # (this writer's vocabulary changes, whether the previous commit's vocabulary is dropped)
    vocabulary: tuple[VocabularyDelta, bool]
    # The segments' shares of the facet tables, kept from one commit of a run to the next.
    parts: PartsCache
    processes: list[SegmentProcess] = []
    _share = 0  # documents for each process but the last
    _sent = 0

    def write_elsewhere(self, count: int, articles: int, prepare: Callable[[dict], None] | None = None) -> None:
        """Send the next *articles* documents to *count* writer processes, the first
        share to the first and so on (the last takes any more): the documents keep
        the order they were added in, so results that tie keep theirs too.

        :param prepare: run in the processes on each document's fields first.
        """
        self._share = max(1, -(-articles // count))
        while len(self.processes) < count:
            self.processes = [*self.processes, SegmentProcess(self, _segment_options(), prepare)]

    def add_document(self, **fields_):
        if not self.processes:
            return super().add_document(**fields_)
        self._check_state()
        self.processes[min(self._sent // self._share, len(self.processes) - 1)].add(fields_)
        self._sent += 1

    def commit(self, mergetype=None, optimize=None, merge=None):
        """Whoosh's commit, with the writer processes' segments among the new ones."""
        if not self.processes:
            return super().commit(mergetype=mergetype, optimize=optimize, merge=merge)
        self._check_state()
        for process in self.processes:
            process.close_input()  # they flush their segments while this process merges
        final = self._merge_segments(mergetype, optimize, merge)
        if self._added:
            final.append(self._finalize_segment())
        else:
            self._close_segment()
        for process in self.processes:
            segment, parts = process.segment()
            if segment is not None:
                final.append(segment)
                self.parts.put(segment.segment_id(), parts)
        self._commit_toc(final)
        self._finish()

    def stop_processes(self) -> None:
        """Stop the writer processes, if any: the run is given up."""
        for process in self.processes:
            process.stop()

    def _commit_toc(self, segments):
        reader = FileIndex._reader(self.storage, self.schema, segments, self.generation)
        index_dir = Path(self.storage.folder)
        try:
            FacetTables.from_reader(reader, self.parts).save(tables_path(index_dir, self.generation))
            delta, fresh = self.vocabulary
            save_for_commit(index_dir, self.generation, delta, fresh, reader)
        finally:
            reader.close()
        super()._commit_toc(segments)

_WORDS = "_words"  # in a prepared article: its distinct words, for the spelling vocabulary
_analysis: dict[str, TextPostings] = {}


def _text_fields() -> dict[str, TextPostings]:
    if not _analysis:
        schema = S.schema()
        _analysis.update({name: TextPostings(schema[name], VOCABULARY_ANALYZER) for name in ANALYSED_IN_POOL})
    return _analysis


def text_postings(title: str | None, body: str | None, words: set[str] | None = None) -> dict[str, list]:
    """The postings of an article's title and body, as Whoosh's fields analyse them
    (``(term bytes, frequency, weight, encoded positions)`` per term, by
    :class:`.postings.TextPostings`); their unstemmed words are added to *words* if given."""
    fields_ = _text_fields()
    return {S.TITLE: fields_[S.TITLE].postings(title or "", words),
            S.BODY: fields_[S.BODY].postings(body or "", words)}


def _prepare_stored(fields_: dict) -> None:
    """Add the postings of a stored article's title and body to its fields, for a rewrite."""
    fields_[PREPARED] = text_postings(fields_.get(S.TITLE), fields_.get(S.BODY))


def prepare_text(title: str | None, body: str | None) -> dict[str, list]:
    """:func:`text_postings`, and the words for the spelling vocabulary."""
    words: set[str] = set()
    prepared = text_postings(title, body, words)
    prepared[_WORDS] = sorted(words)
    return prepared


def prepare_article(article: Article) -> dict[str, list]:
    """:func:`prepare_text` of *article*: run in the extraction pool, so the writer only adds the postings."""
    return prepare_text(article.title, article.body)


def text_words(title: str | None, body: str | None) -> list[str]:
    """``vocabulary.article_words``, from the same one-pass analysis as :func:`prepare_text`."""
    fields_ = _text_fields()
    words: set[str] = set()
    fields_[S.TITLE].words(title or "", words)
    fields_[S.BODY].words(body or "", words)
    return sorted(words)


def _segment_options() -> dict:
    """Options of every segment writer: separate segment files, not one compound file,
    which Whoosh reads into memory for every searcher (~180 MB per thread on Reuters)."""
    return {"limitmb": WRITER_LIMIT_MB, "compound": False}


def _writer(ix, wait: float, parts: PartsCache | None = None):
    try:
        writer = _Writer(ix, timeout=wait, **_segment_options())
    except LockError:
        raise IndexLocked(
            f"another 'newsfacet index' is writing to this index (waited {wait:.0f} s); "
            "try again when it has finished"
        ) from None
    writer.vocabulary = (VocabularyDelta(), False)  # the text stays: the last commit's vocabulary carries over
    writer.parts = parts if parts is not None else PartsCache()
    return writer


def _abandon(ix, writer) -> None:
    """Give up *writer* after a failure: unlock the index and delete the partial
    segment it left, so a full disk gets its space back.  The last commit is untouched."""
    writer.stop_processes()
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


def _fields(article: Article, raw: list[Entity], canonical: list[Entity], root: str, ehash: str,
            cluster: str = "") -> dict:
    iso = article.date.iso()
    now = dt.datetime.now(dt.UTC)
    extra = {S.CLUSTER: cluster} if cluster else {}
    return extra | {
        S.ID: article.id,
        S.PATH: article.path,
        S.ROOT: root,
        S.SOURCE: article.source or "",
        S.URL: article.url or "",
        S.TITLE: article.title,
        S.BODY: article.body,
        S.DATE: iso or "",
        S.DATE_NUM: S.date_num(iso),
        S.DATE_PRECISION: article.date.precision,
        S.DATE_EVIDENCE: article.date.evidence,
        S.DATE_PATH: " ".join(S.date_path_terms(iso)),
        S.ENTITY: S.entity_field(canonical),
        S.ENTITIES: public_entities_json(canonical),
        S.RAW_ENTITIES: entities_json(raw),
        S.CAPTIONS: json.dumps(article.captions, ensure_ascii=False),
        S.DATELINE: article.dateline or "",
        S.META: json.dumps(article.meta, ensure_ascii=False, default=str),
        S.DROPPED: json.dumps([[d.line, d.reason] for d in article.dropped], ensure_ascii=False),
        S.CONTENT_HASH: ehash,
        S.INDEXED_AT: now.isoformat(timespec="seconds"),
        S.INDEXED_NUM: int(now.timestamp() * 1000),
    }


def _save_json_atomic(path: Path, data) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def _save_tables(index_dir: Path, reader) -> None:
    """Make sure the latest generation has its facet arrays (the writer stores
    them as it commits), and remove older generations' arrays."""
    generation = reader.generation()
    path = tables_path(index_dir, generation)
    if not path.exists():
        FacetTables.from_reader(reader).save(path)
    _remove_other_tables(Path(index_dir), generation)


def _remove_other_tables(index_dir: Path, generation: int) -> None:
    """Delete the facet arrays and vocabularies of every generation but *generation*."""
    keep = {tables_path(index_dir, generation), vocabulary_path(index_dir, generation)}
    for old in [*index_dir.glob("facets-*.npz"), *index_dir.glob("vocabulary-*.npz")]:
        if old not in keep:
            old.unlink(missing_ok=True)


