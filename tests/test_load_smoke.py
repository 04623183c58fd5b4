"""Smoke run of the load test (``python -m bench.load``): a few clients, a tiny corpus, its own checks must pass.

The corpora come from the benchmark's generator, which draws from Reuters-21578
(``../shared/corpora/reuters21578`` beside the repository, or
``$NEWSFACET_REUTERS``): without it the test is skipped.  Everything the run
creates stays under pytest's ``tmp_path``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REUTERS, ROOT

BASE, ADDED = 300, 50

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not any(REUTERS.glob("reut2-*.sgm.gz")), reason=f"Reuters-21578 not found in {REUTERS}"),
]


def test_load_quick_passes(tmp_path: Path) -> None:
    results = tmp_path / "load.json"
    cmd = [sys.executable, "-m", "bench.load", "--quick", "--work", str(tmp_path / "work"),
           "--base-size", str(BASE), "--add", str(ADDED), "--duration", "8", "--warmup", "2", "--clients", "5",
           "--results", str(results)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr[-3000:]}"
    data = json.loads(results.read_text(encoding="utf-8"))
    fig = data["figures"]
    assert data["passed"] and data["failures"] == []
    assert fig["all"]["n"] > 0 and fig["failed_requests"] == 0 and fig["all"]["5xx"] == 0
    assert all(fig["by_kind"][k]["n"] > 0 for k in ("search", "drill", "doc", "feed"))
    assert data["indexer"]["exit_code"] == 0 and not data["indexer"]["killed"]
    assert data["indexer"]["counts"]["added"] == ADDED
    assert data["base_docs"] == BASE
    assert data["api_total_after"] == BASE + ADDED == data["expected_total"]
    assert data["rss"]["flat"]
    assert "PASS" in proc.stdout
    # The run's temp folder (copied index, logs) is removed; the cached corpora and base index stay.
    assert not list((tmp_path / "work").glob("load-*"))
