"""OR / NOT entity filters and disjunctive facet counts equal brute force, on random corpora.

Each example draws a small JSONL corpus (given entities of the four types,
dates of every precision, a few words) and indexes it, then rewrites and
deletes some rows and indexes again, so the index has deleted documents and
several segments.  After each run, for random combinations of ``entity``,
``entity_any`` and ``entity_not`` (unknown values among them), a query and a
date filter, it checks against a pass over the rows themselves:

* the matching articles (every filter applied);
* every entity facet value: listed exactly when it has a count or a filter
  names it, with its count — disjunctive for a type with an OR group (the
  matches of every other filter), the matches' for the other types, and for
  an excluded value what dropping that exclusion brings back — and its
  ``selected`` and ``mode``;
* the date facet (every filter applied);
* :meth:`facet_values` for one type: all pages together, in its order,
  narrowed by ``contains``.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from search.api import FacetValuesRequest, SearchRequest
from search.ingest import build_index
from search.settings import Options
from search.whoosh_backend.facets import contains_key
from search.whoosh_backend.service import WhooshBackend

WORDS = ["harbour", "ferry", "council", "budget", "strike", "quay", "tanker", "storm"]
ENTITIES = {"Ana Silva": "person", "Tom Hale": "person", "Eva Lund": "person", "Lisbon": "place",
            "Oslo": "place", "Bergen": "place", "Port Authority": "org", "Harbour Board": "org",
            "Nordic Bank": "org", "Brexit": "other"}
UNKNOWN = "Nobody Known"
DATES = [None, "2023-01-05", "2023-01", "2023", "2024-02-29", "2024-03-01"]
DATE_FILTERS = [None, None, "2023", "2024", "2023-01", "undated"]
QUERIES = ["", "", "harbour", "ferry OR storm", "council -budget"]

row_strategy = st.fixed_dictionaries({
    "words": st.lists(st.sampled_from(WORDS), min_size=1, max_size=5),
    "date": st.sampled_from(DATES),
    "entities": st.lists(st.sampled_from(sorted(ENTITIES)), max_size=5, unique=True),
})
filter_strategy = st.fixed_dictionaries({
    "named": st.lists(st.tuples(st.sampled_from(sorted(ENTITIES) + [UNKNOWN]), st.sampled_from(["all", "any", "not"])),
                      max_size=6, unique_by=lambda t: t[0]),
    "q": st.sampled_from(QUERIES),
    "date": st.sampled_from(DATE_FILTERS),
    "type": st.sampled_from(["person", "org", "place", "other"]),
    "sort": st.sampled_from(["count", "name"]),
    "contains": st.sampled_from(["", "", "a", "or", "LISB", "o"]),
})


def write(folder: Path, rows: list[dict | None]) -> None:
    """One JSONL line per row (a deleted row stays as a line without text, skipped by the reader)."""
    with open(folder / "feed.jsonl", "w", encoding="utf-8") as fh:
        for i, row in enumerate(rows):
            if row is None:
                fh.write("{}\n")
                continue
            out = {"title": f"Story {i}", "text": " ".join(row["words"]) + ".",
                   "entities": [{"value": v, "type": ENTITIES[v]} for v in row["entities"]]}
            if row["date"]:
                out["date"] = row["date"]
            fh.write(json.dumps(out) + "\n")


def query_matches(q: str, words: set[str]) -> bool:
    if not q:
        return True
    if " OR " in q:
        return any(w in words for w in q.split(" OR "))
    if " -" in q:
        yes, no = q.split(" -")
        return yes in words and no not in words
    return q in words


def date_matches(date_filter: str | None, date: str | None) -> bool:
    if date_filter is None:
        return True
    if date_filter == "undated":
        return date is None
    return date is not None and (date == date_filter or date.startswith(date_filter + "-"))


class Brute:
    """The expected answer to one request, from the rows alone."""

    def __init__(self, rows: list[dict | None], req: SearchRequest):
        self.rows = {f"feed.jsonl#{i + 1}": r for i, r in enumerate(rows) if r is not None}
        self.req = req
        # A value is known when an article has it: one of the pool missing from the rows is unknown too.
        self.known = {v for r in self.rows.values() for v in r["entities"]}
        known_any = [v for v in req.entities_any if v in self.known]
        self.groups: dict[str, set[str]] = {}
        for v in known_any:
            self.groups.setdefault(ENTITIES[v], set()).add(v)
        if not known_any and req.entities_any:
            self.groups[""] = set()  # only unknown values: a group that matches nothing
        self.base = {p for p, r in self.rows.items()
                     if query_matches(req.q, set(r["words"])) and date_matches(req.date and req.date.value, r["date"])
                     and set(req.entities) <= set(r["entities"])}

    def passing(self, without_group: str | None = None, without_excluded: str | None = None) -> set[str]:
        out = set()
        for p in self.base:
            ents = set(self.rows[p]["entities"])
            if any(t != without_group and not (vals & ents) for t, vals in self.groups.items()):
                continue
            if any(v in ents for v in self.req.entities_not if v != without_excluded):
                continue
            out.add(p)
        return out

    def count(self, value: str) -> int:
        type_ = ENTITIES[value]
        if value in self.req.entities_not:
            docs = self.passing(without_excluded=value)
        else:
            docs = self.passing(without_group=type_ if type_ in self.groups else None)
        return sum(value in self.rows[p]["entities"] for p in docs)

    def facet(self) -> dict[str, dict]:
        named = {v for v in self.req.entities + self.req.entities_any + self.req.entities_not if v in self.known}
        out = {}
        for value in sorted(self.known):
            type_ = ENTITIES[value]
            n = self.count(value)
            if not n and value not in named:
                continue
            entry = {"value": value, "type": type_, "count": n, "selected": value in self.req.entities}
            if value in self.req.entities_not:
                entry["mode"] = "not"
            elif value in self.req.entities_any:
                entry["mode"] = "any"
            out[value] = entry
        return out

    def dates(self) -> list[dict]:
        dates = [self.rows[p]["date"] for p in self.passing()]
        flt = self.req.date
        if flt is None or flt.level == "undated":
            years = Counter(d[:4] for d in dates if d)
            out = [{"value": y, "count": n, "selected": False} for y, n in sorted(years.items())]
            if None in dates:
                out.append({"value": "undated", "count": dates.count(None), "selected": flt is not None})
            return out
        if flt.level == "year":
            months = Counter(d[:7] for d in dates if len(d) >= 7)
            return [{"value": m, "count": n, "selected": False} for m, n in sorted(months.items())]
        days = Counter(d for d in dates if len(d) == 10)
        return [{"value": d, "count": n, "selected": False} for d, n in sorted(days.items())]


def request_of(f: dict) -> SearchRequest:
    by_mode = {"all": [], "any": [], "not": []}
    for value, mode in f["named"]:
        by_mode[mode].append(value)
    return SearchRequest(q=f["q"], entities=tuple(by_mode["all"]), entities_any=tuple(by_mode["any"]),
                         entities_not=tuple(by_mode["not"]), date=f["date"], per_page=100, facet_limit=1000,
                         collapse="off")  # rows may repeat: their copies are tested in test_syndicated


def check(service: WhooshBackend, rows: list[dict | None], f: dict) -> None:
    req = request_of(f)
    brute = Brute(rows, req)
    result = service.search(req)
    assert {h.path for h in result.hits} == brute.passing() and result.total == len(brute.passing())
    listed = {e["value"]: e for e in result.facets["entity"]}
    assert listed == brute.facet()
    assert result.facets["date"] == brute.dates()
    # One type's values page by page, in its order, narrowed by contains.
    expected = [e for e in brute.facet().values() if e["type"] == f["type"]
                and contains_key(f["contains"]) in contains_key(e["value"])]
    if f["sort"] == "count":
        expected.sort(key=lambda e: (-e["count"], e["value"].casefold()))
    else:
        expected.sort(key=lambda e: e["value"].casefold())
    got, page = [], 1
    while True:
        answer = service.facet_values(FacetValuesRequest(
            f["type"], req, contains=f["contains"], sort=f["sort"], page=page, per_page=2))
        assert answer.total_values == len(expected)
        got += answer.values
        if not answer.values:
            break
        page += 1
    assert got == expected


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(row_strategy, min_size=1, max_size=9),
       edits=st.lists(st.one_of(st.none(), row_strategy), max_size=4),
       filters=st.lists(filter_strategy, min_size=8, max_size=8))
def test_or_not_and_disjunctive_counts_equal_brute_force(rows, edits, filters):
    tmp = Path(tempfile.mkdtemp(prefix="disjunctive-"))
    try:
        corpus, index_dir = tmp / "corpus", tmp / "index"
        corpus.mkdir()
        current: list[dict | None] = list(rows)
        write(corpus, current)
        build_index([corpus], index_dir, Options(), progress=False)
        service = WhooshBackend(index_dir)
        try:
            # The index holds the given entities as given (none merged, none extracted from the words).
            for hit in service.search(SearchRequest(per_page=100, collapse="off")).hits:
                given_row = current[int(hit.path.rsplit("#", 1)[1]) - 1]
                assert sorted((e["value"], e["type"]) for e in hit.entities) == sorted(
                    (v, ENTITIES[v]) for v in given_row["entities"])
            for f in filters[:4]:
                check(service, current, f)
            # Rewrite or delete the first rows and index again: deleted documents, a second segment.
            for i, edit in enumerate(edits[:len(current)]):
                current[i] = edit
            write(corpus, current)
            build_index([corpus], index_dir, Options(), progress=False)
            for f in filters[4:]:
                check(service, current, f)
        finally:
            service.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
