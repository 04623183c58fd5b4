"""The plain-text cleaner on the shapes of real scrapes (issue 11).

Each test is a small dump written here, one block a line with blank lines
between (as `../shared/corpora/realworld/boilerplate/text/` is made), that
reproduces one cause of lost article text or kept boilerplate seen on the
real-world set, cleaned through ``newsfacet clean FILE.txt --json --no-context``:
a single page with no sibling files.
"""

from __future__ import annotations

import json

import pytest

from web.cli import main

LEAD = (
    "Der Stadtrat hat am Dienstag beschlossen, die Brücke über die Aller bis zum Herbst zu sanieren. "
    "Die Arbeiten sollen rund zwei Millionen Euro kosten und werden vom Land gefördert."
)
SECOND = (
    "Während der Bauzeit wird der Verkehr über die Umgehungsstraße geleitet, teilte die Verwaltung mit. "
    "Fußgänger können eine Behelfsbrücke nutzen, die neben dem Bauwerk errichtet wird."
)
THIRD = (
    "Die Opposition kritisierte, die Sanierung komme zu spät, weil erste Schäden schon vor fünf Jahren "
    "bekannt geworden seien. Die Mehrheit im Rat wies das zurück."
)


def clean(tmp_path, capsys, lines: list[str]) -> dict:
    page = tmp_path / "page.txt"
    page.write_text("\n\n".join(lines) + "\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["clean", str(page), "--json", "--no-context"]) == 0
    return json.loads(capsys.readouterr().out)


def test_a_copyright_line_above_the_article_does_not_remove_it(tmp_path, capsys):
    # Sites print "© 2021 Verlag" in the header bar; everything after it used
    # to count as "below the copyright notice".
    out = clean(tmp_path, capsys, ["© 2021 Harbour Verlag GmbH", "Startseite", "Brücke wird saniert",
                                   LEAD, SECOND, THIRD, "Impressum", "© 2021 Harbour Verlag GmbH"])
    for para in (LEAD, SECOND, THIRD):
        assert para in out["body"]
    assert "Impressum" not in out["body"] and "©" not in out["body"]


def test_label_value_facts_are_article_text(tmp_path, capsys):
    # "Termin: 29.02.2020, 19 Uhr" states a fact; only link labels make teasers.
    out = clean(tmp_path, capsys, ["Whisky-Verkostung im Frühjahr", LEAD, "Termin: 29.02.2020, 19 Uhr",
                                   "Ort: Kulturhaus am Markt", SECOND, "Lesen Sie auch: Neue Brücke für Celle",
                                   THIRD])
    assert "Termin: 29.02.2020, 19 Uhr" in out["body"]
    assert "Ort: Kulturhaus am Markt" in out["body"]
    assert "Neue Brücke für Celle" not in out["body"]


@pytest.mark.parametrize(
    "furniture",
    [
        # Comment forms and their notices, in several languages.
        ["Schreibe einen Kommentar Antworten abbrechen",
         "Deine E-Mail-Adresse wird nicht veröffentlicht. Erforderliche Felder sind mit * markiert.",
         "Kommentar", "Name", "E-Mail", "Website",
         "Meinen Namen, E-Mail und Website in diesem Browser speichern, bis ich wieder kommentiere.",
         "Diese Website verwendet Akismet, um Spam zu reduzieren."],
        ["Leave a Reply", "Your email address will not be published. Required fields are marked *",
         "Notify me when new comments are added.",
         "This site uses Akismet to reduce spam. Learn how your comment data is processed."],
        ["Deja un comentario", "Tu dirección de correo electrónico no será publicada.",
         "Los campos obligatorios están marcados con *"],
        # Newsletter and footer link rows.
        ["Newsletter", "World-class articles, delivered weekly.", "Archive - RSS - Impressum - Datenschutz"],
        ["Ähnliche Beiträge", "Neue Ampel am Bahnhof", "Stadtfest abgesagt", "Teilen mit:", "Facebook", "Twitter"],
        ["Temas relacionados", "Otras Noticias", "Compartir", "Todos los derechos reservados."],
    ],
    ids=["de-comment-form", "en-comment-form", "es-comment-form", "newsletter-footer", "de-related-share",
         "es-related"],
)
def test_tail_furniture_goes_in_any_language(tmp_path, capsys, furniture):
    out = clean(tmp_path, capsys, ["Brücke wird saniert", LEAD, SECOND, THIRD, *furniture])
    for para in (LEAD, SECOND, THIRD):
        assert para in out["body"]
    for line in furniture:
        assert line not in out["body"]


def test_readers_comments_below_the_comment_header_are_not_the_article(tmp_path, capsys):
    comment = ("Ich finde es richtig, dass endlich etwas passiert, aber warum hat das so lange gedauert? "
               "Wir warten seit Jahren auf eine Lösung und niemand hat sich gekümmert. ") * 2
    out = clean(tmp_path, capsys, ["Brücke wird saniert", LEAD, SECOND, "3 Kommentare", "Anna sagt:",
                                   comment, "Antworten", "Bernd sagt:", comment + " Schade.", "Antworten"])
    assert LEAD in out["body"] and SECOND in out["body"]
    assert "Wir warten seit Jahren" not in out["body"]


def test_a_german_cookie_banner_is_furniture(tmp_path, capsys):
    banner = ("Wir verwenden Cookies, um Inhalte und Anzeigen zu personalisieren und die Zugriffe auf unsere "
              "Website zu analysieren.")
    out = clean(tmp_path, capsys, ["Brücke wird saniert", LEAD, SECOND, THIRD, banner, "Verstanden"])
    assert banner not in out["body"] and THIRD in out["body"]


def test_a_standfirst_above_byline_and_date_is_kept(tmp_path, capsys):
    deck = "Weltweit finanzieren Banken Unternehmungen, die dem Klima schaden."
    out = clean(tmp_path, capsys, ["Politik", "Klimaschutz: Bohren, bis es heiß wird", deck, "Von Heike Muster",
                                   "Exklusiv für Abonnenten", LEAD, SECOND])
    assert deck in out["body"] and LEAD in out["body"]
    assert "Exklusiv für Abonnenten" not in out["body"]
