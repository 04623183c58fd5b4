"""``python -m bench startup``: small runs that should start at once (issue 15's targets).

Each figure is the wall time of a whole ``newsfacet`` command in a fresh
process, as a user types it — interpreter start-up, imports, gazetteer,
the work and the exit — the median of ``--runs``:

* **seeds**: ``newsfacet index seeds/`` into a new index (target ≤ 1.5 s);
* **clean**: ``newsfacet clean`` of one seed file (target ≤ 1 s);
* **no-op re-index**: ``newsfacet index`` of the Reuters folder into an index
  that already holds it, nothing changed (target ≤ 2 s).  Needs ``--index``
  (an index of that folder); without it this line is skipped with the reason.

Seeds and clean are timed twice: with the user's cache as it is (the
gazetteer kept built there after the first run, as on a user's machine from
the second command on) and with an empty cache folder (``XDG_CACHE_HOME``
pointed at a new one: the very first command after installing).

Only subprocesses of this checkout's ``newsfacet`` run; nothing is written
outside ``--work``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import REPO_ROOT
from .corpus import reuters_dir

SEEDS = REPO_ROOT / "seeds"
TARGETS = {"seeds": 1.5, "clean": 1.0, "noop": 2.0}


def _newsfacet() -> list[str]:
    return [sys.executable, "-m", "web.cli"]


def _timed(cmd: list[str], env: dict | None = None) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True, timeout=600)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr[-800:]}")
    return wall


def _median(samples: list[float]) -> dict:
    return {"median_s": statistics.median(samples), "runs_s": [round(s, 3) for s in samples]}


def measure(work: Path, runs: int, index: Path | None, reuters: Path | None) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    seed = sorted(p for p in SEEDS.iterdir() if p.is_file() and not p.name.startswith("."))[0]
    out: dict = {"runs": runs, "seed_file": seed.name}
    for cache in ("warm", "empty"):
        seeds_s, clean_s = [], []
        for i in range(runs):
            env = dict(os.environ)
            holder = None
            if cache == "empty":
                holder = tempfile.mkdtemp(prefix="cache-", dir=work)
                env["XDG_CACHE_HOME"] = holder
            target = work / f"seeds-index-{cache}-{i}"
            shutil.rmtree(target, ignore_errors=True)
            try:
                seeds_s.append(_timed([*_newsfacet(), "--index", str(target), "index", str(SEEDS), "--quiet"], env))
                if holder:  # the index run just built the cache: empty it again for clean
                    shutil.rmtree(holder, ignore_errors=True)
                    os.makedirs(holder)
                clean_s.append(_timed([*_newsfacet(), "clean", str(seed)], env))
            finally:
                shutil.rmtree(target, ignore_errors=True)
                if holder:
                    shutil.rmtree(holder, ignore_errors=True)
        out[f"seeds_{cache}"] = _median(seeds_s)
        out[f"clean_{cache}"] = _median(clean_s)
    if index is None:
        out["noop"] = {"skipped": "no --index given (an index of the Reuters folder)"}
    elif reuters is None:
        out["noop"] = {"skipped": "no Reuters folder (--reuters or NEWSFACET_REUTERS)"}
    else:
        cmd = [*_newsfacet(), "--index", str(index), "index", str(reuters), "--quiet"]
        _timed(cmd)  # the first run may finish an earlier one's work: not a no-op yet
        out["noop"] = _median([_timed(cmd) for _ in range(runs)])
    return out


def report(res: dict) -> str:
    rows = [("index the seeds (s)", "seeds", "seeds"), ("clean one seed (s)", "clean", "clean")]
    lines = [f"{'figure':38} {'warm cache':>11} {'empty cache':>12} {'target':>8}  status"]
    for label, key, target in rows:
        warm, empty = res[f"{key}_warm"]["median_s"], res[f"{key}_empty"]["median_s"]
        ok = "met" if warm <= TARGETS[target] else "NOT MET"
        lines.append(f"{label:38} {warm:11.2f} {empty:12.2f} {'≤ ' + str(TARGETS[target]):>8}  {ok}")
    noop = res["noop"]
    if "skipped" in noop:
        lines.append(f"{'no-op re-index of Reuters (s)':38} skipped: {noop['skipped']}")
    else:
        ok = "met" if noop["median_s"] <= TARGETS["noop"] else "NOT MET"
        lines.append(f"{'no-op re-index of Reuters (s)':38} {noop['median_s']:11.2f} {'':>12} "
                     f"{'≤ ' + str(TARGETS['noop']):>8}  {ok}")
    lines.append(f"medians of {res['runs']} fresh processes each; clean: {res['seed_file']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench startup", description=__doc__.split("\n\n")[0])
    p.add_argument("--work", default=str(Path(tempfile.gettempdir()) / "newsfacet-bench-startup"),
                   help="scratch folder for the seed indexes and empty caches")
    p.add_argument("--index", help="an index of the Reuters folder, for the no-op re-index")
    p.add_argument("--reuters", help="Reuters-21578 folder (default $NEWSFACET_REUTERS or ../shared/corpora/...)")
    p.add_argument("--runs", type=int, default=5, help="fresh processes per figure (default 5)")
    p.add_argument("--json", help="also write the figures to this file")
    args = p.parse_args(argv)
    if args.runs < 1:
        p.error("--runs must be at least 1")
    index = Path(args.index) if args.index else None
    if index is not None and not index.is_dir():
        p.error(f"--index {index}: no such folder")
    reuters = reuters_dir(args.reuters)
    if not reuters.is_dir():
        reuters = None
    res = measure(Path(args.work), args.runs, index, reuters)
    print(report(res))
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
