"""The postings of a text field, as Whoosh's own analysis gives them, in one pass.

Whoosh analyses a field through a chain of generators (tokenizer, lower-case,
fold, stem), a token object and an LFU cache per word: about half of an
article's analysis time on news prose, where most words recur.  Every filter of
the chain works on one token at a time, so a word's term is a function of the
word alone; :class:`TextPostings` runs the field's own analyzer once per
distinct word (kept in a bounded dict) and otherwise only matches the
tokenizer's expression.  What it returns is ``FieldType.index``'s output, item
for item, and the spelling vocabulary's words (``vocabulary.article_words``)
come from the same pass (both pinned by tests/test_postings.py).
"""

from __future__ import annotations

from whoosh.analysis import CompositeAnalyzer, RegexTokenizer

# Distinct words remembered per field; cleared when full (Reuters has ~60,000).
WORD_CACHE = 400_000

# (term bytes, frequency, weight, encoded positions), as FieldType.index yields them.
Posting = tuple[bytes, int, float, bytes]


class TextPostings:
    """One text field's analysis: ``postings(text)`` equals ``list(field.index(text))``.

    :param field: a Whoosh ``TEXT`` field whose analyzer is a regex tokenizer
        (matching, not splitting on gaps) followed by per-token filters.
    :param plain: the analyzer giving the words for the spelling vocabulary
        (the same chain without the stemmer).
    :raises ValueError: for an analyzer of another shape.
    """

    def __init__(self, field, plain: CompositeAnalyzer):
        analyzer = field.analyzer
        items = getattr(analyzer, "items", None)
        if not items or not isinstance(items[0], RegexTokenizer) or items[0].gaps:
            raise ValueError(f"not a regex-tokenizer chain: {analyzer!r}")
        if getattr(plain, "items", [None])[0] != items[0]:
            raise ValueError("the vocabulary analyzer must share the field's tokenizer")
        self._finditer = items[0].expression.finditer
        self._analyzer = analyzer
        self._plain = plain
        self._encode = field.format.encode
        self._boost = field.format.field_boost
        self._terms: dict[str, tuple[str, str]] = {}  # word -> (term, unstemmed word)

    def _learn(self, word: str) -> tuple[str, str]:
        terms = [t.text for t in self._analyzer(word)]
        plains = [t.text for t in self._plain(word)]
        # A matched word is one token again when tokenised alone (the match is
        # maximal): anything else means a chain this class does not model.
        if len(terms) != 1 or len(plains) != 1:
            raise ValueError(f"word {word!r} does not analyse to one token")
        if len(self._terms) >= WORD_CACHE:
            self._terms.clear()
        entry = self._terms[word] = (terms[0], plains[0])
        return entry

    def postings(self, text: str, words: set[str] | None = None) -> list[Posting]:
        """The postings of *text*; its unstemmed words are added to *words* if given."""
        known = self._terms
        positions: dict[str, list[int]] = {}
        seen: set[tuple[str, str]] = set()
        for pos, match in enumerate(self._finditer(text)):
            word = match.group(0)
            entry = known.get(word)
            if entry is None:
                entry = self._learn(word)
            seen.add(entry)
            found = positions.get(entry[0])
            if found is None:
                positions[entry[0]] = [pos]
            else:
                found.append(pos)
        if words is not None:
            words.update(plain for _, plain in seen)
        encode, boost = self._encode, self._boost
        # Whoosh sums a boost of 1.0 per token: exactly the frequency, as a float.
        return [(term.encode("utf-8"), len(poses), float(len(poses)) * boost, encode(poses))
                for term, poses in positions.items()]

    def words(self, text: str, words: set[str]) -> None:
        """Add the unstemmed words of *text* to *words* (what :meth:`postings` adds, without the postings)."""
        known = self._terms
        for match in self._finditer(text):
            word = match.group(0)
            entry = known.get(word)
            words.add((entry or self._learn(word))[1])
