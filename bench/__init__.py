"""newsfacet's benchmark suite: ``python -m bench`` (see ``bench/README.md``).

It builds an index of a corpus (Reuters-21578 as shipped, or a scaled corpus
made by :mod:`bench.generate`), measures ingest, cold start, a fixed query mix
through the query service and over HTTP, answers the same mix with a SQLite
FTS5 reference, prints one table and writes the figures to
``bench/results/<timestamp>.json``.

Importing this package is cheap on purpose: the cold-start child processes
import parts of it and must not pay for the rest.
"""

from __future__ import annotations

from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
DEFAULT_WORK = BENCH_DIR / "corpora"
