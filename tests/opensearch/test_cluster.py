"""A real three-node OpenSearch cluster does what the OpenSearch backend will rely on.

The cluster comes from the `opensearch` fixture (conftest.py): one started here
from the Maven launcher, or the one NEWSFACET_OPENSEARCH_URL names.
"""

from __future__ import annotations

import json

import pytest

pytestmark = [pytest.mark.opensearch]

INDEX = "nf-test-news"
ANALYSIS_INDEX = "nf-test-analysis"

# The filter chain the newsfacet mapping will use for article text.
ANALYSIS = {
    "filter": {"nf_english_stemmer": {"type": "stemmer", "language": "english"}},
    "analyzer": {
        "nf_text": {
            "type": "custom",
            "tokenizer": "standard",
            "filter": ["lowercase", "asciifolding", "nf_english_stemmer"],
        }
    },
}

DOCS = [
    {"title": "Tromsø estimates a record tourist season", "site": "nrk.no", "topic": "travel"},
    {"title": "Tromso council estimated the cost of the bridge", "site": "nrk.no", "topic": "politics"},
    {"title": "Northern lights draw visitors to Tromsø", "site": "nrk.no", "topic": "travel"},
    {"title": "Budget estimates revised after the election", "site": "bbc.co.uk", "topic": "politics"},
    {"title": "Football: a late goal decides the derby", "site": "bbc.co.uk", "topic": "sport"},
    {"title": "Les estimations du budget", "site": "lemonde.fr", "topic": "politics"},
]


def ok(response, *codes):
    code, body = response
    assert code in (codes or (200,)), f"HTTP {code}: {json.dumps(body)[:2000]}"
    return body


def recreate(opensearch, name: str, body: dict) -> None:
    code, _ = opensearch.request("DELETE", f"/{name}")
    assert code in (200, 404)
    ok(opensearch.request("PUT", f"/{name}?wait_for_active_shards=all", body))


@pytest.fixture(scope="module")
def news_index(opensearch):
    """3 shards, 1 replica, the nf_text analyzer on title, DOCS bulk-indexed and refreshed."""
    recreate(
        opensearch,
        INDEX,
        {
            "settings": {"number_of_shards": 3, "number_of_replicas": 1, "analysis": ANALYSIS},
            "mappings": {
                "properties": {
                    "title": {"type": "text", "analyzer": "nf_text"},
                    "site": {"type": "keyword"},
                    "topic": {"type": "keyword"},
                }
            },
        },
    )
    lines = []
    for i, doc in enumerate(DOCS):
        lines += [json.dumps({"index": {"_index": INDEX, "_id": str(i)}}), json.dumps(doc)]
    body = ok(opensearch.request("POST", "/_bulk?refresh=true", "\n".join(lines) + "\n", ndjson=True))
    assert body["errors"] is False, body
    yield INDEX
    opensearch.request("DELETE", f"/{INDEX}")


def search_estimates(opensearch) -> tuple[int, dict]:
    """Hits for 'estimates' and the exact per-site counts of a terms aggregation over them."""
    body = ok(
        opensearch.request(
            "POST",
            f"/{INDEX}/_search",
            {
                "size": 0,
                "track_total_hits": True,
                "query": {"match": {"title": "estimates"}},
                "aggs": {"sites": {"terms": {"field": "site", "size": 10}}},
            },
        )
    )
    agg = body["aggregations"]["sites"]
    assert agg["doc_count_error_upper_bound"] == 0 and agg["sum_other_doc_count"] == 0
    assert body["_shards"]["failed"] == 0, body["_shards"]
    assert agg["buckets"][0]["key"] == "nrk.no"  # most documents first
    return body["hits"]["total"]["value"], {b["key"]: b["doc_count"] for b in agg["buckets"]}


def test_three_nodes_green(opensearch):
    health = ok(opensearch.request("GET", "/_cluster/health?wait_for_status=green&wait_for_nodes=3&timeout=60s"))
    assert health["status"] == "green" and not health["timed_out"]
    assert health["number_of_nodes"] == 3 and health["number_of_data_nodes"] == 3
    nodes = ok(opensearch.request("GET", "/_cat/nodes?format=json&h=name,ip,cluster_manager"))
    assert len(nodes) == 3
    assert sum(n["cluster_manager"] == "*" for n in nodes) == 1
    if opensearch.cluster is not None:  # ours: everything on loopback
        assert {n["ip"] for n in nodes} == {"127.0.0.1"}
        assert sorted(n["name"] for n in nodes) == ["n1", "n2", "n3"]


def test_custom_analyzer_folds_and_stems(opensearch):
    recreate(opensearch, ANALYSIS_INDEX, {"settings": {"number_of_shards": 1, "analysis": ANALYSIS}})
    try:

        def tokens(text, **how):
            body = ok(opensearch.request("POST", f"/{ANALYSIS_INDEX}/_analyze", {"text": text, **how}))
            return [t["token"] for t in body["tokens"]]

        assert tokens("Tromsø estimates", analyzer="nf_text") == ["tromso", "estim"]
        assert tokens("estimated ESTIMATE estimating estimations", analyzer="nf_text") == ["estim"] * 4
        assert tokens("Ærøskøbing Zürich café", analyzer="nf_text") == ["aeroskob", "zurich", "cafe"]
        # the built-in english analyzer stems but does not fold: why the custom chain has asciifolding
        assert tokens("Tromsø estimates", analyzer="english") == ["tromsø", "estim"]
        # shingle, from analysis-common too
        assert tokens("new york times", tokenizer="standard", filter=["shingle"]) == [
            "new",
            "new york",
            "york",
            "york times",
            "times",
        ]
    finally:
        opensearch.request("DELETE", f"/{ANALYSIS_INDEX}")


def test_three_shards_one_replica_all_assigned(opensearch, news_index):
    health = ok(opensearch.request("GET", f"/_cluster/health/{news_index}?wait_for_status=green&timeout=60s"))
    assert health["status"] == "green"
    assert health["active_primary_shards"] == 3 and health["active_shards"] == 6
    assert health["unassigned_shards"] == 0 and health["initializing_shards"] == 0
    shards = ok(opensearch.request("GET", f"/_cat/shards/{news_index}?format=json&h=shard,prirep,state,node"))
    assert len(shards) == 6 and {s["state"] for s in shards} == {"STARTED"}
    for shard in {s["shard"] for s in shards}:
        copies = [s for s in shards if s["shard"] == shard]
        assert sorted(s["prirep"] for s in copies) == ["p", "r"]
        assert len({s["node"] for s in copies}) == 2  # a primary and its replica never share a node


def test_bulk_documents_searchable_with_exact_terms_counts(opensearch, news_index):
    count = ok(opensearch.request("GET", f"/{news_index}/_count"))
    assert count["count"] == len(DOCS)
    # "estimates", "estimated" and "estimations" all stem to "estim"; "estimate" is in 4 titles, 2 of them nrk.no's
    total, sites = search_estimates(opensearch)
    assert (total, sites) == (4, {"nrk.no": 2, "bbc.co.uk": 1, "lemonde.fr": 1})
    # folding at index and query time: "tromso" finds "Tromsø", and the other way round
    for q in ("tromso", "Tromsø"):
        body = ok(opensearch.request("POST", f"/{news_index}/_search", {"query": {"match": {"title": q}}}))
        assert body["hits"]["total"]["value"] == 3
    topics = ok(
        opensearch.request(
            "POST",
            f"/{news_index}/_search",
            {"size": 0, "aggs": {"topics": {"terms": {"field": "topic", "size": 10}}}},
        )
    )["aggregations"]["topics"]
    assert topics["sum_other_doc_count"] == 0
    assert {b["key"]: b["doc_count"] for b in topics["buckets"]} == {"politics": 3, "travel": 2, "sport": 1}


def test_failover_after_a_node_is_killed(opensearch, news_index):
    if opensearch.cluster is None:
        pytest.skip("the cluster was not started by this session (NEWSFACET_OPENSEARCH_URL): not ours to kill")
    cluster = opensearch.cluster
    before = search_estimates(opensearch)
    manager = ok(opensearch.request("GET", "/_cat/cluster_manager?format=json"))[0]["node"]
    # kill the elected cluster manager when it is not the node at cluster.url, so a new one must be elected
    victim = manager if manager != cluster.nodes[0].name else cluster.nodes[1].name
    cluster.kill(victim)
    try:
        health = ok(
            opensearch.request("GET", "/_cluster/health?wait_for_status=yellow&wait_for_nodes=2&timeout=60s"),
        )
        assert not health["timed_out"], health
        assert health["number_of_nodes"] == 2 and health["status"] in ("yellow", "green")
        index_health = ok(opensearch.request("GET", f"/_cluster/health/{news_index}?wait_for_status=yellow"))
        assert index_health["active_primary_shards"] == 3  # replicas promoted where primaries died
        assert search_estimates(opensearch) == before
        new_manager = ok(opensearch.request("GET", "/_cat/cluster_manager?format=json"))[0]["node"]
        assert new_manager != victim
    finally:
        # restore: the session's cluster is whole again for whatever runs after
        cluster.start_node(victim)
        cluster.wait_green()
    assert search_estimates(opensearch) == before
