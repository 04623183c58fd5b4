"""A damaged or briefly missing index: one clear message, what can be served is served, and no fault outlives itself.

Each test damages a copy of a real two-segment index the way the outside
test did (a term table or postings file cut to half its size, a segment
file deleted, the table of contents removed for a moment) and checks the
CLI, ``newsfacet check`` and the HTTP answers.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import threading
from pathlib import Path

import pytest
from whoosh.reading import SegmentReader

from search.ingest import build_index
from search.settings import Options
from search.whoosh_backend.store import open_index
from web.cli import main

from .conftest import SEEDS, SEEDS_CRAWLED, SITES, copy_corpus, make_app


@pytest.fixture(scope="module")
def two_segments(tmp_path_factory) -> Path:
    """The seeds, then the made-up sites, indexed by two runs: two segments."""
    base = tmp_path_factory.mktemp("two")
    index_dir = base / "index"
    for name, src in (("seeds", SEEDS), ("sites", SITES)):
        build_index([copy_corpus(src, base / name, SEEDS_CRAWLED)], index_dir, Options(), progress=False)
    assert len(open_index(index_dir)._read_toc().segments) == 2
    return index_dir


def segment_ids(index_dir: Path) -> list[tuple[str, list[str]]]:
    """Each segment's id with the article ids it holds (live ones)."""
    ix = open_index(index_dir)
    toc = ix._read_toc()
    out = []
    for seg in toc.segments:
        with SegmentReader(ix.storage, toc.schema, seg) as reader:
            ids = [reader.stored_fields(d)["id"] for d in reader.all_doc_ids()]
        out.append((seg.segment_id(), ids))
    return out


def damaged_copy(two_segments: Path, tmp_path: Path, ext: str, how: str = "truncate") -> tuple[Path, str, str, str]:
    """A copy with one segment's *ext* file damaged: (index, damaged file, an id there, an id elsewhere)."""
    index_dir = tmp_path / "index"
    shutil.copytree(two_segments, index_dir)
    (bad_seg, bad_ids), (_, good_ids) = sorted(segment_ids(index_dir), key=lambda s: -len(s[1]))
    victim = index_dir / f"{bad_seg}.{ext}"
    if how == "truncate":
        # Half a term table breaks its footer; postings are cut further, so the query's are surely lost.
        os.truncate(victim, victim.stat().st_size // (2 if ext == "trm" else 10))
    else:
        victim.unlink()
    return index_dir, victim.name, bad_ids[0], good_ids[0]




@pytest.mark.parametrize("ext, how", [("trm", "truncate"), ("pst", "truncate"), ("pst", "delete")])
def test_cli_says_which_file_and_to_rebuild(two_segments, tmp_path, capsys, ext, how):
    index_dir, victim, _, _ = damaged_copy(two_segments, tmp_path, ext, how)
    # "said" is in every article of the sites, so its postings are read.
    assert main(["--index", str(index_dir), "search", "said"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert victim in err and "newsfacet index --rebuild" in err
    assert main(["--index", str(index_dir), "check"]) == 1
    out = capsys.readouterr().out
    assert f"damaged: {victim}" in out and "--rebuild" in out


def test_check_passes_a_whole_index(two_segments, capsys):
    assert main(["--index", str(two_segments), "check"]) == 0
    out = capsys.readouterr().out
    assert "2 segment(s)" in out and "26 article(s)" in out and "ok:" in out


def test_server_answers_503_and_keeps_serving_healthy_articles(two_segments, tmp_path, caplog):
    index_dir, victim, lost_id, kept_id = damaged_copy(two_segments, tmp_path, "trm")
    client = make_app(index_dir, tmp_path).test_client()
    with caplog.at_level(logging.ERROR, logger="newsfacet"):
        for url in ("/api/search?q=said", "/api/search", "/search", "/search.atom?q=hamas", "/"):
            response = client.get(url)
            assert response.status_code == 503, url
            assert victim.encode() in response.data and b"--rebuild" in response.data
        error = client.get("/api/search").get_json()["error"]
        assert error["status"] == 503 and victim in error["message"]
        # Articles of the readable segment are still served, page and JSON.
        assert client.get(f"/api/doc/{kept_id}").get_json()["id"] == kept_id
        assert client.get(f"/doc/{kept_id}").status_code == 200
        assert client.get(f"/api/doc/{lost_id}").status_code == 503
    logged = [r for r in caplog.records if victim in r.getMessage()]
    assert len(logged) == 1 and "Traceback" in logged[0].getMessage()  # the details, once


def test_toc_removed_and_restored_under_load(two_segments, tmp_path):
    index_dir = tmp_path / "index"
    shutil.copytree(two_segments, index_dir)
    app = make_app(index_dir, tmp_path)
    toc = next(index_dir.glob("_articles_*.toc"))
    statuses: dict[str, list[int]] = {"before": [], "gone": [], "after": []}
    phase = ["before"]
    barrier = threading.Barrier(5)

    def worker() -> None:
        client = app.test_client()
        barrier.wait()
        for _ in range(60):  # bounded: stops by itself
            current = phase[0]
            statuses[current].append(client.get("/api/search?q=said").status_code)
            if current == "after" and len(statuses["after"]) >= 100:
                return

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    barrier.wait()
    while len(statuses["before"]) < 20:
        threading.Event().wait(0.01)
    hidden = toc.with_suffix(".hidden")
    toc.rename(hidden)
    phase[0] = "gone"
    while len(statuses["gone"]) < 20:
        threading.Event().wait(0.01)
    hidden.rename(toc)
    phase[0] = "after"
    for t in threads:
        t.join(timeout=60)
    assert set(statuses["before"]) == {200}
    assert set(statuses["gone"]) <= {200, 503}  # the old commit answers, or a clear 503; never a 500
    assert statuses["after"] and set(statuses["after"]) == {200}


def test_a_commit_after_an_empty_index(tmp_path):
    index_dir = tmp_path / "index"
    empty = tmp_path / "empty"
    empty.mkdir()
    build_index([empty], index_dir, Options(), progress=False)
    client = make_app(index_dir, tmp_path).test_client()
    assert client.get("/api/search").get_json()["total"] == 0
    build_index([copy_corpus(SEEDS, tmp_path / "seeds", SEEDS_CRAWLED)], index_dir, Options(), progress=False)
    for _ in range(3):
        response = client.get("/api/search?q=hamas")
        assert response.status_code == 200 and response.get_json()["total"] == 5


def test_saved_searches_are_listed_on_a_damaged_index(two_segments, tmp_path):
    index_dir = tmp_path / "index"
    shutil.copytree(two_segments, index_dir)
    client = make_app(index_dir, tmp_path).test_client()
    page = client.get("/search?q=hamas").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/saved", data={"csrf_token": token, "name": "Hamas", "query": "q=hamas"}).status_code < 400
    assert client.get("/api/saved").get_json()["saved"][0]["total"] == 5
    (bad_seg, _), _ = sorted(segment_ids(index_dir), key=lambda s: -len(s[1]))
    victim = index_dir / f"{bad_seg}.trm"
    os.truncate(victim, victim.stat().st_size // 2)
    # A server started on the damaged index: the list and its links stay, the counts say why they are missing.
    client = make_app(index_dir, tmp_path).test_client()
    data = client.get("/api/saved").get_json()
    assert data["saved"][0]["name"] == "Hamas" and data["saved"][0]["total"] is None
    assert victim.name in data["notice"]
    listed = client.get("/saved")
    assert listed.status_code == 200 and b"Hamas" in listed.data and victim.name.encode() in listed.data
    assert client.get(data["saved"][0]["links"]["open"]).status_code in (302, 303)
