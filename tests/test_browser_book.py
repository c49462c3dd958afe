"""The built book, opened page by page in headless Chromium as a reader would.

Needs the built book in ``_build/html``: ``make test`` builds it first (only when a
source is newer than the last build), ``make book`` rebuilds it from scratch.
Chromium is Debian's (``make setup`` installs it when missing); Playwright's Python
package drives it with ``executable_path``, and nothing is downloaded. Without
Chromium these tests fail under CI (``CI=true``) and are skipped elsewhere.

Each page is loaded once (tools/check_book.py's ``check_page``) and must show: no
console error or uncaught exception, no failed request, no request leaving the
machine, every image loaded, every formula typeset by MathJax, and a sidebar that
lists every chapter and exercise page of ``_toc.yml``. The book's search page must
find each chapter by a word that only that chapter's text contains.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from pathlib import Path

import pytest

from tools import check_book

ROOT = Path(__file__).resolve().parents[1]
# RNN_BOOK_HTML: check another build of this book (e.g. one built into a temp folder)
HTML = Path(os.environ.get("RNN_BOOK_HTML", ROOT / "_build" / "html"))
TOC_PAGES = check_book.toc_pages(ROOT)
PAGES = TOC_PAGES + [p for p in check_book.EXTRA_PAGES if p not in TOC_PAGES]
CHAPTERS = [p for p in TOC_PAGES if p.startswith("chapters/")]


@pytest.fixture(scope="module")
def context():
    if check_book.find_chromium() is None:
        message = (
            f"Chromium not found at {check_book.CHROMIUM}: run `make setup` "
            "(apt-get install --no-install-recommends chromium)"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    if not (HTML / "index.html").exists():
        pytest.fail(f"no built book in {HTML}: run `make book` (`make test` does)")
    with check_book.browser() as ctx:
        yield ctx


@pytest.fixture(scope="module")
def reports(context):
    """Every page checked once; the tests below read the reports."""
    return {page: check_book.check_page(context, HTML, page) for page in PAGES}


def test_the_checked_pages_are_all_the_built_pages():
    if not (HTML / "index.html").exists():
        pytest.fail(f"no built book in {HTML}: run `make book` (`make test` does)")
    built = set(check_book.built_pages(HTML))
    assert built == set(PAGES), (
        f"built but not checked: {sorted(built - set(PAGES))}; "
        f"listed but not built: {sorted(set(PAGES) - built)}"
    )


@pytest.mark.parametrize("page", PAGES)
def test_page_works_offline_without_errors(reports, page):
    assert reports[page].requests, f"{page}: the page made no request at all"
    problems = reports[page].problems()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("page", [p for p in PAGES if p != "index.html"])
def test_sidebar_lists_every_chapter_and_exercise(reports, page):
    missing = [p for p in TOC_PAGES if p not in reports[page].sidebar]
    assert not missing, f"{page}: the sidebar does not list {missing}"


def test_pages_with_maths_have_it_typeset(reports):
    # the formula check must see formulas: the chapters are full of them
    n = {p: reports[p].n_math for p in CHAPTERS}
    assert all(n.values()), f"chapters without any formula found: {n}"


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z]{7,}", text.lower())


def _term_only_in(page: str, reports) -> str:
    """A word of ``page``'s prose whose first 6 letters begin no word elsewhere.

    The prefix rule keeps the search's stemming (``forecasts`` -> ``forecast``)
    from matching another page; the longest such word is the most distinctive.
    """
    elsewhere = {
        w[:6] for other, r in reports.items() if other != page for w in _words(r.text)
    }
    counts = Counter(w for w in _words(reports[page].prose) if w[:6] not in elsewhere)
    assert counts, f"{page}: no word of its prose is absent from every other page"
    return max(counts, key=lambda w: (len(w), counts[w], w))


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_search_finds_a_chapter_by_a_word_only_it_contains(context, reports, chapter):
    term = _term_only_in(chapter, reports)
    assert term in reports[chapter].text.lower()
    found = check_book.search(context, HTML, term)
    assert found and found[0] == chapter, (
        f"searching for {term!r} (only in {chapter}) listed {found}"
    )


def test_search_lists_nothing_for_a_word_in_no_page(context, reports):
    # guards the test above: a search that listed every page would pass it
    assert "qzxwvjk" not in " ".join(r.text.lower() for r in reports.values())
    assert check_book.search(context, HTML, "qzxwvjk") == []
