"""Images (generate, edit, create_variation) through the real SDK, with strict response validation.

Every picture is decoded with the fake's own PNG reader (which checks every chunk's CRC and
inflates the data), so these tests fail on a broken PNG, a wrong size or a blank image.
"""

from __future__ import annotations

import base64
import warnings
import zlib
from contextlib import contextmanager

import httpx2
import openai
import pytest

from pytest_openai_fake import FakeOpenAI
from pytest_openai_fake.determinism import count_tokens
from pytest_openai_fake.resources import _png
from openai.types import ImagesResponse
from tests import sdk_features
from tests.sdk_features import sdk_knows_model, sdk_takes


# What the installed SDK has (openai 2.x lacks some of 3.x's image parameters, reply values and
# models): tests of those skip, found by feature (docs/versions.md).
def sdk_reply_accepts(**fields: object) -> bool:
    return sdk_features.sdk_reply_accepts(ImagesResponse, created=0, **fields)


def needs_models(*models: str) -> pytest.MarkDecorator:
    return pytest.mark.skipif(not sdk_knows_model(*models), reason=f"this openai SDK does not name {', '.join(models)}")


SDK_CUSTOM_SIZES = pytest.mark.skipif(
    not (sdk_knows_model("gpt-image-2") and sdk_reply_accepts(size="1536x864")), reason="this openai SDK has no gpt-image-2 custom sizes"
)


@contextmanager
def sdk_deprecation():
    # openai 3.x deprecates images.create_variation (a DeprecationWarning); 2.x does not.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


SDK_SVG = pytest.mark.skipif(
    not sdk_takes(openai.resources.images.Images.edit, "svg"), reason="this openai SDK has no svg / markup image parameters"
)

AUTH = {"Authorization": "Bearer sk-test"}
PROMPT = "A cute baby sea otter"


def png_of(b64: str | None) -> _png.Png:
    assert b64 is not None
    return _png.decode(base64.b64decode(b64))


def assert_picture(image: _png.Png, width: int, height: int) -> None:
    """A decoded PNG of that size that is a pattern: several distinct colours, not one fill."""
    assert (image.width, image.height) == (width, height)
    assert len(image.rows) == height
    colours = {image.pixel(x, y) for x in range(0, width, max(1, width // 17)) for y in range(0, height, height // 13)}
    assert len(colours) >= 4


def make_png(width: int = 64, height: int = 64, *, alpha: bool = True) -> bytes:
    pixel = b"\x10\x80\xf0\xff" if alpha else b"\x10\x80\xf0"
    return _png.encode(width, height, [pixel * width] * height, alpha=alpha)


RGBA_PNG = make_png()
RGB_PNG = make_png(alpha=False)


# -- the PNG itself ----------------------------------------------------------------------------


def test_decoder_rejects_a_corrupt_png(client):
    b64 = client.images.generate(prompt=PROMPT, response_format="b64_json", size="256x256").data[0].b64_json
    data = bytearray(base64.b64decode(b64))
    assert _png.decode(bytes(data)).width == 256
    data[50] ^= 0xFF  # inside the IDAT data: its CRC no longer matches
    with pytest.raises(_png.PngError, match="bad CRC in b'IDAT'"):
        _png.decode(bytes(data))
    with pytest.raises(_png.PngError, match="signature"):
        _png.decode(b"GIF89a" + bytes(data[6:]))


def test_png_chunks_are_well_formed(client):
    data = base64.b64decode(client.images.generate(prompt=PROMPT, response_format="b64_json").data[0].b64_json)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert data[12:16] == b"IHDR" and data.endswith(b"IEND\xaeB`\x82")
    header = _png.read_header(data)
    assert (header.width, header.height, header.bit_depth, header.mode) == (1024, 1024, 8, "RGB")
    idat = data.index(b"IDAT")
    length = int.from_bytes(data[idat - 4 : idat], "big")
    raw = zlib.decompress(data[idat + 4 : idat + 4 + length])
    assert len(raw) == 1024 * (1 + 1024 * 3)
    assert all(raw[y * (1 + 3072)] == 0 for y in range(1024))  # filter type 0 on every row


# -- generate ------------------------------------------------------------------------------------


def test_default_model_is_dall_e_2_with_a_url_serving_the_png(client, openai_server):
    reply = client.images.generate(prompt=PROMPT)
    assert reply.created == 1_767_225_600
    (image,) = reply.data
    assert image.b64_json is None and image.revised_prompt is None
    assert image.url.startswith(openai_server.url.rstrip("/") + "/__fake/blobs/images/img-")
    assert image.url.endswith(".png")
    assert reply.usage is None and reply.size is None and reply.quality is None  # dall-e reports none of these
    fetched = httpx2.get(image.url)
    assert fetched.status_code == 200
    assert fetched.headers["content-type"] == "image/png"
    assert_picture(_png.decode(fetched.content), 1024, 1024)
    assert openai_server.requests.last.endpoint == "images.generate"
    assert openai_server.requests.last.json == {"prompt": PROMPT}


def test_url_serves_the_same_bytes_as_b64_json(client):
    url = client.images.generate(prompt=PROMPT, model="dall-e-2", size="512x512").data[0].url
    b64 = client.images.generate(prompt=PROMPT, model="dall-e-2", size="512x512", response_format="b64_json")
    assert httpx2.get(url).content == base64.b64decode(b64.data[0].b64_json)


def test_url_blobs_live_until_reset(client, openai_server):
    url = client.images.generate(prompt=PROMPT, size="256x256").data[0].url
    assert httpx2.get(url).status_code == 200
    openai_server.reset()
    gone = httpx2.get(url)
    assert gone.status_code == 404
    assert "until the next reset" in gone.json()["error"]["message"]


@pytest.mark.parametrize(
    ("model", "size", "expected"),
    [
        ("dall-e-2", "256x256", (256, 256)),
        ("dall-e-2", None, (1024, 1024)),
        ("dall-e-3", "1792x1024", (1792, 1024)),
        ("dall-e-3", "1024x1792", (1024, 1792)),
        ("gpt-image-1", "1536x1024", (1536, 1024)),
        pytest.param("gpt-image-1-mini", "1024x1536", (1024, 1536), marks=needs_models("gpt-image-1-mini")),
        ("gpt-image-1", "auto", (1024, 1024)),
        pytest.param(
            "gpt-image-2",
            "1536x864",
            (1536, 864),
            marks=SDK_CUSTOM_SIZES,
        ),
    ],
)
def test_b64_json_is_a_png_of_the_requested_size(client, model, size, expected):
    kwargs = {"size": size} if size else {}
    if model.startswith("dall-e"):
        kwargs["response_format"] = "b64_json"
    reply = client.images.generate(prompt=PROMPT, model=model, **kwargs)
    assert_picture(png_of(reply.data[0].b64_json), *expected)


def test_same_request_same_picture_and_prompts_differ(client):
    def picture(prompt: str, model: str = "gpt-image-1") -> str:
        return client.images.generate(prompt=prompt, model=model, quality="low").data[0].b64_json

    assert picture(PROMPT) == picture(PROMPT)
    assert picture(PROMPT) != picture("A lighthouse at dusk")
    if sdk_knows_model("gpt-image-1-mini"):
        assert picture(PROMPT) != picture(PROMPT, model="gpt-image-1-mini")


def test_n_images_are_all_different(client):
    reply = client.images.generate(prompt=PROMPT, n=3, response_format="b64_json", size="256x256")
    assert len(reply.data) == 3
    assert len({image.b64_json for image in reply.data}) == 3
    for image in reply.data:
        assert_picture(png_of(image.b64_json), 256, 256)


def test_dall_e_3_revises_the_prompt(client):
    reply = client.images.generate(prompt=PROMPT, model="dall-e-3", quality="hd", style="natural")
    revised = reply.data[0].revised_prompt
    assert revised and revised.startswith(PROMPT) and len(revised) > len(PROMPT)
    again = client.images.generate(prompt=PROMPT, model="dall-e-3", quality="hd", style="natural")
    assert again.data[0].revised_prompt == revised
    assert reply.data[0].url and reply.usage is None


def test_gpt_image_reports_settings_and_usage(client):
    reply = client.images.generate(prompt=PROMPT, model="gpt-image-1", size="1536x1024", quality="medium", n=2)
    assert reply.data[0].url is None and reply.data[0].revised_prompt is None
    assert (reply.background, reply.output_format, reply.quality, reply.size) == (
        "opaque",
        "png",
        "medium",
        "1536x1024",
    )
    usage = reply.usage
    assert usage.input_tokens_details.text_tokens == count_tokens(PROMPT) == usage.input_tokens
    assert usage.input_tokens_details.image_tokens == 0
    assert usage.output_tokens == 2 * 1568
    if "output_tokens_details" in type(usage).model_fields:  # openai 2.0's Usage has none
        assert usage.output_tokens_details.image_tokens == usage.output_tokens
    assert usage.total_tokens == usage.input_tokens + usage.output_tokens


@pytest.mark.skipif(not sdk_takes(openai.resources.images.Images.generate, "safety_identifier"), reason="this openai SDK has no safety_identifier for images")
def test_gpt_image_auto_settings_resolve(client):
    reply = client.images.generate(prompt=PROMPT, model="gpt-image-1", safety_identifier="user-42")
    assert (reply.background, reply.quality, reply.size) == ("opaque", "high", "1024x1024")
    assert reply.usage.output_tokens == 4160
    assert reply.safety_identifier == "user-42"


def test_a_gpt_image_parameter_makes_the_default_model_gpt_image_1(client, openai_server):
    reply = client.images.generate(prompt=PROMPT, background="opaque")
    assert reply.data[0].b64_json and reply.usage is not None  # gpt-image-1, not dall-e-2
    assert openai_server.requests.last.json == {"prompt": PROMPT, "background": "opaque"}


def test_transparent_background_is_rgba_with_a_clear_border(client):
    reply = client.images.generate(prompt=PROMPT, model="gpt-image-1", background="transparent", quality="low")
    assert reply.background == "transparent"
    image = png_of(reply.data[0].b64_json)
    assert image.mode == "RGBA"
    assert image.pixel(0, 0)[3] == 0 and image.pixel(1023, 1023)[3] == 0
    assert image.pixel(512, 512)[3] == 255


def test_jpeg_and_webp_are_reported_but_the_bytes_stay_png(client):
    # Known limitation (no image library): the response says what was asked, the bytes are PNG.
    reply = client.images.generate(prompt=PROMPT, model="gpt-image-1", output_format="jpeg", output_compression=50)
    assert reply.output_format == "jpeg"
    assert_picture(png_of(reply.data[0].b64_json), 1024, 1024)


@pytest.mark.skipif(not sdk_reply_accepts(output_format="svg"), reason="this openai SDK's ImagesResponse has no svg output_format")
def test_svg_output_is_a_real_svg(client):
    reply = client.images.generate(prompt=PROMPT, model="gpt-image-2.5-flare", output_format="svg", size="1536x1024")
    svg = base64.b64decode(reply.data[0].b64_json).decode()
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg" width="1536" height="1024"')
    assert svg.count("<rect") >= 9 and svg.endswith("</svg>")
    assert reply.output_format == "svg"


async def test_async_generate(async_client, client):
    reply = await async_client.images.generate(prompt=PROMPT, model="gpt-image-1", quality="low")
    assert_picture(png_of(reply.data[0].b64_json), 1024, 1024)
    sync = client.images.generate(prompt=PROMPT, model="gpt-image-1", quality="low")
    assert sync.data[0].b64_json == reply.data[0].b64_json


# -- streaming -----------------------------------------------------------------------------------


def test_stream_sends_partial_images_then_the_final_one(client):
    events = list(client.images.generate(prompt=PROMPT, model="gpt-image-1", stream=True, partial_images=2))
    assert [e.type for e in events] == [
        "image_generation.partial_image",
        "image_generation.partial_image",
        "image_generation.completed",
    ]
    assert [e.partial_image_index for e in events[:2]] == [0, 1]
    pictures = [png_of(e.b64_json) for e in events]
    for picture in pictures:
        assert (picture.width, picture.height) == (1024, 1024)
    assert len({e.b64_json for e in events}) == 3  # each partial shows more of the picture
    final = events[-1]
    assert (final.size, final.quality, final.output_format, final.background) == ("1024x1024", "high", "png", "opaque")
    assert final.usage.output_tokens == 4160
    plain = client.images.generate(prompt=PROMPT, model="gpt-image-1")
    assert final.b64_json == plain.data[0].b64_json


async def test_async_stream_without_partials(async_client):
    stream = await async_client.images.generate(prompt=PROMPT, stream=True)  # stream implies gpt-image-1
    events = [event async for event in stream]
    assert [e.type for e in events] == ["image_generation.completed"]
    assert_picture(png_of(events[0].b64_json), 1024, 1024)


def test_edit_stream(client):
    stream = client.images.edit(
        image=("in.png", RGB_PNG, "image/png"), prompt="add a hat", model="gpt-image-1", stream=True, partial_images=1
    )
    events = list(stream)
    assert [e.type for e in events] == ["image_edit.partial_image", "image_edit.completed"]
    assert events[1].usage.input_tokens_details.image_tokens > 0


# -- generate errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "param", "message"),
    [
        ({"model": "dall-e-2", "size": "1792x1024"}, "size", "'1792x1024' is not one of"),
        ({"model": "dall-e-3", "size": "256x256"}, "size", "The size is not supported by this model."),
        ({"model": "gpt-image-1", "size": "512x512"}, "size", "Supported values are: '1024x1024', '1536x1024'"),
        pytest.param({"model": "gpt-image-2", "size": "1000x1000"}, "size", "multiples of 16", marks=SDK_CUSTOM_SIZES),
        pytest.param({"model": "gpt-image-2", "size": "3840x960"}, "size", "aspect ratio", marks=SDK_CUSTOM_SIZES),
        ({"model": "dall-e-2", "n": 11}, "n", "Expected a value <= 10, but got 11"),
        ({"model": "dall-e-2", "n": 0}, "n", "Expected a value >= 1, but got 0"),
        ({"model": "dall-e-3", "n": 2}, "n", "Expected a value <= 1, but got 2"),
        (
            {"model": "gpt-image-1", "response_format": "url"},
            "response_format",
            "Unknown parameter: 'response_format'.",
        ),
        ({"model": "gpt-image-1", "style": "vivid"}, "style", "Unknown parameter: 'style'."),
        ({"model": "dall-e-3", "background": "opaque"}, "background", "Unknown parameter: 'background'."),
        ({"model": "gpt-image-1", "quality": "hd"}, "quality", "Invalid value: 'hd'."),
        ({"model": "gpt-image-1", "output_format": "gif"}, "output_format", "Invalid value: 'gif'."),
        ({"model": "gpt-image-1", "output_compression": 50}, "output_compression", "not supported for PNG"),
        ({"model": "gpt-image-1", "output_compression": 101}, "output_compression", "<= 100"),
        ({"model": "gpt-image-1", "partial_images": 4}, "partial_images", "<= 3"),
        ({"model": "gpt-4o"}, "model", "Invalid value: 'gpt-4o'."),
        (
            {"model": "dall-e-2", "prompt": "x" * 1001},
            "prompt",
            "maximum length 1000, but got a string with length 1001",
        ),
        ({"model": "dall-e-3", "quality": "low"}, "quality", "Supported values are: 'standard', 'hd', and 'auto'."),
        ({"size": 1024}, "size", "Invalid type for 'size'"),
    ],
)
def test_generate_errors_name_the_param(client, kwargs, param, message):
    kwargs = {"prompt": PROMPT, **kwargs}
    with pytest.raises(openai.BadRequestError) as caught:
        client.images.generate(**kwargs)
    assert caught.value.status_code == 400
    assert caught.value.param == param
    assert message in caught.value.message


@pytest.mark.openai_fake(models=["gpt-image-1"])
def test_a_model_outside_the_catalog_is_404(client):
    with pytest.raises(openai.NotFoundError) as caught:
        client.images.generate(prompt=PROMPT)  # dall-e-2, the default, is not in this test's catalog
    assert caught.value.code == "model_not_found"


def test_missing_prompt_over_raw_http(openai_server):
    response = httpx2.post(openai_server.base_url + "/images/generations", json={"model": "dall-e-2"}, headers=AUTH)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "prompt"
    assert response.json()["error"]["code"] == "missing_required_parameter"


# -- edits ---------------------------------------------------------------------------------------


def test_edit_dall_e_2_with_a_transparent_png(client, openai_server):
    reply = client.images.edit(image=("otter.png", RGBA_PNG, "image/png"), prompt="add a beret", size="512x512")
    assert_picture(_png.decode(httpx2.get(reply.data[0].url).content), 512, 512)
    request = openai_server.requests.last
    assert request.endpoint == "images.edit"
    assert request.headers["content-type"].startswith("multipart/form-data")


def test_edit_is_deterministic_in_image_and_prompt(client):
    def edit(image: bytes, prompt: str) -> str:
        return (
            client.images.edit(image=("a.png", image, "image/png"), prompt=prompt, model="gpt-image-1").data[0].b64_json
        )

    assert edit(RGB_PNG, "hat") == edit(RGB_PNG, "hat")
    assert edit(RGB_PNG, "hat") != edit(RGB_PNG, "scarf")
    assert edit(RGB_PNG, "hat") != edit(make_png(32, 32, alpha=False), "hat")


def test_edit_dall_e_2_needs_alpha_unless_a_mask_is_given(client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.images.edit(image=("rgb.png", RGB_PNG, "image/png"), prompt="add a beret")
    assert caught.value.param == "image"
    assert caught.value.body["message"] == "Invalid input image - format must be in ['RGBA', 'LA', 'L'], got RGB."
    reply = client.images.edit(
        image=("rgb.png", RGB_PNG, "image/png"), mask=("mask.png", RGBA_PNG, "image/png"), prompt="add a beret"
    )
    assert reply.data[0].url


def test_edit_gpt_image_with_several_images_and_auto_size(client):
    wide = make_png(96, 64, alpha=False)
    reply = client.images.edit(
        image=[("a.png", wide, "image/png"), ("b.png", RGBA_PNG, "image/png")],
        prompt="combine them",
        model="gpt-image-1",
        input_fidelity="high",
        quality="low",
    )
    assert reply.size == "1536x1024"  # auto follows the first image's shape
    assert_picture(png_of(reply.data[0].b64_json), 1536, 1024)
    details = reply.usage.input_tokens_details
    assert details.image_tokens == 2 * (85 + 170)  # small images: one 512px tile each
    assert details.text_tokens == count_tokens("combine them")


def test_edit_accepts_jpeg_for_gpt_image(client):
    jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
    reply = client.images.edit(image=("photo.jpg", jpeg, "image/jpeg"), prompt="brighter", model="gpt-image-1")
    assert reply.size == "1024x1024"


@SDK_SVG
def test_edit_svg_options_arrive_nested(client, openai_server):
    # svg[model] and svg[reasoning][effort] are read back as {"svg": {"model", "reasoning": {"effort"}}}:
    # a flat "svg[model]" key would be an unknown parameter.
    reply = client.images.edit(
        image=("a.png", RGB_PNG, "image/png"),
        prompt="trace it",
        model="gpt-image-2.5-sunburst",
        output_format="svg",
        svg={"model": "author-1", "reasoning": {"effort": "low"}},
    )
    assert base64.b64decode(reply.data[0].b64_json).startswith(b"<svg")
    assert b'name="svg[reasoning][effort]"' in openai_server.requests.last.body


@pytest.mark.parametrize(
    ("kwargs", "param", "message"),
    [
        (
            {"image": b"raw bytes"},
            "image",
            "unsupported mimetype ('application/octet-stream'). Supported file formats are 'image/png'.",
        ),
        ({"image": ("a.png", b"not a png", "image/png")}, "image", "Uploaded image must be a PNG and less than 4 MB."),
        ({"image": ("a.jpg", b"\xff\xd8\xff", "image/jpeg")}, "image", "Supported file formats are 'image/png'."),
        (
            {"image": b"raw bytes", "model": "gpt-image-1"},
            "image",
            "Supported file formats are 'image/jpeg', 'image/png', and 'image/webp'.",
        ),
        (
            {"image": [("a.png", RGB_PNG, "image/png"), ("b.png", b"nope", "image/png")], "model": "gpt-image-1"},
            "image[1]",
            "Invalid image file or mode for image 2, please check your image file.",
        ),
        (
            {"image": [("a.png", RGBA_PNG, "image/png")] * 2},
            "image",
            "Expected an array with maximum length 1, but got an array with length 2",
        ),
        ({"mask": b"raw mask"}, "mask", "Invalid file 'mask': unsupported mimetype"),
        ({"model": "dall-e-3"}, "model", "Invalid value: 'dall-e-3'. Supported values are: "),
        ({"model": "gpt-image-1", "size": "1792x1024"}, "size", "Invalid value: '1792x1024'."),
        ({"model": "gpt-image-1", "response_format": "b64_json"}, "response_format", "Unknown parameter"),
        pytest.param({"model": "gpt-image-2", "input_fidelity": "high"}, "input_fidelity", "Unknown parameter", marks=needs_models("gpt-image-2")),
        pytest.param(
            {"model": "gpt-image-1-mini", "input_fidelity": "high"}, "input_fidelity", "Supported values are: 'low'.", marks=needs_models("gpt-image-1-mini")
        ),
        pytest.param({"model": "gpt-image-1", "markup": ("m.png", RGBA_PNG, "image/png")}, "markup", "Unknown parameter", marks=SDK_SVG),
    ],
)
def test_edit_errors_name_the_param(client, kwargs, param, message):
    kwargs = {"image": ("a.png", RGBA_PNG, "image/png"), "prompt": "edit", **kwargs}
    with pytest.raises(openai.BadRequestError) as caught:
        client.images.edit(**kwargs)
    assert caught.value.param == param
    assert message in caught.value.message


def post_form(fake: FakeOpenAI, path: str, data: dict, files: list | None = None) -> httpx2.Response:
    return httpx2.post(
        fake.base_url + path, data=data, files=files or [("image", ("a.png", RGBA_PNG, "image/png"))], headers=AUTH
    )


def test_edit_multipart_fields_over_raw_http(openai_server):
    # Multipart sends numbers as text: "2" is read as the integer 2, "two" is a type error.
    ok = post_form(openai_server, "/images/edits", {"prompt": "x", "n": "2", "response_format": "b64_json"})
    assert ok.status_code == 200 and len(ok.json()["data"]) == 2
    bad = post_form(openai_server, "/images/edits", {"prompt": "x", "n": "two"})
    assert bad.status_code == 400
    assert bad.json()["error"] == {
        "message": "Invalid type for 'n': expected one of an integer or null, but got a string instead.",
        "type": "invalid_request_error",
        "param": "n",
        "code": "invalid_type",
    }


def test_edit_without_image_or_with_image_as_text(openai_server):
    missing = post_form(
        openai_server, "/images/edits", {"prompt": "x"}, files=[("mask", ("m.png", RGBA_PNG, "image/png"))]
    )
    assert missing.json()["error"]["message"] == "Missing required parameter: 'image'."
    as_text = post_form(
        openai_server,
        "/images/edits",
        {"prompt": "x", "image": "cat.png"},
        files=[("mask", ("m.png", RGBA_PNG, "image/png"))],
    )
    assert as_text.json()["error"]["message"] == (
        "Invalid type for 'image': expected one of an array of files or file, but got a string instead."
    )


def test_edit_as_json_is_rejected(openai_server):
    response = httpx2.post(openai_server.base_url + "/images/edits", json={"prompt": "x", "image": "a"}, headers=AUTH)
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith(
        "Invalid Content-Type header (application/json), expected multipart/form-data."
    )


async def test_async_edit(async_client):
    reply = await async_client.images.edit(
        image=("a.png", RGBA_PNG, "image/png"), prompt="add a beret", response_format="b64_json", size="256x256"
    )
    assert_picture(png_of(reply.data[0].b64_json), 256, 256)


# -- variations ----------------------------------------------------------------------------------


def test_variations_of_an_rgb_png(client):
    with sdk_deprecation():
        reply = client.images.create_variation(
            image=("a.png", RGB_PNG, "image/png"), n=2, response_format="b64_json", size="256x256"
        )
    assert len(reply.data) == 2 and reply.data[0].b64_json != reply.data[1].b64_json
    for image in reply.data:
        assert_picture(png_of(image.b64_json), 256, 256)


@pytest.mark.parametrize(
    ("kwargs", "param", "message"),
    [
        ({"image": b"raw"}, "image", "unsupported mimetype ('application/octet-stream')"),
        ({"image": ("a.png", b"GIF89a...", "image/png")}, "image", "Uploaded image must be a PNG and less than 4 MB."),
        ({"model": "dall-e-3"}, "model", "Invalid value: 'dall-e-3'. Supported values are: 'dall-e-2'."),
        ({"size": "1792x1024"}, "size", "Invalid value: '1792x1024'."),
        ({"n": 11}, "n", "Expected a value <= 10"),
    ],
)
def test_variation_errors_name_the_param(client, kwargs, param, message):
    kwargs = {"image": ("a.png", RGB_PNG, "image/png"), **kwargs}
    with sdk_deprecation(), pytest.raises(openai.BadRequestError) as caught:
        client.images.create_variation(**kwargs)
    assert caught.value.param == param
    assert message in caught.value.message


async def test_async_variation(async_client):
    with sdk_deprecation():
        reply = await async_client.images.create_variation(image=("a.png", RGBA_PNG, "image/png"))
    assert httpx2.get(reply.data[0].url).status_code == 200


@pytest.mark.parametrize(
    ("data", "files", "message"),
    [
        ({"foo": "1"}, None, "Unrecognized request argument supplied: foo"),
        ({}, [("image[]", ("a.png", RGBA_PNG, "image/png"))], "Invalid type for 'image': expected a file"),
        ({"n": "-1"}, None, "Invalid 'n': integer below minimum value. Expected a value >= 1, but got -1 instead."),
    ],
)
def test_variation_multipart_errors_over_raw_http(openai_server, data, files, message):
    response = post_form(openai_server, "/images/variations", data, files)
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith(message)


def test_variation_as_json_is_rejected(openai_server):
    response = httpx2.post(openai_server.base_url + "/images/variations", json={"image": "a.png"}, headers=AUTH)
    assert response.status_code == 400
    assert "expected multipart/form-data" in response.json()["error"]["message"]


# -- dall-e-2: square images, masks of the image's size ------------------------------------------


def not_square(width: int, height: int) -> str:
    # dall-e-2's text, as two public projects quote it (see images.NOT_SQUARE)
    return f"Invalid input image - expected an image with equal width and height, got {width}x{height} instead."


@pytest.mark.parametrize(("width", "height"), [(96, 64), (64, 65)])
def test_edit_dall_e_2_needs_a_square_image(client, width, height):
    with pytest.raises(openai.BadRequestError) as caught:
        client.images.edit(image=("wide.png", make_png(width, height), "image/png"), prompt="add a beret")
    assert caught.value.body == {
        "message": not_square(width, height), "type": "invalid_request_error", "param": "image", "code": None
    }  # fmt: skip


def test_edit_dall_e_2_needs_a_mask_of_the_image_size(client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.images.edit(
            image=("a.png", RGB_PNG, "image/png"), mask=("m.png", make_png(32, 32), "image/png"), prompt="add a beret"
        )
    assert caught.value.status_code == 400
    assert caught.value.param == "mask"
    assert "64x64" in caught.value.message and "32x32" in caught.value.message
    with pytest.raises(openai.BadRequestError) as caught:  # a square image and a mask of another shape
        client.images.edit(
            image=("a.png", RGBA_PNG, "image/png"), mask=("m.png", make_png(64, 32), "image/png"), prompt="add a beret"
        )
    assert caught.value.param == "mask"


async def test_async_edit_dall_e_2_rejects_a_non_square_image(async_client):
    with pytest.raises(openai.BadRequestError) as caught:
        await async_client.images.edit(image=("tall.png", make_png(64, 96), "image/png"), prompt="add a beret")
    assert caught.value.body["message"] == not_square(64, 96)


def test_gpt_image_edits_take_any_shape(client):
    reply = client.images.edit(
        image=("wide.png", make_png(96, 64), "image/png"), prompt="add a beret", model="gpt-image-1"
    )
    assert reply.data[0].b64_json


def test_variation_dall_e_2_needs_a_square_image(client):
    with sdk_deprecation(), pytest.raises(openai.BadRequestError) as caught:
        client.images.create_variation(image=("wide.png", make_png(96, 64, alpha=False), "image/png"))
    assert caught.value.body == {
        "message": not_square(96, 64), "type": "invalid_request_error", "param": "image", "code": None
    }  # fmt: skip


async def test_async_variation_dall_e_2_needs_a_square_image(async_client):
    with sdk_deprecation(), pytest.raises(openai.BadRequestError) as caught:
        await async_client.images.create_variation(image=("tall.png", make_png(64, 96), "image/png"))
    assert caught.value.body["message"] == not_square(64, 96)
    assert caught.value.param == "image"
