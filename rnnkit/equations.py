"""Where each equation of the book is implemented: labels ↔ functions.

Every display equation in a chapter carries a MyST label, ``$$ ... $$ (label)``,
and every function that implements one says so on the last line of its
docstring::

    Implements chapter 3, equation ``rnn-hidden``.
    Implements chapter 4, equations ``bptt-dh`` and ``bptt-dW``.

:func:`implementations` collects those lines from the package, and
:func:`chapter_equations` reads the labels from the chapter notebooks, so the
review chapter can print the table and a test can check that both agree.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import re
from pathlib import Path

__all__ = ["IMPLEMENTS", "implementations", "chapter_equations"]

#: The docstring line that names implemented equations.
IMPLEMENTS = re.compile(
    r"Implements\s+chapter\s+(\d+),\s+equations?\s+((?:``[A-Za-z0-9_-]+``[\s,]*(?:and\s+)?)+)"
)
_LABEL = re.compile(r"``([A-Za-z0-9_-]+)``")
_DISPLAY = re.compile(r"\$\$(.+?)\$\$[ \t]*(\(([A-Za-z0-9_-]+)\))?", re.S)


def _public_objects(module):
    names = getattr(module, "__all__", [])
    for name in names:
        obj = getattr(module, name, None)
        if inspect.isfunction(obj) or inspect.isclass(obj):
            yield f"{module.__name__}.{name}", obj
        if inspect.isclass(obj):
            for attr, member in vars(obj).items():
                if attr.startswith("_") and attr not in ("__init__", "__call__"):
                    continue
                if inspect.isfunction(member):
                    yield f"{module.__name__}.{name}.{attr}", member


def implementations() -> dict[tuple[int, str], list[str]]:
    """``{(chapter, label): [qualified names]}`` from the package's docstrings.

    Only public objects are read (names in each module's ``__all__``, and the
    public methods of public classes).
    """
    import rnnkit

    found: dict[tuple[int, str], list[str]] = {}
    for info in pkgutil.iter_modules(rnnkit.__path__):
        module = importlib.import_module(f"rnnkit.{info.name}")
        for qualname, obj in _public_objects(module):
            doc = inspect.getdoc(obj) or ""
            for m in IMPLEMENTS.finditer(" ".join(doc.split())):
                for label in _LABEL.findall(m.group(2)):
                    found.setdefault((int(m.group(1)), label), []).append(qualname)
    return found


def chapter_equations(chapters_dir: str | Path) -> list[tuple[int, str | None, str]]:
    """Every display equation of the chapter notebooks: ``(chapter, label, tex)``.

    ``label`` is ``None`` for an unlabelled equation. The chapter number is the
    notebook's two-digit prefix (``03_vanilla_rnn.ipynb`` → 3).
    """
    if not isinstance(chapters_dir, (str, Path)):
        raise TypeError(
            f"chapters_dir must be a str or Path; got {type(chapters_dir).__name__}"
        )
    if not Path(chapters_dir).is_dir():
        raise ValueError(f"chapters_dir must be a folder; got {str(chapters_dir)!r}")
    out: list[tuple[int, str | None, str]] = []
    for path in sorted(Path(chapters_dir).glob("[0-9][0-9]_*.ipynb")):
        chapter = int(path.name[:2])
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        for cell in cells:
            if cell["cell_type"] != "markdown":
                continue
            text = "".join(cell["source"])
            for m in _DISPLAY.finditer(text):
                out.append((chapter, m.group(3), m.group(1).strip()))
    return out
