"""Backends under contract: each test here runs once per backend the project has.

A backend enters :data:`BACKENDS` when it lands; the tests are the same for
every one of them (Wagtail's lesson: facet sizes and counts must not differ
by backend).  Each gets its own index of the seeds and of the made-up sites,
built through :func:`search.api.build_index` as ``newsfacet index`` does.

OpenSearch runs against the cluster ``NEWSFACET_OPENSEARCH_URL`` names (start
one with ``python -m tests.opensearch.cluster start --dir DIR``); without it
its tests are skipped, saying so.  They carry the ``opensearch`` marker, so
``-m "not opensearch"`` leaves them out and ``-m opensearch`` runs them.  Every
index they build has a prefix of its own (3 shards, 1 replica, so facet
exactness and replica reads are really at stake), deleted at the end of the
test module that made it.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from search.api import Settings, build_index, open_backend

OPENSEARCH_URL = os.environ.get("NEWSFACET_OPENSEARCH_URL", "").rstrip("/")
NO_OPENSEARCH = "no OpenSearch cluster: set NEWSFACET_OPENSEARCH_URL (python -m tests.opensearch.cluster start)"
BACKENDS = ("whoosh", "opensearch")
_PARAMS = ["whoosh", pytest.param("opensearch", marks=pytest.mark.opensearch)]
# Index prefixes made by the current module's tests, deleted at its end.
_PREFIXES: list[str] = []


def settings_for(backend: str, index_dir: Path) -> Settings:
    if backend != "opensearch":
        return Settings(backend=backend, index_dir=index_dir)
    if not OPENSEARCH_URL:
        pytest.skip(NO_OPENSEARCH)
    prefix = f"nf-contract-{uuid.uuid4().hex[:12]}"
    _PREFIXES.append(prefix)
    return Settings(backend="opensearch", index_dir=index_dir, opensearch_url=OPENSEARCH_URL,
                    opensearch_prefix=prefix, opensearch_shards=3, opensearch_replicas=1)


def _drop(prefix: str) -> None:
    """Delete everything a contract run made under *prefix*: its indexes and its template."""
    from opensearchpy.exceptions import NotFoundError

    from search.opensearch_backend import mapping as M
    from search.opensearch_backend.client import make_client

    client = make_client(Settings(backend="opensearch", opensearch_url=OPENSEARCH_URL, opensearch_prefix=prefix))
    try:
        for index in (M.index_pattern(prefix), M.meta_index_name(prefix)):
            client.indices.delete(index=index, params={"ignore_unavailable": "true", "allow_no_indices": "true"})
        try:
            client.indices.delete_index_template(name=M.template_name(prefix))
        except NotFoundError:
            pass
    finally:
        client.close()


@pytest.fixture(scope="module", autouse=True)
def _drop_opensearch_indexes():
    yield
    while _PREFIXES:
        _drop(_PREFIXES.pop())


@pytest.fixture(scope="module", params=_PARAMS)
def backend_name(request) -> str:
    if request.param == "opensearch" and not OPENSEARCH_URL:
        pytest.skip(NO_OPENSEARCH)
    return request.param


def indexed(backend: str, corpus: Path, index_dir: Path):
    settings = settings_for(backend, index_dir)
    report = build_index([corpus], settings, progress=False)
    assert not report.failed, report.failed
    return open_backend(settings)


@pytest.fixture(scope="module")
def seeds(backend_name, seeds_dir, tmp_path_factory):
    backend = indexed(backend_name, seeds_dir, tmp_path_factory.mktemp(f"contract-seeds-{backend_name}"))
    yield backend
    backend.close()


@pytest.fixture(scope="module")
def sites(backend_name, sites_dir, tmp_path_factory):
    backend = indexed(backend_name, sites_dir, tmp_path_factory.mktemp(f"contract-sites-{backend_name}"))
    yield backend
    backend.close()
