"""The main text of a saved HTML page, one paragraph or subheading a line.

trafilatura's default (recall-leaning) extraction is the base: on real pages
its precision mode loses body paragraphs (recipe fields, table rows, code
samples, short answers in an interview), and what it keeps beyond the
precision run is mostly article text; boilerplate it lets through is removed
later by the cleaner on evidence (repetition across the site's pages,
reader-directed UI language, metadata), see ``clean_text(extracted=True)``.

Two things the page itself states are used on top of it:

* a near-empty result (a menu, a footer) is replaced by the stricter soup
  reading of the page's own ``<article>``/``<main>`` blocks;
* the standfirst: the page's meta description printed as a visible
  paragraph (the lead under the headline) is often outside the container
  trafilatura picks, so it is put back in front of the text.
"""

from __future__ import annotations

import re
import warnings
from typing import Any

import lxml.html
import trafilatura
from bs4 import BeautifulSoup, Tag

from search.textnorm import fold, normalize_text

# Below this many characters trafilatura's text is checked against the soup reading.
SHORT_TEXT_CHARS = 100
# BeautifulSoup fallback: tags that are never article text …
SOUP_DROP_TAGS = ("script", "style", "nav", "header", "footer", "aside", "form", "noscript", "iframe", "svg",
                  "button", "template", "select")
# … class/id words of page furniture (matched per token, on word boundaries) …
SOUP_BOILERPLATE = re.compile(
    r"(?:^|[-_])(?:share|sharing|sharedaddy|social|comments?|respond|related|relatedposts|newsletter|subscribe|"
    r"signup|ads?|advert\w*|sponsor\w*|cookies?|consent|gdpr|promo\w*|sidebar|widget|breadcrumbs?|menu|"
    r"navbar|nav|popup|modal|banner|outbrain|taboola|byline|author|meta|timestamp)(?:$|[-_])",
    re.IGNORECASE,
)
# … never removed by that rule, since a theme may put "has-sidebar" on them …
SOUP_PROTECTED = frozenset({"html", "body", "article", "main"})
# … and the blocks that make paragraphs.
SOUP_BLOCKS = ("p", "h2", "h3", "h4", "li", "blockquote")

_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
# A bullet the page prints in front of a list item ("• item", "* item").
_LIST_MARKER = re.compile(r"^\s*[-*•]\s+")
# The "- " trafilatura's text output puts in front of every <li>.  It is cut
# before normalising, so a paragraph that itself opens with a dash (dialogue:
# "– „Ok.“") keeps it.
_TRAFILATURA_ITEM = re.compile(r"^\s*- ")


def main_text_lines(markup: str, url: str | None, extractor: str) -> list[str]:
    """The page's main text lines: trafilatura's default extraction, the soup reading when that is near-empty."""
    lines: list[str] = []
    if extractor == "trafilatura":
        lines = _trafilatura_lines(markup, url)
    # On a near-empty page trafilatura's baseline returns whatever text is
    # left (a menu, a footer); the stricter soup reading decides there.
    if sum(len(line) for line in lines) < SHORT_TEXT_CHARS:
        lines = _soup_lines(markup)
    return lines


def _trafilatura_lines(markup: str, url: str | None) -> list[str]:
    # trafilatura is given the markup, not our lxml tree: it parses with its
    # own parser settings, and on some pages (inline scripts before <head>
    # content) it finds nothing in a tree lxml.html built.
    markup = _XML_DECLARATION.sub("", markup, count=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            document = trafilatura.bare_extraction(
                markup,
                url=url,
                include_comments=False,
                include_tables=True,
                with_metadata=False,
            )
        except (ValueError, TypeError):
            return []
    text = getattr(document, "text", None) if document is not None else None
    if not text:
        return []
    return _clean_lines(_TRAFILATURA_ITEM.sub("", raw) for raw in text.split("\n"))


def _clean_lines(raw_lines) -> list[str]:
    lines = []
    for raw in raw_lines:
        line = " ".join(normalize_text(raw).split())
        if line:
            lines.append(line)
    return lines


# --------------------------------------------------------------------------- above the headline

# How far down the extracted text the page's headline may be found.
MAX_LINES_ABOVE_HEADLINE = 5


def drop_above_headline(lines: list[str], title: str | None) -> list[str]:
    """*lines* without the labels printed above the page's own headline.

    trafilatura's text starts with the article's header when it keeps it: a
    kicker ("Reportage", "Nachruf"), a section name, a breadcrumb, a bare
    "Posted on", then the headline.  What sits above the headline element and
    is not prose is that header's furniture; a prose paragraph there (a
    teaser the layout prints first) stays.
    """
    if not title:
        return lines
    from search.clean import is_sentence  # the cleaner's notion of prose, shared

    title_key = _match_key(title)
    at = next((i for i, line in enumerate(lines[: MAX_LINES_ABOVE_HEADLINE + 1]) if _match_key(line) == title_key), 0)
    if not title_key or at == 0:
        return lines
    return [line for line in lines[:at] if is_sentence(line)] + lines[at:]


# --------------------------------------------------------------------------- lead paragraph

# A description shorter than this is a slogan or a site blurb, not a lead.
LEAD_MIN_WORDS = 6
# The element printing the description may hold a little more (a "Von Jane
# Doe |" prefix, the sentence the description cut off), not a whole section.
LEAD_MAX_FACTOR = 2.0
LEAD_MAX_EXTRA_CHARS = 200
# Where a description-like text is the site's, not this article's.
_NOT_LEAD_TAGS = frozenset({"nav", "footer", "aside", "form", "script", "style", "noscript", "template", "select",
                            "button", "a"})
_ELLIPSIS = re.compile(r"(\s*(\.\.\.|…|\[…\]|\[\.\.\.\]))+\s*$")


def _match_key(text: str) -> str:
    """Letters and digits only, folded: spacing, punctuation and markup splits ignored."""
    return re.sub(r"[\W_]+", "", fold(normalize_text(text)))


def with_lead(lines: list[str], tree: lxml.html.HtmlElement, description: str | None) -> list[str]:
    """*lines* with the page's standfirst in front when the extractor left it out.

    The standfirst is the element of the page's body that prints the meta
    description (the summary the publisher wrote for this article); a
    description that is not visible on the page, sits in navigation or a
    footer, or is already in the text is not added.
    """
    if not description or len(description.split()) < LEAD_MIN_WORDS:
        return lines
    core = _ELLIPSIS.sub("", description)
    if _ELLIPSIS.search(description):
        core = core.rsplit(" ", 1)[0]  # a cut description ends in a cut word
    key = _match_key(core)
    if len(key) < 20 or key in _match_key(" ".join(lines)):
        return lines
    body = tree.find("body")
    element = _lead_element(body, key, len(core)) if body is not None else None
    if element is None:
        return lines
    return [" ".join(normalize_text("".join(element.itertext())).split()), *lines]


def _lead_element(body: Any, key: str, chars: int) -> Any | None:
    """The smallest element of *body* printing *key*, outside the site's furniture; None if none.

    Element text sizes are summed bottom-up in one pass, so only elements
    about the description's size have their text read: linear in the page,
    however deep its nesting.
    """
    limit = max(LEAD_MAX_FACTOR * chars, chars + LEAD_MAX_EXTRA_CHARS)
    elements = [el for el in body.iter() if isinstance(el.tag, str)]
    sizes: dict[Any, int] = {}
    candidates = []
    for element in reversed(elements):  # descendants before their ancestors
        size = len(element.text or "") + sum(sizes.get(c, 0) + len(c.tail or "") for c in element)
        sizes[element] = size
        if len(key) <= size <= limit and element.tag not in _NOT_LEAD_TAGS:
            candidates.append((size, element))
    for _, element in sorted(candidates, key=lambda pair: pair[0]):
        if key in _match_key("".join(element.itertext())) and not _in_furniture(element):
            return element
    return None


def _in_furniture(element: Any) -> bool:
    for node in (element, *element.iterancestors()):
        if node.tag in _NOT_LEAD_TAGS:
            return True
        if node.tag in SOUP_PROTECTED:
            continue
        tokens = f"{node.get('class') or ''} {node.get('id') or ''}".split()
        if any(SOUP_BOILERPLATE.search(token) for token in tokens):
            return True
    return False


# --------------------------------------------------------------------------- soup reading


def _soup_lines(markup: str) -> list[str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # bs4 warns about markup that looks like a URL or XML
        soup = BeautifulSoup(markup, "lxml")
    if soup.body is None:
        return []
    for element in soup.find_all(SOUP_DROP_TAGS):
        element.decompose()
    _drop_boilerplate(soup)
    container = _soup_container(soup)
    blocks = [el for el in container.find_all(SOUP_BLOCKS) if not el.find(SOUP_BLOCKS)]
    lines = _clean_lines(_LIST_MARKER.sub("", block.get_text()) for block in blocks)
    if not lines:
        lines = _clean_lines(_LIST_MARKER.sub("", raw) for raw in container.get_text("\n").split("\n"))
    return list(dict.fromkeys(lines))


def _drop_boilerplate(soup: BeautifulSoup) -> None:
    # A layout wrapper ("container has-sidebar") holding the article is not
    # furniture; its ancestors are collected once so the check stays linear.
    holders = {id(parent) for tag in soup.find_all(SOUP_PROTECTED) for parent in tag.parents}
    for element in soup.find_all(_is_boilerplate):
        if id(element) not in holders and not element.decomposed:
            element.decompose()


def _is_boilerplate(tag: Tag) -> bool:
    if tag.name in SOUP_PROTECTED or tag.attrs is None:
        return False
    classes = tag.get("class") or []
    tokens = [*classes, tag.get("id") or ""] if isinstance(classes, list) else [classes, tag.get("id") or ""]
    return any(SOUP_BOILERPLATE.search(token) for token in tokens if token)


def _soup_container(soup: BeautifulSoup) -> Tag:
    articles = soup.find_all("article")
    if articles:
        return max(articles, key=lambda article: len(article.get_text()))
    return soup.find("main") or soup.body
