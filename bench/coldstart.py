"""Cold start: a fresh Python process, from its start to the first faceted answer.

The parent takes the time, starts ``python -c CHILD`` and stops the clock
when the child prints its answer line: interpreter start-up, imports, opening
the index, building the facet arrays and answering ``q="oil"`` (total, one
page of hits with snippets, entity and date facets).  The child also reports
its own split (imports / open / first search).  Run several times; the
median is the figure.  The OS page cache is warm (the index was just built
or read), as it is on a server that restarts.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from . import REPO_ROOT

NEWSFACET_CHILD = """
import json, sys, time
t0 = time.perf_counter()
from search.api import SearchRequest
from search.whoosh_backend.service import WhooshBackend
t1 = time.perf_counter()
service = WhooshBackend(sys.argv[1])
t2 = time.perf_counter()
result = service.search(SearchRequest(q="oil"))
t3 = time.perf_counter()
print(json.dumps({"total": result.total, "entity_values": len(result.facets["entity"]),
                  "import_s": t1 - t0, "open_s": t2 - t1, "search_s": t3 - t2}), flush=True)
"""

FTS5_CHILD = """
import json, sys, time
from types import SimpleNamespace
t0 = time.perf_counter()
from bench.fts5 import Fts5Service
t1 = time.perf_counter()
service = Fts5Service(sys.argv[1])
t2 = time.perf_counter()
req = SimpleNamespace(q="oil", entities=(), date=None, date_from=None, date_to=None, sort="relevance",
                      page=1, per_page=10, facet_limit=20)
result = service.search(req)
t3 = time.perf_counter()
print(json.dumps({"total": result["total"], "entity_values": len(result["facets"]["entity"]),
                  "import_s": t1 - t0, "open_s": t2 - t1, "search_s": t3 - t2}), flush=True)
"""


def _once(code: str, target: Path, timeout: float) -> dict:
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(target)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        answered = time.perf_counter() - started
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise RuntimeError(f"cold-start child did not finish in {timeout:.0f} s") from None
    if proc.returncode != 0 or not line.strip():
        raise RuntimeError(f"cold-start child failed ({proc.returncode}): {err.strip()[-2000:]}")
    out = json.loads(line)
    out["wall_s"] = answered
    return out


def measure(target: Path, runs: int = 3, engine: str = "newsfacet", timeout: float = 600.0) -> dict:
    """Median wall seconds to the first answer over *runs* fresh processes (``engine``: newsfacet or fts5)."""
    code = NEWSFACET_CHILD if engine == "newsfacet" else FTS5_CHILD
    samples = [_once(code, target, timeout) for _ in range(max(1, runs))]
    walls = [s["wall_s"] for s in samples]
    return {"seconds": statistics.median(walls), "runs": samples, "min": min(walls), "max": max(walls)}
