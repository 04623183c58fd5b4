"""Backends under contract: each test here runs once per backend the project has.

A backend enters :data:`BACKENDS` when it lands; the tests are the same for
every one of them (Wagtail's lesson: facet sizes and counts must not differ
by backend).  Each gets its own index of the seeds and of the made-up sites,
built through :func:`search.api.build_index` as ``newsfacet index`` does.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from search.api import Settings, build_index, open_backend

BACKENDS = ("whoosh",)


def settings_for(backend: str, index_dir: Path) -> Settings:
    return Settings(backend=backend, index_dir=index_dir)


@pytest.fixture(scope="module", params=BACKENDS)
def backend_name(request) -> str:
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
