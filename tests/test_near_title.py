"""The title-typo check's index (symmetric deletion) finds exactly what comparing with every title finds."""

from __future__ import annotations

import random
import string

from hypothesis import given, settings
from hypothesis import strategies as st

from search.extract.entity_words import WORDS
from search.extract.mentions import one_edit, one_edit_from_title


def brute(low: str) -> bool:
    return any(len(t) >= 6 and abs(len(t) - len(low)) <= 1 and one_edit(low, t) for t in WORDS.titles)


def one_typo(rng: random.Random, word: str) -> str:
    w = list(word)
    i = rng.randrange(len(w))
    op = rng.randrange(4)
    if op == 0:
        w[i] = rng.choice(string.ascii_lowercase)
    elif op == 1:
        w.insert(i, rng.choice(string.ascii_lowercase))
    elif op == 2:
        del w[i]
    elif i + 1 < len(w):
        w[i], w[i + 1] = w[i + 1], w[i]
    return "".join(w)


def test_every_typo_of_every_title():
    rng = random.Random(5)
    words = [w for t in sorted(WORDS.titles) for w in (t, *(one_typo(rng, t) for _ in range(10)))]
    assert sum(map(brute, words)) > 1000  # the check has something to find
    assert [w for w in words if one_edit_from_title(w) != brute(w)] == []


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="abcdeimnorstuy", min_size=1, max_size=14))
def test_any_word(word):
    assert one_edit_from_title(word) == brute(word)
