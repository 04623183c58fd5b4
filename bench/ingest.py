"""Ingest figures: end-to-end ``build_index``, index-only Whoosh writing, index size.

* **End to end**: ``build_index(paths, index_dir, rebuild=True)`` with the
  default process pool, timed around the call: reading, boilerplate
  statistics, cleaning, date and entity extraction, entity resolution,
  writing and the final merge to one segment.  Figure: articles added per
  wall-clock second.
* **Index only**: the stored fields of the built index, read back in batches
  (not timed), are added to a fresh index with the same schema
  (``search.whoosh_backend.schema.schema()``) by one writer with the indexer's memory limit;
  the fields the index does not store (``date_num``,
  ``date_path``, ``entity``) are recomputed exactly as the indexer derives
  them.  Timed: every ``add_document`` call and the final
  ``commit(optimize=True)``, i.e. what Whoosh itself costs for documents that
  are already cleaned and extracted.
* **Size**: bytes of every file in the index folder, in MiB.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

from .corpus import dir_size_mb, iter_stored


def end_to_end(paths: list[Path], index_dir: Path, procs: int | None = None) -> dict:
    """Build *index_dir* from *paths* from scratch and time it."""
    from search.ingest import build_index
    from search.settings import Options

    started = time.perf_counter()
    report = build_index(paths, index_dir, Options(), rebuild=True, progress=False, procs=procs)
    wall = time.perf_counter() - started
    docs = report.added + report.updated
    return {
        "docs": docs,
        "failed": len(report.failed),
        "failures": [f"{f.path}: {f.reason}" for f in report.failed[:20]],
        "total_in_index": report.total,
        "seconds": wall,
        "report_seconds": report.seconds,
        "docs_per_s": docs / wall if wall else None,
        "summary": report.summary(),
        "size_mb": dir_size_mb(index_dir),
    }


def _writer_fields(stored: dict) -> dict:
    """The fields ``build_index`` passes to the writer, rebuilt from stored ones."""
    from search.whoosh_backend import schema as S

    out = dict(stored)
    date = stored.get(S.DATE) or None
    out[S.DATE_NUM] = S.date_num(date)
    out[S.DATE_PATH] = " ".join(S.date_path_terms(date))
    canonical = [SimpleNamespace(value=e["value"], type=e["type"]) for e in json.loads(stored.get(S.ENTITIES) or "[]")]
    out[S.ENTITY] = S.entity_field(canonical)
    return out


def index_only(source_index: Path, scratch: Path, log: Callable[[str], None] | None = None,
               limit: int | None = None) -> dict:
    """Time Whoosh adding the processed articles of *source_index* into a fresh index in *scratch*.

    :param limit: stop after this many articles; a rate from a sample, because on
        a million articles this alone takes over an hour.
    """
    from whoosh import index as whoosh_index

    from search.whoosh_backend import schema as S
    from search.whoosh_backend.store import INDEX_NAME
    from search.whoosh_backend.writer import WRITER_LIMIT_MB

    if scratch.exists():
        shutil.rmtree(scratch)
    scratch.mkdir(parents=True)
    ix = whoosh_index.create_in(str(scratch), S.schema(), indexname=INDEX_NAME)
    timed = 0.0
    docs = 0
    t0 = time.perf_counter()
    writer = ix.writer(limitmb=WRITER_LIMIT_MB)
    timed += time.perf_counter() - t0
    try:
        for batch in iter_stored(source_index):
            if limit is not None and docs >= limit:
                break
            prepared = [_writer_fields(a.fields) for a in batch[: None if limit is None else limit - docs]]
            t0 = time.perf_counter()
            for fields in prepared:
                writer.add_document(**fields)
            timed += time.perf_counter() - t0
            docs += len(prepared)
            if log and docs % 100_000 < len(prepared):
                log(f"index-only: {docs:,} documents added")
        t0 = time.perf_counter()
        writer.commit(optimize=True)
        commit = time.perf_counter() - t0
        timed += commit
    except BaseException:
        writer.cancel()
        raise
    size = dir_size_mb(scratch)
    shutil.rmtree(scratch, ignore_errors=True)
    return {
        "docs": docs,
        "seconds": timed,
        "commit_seconds": commit,
        "docs_per_s": docs / timed if timed else None,
        "size_mb": size,
    }
