"""Reuters-21578 through ``newsfacet index``: one file always, the whole collection when marked slow.

The corpus is read where it lies (``../shared/corpora/reuters21578`` beside
the project, or ``$NEWSFACET_REUTERS``), never copied into the project.
"""

from __future__ import annotations

import pytest

from search.api import SearchRequest
from search.whoosh_backend.service import WhooshBackend
from web.cli import main

from .conftest import REUTERS

CORPUS = REUTERS
FILES = sorted(CORPUS.glob("reut2-*.sgm.gz"))
pytestmark = pytest.mark.skipif(len(FILES) != 22, reason="Reuters-21578 corpus not found")


@pytest.fixture(scope="module")
def one_file(tmp_path_factory):
    index_dir = tmp_path_factory.mktemp("reuters-one")
    assert main(["--index", str(index_dir), "index", str(FILES[0]), "--quiet"]) == 0
    return WhooshBackend(index_dir)


def test_one_file_gives_a_thousand_dated_stories(one_file):
    result = one_file.search(SearchRequest(facet_limit=50, collapse="off"))
    assert result.total == result.copies == 1000
    assert result.facets["date"] == [{"value": "1987", "count": 1000, "selected": False}]
    # The wire re-sent some stories: collapsed, each counts once, under its earliest copy.
    stories = one_file.search(SearchRequest(facet_limit=50))
    assert stories.copies == 1000 and 900 < stories.total < 1000
    assert stories.facets["date"] == [{"value": "1987", "count": stories.total, "selected": False}]
    months = one_file.search(SearchRequest(date="1987")).facets["date"]
    assert [m["value"] for m in months] == ["1987-02", "1987-03"]
    assert result.hits[0].date_precision == "day"


def test_corpus_tags_become_typed_entities(one_file):
    facets = one_file.search(SearchRequest(facet_limit=1000)).facets["entity"]
    by_value = {f["value"]: f for f in facets}
    assert by_value["United States"]["type"] == "place"
    assert by_value["United States"]["count"] > 400
    assert by_value["OPEC"]["type"] == "org"
    usa = one_file.search(SearchRequest(entities=("United States",), q="oil"))
    assert 0 < usa.total < by_value["United States"]["count"]


def test_search_finds_body_text_without_sign_off(one_file):
    result = one_file.search(SearchRequest(q='"cocoa"'))
    assert result.total > 0
    doc = one_file.document(result.hits[0].id)
    assert doc.source == "Reuters"
    assert not doc.body.rstrip().endswith("Reuter")
    assert "&#3;" not in doc.body


@pytest.mark.slow
def test_whole_collection(tmp_path, capsys):
    index_dir = tmp_path / "reuters"
    assert main(["--index", str(index_dir), "index", *map(str, FILES), "--quiet"]) == 0
    captured = capsys.readouterr()
    # 21,578 stories: one is empty and reported, every other one is indexed
    assert "21577 added" in captured.out and "1 failed" in captured.out
    assert "reut2-012.sgm.gz#12793: no title or body" in captured.err
    service = WhooshBackend(index_dir)
    assert service.search(SearchRequest(q="grain")).total > 300
    years = service.search(SearchRequest(collapse="off")).facets["date"]
    assert years == [{"value": "1987", "count": 21577, "selected": False}]
    # Re-sent wire copies count once as stories: a few hundred of them.
    stories = service.search(SearchRequest())
    assert stories.copies == 21577 and 20000 < stories.total < 21500
