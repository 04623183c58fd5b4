"""The SQLite FTS5 reference: the same articles and the same query mix, in stdlib ``sqlite3``.

Tables (one file, ``<work>/fts5-<corpus>.sqlite3``):

* ``fts(title, body)`` — FTS5 with ``porter unicode61 remove_diacritics 2``
  (stemmed, case- and accent-folded, like newsfacet's analyzer) and the rank
  ``bm25(2.0, 1.0)`` (title weighted as newsfacet boosts it); ``rowid`` is the
  newsfacet document number + 1;
* ``docs(id, date_num, year, month, day, precision)`` — ``date_num`` is
  ``YYYYMMDD`` with zeros for unknown parts, as in newsfacet;
* ``entity(id, value, type)`` and ``doc_entity(doc, entity)`` — the canonical
  entities newsfacet stored for each article.

A request is answered the way a plain SQL implementation would: the matching
ids go into a temporary table once (``fts MATCH`` plus the filters), then
``COUNT(*)``, the entity facet (``GROUP BY`` entity, top ``facet_limit`` per
type by a window function), the date facet (``GROUP BY`` year, or month /
day below a date filter) and one page of hits (``ORDER BY rank`` with
``snippet()``, or by date for browsing and date sorts) with each hit's date
and entities.

Query translation (:func:`to_fts5`) keeps newsfacet's syntax where FTS5 has
it: words are ANDed, ``"phrases"`` stay phrases, ``OR``, ``NOT`` and
parentheses pass through, ``-word`` becomes ``NOT word``, ``+word`` a plain
word, ``word*`` a prefix query, ``title:``/``body:`` a column filter (other
field prefixes are dropped); every word is quoted, so no word is read as an
FTS5 keyword.  A ``NOT`` with nothing before it is dropped with its operand
(FTS5's NOT is binary and has no "everything" to subtract from), so ``-word``
alone browses everything.

This module imports nothing from newsfacet, so its cold start is SQLite's.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

TOKENIZER = "porter unicode61 remove_diacritics 2"
RANK = "bm25(2.0, 1.0)"
SNIPPET_TOKENS = 32
LEAD_CHARS = 240
_TOKEN = re.compile(r'"[^"]*"|\(|\)|[^\s()"]+')
_WORD = re.compile(r"\w+")
_OPERATORS = ("AND", "OR", "NOT")
_COLUMNS = ("title", "body")


def fts5_available() -> bool:
    """Whether this Python's SQLite was built with FTS5."""
    try:
        with sqlite3.connect(":memory:") as conn:
            conn.execute("CREATE VIRTUAL TABLE t USING fts5(x)")
        return True
    except sqlite3.OperationalError:
        return False


def to_fts5(q: str) -> str | None:
    """The FTS5 ``MATCH`` expression for newsfacet query *q*; None for an empty query (browse)."""
    q = (q or "").strip()
    if q.count('"') % 2:
        q = q.replace('"', " ")
    out: list[str] = []
    for tok in _TOKEN.findall(q):
        if tok in _OPERATORS or tok in ("(", ")"):
            out.append(tok)
            continue
        negate = tok.startswith("-") and len(tok) > 1
        if tok[:1] in "+-":
            tok = tok[1:]
        column = None
        field, sep, rest = tok.partition(":")
        if sep and rest and field.isalpha():
            column = field if field in _COLUMNS else None
            tok = rest
        prefix = tok.endswith("*") and not tok.startswith('"')
        words = _WORD.findall(tok)
        if not words:
            continue
        term = '"' + " ".join(words) + '"' + (" *" if prefix else "")
        if column:
            term = f"{column} : {term}"
        if negate:
            out.append("NOT")
        out.append(term)
    return _tidy(out)


def _tidy(tokens: list[str]) -> str | None:
    """Drop operators FTS5 would reject: leading/trailing ones, doubled ones, a NOT with no left side."""
    out: list[str] = []
    skip_operand = False
    for tok in tokens:
        is_op = tok in _OPERATORS
        prev = out[-1] if out else None
        if skip_operand:
            skip_operand = False
            if not is_op and tok not in ("(", ")"):
                continue  # the operand of a dropped NOT: leaving it would invert the query
        if is_op and (prev is None or prev in _OPERATORS or prev == "("):
            skip_operand = tok == "NOT"
            continue
        if tok == ")" and (prev is None or prev in _OPERATORS or prev == "("):
            if prev == "(":
                out.pop()
            elif prev in _OPERATORS:
                out.pop()
                out.append(tok)
            continue
        out.append(tok)
    while out and out[-1] in _OPERATORS:
        out.pop()
    depth = 0
    balanced: list[str] = []
    for tok in out:
        if tok == "(":
            depth += 1
        elif tok == ")":
            if depth == 0:
                continue
            depth -= 1
        balanced.append(tok)
    balanced += [")"] * depth
    text = " ".join(balanced).strip()
    return text or None


def _date_parts(iso: str | None) -> tuple[int, int, int, int]:
    """``(date_num, year, month, day)`` with zeros for unknown parts."""
    if not iso:
        return 0, 0, 0, 0
    parts = [int(p) for p in iso.split("-")] + [0, 0]
    y, m, d = parts[:3]
    return y * 10000 + m * 100 + d, y, m, d


def _range_bounds(lo: dt.date | None, hi: dt.date | None) -> tuple[int, int | None]:
    """newsfacet's day-range semantics: a range starting on the 1st takes month/year-only dates."""
    low = 1
    if lo is not None:
        month = 0 if lo.month == 1 and lo.day == 1 else lo.month
        low = max(lo.year * 10000 + month * 100 + (0 if lo.day == 1 else lo.day), 1)
    high = None if hi is None else hi.year * 10000 + hi.month * 100 + hi.day
    return low, high


def build(db_path: Path, batches: Iterable[list], log: Callable[[str], None] | None = None) -> dict:
    """Create the reference database at *db_path* from batches of stored articles.

    :param batches: iterable of lists of :class:`bench.corpus.StoredArticle`.
    Only the SQLite work is timed (inserts, index creation, FTS5 optimize,
    commit); reading the articles back from the newsfacet index is not.
    """
    db_path = Path(db_path)
    for suffix in ("", "-journal", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    timed = 0.0
    t0 = time.perf_counter()
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("BEGIN")
    conn.execute(f"CREATE VIRTUAL TABLE fts USING fts5(title, body, tokenize='{TOKENIZER}')")
    conn.execute(f"INSERT INTO fts(fts, rank) VALUES('rank', '{RANK}')")
    conn.execute(
        "CREATE TABLE docs(id INTEGER PRIMARY KEY, date_num INTEGER NOT NULL, year INTEGER NOT NULL,"
        " month INTEGER NOT NULL, day INTEGER NOT NULL, precision TEXT NOT NULL)"
    )
    conn.execute("CREATE TABLE entity(id INTEGER PRIMARY KEY, value TEXT NOT NULL, type TEXT NOT NULL)")
    conn.execute("CREATE TABLE doc_entity(doc INTEGER NOT NULL, entity INTEGER NOT NULL, PRIMARY KEY (doc, entity))"
                 " WITHOUT ROWID")
    timed += time.perf_counter() - t0
    entity_ids: dict[tuple[str, str], int] = {}
    docs = 0
    for batch in batches:
        fts_rows = []
        doc_rows = []
        link_rows = []
        for art in batch:
            rowid = art.doc + 1
            fts_rows.append((rowid, art.title, art.body))
            num, y, m, d = _date_parts(art.date)
            doc_rows.append((rowid, num, y, m, d, art.fields.get("date_precision") or "none"))
            for e in art.entities:
                key = (e["value"], e["type"])
                eid = entity_ids.get(key)
                if eid is None:
                    eid = entity_ids[key] = len(entity_ids) + 1
                link_rows.append((rowid, eid))
        t0 = time.perf_counter()
        conn.executemany("INSERT INTO fts(rowid, title, body) VALUES (?, ?, ?)", fts_rows)
        conn.executemany("INSERT INTO docs VALUES (?, ?, ?, ?, ?, ?)", doc_rows)
        conn.executemany("INSERT OR IGNORE INTO doc_entity VALUES (?, ?)", link_rows)
        timed += time.perf_counter() - t0
        docs += len(batch)
        if log and docs % 100_000 < len(batch):
            log(f"fts5: {docs:,} articles inserted")
    t0 = time.perf_counter()
    conn.executemany("INSERT INTO entity VALUES (?, ?, ?)", [(i, v, t) for (v, t), i in entity_ids.items()])
    conn.execute("CREATE UNIQUE INDEX entity_by_value ON entity(value, type)")
    conn.execute("CREATE INDEX doc_entity_by_entity ON doc_entity(entity, doc)")
    conn.execute("CREATE INDEX docs_by_date ON docs(date_num)")
    conn.execute("CREATE INDEX docs_by_ymd ON docs(year, month, day)")
    conn.execute("INSERT INTO fts(fts) VALUES('optimize')")
    conn.execute("ANALYZE")
    conn.execute("COMMIT")
    conn.close()
    timed += time.perf_counter() - t0
    return {
        "docs": docs,
        "seconds": timed,
        "docs_per_s": docs / timed if timed else None,
        "size_mb": db_path.stat().st_size / 2**20,
        "entities": len(entity_ids),
        "sqlite_version": sqlite3.sqlite_version,
    }


class Fts5Service:
    """Answers newsfacet search requests (any object with SearchRequest's attributes) from the reference DB."""

    def __init__(self, db_path: Path | str):
        self.conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, isolation_level=None)
        self.conn.execute("PRAGMA temp_store=MEMORY")
        self.conn.execute("CREATE TEMP TABLE IF NOT EXISTS m(id INTEGER PRIMARY KEY)")

    def close(self) -> None:
        self.conn.close()

    def _filters(self, req) -> tuple[list[str], list[Any]]:
        where: list[str] = []
        params: list[Any] = []
        for value in req.entities:
            where.append(
                "d.id IN (SELECT de.doc FROM doc_entity de JOIN entity e ON e.id = de.entity WHERE e.value = ?)"
            )
            params.append(value)
        if req.date:
            if req.date.level == "undated":
                where.append("d.year = 0")
            else:
                for col, val in zip(("d.year", "d.month", "d.day"), req.date.parts, strict=False):
                    where.append(f"{col} = ?")
                    params.append(val)
        if req.date_from or req.date_to:
            lo, hi = _range_bounds(req.date_from, req.date_to)
            where.append("d.date_num >= ?")
            params.append(lo)
            if hi is not None:
                where.append("d.date_num <= ?")
                params.append(hi)
        return where, params

    def search(self, req: Any) -> dict:
        """``{"total", "hits", "facets": {"entity", "date"}}`` for *req*."""
        c = self.conn
        match = to_fts5(req.q)
        where, params = self._filters(req)
        if match is None and not where:
            src = "docs"
        else:
            src = "temp.m"
            c.execute("DELETE FROM temp.m")
            if match is not None:
                sql = "INSERT INTO temp.m(id) SELECT fts.rowid FROM fts"
                if where:  # CROSS JOIN: drive from the full-text matches, never probe MATCH per row
                    sql += " CROSS JOIN docs d ON d.id = fts.rowid"
                sql += " WHERE fts MATCH ?" + "".join(f" AND {w}" for w in where)
                c.execute(sql, [match, *params])
            else:
                c.execute("INSERT INTO temp.m(id) SELECT d.id FROM docs d WHERE " + " AND ".join(where), params)
        total = c.execute(f"SELECT COUNT(*) FROM {src}").fetchone()[0]
        facets = {"entity": self._entity_facet(src, req), "date": self._date_facet(src, req)}
        hits = self._hits(src, req, match) if total > (req.page - 1) * req.per_page else []
        return {"total": total, "hits": hits, "facets": facets}

    def _entity_facet(self, src: str, req) -> list[dict]:
        if src == "docs":
            counts = "SELECT entity, COUNT(*) AS c FROM doc_entity GROUP BY entity"
        else:
            counts = (f"SELECT de.entity, COUNT(*) AS c FROM {src} m CROSS JOIN doc_entity de ON de.doc = m.id"
                      " GROUP BY de.entity")
        rows = self.conn.execute(
            "SELECT value, type, c FROM (SELECT e.value, e.type, x.c,"
            " ROW_NUMBER() OVER (PARTITION BY e.type ORDER BY x.c DESC, e.value) AS rn"
            f" FROM ({counts}) AS x JOIN entity e ON e.id = x.entity) WHERE rn <= ? ORDER BY c DESC, value",
            (req.facet_limit,),
        ).fetchall()
        chosen = set(req.entities)
        return [{"value": v, "type": t, "count": n, "selected": v in chosen} for v, t, n in rows]

    def _date_facet(self, src: str, req) -> list[dict]:
        join = f"FROM {src} m CROSS JOIN docs d ON d.id = m.id" if src != "docs" else "FROM docs d"
        date = req.date.value if req.date else None  # the DateFilter's text: "2023", "2023-10", "undated"
        if date and date != "undated" and date.count("-") == 2:
            n = self.conn.execute(f"SELECT COUNT(*) FROM {src}").fetchone()[0]
            return [{"value": date, "count": n, "selected": True}]
        if not date or date == "undated":
            rows = self.conn.execute(f"SELECT d.year, COUNT(*) {join} GROUP BY d.year ORDER BY d.year").fetchall()
            out = [{"value": f"{y:04d}", "count": n, "selected": False} for y, n in rows if y]
            out += [{"value": "undated", "count": n, "selected": date == "undated"} for y, n in rows if not y]
            return out
        col = "month" if date.count("-") == 0 else "day"
        rows = self.conn.execute(
            f"SELECT d.{col}, COUNT(*) {join} WHERE d.{col} > 0 GROUP BY d.{col} ORDER BY d.{col}"
        ).fetchall()
        return [{"value": f"{date}-{k:02d}", "count": n, "selected": False} for k, n in rows]

    def _hits(self, src: str, req, match: str | None) -> list[dict]:
        c = self.conn
        offset = (req.page - 1) * req.per_page
        sort = req.sort if match is not None or req.sort != "relevance" else "newest"
        if sort == "relevance":
            # The page's ids first, then snippets for those ten only: asking for snippet() in the ranked
            # query makes SQLite build one for every match before sorting.
            sql = "SELECT rowid FROM fts WHERE fts MATCH ?"
            if req.entities or req.date or req.date_from or req.date_to:  # filtered: limit to temp.m
                sql += " AND +rowid IN (SELECT id FROM temp.m)"  # '+': not a per-id MATCH probe
            ids = [r[0] for r in c.execute(sql + " ORDER BY rank LIMIT ? OFFSET ?", (match, req.per_page, offset))]
            marks = ",".join("?" * len(ids))
            found = {r[0]: r for r in c.execute(
                "SELECT rowid, title, snippet(fts, 1, '<mark>', '</mark>', ' … ', ?) FROM fts"
                f" WHERE fts MATCH ? AND rowid IN ({marks})", [SNIPPET_TOKENS, match, *ids])}
            rows = [found[i] for i in ids if i in found]
        else:
            order = "d.date_num DESC" if sort == "newest" else "d.date_num"
            base = "FROM docs d" if src == "docs" else f"FROM {src} m CROSS JOIN docs d ON d.id = m.id"
            ids = [r[0] for r in c.execute(
                f"SELECT d.id {base} ORDER BY d.date_num = 0, {order}, d.id LIMIT ? OFFSET ?", (req.per_page, offset)
            )]
            marks = ",".join("?" * len(ids))
            if match is not None:
                found = {r[0]: r for r in c.execute(
                    "SELECT rowid, title, snippet(fts, 1, '<mark>', '</mark>', ' … ', ?) FROM fts"
                    f" WHERE fts MATCH ? AND rowid IN ({marks})", [SNIPPET_TOKENS, match, *ids])}
            else:
                found = {r[0]: r for r in c.execute(
                    f"SELECT rowid, title, substr(body, 1, {LEAD_CHARS}) FROM fts WHERE rowid IN ({marks})", ids)}
            rows = [found[i] for i in ids if i in found]
        ids = [r[0] for r in rows]
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        dates = {r[0]: r[1:] for r in c.execute(f"SELECT id, date_num, precision FROM docs WHERE id IN ({marks})", ids)}
        ents: dict[int, list[dict]] = {}
        for doc, value, type_ in c.execute(
            "SELECT de.doc, e.value, e.type FROM doc_entity de JOIN entity e ON e.id = de.entity"
            f" WHERE de.doc IN ({marks})", ids):
            ents.setdefault(doc, []).append({"value": value, "type": type_})
        return [
            {"id": rowid - 1, "title": title, "snippet": snippet, "date_num": dates.get(rowid, (0,))[0],
             "date_precision": dates.get(rowid, (0, "none"))[1], "entities": ents.get(rowid, [])}
            for rowid, title, snippet in rows
        ]
