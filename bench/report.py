"""The result table: figures, the newsfacet / FTS5 ratio, targets from the spec, met or not.

A ratio is always newsfacet's figure divided by FTS5's for the same figure:
for times and sizes below 1 means newsfacet is better, for rates (docs/s)
above 1 does.  Targets depend on the corpus: Reuters targets for
``reuters``, the 1M-article targets for ``scaled`` (whatever its size).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class Row:
    figure: str
    newsfacet: float | str | None
    fts5: float | str | None = None
    target: str = ""
    met: bool | None = None
    fmt: str = "{:.1f}"

    def cells(self) -> list[str]:
        return [self.figure, _cell(self.newsfacet, self.fmt), _cell(self.fts5, self.fmt), self.ratio(),
                self.target or "—", "" if self.met is None else ("met" if self.met else "NOT MET")]

    def ratio(self) -> str:
        if not _num(self.newsfacet) or not _num(self.fts5) or self.fts5 == 0:
            return "—"
        return f"{self.newsfacet / self.fts5:.2f}×"


def _num(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and not math.isnan(v)


def _cell(v, fmt: str) -> str:
    if v is None:
        return "—"
    if isinstance(v, str):
        return v
    if isinstance(v, float) and math.isnan(v):
        return "—"
    return fmt.format(v)


def _at_most(value, limit: float) -> bool | None:
    return value <= limit if _num(value) else None


def _at_least(value, limit: float) -> bool | None:
    return value >= limit if _num(value) else None


def build_rows(res: dict) -> list[Row]:
    """Rows from a results dict (as written to JSON); missing parts show as skipped."""
    scaled = res["corpus"]["name"] == "scaled"
    skipped = "skipped"
    rows: list[Row] = []
    ing = res.get("ingest") or {}
    ref = res.get("fts5") or {}
    e2e = ing.get("end_to_end")
    only = ing.get("index_only")
    fbuild = ref.get("build")
    rows.append(Row("ingest end-to-end (docs/s)", e2e["docs_per_s"] if e2e else skipped, None, "≥ 1500",
                    _at_least(e2e["docs_per_s"], 1500) if e2e else None, "{:,.0f}"))
    rows.append(Row("ingest index-only (docs/s)", only["docs_per_s"] if only else skipped,
                    fbuild["docs_per_s"] if fbuild else (skipped if not ref else None), fmt="{:,.0f}"))
    size = ing.get("size_mb")
    rows.append(Row("index size (MiB)", size if size is not None else skipped,
                    fbuild["size_mb"] if fbuild else ref.get("size_mb"), fmt="{:,.1f}"))
    cold = res.get("cold_start") or {}
    cold_target = 3.0 if scaled else 0.5
    nf_cold = cold.get("newsfacet", {}).get("seconds") if cold else None
    fts_cold = cold.get("fts5", {}).get("seconds") if cold.get("fts5") else None
    rows.append(Row("cold start to first answer (s)", nf_cold if nf_cold is not None else skipped, fts_cold,
                    f"≤ {cold_target:g}", _at_most(nf_cold, cold_target), "{:.2f}"))
    q = res.get("query") or {}
    fq = ref.get("query") or {}
    if q:
        rows.append(Row("query p50 (ms)", q["p50"], fq.get("p50"), "" if scaled else "≤ 3",
                        None if scaled else _at_most(q["p50"], 3)))
        rows.append(Row("query p95 (ms)", q["p95"], fq.get("p95"), "≤ 150 (1M)" if scaled else "≤ 8",
                        _at_most(q["p95"], 150 if scaled else 8)))
        rows.append(Row("query max (ms)", q["max"], fq.get("max")))
        first, ffirst = q.get("first_pass") or {}, fq.get("first_pass") or {}
        if first:
            rows.append(Row("query p50, first pass (ms)", first["p50"], ffirst.get("p50")))
            rows.append(Row("query p95, first pass (ms)", first["p95"], ffirst.get("p95")))
    else:
        rows.append(Row("query p50/p95/max (ms)", skipped))
    h = res.get("http")
    if h:
        seq = h["sequential"]
        rows.append(Row("/api/search p50 (ms)", seq["p50"]))
        rows.append(Row("/api/search p95 (ms)", seq["p95"]))
        rows.append(Row("/api/search max (ms)", seq["max"]))
        over = h.get("overhead_p50_ms")
        rows.append(Row("/api/search overhead at p50 (ms)", over, None, "≤ 3", _at_most(over, 3)))
        for c in h["concurrency"]:
            fifty_clients = c["clients"] == 50
            rate = c["requests_per_s"]
            rows.append(Row(f"throughput, {c['clients']} client(s) (req/s)", rate, None,
                            "≥ 250" if fifty_clients else "", _at_least(rate, 250) if fifty_clients else None))
            # p99 beside p50: the load test's latency target is on its tail.
            p50, p99 = c.get("latency_p50_ms"), c.get("latency_p99_ms")
            rows.append(Row(f"latency p50 / p99, {c['clients']} client(s) (ms)",
                            f"{_cell(p50, '{:,.1f}')} / {_cell(p99, '{:,.1f}')}", None,
                            "p99 ≤ 500" if fifty_clients else "", _at_most(p99, 500) if fifty_clients else None))
        errs = {c["clients"]: c["errors"] for c in h["concurrency"]}
        errors_text = " / ".join(f"{errs[k]}" for k in sorted(errs))
        fifty = errs.get(50)
        rows.append(Row(f"errors at {' / '.join(str(k) for k in sorted(errs))} clients", errors_text, None,
                        "0 at 50", None if fifty is None else fifty == 0 and h["sequential"]["errors"] == 0))
        rss = h["rss_after_warmup_mb"]
        rss_limit = 1536 if scaled else 500
        rows.append(Row("server RSS after warm-up (MiB)", rss, None, "≤ 1536 (1M)" if scaled else "≤ 500",
                        _at_most(rss, rss_limit), "{:,.0f}"))
        after = h.get("rss_after_load_mb")
        if after is not None:
            rows.append(Row("server RSS after the load (MiB)", after, None, f"≤ {rss_limit:,}",
                            _at_most(after, rss_limit), "{:,.0f}"))
    else:
        rows.append(Row("/api/search", skipped))
    return rows


def render(rows: list[Row]) -> str:
    """A plain-text table."""
    header = ["figure", "newsfacet", "FTS5", "ratio", "target", "status"]
    table = [header] + [r.cells() for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    aligns = ["<", ">", ">", ">", "<", "<"]

    def fmt(line: list[str]) -> str:
        return "  ".join(f"{cell:{a}{w}}" for cell, a, w in zip(line, aligns, widths, strict=True)).rstrip()

    sep = "  ".join("-" * w for w in widths)
    return "\n".join([fmt(header), sep, *(fmt(line) for line in table[1:])])
