"""The boilerplate cleaner: scraped page text in, article lines out.

A scraped page is the article plus the site around it: navigation and section
labels and a slogan above the headline, a date stamp and photo caption under
it, ad markers and link teasers between paragraphs, share / comment /
newsletter prompts and related-link lists below it.  The cleaner decides line
by line, by *general* evidence rather than a list of one site's strings:

* **shape** – a line is prose when it reads as sentences (terminal punctuation,
  enough words); headline-like lines (short, no terminal punctuation) are
  kept only where an article has them: as the title, or as subheadings
  *between* prose paragraphs.  Anything before the headline or after the last
  paragraph that is not prose is page furniture, except a table under a
  short lead (results, standings: rows of names and numbers in one block).
* **UI language** – imperatives and second person aimed at the reader
  ("share", "follow", "sign up", "your email"), copyright and cookie notices,
  breadcrumb trails, and "LABEL: link text" teasers.
* **repetition** – a short line repeated inside one page (ad markers), or
  across several pages of one site or folder (taglines, footers), is not
  article text.  :class:`RepeatedLines` gathers that evidence over a corpus
  before cleaning; syndicated copies of one story are counted once so that
  they do not wipe each other out.
* **metadata** – date stamps, datelines and image captions are taken out of
  the body and returned as metadata.

:func:`clean_text` returns a :class:`CleanText` with every dropped line and
the rule that dropped it, which ``newsfacet clean`` prints.  The questions
asked of single lines (shape, UI language, bylines, teasers, captions) live in
:mod:`search.clean_lines`.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from .clean_lines import (
    DATELINE,
    DECK_MIN_WORDS,
    HEADLINE_MAX_WORDS,
    SHORT_LINE_WORDS,
    caption_reason,
    has_vocab,
    is_byline,
    is_headline_like,
    is_sentence,
    teaser_reason,
    ui_reason,
    words,
)
from .document import DateInfo, Dropped
from .extract.dates import dateline_place, parse_date_line
from .settings import Options
from .textnorm import fold, normalize_text

# --- cross-document evidence -----------------------------------------------


def line_key(line: str) -> str:
    """The form lines are compared in: folded, punctuation and spacing ignored."""
    return " ".join(words(fold(line)))


def split_lines(text: str) -> list[str]:
    """Normalise *text* and return its non-empty lines, hard wraps re-joined."""
    return [line for line, _ in split_blocks(text)]


def split_blocks(text: str) -> list[tuple[str, int]]:
    """Non-empty lines of *text*, each with the number of its blank-line-separated block.

    A dump wrapped at a fixed width breaks sentences across lines; a line that
    stops mid-sentence followed by one starting in lower case is one line.
    """
    out: list[tuple[str, int]] = []
    block = 0
    prev_blank = True
    for raw in normalize_text(text).split("\n"):
        line = raw.strip()
        if not line:
            if not prev_blank:
                block += 1
            prev_blank = True
            continue
        if (
            out
            and not prev_blank
            and len(out[-1][0]) >= 50
            and not re.search(r"""[.!?:;"')\]]$""", out[-1][0])
            and line[:1].islower()
        ):
            out[-1] = (f"{out[-1][0]} {line}", block)
        else:
            out.append((line, block))
        prev_blank = False
    return out


def _fingerprint(lines: list[str]) -> str:
    """Identify the story a page carries by its longest line, so syndicated
    copies of one story count as one document for repetition evidence."""
    longest = max(lines, key=len, default="")
    return hashlib.blake2b(line_key(longest).encode(), digest_size=8).hexdigest()


@dataclass
class RepeatedLines:
    """Short lines seen across several documents of one group.

    Feed every document with :meth:`add` first, then ask :meth:`for_group`.
    Only lines of at most ``options.repeat_max_words`` words are tracked, so
    the memory used grows with a site's furniture, not with its articles.
    """

    options: Options = field(default_factory=Options)
    _seen: dict[str, dict[str, set[str]]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(set)))
    _docs: Counter = field(default_factory=Counter)
    _stories: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    _sentences: set[str] = field(default_factory=set)
    _head: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    def add(self, group: str, text: str) -> None:
        """Record one document of *group*."""
        lines = split_lines(text)
        story = _fingerprint(lines)
        self._docs[group] += 1
        self._stories[group].add(story)
        seen = self._seen[group]
        first_prose = next((i for i, line in enumerate(lines) if is_sentence(line)), len(lines))
        for i, line in enumerate(lines):
            if len(words(line)) <= self.options.repeat_max_words:
                key = line_key(line)
                if key:
                    seen[key].add(story)
                    if i < first_prose:
                        self._head[key].add(story)
                    if is_sentence(line):
                        self._sentences.add(key)

    def groups(self) -> list[str]:
        """Every group a document was recorded in."""
        return list(self._docs)

    def for_group(self, group: str) -> dict[str, int]:
        """Line key -> number of distinct stories, for lines that count as boilerplate."""
        stories = len(self._stories[group])
        out = {}
        for key, where in self._seen.get(group, {}).items():
            n = len(where)
            if n < self.options.repeat_min_docs:
                continue
            # A short *sentence* can recur honestly ("He declined to comment."),
            # so it must be on a large share of the site's pages to be furniture.
            if key in self._sentences and (n < 3 or n < 0.3 * stories):
                continue
            out[key] = n
        return out

    def headlines(self, group: str) -> frozenset[str]:
        """Repeated line keys printed above the first paragraph of exactly one story.

        Such a line is likely that story's headline, listed under "most read"
        on the site's other pages; the cleaner lets it be the title there.
        """
        return frozenset(k for k in self.for_group(group) if len(self._head.get(k, ())) == 1)

    @classmethod
    def from_texts(cls, items: Iterable[tuple[str, str]], options: Options | None = None) -> RepeatedLines:
        """Build from ``(group, text)`` pairs."""
        rep = cls(options or Options())
        for group, text in items:
            rep.add(group, text)
        return rep


# --- the cleaner -------------------------------------------------------------


@dataclass
class CleanText:
    """What the cleaner made of one page.

    :param title: the headline, or None when the page has none.
    :param title_evidence: how the title was chosen.
    :param paragraphs: body paragraphs and subheadings, in order.
    :param date_lines: date stamps found under the headline, with their parse.
    :param date_context: the lines the date extractor should read, in order:
        date stamps and the lead paragraphs with their dateline intact.
    :param dateline: the wire dateline removed from the first paragraph, or
        the place of a dateline printed on its own line under the headline.
    :param captions: image captions.
    :param bylines: author lines.
    :param dropped: every removed line with its reason.
    """

    title: str | None
    title_evidence: str
    paragraphs: list[str]
    date_lines: list[tuple[str, DateInfo]] = field(default_factory=list)
    date_context: list[str] = field(default_factory=list)
    dateline: str | None = None
    captions: list[str] = field(default_factory=list)
    bylines: list[str] = field(default_factory=list)
    dropped: list[Dropped] = field(default_factory=list)


@dataclass
class _Line:
    text: str
    verdict: str = "keep"  # keep | drop | date | caption | byline | repeat (dropped unless chosen as title)
    reason: str = ""
    date: DateInfo | None = None
    block: int = 0

    def drop(self, reason: str) -> None:
        self.verdict, self.reason = "drop", reason


def clean_text(
    text: str,
    options: Options,
    *,
    title: str | None = None,
    repeated: dict[str, int] | None = None,
    headlines: frozenset[str] = frozenset(),
    reference_date=None,
    extracted: bool = False,
) -> CleanText:
    """Split a page's text into title, body, metadata and dropped lines.

    :param text: the page text (plain-text dump, or main text from HTML).
    :param options: the run's options.
    :param title: a title known from metadata (sidecar, HTML); lines repeating
        it are dropped and no headline is searched for.
    :param repeated: line keys that recur across this document's group, from
        :meth:`RepeatedLines.for_group`.
    :param headlines: those of them that may still be this page's title
        (:meth:`RepeatedLines.headlines`).
    :param reference_date: passed to the date-stamp parser for year-less stamps.
    :param extracted: the lines come from an HTML main-text extractor, which
        has already judged the page's layout.  Only evidence-based rules may
        then drop a line (repetition across sibling pages, reader-directed UI
        language, metadata such as bylines, date stamps and captions); rules
        that go by shape or position alone (teaser "Label:" lines, navigation
        trails, lines above the headline or after the last paragraph, link
        lists, lone words) would second-guess the extractor on the very lines
        it kept on purpose, so they are off.
    :return: a :class:`CleanText`.
    """
    lines = [_Line(t, block=b) for t, b in split_blocks(text)]
    repeated = repeated or {}
    title_key = line_key(title) if title else None
    _mark_metadata_and_furniture(lines, repeated, headlines, title_key, reference_date, extracted)
    if not extracted:
        _mark_link_lists(lines)
    spans = [_body_span(lines)] if extracted else _article_block(lines) or [(-1, -1)]
    if not extracted and spans[-1][1] >= 0:
        spans[-1] = (spans[-1][0], _table_below(lines, spans))
    body_start, body_end = spans[0][0], spans[-1][1]
    if not extracted and spans[0][0] >= 0:
        body_start = _lead_in(lines, body_start)
        spans[0] = (body_start, spans[0][1])
    chosen, evidence = _choose_title(lines, body_start, title)
    for ln in lines:
        if ln.verdict == "repeat" and ln is not chosen:
            same_as_title = chosen is not None and ln is not chosen and line_key(ln.text) == line_key(chosen.text)
            ln.drop("repeats the title" if same_as_title else ln.reason)
    if chosen is not None:
        chosen.verdict = "keep"
    if not extracted:
        _mark_head_and_tail(lines, spans, chosen)
        _mark_inner_fragments(lines, body_start, body_end)

    kept = [ln for ln in lines if ln.verdict == "keep" and ln is not chosen]
    if chosen is not None:
        _drop_title_repeats(kept, line_key(chosen.text))
        kept = [ln for ln in kept if ln.verdict == "keep"]
    paragraphs = [ln.text for ln in kept]
    date_context = [ln.text for ln in lines if ln.verdict in ("keep", "date") and ln is not chosen][:12]
    dateline = None
    # A dateline on its own line ("NEW YORK 1996-08-30") under the headline
    # is the story's; the "SPORT - " of a headline above it is no dateline.
    # The line stays in the body: its place is often the story's only mention
    # of it, and the body is what names are found in.
    placed = next((p for p in map(dateline_place, paragraphs[:DATELINE_LINES]) if p), None)
    if placed:
        dateline = placed
    elif paragraphs:
        m = DATELINE.match(paragraphs[0])
        if m and len(words(m.group("dateline"))) <= 10:
            dateline = m.group("dateline").strip(" -–—:")
            paragraphs[0] = m.group("rest")
    title_text = title or (chosen.text if chosen is not None else None)
    return CleanText(
        title=title_text,
        title_evidence="given by metadata" if title else evidence,
        paragraphs=paragraphs,
        date_lines=[(ln.text, ln.date) for ln in lines if ln.verdict == "date"],
        date_context=date_context,
        dateline=dateline,
        captions=[ln.text for ln in lines if ln.verdict == "caption"],
        bylines=[ln.text for ln in lines if ln.verdict == "byline"],
        dropped=[Dropped(ln.text, ln.reason) for ln in lines if ln.verdict == "drop"],
    )


# A dateline line sits under the headline, or under a headline kept as the
# first paragraph (one ending in a full stop reads as a sentence).
DATELINE_LINES = 2


def _mark_metadata_and_furniture(
    lines: list[_Line], repeated: dict[str, int], headlines: frozenset[str], title_key, reference_date,
    extracted: bool = False,
) -> None:
    keys = [line_key(ln.text) for ln in lines]
    in_page = Counter(keys)
    for ln, key in zip(lines, keys, strict=True):
        if title_key and key == title_key:
            ln.drop("repeats the title")
            continue
        date = parse_date_line(ln.text, reference_date) if len(words(ln.text)) <= 16 else None
        if date is not None:
            ln.verdict, ln.reason, ln.date = "date", "date stamp (kept as metadata)", date
            continue
        if is_byline(ln.text):
            ln.verdict, ln.reason = "byline", "byline (kept as metadata)"
            continue
        reason = caption_reason(ln.text)
        if reason:
            ln.verdict, ln.reason = "caption", "image caption (kept as metadata)"
            continue
        reason = (None if extracted else teaser_reason(ln.text)) or ui_reason(ln.text, shape=not extracted)
        if reason:
            ln.drop(reason)
        elif key in repeated:
            ln.verdict, ln.reason = "repeat", f"repeated on {repeated[key]} pages of this site or folder"
            if key not in headlines:
                ln.drop(ln.reason)
        elif in_page[key] > 1 and not is_sentence(ln.text) and not extracted:
            ln.verdict, ln.reason = "repeat", "repeated within the page"


def _body_span(lines: list[_Line]) -> tuple[int, int]:
    """Indices of the first and last prose line still kept (-1, -1 if none)."""
    prose = [i for i, ln in enumerate(lines) if ln.verdict == "keep" and is_sentence(ln.text)]
    if not prose:
        return -1, -1
    return prose[0], prose[-1]


# Weights of the article-block search, in characters of prose.  A paragraph
# counts its length; whatever else sits between paragraphs costs something, so
# that the block stretches over a subheading, a caption or an ad marker inside
# the article (a few dozen characters) but not over a menu, a related-links
# list or a comment form (many short lines and notices) towards a stray
# sentence in the footer.
SHORT_LINE_COST = 40
FURNITURE_COST = 150
METADATA_COST = 10
# Prose below a comment-section header counts for this share of its length,
# once this much prose came before the header.
COMMENT_PROSE_SHARE = 0.25
COMMENTS_AFTER_PROSE = 200
COMMENT_LOOKAHEAD = 4
# A further stretch of prose this rich next to the best one is article too.
SECOND_BLOCK_SHARE = 0.15
ADJACENT_GAP = 2
GAP_MAX_SHORT_LINES = 10**9  # tried 4: +4 body strings, -10 boilerplate ones


def _line_weight(ln: _Line) -> int:
    if ln.verdict == "keep":
        return len(ln.text) if is_sentence(ln.text) else -SHORT_LINE_COST
    if ln.verdict in ("date", "byline", "caption"):
        return -METADATA_COST
    if ln.verdict == "repeat":
        return -SHORT_LINE_COST
    return -FURNITURE_COST


def _best_run(weights: list[int], lo: int, hi: int) -> tuple[int, int, int]:
    """(score, first, last) of the maximum-sum run of weights[lo:hi] that ends on prose."""
    best, first, last = 0, -1, -1
    run, start = 0, lo
    for i in range(lo, hi):
        w = weights[i]
        if run <= 0:
            run, start = 0, i
        run += w
        if w > 0 and run > best:
            best, first, last = run, start, i
    if first >= 0:
        first = next(i for i in range(first, last + 1) if weights[i] > 0)
    return best, first, last


def _opens_comments(lines: list[_Line], i: int) -> bool:
    """Whether the comment header at *i* opens a comment section or form.

    "[5] Comments" in the toolbar under a headline is a link; a section
    header is followed at once by comment furniture: an author line, a date
    stamp, the form's notices and fields.
    """
    after = lines[i + 1 : i + 1 + COMMENT_LOOKAHEAD]
    furniture = ("comment", "site", "prompt", "addressed")
    return any(ln.verdict == "date" or (ln.verdict == "drop" and ln.reason.startswith(furniture)) for ln in after)


def _article_block(lines: list[_Line]) -> list[tuple[int, int]]:
    """(first, last) prose-line indices of the stretches that make the article, in order.

    The article is the stretch of the page with the most prose net of the
    furniture inside it (the maximum-sum run of line weights): a copyright
    line, a cookie notice or a menu *above* the article only ends a stretch
    that is not chosen, so it never removes the article, and the footer's
    sentences (an "about us" blurb, comment-form notices) below a share bar
    and a related-links list stay outside it.  A page whose text is broken
    up (a product page, an article cut by a gallery) has other stretches
    nearly as rich; those that score at least :data:`SECOND_BLOCK_SHARE` of
    the best are article too.
    """
    weights = []
    comments_at = len(lines)
    prose_seen = 0
    discount = 1.0
    for ln in lines:
        w = _line_weight(ln)
        if w > 0:
            w = int(w * discount)
            prose_seen += len(ln.text)
        elif (
            discount == 1.0
            and prose_seen >= COMMENTS_AFTER_PROSE
            and len(words(ln.text)) <= SHORT_LINE_WORDS
            and has_vocab("comments", ln.text)
            and _opens_comments(lines, len(weights))
        ):
            # Under a comment-section header the prose is readers', not the
            # article's: it may still be chosen, but only when it dwarfs
            # what came before (the header was a link in a toolbar).
            discount = COMMENT_PROSE_SHARE
            comments_at = len(weights)
        weights.append(w)
    score, first, last = _best_run(weights, 0, len(lines))
    if first < 0:
        return []
    spans = [(first, last)]
    todo = [(0, first), (last + 1, len(lines))]
    while todo:
        lo, hi = todo.pop()
        sc, f, la = _best_run(weights, lo, hi)
        # Readers' comments are never article "too"; only the best stretch
        # may reach below the comment header.
        # A stretch right next to the best one (at most ADJACENT_GAP lines
        # away: a share button, an ad marker) is article too whatever its
        # size: a boilerplate line or two never cut the article short.
        main_first, main_last = spans[0]
        adjacent = f >= 0 and (0 <= f - main_last - 1 <= ADJACENT_GAP or 0 <= main_first - la - 1 <= ADJACENT_GAP)
        if f >= 0 and (sc >= SECOND_BLOCK_SHARE * score or adjacent) and f < comments_at:
            spans.append((f, la))
            todo += [(lo, f), (la + 1, hi)]
    return sorted(spans)


# A results table, a standings list or a list of scores under a short lead
# ("Results of games played on Thursday:") is the article, though none of its
# lines reads as prose: rows of a number (score, time, rank, amount) beside a
# capitalised name, printed as lines of one block, as a plain-text table is.
# A scraped page's related-links list or footer has the site's vocabulary (it
# is dropped and ends the table), few numbers, and one line a block.
TABLE_MIN_ROWS = 3
TABLE_ROW_SHARE = 0.5
# Only under a lead this short: after a real article, short lines are the site's.
TABLE_LEAD_MAX_PROSE = 400
_TABLE_SHAPE_REASONS = ("navigation trail", "repeated within the page")
# A table's cells are numbers at the edge of its rows: the rank before the
# name ("7. Jane Roe"), the score, time, amount or minute after it ("Kansas
# City 1", "3:31.526", "1,445.", "(60th minute)"), perhaps with a note in
# brackets ("2 (1st game)").  A number inside a line ("Top 10 walks",
# "Posted 3 hours ago") is a headline's or a notice's.
_CELL = r"\d[\d.,:/-]*(?:st|nd|rd|th)?"
_TABLE_CELL = re.compile(rf"^\(?{_CELL}(?!\w)|(?<!\w)\(?{_CELL}(?:[^()]*\))?(?:\s*\([^()]*\))?[\s.,;:*-]*$")


def _is_table_row(lines: list[_Line], i: int) -> bool:
    """Whether line *i* reads as a row of a table: a number at its edge beside
    a capitalised name, in a short line that shares its block with a neighbour."""
    ws = words(lines[i].text)
    same_block = any(0 <= j < len(lines) and lines[j].block == lines[i].block for j in (i - 1, i + 1))
    return (
        same_block
        and len(ws) <= HEADLINE_MAX_WORDS
        and bool(_TABLE_CELL.search(lines[i].text))
        and any(w[:1].isupper() for w in ws)
    )


def _table_below(lines: list[_Line], spans: list[tuple[int, int]]) -> int:
    """The last line of a table directly below a short article block, else the block's last line.

    The table runs over the kept lines below the block up to the first line
    dropped as furniture; it ends with the block of its last row, and at
    least half of its lines must be rows (labels such as "Division one" and
    wrapped rows make the rest).
    """
    last = spans[-1][1]
    prose = sum(len(ln.text) for f, la in spans for ln in lines[f : la + 1] if _line_weight(ln) > 0)
    if prose > TABLE_LEAD_MAX_PROSE:
        return last
    rows = kept = kept_at_end = 0
    end = last
    restore: list[int] = []
    for i in range(last + 1, len(lines)):
        ln = lines[i]
        if ln.verdict in ("date", "byline", "caption"):
            continue
        row = _is_table_row(lines, i)
        if ln.verdict != "keep":
            # A table repeats its column heads ("W L PCT GB") and separates
            # columns with slashes: rules that go by shape alone do not end
            # it, and a row they dropped is a row.
            if not ln.reason.startswith(_TABLE_SHAPE_REASONS):
                break
            if not row:
                continue
            restore.append(i)
        kept += 1
        if row:
            rows += 1
        elif end == last or ln.block != lines[end].block:
            continue  # a lead line above the first row, or a line past the table's block
        end, kept_at_end = i, kept
    if rows < TABLE_MIN_ROWS or rows < TABLE_ROW_SHARE * kept_at_end:
        return last
    for i in restore:
        if i <= end:
            lines[i].verdict, lines[i].reason = "keep", ""
    return end


# A standfirst sits above the body, apart from it by at most this many lines
# (byline, date stamp, photo, "exclusive" label).
LEAD_IN_MAX_GAP = 4


def _lead_in(lines: list[_Line], body_start: int) -> int:
    """Move the body's start up over a standfirst the article-block search left out.

    A paragraph just above the body, apart from it only by a few short lines
    (byline, date, caption, a label), is the article's lead or deck: the
    metadata between them cost more than the deck weighed on its own.
    """
    if body_start < 0:
        return body_start
    gap = 0
    for i in range(body_start - 1, -1, -1):
        ln = lines[i]
        if ln.verdict == "keep" and is_sentence(ln.text) and len(words(ln.text)) >= DECK_MIN_WORDS:
            body_start, gap = i, 0
            continue
        gap += 1
        if gap > LEAD_IN_MAX_GAP or (ln.verdict == "drop" and ln.reason.startswith(("site", "copyright"))):
            break
    return body_start


def _choose_title(lines: list[_Line], body_start: int, given: str | None) -> tuple[_Line | None, str]:
    """The headline: the last headline-like line above the first paragraph.

    Site names, slogans and section labels sit *above* the headline; date
    stamps, captions and bylines sit between it and the body and are already
    set aside, so the nearest headline-like line above the body is the title.
    """
    if given:
        return None, "given by metadata"
    end = body_start if body_start >= 0 else len(lines)
    # The headline stands above its byline and date stamp; what sits between
    # those and the body (captions, photo credits, "listen" buttons) is not it.
    stamp = next((i for i in range(end) if lines[i].verdict in ("byline", "date")), None)
    if stamp is not None and any(
        lines[i].verdict in ("keep", "repeat") and is_headline_like(lines[i].text) for i in range(stamp)
    ):
        end = stamp
    head = range(end)
    candidates = [i for i in head if lines[i].verdict in ("keep", "repeat") and is_headline_like(lines[i].text)]
    # Of a headline printed twice, the first copy is the title.
    firsts: dict[str, int] = {}
    for i in candidates:
        firsts.setdefault(line_key(lines[i].text), i)
    candidates = sorted(set(firsts.values()))
    substantial = [i for i in candidates if len(words(lines[i].text)) >= 3]
    pick = (substantial or candidates or [None])[-1]
    if pick is None:
        return None, "no headline line; first sentence used"
    return lines[pick], "last headline-like line above the first paragraph"


def _mark_head_and_tail(lines: list[_Line], spans: list[tuple[int, int]], chosen: _Line | None) -> None:
    body_start, body_end = spans[0][0], spans[-1][1]
    if body_start < 0:
        return
    title_at = lines.index(chosen) if chosen is not None else -1
    for i in range(body_start):
        ln = lines[i]
        if ln.verdict != "keep" or ln is chosen:
            continue
        if i < title_at:
            ln.drop("above the headline (site name, slogan, section or menu)")
        elif len(words(ln.text)) < DECK_MIN_WORDS:
            ln.drop("short line between headline and body (label or byline)")
    for (_, gap_start), (gap_end, _) in zip(spans, spans[1:], strict=False):
        # Between two stretches of the article, a few short lines are its
        # subheadings and facts; a long run of them is a menu or link list.
        gap = [ln for ln in lines[gap_start + 1 : gap_end] if ln.verdict == "keep" and not is_sentence(ln.text)]
        if len(gap) > GAP_MAX_SHORT_LINES:
            for ln in gap:
                ln.drop("between the article's stretches of prose (menu, links, furniture)")
    for ln in lines[body_end + 1 :]:
        if ln.verdict == "keep":
            ln.drop("after the article block (related links, prompts, footer)")


# Labels that head a list of links to other articles.
_LIST_HEADER = re.compile(
    r"^(related|more|most|also|recommended|trending|popular|latest|you may|read|further|top|editor'?s)\b", re.IGNORECASE
)


def _mark_link_lists(lines: list[_Line]) -> None:
    """Headlines listed under a bare "Related coverage" / "Most read" label are links.

    The list runs over headline-like lines in the label's own block, and over
    later ones as long as another headline-like line follows; the last one
    before a paragraph is the article's own subheading.
    """
    label: _Line | None = None
    for i, ln in enumerate(lines):
        if ln.verdict == "drop":
            if _LIST_HEADER.match(ln.text) and not is_sentence(ln.text) and not teaser_reason(ln.text):
                label = ln
            continue
        if label is None or ln.verdict != "keep" or not is_headline_like(ln.text):
            label = None
            continue
        following = next((x for x in lines[i + 1 :] if x.verdict in ("keep", "repeat")), None)
        if ln.block == label.block or (following is not None and not is_sentence(following.text)):
            ln.drop(f"linked headline under {label.text!r}")
        else:
            label = None


def _mark_inner_fragments(lines: list[_Line], body_start: int, body_end: int) -> None:
    """Inside the article, headline-like lines are subheadings, except lone words."""
    for ln in lines[max(body_start, 0) : body_end + 1]:
        if ln.verdict == "keep" and not is_sentence(ln.text) and len(words(ln.text)) <= 1:
            ln.drop("one-word line inside the body (ad or widget marker)")


def _drop_title_repeats(kept: list[_Line], key: str) -> None:
    for ln in kept:
        if line_key(ln.text) == key:
            ln.drop("repeats the title")


def first_sentence_title(paragraphs: list[str], max_words: int = 14) -> str | None:
    """A display title for a page without a headline: its first sentence, shortened."""
    if not paragraphs:
        return None
    first = re.split(r"(?<=[.!?])\s+", paragraphs[0], maxsplit=1)[0]
    ws = first.split()
    if len(ws) > max_words:
        return " ".join(ws[:max_words]).rstrip(",;:") + "…"
    return first
