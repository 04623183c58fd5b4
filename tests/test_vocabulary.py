"""The spelling vocabulary kept beside the index follows every run: adds, changes, deletions, rewrites.

"Did you mean" used to read an unstemmed second text field of the index; the
writer now keeps each generation's words with their article counts in a file
(:mod:`search.whoosh_backend.vocabulary`).  Tested through ``newsfacet
index`` and ``/api/search``: a suggestion appears for a word of the
collection, disappears with the last article that had it, and after any
sequence of runs the file equals a count made from scratch.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from search.whoosh_backend.store import open_index
from search.whoosh_backend.vocabulary import Vocabulary, load, vocabulary_path
from web.cli import main

from .conftest import get_json, make_app

ARTICLES = {
    "harbour.txt": "Ferry strike closes the harbour\n\nThe zanzibarian ferry operators walked out on Monday "
                   "after talks with the port authority failed. Harbour traffic stopped.\n",
    "council.txt": "Council approves the budget\n\nThe council approved the budget on Tuesday. "
                   "The ferry subsidy stays, the councillors said after a long meeting.\n",
}


def index(corpus: Path, index_dir: Path, *extra: str) -> None:
    assert main(["--index", str(index_dir), "index", str(corpus), "--quiet", *extra]) == 0


def suggestion(index_dir: Path, instance: Path, q: str):
    client = make_app(index_dir, instance).test_client()
    return get_json(client, f"/api/search?q={q}")["suggestion"]


def generation(index_dir: Path) -> int:
    return open_index(index_dir).latest_generation()


def assert_matches_recount(index_dir: Path) -> Vocabulary:
    """The stored vocabulary of the latest commit is the one counted from scratch."""
    stored = load(vocabulary_path(index_dir, generation(index_dir)))
    assert stored is not None
    with open_index(index_dir).reader() as reader:
        recount = Vocabulary.from_reader(reader)
    assert stored.words == recount.words
    assert stored.counts.tolist() == recount.counts.tolist()
    assert sorted(p.name for p in index_dir.glob("vocabulary-*.npz")) == [f"vocabulary-{generation(index_dir)}.npz"]
    return stored


@pytest.fixture
def corpus(tmp_path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    for name, text in ARTICLES.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_index_has_no_unstemmed_field_and_keeps_the_words_beside_it(corpus, tmp_path):
    index_dir = tmp_path / "ix"
    index(corpus, index_dir)
    assert "words" not in open_index(index_dir).schema.names()
    vocabulary = assert_matches_recount(index_dir)
    assert vocabulary.count("ferry") == 2 and vocabulary.count("zanzibarian") == 1
    assert vocabulary.count("harbour") == 1  # title and body of one article: counted once
    assert vocabulary.count("operators") == 1 and vocabulary.count("operator") == 0  # unstemmed


def test_suggestions_follow_adds_changes_and_deletions(corpus, tmp_path):
    index_dir, instance = tmp_path / "ix", tmp_path / "instance"
    instance.mkdir()
    index(corpus, index_dir)
    assert suggestion(index_dir, instance, "zanzibarain") == "zanzibarian"

    # The only article with the word changes: the word goes, the new one comes.
    (corpus / "harbour.txt").write_text(ARTICLES["harbour.txt"].replace("zanzibarian", "tanganyikan"), "utf-8")
    index(corpus, index_dir)
    assert_matches_recount(index_dir)
    assert suggestion(index_dir, instance, "zanzibarain") is None
    assert suggestion(index_dir, instance, "tanganyikam") == "tanganyikan"

    # A new article, then the deletion of the last one with a word.
    (corpus / "port.txt").write_text("Port reopens\n\nThe quayside reopened on Friday.\n", "utf-8")
    index(corpus, index_dir)
    assert suggestion(index_dir, instance, "quaysdie") == "quayside"
    (corpus / "port.txt").unlink()
    index(corpus, index_dir)
    vocabulary = assert_matches_recount(index_dir)
    assert vocabulary.count("quayside") == 0
    assert suggestion(index_dir, instance, "quaysdie") is None

    # A rebuild starts the vocabulary again from what it reads.
    index(corpus, index_dir, "--rebuild")
    assert assert_matches_recount(index_dir).count("tanganyikan") == 1


def test_a_no_op_run_keeps_the_vocabulary(corpus, tmp_path):
    index_dir = tmp_path / "ix"
    index(corpus, index_dir)
    before = generation(index_dir)
    index(corpus, index_dir)
    assert generation(index_dir) == before
    assert_matches_recount(index_dir)


def test_an_index_without_a_vocabulary_file_counts_it_again_at_its_next_commit(corpus, tmp_path):
    """An index written before the file existed (or one whose file was lost)."""
    index_dir, instance = tmp_path / "ix", tmp_path / "instance"
    instance.mkdir()
    index(corpus, index_dir)
    for path in index_dir.glob("vocabulary-*.npz"):
        path.unlink()
    assert suggestion(index_dir, instance, "zanzibarain") is None  # nothing to suggest from, no error
    (corpus / "port.txt").write_text("Port reopens\n\nThe quayside reopened on Friday.\n", "utf-8")
    index(corpus, index_dir)
    assert assert_matches_recount(index_dir).count("zanzibarian") == 1
    assert suggestion(index_dir, instance, "zanzibarain") == "zanzibarian"
    assert suggestion(index_dir, instance, "quaysdie") == "quayside"


def test_rewritten_articles_keep_the_vocabulary(tmp_path):
    """A copy of an earlier article, added later, puts both in one copy cluster: the
    earlier one is rewritten in a second commit (update_entities), and its words
    stay counted once."""
    body = ("The harbour authority said on Monday that the ferry operators had agreed to resume the crossings "
            "after three days of talks, ending a strike that had stranded hundreds of travellers. " * 3)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Ferry strike ends\n\n" + body, "utf-8")
    index_dir = tmp_path / "ix"
    index(corpus, index_dir)
    before = generation(index_dir)
    (corpus / "b.txt").write_text("Strike over, ferries sail again\n\n" + body, "utf-8")
    index(corpus, index_dir)
    assert generation(index_dir) == before + 2  # the run's commit, then the rewrite's
    with open_index(index_dir).searcher() as s:
        assert len({d.get("cluster") for d in s.all_stored_fields()} - {None}) == 1
    vocabulary = assert_matches_recount(index_dir)
    assert vocabulary.count("harbour") == 2 and vocabulary.count("ferries") == 1
