"""JSONL exports: one article per line, as text or HTML plus metadata fields.

A bad row is reported as its own failure (``rows.jsonl#7``) and the rest of
the file is still read; a line over the size limit is skipped without being
held whole.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

from search.document import ReadFailure, Source
from search.readers.decoding import content_hash, decode_bytes
from search.readers.fields import HTML_KEYS, TEXT_KEYS, as_text, first_of, record_fields
from search.readers.files import (
    STREAM_ERRORS,
    InputFile,
    article_path,
    check_binary_head,
    fallback_reference,
    limited_lines,
    open_stream,
    stream_failure,
    too_large,
)
from search.settings import Options
from search.textnorm import site_of


def read_jsonl(item: InputFile, options: Options) -> Iterator[Source | ReadFailure]:
    fallback = fallback_reference(item.path, options)
    seen_content = False
    try:
        with open_stream(item) as stream:
            for number, (line, oversized) in enumerate(limited_lines(stream), start=1):
                if number == 1:
                    check_binary_head(line)
                if oversized:
                    seen_content = True  # the file is not empty: one report for it is enough
                    yield ReadFailure(article_path(item.rel, number), str(too_large(what="line")))
                    continue
                if not line.strip():
                    continue
                seen_content = True
                yield _jsonl_row(item.rel, number, line, fallback)
    except STREAM_ERRORS as error:
        yield stream_failure(item, error)
        return
    if not seen_content:
        yield ReadFailure(item.rel, "empty file")


def _jsonl_row(rel: str, number: int, line: bytes, fallback: dt.date | None) -> Source | ReadFailure:
    path = article_path(rel, number)
    try:
        record = _load_json_line(line)
    except ValueError as error:
        return ReadFailure(path, f"bad JSON: {error}")
    if not isinstance(record, dict):
        return ReadFailure(path, "bad JSON: not an object")
    markup = as_text(first_of(record, HTML_KEYS))
    text = as_text(first_of(record, TEXT_KEYS))
    fields = record_fields(record)
    if markup is None and text is None and not fields.title:
        return ReadFailure(path, "no text, html or title")
    # A row with only a title is a headline-only story (a wire "brief"), as the
    # same story is in Reuters SGML: it is indexed under its title.
    site = fields.source or site_of(fields.url)
    return Source(
        path=path,
        kind="html" if markup is not None else "text",
        content=markup if markup is not None else text or "",
        group=f"{rel}|{site}" if site else rel,
        url=fields.url,
        title=fields.title,
        date=fields.date,
        source=fields.source,
        entities=fields.entities or [],
        reference_date=fields.crawled or fallback,
        meta=fields.meta or {},
        content_hash=content_hash(line.rstrip(b"\r\n")),
    )


def _load_json_line(line: bytes) -> Any:
    try:
        return json.loads(line)
    except UnicodeDecodeError:
        # A row in a legacy encoding: the JSON syntax is ASCII, the strings are not.
        return json.loads(decode_bytes(line))
