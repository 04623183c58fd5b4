"""Indexing progress on stderr: bars with a total, percentage and time left, a line per closing phase.

Run through the installed ``newsfacet`` script, as a user sees it: forced on
with ``--progress`` where stderr is a pipe, by default on a terminal (a
pseudo-terminal here), never with ``--quiet``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from search.readers import count_files, files
from search.settings import Options

from .conftest import SEEDS, SEEDS_CRAWLED, copy_corpus

NEWSFACET = str(Path(sys.executable).with_name("newsfacet"))
# "[00:01<00:06, ..." : time spent, then the time left (or "?" before the first rate)
ETA = re.compile(r"\[\d\d:\d\d<(\d\d:\d\d|\?),")


def index(corpus: Path, index_dir: Path, *flags: str) -> subprocess.CompletedProcess:
    return subprocess.run([NEWSFACET, "--index", str(index_dir), "index", str(corpus), *flags],
                          capture_output=True, text=True, timeout=300)


def screen_lines(stderr: str) -> list[str]:
    """What a terminal would have shown at some point: tqdm redraws a line after each ``\\r``."""
    return [part.strip() for line in stderr.split("\n") for part in line.split("\r") if part.strip()]


@pytest.fixture
def corpus(tmp_path) -> Path:
    folder = copy_corpus(SEEDS, tmp_path / "seeds", SEEDS_CRAWLED)
    (folder / "rows.jsonl").write_text(
        '{"title": "Wheat harvest starts early in Kansas", "text": "Farmers in Kansas began the wheat harvest '
        'two weeks early after a hot, dry spring."}\n'
        '{"title": broken\n'
        '{"title": "Ferry service resumes", "text": "The ferry company resumed its service to the islands '
        'after storms kept boats in port for three days."}\n', encoding="utf-8")
    (folder / "empty.txt").write_bytes(b"")
    return folder


def test_forced_progress_shows_totals_percentages_time_left_and_the_commit(corpus, tmp_path):
    done = index(corpus, tmp_path / "ix", "--progress")
    assert done.returncode == 0, done.stderr
    lines = screen_lines(done.stderr)
    # The first pass counts files (7, the empty one too) and then articles (5 seeds + 2 good rows).
    reading = [line for line in lines if line.startswith("Reading:")]
    assert reading and all(ETA.search(line) for line in reading)
    assert re.match(r"Reading: 100%\|█+\| 7/7 files \[.*, 7 articles\]", reading[-1])
    indexing = [line for line in lines if line.startswith("Indexing:")]
    assert indexing[0].startswith("Indexing:   0%|") and "0/7 articles" in indexing[0]
    assert re.match(r"Indexing: 100%\|█+\| 7/7 articles \[", indexing[-1]), indexing[-1]
    assert all(ETA.search(line) for line in indexing)
    assert any(re.search(r"\[\d\d:\d\d<\d\d:\d\d, +[\d.]+ articles/s\]", line) for line in indexing), indexing
    # The closing phases, each announced before it starts and timed when done.
    assert any(re.fullmatch(r"Committing 7 changes \(writing and merging segments\)… done in \d+\.\d s", line)
               for line in lines), lines
    assert lines.index(next(x for x in lines if x.startswith("Committing"))) > lines.index(indexing[-1])
    # Skipped files and rows are lines of their own, not spliced into a bar.
    assert "skipped empty.txt: empty file" in lines
    assert "skipped rows.jsonl#2: bad JSON: Expecting value: line 1 column 11 (char 10)" in lines
    # The summary is still stdout's one line.
    assert done.stdout.startswith("7 added, 0 updated, 0 unchanged, 0 removed, 2 failed; 7 articles in the index")


def test_unchanged_articles_move_the_bar_and_nothing_is_committed(corpus, tmp_path):
    assert index(corpus, tmp_path / "ix", "--quiet").returncode == 0
    again = index(corpus, tmp_path / "ix", "--progress")
    # No file changed: the run says so and stops, reporting what the last one did.
    lines = screen_lines(again.stderr)
    assert f"No file changed since the last run over {corpus}: 7 articles unchanged" in lines, lines
    assert not any(line.startswith(("Reading", "Indexing", "Committing", "Updating")) for line in lines)
    assert "7 unchanged" in again.stdout
    # A new file that yields nothing: every article is unchanged, the bar moves over them all.
    (corpus / "blank.txt").write_text("   \n", encoding="utf-8")
    third = index(corpus, tmp_path / "ix", "--progress")
    lines = screen_lines(third.stderr)
    assert any(re.match(r"Indexing: 100%\|█+\| 7/7 articles", line) for line in lines), lines
    assert not any(line.startswith(("Committing", "Updating")) for line in lines)
    assert "7 unchanged" in third.stdout


def test_no_progress_in_a_pipe_unless_forced(corpus, tmp_path):
    done = index(corpus, tmp_path / "ix")
    assert done.returncode == 0
    assert sorted(screen_lines(done.stderr)) == [
        "skipped empty.txt: empty file", "skipped rows.jsonl#2: bad JSON: Expecting value: line 1 column 11 (char 10)"]


def run_on_a_terminal(argv: list[str], columns: int = 0) -> str:
    """stderr of *argv* when it is a (pseudo-)terminal, *columns* wide (0: unsized, as some are)."""
    import fcntl
    import pty
    import struct
    import termios

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=follower)
        os.close(follower)
        out = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the child closed its end
                break
            if not chunk:
                break
            out += chunk
        proc.communicate(timeout=300)
        assert proc.returncode == 0, out
    finally:
        os.close(leader)
    return out.decode("utf-8", "replace")


@pytest.mark.skipif(sys.platform == "win32", reason="no pseudo-terminals")
def test_a_terminal_gets_the_bars_by_default_and_quiet_silences_them(tmp_path):
    corpus = copy_corpus(SEEDS, tmp_path / "seeds", SEEDS_CRAWLED)
    for columns, ix in ((100, "ix"), (0, "ix0")):
        shown = run_on_a_terminal([NEWSFACET, "--index", str(tmp_path / ix), "index", str(corpus)], columns)
        assert "Reading: 100%" in shown and "Indexing: 100%" in shown and "5/5 articles" in shown
        assert "Committing 5 changes" in shown
        drawn = [part for line in shown.split("\n") for part in line.split("\r") if "|" in part]
        assert drawn and all(len(part) <= (columns or 80) for part in drawn)
    quiet = run_on_a_terminal([NEWSFACET, "--index", str(tmp_path / "ix2"), "index", "--quiet", str(corpus)])
    assert quiet == ""


def test_quiet_and_progress_do_not_go_together(corpus, tmp_path):
    done = index(corpus, tmp_path / "ix", "--quiet", "--progress")
    assert done.returncode == 2 and "not allowed with argument" in done.stderr


def test_counting_the_files_opens_none(corpus, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("count_files opened a file")

    monkeypatch.setattr(files, "_open_regular", refuse)
    assert count_files([corpus], Options()) == 7
    assert count_files([corpus / "rows.jsonl", corpus / "missing.txt"], Options()) == 1
