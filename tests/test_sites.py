"""The seed checks, held on made-up sites unlike the seeds.

``tests/fixtures/sites`` holds text dumps and HTML pages of invented outlets,
each with boilerplate of its own, and ``manifest.json`` says for every page
what a reader sees: title, date, body sentences, boilerplate lines, people.
"""

from __future__ import annotations

import re

import pytest

from search.api import SearchRequest
from search.whoosh_backend.schema import TOKEN_PATTERN

from .conftest import SITES

MANIFEST_PATHS = sorted(
    str(p.relative_to(SITES)) for p in SITES.rglob("*") if p.suffix in (".txt", ".html") and p.is_file()
)


def phrase(text: str) -> str:
    return '"' + " ".join(re.findall(TOKEN_PATTERN, text)) + '"'


def hit_for(service, path: str):
    for page in range(1, 20):
        result = service.search(SearchRequest(per_page=100, page=page))
        for hit in result.hits:
            if hit.path == path:
                return hit
        if not result.hits:
            break
    raise AssertionError(f"{path} not indexed")


def matches(service, q: str, path: str) -> bool:
    result = service.search(SearchRequest(q=q, per_page=100))
    return any(h.path == path for h in result.hits)


def test_manifest_covers_every_page(sites_manifest):
    assert sorted(sites_manifest) == MANIFEST_PATHS
    assert len(MANIFEST_PATHS) >= 20


def test_every_page_is_indexed(sites_service):
    assert sites_service.search(SearchRequest()).total == len(MANIFEST_PATHS)


@pytest.mark.parametrize("path", MANIFEST_PATHS)
def test_title(sites_service, sites_manifest, path):
    assert hit_for(sites_service, path).title == sites_manifest[path]["title"]


@pytest.mark.parametrize("path", MANIFEST_PATHS)
def test_date_and_precision(sites_service, sites_manifest, path):
    hit = hit_for(sites_service, path)
    expected = sites_manifest[path]
    assert (hit.date, hit.date_precision) == (expected["date"], expected["date_precision"])


@pytest.mark.parametrize("path", MANIFEST_PATHS)
def test_body_sentences_are_findable(sites_service, sites_manifest, path):
    for sentence in sites_manifest[path]["body_sentences"]:
        assert matches(sites_service, phrase(sentence), path), sentence


@pytest.mark.parametrize("path", MANIFEST_PATHS)
def test_boilerplate_is_not_findable(sites_service, sites_manifest, path):
    for line in sites_manifest[path]["boilerplate"]:
        if not re.search(r"\w", line):
            continue
        assert not matches(sites_service, phrase(line), path), line


@pytest.mark.parametrize("path", MANIFEST_PATHS)
def test_people_are_one_value_each(sites_service, sites_manifest, path):
    doc = sites_service.document(hit_for(sites_service, path).id)
    people = {e["value"] for e in doc.entities if e["type"] == "person"}
    for canonical, spellings in sites_manifest[path].get("people", {}).items():
        surname = canonical.split()[-1]
        found = [p for p in people if any(s.split()[-1].lower() in p.lower() for s in [canonical, *spellings])]
        assert len(found) == 1, (canonical, people)
        assert surname.lower()[:4] in found[0].lower()
