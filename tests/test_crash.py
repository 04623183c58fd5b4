"""An indexer killed at random points loses nothing and damages nothing.

Twenty times, ``newsfacet index`` is started on a collection and killed with
SIGKILL after a random delay; each time the index must still open and answer
from its last good commit.  A final run to completion must give exactly what a
clean build gives: the same articles with the same content.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import pytest

from search.api import SearchRequest
from search.ingest import build_index
from search.settings import Options
from search.whoosh_backend.service import WhooshBackend
from search.whoosh_backend.store import open_index

WORDS = "harbour ferry council budget strike quay tanker storm vote court minister river bridge port".split()
KILLS = 20
REBUILD_KILLS = 6


def make_corpus(folder, n: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    folder.mkdir()
    for i in range(n):
        body = " ".join(rng.choice(WORDS) for _ in range(60))
        (folder / f"a{i:04d}.txt").write_text(
            f"Story number {i} about the {rng.choice(WORDS)}\n\n{body.capitalize()}.\n\n"
            f"The {rng.choice(WORDS)} was discussed by Mayor Ana Silva on Tuesday.\n",
            encoding="utf-8",
        )


def start_and_kill(command: list[str], delay: float) -> None:
    """Run *command* for *delay* seconds, then SIGKILL it and its cleaning workers."""
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    time.sleep(delay)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


def snapshot(index_dir) -> dict[str, str]:
    with open_index(index_dir).searcher() as s:
        return {f["id"]: f["content_hash"] + f["body"] for f in s.all_stored_fields()}


@pytest.mark.slow
def test_sigkill_at_random_points_loses_nothing(tmp_path):
    corpus = tmp_path / "corpus"
    make_corpus(corpus, 1200)
    reference = tmp_path / "reference"
    build_index([corpus], reference, Options(), progress=False)
    expected = snapshot(reference)
    assert len(expected) == 1200

    index_dir = tmp_path / "ix"
    rng = random.Random(20)
    command = [sys.executable, "-m", "web.cli", "--index", str(index_dir), "index", str(corpus), "--quiet"]
    for _ in range(KILLS):
        start_and_kill(command, rng.uniform(0.3, 6.0))
        if list(index_dir.glob("_articles_*.toc")):  # once a first commit exists
            service = WhooshBackend(index_dir)  # the last good commit answers
            result = service.search(SearchRequest(q="harbour"))
            assert 0 <= result.total <= 1200
            service.close()
    finished = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert finished.returncode == 0, finished.stderr
    assert snapshot(index_dir) == expected
    assert WhooshBackend(index_dir).search(SearchRequest()).total == 1200


@pytest.mark.slow
def test_sigkill_during_rebuild_keeps_the_old_index(tmp_path):
    """A rebuild replaces the index only at its commit: killed before, the old one answers whole."""
    corpus = tmp_path / "corpus"
    make_corpus(corpus, 1200)
    index_dir = tmp_path / "ix"
    build_index([corpus], index_dir, Options(), progress=False)
    expected = snapshot(index_dir)
    rng = random.Random(21)
    command = [sys.executable, "-m", "web.cli", "--index", str(index_dir), "index", "--rebuild", str(corpus),
               "--quiet"]
    for _ in range(REBUILD_KILLS):
        start_and_kill(command, rng.uniform(0.3, 5.0))
        service = WhooshBackend(index_dir)
        assert service.search(SearchRequest()).total == 1200
        assert service.search(SearchRequest(q="harbour")).total > 0
        service.close()
    finished = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert finished.returncode == 0, finished.stderr
    assert snapshot(index_dir) == expected
