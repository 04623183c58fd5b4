"""The main text of HTML pages through ``newsfacet clean``: small pages, one real cause each.

Each page reproduces what was seen on the realworld boilerplate set (issue
11): body lines lost by trafilatura's precision mode or by the cleaner's
shape rules, a dash of dialogue taken for a list bullet, the standfirst left
outside the extracted container; and that the site's furniture still goes.
"""

from __future__ import annotations

import json
from pathlib import Path

from web.cli import main

PARA = (
    "So schön winterlich ist es wie schon lange nicht mehr. Da bringt es richtig Laune, mal wieder etwas "
    "ganz besonders Leckeres auf den Tisch zu bringen."
)
PARA2 = (
    "Die Leber mit einem scharfen Messer von Bindegewebe befreien und in Stückchen schneiden. Dann im heißen "
    "Öl scharf anbraten, bis sie braun ist."
)
PARA3 = (
    "Die Zwiebeln würfeln und dazugeben, bis sie glasig werden. Mit Rotwein ablöschen und bis zur Hälfte "
    "reduzieren lassen, dann servieren."
)
LEAD = "Ein schnelles Gericht für kalte Wintertage: Rinderleber mit Apfel und Zwiebeln, in zwanzig Minuten fertig."


def page(article: str, *, description: str | None = None, before: str = "", footer: str = "") -> str:
    meta = f'<meta name="description" content="{description}">' if description else ""
    return (
        '<html lang="de"><head><title>Rinderleber mit Apfel | Kochblog</title>'
        '<meta property="og:title" content="Rinderleber mit Apfel und Zwiebeln">'
        f"{meta}</head><body>"
        '<nav><ul><li><a href="/">Start</a></li><li><a href="/rezepte">Rezepte</a></li>'
        '<li><a href="/kontakt">Kontakt</a></li></ul></nav>'
        f"{before}<article><h1>Rinderleber mit Apfel und Zwiebeln</h1>{article}</article>"
        f"<footer>{footer}<p>© 2020 Kochblog. Alle Rechte vorbehalten.</p></footer></body></html>"
    )


def clean(tmp_path: Path, capsys, markup: str) -> dict:
    path = tmp_path / "page.html"
    path.write_text(markup, encoding="utf-8")
    capsys.readouterr()
    assert main(["clean", str(path), "--json", "--no-context"]) == 0
    return json.loads(capsys.readouterr().out)


def paragraphs(result: dict) -> list[str]:
    return result["body"].split("\n\n")


def test_recipe_fields_and_table_rows_are_body(tmp_path, capsys):
    # "Label: value" lines and table rows ("| a | b |") have the shape of a
    # link teaser and a navigation trail; inside the extracted article they
    # are the recipe, and only evidence may drop them.
    body = paragraphs(clean(tmp_path, capsys, page(
        f"<p>{PARA}</p><ul><li>Zubereitungszeit: 25 Minuten</li><li>Schwierigkeit: einfach</li></ul>"
        "<h2>Zutaten</h2><table><tr><td>Rinderleber</td><td>1000 g</td></tr>"
        f"<tr><td>Zwiebeln</td><td>3 Stück</td></tr></table><p>{PARA2}</p><p>{PARA3}</p>"
    )))
    assert "Zubereitungszeit: 25 Minuten" in body
    assert "Schwierigkeit: einfach" in body
    assert "Zutaten" in body  # a one-word subheading, not an ad marker
    assert "| Rinderleber | 1000 g |" in body
    assert "| Zwiebeln | 3 Stück |" in body
    assert body[-1] == PARA3


def test_code_sample_is_body(tmp_path, capsys):
    result = clean(tmp_path, capsys, page(
        f"<p>{PARA}</p><pre><code>&gt;&gt;&gt; def foo(bar=[]):\n...     bar.append(1)\n</code></pre><p>{PARA2}</p>"
    ))
    assert ">>> def foo(bar=[]):" in result["body"]


def test_dialogue_dash_is_not_a_list_bullet(tmp_path, capsys):
    # trafilatura marks list items with "- "; a paragraph of dialogue that
    # itself opens with a dash keeps it, and a one-word answer is a line.
    body = paragraphs(clean(tmp_path, capsys, page(
        f"<p>{PARA}</p><p>– „Schmeckt das?“</p><p>– „Ok.“</p><p>{PARA2}</p>"
        "<ul><li>Rotwein zum Ablöschen</li></ul>"
    )))
    assert '- "Schmeckt das?"' in body
    assert '- "Ok."' in body
    assert "Rotwein zum Ablöschen" in body  # the bullet trafilatura adds is cut


def test_standfirst_outside_the_article_is_put_back(tmp_path, capsys):
    # The publisher's summary of this article, printed as a visible lead
    # above the <article> that trafilatura picks.
    body = paragraphs(clean(tmp_path, capsys, page(
        f"<p>{PARA}</p><p>{PARA2}</p><p>{PARA3}</p>",
        description=LEAD,
        before=f'<div class="intro"><p>{LEAD}</p></div>',
    )))
    assert body[0] == LEAD
    assert body.count(LEAD) == 1


def test_standfirst_only_in_meta_or_in_the_footer_is_not_added(tmp_path, capsys):
    article = f"<p>{PARA}</p><p>{PARA2}</p><p>{PARA3}</p>"
    assert LEAD not in clean(tmp_path, capsys, page(article, description=LEAD))["body"]
    in_footer = page(article, description=LEAD, footer=f"<p>{LEAD}</p>")
    assert LEAD not in clean(tmp_path, capsys, in_footer)["body"]


def test_cut_description_finds_its_full_lead(tmp_path, capsys):
    cut = LEAD[:70].rsplit(" ", 1)[0] + " …"
    body = paragraphs(clean(tmp_path, capsys, page(
        f"<p>{PARA}</p><p>{PARA2}</p>", description=cut, before=f"<header><p>{LEAD}</p></header>",
    )))
    assert body[0] == LEAD


def test_furniture_inside_the_article_still_goes(tmp_path, capsys):
    result = clean(tmp_path, capsys, page(
        f"<p>{PARA}</p><p>Sign up for our newsletter</p><p>{PARA2}</p><p>{PARA3}</p>",
        footer="<p>Abonniere unseren Newsletter und verpasse kein Rezept mehr.</p>",
    ))
    assert "Sign up for our newsletter" not in result["body"]
    assert "Alle Rechte vorbehalten" not in result["body"]
    assert "Abonniere unseren Newsletter" not in result["body"]
    assert PARA3 in result["body"]
