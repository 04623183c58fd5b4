"""The query service on a tiny corpus whose ranking, dates and facets are known."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from search.api import SearchRequest
from search.errors import InvalidParameter
from search.ingest import build_index
from search.settings import Options
from search.whoosh_backend.service import WhooshBackend

ARTICLES = [
    {
        "title": "Harbour council approves new ferry terminal",
        "date": "2024-03-05",
        "source": "harbour-gazette",
        "text": "The ferry terminal will open next year. Ferry operators welcomed the vote.\n\n"
        "A second ferry berth is planned for the north quay.",
        "entities": [{"value": "Lisbon", "type": "place"}, {"value": "Harbour Council", "type": "org"}],
    },
    {
        "title": "Strike ends after talks",
        "date": "2024-03",
        "source": "harbour-gazette",
        "text": "Dock workers ended their strike on the ferry routes after two days of talks with the port.",
        "entities": [{"value": "Lisbon", "type": "place"}],
    },
    {
        "title": "Budget estimates revised",
        "date": "2023",
        "source": "city-wire",
        "text": "The council estimated that costs would rise. Officials revised the budget twice this spring.",
        "entities": [{"value": "Harbour Council", "type": "org"}],
    },
    {
        "title": "Northern lights draw visitors to Tromsø",
        "source": "city-wire",
        "text": "Hotels in Tromsø reported record bookings as visitors came to see the aurora over the fjord.",
        "entities": [{"value": "Tromsø", "type": "place"}],
    },
    {
        "title": "Council meets on harbour dredging",
        "date": "2024-04-11",
        "source": "harbour-gazette",
        "text": "The council met on Thursday to discuss dredging the harbour channel before the summer season.",
        "entities": [{"value": "Harbour Council", "type": "org"}, {"value": "Lisbon", "type": "place"}],
    },
]


@pytest.fixture(scope="module")
def service(tmp_path_factory) -> WhooshBackend:
    folder = tmp_path_factory.mktemp("tiny")
    with open(folder / "feed.jsonl", "w", encoding="utf-8") as fh:
        for a in ARTICLES:
            fh.write(json.dumps(a, ensure_ascii=False) + "\n")
    index_dir = tmp_path_factory.mktemp("tiny-index")
    report = build_index([folder], index_dir, Options(), progress=False)
    assert report.added == len(ARTICLES) and not report.failed
    return WhooshBackend(index_dir)


def titles(result) -> list[str]:
    return [h.title for h in result.hits]


def test_ranking_puts_the_article_about_the_term_first(service):
    result = service.search(SearchRequest(q="ferry"))
    assert result.total == 2
    assert titles(result) == ["Harbour council approves new ferry terminal", "Strike ends after talks"]


@pytest.mark.parametrize(
    "q,expected",
    [
        ("ferry AND strike", {"Strike ends after talks"}),
        ("ferry OR aurora", {"Harbour council approves new ferry terminal", "Strike ends after talks",
                             "Northern lights draw visitors to Tromsø"}),
        ("council NOT ferry", {"Budget estimates revised", "Council meets on harbour dredging"}),
        ("council -ferry", {"Budget estimates revised", "Council meets on harbour dredging"}),
        ('"ferry routes"', {"Strike ends after talks"}),
        ('"routes ferry"', set()),
        ("title:strike", {"Strike ends after talks"}),
        ("dredg*", {"Council meets on harbour dredging"}),
        ("tromso", {"Northern lights draw visitors to Tromsø"}),
        ("TROMSØ", {"Northern lights draw visitors to Tromsø"}),
        ("estimates", {"Budget estimates revised"}),
        ("estimated", {"Budget estimates revised"}),
        ("revising", {"Budget estimates revised"}),
    ],
)
def test_query_syntax(service, q, expected):
    assert set(titles(service.search(SearchRequest(q=q, per_page=100)))) == expected


def test_empty_query_browses_newest_first_with_undated_last(service):
    result = service.search(SearchRequest())
    assert result.total == 5
    assert [h.date for h in result.hits] == ["2024-04-11", "2024-03-05", "2024-03", "2023", None]
    assert [h.date_precision for h in result.hits] == ["day", "day", "month", "year", "none"]


def test_oldest_first_keeps_undated_last(service):
    result = service.search(SearchRequest(sort="oldest"))
    assert [h.date for h in result.hits] == ["2023", "2024-03", "2024-03-05", "2024-04-11", None]


def test_entity_facets_count_the_whole_result_set_and_filters_and(service):
    result = service.search(SearchRequest(per_page=1))
    counts = {(f["value"], f["type"]): f["count"] for f in result.facets["entity"]}
    assert counts[("Lisbon", "place")] == 3
    assert counts[("Harbour Council", "org")] == 3
    assert counts[("Tromsø", "place")] == 1
    both = service.search(SearchRequest(entities=("Lisbon", "Harbour Council")))
    assert titles(both) == ["Council meets on harbour dredging", "Harbour council approves new ferry terminal"]
    selected = [f for f in both.facets["entity"] if f["selected"]]
    assert {f["value"] for f in selected} == {"Lisbon", "Harbour Council"}


def test_unknown_entity_matches_nothing(service):
    assert service.search(SearchRequest(entities=("Atlantis",))).total == 0


def test_date_facet_drills_year_month_day(service):
    top = service.search(SearchRequest()).facets["date"]
    assert top == [
        {"value": "2023", "count": 1, "selected": False},
        {"value": "2024", "count": 3, "selected": False},
        {"value": "undated", "count": 1, "selected": False},
    ]
    year = service.search(SearchRequest(date="2024"))
    assert year.total == 3
    assert year.facets["date"] == [
        {"value": "2024-03", "count": 2, "selected": False},
        {"value": "2024-04", "count": 1, "selected": False},
    ]
    month = service.search(SearchRequest(date="2024-03"))
    assert month.total == 2
    # the month-precision article is in March but on no day of it
    assert month.facets["date"] == [{"value": "2024-03-05", "count": 1, "selected": False}]
    assert service.search(SearchRequest(date="2024-03-05")).total == 1
    assert titles(service.search(SearchRequest(date="undated"))) == ["Northern lights draw visitors to Tromsø"]


@pytest.mark.parametrize(
    "lo,hi,expected",
    [
        ("2024-03-01", "2024-03-31", 2),  # the day and the month-only article
        ("2024-03-06", None, 1),
        (None, "2023-12-31", 1),
        ("2023-01-01", "2023-12-31", 1),  # the year-only article
        ("2024-03-05", "2024-03-05", 1),
    ],
)
def test_date_ranges(service, lo, hi, expected):
    req = SearchRequest(
        date_from=dt.date.fromisoformat(lo) if lo else None, date_to=dt.date.fromisoformat(hi) if hi else None
    )
    assert service.search(req).total == expected


def test_pagination_and_total(service):
    pages = [service.search(SearchRequest(per_page=2, page=p)) for p in (1, 2, 3, 4)]
    assert [len(p.hits) for p in pages] == [2, 2, 1, 0]
    assert all(p.total == 5 for p in pages)
    assert len({h.id for p in pages for h in p.hits}) == 5


def test_snippet_marks_terms_and_escapes_the_rest(service):
    hit = service.search(SearchRequest(q="ferry")).hits[0]
    assert "<mark>ferry</mark>" in hit.snippet.lower()
    assert "<" not in hit.snippet.replace("<mark>", "").replace("</mark>", "")


def test_syntax_error_falls_back_with_a_notice(service):
    result = service.search(SearchRequest(q='"ferry terminal'))
    assert result.notice
    assert result.total >= 1


def test_did_you_mean(service):
    result = service.search(SearchRequest(q="ferri terminall"))
    assert result.total == 0
    assert result.suggestion == "ferry terminal"


@pytest.mark.parametrize(("q", "suggestion"), [
    ("fery", "ferry"),                   # a letter left out
    ("tromzo", "tromso"),                # suggested as indexed: folded
    ("hraobur", "harbour"),              # two transpositions
    ("xarbxxr", None),                   # three edits away: no guess
    ("dcok workers", "dock workers"),    # a transposition is one edit
    ("fjrod", "fjord"),
    ("xqzvw", None),
    ("ferry " + "zzzz " * 5, None),      # too many unknown words: no lookups at all
])
def test_did_you_mean_cases(service, q, suggestion):
    assert service.search(SearchRequest(q=q)).suggestion == suggestion


def test_large_index_reads_its_vocabulary_in_the_background(service, monkeypatch):
    import time

    import search.whoosh_backend.spelling as query_module

    monkeypatch.setattr(query_module, "VOCABULARY_INLINE_DOCS", 0)
    fresh = WhooshBackend(service.index_dir)
    assert fresh.search(SearchRequest(q="fery")).suggestion is None  # not read yet: no waiting
    deadline = time.monotonic() + 10
    while fresh.search(SearchRequest(q="fery")).suggestion is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert fresh.search(SearchRequest(q="fery")).suggestion == "ferry"
    fresh.close()


@pytest.mark.parametrize(
    "kwargs,parameter",
    [
        ({"sort": "best"}, "sort"),
        ({"page": 0}, "page"),
        ({"per_page": 10000}, "per_page"),
        ({"facet_limit": 0}, "facet_limit"),
        ({"date": "2023-13"}, "date"),
        ({"date": "2023-02-30"}, "date"),
        ({"date": "last week"}, "date"),
        ({"date_from": dt.date(2024, 2, 1), "date_to": dt.date(2024, 1, 1)}, "from"),
    ],
)
def test_invalid_parameters_name_the_parameter(kwargs, parameter):
    with pytest.raises(InvalidParameter) as err:
        SearchRequest(**kwargs)
    assert err.value.parameter == parameter


def test_sort_error_names_valid_choices():
    with pytest.raises(ValueError, match="relevance, newest, oldest"):
        SearchRequest(sort="best")


def test_document_and_similar(service):
    hit = service.search(SearchRequest(q="ferry")).hits[0]
    doc = service.document(hit.id)
    assert doc.title == hit.title and "north quay" in doc.body
    assert doc.date == "2024-03-05" and doc.date_precision == "day"
    similar = service.similar(hit.id)
    assert similar and similar[0].title == "Strike ends after talks"
    assert service.document("no-such-id") is None


def test_result_is_plain_data(service):
    data = service.search(SearchRequest(q="ferry")).as_dict()
    json.dumps(data)  # engine-neutral: serialisable as is
    assert set(data) == {"query", "total", "collapsed", "copies", "page", "per_page", "hits", "facets", "suggestion",
                         "notice"}
    assert set(data["hits"][0]) == {"id", "path", "title", "date", "date_precision", "source", "url", "snippet",
                                    "entities", "cluster"}


def write_feed(folder, articles) -> None:
    folder.mkdir(exist_ok=True)
    with open(folder / "feed.jsonl", "w", encoding="utf-8") as fh:
        for a in articles:
            fh.write(json.dumps(a, ensure_ascii=False) + "\n")


def test_every_commit_has_its_facet_tables_before_it_is_visible(tmp_path, monkeypatch):
    """A server switching to a new commit must find its tables on disk, never build them."""
    from whoosh.index import TOC

    from search.whoosh_backend.store import tables_path

    index_dir = tmp_path / "ix"
    seen = []
    real_write = TOC.write

    def checked_write(toc, storage, indexname):
        if toc.generation > 0:  # generation 0 is the empty index Whoosh creates
            seen.append((toc.generation, tables_path(index_dir, toc.generation).exists()))
        return real_write(toc, storage, indexname)

    monkeypatch.setattr(TOC, "write", checked_write)
    write_feed(tmp_path / "c", ARTICLES)
    build_index([tmp_path / "c"], index_dir, Options(), progress=False)
    write_feed(tmp_path / "c", ARTICLES + [{**ARTICLES[0], "title": "Ferry terminal opens", "date": "2025-01-02"}])
    build_index([tmp_path / "c"], index_dir, Options(), progress=False)
    assert len(seen) >= 2 and all(ready for _, ready in seen), seen
    assert sorted(p.name for p in index_dir.glob("facets-*.npz")) == [f"facets-{seen[-1][0]}.npz"]


def test_threads_meeting_a_new_commit_build_its_tables_once(tmp_path, monkeypatch):
    import threading

    from search.whoosh_backend.facets import FacetTables

    write_feed(tmp_path / "c", ARTICLES)
    index_dir = tmp_path / "ix"
    build_index([tmp_path / "c"], index_dir, Options(), progress=False)
    service = WhooshBackend(index_dir)
    for stored in index_dir.glob("facets-*.npz"):
        stored.unlink()  # as after an index written by an older newsfacet
    builds = []
    real = FacetTables.from_reader.__func__

    def counted(cls, reader):
        builds.append(threading.get_ident())
        return real(cls, reader)

    monkeypatch.setattr(FacetTables, "from_reader", classmethod(counted))
    start = threading.Barrier(8)
    totals = []

    def request():
        start.wait()
        totals.append(service.search(SearchRequest(q="ferry")).total)

    threads = [threading.Thread(target=request) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert totals == [2] * 8
    assert len(builds) == 1
    service.close()
