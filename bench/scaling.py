"""``python -m bench scaling``: ingest at 1 and 2 processes, and one JSONL file against the SGML folder.

Issue 15 asks for the scaling curve of ``newsfacet index`` and for a single
large JSONL export to ingest within 10 % of the folder of SGML files it came
from.  Each run is ``newsfacet index --rebuild --procs N`` in a fresh process
(so start-up, imports and the gazetteer count, as for a user), timed around
the whole command, with the CPU of the command's own process (reading,
entity resolution, copy clusters, the writer's commits), of its pool
(cleaning and extraction) and of its two writer processes (adding and
flushing the new segments, in a run of 2,000 articles or more) taken apart
from ``getrusage``:

* **SGML, procs 1**: no pool; everything in one process.  Its CPU per
  article is what one article costs in all.
* **SGML, procs 2** (and any more given with ``--procs``): the pool cleans a
  batch while the main process writes the one before.  Wall time is bounded
  below by the busiest side and by all the CPU over the cores:
  ``max(main, pool / procs, writers / 2, total / cores)`` — the model this
  run prints beside the measured wall.
* **JSONL, procs 2**: the same stories as one ``.jsonl`` file (title, text,
  date, source and the Reuters topic tags as entities), written once into
  ``--work``.  A single file is split across the pool story by story, like a
  folder of files; the ratio to the SGML run is the figure.

Reuters is read where it lies; only the JSONL derived from it is written, in
``--work`` (git-ignored ``bench/corpora`` by default).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from search.whoosh_backend.writer import WRITER_PROCESSES

from . import REPO_ROOT
from .corpus import reuters_dir, reuters_files

DEFAULT_FILES = 6  # about 6,000 stories: a few minutes a run on two cores


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _child_main(argv: list[str]) -> int:
    """Run ``newsfacet index`` in this process and print its report and CPU split as JSON."""
    from search.api import Settings, build_index
    from search.whoosh_backend import writer_process

    # The writer processes are reaped when their segment is collected, the pool
    # before that: the children's CPU gained there is the writers'.
    writers = [0.0]
    collect = writer_process.SegmentProcess.segment

    def timed(self):
        before = _cpu(resource.RUSAGE_CHILDREN)
        try:
            return collect(self)
        finally:
            writers[0] += _cpu(resource.RUSAGE_CHILDREN) - before

    writer_process.SegmentProcess.segment = timed
    index_dir, procs, *paths = argv
    settings = Settings(index_dir=Path(index_dir))
    started = time.perf_counter()
    report = build_index([Path(p) for p in paths], settings, rebuild=True, progress=False, procs=int(procs))
    wall = time.perf_counter() - started
    print(json.dumps({
        "docs": report.added + report.updated,
        "failed": len(report.failed),
        "build_s": wall,
        "main_cpu_s": _cpu(resource.RUSAGE_SELF),
        "pool_cpu_s": _cpu(resource.RUSAGE_CHILDREN) - writers[0],
        "writer_cpu_s": writers[0],
    }))
    return 0


def _run(index_dir: Path, procs: int, paths: list[Path]) -> dict:
    cmd = [sys.executable, "-m", "bench.scaling", "--child", str(index_dir), str(procs), *map(str, paths)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=7200)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"bench scaling: {' '.join(cmd)} failed: {proc.stderr[-1500:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["wall_s"] = wall
    out["procs"] = procs
    docs = out["docs"] or 1
    out["docs_per_s"] = out["docs"] / wall
    out["main_ms_per_doc"] = 1000 * out["main_cpu_s"] / docs
    out["pool_ms_per_doc"] = 1000 * out["pool_cpu_s"] / docs
    out["writer_ms_per_doc"] = 1000 * out["writer_cpu_s"] / docs
    # The busiest side bounds the wall time (the others overlap it at best), and
    # so does all the CPU over the machine's cores.
    total = out["main_cpu_s"] + out["pool_cpu_s"] + out["writer_cpu_s"]
    bound = out["main_cpu_s"] if procs < 2 else max(out["main_cpu_s"], out["pool_cpu_s"] / procs,
                                                     out["writer_cpu_s"] / WRITER_PROCESSES,
                                                     total / (os.cpu_count() or 1))
    out["model_docs_per_s"] = out["docs"] / bound if bound else None
    return out


def write_jsonl(files: list[Path], out: Path) -> int:
    """The Reuters stories of *files* as one JSONL export, as a scraper would give them."""
    from search.readers import iter_sources
    from search.settings import Options

    rows = 0
    tmp = out.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for source in iter_sources(files, Options()):
            if not hasattr(source, "content"):
                continue
            row = {"id": source.path, "title": source.title, "text": source.content, "date": source.date,
                   "source": source.source,
                   "entities": [{"value": v, "type": t} for v, t in source.entities]}
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            rows += 1
    tmp.replace(out)
    return rows


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        return _child_main(argv[1:])
    p = argparse.ArgumentParser(prog="python -m bench scaling", description=__doc__.split("\n")[0])
    p.add_argument("--reuters", help="Reuters-21578 folder (default: $NEWSFACET_REUTERS or ../shared/corpora/...)")
    p.add_argument("--files", type=int, default=DEFAULT_FILES,
                   help=f"Reuters files to use (default {DEFAULT_FILES}; 22: all)")
    p.add_argument("--procs", type=int, nargs="*", default=[1, 2], help="process counts for the SGML curve")
    p.add_argument("--work", default=str(REPO_ROOT / "bench" / "corpora"), help="folder for indexes and the JSONL")
    args = p.parse_args(argv)
    files = reuters_files(reuters_dir(args.reuters), args.files)
    work = Path(args.work) / "scaling"
    work.mkdir(parents=True, exist_ok=True)
    jsonl_dir = work / "jsonl"
    jsonl_dir.mkdir(exist_ok=True)
    jsonl = jsonl_dir / f"reuters-{len(files)}.jsonl"
    if not jsonl.exists():
        print(f"writing {jsonl.name} ...", file=sys.stderr)
        write_jsonl(files, jsonl)
    runs = []
    for procs in args.procs:
        print(f"SGML, {len(files)} files, procs {procs} ...", file=sys.stderr)
        runs.append({"input": "sgml", **_run(work / "index", procs, list(files))})
    jsonl_procs = max(args.procs)
    print(f"JSONL, one file, procs {jsonl_procs} ...", file=sys.stderr)
    runs.append({"input": "jsonl", **_run(work / "index", jsonl_procs, [jsonl])})
    print(f"{'input':6} {'procs':>5} {'docs':>6} {'wall s':>7} {'docs/s':>7} {'main ms/doc':>11} "
          f"{'pool ms/doc':>11} {'writer ms/doc':>13} {'model docs/s':>12}")
    for r in runs:
        print(f"{r['input']:6} {r['procs']:5} {r['docs']:6} {r['wall_s']:7.1f} {r['docs_per_s']:7.1f} "
              f"{r['main_ms_per_doc']:11.2f} {r['pool_ms_per_doc']:11.2f} {r['writer_ms_per_doc']:13.2f} "
              f"{r['model_docs_per_s'] or 0:12.1f}")
    sgml_same = next(r for r in runs if r["input"] == "sgml" and r["procs"] == jsonl_procs)
    ratio = runs[-1]["docs_per_s"] / sgml_same["docs_per_s"]
    print(f"JSONL / SGML docs/s at procs {jsonl_procs}: {ratio:.2f} (target: within 10 %, 0.90-1.10)")
    stamp = time.strftime("%Y%m%dT%H%M%S")
    results = REPO_ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    (results / f"scaling-{stamp}.json").write_text(json.dumps({"files": len(files), "runs": runs, "ratio": ratio},
                                                              indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
