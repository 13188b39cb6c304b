"""The fake clock, ids, text generator and token counter."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, strategies as st

from pytest_openai_fake.determinism import EPOCH, Clock, IdSequence, count_tokens, digest, generate_text, tokenize


def test_clock_starts_fixed_and_moves_only_when_told():
    clock = Clock()
    assert clock.now() == EPOCH
    clock.advance(90.5)
    assert clock.now() == EPOCH + 90
    with pytest.raises(ValueError):
        clock.advance(-1)
    clock.reset()
    assert clock.now() == EPOCH


def test_ids_have_the_real_shapes_and_repeat_after_reset():
    ids = IdSequence()
    first = [ids.next("chatcmpl-"), ids.next("req_"), ids.next("chatcmpl-")]
    assert re.fullmatch(r"chatcmpl-[0-9A-Za-z]{29}", first[0])
    assert re.fullmatch(r"req_[0-9a-f]{32}", first[1])
    assert first[0] != first[2]
    ids.reset()
    assert [ids.next("chatcmpl-"), ids.next("req_"), ids.next("chatcmpl-")] == first


def test_generated_text_is_stable_and_sentence_shaped():
    text = generate_text(digest("a"))
    assert text == generate_text(digest("a"))
    assert text != generate_text(digest("b"))
    assert text[0].isupper() and text.endswith(".")
    assert 12 <= len(text.split()) <= 36


@given(st.text())
def test_tokens_concatenate_back_to_the_text(text):
    tokens = tokenize(text)
    assert "".join(tokens) == text
    assert count_tokens(text) == len(tokens)
    assert all(tokens)


def test_generated_text_is_a_token_a_word_and_a_token_a_period():
    # Common English words are one o200k token each, with their leading space.
    text = generate_text(digest("long"), min_words=200, max_words=200)
    assert count_tokens(text) == 200 + text.count(".")


# What tiktoken's o200k_base pre-tokenizer makes of these (checked against its pattern with the regex module).
O200K_SPLITS = [
    ("[[ ## completed ## ]]", ["[[", " ##", " completed", " ##", " ]]"]),
    ("Hello.\n\nWorld", ["Hello", ".\n\n", "World"]),
    ("[[ ## answer ## ]]\nParis\n\n[[ ## completed ## ]]", ["[[", " ##", " answer", " ##", " ]]\n", "Paris", "\n\n", "[[", " ##", " completed", " ##", " ]]"]),
    ("I'm sure you're right, they'll see.", ["I'm", " sure", " you're", " right", ",", " they'll", " see", "."]),
    ("DON'T", ["DON'T"]),
    ("Total: 1234567 items", ["Total", ":", " ", "123", "456", "7", " items"]),
    ("3.14159", ["3", ".", "141", "59"]),
    ("HTTPServer parseJSON", ["HTTPServer", " parse", "JSON"]),
    ("café naïve Ünïcödé", ["café", " naïve", " Ünïcödé"]),
    ("日本語のテキスト、です。", ["日本語のテキスト", "、です", "。"]),
    ("a/b/c\r\n", ["a", "/b", "/c", "\r\n"]),
    ("x  \n  y", ["x", "  \n", " ", " y"]),
    ("end   ", ["end", "   "]),
    ("$(echo hi) && ls -la", ["$(", "echo", " hi", ")", " &&", " ls", " -", "la"]),
    ("emoji 🙂🙂 ok", ["emoji", " 🙂🙂", " ok"]),
]


@pytest.mark.parametrize(("text", "pieces"), O200K_SPLITS)
def test_text_splits_where_o200k_splits_it(text, pieces):
    assert tokenize(text) == pieces
    assert count_tokens(text) == len(pieces)


#: o200k_base's split pattern, as tiktoken's tiktoken_ext/openai_public.py defines it.
O200K_PATTERN = "|".join(  # noqa: FLY002 (as tiktoken writes it)
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)
#: Characters of every class the pattern tells apart, and the ones it names.
_ALPHABET = (
    "aZ'sStTdDmMlLrReEvV /\r\n\t\x0b\x85\xa0\u2003\u3000.,!?#[]-_0123456789½Ⅻ٣éÉǅʰ中あ"
    "\u0301\u0903\u20dd\u200d\x1c\x00ſKß\U0001f600\U00010400\U0001d7ce"
)


@given(st.text(alphabet=_ALPHABET) | st.text(alphabet=st.characters(exclude_categories=("Cn", "Cs"))))
def test_splits_as_the_real_pattern_does(text):
    # The regex module has the \p{...} classes tiktoken's pattern needs (a dev-only check). Only
    # assigned characters: the regex module's Unicode may be newer than this Python's.
    regex = pytest.importorskip("regex")
    assert tokenize(text) == regex.findall(O200K_PATTERN, text)


def test_long_texts_are_counted_in_pieces_with_the_same_result():
    import random

    from pytest_openai_fake.determinism import count_tokens, tokenize

    alphabet = ["a", "b", "Z", "7", " ", " ", "  ", "\n", "\r", "\t", ".", ",", "_", "é", "日", "-", "!", "'s", "#", "[", "/", "\u0301", "\xa0"]
    chooser = random.Random(7)
    for _ in range(300):
        text = "".join(chooser.choice(alphabet) for _ in range(chooser.randint(0, 400)))
        assert count_tokens(text, piece=chooser.randint(1, 40)) == len(tokenize(text)), repr(text)
