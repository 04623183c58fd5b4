"""newsfacet's query syntax, engine-free: parsing a query string and checking its cost.

Both backends read ``q`` the same way: Whoosh's ``MultifieldParser`` over
title (boost 2) and body with ``+``/``-`` (:func:`make_parser`), after the
normalisation and with the fallback notices of :func:`parse_query`, and
refuse the same costly shapes (:func:`check_cost`).  The parse gives a tree
of ``whoosh.query`` objects whose words are already analysed by the schema's
analyzers; the Whoosh backend evaluates it over its own index, the
OpenSearch backend translates it (:mod:`search.opensearch_backend.query`),
whose analysis is token for token the same.
"""

from __future__ import annotations

import re

from whoosh import query as Q
from whoosh.qparser import MultifieldParser, PlusMinusPlugin

from .errors import InvalidParameter, QuerySyntaxError
from .limits import QueryLimits
from .textnorm import normalize_text
from .whoosh_backend import schema as S

# A query of more words than this is "costly" and waits for the costly-query slot.
COSTLY_TERMS = 16

FALLBACK_NOTICE = "The query could not be read as search syntax; searched for its words instead."


def make_parser(schema=None) -> MultifieldParser:
    """The query parser: unfielded words search title (boost 2) and body; ``+``/``-`` work."""
    parser = MultifieldParser(list(S.DEFAULT_FIELDS), schema or S.schema(), fieldboosts=S.FIELD_BOOSTS)
    parser.add_plugin(PlusMinusPlugin())
    return parser


def parse_query(parser, q: str) -> tuple[Q.Query | None, str | None]:
    """Parse *q* with *parser*; on a syntax problem read it as plain words and say so.

    Returns ``(query tree or None for an empty query, notice or None)``.

    :raises QuerySyntaxError: when even the plain words cannot be parsed.
    """
    text = normalize_text(q).replace("\n", " ").strip()
    if not text:
        return None, None
    notice = None
    if text.count('"') % 2:
        text = text.replace('"', " ")
        notice = "An unmatched quotation mark was ignored."
    if text.count("(") != text.count(")"):
        text = text.replace("(", " ").replace(")", " ")
        notice = "Unbalanced parentheses were ignored."
    try:
        parsed = parser.parse(text)
    except Exception:  # whoosh raises assorted errors on odd input
        parsed = None
    if parsed is None or parsed is Q.NullQuery and re.search(r"\w", text):
        # Lower case: Whoosh reads AND / OR / NOT / TO as operators only in capitals.
        plain = " ".join(w.lower() for w in re.findall(r"\w+", text))
        notice = FALLBACK_NOTICE
        try:
            parsed = parser.parse(plain) if plain else None
        except Exception as exc:
            raise QuerySyntaxError(f"could not read the query {q!r}: {exc}") from exc
    if parsed is Q.NullQuery:
        parsed = None
    return parsed, notice


def check_cost(parsed, limits: QueryLimits) -> tuple[int, bool]:
    """Refuse a query that is too costly by its shape.

    Returns each wildcard's expansion allowance, and whether the query is
    *costly* (wildcards, ranges, phrases or many words): costly queries
    are evaluated one at a time, so however many arrive together they
    share one core's worth of time and plain searches keep theirs.

    Ranges exist only on the date (``date:[2023-01 TO 2023-06]``); a range
    over a text field would expand to most of its vocabulary.  The
    words, phrases and wildcards of a query are counted against
    ``max_query_terms``, and its wildcards share ``max_query_expansion``.

    :raises InvalidParameter: for a range off the date or too many words.
    """
    if parsed is None:
        return limits.max_expansion, False
    leaves = 0
    multi = 0
    phrases = False
    for node in parsed.leaves():
        if isinstance(node, (Q.TermRange, Q.NumericRange, Q.DateRange)) and node.fieldname != S.DATE:
            raise InvalidParameter(
                "q", f"Ranges work only on the date field, as in date:[2023-01-01 TO 2023-06-30]; "
                f"the field {node.fieldname!r} has none.")
        if isinstance(node, (Q.Prefix, Q.Wildcard, Q.TermRange)) and node.fieldname != S.DATE:
            # (The date's vocabulary is a few thousand days: expanding it costs nothing.)
            multi += 1
        if isinstance(node, Q.Phrase):
            phrases = True
            leaves += len(node.words)
        else:
            leaves += 1
    # The parser repeats each unfielded word for title and body: count what the user typed.
    typed = max(1, leaves // len(S.DEFAULT_FIELDS)) if leaves > 1 else leaves
    if typed > limits.max_query_terms:
        raise InvalidParameter(
            "q", f"The query has about {typed} words and wildcards; the limit is {limits.max_query_terms}.")
    costly = bool(multi) or phrases or typed > COSTLY_TERMS
    if not multi:
        return limits.max_expansion, costly
    return max(16, min(limits.max_expansion, limits.max_query_expansion // multi)), costly


__all__ = ["COSTLY_TERMS", "FALLBACK_NOTICE", "check_cost", "make_parser", "parse_query"]
