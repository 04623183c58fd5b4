"""The ``newsfacet`` command line, end to end on the seeds."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from search.api import FacetValuesRequest, SearchRequest
from search.whoosh_backend.service import WhooshBackend
from web.cli import main

from .conftest import SEEDS, SEEDS_CRAWLED, copy_corpus


@pytest.fixture(scope="module")
def cli_index(tmp_path_factory):
    corpus = copy_corpus(SEEDS, tmp_path_factory.mktemp("cli") / "seeds", SEEDS_CRAWLED)
    index_dir = tmp_path_factory.mktemp("cli-index")
    assert main(["--index", str(index_dir), "index", str(corpus), "--quiet"]) == 0
    return index_dir, corpus


def run_json(capsys, *argv) -> dict:
    capsys.readouterr()
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_console_script_is_installed_and_runs(cli_index):
    index_dir, _ = cli_index
    script = Path(sys.executable).with_name("newsfacet")
    assert script.exists()
    out = subprocess.run(
        [str(script), "--index", str(index_dir), "search", "Lavrov"], capture_output=True, text=True, check=True
    ).stdout
    assert "2 articles" in out.splitlines()[0]


def test_index_summary_and_no_op_rerun(cli_index, capsys):
    index_dir, corpus = cli_index
    capsys.readouterr()
    assert main(["--index", str(index_dir), "index", str(corpus), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "0 added, 0 updated, 5 unchanged, 0 removed, 0 failed; 5 articles in the index" in out


def test_index_reports_bad_files_and_goes_on(tmp_path, capsys):
    corpus = copy_corpus(SEEDS, tmp_path / "c", SEEDS_CRAWLED)
    (corpus / "empty.txt").write_bytes(b"")
    assert main(["--index", str(tmp_path / "ix"), "index", str(corpus), "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "skipped empty.txt: empty file" in captured.err
    assert "5 added" in captured.out and "1 failed" in captured.out


def write_bad_files(folder: Path) -> None:
    """One of every kind of bad input the issue names, beside good files of each format."""
    import gzip

    (folder / "empty.txt").write_bytes(b"")
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 40)
    page = gzip.compress(b"<html><body><article><h1>Harbour news</h1><p>" + b"The harbour reopened today. " * 40
                         + b"</p></article></body></html>")
    (folder / "truncated.html.gz").write_bytes(page[: len(page) // 2])
    # Stray bytes that are not UTF-8 inside an otherwise UTF-8 page: decoded, not dropped.
    (folder / "stray-bytes.txt").write_bytes(
        b"Grain prices climb in Rotterdam\n\nTraders in Rotterdam said grain prices rose for a third week "
        b"as barges waited \xff\xfe on the low Rhine, caf\xc3\xa9 owners said.\n")
    line = b"The committee met again to discuss the harbour budget and the new tariff schedule. " * 10 + b"\n"
    (folder / "huge.txt").write_bytes(line * (50 * 2**20 // len(line) + 1))  # a real 50 MB file
    depth = 20_000
    (folder / "nested.html").write_text(
        "<html><body><h1>River festival draws crowds</h1><p>Thousands came to the river festival to hear "
        "brass bands play on the quay.</p>" + "<div>" * depth + "deep" + "</div>" * depth + "</body></html>")
    (folder / "head-only.html").write_text("<html><head><title>Only a title</title></head></html>")
    # No <html>, <head> or <body> tag at all, as some scrapers save fragments: still an article.
    (folder / "no-body-tag.html").write_text(
        "<!doctype html><title>Flood defences raised in Deventer</title><h1>Flood defences raised in Deventer</h1>"
        "<p>Engineers raised the flood defences along the IJssel in Deventer on Monday as the river rose "
        "faster than forecast.</p><p>The water board said the new barriers held through the night.</p>")
    (folder / "rows.jsonl").write_text(
        '{"title": "Wheat harvest starts early in Kansas", "text": "Farmers in Kansas began the wheat harvest '
        'two weeks early after a hot, dry spring."}\n'
        '{"title": broken\n'
        "[1, 2, 3]\n"
        '{"title": "Ferry service resumes to the islands", "text": "The ferry company resumed its service to '
        'the islands after storms kept boats in port for three days."}\n'
        '{"text": ""}\n', encoding="utf-8")


def test_every_kind_of_bad_file_is_reported_and_the_rest_indexed(tmp_path):
    corpus = copy_corpus(SEEDS, tmp_path / "c", SEEDS_CRAWLED)
    write_bad_files(corpus)
    index_dir = tmp_path / "ix"
    done = subprocess.run([str(Path(sys.executable).with_name("newsfacet")), "--index", str(index_dir),
                           "index", "--quiet", str(corpus)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    skipped = dict(line.removeprefix("skipped ").split(": ", 1) for line in done.stderr.splitlines())
    assert skipped == {
        "empty.txt": "empty file",
        "binary.txt": "binary file",
        "truncated.html.gz": "corrupt gzip: Compressed file ended before the end-of-stream marker was reached",
        "huge.txt": "too large: 50.0 MiB, over the 20.0 MiB limit for one file",
        "head-only.html": "no main text found in the HTML",
        "rows.jsonl#2": "bad JSON: Expecting value: line 1 column 11 (char 10)",
        "rows.jsonl#3": "bad JSON: not an object",
        "rows.jsonl#5": "no text, html or title",
    }
    assert done.stdout.startswith("10 added, 0 updated, 0 unchanged, 0 removed, 8 failed; 10 articles in the index")
    service = WhooshBackend(index_dir)
    found = {q: [h.path for h in service.search(SearchRequest(q=q)).hits]
             for q in ("rotterdam", '"river festival"', "deventer", "kansas", "ferry", "hamas")}
    assert found["rotterdam"] == ["stray-bytes.txt"]
    assert found['"river festival"'] == ["nested.html"]
    assert found["deventer"] == ["no-body-tag.html"]
    assert found["kansas"] == ["rows.jsonl#1"] and found["ferry"] == ["rows.jsonl#4"]
    assert len(found["hamas"]) == 5


def test_search_json_is_the_query_service_answer(cli_index, capsys):
    index_dir, _ = cli_index
    data = run_json(capsys, "--index", str(index_dir), "search", "Haniyeh", "--json")
    assert data["total"] == 2
    assert data["query"]["q"] == "Haniyeh"
    assert all("<mark>" in h["snippet"] for h in data["hits"])
    assert {"entity", "date"} == set(data["facets"])


def test_search_filters(cli_index, capsys):
    index_dir, _ = cli_index
    ix = ["--index", str(index_dir)]
    data = run_json(capsys, *ix, "search", "--entity", "Vladimir Putin", "--json")
    assert data["total"] == 2
    data = run_json(capsys, *ix, "search", "--date", "2024", "--json")
    assert [h["path"] for h in data["hits"]] == ["001_e5d5862b3fed93d4.txt"]
    data = run_json(capsys, *ix, "search", "--date", "undated", "--json")
    assert data["total"] == 3
    data = run_json(capsys, *ix, "search", "--from", "2023-10-01", "--to", "2023-10-31", "--json")
    assert [h["path"] for h in data["hits"]] == ["004_4c9df461499d11da.txt"]
    data = run_json(capsys, *ix, "search", "--sort", "oldest", "--json")
    assert [h["date"] for h in data["hits"]][:2] == ["2023-10-26", "2024-06-25"]


def test_search_text_output(cli_index, capsys):
    index_dir, _ = cli_index
    capsys.readouterr()
    assert main(["--index", str(index_dir), "search", "Bogdanov"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("1-2 of 2 articles")
    assert "[Bogdanov]" in out
    assert "entities:" in out and "dates:" in out


@pytest.mark.parametrize(
    "argv,message",
    [
        (["search", "x", "--sort", "best"], "sort must be one of relevance, newest, oldest"),
        (["search", "x", "--date", "2023-13"], "2023-13"),
        (["search", "x", "--from", "yesterday"], "from must be a date as YYYY-MM-DD"),
        (["search", "x", "--per-page", "1000"], "per_page must be"),
    ],
)
def test_bad_parameters_are_clear_errors(cli_index, capsys, argv, message):
    index_dir, _ = cli_index
    capsys.readouterr()
    assert main(["--index", str(index_dir), *argv]) == 2
    assert message in capsys.readouterr().err


def test_missing_index_is_a_clear_error(tmp_path, capsys):
    assert main(["--index", str(tmp_path / "none"), "search", "x"]) == 2
    assert "newsfacet index" in capsys.readouterr().err


def test_clean_explains_what_was_dropped(capsys):
    capsys.readouterr()
    assert main(["clean", str(SEEDS / "000_4e1852c0d95101e1.txt")]) == 0
    out = capsys.readouterr().out
    assert "title:    Hamas chief, Russia FM discuss escalations in Jerusalem, Gaza" in out
    assert "- 'Leave a Reply':" in out
    assert "- 'Middle East': above the headline" in out
    assert "person  Ismail Haniyeh" in out


def test_clean_json(capsys):
    data = run_json(capsys, "clean", "--json", str(SEEDS / "001_e5d5862b3fed93d4.txt"))
    assert data["date"] == "2024-06-25" and data["date_precision"] == "day"
    assert "June 25, 2024" in data["date_evidence"]
    assert data["captions"] and "[Reuters/Mohammed Salem]" in data["captions"][0]
    marzouk = [e for e in data["entities"] if "Marzou" in e["value"]]
    assert len(marzouk) == 1 and {"Abu Marzouk", "Mousa Abu Marzook"} <= set(marzouk[0]["spellings"])


def test_entities_lists_counts_and_merged_spellings(cli_index, capsys):
    index_dir, _ = cli_index
    rows = run_json(capsys, "--index", str(index_dir), "entities", "--type", "person", "--json")
    marzouk = [r for r in rows if "Marzou" in r["value"]]
    assert len(marzouk) == 1 and marzouk[0]["count"] == 4
    assert {"Abu Marzouq", "Musa Abu Marzouk"} <= set(marzouk[0]["spellings"])
    capsys.readouterr()
    assert main(["--index", str(index_dir), "entities", "--min-count", "4"]) == 0
    out = capsys.readouterr().out
    assert "Hamas" in out and "Haniyeh" not in out


def test_index_option_is_also_accepted_after_the_command(cli_index, capsys):
    index_dir, _ = cli_index
    assert run_json(capsys, "search", "--index", str(index_dir), "Lavrov", "--json")["total"] == 2
    # Given in both places, the one after the command wins, as the nearer one reads.
    assert run_json(capsys, "--index", "/nonexistent", "search", "--index", str(index_dir), "Lavrov",
                    "--json")["total"] == 2


def test_query_words_anywhere_among_the_options_join_into_one_query(cli_index, capsys):
    index_dir, _ = cli_index
    ix = ["--index", str(index_dir)]
    joined = run_json(capsys, *ix, "search", "hamas", "--sort", "newest", "moscow", "--json")
    assert joined["query"]["q"] == "hamas moscow" and joined["query"]["sort"] == "newest"
    assert joined["total"] == run_json(capsys, *ix, "search", "hamas moscow", "--sort", "newest", "--json")["total"]
    # Quoting the quotes keeps a phrase a phrase; a shell-quoted argument is just its words.
    phrase = run_json(capsys, *ix, "search", '"Hamas delegation"', "--json")
    words = run_json(capsys, *ix, "search", "Hamas delegation", "--json")
    assert phrase["query"]["q"] == '"Hamas delegation"' and words["query"]["q"] == "Hamas delegation"
    assert phrase["total"] < words["total"]
    # After "--" a word may start with a dash.
    assert run_json(capsys, *ix, "search", "hamas", "--json", "--", "-moscow")["query"]["q"] == "hamas -moscow"


def test_an_unknown_option_among_the_words_is_still_an_error(cli_index, capsys):
    index_dir, _ = cli_index
    capsys.readouterr()
    with pytest.raises(SystemExit) as stopped:
        main(["--index", str(index_dir), "search", "hamas", "--bogus", "moscow"])
    assert stopped.value.code == 2
    assert "unrecognized arguments: --bogus" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--index", str(index_dir), "entities", "stray"])
    assert "unrecognized arguments: stray" in capsys.readouterr().err


def paths_of(capsys, index_dir, *argv) -> set[str]:
    data = run_json(capsys, "--index", str(index_dir), "search", *argv, "--per-page", "100", "--json")
    assert data["total"] == len(data["hits"])
    return {h["path"] for h in data["hits"]}


def test_entity_any_and_entity_not_reach_the_request(cli_index, capsys):
    index_dir, _ = cli_index
    data = run_json(capsys, "--index", str(index_dir), "search", "--entity-any", "Vladimir Putin",
                    "--entity-any", "Sergey Lavrov", "--entity-not", "Ismail Haniyeh", "--json")
    assert data["query"]["entity_any"] == ["Sergey Lavrov", "Vladimir Putin"]
    assert data["query"]["entity_not"] == ["Ismail Haniyeh"]


def test_entity_any_is_an_or_within_a_type_and_entity_not_excludes(cli_index, capsys):
    index_dir, _ = cli_index
    everything = paths_of(capsys, index_dir)
    putin, lavrov = paths_of(capsys, index_dir, "--entity", "Vladimir Putin"), paths_of(
        capsys, index_dir, "--entity", "Sergey Lavrov")
    kremlin = paths_of(capsys, index_dir, "--entity", "Kremlin")
    assert putin and lavrov and putin != lavrov and len(everything) == 5
    either = paths_of(capsys, index_dir, "--entity-any", "Vladimir Putin", "--entity-any", "Sergey Lavrov")
    assert either == putin | lavrov
    # Groups of different types AND with each other.
    assert paths_of(capsys, index_dir, "--entity-any", "Vladimir Putin", "--entity-any", "Sergey Lavrov",
                    "--entity-any", "Kremlin") == (putin | lavrov) & kremlin
    assert paths_of(capsys, index_dir, "--entity-not", "Vladimir Putin") == everything - putin
    assert paths_of(capsys, index_dir, "--entity-any", "Sergey Lavrov", "--entity-not", "Vladimir Putin") == (
        lavrov - putin)


def test_an_entity_both_required_and_excluded_is_a_clear_error(cli_index, capsys):
    index_dir, _ = cli_index
    capsys.readouterr()
    assert main(["--index", str(index_dir), "search", "--entity", "Hamas", "--entity-not", "Hamas"]) == 2
    assert "both required and excluded" in capsys.readouterr().err


def test_search_text_marks_how_each_entity_is_filtered(cli_index, capsys):
    index_dir, _ = cli_index
    capsys.readouterr()
    assert main(["--index", str(index_dir), "search", "--entity", "Hamas", "--entity-any", "Sergey Lavrov",
                 "--entity-not", "Vladimir Putin"]) == 0
    out = capsys.readouterr().out
    assert "\nentities (* required, + any of, - excluded):\n" in out
    assert "\n * Hamas (org) " in out and "\n + Sergey Lavrov (person) " in out
    assert "\n - Vladimir Putin (person) " in out


def test_counts_are_singular_for_one(tmp_path, capsys):
    corpus = tmp_path / "one"
    corpus.mkdir()
    (corpus / "storm.txt").write_text(
        "Harbour reopens after storm\n\nThe harbour in Esbjerg reopened on Monday after the storm closed it for "
        "two days, the port authority said.\n")
    ix = ["--index", str(tmp_path / "ix")]
    capsys.readouterr()
    assert main([*ix, "index", str(corpus), "--quiet"]) == 0
    assert "0 failed; 1 article in the index (" in capsys.readouterr().out
    assert main([*ix, "search", "harbour"]) == 0
    assert capsys.readouterr().out.startswith("1-1 of 1 article (")
    assert main([*ix, "search", "nothinglikethis"]) == 0
    assert capsys.readouterr().out.startswith("0 articles (")


def test_the_more_line_of_skipped_rows_is_singular_for_one():
    from search.api import skip_printer
    from search.document import ReadFailure

    lines = []
    printer = skip_printer(lines.append)
    for n in range(1, 7):
        printer(ReadFailure(f"a.jsonl#{n}", "bad JSON: oops"))
    for n in range(1, 8):
        printer(ReadFailure(f"reut2-000.sgm#{n}", "no title or body"))
    printer.finish()
    assert lines[-2:] == ["... and 1 more row of a.jsonl skipped: bad JSON",
                          "... and 2 more stories of reut2-000.sgm skipped: no title or body"]


def test_clean_one_row_of_a_jsonl_file(tmp_path, capsys):
    rows = tmp_path / "rows.jsonl"
    rows.write_text(
        '{"title": "Wheat harvest starts early in Kansas", "text": "Farmers in Kansas began the wheat harvest '
        'two weeks early after a hot, dry spring."}\n'
        '{"title": broken\n'
        '{"title": "Ferry service resumes to the islands", "text": "The ferry company resumed its service to '
        'the islands after storms kept boats in port for three days."}\n', encoding="utf-8")
    data = run_json(capsys, "clean", "--json", f"{rows}#3")
    assert data["path"] == "rows.jsonl#3" and data["title"] == "Ferry service resumes to the islands"
    capsys.readouterr()
    assert main(["clean", f"{rows}#1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("== rows.jsonl#1\ntitle:    Wheat harvest starts early in Kansas")
    assert "Ferry" not in out  # that row only
    assert main(["clean", f"{rows}#2"]) == 1
    assert capsys.readouterr().err.startswith("rows.jsonl#2: skipped: bad JSON: Expecting value")
    assert main(["clean", f"{rows}#7"]) == 1
    assert capsys.readouterr().err.startswith(f"{rows}#7: no such article in rows.jsonl (#N is the line number")


def test_clean_one_story_of_a_reuters_file_by_its_newid(tmp_path, capsys):
    import gzip

    from .test_readers import REUTERS_SNIPPET

    sgml = tmp_path / "reut2-000.sgm.gz"
    sgml.write_bytes(gzip.compress(REUTERS_SNIPPET))
    data = run_json(capsys, "clean", "--json", f"{sgml}#8")
    assert data["path"] == "reut2-000.sgm.gz#8" and data["title"] == "FED SETS TWO BILLION DLR CUSTOMER REPURCHASE"
    data = run_json(capsys, "clean", "--json", f"{sgml}#7")
    assert data["title"] == "BAHIA COCOA <BCR> REVIEW" and data["source"] == "Reuters"
    assert "OPEC" in {e["value"] for e in data["entities"]}
    capsys.readouterr()
    assert main(["clean", f"{sgml}#1"]) == 1  # the NEWID, not the position
    assert "no such article in reut2-000.sgm.gz" in capsys.readouterr().err


def test_a_name_with_a_hash_that_exists_is_read_whole(tmp_path, capsys):
    odd = tmp_path / "note#2.txt"
    odd.write_text("Harbour reopens after storm\n\nThe harbour in Esbjerg reopened on Monday after the storm.\n")
    data = run_json(capsys, "clean", "--json", str(odd))
    assert data["path"] == "note#2.txt" and data["title"] == "Harbour reopens after storm"


def test_facets_json_is_the_backends_facet_values_page(cli_index, capsys):
    index_dir, _ = cli_index
    data = run_json(capsys, "--index", str(index_dir), "facets", "person", "-q", "Hamas",
                    "--entity-any", "Sergey Lavrov", "--per-page", "3", "--json")
    backend = WhooshBackend(index_dir)
    try:
        expected = backend.facet_values(FacetValuesRequest(
            "person", SearchRequest(q="Hamas", entities_any=("Sergey Lavrov",)), per_page=3)).as_dict()
    finally:
        backend.close()
    assert data == json.loads(json.dumps(expected))
    assert data["per_page"] == 3 and len(data["values"]) == 3 and data["total_values"] > 3


def test_facets_text_lists_counts_marks_and_filters_by_contains(cli_index, capsys):
    index_dir, _ = cli_index
    capsys.readouterr()
    assert main(["--index", str(index_dir), "facets", "person", "--entity-any", "Sergey Lavrov",
                 "--entity-not", "Vladimir Putin"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith("person values, by count") and lines[0].startswith("1-")
    assert any(line.startswith(" + ") and line.endswith("  Sergey Lavrov") for line in lines)
    assert any(line.startswith(" - ") and line.endswith("  Vladimir Putin") for line in lines)
    assert lines[-1] == "(+ any of, - excluded)"
    capsys.readouterr()
    assert main(["--index", str(index_dir), "facets", "person", "--contains", "LAVROV", "--sort", "name"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "1-1 of 1 person value containing 'LAVROV', by name"
    assert out[1].endswith("  Sergey Lavrov")


def test_facets_past_the_end_says_where_the_end_is(cli_index, capsys):
    index_dir, _ = cli_index
    capsys.readouterr()
    assert main(["--index", str(index_dir), "facets", "org", "--per-page", "2", "--page", "99"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1].startswith("page 99 is past the end; the last is --page ")


@pytest.mark.parametrize(
    "argv, message",
    [
        (["facets", "org", "--per-page", "0"], "per_page must be a whole number from 1 to 1000"),
        (["facets", "org", "--entity", "Hamas", "--entity-not", "Hamas"], "both required and excluded"),
        (["facets", "org", "--date", "2023-13"], "2023-13"),
    ],
)
def test_facets_bad_parameters_are_clear_errors(cli_index, capsys, argv, message):
    index_dir, _ = cli_index
    capsys.readouterr()
    assert main(["--index", str(index_dir), *argv]) == 2
    assert message in capsys.readouterr().err


def test_facets_unknown_type_names_the_valid_ones(cli_index, capsys):
    index_dir, _ = cli_index
    with pytest.raises(SystemExit) as stop:
        main(["--index", str(index_dir), "facets", "people"])
    assert stop.value.code == 2
    assert "choose from 'person', 'org', 'place', 'other'" in capsys.readouterr().err
