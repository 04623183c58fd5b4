"""Hostile queries against a real server on all of Reuters-21578: none holds a worker, plain searches keep their pace.

The outside test found single requests holding a worker for seconds to
minutes (twenty leading wildcards 95 s, a range over the body vocabulary
20 s).  Here ``newsfacet serve`` runs on the 21,577 Reuters stories; a
client measures the latency of plain searches alone, then again while four
threads send the hostile queries in a loop.  Every hostile request must be
answered (200, or 400/503 with a message) within 2 s, and the plain
searches' p95 must stay close to its value without them.

The corpus is read where it lies (``../shared/corpora/reuters21578`` or
``$NEWSFACET_REUTERS``); without it the test is skipped.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from urllib.parse import urlencode

import pytest

from .conftest import REUTERS, ROOT, free_port

CORPUS = REUTERS
FILES = sorted(CORPUS.glob("reut2-*.sgm.gz"))

pytestmark = [pytest.mark.slow, pytest.mark.skipif(len(FILES) != 22, reason=f"Reuters-21578 not found in {CORPUS}")]

HOSTILE = [
    " ".join(f"*{c}*" for c in "abcdefghij0123456789"),
    "body:[a TO zzzz]",
    "*a*",
    " OR ".join(f"w{i}" for i in range(263)),
    "date:[0 TO 99999999]",
    "*e*e*e*e*e*e*e*",
    "a* b* c* d* e* f* g*",
    '"the company said it"',
]
PLAIN = ["oil", "bank rates", "gold", "coffee prices", "trade deficit", "wheat", "dollar", "opec output",
         "interest", "shares"]
ROUNDS = 30  # passes over PLAIN per measurement
QUERY_BUDGET = 1.0  # seconds of matching the server allows a query (NEWSFACET_QUERY_TIMEOUT)


def get(base: str, params: dict, timeout: float = 30) -> tuple[int, float, dict]:
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(f"{base}/api/search?{urlencode(params)}", timeout=timeout) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read()
    return status, time.perf_counter() - started, json.loads(body)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[int(0.95 * (len(ordered) - 1))]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    index_dir = tmp_path_factory.mktemp("reuters-hostile")
    cli = [sys.executable, "-m", "web.cli", "--index", str(index_dir)]
    subprocess.run([*cli, "index", str(CORPUS), "--quiet"], cwd=ROOT, check=True, timeout=1800)
    port = free_port()
    log = (index_dir / "serve.log").open("w")
    # A matching budget of 1 s (the default is 1.5 s) leaves a second of the 2 s bound for
    # what follows matching (facets, snippets, HTTP) on a loaded two-core machine.
    env = {**os.environ, "NEWSFACET_QUERY_TIMEOUT": str(QUERY_BUDGET)}
    proc = subprocess.Popen([*cli, "serve", "--port", str(port)], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                            env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if get(base, {"q": "oil"}, timeout=5)[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("the server did not start")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


def plain_latencies(base: str) -> list[float]:
    out = []
    for _ in range(ROUNDS):
        for q in PLAIN:
            status, elapsed, _ = get(base, {"q": q})
            assert status == 200
            out.append(elapsed)
    return out


def test_hostile_queries_hold_no_worker(server, capsys):
    for q in PLAIN:  # first use of each term reads its postings: not what is measured
        get(server, {"q": q})
    alone = plain_latencies(server)

    stop = threading.Event()
    hostile: list[tuple[str, int, float]] = []
    errors: list[str] = []

    def attacker(offset: int) -> None:
        for n in range(10_000):  # bounded; the plain client's finish stops it sooner
            if stop.is_set():
                return
            q = HOSTILE[(n + offset) % len(HOSTILE)]
            status, elapsed, body = get(server, {"q": q})
            hostile.append((q, status, elapsed))
            if status not in (200, 400, 503) or (status != 200 and not body.get("error", {}).get("message")):
                errors.append(f"{q[:40]!r}: {status} {body}")

    threads = [threading.Thread(target=attacker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    try:
        time.sleep(0.5)
        under_attack = plain_latencies(server)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)

    slowest = max(hostile, key=lambda h: h[2])
    statuses = sorted({h[1] for h in hostile})
    with capsys.disabled():
        print(f"\nplain p95 alone {p95(alone) * 1000:.1f} ms, "
              f"with 4 hostile clients {p95(under_attack) * 1000:.1f} ms; {len(hostile)} hostile requests, "
              f"statuses {statuses}, slowest {slowest[2]:.2f} s ({slowest[0][:30]!r})")
    assert not errors, errors[:5]
    assert len(hostile) >= len(HOSTILE)
    assert slowest[2] < 2.0, slowest
    # "Unchanged" within what two cores and a shared machine allow: the GIL is shared,
    # so a costly query running does cost plain ones a little; before, it cost them minutes.
    assert p95(under_attack) <= max(3 * p95(alone), p95(alone) + 0.1)
