"""Reuters-21578 style SGML: one story per ``<REUTERS>`` element.

Stories are streamed, so a 30 MB ``.sgm`` file is never held whole.  The
category codes (``PLACES``, ``PEOPLE``, ``ORGS``) become given entities with
readable names (:func:`reuters_name`), and hard-wrapped wire copy is joined
back into paragraphs (:func:`rewrap_paragraphs`).
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterable, Iterator
from typing import IO, Any

from search.document import ReadFailure, Source
from search.readers import files
from search.readers.decoding import FALLBACK_ENCODING, LATIN1_FILL, content_hash
from search.readers.files import (
    STREAM_ERRORS,
    InputFile,
    article_path,
    check_binary_head,
    fallback_reference,
    limited_lines,
    open_stream,
    stream_failure,
    too_large,
)
from search.settings import Options

# Reuters codes are lowercase and hyphenated; these few read badly title-cased.
REUTERS_NAMES = {
    "usa": "United States", "uk": "United Kingdom", "ussr": "Soviet Union", "uae": "United Arab Emirates",
    "worldbank": "World Bank", "adb-asia": "Asian Development Bank", "adb-africa": "African Development Bank",
    "euratom": "Euratom", "comecon": "Comecon",
}
# Name particles stay lower case ("de Clercq", "Perez de Cuellar").
_PARTICLES = frozenset({"de", "del", "la", "du", "von", "van", "der", "da", "di", "le"})
REUTERS_ENTITY_TAGS = (("PLACES", "place"), ("PEOPLE", "person"), ("ORGS", "org"))
REUTERS_META_TAGS = (("TOPICS", "topics"), ("EXCHANGES", "exchanges"), ("COMPANIES", "companies"))
REUTERS_SOURCE = "Reuters"
# A line shorter than this ends its paragraph: wire copy is wrapped at ~70 chars.
REUTERS_SHORT_LINE = 40

_STORY_START = b"<REUTERS"
_STORY_END = b"</REUTERS>"
_ATTRIBUTE = re.compile(r'(\w+)="([^"]*)"')
_CONTROL_REF = re.compile(r"&#(\d+);")
_SIGN_OFF_LINE = re.compile(r"^\s*reuters?\s*\.{0,3}\s*$", re.IGNORECASE)
_SIGN_OFF_TAIL = re.compile(r"(?<=[.!?\"')])\s+reuters?\.{0,3}\s*$", re.IGNORECASE)
_TABULAR = re.compile(r"\S {3,}\S|\.{4,}|\t")
_REUTERS_DATE = re.compile(r"(\d{1,2})-([A-Za-z]{3})-(\d{4})")
_MONTHS = {m: i for i, m in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split(), start=1)}


def read_sgml(item: InputFile, options: Options) -> Iterator[Source | ReadFailure]:
    fallback = fallback_reference(item.path, options)
    stories = 0
    try:
        with open_stream(item) as stream:
            lines = _CheckedLines(stream)
            for raw in _sgml_elements(lines):
                stories += 1
                if raw is None:
                    yield ReadFailure(item.rel, str(too_large(what="story")))
                else:
                    yield _reuters_story(item.rel, raw, fallback)
    except STREAM_ERRORS as error:
        yield stream_failure(item, error)
        return
    if stories == 0:
        yield ReadFailure(item.rel, "empty file" if lines.empty else "no <REUTERS> stories found")


class _CheckedLines:
    """Lines of a stream, refusing a binary start and noting whether any text was seen."""

    def __init__(self, stream: IO[bytes]):
        self._stream = stream
        self.empty = True

    def __iter__(self) -> Iterator[bytes | None]:
        """Each line, or None for one over the size limit (never read whole: it may be a gzip bomb)."""
        for line, oversized in limited_lines(self._stream):
            if self.empty and line.strip():
                check_binary_head(line)
                self.empty = False
            yield None if oversized else line


def _sgml_elements(lines: Iterable[bytes | None]) -> Iterator[bytes | None]:
    """Each ``<REUTERS ...> ... </REUTERS>`` element's bytes, streamed; None for one over the size limit.

    A None in *lines* is a line over the size limit: it makes the story it is
    in too large, and is ignored between stories.
    """
    story: list[bytes] | None = None
    size = 0
    for line in lines:
        if line is None:
            if story is not None:
                story = None
                yield None
            continue
        if story is None:
            if not line.lstrip().startswith(_STORY_START):
                continue
            story, size = [], 0
        size += len(line)
        if size > files.MAX_FILE_BYTES:  # an unclosed element must not swallow the rest of the file
            story = None
            yield None
            continue
        story.append(line)
        if _STORY_END in line:
            yield b"".join(story)
            story = None


def _sgml_text(raw: str) -> str:
    """Strip control-character references, then unescape the rest."""
    text = _CONTROL_REF.sub(lambda m: "" if int(m.group(1)) < 32 or int(m.group(1)) == 127 else m.group(0), raw)
    return html.unescape(text).replace("\r", "")


def _tag(markup: str, name: str) -> str | None:
    found = re.search(rf"<{name}\b[^>]*>(.*?)</{name}>", markup, re.DOTALL | re.IGNORECASE)
    return found.group(1) if found else None


def _codes(markup: str, name: str) -> list[str]:
    inner = _tag(markup, name) or ""
    codes = (_sgml_text(code).strip() for code in re.findall(r"<D>(.*?)</D>", inner, re.DOTALL))
    return list(dict.fromkeys(code for code in codes if code))


def reuters_name(code: str, kind: str) -> str:
    """A readable name for a Reuters category code (``west-germany`` → ``West Germany``).

    Organisation codes are acronyms (``opec`` → ``OPEC``, ``ico-coffee`` →
    ``ICO (Coffee)``); a few codes have a fixed reading in :data:`REUTERS_NAMES`.
    """
    if code in REUTERS_NAMES:
        return REUTERS_NAMES[code]
    if kind == "org":
        head, _, rest = code.partition("-")
        return f"{head.upper()} ({rest.replace('-', ' ').title()})" if rest else head.upper()
    words = code.split("-")
    if kind != "person":
        return " ".join(word.title() for word in words)
    last = len(words) - 1
    return " ".join(word if word in _PARTICLES and i < last else word.title() for i, word in enumerate(words))


def _reuters_story(rel: str, raw_bytes: bytes, fallback: dt.date | None) -> Source | ReadFailure:
    try:
        raw = raw_bytes.decode("utf-8")
    except UnicodeDecodeError:
        raw = raw_bytes.decode(FALLBACK_ENCODING, errors=LATIN1_FILL)
    header = raw[: raw.find(">") + 1]
    attrs = dict(_ATTRIBUTE.findall(header))
    newid = attrs.get("NEWID", "")
    path = article_path(rel, newid) if newid else rel
    text_open = re.search(r"<TEXT\b([^>]*)>", raw, re.IGNORECASE)
    text_type = dict(_ATTRIBUTE.findall(text_open.group(1))).get("TYPE", "NORM") if text_open else "NORM"
    title, body = _reuters_title_body(_tag(raw, "TEXT") or "", text_type)
    if not title and not body:
        return ReadFailure(path, "no title or body")
    raw_date = _tag(raw, "DATE")
    date = _CONTROL_REF.split(raw_date, maxsplit=1)[0].strip() if raw_date else None
    dateline = _tag(raw, "DATELINE")
    meta: dict[str, Any] = {key: _codes(raw, tag) for tag, key in REUTERS_META_TAGS}
    meta.update(
        dateline=_clean_dateline(dateline) if dateline else None,
        newid=int(newid) if newid.isdigit() else newid or None,
        lewissplit=attrs.get("LEWISSPLIT"),
        text_type=text_type,
    )
    entities = [(reuters_name(code, kind), kind) for tag, kind in REUTERS_ENTITY_TAGS for code in _codes(raw, tag)]
    return Source(
        path=path,
        kind="text",
        content=body or title or "",
        group=f"{rel}|{REUTERS_SOURCE}",
        title=title,
        date=date or None,
        source=REUTERS_SOURCE,
        entities=list(dict.fromkeys(entities)),
        reference_date=_reuters_day(date) or fallback,
        meta=meta,
        content_hash=content_hash(raw_bytes),
    )


def _reuters_title_body(text: str, text_type: str) -> tuple[str | None, str]:
    """Title and body of a ``<TEXT>``.

    ``UNPROC`` stories (tables, corrections and flashes without markup) are
    indexed, not failed: their first line is the title and the rest the body
    (table rows are indented or column-aligned, so they stay one per line).
    ``BRIEF`` stories are a headline only (their body is
    the placeholder "Blah blah blah."), so the body is left empty and the
    caller falls back to the title.
    """
    if text_type.upper() == "UNPROC":
        lines = _drop_sign_off(_sgml_text(text).split("\n"))
        nonblank = [i for i, line in enumerate(lines) if line.strip()]
        if not nonblank:
            return None, ""
        first = nonblank[0]
        return " ".join(lines[first].split()), rewrap_paragraphs(lines[first + 1 :])
    title_raw = _tag(text, "TITLE")
    title = " ".join(_sgml_text(title_raw).split()) if title_raw else None
    body_raw = _tag(text, "BODY") if text_type.upper() != "BRIEF" else None
    body = rewrap_paragraphs(_drop_sign_off(_sgml_text(body_raw).split("\n"))) if body_raw else ""
    return title or None, body


def _drop_sign_off(lines: list[str]) -> list[str]:
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    if lines and _SIGN_OFF_LINE.match(lines[-1]):
        lines = lines[:-1]
    elif lines:
        lines = [*lines[:-1], _SIGN_OFF_TAIL.sub("", lines[-1])]
    return lines


def rewrap_paragraphs(lines: list[str]) -> str:
    """Join hard-wrapped lines into paragraphs, one per line, blank lines between.

    A paragraph starts after a blank line, at an indented line, or after a
    short line; table-like lines (column gaps, dot leaders) stand alone.
    """
    paragraphs: list[str] = []
    current: list[str] = []
    previous = ""
    seen = 0
    for line in lines:
        stripped = line.strip()
        if not stripped:
            _flush(current, paragraphs)
            previous = ""
            continue
        seen += 1
        # The first line shares its row with the dateline, so it is short without ending anything.
        short = len(previous) < REUTERS_SHORT_LINE and seen > 2
        ended = bool(previous) and (short or bool(_TABULAR.search(previous)))
        if line[0].isspace() or _TABULAR.search(stripped) or ended:
            _flush(current, paragraphs)
        if current and current[-1][-1:] == "-" and current[-1][-2:-1].isalpha():
            current[-1] += stripped  # a compound split at its hyphen: "year-" + "ago"
        else:
            current.append(stripped)
        previous = stripped
    _flush(current, paragraphs)
    return "\n\n".join(paragraphs)


def _flush(current: list[str], paragraphs: list[str]) -> None:
    if current:
        paragraphs.append(" ".join(current))
        current.clear()


def _clean_dateline(raw: str) -> str | None:
    text = " ".join(_sgml_text(raw).split()).rstrip(" -")
    return text or None


def _reuters_day(date: str | None) -> dt.date | None:
    found = _REUTERS_DATE.search(date or "")
    if not found:
        return None
    month = _MONTHS.get(found.group(2).upper())
    try:
        return dt.date(int(found.group(3)), month, int(found.group(1))) if month else None
    except ValueError:
        return None
