"""``newsfacet migrate``: what it refuses, and how it fails, without a cluster.

The copy itself is tested against a real cluster in
``tests/opensearch/test_migrate.py``.
"""

from __future__ import annotations

import shutil

import pytest

from search import api
from search.api import IndexLocked, Settings
from search.whoosh_backend.store import open_index
from tests.conftest import free_port
from web.cli import main


@pytest.fixture
def index_dir(seed_index, tmp_path):
    dst = tmp_path / "ix"
    shutil.copytree(seed_index, dst)
    return dst


def test_only_the_migrations_there_are(index_dir):
    with pytest.raises(ValueError, match="can migrate whoosh to opensearch, not whoosh to whoosh"):
        api.migrate(Settings(index_dir=index_dir), "whoosh")


def test_unknown_target_is_a_usage_error(index_dir, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["migrate", "--to", "solr", "--index", str(index_dir)])
    assert exc.value.code == 2
    assert "invalid choice: 'solr' (choose from 'opensearch')" in capsys.readouterr().err


def test_no_index_says_so(tmp_path, capsys):
    assert main(["migrate", "--to", "opensearch", "--index", str(tmp_path / "none"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "no index in" in err and "newsfacet index" in err and "Traceback" not in err


def test_unreachable_cluster_leaves_the_source_as_it_was(index_dir, capsys):
    before = sorted((p.name, p.stat().st_size) for p in index_dir.iterdir())
    url = f"http://127.0.0.1:{free_port()}"
    assert main(["migrate", "--to", "opensearch", "--index", str(index_dir), "--opensearch-url", url,
                 "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"cannot reach OpenSearch at {url}" in err and "Traceback" not in err
    assert sorted((p.name, p.stat().st_size) for p in index_dir.iterdir()) == before
    # The source's write lock was let go: an indexing run can take it at once.
    lock = open_index(index_dir).lock("WRITELOCK")
    assert lock.acquire(blocking=False)
    lock.release()


def test_an_indexing_run_in_progress_blocks_the_copy(index_dir):
    lock = open_index(index_dir).lock("WRITELOCK")
    assert lock.acquire(blocking=False)
    try:
        with pytest.raises(IndexLocked, match="an indexing run is writing to"):
            api.migrate(Settings(index_dir=index_dir, opensearch_url="http://127.0.0.1:9"), "opensearch")
    finally:
        lock.release()
