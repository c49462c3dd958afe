"""The book and the code point at each other (rnnkit.equations).

Every display equation of a chapter carries a MyST label, unique across the
book, and every ``Implements chapter N, equation ``label``.`` line in a public
docstring names a label that chapter N really has. A newcomer can then go from
an equation to its code in one step, and the review chapter's table is complete.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from collections import Counter
from pathlib import Path

import pytest

import rnnkit
from rnnkit.equations import IMPLEMENTS, chapter_equations, implementations

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ROOT / "chapters"
NOTEBOOKS = sorted(CHAPTERS.glob("[0-9][0-9]_*.ipynb"))
EQUATIONS = chapter_equations(CHAPTERS)
KEBAB = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
# Labels the conventions fixed before the chapters were labelled (house brief).
AGREED = {
    "perplexity": 2,
    "rnn-loss": 3,
    "bptt-output": 4,
    "bce": 5,
    "seq-mask": 8,
    "masked-loss": 8,
}


def _chapter_of() -> dict[str, int]:
    return {label: ch for ch, label, _ in EQUATIONS if label is not None}


def _public_docstrings():
    """``(qualified name, docstring)`` of every public function, class and method."""
    for info in pkgutil.iter_modules(rnnkit.__path__):
        module = importlib.import_module(f"rnnkit.{info.name}")
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name, None)
            if not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue
            yield f"{module.__name__}.{name}", inspect.getdoc(obj) or ""
            if inspect.isclass(obj):
                for attr, member in vars(obj).items():
                    if inspect.isfunction(member) and (
                        not attr.startswith("_") or attr in ("__init__", "__call__")
                    ):
                        doc = inspect.getdoc(member) or ""
                        yield f"{module.__name__}.{name}.{attr}", doc


def test_the_book_has_equations_to_check():
    assert NOTEBOOKS and len(EQUATIONS) >= 20
    assert {ch for ch, _, _ in EQUATIONS} >= {2, 3, 4, 9}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_display_equation_has_a_label(path):
    chapter = int(path.name[:2])
    unlabelled = [tex for ch, label, tex in EQUATIONS if ch == chapter and not label]
    shown = "\n".join(f"  $$ {' '.join(tex.split())[:70]} ... $$" for tex in unlabelled)
    assert not unlabelled, (
        f"{path.name}: {len(unlabelled)} display equation(s) without a label; "
        f"write `$$ ... $$ (some-label)`:\n{shown}"
    )


def test_labels_are_kebab_case():
    bad = sorted(
        {label for _, label, _ in EQUATIONS if label and not KEBAB.fullmatch(label)}
    )
    assert not bad, f"labels must be kebab-case (lower-case words and hyphens): {bad}"


def test_labels_are_unique_across_the_book():
    counts = Counter(label for _, label, _ in EQUATIONS if label)
    where = {
        label: sorted({ch for ch, lab, _ in EQUATIONS if lab == label})
        for label, n in counts.items()
        if n > 1
    }
    assert not where, f"labels used more than once (label: chapters): {where}"


def test_the_agreed_labels_are_in_their_chapters():
    chapter_of = _chapter_of()
    wrong = {
        label: chapter_of.get(label)
        for label, ch in AGREED.items()
        if chapter_of.get(label) != ch
    }
    assert not wrong, f"agreed labels missing or in another chapter: {wrong}"


def test_every_implements_line_names_a_label_of_the_book():
    chapter_of = _chapter_of()
    unknown = {
        f"chapter {ch}, ``{label}``": names
        for (ch, label), names in implementations().items()
        if label not in chapter_of
    }
    assert not unknown, f"docstrings name labels no chapter has: {unknown}"


def test_every_implements_line_names_the_chapter_of_its_label():
    chapter_of = _chapter_of()
    wrong = {
        f"``{label}``: docstring says chapter {ch}, the label is in chapter "
        f"{chapter_of[label]}": names
        for (ch, label), names in implementations().items()
        if label in chapter_of and chapter_of[label] != ch
    }
    assert not wrong, f"wrong chapter numbers: {wrong}"


def test_implements_lines_are_well_formed_and_end_the_docstring():
    # A line the index cannot parse would silently drop out of the review table.
    problems = []
    for qualname, doc in _public_docstrings():
        if not re.search(r"Implements\s+chapter", doc):
            continue
        paragraphs = doc.strip().split("\n\n")
        # one line (possibly wrapped) per chapter, each starting "Implements"
        lines = re.split(r"\n(?=Implements\b)", paragraphs[-1])
        lines = [" ".join(line.split()) for line in lines]
        if not all(IMPLEMENTS.fullmatch(line.rstrip(".")) for line in lines):
            problems.append(f"{qualname}: last paragraph {paragraphs[-1]!r}")
        if any("Implements chapter" in p for p in paragraphs[:-1]):
            problems.append(f"{qualname}: an Implements line before the end")
    assert not problems, "\n".join(problems)


def test_the_index_finds_the_forecasting_chapter():
    # A known pair, so the checks above cannot pass on an empty index.
    found = implementations()
    assert "rnnkit.forecasting.make_windows" in found[(9, "forecast-windows")]
    assert (9, "forecast-windows") in {(ch, lab) for ch, lab, _ in EQUATIONS}
