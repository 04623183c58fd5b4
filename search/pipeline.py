"""From a :class:`~search.document.Source` to an :class:`~search.document.Article`.

The chain, each step a small function that returns a value or ``None``:

1. HTML pages go through :func:`search.extract.html.extract_html` for main
   text, title, date and site name; plain text is used as is.
2. :func:`search.clean.clean_text` drops boilerplate and sets aside date
   stamps, datelines and captions.
3. :func:`extract_title`, :func:`extract_date_info`, :func:`extract_source`
   pick each field, explicit metadata (sidecar, JSONL, corpus tags) first.
4. :func:`search.extract.entities.extract_entities` finds the document's
   entities; canonical values across documents are the indexer's job.
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING

from .clean import CleanText, clean_text, first_sentence_title
from .clusters import fingerprint
from .document import UNDATED, Article, DateInfo, Dropped, Source
from .extract.dates import extract_date, parse_date_line, parse_date_string
from .extract.entities import extract_entities
from .settings import Options
from .textnorm import site_of

if TYPE_CHECKING:
    from .extract.html import HtmlPage

# Bumped whenever cleaning or extraction changes what an unchanged file yields,
# so the next ``newsfacet index`` re-processes everything once.
PIPELINE_VERSION = "8"
# The most text one article keeps (stored, indexed and shown): 1,000,000 characters.
MAX_BODY_CHARS = 1_000_000


class ExtractionError(Exception):
    """The source held no article text; the reason is the message."""


def article_id(path: str) -> str:
    """A stable, URL-safe id for the article at *path* (relative path, ``#N`` kept)."""
    return hashlib.blake2b(path.encode("utf-8"), digest_size=8).hexdigest()


def process(
    source: Source,
    options: Options,
    repeated: dict[str, int] | None = None,
    headlines: frozenset[str] = frozenset(),
) -> tuple[Article, CleanText]:
    """Clean and extract one source.

    :param repeated: line keys that recur across the source's group
        (:meth:`search.clean.RepeatedLines.for_group`).
    :param headlines: those that may still be this source's title
        (:meth:`search.clean.RepeatedLines.headlines`).
    :return: the article (entities not yet canonical across documents) and the
        cleaner's full account, for ``newsfacet clean``.
    :raises ExtractionError: when no article text is left.
    """
    page: HtmlPage | None = None
    text = source.content
    if source.kind == "html":
        # Imported here: trafilatura and its kin take half a second to import, which a
        # collection of text, JSONL or SGML never needs.
        from .extract.html import extract_html

        page = extract_html(source.content, source.url, options)
        if page is None:
            raise ExtractionError("no main text found in the HTML")
        text = page.text
    given_title = source.title or (page.title if page else None)
    cleaned = clean_text(
        text,
        options,
        title=given_title,
        repeated=repeated,
        headlines=headlines,
        reference_date=source.reference_date,
        # trafilatura (or the soup reading) already chose these lines by the
        # page's structure: the cleaner drops them only on evidence, not shape.
        extracted=page is not None,
    )
    if not cleaned.paragraphs and not source.title and not (page is not None and page.title and page.date):
        # A headline-only item (a wire "brief") is an article when the input
        # names its title, or when an HTML page states its headline and its
        # publication date; a page that is all furniture is not.
        raise ExtractionError("no article text left after removing boilerplate")
    title = extract_title(cleaned)
    date = extract_date_info(source, page, cleaned, options)
    paragraphs, cut = extract_body(cleaned.paragraphs)
    if cut:
        cleaned.dropped.append(Dropped(f"[the last {cut:,} characters]",
                                       f"over the {MAX_BODY_CHARS:,}-character limit for one article's text"))
    body = "\n\n".join(paragraphs)
    captions = [strip_credit(c) for c in cleaned.captions]
    entities = extract_entities(title, paragraphs + [c for c in captions if c], options, given=source.entities)
    meta = dict(source.meta)
    if cleaned.bylines:
        meta.setdefault("byline", "; ".join(cleaned.bylines))
    if page and page.description:
        meta.setdefault("description", page.description)
    article = Article(
        id=article_id(source.path),
        path=source.path,
        title=title,
        body=body,
        date=date,
        source=extract_source(source, page),
        url=source.url or (page.url if page else None),
        entities=entities,
        captions=cleaned.captions + (list(page.captions) if page else []),
        dateline=cleaned.dateline or meta.pop("dateline", None),
        meta=meta,
        dropped=cleaned.dropped,
        content_hash=source.content_hash,
        fingerprint=fingerprint(body),
    )
    return article, cleaned


def extract_body(paragraphs: list[str], limit: int | None = None) -> tuple[list[str], int]:
    """The paragraphs that fit in *limit* characters (:data:`MAX_BODY_CHARS`), and how many were cut.

    A news article is a few thousand characters; a text a thousand times that
    is a dump, a log or a book, and storing all of it makes every view of it
    slow.  The cut falls at a paragraph, or at a word inside a longer one.
    """
    limit = MAX_BODY_CHARS if limit is None else limit
    kept: list[str] = []
    used = 0
    for i, para in enumerate(paragraphs):
        room = limit - used - (2 if kept else 0)
        if len(para) > room:
            part = para[:room].rsplit(" ", 1)[0] if room > 0 else ""
            if part:
                kept.append(part)
            total = sum(len(p) for p in paragraphs) + 2 * (len(paragraphs) - 1)
            return kept, total - len("\n\n".join(kept))
        kept.append(para)
        used += len(para) + (2 if i else 0)
    return kept, 0


def extract_title(cleaned: CleanText) -> str:
    """The headline, else the first sentence, else a placeholder that says so."""
    return cleaned.title or first_sentence_title(cleaned.paragraphs) or "(untitled)"


def extract_date_info(source: Source, page: HtmlPage | None, cleaned: CleanText, options: Options) -> DateInfo:
    """The publication date: explicit metadata, then the page's markup, then its text."""
    ref = source.reference_date or options.reference_date
    if source.date:
        parsed = parse_date_string(source.date, ref)
        if parsed is not None:
            return DateInfo(parsed.value, parsed.precision, f"given by the input: {source.date!r}")
    if page is not None and page.date:
        parsed = parse_date_string(page.date, ref)
        if parsed is not None:
            return DateInfo(parsed.value, parsed.precision, page.date_evidence or f"HTML metadata: {page.date}")
    for stamp in page.stamps if page is not None else ():
        parsed = parse_date_line(stamp, ref)
        if parsed is not None:
            return DateInfo(parsed.value, parsed.precision, f"byline in the HTML: {stamp!r}")
    found = extract_date(cleaned.title, cleaned.date_context, ref, options)
    return found if found is not None else UNDATED


# Photo credits name photographers and agencies, not the story's entities.
_CREDIT = re.compile(
    r"(\s*\[[^\]]*\]\s*$|\s*\((?:photo|image|picture|credit|file)[^)]*\)\s*$"
    r"|\s*\b(?:photo|image|picture|credit)\s*[:|].*$|\s*\b[A-Z]{3,}/[A-Z][\w .-]+$)",
    re.IGNORECASE,
)


def strip_credit(caption: str) -> str:
    """A caption without its photo credit."""
    return _CREDIT.sub("", caption).strip(" .,-")


def extract_source(source: Source, page: HtmlPage | None) -> str | None:
    """The site: as given, else the page's site name, else the URL's host."""
    if source.source:
        return source.source
    if page is not None and page.site_name:
        return page.site_name
    return site_of(source.url or (page.url if page else None))
