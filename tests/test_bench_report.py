"""bench.report's load-test rows: p99 beside p50 at each client count, the 50-client targets judged."""

from __future__ import annotations

from bench.report import build_rows, render


def _results(rate: float, p99: float, rss: float) -> dict:
    return {"corpus": {"name": "reuters"}, "http": {
        "sequential": {"p50": 1.0, "p95": 2.0, "max": 3.0, "errors": 0}, "overhead_p50_ms": 1.0,
        "concurrency": [
            {"clients": 1, "requests_per_s": 90.0, "errors": 0, "latency_p50_ms": 4.0, "latency_p99_ms": 9.5},
            {"clients": 50, "requests_per_s": rate, "errors": 0, "latency_p50_ms": 120.0, "latency_p99_ms": p99},
        ],
        "rss_after_warmup_mb": rss, "rss_after_load_mb": rss + 5}}


def _row(rows, figure: str):
    return next(r for r in rows if r.figure == figure)


def test_p99_is_printed_beside_p50_and_judged_at_50_clients():
    rows = build_rows(_results(260.0, 480.0, 300.0))
    fifty = _row(rows, "latency p50 / p99, 50 client(s) (ms)")
    assert fifty.newsfacet == "120.0 / 480.0" and fifty.target == "p99 ≤ 500" and fifty.met is True
    one = _row(rows, "latency p50 / p99, 1 client(s) (ms)")
    assert one.newsfacet == "4.0 / 9.5" and one.met is None
    assert _row(rows, "throughput, 50 client(s) (req/s)").met is True
    assert _row(rows, "server RSS after warm-up (MiB)").met is True
    assert "120.0 / 480.0" in render(rows)


def test_a_slow_tail_low_rate_or_large_server_is_not_met():
    rows = build_rows(_results(200.0, 700.0, 600.0))
    assert _row(rows, "latency p50 / p99, 50 client(s) (ms)").met is False
    assert _row(rows, "throughput, 50 client(s) (req/s)").met is False
    assert _row(rows, "server RSS after warm-up (MiB)").met is False
    assert _row(rows, "server RSS after the load (MiB)").met is False
