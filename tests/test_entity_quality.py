"""Entity facets a user can trust on a collection (issue 12), through the CLI and HTTP.

Made-up wire stories in the style of Reuters-21578 carry the junk the issue
found there ("U.S. Dlrs", "MAY7", "Saturday U.S. Officials", "Greenspan I'm",
typo'd titles, one entity under several types); the tests index them with
``newsfacet index`` and read ``newsfacet entities --json``, ``newsfacet clean
--json`` and ``newsfacet search --entity``, and the HTTP API.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

from search.extract.entities import extract_entities
from search.settings import Options
from web.cli import main

from .conftest import make_app

# Each story is a made-up wire item; names recur across stories as they do in
# a real collection.
STORIES = {
    "w01.txt": (
        "Baker says dollar is stable",
        "Treasury Secertary James Baker said on Saturday U.S. Officials would meet. "
        "The bank raised 15 mln U.S. Dlrs and 20 mln N.Z. Dlrs. "
        "Standard and Poor's Corp rated the notes Provisional Aa-3 on MAY7.",
    ),
    "w02.txt": (
        "Treasury plans talks",
        "Treasury Secretary James Baker told reporters the talks were useful. "
        "Baker said the Reagan Administration would not intervene. "
        "General Motors Corp said its sales rose.",
    ),
    "w03.txt": (
        "Reagan signs bill",
        "President Ronald Reagan signed the bill. Reagan said it would help farmers. "
        "Secretary James Baker attended. General Motors said it welcomed the bill.",
    ),
    "w04.txt": (
        "Reagan meets Nakasone",
        "Reagan met Prime Minsiter Yasuhiro Nakasone in Washington. "
        "Nakasone said the talks were frank. Federal Reserve chairman Alan Greenspan I'm told agreed.",
    ),
    "w05.txt": (
        "Japan premier sees trade progress",
        "Prime Minister Yasuhiro Nakasone said Japan would open its markets. "
        "The USSR and the Soviet Union's allies objected, the USDA said.",
    ),
    "w06.txt": (
        "Reagan vetoes plan",
        "On Tuesday, Reagan said the plan cost too much. "
        "The U.S. Agriculture Department said on Friday exports rose.",
    ),
    "w07.txt": (
        "Grain exports rise",
        "Nakasone and Reagan will meet in May. Baker said on Monday the dollar was stable.",
    ),
    "w08.txt": (
        "Rubber closes higher",
        "Rubber was higher at 228 cents per kilo for May Int. Ones RSS buyers were active. "
        "Prime said Prime Medusa software runs on personal computers.",
    ),
    # A wire typo: once "James Herrington" for Energy Secretary John Herrington.
    "w09.txt": (
        "Oil tax break ridiculed",
        "A House taxwriter said Energy Secretary James Herrington's plan was bad tax policy.",
    ),
    "w11.txt": ("Senate debates oil tax", "Senator Joe Herrington of Ohio disagreed with the plan."),
    # Two prime ministers of one surname stay two people.
    "w10.txt": ("India recalls past", "The late Prime Minister Indira Gandhi opened the plant."),
}
for _i in range(11):
    STORIES[f"e{_i:02}.txt"] = (
        "Energy plan",
        f"Energy Secretary John Herrington said on Monday oil imports rose {_i} pct. "
        f"Prime Minister Rajiv Gandhi of India spoke to him. Herrington said the plan would help.",
    )


@pytest.fixture(scope="module")
def wire(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("wire")
    corpus = root / "corpus"
    corpus.mkdir()
    for name, (title, body) in STORIES.items():
        (corpus / name).write_text(f"{title}\n\n{body}\n", encoding="utf-8")
    index = root / "index"
    assert main(["--index", str(index), "index", str(corpus), "--quiet"]) == 0
    return index


def run_json(capsys, *argv):
    capsys.readouterr()
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture(scope="module")
def listing(wire) -> list[dict]:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["--index", str(wire), "entities", "--json"]) == 0
    data = json.loads(out.getvalue())
    return data if isinstance(data, list) else data["entities"]


def test_no_junk_values(listing):
    values = {e["value"] for e in listing}
    for junk in ("U.S. Dlrs", "N.Z. Dlrs", "U.S. Officials", "Saturday U.S. Officials", "and Poor's Corp",
                 "MAY7", "Provisional Aa-3", "Aa-3", "Greenspan I'm", "I'm", "S", "B", "May Int"):
        assert junk not in values, junk
    for value in values:
        words = value.split()
        assert value[:1].isupper() or value[:1].isdigit(), value
        assert words[0].lower() not in {"saturday", "monday", "friday", "may", "and", "of", "the"}, value
        assert words[-1].lower() not in {"dlrs", "dlr", "monday", "friday", "and", "to", "has"}, value


def test_a_value_is_never_under_two_types(listing):
    types = defaultdict(set)
    for e in listing:
        types[e["value"]].add(e["type"])
    assert {v: t for v, t in types.items() if len(t) > 1} == {}


def test_people_are_named_as_best_known_without_titles_or_typos(listing):
    people = {e["value"]: e for e in listing if e["type"] == "person"}
    assert "James Baker" in people and "Yasuhiro Nakasone" in people and "Alan Greenspan" in people
    assert not any("Secertary" in v or "Minsiter" in v or "Secretary" in v for v in people)
    # surname-only mentions join the full name collection-wide
    assert "Baker" not in people and "Nakasone" not in people
    assert "Baker" in people["James Baker"]["spellings"]
    # Reagan, titled or not, is one person: no other value carries his name but the administration
    assert sorted(e["value"] for e in listing if "Reagan" in e["value"]) == ["Reagan Administration", "Ronald Reagan"]
    assert people["Ronald Reagan"]["count"] >= 2


def test_a_name_seen_once_joins_the_person_of_its_surname_initial_and_office(listing):
    people = {e["value"]: e for e in listing if e["type"] == "person"}
    assert "James Herrington" not in people
    assert {"James Herrington", "Herrington"} <= set(people["John Herrington"]["spellings"])
    # Another office (a bare "senator"), another initial: other people.
    assert "Joe Herrington" in people
    assert "Indira Gandhi" in people and "Rajiv Gandhi" in people


def test_a_title_qualifier_starts_no_person(listing):
    assert "Prime Medusa" not in {e["value"] for e in listing if e["type"] == "person"}


def test_a_misnamed_person_in_a_later_run_joins_the_known_one(tmp_path, capsys):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, story in STORIES.items():
        if name.startswith("e"):
            (corpus / name).write_text(f"{story[0]}\n\n{story[1]}\n", encoding="utf-8")
    index = tmp_path / "index"
    assert main(["--index", str(index), "index", str(corpus), "--quiet"]) == 0
    (corpus / "w09.txt").write_text("Oil tax break ridiculed\n\n" + STORIES["w09.txt"][1] + "\n", encoding="utf-8")
    assert main(["--index", str(index), "index", str(corpus), "--quiet"]) == 0
    people = {e["value"]: e for e in run_json(capsys, "--index", str(index), "entities", "--json")
              if e["type"] == "person"}
    assert "James Herrington" not in people and people["John Herrington"]["count"] == 12
    # The misnamed spelling filters as the person it names.
    hits = run_json(capsys, "--index", str(index), "search", "--entity", "James Herrington", "--json")
    assert hits["total"] == 12


def test_org_suffix_forms_and_known_aliases_merge(listing):
    values = {e["value"]: e for e in listing}
    gm = [v for v in values if v.startswith("General Motors")]
    assert len(gm) == 1 and values[gm[0]]["type"] == "org" and values[gm[0]]["count"] == 2
    assert values["Soviet Union"]["type"] == "place" and "USSR" not in values
    usda = [v for v in values if "Agriculture" in v or v == "USDA"]
    assert len(usda) == 1 and values[usda[0]]["count"] == 2
    assert "United States" in values and values["United States"]["type"] == "place"


def test_an_administration_is_not_a_person(listing):
    assert all(e["type"] != "person" for e in listing if e["value"].endswith(("Administration", "government")))


def test_clean_shows_trimmed_spans(tmp_path, capsys):
    page = tmp_path / "story.txt"
    page.write_text(
        "Englishman joins club\n\nEnglishman Mark Cairns beat AC Milan George Weah on Sunday. "
        "Chancellor of the Exchequer Nigel Lawson said on Tuesday U.S. Officials had agreed.\n",
        encoding="utf-8",
    )
    data = run_json(capsys, "clean", str(page), "--json", "--no-context")
    got = {(e["value"], e["type"]) for e in data["entities"]}
    assert ("Mark Cairns", "person") in got and ("George Weah", "person") in got
    assert ("Nigel Lawson", "person") in got and ("United States", "place") in got
    assert not any(v.startswith(("Englishman ", "Exchequer", "Tuesday")) for v, _ in got)
    assert ("Englishman", "other") in got  # a nationality word is an entity of its own


def test_names_are_not_cut_at_their_own_words(tmp_path, capsys):
    """Words that qualify a title are a name's own without one; a month before a name the
    story also uses alone is a date; a company suffix closes "Bank of X Ltd"; a place
    run into a surname the story names in full splits."""
    page = tmp_path / "story.txt"
    page.write_text(
        "Share sale planned\n\nShares in Air New Zealand and First Boston rose, and New England "
        "utilities fell. The Bank of New Zealand Ltd was floated in March. June Comex gold futures "
        "finished higher; Comex volume was light. Agriculture Secretary Richard Lyng declined to "
        "comment. Asked about wheat for the Soviet Union Lyng said it would not be today. "
        "Late Okafor goals won it, and former Ali Bagheri Kani spoke. Moody's Japan K.K. and "
        "Japan's Toyota Motor Corp rated it. Japan September M-2 money supply rose. Indonesian Minister "
        "of Mines and Energy Subroto spoke; Subroto said prices were firm. Grain 13.50 dlrs "
        "end-April/early-May Comanav. Barges April Mid-Mississippi River traded. The May Department "
        "Stores Co said sales rose. The U.S. Said Iranians used the platforms. Prime Minister-designate "
        "Ciriaco De Mita met President-elect Bill Clinton.\n",
        encoding="utf-8",
    )
    data = run_json(capsys, "clean", str(page), "--json", "--no-context")
    values = {e["value"] for e in data["entities"]}
    assert {"Air New Zealand", "First Boston", "New England", "Bank of New Zealand Ltd", "Comex",
            "Richard Lyng", "Soviet Union", "Ali Bagheri Kani", "Moody's Japan K.K.", "Toyota Motor Corp",
            "Japan", "Subroto", "Comanav", "Mid-Mississippi River", "May Department Stores Co",
            "Ciriaco De Mita", "Bill Clinton"} <= values, values
    assert not values & {"Zealand", "Boston", "England", "New Zealand Ltd", "June Comex", "Soviet Union Lyng",
                         "Late Okafor", "Japan K.K.", "Japan's Toyota Motor Corp", "Japan September M-2",
                         "Energy Subroto", "May Comanav", "April Mid-Mississippi River", "Said Iranians",
                         "Prime Minister-designate", "Minister-designate"}


SPORTS = """Baseball results

Results of games played on Thursday (home team in capitals):

DETROIT 4 Kansas City 1

Minnesota 6 MILWAUKEE 1

Standings after Thursday's games, won and lost:

BOSTON 69 65

CLEVELAND 80 53

Boston beat Cleveland 5-3 in the league match, and Agassi beat Sampras in the final after England beat
Pakistan. Somerset 83 and 174 (P. Simmons 4-38). The season's top scorer Jose Canseco hit two homers.
"""


def test_places_that_play_in_a_sports_report_are_teams():
    # The extractor itself, on the article's lines: which lines the cleaner keeps is its own test.
    title, *paragraphs = [line for line in SPORTS.splitlines() if line.strip()]
    got = {e.value: e.type for e in extract_entities(title, paragraphs, Options())}
    for team in ("Detroit", "Kansas City", "Minnesota", "Milwaukee", "Boston", "Cleveland"):
        assert got.get(team) == "org", (team, got)
    # Countries play as themselves; people beat people; an initial and a surname is a person.
    assert got.get("England") == "place" and got.get("Pakistan") == "place"
    assert got.get("Agassi") != "org" and got.get("Sampras") != "org"
    assert got.get("P. Simmons") == "person" and got.get("Jose Canseco") == "person"


def test_places_outside_sports_reports_stay_places(tmp_path, capsys):
    page = tmp_path / "wire.txt"
    page.write_text("Trade talks\n\nOfficials from Boston and Cleveland met in Detroit on Thursday; "
                    "Kansas City sent 4 delegates and Minnesota 6.\n", encoding="utf-8")
    data = run_json(capsys, "clean", str(page), "--json", "--no-context")
    got = {e["value"]: e["type"] for e in data["entities"]}
    assert all(got.get(p) == "place" for p in ("Boston", "Cleveland", "Detroit", "Kansas City", "Minnesota")), got


def test_filter_by_a_merged_spelling_finds_the_canonical_value(wire, listing, capsys):
    baker = next(e for e in listing if e["value"] == "James Baker")
    data = run_json(capsys, "--index", str(wire), "search", "--entity", "Baker", "--json")
    assert data["total"] == baker["count"] >= 3
    selected = [f for f in data["facets"]["entity"] if f.get("selected")]
    assert [(f["value"], f["type"]) for f in selected] == [("James Baker", "person")]
    again = run_json(capsys, "--index", str(wire), "search", "--entity", "James Baker", "--json")
    assert again["total"] == data["total"]


def test_filter_by_a_merged_spelling_over_http(wire, listing, tmp_path):
    baker = next(e for e in listing if e["value"] == "James Baker")
    client = make_app(wire, tmp_path).test_client()
    response = client.get("/api/search", query_string={"entity": "Baker"})
    assert response.status_code == 200
    data = response.get_json()
    assert data["total"] == baker["count"]
    assert [f["value"] for f in data["facets"]["entity"] if f.get("selected")] == ["James Baker"]
