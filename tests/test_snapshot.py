"""Pass 1 of an indexing run keeps what it read for pass 2 (``search.ingest._Snapshot``).

The second pass must see exactly what a second reading of the files gives —
the same articles, the same failures reported once each — and reads nothing
again while the snapshot fits; past its limit the run reads the files twice,
as before, with the same result.
"""

from __future__ import annotations

import pytest

from search import ingest
from search.ingest import build_index
from search.settings import Options
from search.whoosh_backend.store import open_index

from .conftest import copy_corpus


def stored(index_dir) -> dict[str, tuple]:
    ix = open_index(index_dir)
    try:
        with ix.searcher() as s:
            return {f["id"]: (f["title"], f["body"], f["entities"], f.get("cluster"))
                    for f in s.all_stored_fields()}
    finally:
        ix.close()


@pytest.fixture
def corpus(tmp_path, seeds_dir, sites_dir):
    folder = copy_corpus(sites_dir, tmp_path / "corpus")
    copy_corpus(seeds_dir, folder / "seeds")
    (folder / "broken.html").write_bytes(b"\x00\x01\x02 not a page \xff\xfe" * 10)
    (folder / "empty.txt").write_text("", encoding="utf-8")
    return folder


@pytest.mark.parametrize(("limit", "readings"), [(ingest.SNAPSHOT_CHARS, 1), (50, 2)], ids=["kept", "too-big"])
def test_second_pass_sees_what_a_second_reading_gives(corpus, tmp_path, monkeypatch, limit, readings):
    reads = []
    real = ingest.iter_sources

    def counting(paths, options, on_file=None):
        reads.append(list(paths))
        return real(paths, options, on_file)

    # The reference: a run with the snapshot given up at once (every file read twice).
    with monkeypatch.context() as m:
        m.setattr(ingest, "SNAPSHOT_CHARS", 0)
        reference = build_index([corpus], tmp_path / "reference", Options(), progress=False, procs=1)
    failures = []
    monkeypatch.setattr(ingest, "SNAPSHOT_CHARS", limit)
    monkeypatch.setattr(ingest, "iter_sources", counting)
    report = build_index([corpus], tmp_path / "ix", Options(), progress=False, procs=1,
                         on_failure=failures.append)
    assert len(reads) == readings
    assert (report.added, report.total) == (reference.added, reference.total) and report.added > 20
    assert sorted((f.path, f.reason) for f in report.failed) == sorted((f.path, f.reason) for f in reference.failed)
    assert {f.path for f in report.failed} >= {"broken.html", "empty.txt"}
    assert failures == report.failed  # each reported once, as it happened
    assert stored(tmp_path / "ix") == stored(tmp_path / "reference")
