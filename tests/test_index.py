"""Indexing runs: incremental, idempotent, and robust to bad files."""

from __future__ import annotations

import gzip
import shutil

import pytest

from search.api import SearchRequest
from search.errors import IndexLocked, IndexNotFound
from search.ingest import build_index
from search.settings import Options
from search.whoosh_backend.service import WhooshBackend
from search.whoosh_backend.store import open_index

from .conftest import SEEDS, SEEDS_CRAWLED, copy_corpus

ARTICLE = (
    "Port authority opens new container berth\n\n"
    "The port authority opened a new container berth on the south quay, doubling capacity for the winter.\n\n"
    "Shipping lines said the berth would shorten waiting times for vessels arriving from the north.\n"
)


def run(folder, index_dir, **kw):
    return build_index([folder], index_dir, Options(), progress=False, **kw)


@pytest.fixture
def corpus(tmp_path):
    return copy_corpus(SEEDS, tmp_path / "seeds", SEEDS_CRAWLED)


def test_reindexing_is_a_no_op(corpus, tmp_path):
    index_dir = tmp_path / "ix"
    first = run(corpus, index_dir)
    assert (first.added, first.failed) == (5, [])
    generation = open_index(index_dir).latest_generation()
    again = run(corpus, index_dir)
    assert (again.added, again.updated, again.unchanged, again.removed) == (0, 0, 5, 0)
    assert open_index(index_dir).latest_generation() == generation  # nothing was written


def test_edit_add_delete_are_reflected(corpus, tmp_path):
    index_dir = tmp_path / "ix"
    run(corpus, index_dir)
    service = WhooshBackend(index_dir)
    target = corpus / "003_9702e96eff6568ce.txt"
    target.write_text(target.read_text(encoding="utf-8") + "\nThe delegation also visited a turbine factory.\n",
                      encoding="utf-8")
    (corpus / "new.txt").write_text(ARTICLE, encoding="utf-8")
    (corpus / "000_4e1852c0d95101e1.txt").unlink()
    report = run(corpus, index_dir)
    assert (report.added, report.updated, report.removed) == (1, 1, 1)
    assert report.updated >= 1 and report.total == 5
    assert [h.path for h in service.search(SearchRequest(q="turbine")).hits] == ["003_9702e96eff6568ce.txt"]
    assert [h.path for h in service.search(SearchRequest(q="container berth")).hits] == ["new.txt"]
    assert service.search(SearchRequest(q='"Jenin refugee camp"')).total == 0


def test_rebuild_starts_over(corpus, tmp_path):
    index_dir = tmp_path / "ix"
    run(corpus, index_dir)
    report = run(corpus, index_dir, rebuild=True)
    assert (report.added, report.unchanged, report.total) == (5, 0, 5)


def test_bad_files_are_reported_and_skipped(corpus, tmp_path):
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "binary.txt").write_bytes(bytes(range(256)) * 40)
    (corpus / "latin1.txt").write_bytes(
        "Caf\xe9 owners in Troms\xf8 protest new tax\n\n".encode("latin-1")
        + "Owners of caf\xe9s in Troms\xf8 said the new tax would close several businesses before winter.\n".encode(
            "latin-1"
        )
    )
    good_gz = gzip.compress(b"<html><body><article><h1>Harbour news</h1><p>" + b"The harbour reopened today. " * 20
                            + b"</p></article></body></html>")
    (corpus / "truncated.html.gz").write_bytes(good_gz[: len(good_gz) // 2])
    unreadable = corpus / "unreadable.txt"
    unreadable.mkdir()  # a folder named like a file cannot be read as one, even by root
    (unreadable / ".keep").write_text("")
    report = run(corpus, tmp_path / "ix")
    failed = {f.path: f.reason for f in report.failed}
    assert set(failed) >= {"empty.txt", "binary.txt", "truncated.html.gz"}
    assert all(reason for reason in failed.values())
    assert report.added == 6  # the five seeds and the latin-1 file
    service = WhooshBackend(tmp_path / "ix")
    assert [h.path for h in service.search(SearchRequest(q="tromso cafe")).hits] == ["latin1.txt"]
    assert service.document(service.search(SearchRequest(q="tromso")).hits[0].id).title.startswith("Café")


def test_unreadable_file_is_reported(corpus, tmp_path, monkeypatch):
    import builtins
    from pathlib import Path

    victim = corpus / "001_e5d5862b3fed93d4.txt"
    real_read_bytes = Path.read_bytes
    real_open = builtins.open

    def deny(self):
        if self == victim:
            raise PermissionError(13, "Permission denied", str(self))
        return real_read_bytes(self)

    def deny_open(file, *a, **kw):
        if str(file) == str(victim):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *a, **kw)

    monkeypatch.setattr(Path, "read_bytes", deny)
    monkeypatch.setattr(builtins, "open", deny_open)
    report = run(corpus, tmp_path / "ix")
    assert [f.path for f in report.failed] == ["001_e5d5862b3fed93d4.txt"]
    assert report.added == 4


def test_missing_index_is_a_clear_error(tmp_path):
    with pytest.raises(IndexNotFound, match="newsfacet index"):
        WhooshBackend(tmp_path / "nothing-here")


def test_second_writer_is_refused_not_corrupting(corpus, tmp_path):
    index_dir = tmp_path / "ix"
    run(corpus, index_dir)
    writer = open_index(index_dir).writer()
    try:
        with pytest.raises(IndexLocked, match="another"):
            run(corpus, index_dir, rebuild=False)
    finally:
        writer.cancel()
    assert WhooshBackend(index_dir).count() == 5


def test_new_spelling_later_joins_the_existing_entity(tmp_path):
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "a.txt").write_text(
        "Minister visits the port\n\nForeign Minister Sergey Lavrov visited the port on a tour of the coast.\n"
        "Lavrov said the trip was a success for both countries and their trade.\n",
        encoding="utf-8",
    )
    index_dir = tmp_path / "ix"
    run(folder, index_dir)
    shutil.copy(folder / "a.txt", folder / "b.txt")
    (folder / "b.txt").write_text(
        "Talks continue in the capital\n\n"
        "Sergei Lavrov met his counterpart for a second day of talks in the capital.\n",
        encoding="utf-8",
    )
    run(folder, index_dir)
    people = [f for f in WhooshBackend(index_dir).search(SearchRequest()).facets["entity"] if "Lavrov" in f["value"]]
    assert people == [{"value": "Sergey Lavrov", "type": "person", "count": 2, "selected": False}]


def test_folders_with_the_same_file_names_keep_all_their_articles(tmp_path):
    """Scrapes of two years given as two folders often reuse names (page-1.txt ...)."""
    first, second = tmp_path / "2023", tmp_path / "2024"
    for folder, topic in ((first, "container berth"), (second, "grain silo")):
        folder.mkdir()
        (folder / "page-1.txt").write_text(ARTICLE.replace("container berth", topic), encoding="utf-8")
    index_dir = tmp_path / "ix"
    run(first, index_dir)
    report = build_index([second], index_dir, Options(), progress=False)
    assert (report.added, report.updated, report.total) == (1, 0, 2)
    service = WhooshBackend(index_dir)
    ids = {q: [h.id for h in service.search(SearchRequest(q=q)).hits] for q in ('"container berth"', '"grain silo"')}
    assert all(len(v) == 1 for v in ids.values()) and len({v[0] for v in ids.values()}) == 2
    # Re-runs, in either order and together, change nothing: each article keeps its id.
    for roots in ([first], [second], [second, first], [first, second]):
        again = build_index(roots, index_dir, Options(), progress=False)
        assert (again.added, again.updated, again.removed, again.unchanged) == (0, 0, 0, len(roots)), roots
    assert {q: [h.id for h in service.search(SearchRequest(q=q)).hits] for q in ids} == ids
    # Two new folders in one run keep both too.
    fresh = build_index([first, second], tmp_path / "ix2", Options(), progress=False)
    assert (fresh.added, fresh.total) == (2, 2)


def test_a_run_over_unchanged_files_stops_at_once_and_reports_as_before(corpus, tmp_path):
    (corpus / "broken.html").write_text("<html><body><nav>Home</nav></body></html>", encoding="utf-8")
    index_dir = tmp_path / "ix"
    first = run(corpus, index_dir)
    generation = open_index(index_dir).latest_generation()
    again = run(corpus, index_dir)
    # The same summary, the same skipped file, nothing read or written.
    assert (again.added, again.updated, again.unchanged, again.removed) == (0, 0, first.added, 0)
    assert again.failed == first.failed and len(first.failed) == 1
    assert again.total == first.total and open_index(index_dir).latest_generation() == generation
    # Any change to a file, to the folder or to how it is read is a full run again.
    seed = sorted(corpus.glob("*.txt"))[0]
    seed.write_text(seed.read_text(encoding="utf-8").replace("Hamas", "Hamas movement", 1), encoding="utf-8")
    assert run(corpus, index_dir).updated == 1
    (corpus / "new.txt").write_text(ARTICLE, encoding="utf-8")
    assert run(corpus, index_dir).added == 1
    aliases = tmp_path / "aliases.txt"
    aliases.write_text("Harbour Board | org | HB\n", encoding="utf-8")
    relabelled = build_index([corpus], index_dir, Options(aliases_path=aliases), progress=False)
    assert relabelled.unchanged < relabelled.total
    assert run(corpus, index_dir, rebuild=True).added == relabelled.total


def test_a_failed_run_leaves_nothing_to_skip_the_next_one_by(corpus, tmp_path, monkeypatch):
    index_dir = tmp_path / "ix"
    run(corpus, index_dir)
    (corpus / "new.txt").write_text(ARTICLE, encoding="utf-8")
    import search.ingest as ingest

    def broken(*args, **kw):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ingest, "_reclustered", broken)
    with pytest.raises(Exception, match="disk"):
        run(corpus, index_dir)
    monkeypatch.undo()
    # The new article was committed before the failure, its copy cluster never saved: the next run
    # is a full one and finishes the work (the article read again for its fingerprint).
    again = run(corpus, index_dir)
    assert (again.added, again.updated, again.total) == (0, 1, 6)
    with WhooshBackend(index_dir) as service:
        assert service.search(SearchRequest(q="container berth")).total == 1
    assert run(corpus, index_dir).unchanged == 6
