"""``python -m bench entities``: entity facets measured against Reuters-21578's human tags.

Reuters stories carry PLACES, PEOPLE and ORGS tags, set by editors.  The
benchmark indexes the collection (or reuses ``--index``), reads the tags
straight from the SGML (not through the reader, which turns them into given
entities), and reports:

* for the 40 most frequent tags of each kind: the facet values the tagged
  stories spread over (goal: 1), the main value's type and its story count
  against the tagged-story count;
* the count of each junk class of values (goal: 0 each) and of values listed
  under more than one type (goal: 0).

A value "belongs to" a tag when one of the tag name's words is one of its
words (or of a spelling merged into it) and at least a quarter of the value's
stories carry the tag: so "Secertary James Baker", "Reagan Administration"
and "Ronald Reagan" all count against the tags baker and reagan.

Usage::

    python -m bench entities [--index DIR] [--reuters DIR] [--files N] [--json FILE]
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path

from search.extract.mentions import one_edit

from .corpus import reuters_dir, reuters_files

TOP = 40
KINDS = (("PLACES", "place"), ("PEOPLE", "person"), ("ORGS", "org"))
_STORY = re.compile(rb"<REUTERS\b[^>]*NEWID=\"(\d+)\"[^>]*>(.*?)</REUTERS>", re.S)
_D = re.compile(r"<D>(.*?)</D>")

# --- junk classes (the list); each is a test on a value's words -------
# Words that end or start junk values ("U.S. And", "of Japan"); "The Hague"
# and "Will Buttrose" are names, so "the" and "will" are not here.
_FUNCTION = frozenset(
    "and at by for from has have had in is of on or to was were with would but not that this said says".split()
)
_WEEKDAYS = frozenset("monday tuesday wednesday thursday friday saturday sunday".split())
_MONTH_ABBR = frozenset("jan feb mar apr jun jul aug sep sept oct nov dec".split())
_MONTHS = frozenset("january february march april may june july august september october november december".split())
_MONTH_CODE = re.compile(r"^(?:JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)\d{1,2}$", re.I)
_CURRENCY = frozenset("dlrs dlr stg yen cts pct".split())
_RATING = re.compile(r"^(?:Aaa|Aa|Baa|Ba|Caa|Ca|A|B|C)-?[1-3]$|^(?:AAA|AA|BBB|BB|CCC|A|B)[+-]$")
_CONTRACTION = re.compile(r"'(?:m|re|ve|ll|d|s)$|n't$", re.I)
_ABBR_INITIAL = re.compile(r"^[A-Z]\.$")
_ABBR = re.compile(r"^(?:[A-Z]\.){2,}$")
_TITLES = (
    "secretary minister president chairman governor senator sen mr mrs ms dr prime vice chief director "
    "spokesman treasurer chancellor premier king queen prince"
).split()


def _close_to_title(word: str) -> bool:
    """A title or a one-edit typo of one ("Secertary", "Minsiter", "Prersident")."""
    low = word.lower().rstrip(".")
    if low in _TITLES:
        return True
    if len(low) < 7:
        return False
    return any(abs(len(t) - len(low)) <= 1 and len(t) >= 7 and one_edit(low, t) for t in _TITLES)


def _given_names() -> frozenset[str]:
    from search.extract.gazetteer import load_gazetteer

    return frozenset(load_gazetteer().given)


_GIVEN: frozenset[str] | None = None
_GENERATION = frozenset("jr sr ii iii iv".split())


def _person_named(words: list[str], lows: list[str], at: int) -> bool:
    """Whether a person value's first word, a month, is a given name with a surname after it
    ("Jan Carlzon", "August Busch III"): the other words must read as names (capitalised, no
    everyday word, no abbreviation: "May Int" stays junk)."""
    global _GIVEN
    if _GIVEN is None:
        _GIVEN = _given_names()
    if at == 0 and lows[0] not in _GIVEN:
        return False
    others = [w for i, w in enumerate(words) if i != at and w.lower().strip(".") not in _GENERATION]
    return bool(others) and all(
        w[:1].isupper() and len(w) >= 4 and w.isalpha() and w.lower() not in _FUNCTION | _WEEKDAYS | _MONTHS
        for w in others)


def junk_classes(value: str, etype: str, texts: Iterable[str] = ()) -> list[str]:
    """The junk classes *value* falls in (empty: a clean value).

    *texts* are the stories of the value: a person's name ending in "Said"
    is a name where a story writes it before the verb ("Omer Said, said").
    """
    words = value.split()
    if not words:
        return ["empty"]
    lows = [w.lower().strip(".,") for w in words]
    out = []
    if len(value.replace(".", "").strip()) == 1:
        out.append("single letter")
    if len(words) >= 2 and _ABBR.match(words[0]) and (lows[1] in _FUNCTION or lows[1] in _CURRENCY
                                                       or len(words) == 2 and words[1].isalpha()
                                                       and lows[1] in _COMMONISH):
        out.append("U.S. + word")
    if any(_MONTH_CODE.match(w) for w in words):
        out.append("month code")
    if value[0].islower() and lows[0] in _FUNCTION:
        out.append("lower-case start")
    if len(words) >= 2 and any(lows[i] in _FUNCTION and not words[i].isupper() and not _ABBR_INITIAL.match(words[i])
                               for i in (0, -1)) and not (etype == "person" and _surname_said(value, lows, texts)):
        out.append("function-word edge")
    if len(words) >= 2 and (lows[0] in _WEEKDAYS or lows[-1] in _WEEKDAYS):
        out.append("weekday edge")
    # A company's registered name may start with a month ("May Department Stores Co"):
    # a legal form at the end says the month is part of it.
    if len(words) >= 2 and (lows[0] in _MONTHS | _MONTH_ABBR or lows[-1] in _MONTH_ABBR) and not (
            etype == "org" and lows[-1].replace(".", "") in _LEGAL_FORMS) and not (
            etype == "person" and lows[-1] not in _MONTH_ABBR and _person_named(words, lows, 0)):
        out.append("month edge")
    # A unit at an edge ("U.S. Dlrs"), after an abbreviated place ("U.S. Dlr Kansai") or alone ("STG").
    at_edge = lows[0] in _CURRENCY or lows[-1] in _CURRENCY
    after_place = len(words) >= 2 and _ABBR.match(words[0]) and lows[1] in _CURRENCY
    if (len(words) >= 2 and at_edge) or after_place or (len(words) == 1 and lows[0] in _CURRENCY - {"yen"}):
        out.append("currency word")
    if any(_RATING.match(w) for w in words):
        out.append("rating")
    if any(_CONTRACTION.search(w) and not w.lower().endswith("'s") for w in words):
        out.append("contraction")
    if etype == "person" and len(words) >= 2 and _close_to_title(words[0]):
        out.append("title in person")
    return out


def _surname_said(value: str, lows: list[str], texts: Iterable[str]) -> bool:
    """Whether a person value's last word "Said" is the surname: a story has the
    value followed by the verb, "The representative, Omer Said, said"."""
    if lows[-1] not in ("said", "says") or lows[0] in _FUNCTION:
        return False
    pattern = re.compile(re.escape(value) + r",? (?:said|says|told)\b")
    return any(pattern.search(t) for t in texts)


_LEGAL_FORMS = frozenset("inc corp co ltd plc ag sa nv".split())

# Words a junk value adds to a name ("U.S. And", "Friday Iran", "Mr. Baker").
_NOISE_WORDS = frozenset(_FUNCTION | _WEEKDAYS | _MONTHS | _MONTH_ABBR | _CURRENCY | {"mr", "mrs", "the"})

# Capitalised common words that follow "U.S." in the junk values ("U.S. Officials").
_COMMONISH = frozenset(
    "officials official has and to is was will would said says dlrs dlr banks bank trade government economy "
    "sources source companies company firms industry officials' exports imports market markets farmers "
    "administration congress house senate treasury".split()
)


# --- reading ------------------------------------------------------------------
def read_tags(files: list[Path]) -> dict[str, dict]:
    """``file name#NEWID`` -> {"PLACES": [...], "PEOPLE": [...], "ORGS": [...], "text": title and body}."""
    out: dict[str, dict] = {}
    for path in files:
        raw = gzip.open(path).read() if path.suffix == ".gz" else path.read_bytes()
        for m in _STORY.finditer(raw):
            text = m.group(2).decode("latin-1")
            tags = {}
            for tag, _ in KINDS:
                block = re.search(rf"<{tag}>(.*?)</{tag}>", text, re.S)
                tags[tag] = _D.findall(block.group(1)) if block else []
            tags["text"] = " ".join(re.findall(r"<(?:TITLE|BODY)>(.*?)</(?:TITLE|BODY)>", text, re.S))
            out[f"{path.name}#{m.group(1).decode()}"] = tags
    return out


def read_index(index: Path) -> tuple[dict[str, list[tuple[str, str]]], dict[str, set[str]]]:
    """Story key -> [(value, type)], and value -> spellings (from the resolver state)."""
    from whoosh import index as windex

    from search.aliases import load_aliases
    from search.resolution import EntityResolver

    ix = windex.open_dir(str(index), indexname="articles")
    stories: dict[str, list[tuple[str, str]]] = {}
    with ix.searcher() as searcher:
        for fields in searcher.all_stored_fields():
            path = fields.get("path", "")
            name = path.rsplit("/", 1)[-1]
            stories[name] = [(e["value"], e["type"]) for e in json.loads(fields.get("entities") or "[]")]
    spellings: dict[str, set[str]] = defaultdict(set)
    state_path = index / "entities.json"
    if state_path.exists():
        state = json.loads(state_path.read_text(encoding="utf-8"))
        for value, spells in EntityResolver(load_aliases(None), state=state).spellings().items():
            spellings[value].update(spells)
    return stories, spellings


# --- measuring ----------------------------------------------------------------
def _words(text: str) -> set[str]:
    return {w for w in re.split(r"[^a-z0-9]+", text.lower()) if len(w) > 1}


def _same_person(value: str, given: set[str], surname: set[str]) -> bool:
    """Whether a person value can be the tagged person: it ends with the surname, and a
    given name it has starts as the tag's does ("Jim Baker" for James Baker; not "Nancy Reagan")."""
    words = value.split()
    if not _words(words[-1]) & surname and not _words(value) <= given | surname:
        return False
    if len(words) == 1 or not given or given == surname:
        return True
    return any(w[:1] == g[:1] for w in _words(words[0]) for g in given)


def measure(tags: dict, stories: dict, spellings: dict, top: int = TOP) -> dict:
    from search.readers.reuters import reuters_name

    value_stories: dict[str, set[str]] = defaultdict(set)
    value_types: dict[str, set[str]] = defaultdict(set)
    for key, ents in stories.items():
        for value, etype in ents:
            value_stories[value].add(key)
            value_types[value].add(etype)
    keys = [k for k in stories if k in tags]
    report: dict = {"stories": len(stories), "tagged_stories_matched": len(keys), "values": len(value_stories)}
    single = sum(1 for v in value_stories.values() if len(v) == 1)
    report["values_in_one_story"] = single
    def main_words(name: str) -> set[str]:
        # The words of every spelling merged into the value named like the tag.
        key = name.lower()
        hit = next((v for v in spellings if v.lower() == key), None) or next(
            (v for v, spells in spellings.items() if key in {x.lower() for x in spells}), None)
        return _words(" ".join(spellings.get(hit, set()))) if hit else set()

    value_words = {v: _words(" ".join(spellings.get(v, set()) | {v})) for v in value_stories}
    per_kind = {}
    for tag, kind in KINDS:
        tagged: dict[str, set[str]] = defaultdict(set)
        for k in keys:
            for code in tags[k][tag]:
                tagged[code].add(k)
        rows = []
        for code, members in sorted(tagged.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:top]:
            name = reuters_name(code, kind)
            name_words = _words(name) | _words(code)
            counts = Counter(v for k in members for v, _ in stories[k])
            belong = []
            given = surname = None
            if kind == "person":
                parts = name.split()
                surname = _words(parts[-1])
                # "de Clercq" names no given name: its first word is a particle.
                given = _words(parts[0]) if len(parts) > 1 and parts[0][:1].isupper() else surname
            for value, n in counts.items():
                if not (value_words[value] & name_words):
                    continue
                if kind == "person" and not _same_person(value, given, surname):
                    continue  # another person of that name: "Nancy Reagan", not Ronald Reagan
                if n * 4 < len(value_stories[value]):
                    continue  # mostly about something else (tags are sparse: a quarter of its stories suffices)
                types = value_types[value]
                if not (types & {kind, "other"} or _words(value) <= name_words):
                    continue  # another entity named after it: "Bank of Japan", "Reagan Administration" (org)
                if kind != "person" and not (_words(value) - _NOISE_WORDS) <= name_words | main_words(name):
                    continue  # "Sea of Japan", "Western Australia": another place named after it
                belong.append(value)
            belong.sort(key=lambda v: (kind not in value_types[v], -counts[v]))
            if kind == "person" and belong and given == surname:
                # A one-word tag ("reagan"): the main value's given name says who is meant.
                first = _words(belong[0].split()[0])
                belong = [belong[0]] + [v for v in belong[1:] if _same_person(v, first, surname)]
            main = belong[0] if belong else None
            naming = None
            if main and tag == "PLACES":
                # Stories naming the country in any form the index merged into
                # the value (or tagged with it): what its count should match.
                forms = sorted(spellings.get(main, set()) | {main, name}, key=len, reverse=True)
                alternatives = "|".join(re.escape(f) for f in forms if len(f) > 1)
                pattern = re.compile(r"(?<![\w.])(?:" + alternatives + r")(?!\w)")
                naming = sum(1 for k in keys if k in members or pattern.search(tags[k]["text"]))
            rows.append({
                "tag": code,
                "tagged": len(members),
                "values": len(belong),
                "main": main,
                "main_type": sorted(value_types[main]) if main else None,
                "main_stories": len(value_stories[main]) if main else 0,
                "ratio": round(len(value_stories[main]) / len(members), 2) if main else 0.0,
                "naming": naming,
                "ratio_naming": round(len(value_stories[main]) / naming, 2) if naming else None,
                "others": belong[1:6],
            })
        per_kind[tag] = rows
    report["tags"] = per_kind
    junk: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for value, members in value_stories.items():
        texts = (tags[k]["text"] for k in members if k in tags)
        for cls in junk_classes(value, sorted(value_types[value])[0], texts):
            junk[cls].append((value, len(members)))
    report["junk"] = {cls: {"values": len(vs), "examples": sorted(vs, key=lambda x: -x[1])[:6]}
                      for cls, vs in sorted(junk.items())}
    two = sorted(((v, sorted(t), len(value_stories[v])) for v, t in value_types.items() if len(t) > 1),
                 key=lambda x: -x[2])
    report["two_types"] = {"values": len(two), "examples": two[:8]}
    return report


def print_report(report: dict, out=sys.stdout) -> None:
    w = out.write
    w(f"stories {report['stories']:,} (tags matched {report['tagged_stories_matched']:,}); "
      f"values {report['values']:,}, in one story {report['values_in_one_story']:,} "
      f"({report['values_in_one_story'] / max(1, report['values']):.0%})\n")
    for tag, rows in report["tags"].items():
        one = sum(1 for r in rows if r["values"] == 1)
        in_range = sum(1 for r in rows if 0.8 <= r["ratio"] <= 1.2)
        w(f"\n{tag}: top {len(rows)} tags, {one} map to one value, {in_range} at 0.8-1.2x the tagged stories\n")
        if tag == "PLACES":
            top8 = rows[:8]
            ok = sum(1 for r in top8 if r["values"] == 1 and r["ratio_naming"] and 0.8 <= r["ratio_naming"] <= 1.2)
            w(f"  top 8: {ok} of {len(top8)} one value at 0.8-1.2x the stories naming the country\n")
        w(f"  {'tag':<18} {'tagged':>6} {'naming':>6} {'values':>6} {'ratio':>5} {'/nam':>5}"
          "  main value (type)  / others\n")
        for r in rows:
            others = "; ".join(r["others"])
            naming = f"{r['naming']:>6} " if r.get("naming") else "       "
            per_naming = f"{r['ratio_naming']:>5.2f}" if r.get("ratio_naming") else "     "
            w(f"  {r['tag']:<18} {r['tagged']:>6} {naming}{r['values']:>6} {r['ratio']:>5.2f} {per_naming}  "
              f"{r['main']} ({','.join(r['main_type'] or [])}){'  / ' + others if others else ''}\n")
    w("\njunk classes (goal 0 each):\n")
    total = 0
    for cls, info in report["junk"].items():
        total += info["values"]
        ex = ", ".join(f"{v!r} {n}" for v, n in info["examples"])
        w(f"  {cls:<20} {info['values']:>5}  e.g. {ex}\n")
    if not report["junk"]:
        w("  none\n")
    two = report["two_types"]
    w(f"\nvalues under two types (goal 0): {two['values']}"
      f"{'  e.g. ' + ', '.join(f'{v!r} {t}' for v, t, _ in two['examples']) if two['examples'] else ''}\n")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench entities", description=__doc__.split("\n\n")[0])
    p.add_argument("--reuters", help="Reuters-21578 folder (default $NEWSFACET_REUTERS or ../shared/corpora/...)")
    p.add_argument("--index", help="reuse this index of the Reuters folder instead of building one")
    p.add_argument("--work", default="/tmp/newsfacet-bench-entities", help="where to build the index")
    p.add_argument("--files", type=int, default=None, help="only the first N .sgm.gz files (a sample)")
    p.add_argument("--top", type=int, default=TOP, help=f"tags of each kind to report (default {TOP})")
    p.add_argument("--json", help="also write the figures to this file")
    args = p.parse_args(argv)
    files = reuters_files(reuters_dir(args.reuters), args.files)
    if args.index:
        index = Path(args.index)
    else:
        index = Path(args.work) / "index"
        newsfacet = Path(sys.executable).parent / "newsfacet"
        command = [str(newsfacet), "index", "--index", str(index), "--rebuild", "--quiet", *map(str, files)]
        started = time.perf_counter()
        print(f"bench entities: indexing {len(files)} files into {index}", file=sys.stderr)
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        print(f"bench entities: indexed in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    tags = read_tags(files)
    stories, spellings = read_index(index)
    report = measure(tags, stories, spellings, args.top)
    print_report(report)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
