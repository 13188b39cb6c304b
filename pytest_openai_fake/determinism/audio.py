"""Speech the fake can play, and audio it can read back: pure Python, no codec library.

``speech(text, voice=..., response_format=..., speed=...)`` returns real audio of one of the
formats the API's speech endpoint answers: ``wav``, ``pcm`` (raw 24 kHz signed 16-bit mono
little-endian, as the API documents), ``flac``, ``mp3``, ``aac`` (ADTS) and ``opus`` (Ogg Opus).
Its length follows the text at a realistic speaking rate (``CHARS_PER_SECOND``, about 150 words a
minute) divided by ``speed``. ``speech_pcm`` gives the samples themselves (what the realtime API
streams), the same in every format that carries samples.

The sound: one short tone burst per word (the pitch is drawn from the voice, the burst length
from the word), with a pause between words, in ``pcm``, ``wav`` and ``flac`` (FLAC frames are
verbatim, so they decode to exactly the WAV's samples). ``mp3``, ``aac`` and ``opus`` are frames of
digital silence of the same duration: valid frames a decoder plays, assembled by hand (writing a
real perceptual encoder is out of scope). Each container is checked by ``mutagen`` in the tests.

The round trip: every format but ``pcm`` carries the text in its own metadata, under the key
``TEXT_KEY`` (``PYTEST_OPENAI_FAKE_TEXT``): an ID3v2.4 ``TXXX`` frame (mp3, and an ID3 tag before the
ADTS frames for aac), a Vorbis comment (flac, and ``OpusTags`` for opus), a ``LIST``/``INFO``
``ICMT`` chunk (wav). ``embedded_text(data)`` reads it back; ``sniff`` names a file's format from
its first bytes and ``duration`` reads its length where the container tells it.
"""

from __future__ import annotations

import array
import hashlib
import io
import math
import struct
import sys
import wave
from collections.abc import Iterator

__all__ = [
    "CHARS_PER_SECOND",
    "CONTENT_TYPES",
    "SAMPLE_RATE",
    "TEXT_KEY",
    "duration",
    "embedded_text",
    "sniff",
    "speech",
    "speech_pcm",
    "speech_seconds",
]

#: Output sample rate of every format (the API's speech is 24 kHz mono).
SAMPLE_RATE = 24_000
#: About 150 words a minute of English: 15 characters (letters, spaces, punctuation) a second.
CHARS_PER_SECOND = 15.0
TEXT_KEY = "PYTEST_OPENAI_FAKE_TEXT"
#: The ``Content-Type`` the speech endpoint sends per ``response_format``.
CONTENT_TYPES = {
    "mp3": "audio/mpeg",
    "opus": "audio/opus",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "pcm": "audio/pcm",
}
_VOICE_TONES = (196.0, 220.0, 247.0, 262.0, 294.0, 330.0, 349.0, 392.0)
_AMPLITUDE = 6000
_VENDOR = "pytest-openai-fake"


def speech_seconds(text: str, speed: float = 1.0) -> float:
    """How long ``text`` takes to say at ``speed``: at least a quarter second."""
    return max(len(text) / CHARS_PER_SECOND, 0.25) / speed


def _sample_count(text: str, speed: float) -> int:
    return round(speech_seconds(text, speed) * SAMPLE_RATE)


def speech_pcm(text: str, voice: str = "alloy", speed: float = 1.0) -> bytes:
    """The samples of ``text`` spoken: 24 kHz signed 16-bit mono little-endian.

    One tone burst per word, as long as the word's share of the whole, a pause for each space.
    """
    total = _sample_count(text, speed)
    samples = array.array("h", bytes(2 * total))
    tone = _VOICE_TONES[hashlib.sha256(voice.encode()).digest()[0] % len(_VOICE_TONES)]
    per_char = total / max(len(text), 1)
    position = 0.0
    for word in text.split(" "):
        start = round(position)
        end = min(round(position + len(word) * per_char), total)
        position += (len(word) + 1) * per_char
        if end - start < 2:
            continue
        # One period of the tone, repeated: cheap in pure Python, and a clean sine.
        period = max(int(SAMPLE_RATE / tone), 2)
        cycle = [int(_AMPLITUDE * math.sin(2 * math.pi * i / period)) for i in range(period)]
        burst = (cycle * ((end - start) // period + 1))[: end - start]
        samples[start:end] = array.array("h", burst)
    if sys.byteorder != "little":
        samples.byteswap()
    return samples.tobytes()


def speech(text: str, voice: str = "alloy", response_format: str = "mp3", speed: float = 1.0) -> bytes:
    """``text`` spoken by ``voice`` at ``speed``, as a whole file of ``response_format``."""
    if response_format == "pcm":
        return speech_pcm(text, voice, speed)
    if response_format == "wav":
        return _wav(speech_pcm(text, voice, speed), text)
    if response_format == "flac":
        return _flac(speech_pcm(text, voice, speed), text)
    count = _sample_count(text, speed)
    if response_format == "mp3":
        return _id3(text) + _mp3_frames(count)
    if response_format == "aac":
        return _id3(text) + _adts_frames(count)
    if response_format == "opus":
        return _ogg_opus(count, text)
    raise ValueError(f"unknown response_format {response_format!r}")


# -- WAV -------------------------------------------------------------------------------------


def _wav(pcm: bytes, text: str) -> bytes:
    """A PCM WAV (stdlib ``wave``) with a ``LIST``/``INFO`` chunk after ``data``: ``ICMT`` holds
    ``PYTEST_OPENAI_FAKE_TEXT=<text>``, ``ISFT`` the software."""
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(SAMPLE_RATE)
        writer.writeframes(pcm)
    riff = out.getvalue()
    info = (
        b"INFO"
        + _riff_chunk(b"ISFT", _VENDOR.encode() + b"\0")
        + _riff_chunk(b"ICMT", f"{TEXT_KEY}={text}".encode() + b"\0")
    )
    body = riff[12:] + _riff_chunk(b"LIST", info)
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WAVE" + body


def _riff_chunk(name: bytes, data: bytes) -> bytes:
    return name + struct.pack("<I", len(data)) + data + (b"\0" if len(data) % 2 else b"")


def _riff_chunks(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    at = 12
    while at + 8 <= len(data):
        name, size = data[at : at + 4], struct.unpack("<I", data[at + 4 : at + 8])[0]
        yield name, data[at + 8 : at + 8 + size]
        at += 8 + size + (size % 2)


# -- FLAC ------------------------------------------------------------------------------------

_FLAC_BLOCK = 4096


def _flac(pcm: bytes, text: str) -> bytes:
    """FLAC: ``STREAMINFO`` (with the samples' MD5), a ``VORBIS_COMMENT`` block, then frames of
    4,096 samples, each one verbatim subframe (uncompressed, so exact), CRC-8 and CRC-16 checked."""
    samples = array.array("h", pcm)
    if sys.byteorder != "little":
        samples.byteswap()
    total = len(samples)
    frames = []
    for number, start in enumerate(range(0, total, _FLAC_BLOCK)):
        block = samples[start : start + _FLAC_BLOCK]
        frames.append(_flac_frame(number, block))
    bounds = (min(map(len, frames)), max(map(len, frames))) if frames else (0, 0)
    info = struct.pack(">HH", _FLAC_BLOCK, _FLAC_BLOCK) + bounds[0].to_bytes(3, "big") + bounds[1].to_bytes(3, "big")
    # 20 bits sample rate, 3 bits channels-1, 5 bits bits-per-sample-1, 36 bits total samples.
    packed = (SAMPLE_RATE << 44) | (0 << 41) | (15 << 36) | total
    info += packed.to_bytes(8, "big") + hashlib.md5(pcm).digest()
    comment = _vorbis_comment({TEXT_KEY: text})
    return b"fLaC" + _flac_block(0, info, last=False) + _flac_block(4, comment, last=True) + b"".join(frames)


def _flac_block(kind: int, data: bytes, *, last: bool) -> bytes:
    return bytes([(0x80 if last else 0) | kind]) + len(data).to_bytes(3, "big") + data


def _flac_frame(number: int, block: array.array[int]) -> bytes:
    # Sync + fixed blocksize; block size "16 bits at the end of the header" (0111), 24 kHz (0111);
    # mono (0000), 16 bits (100); the frame number as UTF-8-style coded integer.
    header = b"\xff\xf8" + bytes([0x77, 0x08]) + _utf8_number(number) + struct.pack(">H", len(block) - 1)
    header += bytes([_crc8(header)])
    big = array.array("h", block)
    if sys.byteorder == "little":
        big.byteswap()
    frame = header + b"\x02" + big.tobytes()  # subframe: VERBATIM, no wasted bits
    return frame + struct.pack(">H", _crc16(frame))


def _utf8_number(value: int) -> bytes:
    if value < 0x80:
        return bytes([value])
    data = chr(value).encode("utf-8", "surrogatepass")
    return data


def _crc8(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def _crc16_table() -> list[int]:
    table = []
    for i in range(256):
        crc = i << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x8005) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
        table.append(crc)
    return table


_CRC16 = _crc16_table()


def _crc16(data: bytes) -> int:
    crc = 0
    table = _CRC16
    for byte in data:
        crc = ((crc << 8) & 0xFFFF) ^ table[(crc >> 8) ^ byte]
    return crc


def _vorbis_comment(fields: dict[str, str]) -> bytes:
    vendor = _VENDOR.encode()
    out = struct.pack("<I", len(vendor)) + vendor + struct.pack("<I", len(fields))
    for key, value in fields.items():
        entry = f"{key}={value}".encode()
        out += struct.pack("<I", len(entry)) + entry
    return out


def _read_vorbis_comment(data: bytes) -> dict[str, str]:
    fields: dict[str, str] = {}
    try:
        (vendor,) = struct.unpack("<I", data[:4])
        at = 4 + vendor
        (count,) = struct.unpack("<I", data[at : at + 4])
        at += 4
        for _ in range(count):
            (size,) = struct.unpack("<I", data[at : at + 4])
            key, _, value = data[at + 4 : at + 4 + size].decode("utf-8", "replace").partition("=")
            fields.setdefault(key.upper(), value)
            at += 4 + size
    except struct.error:
        pass
    return fields


def _flac_blocks(data: bytes) -> Iterator[tuple[int, bytes]]:
    at = 4
    while at + 4 <= len(data):
        kind, size = data[at] & 0x7F, int.from_bytes(data[at + 1 : at + 4], "big")
        yield kind, data[at + 4 : at + 4 + size]
        if data[at] & 0x80:
            return
        at += 4 + size


# -- MP3 and AAC -----------------------------------------------------------------------------

#: MPEG-2 Layer III, 24 kHz, 64 kbit/s, mono, no CRC: 576 samples in 192 bytes. An all-zero
#: side info (part2_3_length 0) and main data decode to silence.
_MP3_HEADER = b"\xff\xf3\x84\xc0"
_MP3_FRAME = _MP3_HEADER + bytes(192 - 4)
_MP3_SAMPLES = 576

#: ADTS, MPEG-4 AAC LC, 24 kHz (index 6), mono, 11-byte frames (7 header + 4 payload) of 1,024
#: samples. The payload is one single-channel element with ``max_sfb`` 0 (no spectral data,
#: silence) and the END element: 29 zero bits, then 111.
_ADTS_FRAME = (
    bytes(
        [
            0xFF,
            0xF1,  # syncword, MPEG-4, layer 0, no CRC
            (1 << 6) | (6 << 2) | (1 >> 2),  # profile LC (1), 24 kHz (6), channel config high bit
            ((1 & 3) << 6) | (11 >> 11),  # channel config 1, frame length (13 bits) starts
            (11 >> 3) & 0xFF,
            ((11 & 7) << 5) | 0x1F,  # buffer fullness 0x7FF (VBR)
            0xFC,  # fullness low bits, one raw data block
        ]
    )
    + b"\x00\x00\x00\x07"
)
_AAC_SAMPLES = 1024


def _mp3_frames(samples: int) -> bytes:
    return _MP3_FRAME * max(-(-samples // _MP3_SAMPLES), 1)


def _adts_frames(samples: int) -> bytes:
    return _ADTS_FRAME * max(-(-samples // _AAC_SAMPLES), 1)


def _id3(text: str) -> bytes:
    """An ID3v2.4 tag with one ``TXXX`` frame: UTF-8, description ``TEXT_KEY``, value ``text``."""
    body = b"\x03" + TEXT_KEY.encode() + b"\0" + text.encode()
    frame = b"TXXX" + _syncsafe(len(body)) + b"\0\0" + body
    return b"ID3\x04\x00\x00" + _syncsafe(len(frame)) + frame


def _syncsafe(value: int) -> bytes:
    return bytes([(value >> 21) & 0x7F, (value >> 14) & 0x7F, (value >> 7) & 0x7F, value & 0x7F])


def _unsyncsafe(data: bytes) -> int:
    return (data[0] << 21) | (data[1] << 14) | (data[2] << 7) | data[3]


def _id3_text(data: bytes) -> str | None:
    """The ``TXXX`` value named ``TEXT_KEY`` of a leading ID3v2.3/2.4 tag."""
    if data[:3] != b"ID3" or len(data) < 10:
        return None
    version = data[3]
    end = 10 + _unsyncsafe(data[6:10])
    at = 10
    while at + 10 <= end:
        name = data[at : at + 4]
        size = _unsyncsafe(data[at + 4 : at + 8]) if version == 4 else struct.unpack(">I", data[at + 4 : at + 8])[0]
        if not name.strip(b"\0"):
            break
        if name == b"TXXX":
            body = data[at + 10 : at + 10 + size]
            encoding, rest = body[:1], body[1:]
            if encoding == b"\x03" or encoding == b"\x00":
                desc, _, value = rest.partition(b"\0")
                if desc.decode("latin-1") == TEXT_KEY:
                    return value.rstrip(b"\0").decode("utf-8" if encoding == b"\x03" else "latin-1")
        at += 10 + size
    return None


def _id3_length(data: bytes) -> int:
    return 10 + _unsyncsafe(data[6:10]) if data[:3] == b"ID3" and len(data) >= 10 else 0


# -- Ogg Opus --------------------------------------------------------------------------------

#: Opus always counts 48 kHz; 312 samples of decoder delay (libopus's usual pre-skip).
_OPUS_RATE = 48_000
_PRE_SKIP = 312
#: TOC 0xF8: CELT-only fullband 20 ms, mono, one frame; the frame is libopus's own encoding of
#: digital silence (what encoders send in silent stretches).
_OPUS_SILENCE = b"\xf8\xff\xfe"
_OPUS_FRAME = 960  # 20 ms at 48 kHz
_PACKETS_PER_PAGE = 50


def _ogg_opus(samples: int, text: str) -> bytes:
    """Ogg Opus (RFC 7845): ``OpusHead`` page, ``OpusTags`` page, then pages of silent 20 ms
    packets; the last page's granule position ends the stream at the exact length."""
    serial = 0x4F504653  # fixed: the same text gives the same bytes
    head = b"OpusHead" + struct.pack("<BBHIhB", 1, 1, _PRE_SKIP, SAMPLE_RATE, 0, 0)
    tags = b"OpusTags" + _vorbis_comment({TEXT_KEY: text})
    pages = [_ogg_page(serial, 0, 0x02, 0, [head]), _ogg_page(serial, 1, 0, 0, [tags])]
    length = samples * (_OPUS_RATE // SAMPLE_RATE)
    count = max(-(-length // _OPUS_FRAME), 1)
    sequence = 2
    for first in range(0, count, _PACKETS_PER_PAGE):
        packets = min(_PACKETS_PER_PAGE, count - first)
        last = first + packets >= count
        granule = _PRE_SKIP + (length if last else (first + packets) * _OPUS_FRAME)
        pages.append(_ogg_page(serial, sequence, 0x04 if last else 0, granule, [_OPUS_SILENCE] * packets))
        sequence += 1
    return b"".join(pages)


def _ogg_page(serial: int, sequence: int, flags: int, granule: int, packets: list[bytes]) -> bytes:
    lacing = bytearray()
    for packet in packets:
        lacing += b"\xff" * (len(packet) // 255) + bytes([len(packet) % 255])
    if len(lacing) > 255:
        raise ValueError("one Ogg page holds at most 255 segments")
    header = (
        b"OggS\x00" + struct.pack("<BqIII", flags, granule, serial, sequence, 0) + bytes([len(lacing)]) + bytes(lacing)
    )
    page = header + b"".join(packets)
    crc = _ogg_crc(page)
    return page[:22] + struct.pack("<I", crc) + page[26:]


def _ogg_crc_table() -> list[int]:
    table = []
    for i in range(256):
        crc = i << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) & 0xFFFFFFFF if crc & 0x80000000 else (crc << 1) & 0xFFFFFFFF
        table.append(crc)
    return table


_OGG_CRC = _ogg_crc_table()


def _ogg_crc(data: bytes) -> int:
    crc = 0
    table = _OGG_CRC
    for byte in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ table[(crc >> 24) ^ byte]
    return crc


def _ogg_pages(data: bytes) -> Iterator[tuple[int, list[int], bytes]]:
    """(granule, segment sizes, payload) of each page."""
    at = 0
    while data[at : at + 4] == b"OggS" and at + 27 <= len(data):
        granule = struct.unpack("<q", data[at + 6 : at + 14])[0]
        count = data[at + 26]
        sizes = list(data[at + 27 : at + 27 + count])
        start = at + 27 + count
        yield granule, sizes, data[start : start + sum(sizes)]
        at = start + sum(sizes)


def _ogg_packets(data: bytes, limit: int) -> list[bytes]:
    """The first ``limit`` packets of an Ogg stream (packets may span pages)."""
    packets: list[bytes] = []
    current = b""
    for _, sizes, payload in _ogg_pages(data):
        at = 0
        for size in sizes:
            current += payload[at : at + size]
            at += size
            if size < 255:
                packets.append(current)
                current = b""
                if len(packets) >= limit:
                    return packets
    return packets


# -- reading ---------------------------------------------------------------------------------


def sniff(data: bytes) -> str | None:
    """The container of ``data`` from its first bytes: ``flac``, ``wav``, ``ogg``, ``mp3``,
    ``mp4`` (also m4a), ``webm``, ``aac`` (ADTS), or None."""
    if data[:4] == b"fLaC":
        return "flac"
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if data[:4] == b"OggS":
        return "ogg"
    if data[4:8] == b"ftyp":
        return "mp4"
    if data[:4] == b"\x1a\x45\xdf\xa3":
        return "webm"
    skip = _id3_length(data)
    body = data[skip : skip + 4]
    if len(body) >= 2 and body[0] == 0xFF:
        if body[1] & 0xF6 == 0xF0:
            return "aac"
        if body[1] & 0xE0 == 0xE0 and body[1] & 0x06:
            return "mp3"
    return "mp3" if skip else None


def embedded_text(data: bytes) -> str | None:
    """The text the fake's own speech put in ``data`` (see the module doc), or None."""
    kind = sniff(data)
    if kind in ("mp3", "aac"):
        return _id3_text(data)
    if kind == "wav":
        for name, chunk in _riff_chunks(data):
            if name == b"LIST" and chunk[:4] == b"INFO":
                for sub, value in _riff_chunks(b"\0" * 8 + chunk):
                    prefix = f"{TEXT_KEY}=".encode()
                    if sub == b"ICMT" and value.startswith(prefix):
                        return value[len(prefix) :].rstrip(b"\0").decode("utf-8", "replace")
        return None
    if kind == "flac":
        for block, body in _flac_blocks(data):
            if block == 4:
                return _read_vorbis_comment(body).get(TEXT_KEY)
        return None
    if kind == "ogg":
        packets = _ogg_packets(data, 2)
        if len(packets) == 2 and packets[1][:8] in (b"OpusTags", b"\x03vorbis"):
            skip = 8 if packets[1][:8] == b"OpusTags" else 7
            return _read_vorbis_comment(packets[1][skip:]).get(TEXT_KEY)
    return None


def duration(data: bytes) -> float | None:
    """Seconds of audio in ``data`` when the container says (WAV, FLAC, Ogg Opus/Vorbis, CBR
    MP3, ADTS); None otherwise (MP4, WebM: the caller estimates from the size)."""
    kind = sniff(data)
    try:
        if kind == "wav":
            with wave.open(io.BytesIO(data)) as reader:
                return float(reader.getnframes() / reader.getframerate())
        if kind == "flac":
            for block, body in _flac_blocks(data):
                if block == 0 and len(body) >= 18:
                    packed = int.from_bytes(body[10:18], "big")
                    rate, total = packed >> 44, packed & ((1 << 36) - 1)
                    return total / rate if rate else None
            return None
        if kind == "ogg":
            packets = _ogg_packets(data, 1)
            granule = max((g for g, _, _ in _ogg_pages(data)), default=0)
            if packets and packets[0][:8] == b"OpusHead":
                pre_skip: int = struct.unpack("<H", packets[0][10:12])[0]
                return max(granule - pre_skip, 0) / _OPUS_RATE
            if packets and packets[0][:7] == b"\x01vorbis":
                rate = struct.unpack("<I", packets[0][12:16])[0]
                return granule / rate if rate else None
            return None
        if kind == "mp3":
            return _mp3_duration(data[_id3_length(data) :])
        if kind == "aac":
            return _adts_duration(data[_id3_length(data) :])
    except (wave.Error, EOFError, struct.error, IndexError, ZeroDivisionError):
        return None
    return None


_MP3_BITRATES = {
    3: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),  # MPEG-1 Layer III
    2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),  # MPEG-2/2.5 Layer III
}
_MP3_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def _mp3_duration(data: bytes) -> float | None:
    """From the first frame header, as constant bit rate: size * 8 / bit rate."""
    if len(data) < 4 or data[0] != 0xFF or data[1] & 0xE0 != 0xE0:
        return None
    version = (data[1] >> 3) & 3
    table = _MP3_BITRATES[3 if version == 3 else 2]
    bitrate = table[data[2] >> 4] * 1000 if data[2] >> 4 < 15 else 0
    return len(data) * 8 / bitrate if bitrate else None


def _adts_duration(data: bytes) -> float | None:
    rates = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350)
    frames, at, rate = 0, 0, 0
    while at + 7 <= len(data) and data[at] == 0xFF and data[at + 1] & 0xF6 == 0xF0:
        rate = rates[(data[at + 2] >> 2) & 0xF]
        length = ((data[at + 3] & 3) << 11) | (data[at + 4] << 3) | (data[at + 5] >> 5)
        if length < 7:
            break
        frames += (data[at + 6] & 3) + 1
        at += length
    return frames * _AAC_SAMPLES / rate if rate else None
