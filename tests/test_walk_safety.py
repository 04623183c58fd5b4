"""``newsfacet index`` on hostile collections: links out of the folder, FIFOs and
devices, floods of bad rows, gzip bombs and UTF-16 without a BOM.

Runs go through ``web.cli.main``; those with a FIFO run the real
``newsfacet index`` in a subprocess with a timeout, so a reader that blocks (a
FIFO opened for reading waits for a writer forever) fails the test instead of
hanging the suite.
"""

from __future__ import annotations

import gzip
import json
import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from search.api import SearchRequest
from search.whoosh_backend.service import WhooshBackend
from web.cli import main

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX links, FIFOs and sockets")

NEWSFACET = str(Path(sys.executable).with_name("newsfacet"))
# Long enough for a cold start on a slow machine, short enough that a hang fails quickly.
RUN_TIMEOUT = 120


def article(headline: str, word: str) -> str:
    """A plain-text page the cleaner keeps: a headline and one paragraph mentioning *word*."""
    return (f"{headline}\n\nThe council said on Monday that the {word} report would be published next week, "
            f"after months of delay and several hearings in the city hall.\n")


@dataclass
class Run:
    stdout: str
    stderr: str


@pytest.fixture
def index(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    """``index(*ARGS, isolated=False)`` runs ``newsfacet index --quiet ARGS`` into a fresh index and
    returns the run's output, its skip lines by path, and the index folder.

    *isolated* runs it as a subprocess with a timeout, for inputs that could block the reader.
    """

    def run(*args: str, isolated: bool = False) -> tuple[Run, dict[str, str], Path]:
        index_dir = tmp_path / f"ix{len(list(tmp_path.glob('ix*')))}"
        argv = ["--index", str(index_dir), "index", "--quiet", *args]
        if isolated:
            done = subprocess.run([NEWSFACET, *argv], capture_output=True, text=True, timeout=RUN_TIMEOUT)
            assert done.returncode == 0, done.stderr
            out = Run(done.stdout, done.stderr)
        else:
            capsys.readouterr()
            assert main(argv) == 0
            captured = capsys.readouterr()
            out = Run(captured.out, captured.err)
        return out, skips(out.stderr), index_dir

    return run


def skips(stderr: str) -> dict[str, str]:
    return dict(line.removeprefix("skipped ").split(": ", 1) for line in stderr.splitlines()
                if line.startswith("skipped "))


def paths_found(index_dir: Path, query: str = "") -> list[str]:
    with WhooshBackend(index_dir) as service:
        # Every copy: rows of one export that differ in a word are syndicated copies of one story.
        return sorted(hit.path for hit in service.search(SearchRequest(q=query, per_page=100, collapse="off")).hits)


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the collection, standing in for /etc: nothing in it may be indexed."""
    folder = tmp_path / "outside"
    (folder / "sub").mkdir(parents=True)
    (folder / "passwd.txt").write_text(article("Secret file", "zebrafish"))
    (folder / "sub" / "shadow.txt").write_text(article("Another secret", "quokka"))
    (folder / "meta.json").write_text(json.dumps({"title": "Title from outside"}))
    return folder


@pytest.fixture
def collection(tmp_path: Path) -> Path:
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "harbour.txt").write_text(article("Harbour reopens", "harbour"))
    return folder


# --------------------------------------------------------------------------- symbolic links


def test_links_are_reported_and_not_followed_by_default(tmp_path, index, collection, outside):
    (collection / "passwd.txt").symlink_to(outside / "passwd.txt")
    (collection / "etc_link").symlink_to(outside)
    (collection / "inside.txt").symlink_to(collection / "harbour.txt")
    (collection / "picture.png").symlink_to(outside / "passwd.txt")  # not a name newsfacet reads: ignored
    done, skipped, index_dir = index(str(collection))
    assert skipped == {"passwd.txt": "symbolic link", "etc_link": "symbolic link", "inside.txt": "symbolic link"}
    assert done.stdout.startswith("1 added, 0 updated, 0 unchanged, 0 removed, 3 failed; 1 article in the index")
    assert paths_found(index_dir) == ["harbour.txt"]
    assert paths_found(index_dir, "zebrafish OR quokka") == []


def test_a_real_system_file_behind_a_link_is_not_indexed(tmp_path, index, collection):
    if not Path("/etc/passwd").is_file():
        pytest.skip("no /etc/passwd here")
    (collection / "passwd.txt").symlink_to("/etc/passwd")
    (collection / "etc_link").symlink_to("/etc")
    done, skipped, index_dir = index(str(collection))
    assert skipped == {"passwd.txt": "symbolic link", "etc_link": "symbolic link"}
    assert paths_found(index_dir) == ["harbour.txt"]
    done, skipped, index_dir = index(str(collection), "--follow-symlinks")
    assert skipped == {"passwd.txt": "symbolic link to outside the folder",
                       "etc_link": "symbolic link to outside the folder"}
    assert paths_found(index_dir) == ["harbour.txt"]


def test_follow_symlinks_stays_inside_the_folder(tmp_path, index, collection, outside):
    hidden = collection / ".cache"
    hidden.mkdir()
    (hidden / "a1b2c3").write_text(article("Cached page", "walrus"))
    (collection / "cached.txt").symlink_to(".cache/a1b2c3")  # inside, and read only through the link
    (collection / "hidden-folder").symlink_to(".cache")  # inside: walked, its file has no readable name
    (collection / "real").mkdir()
    (collection / "real" / "bridge.txt").write_text(article("Bridge opens", "bridge"))
    (collection / "alias").symlink_to("real")  # the folder is read under its own name, not twice
    (collection / "real" / "up").symlink_to("..")  # a loop back to the root
    (collection / "passwd.txt").symlink_to(outside / "passwd.txt")
    (collection / "etc_link").symlink_to(outside)
    (collection / "real" / "sneaky.txt").symlink_to("../../outside/sub/shadow.txt")  # relative, still outside
    done, skipped, index_dir = index(str(collection), "--follow-symlinks")
    assert skipped == {
        "passwd.txt": "symbolic link to outside the folder",
        "etc_link": "symbolic link to outside the folder",
        "real/sneaky.txt": "symbolic link to outside the folder",
    }
    assert paths_found(index_dir) == ["cached.txt", "harbour.txt", "real/bridge.txt"]
    assert paths_found(index_dir, "zebrafish OR quokka") == []


def test_root_given_through_a_link_confines_links_to_where_it_resolves(tmp_path, index, collection, outside):
    (collection / "passwd.txt").symlink_to(outside / "passwd.txt")
    latest = tmp_path / "latest"
    latest.symlink_to(collection)
    done, skipped, index_dir = index(str(latest), "--follow-symlinks")
    assert skipped == {"passwd.txt": "symbolic link to outside the folder"}
    assert paths_found(index_dir) == ["harbour.txt"]


def test_a_link_named_on_the_command_line_is_read(tmp_path, index, outside):
    """The user named it, so it is followed wherever it points; only links found by the walk are refused."""
    named = tmp_path / "named.txt"
    named.symlink_to(outside / "passwd.txt")
    done, skipped, index_dir = index(str(named))
    assert skipped == {}
    assert paths_found(index_dir, "zebrafish") == ["named.txt"]


def test_a_linked_sidecar_is_reported_and_the_page_indexed_without_it(tmp_path, index, collection, outside):
    (collection / "harbour.json").symlink_to(outside / "meta.json")
    done, skipped, index_dir = index(str(collection))
    assert skipped == {"harbour.json": "symbolic link"}
    with WhooshBackend(index_dir) as service:
        hits = service.search(SearchRequest(q="harbour")).hits
    assert [(hit.path, hit.title) for hit in hits] == [("harbour.txt", "Harbour reopens")]


# --------------------------------------------------------------------------- FIFOs, sockets, devices


def test_a_fifo_is_reported_and_never_opened(tmp_path, index, collection):
    os.mkfifo(collection / "pipe.txt")
    os.mkfifo(collection / "pipe")  # no readable name: ignored like any such file
    done, skipped, index_dir = index(str(collection), isolated=True)
    assert skipped == {"pipe.txt": "not a regular file (named pipe)"}
    assert "1 added" in done.stdout and "1 failed" in done.stdout
    # Named on the command line it is refused just the same.
    done, skipped, _ = index(str(collection / "pipe.txt"), isolated=True)
    assert skipped == {"pipe.txt": "not a regular file (named pipe)"}


def test_a_followed_link_to_a_fifo_is_not_opened(tmp_path, index, collection):
    hidden = collection / ".spool"
    hidden.mkdir()
    os.mkfifo(hidden / "feed")
    (collection / "feed.jsonl").symlink_to(".spool/feed")
    (collection / "page.html").symlink_to(".spool/feed")
    done, skipped, _ = index(str(collection), "--follow-symlinks", isolated=True)
    assert skipped == {"feed.jsonl": "not a regular file (named pipe)", "page.html": "not a regular file (named pipe)"}


def test_a_device_is_not_read(tmp_path, index, collection):
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero here")
    named = tmp_path / "dev-zero.txt"
    named.symlink_to("/dev/zero")  # named, so followed: to a device, which is refused
    (collection / "zero.txt").symlink_to("/dev/zero")
    done, skipped, _ = index(str(named), str(collection), "--follow-symlinks")
    assert skipped == {"dev-zero.txt": "not a regular file (character device)",
                       "zero.txt": "symbolic link to outside the folder"}


def test_a_socket_is_reported(tmp_path, index):
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "a.txt").write_text(article("Harbour reopens", "harbour"))
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        try:
            server.bind(str(folder / "sock.txt"))
        except OSError as error:  # a socket's path must fit in about 100 bytes
            pytest.skip(f"cannot make a socket file here: {error}")
        done, skipped, _ = index(str(folder))
    finally:
        server.close()
    assert skipped == {"sock.txt": "not a regular file (socket)"}


# --------------------------------------------------------------------------- skip reports


def test_a_flood_of_bad_rows_prints_a_few_lines_and_counts_the_rest(tmp_path, index, collection):
    good = json.dumps({"title": "Ferry service resumes", "text": article("Ferry", "ferry")})
    no_body = '{"url": "https://example.com/no-body"}'
    rows = [good] + ['{"title": broken'] * 100_000 + [no_body] * 7 + [good.replace("Ferry", "Barge")]
    (collection / "export.jsonl").write_text("\n".join(rows) + "\n")
    (collection / "other.jsonl").write_text('{"text": ""}\n' * 3)
    done, _, index_dir = index(str(collection))
    lines = done.stderr.splitlines()
    assert lines == [
        *(f"skipped export.jsonl#{n}: bad JSON: Expecting value: line 1 column 11 (char 10)" for n in range(2, 7)),
        *(f"skipped export.jsonl#{n}: no text, html or title" for n in range(100_002, 100_007)),
        *(f"skipped other.jsonl#{n}: no text, html or title" for n in (1, 2, 3)),
        "... and 99,995 more rows of export.jsonl skipped: bad JSON",
        "... and 2 more rows of export.jsonl skipped: no text, html or title",
    ]
    # The summary's counts stay exact.
    assert done.stdout.startswith("3 added, 0 updated, 0 unchanged, 0 removed, 100010 failed; 3 articles")
    assert paths_found(index_dir, "ferry OR barge") == ["export.jsonl#1", "export.jsonl#100009"]


@pytest.mark.parametrize(
    ("content", "reported"),
    [
        (b"\0" * (25 * 2**20), {"bomb.jsonl.gz": "binary file"}),
        (b'{"text": "' + b"a" * (25 * 2**20) + b'"}',
         {"bomb.jsonl.gz#1": "too large: over the 20.0 MiB limit for one line"}),
    ],
    ids=["zeros", "one-huge-row"],
)
def test_a_gzip_bomb_is_reported_once(tmp_path, index, collection, content, reported):
    (collection / "bomb.jsonl.gz").write_bytes(gzip.compress(content, compresslevel=1))
    done, skipped, _ = index(str(collection))
    assert skipped == reported
    assert "1 added" in done.stdout and "1 failed" in done.stdout


# --------------------------------------------------------------------------- encodings


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_is_decoded(tmp_path, index, collection, encoding):
    (collection / "windows.txt").write_bytes(article("Tromsø ferry returns", "Tromsø").encode(encoding))
    done, skipped, index_dir = index(str(collection))
    assert skipped == {}
    with WhooshBackend(index_dir) as service:
        hits = service.search(SearchRequest(q="tromsø")).hits
    assert [(hit.path, hit.title) for hit in hits] == [("windows.txt", "Tromsø ferry returns")]
