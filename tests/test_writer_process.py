"""A large run writes its new segments in writer processes: the same index, and failures that lose nothing.

:mod:`search.whoosh_backend.writer_process` moves the adding and flushing of a
large run's documents out of the run's own process.  The index it builds must
hold exactly what one process writes, a failure in a writer process must come
back as the run's error with the last commit untouched, and no writer process
may outlive its run, however the run ends.
"""

from __future__ import annotations

import errno
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from search.api import SearchRequest
from search.errors import IndexWriteError
from search.ingest import build_index
from search.settings import Options
from search.whoosh_backend import schema as S
from search.whoosh_backend import writer as writer_module
from search.whoosh_backend.facets import FacetTables
from search.whoosh_backend.segment import PreparedSegmentWriter
from search.whoosh_backend.service import WhooshBackend
from search.whoosh_backend.store import open_index, tables_path
from search.whoosh_backend.writer_process import PROCESS_NAME

PLACES = ["Lisbon", "Tromsø", "Oslo", "Nairobi", "Quito"]
PEOPLE = ["Maria Lopes", "Ole Hansen", "Grace Wanjiru"]
WORDS = ["harbour", "ferry", "council", "budget", "strike", "estimates", "port", "workers", "minister"]
ARTICLES = 900
COPIES = 300


def write_corpus(folder: Path, n: int = ARTICLES, seed: int = 3, copies: int = 0) -> Path:
    """*n* stories in one JSONL file, then syndicated copies of the first *copies*
    (whose arrival rewrites the earlier story with its copy cluster)."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    stories = []
    for i in range(n):
        place, person = rng.choice(PLACES), rng.choice(PEOPLE)
        text = (f"{place.upper()} - {person} said on Monday the {rng.choice(WORDS)} would reopen. "
                + " ".join(rng.choice(WORDS) for _ in range(rng.randint(40, 80))) + ".")
        stories.append({"title": f"Story {i} from {place}", "text": text, "date": f"2023-0{1 + i % 9}-1{i % 10}"})
    stories += [story | {"title": story["title"] + " (wire copy)", "source": "wire"} for story in stories[:copies]]
    with open(folder / "feed.jsonl", "w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(story) + "\n" for story in stories)
    return folder


@pytest.fixture
def small_threshold(monkeypatch):
    """Writer processes from 100 articles on, so that a test corpus is a large run."""
    monkeypatch.setattr(writer_module, "WRITER_PROCESS_MIN_ARTICLES", 100)


def stored(index_dir: Path) -> dict[str, dict]:
    with open_index(index_dir).searcher() as s:
        return {f[S.ID]: {k: v for k, v in f.items() if k not in (S.INDEXED_AT, S.INDEXED_NUM)}
                for _, f in s.iter_docs()}


def answers(index_dir: Path) -> list:
    service = WhooshBackend(index_dir)
    out = []
    for q in ("harbour", '"would reopen"', "ferry -budget", "estimated", "tromso"):
        result = service.search(SearchRequest(q=q, per_page=50))
        out.append((q, result.total, [h.id for h in result.hits], result.facets["entity"]))
    return out


def segments(index_dir: Path) -> int:
    with open_index(index_dir).searcher() as s:
        return len(s.reader().leaf_readers())


def leftovers(index_dir: Path) -> list[str]:
    """Temporary folders and segment files no commit lists, and the write lock if still held:
    what a finished or abandoned run must not leave."""
    ix = open_index(index_dir)
    listed = {segment.segment_id() for segment in ix._segments()}
    left = [p.name for p in index_dir.iterdir() if p.suffix == ".tmp"
            or p.name.startswith(f"{ix.indexname}_") and "." in p.name and p.name.split(".")[0] not in listed]
    lock = ix.lock("WRITELOCK")
    if lock.acquire(blocking=False):
        lock.release()
    else:
        left.append("WRITELOCK held")
    return sorted(left)


def test_a_large_run_through_writer_processes_indexes_what_one_process_does(tmp_path, monkeypatch):
    """The new articles, and then the rewrites of those a later copy joined to a cluster."""
    corpus = write_corpus(tmp_path / "corpus", copies=COPIES)
    monkeypatch.setattr(writer_module, "WRITER_PROCESS_MIN_ARTICLES", 10**9)
    alone = build_index([corpus], tmp_path / "alone", Options(), progress=False, procs=2)
    started = []
    original = writer_module.SegmentProcess.__init__

    def spy(self, *args, **kwargs):
        original(self, *args, **kwargs)
        started.append(self.pid)

    monkeypatch.setattr(writer_module.SegmentProcess, "__init__", spy)
    monkeypatch.setattr(writer_module, "WRITER_PROCESS_MIN_ARTICLES", 100)
    split = build_index([corpus], tmp_path / "split", Options(), progress=False, procs=2)
    assert writer_module.WRITER_PROCESSES == 2 and len(started) == 4  # two for the new, two for the rewrites
    assert (split.added, split.total, split.failed) == (alone.added, alone.total, alone.failed)
    assert (split.added, split.total, split.failed) == (ARTICLES + COPIES, ARTICLES + COPIES, [])
    assert stored(tmp_path / "split") == stored(tmp_path / "alone")
    assert sum(bool(doc.get(S.CLUSTER)) for doc in stored(tmp_path / "split").values()) == 2 * COPIES
    assert answers(tmp_path / "split") == answers(tmp_path / "alone")
    assert segments(tmp_path / "split") == 4  # one from each process
    saved_tables_equal_a_fresh_read(tmp_path / "split")
    assert leftovers(tmp_path / "split") == []
    for pid in started:  # every writer process has ended and been reaped
        assert not Path(f"/proc/{pid}").exists()


def saved_tables_equal_a_fresh_read(index_dir: Path) -> None:
    """The facet tables the run saved (built from the writer processes' and the first
    commit's shares of each segment) are the ones a fresh read of the index gives."""
    with open_index(index_dir).searcher() as s:
        reader = s.reader()
        saved = FacetTables.load(tables_path(index_dir, reader.generation()))
        fresh = FacetTables.from_reader(reader)
    assert saved is not None
    for name in ("date_num", "indexed_num", "live", "post_doc", "post_term", "cluster", "cluster_heads"):
        assert np.array_equal(getattr(saved, name), getattr(fresh, name)), name
    assert saved.terms == fresh.terms and saved.cluster_names == fresh.cluster_names
    assert saved.lengths.keys() == fresh.lengths.keys()
    assert all(np.array_equal(saved.lengths[k], fresh.lengths[k]) for k in saved.lengths)
    assert not saved.live.all()  # deletions were applied to the reused shares


def test_an_incremental_large_run_replaces_and_deletes_through_writer_processes(tmp_path, small_threshold):
    corpus = write_corpus(tmp_path / "corpus")
    build_index([corpus], tmp_path / "ix", Options(), progress=False, procs=2)
    before = stored(tmp_path / "ix")
    lines = (corpus / "feed.jsonl").read_text(encoding="utf-8").splitlines()
    changed = [json.dumps(json.loads(line) | {"text": json.loads(line)["text"] + " Updated in Quito."})
               for line in lines[:300]]
    (corpus / "feed.jsonl").write_text("\n".join(changed + lines[300:-100]) + "\n", encoding="utf-8")
    report = build_index([corpus], tmp_path / "ix", Options(), progress=False, procs=2)
    after = stored(tmp_path / "ix")
    assert (report.updated, report.removed, report.total) == (300, 100, ARTICLES - 100)
    assert len(after) == ARTICLES - 100 and set(after) < set(before)
    assert sum("Updated in Quito." in doc[S.BODY] for doc in after.values()) == 300
    assert WhooshBackend(tmp_path / "ix").search(SearchRequest(q='"updated in quito"')).total == 300
    saved_tables_equal_a_fresh_read(tmp_path / "ix")


def _fail_in_writer_process(monkeypatch, action, after: int = 150):
    """Make every writer process run *action* at its *after*-th document (not the run's process)."""
    run = os.getpid()
    original = PreparedSegmentWriter.add_document
    seen = {"n": 0}

    def add_document(self, **fields):
        if os.getpid() != run:
            seen["n"] += 1
            if seen["n"] == after:
                action()
        return original(self, **fields)

    monkeypatch.setattr(PreparedSegmentWriter, "add_document", add_document)


def _disk_full():
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize(("action", "message"), [
    (_disk_full, "the disk holding it is full"),
    (lambda: os._exit(7), "died (exit code 7)"),
    (lambda: 1 / 0, "ZeroDivisionError"),
], ids=["full-disk", "process-died", "bug"])
def test_a_failing_writer_process_is_the_runs_error_and_loses_nothing(tmp_path, small_threshold, monkeypatch,
                                                                      action, message):
    seeds = write_corpus(tmp_path / "first", n=40, seed=1)
    build_index([seeds], tmp_path / "ix", Options(), progress=False, procs=1)
    before = stored(tmp_path / "ix")
    corpus = write_corpus(tmp_path / "corpus")
    original = PreparedSegmentWriter.add_document
    _fail_in_writer_process(monkeypatch, action)
    with pytest.raises(IndexWriteError, match=message.replace("(", r"\(").replace(")", r"\)")) as failure:
        build_index([corpus], tmp_path / "ix", Options(), progress=False, procs=2)
    assert "last complete commit" in str(failure.value)
    assert stored(tmp_path / "ix") == before  # the last commit answers as it did
    assert leftovers(tmp_path / "ix") == []
    import multiprocessing

    assert multiprocessing.active_children() == []
    monkeypatch.setattr(PreparedSegmentWriter, "add_document", original)  # and the next run writes normally
    report = build_index([seeds, corpus], tmp_path / "ix", Options(), progress=False, procs=2)
    assert report.total == 40 + ARTICLES


DRIVER = """
import sys, time
from search.ingest import build_index
from search.settings import Options
from search.whoosh_backend import writer
from search.whoosh_backend.facets import FacetTables
from search.whoosh_backend.segment import PreparedSegmentWriter

writer.WRITER_PROCESS_MIN_ARTICLES = 100
original = PreparedSegmentWriter.add_document
def slow(self, **fields):  # keep the writer processes busy until the run is killed
    time.sleep(0.01)
    return original(self, **fields)
PreparedSegmentWriter.add_document = slow
build_index([sys.argv[1]], sys.argv[2], Options(), progress=False, procs=2)
"""


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _helpers_once_writing(run: subprocess.Popen) -> list[int]:
    """The run's helper processes, once its two writer processes and the pool's two are up
    (or whatever there is when the run ends or a minute has passed)."""
    helpers: list[int] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and run.poll() is None:
        helpers = _children(run.pid)
        if sum(_name(c) == PROCESS_NAME.decode() for c in helpers) == 2 and len(helpers) >= 4:
            break
        time.sleep(0.1)
    return helpers


def _name(pid: int) -> str:
    """The process's name, or "" once it has ended (a zombie has ended too)."""
    try:
        name, state = Path(f"/proc/{pid}/stat").read_text(errors="replace").rsplit(")", 1)
    except OSError:
        return ""
    return "" if state.split()[0] in "ZX" else name.split("(", 1)[1]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the process table from /proc")
def test_killing_the_run_leaves_no_helper_process_and_the_last_commit_whole(tmp_path):
    seeds = write_corpus(tmp_path / "first", n=40, seed=1)
    build_index([seeds], tmp_path / "ix", Options(), progress=False, procs=1)
    before = stored(tmp_path / "ix")
    corpus = write_corpus(tmp_path / "corpus")
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    run = subprocess.Popen([sys.executable, str(driver), str(corpus), str(tmp_path / "ix")],
                           cwd=Path(__file__).resolve().parents[1])
    helpers = _helpers_once_writing(run)
    assert run.poll() is None and len(helpers) >= 4, "the run ended before it was killed"
    time.sleep(1.0)  # documents are on their way to the writer processes
    os.kill(run.pid, signal.SIGKILL)  # the run's process only, as a user's kill -9 would
    run.wait()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(_name(c) for c in helpers):
        time.sleep(0.1)
    assert [c for c in helpers if _name(c)] == []  # none lingers, holding the index's lock
    assert stored(tmp_path / "ix") == before
    report = build_index([seeds, corpus], tmp_path / "ix", Options(), progress=False, procs=2)
    assert report.total == 40 + ARTICLES


CTRL_C_DRIVER = """
import signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal, whatever started this
from search.whoosh_backend import writer
writer.WRITER_PROCESS_MIN_ARTICLES = 100
from web.cli import main
sys.argv = ["newsfacet", "index", sys.argv[1], "--index", sys.argv[2], "--procs", "2"]
raise SystemExit(main())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the process table from /proc")
@pytest.mark.parametrize("delay", [0.3, 1.0, 2.0])
def test_ctrl_c_stops_the_run_its_pool_and_writers_cleanly(tmp_path, delay):
    """Ctrl-C reaches the whole process group; the run stops with its one-line message, no
    helper prints a traceback or lives on, and the last commit answers as before."""
    seeds = write_corpus(tmp_path / "first", n=40, seed=1)
    build_index([seeds], tmp_path / "ix", Options(), progress=False, procs=1)
    before = stored(tmp_path / "ix")
    corpus = write_corpus(tmp_path / "corpus", n=2000)
    driver = tmp_path / "driver.py"
    driver.write_text(CTRL_C_DRIVER)
    run = subprocess.Popen([sys.executable, str(driver), str(corpus), str(tmp_path / "ix")],
                           cwd=Path(__file__).resolve().parents[1], start_new_session=True,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    helpers = _helpers_once_writing(run)
    time.sleep(delay)
    helpers = [*helpers, *(c for c in _children(run.pid) if c not in helpers)]
    assert run.poll() is None and len(helpers) >= 4, "the run ended before it was interrupted"
    os.killpg(run.pid, signal.SIGINT)
    try:
        _, err = run.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(run.pid, signal.SIGKILL)
        run.communicate()
        pytest.fail("the run hung after Ctrl-C")
    assert run.returncode == 130, err
    assert "interrupted; the index keeps its last commit" in err
    assert "Traceback" not in err
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_name(c) for c in helpers):
        time.sleep(0.1)
    assert [c for c in helpers if _name(c)] == []
    assert stored(tmp_path / "ix") == before
    assert leftovers(tmp_path / "ix") == []
