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


def test_token_counts_are_about_four_characters_each():
    text = generate_text(digest("long"), min_words=200, max_words=200)
    assert 2.5 < len(text) / count_tokens(text) < 5


def test_long_texts_are_counted_in_pieces_with_the_same_result():
    import random

    from pytest_openai_fake.determinism import _TOKEN, count_tokens

    alphabet = ["a", "b", "Z", "7", " ", " ", "  ", "\n", "\t", ".", ",", "_", "é", "日", "-", "!"]
    chooser = random.Random(7)
    for _ in range(300):
        text = "".join(chooser.choice(alphabet) for _ in range(chooser.randint(0, 400)))
        assert count_tokens(text, piece=chooser.randint(1, 40)) == len(_TOKEN.findall(text)), repr(text)
