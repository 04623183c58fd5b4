"""The spelling vocabulary kept beside the index: every unstemmed word of titles and bodies, with its article count.

"Did you mean" needs words as they are written, not their stems, and how
many articles have each.  Whoosh used to hold them as a second text field
analysed without stemming, so every body was analysed and its postings
written twice for a lexicon nothing searches: a third of a commit's time.
Instead the extraction pool lists each article's distinct words (those
:func:`article_words` defines, found in the same pass as the postings by
:func:`~.writer.prepare_text`), the writer adds
and subtracts them during a run (:class:`VocabularyDelta`), and just before a
commit becomes visible the vocabulary of the new generation is stored as
``vocabulary-<generation>.npz`` (:func:`save_for_commit`), as the facet
tables are.  The server reads it once per generation (:func:`load`).

An index written before the vocabulary existed has no file: its first commit
counts every stored article again (:meth:`Vocabulary.from_reader`), and until
then the server reads the old field's lexicon.
"""

from __future__ import annotations

import bisect
import collections
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from . import schema as S

VOCABULARY_ANALYZER = S.text_analyzer(stem=False)
# The field that held the words before this file did (indexes written before it).
LEGACY_FIELD = S.WORDS


def vocabulary_path(index_dir: Path | str, generation: int) -> Path:
    """Where the vocabulary of an index generation is kept."""
    return Path(index_dir) / f"vocabulary-{generation}.npz"


def article_words(title: str | None, body: str | None) -> list[str]:
    """The distinct words of an article, as "did you mean" suggests them: lower-cased, folded, unstemmed."""
    return sorted({t.text for t in VOCABULARY_ANALYZER(f"{title or ''}\n{body or ''}")})


class VocabularyDelta:
    """One run's changes: the words of articles added, and of articles replaced or deleted."""

    def __init__(self) -> None:
        self.counts: collections.Counter[str] = collections.Counter()

    def add(self, words: Iterable[str]) -> None:
        self.counts.update(words)

    def remove(self, words: Iterable[str]) -> None:
        self.counts.subtract(words)


class Vocabulary:
    """Sorted words and how many articles have each."""

    def __init__(self, words: list[str], counts: np.ndarray):
        self.words = words
        self.counts = counts

    def count(self, word: str) -> int:
        """Articles with *word* (0: not in the collection)."""
        i = bisect.bisect_left(self.words, word)
        return int(self.counts[i]) if i < len(self.words) and self.words[i] == word else 0

    def __len__(self) -> int:
        return len(self.words)

    @classmethod
    def from_counts(cls, counts: dict[str, int]) -> Vocabulary:
        words = sorted(w for w, n in counts.items() if n > 0)
        return cls(words, np.fromiter((counts[w] for w in words), dtype=np.uint32, count=len(words)))

    @classmethod
    def from_reader(cls, reader) -> Vocabulary:
        """Counted again from every live stored article of *reader* (an index without a vocabulary file)."""
        counts: collections.Counter[str] = collections.Counter()
        for _, stored in reader.iter_docs():
            counts.update(article_words(stored.get(S.TITLE), stored.get(S.BODY)))
        return cls.from_counts(counts)

    @classmethod
    def from_lexicon(cls, reader) -> Vocabulary | None:
        """The words of the field older indexes kept them in, or None if the index has no such field."""
        if LEGACY_FIELD not in reader.schema.names():
            return None
        words = list(reader.field_terms(LEGACY_FIELD))
        counts = np.fromiter((reader.doc_frequency(LEGACY_FIELD, w) for w in words), dtype=np.uint32,
                             count=len(words))
        return cls(words, counts)

    def changed(self, delta: VocabularyDelta) -> Vocabulary:
        """This vocabulary with *delta* applied (words no article has any more dropped)."""
        if not delta.counts:
            return self
        counts = dict(zip(self.words, self.counts.tolist(), strict=True))
        for word, change in delta.counts.items():
            counts[word] = counts.get(word, 0) + change
        return Vocabulary.from_counts(counts)

    def save(self, path: Path) -> None:
        """Write atomically: a server never reads half a file."""
        text = np.frombuffer("\n".join(self.words).encode("utf-8"), dtype=np.uint8)
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "wb") as fh:
            np.savez(fh, words=text, counts=self.counts.astype(np.uint32))
        os.replace(tmp, path)


EMPTY = Vocabulary([], np.zeros(0, dtype=np.uint32))


def load(path: Path) -> Vocabulary | None:
    """The vocabulary in *path*, or None if there is none (or it cannot be read)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            text = data["words"].tobytes().decode("utf-8")
            counts = data["counts"]
    except (OSError, ValueError, KeyError, UnicodeDecodeError):
        return None
    words = text.split("\n") if text else []
    if len(words) != len(counts):
        return None
    return Vocabulary(words, counts)


def save_for_commit(index_dir: Path, generation: int, delta: VocabularyDelta, fresh: bool, reader) -> None:
    """Store the vocabulary of the commit *generation* is about to make visible.

    :param fresh: nothing of the previous generation stays (a rebuild, or it had
        no articles), so *delta* is the whole vocabulary.
    :param reader: a reader of what the commit will hold, counted from when the
        previous generation has no vocabulary (an index written before it existed).
    """
    if fresh:
        base = EMPTY
    else:
        base = load(vocabulary_path(index_dir, generation - 1))
        if base is None:
            Vocabulary.from_reader(reader).save(vocabulary_path(index_dir, generation))
            return
    base.changed(delta).save(vocabulary_path(index_dir, generation))
