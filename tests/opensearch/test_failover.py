"""Failover: a node killed by PID while newsfacet searches one collection and indexes another.

With 3 shards and 1 replica every article has a copy on a second node, so
once the cluster is yellow (replicas promoted where primaries died) the
searches must answer exactly what they answered before — totals, hits and
facet counts — and an indexing run that was under way when the node died
must finish with every article written (the writer retries what the
cluster refused while it recovered).

Needs a cluster this session started (the ``opensearch`` fixture without
``NEWSFACET_OPENSEARCH_URL``): a cluster of someone else's is not ours to
kill.  The node is restarted and the cluster is green again at the end.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from search.api import SearchRequest, Settings, build_index, open_backend
from search.opensearch_backend.mapping import alias_name

pytestmark = [pytest.mark.opensearch]

ROOT = Path(__file__).resolve().parents[2]
ARTICLES_IN_RUN = 1200  # enough that the run is still writing when the node dies
REQUESTS = [
    SearchRequest(),
    SearchRequest(q="oil"),
    SearchRequest(q="minister OR government", sort="newest"),
    SearchRequest(q="prices", per_page=50),
]


def answers(backend) -> list[dict]:
    out = []
    for req in REQUESTS:
        result = backend.search(req).as_dict()
        result.pop("elapsed_ms", None)
        out.append(result)
    return out


def write_corpus(folder: Path, seeds_dir: Path, n: int) -> None:
    """*n* distinct plain-text articles made from the seeds, one file each."""
    texts = [p.read_text(encoding="utf-8") for p in sorted(seeds_dir.glob("*.txt"))]
    folder.mkdir(parents=True)
    for i in range(n):
        text = texts[i % len(texts)]
        head, _, rest = text.partition("\n")
        # A different title and closing line each: no two files are copies of each other.
        (folder / f"article-{i:05d}.txt").write_text(
            f"{head} (part {i})\n{rest}\n\nFiled as number {i} of the failover run, item {i * 7919 % 10007}.\n",
            encoding="utf-8")


def count(opensearch, prefix: str) -> int:
    code, body = opensearch.request("GET", f"/{alias_name(prefix)}/_count")
    assert code == 200, body
    return body["count"]


def test_searches_and_a_run_survive_a_killed_node(opensearch, sites_dir, seeds_dir, tmp_path):
    if opensearch.cluster is None:
        pytest.skip("the cluster was not started by this session (NEWSFACET_OPENSEARCH_URL): not ours to kill")
    cluster = opensearch.cluster
    tag = uuid.uuid4().hex[:6]
    searched, written = f"fo-search-{tag}", f"fo-run-{tag}"
    settings = Settings(backend="opensearch", opensearch_url=opensearch.url, opensearch_prefix=searched,
                        opensearch_shards=3, opensearch_replicas=1)
    report = build_index([sites_dir], settings, progress=False)
    assert not report.failed
    backend = open_backend(settings)
    before = answers(backend)
    assert before[0]["total"] == report.total > 0

    corpus = tmp_path / "run"
    write_corpus(corpus, seeds_dir, ARTICLES_IN_RUN)
    env = dict(os.environ, NEWSFACET_BACKEND="opensearch", NEWSFACET_OPENSEARCH_URL=opensearch.url,
               NEWSFACET_OPENSEARCH_PREFIX=written, NEWSFACET_OPENSEARCH_SHARDS="3",
               NEWSFACET_OPENSEARCH_REPLICAS="1")
    run = subprocess.Popen([sys.executable, "-m", "web.cli", "index", "--quiet", str(corpus)], cwd=ROOT, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    victim = None
    try:
        # Kill once the run is writing: some of its articles are on the cluster, not all.
        # (Indexing operations, not docs.count: a new index is not refreshed until the run's end.)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and run.poll() is None:
            code, body = opensearch.request("GET", f"/{written}-articles-*/_stats/indexing")
            if code == 200 and body.get("_all", {}).get("primaries", {}).get("indexing", {}).get("index_total"):
                break
            time.sleep(0.2)
        assert run.poll() is None, f"the run ended before the kill: {run.communicate()}"
        manager = opensearch.request("GET", "/_cat/cluster_manager?format=json")[1][0]["node"]
        # Not the node the client talks to; the elected manager when it can be, so one must be elected.
        victim = manager if manager != cluster.nodes[0].name else cluster.nodes[1].name
        cluster.kill(victim)

        code, health = opensearch.request(
            "GET", "/_cluster/health?wait_for_status=yellow&wait_for_nodes=2&timeout=90s", timeout=120)
        assert code == 200 and not health["timed_out"], health
        assert answers(backend) == before

        out, err = run.communicate(timeout=600)
        assert run.returncode == 0, err[-3000:]
        assert f"{ARTICLES_IN_RUN} added, 0 updated, 0 unchanged, 0 removed, 0 failed" in out, out
        assert count(opensearch, written) == ARTICLES_IN_RUN
        assert answers(backend) == before
    finally:
        if run.poll() is None:
            run.kill()
            run.communicate()
        backend.close()
        if victim is not None:
            cluster.start_node(victim)
            cluster.wait_green()
        for prefix in (searched, written):
            opensearch.drop_prefix(prefix)
