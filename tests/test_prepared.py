"""Text fields analysed in the extraction pool index exactly as the writer would analyse them.

:func:`search.whoosh_backend.writer.prepare_article` runs Whoosh's own field
analysis in the pool and the writer adds the postings it returns; an index
built that way must equal, term by term, position by position and byte for
byte in its postings and term files, one whose writer analysed every field
itself.
"""

from __future__ import annotations

import datetime as dt
import json
import random

import pytest
from whoosh.writing import PostingPool

from search.ingest import POOL_MIN_DOCS, build_index
from search.settings import Options
from search.whoosh_backend import schema as S
from search.whoosh_backend import writer as writer_module
from search.whoosh_backend.store import open_index
from search.whoosh_backend.writer import ANALYSED_IN_POOL, WhooshWriter

WORDS = ["Tromsø", "estimates", "estimated", "harbour", "ferry", "Müller", "café", "council", "the", "a",
         "U.S.", "o'brien", "2023", "strike", "naïve", "Ærø"]


def corpus(folder, n: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    with open(folder / "feed.jsonl", "w", encoding="utf-8") as fh:
        for i in range(n):
            text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 60))) + "."
            fh.write(json.dumps({"title": f"Story {i} {rng.choice(WORDS)}", "text": text.capitalize()}) + "\n")


def postings(index_dir) -> tuple[dict, dict]:
    """Every indexed term's (article id, weight, encoded value: positions where kept) list,
    and every field length, by article id."""
    ix = open_index(index_dir)
    with ix.searcher() as s:
        r = s.reader()
        ids = {d: f[S.ID] for d, f in s.iter_docs()}
        terms = {}
        for field in ANALYSED_IN_POOL:
            for text in r.field_terms(field):
                m = r.postings(field, text)
                rows = []
                while m.is_active():
                    rows.append((ids[m.id()], m.weight(), m.value()))
                    m.next()
                terms[(field, text)] = sorted(rows)
        lengths = {(ids[d], f): r.doc_field_length(d, f) for d in ids for f in ANALYSED_IN_POOL}
    return terms, lengths


def test_no_field_needs_what_the_prepared_path_leaves_out():
    for name, field in S.schema().items():
        assert not field.separate_spelling() and not field.vector, name


class _FrozenClock:
    """``datetime`` for the writer: every article indexed at the same moment, so two builds can match byte for byte."""

    UTC = dt.UTC

    class datetime:  # noqa: N801 - stands in for the module's class
        @staticmethod
        def now(tz=None):
            return dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=tz)


@pytest.mark.parametrize("limit_mb", [None, 0.02], ids=["one-run", "many-runs"])
def test_pool_analysed_index_equals_writer_analysed(tmp_path, monkeypatch, limit_mb):
    """Postings the pool analysed write the segment Whoosh's own analysis writes, also
    when the writer's posting pool spills sorted runs to disk (a tiny memory limit)."""
    corpus(tmp_path, POOL_MIN_DOCS + 50)
    monkeypatch.setattr(writer_module, "dt", _FrozenClock)
    if limit_mb is not None:
        monkeypatch.setattr(writer_module, "WRITER_LIMIT_MB", limit_mb)
        saves = []
        original_save = PostingPool.save
        monkeypatch.setattr(PostingPool, "save", lambda self: (saves.append(1), original_save(self))[1])
    build_index([tmp_path], tmp_path / "pooled", Options(), progress=False, procs=2)
    with monkeypatch.context() as m:
        original = WhooshWriter.__init__

        def unprepared(self, *a, **k):
            original(self, *a, **k)
            self.prepare = None

        m.setattr(WhooshWriter, "__init__", unprepared)
        build_index([tmp_path], tmp_path / "plain", Options(), progress=False, procs=1)
    pooled, plain = postings(tmp_path / "pooled"), postings(tmp_path / "plain")
    assert len(pooled[0]) > 30
    if limit_mb is not None:
        assert len(saves) > 4  # both runs spilled several times
    assert pooled == plain
    assert files(tmp_path / "pooled") == files(tmp_path / "plain")


def files(index_dir) -> dict[str, bytes]:
    """The postings and term files' bytes, by extension (one segment each here)."""
    found = {p.suffix: p.read_bytes() for p in index_dir.iterdir() if p.suffix in (".pst", ".trm")}
    assert len(found) == 2
    return found


def test_pre_read_lengths_write_what_whoosh_writes(tmp_path, monkeypatch):
    """The writer's flush reads each field length once (``_Lengths``) instead of
    once per posting: the postings and term files (which keep per-block length
    statistics) are byte for byte Whoosh's own, and so are the lengths."""
    from whoosh.writing import SegmentWriter

    corpus(tmp_path, 300, seed=11)
    monkeypatch.setattr(writer_module, "dt", _FrozenClock)
    build_index([tmp_path], tmp_path / "ours", Options(), progress=False, procs=1)
    with monkeypatch.context() as m:
        m.setattr(writer_module._Writer, "_flush_segment", SegmentWriter._flush_segment)
        build_index([tmp_path], tmp_path / "whoosh", Options(), progress=False, procs=1)
    ours, whoosh = postings(tmp_path / "ours"), postings(tmp_path / "whoosh")
    assert len(ours[0]) > 30 and any(ours[1].values())
    assert ours == whoosh
    assert files(tmp_path / "ours") == files(tmp_path / "whoosh")
