"""Query cost is bounded by design: wildcards, ranges, long queries and the time budget.

The evaluator expands wildcards through :class:`search.whoosh_backend.lexicon.Lexicon`;
a property test checks it finds exactly the terms Whoosh's own expansion
finds.  The HTTP and CLI tests check each hostile shape the outside test
reported answers at once with a result or a 400 naming the problem, and a
search past its time budget answers 503 with a message.
"""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh import query as Q

from search.whoosh_backend.lexicon import Lexicon, PatternTooComplex, glob_regex
from search.whoosh_backend.store import open_index
from web.cli import main

from .conftest import make_app

HOSTILE = [
    " ".join(f"*{c}*" for c in "abcdefghij0123456789"),
    "*a*",
    "*e*e*e*e*e*e*e*",
    "a* b* c* d* e*",
    " OR ".join(f"w{i}" for i in range(200)),
    "date:[0 TO 99999999]",
    "NOT hamas",
    "hamas OR NOT moscow",
]


@pytest.fixture(scope="module")
def reader(sites_index):
    ix = open_index(sites_index)
    with ix.reader() as r:
        yield r


@pytest.fixture(scope="module")
def lexicon(reader):
    return Lexicon.from_reader(reader, "body")


@pytest.fixture
def client(seed_app):
    return seed_app.test_client()


def test_lexicon_terms_and_frequencies_equal_whooshs(reader, lexicon):
    assert lexicon.terms == sorted(t.decode() for t in reader.lexicon("body"))
    for i in range(0, len(lexicon), 37):
        assert lexicon.dfs[i] == reader.doc_frequency("body", lexicon.terms[i])


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="aeinorst*?", min_size=1, max_size=7))
def test_wildcard_expansion_equals_whooshs(reader, lexicon, pattern):
    mine = {lexicon.terms[int(i)] for i in lexicon.matching(pattern)}
    theirs = {b.decode() for b in Q.Wildcard("body", pattern)._btexts(reader)}
    assert mine == theirs


def test_prefix_and_range_expansion_equal_whooshs(reader, lexicon):
    for prefix in ("a", "st", "tromso", "zz"):
        mine = [lexicon.terms[int(i)] for i in lexicon.prefixed(prefix)]
        assert mine == [b.decode() for b in reader.expand_prefix("body", prefix)]
    mine = [lexicon.terms[int(i)] for i in lexicon.between("b", "d", True, False)]
    assert mine == [b.decode() for b in Q.TermRange("body", "b", "d", endexcl=True)._btexts(reader)]


def test_most_frequent_keeps_the_most_frequent(lexicon):
    positions = lexicon.matching("*e*")
    kept, cut = lexicon.most_frequent(positions, 5)
    assert cut and len(kept) == 5
    floor = min(lexicon.dfs[lexicon.terms.index(t)] for t in kept)
    dropped = set(lexicon.terms[int(i)] for i in positions) - set(kept)
    assert all(lexicon.dfs[lexicon.terms.index(t)] <= floor for t in dropped)


def test_glob_cannot_backtrack_for_long():
    rx = glob_regex("*a*a*a*a*a*a*a*b")
    started = time.perf_counter()
    assert rx.search("a" * 5000) is None
    assert time.perf_counter() - started < 0.5
    with pytest.raises(PatternTooComplex):
        glob_regex("*" * 9 + "a")


@pytest.mark.parametrize("q", HOSTILE)
def test_hostile_queries_answer_at_once(client, q):
    started = time.perf_counter()
    response = client.get("/api/search", query_string={"q": q})
    assert time.perf_counter() - started < 2.0
    assert response.status_code in (200, 400), response.data
    if response.status_code == 400:
        assert response.get_json()["error"]["parameter"] == "q"


def test_negations_alone_mean_everything_else(client):
    everything = client.get("/api/search").get_json()["total"]
    hamas = client.get("/api/search?q=hamas").get_json()["total"]
    assert client.get("/api/search?q=NOT+hamas").get_json()["total"] == everything - hamas


@pytest.mark.parametrize("q, field", [("body:[a TO zzzz]", "body"), ("title:[a TO m]", "title"),
                                      ("date_num:[1 TO 99999999]", "date_num"), ("[a TO z]", "title")])
def test_ranges_only_on_the_date(client, q, field):
    response = client.get("/api/search", query_string={"q": q})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["parameter"] == "q" and f"'{field}'" in error["message"] and "date:[" in error["message"]


def test_date_range_in_the_query(client):
    data = client.get("/api/search", query_string={"q": "date:[2024 TO 2025]"}).get_json()
    assert data["total"] == 1 and data["hits"][0]["date"] == "2024-06-25"


def test_too_many_words_is_a_400_with_the_limit(client):
    response = client.get("/api/search", query_string={"q": " ".join(f"w{i}" for i in range(300))})
    assert response.status_code == 400
    assert "the limit is 256" in response.get_json()["error"]["message"]


def test_time_budget_answers_503(seed_index, tmp_path, monkeypatch):
    monkeypatch.setenv("NEWSFACET_QUERY_TIMEOUT", "0.000001")
    client = make_app(seed_index, tmp_path).test_client()
    response = client.get("/api/search?q=mosc*")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "time budget" in response.get_json()["error"]["message"]
    page = client.get("/search?q=mosc*")
    assert page.status_code == 503 and b"time budget" in page.data
    # A query that reads no postings has nothing to stop.
    assert client.get("/api/search").status_code == 200


def test_a_page_matches_its_query_once(tmp_path, monkeypatch):
    """The timeline's counts come from the search's own matching, not a second one: a
    costly query costs one time budget per request, not one per view of its matches."""
    from search.ingest import build_index
    from search.settings import Options
    from search.whoosh_backend.matching import Matching

    # One year of articles: the timeline drills from the single year to its months.
    (tmp_path / "feed.jsonl").write_text("".join(
        json.dumps({"title": f"Harbour {m}", "text": "The harbour board met.", "date": f"2023-{m:02d}-05"}) + "\n"
        for m in (1, 2, 3)), encoding="utf-8")
    build_index([tmp_path], tmp_path / "ix", Options(), progress=False, procs=1)
    calls = []
    original = Matching._query_matches
    monkeypatch.setattr(Matching, "_query_matches",
                        lambda self, searcher, parsed, *a: calls.append(parsed) or original(self, searcher, parsed, *a))
    client = make_app(tmp_path / "ix", tmp_path).test_client()
    data = client.get("/api/search?q=harb*").get_json()
    assert data["total"] == 3 and data["timeline"]["level"] == "month"
    # The share of each period's articles needs the period totals: a search without a query.
    assert [p for p in calls if p is not None] == [calls[0]]


def test_bad_limit_setting_is_a_clear_error(seed_index, monkeypatch, capsys):
    monkeypatch.setenv("NEWSFACET_MAX_EXPANSION", "lots")
    assert main(["--index", str(seed_index), "search", "hamas"]) == 2
    assert "NEWSFACET_MAX_EXPANSION must be a number, not 'lots'" in capsys.readouterr().err


def test_cli_refuses_a_text_range_in_one_line(seed_index, capsys):
    assert main(["--index", str(seed_index), "search", "body:[a TO zzzz]"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("newsfacet: error: Ranges work only on the date field") and "Traceback" not in err
