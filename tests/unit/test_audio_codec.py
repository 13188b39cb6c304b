"""The pure-Python audio encoders of ``determinism/audio.py``: checksums, containers, reading back."""

from __future__ import annotations

import io
import struct

import pytest

from pytest_openai_fake.determinism import audio as codec

mutagen = pytest.importorskip("mutagen", reason="reads the encoders' output (pip install -e '.[test]')")
from mutagen.ogg import OggPage


def test_checksums_match_the_catalogued_check_values() -> None:
    # The CRC catalogue's check value over b"123456789": CRC-8 (FLAC frame header), CRC-16/UMTS
    # (FLAC frame, poly 0x8005), and Ogg's CRC-32 (poly 0x04C11DB7, init 0, no final xor).
    assert codec._crc8(b"123456789") == 0xF4
    assert codec._crc16(b"123456789") == 0xFEE8
    assert codec._ogg_crc(b"123456789") == 0x89A1897F


def test_ogg_pages_are_what_mutagen_would_write() -> None:
    """mutagen re-serialises each page with its own CRC: the bytes must not change."""
    data = codec.speech("A sentence long enough to fill several pages of silent packets.", response_format="opus")
    stream = io.BytesIO(data)
    pages = []
    while stream.tell() < len(data):
        pages.append(OggPage(stream))
    assert len(pages) >= 4 and pages[0].first and pages[-1].last
    assert b"".join(page.write() for page in pages) == data


def test_flac_frames_hold_the_pcm_verbatim() -> None:
    """Walk the frames after the metadata: each verbatim subframe is the PCM, big-endian."""
    text = "x" * 150  # 10 s: several 4,096-sample frames and a short last one
    pcm = codec.speech_pcm(text)
    data = codec.speech(text, response_format="flac")
    at = 4
    for kind, body in codec._flac_blocks(data):
        at += 4 + len(body)
    samples = b""
    while at < len(data):
        assert data[at : at + 2] == b"\xff\xf8"
        assert data[at + 4] < 0x80  # the frame number: one byte below 128 frames
        head = at + 5
        block = struct.unpack(">H", data[head : head + 2])[0] + 1
        assert codec._crc8(data[at : head + 2]) == data[head + 2]
        assert data[head + 3] == 0x02  # VERBATIM
        body = data[head + 4 : head + 4 + 2 * block]
        end = head + 4 + 2 * block
        assert struct.unpack(">H", data[end : end + 2])[0] == codec._crc16(data[at:end])
        samples += bytes(b for pair in zip(body[1::2], body[0::2]) for b in pair)  # to little-endian
        at = end + 2
    assert samples == pcm


def test_sniff_and_duration_of_every_format() -> None:
    text = "Fifteen chars.."
    for fmt, kind in [("mp3", "mp3"), ("aac", "aac"), ("flac", "flac"), ("wav", "wav"), ("opus", "ogg")]:
        data = codec.speech(text, response_format=fmt)
        assert codec.sniff(data) == kind
        seconds = codec.duration(data)
        assert seconds is not None and seconds == pytest.approx(1.0, abs=0.05), fmt
        assert codec.embedded_text(data) == text
    assert codec.sniff(b"\x00\x00\x00\x18ftypmp42") == "mp4"
    assert codec.sniff(b"\x1a\x45\xdf\xa3rest") == "webm"
    assert codec.sniff(b"hello") is None
    assert codec.embedded_text(codec.speech(text, response_format="pcm")) is None


def test_speech_length_and_speed() -> None:
    assert codec.speech_seconds("a" * 30) == 2.0
    assert codec.speech_seconds("a" * 30, speed=4.0) == 0.5
    assert codec.speech_seconds("") == 0.25
    assert len(codec.speech_pcm("a" * 30)) == 2 * 48_000
