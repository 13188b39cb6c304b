"""Images: code that saves generated pictures, checked without an image library.

The fake answers with real PNGs of the requested size, drawn from a hash of the prompt, and its
``url`` replies point at the fake itself, so code that downloads them works unchanged.
"""

import base64
import struct
import urllib.request
from pathlib import Path

import openai
import pytest


def save_thumbnail(client: openai.OpenAI, prompt: str, path: Path) -> Path:
    """The code under test: generate a picture and write it to disk."""
    reply = client.images.generate(model="gpt-image-1", prompt=prompt, size="1536x1024", quality="low")
    path.write_bytes(base64.b64decode(reply.data[0].b64_json))
    return path


def download_logo(client: openai.OpenAI, prompt: str, path: Path) -> Path:
    """Also code under test: dall-e-2 answers with a URL by default."""
    reply = client.images.generate(model="dall-e-2", prompt=prompt, size="256x256")
    with urllib.request.urlopen(reply.data[0].url) as response:
        path.write_bytes(response.read())
    return path


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_thumbnail_is_a_png_of_the_right_size(openai_client, openai_server, tmp_path):
    path = save_thumbnail(openai_client, "a lighthouse at dusk", tmp_path / "thumb.png")

    assert png_size(path.read_bytes()) == (1536, 1024)
    assert openai_server.requests.last.json["prompt"] == "a lighthouse at dusk"
    # Same prompt, same picture: snapshot-friendly.
    again = save_thumbnail(openai_client, "a lighthouse at dusk", tmp_path / "again.png")
    assert again.read_bytes() == path.read_bytes()


def test_url_replies_can_be_downloaded(openai_client, tmp_path):
    path = download_logo(openai_client, "a minimal fox logo", tmp_path / "logo.png")
    assert png_size(path.read_bytes()) == (256, 256)


def test_bad_size_is_the_real_400(openai_client):
    with pytest.raises(openai.BadRequestError) as caught:
        openai_client.images.generate(model="dall-e-3", prompt="a fox", size="512x512")
    assert caught.value.param == "size"
