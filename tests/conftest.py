"""Shared fixtures: a corpus folder → an index built from it → a query service.

Corpora are copied into a temporary folder with fixed modification times, so
year-less dates resolve the same on every machine and every day.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

import pytest

from search.ingest import build_index
from search.settings import Options
from search.whoosh_backend.service import WhooshBackend

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SITES = ROOT / "tests" / "fixtures" / "sites"
# Reuters-21578, read where it lies (beside the project, or $NEWSFACET_REUTERS), never copied in.
REUTERS = Path(os.environ.get("NEWSFACET_REUTERS") or ROOT.parent / "shared" / "corpora" / "reuters21578")
# The seeds were scraped in mid 2024; year-less dates resolve against this day.
SEEDS_CRAWLED = dt.date(2024, 7, 1)


def set_mtime(path: Path, day: dt.date) -> None:
    ts = dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.UTC).timestamp()
    os.utime(path, (ts, ts))


def copy_corpus(src: Path, dst: Path, day: dt.date | None = None) -> Path:
    shutil.copytree(src, dst)
    if day is not None:
        for p in dst.rglob("*"):
            if p.is_file():
                set_mtime(p, day)
    return dst


@pytest.fixture(scope="session")
def seeds_dir(tmp_path_factory) -> Path:
    return copy_corpus(SEEDS, tmp_path_factory.mktemp("corpus") / "seeds", SEEDS_CRAWLED)


@pytest.fixture(scope="session")
def seed_index(seeds_dir, tmp_path_factory) -> Path:
    index_dir = tmp_path_factory.mktemp("seed-index")
    report = build_index([seeds_dir], index_dir, Options(), progress=False)
    assert not report.failed, report.failed
    return index_dir


@pytest.fixture(scope="session")
def seed_service(seed_index) -> WhooshBackend:
    return WhooshBackend(seed_index)


@pytest.fixture(scope="session")
def sites_manifest() -> dict:
    return json.loads((SITES / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def sites_dir(tmp_path_factory, sites_manifest) -> Path:
    dst = copy_corpus(SITES, tmp_path_factory.mktemp("corpus") / "sites")
    for rel, expected in sites_manifest.items():
        ref = expected.get("reference_date")
        set_mtime(dst / rel, dt.date.fromisoformat(ref) if ref else SEEDS_CRAWLED)
    return dst


@pytest.fixture(scope="session")
def sites_index(sites_dir, tmp_path_factory) -> Path:
    index_dir = tmp_path_factory.mktemp("sites-index")
    report = build_index([sites_dir], index_dir, Options(), progress=False)
    assert not report.failed, report.failed
    return index_dir


@pytest.fixture(scope="session")
def sites_service(sites_index) -> WhooshBackend:
    return WhooshBackend(sites_index)


def make_app(index_dir: Path, instance: Path):
    """The web app over *index_dir*, its saved searches kept in *instance*."""
    from web import create_app

    return create_app({"TESTING": True, "INDEX_DIR": str(index_dir), "SAVED_DB": str(instance / "saved.db"),
                       "SECRET_KEY": "test"})


def get_json(client, url: str, status: int = 200) -> dict:
    """*url*'s JSON answer through a Flask test client, asserting its status."""
    response = client.get(url)
    assert response.status_code == status, response.data
    return response.get_json()


@pytest.fixture(scope="module")
def seed_app(seed_index, tmp_path_factory):
    return make_app(seed_index, tmp_path_factory.mktemp("instance"))


def free_port() -> int:
    """A TCP port free on 127.0.0.1 just now, for a server a test starts."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_server(proc, log_path: Path, ready, timeout: float) -> None:
    """Poll *ready()* until it is true; fail with the server's log if it exits or takes over *timeout* s."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        try:
            if ready():
                return
        except OSError:
            pass
        if proc.poll() is not None:
            pytest.fail(f"server exited with {proc.returncode}:\n{log_path.read_text(errors='replace')}")
        if time.monotonic() > deadline:
            pytest.fail(f"server did not answer within {timeout} s:\n{log_path.read_text(errors='replace')}")
        time.sleep(0.2)


def stop_server(proc) -> None:
    """Stop a server we started, by its PID: politely, then for good."""
    import subprocess

    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
