"""The Whoosh service finds the latest commit without listing the index folder while the folder is unchanged.

A web request asks for the latest generation three times; each was a listing of
the folder.  The service now remembers the answer with the folder's state
(device, inode, modification time) and lists again only when that changes, or
when the folder changed too recently for its timestamp to be trusted.
"""

from __future__ import annotations

import os
import time

import pytest

from search.api import SearchRequest
from search.ingest import Options, build_index
from search.whoosh_backend.service import GENERATION_MTIME_MARGIN_NS, WhooshBackend

from .conftest import SEEDS, SEEDS_CRAWLED, copy_corpus


def _counting(monkeypatch, backend: WhooshBackend) -> list[int]:
    calls: list[int] = []
    real = backend._ix.latest_generation

    def latest_generation():
        calls.append(1)
        return real()

    monkeypatch.setattr(backend._ix, "latest_generation", latest_generation)
    return calls


@pytest.fixture
def indexed(tmp_path, monkeypatch):
    """(corpus folder, index folder, backend on it, its folder listings so far)."""
    corpus = copy_corpus(SEEDS, tmp_path / "c", SEEDS_CRAWLED)
    ix = tmp_path / "ix"
    build_index([corpus], ix, Options(), progress=False)
    backend = WhooshBackend(ix)
    return corpus, ix, backend, _counting(monkeypatch, backend)


def _age(folder, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(folder, (then, then))


def test_an_unchanged_folder_is_listed_once_and_a_commit_is_seen_at_once(indexed):
    corpus, ix, backend, calls = indexed
    _age(ix, 3600)
    first = backend.generation()
    for _ in range(5):
        assert backend.generation() == first
        session = backend.open()
        assert session.search(SearchRequest()).total == 5
        session.close()
    assert len(calls) == 1

    (corpus / "new.txt").write_text(
        "Port opens new berth\n\nThe port opened a new berth on the south quay for container ships.\n",
        encoding="utf-8")
    build_index([corpus], ix, Options(), progress=False)  # a commit changes the folder
    session = backend.open()
    assert session.search(SearchRequest()).total == 6
    session.close()
    assert backend.generation() > first
    assert len(calls) >= 2


def test_a_folder_changed_within_the_margin_is_listed_every_time(indexed):
    _, ix, backend, calls = indexed
    # Just inside the margin: a commit in the same timestamp tick would not change the time.
    _age(ix, GENERATION_MTIME_MARGIN_NS / 1e9 / 2)
    for _ in range(3):
        backend.generation()
    assert len(calls) == 3
