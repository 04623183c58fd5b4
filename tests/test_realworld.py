"""Quality gate on real pages nobody here wrote: dates, HTML main text, plain-text dumps.

Runs ``realworld-eval`` (``../shared/tools/realworld-eval``, or
``$NEWSFACET_REALWORLD_EVAL``) on the public development sets
(``../shared/corpora/realworld``, or ``$NEWSFACET_REALWORLD``) through the
installed ``newsfacet clean``, beside the library each part wraps, in the
same run.  A fixed, evenly spread sample of each set runs with the normal
tests; the whole sets run under ``pytest -m slow``.  Without the tool or the
sets the tests are skipped, saying where they were looked for.

The floors are the issue's: dates at least as often exact as htmldate's own
answer, and never a date where htmldate finds none; the HTML path keeps at
least as many body strings and removes at least as many boilerplate strings
as ``trafilatura.extract``; the plain-text cleaner keeps and removes at least
:data:`TEXT_FLOORS`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

EVAL = Path(os.environ.get("NEWSFACET_REALWORLD_EVAL") or ROOT.parent / "shared" / "tools" / "realworld-eval")
DATA = Path(os.environ.get("NEWSFACET_REALWORLD") or ROOT.parent / "shared" / "corpora" / "realworld")
NEWSFACET = Path(sys.executable).parent / "newsfacet"
# Pages of each set in the normal run, spread evenly over it (the tool's --limit): fixed, so
# every run sees the same pages.  The boilerplate sample is larger, its figures being noisier.
SAMPLE = {"dates": 60, "boilerplate": 120}
# The plain-text cleaner, on text dumps of the same pages: body strings kept, boilerplate removed.
TEXT_FLOORS = {"with": 0.92, "without_removed": 0.80}
# Rounding slack on a sample: one string in a few hundred.
SLACK = 0.004

pytestmark = pytest.mark.skipif(
    not (EVAL.is_file() and (DATA / "dates" / "gold.jsonl").is_file() and NEWSFACET.is_file()),
    reason=f"realworld-eval ({EVAL}) or its sets ({DATA}) or the newsfacet script ({NEWSFACET}) not found")


def evaluate(name: str, tmp_path: Path, limit: int | None) -> tuple[dict, list[dict]]:
    out, details = tmp_path / f"{name}.json", tmp_path / f"{name}.details.jsonl"
    cmd = [sys.executable, str(EVAL), name, "--data", str(DATA), "--newsfacet", str(NEWSFACET),
           "--json", str(out), "--details", str(details), "--quiet"]
    if limit:
        cmd += ["--limit", str(limit)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    print(proc.stdout)  # the tool's table, for the log
    rows = [json.loads(line) for line in details.read_text(encoding="utf-8").splitlines() if line.strip()]
    return json.loads(out.read_text(encoding="utf-8"))[name], rows


def check_dates(figures: dict, rows: list[dict]) -> None:
    assert figures["reference"], "htmldate could not be run beside newsfacet"
    assert figures["share"] >= figures["htmldate_share"], figures["line"]
    invented = [r["file"] for r in rows if r["htmldate"] is None and r["newsfacet"] and r["class"] != "exact"]
    assert not invented, f"dated where htmldate finds no date (and wrongly): {invented}"


def check_boilerplate(figures: dict) -> None:
    rows = figures["rows"]
    assert figures["reference"], "trafilatura could not be run beside newsfacet"
    html, library = rows["html"], rows["trafilatura"]
    assert html["with"] >= library["with"] - SLACK, figures["line"]
    assert html["without_removed"] >= library["without_removed"] - SLACK, figures["line"]
    for key, floor in TEXT_FLOORS.items():
        assert rows["text"][key] >= floor - SLACK, figures["line"]


@pytest.mark.parametrize("limit", [pytest.param(SAMPLE["dates"], id="sample"),
                                   pytest.param(None, id="whole", marks=pytest.mark.slow)])
def test_dates(tmp_path, limit):
    check_dates(*evaluate("dates", tmp_path, limit))


@pytest.mark.parametrize("limit", [pytest.param(SAMPLE["boilerplate"], id="sample"),
                                   pytest.param(None, id="whole", marks=pytest.mark.slow)])
def test_boilerplate(tmp_path, limit):
    check_boilerplate(evaluate("boilerplate", tmp_path, limit)[0])
