"""Main text and page metadata from a saved HTML news page.

:func:`extract_html` turns markup into an :class:`HtmlPage`: the article text
(trafilatura, with a BeautifulSoup fallback), the headline with the site name
cut off, the publication date as the page states it (and where it was found),
the canonical URL, the site name, figure captions and the description.  It
returns ``None`` for a page with no main text; the caller reports that.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml import etree

from search.extract import html_dates, html_text
from search.settings import Options
from search.textnorm import fold, normalize_text, site_of

JSONLD_ARTICLE_TYPES = frozenset(
    {"article", "newsarticle", "blogposting", "reportagenewsarticle", "analysisnewsarticle", "opinionnewsarticle",
     "backgroundnewsarticle", "reviewnewsarticle", "report", "liveblogposting", "webpage"}
)
# The date rules (meta, JSON-LD, <time>, htmldate, stamps) are in search.extract.html_dates.

# Title separators need spaces around them, so "Israel-Hamas" is never cut.
_TITLE_SEPARATOR = re.compile(r"\s+(?:\||-|–|—|::|·|•|»|«|~|/)\s+")
_TITLE_PREFIX = re.compile(r"^([^:]{2,60}):\s+(.+)$")
# A trailing "| Something" this short is a site or section name even when unknown.
MAX_UNKNOWN_SUFFIX_WORDS = 4
# Parts of a host name that say nothing about the site.
_HOST_NOISE = frozenset({"www", "m", "amp", "mobile", "news", "com", "co", "org", "net", "gov", "ac", "edu"})

# The main text (trafilatura, the soup reading, the lead) is in search.extract.html_text.
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)


@dataclass
class HtmlPage:
    """What a news page says about itself, plus its main text.

    :param text: main text, one paragraph or subheading per line, blank lines
        between them, normalised with :func:`search.textnorm.normalize_text`.
    :param date: the publication date as found (raw), or ``YYYY-MM-DD`` from htmldate.
    :param date_evidence: where ``date`` came from, e.g. ``"HTML meta article:published_time"``.
    :param stamps: byline and date-stamp texts of the article (``Posted on
        March 14, 2023 by …``), which main-text extraction drops: what a date
        parser can read when the markup states no date.
    """

    title: str | None
    text: str
    date: str | None = None
    date_evidence: str | None = None
    url: str | None = None
    site_name: str | None = None
    captions: list[str] = field(default_factory=list)
    description: str | None = None
    stamps: list[str] = field(default_factory=list)


def extract_html(markup: str, url: str | None, options: Options) -> HtmlPage | None:
    """Extract an :class:`HtmlPage` from *markup*; None if the page has no main text.

    *url* is where the page was fetched from (may be None); it resolves a
    relative canonical link and can date the page.  Pathological markup
    (nesting too deep for the parsers) also gives None rather than an error.
    """
    try:
        return _extract(markup, url, options)
    except RecursionError:
        return None


def _extract(markup: str, url: str | None, options: Options) -> HtmlPage | None:
    tree = _parse(markup)
    if tree is None or tree.find("body") is None:
        return None
    metas = _meta_values(tree)
    jsonld = list(_jsonld_objects(tree))
    page_url = _page_url(tree, metas, url)
    site_names = _site_names(metas, jsonld, page_url or url)
    title = _title(tree, metas, jsonld, site_names)
    date, evidence = _date(tree, metas, jsonld, page_url or url)
    captions = _captions(tree)
    stamps = _stamps(tree)
    description = _first_meta(metas, ("og:description", "description", "twitter:description"))
    site_name = _first_meta(metas, ("og:site_name",)) or _jsonld_publisher(jsonld) or site_of(page_url or url)
    lines = html_text.main_text_lines(markup, url, options.html_extractor)
    lines = html_text.drop_above_headline(lines, title)
    lines = html_text.with_lead(_drop_leading_title(lines, title), tree, description)
    # A page that states its headline and its publication date is a dated item
    # even when its text is not in the markup (rendered by a script): a brief.
    if not lines and not (title and date):
        return None
    return HtmlPage(
        title=title,
        text="\n\n".join(lines),
        date=date,
        date_evidence=evidence,
        url=page_url or url,
        site_name=site_name,
        captions=captions,
        description=description,
        stamps=stamps,
    )


def _parse(markup: str) -> lxml.html.HtmlElement | None:
    markup = _XML_DECLARATION.sub("", markup, count=1)
    if not markup.strip():
        return None
    try:
        return lxml.html.document_fromstring(markup)
    except (etree.ParserError, ValueError):
        return None


def _text_of(element: Any) -> str:
    return " ".join(normalize_text(element.text_content()).split())


# --------------------------------------------------------------------------- metadata


def _meta_values(tree: lxml.html.HtmlElement) -> dict[str, str]:
    """``<meta>`` contents by lower-cased property/name/itemprop; the first wins."""
    values: dict[str, str] = {}
    for meta in tree.iter("meta"):
        content = (meta.get("content") or "").strip()
        if not content:
            continue
        for attribute in ("property", "name", "itemprop"):
            key = (meta.get(attribute) or "").strip().lower()
            if key:
                values.setdefault(key, content)
    return values


def _first_meta(metas: dict[str, str], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = normalize_text(metas.get(key, "")).strip()
        if value:
            return " ".join(value.split())
    return None


def _jsonld_objects(tree: lxml.html.HtmlElement) -> Iterator[dict[str, Any]]:
    """Every JSON-LD object of the page, ``@graph`` members and lists flattened."""
    for script in tree.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            continue
        try:
            data = json.loads(script.text or "")
        except ValueError:
            continue  # hand-edited JSON-LD is often broken; the page still has other clues
        stack = [data]
        while stack:
            item = stack.pop(0)
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                yield item
                graph = item.get("@graph")
                if isinstance(graph, list):
                    stack.extend(graph)


def _jsonld_types(item: dict[str, Any]) -> set[str]:
    kind = item.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    return {str(k).lower() for k in kinds if k}


def _jsonld_articles(jsonld: list[dict[str, Any]]) -> list[dict[str, Any]]:
    articles = [item for item in jsonld if _jsonld_types(item) & JSONLD_ARTICLE_TYPES - {"webpage"}]
    return articles or [item for item in jsonld if "webpage" in _jsonld_types(item)]


def _jsonld_publisher(jsonld: list[dict[str, Any]]) -> str | None:
    for item in _jsonld_articles(jsonld):
        publisher = item.get("publisher")
        if isinstance(publisher, dict) and isinstance(publisher.get("name"), str) and publisher["name"].strip():
            return normalize_text(publisher["name"]).strip()
    for item in jsonld:
        if "website" in _jsonld_types(item) and isinstance(item.get("name"), str) and item["name"].strip():
            return normalize_text(item["name"]).strip()
    return None


def _page_url(tree: lxml.html.HtmlElement, metas: dict[str, str], url: str | None) -> str | None:
    candidates = [link.get("href") for link in tree.iter("link") if "canonical" in (link.get("rel") or "").lower()]
    candidates.append(metas.get("og:url"))
    for candidate in candidates:
        if not candidate or not candidate.strip():
            continue
        absolute = urljoin(url, candidate.strip()) if url else candidate.strip()
        if urlsplit(absolute).scheme in ("http", "https"):
            return absolute
    return None


def _stamps(tree: lxml.html.HtmlElement) -> list[str]:
    """Short texts of byline/date elements in the article (see :func:`html_dates.page_stamps`)."""
    return html_dates.page_stamps(tree)


def _captions(tree: lxml.html.HtmlElement) -> list[str]:
    captions = (_text_of(caption) for caption in tree.iter("figcaption"))
    return list(dict.fromkeys(caption for caption in captions if caption))


# --------------------------------------------------------------------------- title


def _site_names(metas: dict[str, str], jsonld: list[dict[str, Any]], url: str | None) -> list[str]:
    names = [metas.get("og:site_name"), metas.get("application-name"), _jsonld_publisher(jsonld)]
    host = site_of(url)
    if host:
        labels = [label for label in re.split(r"[.]", host) if label not in _HOST_NOISE]
        # The last label is the top-level domain unless only one is left.
        names.extend(labels[:-1] if len(labels) > 1 else labels)
    return list(dict.fromkeys(name for name in names if name and name.strip()))


def _key(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", fold(text))


def _is_site(segment: str, site_names: list[str]) -> bool:
    segment_key = _key(segment)
    if not segment_key:
        return False
    for name in site_names:
        name_key = _key(name)
        if len(name_key) < 3:
            continue
        if segment_key == name_key or (min(len(segment_key), len(name_key)) >= 4 and (
            name_key in segment_key or segment_key in name_key
        )):
            return True
    return False


def _title(
    tree: lxml.html.HtmlElement, metas: dict[str, str], jsonld: list[dict[str, Any]], site_names: list[str]
) -> str | None:
    og_title = _first_meta(metas, ("og:title", "twitter:title"))
    if og_title:
        return strip_site_name(og_title, site_names, from_title_tag=False)
    h1 = _headline_h1(tree, site_names)
    if h1:
        return h1
    for item in _jsonld_articles(jsonld):
        headline = item.get("headline")
        if isinstance(headline, str) and headline.strip():
            return " ".join(normalize_text(headline).split())
    title = tree.find(".//title")
    if title is not None:
        text = _text_of(title)
        if text:
            return strip_site_name(text, site_names, from_title_tag=True)
    return None


def _headline_h1(tree: lxml.html.HtmlElement, site_names: list[str]) -> str | None:
    """The first ``<h1>`` inside the article, else the first that is not the site logo."""
    headings = tree.xpath("//article//h1") + tree.xpath("//h1")
    for heading in headings:
        text = _text_of(heading)
        if text and not (site_names and _key(text) in {_key(name) for name in site_names}):
            return text
    return None


def strip_site_name(title: str, site_names: list[str], from_title_tag: bool = True) -> str:
    """Remove a site name prefix or suffix: ``Headline | Site``, ``Site: Headline``.

    A part is cut only when it matches one of *site_names* (spacing, case and
    accents ignored) or, for a ``<title>``, when it is a short part after a
    ``|``.  A headline that merely contains a dash is left whole.
    """
    title = " ".join(title.split())
    parts = _TITLE_SEPARATOR.split(title)
    separators = _TITLE_SEPARATOR.findall(title)
    if len(parts) > 1:
        if _is_site(parts[-1], site_names):
            return _rejoin(parts[:-1], separators[:-1])
        if _is_site(parts[0], site_names):
            return _rejoin(parts[1:], separators[1:])
        last_words = len(parts[-1].split())
        if from_title_tag and separators[-1].strip() == "|" and last_words <= MAX_UNKNOWN_SUFFIX_WORDS:
            head = _rejoin(parts[:-1], separators[:-1])
            if len(head.split()) > last_words:
                return head
    prefixed = _TITLE_PREFIX.match(title)
    if prefixed and _is_site(prefixed.group(1), site_names):
        return prefixed.group(2)
    return title


def _rejoin(parts: list[str], separators: list[str]) -> str:
    text = parts[0]
    for separator, part in zip(separators, parts[1:], strict=True):
        text += separator + part
    return text.strip()


# --------------------------------------------------------------------------- date


def _date(
    tree: lxml.html.HtmlElement, metas: dict[str, str], jsonld: list[dict[str, Any]], url: str | None
) -> tuple[str | None, str | None]:
    """The publication date as written and its evidence (see :func:`html_dates.page_date`)."""
    return html_dates.page_date(tree, _jsonld_articles(jsonld), url)


# --------------------------------------------------------------------------- main text


def _drop_leading_title(lines: list[str], title: str | None) -> list[str]:
    if not title:
        return lines
    # Letters of any script: _key keeps only [0-9a-z], so a Cyrillic or Arabic
    # title and every line of its text share the key "" and all were dropped.
    def line_key(text: str) -> str:
        return re.sub(r"[\W_]", "", fold(text))

    title_key = line_key(title)
    while lines and title_key and line_key(lines[0]) == title_key:
        lines = lines[1:]
    return lines
