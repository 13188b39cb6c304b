"""PNG without a library: an encoder for the fake's pictures and a reader for uploads and tests.

Only what the fake needs, from the PNG spec (ISO/IEC 15948): 8-bit greyscale, RGB, palette and
their alpha forms; chunks with CRCs; one zlib stream of scanlines. ``encode`` writes filter
type 0 (None) rows, which keeps encoding a ``bytes.join`` plus one ``zlib.compress``.
``decode`` undoes all five filter types and checks every CRC.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["SIGNATURE", "Png", "PngError", "decode", "encode", "read_header", "sniff"]

SIGNATURE = b"\x89PNG\r\n\x1a\n"

#: Colour type -> (channels, PIL-style mode name: what the real API's messages call them).
COLOR_TYPES: dict[int, tuple[int, str]] = {0: (1, "L"), 2: (3, "RGB"), 3: (1, "P"), 4: (2, "LA"), 6: (4, "RGBA")}


class PngError(ValueError):
    """The bytes are not a well-formed PNG (the message says why)."""


@dataclass(frozen=True)
class Png:
    """A PNG's header and, when decoded, its unfiltered scanlines (without filter bytes)."""

    width: int
    height: int
    bit_depth: int
    color_type: int
    rows: tuple[bytes, ...] = ()

    @property
    def mode(self) -> str:
        return COLOR_TYPES.get(self.color_type, (0, "?"))[1]

    @property
    def channels(self) -> int:
        return COLOR_TYPES.get(self.color_type, (0, "?"))[0]

    def pixel(self, x: int, y: int) -> bytes:
        size = self.channels
        return self.rows[y][x * size : (x + 1) * size]


def encode(width: int, height: int, rows: Sequence[bytes], *, alpha: bool = False, level: int = 1) -> bytes:
    """An 8-bit RGB (or RGBA) PNG of ``rows``: each row is ``width`` pixels of 3 (4) bytes.

    Rows are filtered with type 0, so equal rows may be the same object: the data is one
    ``b"\\x00".join`` and one ``zlib.compress`` at a fast ``level``.
    """
    if len(rows) != height:
        raise ValueError(f"expected {height} rows, got {len(rows)}")
    stride = width * (4 if alpha else 3)
    if {len(row) for row in rows} != {stride}:
        raise ValueError(f"every row must be {stride} bytes")
    raw = b"\x00" + b"\x00".join(rows)
    header = struct.pack(">IIBBBBB", width, height, 8, 6 if alpha else 2, 0, 0, 0)
    chunks = (_chunk(b"IHDR", header), _chunk(b"IDAT", zlib.compress(raw, level)), _chunk(b"IEND", b""))
    return SIGNATURE + b"".join(chunks)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def sniff(data: bytes) -> str | None:
    """The image type the bytes start with: ``"png"``, ``"jpeg"``, ``"webp"``, ``"gif"`` or None."""
    if data.startswith(SIGNATURE):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    return None


def read_header(data: bytes) -> Png:
    """The IHDR of a PNG (signature, first chunk and its CRC checked); raises ``PngError``."""
    if not data.startswith(SIGNATURE):
        raise PngError("not a PNG: bad signature")
    kind, body, _ = _read_chunk(data, len(SIGNATURE))
    if kind != b"IHDR" or len(body) != 13:
        raise PngError("the first chunk is not a 13-byte IHDR")
    width, height, bit_depth, color_type, _compression, _filter, _interlace = struct.unpack(">IIBBBBB", body)
    if width == 0 or height == 0:
        raise PngError("zero width or height")
    if color_type not in COLOR_TYPES:
        raise PngError(f"unknown colour type {color_type}")
    return Png(width, height, bit_depth, color_type)


def decode(data: bytes) -> Png:
    """Every chunk (CRCs checked), the inflated data and the unfiltered rows of an 8-bit PNG."""
    header = read_header(data)
    if header.bit_depth != 8:
        raise PngError(f"only 8-bit PNGs are decoded, not {header.bit_depth}-bit")
    if data[len(SIGNATURE) + 8 + 12] != 0:  # the interlace byte of IHDR
        raise PngError("interlaced PNGs are not decoded")
    pos = len(SIGNATURE)
    idat: list[bytes] = []
    seen_end = False
    while pos < len(data):
        kind, body, pos = _read_chunk(data, pos)
        if kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            seen_end = True
            break
    if not seen_end:
        raise PngError("no IEND chunk")
    if not idat:
        raise PngError("no IDAT chunk")
    try:
        raw = zlib.decompress(b"".join(idat))
    except zlib.error as exc:
        raise PngError(f"bad zlib data: {exc}") from None
    bpp = header.channels
    stride = header.width * bpp
    if len(raw) != header.height * (stride + 1):
        raise PngError(f"expected {header.height * (stride + 1)} bytes of scanlines, got {len(raw)}")
    rows: list[bytes] = []
    previous = bytes(stride)
    for y in range(header.height):
        start = y * (stride + 1)
        kind = raw[start]
        line = raw[start + 1 : start + 1 + stride]
        if kind != 0:
            line = _unfilter(kind, line, previous, bpp)
        rows.append(line)
        previous = line
    return Png(header.width, header.height, header.bit_depth, header.color_type, tuple(rows))


def _read_chunk(data: bytes, pos: int) -> tuple[bytes, bytes, int]:
    if pos + 8 > len(data):
        raise PngError("truncated chunk header")
    (length,) = struct.unpack_from(">I", data, pos)
    kind = data[pos + 4 : pos + 8]
    end = pos + 8 + length
    if end + 4 > len(data):
        raise PngError(f"truncated {kind!r} chunk")
    body = data[pos + 8 : end]
    (crc,) = struct.unpack_from(">I", data, end)
    if zlib.crc32(kind + body) & 0xFFFFFFFF != crc:
        raise PngError(f"bad CRC in {kind!r} chunk")
    return kind, body, end + 4


def _unfilter(kind: int, line: bytes, previous: bytes, bpp: int) -> bytes:
    out = bytearray(line)
    n = len(out)
    if kind == 1:  # Sub
        for i in range(bpp, n):
            out[i] = (out[i] + out[i - bpp]) & 0xFF
    elif kind == 2:  # Up
        for i in range(n):
            out[i] = (out[i] + previous[i]) & 0xFF
    elif kind == 3:  # Average
        for i in range(n):
            left = out[i - bpp] if i >= bpp else 0
            out[i] = (out[i] + ((left + previous[i]) >> 1)) & 0xFF
    elif kind == 4:  # Paeth
        for i in range(n):
            a = out[i - bpp] if i >= bpp else 0
            b = previous[i]
            c = previous[i - bpp] if i >= bpp else 0
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            predictor = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            out[i] = (out[i] + predictor) & 0xFF
    else:
        raise PngError(f"unknown filter type {kind}")
    return bytes(out)
