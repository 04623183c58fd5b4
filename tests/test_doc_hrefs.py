"""web.pages.doc_hrefs: article links built once per page, the same as url_for builds each."""

from __future__ import annotations

import pytest
from flask import url_for

from web.pages import doc_hrefs


@pytest.mark.parametrize("q", [None, "", "oil", 'crude "oil" & gas', "0123456789abcdef", "ü/é?#%+ x"])
def test_the_same_links_as_url_for(seed_app, q):
    ids = ["00ff00ff00ff00ff", "0123456789abcdef", "not-a-doc-id", "A0B1C2D3E4F5A6B7"]
    with seed_app.test_request_context("/search", base_url="http://127.0.0.1/prefix"):
        href = doc_hrefs(q)
        assert [href(i) for i in ids] == [url_for("pages.doc", doc_id=i, q=q or None) for i in ids]
