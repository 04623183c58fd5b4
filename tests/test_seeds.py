"""The five sample scrapes, indexed end to end and searched through the query service.

What the test knows about each seed (its boilerplate lines, its people) is
written here by hand from reading the files; the product knows none of it.
"""

from __future__ import annotations

import re

import pytest

from search.api import SearchRequest
from search.textnorm import normalize_text
from search.whoosh_backend.schema import TOKEN_PATTERN

from .conftest import SEEDS

SEED_FILES = sorted(p.name for p in SEEDS.glob("*.txt"))

# Lines of each seed that are site furniture, not article.
BOILERPLATE = {
    "000_4e1852c0d95101e1.txt": [
        "Middle East",
        "READ: Russia warns Israel against supplying Ukraine with defensive gear",
        "Leave a Reply",
        "Your email address will not be published.",
        "Related Articles",
        "Back to top button",
        "WordPress Ads",
    ],
    "001_e5d5862b3fed93d4.txt": [
        "Creating new perspectives since 2009",
        "READ: Saudi Arabia says ongoing Israeli military operations threaten regional security",
    ],
    "002_3019ca12e349c566.txt": ["Advertisement", "Add a comment"],
    "003_9702e96eff6568ce.txt": ["Share it...", "Leave a Reply"],
    "004_4c9df461499d11da.txt": ["Similar Posts"],
}
# Lines that are metadata (date stamps, captions): out of the body, not asserted either way.
METADATA = {
    "001_e5d5862b3fed93d4.txt": [
        "June 25, 2024 at 10:11 am",
        "Senior Hamas leader Mousa Abu Marzook, on 14 May 2018 [Reuters/Mohammed Salem]",
    ],
}
# person -> (surname as written somewhere, expected number of seeds mentioning them)
PEOPLE = {
    "Ismail Haniyeh": ("Haniyeh", 2),
    "Sergey Lavrov": ("Lavrov", 2),
    "Mousa Abu Marzouk": ("Marzou", 4),
    "Mikhail Bogdanov": ("Bogdanov", 2),
    "Maria Zakharova": ("Zakharova", 2),
    "Vladimir Putin": ("Putin", 2),
    "Lior Haiat": ("Haiat", 2),
    "Dmitry Peskov": ("Peskov", 2),
    "Mikhail Galuzin": ("Galuzin", 1),
}
EXPECTED_DATES = {
    "000_4e1852c0d95101e1.txt": (None, "none"),
    "001_e5d5862b3fed93d4.txt": ("2024-06-25", "day"),
    "002_3019ca12e349c566.txt": (None, "none"),
    "003_9702e96eff6568ce.txt": (None, "none"),
    "004_4c9df461499d11da.txt": ("2023-10-26", "day"),
}


def seed_lines(name: str) -> list[str]:
    text = normalize_text((SEEDS / name).read_text(encoding="utf-8"))
    return [line.strip() for line in text.split("\n") if line.strip()]


def phrase(line: str) -> str:
    return '"' + " ".join(re.findall(TOKEN_PATTERN, line)) + '"'


def paths_matching(service, q: str) -> set[str]:
    result = service.search(SearchRequest(q=q, per_page=100))
    return {h.path for h in result.hits}


def test_five_articles(seed_service):
    result = seed_service.search(SearchRequest())
    assert result.total == 5
    assert sorted(h.path for h in result.hits) == SEED_FILES


@pytest.mark.parametrize("name", SEED_FILES)
def test_no_boilerplate_line_is_findable(seed_service, name):
    for line in BOILERPLATE[name]:
        assert name not in paths_matching(seed_service, phrase(line)), line


@pytest.mark.parametrize("name", SEED_FILES)
def test_every_body_line_is_findable_as_a_phrase(seed_service, name):
    skip = set(BOILERPLATE[name]) | set(METADATA.get(name, []))
    lines = [ln for ln in seed_lines(name) if ln not in skip]
    assert lines
    for line in lines:
        assert name in paths_matching(seed_service, phrase(line)), line


@pytest.mark.parametrize("name", SEED_FILES)
def test_every_sentence_is_findable(seed_service, name):
    skip = set(BOILERPLATE[name]) | set(METADATA.get(name, []))
    for line in seed_lines(name):
        if line in skip:
            continue
        for sentence in re.split(r"(?<=[.!?])\s+", line):
            if len(sentence.split()) >= 3:
                assert name in paths_matching(seed_service, phrase(sentence)), sentence


def test_curly_and_straight_apostrophes_find_the_same(seed_service):
    straight = paths_matching(seed_service, "Putin's")
    curly = paths_matching(seed_service, "Putin\u2019s")
    assert straight == curly
    assert "004_4c9df461499d11da.txt" in straight
    curly_phrase = paths_matching(seed_service, '"Putin\u2019s spokesman"')
    assert curly_phrase == paths_matching(seed_service, '"Putin\'s spokesman"')


@pytest.mark.parametrize("person", sorted(PEOPLE))
def test_each_person_is_one_entity_with_the_right_count(seed_service, person):
    surname, count = PEOPLE[person]
    people = seed_service.search(SearchRequest(facet_limit=1000)).facets["entity"]
    matches = [f for f in people if f["type"] == "person" and surname.lower() in f["value"].lower()]
    assert len(matches) == 1, matches
    assert matches[0]["count"] == count
    # and filtering by it finds exactly those articles
    assert seed_service.search(SearchRequest(entities=(matches[0]["value"],))).total == count


def test_noise_words_are_not_entities(seed_service):
    values = {f["value"].lower() for f in seed_service.search(SearchRequest(facet_limit=1000)).facets["entity"]}
    for word in ("thursday", "wednesday", "leave a reply", "advertisement", "related articles", "the", "during",
                 "read", "similar posts", "wordpress ads"):
        assert word not in values


def test_alias_merges_islamic_resistance_movement_into_hamas(seed_service):
    orgs = [f for f in seed_service.search(SearchRequest(facet_limit=1000)).facets["entity"] if f["type"] == "org"]
    hamas = [f for f in orgs if "hamas" in f["value"].lower()]
    assert len(hamas) == 1 and hamas[0]["count"] == 5
    assert not [f for f in orgs if "islamic resistance" in f["value"].lower()]


@pytest.mark.parametrize("name", SEED_FILES)
def test_dates_are_right_or_honestly_missing(seed_service, name):
    date, precision = EXPECTED_DATES[name]
    hit = next(h for h in seed_service.search(SearchRequest(per_page=10)).hits if h.path == name)
    assert (hit.date, hit.date_precision) == (date, precision)


def test_titles(seed_service):
    titles = {h.path: h.title for h in seed_service.search(SearchRequest()).hits}
    assert titles["000_4e1852c0d95101e1.txt"] == "Hamas chief, Russia FM discuss escalations in Jerusalem, Gaza"
    assert titles["001_e5d5862b3fed93d4.txt"] == "Hamas 'appreciates' Russian efforts to strengthen regional stability"
    assert titles["003_9702e96eff6568ce.txt"].startswith("A delegation of Palestinian Hamas movement")
    assert titles["004_4c9df461499d11da.txt"].startswith("Israel demanded the expulsion of Hamas")
