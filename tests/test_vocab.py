"""rnnkit.vocab: tokenisation and the token <-> id map."""

import numpy as np
import pytest

from rnnkit.vocab import BOS, EOS, PAD, UNK, Vocab, tokenize


def test_char_tokens_round_trip():
    text = "Who's there?\nNay!"
    assert "".join(tokenize(text, "char")) == text


def test_word_tokens():
    assert tokenize("O'er the hills, 'tis 12 miles!", "word") == [
        "o'er",
        "the",
        "hills",
        ",",
        "'",
        "tis",
        "12",
        "miles",
        "!",
    ]
    assert tokenize("", "word") == []


def test_tokenize_errors():
    with pytest.raises(ValueError, match="level must be 'char' or 'word'"):
        tokenize("abc", "sentence")
    with pytest.raises(TypeError, match="text must be a str"):
        tokenize(["a"], "char")


def test_vocab_order_reserved_then_frequency_then_alphabet():
    v = Vocab(list("bbaacccd"))
    # reserved first, then c (3), then a and b (2, alphabetical), then d (1)
    assert v.idx_to_token == [PAD, UNK, BOS, EOS, "c", "a", "b", "d"]
    assert len(v) == 8 and v.pad == 0 and v.unk == 1
    assert "c" in v and "z" not in v


def test_min_freq_and_reserved_in_corpus():
    v = Vocab(["<unk>", "x", "x", "y"], min_freq=2)
    assert v.idx_to_token == [PAD, UNK, BOS, EOS, "x"]
    assert v.encode(["y"]) == [v.unk]


def test_nested_token_lists_are_flattened():
    assert Vocab([["a", "b"], ["b"]], reserved=()).idx_to_token == ["b", "a"]


def test_encode_decode_round_trip():
    tokens = tokenize("to be or not to be", "char")
    v = Vocab(tokens)
    ids = v.encode(tokens)
    assert v.decode(ids) == tokens
    assert v.to_text(np.array(ids)) == "to be or not to be"


def test_unknown_tokens():
    v = Vocab(list("abc"))
    assert v.encode(list("abz")) == [v.token_to_idx["a"], v.token_to_idx["b"], v.unk]
    with pytest.raises(KeyError, match="unknown token 'z' at position 2"):
        v.encode(list("abz"), strict=True)
    bare = Vocab(list("abc"), reserved=())
    assert bare.unk is None
    with pytest.raises(KeyError, match="no <unk> to map it to"):
        bare.encode(["z"])


def test_vocab_input_errors():
    with pytest.raises(TypeError, match="call tokenize"):
        Vocab("abc")
    with pytest.raises(ValueError, match=r"min_freq must be a positive int.*got 0"):
        Vocab(["a"], min_freq=0)
    with pytest.raises(TypeError, match=r"min_freq must be a positive int; got float"):
        Vocab(["a"], min_freq=1.5)
    with pytest.raises(TypeError, match="every token must be a str"):
        Vocab([["a", 3]])
    with pytest.raises(TypeError, match="tokens must be str"):
        Vocab([1, 2])
    with pytest.raises(ValueError, match="reserved tokens must be distinct"):
        Vocab(["a"], reserved=("<pad>", "<pad>"))


def test_decode_errors():
    v = Vocab(list("ab"))
    with pytest.raises(IndexError, match=r"id 99 at position 1 is outside \[0, 6\)"):
        v.decode([0, 99])
    with pytest.raises(IndexError, match="outside"):
        v.decode([-1])
    with pytest.raises(TypeError, match="ids must be integers"):
        v.decode([1.5])
    with pytest.raises(TypeError, match="call tokenize"):
        v.encode("ab")


def test_token_freqs():
    v = Vocab(list("abb"))
    assert v.token_freqs() == [("b", 2), ("a", 1)]
