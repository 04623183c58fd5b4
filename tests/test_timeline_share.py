"""The timeline normalised by volume (``timeline=share``) through HTTP.

* On random corpora (the generator of :mod:`tests.test_disjunctive`, with ``from``/``to``
  bounds too), ``/api/search``'s ``"timeline"`` equals a pass over the rows: its level
  (one below the date filter, further down while that would be a single period), its
  periods with gaps, and per period the matches, all the articles of the period within the
  date filters, and their share; 0 ≤ share ≤ 1, count ≤ total, and without a query or an
  entity filter every share is 1.
* On the seeds: counts and totals agree with date-filtered searches, the mode toggle on the
  page is a URL parameter in canonical order that round-trips, a bad mode is a 400 naming
  the valid ones, and ``facets.date`` is unchanged.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import shutil
import tempfile
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from search.api import SearchRequest, request_from_params
from search.ingest import build_index
from search.settings import Options

from .conftest import get_json, make_app
from .test_disjunctive import Brute, date_matches, filter_strategy, request_of, row_strategy, write

LENGTH = {"year": 4, "month": 7, "day": 10}
BOUNDS = [None, None, "2023-01-01", "2023-01-06", "2024-02-29", "2024-03-01"]


def in_range(date: str | None, lo: str | None, hi: str | None) -> bool:
    """The ``from``/``to`` rule: a partial date counts from the first day of its period
    when the bound is the first of that period (see matching._range_bounds)."""
    if lo is None and hi is None:
        return True
    if date is None:
        return False
    parts = [int(p) for p in date.split("-")] + [0, 0]
    num = parts[0] * 10000 + parts[1] * 100 + parts[2]
    if lo is not None:
        d = dt.date.fromisoformat(lo)
        month = 0 if d.month == 1 and d.day == 1 else d.month
        if num < d.year * 10000 + month * 100 + (0 if d.day == 1 else d.day):
            return False
    if hi is not None:
        d = dt.date.fromisoformat(hi)
        if num > d.year * 10000 + d.month * 100 + d.day:
            return False
    return True


def below(date: str | None) -> str:
    if date is None or date == "undated":
        return "year"
    return {4: "month", 7: "day", 10: "day"}[len(date)]


def at_level(dates: list[str | None], level: str) -> dict[str, int]:
    """Articles per period at *level* (those dated at least that precisely)."""
    out: dict[str, int] = {}
    for d in dates:
        if d is not None and len(d) >= LENGTH[level]:
            out[d[:LENGTH[level]]] = out.get(d[:LENGTH[level]], 0) + 1
    return out


def brute_timeline(rows, req: SearchRequest, lo, hi) -> dict:
    brute = Brute(rows, req)
    matches = [brute.rows[p]["date"] for p in brute.passing() if in_range(brute.rows[p]["date"], lo, hi)]
    flt = req.date.value if req.date else None
    everything = [r["date"] for r in brute.rows.values()
                  if date_matches(flt, r["date"]) and in_range(r["date"], lo, hi)]
    within = flt if flt != "undated" else None
    level = below(flt)
    for _ in range(2):
        found = at_level(matches, level)
        if len(found) != 1 or level == "day":
            break
        within = next(iter(found))
        level = below(within)
    found = at_level(matches, level)
    totals = at_level(everything, level)
    if not found:
        keys = []
    elif level == "year":
        keys = [f"{y:04d}" for y in range(int(min(found)), int(max(found)) + 1)]
    elif level == "month":
        keys = [f"{within}-{m:02d}" for m in range(1, 13)]
    elif len(within) == 10:
        keys = [within]
    else:
        y, m = int(within[:4]), int(within[5:7])
        keys = [f"{within}-{d:02d}" for d in range(1, calendar.monthrange(y, m)[1] + 1)]
    periods = [{"value": k, "count": found.get(k, 0), "total": totals.get(k, 0),
                "share": found.get(k, 0) / totals[k] if totals.get(k) else None} for k in keys]
    return {"mode": req.timeline, "level": level, "within": within, "periods": periods}


def check(client, rows, f: dict, lo, hi, mode: str) -> None:
    req = request_of(f)
    pairs = req.to_params() + [(k, v) for k, v in (("from", lo), ("to", hi)) if v] + [("timeline", mode)]
    if lo and hi and lo > hi:
        assert client.get("/api/search?" + urlencode(pairs)).status_code == 400
        return
    response = client.get("/api/search?" + urlencode(pairs))
    assert response.status_code == 200, response.data
    data = response.get_json()
    req = request_from_params(MultiDict(pairs))
    assert data["timeline"] == brute_timeline(rows, req, lo, hi)
    for p in data["timeline"]["periods"]:
        assert 0 <= p["count"] <= p["total"]
        assert p["share"] is None if not p["total"] else 0 <= p["share"] <= 1
        if not req.q and not (req.entities or req.entities_any or req.entities_not) and p["total"]:
            assert p["share"] == 1


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(row_strategy, min_size=1, max_size=10),
       edits=st.lists(st.one_of(st.none(), row_strategy), max_size=4),
       filters=st.lists(filter_strategy, min_size=6, max_size=6),
       bounds=st.lists(st.tuples(st.sampled_from(BOUNDS), st.sampled_from(BOUNDS)), min_size=6, max_size=6),
       modes=st.lists(st.sampled_from(["count", "share"]), min_size=6, max_size=6))
def test_share_timeline_equals_brute_force_on_random_corpora(rows, edits, filters, bounds, modes):
    tmp = Path(tempfile.mkdtemp(prefix="timeline-share-"))
    try:
        corpus, index_dir = tmp / "corpus", tmp / "index"
        corpus.mkdir()
        current = list(rows)
        write(corpus, current)
        build_index([corpus], index_dir, Options(), progress=False)
        app = make_app(index_dir, tmp)
        client = app.test_client()
        for i in range(3):
            f = dict(filters[i]) if i else dict(filters[i], named=[], q="")  # one without any filter
            check(client, current, f, *bounds[i], modes[i])
        for i, edit in enumerate(edits[:len(current)]):
            current[i] = edit
        write(corpus, current)
        build_index([corpus], index_dir, Options(), progress=False)
        for i in range(3, 6):
            check(client, current, filters[i], *bounds[i], modes[i])
        app.extensions["newsfacet"]["service"].close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# -- the seeds ------------------------------------------------------------------------------------


@pytest.fixture
def client(seed_app):
    return seed_app.test_client()


@pytest.mark.parametrize("query", ["q=Hamas", "entity=Hamas", "q=Hamas+OR+Russia", ""])
def test_counts_and_totals_are_the_date_filtered_searches(client, query):
    data = get_json(client, f"/api/search?{query}&timeline=share")
    t = data["timeline"]
    assert t["mode"] == "share" and t["level"] == "year" and t["within"] is None
    assert len(t["periods"]) >= 2
    for p in t["periods"]:
        assert p["count"] == get_json(client, f"/api/search?{query}&date={p['value']}")["total"]
        assert p["total"] == get_json(client, f"/api/search?date={p['value']}")["total"]
        assert p["share"] == (p["count"] / p["total"] if p["total"] else None)
    # At the top level every dated match is in a period; with the undated ones they are the total.
    undated = next((f["count"] for f in data["facets"]["date"] if f["value"] == "undated"), 0)
    assert sum(p["count"] for p in t["periods"]) + undated == data["total"]
    # The mode changes nothing else: facets.date and the counts are the count mode's.
    counted = get_json(client, f"/api/search?{query}")
    assert counted["timeline"] == dict(t, mode="count")
    assert counted["facets"] == data["facets"] and counted["total"] == data["total"]
    if not query:
        assert all(p["share"] == 1 for p in t["periods"] if p["total"])


def test_a_bad_mode_is_a_400_naming_the_valid_ones(client):
    data = get_json(client, "/api/search?timeline=percent", 400)
    assert data["error"]["parameter"] == "timeline"
    assert "count" in data["error"]["message"] and "share" in data["error"]["message"]
    assert client.get("/search?timeline=percent").status_code == 400
    assert get_json(client, "/api/search?timeline=")["timeline"]["mode"] == "count"


def toggle(html: str, label: str) -> str:
    m = re.search(rf'<a href="([^"]+)" class="timeline-mode">{label}</a>', html)
    assert m, label
    return m.group(1).replace("&amp;", "&")


def canonical(href: str) -> bool:
    pairs = parse_qsl(urlsplit(href).query)
    return pairs == request_from_params(MultiDict(pairs)).to_params()


def test_the_toggle_is_a_canonical_url_that_round_trips(client):
    start = "/search?sort=oldest&q=Hamas&page=2&per_page=2"
    page = client.get(start).get_data(as_text=True)
    assert "Matches per year" in page and '<strong aria-current="true">Matching articles</strong>' in page
    share = toggle(page, "Share of all articles")
    assert share == "/search?q=Hamas&sort=oldest&page=2&per_page=2&timeline=share" and canonical(share)
    shared = client.get(share).get_data(as_text=True)
    assert "Share of all articles per year that match" in shared
    assert '<strong aria-current="true">Share of all articles</strong>' in shared
    back = toggle(shared, "Matching articles")
    assert back == "/search?q=Hamas&sort=oldest&page=2&per_page=2" and canonical(back)
    # The bars keep the mode; the JSON twin has it; the exports, the feed and "more…" do not take it.
    bars = [h.replace("&amp;", "&") for h in re.findall(r'<a href="([^"]+)" class="bar-link"', shared)]
    assert bars and all(h.endswith("&timeline=share") and canonical(h) for h in bars)
    data = get_json(client, "/api/" + share[1:])
    assert data["query"]["timeline"] == "share" and data["links"]["json"].endswith("&timeline=share")
    for name in ("atom", "csv", "jsonl", "facets_csv", "timeline_csv"):
        assert "timeline=" not in data["links"][name], name
    assert "timeline=" not in "".join(re.findall(r'href="(/facets/[^"]+)"', shared))


def test_the_share_bars_say_count_total_and_share(client):
    page = client.get("/search?q=Hamas&timeline=share").get_data(as_text=True)
    data = get_json(client, "/api/search?q=Hamas&timeline=share")
    for p in data["timeline"]["periods"]:
        if p["count"]:
            pct = f"{p['share'] * 100:.0f}%"
            assert f'aria-label="{p["value"]}: {p["count"]:,} of {p["total"]:,} article' in page
            assert pct in page
