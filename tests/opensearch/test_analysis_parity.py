"""OpenSearch analyses title and body text exactly as the Whoosh schema does.

A throwaway index gets :func:`search.opensearch_backend.analysis.index_analysis`;
``POST /<index>/_analyze`` with each analyzer must give, text for text, the
tokens of :func:`search.whoosh_backend.schema.text_analyzer` (stemmed and
unstemmed): same text, same order, same positions, same offsets (UTF-16, as
Java counts).  Texts: a list of edge cases, every word character Python's
``re`` knows (eight at a time), the seed articles, and a few hundred Reuters
stories when the corpus is there.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from pathlib import Path

import pytest

from search.opensearch_backend import analysis
from search.readers import read_path
from search.settings import Options
from search.textnorm import normalize_text
from search.whoosh_backend import schema

pytestmark = [pytest.mark.opensearch]

ROOT = Path(__file__).resolve().parents[2]
INDEX = "nf-test-analysis-parity"
REUTERS = Path(os.environ.get("NEWSFACET_REUTERS") or ROOT.parent / "shared" / "corpora" / "reuters21578")
REUTERS_STORIES = 300
BATCH_CHARS = 200_000  # texts per _analyze request, by size: a few requests per corpus

EDGE_CASES = [
    # accented Latin and letters NFKD does not decompose
    "Tromsø Ærøskøbing Zürich café naïve Łódź Straße Ångström Œuvre Đakovo Þór ðe İstanbul ǿ",
    "TROMSØ ÆRØSKØBING ZÜRICH CAFÉ NAÏVE ŁÓDŹ STRASSE ẞ ÅNGSTRÖM",
    "cafe\u0301 nai\u0308ve",  # decomposed accents: the combining marks are not \w
    # apostrophes and dots
    "o'brien O'Brien U.S. u.s.a. don't J.P.Morgan 3.5 1,000 1.000.000 e.g. ...dots.. 'quoted' James's dogs'",
    "it’s ‘curly’ “double” Hawaiʻi ʻOkina ŉ",
    # digits, underscores, hyphens, other numbers
    "2023 1987's 4th 0x1F snake_case __init__ _ well-known e-mail co\u00adop a\u200bb x² ½ ⒈ Ⅻ ①",
    # ligatures and compatibility forms
    "ﬁnance ﬂow ﬀ ﬃ Ǆ ǅ ǆ ＡＢＣ１２３ ｶﾞ ﾞ ㍱ ℌ 𝐀𝐁𝐂 ℡",
    # other scripts
    "Ελληνικά ΟΔΟΣ οδός ΣΑΣ Ἀθῆναι ͺ",
    "Москва Йошкар-Ола ёлка ЁЛКА Київ",
    "العربية القاهرة ﻻ ﹰ aﹰﹲ ﷺ",
    "עברית हिन्दी ไทย กำ தமிழ் ᏣᎳᎩ ꭰ",
    "東京 北京 日本語のテキスト 한국어 가나다 𠀀𠀁s",
    # emoji and symbols
    "👍🏽 🇳🇴 👨‍👩‍👧 ☃ € $5 100% #hashtag @user",
    # mixed scripts
    "Tromsø東京 Москва2023 abcδεф x_東_y",
    # stemming
    "generously fairly estimated estimates running skies dying news inning proceeding consigned",
    # known stem differences (KNOWN_STEMS and beyond the BMP), kept here so the allow-list is exercised
    "realization realizations sensationally a𠀀e",
    "",
    "   ",
]


def ok(response, *codes):
    code, body = response
    assert code in (codes or (200,)), f"HTTP {code}: {json.dumps(body)[:2000]}"
    return body


def utf16_offsets(text: str) -> list[int]:
    """UTF-16 offset of each code-point offset of *text* (one more entry than characters)."""
    offsets = [0]
    for c in text:
        offsets.append(offsets[-1] + (2 if ord(c) > 0xFFFF else 1))
    return offsets


def whoosh_tokens(analyzer, text: str) -> list[tuple]:
    """(text, position, start, end) of each token, offsets in UTF-16 units as OpenSearch reports them."""
    units = None if text.isascii() else utf16_offsets(text)
    out = []
    for t in analyzer(text, positions=True, chars=True):
        start, end = (t.startchar, t.endchar) if units is None else (units[t.startchar], units[t.endchar])
        out.append((t.text, t.pos, start, end))
    return out


def batches(texts: list[str]) -> list[list[str]]:
    out: list[list[str]] = [[]]
    size = 0
    for text in texts:
        if out[-1] and size + len(text) > BATCH_CHARS:
            out.append([])
            size = 0
        out[-1].append(text)
        size += len(text)
    return out


def opensearch_tokens(opensearch, analyzer: str, texts: list[str]) -> list[list[tuple]]:
    """The tokens of each text, from ``_analyze`` requests of many texts each."""
    result = []
    for batch in batches(texts):
        body = ok(opensearch.request("POST", f"/{INDEX}/_analyze", {"analyzer": analyzer, "text": batch}))
        # Texts of one request follow each other: offsets go on from the previous
        # text's length plus one, positions from its last plus a gap.
        bounds, base = [], 0
        for text in batch:
            length = utf16_offsets(text)[-1] if not text.isascii() else len(text)
            bounds.append((base, base + length))
            base += length + 1
        per_text: list[list[tuple]] = [[] for _ in batch]
        i = 0
        for t in body["tokens"]:
            while not bounds[i][0] <= t["start_offset"] <= bounds[i][1]:
                i += 1
            per_text[i].append((t["token"], t["position"], t["start_offset"] - bounds[i][0],
                                t["end_offset"] - bounds[i][0]))
        for tokens in per_text:
            # positions relative to the text's first token, as Whoosh counts them from 0
            first = tokens[0][1] if tokens else 0
            result.append([(text, pos - first, start, end) for text, pos, start, end in tokens])
    return result


# Stems Whoosh's Porter2 port and Lucene's Snowball English disagree on
# (analysis module docstring): 2 of the 92,849 distinct words of the whole
# Reuters-21578 corpus, found by analysing its vocabulary with both.
KNOWN_STEMS = {
    ("realize", "realiz"),  # realization, realizations
    ("fertlize", "fertliz"),  # fertlizer (sic, Reuters)
    ("sensate", "sensat"),  # sensationally
}


def known_difference(analyzer: str, python: tuple, opensearch: tuple) -> bool:
    """A stemming difference the analysis cannot remove (see the analysis module's docstring).

    Either a pair of :data:`KNOWN_STEMS`, or a word with characters beyond the
    BMP: Lucene's Snowball measures its regions in UTF-16 units, Python in
    code points.  Only stems differ: positions and offsets must still agree.
    """
    if analyzer != analysis.TEXT_ANALYZER or python[1:] != opensearch[1:]:
        return False
    pair = (python[0], opensearch[0])
    return pair in KNOWN_STEMS or any(ord(c) > 0xFFFF for c in pair[0] + pair[1])


@pytest.fixture(scope="module")
def parity_index(opensearch):
    code, _ = opensearch.request("DELETE", f"/{INDEX}")
    assert code in (200, 404)
    settings = {
        "number_of_shards": 1,
        "number_of_replicas": 0,
        # _analyze refuses more tokens than this per request (10 000 by default)
        "index.analyze.max_token_count": 1_000_000,
        "analysis": analysis.index_analysis(),
    }
    ok(opensearch.request("PUT", f"/{INDEX}?wait_for_active_shards=all", {"settings": settings}, timeout=120))
    yield INDEX
    opensearch.request("DELETE", f"/{INDEX}")


def word_character_texts() -> list[str]:
    """Every character Python's ``\\w`` matches, eight to a word, a few hundred words to a text."""
    chars = [chr(i) for first, last in analysis.word_ranges() for i in range(first, last + 1)]
    words = ["".join(chars[i : i + 8]) for i in range(0, len(chars), 8)]
    return [" ".join(words[i : i + 500]) for i in range(0, len(words), 500)]


def seed_texts() -> list[str]:
    texts = []
    for path in sorted((ROOT / "seeds").glob("*.txt")):
        for source in read_path(path, path.name, Options()):
            texts += [source.content, normalize_text(source.content)]  # as read, and as stored
    assert texts
    return texts


def reuters_texts() -> list[str] | None:
    files = sorted(REUTERS.glob("reut2-000.sgm*"))
    if not files:
        return None
    texts = []
    for source in itertools.islice(read_path(files[0], files[0].name, Options()), REUTERS_STORIES):
        texts += [t for t in (getattr(source, "title", None), getattr(source, "content", None)) if t]
    return texts


def compare(opensearch, corpus: str, texts: list[str]) -> tuple[int, int, list, list]:
    """(tokens compared, tokens equal, known differences, unexplained differences) over both analyzers."""
    compared = equal = 0
    known, unexplained = [], []
    for stem, name in ((True, analysis.TEXT_ANALYZER), (False, analysis.WORDS_ANALYZER)):
        analyzer = schema.text_analyzer(stem=stem)
        for text, theirs in zip(texts, opensearch_tokens(opensearch, name, texts), strict=True):
            ours = whoosh_tokens(analyzer, text)
            compared += max(len(ours), len(theirs))
            if ours == theirs:
                equal += len(ours)
                continue
            if len(ours) != len(theirs):
                unexplained.append((corpus, name, text[:200], ours, theirs))
                continue
            for a, b in zip(ours, theirs, strict=True):
                if a == b:
                    equal += 1
                else:
                    (known if known_difference(name, a, b) else unexplained).append((corpus, name, text[:200], a, b))
    return compared, equal, known, unexplained


def test_token_pattern_is_the_schemas():
    assert analysis.WHOOSH_TOKEN_PATTERN == schema.TOKEN_PATTERN


def test_settings_are_generated_the_same_each_time():
    assert json.dumps(analysis.index_analysis()) == json.dumps(analysis.index_analysis())


def test_analysis_equals_whoosh(opensearch, parity_index, capsys):
    started = time.monotonic()
    corpora = {"edge cases": EDGE_CASES, "word characters": word_character_texts(), "seeds": seed_texts()}
    reuters = reuters_texts()
    if reuters is None:
        with capsys.disabled():
            print(f"\nReuters part skipped: no reut2-000.sgm.gz in {REUTERS} (set NEWSFACET_REUTERS)")
    else:
        corpora["reuters"] = reuters
    unexplained = []
    with capsys.disabled():
        print()
        for corpus, texts in corpora.items():
            compared, equal, known, bad = compare(opensearch, corpus, texts)
            unexplained += bad
            print(f"analysis parity, {corpus}: {equal}/{compared} tokens equal ({len(texts)} texts)", end="")
            print(f"; known stem differences: {sorted({k[3][0] + ' / ' + k[4][0] for k in known})}" if known else "")
        print(f"analysis parity: {time.monotonic() - started:.1f} s")
    assert not unexplained, "\n".join(repr(u)[:1500] for u in unexplained[:20])
