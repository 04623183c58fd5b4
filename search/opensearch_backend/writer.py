"""Writing an OpenSearch collection: :class:`OpenSearchWriter`, the :class:`search.api.IndexWriter`
for the OpenSearch backend (indexes named in :mod:`.mapping`).

It keeps the Whoosh writer's promises (:mod:`search.whoosh_backend.writer`),
with what a cluster gives instead of segment files:

* **Nothing of a run is visible before its commit, and an aborted run leaves
  the last commit as it was.**  A run that starts a new index (the first run,
  ``--rebuild``, or an index made with an older mapping) writes into a new
  concrete index that no alias points at; :meth:`~OpenSearchWriter.commit`
  refreshes it and moves the alias to it in one ``_aliases`` call, then
  deletes the old index; :meth:`~OpenSearchWriter.abort` deletes the new one.
  A run that updates the live index cannot write into it early (bulk writes
  are not transactional: a refresh, a shard recovery or a realtime get would
  show them), so its actions are spooled to a temporary file and sent at the
  commit, with the index's refresh turned off until the final refresh; an
  abort just drops the spool.  A failure *while* the commit sends them leaves
  whole articles (each write replaces one document), and the run stamp
  dropped at the run's start makes the next run read everything again.
* **No article is lost silently.**  Actions go out through ``_bulk`` in
  batches (:data:`BATCH_DOCS` actions or :data:`BATCH_BYTES`), sent in order by
  one thread beside the indexer (:class:`_Sender`, one batch in flight and one
  waiting); a whole request
  answered 429/502/503/504, or a connection lost, is retried with exponential
  back-off, and so is each item that failed with 429 or a 5xx; an item that
  fails for good (a mapping conflict, a document too large) raises
  :class:`~search.errors.IndexWriteError` naming the article ids and the
  cluster's reasons, and the run is aborted as any failed run is.
* :meth:`~OpenSearchWriter.existing` reads only ids, roots, hashes, entities
  and cluster ids (doc values and source filtering over a scroll), never the
  whole ``_source``.
* The resolver's state, the copy clusters' state (bytes, base64) and the run
  stamps live in ``{prefix}-meta`` as blobs split over documents of at most
  :data:`BLOB_PART_BYTES` each; a new blob's parts are written first and its
  header last, so a reader never sees half of one.
* An article index the alias does not point at (a rebuild killed before its
  abort) is deleted by the next run.
* Only one indexer writes a collection at a time: a ``lock`` document in the
  meta index, created with ``op_type=create`` and deleted at the end of the
  run; a lock left by a killed indexer on this machine (its process is gone)
  or not renewed for :data:`LOCK_STALE_SECONDS` is taken over.

:func:`prepare_document` (the ``prepare`` hook) encodes each article's title
and body as JSON in the extraction pool; :meth:`~OpenSearchWriter.add`
encodes the other fields (the run's: root, hash, entities, cluster, time)
in front of them.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import os
import pickle
import queue
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..document import Article, Entity, Stored
from ..errors import IndexLocked, IndexWriteError
from ..ingest import entities_json, public_entities_json
from ..whoosh_backend import schema as S
from . import mapping as M
from .blobs import CLUSTER_STATE, ENTITY_STATE, RUN_STAMPS, part_id, read_blob
from .client import make_client, translate_errors

if TYPE_CHECKING:
    from ..settings import Settings

# One _bulk request: at most this many actions, and about this many bytes (a few MB
# is what OpenSearch's sizing guide suggests: larger requests only cost heap).
BATCH_DOCS = 1000
BATCH_BYTES = 8 * 1024 * 1024
# Retries of a bulk request or of its failed items: back-off doubling from
# RETRY_FIRST_DELAY seconds up to RETRY_MAX_DELAY, RETRY_ATTEMPTS tries in all (~1 min).
RETRY_ATTEMPTS = 8
RETRY_FIRST_DELAY = 0.5
RETRY_MAX_DELAY = 30.0
RETRY_STATUSES = frozenset({429, 502, 503, 504})
# A part of a state blob in the meta index (raw bytes, before base64).
BLOB_PART_BYTES = 4 * 1024 * 1024
SCROLL_SIZE = 5000
SCROLL_KEEP = "5m"
LOCK_ID = "lock"
LOCK_STALE_SECONDS = 15 * 60
LOCK_RENEW_SECONDS = 60
LOCK_POLL_SECONDS = 1.0
# The bulk response fields read: everything else is not sent back at all.
_BULK_FILTER = "errors,items.*._id,items.*.status,items.*.error"
_FAILED_IDS_SHOWN = 10


@dataclass(frozen=True)
class _Action:
    article_id: str
    payload: bytes  # the action line and, but for a delete, the document line, each ending in \n


def prepare_document(article: Article) -> bytes:
    """*article*'s title and body as JSON members (``"title":…,"body":…``), run in the
    extraction pool: the text is most of a document's bytes and of its encoding time.

    Only these two: the indexer sets the id and takes its own keys out of ``meta``
    after the pool (:func:`search.ingest._collect`), so the rest is encoded by
    :meth:`OpenSearchWriter.add`."""
    return _json({S.TITLE: article.title, S.BODY: article.body})[1:-1]


def _json(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def _article_fields(article: Article) -> dict[str, Any]:
    """The fields but title and body that depend on the article alone, stored as the Whoosh writer stores them."""
    iso = article.date.iso()
    fields_: dict[str, Any] = {
        S.PATH: article.path,
        S.SOURCE: article.source or "",
        S.URL: article.url or "",
        S.DATE: iso or "",
        S.DATE_NUM: S.date_num(iso),
        S.DATE_PRECISION: article.date.precision,
        S.DATE_EVIDENCE: article.date.evidence,
        S.DATE_PATH: S.date_path_terms(iso),
        S.CAPTIONS: json.dumps(article.captions, ensure_ascii=False),
        S.DATELINE: article.dateline or "",
        S.META: json.dumps(article.meta, ensure_ascii=False, default=str),
        S.DROPPED: json.dumps([[d.line, d.reason] for d in article.dropped], ensure_ascii=False),
    }
    return _without_empty_keywords(fields_)


def _without_empty_keywords(fields_: dict[str, Any]) -> dict[str, Any]:
    # Whoosh indexes no empty term; an empty keyword here would be one ("" in a range on date).
    return {k: v for k, v in fields_.items() if not (k in M.KEYWORD_FIELDS and v in ("", []))}


def entity_terms(canonical: Iterable[Entity]) -> list[str]:
    """The ``entity`` field's terms: each resolved entity's ``type:value``, sorted, once each."""
    return sorted({S.entity_term(e.value, e.type) for e in canonical})


class OpenSearchWriter:
    """One indexing run's writer on the OpenSearch collection *settings* name
    (its indexes are created if missing).

    :param rebuild: the run re-adds everything into a new index, which replaces
        the old one at the commit (searches read the old one until then).
    :param wait: seconds to wait for another indexer's lock.
    :raises IndexLocked: when another indexer writes to the collection.
    :raises BackendUnavailable: when the cluster cannot be reached.
    """

    batch_docs = BATCH_DOCS
    batch_bytes = BATCH_BYTES
    retry_attempts = RETRY_ATTEMPTS
    retry_first_delay = RETRY_FIRST_DELAY

    def __init__(self, settings: Settings, rebuild: bool = False, wait: float = 0.0, client=None):
        self.prepare: Callable[[Article], Any] | None = prepare_document
        self.settings = settings
        self.prefix = settings.opensearch_prefix
        self.alias = M.alias_name(self.prefix)
        self.meta = M.meta_index_name(self.prefix)
        self.client = client or make_client(settings)
        self.rebuild = rebuild
        self._token = uuid.uuid4().hex
        self._locked = False
        self._lock_renewed = 0.0
        self._pending: list[_Action] = []
        self._pending_bytes = 0
        self._spool = None
        self._spooled = 0
        self._swapped = False  # the alias points at this run's new index
        self._sender: _Sender | None = None
        with self._errors():
            self._ensure_template_and_meta()
            self._acquire_lock(wait)
            try:
                live = self._live_index()
                # A new index for a rebuild, for the first run, and when the live index was
                # made with another mapping (an older newsfacet): never written to again.
                self.fresh = rebuild or live is None or live[1] != M.MAPPING_VERSION
                self.previous = live[0] if live else None
                self._drop_orphans()
                if self.fresh:
                    self.index = M.new_index_name(self.prefix)
                    # The template gives shards, replicas, analysis and the mapping.
                    self.client.indices.create(index=self.index, params={"wait_for_active_shards": "1"})
                else:
                    self.index = live[0]
                    self._spool = tempfile.TemporaryFile(prefix="newsfacet-bulk-")
            except BaseException:
                self._release_lock()
                raise

    def plan(self, articles: int, procs: int) -> None:
        """Nothing to choose: the cluster's nodes share the writing of every bulk request."""

    # -- reading what is there ----------------------------------------------------

    def existing(self, roots: set[str]) -> tuple[dict[str, Stored], dict[str, str]]:
        if self.fresh:
            return {}, {}
        mine: dict[str, Stored] = {}
        owners: dict[str, str] = {}
        with self._errors():
            # Every article's root, from doc values: no _source is read at all.
            for hit in self._scroll({"_source": False, "docvalue_fields": [S.ROOT]}):
                roots_ = (hit.get("fields") or {}).get(S.ROOT) or [None]
                owners[hit["_id"]] = roots_[0]
            if roots:
                wanted = [S.CONTENT_HASH, S.RAW_ENTITIES, S.ENTITIES, S.CLUSTER]
                query = {"query": {"terms": {S.ROOT: sorted(roots)}}, "_source": {"includes": wanted}}
                for hit in self._scroll(query):
                    src = hit.get("_source") or {}
                    mine[hit["_id"]] = Stored(src.get(S.CONTENT_HASH) or "", src.get(S.RAW_ENTITIES) or "[]",
                                              src.get(S.ENTITIES) or "[]", src.get(S.CLUSTER) or "")
        return mine, owners

    def _scroll(self, body: dict):
        body = {**body, "size": SCROLL_SIZE, "sort": ["_doc"]}
        page = self.client.search(index=self.index, body=body, params={"scroll": SCROLL_KEEP})
        scroll_id = page.get("_scroll_id")
        try:
            while page["hits"]["hits"]:
                yield from page["hits"]["hits"]
                page = self.client.scroll(body={"scroll_id": scroll_id, "scroll": SCROLL_KEEP})
                scroll_id = page.get("_scroll_id", scroll_id)
        finally:
            if scroll_id:
                with contextlib.suppress(Exception):
                    self.client.clear_scroll(body={"scroll_id": [scroll_id]})

    def entity_state(self) -> dict | None:
        if self.fresh:
            return None
        return self._json_blob(ENTITY_STATE)

    def run_stamps(self) -> dict:
        stamps = None if self.fresh else self._json_blob(RUN_STAMPS)
        return stamps if isinstance(stamps, dict) else {}

    def cluster_state(self) -> bytes | None:
        if self.fresh:
            return None
        with self._errors():
            return self._get_blob(CLUSTER_STATE)

    def _json_blob(self, name: str):
        with self._errors():
            data = self._get_blob(name)
        if data is None:
            return None
        try:
            return json.loads(data.decode("utf-8"))
        except ValueError:
            return None  # rebuilt from the documents, as the Whoosh writer does

    # -- writing --------------------------------------------------------------------

    def add(self, article: Article, raw: list[Entity], canonical: list[Entity], root: str, content_hash: str,
            cluster: str = "") -> None:
        now = dt.datetime.now(dt.UTC)
        fields_ = _without_empty_keywords({
            S.ID: article.id,
            S.ROOT: root,
            S.CONTENT_HASH: content_hash,
            S.CLUSTER: cluster,
            S.ENTITY: entity_terms(canonical),
            S.ENTITIES: public_entities_json(canonical),
            S.RAW_ENTITIES: entities_json(raw),
            S.INDEXED_AT: now.isoformat(timespec="seconds"),
            S.INDEXED_NUM: int(now.timestamp() * 1000),
        }) | _article_fields(article)
        text = article.prepared if isinstance(article.prepared, bytes) else prepare_document(article)
        doc = _json(fields_)[:-1] + b"," + text + b"}"
        self._queue(article.id, _action_line("index", article.id) + doc + b"\n")

    def delete(self, article_id: str) -> None:
        self._queue(article_id, _action_line("delete", article_id))

    def _queue(self, article_id: str, payload: bytes) -> None:
        if self._spool is not None:
            pickle.dump((article_id, payload), self._spool, protocol=pickle.HIGHEST_PROTOCOL)
            self._spooled += 1
            return
        self._pending.append(_Action(article_id, payload))
        self._pending_bytes += len(payload)
        if len(self._pending) >= self.batch_docs or self._pending_bytes >= self.batch_bytes:
            self._flush()

    def _flush(self) -> None:
        """Hand the pending actions to the sending thread (started on the first batch)."""
        if self._pending:
            batch, self._pending, self._pending_bytes = self._pending, [], 0
            if self._sender is None:
                self._sender = _Sender(self)
            self._sender.put(batch)

    def _drain(self) -> None:
        """Wait until every batch handed over is written; raise what stopped the sending, if anything."""
        self._flush()
        sender, self._sender = self._sender, None
        if sender is not None:
            sender.finish()

    def _send(self, actions: list[_Action]) -> set[str]:
        """Send *actions* in one ``_bulk`` request, retrying what can be retried; the ids
        of updates whose document does not exist (skipped); :class:`IndexWriteError` for
        any other item that failed for good."""
        from opensearchpy.exceptions import ConnectionError, TransportError

        pending, missing = actions, set()
        delay = self.retry_first_delay
        last = ""
        for attempt in range(self.retry_attempts):
            if attempt:
                time.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_DELAY)
            try:
                response = self.client.bulk(body=b"".join(a.payload for a in pending), index=self.index,
                                            params={"filter_path": _BULK_FILTER})
            except ConnectionError as exc:  # the client already tried every node
                last = f"{type(exc).__name__}: {exc}"
                continue
            except TransportError as exc:
                if exc.status_code in RETRY_STATUSES:
                    last = f"HTTP {exc.status_code}: {exc.error}"
                    continue
                if exc.status_code in (401, 403):
                    raise  # credentials: translate_errors says what to check
                raise self._write_failed([a.article_id for a in pending],
                                         f"HTTP {exc.status_code}: {exc.error}") from exc
            if not response.get("errors"):
                return missing
            retry, failed = [], []
            for action, item in zip(pending, response["items"], strict=True):
                (op, result), = item.items()
                status = int(result.get("status", 500))
                if status < 300:
                    continue
                if status == 404 and op in ("delete", "update"):
                    # Already gone (a delete), or nothing to update: the Whoosh writer skips these too.
                    if op == "update":
                        missing.add(action.article_id)
                    continue
                reason = _item_reason(result)
                if status in RETRY_STATUSES or status >= 500:
                    retry.append(action)
                    last = reason
                else:
                    failed.append((action.article_id, reason))
            if failed:
                raise self._write_failed([aid for aid, _ in failed], "; ".join(dict.fromkeys(r for _, r in failed)))
            if not retry:
                return missing
            pending = retry
        raise self._write_failed([a.article_id for a in pending],
                                 f"still refused after {self.retry_attempts} tries ({last})")

    def _write_failed(self, ids: list[str], reason: str) -> IndexWriteError:
        shown = ", ".join(ids[:_FAILED_IDS_SHOWN]) + (f" and {len(ids) - _FAILED_IDS_SHOWN} more"
                                                       if len(ids) > _FAILED_IDS_SHOWN else "")
        what = "the commit" if not self.fresh else "the new index"
        return IndexWriteError(
            f"OpenSearch index {self.index} did not take {len(ids)} article{'s' if len(ids) != 1 else ''} "
            f"({shown}): {reason}. Nothing was lost: the run is abandoned before {what} became visible; "
            "the collection keeps its last complete commit")

    def commit(self, changes: int) -> None:
        with self._errors():
            if self.fresh:
                self._drain()
                self._finish_index(self.index)
                self._swap()
            elif changes or self._spooled:
                self._send_spool()
        self._close_spool()

    def _send_spool(self) -> None:
        """Send the spooled actions to the live index with its refresh off, then refresh once."""
        before = self._refresh_interval(self.index)
        self._set_refresh(self.index, "-1")
        spool, self._spool = self._spool, None  # _queue sends from now on
        try:
            spool.seek(0)
            while True:
                try:
                    article_id, payload = pickle.load(spool)
                except EOFError:
                    break
                self._queue(article_id, payload)
            self._drain()
        finally:
            spool.close()
            self._set_refresh(self.index, before)
        self.client.indices.refresh(index=self.index)

    def _finish_index(self, index: str) -> None:
        """A new index made ready for readers: its refresh interval back to the cluster's
        default, refreshed, and its replicas started (a reader may land on any copy)."""
        self._set_refresh(index, None)
        self.client.indices.refresh(index=index)
        health = self.client.cluster.health(index=index, params={"wait_for_status": "yellow"})
        if health.get("timed_out"):
            raise IndexWriteError(f"OpenSearch index {index} has shards that did not start ({health.get('status')}); "
                                  "the collection keeps its last complete commit")

    def _swap(self) -> None:
        """Point the alias at the new index and away from the old one in one call, then delete the old."""
        actions: list[dict] = [{"add": {"index": self.index, "alias": self.alias}}]
        if self.previous:
            actions.insert(0, {"remove": {"index": self.previous, "alias": self.alias}})
        self.client.indices.update_aliases(body={"actions": actions})
        self._swapped = True
        if self.previous:
            # After the swap, never before: until it, searches read the old index.
            with contextlib.suppress(Exception):
                self.client.indices.delete(index=self.previous)
        self.previous = None

    def update_entities(self, moved: dict[str, list[Entity]], clusters: dict[str, str] | None = None) -> int:
        """Partial updates of the moved articles' ``entities``/``entity`` and changed ``cluster``
        values, sent at once (after the run's commit, as the Whoosh writer's second commit)."""
        clusters = clusters or {}
        ids = list(dict.fromkeys([*moved, *clusters]))
        if not ids:
            return 0
        actions = []
        for aid in ids:
            partial: dict[str, Any] = {}
            if aid in moved:
                partial[S.ENTITIES] = public_entities_json(moved[aid])
                partial[S.ENTITY] = entity_terms(moved[aid])
            if aid in clusters:
                partial[S.CLUSTER] = clusters[aid] or None  # null: no cluster (absent from the index)
            doc = _json({"doc": partial})
            actions.append(_Action(aid, _action_line("update", aid) + doc + b"\n"))
        missing: set[str] = set()
        with self._errors():
            before = self._refresh_interval(self.index)
            self._set_refresh(self.index, "-1")
            try:
                for start in range(0, len(actions), self.batch_docs):
                    missing |= self._send(actions[start:start + self.batch_docs])
            finally:
                self._set_refresh(self.index, before)
            self.client.indices.refresh(index=self.index)
        return len(ids) - len(missing)

    # -- state beside the index ----------------------------------------------------------

    def save_run_stamps(self, stamps: dict) -> None:
        with self._errors():
            self._put_blob(RUN_STAMPS, json.dumps(stamps, ensure_ascii=False).encode("utf-8"))

    def save_entity_state(self, state: dict) -> None:
        with self._errors():
            self._put_blob(ENTITY_STATE, json.dumps(state, ensure_ascii=False).encode("utf-8"))

    def save_cluster_state(self, state: bytes) -> None:
        with self._errors():
            self._put_blob(CLUSTER_STATE, bytes(state))

    def _get_blob(self, name: str) -> bytes | None:
        from opensearchpy.exceptions import NotFoundError

        try:
            head = self.client.get(index=self.meta, id=name)["_source"]
        except NotFoundError:
            return None
        return read_blob(self.client, self.meta, name, head)

    def _put_blob(self, name: str, data: bytes) -> None:
        """Write *data* as the blob *name*: the new parts first, then the header that
        names them (one document write, so the switch is atomic), then the old parts go."""
        from opensearchpy.exceptions import NotFoundError

        try:
            old = self.client.get(index=self.meta, id=name)["_source"]
        except NotFoundError:
            old = None
        version = uuid.uuid4().hex
        chunks = [data[i:i + BLOB_PART_BYTES] for i in range(0, len(data), BLOB_PART_BYTES)]
        for i, chunk in enumerate(chunks):
            self.client.index(index=self.meta, id=part_id(name, version, i),
                              body={"version": version, "part": i, "data": base64.b64encode(chunk).decode()})
        self.client.index(index=self.meta, id=name, body={"version": version, "parts": len(chunks)},
                          params={"refresh": "true"})
        if old:
            for i in range(int(old.get("parts") or 0)):
                with contextlib.suppress(NotFoundError):
                    self.client.delete(index=self.meta, id=part_id(name, old.get("version"), i))

    # -- the end of a run -------------------------------------------------------------------

    def count(self) -> int:
        with self._errors():
            try:
                return int(self.client.count(index=self.alias)["count"])
            finally:
                self._release_lock()

    def abort(self) -> None:
        """Give up the run: the alias stays where it was; a new index is deleted, a spool dropped."""
        self._close_spool()
        self._pending = []
        sender, self._sender = self._sender, None
        if sender is not None:
            sender.cancel()  # what is queued is dropped; a request under way ends first
        with contextlib.suppress(Exception):
            if self.fresh and not self._swapped:
                self.client.indices.delete(index=self.index, params={"ignore_unavailable": "true"})
        with contextlib.suppress(Exception):
            self._release_lock()

    def explain(self, error: OSError) -> IndexWriteError:
        """What a local failure (the spool's temporary file) means for the run."""
        return IndexWriteError(
            f"cannot write the indexer's temporary file in {tempfile.gettempdir()}: {error.strerror or error}. "
            "Nothing was lost: the OpenSearch collection keeps its last complete commit; free some space "
            "(or set TMPDIR) and run 'newsfacet index' again")

    def _close_spool(self) -> None:
        if self._spool is not None:
            with contextlib.suppress(OSError):
                self._spool.close()
            self._spool = None

    # -- indexes, settings, the lock ------------------------------------------------------------

    def _errors(self):
        return translate_errors(self.settings)

    def _ensure_template_and_meta(self) -> None:
        from opensearchpy.exceptions import RequestError

        s = self.settings
        # Put on every run: the template follows this newsfacet's mapping and the
        # configured shards and replicas; indexes made before keep theirs.
        self.client.indices.put_index_template(
            name=M.template_name(self.prefix),
            body=M.article_template(self.prefix, s.opensearch_shards, s.opensearch_replicas))
        if not self.client.indices.exists(index=self.meta):
            try:
                self.client.indices.create(index=self.meta, body=M.meta_index_body(s.opensearch_replicas))
            except RequestError as exc:
                if "resource_already_exists" not in str(exc.error):  # another indexer was first
                    raise

    def _live_index(self) -> tuple[str, int | None] | None:
        """The concrete index the alias points at and its mapping version, or None."""
        from opensearchpy.exceptions import NotFoundError

        try:
            targets = self.client.indices.get_alias(name=self.alias)
        except NotFoundError:
            return None
        if len(targets) != 1:
            raise IndexWriteError(f"the alias {self.alias} points at {len(targets)} indexes "
                                  f"({', '.join(sorted(targets))}); newsfacet keeps it on exactly one")
        (index,) = targets
        mappings = self.client.indices.get_mapping(index=index)[index]["mappings"]
        return index, M.mapping_version(mappings)

    def _drop_orphans(self) -> None:
        """Delete article indexes the alias does not point at: left by a rebuild that was
        killed before its abort could delete them (we hold the lock: no run is making one)."""
        listed = self.client.cat.indices(index=M.index_pattern(self.prefix), params={"format": "json", "h": "index"})
        for row in listed:
            if row["index"] != self.previous and M.is_run_index(self.prefix, row["index"]):
                self.client.indices.delete(index=row["index"], params={"ignore_unavailable": "true"})

    def _refresh_interval(self, index: str) -> str | None:
        got = self.client.indices.get_settings(index=index, name="index.refresh_interval")
        return (got.get(index, {}).get("settings", {}).get("index") or {}).get("refresh_interval")

    def _set_refresh(self, index: str, interval: str | None) -> None:
        # None: the cluster's default (1 s) again, rather than a value of our own.
        self.client.indices.put_settings(index=index, body={"index": {"refresh_interval": interval}})

    def _lock_body(self) -> dict:
        info = {"pid": os.getpid(), "host": socket.gethostname(), "renewed": time.time()}
        return {"version": self._token, "data": base64.b64encode(json.dumps(info).encode()).decode()}

    def _acquire_lock(self, wait: float) -> None:
        from opensearchpy.exceptions import ConflictError, NotFoundError

        deadline = time.monotonic() + max(0.0, wait)
        while True:
            try:
                self.client.create(index=self.meta, id=LOCK_ID, body=self._lock_body(), params={"refresh": "true"})
                self._locked, self._lock_renewed = True, time.monotonic()
                return
            except ConflictError:
                pass
            try:
                held = self.client.get(index=self.meta, id=LOCK_ID)
            except NotFoundError:
                continue  # released meanwhile: try again at once
            holder = _lock_holder(held["_source"])
            if _lock_is_stale(holder):
                with contextlib.suppress(ConflictError, NotFoundError):
                    self.client.delete(index=self.meta, id=LOCK_ID,
                                       params={"if_seq_no": held["_seq_no"], "if_primary_term": held["_primary_term"]})
                continue
            if time.monotonic() >= deadline:
                raise IndexLocked(
                    f"another 'newsfacet index' is writing to the OpenSearch collection {self.prefix} "
                    f"(process {holder.get('pid')} on {holder.get('host')}; waited {wait:.0f} s); "
                    "try again when it has finished")
            time.sleep(LOCK_POLL_SECONDS)

    def _renew_lock(self) -> None:
        if self._locked and time.monotonic() - self._lock_renewed > LOCK_RENEW_SECONDS:
            self.client.index(index=self.meta, id=LOCK_ID, body=self._lock_body())
            self._lock_renewed = time.monotonic()

    def _release_lock(self) -> None:
        from opensearchpy.exceptions import NotFoundError

        if not self._locked:
            return
        self._locked = False
        try:
            held = self.client.get(index=self.meta, id=LOCK_ID)
        except NotFoundError:
            return
        if held["_source"].get("version") == self._token:  # taken over as stale meanwhile: not ours
            with contextlib.suppress(NotFoundError):
                self.client.delete(index=self.meta, id=LOCK_ID, params={"refresh": "true"})


class _Sender:
    """The thread that sends a run's batches in order, one ``_bulk`` at a time, while
    the indexer goes on cleaning and encoding the next ones.

    At most one batch waits beside the one being sent, so memory stays at two
    batches and a slow cluster slows the run down rather than filling memory.
    The first failure stops it: later batches are dropped and the error is
    raised in the indexer's thread at its next :meth:`put` or at :meth:`finish`.
    It is started on a run's first batch, after the extraction pool has forked
    its workers, and ended by the commit or the abort, so no fork happens
    while it runs.
    """

    def __init__(self, writer: OpenSearchWriter):
        self._writer = writer
        self._queue: queue.Queue = queue.Queue(maxsize=1)
        self._error: BaseException | None = None
        self._cancelled = False
        self._thread = threading.Thread(target=self._run, name="newsfacet-bulk", daemon=True)
        self._thread.start()

    def put(self, batch: list[_Action]) -> None:
        self._raise()
        self._queue.put(batch)

    def finish(self) -> None:
        self._queue.put(None)
        self._thread.join()
        self._raise()

    def cancel(self) -> None:
        self._cancelled = True
        with contextlib.suppress(queue.Full):
            while True:  # make room for the stop marker
                try:
                    self._queue.get_nowait()
                except queue.Empty:
                    break
            self._queue.put_nowait(None)
        self._thread.join()

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            self._cancelled = True
            raise error

    def _run(self) -> None:
        writer = self._writer
        while True:
            batch = self._queue.get()
            if batch is None:
                return
            if self._cancelled or self._error is not None:
                continue
            try:
                with writer._errors():
                    writer._send(batch)
                    writer._renew_lock()
            except BaseException as exc:  # raised in the indexer's thread
                self._error = exc


def _action_line(op: str, article_id: str) -> bytes:
    return _json({op: {"_id": article_id}}) + b"\n"


def _item_reason(result: dict) -> str:
    error = result.get("error")
    if isinstance(error, dict):
        reason = error.get("reason") or error.get("type") or "refused"
        cause = error.get("caused_by")
        if isinstance(cause, dict) and cause.get("reason"):
            reason = f"{reason} ({cause['reason']})"
        return f"{error.get('type', 'error')}: {reason}"
    return f"HTTP {result.get('status')}: {error or 'refused'}"


def _lock_holder(source: dict) -> dict:
    try:
        return json.loads(base64.b64decode(source.get("data") or b"").decode())
    except ValueError:
        return {}


def _lock_is_stale(holder: dict) -> bool:
    """A lock whose process is gone (on this machine) or that was not renewed for a long time."""
    renewed = holder.get("renewed")
    if not isinstance(renewed, (int, float)) or time.time() - renewed > LOCK_STALE_SECONDS:
        return True
    if holder.get("host") == socket.gethostname() and isinstance(holder.get("pid"), int):
        try:
            os.kill(holder["pid"], 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
    return False
