"""Syndicated-copy clusters through the public interface: ``/api/search``, the page, exports, the CLI.

A fixture collection plants one wire story four times — as sent, re-headlined,
re-paragraphed with another byline and a site's boilerplate around it, and
with one word corrected — beside a different story on the same subject (many
of the same words, other sentences) and unrelated stories.  The copies form
one cluster named by its earliest copy; results list the story once and count
stories; ``collapse=off`` and ``cluster=ID`` list the copies; incremental runs
(a new earlier copy, a later copy, an edit that makes a copy another story, a
deletion) keep the clusters a rebuild of the same files gives.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest

from search.api import SearchRequest
from search.ingest import build_index
from search.whoosh_backend.service import WhooshBackend
from web.cli import main

from .conftest import get_json, make_app

STORY = [
    "Port workers in Bergen walked off the job on Monday after talks over night-shift pay collapsed, "
    "leaving container ships waiting outside the harbour for a second day.",
    "The Harbour Workers Union said its members would stay out until the port authority restored the "
    "allowance it cut in March, which the union says costs a crane driver about a tenth of a month's pay.",
    "Port director Ingrid Solheim said the authority had offered to phase the allowance back in over two "
    "years and called the walkout a setback for a port that handles most of western Norway's fruit imports.",
    "Shipping agents said at least eleven vessels had been diverted to Stavanger and Haugesund, where "
    "unloading takes longer and trucks must carry the goods north along the coast road.",
    "The union's leader, Bruno Dahl, told reporters outside the gates that the strike had broad support "
    "and that the workers had waited since spring for an answer that never came.",
    "Mediators from the national labour office are due in Bergen on Wednesday to meet both sides.",
]
# Same subject, many of the same words, other sentences: another story.
OTHER_STORY = [
    "Talks between the Bergen port authority and the Harbour Workers Union resumed on Thursday under a "
    "mediator, three days after the walkout over night-shift pay began.",
    "Ingrid Solheim, the port director, said the two sides had agreed on a timetable for the allowance "
    "but not on back pay, and that ships diverted to Stavanger would return once cranes were running.",
    "Bruno Dahl said the union would put any offer to a vote of its members before ending the strike.",
    "Fruit importers said the delays had already cost them a week of sales in western Norway.",
]
UNRELATED = [
    ("Ferry timetable changes", "2024-05-02", "Fjord Post",
     ["The coastal ferry will stop at Florø twice a day from June, the operator said on Thursday.",
      "Summer sailings to the outer islands start a week earlier than last year."]),
    ("Library reopens after repairs", "2024-05-03", "Fjord Post",
     ["The city library reopened on Friday after eight months of roof repairs costing forty million crowns.",
      "Its reading room now has space for two hundred people and a children's floor."]),
]


def row(title: str, date: str, source: str, paragraphs: list[str]) -> str:
    return json.dumps({"title": title, "date": date, "source": source, "text": "\n\n".join(paragraphs)})


def plant(folder: Path) -> Path:
    """The collection: one file a copy (so editing or deleting one leaves the others' ids alone)."""
    folder.mkdir(parents=True, exist_ok=True)
    copies = {
        "wire.jsonl": row("Bergen port workers strike over pay", "2024-05-06", "Nordic Wire", STORY),
        "reheadlined.jsonl": row("Ships wait as Bergen dockers walk out", "2024-05-07", "Coast Daily", STORY),
        "reworked.jsonl": row(
            "Strike at Bergen port", "2024-05-08", "Bergen Evening",
            ["By Kari Nilsen, staff reporter", " ".join(STORY[:2]), *STORY[2:4], " ".join(STORY[4:]),
             "Subscribe to Bergen Evening for 1 crown a week. Follow us on Facebook."],
        ),
        "corrected.jsonl": row("Bergen port workers strike over pay (corrected)", "2024-05-09", "Nordic Wire",
                               [STORY[0].replace("second day", "second straight day"), *STORY[1:]]),
        "talks.jsonl": row("Bergen port talks resume", "2024-05-09", "Nordic Wire", OTHER_STORY),
    }
    for i, (title, date, source, paragraphs) in enumerate(UNRELATED):
        copies[f"unrelated{i}.jsonl"] = row(title, date, source, paragraphs)
    for name, text in copies.items():
        (folder / name).write_text(text + "\n", encoding="utf-8")
    return folder


COPIES = ["wire.jsonl#1", "reheadlined.jsonl#1", "reworked.jsonl#1", "corrected.jsonl#1"]


def clusters(index_dir: Path) -> dict[str, tuple[str, int]]:
    """Every article's path -> (cluster id as the path of the article it names, cluster size)."""
    with WhooshBackend(index_dir) as service:
        hits = service.search(SearchRequest(per_page=100, collapse="off")).hits
        by_id = {h.id: h.path for h in hits}
        return {h.path: (by_id[h.cluster["id"]], h.cluster["size"]) for h in hits}


@pytest.fixture(scope="module")
def collection(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("syndicated")
    folder = plant(root / "news")
    index_dir = root / "index"
    build_index([folder], index_dir, progress=False)
    return folder, index_dir


@pytest.fixture(scope="module")
def client(collection, tmp_path_factory):
    return make_app(collection[1], tmp_path_factory.mktemp("instance")).test_client()


def test_planted_copies_form_one_cluster_named_by_the_earliest(collection):
    found = clusters(collection[1])
    assert {path: found[path] for path in COPIES} == {path: ("wire.jsonl#1", 4) for path in COPIES}
    others = {path: value for path, value in found.items() if path not in COPIES}
    assert others == {path: (path, 1) for path in ("talks.jsonl#1", "unrelated0.jsonl#1", "unrelated1.jsonl#1")}


def test_results_list_the_story_once_with_its_copies_and_count_stories(client):
    data = get_json(client, "/api/search?q=Bergen+port")
    assert (data["collapsed"], data["total"], data["copies"]) == (True, 2, 5)
    story = next(h for h in data["hits"] if h["path"] == "wire.jsonl#1")
    # The other copies' sources, earliest first, each once (the correction came from the wire again).
    assert story["cluster"] == {"id": story["id"], "size": 4,
                                "sources": ["Coast Daily", "Bergen Evening", "Nordic Wire"]}
    assert [h["path"] for h in data["hits"]].count("talks.jsonl#1") == 1
    # Facets and the timeline count what is listed: stories.
    counts = {f["value"]: f["count"] for f in data["facets"]["entity"]}
    assert counts["Bruno Dahl"] == 2 and counts["Ingrid Solheim"] == 2
    assert sum(f["count"] for f in data["facets"]["date"]) == 2
    assert sum(p["count"] for p in data["timeline"]["periods"]) == 2


def test_collapse_off_lists_and_counts_every_copy(client):
    data = get_json(client, "/api/search?q=Bergen+port&collapse=off&per_page=20")
    assert (data["collapsed"], data["total"], data["copies"]) == (False, 5, 5)
    assert {f["value"]: f["count"] for f in data["facets"]["entity"]}["Bruno Dahl"] == 5
    assert data["query"]["collapse"] == "off"
    assert "collapse=off" in data["links"]["self"]


def wire_hit(client) -> dict:
    return next(h for h in get_json(client, "/api/search?q=Bergen+port")["hits"] if h["path"] == "wire.jsonl#1")


def test_a_cluster_link_lists_its_copies_oldest_first(client):
    story = wire_hit(client)
    data = get_json(client, f"/api/search?cluster={story['cluster']['id']}&sort=oldest&collapse=off")
    assert [h["path"] for h in data["hits"]] == COPIES
    # Collapsed, the cluster is one story; an id without copies is that article alone.
    assert get_json(client, f"/api/search?cluster={story['cluster']['id']}")["total"] == 1
    lone = next(h for h in get_json(client, "/api/search?q=library")["hits"])
    assert [h["id"] for h in get_json(client, f"/api/search?cluster={lone['id']}")["hits"]] == [lone["id"]]


def test_the_page_says_also_in_n_other_copies_and_links_them(client):
    html = client.get("/search?q=Bergen+port").get_data(as_text=True)
    assert "2</span>\n        stories" in html
    story = wire_hit(client)
    assert (f'href="/search?cluster={story["cluster"]["id"]}&amp;sort=oldest&amp;collapse=off">'
            "Also in 3 other copies</a> (Coast Daily, Bergen Evening, Nordic Wire)") in html
    assert '<a href="/search?q=Bergen+port&amp;collapse=off">List every copy</a>' in html
    every = client.get("/search?q=Bergen+port&collapse=off").get_data(as_text=True)
    assert "Also in" not in every and '<a href="/search?q=Bergen+port">Fold copies into their stories</a>' in every


@pytest.mark.parametrize("url", ["/api/search?collapse=maybe", "/api/search?cluster=" + "x" * 300])
def test_bad_collapse_or_cluster_is_a_400_naming_the_choices(client, url):
    data = get_json(client, url, status=400)
    assert data["error"]["parameter"] in ("collapse", "cluster")
    if "collapse" in url:
        assert "on, off" in data["error"]["message"]


def test_exports_carry_the_cluster(client):
    rows = list(csv.DictReader(io.StringIO(client.get("/export.csv?q=Bergen+port&collapse=off")
                                           .get_data(as_text=True))))
    wire = next(r for r in rows if r["path"] == "wire.jsonl#1")
    assert {(r["path"], r["cluster"], r["cluster_size"]) for r in rows if r["path"] in COPIES} == {
        (path, wire["id"], "4") for path in COPIES}
    lines = client.get("/export.jsonl?q=Bergen+port").get_data(as_text=True).splitlines()
    assert sorted(json.loads(line)["cluster"]["size"] for line in lines) == [1, 4]


def test_cli_prints_the_copies_and_lists_a_cluster(collection, capsys):
    index_dir = str(collection[1])
    assert main(["--index", index_dir, "search", "Bergen", "port"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("1-2 of 2 stories (5 articles with their copies, ")
    line = next(x for x in out.splitlines() if "also in" in x)
    cluster = line.split("--cluster ")[1].split()[0]
    assert line == f"  also in 3 other copies: newsfacet search --cluster {cluster} --all-copies"
    assert main(["--index", index_dir, "search", "--cluster", cluster, "--all-copies", "--sort", "oldest"]) == 0
    listed = [x.split(" · ")[-1] for x in capsys.readouterr().out.splitlines() if " · " in x]
    assert listed == COPIES


def test_clusters_stay_right_across_incremental_runs(tmp_path):
    folder = plant(tmp_path / "news")
    index_dir = tmp_path / "index"
    build_index([folder], index_dir, progress=False)
    assert clusters(index_dir)["corrected.jsonl#1"] == ("wire.jsonl#1", 4)

    # A later copy joins; the id stays with the earliest.
    (folder / "late.jsonl").write_text(row("Bergen strike", "2024-05-20", "Late Post", STORY) + "\n")
    build_index([folder], index_dir, progress=False)
    assert clusters(index_dir)["late.jsonl#1"] == ("wire.jsonl#1", 5)
    # An earlier copy joins: it names the cluster now, for every copy.
    (folder / "early.jsonl").write_text(row("Bergen strike", "2024-05-05", "Early Post", STORY) + "\n")
    build_index([folder], index_dir, progress=False)
    found = clusters(index_dir)
    assert {path: found[path] for path in [*COPIES, "late.jsonl#1"]} == {
        path: ("early.jsonl#1", 6) for path in [*COPIES, "late.jsonl#1"]}
    # A copy edited into another story leaves; deleting the earliest moves the id to the next one.
    (folder / "reheadlined.jsonl").write_text(row("Library news", "2024-05-07", "Coast Daily", UNRELATED[1][3]))
    (folder / "early.jsonl").unlink()
    report = build_index([folder], index_dir, progress=False)
    assert (report.added, report.updated, report.removed) == (0, 1, 1)
    found = clusters(index_dir)
    assert found["reheadlined.jsonl#1"] == ("unrelated1.jsonl#1", 2)
    assert {path: found[path] for path in ("wire.jsonl#1", "reworked.jsonl#1", "corrected.jsonl#1", "late.jsonl#1")} \
        == {path: ("wire.jsonl#1", 4) for path in ("wire.jsonl#1", "reworked.jsonl#1", "corrected.jsonl#1",
                                                  "late.jsonl#1")}
    # The same files indexed from scratch give the same clusters.
    fresh = tmp_path / "fresh"
    build_index([folder], fresh, progress=False)
    assert clusters(fresh) == found
    # A run with nothing changed writes nothing.
    again = build_index([folder], index_dir, progress=False)
    assert (again.added, again.updated, again.removed, again.unchanged) == (0, 0, 0, len(found))


def test_a_lost_cluster_state_is_rebuilt_from_the_articles(tmp_path):
    folder = plant(tmp_path / "news")
    index_dir = tmp_path / "index"
    build_index([folder], index_dir, progress=False)
    before = clusters(index_dir)
    (index_dir / "clusters.npz").write_bytes(b"not an archive")
    build_index([folder], index_dir, progress=False)
    assert clusters(index_dir) == before
    (index_dir / "clusters.npz").unlink()
    shutil.copy(folder / "wire.jsonl", folder / "again.jsonl")
    build_index([folder], index_dir, progress=False)
    assert clusters(index_dir)["again.jsonl#1"][1] == 5


def test_appears_with_counts_stories_when_collapsed(client):
    html = client.get("/search?entity=Bruno+Dahl").get_data(as_text=True)
    assert "Of 4 stories in this search without the Bruno Dahl filter, 2 mention Bruno Dahl." in html
    every = client.get("/search?entity=Bruno+Dahl&collapse=off").get_data(as_text=True)
    assert "Of 7 articles in this search without the Bruno Dahl filter, 5 mention Bruno Dahl." in every
