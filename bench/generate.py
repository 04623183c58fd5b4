"""A deterministic scaled corpus built from the Reuters-21578 stories.

``python -m bench.generate --size N --seed S --out DIR`` (or ``python -m bench
--corpus scaled``) writes ``part-00000.jsonl`` … with ``--rows-per-file`` rows
each (default 10,000): one JSON object per line with ``title``, ``date``,
``source``, ``text`` and ``entities`` (``[{"value", "type"}]``), the fields a
scraper's JSONL export gives newsfacet.

How a row is made (all choices from one ``random.Random`` per file, seeded
with the seed and the file number, so the same seed gives byte-identical
files and any file can be regenerated alone):

* ``text``: 2–9 paragraphs drawn from the whole Reuters paragraph pool, so
  each body recombines paragraphs of different stories;
* ``title``: the head of one Reuters title joined to the tail of another;
* ``date``: a year from 1995 to 2025 (later years likelier); 85 % a day
  (``YYYY-MM-DD``), 6 % month only (``YYYY-MM``), 4 % year only (``YYYY``),
  5 % undated (no ``date`` key);
* ``entities``: the Reuters PLACES/PEOPLE/ORGS of the lead paragraph's story
  plus 0–5 draws from an entity universe with Zipf (s = 1) frequencies.  The
  universe is the 293 Reuters values (first, by their Reuters frequency)
  followed by derived variants — given names × Reuters and common surnames
  (persons), ``{place} Central Bank`` … (organisations), ``Northern {place}`` …
  (places) — shuffled and cut to ``--entities`` values (default 50,000);
* ``source``: one of 100 ``*.example`` sites, Zipf-weighted.

Every file's modification time is set to :data:`CRAWL_DAY`: newsfacet takes
it as the crawl date when it resolves a year-less date it finds in an
undated row's text, so the index is reproducible too.

Only the Reuters pools (≈115k paragraphs) are held in memory; rows are
streamed to disk, so the size is bounded by disk, not memory.  A
``manifest.json`` (written last) records the parameters, per-file SHA-256 and
the generation speed; a corpus whose manifest matches is reused.
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import hashlib
import itertools
import json
import os
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

GENERATOR_VERSION = 1
DEFAULT_SIZE = 1_000_000
DEFAULT_SEED = 1
DEFAULT_ROWS_PER_FILE = 10_000
DEFAULT_ENTITIES = 50_000
FIRST_YEAR, LAST_YEAR = 1995, 2025
ZIPF_S = 1.0
MANIFEST = "manifest.json"
MIN_PARAGRAPH_CHARS = 20
# Every file's modification time: newsfacet resolves year-less dates in undated rows against it (as the
# crawl date), so a fixed stamp keeps the index, not just the bytes, the same from one generation to the next.
CRAWL_DAY = dt.date(2025, 12, 31)

GIVEN_NAMES = """
Aaron Abdul Adam Adriana Ahmed Aiko Alan Albert Alejandro Alexander Alice Ali Alan Amara Amir Ana Andrea Andrew
Angela Anna Anne Anton Antonio Arjun Arthur Aziz Barbara Beatriz Ben Bernard Boris Brian Carl Carlos Carmen
Catherine Charles Chen Chris Christine Claire Claude Daniel David Deborah Diana Diego Dmitri Ebru Edward Elena
Elif Elizabeth Emily Emma Enrique Eric Erik Esther Eva Fatima Felipe Fernando Francesca Francis Frank Gabriel
George Gerhard Giovanni Grace Hans Hassan Helen Helmut Henry Hiroshi Hugo Ibrahim Ingrid Irene Isabel Ivan Jack
Jacques James Jan Jane Javier Jean Jennifer Jens Joan Johan John Jorge Jose Joseph Juan Julia Karen Karim Karl
Katarina Kenji Kevin Khalid Klaus Kofi Kumar Lars Laura Leila Leon Li Linda Lucia Luis Luka Manuel Marco Maria
Mark Martin Mary Mateo Maurice Mehmet Michael Miguel Mohammed Monica Nadia Naomi Nicolas Nina Olga Omar Oscar
Pablo Patricia Paul Pedro Peter Philippe Pierre Priya Rafael Rahul Ramon Raj Rebecca Richard Robert Roberto
Rosa Ruth Sakura Samuel Sandra Sara Sergio Simon Sofia Sophie Stefan Stephen Susan Takeshi Tariq Thomas Tomas
Ursula Valentina Victor Vikram Walter Wei William Xavier Yasmin Yuki Yusuf Zainab Zoran Abebe Adaeze Agnes Akira
Alberto Aleksandr Alfonso Amani Amit Anders Angelo Anil Arturo Astrid Ayesha Bao Bianca Bjorn Bruno Camila Chidi
Chloe Cristina Dagmar Dario Dong Duc Elias Emil Emre Farah Farid Felix Fiona Gustavo Hana Hye Ines Ioana Jakob
Jamal Jia Joao Jonas Kamal Kasia Kenya Kwame Lena Lorenzo Lucas Magnus Malik Mariam Marta Matteo Mei Milan Min
Nabil Nasser Nikolai Noura Oleg Pavel Petra Quentin Rania Reza Rui Salma Sami Santiago Sean Seo Silvia Soren
Tatiana Teresa Thabo Umar Vera Viktor Wanda Yara Yosef Yuri Zhang Zhou
"""
EXTRA_SURNAMES = """
Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez Wilson
Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark Ramirez Lewis Robinson
Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams Nelson Hall Rivera Campbell Mitchell
Carter Roberts Muller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Rossi Russo Ferrari
Esposito Bianchi Romano Colombo Ricci Marino Greco Dubois Durand Lefebvre Moreau Laurent Simon Michel Leroy
Ivanov Smirnov Kuznetsov Popov Sokolov Lebedev Kozlov Novak Horvat Kowalski Nowak Wisniewski Tanaka Suzuki
Takahashi Watanabe Ito Yamamoto Nakamura Kobayashi Kato Wang Liu Chen Yang Huang Zhao Wu Zhou Xu Sun Kim Park
Choi Jung Kang Cho Yoon Singh Sharma Patel Gupta Khan Rahman Hussain Ahmed Ali Hassan Ibrahim Mensah Okafor
Okoye Adeyemi Mwangi Kamau Silva Santos Oliveira Souza Costa Pereira Almeida Carvalho Gomes Martins Jensen
Nielsen Hansen Larsen Andersen Johansson Karlsson Nilsson Eriksson Virtanen Korhonen Yilmaz Kaya Demir Sahin
"""
ORG_TEMPLATES = (
    "{} Central Bank", "{} Finance Ministry", "{} Trade Ministry", "{} Energy Ministry", "{} Agriculture Ministry",
    "{} Chamber of Commerce", "{} Stock Exchange", "{} National Oil Company", "{} Farmers Union",
    "{} Steel Corporation", "{} Airlines", "{} Railways", "{} Telecom", "{} Development Bank", "{} Port Authority",
    "{} Mining Corporation", "{} Shipping Lines", "{} Grain Board", "{} Coffee Institute", "{} Sugar Council",
    "Bank of {}", "University of {}", "{} Electricity Board", "{} Statistics Office", "{} Customs Service",
    "{} Securities Commission", "{} Insurance Group", "{} Petroleum Corporation", "{} Investment Authority",
    "{} Bankers Association", "{} Exporters Association", "{} Labour Party", "{} Green Party",
    "{} Workers Federation", "{} Gas Company", "{} Water Authority", "{} Broadcasting Corporation",
    "{} Press Agency", "{} Football Federation", "{} Red Cross",
)
PLACE_TEMPLATES = (
    "Northern {}", "Southern {}", "Eastern {}", "Western {}", "Central {}", "Coastal {}", "Upper {}", "Lower {}",
    "Greater {}", "Rural {}", "{} Highlands", "{} Delta", "{} Lowlands", "{} Capital Region", "{} Border Region",
    "{} Free Zone", "{} Interior", "{} Riviera", "{} Plains", "{} Coast",
)
SITE_PREFIXES = ("daily", "evening", "global", "metro", "national", "coastal", "capital", "valley", "harbor", "north")
SITE_NOUNS = ("herald", "post", "times", "ledger", "wire", "courier", "tribune", "gazette", "observer", "journal")


@dataclass
class Pools:
    """What rows are drawn from: Reuters pieces and the entity universe."""

    paragraphs: list[str]
    para_story: list[int]
    titles: list[list[str]]
    story_entities: list[tuple[tuple[str, str], ...]]
    universe: list[tuple[str, str]]
    universe_cum: list[float]
    sources: list[str]
    sources_cum: list[float]
    reuters_files: list[str]


def _shuffle(items: list, rng: random.Random) -> None:
    """Fisher–Yates from ``rng.random()`` only (its output is stable across Python versions)."""
    for i in range(len(items) - 1, 0, -1):
        j = int(rng.random() * (i + 1))
        items[i], items[j] = items[j], items[i]


def _zipf_cum(n: int, s: float = ZIPF_S) -> list[float]:
    return list(itertools.accumulate(1.0 / (rank**s) for rank in range(1, n + 1)))


def _draw(rng: random.Random, cum: Sequence[float]) -> int:
    return min(bisect.bisect_right(cum, rng.random() * cum[-1]), len(cum) - 1)


def entity_universe(base: list[tuple[str, str]], size: int, seed: int) -> list[tuple[str, str]]:
    """*base* (kept first, in order) followed by shuffled derived variants, *size* values in all."""
    places = [v for v, t in base if t == "place"]
    people = [v for v, t in base if t == "person"]
    surnames = list(dict.fromkeys([p.split()[-1] for p in people] + EXTRA_SURNAMES.split()))
    given = list(dict.fromkeys(GIVEN_NAMES.split()))
    variants: list[tuple[str, str]] = []
    variants += [(f"{g} {s}", "person") for g in given for s in surnames]
    variants += [(tpl.format(p), "org") for tpl in ORG_TEMPLATES for p in places]
    variants += [(tpl.format(p), "place") for tpl in PLACE_TEMPLATES for p in places]
    seen = {v.casefold() for v, _ in base}
    variants = [(v, t) for v, t in dict.fromkeys(variants) if v.casefold() not in seen]
    _shuffle(variants, random.Random(f"newsfacet-bench:{seed}:universe"))
    return (list(base) + variants)[:size]


def load_pools(reuters_files: list[Path], entities: int = DEFAULT_ENTITIES, seed: int = DEFAULT_SEED) -> Pools:
    """Read the Reuters stories (raw reader output, no cleaning) into the pools rows are drawn from."""
    from search.document import Source
    from search.readers import iter_sources
    from search.settings import Options

    paragraphs: dict[str, int] = {}
    titles: list[list[str]] = []
    story_entities: list[tuple[tuple[str, str], ...]] = []
    counts: Counter[tuple[str, str]] = Counter()
    for source in iter_sources(sorted(reuters_files), Options()):
        if not isinstance(source, Source):
            continue
        story = len(story_entities)
        ents = tuple(source.entities)
        story_entities.append(ents)
        counts.update(ents)
        if source.title and len(source.title.split()) >= 2:
            titles.append(source.title.split())
        for para in source.content.split("\n\n"):
            para = para.strip()
            if len(para) >= MIN_PARAGRAPH_CHARS and para not in paragraphs:
                paragraphs[para] = story
    base = [e for e, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    universe = entity_universe(base, entities, seed)
    sources = [f"{a}{b}.example" for a in SITE_PREFIXES for b in SITE_NOUNS]
    _shuffle(sources, random.Random(f"newsfacet-bench:{seed}:sources"))
    return Pools(
        paragraphs=list(paragraphs),
        para_story=list(paragraphs.values()),
        titles=titles,
        story_entities=story_entities,
        universe=universe,
        universe_cum=_zipf_cum(len(universe)),
        sources=sources,
        sources_cum=_zipf_cum(len(sources)),
        reuters_files=[p.name for p in sorted(reuters_files)],
    )


_YEAR_DAYS = {y: (dt.date(y + 1, 1, 1) - dt.date(y, 1, 1)).days for y in range(FIRST_YEAR, LAST_YEAR + 1)}


def _date(rng: random.Random) -> str | None:
    kind = rng.random()
    year = FIRST_YEAR + min(int((rng.random() ** 0.75) * (LAST_YEAR - FIRST_YEAR + 1)), LAST_YEAR - FIRST_YEAR)
    day = dt.date(year, 1, 1) + dt.timedelta(days=int(rng.random() * _YEAR_DAYS[year]))
    if kind < 0.05:
        return None
    if kind < 0.09:
        return f"{year:04d}"
    if kind < 0.15:
        return day.isoformat()[:7]
    return day.isoformat()


def make_row(rng: random.Random, pools: Pools) -> dict:
    """One article, drawn from *pools* with *rng*."""
    n_paras = 2 + int(rng.random() * 8)
    picks = [int(rng.random() * len(pools.paragraphs)) for _ in range(n_paras)]
    text = "\n\n".join(pools.paragraphs[p] for p in picks)
    a = pools.titles[int(rng.random() * len(pools.titles))]
    b = pools.titles[int(rng.random() * len(pools.titles))]
    cut_a = 1 + int(rng.random() * (len(a) - 1))
    cut_b = min(int(rng.random() * len(b)), len(b) - 1)
    title = " ".join(a[:cut_a] + b[cut_b:])
    date = _date(rng)
    source = pools.sources[_draw(rng, pools.sources_cum)]
    ents: dict[tuple[str, str], None] = dict.fromkeys(pools.story_entities[pools.para_story[picks[0]]])
    for _ in range(int(rng.random() * 6)):
        ents[pools.universe[_draw(rng, pools.universe_cum)]] = None
    row: dict = {"title": title}
    if date is not None:
        row["date"] = date
    row["source"] = source
    row["text"] = text
    row["entities"] = [{"value": v, "type": t} for v, t in ents]
    return row


def stamp(path: Path) -> None:
    """Set *path*'s modification time to noon UTC on :data:`CRAWL_DAY`."""
    ts = dt.datetime(CRAWL_DAY.year, CRAWL_DAY.month, CRAWL_DAY.day, 12, tzinfo=dt.UTC).timestamp()
    os.utime(path, (ts, ts))


def _file_name(index: int) -> str:
    return f"part-{index:05d}.jsonl"


def _params(size: int, seed: int, rows_per_file: int, entities: int) -> dict:
    return {
        "generator_version": GENERATOR_VERSION,
        "size": size,
        "seed": seed,
        "rows_per_file": rows_per_file,
        "entities": entities,
    }


def existing_manifest(out: Path, size: int, seed: int, rows_per_file: int, entities: int) -> dict | None:
    """The manifest of a complete corpus in *out* made with these parameters, else None."""
    path = Path(out) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if {k: manifest.get(k) for k in _params(size, seed, rows_per_file, entities)} != _params(
        size, seed, rows_per_file, entities
    ):
        return None
    for entry in manifest.get("files", []):
        f = Path(out) / entry["name"]
        if not f.is_file() or f.stat().st_size != entry["bytes"]:
            return None
    for entry in manifest["files"]:
        stamp(Path(out) / entry["name"])
    return manifest


def generate(
    out: Path,
    reuters_files: list[Path],
    size: int = DEFAULT_SIZE,
    seed: int = DEFAULT_SEED,
    rows_per_file: int = DEFAULT_ROWS_PER_FILE,
    entities: int = DEFAULT_ENTITIES,
    log: Callable[[str], None] | None = None,
) -> dict:
    """Write the corpus to *out* and return its manifest (also written as ``manifest.json``)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / MANIFEST).unlink(missing_ok=True)
    for stale in out.glob("part-*.jsonl*"):
        stale.unlink()
    started = time.perf_counter()
    pools = load_pools(reuters_files, entities, seed)
    pool_seconds = time.perf_counter() - started
    files = []
    written = 0
    total_bytes = 0
    rows_started = time.perf_counter()
    for index in range((size + rows_per_file - 1) // rows_per_file):
        rows = min(rows_per_file, size - written)
        rng = random.Random(f"newsfacet-bench:{seed}:file:{index}")
        digest = hashlib.sha256()
        final = out / _file_name(index)
        tmp = final.with_suffix(".jsonl.tmp")
        nbytes = 0
        with open(tmp, "wb") as fh:
            buf = []
            for _ in range(rows):
                line = (json.dumps(make_row(rng, pools), ensure_ascii=False, separators=(",", ":")) + "\n").encode()
                buf.append(line)
                if len(buf) >= 1000:
                    chunk = b"".join(buf)
                    digest.update(chunk)
                    fh.write(chunk)
                    nbytes += len(chunk)
                    buf = []
            chunk = b"".join(buf)
            digest.update(chunk)
            fh.write(chunk)
            nbytes += len(chunk)
        os.replace(tmp, final)
        stamp(final)
        files.append({"name": final.name, "rows": rows, "bytes": nbytes, "sha256": digest.hexdigest()})
        written += rows
        total_bytes += nbytes
        if log and (index % 10 == 9 or written == size):
            log(f"generated {written:,}/{size:,} rows")
    row_seconds = time.perf_counter() - rows_started
    manifest = {
        **_params(size, seed, rows_per_file, entities),
        "reuters_files": pools.reuters_files,
        "pools": {
            "paragraphs": len(pools.paragraphs),
            "titles": len(pools.titles),
            "entity_universe": len(pools.universe),
            "sources": len(pools.sources),
        },
        "files": files,
        "bytes": total_bytes,
        "pool_seconds": round(pool_seconds, 3),
        "row_seconds": round(row_seconds, 3),
        "rows_per_s": round(size / row_seconds, 1) if row_seconds else None,
        "mb_per_s": round(total_bytes / 2**20 / row_seconds, 2) if row_seconds else None,
        "python": sys.version.split()[0],
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def main(argv: list[str] | None = None) -> int:
    from .corpus import reuters_dir, reuters_files
    from .stats import Log

    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=DEFAULT_SIZE, help=f"rows (default {DEFAULT_SIZE:,})")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--rows-per-file", type=int, default=DEFAULT_ROWS_PER_FILE)
    parser.add_argument("--entities", type=int, default=DEFAULT_ENTITIES, help="size of the entity universe")
    parser.add_argument("--reuters", help="Reuters-21578 folder (default $NEWSFACET_REUTERS or ../shared/...)")
    args = parser.parse_args(argv)
    if args.size < 1 or args.rows_per_file < 1 or args.entities < 1:
        parser.error("--size, --rows-per-file and --entities must be positive")
    manifest = generate(
        Path(args.out),
        reuters_files(reuters_dir(args.reuters)),
        args.size,
        args.seed,
        args.rows_per_file,
        args.entities,
        Log(),
    )
    print(
        f"{manifest['size']:,} rows in {len(manifest['files'])} files, {manifest['bytes'] / 2**20:.1f} MiB; "
        f"{manifest['rows_per_s']:,.0f} rows/s, {manifest['mb_per_s']:.1f} MiB/s "
        f"(+{manifest['pool_seconds']:.1f} s reading Reuters)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
