"""The one-pass analysis of title and body (:mod:`search.whoosh_backend.postings`) is Whoosh's own.

``FieldType.index`` on the schema's text fields is the reference: for any text,
the one-pass postings must equal it item for item (terms, frequencies,
weights, encoded positions, in order), and the words it collects for the
spelling vocabulary must equal :func:`~search.whoosh_backend.vocabulary.article_words`.
Checked on generated text with the awkward characters (accents, ligatures,
dotted capitals, apostrophes, inner dots) and on real newswire.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh.analysis import RegexTokenizer, SpaceSeparatedTokenizer

from search.ingest import _sources
from search.settings import Options
from search.whoosh_backend import postings as postings_module
from search.whoosh_backend import schema as S
from search.whoosh_backend.postings import TextPostings
from search.whoosh_backend.vocabulary import VOCABULARY_ANALYZER, article_words
from search.whoosh_backend.writer import prepare_text, text_words

from .conftest import REUTERS

SCHEMA = S.schema()
PIECES = ["Tromsø", "estimates", "estimated", "U.S.", "o'brien", "O'Brien's", "İstanbul", "Straße", "ﬁnance",
          "naïve", "Ærø", "2023", "3.5", "co-op", "e-mail", "Müller", "MÜLLER", "'quoted'", "...", "—", "x.y.z",
          "ǅ", "ΣΊΣΥΦΟΣ", "日本", "١٢٣", "a_b", "don't", "''", ".", " ", "\n", "\t"]


def whoosh_postings(field: str, text: str) -> list:
    return list(SCHEMA[field].index(text))


def check(title: str, body: str) -> None:
    prepared = prepare_text(title, body)
    assert prepared[S.TITLE] == whoosh_postings(S.TITLE, title)
    assert prepared[S.BODY] == whoosh_postings(S.BODY, body)
    assert prepared["_words"] == article_words(title, body)
    assert text_words(title, body) == article_words(title, body)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES) | st.text(max_size=6), max_size=40),
       st.lists(st.sampled_from(PIECES), max_size=6))
def test_generated_text_analyses_as_whoosh_does(body_pieces, title_pieces):
    check(" ".join(title_pieces), "".join(body_pieces))


def test_repeated_words_keep_every_position_and_weight():
    body = "Estimates estimated ESTIMATES. The estimate, the estimates."
    check("Estimates up", body)
    postings = dict((term, (freq, weight)) for term, freq, weight, _ in prepare_text("", body)[S.BODY])
    assert postings[b"estim"] == (5, 5.0)
    title = dict((term, weight) for term, _, weight, _ in prepare_text("estimates estimates", "")[S.TITLE])
    assert title[b"estim"] == 2 * S.FIELD_BOOSTS[S.TITLE]


def test_a_full_word_cache_starts_again_and_still_analyses(monkeypatch):
    monkeypatch.setattr(postings_module, "WORD_CACHE", 3)
    field = TextPostings(SCHEMA[S.BODY], VOCABULARY_ANALYZER)
    text = "one two three four five six seven one two"
    words: set[str] = set()
    assert field.postings(text, words) == whoosh_postings(S.BODY, text)
    assert len(field._terms) <= 3
    assert sorted(words) == article_words("", text)


def test_other_analyzer_shapes_are_refused():
    class Field:
        def __init__(self, analyzer):
            self.analyzer = analyzer

    with pytest.raises(ValueError, match="regex-tokenizer chain"):
        TextPostings(Field(SpaceSeparatedTokenizer()), VOCABULARY_ANALYZER)  # no filter chain
    with pytest.raises(ValueError, match="regex-tokenizer chain"):
        TextPostings(Field(RegexTokenizer(r"\s+", gaps=True) | VOCABULARY_ANALYZER.items[1]), VOCABULARY_ANALYZER)
    with pytest.raises(ValueError, match="share the field's tokenizer"):
        TextPostings(SCHEMA[S.BODY], RegexTokenizer(r"\w+") | VOCABULARY_ANALYZER.items[1])


@pytest.mark.skipif(not list(REUTERS.glob("reut2-*.sgm.gz")), reason=f"Reuters-21578 corpus not found at {REUTERS}")
def test_real_newswire_analyses_as_whoosh_does():
    stories = list(itertools.islice(_sources([REUTERS / "reut2-000.sgm.gz"], Options(), lambda failure: None), 1000))
    assert len(stories) == 1000
    for source in stories:
        check(source.title or "", source.content)
