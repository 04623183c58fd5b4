"""A full disk and a read-only index folder: clear errors, nothing lost.

Both faults are real, not mocked: each test runs the ``newsfacet`` command
inside a private user and mount namespace (``unshare -rm``), where it can
mount a tiny tmpfs that fills up, or bind the index folder read-only, without
root and without touching the machine's mounts.  Every step's output goes to
files outside the namespace so the assertions can read them afterwards.
"""

from __future__ import annotations

import json
import random
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import SEEDS

NEWSFACET = str(Path(sys.executable).with_name("newsfacet"))


def _namespaces_work() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"],
                           capture_output=True, check=False)
    return probe.returncode == 0


pytestmark = pytest.mark.skipif(not _namespaces_work(),
                                reason="needs 'unshare -rm' (user namespaces) to mount a small tmpfs")


class Steps:
    """A shell script of named steps run in one namespace; each step's stdout,
    stderr and exit status land in *out*."""

    def __init__(self, out: Path):
        self.out = out
        self.lines = ["set -u"]
        out.mkdir()

    def sh(self, command: str) -> None:
        self.lines.append(command)

    def step(self, name: str, *argv: str) -> None:
        cmd = " ".join(shlex.quote(a) for a in argv)
        self.lines.append(f"{cmd} >{self.out}/{name}.out 2>{self.out}/{name}.err; echo $? >{self.out}/{name}.rc")

    def run(self) -> None:
        done = subprocess.run(["unshare", "-rm", "sh", "-c", "\n".join(self.lines)],
                              capture_output=True, text=True, timeout=600, check=False)
        assert done.returncode == 0, done.stderr

    def rc(self, name: str) -> int:
        return int((self.out / f"{name}.rc").read_text())

    def err(self, name: str) -> str:
        return (self.out / f"{name}.err").read_text()

    def json(self, name: str) -> dict:
        assert self.rc(name) == 0, self.err(name)
        return json.loads((self.out / f"{name}.out").read_text())

    def text(self, name: str) -> str:
        return (self.out / f"{name}.out").read_text()


def newsfacet(index_dir: Path, *argv: str) -> tuple[str, ...]:
    return (NEWSFACET, "--index", str(index_dir), *argv)


def write_bulk(folder: Path, count: int) -> None:
    """Made-up articles, large enough together to overflow the small disk."""
    rng = random.Random(7)
    words = ("harbour council tariff turbine election ministry river wheat strike vaccine court "
             "budget pipeline drought festival museum railway").split()
    folder.mkdir()
    for n in range(count):
        title = f"Bulk report {n} on {rng.choice(words)} {rng.choice(words)}"
        paragraphs = [" ".join(rng.choice(words) + f"{rng.randrange(10_000)}" for _ in range(60)).capitalize() + "."
                      for _ in range(8)]
        (folder / f"bulk-{n:04d}.txt").write_text(title + "\n\n" + "\n\n".join(paragraphs) + "\n", encoding="utf-8")


def test_full_disk_is_a_clear_error_and_loses_nothing(tmp_path):
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    bulk = tmp_path / "bulk"
    write_bulk(bulk, 40)
    ix = tmp_path / "ix"
    ix.mkdir()
    s = Steps(tmp_path / "out")
    s.sh(f"mount -t tmpfs -o size=1m tmpfs {ix}")
    s.step("first", *newsfacet(ix, "index", "--quiet", str(seeds)))
    s.sh(f"ls -A {ix} > {s.out}/files-before")
    s.step("overflow", *newsfacet(ix, "index", "--quiet", str(seeds), str(bulk)))
    s.sh(f"ls -A {ix} > {s.out}/files-after")
    s.step("after_overflow", *newsfacet(ix, "search", "--json", ""))
    s.step("rebuild", *newsfacet(ix, "index", "--quiet", "--rebuild", str(seeds), str(bulk)))
    s.step("after_rebuild", *newsfacet(ix, "search", "--json", "Hamas"))
    s.sh(f"mount -o remount,size=64m {ix}")
    s.step("retry", *newsfacet(ix, "index", "--quiet", str(seeds), str(bulk)))
    s.step("after_retry", *newsfacet(ix, "search", "--json", "turbine"))
    s.step("browse", *newsfacet(ix, "search", "--json", ""))
    s.run()

    assert s.rc("first") == 0, s.err("first")
    for failed in ("overflow", "rebuild"):
        assert s.rc(failed) == 2
        message = s.err(failed)
        assert message.startswith(f"newsfacet: error: cannot write the index in {ix}: the disk holding it is full.")
        assert "Nothing was lost" in message and "Traceback" not in message
    # The failed runs left no partial segment behind to keep the disk full.
    assert (s.out / "files-after").read_text() == (s.out / "files-before").read_text()
    assert s.json("after_overflow")["total"] == 5
    assert s.json("after_rebuild")["total"] == 5  # a failed rebuild keeps the old index
    assert s.rc("retry") == 0, s.err("retry")
    assert s.json("browse")["total"] == 45
    assert s.json("after_retry")["total"] > 0


def test_read_only_index_refuses_writes_and_still_serves(tmp_path):
    ix = tmp_path / "ix"
    subprocess.run(newsfacet(ix, "index", "--quiet", str(SEEDS)), check=True, capture_output=True)
    before = {p.name: p.stat().st_mtime_ns for p in ix.iterdir()}
    extra = tmp_path / "extra"
    write_bulk(extra, 3)
    serve_check = (
        "from web import create_app; "
        f"app = create_app({{'INDEX_DIR': {str(ix)!r}, 'SAVED_DB': {str(tmp_path / 'saved.db')!r}}}); "
        "r = app.test_client().get('/api/search?q=Hamas&entity=Mousa+Abu+Marzouk'); "
        "print(r.status_code, r.get_json()['total'])"
    )
    s = Steps(tmp_path / "out")
    s.sh(f"mount --bind {ix} {ix} && mount -o remount,bind,ro {ix}")
    s.step("add", *newsfacet(ix, "index", "--quiet", str(SEEDS), str(extra)))
    s.step("rebuild", *newsfacet(ix, "index", "--quiet", "--rebuild", str(SEEDS)))
    s.step("search", *newsfacet(ix, "search", "--json", "Hamas"))
    s.step("serve", sys.executable, "-c", serve_check)
    s.run()

    for refused in ("add", "rebuild"):
        assert s.rc(refused) == 2
        message = s.err(refused)
        assert message.startswith(f"newsfacet: error: cannot write the index in {ix}: "
                                  "it is on a read-only file system.")
        assert "searching and serving a read-only index work" in message and "Traceback" not in message
    assert s.json("search")["total"] == 5
    assert s.text("serve").split() == ["200", "4"], s.err("serve")
    assert {p.name: p.stat().st_mtime_ns for p in ix.iterdir()} == before


SAVED_DRIVER = """
import json, re, sys
from web import create_app

index_dir, db, step = sys.argv[1:4]
app = create_app({"INDEX_DIR": index_dir, "SAVED_DB": db, "SECRET_KEY": "test"})
client = app.test_client()
token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/search?q=Hamas").text).group(1)
out = {}
if step == "prepare":
    out["save"] = client.post("/saved", data={"name": "Hamas", "query": "q=Hamas", "csrf_token": token}).status_code
else:
    out["list"] = client.get("/api/saved").status_code
    out["names"] = [s["name"] for s in client.get("/api/saved").get_json().get("saved", [])]
    out["open"] = client.get("/saved/hamas").status_code
    saved = client.post("/saved", data={"name": "Gaza " * 20, "query": "q=Gaza", "csrf_token": token})
    out["save"] = saved.status_code
    out["save_message"] = saved.text
    api = client.get("/api/search?q=Hamas")
    out["search"] = [api.status_code, api.get_json()["total"]]
print(json.dumps(out))
"""


@pytest.mark.parametrize("fault", ["read-only", "full"])
def test_saved_searches_on_an_unwritable_store_still_open_and_refuse_changes_clearly(tmp_path, fault):
    ix = tmp_path / "ix"
    subprocess.run(newsfacet(ix, "index", "--quiet", str(SEEDS)), check=True, capture_output=True)
    store = tmp_path / "instance"
    store.mkdir()
    driver = tmp_path / "driver.py"
    driver.write_text(SAVED_DRIVER)
    db = store / "saved.sqlite3"
    s = Steps(tmp_path / "out")
    if fault == "read-only":
        s.step("prepare", sys.executable, str(driver), str(ix), str(db), "prepare")
        s.sh(f"mount --bind {store} {store} && mount -o remount,bind,ro {store}")
    else:
        s.sh(f"mount -t tmpfs -o size=64k tmpfs {store}")
        s.step("prepare", sys.executable, str(driver), str(ix), str(db), "prepare")
        s.sh(f"head -c 200000 /dev/zero > {store}/filler 2>/dev/null; true")  # fill the disk
    s.step("use", sys.executable, str(driver), str(ix), str(db), "use")
    s.run()

    assert s.json("prepare") == {"save": 303}
    use = s.json("use")
    assert use["list"] == 200 and use["names"] == ["Hamas"]
    assert use["open"] == 302  # a shared link still opens
    assert use["save"] == 503
    assert "Saved searches cannot be used right now" in use["save_message"]
    assert ("read-only" if fault == "read-only" else "full") in use["save_message"]
    assert use["search"] == [200, 5]
