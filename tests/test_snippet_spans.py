"""Snippets mark exactly the words whose stem is a query term, found the fast way or the slow way.

On ASCII text the words to stem are found by one regex scan for the terms'
first letters (:func:`search.whoosh_backend.snippets._candidates`) instead of
stemming every word; it must find the very spans that stemming every token
finds, on words chosen to exercise Porter2's rewrites of endings and on the
joins of inner apostrophes and dots.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from search.whoosh_backend.snippets import _WORD, _spans, _stem, make_snippet

# Words whose stems rewrite their endings (y -> i, -ational, -izer, -fulness, the exception list, ...).
TRICKY = ["happy", "happily", "relational", "rational", "digitizer", "hopefulness", "generously", "dying",
          "lying", "skies", "ugly", "early", "only", "news", "sensational", "fluency", "ability", "possibly",
          "organization", "estimates", "estimated", "cries", "ties", "agreed", "o'brien", "u.s", "a.m", "i'm",
          "yyy", "ies", "eed", "abli", "ousli", "ational", "bli", "li", "y", "oil", "gold", "bank", "rates"]
words = st.one_of(st.sampled_from(TRICKY), st.text("abceiloprstuyz'._09", min_size=1, max_size=9))
separators = st.sampled_from([" ", ". ", ", ", "'", ".", "..", "-", "\n", "_", "'."])


def slow(text: str, terms: frozenset) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in _WORD.finditer(text) if _stem(m.group()) in terms]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(words, separators), min_size=1, max_size=30), st.data())
def test_fast_spans_equal_stemming_every_word(parts, data):
    text = "".join(w + s for w, s in parts)
    tokens = [m.group() for m in _WORD.finditer(text)] or ["oil"]
    chosen = data.draw(st.lists(st.sampled_from(tokens), min_size=1, max_size=4))
    terms = frozenset(_stem(t) for t in chosen) | data.draw(st.frozensets(st.sampled_from(TRICKY), max_size=2))
    mixed = text.title() if data.draw(st.booleans()) else text
    assert _spans(mixed, terms) == slow(mixed, terms)


def test_non_ascii_text_takes_the_slow_way_and_still_marks():
    out = make_snippet("Ferries to Tromsø were cancelled; Tromsø harbour closed.", frozenset({"tromso", "ferri"}))
    assert out == ("<mark>Ferries</mark> to <mark>Tromsø</mark> were cancelled; <mark>Tromsø</mark> harbour closed.")
