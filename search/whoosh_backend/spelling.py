"""Did you mean: the nearest indexed words to a query's unknown ones.

Whoosh's own corrector walks the lexicon in Python for each word (0.5-0.9 s
a word on Reuters); here each generation's vocabulary (:mod:`.vocabulary`,
kept beside the index by the writer) is read once into a sorted list that
rapidfuzz scans in C.
"""

from __future__ import annotations

import re
import threading

from rapidfuzz import process as rf_process
from rapidfuzz.distance import OSA

from ..model import SearchRequest
from ..textnorm import normalize_text
from .store import generation_of
from .vocabulary import EMPTY, Vocabulary, load, vocabulary_path

# "Did you mean" looks each unknown word up, at a cost that grows with the
# word's length: a query of many unknown or very long words gets no
# suggestion instead of seconds of lookups.
MAX_SUGGEST_WORDS = 4
MAX_SUGGEST_WORD_CHARS = 24
# Up to this many articles the spelling vocabulary is read on the spot (a
# fraction of a second); above, in the background.
VOCABULARY_INLINE_DOCS = 100_000


def _nearest(word: str, vocabulary: Vocabulary) -> str | None:
    """The indexed word closest to *word* (at most two edits, a transposition
    counting as one; one edit for short words), the most frequent on a tie."""
    limit = 1 if len(word) <= 4 else 2
    matches = rf_process.extract(word, vocabulary.words, scorer=OSA.distance, score_cutoff=limit, limit=None)
    if not matches:
        return None
    best = min(matches, key=lambda m: (m[1], -int(vocabulary.counts[m[2]]), m[0]))
    return best[0]


class Spelling:
    """The did-you-mean part of :class:`~.service.WhooshBackend`."""

    def _suggest(self, searcher, req: SearchRequest, parsed) -> str | None:
        """A corrected query string when some word is unknown and a near one gives results."""
        vocabulary = None
        changed = False
        lookups = 0
        out = []
        for token in re.split(r"(\W+)", normalize_text(req.q)):
            if not token or not re.match(r"\w", token) or token in ("AND", "OR", "NOT"):
                out.append(token)
                continue
            word = token.lower()
            if vocabulary is None:
                vocabulary = self._vocabulary(searcher)
                if vocabulary is None:  # still being read for a large new commit
                    return None
            if vocabulary.count(word) == 0 and len(word) <= MAX_SUGGEST_WORD_CHARS:
                lookups += 1
                if lookups > MAX_SUGGEST_WORDS:
                    return None
                near = _nearest(word, vocabulary)
                if near:
                    out.append(near)
                    changed = True
                    continue
            out.append(token)
        if not changed:
            return None
        candidate = "".join(out)
        parsed2, _ = self.parse(candidate)
        if parsed2 is None or not any(True for _ in searcher.docs_for_query(parsed2)):
            return None
        return candidate

    def _vocabulary(self, searcher) -> Vocabulary | None:
        """Every indexed word of this commit with its article count, for spelling suggestions.

        Read from the file the writer keeps beside the index (an index written
        before there was one: from its old words field's lexicon, or none); on
        a large index in the background, suggestions starting once it is there.
        """
        gen = generation_of(searcher.reader())
        shared = self._shared
        with shared["lock"]:
            held = shared.get("vocabulary")
            if held is not None and held[0] == gen:
                return held[1]
            if shared.get("vocabulary_building") == gen:
                return None
            shared["vocabulary_building"] = gen

        def read(reader) -> None:
            try:
                words = load(vocabulary_path(self.index_dir, gen))
                if words is None:
                    words = Vocabulary.from_lexicon(reader) or EMPTY
                with shared["lock"]:
                    shared["vocabulary"] = (gen, words)
            finally:
                with shared["lock"]:
                    shared["vocabulary_building"] = None

        if searcher.reader().doc_count_all() <= VOCABULARY_INLINE_DOCS:
            read(searcher.reader())
            return shared["vocabulary"][1]
        reader = self._ix.reader()  # its own reader: this thread's searcher is not shareable

        def read_and_close() -> None:
            try:
                if generation_of(reader) == gen:
                    read(reader)
            finally:
                reader.close()

        threading.Thread(target=read_and_close, name="newsfacet-vocabulary", daemon=True).start()
        return None

    # -- single articles ---------------------------------------------------
