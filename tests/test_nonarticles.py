"""Files beside a collection that are not articles are skipped with a reason; a headline-only row is an article.

A ``SHA256SUMS.txt`` beside a collection used to become an undated "article"
titled with hash lines; a JSONL row with a title and no text (a wire brief)
was rejected while the SGML reader indexed the same story.
"""

from __future__ import annotations

import glob
import json
import os
from pathlib import Path

import pytest

from search.readers.shapes import not_an_article
from web.cli import main

from .conftest import ROOT, SEEDS, copy_corpus

REALWORLD = Path(os.environ.get("NEWSFACET_REALWORLD") or ROOT.parent / "shared" / "corpora" / "realworld")


@pytest.fixture
def collection(tmp_path) -> Path:
    folder = copy_corpus(SEEDS, tmp_path / "c")
    (folder / "SHA256SUMS.txt").write_text("".join(
        f"{'%064x' % (i * 7919)}  {p.name}\n" for i, p in enumerate(sorted(SEEDS.glob("*.txt")) * 2)))
    (folder / "prices.txt").write_text("date\tbrent\twti\n" + "".join(f"2024-01-{d:02d}\t8{d}.1\t7{d}.9\n"
                                                                      for d in range(1, 12)))
    (folder / "crawl.txt").write_text("".join(f"2024-05-01T10:{m:02d}:00 fetched https://x.example/{m} 200\n"
                                              for m in range(20)))
    (folder / "wire.jsonl").write_text("\n".join(json.dumps(row) for row in (
        {"title": "OPEC ministers to meet in Vienna on Monday", "date": "1987-03-02"},
        {"url": "https://x.example/nothing"},
    )) + "\n")
    return folder


def test_non_articles_are_listed_with_their_reason(collection, tmp_path, capsys):
    assert main(["--index", str(tmp_path / "ix"), "index", str(collection), "--quiet"]) == 0
    out = capsys.readouterr()
    assert "skipped SHA256SUMS.txt: not an article: a checksum list" in out.err
    assert "skipped prices.txt: not an article: a table" in out.err
    assert "skipped crawl.txt: not an article: a log" in out.err
    assert "skipped wire.jsonl#2: no text, html or title" in out.err
    assert "6 added" in out.out and "4 failed" in out.out


def test_a_headline_only_row_is_an_article(collection, tmp_path, capsys):
    main(["--index", str(tmp_path / "ix"), "index", str(collection), "--quiet"])
    capsys.readouterr()
    assert main(["--index", str(tmp_path / "ix"), "search", "opec", "vienna", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["total"] == 1
    hit = result["hits"][0]
    assert (hit["title"], hit["date"], hit["path"]) == ("OPEC ministers to meet in Vienna on Monday", "1987-03-02",
                                                        "wire.jsonl#1")


@pytest.mark.parametrize("text", [
    "Short note.\n\nOne, two, three.\n",  # too few lines to judge
    "Prices rose, traders said, and then fell.\n" * 3 + "Oil, gold, and silver, all three, fell.\n" * 3,
])
def test_prose_is_never_a_table(text):
    assert not_an_article(text) is None


@pytest.mark.skipif(not (REALWORLD / "boilerplate" / "text").is_dir(),
                    reason=f"real-world sets not found in {REALWORLD}")
def test_no_real_page_or_newswire_document_is_taken_for_a_non_article():
    files = [*glob.glob(str(REALWORLD / "boilerplate" / "text" / "*.txt")),
             *glob.glob(str(REALWORLD / "ner" / "docs" / "*.txt"))]
    assert len(files) > 700
    flagged = [f for f in files if not_an_article(Path(f).read_text(encoding="utf-8", errors="replace"))]
    assert flagged == []
