"""Entity resolution during a run: full rebuilds on a geometric schedule, the same end state.

:meth:`EntityResolver.settle` rebuilds every cluster only once the names known
have grown by ``REBUILD_GROWTH`` (one rebuild per batch made long runs
quadratic); names first seen in between get a provisional cluster.  Whatever
the schedule, the collection ends the same: the state, each article's entities
and the facets of an index built through ``newsfacet index``.
"""

from __future__ import annotations

import json
import random

import pytest

from search import ingest
from search import resolution as R
from search.aliases import load_aliases
from search.document import Entity
from search.resolution import EntityResolver
from search.whoosh_backend.writer import WhooshWriter
from web.cli import main

from .conftest import get_json, make_app

FIRST = ["Ronald", "Nancy", "James", "John", "Margaret", "Helmut", "Yasuhiro", "Paul", "Karl", "Maria"]
LAST = ["Reagan", "Baker", "Herrington", "Thatcher", "Kohl", "Nakasone", "Volcker", "Otto Poehl", "Regan", "Lopez"]
ORGS = ["Federal Reserve", "Bank of Japan", "Exxon Corp", "Exxon", "OPEC", "Texaco Inc", "General Motors"]
PLACES = ["Japan", "West Germany", "Tokyo", "Brazil", "Kuwait", "New Zealand"]


def documents(n: int, seed: int = 3) -> list[list[Entity]]:
    """Entity lists in the shapes that make resolution move: surnames before and
    after their full names, new names arriving all along, rare typos."""
    rng = random.Random(seed)
    docs = []
    for i in range(n):
        ents = []
        for _ in range(rng.randint(1, 5)):
            last = rng.choice(LAST)
            kind = rng.random()
            if kind < 0.35:
                ents.append(Entity(f"{rng.choice(FIRST)} {last}", "person"))
            elif kind < 0.55:
                ents.append(Entity(last, "person"))
            elif kind < 0.75:
                ents.append(Entity(rng.choice(ORGS), "org"))
            elif kind < 0.9:
                ents.append(Entity(rng.choice(PLACES), "place"))
            else:  # a name new to the collection, as every batch of real news brings
                ents.append(Entity(f"{rng.choice(FIRST)} Newname{i}", "person"))
        docs.append(ents)
    return docs


def run(docs: list[list[Entity]], batch: int) -> tuple[EntityResolver, list[list[Entity]]]:
    """What ingest does: observe and settle each batch, resolve it; then prime over all."""
    resolver = EntityResolver(load_aliases(None))
    written = []
    for start in range(0, len(docs), batch):
        chunk = docs[start:start + batch]
        for ents in chunk:
            resolver.observe(ents)
        resolver.settle()
        written.extend(resolver.resolve(ents) for ents in chunk)
    resolver.prime(docs)
    return resolver, written


def public(entities: list[Entity]) -> list[tuple[str, str]]:
    return sorted((e.value, e.type) for e in entities)


def test_any_schedule_ends_in_the_same_state_and_entities(monkeypatch):
    docs = documents(3000)
    monkeypatch.setattr(R, "REBUILD_GROWTH", 1.0)  # a full rebuild at every batch
    every, _ = run(docs, 50)
    monkeypatch.setattr(R, "REBUILD_GROWTH", 1.5)
    geometric, provisional = run(docs, 50)
    assert geometric.state() == every.state()
    assert [public(geometric.resolve(d)) for d in docs] == [public(every.resolve(d)) for d in docs]
    # Mid-run, every name of every article got a cluster: none was dropped.
    assert all(written for written, ents in zip(provisional, docs, strict=True) if ents)


def test_rebuilds_grow_geometrically_not_with_the_batches(monkeypatch):
    calls = []
    original = EntityResolver._rebuild
    monkeypatch.setattr(EntityResolver, "_rebuild", lambda self: (calls.append(1), original(self))[1])
    run(documents(6000), 20)  # 300 batches, each bringing new names
    geometric = len(calls)
    calls.clear()
    monkeypatch.setattr(R, "REBUILD_GROWTH", 1.0)
    run(documents(6000), 20)
    assert len(calls) > 250
    assert geometric < 25


def test_a_name_first_seen_between_rebuilds_resolves_at_once():
    resolver = EntityResolver(load_aliases(None))
    for _ in range(20):
        resolver.observe([Entity("Ronald Reagan", "person"), *(Entity(p, "place") for p in PLACES),
                          *(Entity(o, "org") for o in ORGS[:3])])
    resolver.settle()  # the first settle is a full rebuild
    resolver.observe([Entity("Reagan", "person"), Entity("Kuwait Oil Co", "org")])
    rebuilt = resolver._rebuilt_names
    resolver.settle()  # 2 new names on 10: below the growth factor, provisional
    assert resolver._rebuilt_names == rebuilt
    got = public(resolver.resolve([Entity("Reagan", "person"), Entity("Kuwait Oil Co", "org")]))
    assert got == [("Kuwait Oil Co", "org"), ("Reagan", "person")]
    # The exact answer (a full rebuild) joins the surname to the full name.
    resolver.prime([])
    assert public(resolver.resolve([Entity("Reagan", "person")])) == [("Ronald Reagan", "person")]
    assert resolver.canonical("Reagan") == "Ronald Reagan"


@pytest.fixture
def corpus(tmp_path):
    rng = random.Random(5)
    folder = tmp_path / "wire"
    folder.mkdir()
    rows = []
    for i, ents in enumerate(documents(600, seed=9)):
        names = [e.value for e in ents]
        body = (f"Story {i}. " + " ".join(f"{name} said on Tuesday that talks went on." for name in names)
                + " " + " ".join(rng.choice(["Markets rose.", "Prices fell.", "Trade slowed."]) for _ in range(3)))
        rows.append(json.dumps({"title": f"Report {i} on {names[0]}", "text": body, "date": "1987-03-02"}))
    (folder / "wire.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return folder


def test_newsfacet_index_gives_the_same_collection_under_either_schedule(corpus, tmp_path, monkeypatch):
    monkeypatch.setattr(ingest, "BATCH_SIZE", 40)  # 15 batches
    rewritten: list[int] = []
    original = WhooshWriter.update_entities
    monkeypatch.setattr(WhooshWriter, "update_entities",
                        lambda self, moved, clusters=None: (rewritten.append(len(moved)),
                                                            original(self, moved, clusters))[1])
    built = {}
    for growth in (1.0, 1.5):
        monkeypatch.setattr(R, "REBUILD_GROWTH", growth)
        index_dir = tmp_path / f"index-{growth}"
        assert main(["--index", str(index_dir), "index", str(corpus), "--quiet", "--procs", "1"]) == 0
        client = make_app(index_dir, tmp_path / f"instance-{growth}").test_client()
        facets = get_json(client, "/api/search?facet_limit=200&collapse=off")["facets"]
        articles = [get_json(client, f"/api/search?q=report+{i}&collapse=off")["hits"][0]["entities"]
                    for i in (0, 77, 311, 599)]
        built[growth] = (facets, articles, (index_dir / "entities.json").read_bytes())
    assert built[1.0] == built[1.5]
    # The provisional clusters were wrong for some articles, and put right at the end.
    assert len(rewritten) == 2 and rewritten[1] > 0
    assert {"Otto Poehl", "Federal Reserve", "Kuwait"} <= {f["value"] for f in built[1.5][0]["entity"]}
