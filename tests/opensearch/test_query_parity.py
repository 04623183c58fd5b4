"""The OpenSearch translation finds what the Whoosh backend finds: same ids, same facets.

Each corpus (the seeds, the made-up sites, and the first Reuters-21578 file
when the corpus is there) is indexed with :func:`search.api.build_index`
into a Whoosh index; its stored fields are then written, one document per
article, into a throwaway OpenSearch index (3 shards, so facet exactness is
really at stake) with the fields the OpenSearch writer gives them.  For
every request below, the Whoosh backend's answer (every matching id, page
by page through :meth:`search` itself, and its facets) must equal what the
translated query, filters and aggregations give on the cluster
(:mod:`search.opensearch_backend.query`, :mod:`~search.opensearch_backend.aggs`),
retries for exactness included.

Requests use ``collapse=off``: collapsing syndicated copies is the
service's ``collapse``, not a translation (see the query module).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import random
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest

from search.api import Settings, build_index, open_backend
from search.document import ENTITY_TYPES
from search.limits import QueryLimits
from search.model import FacetValuesRequest, SearchRequest
from search.opensearch_backend import analysis
from search.opensearch_backend.aggs import (
    FacetSizes,
    facet_values_aggs,
    parse_aggs,
    parse_facet_values,
    search_aggs,
)
from search.opensearch_backend.query import (
    ValueTypes,
    parse_types,
    request_filters,
    search_body,
    types_request,
)
from search.querysyntax import check_cost, make_parser, parse_query
from search.whoosh_backend import schema as S
from search.whoosh_backend.facets import load_spelling_values, load_value_spellings
from search.whoosh_backend.store import ENTITY_STATE_FILE, open_index

pytestmark = [pytest.mark.opensearch]

ROOT = Path(__file__).resolve().parents[2]
REUTERS = Path(os.environ.get("NEWSFACET_REUTERS") or ROOT.parent / "shared" / "corpora" / "reuters21578")
INDEX_PREFIX = "q-parity-"
MAX_ROUNDS = 10

KEYWORD_FIELDS = (S.ID, S.PATH, S.ROOT, S.SOURCE, S.CONTENT_HASH, S.DATE, S.DATE_PRECISION, S.CLUSTER)


def index_mapping() -> dict:
    """The fields of the index the OpenSearch writer builds, as this test needs them."""
    props = {name: {"type": "keyword"} for name in KEYWORD_FIELDS}
    props.update({
        S.TITLE: {"type": "text", "analyzer": analysis.TEXT_ANALYZER},
        S.BODY: {"type": "text", "analyzer": analysis.TEXT_ANALYZER},
        S.WORDS: {"type": "text", "analyzer": analysis.WORDS_ANALYZER},
        S.DATE_NUM: {"type": "integer"},
        S.DATE_PATH: {"type": "keyword"},
        S.ENTITY: {"type": "keyword"},
        S.INDEXED_NUM: {"type": "long"},
    })
    return {"dynamic": "strict", "properties": props}


def ok(response, *codes):
    code, body = response
    assert code in (codes or (200,)), f"HTTP {code}: {json.dumps(body)[:2000]}"
    return body


def opensearch_doc(stored: dict) -> dict:
    """One article's OpenSearch document from its stored Whoosh fields (as Whoosh indexed them)."""
    doc = {name: stored[name] for name in KEYWORD_FIELDS if stored.get(name)}  # Whoosh indexes no empty ID
    doc[S.TITLE] = stored.get(S.TITLE) or ""
    doc[S.BODY] = stored.get(S.BODY) or ""
    doc[S.WORDS] = f"{doc[S.TITLE]}\n{doc[S.BODY]}"
    date = stored.get(S.DATE) or None
    doc[S.DATE_NUM] = S.date_num(date)
    doc[S.DATE_PATH] = S.date_path_terms(date)
    entities = json.loads(stored.get(S.ENTITIES) or "[]")
    doc[S.ENTITY] = sorted({S.entity_term(e["value"], e["type"]) for e in entities})
    doc[S.INDEXED_NUM] = int(stored.get(S.INDEXED_NUM) or 0)
    return doc


@dataclasses.dataclass
class Pair:
    name: str
    whoosh: object
    index: str
    spellings: dict[str, str]
    docs: int
    values: dict[str, list[str]]  # type -> values, most frequent first (to pick filters from)
    years: list[str]
    months: list[str]
    days: list[str]
    clusters: list[str]
    ids: list[str]
    value_spellings: dict[str, list[str]]
    texts: list[str]  # each article's title and body, to draw random queries from
    copies: list[str]  # ids of copies that are not their cluster's first


def reuters_dir(tmp_path_factory) -> Path | None:
    first = REUTERS / "reut2-000.sgm.gz"
    if not first.exists():
        return None
    dst = tmp_path_factory.mktemp("corpus") / "reuters"
    dst.mkdir()
    shutil.copy(first, dst / first.name)
    return dst


@pytest.fixture(scope="module", params=["seeds", "sites", "reuters"])
def pair(request, opensearch, seeds_dir, sites_dir, tmp_path_factory):
    corpus = {"seeds": lambda: seeds_dir, "sites": lambda: sites_dir,
              "reuters": lambda: reuters_dir(tmp_path_factory)}[request.param]()
    if corpus is None:
        pytest.skip(f"no reut2-000.sgm.gz in {REUTERS} (set NEWSFACET_REUTERS)")
    index_dir = tmp_path_factory.mktemp(f"parity-{request.param}")
    settings = Settings(backend="whoosh", index_dir=index_dir)
    report = build_index([corpus], settings, progress=False)
    assert not report.failed, report.failed
    whoosh = open_backend(settings)
    ix = open_index(index_dir)
    with ix.searcher() as searcher:
        # (In id order: the indexer's processes may store articles in any order, and random requests
        # are drawn from their texts.)
        docs = sorted((opensearch_doc(stored) for _, stored in searcher.reader().iter_docs()), key=lambda d: d[S.ID])
    name = INDEX_PREFIX + request.param
    ok(opensearch.request("DELETE", f"/{name}"), 200, 404)
    settings_body = {"number_of_shards": 3, "number_of_replicas": 0, "analysis": analysis.index_analysis()}
    ok(opensearch.request("PUT", f"/{name}?wait_for_active_shards=all",
                          {"settings": settings_body, "mappings": index_mapping()}, timeout=120))
    try:
        lines = []
        for doc in docs:
            lines += [json.dumps({"index": {"_id": doc[S.ID]}}), json.dumps(doc, ensure_ascii=False)]
        answer = ok(opensearch.request("POST", f"/{name}/_bulk?refresh=true", "\n".join(lines) + "\n",
                                       timeout=120, ndjson=True))
        assert not answer["errors"], [i for i in answer["items"] if "error" in i["index"]][:3]
        browse = whoosh.search(SearchRequest(facet_limit=1000, collapse="off"))
        values: dict[str, list[str]] = {}
        for v in browse.facets["entity"]:
            values.setdefault(v["type"], []).append(v["value"])
        dated = [d for d in docs if d[S.DATE_NUM]]
        paths = sorted({p for d in dated for p in d[S.DATE_PATH]},
                       key=lambda p: (-sum(p in d[S.DATE_PATH] for d in dated), p))
        yield Pair(
            request.param, whoosh, name, load_spelling_values(index_dir / ENTITY_STATE_FILE), len(docs), values,
            [p for p in paths if len(p) == 4], [p for p in paths if len(p) == 7], [p for p in paths if len(p) == 10],
            sorted({d[S.CLUSTER] for d in docs if S.CLUSTER in d}), sorted(d[S.ID] for d in docs),
            load_value_spellings(index_dir / ENTITY_STATE_FILE),
            [f"{d[S.TITLE]}\n{d[S.BODY]}" for d in docs],
            [d[S.ID] for d in docs if d.get(S.CLUSTER, d[S.ID]) != d[S.ID]])
    finally:
        whoosh.close()
        opensearch.request("DELETE", f"/{name}")


def pick(values: list[str], i: int, default: str = "Nobody Known") -> str:
    return values[i] if len(values) > i else default


def requests_for(p: Pair) -> list[SearchRequest]:
    """About forty requests: query syntax, then every kind of filter and their mixes."""
    person, org, place, other = (p.values.get(t, []) for t in ("person", "org", "place", "other"))
    year, month, day = pick(p.years, 0, "2020"), pick(p.months, 0, "2020-01"), pick(p.days, 0, "2020-01-01")
    queries = [
        "", "said", "the government", "Oil prices", '"prime minister"', '"the company said"', '"said on"~3',
        "oil OR gold", "said -oil", "NOT said", "said NOT the", "title:oil", "title:(bank OR trade)",
        "pric*", "o?l", "*ing", "+said bank", "bank AND (oil OR trade)", "tromsø", '"unbalanced quote',
        "(unbalanced", "said^3 bank", "date:[1987-01 TO 1987-03-05]", "date:1987*", "-",
    ]
    out = [SearchRequest(q=q, collapse="off") for q in queries]
    r = SearchRequest
    out += [
        r(entities=(pick(place, 0),), collapse="off"),
        r(q="said", entities=(pick(place, 0), pick(org, 0)), collapse="off"),
        r(entities_any=(pick(place, 0), pick(place, 1)), collapse="off"),
        r(entities_any=(pick(place, 1), pick(person, 0), pick(org, 1)), collapse="off"),
        r(entities_any=(pick(place, 2), "No Such Value"), entities_not=(pick(org, 0),), collapse="off"),
        r(entities_any=("No Such Value",), collapse="off"),
        r(entities_not=(pick(place, 0), pick(other, 0)), collapse="off"),
        r(q="the", entities=(pick(place, 0),), entities_any=(pick(org, 0), pick(org, 2)),
          entities_not=(pick(place, 1),), collapse="off"),
        r(entities=("No Such Value",), collapse="off"),
        r(date=year, collapse="off"),
        r(date=month, collapse="off"),
        r(date=day, collapse="off"),
        r(date="undated", collapse="off"),
        r(date=year, entities_any=(pick(place, 0), pick(place, 1)), facet_limit=3, collapse="off"),
        r(date_from=dt.date(1987, 3, 1), date_to=dt.date(1987, 3, 10), collapse="off"),
        r(date_from=dt.date(2023, 1, 1), collapse="off"),
        r(date_to=dt.date(2024, 6, 30), collapse="off"),
        r(indexed_after=dt.datetime(2000, 1, 1, tzinfo=dt.UTC), collapse="off"),
        r(indexed_after=dt.datetime.now(dt.UTC) + dt.timedelta(days=1), collapse="off"),
        r(cluster=pick(p.clusters, 0, pick(p.ids, 0)), collapse="off"),
        r(cluster=pick(p.ids, 1), collapse="off"),
        r(cluster=pick(p.copies, 0, "no-such-id"), collapse="off"),  # a later copy's id: that article alone
        r(facet_limit=1, collapse="off"),
        r(facet_limit=3, collapse="off"),
        r(q="said", facet_limit=2, entities_not=(pick(place, 0),), collapse="off"),
    ]
    # A merged spelling means its canonical value.
    listed = {v for vs in p.values.values() for v in vs}
    merged = [(s, v) for v, spellings in p.value_spellings.items() if v in listed for s in spellings
              if s != v and s not in listed]
    if merged:
        out.append(r(entities_any=(merged[0][0],), entities_not=(merged[-1][0],) if len(merged) > 1 else (),
                     collapse="off"))
    return out


def whoosh_answer(p: Pair, req: SearchRequest) -> tuple[list[str], dict, int]:
    first = p.whoosh.search(dataclasses.replace(req, per_page=100))
    ids = [h.id for h in first.hits]
    page = 1
    while len(ids) < first.total:
        page += 1
        ids += [h.id for h in p.whoosh.search(dataclasses.replace(req, per_page=100, page=page)).hits]
    return ids, first.facets, first.total


def resolver_for(opensearch, p: Pair, req: SearchRequest) -> ValueTypes:
    """Value types looked up on the cluster (:func:`types_request`), spellings from the resolver state."""
    named = req.entities + req.entities_any + req.entities_not
    types: dict[str, str] = {}
    if named:
        types = parse_types(ok(opensearch.request("POST", f"/{p.index}/_search", types_request(named))))
        canonical = [ValueTypes(types, p.spellings).canonical(v) for v in named]
        types.update(parse_types(ok(opensearch.request("POST", f"/{p.index}/_search", types_request(canonical)))))
    return ValueTypes(types, p.spellings)


def opensearch_answer(opensearch, p: Pair, req: SearchRequest, parser, limits,
                      small_shards: bool = False) -> tuple[list[str], dict, int, int]:
    """Ids, facets, total and rounds; *small_shards*: start with each shard returning only
    as many values as the answer lists, so that counts are inexact until retried."""
    parsed, _ = parse_query(parser, req.q)
    check_cost(parsed, limits)
    resolver = resolver_for(opensearch, p, req)
    filters = request_filters(req, resolver)
    sizes = None
    if small_shards:
        size = FacetSizes.initial(req.facet_limit)[0]
        sizes = FacetSizes({type_: (size, size) for type_ in ENTITY_TYPES})
    rounds = 0
    while True:
        rounds += 1
        assert rounds <= MAX_ROUNDS, f"facets not settled after {MAX_ROUNDS} rounds: {req}"
        body = search_body(parsed, filters)
        body.update(size=10_000, _source=False, aggs=search_aggs(req, filters, resolver.type_of, sizes))
        answer = ok(opensearch.request("POST", f"/{p.index}/_search", body))
        facets = parse_aggs(answer, req, filters, resolver.type_of, sizes)
        if facets.retry is None:
            break
        sizes = facets.retry
    ids = [h["_id"] for h in answer["hits"]["hits"]]
    assert answer["hits"]["total"] == {"value": len(ids), "relation": "eq"}
    assert facets.total == len(ids)
    return ids, facets.facets, len(ids), rounds


def random_requests(p: Pair, rng: random.Random, n: int) -> list[SearchRequest]:
    """*n* random requests: words, phrases lifted from the articles, wildcards, fields and
    operators, nested now and then, with a random filter or two."""
    texts = [re.findall(r"[A-Za-z]+", text) for text in p.texts]
    texts = [words for words in texts if len(words) >= 3]
    counts = Counter(w for words in texts for w in dict.fromkeys(w.lower() for w in words))  # (no set: seeded order)
    vocab = [w for w, _ in counts.most_common(300) if len(w) > 2]

    def phrase(size: int) -> str:
        words = rng.choice(texts)
        i = rng.randrange(len(words) - size + 1)
        return " ".join(words[i:i + size])

    def atom() -> str:
        w = rng.choice(vocab)
        kind = rng.randrange(9)
        return [w, w, f'"{phrase(2)}"', f'"{phrase(3)}"', f'"{phrase(2)}"~3', w[:3] + "*",
                w[0] + "?" + w[2:], f"title:{w}", f"({w} OR {rng.choice(vocab)})"][kind]

    joins = [" ", " ", " OR ", " AND ", " -", " NOT ", " AND NOT "]
    out = []
    values = [v for vs in p.values.values() for v in vs[:8]]
    for _ in range(n):
        q = atom()
        for _ in range(rng.randrange(3)):
            q += rng.choice(joins) + atom()
        if rng.random() < 0.15:
            q = "NOT " + q
        extra: dict = {}
        if values and rng.random() < 0.4:
            extra["entities_any"] = tuple(rng.sample(values, min(len(values), rng.randint(1, 3))))
        if values and rng.random() < 0.3:
            extra["entities_not"] = tuple(v for v in rng.sample(values, 1) if v not in extra.get("entities_any", ()))
        if p.years and rng.random() < 0.2:
            extra["date"] = rng.choice(p.years + p.months[:3])
        out.append(SearchRequest(q=q, facet_limit=rng.choice([1, 3, 20]), collapse="off", **extra))
    return out


@pytest.mark.parametrize("kind", ["chosen", "random", "small shards"])
def test_query_parity(opensearch, pair, kind, capsys):
    parser = make_parser()
    limits = QueryLimits()
    requests = random_requests(pair, random.Random(16), 60) if kind == "random" else requests_for(pair)
    differences = []
    matched = second_rounds = most_rounds = 0
    for req in requests:
        w_ids, w_facets, w_total = whoosh_answer(pair, req)
        o_ids, o_facets, o_total, rounds = opensearch_answer(opensearch, pair, req, parser, limits,
                                                             small_shards=kind == "small shards")
        second_rounds += rounds > 1
        most_rounds = max(most_rounds, rounds)
        matched += bool(w_total)
        if sorted(w_ids) != sorted(o_ids) or w_facets != o_facets or w_total != o_total:
            differences.append((req, sorted(set(w_ids) ^ set(o_ids))[:5], w_total, o_total,
                                [f for f in w_facets["entity"] if f not in o_facets["entity"]][:3],
                                [f for f in o_facets["entity"] if f not in w_facets["entity"]][:3],
                                w_facets["date"] if w_facets["date"] != o_facets["date"] else None,
                                o_facets["date"] if w_facets["date"] != o_facets["date"] else None))
    with capsys.disabled():
        print(f"\nquery parity, {pair.name} ({pair.docs} articles), {kind}: {len(requests) - len(differences)}/"
              f"{len(requests)} requests equal, {matched} with matches, {second_rounds} took more than one round "
              f"(at most {most_rounds})")
    assert not differences, "\n".join(repr(d)[:1500] for d in differences)


def facet_value_requests(p: Pair) -> list[FacetValuesRequest]:
    """Facet pages: every type, both sorts, a second page, ``contains`` (a merged spelling's
    text too), and the disjunctive and excluded counts of a search with OR and NOT filters."""
    place, org = p.values.get("place", []), p.values.get("org", [])
    mixed = SearchRequest(entities_any=(pick(place, 0), pick(place, 1)), entities_not=(pick(org, 0),),
                          collapse="off")
    out = [FacetValuesRequest(type_, SearchRequest(collapse="off"), sort=sort)
           for type_ in ("person", "org", "place", "other") for sort in ("count", "name")]
    out += [
        FacetValuesRequest("place", mixed), FacetValuesRequest("org", mixed, sort="name"),
        FacetValuesRequest("place", SearchRequest(q="said", collapse="off"), per_page=3, page=2),
        FacetValuesRequest("place", mixed, contains=pick(place, 0)[:3].lower()),
        FacetValuesRequest("org", SearchRequest(collapse="off"), contains="a"),
    ]
    merged = [(s, v) for v, spellings in p.value_spellings.items() for s in spellings if s != v]
    if merged:
        spelling, value = merged[0]
        type_ = next((t for t, vs in p.values.items() if value in vs), "person")
        out.append(FacetValuesRequest(type_, SearchRequest(collapse="off"), contains=spelling))
    return out


def test_facet_values_parity(opensearch, pair, capsys):
    parser = make_parser()
    requests = facet_value_requests(pair)
    differences = []
    for freq in requests:
        expected = pair.whoosh.facet_values(freq)
        parsed, _ = parse_query(parser, freq.search.q)
        resolver = resolver_for(opensearch, pair, freq.search)
        filters = request_filters(freq.search, resolver)
        size = 2  # small on purpose: the answer must say it holds too few values, and be asked again
        for _ in range(MAX_ROUNDS):
            body = search_body(parsed, filters)
            body.update(size=0, aggs=facet_values_aggs(freq.type, filters, resolver.type_of, size))
            answer = ok(opensearch.request("POST", f"/{pair.index}/_search", body))
            got = parse_facet_values(answer, freq.type, filters, resolver.type_of, freq.contains, freq.sort,
                                     freq.page, freq.per_page, pair.value_spellings, size)
            if got.retry is None:
                break
            size = got.retry
        assert got.retry is None, f"not settled after {MAX_ROUNDS} rounds: {freq}"
        if (got.total_values, got.values) != (expected.total_values, expected.values):
            differences.append((freq, expected.total_values, got.total_values, expected.values[:3], got.values[:3]))
    with capsys.disabled():
        print(f"\nfacet values parity, {pair.name}: {len(requests) - len(differences)}/{len(requests)} pages equal")
    assert not differences, "\n".join(repr(d)[:1500] for d in differences)
