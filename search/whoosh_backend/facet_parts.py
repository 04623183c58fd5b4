"""Each segment's share of the facet tables, read once and reused.

:meth:`.facets.FacetTables.from_reader` needs, for every document, its date,
indexing time and field lengths, and for every entity and cluster term, its
documents.  A segment never changes once written (only its deletions do,
and they are applied afterwards with the live mask), so its share can be read
once: the writer processes read the segment each has just written while the
run's process waits for them anyway, and a run's second commit (the entity
rewrites) reuses the shares of the segments its first commit wrote instead
of reading the whole index again in the one process a run waits on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import schema as S
from .store import leaf_postings


@dataclass
class SegmentParts:
    """One segment's columns, field lengths and entity and cluster postings, by
    segment-local document number, deleted documents included."""

    date_num: np.ndarray
    indexed_num: np.ndarray
    lengths: dict[str, np.ndarray]
    postings: dict[str, dict[bytes, np.ndarray]]  # field (entity, cluster) -> term -> documents

    @classmethod
    def read(cls, segment) -> SegmentParts:
        """The share of *segment*, a Whoosh ``SegmentReader``."""
        n = segment.doc_count_all()
        return cls(
            date_num=_column(segment, S.DATE_NUM, n, np.int32),
            indexed_num=_column(segment, S.INDEXED_NUM, n, np.int64),
            lengths={name: np.fromiter((segment.doc_field_length(d, name, 1) for d in range(n)),
                                       dtype=np.float32, count=n) for name in S.DEFAULT_FIELDS},
            postings={field: {raw: np.fromiter(leaf_postings(segment, field, raw).all_ids(), dtype=np.int32)
                              for raw in segment.lexicon(field)}
                      for field in (S.ENTITY, S.CLUSTER) if field in segment.schema},
        )


def _column(segment, field: str, n: int, dtype) -> np.ndarray:
    if not segment.has_column(field):
        return np.zeros(n, dtype=dtype)
    col = segment.column_reader(field)
    return np.fromiter((col[i] for i in range(n)), dtype=dtype, count=n)


class PartsCache:
    """The shares of the segments read so far, by segment id."""

    def __init__(self):
        self._parts: dict[str, SegmentParts] = {}

    def put(self, segment_id: str, parts: SegmentParts) -> None:
        self._parts[segment_id] = parts

    def of(self, reader) -> list[tuple[SegmentParts, int]]:
        """``(share, offset of its first document)`` of each segment of *reader*, read where not known;
        only the segments of *reader* are kept."""
        found = []
        keep = {}
        for segment, offset in reader.leaf_readers():
            info = segment.segment() if hasattr(segment, "segment") else None
            if info is None:  # an empty index's reader
                found.append((SegmentParts.read(segment), offset))
                continue
            key = info.segment_id()
            parts = keep[key] = self._parts.get(key) or SegmentParts.read(segment)
            found.append((parts, offset))
        self._parts = keep
        return found


def live_postings(shares: list[tuple[SegmentParts, int]], field: str, live: np.ndarray):
    """``(term bytes, live document numbers)`` of every term of *field* in *shares*, in term order."""
    found: dict[bytes, list[np.ndarray]] = {}
    for parts, offset in shares:
        for raw, ids in parts.postings.get(field, {}).items():
            found.setdefault(raw, []).append(ids + offset)
    for raw in sorted(found):
        ids = np.concatenate(found[raw]) if len(found[raw]) > 1 else found[raw][0]
        yield raw, ids[live[ids]]
