"""``python -m bench --backend opensearch``: the OpenSearch backend beside the Whoosh backend and FTS5.

Issue 16 asks for ingest docs/s, query p50/p95 and ``/api/search`` latency
on OpenSearch in the same run as the embedded engines.  On the corpus the
other options choose (Reuters, or ``--corpus scaled``):

* **ingest**: ``build_index(rebuild=True)`` of the same files into the Whoosh
  index (``--work``) and into the cluster (3 shards, 1 replica, prefix
  ``bench-<corpus>``), each timed around the whole call; and ``newsfacet
  migrate`` of the Whoosh collection into a second prefix (copying stored
  articles: what the cluster takes when nothing is extracted).
* **query service**: the same mix of searches and drill-downs
  (:mod:`bench.mix`) through each backend's ``search`` and through FTS5,
  one warm-up pass then ``--rounds``; totals compared request by request.
* **HTTP**: ``newsfacet serve`` on each backend, the mix as ``/api/search``
  requests over one keep-alive connection (:func:`bench.httpload.sequential`).
* **cluster memory**: heap used and committed per node, and each node
  process's resident memory when the node runs on this machine.

The cluster is the one ``--opensearch-url`` (or ``NEWSFACET_OPENSEARCH_URL``)
names; ``python -m tests.opensearch.cluster start --dir DIR`` starts the
three-node test cluster.  Nothing here starts or stops it.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from . import RESULTS_DIR
from .httpload import rss_mb
from .stats import Log, summarize_ms

SHARDS, REPLICAS = 3, 1


def _get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as resp:  # noqa: S310 (the cluster's own URL)
        return json.loads(resp.read())


def cluster_memory(url: str) -> list[dict]:
    """Per node: name, heap used and committed (MiB), and resident memory when its process is local."""
    stats = _get_json(url.rstrip("/") + "/_nodes/stats/jvm")
    info = _get_json(url.rstrip("/") + "/_nodes/process")
    out = []
    for node_id, node in sorted(stats["nodes"].items(), key=lambda kv: kv[1]["name"]):
        mem = node["jvm"]["mem"]
        pid = info["nodes"].get(node_id, {}).get("process", {}).get("id")
        out.append({
            "name": node["name"],
            "heap_used_mb": mem["heap_used_in_bytes"] / 2**20,
            "heap_committed_mb": mem["heap_committed_in_bytes"] / 2**20,
            "rss_mb": rss_mb(int(pid)) if pid and Path(f"/proc/{int(pid)}").exists() else None,
        })
    return out


@contextmanager
def _env(**values: str):
    """Environment variables set for a block (the server processes inherit them)."""
    before = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in before.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _timed_build(paths, settings, procs) -> dict:
    from search.api import build_index

    t0 = time.perf_counter()
    report = build_index(paths, settings, rebuild=True, procs=procs, progress=False)
    wall = time.perf_counter() - t0
    docs = report.added + report.updated
    return {"docs": docs, "failed": len(report.failed), "total_in_index": report.total, "seconds": wall,
            "docs_per_s": docs / wall if wall else None, "summary": report.summary()}


def _http(index_dir: Path, work: Path, paths: list[str], rounds: int, env: dict[str, str]) -> dict:
    from .httpload import Server, sequential

    with _env(**env), Server(index_dir, work) as server:
        sequential(server.port, paths, 1)  # warm-up
        result = sequential(server.port, paths, rounds)
        result["rss_mb"] = server.rss_mb()
    return {k: v for k, v in result.items() if k not in ("per_item_ms", "totals")}


def main(args) -> int:
    """Run the comparison for the parsed ``python -m bench`` arguments *args*."""
    from search.api import SearchRequest, Settings, open_backend

    from . import fts5, ingest
    from .corpus import iter_stored
    from .mix import build_mix, http_path, sample
    from .run import _agree, prepare_corpus, time_mix

    url = args.opensearch_url or os.environ.get("NEWSFACET_OPENSEARCH_URL")
    if not url:
        raise SystemExit("bench --backend opensearch: give --opensearch-url or set NEWSFACET_OPENSEARCH_URL "
                         "(the test cluster: python -m tests.opensearch.cluster start --dir DIR)")
    log = Log()
    work = Path(args.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    corpus = prepare_corpus(args, work, log)
    key = corpus["key"]
    index_dir = work / f"index-{key}"
    prefix = f"bench-{key}".lower()
    os_settings = Settings(backend="opensearch", opensearch_url=url, opensearch_prefix=prefix,
                           opensearch_shards=SHARDS, opensearch_replicas=REPLICAS)
    res: dict = {"corpus": {k: (v if k != "paths" else [str(p) for p in v]) for k, v in corpus.items()},
                 "opensearch": {"url": url, "prefix": prefix, "shards": SHARDS, "replicas": REPLICAS}}

    # -- ingest, both backends from the same files
    if args.skip_ingest:
        log(f"reusing {index_dir} and the cluster's {prefix} collection")
        res["ingest"] = {}
    else:
        log(f"Whoosh: build_index(rebuild=True) of {corpus['files']} file(s) into {index_dir}")
        whoosh = ingest.end_to_end(corpus["paths"], index_dir, args.procs)
        log(f"Whoosh: {whoosh['summary']}")
        log(f"OpenSearch: build_index(rebuild=True) into {url} ({prefix}, {SHARDS} shards, {REPLICAS} replica)")
        opensearch = _timed_build(corpus["paths"], os_settings, args.procs)
        log(f"OpenSearch: {opensearch['summary']}")
        from search.migrate import migrate

        log("OpenSearch: newsfacet migrate of the Whoosh collection")
        copy = migrate(Settings(index_dir=index_dir),
                       Settings(backend="opensearch", opensearch_url=url, opensearch_prefix=prefix + "-migrated",
                                opensearch_shards=SHARDS, opensearch_replicas=REPLICAS))
        log(copy.summary("whoosh", "opensearch"))
        res["ingest"] = {"whoosh": whoosh, "opensearch": opensearch,
                         "migrate": {"docs": copy.copied, "seconds": copy.seconds,
                                     "docs_per_s": copy.copied / copy.seconds if copy.seconds else None,
                                     "counts_agree": copy.source_count == copy.target_count}}
    res["cluster_memory_after_ingest"] = cluster_memory(url)

    # -- the query mix on each engine
    items = build_mix(sample(index_dir))
    log(f"query mix: {len(items)} requests")
    primer = SearchRequest(per_page=1)
    services = {"whoosh": open_backend(Settings(index_dir=index_dir)), "opensearch": open_backend(os_settings)}
    answers = {}
    res["query"] = {}
    for name, service in services.items():
        log(f"{name}: warm-up + {args.rounds} round(s)")
        times, _, got, first = time_mix(service.search, items, args.rounds, primer)
        res["query"][name] = summarize_ms(times) | {"first_pass": summarize_ms(first)}
        answers[name] = [a.total for a in got]
        service.close()
    res["query"]["totals_equal"] = sum(a == b for a, b in zip(answers["whoosh"], answers["opensearch"],
                                                              strict=True))
    if not args.skip_fts5 and fts5.fts5_available():
        db = work / f"fts5-{key}.sqlite3"
        if not db.exists() or not args.skip_ingest:
            log(f"FTS5: loading the same articles into {db}")
            fts5.build(db, iter_stored(index_dir), log)
        ref = fts5.Fts5Service(db)
        log(f"FTS5: warm-up + {args.rounds} round(s)")
        times, _, got, _ = time_mix(ref.search, items, args.rounds, primer)
        ref.close()
        res["query"]["fts5"] = summarize_ms(times)
        res["query"]["fts5_totals_within"] = sum(_agree(a, b["total"]) for a, b in zip(answers["whoosh"], got,
                                                                                     strict=True))

    # -- /api/search through newsfacet serve
    if not args.skip_http:
        paths = [http_path(it.request) for it in items]
        res["http"] = {
            "whoosh": _http(index_dir, work / "serve-whoosh", paths, args.rounds, {"NEWSFACET_BACKEND": "whoosh"}),
            "opensearch": _http(index_dir, work / "serve-opensearch", paths, args.rounds, {
                "NEWSFACET_BACKEND": "opensearch", "NEWSFACET_OPENSEARCH_URL": url,
                "NEWSFACET_OPENSEARCH_PREFIX": prefix}),
        }
    res["cluster_memory"] = cluster_memory(url)

    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = RESULTS_DIR / f"opensearch-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    out.write_text(json.dumps(res, indent=1, default=str) + "\n", encoding="utf-8")
    print(render(res, len(items), args.rounds))
    print(f"results: {out}")
    sys.stdout.flush()
    return 0


def _ms(d: dict | None, key: str) -> str:
    return f"{d[key]:.1f}" if d and d.get(key) is not None else "—"


def render(res: dict, n_items: int, rounds: int) -> str:
    """The table: one row per figure, a column per engine."""
    ing, q, http = res.get("ingest", {}), res["query"], res.get("http", {})
    rows = [("figure", "whoosh", "opensearch", "fts5")]

    def rate(d):
        return f"{d['docs_per_s']:,.0f}" if d and d.get("docs_per_s") else "—"

    rows.append(("ingest end to end (docs/s)", rate(ing.get("whoosh")), rate(ing.get("opensearch")), "—"))
    rows.append(("migrate from Whoosh (docs/s)", "—", rate(ing.get("migrate")), "—"))
    for p in ("p50", "p95"):
        rows.append((f"search + facets {p} (ms)", _ms(q.get("whoosh"), p), _ms(q.get("opensearch"), p),
                     _ms(q.get("fts5"), p)))
    for p in ("p50", "p95"):
        rows.append((f"/api/search {p} (ms)", _ms(http.get("whoosh"), p), _ms(http.get("opensearch"), p), "—"))
    rows.append(("server RSS (MiB)", _ms(http.get("whoosh"), "rss_mb"), _ms(http.get("opensearch"), "rss_mb"),
                 "—"))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = [f"newsfacet on OpenSearch — corpus {res['corpus']['key']}, mix of {n_items} requests × {rounds} "
             f"round(s), {res['opensearch']['shards']} shards × {res['opensearch']['replicas'] + 1} copies"]
    for i, r in enumerate(rows):
        lines.append("  ".join(c.ljust(widths[j]) if j == 0 else c.rjust(widths[j]) for j, c in enumerate(r)))
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    lines.append(f"totals equal on both backends: {q['totals_equal']}/{n_items} requests")
    for node in res["cluster_memory"]:
        rss = f", RSS {node['rss_mb']:.0f} MiB" if node["rss_mb"] is not None else ""
        lines.append(f"cluster node {node['name']}: heap {node['heap_used_mb']:.0f} of "
                     f"{node['heap_committed_mb']:.0f} MiB{rss}")
    return "\n".join(lines)
