"""Sphinx extension: a fix that keeps the book's pages free of console errors.

Loaded by ``_config.yml`` (``sphinx.local_extensions``); ``tests/test_browser_book.py``
fails if the error comes back.

**Each inline ``<script>`` once per page.** With Sphinx 7.4 (the series Jupyter
Book 1 requires), an extension that calls ``app.add_js_file(None, body=...)``
after the HTML builder exists gets its script written twice:
``Sphinx.add_js_file`` hands the builder ``filename=None``, while the builder's
``prepare_writing`` re-adds every registered script as ``filename=''``, and the
duplicate check compares ``None`` with ``''``. sphinx-thebe's
``const THEBE_JS_URL = ...`` then runs twice and every page throws
``SyntaxError: Identifier 'THEBE_JS_URL' has already been declared``
(sphinx-togglebutton's selector is doubled the same way). Sphinx fixed this in
8.x (sphinx-doc/sphinx pull request 13402: ``''`` instead of ``None``); this
applies the same normalisation to the pinned Sphinx 7's builder, and changes
nothing where the fix is already in.
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx
from sphinx.builders.html import StandaloneHTMLBuilder

_original_add_js_file = StandaloneHTMLBuilder.add_js_file


def _add_js_file(self: StandaloneHTMLBuilder, filename: str | None, **kw: Any) -> None:
    _original_add_js_file(self, filename or "", **kw)


def setup(app: Sphinx) -> dict[str, Any]:
    if StandaloneHTMLBuilder.add_js_file is not _add_js_file:
        StandaloneHTMLBuilder.add_js_file = _add_js_file  # type: ignore[method-assign]
    return {"parallel_read_safe": True, "parallel_write_safe": True}
