"""The OpenSearch writer on the real cluster: ``newsfacet index --backend opensearch`` end to end,
and the writer API where a moment between two calls matters (a rebuild before its swap, an abort).

Each test has its own index prefix (``w-<test>-<random>``) and deletes its
indexes and template at the end.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from search.api import Settings, index_exists, open_writer
from search.document import Article, Entity
from search.opensearch_backend import analysis
from search.opensearch_backend import writer as W
from search.opensearch_backend.mapping import MAPPING_VERSION, alias_name, meta_index_name
from search.whoosh_backend import schema as S
from search.whoosh_backend.store import open_index
from web.cli import main

pytestmark = [pytest.mark.opensearch]


def ok(response, *codes):
    code, body = response
    assert code in (codes or (200,)), f"HTTP {code}: {json.dumps(body)[:2000]}"
    return body


@pytest.fixture
def prefix(request, opensearch, monkeypatch):
    name = f"w-{request.node.name.lower().replace('_', '-')[:40]}-{uuid.uuid4().hex[:6]}"
    name = "".join(c if c.isalnum() or c == "-" else "-" for c in name)
    monkeypatch.setenv("NEWSFACET_OPENSEARCH_PREFIX", name)
    yield name
    opensearch.drop_prefix(name)


@pytest.fixture
def corpus(seeds_dir, tmp_path) -> Path:
    dst = tmp_path / "seeds"
    shutil.copytree(seeds_dir, dst)
    return dst


def settings_for(opensearch, prefix: str) -> Settings:
    return Settings(backend="opensearch", opensearch_url=opensearch.url, opensearch_prefix=prefix)


def index_cli(opensearch, *args) -> int:
    return main(["index", "--backend", "opensearch", "--opensearch-url", opensearch.url, "--quiet", *map(str, args)])


def alias_target(opensearch, prefix: str) -> str:
    targets = ok(opensearch.request("GET", f"/_alias/{alias_name(prefix)}"))
    assert len(targets) == 1, targets
    return next(iter(targets))


def sources(opensearch, prefix: str) -> dict[str, dict]:
    body = ok(opensearch.request("POST", f"/{alias_name(prefix)}/_search",
                                 {"size": 1000, "query": {"match_all": {}}}))
    return {h["_id"]: h["_source"] for h in body["hits"]["hits"]}


def indexing_total(opensearch, index: str) -> int:
    stats = ok(opensearch.request("GET", f"/{index}/_stats/indexing"))
    return stats["_all"]["primaries"]["indexing"]["index_total"]


def article(aid: str, text: str) -> Article:
    return Article(id=aid, path=f"{aid}.txt", title=f"Title of {aid}", body=text)


def test_seeds_index_with_three_shards_one_replica_and_the_whoosh_fields(opensearch, prefix, seeds_dir, seed_index,
                                                                         capsys):
    assert index_cli(opensearch, seeds_dir) == 0
    assert "0 failed" in capsys.readouterr().out
    concrete = alias_target(opensearch, prefix)
    assert concrete.startswith(f"{prefix}-articles-")
    index_settings = ok(opensearch.request("GET", f"/{concrete}/_settings"))[concrete]["settings"]["index"]
    assert (index_settings["number_of_shards"], index_settings["number_of_replicas"]) == ("3", "1")
    assert "refresh_interval" not in index_settings  # -1 during the run, the default again after it
    assert set(index_settings["analysis"]["analyzer"]) >= {analysis.TEXT_ANALYZER, analysis.WORDS_ANALYZER}
    health = ok(opensearch.request("GET", f"/_cluster/health/{concrete}?wait_for_status=green&timeout=60s"))
    assert health["status"] == "green" and health["active_shards"] == 6

    mappings = ok(opensearch.request("GET", f"/{concrete}/_mapping"))[concrete]["mappings"]
    assert mappings["dynamic"] == "strict" and mappings["_meta"]["newsfacet_mapping"] == MAPPING_VERSION
    props = mappings["properties"]
    for name in (S.ID, S.PATH, S.ROOT, S.SOURCE, S.CONTENT_HASH, S.DATE, S.DATE_PRECISION, S.CLUSTER,
                 S.DATE_PATH, S.ENTITY):
        assert props[name] == {"type": "keyword"}, name
    assert props[S.TITLE]["analyzer"] == props[S.BODY]["analyzer"] == analysis.TEXT_ANALYZER
    assert props[S.BODY]["term_vector"] == "with_positions_offsets"
    assert props[S.WORDS]["analyzer"] == analysis.WORDS_ANALYZER
    assert (props[S.DATE_NUM]["type"], props[S.INDEXED_NUM]["type"]) == ("integer", "long")
    for name in (S.URL, S.ENTITIES, S.RAW_ENTITIES, S.CAPTIONS, S.DATELINE, S.META, S.DROPPED,
                 S.DATE_EVIDENCE, S.INDEXED_AT):
        assert props[name]["index"] is False, name

    # The same articles as the Whoosh index of the same folder, each stored field the same value.
    docs = sources(opensearch, prefix)
    ix = open_index(seed_index)
    with ix.searcher() as s:
        stored = {f[S.ID]: f for f in s.all_stored_fields()}
    assert ok(opensearch.request("GET", f"/{alias_name(prefix)}/_count"))["count"] == len(stored) == len(docs)
    assert set(docs) == set(stored)
    for aid, fields_ in stored.items():
        src = docs[aid]
        for name, value in fields_.items():
            if name in (S.INDEXED_AT, S.INDEXED_NUM):
                continue
            assert src.get(name, "") == value, (aid, name)
        assert src[S.DATE_PATH] == S.date_path_terms(fields_.get(S.DATE) or None)
        assert src[S.DATE_NUM] == S.date_num(fields_.get(S.DATE) or None)
        entities = json.loads(fields_[S.ENTITIES])
        assert src[S.ENTITY] == sorted({S.entity_term(e["value"], e["type"]) for e in entities})
    assert index_exists(settings_for(opensearch, prefix))


def test_second_run_sends_nothing(opensearch, prefix, corpus, capsys):
    assert index_cli(opensearch, corpus) == 0
    concrete = alias_target(opensearch, prefix)
    before_total = indexing_total(opensearch, concrete)
    before = sources(opensearch, prefix)
    capsys.readouterr()
    assert index_cli(opensearch, corpus) == 0
    assert capsys.readouterr().out.startswith(f"0 added, 0 updated, {len(before)} unchanged, 0 removed")
    assert alias_target(opensearch, prefix) == concrete
    assert indexing_total(opensearch, concrete) == before_total
    assert sources(opensearch, prefix) == before


def test_changed_file_reindexed_and_removed_file_deleted(opensearch, prefix, corpus, capsys):
    assert index_cli(opensearch, corpus) == 0
    before = sources(opensearch, prefix)
    by_path = {src[S.PATH]: aid for aid, src in before.items()}
    files = sorted(corpus.iterdir())
    changed, removed = files[1], files[2]
    with changed.open("a", encoding="utf-8") as f:
        f.write("\nA quokka sanctuary opened on Rottnest Island on Tuesday.\n")
    removed.unlink()
    capsys.readouterr()
    assert index_cli(opensearch, corpus) == 0
    out = capsys.readouterr().out
    assert ", 1 removed, 0 failed" in out
    after = sources(opensearch, prefix)
    assert by_path[removed.name] not in after
    assert set(after) == set(before) - {by_path[removed.name]}
    fresh = after[by_path[changed.name]]
    assert "quokka" in fresh[S.BODY]
    assert fresh[S.CONTENT_HASH] != before[by_path[changed.name]][S.CONTENT_HASH]
    hits = ok(opensearch.request("POST", f"/{alias_name(prefix)}/_search",
                                 {"query": {"term": {S.BODY: "sanctuari"}}}))["hits"]["hits"]  # Porter2 stem
    assert [h["_id"] for h in hits] == [by_path[changed.name]]
    untouched = by_path[files[0].name]
    assert after[untouched][S.INDEXED_NUM] == before[untouched][S.INDEXED_NUM]


def test_rebuild_swaps_the_alias_and_drops_the_old_index(opensearch, prefix, corpus, capsys):
    assert index_cli(opensearch, corpus) == 0
    old = alias_target(opensearch, prefix)
    count = len(sources(opensearch, prefix))
    assert index_cli(opensearch, corpus, "--rebuild") == 0
    new = alias_target(opensearch, prefix)
    assert new != old
    assert opensearch.request("HEAD", f"/{old}")[0] == 404
    assert len(sources(opensearch, prefix)) == count


def test_searches_see_the_old_index_until_the_rebuild_commits(opensearch, prefix, corpus, monkeypatch):
    assert index_cli(opensearch, corpus) == 0
    old = alias_target(opensearch, prefix)
    before = sources(opensearch, prefix)
    monkeypatch.setattr(W.OpenSearchWriter, "batch_docs", 1)  # every add goes out at once
    settings = settings_for(opensearch, prefix)
    writer = open_writer(settings, rebuild=True)
    writer.add(article("w-rebuilt", "Only the rebuilt index has this zebra."), [], [Entity("Zebra", "other")],
               "/nowhere", "hash-1")
    writer._drain()  # batches go out from a thread beside the indexer: wait until this one has
    ok(opensearch.request("POST", f"/{writer.index}/_refresh"))
    assert ok(opensearch.request("GET", f"/{writer.index}/_count"))["count"] == 1  # it is written ...
    assert alias_target(opensearch, prefix) == old  # ... but the alias still reads the old index
    assert sources(opensearch, prefix) == before
    writer.commit(1)
    assert alias_target(opensearch, prefix) == writer.index
    assert opensearch.request("HEAD", f"/{old}")[0] == 404
    assert list(sources(opensearch, prefix)) == ["w-rebuilt"]
    assert sources(opensearch, prefix)["w-rebuilt"][S.ENTITY] == ["other:Zebra"]
    assert writer.count() == 1


def test_abort_leaves_the_last_commit(opensearch, prefix, corpus):
    assert index_cli(opensearch, corpus) == 0
    old = alias_target(opensearch, prefix)
    before = sources(opensearch, prefix)
    settings = settings_for(opensearch, prefix)
    victim = sorted(before)[0]

    rebuild = open_writer(settings, rebuild=True)
    rebuild.batch_docs = 1
    rebuild.add(article("w-new", "Never committed."), [], [], "/nowhere", "h")
    rebuild.abort()
    assert opensearch.request("HEAD", f"/{rebuild.index}")[0] == 404
    assert alias_target(opensearch, prefix) == old

    # An incremental run writes nothing into the live index before its commit: even a
    # refresh (or a shard recovery, or a realtime get) shows none of an aborted run.
    update = open_writer(settings)
    assert update.index == old
    update.batch_docs = 1
    update.add(article("w-new", "Never committed either."), [], [], "/nowhere", "h")
    update.delete(victim)
    update.abort()
    ok(opensearch.request("POST", f"/{old}/_refresh"))
    assert opensearch.request("GET", f"/{old}/_doc/w-new")[0] == 404
    assert sources(opensearch, prefix) == before
    # The lock went with the abort: the next run starts at once.
    open_writer(settings).abort()


def test_a_second_indexer_is_refused_while_one_runs(opensearch, prefix, corpus, capsys):
    assert index_cli(opensearch, corpus) == 0
    settings = settings_for(opensearch, prefix)
    first = open_writer(settings)
    try:
        capsys.readouterr()
        assert index_cli(opensearch, corpus, "--rebuild") == 2
        assert "another 'newsfacet index' is writing" in capsys.readouterr().err
    finally:
        first.abort()
    assert index_cli(opensearch, corpus, "--rebuild") == 0


def _inject_bad_field(victim_path: str, monkeypatch):
    """Every document of *victim_path* gets a field the strict mapping refuses."""
    queue = W.OpenSearchWriter._queue

    def _queue(self, article_id, payload):
        if f'"{S.PATH}":"{victim_path}"'.encode() in payload:
            payload = payload.replace(b'{"id":', b'{"not_a_field":1,"id":', 1)
        return queue(self, article_id, payload)

    monkeypatch.setattr(W.OpenSearchWriter, "_queue", _queue)


def test_a_refused_article_is_reported_by_id_and_the_run_abandoned(opensearch, prefix, corpus, capsys, monkeypatch):
    assert index_cli(opensearch, corpus) == 0
    old = alias_target(opensearch, prefix)
    before = sources(opensearch, prefix)
    victim_path = sorted(src[S.PATH] for src in before.values())[1]
    victim = next(aid for aid, src in before.items() if src[S.PATH] == victim_path)
    with monkeypatch.context() as patched:
        _inject_bad_field(victim_path, patched)
        patched.setattr(W.OpenSearchWriter, "batch_docs", 2)
        capsys.readouterr()
        assert index_cli(opensearch, corpus, "--rebuild") == 2
        err = capsys.readouterr().err
        assert victim in err and "strict_dynamic_mapping_exception" in err and "not_a_field" in err
        # The rebuild's index is gone, the alias and every article as they were.
        assert alias_target(opensearch, prefix) == old
        assert sources(opensearch, prefix) == before
        listed = ok(opensearch.request("GET", f"/_cat/indices/{prefix}-articles-*?format=json"))
        assert [row["index"] for row in listed] == [old]

        # An incremental run re-sending it (its file changed) reports it too; fixed, the next run indexes it.
        with (corpus / victim_path).open("a", encoding="utf-8") as f:
            f.write("\nThe okapi census ended on Friday.\n")
        capsys.readouterr()
        assert index_cli(opensearch, corpus) == 2
        assert victim in capsys.readouterr().err
    assert index_cli(opensearch, corpus) == 0
    assert "okapi" in sources(opensearch, prefix)[victim][S.BODY]


def test_transient_refusals_are_retried_until_written(opensearch, prefix, monkeypatch):
    from opensearchpy.exceptions import TransportError

    settings = settings_for(opensearch, prefix)
    writer = open_writer(settings)
    writer.retry_first_delay = 0.01
    writer.batch_docs = 3
    real_bulk = writer.client.bulk
    calls = {"n": 0}

    def flaky_bulk(**kwargs):
        calls["n"] += 1
        if calls["n"] == 1:  # the whole request pushed back
            raise TransportError(429, "es_rejected_execution_exception", {})
        response = real_bulk(**kwargs)
        if calls["n"] == 2:  # one item pushed back (it was written: the retry writes it again)
            item = response["items"][1]["index"]
            item["status"], item["error"] = 429, {"type": "es_rejected_execution_exception", "reason": "queue full"}
            response["errors"] = True
        return response

    monkeypatch.setattr(writer.client, "bulk", flaky_bulk)
    for i in range(7):
        writer.add(article(f"w-{i}", f"Article number {i}."), [], [], "/nowhere", f"h{i}")
    writer.commit(7)
    assert calls["n"] >= 5  # 429, 200 with a 429 item, its retry, then the other batches
    assert writer.count() == 7
    assert sorted(sources(opensearch, prefix)) == [f"w-{i}" for i in range(7)]
    state = ok(opensearch.request("GET", f"/{meta_index_name(prefix)}/_doc/lock"), 404)
    assert state["found"] is False  # count() ended the run: the lock is gone


def test_state_blobs_round_trip_in_parts(opensearch, prefix, monkeypatch):
    monkeypatch.setattr(W, "BLOB_PART_BYTES", 1000)
    settings = settings_for(opensearch, prefix)
    writer = open_writer(settings)
    writer.add(article("w-1", "One."), [], [], "/nowhere", "h")
    writer.commit(1)
    blob = bytes(range(256)) * 20  # 5 parts
    state = {"names": ["Tromsø", "Zürich"] * 300}
    writer.save_cluster_state(blob)
    writer.save_entity_state(state)
    writer.save_run_stamps({"k": {"stamp": "s", "articles": 1, "failed": []}})
    writer.save_cluster_state(blob[::-1])  # replaced: the old parts go
    writer.count()
    again = open_writer(settings)
    try:
        assert again.cluster_state() == blob[::-1]
        assert again.entity_state() == state
        assert again.run_stamps() == {"k": {"stamp": "s", "articles": 1, "failed": []}}
    finally:
        again.abort()
    ok(opensearch.request("POST", f"/{meta_index_name(prefix)}/_refresh"))
    parts = ok(opensearch.request("POST", f"/{meta_index_name(prefix)}/_search",
                                  {"size": 100, "query": {"match_all": {}}, "_source": False}))["hits"]["hits"]
    cluster_parts = [h["_id"] for h in parts if h["_id"].startswith("cluster_state@")]
    assert len(cluster_parts) == 6  # 5120 bytes in 1000-byte parts: only the current version's


def test_unreachable_cluster_is_one_line(prefix, corpus, capsys):
    assert main(["index", "--backend", "opensearch", "--opensearch-url", "http://127.0.0.1:9", "--quiet",
                 str(corpus)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("newsfacet: error: cannot reach OpenSearch at http://127.0.0.1:9")
    assert "Traceback" not in err


def test_a_dead_indexers_lock_and_index_are_cleared_by_the_next_run(opensearch, prefix, corpus):
    assert index_cli(opensearch, corpus) == 0
    live = alias_target(opensearch, prefix)
    settings = settings_for(opensearch, prefix)
    # What a rebuild killed with SIGKILL leaves: its lock (its process gone) and its new index.
    killed = open_writer(settings, rebuild=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    held = ok(opensearch.request("GET", f"/{meta_index_name(prefix)}/_doc/lock"))["_source"]
    info = json.loads(base64.b64decode(held["data"]))
    info["pid"] = int(dead.stdout)
    held["data"] = base64.b64encode(json.dumps(info).encode()).decode()
    ok(opensearch.request("PUT", f"/{meta_index_name(prefix)}/_doc/lock?refresh=true", held), 200, 201)
    orphan = killed.index
    assert opensearch.request("HEAD", f"/{orphan}")[0] == 200
    assert index_cli(opensearch, corpus, "--rebuild") == 0
    assert opensearch.request("HEAD", f"/{orphan}")[0] == 404
    listed = ok(opensearch.request("GET", f"/_cat/indices/{prefix}-articles-*?format=json"))
    assert [row["index"] for row in listed] == [alias_target(opensearch, prefix)] != [live]


@pytest.mark.parametrize("run", ["new index", "incremental"])
def test_actions_reach_the_index_in_the_order_given(opensearch, prefix, run):
    settings = settings_for(opensearch, prefix)
    if run == "incremental":
        first = open_writer(settings)
        first.add(article("w-2", "Present before the run."), [], [], "/nowhere", "h")
        first.commit(1)
        first.count()
    writer = open_writer(settings)
    assert writer.fresh is (run == "new index")
    writer.batch_docs = 1  # one bulk request per action, sent by the writer's thread
    writer.add(article("w-1", "First version."), [], [], "/nowhere", "h1")
    writer.delete("w-1")
    writer.add(article("w-2", "Replaced."), [], [], "/nowhere", "h2")
    writer.add(article("w-1", "Second version."), [], [], "/nowhere", "h3")
    writer.delete("w-2")
    writer.add(article("w-3", "Third."), [], [], "/nowhere", "h4")
    writer.commit(6)
    assert writer.count() == 2
    docs = sources(opensearch, prefix)
    assert sorted(docs) == ["w-1", "w-3"] and docs["w-1"][S.BODY] == "Second version."


def test_update_entities_rewrites_entities_and_clusters_only(opensearch, prefix):
    settings = settings_for(opensearch, prefix)
    writer = open_writer(settings)
    writer.add(article("w-1", "Putin spoke."), [Entity("Putin", "person")], [Entity("Putin", "person")],
               "/nowhere", "h1", cluster="w-1")
    writer.add(article("w-2", "Copy."), [], [], "/nowhere", "h2", cluster="w-1")
    writer.commit(2)
    before = sources(opensearch, prefix)
    moved = {"w-1": [Entity("Vladimir Putin", "person")], "w-gone": [Entity("X", "org")]}
    assert writer.update_entities(moved, {"w-2": "", "w-1": ""}) == 2  # w-gone is not there: skipped
    after = sources(opensearch, prefix)
    assert after["w-1"][S.ENTITY] == ["person:Vladimir Putin"]
    assert json.loads(after["w-1"][S.ENTITIES])[0]["value"] == "Vladimir Putin"
    assert after["w-1"][S.RAW_ENTITIES] == before["w-1"][S.RAW_ENTITIES]  # as extracted: untouched
    assert not after["w-1"].get(S.CLUSTER) and not after["w-2"].get(S.CLUSTER)
    assert after["w-2"][S.ENTITIES] == before["w-2"][S.ENTITIES]
    hits = ok(opensearch.request("POST", f"/{alias_name(prefix)}/_search",
                                 {"query": {"exists": {"field": S.CLUSTER}}}))["hits"]["hits"]
    assert hits == []
    hits = ok(opensearch.request("POST", f"/{alias_name(prefix)}/_search",
                                 {"query": {"term": {S.ENTITY: "person:Vladimir Putin"}}}))["hits"]["hits"]
    assert [h["_id"] for h in hits] == ["w-1"]
    writer.count()
