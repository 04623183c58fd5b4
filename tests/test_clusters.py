"""Near-duplicate clusters (search/clusters.py) through its public functions.

Stories are generated from a seeded random walk over one topic's vocabulary,
so different stories share most of their words but hardly any 5-word run,
which is what tells a syndicated copy from another story on the same topic.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys

import pytest

from search import clusters
from search.clusters import ClusterIndex, estimate, fingerprint, jaccard, shingle_text

TOPIC = (
    "the central bank said on tuesday that interest rates would rise by a quarter point as inflation "
    "in the euro zone climbed to its highest level since march while officials warned that growth "
    "remained fragile and markets expected further tightening before the end of the year analysts "
    "added that bond yields fell after the announcement and the currency gained against the dollar"
).split()


def story(seed: int, sentences: int = 24) -> list[str]:
    """Paragraphs of a story: sentences of 12-20 words drawn from TOPIC, three sentences a paragraph."""
    rng = random.Random(seed)
    said = [" ".join(rng.choice(TOPIC) for _ in range(rng.randint(12, 20))).capitalize() + "."
            for _ in range(sentences)]
    return [" ".join(said[i : i + 3]) for i in range(0, len(said), 3)]


def body(paragraphs: list[str]) -> str:
    return "\n\n".join(paragraphs)


def partition(ix: ClusterIndex, ids) -> set[frozenset[str]]:
    """The clusters of two or more among *ids*, as a set of sets (via cluster_of)."""
    groups: dict[str, set[str]] = {}
    for a in ids:
        groups.setdefault(ix.cluster_of(a), set()).add(a)
    return {frozenset(g) for g in groups.values() if len(g) > 1}


def test_planted_syndicated_copies_cluster_and_other_stories_do_not() -> None:
    original = story(1)
    sentences = " ".join(original).split(". ")
    copies = {
        "original": body(original),
        # The headline is the first line of some scrapes' bodies.
        "reheadlined": body(["Rates rise again as inflation bites", *original]),
        "reparagraphed": body([" ".join(original[i : i + 2]) for i in range(0, len(original), 2)]),
        "bylined": body(["By Jane Doe, Economics Correspondent", *original, "Reporting by J. Roe"]),
        "boilerplate": body(["Subscribe to our newsletter", *original, "© 2024 Example Media. All rights reserved."]),
        "corrected": ". ".join(
            [*sentences[:10], "The bank corrected an earlier figure for the deposit rate it published", *sentences[11:]]
        ),
    }
    others = {f"other{i}": body(story(100 + i)) for i in range(5)}
    ix = ClusterIndex()
    for i, (name, text) in enumerate({**copies, **others}.items()):
        ix.add(name, fingerprint(text), f"2024-01-{i + 1:02d}|{name}")
    assert partition(ix, [*copies, *others]) == {frozenset(copies)}
    assert ix.cluster_of("corrected") == "original"
    assert ix.members("original") == list(copies)
    assert ix.size("original") == len(copies)
    # The other stories do share the topic's words, just not its text.
    assert all(jaccard(copies["original"], o) < 0.05 for o in others.values())
    assert len(set(" ".join(original).split()) & set(others["other0"].lower().split())) > 20
    stats = ix.stats()
    assert (stats["clusters"], stats["clustered_articles"], stats["sizes"]["6-10"]) == (1, 6, 1)


def test_estimate_follows_exact_jaccard() -> None:
    base = story(7, sentences=40)
    flat = " ".join(base).split()
    for cut in (0, 20, 60, 120, 250):
        edited = " ".join(flat[: len(flat) - cut] + ["replaced"] * cut)
        exact = jaccard(" ".join(flat), edited)
        assert abs(estimate(fingerprint(" ".join(flat)), fingerprint(edited)) - exact) < 0.12, cut


def test_short_bodies_never_cluster_even_when_identical() -> None:
    assert fingerprint("Four words only here") == b""
    assert fingerprint("") == b""
    assert fingerprint("Five words are one shingle") != b""
    assert shingle_text("One, two; THREE four  Fïve six") == ["one two three four five", "two three four five six"]
    ix = ClusterIndex()
    ix.add("a", fingerprint("No text here."), "1|a")
    ix.add("b", fingerprint("No text here."), "2|b")
    ix.add("c", fingerprint(body(story(3))), "3|c")
    assert [ix.cluster_of(x) for x in "abc"] == ["a", "b", "c"]
    assert partition(ix, "abc") == set()
    assert ix.members("a") == ["a"] and ix.size("b") == 1
    # An identical long body does cluster.
    ix.add("d", fingerprint(body(story(3))), "4|d")
    assert partition(ix, "abcd") == {frozenset("cd")}


def test_fingerprint_is_the_same_in_another_process() -> None:
    text = body(story(5))
    code = "import sys; from search.clusters import fingerprint; sys.stdout.write(fingerprint(sys.stdin.read()).hex())"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code], input=text, capture_output=True, text=True, env=env, check=True)
    assert out.stdout == fingerprint(text).hex()


def variants() -> list[str]:
    """Bodies with many near-duplicate relations: chains of progressive edits, identical copies, short ones.

    Each chain's step replaces a different sentence, so step k links to k±1 and k±2 but not to k+6:
    removing a middle step can split a cluster.
    """
    out: list[str] = []
    for s in range(6):
        sentences = " ".join(story(200 + s, sentences=30)).split(". ")
        for step in range(7):
            edited = [f"Changed sentence {step} {j} of story {s} reads differently now" if j < step * 2 else x
                      for j, x in enumerate(sentences)]
            out.append(". ".join(edited))
    out += [body(story(300 + i)) for i in range(6)]
    out += ["Short body", "Short body", "Tiny"]
    return out


@pytest.mark.parametrize("buffer", [None, 40])
def test_incremental_equals_rebuild_on_random_edits(buffer: int | None, monkeypatch: pytest.MonkeyPatch) -> None:
    if buffer:  # flush band entries into sorted runs (and merge runs) every few articles
        monkeypatch.setattr(clusters, "_BUFFER", buffer)
    pool = variants()
    fps = [fingerprint(t) for t in pool]
    rng = random.Random(14)
    biggest = 0
    for _round in range(12):
        ix = ClusterIndex()
        live: dict[str, tuple[int, str]] = {}
        ids = [f"art{i:03d}" for i in range(40)]
        for _step in range(rng.randint(60, 160)):
            a = rng.choice(ids)
            if a in live and rng.random() < 0.3:
                ix.remove(a)
                del live[a]
            else:  # add, or replace with another body and/or date
                day = f"2024-{rng.randint(1, 12):02d}" if rng.random() < 0.9 else "9999"
                item = (rng.randrange(len(pool)), f"{day}|{a}")
                ix.add(a, fps[item[0]], item[1])
                live[a] = item
            if rng.random() < 0.1:
                before = {x: ix.cluster_of(x) for x in live}
                ix.take_changed()
                ix = ClusterIndex(state=ix.to_bytes())
                assert ix.changed() == set()
                assert {x: ix.cluster_of(x) for x in live} == before
        fresh = ClusterIndex()
        order = list(live)
        rng.shuffle(order)
        for a in order:
            fresh.add(a, fps[live[a][0]], live[a][1])
        assert partition(ix, live) == partition(fresh, live)
        assert {a: ix.cluster_of(a) for a in live} == {a: fresh.cluster_of(a) for a in live}
        assert len(ix) == len(fresh) == len(live)
        biggest = max(biggest, *map(len, partition(ix, live)))
        for a in live:
            cid = ix.cluster_of(a)
            assert ix.members(cid) == fresh.members(cid)
            assert ix.members(cid)[0] == cid
    assert biggest >= 4  # the rounds did build real clusters
    # Removing the middle of a chain splits it: c1 is c0 with 3 of 50 sentences replaced, c2 is c1 with 3 more.
    base = " ".join(story(9, sentences=50)).split(". ")
    new = " ".join(story(10, sentences=50)).split(". ")
    chain = [fingerprint(". ".join(new[j] if j < k * 3 else x for j, x in enumerate(base))) for k in range(3)]
    assert estimate(chain[0], chain[2]) < 0.8 <= min(estimate(chain[0], chain[1]), estimate(chain[1], chain[2]))
    ix = ClusterIndex()
    for k, fp in enumerate(chain):
        ix.add(f"c{k}", fp, f"{k}")
    assert partition(ix, ["c0", "c1", "c2"]) == {frozenset({"c0", "c1", "c2"})}
    ix.remove("c1")
    assert partition(ix, ["c0", "c2"]) == set()
    assert (ix.cluster_of("c0"), ix.cluster_of("c2")) == ("c0", "c2")


def test_changed_lists_exactly_the_articles_whose_cluster_id_moved() -> None:
    pool = variants()
    fps = [fingerprint(t) for t in pool]
    rng = random.Random(99)
    ix = ClusterIndex()
    live: dict[str, str] = {}
    for _batch in range(30):
        before = {a: ix.cluster_of(a) for a in live}
        sizes = {a: len(ix.members(ix.cluster_of(a))) for a in live}
        for _ in range(rng.randint(1, 8)):
            a = f"a{rng.randrange(30)}"
            if a in live and rng.random() < 0.3:
                ix.remove(a)
                del live[a]
            else:
                live[a] = f"{rng.randint(1000, 9999)}|{a}"
                ix.add(a, fps[rng.randrange(len(pool))], live[a])
        now = {a: ix.cluster_of(a) for a in live}
        expected = {a for a in live if before.get(a) != now[a]}
        expected_sized = expected | {a for a in live if a in sizes and sizes[a] != len(ix.members(now[a]))}
        assert ix.changed(with_size=True) == expected_sized
        assert ix.take_changed() == expected
        assert ix.changed() == set()


def test_cluster_id_is_the_earliest_member_and_moves_when_it_goes() -> None:
    text = story(11)
    ix = ClusterIndex()
    ix.add("mid", fingerprint(body(text)), "2024-03-01|mid")
    ix.add("late", fingerprint(body(["By A. Writer", *text])), "2024-05-01|late")
    ix.add("undated", fingerprint(body([*text, "Subscribe to our newsletter"])), "9999|undated")
    assert ix.take_changed() == {"mid", "late", "undated"}
    assert {ix.cluster_of(a) for a in ("mid", "late", "undated")} == {"mid"}
    ix.add("early", fingerprint(body(text)), "2024-01-01|early")  # an identical copy, older
    assert ix.members("early") == ["early", "mid", "late", "undated"]
    assert ix.members("mid") == [] and ix.size("mid") == 0
    assert ix.take_changed() == {"early", "mid", "late", "undated"}
    ix.add("later", fingerprint(body(text)), "2024-06-01|later")
    assert ix.take_changed() == {"later"}  # nobody else's id moved
    assert ix.cluster_of("later") == "early"
    ix.remove("early")
    assert ix.take_changed() == {"mid", "late", "undated", "later"}
    assert ix.members("mid") == ["mid", "late", "later", "undated"]
    # An edit that moves the earliest member out of the story hands the id on.
    ix.add("mid", fingerprint(body(story(12))), "2024-03-01|mid")
    assert ix.take_changed() == {"late", "undated", "later"}
    assert partition(ix, ["mid", "late", "undated", "later"]) == {frozenset({"late", "undated", "later"})}
    assert ix.cluster_of("later") == "late" and ix.cluster_of("mid") == "mid"
    # Re-adding the same fingerprint and sort key changes nothing.
    ix.add("late", fingerprint(body(["By A. Writer", *text])), "2024-05-01|late")
    assert ix.take_changed() == set()


def test_state_round_trip() -> None:
    pool = variants()
    ix = ClusterIndex()
    for i, text in enumerate(pool):
        ix.add(f"id{i}", fingerprint(text), f"{i % 7}|id{i}")
    for i in range(0, len(pool), 5):
        ix.remove(f"id{i}")
    state = ix.to_bytes()
    again = ClusterIndex(state=state)
    ids = [f"id{i}" for i in range(len(pool)) if i % 5]
    assert partition(again, ids) == partition(ix, ids) != set()
    assert {a: again.cluster_of(a) for a in ids} == {a: ix.cluster_of(a) for a in ids}
    assert again.changed() == set() and len(again) == len(ix)
    assert again.stats() == ix.stats()
    assert again.to_bytes() == state
    ix.take_changed()
    # A loaded index goes on incrementally like the one it came from.
    for x in (ix, again):
        x.add("new", fingerprint(pool[1]), "0|new")
        x.remove("id2")
    ids = [a for a in ids if a != "id2"]
    assert partition(again, [*ids, "new"]) == partition(ix, [*ids, "new"])
    assert again.take_changed() == ix.take_changed() != set()
    assert ClusterIndex(state=ClusterIndex().to_bytes()).stats()["articles"] == 0


def test_bad_input_is_refused() -> None:
    ix = ClusterIndex()
    ix.add("a", fingerprint(body(story(1))), "1")
    with pytest.raises(ValueError):
        ix.add("b", b"\x00" * 10, "2")
    with pytest.raises(ValueError):
        ix.add("c\0", b"", "3")
    with pytest.raises(KeyError):
        ix.cluster_of("missing")
    ix.remove("missing")
    assert len(ix) == 1
