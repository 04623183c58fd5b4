"""The query mix: a fixed, deterministic list of requests derived from the indexed corpus.

Derived from up to :data:`SAMPLE_DOCS` articles read back from the index at
evenly spaced document numbers (all of them for Reuters), so the same index
gives the same mix, and every engine answers the same requests.  Kinds:

* ``browse`` — the empty query (newest first), its page 2, oldest first;
* ``common`` — 10 frequent words (stop words left out);
* ``rare`` — 8 words found in one sampled article only;
* ``and2`` — 8 two-word queries whose words share an article;
* ``phrase`` — 6 frequent two-word phrases (``"crude oil"`` first when present);
* ``or`` / ``not`` — 2 each: ``a OR b``, ``a NOT b``;
* ``entity`` — a word or the empty query filtered by one or two frequent entities;
* ``date`` — a word or the empty query filtered by year, month, day, a
  ``from``/``to`` range, or ``undated`` when the corpus has such articles;
* ``sort`` — a frequent word sorted newest and oldest;
* ``drill`` — 4 drill-down sequences of 4 steps: a word → + an entity of its
  facet (sequence *k* takes the *k*-th most frequent) → + the most frequent
  year of those (the month when they all share one year) → page 2.

Every request computes both facets (entity and date, top 20 per type).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .corpus import StoredArticle, doc_count, iter_stored

SAMPLE_DOCS = 20_000
_WORD = re.compile(r"[^\W\d_]+")
STOP_WORDS = frozenset(
    """a about above after again against all also although am among an and another any are around as at be
    because been before being below between both but by can could did do does doing down during each either
    else etc even ever every few for from further had has have having he her here hers herself him himself
    his how however i if in into is it its itself just last least less like made make many may me might more
    most much must my myself near neither new next no nor not now of off often on once one only or other our
    ours ourselves out over own per put rather said same says see seen several shall she should since so
    some still such than that the their theirs them themselves then there these they this those though
    through thus to too two under until up upon us very was we well were what when where whether which while
    who whom whose why will with within without would yet you your yours yourself yourselves three four five
    six seven eight nine ten year years told today yesterday week month months reuter reuters also mln pct
    dlrs cts shr vs inc corp co ltd""".split()
)


@dataclass(frozen=True)
class MixItem:
    """One request of the mix: its kind, a short label and the request itself."""

    kind: str
    label: str
    request: object  # search.api.SearchRequest

    def as_dict(self) -> dict:
        return {"kind": self.kind, "label": self.label, "request": self.request.as_dict()}


def _words(text: str) -> list[str]:
    return [w for w in (m.lower() for m in _WORD.findall(text)) if len(w) >= 3]


def _spread(items: list, n: int) -> list:
    """*n* items spread evenly over *items* (all of them when fewer)."""
    if len(items) <= n:
        return list(items)
    step = len(items) / n
    return [items[int(i * step)] for i in range(n)]


def sample(index_dir: Path, limit: int = SAMPLE_DOCS) -> list[StoredArticle]:
    """Up to *limit* live articles at evenly spaced document numbers."""
    _, all_docs = doc_count(index_dir)
    docs = _spread(list(range(all_docs)), limit)
    return [a for batch in iter_stored(index_dir, docs=docs) for a in batch]


def build_mix(articles: list[StoredArticle]) -> list[MixItem]:
    """The mix for a corpus whose sample is *articles* (at least one)."""
    from search.api import SearchRequest

    df: Counter[str] = Counter()
    bigrams: Counter[tuple[str, str]] = Counter()
    doc_words: list[set[str]] = []
    ent_df: Counter[str] = Counter()
    years: Counter[str] = Counter()
    months: Counter[str] = Counter()
    days: Counter[str] = Counter()
    undated = 0
    for art in articles:
        words = _words(f"{art.title}\n{art.body}")
        content = {w for w in words if w not in STOP_WORDS}
        doc_words.append(content)
        df.update(content)
        pairs = {(a, b) for a, b in zip(words, words[1:], strict=False) if a not in STOP_WORDS and b not in STOP_WORDS}
        bigrams.update(pairs)
        ent_df.update({e["value"] for e in art.entities})
        if art.date:
            years[art.date[:4]] += 1
            if len(art.date) >= 7:
                months[art.date[:7]] += 1
            if len(art.date) == 10:
                days[art.date] += 1
        else:
            undated += 1
    n = len(articles)

    def ranked(counter: Counter) -> list:
        return [k for k, _ in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))]

    by_df = [w for w in ranked(df) if len(w) >= 4]
    common = _spread(by_df[:200], 10)
    rare = _spread(sorted(w for w, c in df.items() if c == 1 and len(w) >= 7 and w.isascii()), 8)
    mid_lo, mid_hi = max(2, n // 500), max(3, n // 20)
    mid = {w for w, c in df.items() if mid_lo <= c <= mid_hi and len(w) >= 4}
    and2: list[str] = []
    for words in _spread(doc_words, 64):
        cands = sorted((w for w in words if w in mid), key=lambda w: (-df[w], w))
        if len(cands) >= 2:
            q = f"{cands[0]} {cands[1]}"
            if q not in and2:
                and2.append(q)
        if len(and2) == 8:
            break
    phrase_list = [f'"{a} {b}"' for a, b in ranked(bigrams) if len(a) >= 3 and len(b) >= 3][:200]
    phrases = _spread(phrase_list, 6)
    if '"crude oil"' in phrase_list and '"crude oil"' not in phrases:
        phrases = ['"crude oil"', *phrases[:5]]
    entities = ranked(ent_df)
    top_years, top_months, top_days = ranked(years), ranked(months), ranked(days)

    items: list[MixItem] = []

    def add(kind: str, label: str, **kw) -> None:
        items.append(MixItem(kind, label, SearchRequest(**kw)))

    add("browse", "browse", q="")
    add("browse", "browse p2", q="", page=2)
    add("browse", "browse oldest", q="", sort="oldest")
    for w in common:
        add("common", w, q=w)
    for w in rare:
        add("rare", w, q=w)
    for q in and2:
        add("and2", q, q=q)
    for q in phrases:
        add("phrase", q, q=q)
    if len(common) >= 4:
        add("or", f"{common[1]} OR {common[3]}", q=f"{common[1]} OR {common[3]}")
        add("or", f"{common[5 % len(common)]} OR {rare[0] if rare else common[0]}",
            q=f"{common[5 % len(common)]} OR {rare[0] if rare else common[0]}")
        add("not", f"{common[0]} NOT {common[2]}", q=f"{common[0]} NOT {common[2]}")
        add("not", f"{common[4]} NOT {common[1]}", q=f"{common[4]} NOT {common[1]}")
    for i, rank in enumerate((0, 3, 10)):
        if rank < len(entities):
            w = common[i % len(common)]
            add("entity", f"{w} +entity[{rank}]", q=w, entities=(entities[rank],))
    for rank in (1, 30):
        if rank < len(entities):
            add("entity", f"browse +entity[{rank}]", q="", entities=(entities[rank],))
    if len(entities) >= 3:
        add("entity", "browse +entity[0]+entity[2]", q="", entities=(entities[0], entities[2]))
    if top_years:
        add("date", "browse +year", q="", date=top_years[0])
        add("date", f"{common[1]} +year", q=common[1], date=top_years[0])
    if top_months:
        add("date", f"{common[2]} +month", q=common[2], date=top_months[0])
        first = dt.date.fromisoformat(top_months[0] + "-01")
        add("date", f"{common[0]} from/to", q=common[0], date_from=first, date_to=first + dt.timedelta(days=13))
    if top_days:
        add("date", "browse +day", q="", date=top_days[0])
    if undated:
        add("date", "browse undated", q="", date="undated")
    add("sort", f"{common[6 % len(common)]} newest", q=common[6 % len(common)], sort="newest")
    add("sort", f"{common[7 % len(common)]} oldest", q=common[7 % len(common)], sort="oldest")
    for k, w in enumerate(common[:4]):
        _drill(items, w, k, articles, doc_words)
    return items


def _drill(items: list[MixItem], word: str, k: int, articles: list[StoredArticle], doc_words: list[set[str]]) -> None:
    from search.api import SearchRequest

    hits = [a for a, words in zip(articles, doc_words, strict=True) if word in words]
    ents = Counter(e["value"] for a in hits for e in a.entities)
    label = f"drill {word}"
    items.append(MixItem("drill", f"{label} 1:q", SearchRequest(q=word)))
    if not ents:
        return
    ranked = [v for v, _ in sorted(ents.items(), key=lambda kv: (-kv[1], kv[0]))]
    entity = ranked[min(k, len(ranked) - 1)]  # sequence k clicks the k-th entity of its facet
    items.append(MixItem("drill", f"{label} 2:+entity", SearchRequest(q=word, entities=(entity,))))
    dates = [a.date for a in hits if a.date and any(e["value"] == entity for e in a.entities)]
    if not dates:
        return
    years = Counter(d[:4] for d in dates)
    date = sorted(years.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
    if len(years) == 1:
        months = Counter(d[:7] for d in dates if len(d) >= 7)
        if months:
            date = sorted(months.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
    items.append(MixItem("drill", f"{label} 3:+date", SearchRequest(q=word, entities=(entity,), date=date)))
    items.append(MixItem("drill", f"{label} 4:page2", SearchRequest(q=word, entities=(entity,), date=date, page=2)))


def http_path(req: Any) -> str:
    """The ``/api/search`` URL path of a request, by the one mapping the web layer reads back."""
    from urllib.parse import urlencode

    return "/api/search?" + urlencode(req.to_params())


# The load test's shares (bench.load.MIX_WEIGHTS: searches 35 %, half of them HTML; drill-downs 30 %, a quarter
# HTML; article pages 20 %; feeds 15 %) as whole requests out of 20, in the order they are interleaved.
PAGE_MIX_SLOTS = ("api", "search", "doc", "api", "feed", "api", "search", "doc", "api", "search",
                  "api", "feed", "doc", "api", "search", "api", "doc", "search", "api", "feed")


def page_mix(items: list[MixItem], doc_ids: list[str], length: int = 400) -> list[tuple[str, str]]:
    """``(kind, path)`` for the pages a person browses, in the load test's proportions, from the mix's requests.

    Kinds: ``api`` (``/api/search``, searches and drill-down steps), ``search`` (the ``/search`` HTML page of
    the same requests), ``doc`` (``/doc/ID`` of *doc_ids*, every other one arriving from a search, its terms
    highlighted), ``feed`` (``/search.atom`` of the request).  Deterministic: the same mix and ids give the
    same list, *length* long.
    """
    from urllib.parse import quote, urlencode

    apis = [http_path(it.request) for it in items]
    out: list[tuple[str, str]] = []
    counters = {"api": 0, "search": 0, "doc": 0, "feed": 0}
    for n in range(length):
        kind = PAGE_MIX_SLOTS[n % len(PAGE_MIX_SLOTS)]
        k = counters[kind]
        counters[kind] += 1
        if kind == "doc" and not doc_ids:
            kind = "api"
        if kind == "doc":
            doc_id = doc_ids[(k * 7) % len(doc_ids)]
            path = f"/doc/{quote(doc_id)}"
            q = items[k % len(items)].request.q
            if k % 2 and q:
                path += "?" + urlencode([("q", q)])
        else:
            api = apis[(k * 5 + {"api": 0, "search": 1, "feed": 2}[kind]) % len(apis)]
            path = api if kind == "api" else api.replace("/api/search", "/search" if kind == "search" else
                                                         "/search.atom", 1)
        out.append((kind, path))
    return out
