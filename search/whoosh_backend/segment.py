"""One Whoosh segment written from postings the extraction pool prepared.

:class:`PreparedSegmentWriter` is Whoosh's ``SegmentWriter`` with the two
steps a large run spends most of its writing time in made cheaper: adding a
document whose text fields were analysed elsewhere (``fields[PREPARED]``), and
flushing the segment's postings with each field length read once.  The
writer of a run (:mod:`.writer`) and its writer process
(:mod:`.writer_process`) both write through it.
"""

from __future__ import annotations

from whoosh.writing import PostingPool, SegmentWriter

# The key of a document's prepared postings: field name -> Whoosh's
# ``(term bytes, frequency, weight, encoded value)`` per term.
PREPARED = "_prepared"


class PreparedSegmentWriter(SegmentWriter):
    """Whoosh's ``SegmentWriter``, adding prepared postings (:data:`PREPARED`) as they are."""

    def _flush_segment(self):
        """Whoosh's ``_flush_segment`` with every document's field lengths read once
        (:class:`_Lengths`): Whoosh reads them back from the new segment's file for
        each posting it writes, a third of a commit's time."""
        self.perdocwriter.close()
        pdr = self.per_document_reader() if self.codec.length_stats else None
        try:
            lengths = _Lengths(pdr) if pdr else None
            self.fieldwriter.add_postings(self.schema, lengths, self.pool.iter_postings())
            self.fieldwriter.close()
        finally:
            if pdr:
                pdr.close()

    def add_document(self, **fields_):
        """Whoosh's ``add_document``, taking the postings of the text fields from
        ``fields_[PREPARED]`` when the extraction pool analysed them
        (:func:`.writer.prepare_article`): tokenising and stemming were a fifth of the
        writing process's time, the one process a run waits on."""
        prepared = fields_.pop(PREPARED, None)
        if not prepared:
            return super().add_document(**fields_)
        self._check_state()
        perdocwriter = self.perdocwriter
        schema = self.schema
        docnum = self.docnum
        pool = self.pool
        docboost = self._doc_boost(fields_)
        fieldnames = sorted(name for name in fields_ if not name.startswith("_"))
        self._check_fields(schema, fieldnames)
        perdocwriter.start_doc(docnum)
        for fieldname in fieldnames:
            value = fields_.get(fieldname)
            if value is None:
                continue
            field = schema[fieldname]
            length = 0
            if field.indexed:
                fieldboost = self._field_boost(fields_, fieldname, docboost)
                items = prepared[fieldname] if fieldname in prepared else list(field.index(value))
                if field.scorable:
                    length = sum(item[1] for item in items)
                _pool_extend(pool, fieldname, docnum, items, fieldboost)
            # No field of the schema has a separate spelling field or term vectors
            # (checked by the tests), the two parts of Whoosh's method left out here.
            perdocwriter.add_field(fieldname, field, value if field.stored else None, length)
            column = field.column_type
            if column:
                perdocwriter.add_column_value(fieldname, column, field.to_column_value(value))
        perdocwriter.finish_doc()
        self._added = True
        self.docnum += 1


# PostingPool.add's memory estimate of one posting, less the lengths of its
# field name, term (counted twice) and value: tuple, field name, term, document
# number, weight and value.
_POSTING_SIZE = (28 + 4 * 5) + 21 + 26 + 18 + 16 + 21


def _pool_extend(pool: PostingPool, fieldname: str, docnum: int, items: list, boost: float) -> None:
    """``pool.add`` for every posting of one field of one document, in one step.

    Whoosh's ``PostingPool.add`` checks types and estimates the memory of each
    posting on its own, a sixth of the writing process's time; the same estimate
    summed per field spills a sorted run at most a field later, and the
    segment's postings, sorted and merged from the runs, are the same."""
    if not items:
        return
    pool.fieldnames.add(fieldname)
    size = (_POSTING_SIZE + len(fieldname)) * len(items) + sum(2 * len(t) + len(v or b"") for t, _, _, v in items)
    if pool.currentsize + size > pool.limit:
        pool.save()
    pool.current.extend([(fieldname, tbytes, docnum, weight * boost, vbytes) for tbytes, _, weight, vbytes in items])
    pool.currentsize += size


class _Lengths:
    """The ``doc_field_length`` of a per-document reader, each field's column read
    once for every document and then looked up by document number."""

    def __init__(self, reader):
        self._reader = reader
        self._docs = reader.doc_count_all()
        self._fields: dict[str, list] = {}

    def doc_field_length(self, docnum: int, fieldname: str, default: int = 0):
        column = self._fields.get(fieldname)
        if column is None:
            read = self._reader.doc_field_length
            column = self._fields[fieldname] = [read(d, fieldname, default) for d in range(self._docs)]
        return column[docnum]
