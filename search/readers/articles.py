"""Single-article files: a text dump or saved HTML page, with its optional sidecar.

A ``NAME.json`` (or ``NAME.html.json``) next to the file gives metadata the
page itself may lack; a broken sidecar is reported and the article still read.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from search.document import ReadFailure, Source
from search.readers.decoding import BadInput, check_text, content_hash, declared_charset, decode_bytes
from search.readers.fields import Fields, record_fields
from search.readers.files import InputFile, fallback_reference, read_limited
from search.readers.shapes import not_an_article
from search.settings import Options


def read_article(item: InputFile, options: Options) -> Iterator[Source | ReadFailure]:
    fields, sidecar_bytes = Fields(), b""
    if item.sidecar is not None:
        try:
            sidecar_bytes, fields = _read_sidecar(item.sidecar, item)
        except BadInput as error:
            rel_sidecar = str(PurePosixPath(item.rel).with_name(item.sidecar.name))
            yield ReadFailure(rel_sidecar, str(error))
    try:
        data = read_limited(item.path, item.gzipped, item)
        check_text(data)
    except BadInput as error:
        yield ReadFailure(item.rel, str(error))
        return
    declared = declared_charset(data) if item.kind == "html" else None
    content = decode_bytes(data, declared)
    shape = not_an_article(content) if item.kind == "text" else None
    if shape:
        yield ReadFailure(item.rel, f"not an article: {shape}")
        return
    yield Source(
        path=item.rel,
        kind=item.kind,
        content=content,
        group=_group_of(item.rel),
        url=fields.url,
        title=fields.title,
        date=fields.date,
        source=fields.source,
        entities=fields.entities or [],
        reference_date=fields.crawled or fallback_reference(item.path, options),
        meta=fields.meta or {},
        content_hash=content_hash(data, sidecar_bytes),
    )


def _read_sidecar(path: Path, item: InputFile) -> tuple[bytes, Fields]:
    data = read_limited(path, False, item, sidecar=True)
    try:
        record = json.loads(data)
    except (ValueError, UnicodeDecodeError) as error:
        raise BadInput(f"bad sidecar: {error}") from None
    if not isinstance(record, dict):
        raise BadInput("bad sidecar: not a JSON object")
    return data, record_fields(record)


def _group_of(rel: str) -> str:
    return PurePosixPath(rel).parent.as_posix()
