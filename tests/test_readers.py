"""Tests for search.readers: every input format, sidecars, encodings and bad files."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
from pathlib import Path

import pytest

from search.document import ReadFailure, Source
from search.readers import decode_bytes, decoding, files, iter_sources, read_path, reuters_name, rewrap_paragraphs
from search.settings import Options

from .conftest import REUTERS

OPTIONS = Options()
CYRILLIC_PAGE = '<meta charset="windows-1251"><p>Привет</p>'
BODY = "The council met on Monday and approved the budget for next year.\n"

REUTERS_SNIPPET = b"""<!DOCTYPE lewis SYSTEM "lewis.dtd">
<REUTERS TOPICS="YES" LEWISSPLIT="TRAIN" CGISPLIT="TRAINING-SET" OLDID="5544" NEWID="7">
<DATE>26-FEB-1987 15:01:01.79&#5;&#5;&#5;RM</DATE>
<TOPICS><D>cocoa</D><D>trade</D></TOPICS>
<PLACES><D>el-salvador</D><D>usa</D><D>usa</D></PLACES>
<PEOPLE><D>de-clercq</D><D>james-baker</D></PEOPLE>
<ORGS><D>opec</D><D>ico-coffee</D><D>worldbank</D></ORGS>
<EXCHANGES><D>nyse</D></EXCHANGES>
<COMPANIES></COMPANIES>
<UNKNOWN>
&#5;&#5;&#5;C T
&#22;&#22;&#1;f0704&#31;reute
u f BC-BAHIA-COCOA-REVIEW   02-26 0105</UNKNOWN>
<TEXT>&#2;
<TITLE>BAHIA COCOA &lt;BCR> REVIEW</TITLE>
<DATELINE>    SALVADOR, Feb 26 - </DATELINE><BODY>Showers continued throughout the week in
the Bahia cocoa zone, alleviating the drought since early
January, Comissaria Smith &amp; Co said in its weekly review.
    The dry period means the temporao will be late this year.
    Shr profit three cts vs loss three cts
    Net profit 363,000 vs loss 197,000
 Reuter
&#3;</BODY></TEXT>
</REUTERS>
<REUTERS TOPICS="NO" LEWISSPLIT="TEST" CGISPLIT="TRAINING-SET" OLDID="5545" NEWID="8">
<DATE> 3-MAR-1987 09:10:11.12</DATE>
<TOPICS></TOPICS><PLACES></PLACES><PEOPLE></PEOPLE><ORGS></ORGS><EXCHANGES></EXCHANGES><COMPANIES></COMPANIES>
<TEXT TYPE="BRIEF">&#2;
******<TITLE>FED SETS TWO BILLION DLR CUSTOMER REPURCHASE
</TITLE>Blah blah blah.
&#3;

</TEXT>
</REUTERS>
<REUTERS TOPICS="NO" LEWISSPLIT="TEST" CGISPLIT="TRAINING-SET" OLDID="5546" NEWID="9">
<DATE> 3-MAR-1987 09:12:00.00</DATE>
<TOPICS></TOPICS><PLACES></PLACES><PEOPLE></PEOPLE><ORGS></ORGS><EXCHANGES></EXCHANGES><COMPANIES></COMPANIES>
<TEXT TYPE="UNPROC">&#2;
FEDERAL RESERVE WEEKLY REPORT - FEB 26
 Net free reserves.............644 vs.....1,337
 Bank borrowings...............680 vs.......425

 Reuter
&#3;

</TEXT>
</REUTERS>
<REUTERS TOPICS="NO" LEWISSPLIT="TEST" CGISPLIT="TRAINING-SET" OLDID="5547" NEWID="10">
<DATE> 3-MAR-1987 09:13:00.00</DATE>
<TOPICS></TOPICS><PLACES></PLACES><PEOPLE></PEOPLE><ORGS></ORGS><EXCHANGES></EXCHANGES><COMPANIES></COMPANIES>
<TEXT TYPE="UNPROC">&#2;
&#3;

</TEXT>
</REUTERS>
"""


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)
    return path


def read_all(*paths: Path, options: Options = OPTIONS) -> list[Source | ReadFailure]:
    return list(iter_sources(list(paths), options))


def by_path(items: list[Source | ReadFailure]) -> dict[str, Source | ReadFailure]:
    return {item.path: item for item in items}


def only_source(items: list[Source | ReadFailure]) -> Source:
    sources = [item for item in items if isinstance(item, Source)]
    assert len(sources) == 1, items
    return sources[0]


def failures(items: list[Source | ReadFailure]) -> dict[str, str]:
    return {item.path: item.reason for item in items if isinstance(item, ReadFailure)}


# --------------------------------------------------------------------------- walking and formats


def test_walk_finds_formats_sorted_relative_and_skips_the_rest(tmp_path: Path) -> None:
    write(tmp_path / "b" / "c.txt", BODY)
    write(tmp_path / "a.html", f"<html><body><p>{BODY}</p></body></html>")
    write(tmp_path / "z.htm.gz", gzip.compress(b"<p>zipped page</p>"))
    write(tmp_path / "b" / "d" / "e.text", BODY)
    write(tmp_path / ".hidden.txt", BODY)
    write(tmp_path / ".git" / "notes.txt", BODY)
    write(tmp_path / "notes.md", BODY)
    write(tmp_path / "image.png", b"\x89PNG\r\n")
    write(tmp_path / "orphan.json", '{"title": "nobody reads me"}')
    items = read_all(tmp_path)
    assert [item.path for item in items] == ["a.html", "b/c.txt", "b/d/e.text", "z.htm.gz"]
    kinds = {item.path: (item.kind, item.group) for item in items}
    assert kinds == {
        "a.html": ("html", "."),
        "b/c.txt": ("text", "b"),
        "b/d/e.text": ("text", "b/d"),
        "z.htm.gz": ("html", "."),
    }
    assert by_path(items)["z.htm.gz"].content == "<p>zipped page</p>"


def test_file_argument_is_named_by_its_name(tmp_path: Path) -> None:
    path = write(tmp_path / "deep" / "story.txt", BODY)
    source = only_source(read_all(path))
    assert (source.path, source.group, source.content) == ("story.txt", ".", BODY)


def test_missing_argument_is_a_failure(tmp_path: Path) -> None:
    assert failures(read_all(tmp_path / "nope.txt")) == {"nope.txt": "cannot read: no such file or directory"}


def test_extensions_come_from_options(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", BODY)
    write(tmp_path / "b.md", BODY)
    items = read_all(tmp_path, options=Options(extensions=(".md",)))
    assert [(item.path, item.kind) for item in items] == [("b.md", "text")]


def test_gzip_body_saved_under_plain_name_is_unzipped(tmp_path: Path) -> None:
    write(tmp_path / "page.html", gzip.compress(b"<html><body><p>hello</p></body></html>"))
    assert only_source(read_all(tmp_path)).content == "<html><body><p>hello</p></body></html>"


# --------------------------------------------------------------------------- sidecars


def test_sidecar_values_win_and_feed_reference_date(tmp_path: Path) -> None:
    write(tmp_path / "s" / "story.html", "<html><body><p>x</p></body></html>")
    sidecar = {
        "url": "https://example.org/a",
        "title": "Given title",
        "date": "2024-06-25",
        "source": "Example Post",
        "scraped_at": "2024-07-01T12:00:00Z",
        "author": "Ann Smith",
        "entities": [{"value": "Ann Smith", "type": "PERSON"}, "Oslo"],
    }
    write(tmp_path / "s" / "story.json", json.dumps(sidecar))
    source = only_source(read_all(tmp_path))
    assert (source.url, source.title, source.date, source.source) == (
        "https://example.org/a", "Given title", "2024-06-25", "Example Post",
    )
    assert source.reference_date == dt.date(2024, 7, 1)
    assert source.meta == {"author": "Ann Smith", "scraped_at": "2024-07-01T12:00:00Z"}
    assert source.entities == [("Ann Smith", "person"), ("Oslo", "other")]


@pytest.mark.parametrize("sidecar_name", ["story.json", "story.txt.json"])
def test_sidecar_naming(tmp_path: Path, sidecar_name: str) -> None:
    write(tmp_path / "story.txt", BODY)
    write(tmp_path / sidecar_name, '{"title": "T"}')
    assert only_source(read_all(tmp_path)).title == "T"


@pytest.mark.parametrize(
    ("sidecar", "reason_start"),
    [("{not json", "bad sidecar:"), ("[1, 2]", "bad sidecar: not a JSON object"), ("", "bad sidecar:")],
)
def test_broken_sidecar_fails_alone(tmp_path: Path, sidecar: str, reason_start: str) -> None:
    write(tmp_path / "f" / "story.txt", BODY)
    write(tmp_path / "f" / "story.json", sidecar)
    items = read_all(tmp_path)
    assert failures(items)["f/story.json"].startswith(reason_start)
    source = only_source(items)
    assert (source.path, source.title) == ("f/story.txt", None)


def test_content_hash_covers_article_and_sidecar(tmp_path: Path) -> None:
    write(tmp_path / "story.txt", BODY)
    first = only_source(read_all(tmp_path)).content_hash
    assert first == only_source(read_all(tmp_path)).content_hash
    write(tmp_path / "story.json", '{"title": "T"}')
    with_sidecar = only_source(read_all(tmp_path)).content_hash
    write(tmp_path / "story.json", '{"title": "U"}')
    assert len({first, with_sidecar, only_source(read_all(tmp_path)).content_hash}) == 3


def test_reference_date_falls_back_to_options_then_mtime(tmp_path: Path) -> None:
    path = write(tmp_path / "story.txt", BODY)
    stamp = dt.datetime(2020, 5, 17, 23, 30, tzinfo=dt.UTC).timestamp()
    os.utime(path, (stamp, stamp))
    assert only_source(read_all(tmp_path)).reference_date == dt.date(2020, 5, 17)
    chosen = Options(reference_date=dt.date(2021, 1, 2))
    assert only_source(read_all(tmp_path, options=chosen)).reference_date == dt.date(2021, 1, 2)


# --------------------------------------------------------------------------- JSONL


def jsonl_lines() -> bytes:
    rows = [
        {"url": "https://www.example.com/a", "title": "A", "date": "2024-01-02", "text": "Alpha text.", "lang": "en"},
        "{broken",
        "",
        {"title": "Headline only"},
        {"html": "<p>Beta</p>", "source": "Beta Wire", "entities": {"person": ["Ann"], "GPE": ["Oslo"]}},
        [1, 2],
        {"maintext": "Gamma text.", "date_publish": 1700000000, "date_download": "2024-03-04 10:00:00"},
        {"url": "https://www.example.com/nothing"},
    ]
    return "\n".join(row if isinstance(row, str) else json.dumps(row) for row in rows).encode() + b"\n"


@pytest.mark.parametrize("name", ["rows.jsonl", "rows.jsonl.gz"])
def test_jsonl_rows_and_broken_lines(tmp_path: Path, name: str) -> None:
    data = jsonl_lines()
    write(tmp_path / name, gzip.compress(data) if name.endswith(".gz") else data)
    items = by_path(read_all(tmp_path))
    assert sorted(items) == sorted(f"{name}#{n}" for n in (1, 2, 4, 5, 6, 7, 8))
    first, fifth, seventh = items[f"{name}#1"], items[f"{name}#5"], items[f"{name}#7"]
    assert (first.kind, first.content, first.title, first.date, first.meta) == (
        "text", "Alpha text.", "A", "2024-01-02", {"lang": "en"},
    )
    assert first.group == f"{name}|example.com"
    assert (fifth.kind, fifth.content, fifth.source, fifth.group) == (
        "html", "<p>Beta</p>", "Beta Wire", f"{name}|Beta Wire",
    )
    assert fifth.entities == [("Ann", "person"), ("Oslo", "place")]
    assert (seventh.content, seventh.date[:10], seventh.reference_date) == (
        "Gamma text.", "2023-11-14", dt.date(2024, 3, 4),
    )
    reasons = failures(list(items.values()))
    assert reasons[f"{name}#2"].startswith("bad JSON")
    # A headline-only row is a story (a wire brief); a row with nothing is not.
    assert (items[f"{name}#4"].title, items[f"{name}#4"].content) == ("Headline only", "")
    assert reasons[f"{name}#8"] == "no text, html or title"
    assert reasons[f"{name}#6"] == "bad JSON: not an object"
    assert first.content_hash != fifth.content_hash


def test_jsonl_row_in_legacy_encoding_and_bom(tmp_path: Path) -> None:
    row = '{"title": "Café", "text": "Tromsø"}\n'.encode("cp1252")
    write(tmp_path / "rows.jsonl", b"\xef\xbb\xbf" + b'{"text": "first"}\n' + row)
    items = by_path(read_all(tmp_path))
    assert items["rows.jsonl#1"].content == "first"
    assert (items["rows.jsonl#2"].title, items["rows.jsonl#2"].content) == ("Café", "Tromsø")


def test_jsonl_truncated_gzip_keeps_rows_read(tmp_path: Path) -> None:
    data = gzip.compress(b"".join(b'{"text": "row %d"}\n' % n for n in range(2000)))
    write(tmp_path / "rows.jsonl.gz", data[: len(data) // 2])
    items = read_all(tmp_path)
    assert failures(items)["rows.jsonl.gz"].startswith("corrupt gzip:")
    assert sum(isinstance(item, Source) for item in items) > 10


def test_jsonl_line_over_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "MAX_FILE_BYTES", 100)
    write(tmp_path / "rows.jsonl", '{"text": "short"}\n{"text": "' + "x" * 500 + '"}\n{"text": "after"}\n')
    items = by_path(read_all(tmp_path))
    assert items["rows.jsonl#2"].reason == "too large: over the 100 bytes limit for one line"
    assert items["rows.jsonl#3"].content == "after"


# --------------------------------------------------------------------------- bad files


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.txt", b"", "empty file"),
        ("blank.html", b"  \n\t\r\n ", "empty file"),
        ("nul.txt", b"text\x00with\x00nul bytes", "binary file"),
        ("controls.txt", bytes(range(1, 32)) * 20, "binary file"),
        ("picture.html", b"\x89PNG\r\n\x1a\n" + b"A" * 100, "binary file"),
        ("empty.jsonl", b"\n\n", "empty file"),
        ("binary.jsonl", b"\x00\x01\x02\x03" * 50, "binary file"),
        ("nothing.sgm", b"<p>not reuters</p>", "no <REUTERS> stories found"),
        ("empty.sgm", b"\n  \n", "empty file"),
        ("binary.sgm.gz", gzip.compress(b"\x00\x01" * 100), "binary file"),
        ("empty.html.gz", gzip.compress(b""), "empty file"),
    ],
)
def test_bad_content(tmp_path: Path, name: str, data: bytes, reason: str) -> None:
    write(tmp_path / name, data)
    assert failures(read_all(tmp_path)) == {name: reason}


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("cut.html.gz", gzip.compress(b"<p>" + os.urandom(4000).hex().encode() + b"</p>")[:200]),
        ("junk.html.gz", b"\x1f\x8b\x08\x00garbage that is not deflate data"),
        ("cut.sgm.gz", gzip.compress(REUTERS_SNIPPET)[:300]),
    ],
)
def test_corrupt_gzip(tmp_path: Path, name: str, data: bytes) -> None:
    write(tmp_path / name, data)
    assert failures(read_all(tmp_path))[name].startswith("corrupt gzip:")


@pytest.mark.parametrize(("name", "size", "reason"), [
    ("big.txt", 101, "too large: 101 bytes, over the 100 bytes limit for one file"),
    ("big.html.gz", 101, "too large: over the 100 bytes limit for one file once unzipped"),
])
def test_too_large(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, size: int, reason: str) -> None:
    monkeypatch.setattr(files, "MAX_FILE_BYTES", 100)
    data = b"a" * size
    write(tmp_path / name, gzip.compress(data) if name.endswith(".gz") else data)
    write(tmp_path / "small.txt", b"a" * 100)
    items = read_all(tmp_path)
    assert failures(items) == {name: reason}
    assert only_source(items).path == "small.txt"


def test_vanished_file_is_reported_and_walk_goes_on(tmp_path: Path) -> None:
    for name in ("a.txt", "b.txt", "c.txt"):
        write(tmp_path / name, BODY)
    stream = iter_sources([tmp_path], OPTIONS)
    first = next(stream)
    (tmp_path / "b.txt").unlink()
    rest = list(stream)
    assert first.path == "a.txt"
    assert [(item.path, type(item).__name__) for item in rest] == [("b.txt", "ReadFailure"), ("c.txt", "Source")]
    assert rest[0].reason.startswith("cannot read:")


def test_directory_named_like_a_file(tmp_path: Path) -> None:
    folder = tmp_path / "looks_like.html"
    folder.mkdir()
    items = list(read_path(folder, "looks_like.html", OPTIONS))
    assert [type(item) for item in items] == [ReadFailure]
    assert items[0].reason.startswith("cannot read:")


def test_broken_symlink(tmp_path: Path) -> None:
    (tmp_path / "gone.txt").symlink_to(tmp_path / "missing-target.txt")
    # Not followed by default, so it is refused as a link before its target is looked for.
    assert failures(read_all(tmp_path))["gone.txt"] == "symbolic link"
    followed = read_all(tmp_path, options=Options(follow_symlinks=True))
    assert failures(followed)["gone.txt"].startswith("cannot read:")


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads files whatever their mode")
def test_permission_denied(tmp_path: Path) -> None:
    path = write(tmp_path / "locked.txt", BODY)
    path.chmod(0)
    try:
        assert failures(read_all(tmp_path))["locked.txt"].startswith("cannot read:")
    finally:
        path.chmod(0o644)


# --------------------------------------------------------------------------- encodings


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("Un café à Tromsø.\n".encode("latin-1"), "Un café à Tromsø.\n"),
        ("He said \u201cno\u201d \u2013 twice.".encode("cp1252"), "He said \u201cno\u201d \u2013 twice."),
        (b"\x93quoted\x94 text", "\u201cquoted\u201d text"),
        ("Tromsø ünïcode".encode(), "Tromsø ünïcode"),
        (b"\xef\xbb\xbfBOM caf\xc3\xa9", "BOM café"),
        ("\ufeffcafé Tromsø".encode("utf-16-le"), "café Tromsø"),
        ("\ufeffcafé Tromsø".encode("utf-16-be"), "café Tromsø"),
        ("Москва — столица России, сказал президент.".encode("cp1251"), "Москва — столица России, сказал президент."),
    ],
)
def test_decode_bytes(data: bytes, expected: str) -> None:
    assert decode_bytes(data) == expected


@pytest.mark.parametrize(
    "data",
    [
        b"undefined \x81\x8d\x8f\x90\x9d bytes",
        b"mixed \xc3\xa9 utf-8 and \xe9 latin-1",
        b"start " + bytes(range(128, 256)),
    ],
)
def test_decode_bytes_never_fails(data: bytes) -> None:
    text = decode_bytes(data)
    assert isinstance(text, str)
    assert text[:5] == data[:5].decode("latin-1")


def test_declared_charset_is_tried_before_guessing() -> None:
    text = "<p>Zażółć</p>"
    assert decode_bytes(text.encode("cp1250"), declared="windows-1250") == text
    assert decode_bytes(text.encode("cp1250"), declared="no-such-codec").startswith("<p>Za")
    # A page labelled latin-1 is read as windows-1252, as browsers do.
    assert decode_bytes(b"\x93Yes\x94 \xe9", declared="ISO-8859-1") == "\u201cYes\u201d \u00e9"


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("latin1.txt", "Café in Tromsø opens.".encode("latin-1"), "Café in Tromsø opens."),
        ("quotes.txt", b"\x93Yes,\x94 she said.", "\u201cYes,\u201d she said."),
        ("bom.txt", b"\xef\xbb\xbfHello", "Hello"),
        ("utf16.txt", "\ufeffHej Tromsø".encode("utf-16-le"), "Hej Tromsø"),
        ("meta.html", CYRILLIC_PAGE.encode("cp1251"), CYRILLIC_PAGE),
    ],
)
def test_files_decode(tmp_path: Path, name: str, data: bytes, expected: str) -> None:
    write(tmp_path / name, data)
    assert only_source(read_all(tmp_path)).content == expected


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_is_recognised(encoding: str) -> None:
    text = "Café in Tromsø opens on Monday.\n"
    assert decoding.utf16_without_bom(text.encode(encoding)) == encoding
    assert decode_bytes(text.encode(encoding)) == text


@pytest.mark.parametrize(
    "data",
    [
        b"plain ASCII text",
        "Москва".encode("utf-16-le"),  # no zero high bytes: not recognised (and then binary)
        bytes(range(256)) * 4,
        b"\x01\x00\x02\x00\x03\x00\x04\x00" * 50,  # 16-bit numbers, not text
        "A\0\0\0B\0\0\0C\0\0\0".encode("latin-1"),  # UTF-32 has NULs in both columns
    ],
)
def test_utf16_without_bom_rejects_other_bytes(data: bytes) -> None:
    assert decoding.utf16_without_bom(data) is None


def test_utf16_jsonl_without_bom_stays_binary(tmp_path: Path) -> None:
    # JSON lines are split at the byte "\n", which UTF-16 text cannot be split at.
    write(tmp_path / "rows.jsonl", '{"text": "Harbour reopens"}\n'.encode("utf-16-le"))
    assert failures(read_all(tmp_path)) == {"rows.jsonl": "binary file"}


def test_skip_printer_shows_a_few_rows_per_file_and_reason() -> None:
    from search.document import ReadFailure as Failure
    from search.ingest import SkipPrinter

    lines: list[str] = []
    printer = SkipPrinter(lines.append, per_reason=2)
    for n in range(1, 6):
        printer(Failure(f"a.jsonl#{n}", f"bad JSON: Expecting value: line 1 column {n}"))
    for name in ("x#1.txt", "x#2.txt", "x#3.txt"):  # files whose names hold a '#' are not rows
        printer(Failure(name, "empty file"))
    printer(Failure("reut2-000.sgm#7", "no title or body"))
    printer.finish()
    assert lines == [
        "skipped a.jsonl#1: bad JSON: Expecting value: line 1 column 1",
        "skipped a.jsonl#2: bad JSON: Expecting value: line 1 column 2",
        "skipped x#1.txt: empty file",
        "skipped x#2.txt: empty file",
        "skipped x#3.txt: empty file",
        "skipped reut2-000.sgm#7: no title or body",
        "... and 3 more rows of a.jsonl skipped: bad JSON",
    ]


# --------------------------------------------------------------------------- Reuters SGML


@pytest.mark.parametrize("name", ["reut2-000.sgm", "reut2-000.sgm.gz"])
def test_reuters_snippet(tmp_path: Path, name: str) -> None:
    write(tmp_path / name, gzip.compress(REUTERS_SNIPPET) if name.endswith(".gz") else REUTERS_SNIPPET)
    items = by_path(read_all(tmp_path))
    assert sorted(items) == sorted(f"{name}#{n}" for n in (7, 8, 9, 10))
    story = items[f"{name}#7"]
    assert (story.kind, story.title, story.date, story.source, story.group) == (
        "text", "BAHIA COCOA <BCR> REVIEW", "26-FEB-1987 15:01:01.79", "Reuters", f"{name}|Reuters",
    )
    assert story.content == (
        "Showers continued throughout the week in the Bahia cocoa zone, alleviating the drought since early "
        "January, Comissaria Smith & Co said in its weekly review.\n\n"
        "The dry period means the temporao will be late this year.\n\n"
        "Shr profit three cts vs loss three cts\n\n"
        "Net profit 363,000 vs loss 197,000"
    )
    assert story.entities == [
        ("El Salvador", "place"), ("United States", "place"),
        ("de Clercq", "person"), ("James Baker", "person"),
        ("OPEC", "org"), ("ICO (Coffee)", "org"), ("World Bank", "org"),
    ]
    assert story.meta == {
        "topics": ["cocoa", "trade"], "exchanges": ["nyse"], "companies": [], "dateline": "SALVADOR, Feb 26",
        "newid": 7, "lewissplit": "TRAIN", "text_type": "NORM",
    }
    assert story.reference_date == dt.date(1987, 2, 26)
    brief = items[f"{name}#8"]
    assert (brief.title, brief.content, brief.date) == (
        "FED SETS TWO BILLION DLR CUSTOMER REPURCHASE", "FED SETS TWO BILLION DLR CUSTOMER REPURCHASE",
        "3-MAR-1987 09:10:11.12",
    )
    unprocessed = items[f"{name}#9"]
    assert unprocessed.title == "FEDERAL RESERVE WEEKLY REPORT - FEB 26"
    assert unprocessed.content.split("\n\n") == [
        "Net free reserves.............644 vs.....1,337", "Bank borrowings...............680 vs.......425",
    ]
    assert items[f"{name}#10"].reason == "no title or body"
    assert len({item.content_hash for item in items.values() if isinstance(item, Source)}) == 3


def test_reuters_one_line_story_and_oversized_story(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "MAX_FILE_BYTES", 400)
    one_line = b'<REUTERS NEWID="1"><DATE>1-MAR-1987</DATE><TEXT><TITLE>T</TITLE><BODY>B</BODY></TEXT></REUTERS>\n'
    huge = b'<REUTERS NEWID="2">\n' + b"<BODY>" + b"word " * 200 + b"\n</BODY></REUTERS>\n"
    write(tmp_path / "r.sgm", one_line + huge + one_line.replace(b'"1"', b'"3"'))
    items = read_all(tmp_path)
    assert [(item.path, getattr(item, "title", None) or getattr(item, "reason", None)) for item in items] == [
        ("r.sgm#1", "T"), ("r.sgm", "too large: over the 400 bytes limit for one story"), ("r.sgm#3", "T"),
    ]


def test_reuters_stray_latin1_byte(tmp_path: Path) -> None:
    write(tmp_path / "r.sgm", REUTERS_SNIPPET.replace(b"weekly review", b"weekly r\xfcview"))
    assert "weekly rüview" in by_path(read_all(tmp_path))["r.sgm#7"].content


@pytest.mark.parametrize(
    ("code", "kind", "name"),
    [
        ("usa", "place", "United States"),
        ("west-germany", "place", "West Germany"),
        ("el-salvador", "place", "El Salvador"),
        ("reagan", "person", "Reagan"),
        ("de-la-madrid", "person", "de la Madrid"),
        ("perez-de-cuellar", "person", "Perez de Cuellar"),
        ("opec", "org", "OPEC"),
        ("iwc-wheat", "org", "IWC (Wheat)"),
        ("adb-asia", "org", "Asian Development Bank"),
    ],
)
def test_reuters_name(code: str, kind: str, name: str) -> None:
    assert reuters_name(code, kind) == name


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("short first line\ncontinues here\n", "short first line continues here"),
        ("a long wrapped line of wire copy that goes on for quite a while\nand ends.\n    Next paragraph.",
         "a long wrapped line of wire copy that goes on for quite a while and ends.\n\nNext paragraph."),
        ("first line\nsecond line that is long enough to be wrapped in the body\nYear\nNet 5 vs 4",
         "first line second line that is long enough to be wrapped in the body Year\n\nNet 5 vs 4"),
        ("first\nAmarlo     1.84   1.40\nLubbck     1.73   1.48", "first\n\nAmarlo 1.84 1.40\n\nLubbck 1.73 1.48"),
        ("a year-\nago period", "a year-ago period"),
        ("one\n\n\ntwo", "one\n\ntwo"),
    ],
)
def test_rewrap_paragraphs(text: str, expected: str) -> None:
    got = rewrap_paragraphs(text.split("\n"))
    assert "\n".join(" ".join(line.split()) for line in got.split("\n")) == expected


@pytest.mark.slow
@pytest.mark.skipif(not REUTERS.is_dir(), reason="Reuters-21578 corpus not available")
def test_real_reuters_corpus() -> None:
    options = Options(extensions=(".sgm", ".sgm.gz"))
    stories = failed = 0
    for item in iter_sources([REUTERS], options):
        if isinstance(item, Source):
            stories += 1
        else:
            failed += 1
            assert item.reason == "no title or body"
    assert stories + failed == 21578
    assert failed < 10
