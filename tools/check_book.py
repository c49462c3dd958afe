"""Open each page of the built book in headless Chromium as a reader would; check it.

Chromium is Debian's (``apt-get install --no-install-recommends chromium``), driven
by Playwright's Python package with ``executable_path``: no browser is downloaded.
For each HTML page under ``_build/html`` a :class:`PageReport` records

* every request the page makes; any that would leave the machine (anything but
  ``file:``, ``data:``, ``blob:`` and ``about:`` URLs) is blocked and reported,
* requests that failed (a missing file, a blocked request),
* console errors and uncaught exceptions,
* formulas: every ``.math`` element must hold MathJax output, none a MathJax error,
* images: each must have loaded (complete, with a width),
* the sidebar's links (pages it lists),
* for chapters, code cells that scroll sideways at 1280 px (lines too long).

:func:`search` runs the book's own search page for a term and returns the pages it
lists. ``tests/test_browser_book.py`` runs these checks as part of ``make test``;
``make check-book`` runs this script, which prints one line per page and, with
``--screenshots DIR``, saves a full-page PNG of each::

    .venv/bin/python tools/check_book.py --html _build/html --screenshots DIR
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import yaml

CHROMIUM = "/usr/bin/chromium"
# Flags for a quiet, offline, throw-away browser: no GPU, no QUIC, no first-run
# pages, no background requests (updates, sync, field trials).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 900}
LOCAL_SCHEMES = ("file", "data", "blob", "about")
# Pages Sphinx writes besides those in _toc.yml.
EXTRA_PAGES = ("index.html", "genindex.html", "search.html")


def find_chromium() -> str | None:
    """Path of Debian's Chromium (``$CHROMIUM`` overrides), or None."""
    for cand in (os.environ.get("CHROMIUM"), CHROMIUM, shutil.which("chromium")):
        if cand and Path(cand).exists():
            return cand
    return None


@contextlib.contextmanager
def browser(chromium: str | None = None, allow: tuple[str, ...] = ()) -> Iterator:
    """A Playwright browser context on Debian's Chromium with a fresh profile.

    Every request that would leave the machine is aborted (and the pages' reports
    name it), so a check can never reach the network. ``allow`` lists URL prefixes
    that may be loaded too (e.g. a JupyterLab server on ``http://127.0.0.1:PORT/``).
    """
    from playwright.sync_api import sync_playwright

    exe = chromium or find_chromium()
    if exe is None:
        raise FileNotFoundError(
            f"chromium not found at {CHROMIUM}; "
            "apt-get install --no-install-recommends chromium"
        )
    with (
        tempfile.TemporaryDirectory(prefix="rnn-book-profile-") as profile,
        sync_playwright() as pw,
    ):
        context = pw.chromium.launch_persistent_context(
            profile,
            executable_path=exe,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport=VIEWPORT,
        )
        # every page is a first visit: nothing remembered from the page before
        context.add_init_script(
            "try { localStorage.clear(); sessionStorage.clear(); } catch (e) {}"
        )
        context.route(
            "**/*",
            lambda route: (
                route.continue_()
                if is_local(route.request.url, allow)
                else route.abort("blockedbyclient")
            ),
        )
        try:
            yield context
        finally:
            context.close()


def is_local(url: str, allow: tuple[str, ...] = ()) -> bool:
    return urlsplit(url).scheme in LOCAL_SCHEMES or url.startswith(allow)


def toc_pages(book_dir: Path) -> list[str]:
    """The pages ``_toc.yml`` lists, as paths of HTML files relative to the build."""
    toc = yaml.safe_load((book_dir / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(entries):
        for e in entries or []:
            if "file" in e:
                files.append(e["file"])
            walk(e.get("sections"))
            walk(e.get("chapters"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return [f"{f}.html" for f in files]


def built_pages(root: Path) -> list[str]:
    """Every HTML page of the build (not the theme's or Sphinx's assets)."""
    skip = {"_static", "_sources", "_images"}
    return sorted(
        str(p.relative_to(root))
        for p in root.rglob("*.html")
        if not skip & set(p.relative_to(root).parts)
    )


def _rel(url: str, root: Path) -> str | None:
    """A ``file:`` URL as a path relative to the build (None if outside it)."""
    parts = urlsplit(url)
    if parts.scheme != "file":
        return None
    try:
        return str(Path(unquote(parts.path)).resolve().relative_to(root.resolve()))
    except ValueError:
        return None


@dataclass
class PageReport:
    page: str
    requests: list[str] = field(default_factory=list)
    external: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    n_math: int = 0
    untypeset: list[str] = field(default_factory=list)
    math_errors: list[str] = field(default_factory=list)
    n_images: int = 0
    broken_images: list[str] = field(default_factory=list)
    sidebar: list[str] = field(default_factory=list)
    wide_code: list[str] = field(default_factory=list)
    # the article's text, and its prose alone (no code, outputs or maths)
    text: str = ""
    prose: str = ""

    def problems(self) -> list[str]:
        p = self.page
        out = []
        if self.external:
            out.append(f"{p}: requests leave the machine: {sorted(set(self.external))}")
        if self.failed:
            out.append(f"{p}: requests failed: {self.failed}")
        if self.errors:
            out.append(f"{p}: console errors / uncaught exceptions: {self.errors}")
        if self.untypeset:
            out.append(
                f"{p}: {len(self.untypeset)} of {self.n_math} formulas not typeset "
                f"by MathJax, e.g. {self.untypeset[0]!r}"
            )
        if self.math_errors:
            out.append(f"{p}: MathJax errors: {self.math_errors}")
        if self.broken_images:
            out.append(f"{p}: images failed to load: {self.broken_images}")
        if self.wide_code:
            out.append(
                f"{p}: {len(self.wide_code)} code cell(s) scroll sideways at "
                f"{VIEWPORT['width']} px; widest line: {self.wide_code[0]!r}"
            )
        return out

    def summary(self) -> str:
        return (
            f"{self.page:62s} requests={len(self.requests):3d} "
            f"external={len(self.external)} failed={len(self.failed)} "
            f"errors={len(self.errors)} maths={self.n_math - len(self.untypeset)}"
            f"/{self.n_math} images={self.n_images - len(self.broken_images)}"
            f"/{self.n_images}"
        )


_REFRESH = re.compile(r'http-equiv="Refresh" content="0; url=([^"]+)"', re.IGNORECASE)

_WAIT_FOR_MATHJAX = """async () => {
  const mj = window.MathJax;
  if (mj && mj.startup && mj.startup.promise) { await mj.startup.promise; }
}"""

_MATHS = """() => {
  const maths = Array.from(document.querySelectorAll('.math'));
  return {
    n: maths.length,
    untypeset: maths.filter(m => !m.querySelector('mjx-container'))
                    .map(m => m.textContent.trim().slice(0, 80)),
    errors: Array.from(document.querySelectorAll('mjx-merror'))
                 .map(e => e.textContent.slice(0, 80)),
  };
}"""

_IMAGES = """async () => {
  const imgs = Array.from(document.images);
  imgs.forEach(i => { i.loading = 'eager'; });
  await Promise.all(imgs.map(i => i.complete ? null : new Promise(r => {
    i.addEventListener('load', r); i.addEventListener('error', r);
    setTimeout(r, 10000);
  })));
  return {
    n: imgs.length,
    broken: imgs.filter(i => !(i.complete && i.naturalWidth > 0))
                .map(i => i.getAttribute('src')),
  };
}"""

_SIDEBAR = """() => Array.from(document.querySelectorAll('nav.bd-docs-nav a[href]'))
  .map(a => a.href.split('#')[0])"""

_TEXT = """() => {
  const article = document.querySelector('article');
  if (!article) { return {text: '', prose: ''}; }
  const prose = article.cloneNode(true);
  prose.querySelectorAll('.math, mjx-container, pre, .cell_output, .output, code')
       .forEach(e => e.remove());
  return {text: article.textContent,
          prose: Array.from(prose.querySelectorAll('p, li'))
                      .map(p => p.textContent).join(' ')};
}"""

_WIDE_CODE = """() => Array.from(document.querySelectorAll('.cell_input pre'))
  .filter(p => p.scrollWidth > p.clientWidth + 1)
  .map(p => p.textContent.split('\\n')
              .reduce((a, b) => (b.length > a.length ? b : a), ''))"""


def check_page(
    context, root: Path, page: str, screenshot: Path | None = None
) -> PageReport:
    """Load one page of the build in a new tab and report what a reader would meet."""
    report = PageReport(page)
    tab = context.new_page()
    tab.on("request", lambda r: report.requests.append(r.url))
    tab.on(
        "request",
        lambda r: None if is_local(r.url) else report.external.append(r.url),
    )
    tab.on(
        "requestfailed",
        lambda r: report.failed.append(f"{r.url} ({r.failure})"),
    )
    tab.on(
        "response",
        lambda r: (
            report.failed.append(f"{r.url} (HTTP {r.status})")
            if r.status >= 400
            else None
        ),
    )
    tab.on(
        "console",
        lambda m: (
            report.errors.append(f"console.error: {m.text}")
            if m.type == "error"
            else None
        ),
    )
    tab.on("pageerror", lambda e: report.errors.append(f"uncaught: {e}"))
    try:
        tab.goto((root / page).resolve().as_uri(), wait_until="load")
        redirect = _REFRESH.search((root / page).read_text(errors="replace"))
        if redirect:  # Sphinx's index.html sends the reader on to the root page
            target = (root / page).parent / redirect.group(1)
            tab.wait_for_url(target.resolve().as_uri(), wait_until="load")
        tab.evaluate(_WAIT_FOR_MATHJAX)
        maths = tab.evaluate(_MATHS)
        report.n_math = maths["n"]
        report.untypeset = maths["untypeset"]
        report.math_errors = maths["errors"]
        images = tab.evaluate(_IMAGES)
        report.n_images = images["n"]
        report.broken_images = images["broken"]
        report.sidebar = [
            r for r in (_rel(u, root) for u in tab.evaluate(_SIDEBAR)) if r
        ]
        text = tab.evaluate(_TEXT)
        report.text, report.prose = text["text"], text["prose"]
        if page.startswith("chapters/"):
            report.wide_code = tab.evaluate(_WIDE_CODE)
        # late errors (e.g. from async scripts) still count
        tab.wait_for_timeout(200)
        if screenshot is not None:
            tab.screenshot(path=str(screenshot), full_page=True)
    finally:
        tab.close()
    # an off-machine request was aborted on purpose: report it once, as external
    report.failed = [f for f in report.failed if is_local(f.split(" ")[0])]
    return report


def search(context, root: Path, term: str) -> list[str]:
    """Pages (relative paths) that the book's search page lists for ``term``."""
    tab = context.new_page()
    try:
        tab.goto((root / "search.html").resolve().as_uri() + f"?q={term}")
        tab.wait_for_function(
            "() => { const s = document.querySelector('#search-results');"
            " return s && /Search finished|did not match/.test(s.textContent); }",
            timeout=30_000,
        )
        urls = tab.evaluate(
            "() => Array.from(document.querySelectorAll("
            "'#search-results ul.search > li > a:first-of-type'))"
            ".map(a => a.href.split('#')[0].split('?')[0])"
        )
    finally:
        tab.close()
    return [r for r in (_rel(u, root) for u in urls) if r]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--html", default="_build/html", type=Path)
    ap.add_argument("--screenshots", type=Path, default=None)
    ap.add_argument("--chromium", default=None)
    args = ap.parse_args(argv)
    root = args.html.resolve()
    pages = built_pages(root)
    if not pages:
        print(f"no HTML pages under {root}; run `make book` first", file=sys.stderr)
        return 2
    if (args.chromium or find_chromium()) is None:
        print(
            f"chromium not found at {CHROMIUM}; "
            "apt-get install --no-install-recommends chromium",
            file=sys.stderr,
        )
        return 2
    if args.screenshots:
        args.screenshots.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    with browser(args.chromium) as context:
        for page in pages:
            shot = (
                args.screenshots
                / (page.replace("/", "__").removesuffix(".html") + ".png")
                if args.screenshots
                else None
            )
            report = check_page(context, root, page, shot)
            print(report.summary())
            problems += report.problems()
    if problems:
        print("\nPROBLEMS:\n  " + "\n  ".join(problems))
        return 1
    print(
        f"\n{len(pages)} pages: no request left the machine or failed, no console "
        "error, every formula typeset, every image loaded"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
