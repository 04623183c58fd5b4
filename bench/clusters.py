"""``python -m bench clusters``: near-duplicate clusters (search/clusters.py) measured on Reuters-21578.

Reads the stories with the project's reader (:func:`search.readers.iter_sources`)
and fingerprints each Source's body text as read (``Source.content``; the
cleaning pipeline is not run, so the bodies still carry what the cleaner
would strip).  Reports:

* the cost: fingerprinting (µs an article, docs/s), assignment to clusters
  (``ClusterIndex.add``, docs/s), and the read stage's docs/s with and without
  both, with the share clustering would add to an indexer at 150 docs/s;
* the clusters: how many of two or more, the articles in them, sizes;
* precision: the exact 5-shingle Jaccard of every pair of articles that share
  a cluster (shares ≥ 0.8 and ≥ 0.7), at 128 and at 64 permutations;
* recall on generated rewrites of 500 stories (seeded): re-headlined,
  re-paragraphed, bylined, boilerplated and one-sentence-edited copies, the
  share that land in their original's cluster and the false merges;
* memory: the resident growth of an index of ``--scale`` synthetic
  articles, per article and extrapolated to 1M;
* 20 clusters printed for a person to judge.

Usage::

    python -m bench clusters [--reuters DIR] [--limit N] [--scale N] [--seed N]
"""

from __future__ import annotations

import argparse
import itertools
import random
import re
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from search.clusters import ClusterIndex, fingerprint, jaccard

from .corpus import REUTERS_GLOB, reuters_dir

INDEXER_DOCS_PER_S = 150
REWRITES = 500
SHOW = 20
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
BOILERPLATE = ("Subscribe to our newsletter for the day's top stories.", "© 2024 Example Media. All rights reserved.")
HEADLINES = ("Markets brace for more", "What the figures mean for you", "Update: officials respond")
BYLINES = ("By Jane Doe, Staff Writer", "By John Roe in London", "From our correspondent")


def load(folder: Path, limit: int | None) -> tuple[list[tuple[str, str, str | None, str]], float]:
    """``(path, title, date, body)`` of each story, and the seconds reading took."""
    from search.document import Source
    from search.readers import iter_sources
    from search.settings import Options

    files = sorted(folder.glob(REUTERS_GLOB))
    start = time.perf_counter()
    out = []
    for source in iter_sources(files, Options()):
        if isinstance(source, Source):
            out.append((source.path, source.title or "", source.date, source.content or ""))
            if limit and len(out) >= limit:
                break
    return out, time.perf_counter() - start


def sort_key(date: str | None, article_id: str) -> str:
    return f"{date or '9999'}|{article_id}"


def build(stories, fps: list[bytes]) -> tuple[ClusterIndex, float]:
    ix = ClusterIndex()
    start = time.perf_counter()
    for (path, _title, date, _body), fp in zip(stories, fps, strict=True):
        ix.add(path, fp, sort_key(date, path))
    return ix, time.perf_counter() - start


def precision(ix: ClusterIndex, bodies: dict[str, str], sample: int,
              rng: random.Random) -> tuple[int, float, float, float]:
    """Pairs sharing a cluster: their count, shares with exact Jaccard ≥ 0.8 and ≥ 0.7, and the lowest."""
    pairs = [p for c in ix.clusters() for p in itertools.combinations(c, 2)]
    pairs.sort()
    if len(pairs) > sample:
        pairs = rng.sample(pairs, sample)
    js = [jaccard(bodies[a], bodies[b]) for a, b in pairs]
    if not js:
        return 0, 0.0, 0.0, 0.0
    return len(pairs), float(np.mean([j >= 0.8 for j in js])), float(np.mean([j >= 0.7 for j in js])), min(js)


def rewrites(body: str, title: str, rng: random.Random, donor: str) -> dict[str, str]:
    """Copies of *body* as syndication makes them, one per kind, and one with every change at once."""
    paras = [p for p in body.split("\n\n") if p.strip()]
    sentences = _SENTENCE.split(body.replace("\n\n", " "))
    donor_sentences = [s for s in _SENTENCE.split(donor.replace("\n\n", " ")) if len(s.split()) >= 6] or [donor]
    edited = list(sentences)
    edited[rng.randrange(len(edited))] = rng.choice(donor_sentences)

    def regroup(ps: list[str]) -> list[str]:
        # Paragraph breaks moved: every sentence boundary may start a paragraph.
        ss = _SENTENCE.split(" ".join(ps))
        out, cur = [], []
        for s in ss:
            cur.append(s)
            if rng.random() < 0.4:
                out.append(" ".join(cur))
                cur = []
        return out + ([" ".join(cur)] if cur else [])

    copies = {
        "reheadlined": "\n\n".join([rng.choice(HEADLINES) + ": " + title, *paras]),
        "reparagraphed": "\n\n".join(regroup(paras)),
        "bylined": "\n\n".join([rng.choice(BYLINES), *paras]),
        "boilerplate": "\n\n".join([BOILERPLATE[0], *paras, BOILERPLATE[1]]),
        "one sentence edited": " ".join(edited),
    }
    copies["all at once"] = "\n\n".join([rng.choice(BYLINES), *regroup([" ".join(edited)]), BOILERPLATE[1]])
    return copies


def recall(stories, ix: ClusterIndex, rng: random.Random, out: Callable[[str], None]) -> None:
    stories_by = {s[0]: s[3] for s in stories}
    candidates = [s for s in stories if len(s[3].split()) >= 80 and len(_SENTENCE.split(s[3])) >= 3]
    chosen = rng.sample(candidates, min(REWRITES, len(candidates)))
    base_state = ix.to_bytes()
    trial = ClusterIndex(state=base_state)
    before = {path: trial.cluster_of(path) for path, *_ in stories}
    kinds: dict[str, list[bool]] = {}
    false_merges: dict[str, int] = {}
    copy_of: dict[str, str] = {}
    exact: dict[str, float] = {}
    merged: set[tuple[str, ...]] = set()
    for path, title, date, body in chosen:
        donor = rng.choice(candidates)[3]
        for kind, text in rewrites(body, title, rng, donor).items():
            cid = f"{path}#copy:{kind}"
            copy_of[cid] = path
            exact[cid] = jaccard(body, text)
            trial.add(cid, fingerprint(text), sort_key(date, cid))
    for cid, original in copy_of.items():
        kind = cid.split("#copy:")[1]
        kinds.setdefault(kind, []).append((trial.cluster_of(cid) == trial.cluster_of(original), exact[cid] >= 0.8))
        # A false merge: the copy's cluster holds stories that were in no cluster with its original.
        mates = {copy_of.get(m, m) for m in trial.members(trial.cluster_of(cid))}
        own = {m for m in ix.members(before[original])} or {original}
        if mates - own - {original}:
            false_merges[kind] = false_merges.get(kind, 0) + 1
            merged.add((original, *sorted(mates - own - {original})))
    out(f"recall on generated rewrites of {len(chosen)} Reuters stories of >= 80 words (seeded):")
    out("  (kind: share in their original's cluster; among the copies whose exact Jaccard to it is >= 0.8)")
    for kind, hits in [*kinds.items(), ("all kinds", [h for per_kind in kinds.values() for h in per_kind])]:
        close = [h for h, near in hits if near]
        out(f"  {kind:20} {np.mean([h for h, _ in hits]):6.1%} of {len(hits)};"
            f" {np.mean(close) if close else 0:6.1%} of {len(close)} at J >= 0.8;"
            f" false merges {sum(false_merges.values()) if kind == 'all kinds' else false_merges.get(kind, 0)}")
    for group in sorted(merged):
        pairs = ", ".join(f"{jaccard(stories_by[group[0]], stories_by[m]):.2f}" for m in group[1:])
        out(f"  merged across stories: {' + '.join(group)} (exact Jaccard to the first: {pairs})")


def memory(n: int, out: Callable[[str], None]) -> None:
    """Resident growth of an index of *n* synthetic articles (random signatures, ids like the indexer's)."""

    def rss() -> int:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0

    rng = np.random.default_rng(1)
    sigs = rng.integers(0, 1 << 16, size=(n, 128), dtype=np.uint16)
    start_rss = rss()
    ix = ClusterIndex()
    start = time.perf_counter()
    for i in range(n):
        ix.add(f"reut2-{i // 1000:03d}.sgm/{i}", sigs[i].tobytes(), f"1987-03-{i % 28 + 1:02d}|reut2-{i}")
    took = time.perf_counter() - start
    grown = rss() - start_rss
    state = ix.to_bytes()
    start = time.perf_counter()
    ClusterIndex(state=state)
    load_s = time.perf_counter() - start
    out(f"memory: {n:,} synthetic articles: add {n / took:,.0f} docs/s; resident +{grown / 2**20:,.0f} MiB"
        f" ({grown / n:,.0f} B/article -> ~{grown / n * 1e6 / 2**20:,.0f} MiB for 1M);"
        f" state {len(state) / n:,.0f} B/article; load {load_s:.2f} s")


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m bench clusters", description=__doc__.split("\n")[0])
    p.add_argument("--reuters", help="Reuters-21578 folder (default $NEWSFACET_REUTERS or ../shared/corpora/...)")
    p.add_argument("--limit", type=int, help="only the first N stories")
    p.add_argument("--scale", type=int, default=200_000, help="synthetic articles for the memory figure (0: skip)")
    p.add_argument("--seed", type=int, default=14)
    args = p.parse_args(argv)
    folder = reuters_dir(args.reuters)
    if not any(folder.glob(REUTERS_GLOB)):
        print(f"bench clusters: no {REUTERS_GLOB} in {folder}; set --reuters DIR or NEWSFACET_REUTERS. Skipped.")
        return 0
    out = print
    stories, read_s = load(folder, args.limit)
    n = len(stories)
    bodies = {s[0]: s[3] for s in stories}
    out(f"bench clusters: {n:,} Reuters stories from {folder}; bodies as the reader gives them (no cleaning)")

    start = time.perf_counter()
    fps = [fingerprint(s[3]) for s in stories]
    fp_s = time.perf_counter() - start
    ix, add_s = build(stories, fps)
    empty = sum(1 for f in fps if not f)
    out(f"fingerprint: {fp_s / n * 1e6:,.0f} µs/article ({n / fp_s:,.0f} docs/s); {empty} bodies under 5 words"
        f" (never cluster)")
    out(f"assignment:  {add_s / n * 1e6:,.0f} µs/article ({n / add_s:,.0f} docs/s) into ClusterIndex.add")
    out(f"read stage:  {n / read_s:,.0f} docs/s without clustering, {n / (read_s + fp_s + add_s):,.0f} docs/s with;"
        f" at an indexer's {INDEXER_DOCS_PER_S} docs/s clustering adds"
        f" {(fp_s + add_s) / n * INDEXER_DOCS_PER_S:.1%} (fingerprints run in the extraction workers)")
    state = ix.to_bytes()
    start = time.perf_counter()
    ClusterIndex(state=state)
    out(f"state:       {len(state) / 2**20:.1f} MiB, loads in {time.perf_counter() - start:.2f} s")

    st = ix.stats()
    out(f"clusters:    {st['clusters']} of size >= 2 holding {st['clustered_articles']} articles"
        f" (threshold {ix.threshold}, {ix.num_perm} permutations, {ix.bands} bands x {ix.rows} rows);"
        f" largest {st['largest']}")
    out("sizes:       " + ", ".join(f"{k}: {v}" for k, v in st["sizes"].items()))
    rng = random.Random(args.seed)
    pairs, p80, p70, low = precision(ix, bodies, 2000, rng)
    out(f"precision:   {pairs} pairs sharing a cluster: exact 5-shingle Jaccard >= 0.8: {p80:.1%}, >= 0.7: {p70:.1%};"
        f" lowest {low:.2f}")
    fps64 = [fingerprint(s[3], num_perm=64) for s in stories]
    ix64, _ = build(stories, fps64)
    st64 = ix64.stats()
    pairs64, q80, q70, low64 = precision(ix64, bodies, 2000, random.Random(args.seed))
    out(f"  with 64 permutations: {st64['clusters']} clusters, {st64['clustered_articles']} articles; {pairs64} pairs:"
        f" >= 0.8: {q80:.1%}, >= 0.7: {q70:.1%}; lowest {low64:.2f}")
    recall(stories, ix, random.Random(args.seed), out)
    if args.scale:
        memory(args.scale, out)

    out(f"\n{SHOW} clusters for a person to judge (seeded sample; id, size, up to 4 members):")
    titles = {s[0]: (s[1] or s[3]) for s in stories}
    multi = sorted(ix.clusters(), key=lambda c: c[0])
    for members in random.Random(args.seed).sample(multi, min(SHOW, len(multi))):
        out(f"- {members[0]}  size {len(members)}")
        for m in members[:4]:
            text = " ".join(titles[m].split())[:80]
            out(f"    {m:28} {text}")
    return 0
