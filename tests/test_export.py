"""Exports through HTTP: ``/export.csv``, ``/export.jsonl``, ``/export/facets.csv``, ``/export/timeline.csv``.

The corpus is a made-up JSONL feed (given entities, lower-case text, so nothing is
extracted): 40 articles over 2022-2024 dated to the day, to the month, to the year or
not at all, with sources and URLs, and a few cells a spreadsheet would run as formulas.
Every export is parsed back (CSV with :mod:`csv`, JSON lines line by line) and compared
with what the API answers for the same search: the hits of ``/api/search`` paged
through, the values of ``/api/facets/<type>``, the totals of ``/api/search?date=…``.
"""

from __future__ import annotations

import csv
import io
import json
import re
import threading
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from search.api import FACET_TYPES, SearchRequest, date_label
from search.ingest import build_index
from search.settings import Options
from search.whoosh_backend.evaluator import Unsupported
from search.whoosh_backend.service import WhooshBackend
from web import export as web_export

from .conftest import get_json, make_app

PEOPLE = ["Anna Berg", "Bruno Dahl", "Clara Lund", "David Vik", "Elin Holm", "Farid Strand"]
ORGS = ["Harbour Board", "Ferry Union", "Port Authority"]
PLACES = ["Tromsø", "Bergen", "Oslo", "Narvik"]
FORMULA_TITLE = '=HYPERLINK("http://evil.example/","click me")'
FORMULA_OTHER = "@SUM(A1:A9)"
FORMULA_SOURCE = "+cmd|' /C calc'!A0"
MINUS_TITLE = "-2 degrees at the quay"
QUOTED_TITLE = 'harbour, "quay" and docks; a report'


def _date(i: int) -> str | None:
    if i % 10 == 9:
        return None  # undated
    if i % 10 == 7:
        return f"{2022 + i % 3}"  # to the year
    if i % 10 == 5:
        return f"{2022 + i % 3}-{1 + i % 12:02d}"  # to the month
    return f"{2022 + i % 3}-{1 + (i * 5) % 12:02d}-{1 + (i * 7) % 28:02d}"


def _article(i: int) -> dict:
    words = ["harbour"] if i % 2 == 0 else ["ferry"]
    if i % 3 == 0:
        words.append("quay")
    entities = [{"value": PEOPLE[i % 6], "type": "person"}, {"value": PLACES[i % 4], "type": "place"}]
    if i % 4 == 1:
        entities.append({"value": PEOPLE[(i + 2) % 6], "type": "person"})
    if i % 5 != 4:
        entities.append({"value": ORGS[i % 3], "type": "org"})
    row = {"title": f"notes from the {' and '.join(words)} number {i + 1}",
           "text": f"the {' '.join(words)} board met for session {i + 1} and agreed on the dredging plan.",
           "source": ("wire", "gazette", "courier")[i % 3], "url": f"https://news.example.org/story/{i + 1}",
           "entities": entities}
    date = _date(i)
    if date:
        row["date"] = date
    return row


ARTICLES = [_article(i) for i in range(40)]
ARTICLES[3]["title"] = FORMULA_TITLE
ARTICLES[4]["entities"].append({"value": FORMULA_OTHER, "type": "other"})
ARTICLES[6]["source"] = FORMULA_SOURCE
ARTICLES[8]["title"] = MINUS_TITLE
ARTICLES[10]["title"] = QUOTED_TITLE


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("export-feed")
    with open(folder / "feed.jsonl", "w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(a, ensure_ascii=False) + "\n" for a in ARTICLES)
    index_dir = tmp_path_factory.mktemp("export-index")
    report = build_index([folder], index_dir, Options(), progress=False)
    assert report.added == len(ARTICLES) and not report.failed
    return index_dir


@pytest.fixture(scope="module")
def app(index_dir, tmp_path_factory):
    return make_app(index_dir, tmp_path_factory.mktemp("instance"))


@pytest.fixture
def client(app):
    return app.test_client()


# -- helpers -------------------------------------------------------------------------------------


def api(client, url: str) -> dict:
    return get_json(client, url)


def paged_hits(client, params: str) -> list[dict]:
    """Every hit of ``/api/search?<params>``, page by page (100 a page), snippets dropped."""
    pairs = [(k, v) for k, v in parse_qsl(params) if k not in ("page", "per_page")]
    hits, page = [], 1
    while True:
        data = api(client, "/api/search?" + urlencode(pairs + [("per_page", "100"), ("page", str(page))]))
        hits += data["hits"]
        if len(hits) >= data["total"]:
            break
        page += 1
    for hit in hits:
        hit.pop("snippet")
    return hits


def grouped(entities: list[dict]) -> dict[str, list[str]]:
    return {t: [e["value"] for e in entities if e["type"] == t] for t in FACET_TYPES}


def guarded(value) -> str:
    """A cell as the CSV export writes it (the formula guard applied)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def read_csv(response) -> list[dict]:
    assert response.status_code == 200, response.data
    assert response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True), newline="")))


def read_jsonl(response) -> list[dict]:
    assert response.status_code == 200, response.data
    assert response.mimetype == "application/x-ndjson"
    text = response.get_data(as_text=True)
    assert text == "" or text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


SEARCHES = [
    "",
    "q=harbour",
    "q=harbour&sort=oldest",
    "q=harbour&sort=newest",
    "sort=oldest",
    "q=quay+OR+ferry",
    "q=harbour+-quay",
    "q=%22harbour+quay%22",
    "entity=Anna+Berg",
    "entity_any=Anna+Berg&entity_any=Bruno+Dahl",
    "entity_any=Anna+Berg&entity_any=Clara+Lund&entity_any=Oslo&entity_any=Bergen",
    "entity_not=Harbour+Board",
    "entity_any=Bruno+Dahl&entity_any=David+Vik&entity_not=Narvik&sort=newest",
    "q=ferry&entity_not=Ferry+Union&entity_not=Tromsø",
    "date=2023",
    "date=2024-06",
    "date=undated",
    "from=2022-06-01&to=2023-05-31",
    "from=2023-01-01&sort=oldest",
    "q=harbour&entity_any=Oslo&entity_any=Tromsø&from=2022-01-01&to=2023-12-31",
    "q=harbour&page=2&per_page=3&facet_limit=1",  # page and sizes do not apply to an export
    "q=nosuchword",
]


# -- the whole result set ------------------------------------------------------------------------


@pytest.mark.parametrize("params", SEARCHES, ids=lambda p: p or "everything")
def test_csv_export_is_the_whole_result_set(client, params):
    expected = paged_hits(client, params)
    response = client.get("/export.csv?" + params)
    rows = read_csv(response)
    assert list(rows[0]) if rows else True
    assert len(rows) == len(expected) == int(response.headers["X-Total-Count"])
    for row, hit in zip(rows, expected, strict=True):
        want = {f: guarded(hit[f]) for f in ("id", "path", "title", "date", "date_precision", "source", "url")}
        want.update({"cluster": hit["cluster"]["id"], "cluster_size": str(hit["cluster"]["size"])})
        want.update({t: guarded("; ".join(v)) for t, v in grouped(hit["entities"]).items()})
        assert row == want


@pytest.mark.parametrize("params", SEARCHES, ids=lambda p: p or "everything")
def test_jsonl_export_is_the_whole_result_set(client, params):
    expected = paged_hits(client, params)
    records = read_jsonl(client.get("/export.jsonl?" + params))
    assert records == [{**{k: v for k, v in hit.items() if k not in ("entities", "cluster")},
                        "cluster": {k: hit["cluster"][k] for k in ("id", "size")}, "entities": grouped(hit["entities"])}
                       for hit in expected]


def test_csv_header_and_file_names(client):
    response = client.get("/export.csv?q=Harbour&entity=Anna+Berg&date=2023")
    first = response.get_data(as_text=True).split("\r\n", 1)[0]
    assert first == "id,path,title,date,date_precision,source,url,cluster,cluster_size,person,org,place,other"
    assert response.headers["Content-Disposition"] == 'attachment; filename="newsfacet-harbour-anna-berg-2023.csv"'
    assert client.get("/export.jsonl").headers["Content-Disposition"] == 'attachment; filename="newsfacet-all.jsonl"'
    disposition = client.get("/export/facets.csv?entity_any=Tromsø").headers["Content-Disposition"]
    assert disposition == 'attachment; filename="newsfacet-facets-tromso.csv"'
    disposition = client.get("/export/timeline.csv?q=a%22b%0D").headers["Content-Disposition"]
    assert disposition == 'attachment; filename="newsfacet-timeline-a-b.csv"'


def test_formula_cells_are_guarded_in_csv_and_kept_in_jsonl(client):
    rows = {r["id"]: r for r in read_csv(client.get("/export.csv"))}
    records = {r["id"]: r for r in read_jsonl(client.get("/export.jsonl"))}
    by_title = {r["title"]: r for r in records.values()}
    assert {FORMULA_TITLE, MINUS_TITLE, QUOTED_TITLE} <= set(by_title)
    assert rows[by_title[FORMULA_TITLE]["id"]]["title"] == "'" + FORMULA_TITLE
    assert rows[by_title[MINUS_TITLE]["id"]]["title"] == "'" + MINUS_TITLE
    assert rows[by_title[QUOTED_TITLE]["id"]]["title"] == QUOTED_TITLE  # quoted by csv, not guarded
    other = next(r for r in records.values() if FORMULA_OTHER in r["entities"]["other"])
    assert other["entities"]["other"] == [FORMULA_OTHER]
    assert rows[other["id"]]["other"] == "'" + FORMULA_OTHER
    source = next(r for r in records.values() if r["source"] == FORMULA_SOURCE)
    assert rows[source["id"]]["source"] == "'" + FORMULA_SOURCE
    # No cell of any CSV export starts a formula.
    for url in ("/export.csv", "/export/facets.csv"):
        for row in csv.reader(io.StringIO(client.get(url).get_data(as_text=True), newline="")):
            assert not [c for c in row if c[:1] in ("=", "+", "-", "@", "\t", "\r")], row
    facets = read_csv(client.get("/export/facets.csv"))
    assert {"type": "other", "value": "'" + FORMULA_OTHER, "count": "1"} in facets


def test_csv_cells_are_quoted(client):
    raw = client.get("/export.csv?q=docks").get_data(as_text=True)
    assert '"harbour, ""quay"" and docks; a report"' in raw


# -- facet counts and the timeline ---------------------------------------------------------------


FACET_SEARCHES = ["", "q=harbour", "entity_any=Anna+Berg&entity_any=Bruno+Dahl&entity_not=Oslo",
                  "entity=Harbour+Board&date=2023", "from=2023-01-01&sort=oldest", "q=nosuchword"]


@pytest.mark.parametrize("params", FACET_SEARCHES, ids=lambda p: p or "everything")
def test_facets_csv_equals_the_facet_pages(client, params):
    rows = read_csv(client.get("/export/facets.csv?" + params))
    expected = []
    search = [(k, v) for k, v in parse_qsl(params) if k != "sort"]
    for type_ in FACET_TYPES:
        url = f"/api/facets/{type_}?" + urlencode(search)
        while url:
            data = api(client, url)
            expected += [{"type": type_, "value": guarded(f["value"]), "count": str(f["count"])}
                         for f in data["values"]]
            url = data["links"]["next"]
    assert rows == expected
    # Every value, not facet_limit's few: the parameter does not apply.
    assert read_csv(client.get("/export/facets.csv?facet_limit=1&" + params)) == rows
    if not params:
        assert {r["value"] for r in rows} >= {e["value"] for a in ARTICLES for e in a["entities"]
                                              if not e["value"].startswith("@")}


def timeline_rows(client, params: str) -> list[tuple[str, int]]:
    rows = read_csv(client.get("/export/timeline.csv?" + params))
    assert all(list(r) == ["period", "count"] for r in rows)
    return [(r["period"], int(r["count"])) for r in rows]


TIMELINE_SEARCHES = ["", "q=harbour", "date=2023", "date=2024-06", "date=2022-03-08", "date=undated",
                     "entity_any=Anna+Berg&entity_any=Bruno+Dahl&entity_not=Oslo", "from=2023-03-01&to=2023-04-30",
                     "q=nosuchword"]


@pytest.mark.parametrize("level", ["", "year", "month", "day"])
@pytest.mark.parametrize("params", TIMELINE_SEARCHES, ids=lambda p: p or "everything")
def test_timeline_csv_sums_to_the_total_and_counts_what_date_filters_count(client, params, level):
    url = params + (f"&level={level}" if level else "")
    rows = timeline_rows(client, url)
    total = api(client, "/api/search?" + params)["total"]
    assert sum(n for _, n in rows) == total
    periods = [p for p, _ in rows]
    assert len(set(periods)) == len(periods)
    if "undated" in periods:
        assert periods[-1] == "undated"
    dated = [p for p in periods if p != "undated"]
    assert dated == sorted(dated, key=lambda p: [int(x) for x in p.split("-")] + [0, 0])
    if "date=" in params:
        return
    # Each row is what filtering on its period counts, less what finer rows inside it count.
    for period, n in rows:
        finer = sum(m for p, m in rows if p.startswith(period + "-"))
        assert api(client, "/api/search?" + urlencode(parse_qsl(params) + [("date", period)]))["total"] == n + finer


def page_bars(client, params: str) -> list[tuple[str, int]]:
    """The search page's timeline: ``(title, count)`` per bar."""
    page = client.get("/search?" + params).get_data(as_text=True)
    text = re.search(r'<figure class="timeline".*?</figure>', page, re.S).group(0)
    bars = re.findall(r'aria-label="([^"]+): (\d+) articles?"|<span class="bar-count[^"]*">([^<]+): no articles<',
                      text)
    return [(a, int(n)) if a else (empty, 0) for a, n, empty in bars]


@pytest.mark.parametrize("params", ["", "q=harbour", "date=2023", "date=2023-03", "entity=Anna+Berg",
                                    "from=2023-03-01&to=2023-04-30", "q=quay&date=2022",
                                    # one dated month and an undated article: the page drills to days
                                    "entity=David+Vik&entity=Farid+Strand"],
                         ids=lambda p: p or "everything")
def test_timeline_csv_is_at_the_level_the_page_charts(client, params):
    rows = timeline_rows(client, params)
    bars = page_bars(client, params)
    assert bars, "the page charts a timeline"
    width = max(len(p) for p, _ in rows if p != "undated")
    assert [(date_label(p), n) for p, n in rows if len(p) == width] == bars


def test_timeline_level_day_lists_every_day_of_the_filter(client):
    rows = timeline_rows(client, "date=2024&level=day")
    days = [p for p, _ in rows if len(p) == 10]
    assert days[0] == "2024-01-01" and days[-1] == "2024-12-31" and len(days) == 366


# -- bad parameters ------------------------------------------------------------------------------


@pytest.mark.parametrize("url,parameter", [
    ("/export.csv?sort=best", "sort"),
    ("/export.jsonl?date=2023-13", "date"),
    ("/export.jsonl?from=yesterday", "from"),
    ("/export.csv?entity=Oslo&entity_not=Oslo", "entity_not"),
    ("/export.csv?q=title:%5Ba+TO+z%5D", "q"),
    ("/export/facets.csv?to=2023-02-30", "to"),
    ("/export/facets.csv?entity=" + "&entity=".join(f"v{i}" for i in range(21)), "entity"),
    ("/export/timeline.csv?level=week", "level"),
    ("/export/timeline.csv?level=Year&q=harbour", "level"),
    ("/export/timeline.csv?from=2024-01-01&to=2023-01-01", "from"),
])
def test_a_bad_parameter_is_a_400_in_the_api_shape(client, url, parameter):
    response = client.get(url)
    assert response.status_code == 400
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["status"] == 400 and error["parameter"] == parameter and error["message"]
    assert "Content-Disposition" not in response.headers


def test_a_bad_level_names_the_choices_and_a_browser_gets_the_error_page(client):
    error = client.get("/export/timeline.csv?level=week").get_json()["error"]
    assert all(level in error["message"] for level in ("year", "month", "day"))
    response = client.get("/export/timeline.csv?level=week", headers={"Accept": "text/html,*/*;q=0.8"})
    assert response.status_code == 400 and response.mimetype == "text/html"
    assert "year, month, day" in response.get_data(as_text=True)


def test_ignored_page_parameters_are_not_checked(client):
    assert client.get("/export.csv?page=zero&per_page=100000&facet_limit=-1").status_code == 200


def test_unknown_routes_and_methods_under_export(client):
    assert client.get("/export/nothing.csv").status_code == 404
    assert client.post("/export.csv").status_code == 405


# -- streaming -----------------------------------------------------------------------------------


def test_hit_exports_stream_in_batches(app, monkeypatch):
    monkeypatch.setattr(web_export, "BATCH", 4)
    for url, kind in (("/export.csv?q=harbour", "csv"), ("/export.jsonl?q=harbour", "jsonl")):
        with app.test_request_context(url):
            response = app.full_dispatch_request()
            assert response.is_streamed  # a generator, not a body built whole
            chunks = list(response.response)
            response.close()
        total = 20  # "harbour" is in the even rows
        assert len(chunks) == (kind == "csv") + -(-total // 4)
    with app.test_request_context("/export/timeline.csv"):
        assert not app.full_dispatch_request().is_streamed  # small: sent whole


def test_the_backend_reads_one_batch_at_a_time(index_dir):
    backend = WhooshBackend(index_dir)
    reads = []
    original = WhooshBackend._read_stored

    def counting(self, reader, docnum):
        reads.append(docnum)
        return original(self, reader, docnum)

    try:
        WhooshBackend._read_stored = counting
        stream = backend.iter_hits(SearchRequest(), batch_size=7)
        assert reads == [] and stream.total == 40  # matched, nothing read yet
        next(stream)
        assert len(reads) == 7
        for _ in range(7):
            next(stream)
        assert len(reads) == 14
        stream.close()
    finally:
        WhooshBackend._read_stored = original
        backend.close()


def test_a_running_export_holds_no_lock_and_does_not_block_other_requests(app, monkeypatch):
    monkeypatch.setattr(web_export, "BATCH", 2)
    client = app.test_client()
    response = client.get("/export.csv", buffered=False)
    chunks = iter(response.response)
    head, first = next(chunks), next(chunks)
    assert head.startswith(b"id,") and first.count(b"\r\n") == 2
    # Mid-download: the query service's locks are free, and another thread's request is answered.
    service = app.extensions["newsfacet"]["service"]
    assert service._shared["lock"].acquire(blocking=False)
    service._shared["lock"].release()
    assert service._shared["costly"].acquire(blocking=False)
    service._shared["costly"].release()
    answers = []
    other = threading.Thread(target=lambda: answers.append(app.test_client().get("/api/search?q=ferry").status_code))
    other.start()
    other.join(timeout=10)
    assert answers == [200]
    rest = b"".join(chunks)
    response.close()
    assert len(list(csv.reader(io.StringIO((head + first + rest).decode(), newline="")))) == 41


def test_a_download_dropped_early_releases_its_searcher(app, monkeypatch):
    monkeypatch.setattr(web_export, "BATCH", 2)
    closed = []
    original = WhooshBackend.iter_hits

    def watched(self, req, batch_size=500):
        stream = original(self, req, batch_size)
        release = stream._release
        stream._release = lambda: (closed.append(True), release())
        return stream

    monkeypatch.setattr(WhooshBackend, "iter_hits", watched)
    response = app.test_client().get("/export.jsonl", buffered=False)
    next(iter(response.response))
    response.close()  # the client went away after the first rows
    assert closed == [True]


def test_the_whoosh_path_keeps_the_search_order(client, monkeypatch):
    # Query shapes the array evaluator does not handle are ranked by Whoosh: export in that order too.
    def unsupported(self, parsed, tables, postings):
        if parsed is None:
            return original(self, parsed, tables, postings)
        raise Unsupported("forced")

    original = WhooshBackend._match_fast
    monkeypatch.setattr(WhooshBackend, "_match_fast", unsupported)
    for params in ("q=harbour+OR+quay", "q=ferry&entity_not=Oslo"):
        expected = [h["id"] for h in paged_hits(client, params)]
        assert [r["id"] for r in read_jsonl(client.get("/export.jsonl?" + params))] == expected


# -- links ---------------------------------------------------------------------------------------


def test_links_carry_the_search_and_are_on_the_page(client):
    params = "q=harbour&entity_any=Anna+Berg&entity_any=Clara+Lund&entity_not=Oslo&date=2023&sort=oldest&page=2"
    links = api(client, "/api/search?" + params + "&per_page=3&facet_limit=2")["links"]
    search = "q=harbour&entity_any=Anna+Berg&entity_any=Clara+Lund&entity_not=Oslo&date=2023"
    assert links["csv"] == f"/export.csv?{search}&sort=oldest"
    assert links["jsonl"] == f"/export.jsonl?{search}&sort=oldest"
    assert links["facets_csv"] == f"/export/facets.csv?{search}"
    assert links["timeline_csv"] == f"/export/timeline.csv?{search}"
    page = client.get("/search?" + params).get_data(as_text=True)
    for key, css in (("csv", "export-csv"), ("jsonl", "export-jsonl"), ("facets_csv", "export-facets"),
                     ("timeline_csv", "export-timeline")):
        href = re.search(rf'<a href="([^"]+)" class="{css}"', page).group(1).replace("&amp;", "&")
        assert href == links[key]
        assert client.get(href).status_code == 200
    assert dict(parse_qsl(urlsplit(links["csv"]).query))["sort"] == "oldest"
