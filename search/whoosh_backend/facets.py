"""Facet counts over a whole result set, from compact per-document arrays.

Whoosh's own ``groupedby`` faceting walks stored values per document and is
far too slow for interactive drill-down (and crashes on a field with term
vectors when a document has no value).  Here every reader generation is
turned once into numpy arrays:

* ``date_num[doc]`` — ``YYYYMMDD`` with zero for unknown parts, 0 undated;
* entity postings as two parallel arrays ``(doc, term)``,

so counting a facet for any set of matching documents is one boolean gather
and one ``bincount``.  The functions return plain lists of dicts, as the
query service hands them on.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..aliases import alias_key
from ..model import UNDATED, DateFilter, FacetValue
from . import schema as S


@dataclass
class FacetTables:
    """Per-document facet values of one index reader."""

    doc_count_all: int
    date_num: np.ndarray  # int32 [doc]
    indexed_num: np.ndarray  # int64 [doc]: epoch ms the article was indexed
    live: np.ndarray  # bool [doc]: not deleted
    terms: list[tuple[str, str]]  # term id -> (value, type)
    post_doc: np.ndarray  # int32 [posting]
    post_term: np.ndarray  # int32 [posting]
    by_value: dict[str, list[int]]  # value -> term ids (one per type it was given)
    name_rank: np.ndarray  # int32 [term]: alphabetical rank, to break count ties
    by_type: dict[str, np.ndarray]  # type -> its term ids
    # Field lengths as Whoosh's BM25F sees them (quantised), for array scoring.
    lengths: dict[str, np.ndarray] = field(default_factory=dict)
    # Spelling key -> canonical value, from the resolver state beside the index
    # (filled on first use by the query service): a filter on a merged
    # spelling ("Abu Marzouk") means the value it was merged into.
    spelling_values: dict[str, str] | None = None

    def canonical(self, value: str) -> str:
        """The facet value *value* names: itself, or the value its spelling was merged into."""
        if value in self.by_value or not self.spelling_values:
            return value
        return self.spelling_values.get(alias_key(value), value)

    @classmethod
    def from_reader(cls, reader) -> FacetTables:
        """Read the arrays out of an index reader (seconds on a large index)."""
        n = reader.doc_count_all()
        date_num = np.zeros(n, dtype=np.int32)
        if reader.has_column(S.DATE_NUM):
            col = reader.column_reader(S.DATE_NUM)
            date_num = np.fromiter((col[i] for i in range(n)), dtype=np.int32, count=n)
        indexed_num = np.zeros(n, dtype=np.int64)
        if reader.has_column(S.INDEXED_NUM):
            col = reader.column_reader(S.INDEXED_NUM)
            indexed_num = np.fromiter((col[i] for i in range(n)), dtype=np.int64, count=n)
        live = np.ones(n, dtype=bool)
        if reader.has_deletions():
            for d in range(n):
                if reader.is_deleted(d):
                    live[d] = False
        terms: list[tuple[str, str]] = []
        docs_parts: list[np.ndarray] = []
        term_parts: list[np.ndarray] = []
        for raw in reader.lexicon(S.ENTITY):
            text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
            ids = np.fromiter(reader.postings(S.ENTITY, raw).all_ids(), dtype=np.int32)
            ids = ids[live[ids]]
            if not len(ids):
                continue
            tid = len(terms)
            terms.append(S.split_entity_term(text))
            docs_parts.append(ids)
            term_parts.append(np.full(len(ids), tid, dtype=np.int32))
        post_doc = np.concatenate(docs_parts) if docs_parts else np.zeros(0, dtype=np.int32)
        post_term = np.concatenate(term_parts) if term_parts else np.zeros(0, dtype=np.int32)
        lengths = {
            name: np.fromiter((reader.doc_field_length(d, name, 1) for d in range(n)), dtype=np.float32, count=n)
            for name in S.DEFAULT_FIELDS
        }
        return cls.from_arrays(date_num, indexed_num, live, terms, post_doc, post_term, lengths)

    @classmethod
    def from_arrays(cls, date_num, indexed_num, live, terms, post_doc, post_term, lengths=None) -> FacetTables:
        """Assemble tables from their stored arrays, deriving the lookup structures."""
        terms = [tuple(t) for t in terms]
        by_value: dict[str, list[int]] = {}
        by_type: dict[str, list[int]] = {}
        for tid, (value, type_) in enumerate(terms):
            by_value.setdefault(value, []).append(tid)
            by_type.setdefault(type_, []).append(tid)
        names = sorted(range(len(terms)), key=lambda t: (terms[t][0].casefold(), terms[t][1]))
        name_rank = np.empty(len(terms), dtype=np.int32)
        name_rank[names] = np.arange(len(terms), dtype=np.int32)
        by_type_arrays = {t: np.asarray(ids, dtype=np.int64) for t, ids in by_type.items()}
        return cls(len(live), date_num, indexed_num, live, terms, post_doc, post_term, by_value, name_rank,
                   by_type_arrays, dict(lengths or {}))

    def save(self, path: Path) -> None:
        """Write the tables beside the index generation they describe (atomically)."""
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez(tmp, date_num=self.date_num, indexed_num=self.indexed_num, live=self.live,
                 post_doc=self.post_doc, post_term=self.post_term,
                 terms=np.asarray(json.dumps(self.terms, ensure_ascii=False)),
                 **{f"length_{name}": arr for name, arr in self.lengths.items()})
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> FacetTables | None:
        """Tables saved by :meth:`save`, or None when missing or unreadable."""
        try:
            with np.load(path, allow_pickle=False) as data:
                lengths = {k[len("length_"):]: data[k] for k in data.files if k.startswith("length_")}
                return cls.from_arrays(data["date_num"], data["indexed_num"], data["live"],
                                       json.loads(str(data["terms"])), data["post_doc"], data["post_term"], lengths)
        except (OSError, ValueError, KeyError):
            return None

    def mask(self, docnums: np.ndarray) -> np.ndarray:
        m = np.zeros(self.doc_count_all, dtype=bool)
        m[docnums] = True
        return m

    def entity_counts(self, mask: np.ndarray) -> np.ndarray:
        """Matching documents per entity term id."""
        return np.bincount(self.post_term[mask[self.post_doc]], minlength=len(self.terms))

    def all_entity_counts(self) -> np.ndarray:
        return np.bincount(self.post_term, minlength=len(self.terms))


def load_spelling_values(state_path: Path) -> dict[str, str]:
    """Spelling key -> canonical value of every merged spelling in a resolver state file."""
    try:
        state = json.loads(state_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    out: dict[str, str] = {}
    for cluster in (state.get("clusters") or {}).values():
        value = cluster.get("value")
        if not isinstance(value, str):
            continue
        for spelling in cluster.get("spellings") or {}:
            out.setdefault(alias_key(spelling), value)
    for cluster in (state.get("clusters") or {}).values():
        if isinstance(cluster.get("value"), str):
            out[alias_key(cluster["value"])] = cluster["value"]  # a value always names itself
    return out


def entity_facet(tables: FacetTables, mask: np.ndarray, selected: tuple[str, ...], limit: int) -> list[FacetValue]:
    """Entity values with counts over the matching documents, most frequent first.

    Up to *limit* values of each type are listed, so a sidebar can show its
    People, Organisations and Places sections even when one type dominates.
    Selected values are always listed (even past *limit*) so a user can see
    and remove them.  Equal counts are listed alphabetically.
    """
    counts = tables.entity_counts(mask)
    selected = tuple(tables.canonical(v) for v in selected)
    chosen = set(selected)
    out: list[FacetValue] = []
    listed: set[int] = set()
    for tids in tables.by_type.values():
        c = counts[tids]
        nz = np.flatnonzero(c)
        if not len(nz):
            continue
        if len(nz) > limit:
            # Everything that ties with the limit-th count, then an exact order below.
            cut = np.partition(c[nz], len(nz) - limit)[len(nz) - limit]
            nz = nz[c[nz] >= cut]
        order = nz[np.lexsort((tables.name_rank[tids[nz]], -c[nz]))][:limit]
        listed.update(int(t) for t in tids[order])
    for value in selected:
        listed.update(tables.by_value.get(value, []))
    for tid in listed:
        value, t = tables.terms[tid]
        out.append({"value": value, "type": t, "count": int(counts[tid]), "selected": value in chosen})
    out.sort(key=lambda d: (-d["count"], d["value"].casefold(), d["type"]))
    return out


def date_facet(tables: FacetTables, mask: np.ndarray, date: DateFilter | None) -> list[FacetValue]:
    """Counts one level below the *date* filter: years, then months, then days.

    At the top level the undated bucket is listed too.  Buckets are in date
    order, as a timeline reads.
    """
    nums = tables.date_num[mask]
    if date is not None and date.level == "day":
        # A day is the finest level: list the day itself.
        return [{"value": date.value, "count": int(len(nums)), "selected": True}]
    if date is None or date.level == UNDATED:
        dated = nums[nums > 0]
        keys, counts = np.unique(dated // 10000, return_counts=True)
        out: list[FacetValue] = [
            {"value": f"{k:04d}", "count": int(c), "selected": False} for k, c in zip(keys, counts, strict=True)]
        undated = int((nums == 0).sum())
        if undated:
            out.append({"value": UNDATED, "count": undated, "selected": date is not None})
        return out
    if date.level == "year":
        months = (nums // 100) % 100
        keys, counts = np.unique(months[months > 0], return_counts=True)
    else:
        days = nums % 100
        keys, counts = np.unique(days[days > 0], return_counts=True)
    return [{"value": f"{date.value}-{k:02d}", "count": int(c), "selected": False}
            for k, c in zip(keys, counts, strict=True)]
