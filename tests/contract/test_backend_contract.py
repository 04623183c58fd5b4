"""What any search backend must answer, on the seeds and on the made-up sites.

Every expectation is stated from the corpus — the seeds' known facts and the
sites' manifest (titles, dates with their precision, body sentences) — not
read back from one engine, so a second engine passes these tests only by
giving the same totals, hits, facet values, types, counts and flags.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import shutil
from collections import Counter

import pytest

from search.api import SearchBackend, SearchRequest, build_index, open_backend

from ..conftest import SEEDS, SEEDS_CRAWLED, copy_corpus
from ..test_syndicated import COPIES, plant, row
from .conftest import indexed, settings_for

MARZOUK = "Mousa Abu Marzouk"
UNTAGGED = re.compile(r"<(?!/?mark>)")


def everything(backend: SearchBackend, **kw) -> list:
    """Every hit of a search, page by page (every copy of a syndicated story unless *kw* says otherwise)."""
    hits, page = [], 1
    kw.setdefault("collapse", "off")
    while True:
        result = backend.search(SearchRequest(per_page=100, page=page, **kw))
        hits += result.hits
        if len(hits) >= result.total:
            return hits
        page += 1


# -- the protocol -------------------------------------------------------------------------------


def test_backends_implement_the_protocol(seeds):
    assert isinstance(seeds, SearchBackend)
    view = seeds.open()
    try:
        assert view.search(SearchRequest()).total == 5
    finally:
        view.close()
    assert seeds.count() == 5
    assert isinstance(seeds.generation(), int)


# -- totals, facets and flags on the seeds --------------------------------------------------------


def test_browse_the_seeds(seeds):
    result = seeds.search(SearchRequest())
    assert result.total == 5 and len(result.hits) == 5
    assert result.facets["date"] == [
        {"value": "2023", "count": 1, "selected": False},
        {"value": "2024", "count": 1, "selected": False},
        {"value": "undated", "count": 3, "selected": False},
    ]
    assert result.suggestion is None and result.notice is None


def test_entity_values_types_and_counts(seeds):
    facets = {f["value"]: f for f in seeds.search(SearchRequest(facet_limit=100)).facets["entity"]}
    assert facets[MARZOUK] == {"value": MARZOUK, "type": "person", "count": 4, "selected": False}
    assert facets["Hamas"] == {"value": "Hamas", "type": "org", "count": 5, "selected": False}
    assert facets["Moscow"]["type"] == "place"
    # One value per entity: no value is listed under two types.
    assert not [v for v, n in Counter(f["value"] for f in facets.values()).items() if n > 1]


def test_facets_most_frequent_first_then_by_name(seeds):
    entries = seeds.search(SearchRequest(facet_limit=100)).facets["entity"]
    keys = [(-f["count"], f["value"].casefold()) for f in entries]
    assert keys == sorted(keys)


def test_facet_limit_is_per_type_and_keeps_selected_values(seeds):
    entries = seeds.search(SearchRequest(facet_limit=1, entities=(MARZOUK,))).facets["entity"]
    by_type = Counter(f["type"] for f in entries if not f["selected"])
    assert max(by_type.values()) == 1
    assert [f for f in entries if f["selected"]] == [
        {"value": MARZOUK, "type": "person", "count": 4, "selected": True}]


def test_an_entity_filter_narrows_and_is_selected(seeds):
    result = seeds.search(SearchRequest(entities=(MARZOUK,)))
    assert result.total == 4
    assert all(any(e["value"] == MARZOUK for e in h.entities) for h in result.hits)
    both = seeds.search(SearchRequest(entities=(MARZOUK, "Hamas")))
    assert both.total == 4
    assert {f["value"] for f in both.facets["entity"] if f["selected"]} == {MARZOUK, "Hamas"}
    assert seeds.search(SearchRequest(entities=("No Such Entity",))).total == 0


# -- dates: drill levels and the undated bucket, against the manifest ------------------------------


def _manifest_dates(sites_manifest) -> list[str | None]:
    return [v["date"] for v in sites_manifest.values()]


def test_date_facet_years_and_undated(sites, sites_manifest):
    dates = _manifest_dates(sites_manifest)
    years = Counter(d[:4] for d in dates if d)
    expected = [{"value": y, "count": n, "selected": False} for y, n in sorted(years.items())]
    expected.append({"value": "undated", "count": dates.count(None), "selected": False})
    assert sites.search(SearchRequest()).facets["date"] == expected
    undated = sites.search(SearchRequest(date="undated"))
    assert undated.total == dates.count(None)
    assert undated.facets["date"] == [{"value": "undated", "count": dates.count(None), "selected": True}]
    assert all(h.date is None and h.date_precision == "none" for h in undated.hits)


@pytest.mark.parametrize("year", ["2023", "2024"])
def test_drill_into_a_year_then_a_month_then_a_day(sites, sites_manifest, year):
    dates = [d for d in _manifest_dates(sites_manifest) if d and d.startswith(year)]
    result = sites.search(SearchRequest(date=year))
    assert result.total == len(dates)
    months = Counter(d[:7] for d in dates if len(d) >= 7)
    assert result.facets["date"] == [{"value": m, "count": n, "selected": False} for m, n in sorted(months.items())]
    for month, n in months.items():
        in_month = sites.search(SearchRequest(date=month))
        assert in_month.total == n  # a month holds its days and the articles dated only to it
        days = Counter(d for d in dates if len(d) == 10 and d.startswith(month))
        assert in_month.facets["date"] == [
            {"value": d, "count": c, "selected": False} for d, c in sorted(days.items())]
        for day, c in days.items():
            on_day = sites.search(SearchRequest(date=day))
            assert on_day.total == c
            assert on_day.facets["date"] == [{"value": day, "count": c, "selected": True}]


def test_hits_carry_the_manifest_date_and_precision(sites, sites_manifest):
    by_title = {v["title"]: v for v in sites_manifest.values()}
    hits = everything(sites)
    assert len(hits) == len(sites_manifest)
    for hit in hits:
        want = by_title[hit.title]
        assert (hit.date, hit.date_precision) == (want["date"], want["date_precision"])


def test_day_range_takes_month_and_year_dates_from_their_first_day(sites, sites_manifest):
    dates = [d for d in _manifest_dates(sites_manifest) if d]
    result = sites.search(SearchRequest(date_from=dt.date(2024, 4, 1), date_to=dt.date(2024, 4, 30)))
    expected = [d for d in dates if d.startswith("2024-04")]
    assert result.total == len(expected)


# -- order and paging ---------------------------------------------------------------------------------


@pytest.mark.parametrize("sort", ["newest", "oldest"])
def test_date_sorts_put_undated_last(sites, sort):
    hits = everything(sites, sort=sort)
    dated = [h.date for h in hits if h.date]
    assert [h.date for h in hits[len(dated):]] == [None] * (len(hits) - len(dated))
    # An imprecise date sorts before the days it may stand for: 2024-05 as 20240500.
    keys = [d.replace("-", "").ljust(8, "0") for d in dated]
    assert keys == sorted(keys, reverse=sort == "newest")


def test_an_empty_query_browses_newest_first(sites):
    assert [h.id for h in everything(sites)] == [h.id for h in everything(sites, sort="newest")]


def test_pages_do_not_overlap(sites):
    whole = sites.search(SearchRequest(q="the", per_page=100))
    pages = [sites.search(SearchRequest(q="the", per_page=4, page=p)).hits for p in range(1, 8)]
    ids = [h.id for page in pages for h in page]
    assert len(ids) == len(set(ids)) == whole.total
    assert ids == [h.id for h in whole.hits]  # relevance: the same order in pages as in one


def test_past_the_last_page(sites):
    result = sites.search(SearchRequest(q="the", page=50))
    assert result.hits == [] and result.total > 0


# -- query syntax ------------------------------------------------------------------------------------


@pytest.mark.parametrize("q, path", [
    ("tromso", "txt_northsealedger/nl02_tromso_permafrost.txt"),  # the text says Tromsø
    ('"seafront parking"', "txt_harbourgazette/hg01_parking_charges.txt"),
])
def test_folding_and_phrases(sites, sites_manifest, q, path):
    assert sites_manifest[path]["title"] in {h.title for h in everything(sites, q=q)}


def test_boolean_operators_agree_with_sets(sites):
    def ids(q: str) -> set[str]:
        return {h.id for h in everything(sites, q=q)}

    a, b = ids("council"), ids("minister")
    assert ids("council OR minister") == a | b
    assert ids("council minister") == a & b
    assert ids("council AND minister") == a & b
    assert ids("council NOT minister") == ids("council -minister") == a - b
    assert ids("title:council") <= a | ids("title:council")
    assert ids("counc*") >= a


def test_stemming(sites):
    assert {h.id for h in everything(sites, q="estimates")} == {h.id for h in everything(sites, q="estimated")}


# -- snippets, more-like-this, did-you-mean, documents -------------------------------------------------


def test_snippets_mark_the_terms_and_escape_everything_else(sites):
    result = sites.search(SearchRequest(q="council"))
    assert result.total > 0
    for hit in result.hits:
        assert "<mark>" in hit.snippet
        assert not UNTAGGED.search(hit.snippet)
        marked = re.findall(r"<mark>(.*?)</mark>", hit.snippet)
        assert all(html.unescape(m).lower().startswith("council") for m in marked)


def test_more_like_this(seeds):
    source = seeds.search(SearchRequest(q="Marzouk")).hits[0]
    similar = seeds.similar(source.id)
    assert 0 < len(similar) <= 5 and source.id not in {h.id for h in similar}
    assert all(seeds.document(h.id) is not None for h in similar)
    assert seeds.similar("0000000000000000") == []


# Reuters-like wire stories on three subjects, each told in its own words (no two are copies).
TOPICS = {
    "crude": [
        "Opec ministers agreed to cut crude output by one million barrels a day, sending Brent futures "
        "up three dollars as refiners scrambled for cargoes ahead of the winter heating season.",
        "Saudi Arabia told customers it would trim crude allocations next month, a sign Opec's output "
        "cut is holding; Brent futures rose and tanker rates out of the Gulf fell.",
        "Refiners in Rotterdam paid more for Brent cargoes after Opec's output cut, and traders said "
        "crude stocks at the hub had dropped to their lowest in two years.",
    ],
    "grain": [
        "Egypt bought 240,000 tonnes of wheat from Romania and Ukraine at its latest tender, the state "
        "grain agency said, paying slightly less per tonne than at the tender before.",
        "Wheat exporters in Ukraine shipped a record tonnage through Odessa in March as the grain agency "
        "of Egypt stepped up purchases at its weekly tender.",
        "Romania's wheat harvest will top nine million tonnes, the farm ministry forecast, leaving more "
        "grain for export tenders in Egypt and Algeria.",
    ],
    "rates": [
        "The Bundesbank left its discount rate unchanged at three percent, and economists said the "
        "central bank would wait for money supply figures before easing.",
        "Money supply growth in West Germany slowed in February, giving the Bundesbank room to cut its "
        "discount rate, central bank economists in Frankfurt said.",
    ],
}


@pytest.fixture(scope="module")
def wire(backend_name, tmp_path_factory):
    root = tmp_path_factory.mktemp(f"contract-wire-{backend_name}")
    folder = root / "news"
    folder.mkdir()
    for topic, stories in TOPICS.items():
        for i, text in enumerate(stories):
            title = " ".join(text.split()[:6])
            (folder / f"{topic}{i}.jsonl").write_text(row(title, f"1987-03-{10 + i:02d}", "Wire", [text]) + "\n",
                                                       encoding="utf-8")
    backend = indexed(backend_name, folder, root / "index")
    yield backend
    backend.close()


def test_more_like_this_lists_the_stories_on_the_same_subject_first(wire):
    by_path = {h.path: h for h in everything(wire)}
    assert len(by_path) == sum(len(s) for s in TOPICS.values())
    for path, hit in by_path.items():
        topic = re.match(r"[a-z]+", path).group()
        same = sum(1 for p in by_path if p.startswith(topic)) - 1
        listed = [h.path for h in wire.similar(hit.id)]
        assert [re.match(r"[a-z]+", p).group() for p in listed[:same]] == [topic] * same, (path, listed)
        assert path not in listed


@pytest.fixture(scope="module")
def planted_copies(backend_name, tmp_path_factory):
    root = tmp_path_factory.mktemp(f"contract-similar-{backend_name}")
    backend = indexed(backend_name, plant(root / "news"), root / "index")
    yield backend
    backend.close()


def test_more_like_this_leaves_out_the_articles_own_copies(planted_copies):
    """A syndicated copy is the same story, not a similar one: the other story on the subject comes first."""
    by_path = {h.path: h for h in everything(planted_copies)}
    for path in COPIES:
        listed = [h.path for h in planted_copies.similar(by_path[path].id)]
        assert listed and listed[0] == "talks.jsonl#1", (path, listed)
        assert not set(listed) & set(COPIES), (path, listed)
    # The other story's similar articles are the copies (and may be every one of them).
    assert set(COPIES) <= {h.path for h in planted_copies.similar(by_path["talks.jsonl#1"].id, limit=10)}


def test_did_you_mean(seeds):
    wrong = seeds.search(SearchRequest(q="hamaz"))
    assert wrong.total == 0 and wrong.suggestion == "hamas"
    assert seeds.search(SearchRequest(q=wrong.suggestion)).total == 5
    assert seeds.search(SearchRequest(q="hamas")).suggestion is None


def test_document_view(sites, sites_manifest):
    by_title = {v["title"]: v for v in sites_manifest.values()}
    for hit in everything(sites):
        doc = sites.document(hit.id)
        assert (doc.id, doc.title, doc.path, doc.date, doc.source, doc.url) == (
            hit.id, hit.title, hit.path, hit.date, hit.source, hit.url)
        assert doc.entities == hit.entities
        want = by_title[hit.title]
        for sentence in want["body_sentences"]:
            assert sentence in doc.body
        assert doc.date_evidence or doc.date is None
    assert sites.document("0000000000000000") is None


def test_entities_listing(seeds):
    rows = {(r.value, r.type): r for r in seeds.entities()}
    hamas = rows[("Hamas", "org")]
    assert hamas.count == 5 and "Hamas" in hamas.spellings
    assert rows[(MARZOUK, "person")].count == 4
    assert len(rows[(MARZOUK, "person")].spellings) >= 2  # the spellings merged into it
    assert all(r.type == "person" for r in seeds.entities("person"))


def test_highlight(seeds):
    marked = seeds.highlight("Hamas leaders & <b>Moscow</b> talks", "hamas moscow")
    assert marked == "<mark>Hamas</mark> leaders &amp; &lt;b&gt;<mark>Moscow</mark>&lt;/b&gt; talks"


# -- incremental add, update, delete -----------------------------------------------------------------


def test_incremental_add_update_delete(backend_name, tmp_path):
    corpus = copy_corpus(SEEDS, tmp_path / "seeds", SEEDS_CRAWLED)
    settings = settings_for(backend_name, tmp_path / "index")
    build_index([corpus], settings, progress=False)
    backend = open_backend(settings)
    try:
        before = {h.path: h for h in everything(backend)}
        assert len(before) == 5
        files = sorted(corpus.glob("*.txt"))
        files[0].unlink()
        files[1].write_text("Harbour dredging resumes\n\nDredgers returned to the harbour on Monday.\n",
                            encoding="utf-8")
        shutil.copy(files[2], corpus / "copy_of_third.txt")
        (corpus / "new_story.txt").write_text("Ferry strike ends\n\nThe ferry crews voted to return to work.\n",
                                              encoding="utf-8")
        report = build_index([corpus], settings, progress=False)
        assert (report.added, report.removed) == (2, 1) and report.updated >= 1
        after = {h.path: h for h in everything(backend)}
        assert set(after) == set(before) - {files[0].name} | {"copy_of_third.txt", "new_story.txt"}
        assert backend.document(before[files[0].name].id) is None
        assert after[files[1].name].title == "Harbour dredging resumes"
        assert backend.search(SearchRequest(q="dredgers")).total == 1
        assert backend.search(SearchRequest(q="ferry crews")).total == 1
        assert backend.count() == 6
        again = build_index([corpus], settings, progress=False)
        assert (again.added, again.updated, again.removed, again.unchanged) == (0, 0, 0, 6)
    finally:
        backend.close()
