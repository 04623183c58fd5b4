"""Single articles: the article view, more-like-this, highlighting, the entity listing."""

from __future__ import annotations

import json

import numpy as np
from whoosh import query as Q
from whoosh.searching import Searcher

from ..errors import IndexDamaged
from ..model import ArticleView, EntitySummary, Hit
from . import schema as S
from .evaluator import evaluate
from .integrity import guarded, release_leaked_files
from .snippets import highlight
from .store import ENTITY_STATE_FILE, generation_of, open_segment_reader

# More-like-this reads this much of an article, weighs this many of its terms, and remembers
# the terms of this many articles and the similar lists of this many (per generation).
SIMILAR_CHARS = 20_000
SIMILAR_TERMS = 12
KEY_TERMS_CACHE_DOCS = 2000
SIMILAR_CACHE_DOCS = 2000
# Query terms are marked in this much of an article's page.
HIGHLIGHT_CHARS = 200_000


def article_view(f: dict) -> ArticleView:
    """The article page's view of an article's stored fields (by the schema's names, as
    every engine stores them)."""
    return ArticleView(
        id=f[S.ID],
        path=f[S.PATH],
        title=f.get(S.TITLE) or "",
        body=f.get(S.BODY) or "",
        date=f.get(S.DATE) or None,
        date_precision=f.get(S.DATE_PRECISION) or "none",
        date_evidence=f.get(S.DATE_EVIDENCE) or "",
        source=f.get(S.SOURCE) or None,
        url=f.get(S.URL) or None,
        entities=json.loads(f.get(S.ENTITIES) or "[]"),
        captions=json.loads(f.get(S.CAPTIONS) or "[]"),
        dateline=f.get(S.DATELINE) or None,
        meta=json.loads(f.get(S.META) or "{}"),
        indexed_at=f.get(S.INDEXED_AT),
    )


class Articles:
    """The single-article part of :class:`~.service.WhooshBackend`."""

    def highlight(self, body: str, q: str, limit: int = HIGHLIGHT_CHARS) -> str:
        """*body* as safe HTML with the terms of query *q* marked in its first *limit* characters.

        Past *limit* the text is only escaped: marking is linear, but a page
        of a million characters has no use for marks past what anyone reads.
        """
        parsed, _ = self.parse(q)
        return highlight(body, parsed, limit)

    def document(self, doc_id: str) -> ArticleView | None:
        """The article with id *doc_id*, or None.

        On a damaged index the article is still found when its own segment
        is readable (:class:`IndexDamaged` only when it is not there).
        """
        try:
            f = self._stored_document(doc_id)
        except IndexDamaged as damage:
            f = self._document_from_healthy_segments(doc_id, damage)
        return article_view(f) if f else None

    @guarded
    def _stored_document(self, doc_id: str) -> dict | None:
        with self._searcher() as searcher:
            return searcher.document(**{S.ID: doc_id})

    def _document_from_healthy_segments(self, doc_id: str, damage: IndexDamaged) -> dict | None:
        """Look *doc_id* up segment by segment, skipping the ones that cannot be read."""
        try:
            toc = self._ix._read_toc()
        except Exception:  # noqa: BLE001 - the table of contents itself is gone
            raise damage from None
        for segment in toc.segments:
            try:
                with Searcher(open_segment_reader(self._ix.storage, toc.schema, segment)) as searcher:
                    found = searcher.document(**{S.ID: doc_id})
            except Exception:  # noqa: BLE001 - this is (one of) the damaged segment(s)
                found = None
            if found is None:
                continue
            release_leaked_files()
            return found
        release_leaked_files()
        raise damage

    @guarded
    def similar(self, doc_id: str, limit: int = 5) -> list[Hit]:
        """Articles most like *doc_id* by its distinctive body terms; never a syndicated copy of it.

        The key terms' BM25F scores are summed over the posting arrays the
        searches share (:mod:`.evaluator`: the same scores as Whoosh's ``Or``
        of boosted terms, without its per-document Python walk), and the list
        is kept per generation and article, so an article page costs a few
        milliseconds once its terms' postings have been read.
        """
        with self._searcher() as searcher:
            docnum = searcher.document_number(**{S.ID: doc_id})
            if docnum is None:
                return []
            tables = self._facet_tables(searcher)
            docs = self._remembered("similar", (generation_of(searcher.reader()), docnum, limit),
                                    SIMILAR_CACHE_DOCS, lambda: self._similar_docs(searcher, tables, docnum, limit))
            return [self._hit(searcher, d, None, tables) for d in docs]

    def _similar_docs(self, searcher, tables, docnum: int, limit: int) -> tuple[int, ...]:
        """The *limit* best-scoring documents for *docnum*'s key terms, best first (ties: lower
        document number first, as Whoosh breaks them), the article and its copies left out."""
        own = tables.copies(docnum)
        keys = self._key_terms(searcher, docnum, max(1, len(own)))
        if not keys or limit < 1:
            return ()
        q = Q.Or([Q.Term(S.BODY, word, boost=weight) for word, weight in keys])
        found = evaluate(q, self._posting_cache(searcher, tables))
        keep = found.ids != docnum
        if len(own):
            keep &= ~np.isin(found.ids, own)
        ids, scores = found.ids[keep], found.scores[keep]
        if len(ids) > limit:
            # Only the documents scoring at least the limit-th best can be listed (ties included).
            threshold = np.partition(scores, len(scores) - limit)[len(scores) - limit]
            top = scores >= threshold
            ids, scores = ids[top], scores[top]
        order = np.lexsort((ids, -scores))[:limit]
        return tuple(int(d) for d in ids[order])

    def _key_terms(self, searcher, docnum: int, copies: int = 1) -> list[tuple[str, float]]:
        """An article's most distinctive body terms, from its first :data:`SIMILAR_CHARS`
        characters (the lead of a story says what it is about), kept per generation.

        A term no other article than its *copies* has is left out: Whoosh's weighting
        ranks such terms first (on a small collection, nothing but them), yet they
        can only find the article itself.
        """
        def terms() -> list[tuple[str, float]]:
            body = self._stored(searcher, docnum)[S.BODY]
            found = searcher.key_terms_from_text(S.BODY, body[:SIMILAR_CHARS], numterms=3 * SIMILAR_TERMS)
            shared = [(w, weight) for w, weight in found if searcher.doc_frequency(S.BODY, w) > copies]
            return shared[:SIMILAR_TERMS]

        return self._remembered("key_terms", (generation_of(searcher.reader()), docnum), KEY_TERMS_CACHE_DOCS, terms)

    @guarded
    def entities(self, type_: str | None = None) -> list[EntitySummary]:
        """Every entity value with its type, document count and merged spellings."""
        from ..aliases import load_aliases
        from ..resolution import EntityResolver  # only the CLI listing needs it

        spellings: dict[str, list[str]] = {}
        state_path = self.index_dir / ENTITY_STATE_FILE
        if state_path.exists():
            state = json.loads(state_path.read_text(encoding="utf-8"))
            spellings = EntityResolver(load_aliases(None), state=state).spellings()
        with self._searcher() as searcher:
            tables = self._facet_tables(searcher)
            counts = tables.all_entity_counts()
        out = []
        for tid, (value, t) in enumerate(tables.terms):
            if type_ and t != type_:
                continue
            out.append(EntitySummary(value, t, int(counts[tid]), sorted(set(spellings.get(value, [value])))))
        out.sort(key=lambda e: (-e.count, e.value.casefold()))
        return out

    @guarded
    def count(self) -> int:
        """Articles in the collection."""
        with self._searcher() as searcher:
            return searcher.doc_count()
