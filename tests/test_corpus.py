"""rnnkit.corpus: reading the shipped plays and user text, offline."""

from pathlib import Path

import pytest

from rnnkit.corpus import (
    letters_only,
    list_plays,
    load_play,
    load_text,
    play_path,
    strip_play_markdown,
)


def test_plays_ship_with_the_package():
    plays = list_plays()
    assert len(plays) >= 30
    assert {"hamlet", "macbeth", "othello"} <= set(plays)
    assert play_path("hamlet").suffix == ".md"


def test_strip_play_markdown_keeps_only_speech():
    md = (
        "# Hamlet\n\n## ACT I\n\n_Enter HAMLET_\n\n**HAMLET**  \n"
        "To be, or _not_ to be.  \nThat is **the** question.\n"
    )
    assert strip_play_markdown(md) == "To be, or not to be.\nThat is the question."


def test_load_play_has_no_markup():
    text = load_play("hamlet")
    assert text.startswith("Who's there?")
    assert "**" not in text and "\n#" not in text and "_Exit" not in text
    assert "To be, or not to be" in text


def test_unknown_play_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown play 'hamlett'.*hamlet"):
        load_play("hamlett")
    with pytest.raises(TypeError, match="play name must be a str"):
        play_path(3)


def test_load_text_reads_user_files(tmp_path: Path):
    p = tmp_path / "mine.txt"
    p.write_text("hello world\n", encoding="utf-8")
    assert load_text(p) == "hello world\n"


def test_load_text_errors(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="no text file"):
        load_text(tmp_path / "missing.txt")
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n", encoding="utf-8")
    with pytest.raises(ValueError, match="is empty"):
        load_text(empty)
    binary = tmp_path / "bin.txt"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ValueError, match="not UTF-8"):
        load_text(binary)


def test_letters_only():
    assert letters_only("To be, or NOT -- to be!") == "to be or not to be "
    assert set(letters_only(load_play("macbeth"))) <= set("abcdefghijklmnopqrstuvwxyz ")
    with pytest.raises(TypeError, match="text must be a str"):
        letters_only(None)
