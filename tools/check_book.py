"""Open every page of the built book in headless Chromium and check it works offline.

For each HTML page under ``_build/html`` this script loads the page through the
Chrome DevTools Protocol and records every request *the page* makes. It fails if

* any request leaves the machine (anything but ``file:`` and ``data:`` URLs),
* a page with maths has no typeset MathJax output,
* an image on the page fails to load.

With ``--screenshots DIR`` it also saves a full-page PNG of each page, to look at.

Needs Debian's ``chromium`` (``apt-get install --no-install-recommends chromium``);
nothing is downloaded. Usage (``make check-book`` runs it after ``make book``)::

    .venv/bin/python tools/check_book.py --html _build/html --screenshots DIR
"""

from __future__ import annotations

import argparse
import base64
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import websocket  # websocket-client, installed with Jupyter

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--allow-file-access-from-files",
    "--window-size=1280,900",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Page:
    """A minimal DevTools client for one tab."""

    def __init__(self, ws_url: str) -> None:
        self.ws = websocket.create_connection(ws_url, timeout=30)
        self.next_id = 0
        self.events: list[dict] = []

    def call(self, method: str, **params):
        self.next_id += 1
        my_id = self.next_id
        self.ws.send(json.dumps({"id": my_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == my_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self.events.append(msg)

    def wait_for(self, event: str, timeout: float = 30.0) -> None:
        end = time.time() + timeout
        if any(e.get("method") == event for e in self.events):
            return
        while time.time() < end:
            msg = json.loads(self.ws.recv())
            self.events.append(msg)
            if msg.get("method") == event:
                return
        raise TimeoutError(f"no {event} within {timeout}s")

    def evaluate(self, expr: str):
        return self.call("Runtime.evaluate", expression=expr, returnByValue=True)[
            "result"
        ].get("value")


def check_page(page: Page, path: Path, shots: Path | None, root: Path) -> list[str]:
    problems: list[str] = []
    page.events.clear()
    page.call("Page.navigate", url=path.resolve().as_uri())
    page.wait_for("Page.loadEventFired")
    # give MathJax time to typeset
    for _ in range(50):
        if page.evaluate(
            "!(window.MathJax && MathJax.startup && MathJax.startup.promise) || "
            "document.querySelectorAll('mjx-container').length > 0 || "
            "document.querySelectorAll('.math').length === 0"
        ):
            break
        time.sleep(0.1)
    time.sleep(0.3)
    urls = [
        e["params"]["request"]["url"]
        for e in page.events
        if e.get("method") == "Network.requestWillBeSent"
    ]
    external = sorted(
        {u for u in urls if not u.startswith(("file:", "data:", "blob:", "about:"))}
    )
    rel = path.relative_to(root)
    if external:
        problems.append(f"{rel}: requests leave the machine: {external}")
    n_math = page.evaluate("document.querySelectorAll('.math').length")
    n_typeset = page.evaluate("document.querySelectorAll('mjx-container').length")
    if n_math and not n_typeset:
        problems.append(f"{rel}: {n_math} maths elements but none typeset by MathJax")
    broken = page.evaluate(
        "Array.from(document.images)"
        ".filter(i => !(i.complete && i.naturalWidth > 0))"
        ".map(i => i.src)"
    )
    if broken:
        problems.append(f"{rel}: images failed to load: {broken}")
    n_img = page.evaluate("document.images.length")
    if rel.parts[0] == "chapters":
        # at a laptop's width, a chapter's code must fit its box (no sideways scroll)
        page.call(
            "Emulation.setDeviceMetricsOverride",
            width=1280,
            height=900,
            deviceScaleFactor=1,
            mobile=False,
        )
        wide = page.evaluate(
            "Array.from(document.querySelectorAll('.cell_input pre'))"
            ".filter(p => p.scrollWidth > p.clientWidth + 1)"
            ".map(p => p.textContent.split('\\n')"
            ".reduce((a, b) => (b.length > a.length ? b : a), ''))"
        )
        page.call("Emulation.clearDeviceMetricsOverride")
        if wide:
            problems.append(
                f"{rel}: {len(wide)} code cell(s) scroll sideways at 1280 px; "
                f"widest line: {wide[0]!r}"
            )
    print(
        f"{str(rel):70s} requests={len(urls):3d} external={len(external)} "
        f"maths={n_math}/{n_typeset} images={n_img}"
    )
    if shots is not None:
        height = page.evaluate("document.documentElement.scrollHeight") or 900
        page.call(
            "Emulation.setDeviceMetricsOverride",
            width=1280,
            height=min(int(height), 16000),
            deviceScaleFactor=1,
            mobile=False,
        )
        png = page.call("Page.captureScreenshot", format="png")["data"]
        out = shots / (str(rel).replace("/", "__").removesuffix(".html") + ".png")
        out.write_bytes(base64.b64decode(png))
        page.call("Emulation.clearDeviceMetricsOverride")
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--html", default="_build/html", type=Path)
    ap.add_argument("--screenshots", type=Path, default=None)
    ap.add_argument(
        "--chromium", default=shutil.which("chromium") or "/usr/bin/chromium"
    )
    args = ap.parse_args(argv)
    root = args.html.resolve()
    pages = sorted(
        p
        for p in root.rglob("*.html")
        if "_static" not in p.parts and p.name not in {"genindex.html", "search.html"}
    )
    if not pages:
        print(f"no HTML pages under {root}; run `make book` first", file=sys.stderr)
        return 2
    if not Path(args.chromium).exists():
        print(
            f"chromium not found at {args.chromium}; "
            "apt-get install --no-install-recommends chromium",
            file=sys.stderr,
        )
        return 2
    if args.screenshots:
        args.screenshots.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.Popen(
            [
                args.chromium,
                *CHROMIUM_FLAGS,
                f"--remote-debugging-port={port}",
                f"--user-data-dir={profile}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(100):
                try:
                    tabs = json.load(
                        urllib.request.urlopen(f"http://127.0.0.1:{port}/json")
                    )  # local DevTools only
                    break
                except OSError:
                    time.sleep(0.1)
            else:
                raise RuntimeError("chromium did not open its DevTools port")
            tab = next(t for t in tabs if t.get("type") == "page")
            page = Page(tab["webSocketDebuggerUrl"])
            page.call("Network.enable")
            page.call("Page.enable")
            problems = [
                p
                for path in pages
                for p in check_page(page, path, args.screenshots, root)
            ]
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    if problems:
        print("\nPROBLEMS:\n  " + "\n  ".join(problems))
        return 1
    print(
        f"\n{len(pages)} pages: no request left the machine, maths typeset, "
        "images loaded"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
