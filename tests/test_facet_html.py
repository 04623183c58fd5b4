"""The search page's facet values, built in Python (web.pages.facet_entries_html) instead of a Jinja loop:
escaped once, every mode's controls, the markup the template had."""

from __future__ import annotations

from markupsafe import Markup

from web.pages import facet_entries_html

HOSTILE = 'A&B "q" <x> \'s'


def _entry(mode, value=HOSTILE, count=2):
    return {"mode": mode, "value": value, "count": count, "href": "/search?q=a&entity=1",
            "any_href": "/search?entity_any=1&x=<", "not_href": "/search?entity_not='1'"}


def test_an_unselected_value_is_escaped_everywhere_and_has_or_and_not_controls():
    html = facet_entries_html([_entry(None, count=1234)], False, "People")
    assert isinstance(html, Markup)
    esc = "A&amp;B &#34;q&#34; &lt;x&gt; &#39;s"
    assert html == (
        f'\n    <li class="value" data-value="{esc}">\n      '
        f'\n      <a class="value-link" href="/search?q=a&amp;entity=1" '
        f'aria-label="{esc}: 1,234 articles">{esc}</a>\n      '
        '\n      <span class="count">1234</span>\n      <span class="controls">\n        '
        '\n        <a class="or" href="/search?entity_any=1&amp;x=&lt;"\n'
        f'           aria-label="{esc} or other checked people">or</a>\n        '
        f'\n        <a class="not" href="/search?entity_not=&#39;1&#39;" aria-label="Exclude {esc}">−</a>'
        '\n      </span>\n    </li>\n    ')
    assert "<x>" not in html


def test_each_mode_gets_its_label_and_controls():
    html = facet_entries_html([_entry("all", "Ann"), _entry("any", "Bo"), _entry("not", "Cy")], True, "People")
    items = html.split('<li class="value')[1:]
    assert items[0].startswith(' selected mode-all" data-value="Ann"')
    assert 'aria-label="Remove filter Ann"><span aria-hidden="true">× </span>Ann</a>' in items[0]
    assert '<span class="box-mark" aria-hidden="true">☐</span> or</a>' in items[0]
    assert 'class="or box on"' in items[1] and 'aria-label="Uncheck Bo (any of)"' in items[1]
    assert '<span class="box-mark" aria-hidden="true">☑</span> or</a>' in items[1]
    assert "<s>Cy</s>" in items[2] and 'class="or' not in items[2]  # an excluded value has no "or"
    assert 'class="not"' not in html  # only unselected values can be excluded


def test_no_values_leave_the_list_empty():
    assert facet_entries_html([], False, "Places") == ""
