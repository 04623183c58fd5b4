"""Small helpers for timings: percentiles, summaries and a progress logger."""

from __future__ import annotations

import math
import os
import resource
import sys
import time
from collections.abc import Sequence


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank percentile *q* (0–100) of *values*; NaN when empty.

    Nearest rank (no interpolation): the value at rank ``ceil(q/100 * n)``, so
    p95 of 200 samples is the 190th smallest and ``p100`` is the maximum.
    """
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def summarize_ms(seconds: Sequence[float]) -> dict[str, float | int]:
    """``{"n", "p50", "p95", "max", "mean"}`` in milliseconds for durations in seconds."""
    ms = [s * 1000 for s in seconds]
    return {
        "n": len(ms),
        "p50": percentile(ms, 50),
        "p95": percentile(ms, 95),
        "max": max(ms) if ms else math.nan,
        "mean": sum(ms) / len(ms) if ms else math.nan,
    }


class Log:
    """Progress lines on stderr with the time since the run started."""

    def __init__(self) -> None:
        self.started = time.perf_counter()

    def __call__(self, message: str) -> None:
        print(f"[bench {time.perf_counter() - self.started:7.1f}s] {message}", file=sys.stderr, flush=True)


def _machine_busy_seconds() -> float | None:
    """CPU seconds all processes have used since boot (``/proc/stat``), None where unavailable."""
    try:
        with open("/proc/stat") as fh:
            fields = fh.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != "cpu":
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _own_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


class CpuMeter:
    """How much of the machine other processes used while the benchmark ran.

    Foreign share = (CPU time of the whole machine − CPU time of this process
    and its waited-for children) ÷ (wall time × CPUs).  Above a few percent,
    absolute figures are pessimistic; ratios suffer less.
    """

    def __init__(self) -> None:
        self.wall0 = time.perf_counter()
        self.machine0 = _machine_busy_seconds()
        self.own0 = _own_seconds()

    def result(self) -> dict:
        wall = time.perf_counter() - self.wall0
        machine1 = _machine_busy_seconds()
        own = _own_seconds() - self.own0
        cpus = os.cpu_count() or 1
        if self.machine0 is None or machine1 is None or wall <= 0:
            return {"own_cpu_s": own, "foreign_cpu_s": None, "foreign_share": None}
        foreign = max(0.0, machine1 - self.machine0 - own)
        return {"own_cpu_s": own, "foreign_cpu_s": foreign, "foreign_share": foreign / (wall * cpus)}
