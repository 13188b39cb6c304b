"""Everything that would make the fake non-repeatable, made repeatable.

- ``Clock``: a fixed fake clock the test can advance; handlers never call ``time.time()``.
- ``IdSequence``: OpenAI-style prefixed ids from per-test counters; never ``uuid4()``.
- ``digest`` / ``generate_text``: text and numbers derived from a hash of the request.
- ``tokenize`` / ``count_tokens``: text cut where o200k's pre-tokenizer cuts it (one piece, one token).
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from typing import Any

__all__ = [
    "Clock",
    "EPOCH",
    "IdSequence",
    "count_tokens",
    "digest",
    "generate_text",
    "stable_json",
    "tokenize",
]

#: The fake clock starts here for every test: 2026-01-01T00:00:00Z.
EPOCH = 1_767_225_600

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

#: Id prefixes and body lengths as the real API shows them.
_ID_SHAPES: dict[str, tuple[str, int]] = {
    "chatcmpl-": ("alnum", 29),
    "req_": ("hex", 32),
    "fp_": ("hex", 10),
    "call_": ("alnum", 24),
    # Responses API objects: the prefix and 48 hex digits.
    **{prefix: ("hex", 48) for prefix in ("resp_", "msg_", "fc_", "rs_", "conv_", "ws_", "fs_", "ci_", "ig_", "ctc_", "cmp_")},
}


class Clock:
    """A clock that only moves when told to. Seconds since the Unix epoch."""

    def __init__(self, start: float = EPOCH) -> None:
        self._start = start
        self._now = float(start)

    def now(self) -> int:
        return int(self._now)

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the fake clock cannot go backwards")
        self._now += seconds

    def set(self, timestamp: float) -> None:
        self._now = float(timestamp)

    def reset(self) -> None:
        self._now = float(self._start)


class IdSequence:
    """Prefixed ids that are unique within a test and identical from run to run.

    ``next("chatcmpl-")`` gives ``chatcmpl-`` followed by a body derived from a hash of the
    prefix and a per-prefix counter, in the real API's length and alphabet.
    """

    def __init__(self, seed: str = "pytest-openai-fake") -> None:
        self._seed = seed
        self._counters: dict[str, int] = {}

    def next(self, prefix: str) -> str:
        n = self._counters.get(prefix, 0) + 1
        self._counters[prefix] = n
        kind, length = _ID_SHAPES.get(prefix, ("alnum", 24))
        raw = hashlib.sha256(f"{self._seed}:{prefix}:{n}".encode()).digest()
        if kind == "hex":
            body = raw.hex()[:length]
        else:
            body = base62(raw, length)
        return prefix + body

    def reset(self) -> None:
        self._counters.clear()


_BASE62 = bytes(ord(_ALPHABET[b % 62]) for b in range(256))


def base62(raw: bytes, length: int) -> str:
    """The first ``length`` bytes of ``raw`` as characters of ``[0-9A-Za-z]`` (one byte each)."""
    return raw[:length].translate(_BASE62).decode("ascii")


def stable_json(value: Any) -> str:
    """The canonical JSON of a value: what is hashed to make replies deterministic."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def digest(*parts: Any) -> bytes:
    """A SHA-256 digest of any JSON-able parts."""
    return hashlib.sha256(stable_json(parts).encode()).digest()


_WORDS = (
    "the a of to and in that is for it as with on this be are by at from or an not which "
    "can will your we our you more one all also each when there their time into other some "
    "model answer request result value example system data text test reply simple clear "
    "short long useful quick careful steady bright calm small large early later first next "
    "final main key good new same different local common open true false plain direct "
    "summary point idea plan step part case note detail list item question response context "
    "change review check build run write read send keep make take give find show use help "
    "work start finish follow explain describe consider suggest prefer expect include "
    "return handle improve compare measure order choose record report support update "
    "river mountain garden window paper signal bridge harbor forest meadow lantern compass "
    "engine pencil ribbon canvas orchard valley market season morning evening winter summer"
).split()


def generate_text(seed: bytes, *, min_words: int = 12, max_words: int = 36) -> str:
    """Sentence-shaped text picked from a fixed vocabulary by a hash. Same seed, same text."""
    # One byte for the length, two a word, then one a sentence for its length (5 to 12 words).
    data = hashlib.shake_256(seed).digest(1 + 3 * max_words)
    count = min_words + data[0] % (max_words - min_words + 1)
    size = len(_WORDS)
    words = [_WORDS[(data[i] << 8 | data[i + 1]) % size] for i in range(1, 1 + 2 * count, 2)]
    sentences = []
    at, lengths = 0, iter(data[1 + 2 * max_words :])
    while at < count:
        end = at + 5 + next(lengths) % 8
        sentences.append(_sentence(words[at:end]))
        at = end
    return " ".join(sentences)


def _sentence(words: list[str]) -> str:
    text = " ".join(words)
    return text[0].upper() + text[1:] + "."


# -- tokens: o200k's pre-tokenizer --------------------------------------------------------------
#
# Text is cut where the real API's tokenizer (o200k_base, GPT-4o and later) cuts it before BPE,
# by its public split pattern (tiktoken's ``tiktoken_ext/openai_public.py``), alternatives in order:
#
#   [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?
#   [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?
#   \p{N}{1,3}
#    ?[^\s\p{L}\p{N}]+[\r\n/]*
#   \s*[\r\n]+
#   \s+(?!\S)
#   \s+
#
# Each piece is one fake token: a word with its leading space or punctuation (`` completed``), a
# run of punctuation with a leading space (`` ##``, ``.\n\n``), digits in groups of at most
# three, newlines together. (BPE cuts rare long words further, so counts run a little low for
# them; streamed deltas break where the real API's do.)
#
# Python's ``re`` has no ``\p{...}``, and classes of every letter are slow to compile. So each
# character is first mapped to the code of its class (``str.translate``; a character's class is
# looked up in ``unicodedata`` once and remembered), and an ASCII pattern equivalent to the one
# above runs over the codes: a match's span there is the token's span in the text.
#
# Codes: ASCII letters stand for themselves (the contractions need them), and so do the
# characters the pattern names (``'``, ``/``, space, ``\r``, ``\n``); any other Lu or Lt is
# ``U``, Ll ``u`` (``s``/``t``/... if it case-folds to one), Lm or Lo ``\x01`` (in both letter
# sets), a mark ``\x02``, a number ``0``, other White_Space ``\t``, anything else ``!``.

_LETTERS, _NUMBER, _OTHER_SPACE, _ELSE = "A-Za-z\x01", "0", "\t", "!"
_SPACE = " \t\r\n"
_AFTER = "(?:'[sStTmMdD]|'[rRvV][eE]|'[lL][lL])?"  # (?i:'s|'t|'re|'ve|'m|'ll|'d)?
_PREFIX = f"[^\\r\\n{_LETTERS}{_NUMBER}]?"
_UPPER, _LOWER = "A-Z\x01\x02", "a-z\x01\x02"
_PIECE = re.compile(
    "|".join(
        (
            f"{_PREFIX}[{_UPPER}]*[{_LOWER}]+{_AFTER}",
            f"{_PREFIX}[{_UPPER}]+[{_LOWER}]*{_AFTER}",
            f"{_NUMBER}{{1,3}}",
            f" ?[^{_SPACE}{_LETTERS}{_NUMBER}]+[\\r\\n/]*",
            f"[{_SPACE}]*[\\r\\n]+",
            f"[{_SPACE}]+(?![^{_SPACE}])",
            f"[{_SPACE}]+",
        )
    )
)
#: Unicode White_Space besides space, \r and \n (what ``\s`` means to tiktoken's regex engine).
_WHITE_SPACE = frozenset("\t\x0b\x0c\x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000") | frozenset(map(chr, range(0x2000, 0x200B)))
_CONTRACTION_LETTERS = frozenset("stremvld")


class _Codes(dict):  # type: ignore[type-arg]
    """Code point -> its class code (see above), for ``str.translate``; filled as characters come."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        if char in "'/ \r\n" or ("a" <= char.lower() <= "z" and char.isascii()):
            found = char
        elif char in _WHITE_SPACE:
            found = _OTHER_SPACE
        else:
            category = unicodedata.category(char)
            if category in ("Lu", "Lt"):
                found = "U"
            elif category == "Ll":
                folded = char.casefold()
                found = folded if folded in _CONTRACTION_LETTERS else "u"
            elif category in ("Lm", "Lo"):
                found = "\x01"
            elif category[0] == "M":
                found = "\x02"
            elif category[0] == "N":
                found = _NUMBER
            else:
                found = _ELSE
        self[code] = found
        return found


_CODES = _Codes()


def tokenize(text: str) -> list[str]:
    """Split text where o200k's pre-tokenizer splits it; the tokens concatenate back to exactly
    the text."""
    return [text[m.start() : m.end()] for m in _PIECE.finditer(text.translate(_CODES))]


#: Long texts are counted a piece at a time: translating and matching a 10 MiB prompt in one go
#: holds the GIL for a long stretch, stalling every other call the fake is answering. Pieces end
#: before a space that sits between two non-space characters: an o200k piece only ever starts
#: with such a space, never spans it, so the count is exact.
PIECE = 1 << 16
_CUT = re.compile(r"(?<=\S) (?=\S)")


def count_tokens(text: str, piece: int = PIECE) -> int:
    size = len(text)
    if size <= piece:
        return len(_PIECE.findall(text.translate(_CODES)))
    total = start = 0
    while start < size:
        cut = _CUT.search(text, start + piece) if start + piece < size else None
        end = cut.start() if cut is not None else size
        total += len(_PIECE.findall(text[start:end].translate(_CODES)))
        start = end
    return total
