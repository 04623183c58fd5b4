"""``newsfacet migrate --to opensearch``: a Whoosh collection copied to a cluster as stored.

The copy must be what indexing the same files with ``--backend opensearch``
writes, document for document (but when each was indexed, which the copy
keeps from the original), with the indexer's state beside it, so that the
next run over the same folder finds nothing changed.
"""

from __future__ import annotations

import json
import shutil
import uuid

import pytest

from search.api import Settings, open_writer
from search.opensearch_backend.mapping import alias_name
from search.whoosh_backend import schema as S
from search.whoosh_backend.store import CLUSTER_STATE_FILE, ENTITY_STATE_FILE, open_index
from web.cli import main

pytestmark = [pytest.mark.opensearch]

WHEN_INDEXED = (S.INDEXED_AT, S.INDEXED_NUM)


@pytest.fixture
def prefixes(request, opensearch, monkeypatch):
    """Two fresh index prefixes, deleted afterwards; the first is the environment's."""
    names = [f"m-{request.node.name.lower().replace('_', '-')[:30]}-{uuid.uuid4().hex[:6]}-{i}" for i in range(2)]
    monkeypatch.setenv("NEWSFACET_OPENSEARCH_PREFIX", names[0])
    monkeypatch.setenv("NEWSFACET_OPENSEARCH_SHARDS", "3")
    monkeypatch.setenv("NEWSFACET_OPENSEARCH_REPLICAS", "1")
    yield names
    for name in names:
        opensearch.drop_prefix(name)


@pytest.fixture
def corpus(sites_dir, tmp_path):
    dst = tmp_path / "sites"
    shutil.copytree(sites_dir, dst)
    return dst


def sources(opensearch, prefix: str) -> dict[str, dict]:
    body = opensearch.expect("POST", f"/{alias_name(prefix)}/_search", {"size": 1000, "query": {"match_all": {}}})
    return {h["_id"]: h["_source"] for h in body["hits"]["hits"]}


def whoosh_stored(index_dir) -> dict[str, dict]:
    ix = open_index(index_dir)
    try:
        with ix.searcher() as s:
            return {f[S.ID]: dict(f) for f in s.all_stored_fields()}
    finally:
        ix.close()


def test_migrated_collection_is_what_indexing_writes(opensearch, prefixes, corpus, tmp_path, capsys,
                                                     monkeypatch):
    index_dir = tmp_path / "ix"
    assert main(["index", "--index", str(index_dir), "--quiet", str(corpus)]) == 0
    capsys.readouterr()
    assert main(["migrate", "--to", "opensearch", "--index", str(index_dir), "--opensearch-url", opensearch.url,
                 "--quiet"]) == 0
    out = capsys.readouterr().out
    stored = whoosh_stored(index_dir)
    n = len(stored)
    assert f"{n:,} articles copied" in out and "the same count on both sides" in out, out
    copied = sources(opensearch, prefixes[0])
    assert set(copied) == set(stored)
    for aid, doc in copied.items():
        assert doc[S.INDEXED_AT] == stored[aid][S.INDEXED_AT]
        assert doc[S.INDEXED_NUM] == stored[aid][S.INDEXED_NUM]

    monkeypatch.setenv("NEWSFACET_OPENSEARCH_PREFIX", prefixes[1])
    assert main(["index", "--backend", "opensearch", "--opensearch-url", opensearch.url, "--quiet",
                 str(corpus)]) == 0
    direct = sources(opensearch, prefixes[1])

    def strip(docs):
        return {aid: {k: v for k, v in doc.items() if k not in WHEN_INDEXED} for aid, doc in docs.items()}

    assert strip(copied) == strip(direct)
    # The indexer's state went across as the Whoosh index kept it.
    writer = open_writer(Settings(backend="opensearch", opensearch_url=opensearch.url,
                                  opensearch_prefix=prefixes[0]))
    try:
        assert writer.entity_state() == json.loads((index_dir / ENTITY_STATE_FILE).read_text(encoding="utf-8"))
        assert writer.cluster_state() == (index_dir / CLUSTER_STATE_FILE).read_bytes()
    finally:
        writer.abort()


def test_index_after_migrate_finds_nothing_changed(opensearch, prefixes, corpus, tmp_path, capsys):
    index_dir = tmp_path / "ix"
    assert main(["index", "--index", str(index_dir), "--quiet", str(corpus)]) == 0
    total = len(whoosh_stored(index_dir))
    assert main(["migrate", "--to", "opensearch", "--index", str(index_dir), "--opensearch-url", opensearch.url,
                 "--quiet"]) == 0
    capsys.readouterr()
    assert main(["index", "--backend", "opensearch", "--opensearch-url", opensearch.url, "--quiet",
                 str(corpus)]) == 0
    out = capsys.readouterr().out
    assert f"0 added, 0 updated, {total} unchanged, 0 removed" in out, out
    # A changed file after the migration is re-indexed, and only it.
    changed = sorted(p for p in corpus.rglob("*.html"))[0]
    changed.write_text(changed.read_text(encoding="utf-8").replace("</p>", " An added sentence.</p>", 1),
                       encoding="utf-8")
    assert main(["index", "--backend", "opensearch", "--opensearch-url", opensearch.url, "--quiet",
                 str(corpus)]) == 0
    out = capsys.readouterr().out
    assert f"0 added, 1 updated, {total - 1} unchanged, 0 removed" in out, out


def test_migrate_replaces_what_the_target_held(opensearch, prefixes, corpus, seeds_dir, tmp_path, capsys):
    assert main(["index", "--backend", "opensearch", "--opensearch-url", opensearch.url, "--quiet",
                 str(seeds_dir)]) == 0
    seeds = set(sources(opensearch, prefixes[0]))
    index_dir = tmp_path / "ix"
    assert main(["index", "--index", str(index_dir), "--quiet", str(corpus)]) == 0
    assert main(["migrate", "--to", "opensearch", "--index", str(index_dir), "--opensearch-url", opensearch.url,
                 "--quiet"]) == 0
    after = set(sources(opensearch, prefixes[0]))
    assert after == set(whoosh_stored(index_dir))
    assert not after & seeds
