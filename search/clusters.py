"""Near-duplicate ("syndicated copy") clusters of articles, engine-free.

Wire stories reach a news collection many times: the same copy re-headlined,
re-paragraphed, with another byline or site boilerplate, or re-sent with one
sentence corrected.  This module finds those copies so that results can
collapse them into one story.  It knows nothing of the index, the backend or
the web front end; the indexer calls it:

* :func:`fingerprint` (in the extraction worker processes) turns an article's
  cleaned body into a compact MinHash signature, as picklable ``bytes``;
* :class:`ClusterIndex` holds the signatures of the whole collection and keeps
  its clusters up to date as articles are added, replaced and removed, and
  tells the indexer which articles' cluster ids changed (:meth:`take_changed`).

The similarity is the Jaccard index of the two bodies' sets of 5-word
shingles (after case folding, accent folding and dropping punctuation),
estimated from ``NUM_PERM`` MinHash values.  Two articles are *linked* when
the estimate is at least the threshold (0.8 by default); a cluster is a
connected component of links.  The links are a function of the two
signatures alone, so the clusters do not depend on the order articles were
added, replaced or removed in: an incremental run gives exactly the clusters
a build from scratch over the same articles gives.

A cluster's id is the article id of its earliest member (smallest sort key,
then article id), so it is stable while that member stays; a singleton's id
is its own article id.

Choices, by measurement on Reuters-21578 (``python -m bench clusters``;
the figures are in the commit that made each choice):

* MinHash in numpy, not datasketch: on Reuters bodies (128 words on average)
  datasketch's ``MinHash.update_batch`` costs 340 µs (64 permutations) to
  420 µs (128) per article on top of ~110 µs of shingling in Python, because
  it SHA1-hashes each shingle in a Python loop; hashing each *word* once
  (CRC32), combining five word hashes into a shingle hash and applying the
  permutations as one numpy multiply-shift costs ~135 µs (64) to ~170 µs
  (128) per article in all, normalisation included.  numpy is already a
  dependency; datasketch would add scipy as well.
* ``NUM_PERM = 128`` kept as 16-bit values (b-bit MinHash, b = 16): the
  estimate's standard deviation at J = 0.8 is 0.035 (0.05 with 64), so a
  pair whose true Jaccard is 0.7 is linked ~0.6 % of the time (~5 % with
  64); keeping only the low 16 bits of each minimum halves the memory (256
  bytes an article) at a false-agreement rate of 2^-16 a value.
* LSH banding with rows chosen from the threshold so that it never misses a
  link: with ``r`` rows a band and ``b = NUM_PERM // r`` bands, two
  signatures that agree on at least ``need`` values disagree on at most
  ``NUM_PERM - need`` values, and when that is fewer than ``b`` some band is
  wholly equal (pigeonhole), so the pair is a candidate.  At 0.8 that gives
  32 bands of 4 rows.  Banding only proposes candidates; every link is
  verified on the whole signature.
* Connected components, not a stricter rule (yet): on Reuters 92.4 % of the
  608 pairs sharing a cluster have an exact Jaccard >= 0.8 and 95.9 % >= 0.7
  (lowest 0.59, inside chains of market-report updates such as "NY COMEX
  ALUMINUM 10:31 / 11:01 / 11:31"); no merge across different stories was
  seen on 3,000 generated rewrites.

A body with fewer than ``SHINGLE`` words has the empty fingerprint
``b""``: such an article never clusters, not even with an identical copy of
itself, because four words ("No text", "Reuters") are no evidence that two
articles are the same story.
"""

from __future__ import annotations

import io
import math
import re
import zlib
from collections.abc import Iterable, Iterator

import numpy as np

from search.textnorm import fold

SHINGLE = 5
NUM_PERM = 128
DEFAULT_THRESHOLD = 0.8
# Fixed seed: the same body gives the same fingerprint in every process and run.
SEED = 20_141_401
# Shingles hashed at a time: bounds the (NUM_PERM x shingles) temporary of a huge body.
_CHUNK = 4096
_WORD = re.compile(r"[^\W_]+")
_STATE_VERSION = 1
# Buffered band entries become a sorted run past this many (a dict entry costs ~100 bytes, a run's 8).
_BUFFER = 1 << 16


def _rng_params(num_perm: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng([SEED, num_perm])
    # Odd multipliers: multiply-shift hashing of 64-bit shingle hashes to 32 bits.
    mult = rng.integers(1, 2**63, size=(num_perm, 1), dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    add = rng.integers(0, 2**63, size=(num_perm, 1), dtype=np.uint64)
    combine = rng.integers(1, 2**63, size=SHINGLE, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    return mult, add, combine


_PARAMS: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}


def _params(num_perm: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if num_perm not in _PARAMS:
        _PARAMS[num_perm] = _rng_params(num_perm)
    return _PARAMS[num_perm]


def words(body: str) -> list[str]:
    """The words of *body* as shingled: case and accents folded, punctuation dropped."""
    return _WORD.findall(fold(body))


def shingle_text(body: str) -> list[str]:
    """The 5-word shingles of *body* (what the Jaccard similarity is over), in text order."""
    w = words(body)
    return [" ".join(w[i : i + SHINGLE]) for i in range(len(w) - SHINGLE + 1)]


def _shingle_hashes(w: list[str]) -> np.ndarray:
    """64-bit hashes of the 5-word shingles of *w*, from one CRC32 per word (cheaper than one per shingle)."""
    h = np.fromiter((zlib.crc32(x.encode()) for x in w), dtype=np.uint64, count=len(w))
    n = len(w) - SHINGLE + 1
    combine = _params(NUM_PERM)[2]
    with np.errstate(over="ignore"):
        sh = h[0:n] * combine[0]
        for j in range(1, SHINGLE):
            sh = sh + h[j : j + n] * combine[j]
        # Fold the high bits down: the multiply-shift below reads the product's top half.
        sh ^= sh >> np.uint64(29)
    return sh


def fingerprint(body: str, num_perm: int = NUM_PERM) -> bytes:
    """The MinHash signature of *body*'s 5-word shingles: ``num_perm`` 16-bit values, as bytes.

    ``b""`` for a body of fewer than 5 words: it never clusters (see the module docstring).
    """
    w = words(body)
    if len(w) < SHINGLE:
        return b""
    sh = _shingle_hashes(w)
    mult, add, _ = _params(num_perm)
    low = np.full(num_perm, np.iinfo(np.uint64).max, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for start in range(0, len(sh), _CHUNK):
            block = sh[None, start : start + _CHUNK]
            np.minimum(low, ((mult * block + add) >> np.uint64(32)).min(axis=1), out=low)
    # The low 16 bits of each 32-bit minimum: uniform, unlike its (small) high bits.
    return (low & np.uint64(0xFFFF)).astype("<u2").tobytes()


def estimate(a: bytes, b: bytes) -> float:
    """The Jaccard similarity two fingerprints estimate (0.0 when either is empty)."""
    if not a or not b or len(a) != len(b):
        return 0.0
    return float(np.mean(np.frombuffer(a, "<u2") == np.frombuffer(b, "<u2")))


def jaccard(a: str, b: str) -> float:
    """The exact Jaccard similarity of two bodies' 5-word shingle sets (for measuring the estimate)."""
    sa, sb = set(shingle_text(a)), set(shingle_text(b))
    if not sa or not sb:
        return 0.0
    return len(sa & sb) / len(sa | sb)


def band_rows(threshold: float, num_perm: int = NUM_PERM) -> int:
    """Rows per LSH band: the most for which every pair at *threshold* shares a band (pigeonhole)."""
    need = _need(threshold, num_perm)
    slack = num_perm - need  # the most values a linked pair may disagree on
    rows = num_perm
    while rows > 1 and num_perm // rows <= slack:
        rows -= 1
    return rows


def _need(threshold: float, num_perm: int) -> int:
    return max(1, math.ceil(threshold * num_perm - 1e-9))


class ClusterIndex:
    """The clusters of a whole collection, kept up to date incrementally.

    :param threshold: the estimated Jaccard similarity at which two articles are linked.
    :param state: bytes from :meth:`to_bytes`; the clusters are recomputed from the
        signatures it holds (so a different *threshold* than the one saved is honoured).
    """

    def __init__(self, threshold: float = DEFAULT_THRESHOLD, state: bytes | None = None):
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], not {threshold}")
        self.threshold = threshold
        self.num_perm = NUM_PERM
        self._setup(NUM_PERM)
        self._ids: dict[str, int] = {}  # article id -> node slot (-1: empty fingerprint)
        self._sort: dict[str, str] = {}  # article id -> sort key
        # A node is one distinct signature; identical signatures share a node, so that a
        # thousand identical copies make one LSH entry and one candidate, not a thousand.
        self._sigs = np.zeros((0, self.num_perm), dtype=np.uint16)
        self._alive = np.zeros(0, dtype=bool)
        self._count = 0  # node slots used
        self._arts: list[str | list[str] | None] = []  # node slot -> its article(s)
        # Only nodes in clusters of two nodes or more have a component; most have none.
        self._comp: dict[int, int] = {}  # node slot -> component token
        self._comp_nodes: dict[int, set[int]] = {}
        self._head: dict[int, str] = {}  # component token -> cluster id (cache)
        self._next_token = 0
        # LSH: a dict of recent (band key -> node) entries, flushed into sorted numpy runs of
        # 32-bit keys and nodes; a run is merged into the one before once half its size (so there
        # are O(log n) runs and each entry is re-sorted O(log n) times).  A 32-bit key collides by
        # chance with ~n/2^32 entries a band: a few spurious candidates, each verified away.
        self._runs: list[tuple[np.ndarray, np.ndarray]] = []
        self._buffer: dict[int, int | list[int]] = {}
        self._before: dict[str, tuple[str, int] | None] = {}  # state before first change since take
        if state is not None:
            self._load(state)

    def _setup(self, num_perm: int) -> None:
        self.num_perm = num_perm
        self._need = _need(self.threshold, num_perm)
        self.rows = band_rows(self.threshold, num_perm)
        self.bands = num_perm // self.rows
        rng = np.random.default_rng([SEED, 7])
        self._band_mult = rng.integers(1, 2**63, size=(self.rows,), dtype=np.uint64) * np.uint64(2) + np.uint64(1)
        self._band_tag = rng.integers(0, 2**63, size=(self.bands,), dtype=np.uint64)

    # --- public interface -------------------------------------------------------

    def add(self, article_id: str, fingerprint: bytes, sort_key: str) -> None:
        """Add *article_id*, or replace it (a new fingerprint or sort key) if already present."""
        if fingerprint and len(fingerprint) != 2 * self.num_perm:
            if self._count == 0 and len(fingerprint) % 2 == 0 and not self._ids:
                self._setup(len(fingerprint) // 2)
                self._sigs = np.zeros((0, self.num_perm), dtype=np.uint16)
            else:
                raise ValueError(f"fingerprint of {len(fingerprint)} bytes, expected {2 * self.num_perm}")
        if "\0" in article_id or "\0" in sort_key:
            raise ValueError("article ids and sort keys cannot hold NUL")
        old = self._ids.get(article_id)
        if old is not None:
            if self._sort[article_id] == sort_key and self._same(old, fingerprint):
                return
            self.remove(article_id)
        self._touch((article_id,))
        self._sort[article_id] = sort_key
        if not fingerprint:
            self._ids[article_id] = -1
            return
        sig = np.frombuffer(fingerprint, dtype="<u2").astype(np.uint16)
        keys = self._keys(sig[None, :])[0]
        linked, same = self._neighbours(sig, keys)
        if same is not None:
            # An identical signature: join its node; the clusters' shape is unchanged.
            self._touch(self._cluster_articles(same))
            self._ids[article_id] = same
            arts = self._arts[same]
            self._arts[same] = [*arts, article_id] if isinstance(arts, list) else [arts, article_id]  # type: ignore[list-item]
            self._head.pop(self._comp.get(same, -1), None)
            return
        node = self._new_node(sig, keys, article_id)
        self._ids[article_id] = node
        if linked:
            tokens = {self._comp[n] for n in linked if n in self._comp}
            loose = [n for n in linked if n not in self._comp]
            for t in tokens:
                self._touch(self._component_articles(t))
            for n in loose:
                self._touch(self._node_articles(n))
            nodes = {node, *loose}
            for t in tokens:
                nodes |= self._comp_nodes.pop(t)
                self._head.pop(t, None)
            self._set_component(nodes)

    def remove(self, article_id: str) -> None:
        """Remove *article_id* (no error if absent)."""
        node = self._ids.get(article_id)
        if node is None:
            return
        self._touch(self._cluster_articles(node) if node >= 0 else (article_id,))
        del self._ids[article_id]
        del self._sort[article_id]
        if node < 0:
            return
        arts = self._arts[node]
        if isinstance(arts, list):
            arts.remove(article_id)
            self._arts[node] = arts[0] if len(arts) == 1 else arts
            self._head.pop(self._comp.get(node, -1), None)
            return
        self._arts[node] = None
        self._alive[node] = False
        token = self._comp.pop(node, None)
        if token is None:
            return
        rest = self._comp_nodes.pop(token)
        rest.discard(node)
        self._head.pop(token, None)
        for n in rest:
            del self._comp[n]
        # The component may have split: find the parts among its remaining nodes.
        while rest:
            start = rest.pop()
            part, todo = {start}, [start]
            while todo:
                u = todo.pop()
                linked, _ = self._neighbours(self._sigs[u], self._keys(self._sigs[u][None, :])[0], skip=u)
                for v in linked:
                    if v in rest:
                        rest.discard(v)
                        part.add(v)
                        todo.append(v)
            if len(part) > 1:
                self._set_component(part)

    def cluster_of(self, article_id: str) -> str:
        """The id of *article_id*'s cluster: its earliest member's article id.

        :raises KeyError: for an article not in the index.
        """
        node = self._ids[article_id]
        if node < 0:
            return article_id
        token = self._comp.get(node)
        if token is None:
            arts = self._arts[node]
            return min(arts, key=self._order) if isinstance(arts, list) else arts  # type: ignore[return-value]
        head = self._head.get(token)
        if head is None:
            head = min(self._component_articles(token), key=self._order)
            self._head[token] = head
        return head

    def members(self, cluster_id: str) -> list[str]:
        """The articles of the cluster *cluster_id*, earliest first ([] if it is no cluster's id)."""
        if cluster_id not in self._ids or self.cluster_of(cluster_id) != cluster_id:
            return []
        return sorted(self._cluster_articles(self._ids[cluster_id], cluster_id), key=self._order)

    def size(self, cluster_id: str) -> int:
        """The number of articles in the cluster *cluster_id* (0 if it is no cluster's id)."""
        if cluster_id not in self._ids or self.cluster_of(cluster_id) != cluster_id:
            return 0
        return self._cluster_size(cluster_id)

    def cluster_size_of(self, article_id: str) -> int:
        """The size of *article_id*'s cluster (1 for an article in no cluster)."""
        return self._cluster_size(article_id)

    def clusters(self) -> Iterator[list[str]]:
        """Every cluster of two or more articles, as :meth:`members` lists it, in no fixed order."""
        seen_tokens: set[int] = set()
        for token in self._comp.values():
            if token not in seen_tokens:
                seen_tokens.add(token)
                yield sorted(self._component_articles(token), key=self._order)
        for node in range(self._count):
            arts = self._arts[node]
            if isinstance(arts, list) and node not in self._comp:
                yield sorted(arts, key=self._order)

    def changed(self, with_size: bool = False) -> set[str]:
        """Articles present now whose cluster id changed since load or the last :meth:`take_changed`.

        An article added since counts as changed (it had no cluster id); a removed one is not
        listed.  With *with_size*, an article whose cluster gained or lost members counts too.
        """
        out = set()
        for article_id, before in self._before.items():
            if article_id not in self._ids:
                continue
            if before is None or before[0] != self.cluster_of(article_id):
                out.add(article_id)
            elif with_size and before[1] != self._cluster_size(article_id):
                out.add(article_id)
        return out

    def take_changed(self, with_size: bool = False) -> set[str]:
        """:meth:`changed`, then forget the changes so far."""
        out = self.changed(with_size)
        self._before.clear()
        return out

    def __len__(self) -> int:
        return len(self._ids)

    def ids(self) -> list[str]:
        """Every article id held."""
        return list(self._ids)

    def stored_value(self, article_id: str) -> str:
        """What an index stores for *article_id*: its cluster id when it has copies, else ``""``."""
        cluster = self.cluster_of(article_id)
        return cluster if self.size(cluster) >= 2 else ""

    def __contains__(self, article_id: object) -> bool:
        return article_id in self._ids

    def stats(self) -> dict:
        """Counts: articles, clusters of two or more, articles in them, and the size distribution."""
        sizes = [len(c) for c in self.clusters()]
        buckets = {"2": 0, "3": 0, "4-5": 0, "6-10": 0, ">10": 0}
        for s in sizes:
            key = "2" if s == 2 else "3" if s == 3 else "4-5" if s <= 5 else "6-10" if s <= 10 else ">10"
            buckets[key] += 1
        return {
            "articles": len(self._ids),
            "clusters": len(sizes),
            "clustered_articles": sum(sizes),
            "largest": max(sizes, default=1),
            "sizes": buckets,
        }

    def to_bytes(self) -> bytes:
        """The index as compact bytes (an ``np.savez`` archive): ids, sort keys and signatures."""
        ids = list(self._ids)
        nodes = np.fromiter((self._ids[a] for a in ids), dtype=np.int64, count=len(ids))
        has = nodes >= 0
        sigs = self._sigs[nodes[has]] if len(ids) else np.zeros((0, self.num_perm), np.uint16)
        buf = io.BytesIO()
        np.savez(
            buf,
            version=np.array([_STATE_VERSION, self.num_perm, len(ids)]),
            ids=_pack(ids),
            sort=_pack([self._sort[a] for a in ids]),
            has=has,
            sigs=sigs,
        )
        return buf.getvalue()

    # --- internals ----------------------------------------------------------------

    def _order(self, article_id: str) -> tuple[str, str]:
        return (self._sort[article_id], article_id)

    def _same(self, node: int, fingerprint: bytes) -> bool:
        if node < 0 or not fingerprint:
            return node < 0 and not fingerprint
        return self._sigs[node].astype("<u2").tobytes() == fingerprint

    def _keys(self, sigs: np.ndarray) -> np.ndarray:
        """Band keys, (n, bands) uint32: a hash of each band's rows, tagged with the band."""
        s = sigs[:, : self.bands * self.rows].reshape(len(sigs), self.bands, self.rows).astype(np.uint64)
        with np.errstate(over="ignore"):
            k = (s * self._band_mult).sum(axis=2, dtype=np.uint64) + self._band_tag
            k ^= k >> np.uint64(31)
        return k.astype(np.uint32)

    def _neighbours(self, sig: np.ndarray, keys: np.ndarray, skip: int = -1) -> tuple[list[int], int | None]:
        """Live nodes linked to *sig* (estimate ≥ threshold), and the one equal to it if any."""
        cands: set[int] = set()
        for run_keys, run_nodes in self._runs:
            lo = np.searchsorted(run_keys, keys, "left")
            hi = np.searchsorted(run_keys, keys, "right")
            hit = hi > lo
            if hit.any():
                for a, b in zip(lo[hit].tolist(), hi[hit].tolist(), strict=True):
                    cands.update(run_nodes[a:b].tolist())
        buffer = self._buffer
        for key in keys.tolist():
            hit = buffer.get(key)
            if hit is not None:
                if isinstance(hit, list):
                    cands.update(hit)
                else:
                    cands.add(hit)
        cands.discard(skip)
        if not cands:
            return [], None
        c = np.fromiter(cands, dtype=np.int64, count=len(cands))
        c = c[self._alive[c]]
        agree = (self._sigs[c] == sig).sum(axis=1)
        linked = c[agree >= self._need]
        same = c[agree == self.num_perm]
        return linked.tolist(), (int(same[0]) if len(same) else None)

    def _new_node(self, sig: np.ndarray, keys: np.ndarray, article_id: str) -> int:
        node = self._count
        if node == len(self._sigs):
            grow = max(1024, node // 2)
            self._sigs = np.concatenate([self._sigs, np.zeros((grow, self.num_perm), np.uint16)])
            self._alive = np.concatenate([self._alive, np.zeros(grow, bool)])
        self._sigs[node] = sig
        self._alive[node] = True
        self._arts.append(article_id)
        self._count += 1
        buffer = self._buffer
        for key in keys.tolist():
            hit = buffer.get(key)
            if hit is None:
                buffer[key] = node
            elif isinstance(hit, list):
                hit.append(node)
            else:
                buffer[key] = [hit, node]
        if len(buffer) > _BUFFER:
            self._flush_buffer()
        return node

    def _flush_buffer(self) -> None:
        keys: list[int] = []
        nodes: list[int] = []
        for key, hit in self._buffer.items():
            if isinstance(hit, list):
                keys.extend([key] * len(hit))
                nodes.extend(hit)
            else:
                keys.append(key)
                nodes.append(hit)
        self._buffer = {}
        self._runs.append(self._sorted_run(np.array(keys, dtype=np.uint32), np.array(nodes, dtype=np.uint32)))
        while len(self._runs) > 1 and 2 * len(self._runs[-1][0]) >= len(self._runs[-2][0]):
            (k1, n1), (k2, n2) = self._runs.pop(-2), self._runs.pop()
            self._runs.append(self._sorted_run(np.concatenate([k1, k2]), np.concatenate([n1, n2])))

    def _sorted_run(self, keys: np.ndarray, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        live = self._alive[nodes]  # entries of removed nodes go now
        keys, nodes = keys[live], nodes[live]
        order = np.argsort(keys, kind="stable")
        return keys[order], nodes[order]

    def _set_component(self, nodes: set[int]) -> None:
        token = self._next_token
        self._next_token += 1
        self._comp_nodes[token] = nodes
        for n in nodes:
            self._comp[n] = token

    def _node_articles(self, node: int) -> list[str]:
        arts = self._arts[node]
        return list(arts) if isinstance(arts, list) else [arts]  # type: ignore[list-item]

    def _component_articles(self, token: int) -> list[str]:
        out: list[str] = []
        for n in self._comp_nodes[token]:
            arts = self._arts[n]
            if isinstance(arts, list):
                out.extend(arts)
            else:
                out.append(arts)  # type: ignore[arg-type]
        return out

    def _cluster_articles(self, node: int, article_id: str | None = None) -> list[str]:
        if node < 0:
            return [article_id] if article_id is not None else []
        token = self._comp.get(node)
        return self._component_articles(token) if token is not None else self._node_articles(node)

    def _cluster_size(self, article_id: str) -> int:
        node = self._ids[article_id]
        if node < 0:
            return 1
        token = self._comp.get(node)
        if token is None:
            arts = self._arts[node]
            return len(arts) if isinstance(arts, list) else 1
        return sum(len(a) if isinstance(a, list) else 1 for a in (self._arts[n] for n in self._comp_nodes[token]))

    def _touch(self, articles: Iterable[str]) -> None:
        """Note the cluster id and size of *articles* before a change, once between takes."""
        before = self._before
        for a in articles:
            if a not in before:
                before[a] = (self.cluster_of(a), self._cluster_size(a)) if a in self._ids else None

    def _load(self, state: bytes) -> None:
        with np.load(io.BytesIO(state), allow_pickle=False) as z:
            version, num_perm, count = (int(v) for v in z["version"])
            if version != _STATE_VERSION:
                raise ValueError(f"cluster state version {version}, expected {_STATE_VERSION}")
            ids, sort_keys = _unpack(z["ids"], count), _unpack(z["sort"], count)
            has, sigs = z["has"], z["sigs"]
        self._setup(num_perm)
        self._sort = dict(zip(ids, sort_keys, strict=True))
        with_sig = [a for a, h in zip(ids, has.tolist(), strict=True) if h]
        # Identical signatures share a node.
        if len(sigs):
            uniq, first, inverse = np.unique(sigs, axis=0, return_index=True, return_inverse=True)
            # Nodes numbered in order of first appearance: the same state loads the same way.
            order = np.argsort(first, kind="stable")
            rank = np.empty(len(order), dtype=np.int64)
            rank[order] = np.arange(len(order))
            self._sigs = np.ascontiguousarray(uniq[order])
            node_of = rank[inverse.reshape(-1)]
        else:
            self._sigs = np.zeros((0, num_perm), np.uint16)
            node_of = np.zeros(0, np.int64)
        self._count = len(self._sigs)
        self._alive = np.ones(self._count, dtype=bool)
        self._arts = [None] * self._count
        node_by_id = dict(zip(with_sig, node_of.tolist(), strict=True))
        self._ids = {a: node_by_id.get(a, -1) for a in ids}  # the saved order: to_bytes round-trips
        for a, n in node_by_id.items():
            arts = self._arts[n]
            self._arts[n] = a if arts is None else [*arts, a] if isinstance(arts, list) else [arts, a]
        keys = self._keys(self._sigs)
        flat = keys.reshape(-1)
        nodes = np.repeat(np.arange(self._count, dtype=np.uint32), self.bands)
        self._runs = [self._sorted_run(flat, nodes)] if len(flat) else []
        self._batch_components()

    def _batch_components(self) -> None:
        """Every component from scratch: candidate pairs from equal band keys, verified, then unioned."""
        if not self._runs or len(self._runs[0][0]) < 2:
            return
        keys, nodes = self._runs[0]
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        lengths = np.diff(np.r_[starts, len(keys)])
        pairs: list[np.ndarray] = []
        # Buckets of two (the common case) in one vectorised step; larger ones pair by pair.
        two = starts[lengths == 2]
        if len(two):
            pairs.append(np.stack([nodes[two], nodes[two + 1]], axis=1))
        for s, n in zip(starts[lengths > 2].tolist(), lengths[lengths > 2].tolist(), strict=True):
            members = nodes[s : s + n]
            i, j = np.triu_indices(n, 1)
            pairs.append(np.stack([members[i], members[j]], axis=1))
        if not pairs:
            return
        p = np.concatenate(pairs)
        p = np.sort(p, axis=1)
        p = np.unique(p, axis=0)
        linked = np.zeros(len(p), dtype=bool)
        for s in range(0, len(p), 1 << 16):
            q = p[s : s + (1 << 16)]
            linked[s : s + len(q)] = (self._sigs[q[:, 0]] == self._sigs[q[:, 1]]).sum(axis=1) >= self._need
        parent: dict[int, int] = {}

        def find(x: int) -> int:
            root = x
            while parent.get(root, root) != root:
                root = parent[root]
            while parent.get(x, x) != root:  # path compression
                parent[x], x = root, parent[x]
            return root

        for a, b in p[linked].tolist():
            ra, rb = find(a), find(b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
        groups: dict[int, set[int]] = {}
        for x in parent:
            groups.setdefault(find(x), set()).add(x)
        for root in sorted(groups):
            groups[root].add(root)
            self._set_component(groups[root])


def _pack(strings: list[str]) -> np.ndarray:
    """Strings as one uint8 array: UTF-8 joined by NUL (ids and sort keys hold no NUL)."""
    return np.frombuffer("\0".join(strings).encode("utf-8", "surrogatepass"), dtype=np.uint8)


def _unpack(data: np.ndarray, count: int) -> list[str]:
    strings = data.tobytes().decode("utf-8", "surrogatepass").split("\0") if count else []
    if len(strings) != count:
        raise ValueError(f"cluster state holds {len(strings)} strings, expected {count}")
    return strings
