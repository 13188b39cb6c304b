"""Embeddings: ``POST /v1/embeddings``.

What the fake does, as the real endpoint does it unless noted:

- ``input`` is a string, a list of strings, a list of token ids or a list of token-id lists
  (what langchain sends); every input gets one vector, ``index`` in input order. An empty
  string, alone or in a list, is the real 400 "'$.input' is invalid. Please check the API
  reference: ..." (``param`` and ``code`` null); an empty list or an empty token list is a 400
  naming ``input`` or ``input[i]``; more than 2048 inputs, an input over 8192 tokens, or more
  than 300,000 tokens in one request are the real 400s too.
- Vector length: 1536 for ``text-embedding-3-small`` and ``text-embedding-ada-002``, 3072 for
  ``text-embedding-3-large``, and ``DEFAULT_DIMENSIONS`` (1536) for any other model in the
  test's catalog (``openai_server.state.models.add("my-embedder")``). ``dimensions`` shortens
  the vector the Matryoshka way: the first ``dimensions`` components of the full vector,
  renormalised to length 1. ``text-embedding-ada-002`` rejects ``dimensions`` as the real API
  does, and more than the model's length is a 400.
- Models the SDK names for other endpoints (``gpt-4o``, ``whisper-1``, ``dall-e-3`` ...) and
  their fine-tunes get the real 403 "You are not allowed to generate embeddings from this
  model"; a model not in the catalog is the usual 404 ``model_not_found``.
- ``encoding_format="float"`` answers with lists of numbers, ``"base64"`` with little-endian
  float32 bytes in base64, the SDK's default (the SDK asks for base64 when the caller does not
  choose, then decodes it). Both carry the same float32 values, so the two formats agree exactly.
  The SDK's strict response validation (``_strict_response_validation=True``) rejects base64
  replies, from the fake and from api.openai.com alike: it checks ``embedding`` against
  ``list[float]`` before decoding. Strict clients should ask for ``encoding_format="float"``.
- ``usage.prompt_tokens`` (= ``total_tokens``) is ``determinism.count_tokens`` of every text
  input plus the length of every token-id input.
- A scripted dict reply (``openai_server.on("embeddings.create").respond({"usage": ...})``) is
  merged into the reply as sent, base64 strings included (``WireEmbeddingResponse``). Base64
  replies of 64k components or more (``PREBUILT_FROM``, e.g. 43 vectors of 1536) are written by
  the handler as bytes and cannot take a dict reply; script those with ``raw(...)``.

The vector rule (``VectorSpace``): a vector is made of blocks of ``BLOCK`` (24) components,
each taken from a fixed table of pseudo-random blocks, so every vector has length 1 and costs
no arithmetic to build.

- The first block belongs to the exact input, picked by 44 bits of a hash of (model, input):
  two different inputs get different vectors, even with the same words.
- Every other block is won by one of the input's **words** (lower-cased runs of letters, digits
  and ``_``; for token inputs, the token ids). Each word draws a pseudo-random key per block
  from a hash of (model, word); the smallest key wins the block and picks its content (MinHash).
  Two inputs get the same block exactly when the same word wins it in both, which happens with
  probability shared words / all words of the two (their Jaccard similarity).

So the cosine similarity of two vectors is about the Jaccard similarity of the two inputs' word
sets: 1.0 for the same input; about 0.98 for the same words in another order or case; about
0.33 (±0.07) for inputs of 10 words that share 5; 0.0 (±0.03) for inputs with no word in
common. Repeated words count once, and so do common words ("the", "is"). The same input gets
the same vector in any request, batch and position; other models give other vectors.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import math
import re
import sys
from array import array
from collections.abc import Iterable
from operator import itemgetter
from typing import Any

from openai.types.create_embedding_response import CreateEmbeddingResponse
from openai.types.embedding import Embedding
from openai.types.embedding_create_params import EmbeddingCreateParams
from openai.types.embedding_model import EmbeddingModel
from werkzeug.wrappers import Response

from .. import errors
from ..determinism import count_tokens
from ..routing import Ctx, Resource
from ..state import base_model, literal_strings, sdk_model_id_set

__all__ = [
    "BLOCK",
    "DEFAULT_DIMENSIONS",
    "NATIVE_DIMENSIONS",
    "VectorSpace",
    "WireEmbeddingResponse",
    "embeddings",
    "native_dimensions",
    "similarities",
    "similarity",
    "vector_space",
    "words",
]

embeddings = Resource("embeddings")

#: Vector length per model when the request sets no ``dimensions``.
NATIVE_DIMENSIONS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}
#: Vector length of any other model in the catalog (a custom model a test added).
DEFAULT_DIMENSIONS = 1536
#: Models that reject ``dimensions``: shortening came with ``text-embedding-3``.
FIXED_DIMENSIONS = frozenset({"text-embedding-ada-002"})
MAX_INPUTS = 2048
MAX_INPUT_TOKENS = 8192
MAX_REQUEST_TOKENS = 300_000

# The real API's texts, as reported in 2024-2026. Where it leaves ``param`` null (a lone input
# too long, the request token limit, ada's dimensions, the 403) the fake names it anyway.
# An empty string, alone or in a list: the real body is {"message": INVALID_INPUT, "type":
# "invalid_request_error", "param": null, "code": null} (aryn-ai/sycamore#943; openai-python#576
# and Azure-Samples/azure-search-openai-demo#1134 for ["a", ""]). Those two also say a lone ""
# was answered with a vector in 2023-24; the fake rejects it, as later reports have it rejected.
INVALID_INPUT = "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference."
# Unverified: no public report of the reply to [] or [[1, 2], []] was found (it may be
# INVALID_INPUT too).
EMPTY_ARRAY = "Invalid '{param}': input cannot be an empty array."
TOO_MANY_INPUTS = "Invalid 'input': array length must be {limit} or less."
INPUT_TOO_LONG = "Invalid 'input[{index}]': maximum input length is {limit} tokens."
LONE_INPUT_TOO_LONG = "Invalid 'input': maximum context length is {limit} tokens."
REQUEST_TOO_LONG = "Requested {tokens} tokens, max {limit} tokens per request"
NOT_AN_EMBEDDING_MODEL = "You are not allowed to generate embeddings from this model"
NO_DIMENSIONS = "This model does not support specifying dimensions."
TOO_MANY_DIMENSIONS = "Invalid 'dimensions': Must be less than or equal to {limit}."  # prefix assumed

#: Replies with at least this many components in all are serialised here rather than by the app:
#: json.dumps needs ~110 ms for 2048 base64 vectors of 1536, longer than everything else the
#: fake does for that request. The bytes are the same either way.
PREBUILT_FROM = 64 * 1024


class WireEmbedding(Embedding):
    """An ``Embedding`` as sent: the SDK's model types the vector as it is after decoding base64."""

    embedding: list[float] | str  # type: ignore[assignment]


class WireEmbeddingResponse(CreateEmbeddingResponse):
    """``CreateEmbeddingResponse`` as sent (what scripted dict replies are merged into and checked against)."""

    data: list[WireEmbedding]  # type: ignore[assignment]


@embeddings.route("POST", "/embeddings", endpoint="embeddings.create", response=WireEmbeddingResponse)
def create_embedding(ctx: Ctx) -> dict[str, Any] | Response:
    body = ctx.json()
    value = body.get("input")
    if isinstance(value, list) and len(value) > 16 and all(type(item) is str for item in value):
        # A list of strings is a valid input: spare checking each one against the SDK's union type.
        checked = {**body, "input": ""}
        ctx.validate(checked, EmbeddingCreateParams)
        for key in body.keys() - checked.keys():  # optional keys sent as null: not given
            del body[key]
    else:
        ctx.validate(body, EmbeddingCreateParams)
    items, token_counts = _inputs(body["input"])
    requested = body.get("dimensions")
    errors.check_range("dimensions", requested, minimum=1)
    model = body["model"]
    ctx.require_model(model)
    if _serves_other_endpoints(model):
        raise errors.OpenAIError(403, NOT_AN_EMBEDDING_MODEL, param="model")
    card = ctx.provider.card(model)
    native = card.dimensions if card is not None and card.dimensions else native_dimensions(model)
    if requested is not None and model in FIXED_DIMENSIONS:
        raise errors.bad_request(NO_DIMENSIONS, param="dimensions")
    if requested is not None and requested > native:
        raise errors.invalid_value("dimensions", TOO_MANY_DIMENSIONS.format(limit=native))

    space = vector_space(model, space_dimensions(native))
    dimensions = native if requested is None else requested
    tokens = sum(token_counts)
    usage = {"prompt_tokens": tokens, "total_tokens": tokens}
    if body.get("encoding_format", "float") == "float":
        vectors: list[Any] = [space.floats(item, dimensions) for item in items]
    elif len(items) * dimensions >= PREBUILT_FROM:
        return _prebuilt_reply(space, items, dimensions, model, usage)
    else:
        vectors = [space.base64(item, dimensions) for item in items]
    return {
        "object": "list",
        "data": [{"object": "embedding", "index": index, "embedding": vector} for index, vector in enumerate(vectors)],
        "model": model,
        "usage": usage,
    }


def _inputs(value: Any) -> tuple[list[str | list[int]], list[int]]:
    """Each input (a string or a token-id list) and its token count; the real 400s for bad ones."""
    if isinstance(value, str):
        if not value:
            raise errors.bad_request(INVALID_INPUT)
        tokens = count_tokens(value)
        if tokens > MAX_INPUT_TOKENS:
            raise errors.bad_request(LONE_INPUT_TOO_LONG.format(limit=MAX_INPUT_TOKENS), param="input")
        return [value], [tokens]
    if not value:
        raise errors.bad_request(EMPTY_ARRAY.format(param="input"), param="input")
    if isinstance(value[0], int):  # one token-id input (the params check made every item an int)
        items: list[Any] = [value]
    else:
        items = value
        if len(items) > MAX_INPUTS:
            raise errors.bad_request(TOO_MANY_INPUTS.format(limit=MAX_INPUTS), param="input")
    counts = []
    for index, item in enumerate(items):
        if not item:
            if isinstance(item, str):
                raise errors.bad_request(INVALID_INPUT)
            param = f"input[{index}]"
            raise errors.bad_request(EMPTY_ARRAY.format(param=param), param=param)
        tokens = count_tokens(item) if isinstance(item, str) else len(item)
        if tokens > MAX_INPUT_TOKENS:
            raise errors.invalid_value(f"input[{index}]", INPUT_TOO_LONG.format(index=index, limit=MAX_INPUT_TOKENS))
        counts.append(tokens)
    total = sum(counts)
    if total > MAX_REQUEST_TOKENS:
        raise errors.OpenAIError(
            400,
            REQUEST_TOO_LONG.format(tokens=total, limit=MAX_REQUEST_TOKENS),
            type="max_tokens_per_request",
            param="input",
            code="max_tokens_per_request",
        )
    return items, counts


def native_dimensions(model: str) -> int:
    """The vector length of ``model`` when the request sets no ``dimensions``."""
    return NATIVE_DIMENSIONS.get(model, DEFAULT_DIMENSIONS)


def space_dimensions(native: int) -> int:
    """The length of the ``VectorSpace`` a model's vectors are cut from: its native length
    rounded up to whole blocks (a catalog may name any length, e.g. 1024), at least 3 blocks."""
    return max(3 * BLOCK, -(-native // BLOCK) * BLOCK)


def _serves_other_endpoints(model: str) -> bool:
    """A catalog model the SDK names for another endpoint (chat, audio, images ...), or its fine-tune."""
    base = base_model(model)
    return base in sdk_model_id_set() and base not in _embedding_models()


@functools.lru_cache(maxsize=1)
def _embedding_models() -> frozenset[str]:
    return frozenset(literal_strings(EmbeddingModel))


# -- the JSON body of a large reply ------------------------------------------------------------


def _prebuilt_reply(
    space: VectorSpace, items: list[Any], dimensions: int, model: str, usage: dict[str, int]
) -> Response:
    """The bytes ``json.dumps(reply, separators=(",", ":"))`` gives for a base64 reply, as the
    vectors' base64 pieces: nothing scans 17 MB of strings for characters to escape, and the
    server joins the pieces once, into the buffer it sends."""
    parts = [b'{"object":"list","data":[']
    size = len(parts[0]) + len(items) * (4 * -(-4 * dimensions // 3) + 2)  # + each vector's base64 and '"}'
    for index, item in enumerate(items):
        prefix = b'%s{"object":"embedding","index":%d,"embedding":"' % (b"," if index else b"", index)
        parts.append(prefix)
        size += len(prefix)
        space.add_base64(parts, item, dimensions)
        parts.append(b'"}')
    tail = b"]," + json.dumps({"model": model, "usage": usage}, separators=(",", ":")).encode()[1:]
    parts.append(tail)
    response = Response(parts, status=200, content_type="application/json", direct_passthrough=True)
    response.headers["Content-Length"] = str(size + len(tail))
    return response


# -- vectors ------------------------------------------------------------------------------------

#: Components per block. A multiple of 3 (and so is a quarter block): 4 * BLOCK bytes of float32
#: are then whole base64 quanta, and a vector's base64 is its blocks' base64 joined.
BLOCK = 24
QUARTER = BLOCK // 4
#: Pseudo-random blocks (and as many quarter blocks) to choose from.
POOL_BITS = 11
POOL_SIZE = 1 << POOL_BITS
#: Bits per MinHash lane: a 15-bit key under a guard bit. (Two words that draw the same 15-bit
#: key count as one: for inputs of hundreds of distinct words that adds about 0.01 to the cosine
#: similarity of unrelated inputs. 32-bit lanes would cost 25 % more time.)
_LANE_BITS = 16
_GUARD_SHIFT = _LANE_BITS - 1
_BIG_ENDIAN = sys.byteorder == "big"
#: Words: runs of letters, digits and underscores, after lower-casing.
_WORD = re.compile(r"\w+")


def words(text: str) -> frozenset[str]:
    """The words of ``text`` that its vector is made of: lower-cased runs of letters, digits and
    ``_``, each counted once (the features of the MinHash blocks)."""
    return frozenset(_WORD.findall(text.lower()))


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """The cosine similarity the vectors of two texts with these ``words`` have on average: the
    Jaccard similarity of the two word sets (shared words / all words), without the MinHash
    estimate's noise. 0.0 when either has no words. (Vector-store search ranks by it.)"""
    if not a or not b:
        return 0.0
    shared = len(a & b) if len(a) <= len(b) else len(b & a)
    return shared / (len(a) + len(b) - shared)


def similarities(query: frozenset[str], texts: list[frozenset[str]]) -> list[float]:
    """``similarity(query, words)`` for each of ``texts`` (one pass, for searching many chunks)."""
    if not query:
        return [0.0] * len(texts)
    size = len(query)
    return [(shared := len(query & words)) and shared / (size + len(words) - shared) for words in texts]


class VectorSpace:
    """The vectors of one model: unit vectors of ``dimensions`` components (see the module doc).

    A vector is ``dimensions // BLOCK`` blocks. The first is four quarter blocks picked by a
    hash of the exact input; every other block is one of ``POOL_SIZE`` pool blocks, picked by
    MinHash over the input's words. Pool blocks have length ``1/sqrt(blocks)`` and quarter
    blocks ``1/sqrt(4 * blocks)``, so every vector has length 1 without any arithmetic per
    request: a vector is its blocks' float32 bytes (or their base64) joined.
    """

    def __init__(self, model: str, dimensions: int) -> None:
        if dimensions % BLOCK or dimensions < 3 * BLOCK:
            raise ValueError(f"dimensions must be a multiple of {BLOCK} (at least {3 * BLOCK}), got {dimensions}")
        self.model = model
        self.dimensions = dimensions
        self.blocks = dimensions // BLOCK
        self._salt = f"{model}\0{dimensions}\0".encode()
        self._pool = _pool(self.blocks)
        self._lanes = self.blocks - 1
        self._guard, self._key_mask, self._index_mask = _lane_masks(self._lanes)
        self._keys: dict[str, int] = {}

    def entries(self, item: str | list[int]) -> tuple[tuple[int, int, int, int], list[int]]:
        """The quarter-pool entries of the first block, and the pool entry of every other block."""
        if isinstance(item, str):
            data = item.encode()
            features: Iterable[str] = words(item) or (item,)
        else:
            data = b"ids:" + ",".join(map(str, item)).encode()
            features = {f"#{token}" for token in item}
        h = int.from_bytes(hashlib.blake2b(self._salt + data, digest_size=8).digest(), "little")
        mask, bits = POOL_SIZE - 1, POOL_BITS
        first = (h & mask, h >> bits & mask, h >> 2 * bits & mask, h >> 3 * bits & mask)
        return first, self._minhash(features)

    def _minhash(self, features: Iterable[str]) -> list[int]:
        """Per block, the pool entry of the smallest key any feature draws for it.

        A feature's keys are one integer with a 16-bit lane per block (a 15-bit key, the top bit
        clear). The running minimum keeps every lane's top (guard) bit set, so subtracting a
        feature's keys never borrows across lanes; the guard bit of the difference tells where
        the feature's key is the smaller one, and there the difference is taken off.
        """
        known, guard, shift = self._keys, self._guard, _GUARD_SHIFT
        keys = iter([known.get(feature) or self._feature_keys(feature) for feature in features])
        smallest = next(keys) | guard
        for key in keys:
            difference = smallest - key
            where = difference & guard
            smallest -= difference & (where - (where >> shift))
        entries = array("H", (smallest & self._index_mask).to_bytes(2 * self._lanes, "little"))
        if _BIG_ENDIAN:
            entries.byteswap()
        return entries.tolist()

    def _feature_keys(self, feature: str) -> int:
        raw = hashlib.shake_256(self._salt + feature.encode()).digest(2 * self._lanes)
        key = int.from_bytes(raw, "little") & self._key_mask
        if len(self._keys) >= 1 << 16:  # bounded: forget everything rather than track use
            self._keys.clear()
        self._keys[feature] = key
        return key

    # -- output ---------------------------------------------------------------------------------

    def add_base64(self, parts: list[bytes], item: str | list[int], dimensions: int) -> None:
        """Append base64 pieces whose concatenation is the base64 of the vector's float32 bytes."""
        first, entries = self.entries(item)
        if dimensions < self.dimensions:
            parts.append(base64.b64encode(_float32_bytes(self._shortened(first, entries, dimensions))))
        else:  # (at least two entries each, so itemgetter gives tuples)
            parts += itemgetter(*first)(self._pool.quarter_base64)
            parts += itemgetter(*entries)(self._pool.base64)

    def base64(self, item: str | list[int], dimensions: int) -> str:
        parts: list[bytes] = []
        self.add_base64(parts, item, dimensions)
        return b"".join(parts).decode("ascii")

    def floats(self, item: str | list[int], dimensions: int) -> list[float]:
        """The vector as numbers (float32 values, so they equal what base64 decodes to)."""
        first, entries = self.entries(item)
        if dimensions < self.dimensions:
            return self._shortened(first, entries, dimensions).tolist()
        return _floats(self._raw(first, entries)).tolist()

    def _raw(self, first: tuple[int, ...], entries: list[int]) -> bytes:
        pool = self._pool
        return b"".join([*map(pool.quarter_raw.__getitem__, first), *map(pool.raw.__getitem__, entries)])

    def _shortened(self, first: tuple[int, ...], entries: list[int], dimensions: int) -> array:
        """The first ``dimensions`` components, renormalised to length 1 (Matryoshka)."""
        head = _floats(self._raw(first, entries[: -(-dimensions // BLOCK) - 1])).tolist()[:dimensions]
        norm = math.hypot(*head)  # > 0: a quarter block is never all zeros
        return array("f", [x / norm for x in head])


@functools.lru_cache(maxsize=256)
def vector_space(model: str, dimensions: int) -> VectorSpace:
    """The (cached) ``VectorSpace`` of ``model`` with vectors of ``dimensions`` components."""
    return VectorSpace(model, dimensions)


class _Pool:
    """``POOL_SIZE`` pseudo-random blocks of length 1/sqrt(blocks), and as many quarter blocks of
    length 1/sqrt(4 * blocks): float32 bytes and their base64."""

    def __init__(self, blocks: int) -> None:
        self.raw, self.base64 = _unit_blocks(b"block", BLOCK, 1 / math.sqrt(blocks))
        self.quarter_raw, self.quarter_base64 = _unit_blocks(b"quarter", QUARTER, 1 / math.sqrt(4 * blocks))


def _unit_blocks(name: bytes, size: int, length: float) -> tuple[tuple[bytes, ...], tuple[bytes, ...]]:
    values = array("h", hashlib.shake_256(b"pytest-openai-fake embeddings " + name).digest(POOL_SIZE * size * 2))
    if _BIG_ENDIAN:
        values.byteswap()
    raw = []
    for start in range(0, POOL_SIZE * size, size):
        chunk = values[start : start + size].tolist()
        factor = length / math.hypot(*chunk)
        raw.append(_float32_bytes(array("f", [x * factor for x in chunk])))
    return tuple(raw), tuple(map(base64.b64encode, raw))


@functools.lru_cache(maxsize=8)
def _pool(blocks: int) -> _Pool:
    return _Pool(blocks)


@functools.lru_cache(maxsize=8)
def _lane_masks(lanes: int) -> tuple[int, int, int]:
    """The guard bits, the key bits and the pool-index bits of ``lanes`` 16-bit lanes."""
    return (
        _repeat(1 << _GUARD_SHIFT, 2, lanes),
        _repeat((1 << _GUARD_SHIFT) - 1, 2, lanes),
        _repeat(POOL_SIZE - 1, 2, lanes),
    )


def _repeat(value: int, width: int, count: int) -> int:
    return int.from_bytes(value.to_bytes(width, "little") * count, "little")


def _floats(data: bytes) -> array:
    values = array("f")
    values.frombytes(data)
    if _BIG_ENDIAN:
        values.byteswap()
    return values


def _float32_bytes(values: array) -> bytes:
    if _BIG_ENDIAN:
        values = array("f", values)
        values.byteswap()
    return values.tobytes()
