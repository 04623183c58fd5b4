"""Where the corpora are and how the benchmark reads the articles back.

* :func:`reuters_dir` / :func:`reuters_files` locate Reuters-21578 where it lies
  (``--reuters``, else ``$NEWSFACET_REUTERS``, else ``../shared/corpora/reuters21578``
  beside the repository); it is never copied.
* :func:`iter_stored` streams the stored fields of a built newsfacet index in
  document order, in batches.  The index-only ingest figure, the FTS5
  reference and the query mix all start from these *already processed*
  articles, so every engine sees exactly the same titles, bodies, dates and
  canonical entities.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from . import REPO_ROOT

REUTERS_GLOB = "reut2-*.sgm.gz"
REUTERS_FILE_COUNT = 22


def reuters_dir(flag: str | None = None) -> Path:
    """The Reuters-21578 folder: *flag*, else ``$NEWSFACET_REUTERS``, else the shared corpus."""
    if flag:
        return Path(flag)
    env = os.environ.get("NEWSFACET_REUTERS")
    if env:
        return Path(env)
    return REPO_ROOT.parent / "shared" / "corpora" / "reuters21578"


def reuters_files(folder: Path, limit: int | None = None) -> list[Path]:
    """The ``reut2-*.sgm.gz`` files of *folder*, sorted; the first *limit* of them if given.

    :raises SystemExit: when the folder does not hold the corpus.
    """
    files = sorted(Path(folder).glob(REUTERS_GLOB))
    if not files:
        raise SystemExit(f"bench: no {REUTERS_GLOB} files in {folder} (use --reuters DIR or NEWSFACET_REUTERS)")
    return files[:limit] if limit else files


@dataclass(frozen=True)
class StoredArticle:
    """One indexed article as the benchmark needs it (``doc`` is its Whoosh document number)."""

    doc: int
    fields: dict

    @property
    def title(self) -> str:
        return self.fields.get("title") or ""

    @property
    def body(self) -> str:
        return self.fields.get("body") or ""

    @property
    def date(self) -> str | None:
        return self.fields.get("date") or None

    @property
    def entities(self) -> list[dict]:
        """Canonical entities ``[{"value", "type"}]``: what the entity facet counts."""
        return json.loads(self.fields.get("entities") or "[]")


def iter_stored(index_dir: Path, batch: int = 5000, docs: list[int] | None = None) -> Iterator[list[StoredArticle]]:
    """Batches of the live documents' stored fields, in document-number order.

    :param docs: only these document numbers (sorted); default every document.
    """
    from search.whoosh_backend.store import open_index

    ix = open_index(index_dir)
    with ix.reader() as reader:
        numbers = docs if docs is not None else range(reader.doc_count_all())
        out: list[StoredArticle] = []
        for d in numbers:
            if reader.is_deleted(d):
                continue
            out.append(StoredArticle(d, reader.stored_fields(d)))
            if len(out) >= batch:
                yield out
                out = []
        if out:
            yield out


def doc_count(index_dir: Path) -> tuple[int, int]:
    """``(live documents, document numbers incl. deleted)`` of the index."""
    from search.whoosh_backend.store import open_index

    ix = open_index(index_dir)
    with ix.reader() as reader:
        return reader.doc_count(), reader.doc_count_all()


def dir_size_mb(path: Path) -> float:
    """Total size of the files under *path* in MiB."""
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.path.getsize(os.path.join(root, name))
            except OSError:
                pass
    return total / (1024 * 1024)
