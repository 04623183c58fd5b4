"""Search, article and feed pages, each with its JSON twin.

One function builds a page's data (:func:`search_page_data`,
:func:`doc_page_data`); the HTML view renders it with a template and the API
view serialises the same dict, as Datasette's table view does.  The HTML view
adds only presentation (toggle links, labels, the timeline's geometry).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request, url_for
from markupsafe import Markup, escape
from werkzeug.exceptions import HTTPException

from search.api import (
    LEVEL_LENGTH,
    DateFilter,
    IndexDamaged,
    IndexNotFound,
    InvalidParameter,
    QueryTimeout,
    SearchError,
    SearchRequest,
    chart_level,
    date_label,
    dated_periods,
    is_heading,
    request_from_params,
)

from .cooccur import panels as cooccur_panels
from .export import export_links
from .index import app_cache, get_search, pinned_generation
from .urls import entity_links, link, path_for, query_string, with_added, with_page, with_removed

bp = Blueprint("pages", __name__)

DOC_ID = re.compile(r"^[0-9a-f]{16}$")
TYPE_SECTIONS = (("person", "People"), ("org", "Organisations"), ("place", "Places"), ("other", "Other names"))
FEED_SIZE = 20
# An article page shows (and marks query terms in) this many characters unless ?full=1.
VIEW_CHARS = 200_000
# Timelines' "all articles of the period" counts kept per index generation: (date filters, level) → counts.
PERIOD_TOTALS_CACHE = 512


# -- page data (shared by HTML and JSON) -------------------------------------------


def _defaults() -> tuple[int, int]:
    return current_app.config["PER_PAGE"], current_app.config["FACET_LIMIT"]


def parse_request(args) -> SearchRequest:
    per_page, facet_limit = _defaults()
    return request_from_params(args, per_page, facet_limit)


def atom_link(pairs) -> str:
    """The feed of the search whose parameters are *pairs*: its filters, not its paging,
    sort, facet size or timeline (a feed is always the newest articles)."""
    return link(path_for("pages.atom"),
                [(k, v) for k, v in pairs if k not in ("sort", "page", "per_page", "facet_limit", "timeline")])


def search_page_data(req: SearchRequest) -> dict:
    """The search page as plain data: the query service's answer plus canonical links."""
    result = get_search().search(req)
    pairs = req.to_params(*_defaults())
    data = result.as_dict()
    # "timeline" beside the facets: "facets.date" stays as it was, the timeline's periods are its own.
    items = list(data.items())
    at = [k for k, _ in items].index("facets") + 1
    data = dict([*items[:at], ("timeline", timeline_data(req, data)), *items[at:]])
    data["links"] = {
        "self": link(path_for("pages.search"), pairs),
        "json": link(path_for("pages.api_search"), pairs),
        "atom": atom_link(pairs),
        # csv, jsonl, facets_csv, timeline_csv: the whole result set as files (the timeline mode is the page's)
        **export_links(dataclasses.replace(req, timeline="count")),
    }
    data["elapsed_ms"] = round(result.elapsed_ms, 1)
    return data


# A doc id of the form DOC_ID, quoted by no URL encoder: where a built link holds it, any id can go.
_ID_SLOT = "0123456789abcdef"


def doc_hrefs(q: str | None = None) -> Callable[[str], str]:
    """``doc_id → url_for("pages.doc", doc_id=doc_id, q=q or None)`` for the many hits of one page.

    Werkzeug builds each URL through the route map (a feed built forty); the
    link is built once with a placeholder id and the id put in its place.  Ids
    are 16 hex digits (:data:`DOC_ID`), which no encoder changes; only the path
    (before any ``?``) is searched for the placeholder; any other id is built
    the usual way.
    """
    path, sep, query = url_for("pages.doc", doc_id=_ID_SLOT, q=q or None).partition("?")
    if path.count(_ID_SLOT) != 1:  # never expected; then every link the usual way
        return lambda doc_id: url_for("pages.doc", doc_id=doc_id, q=q or None)
    head, _, rest = path.partition(_ID_SLOT)
    tail = rest + sep + query

    def href(doc_id: str) -> str:
        if DOC_ID.match(doc_id):
            return f"{head}{doc_id}{tail}"
        return url_for("pages.doc", doc_id=doc_id, q=q or None)

    return href


def feed_data(req: SearchRequest) -> dict:
    """What the Atom feed of *req* shows: its hits, its query and its own link.

    Not :func:`search_page_data`: a feed shows no facets, timeline or export
    links, so it skips the timeline's counting and the links, and asks for one
    facet value only (the query service counts facets whatever it is asked;
    listing and labelling twenty values per type was a third of its time).
    """
    result = get_search().search(dataclasses.replace(req, facet_limit=1))
    data = result.as_dict()
    return {"query": data["query"], "hits": data["hits"], "links": {"atom": atom_link(req.to_params(*_defaults()))}}


def doc_page_data(doc_id: str) -> dict:
    """One article as plain data, with similar articles; 404 when unknown."""
    if not DOC_ID.match(doc_id):
        abort(404, description="There is no article with that id.")
    search = get_search()
    view = search.document(doc_id)
    if view is None:
        abort(404, description="There is no article with that id.")
    data = view.as_dict()
    try:
        similar = search.similar(doc_id)
    except IndexDamaged:
        similar = []  # the article came from a readable segment; the rest of the index is not
    data["similar"] = [
        {"id": h.id, "title": h.title, "date": h.date, "date_precision": h.date_precision, "source": h.source}
        for h in similar
    ]
    data["links"] = {
        "self": url_for("pages.doc", doc_id=doc_id),
        "json": url_for("pages.api_doc", doc_id=doc_id),
    }
    return data


# -- HTML presentation -------------------------------------------------------------

TYPE_LABELS = {"person": "Person", "org": "Organisation", "place": "Place", "other": "Other name"}
# Which parameter selects an entity value in each way: required, one of its type's OR group, excluded.
MODE_PARAMS = {"all": "entity", "any": "entity_any", "not": "entity_not"}
HIT_CHIPS = 8  # entity chips under a hit, besides the ones the search filters on
BAR_STEPS = 20  # bar heights are drawn in this many steps (classes .h-0 … .h-20: no inline styles under the CSP)


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 article``, ``2,561 articles`` (*many*: the plural when it is not *word* + s)."""
    return f"{n:,} {word}" if n == 1 else f"{n:,} {many or word + 's'}"


@bp.app_template_filter("plural")
def _plural_filter(n: int, word: str, many: str | None = None) -> str:
    return plural(n, word, many)


def _href(pairs) -> str:
    return link(path_for("pages.search"), pairs)


def _entity_href(pairs, value: str, name: str | None) -> str:
    """``_href(with_entity(pairs, value, name))``."""
    return entity_links(path_for("pages.search"), pairs)(value, name)


def facets_href(type_: str, pairs) -> str:
    """The page of one type's values for this search (``/facets/<type>``), with its parameters.

    Not the search's ``sort``: on ``/facets`` that parameter is the page's own (count or name), so
    carrying ``sort=newest`` over made "more…" from a search sorted newest a 400.
    """
    skip = ("page", "sort", "facet_limit", "timeline")
    return link(f"{request.script_root}/facets/{type_}", [(k, v) for k, v in pairs if k not in skip])


def entity_modes(query: Mapping) -> dict[str, str]:
    """``casefolded value → "all" | "any" | "not"`` for the entity filters of *query*."""
    return {v.casefold(): mode for mode, name in MODE_PARAMS.items() for v in query.get(name, ())}


def value_mode(f: Mapping, modes: Mapping[str, str]) -> str | None:
    """How a facet value is selected: ``all`` when ``selected``, else the query service's ``mode``
    (``any`` or ``not``), else what the request says of it."""
    if f.get("selected"):
        return "all"
    return f.get("mode") or modes.get(f["value"].casefold())


def facet_sections(data: dict, pairs) -> list[dict]:
    """Entity facets grouped by type: per value the link that requires it (or drops it), its OR
    and NOT controls; selected values first."""
    limit = data["query"]["facet_limit"]
    modes = entity_modes(data["query"])
    href = entity_links(path_for("pages.search"), pairs)
    sections = []
    for type_, heading in TYPE_SECTIONS:
        items = [f for f in data["facets"]["entity"] if f["type"] == type_]
        if not items:
            continue
        entries = []
        for f in items:
            mode = value_mode(f, modes)
            value = f["value"]
            entries.append(dict(
                f, mode=mode,
                href=href(value, None if mode else "entity"),
                any_href=href(value, None if mode == "any" else "entity_any"),
                not_href=href(value, None if mode == "not" else "entity_not"),
            ))
        pinned = [e for e in entries if e["mode"]]
        ordered = pinned + [e for e in entries if not e["mode"]]
        or_group = any(e["mode"] == "any" for e in entries)
        sections.append({
            "type": type_, "heading": heading, "label": TYPE_LABELS[type_],
            "entries": ordered,
            "entries_html": facet_entries_html(ordered, or_group, heading),
            "or_group": or_group,
            "more": facets_href(type_, pairs) if len(items) >= limit else None,
        })
    return sections


def facet_entries_html(entries: list[dict], or_group: bool, heading: str) -> Markup:
    """The ``<li>`` of each facet value of one section, as ``_facets.html`` showed them.

    Built here rather than in a Jinja loop: a search page lists up to eighty
    values with a dozen escaped fields each, and the loop was the largest part
    of rendering the page.  Each value is escaped once and reused; the markup
    and its whitespace are the template's, character for character.
    """
    heading_lower = escape(heading.lower())
    out: list[str] = []
    add = out.append
    for f in entries:
        mode = f["mode"]
        value = escape(f["value"])
        href = escape(f["href"])
        add(f'\n    <li class="value{" selected mode-" + escape(mode) if mode else ""}" data-value="{value}">\n      ')
        if mode == "all":
            add(f'\n      <a class="value-link" href="{href}" aria-current="true" aria-label="Remove filter {value}">'
                f'<span aria-hidden="true">× </span>{value}</a>\n      ')
        elif mode == "not":
            add(f'\n      <a class="value-link" href="{href}" aria-current="true" aria-label="Stop excluding {value}">'
                f'<span aria-hidden="true">× − </span><s>{value}</s></a>\n      ')
        elif mode == "any":
            add(f'\n      <a class="value-link" href="{href}" aria-current="true" '
                f'aria-label="Remove {value} from any of">{value}</a>\n      ')
        else:
            add(f'\n      <a class="value-link" href="{href}" '
                f'aria-label="{value}: {escape(plural(f["count"], "article"))}">{value}</a>\n      ')
        add(f'\n      <span class="count">{escape(f["count"])}</span>\n      <span class="controls">\n        ')
        if mode != "not":
            label = f"Uncheck {value} (any of)" if mode == "any" else f"{value} or other checked {heading_lower}"
            mark = "☑" if mode == "any" else "☐"
            box = f'<span class="box-mark" aria-hidden="true">{mark}</span> ' if or_group else ""
            add(f'\n        <a class="or{" box" if or_group else ""}{" on" if mode == "any" else ""}" '
                f'href="{escape(f["any_href"])}"\n           aria-label="{label}">{box}or</a>\n        ')
        add("\n        ")
        if not mode:
            add(f'<a class="not" href="{escape(f["not_href"])}" aria-label="Exclude {value}">−</a>')
        add("\n      </span>\n    </li>\n    ")
    return Markup("".join(out))


def date_section(date: DateFilter | None, data: dict, pairs) -> dict:
    """The date facet one level below the current *date* filter, with links to drill in and up,
    and the from/to form's values and hidden fields."""
    items = []
    for f in data["facets"]["date"]:
        entry = dict(f, label=date_label(f["value"]))
        entry["href"] = _href(with_added(pairs, "date", f["value"]))
        items.append(entry)
    up = None
    if date:
        up_pairs = with_removed(pairs, "date")
        up = {"label": date_label(date.parent) if date.parent else "all dates",
              "href": _href(with_added(up_pairs, "date", date.parent) if date.parent else up_pairs)}
    q = data["query"]
    return {"entries": items, "current": date.value if date else None,
            "current_label": date.label if date else None, "up": up,
            "range": {"from": q["from"] or "", "to": q["to"] or "",
                      "hidden": [(k, v) for k, v in pairs if k not in ("from", "to", "page")],
                      "clear_href": _href(with_removed(with_removed(pairs, "from"), "to"))
                      if q["from"] or q["to"] else None}}


def entity_types(data: dict) -> dict[str, str]:
    """``casefolded value → type`` for the values this answer names (facets first, then hits)."""
    out: dict[str, str] = {}
    for hit in data["hits"]:
        for e in hit["entities"]:
            out.setdefault(e["value"].casefold(), e["type"])
    out.update({f["value"].casefold(): f["type"] for f in data["facets"]["entity"] if "type" in f})
    return out


def chips(data: dict, pairs) -> list[dict]:
    """Applied filters as removable chips: required entities, each type's OR group, exclusions, dates."""
    q = data["query"]
    out = [{"label": value, "kind": "entity", "href": _href(with_removed(pairs, "entity", value)),
            "aria": f"Remove filter {value}"} for value in q["entity"]]
    types = entity_types(data)
    groups: dict[str, list[str]] = {}
    for value in q["entity_any"]:
        groups.setdefault(types.get(value.casefold(), ""), []).append(value)
    order = [t for t, _ in TYPE_SECTIONS] + [""]
    for type_ in sorted(groups, key=order.index):
        heading = dict(TYPE_SECTIONS).get(type_, "names")
        for i, value in enumerate(groups[type_]):
            out.append({"label": value, "kind": "any", "first": i == 0, "group": heading,
                        "href": _href(with_removed(pairs, "entity_any", value)),
                        "aria": f"Remove {value} from the {heading.lower()} any of which may match"})
    # "first" puts a "without:" label before the exclusions, so that after an OR
    # group's "… or B" a "− C" chip does not read as one more alternative.
    out += [{"label": f"− {value}", "kind": "not", "first": i == 0,
             "href": _href(with_removed(pairs, "entity_not", value)),
             "aria": f"Stop excluding {value}"} for i, value in enumerate(q["entity_not"])]
    if q["date"]:
        label = date_label(q["date"])
        out.append({"label": label, "kind": "date", "href": _href(with_removed(pairs, "date")),
                    "aria": f"Remove filter {label}"})
    for name in ("from", "to"):
        if q[name]:
            out.append({"label": f"{name} {q[name]}", "kind": name, "href": _href(with_removed(pairs, name)),
                        "aria": f"Remove filter {name} {q[name]}"})
    if q.get("cluster"):
        out.append({"label": "copies of one story", "kind": "cluster", "href": _href(with_removed(pairs, "cluster")),
                    "aria": "Stop listing only the copies of one story"})
    return out


def copies_note(data: dict, pairs) -> dict | None:
    """What the results head says of syndicated copies: how many were folded into their
    stories (with a link to list every copy), or that every copy is listed (with a link back)."""
    if data["query"].get("collapse") == "off":
        back = [(k, v) for k, v in with_removed(pairs, "collapse")]
        return {"collapsed": False, "href": _href(back)}
    hidden = data["copies"] - data["total"]
    if hidden <= 0:
        return None
    return {"collapsed": True, "hidden": hidden, "copies": data["copies"],
            "href": _href(with_added(pairs, "collapse", "off"))}


def hit_copies(hit: dict, collapsed: bool) -> dict | None:
    """A collapsed hit's "also in N other copies (sources …)", linking to the list of its copies."""
    cluster = hit.get("cluster") or {}
    if not collapsed or cluster.get("size", 1) < 2:
        return None
    return {"others": cluster["size"] - 1, "sources": cluster.get("sources", []),
            "href": _href([("cluster", cluster["id"]), ("sort", "oldest"), ("collapse", "off")])}


def _period_keys(level: str, within: DateFilter | None, found: list[str]) -> list[str]:
    """The periods a timeline at *level* charts: every year from the first to the last of *found*,
    the twelve months of the year *within*, the days of the month *within* (or the day itself)."""
    if level == "year":
        years = sorted(int(v) for v in found)
        return [f"{y:04d}" for y in range(years[0], years[-1] + 1)] if years else []
    if level == "month":
        return [f"{within.value}-{m:02d}" for m in range(1, 13)]
    if within.level == "day":
        return [within.value]
    year, month = within.parts
    days = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return [f"{within.value}-{d:02d}" for d in range(1, days + 1)]


def timeline_data(req: SearchRequest, data: dict) -> dict:
    """The timeline of the search page and its JSON twin (``"timeline"``).

    ``level``: one level below the date filter, or further down while that level
    would be a single period (a single year shows its months, a single month its
    days); ``within``: the year or month charted, if any.  ``periods``: each period
    at the level (gaps included; none when nothing dated matches) with ``count``
    (matches), ``total`` (all articles of the period within the search's date
    filters: ``date``, ``from``, ``to``; no query, no entity filter) and ``share``
    (count / total; None for a period without articles).  Articles dated less precisely than the
    level, and undated ones, are in no period.  ``mode`` is what the page shows.
    """
    search = get_search()
    # The date facet is the search's own count at the first level: no second search needed.
    level, within, counts = chart_level(search, req, data["facets"]["date"])
    found = {c["value"]: c["count"] for c in dated_periods(counts, level)}
    periods = []
    if found:
        base = SearchRequest(date=req.date, date_from=req.date_from, date_to=req.date_to, collapse=req.collapse)
        totals = period_totals(base, level)
        for key in _period_keys(level, within, list(found)):
            count, total = found.get(key, 0), totals.get(key, 0)
            periods.append({"value": key, "count": count, "total": total, "share": count / total if total else None})
    return {"mode": req.timeline, "level": level, "within": within.value if within else None, "periods": periods}


def period_totals(base: SearchRequest, level: str) -> dict[str, int]:
    """``period → articles`` of *base* (date filters only) at *level*: the same for every search
    with those filters, so counted once per index generation (every article matches: ~1 ms on Reuters)."""
    search = get_search()
    generation = pinned_generation()
    cache = app_cache("period_totals", PERIOD_TOTALS_CACHE)
    key = (base, level)
    if generation is not None:
        totals = cache.get(generation, key)
        if totals is not None:
            return totals
    totals = {c["value"]: c["count"] for c in search.date_counts(base, level)}
    if generation is not None:
        cache.put(generation, key, totals)
    return totals


def percent(share: float) -> str:
    """``30%``, ``4.5%``, ``0.25%``: a share with the digits that tell periods apart."""
    pct = share * 100
    return f"{pct:.0f}%" if pct >= 10 or pct == 0 else f"{pct:.1f}%" if pct >= 1 else f"{pct:.2f}%"


def timeline(req: SearchRequest, data: dict, pairs) -> dict | None:
    """Bars per year (or month, or day), gaps included, at the level that shows more than one bar:
    the matches, or with ``timeline=share`` their share of all the period's articles."""
    t = data["timeline"]
    level, periods = t["level"], t["periods"]
    if not periods or (t["within"] and len(t["within"]) == LEVEL_LENGTH["day"]):
        return None  # nothing dated, or a single day: nothing to chart
    share = t["mode"] == "share"
    keys = [p["value"] for p in periods]
    if level == "year":
        labels = keys
    elif level == "month":
        labels = [date_label(k).split()[0] for k in keys]
    else:
        labels = [str(int(k[8:])) for k in keys]
    size = (lambda p: p["share"] or 0.0) if share else (lambda p: p["count"])
    top = max(periods, key=size)
    peak = size(top)
    step = max(1, -(-len(keys) // 12))
    bars = []
    for i, (p, label) in enumerate(zip(periods, labels, strict=True)):
        count, title = p["count"], date_label(p["value"])
        text = percent(p["share"] or 0.0) if share else str(count)
        aria = (f"{title}: {count:,} of {plural(p['total'], 'article')} ({text})" if share
                else f"{title}: {plural(count, 'article')}")
        bars.append({
            "count": count, "label": label, "title": title, "text": text, "aria": aria,
            "step": 0 if not count else max(1, round(BAR_STEPS * size(p) / peak)),
            "href": _href(with_added(pairs, "date", p["value"])) if count else None,
            "show_label": len(keys) <= 16 or i % step == 0,
        })
    drilled = t["within"] and (req.date is None or t["within"] != req.date.value)
    within = f" in {date_label(t['within'])}" if drilled else ""
    page = req.page
    modes = [
        {"label": "Matching articles", "current": not share,
         "href": _href(with_page(with_removed(pairs, "timeline"), page))},
        {"label": "Share of all articles", "current": share,
         "href": _href(with_page(with_added(pairs, "timeline", "share"), page))},
    ]
    return {"bars": bars, "unit": level, "within": within, "show_counts": len(keys) <= 16, "share": share,
            "peak": {"text": percent(top["share"]), "title": date_label(top["value"])} if share else None,
            "modes": modes}


def pagination(data: dict, pairs) -> dict:
    page, per_page, total = data["page"], data["per_page"], data["total"]
    last = max(1, -(-total // per_page))
    window = range(max(1, page - 3), min(last, page + 3) + 1)
    return {
        "page": page, "last": last,
        "prev": _href(with_page(pairs, page - 1)) if 1 < page <= last else None,
        "next": _href(with_page(pairs, page + 1)) if page < last else None,
        "pages": [{"n": n, "href": _href(with_page(pairs, n)), "current": n == page} for n in window],
        "first_shown": (page - 1) * per_page + 1 if data["hits"] else 0,
        "last_shown": (page - 1) * per_page + len(data["hits"]),
        "past_end": page > last and total > 0,
        "last_href": _href(with_page(pairs, last)),
    }


def sort_links(data: dict, pairs) -> list[dict]:
    """The sort choices.  Without a query relevance means newest first, so that is what is offered and named."""
    current = data["query"]["sort"]
    if not data["query"]["q"]:
        return [
            {"name": "newest", "label": "Newest", "current": current in ("relevance", "newest"),
             "href": _href(with_removed(pairs, "sort"))},
            {"name": "oldest", "label": "Oldest", "current": current == "oldest",
             "href": _href(with_added(pairs, "sort", "oldest"))},
        ]
    return [
        {"name": name, "label": name.capitalize(), "current": name == current,
         "href": _href(with_removed(pairs, "sort") if name == "relevance" else with_added(pairs, "sort", name))}
        for name in ("relevance", "newest", "oldest")
    ]


def hit_chips(hit: dict, filtered: set[str], pairs) -> list[dict]:
    """A hit's entity chips: the entities the search filters on first (never cut), then up to :data:`HIT_CHIPS`."""
    first = [e for e in hit["entities"] if e["value"].casefold() in filtered]
    rest = [e for e in hit["entities"] if e["value"].casefold() not in filtered][:HIT_CHIPS]
    return [dict(e, filtered=e in first, type_label=TYPE_LABELS.get(e["type"], e["type"]),
                 href=_entity_href(pairs, e["value"], "entity")) for e in first + rest]


# Titles are marked in one call (see highlight_titles), joined by a character no word holds.
TITLE_SEPARATOR = "\x00"
TITLE_BATCH_CHARS = 2000  # longer titles are marked on their own


def highlight_titles(search, titles: list[str], q: str) -> list[str]:
    """``search.highlight(title, q)`` for each of *titles*, in one call per kind of text.

    Each call parses the query again (0.3-0.7 ms on Reuters, ten times a page).
    Highlighting marks words one at a time, and a word never spans the
    separator, so joined titles come back as each would alone.  ASCII and
    other titles go in separate calls, as the highlighter reads ASCII text
    its own way; a title holding the separator, or a long one, goes alone.
    """
    out: list[str | None] = [None] * len(titles)
    groups: dict[bool, list[int]] = {}
    for i, title in enumerate(titles):
        if TITLE_SEPARATOR in title or len(title) > TITLE_BATCH_CHARS:
            out[i] = search.highlight(title, q)
        else:
            groups.setdefault(title.isascii(), []).append(i)
    for members in groups.values():
        if len(members) == 1:
            out[members[0]] = search.highlight(titles[members[0]], q)
            continue
        joined = TITLE_SEPARATOR.join(titles[i] for i in members)
        parts = search.highlight(joined, q, len(joined) + 1).split(TITLE_SEPARATOR)
        if len(parts) != len(members):  # never expected; the safe way then
            parts = [search.highlight(titles[i], q) for i in members]
        for i, part in zip(members, parts, strict=True):
            out[i] = part
    return out


def search_context(req: SearchRequest, data: dict) -> dict:
    pairs = req.to_params(*_defaults())
    q = data["query"]
    filtered = {v.casefold() for v in q["entity"] + q["entity_any"]}
    search = get_search() if q["q"] else None
    # Query terms marked in the titles as in the snippets (escaped, only <mark> added).
    if search is not None:
        unmarked = [hit for hit in data["hits"] if not hit.get("title_html")]
        marked = highlight_titles(search, [hit["title"] for hit in unmarked], q["q"])
        for hit, title_html in zip(unmarked, marked, strict=True):
            hit["title_html"] = title_html
    doc_href = doc_hrefs(q["q"])
    for hit in data["hits"]:
        hit["date_label"] = date_label(hit["date"]) if hit["date"] else "undated"
        hit["snippet_html"] = Markup(hit["snippet"])  # escaped by the query service; only <mark> added
        title_html = hit.get("title_html")
        hit["title_html"] = Markup(title_html) if title_html else hit["title"]
        hit["href"] = doc_href(hit["id"])
        hit["entity_links"] = hit_chips(hit, filtered, pairs)
        hit["copies"] = hit_copies(hit, q.get("collapse") != "off")
    suggestion = None
    if data["suggestion"]:
        suggestion = {"text": data["suggestion"], "href": _href(with_added(pairs, "q", data["suggestion"]))}
    applied = chips(data, pairs)
    return {
        "data": data,
        "facet_sections": facet_sections(data, pairs),
        "date_section": date_section(req.date, data, pairs),
        "chips": applied,
        "filter_count": len(applied),
        "clear_all": _href([(k, v) for k, v in pairs if k == "q"]) if any(k != "q" for k, _ in pairs) else None,
        "timeline": timeline(req, data, pairs),
        "copies_note": copies_note(data, pairs),
        "cooccur_panels": cooccur_panels(req, pairs),  # "Appears with" each entity filter's value
        "undated_count": next((f["count"] for f in data["facets"]["date"] if f["value"] == "undated"), 0),
        "pagination": pagination(data, pairs),
        "sort_links": sort_links(data, pairs),
        "suggestion": suggestion,
        "canonical_query": query_string(pairs),  # URL-encoded: an entity may hold "&"
        "pairs": pairs,
    }


# -- routes --------------------------------------------------------------------------


@bp.route("/")
@bp.route("/search")
def search():
    req = parse_request(request.args)
    data = search_page_data(req)
    resp = Response(render_template("search.html", **search_context(req, data)))
    resp.headers["Link"] = f'<{data["links"]["json"]}>; rel="alternate"; type="application/json"'
    return resp


@bp.route("/api/search")
def api_search():
    return jsonify(search_page_data(parse_request(request.args)))


@bp.route("/search.atom")
def atom():
    # The search the page shows; the feed is its newest articles.
    req = parse_request(request.args)
    data = feed_data(dataclasses.replace(req, sort="newest", page=1, per_page=FEED_SIZE))
    root = request.url_root.rstrip("/")
    times = entry_times(data["hits"])
    # The feed changes when an entry does: its own time is the latest entry's, never the request's.
    updated = max(times.values(), default=None) or _atom_now()
    body = render_template(
        "search.atom.xml",
        data=data,
        root=root,
        updated=updated,
        feed_id=root + data["links"]["atom"],
        page_url=root + link(url_for("pages.search"), [(k, v) for k, v in req.to_params(*_defaults()) if k != "page"]),
        times=times,
        doc_href=doc_hrefs(),
        type_labels=TYPE_LABELS,
        title=_feed_title(data["query"]),
    )
    return Response(body, mimetype="application/atom+xml")


def entry_times(hits: list[dict]) -> dict[str, str]:
    """``id → Atom time`` for feed entries: the article's date, or when it was indexed when it has none,
    so an undated entry keeps one time across fetches."""
    out = {}
    for hit in hits:
        if hit["date"]:
            parts = (hit["date"].split("-") + ["01", "01"])[:3]
            out[hit["id"]] = f"{parts[0]}-{parts[1]}-{parts[2]}T00:00:00Z"
            continue
        view = get_search().document(hit["id"])
        indexed = view.indexed_at if view else None
        out[hit["id"]] = _atom_stamp(indexed) if indexed else _atom_now()
    return out


def _atom_stamp(iso: str) -> str:
    try:
        moment = dt.datetime.fromisoformat(iso)
    except ValueError:
        return _atom_now()
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _atom_now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _feed_title(query: Mapping) -> str:
    bits = []
    if query["q"]:
        bits.append(f"“{query['q']}”")
    bits += list(query["entity"])
    if query["date"]:
        bits.append(date_label(query["date"]))
    return "newsfacet: " + (", ".join(bits) if bits else "all articles")


@bp.route("/doc/<doc_id>")
def doc(doc_id: str):
    q = (request.args.get("q") or "").strip()
    SearchRequest(q=q)  # the search's own checks (its length cap): highlighting parses q too
    full = request.args.get("full")
    if full not in (None, "1"):
        raise InvalidParameter("full", "full must be 1 (show the whole text) or left out")
    data = doc_page_data(doc_id)
    search = get_search()
    # A page shows the first VIEW_CHARS characters (at a paragraph) unless asked for all of it.
    length = len(data["body"])
    text = data["body"] if full or length <= VIEW_CHARS else _lead(data["body"], VIEW_CHARS)
    body_html = search.highlight(text, q, VIEW_CHARS) if q else None
    texts = text.split("\n\n")
    shown = [Markup(p) for p in body_html.split("\n\n")] if body_html else texts
    # Subheadings inside the article were kept as their own lines; show them as such.
    paragraphs = [{"html": html_, "heading": is_heading(text)} for text, html_ in zip(texts, shown, strict=True)]
    entity_groups = []
    for type_, heading in TYPE_SECTIONS:
        items = [dict(e, href=_href([("entity", e["value"])])) for e in data["entities"] if e["type"] == type_]
        if items:
            entity_groups.append({"heading": heading, "entries": items})
    return render_template(
        "doc.html",
        data=data,
        q=q,
        paragraphs=paragraphs,
        entity_groups=entity_groups,
        date_text=date_label(data["date"]) if data["date"] else "undated",
        back=_href([("q", q)]) if q else url_for("pages.search"),
        original_url=data["url"] if _is_web_url(data["url"]) else None,
        length=length,
        shown_chars=len(text),
        view_chars=VIEW_CHARS,
        full_href=url_for("pages.doc", doc_id=doc_id, q=q or None, full="1") if len(text) < length else None,
    )


def _lead(body: str, limit: int) -> str:
    """The first *limit* characters of *body*, ending at a paragraph (or a word) break."""
    cut = body[:limit]
    end = cut.rfind("\n\n")
    if end <= 0:
        end = cut.rfind(" ")
    return cut[:end] if end > 0 else cut


def _is_web_url(url: str | None) -> bool:
    """Only http(s) links are rendered as links: a scraped ``javascript:`` URL stays text."""
    return bool(url) and urlsplit(url).scheme in ("http", "https")


@bp.route("/api/doc/<doc_id>")
def api_doc(doc_id: str):
    return jsonify(doc_page_data(doc_id))


# -- errors ----------------------------------------------------------------------------


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def error_response(status: int, message: str, parameter: str | None = None):
    if _wants_json():
        return jsonify({"error": {"status": status, "message": message, "parameter": parameter}}), status
    # The search box keeps the query, and "Back to search" returns to it (unless the query was the problem).
    q = (request.args.get("q") or "").strip()
    back = link(url_for("pages.search"), [("q", q)] if q and parameter != "q" else [])
    return render_template("error.html", status=status, message=message, parameter=parameter,
                           search_q=q, back=back), status


def register_errors(app) -> None:
    @app.errorhandler(InvalidParameter)
    def invalid(exc: InvalidParameter):
        return error_response(400, exc.message, exc.parameter)

    @app.errorhandler(IndexNotFound)
    def no_index(exc: IndexNotFound):
        return error_response(503, str(exc))

    @app.errorhandler(IndexDamaged)
    def damaged(exc: IndexDamaged):
        # Logged once, with its traceback, by the query service.
        return error_response(503, f"The search index cannot be used: {exc}.")

    @app.errorhandler(QueryTimeout)
    def timed_out(exc: QueryTimeout):
        response, status = error_response(503, str(exc), "q")
        response = app.make_response((response, status))
        response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(SearchError)
    def search_error(exc: SearchError):
        return error_response(400, str(exc))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        return error_response(exc.code or 500, exc.description or exc.name)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        app.logger.exception("unexpected error on %s", request.path)
        return error_response(500, "Something went wrong on our side; the error has been logged.")
