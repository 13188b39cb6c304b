"""Images: ``POST /v1/images/generations``, ``/edits``, ``/variations``.

Every image is a real PNG of the requested size, drawn from a hash of the request: a grid of
coloured cells with a vertical shade, so different prompts give different pictures and the
same request always gives the same bytes. ``url`` replies point at the fake itself
(``/__fake/blobs/images/img-....png``, served until the next reset).

What a model accepts is data: ``FAMILIES`` maps model-id prefixes to a ``Family`` (sizes, ``n``,
qualities, styles, whether it is a GPT image model, what uploads it reads). The handlers only
read those fields. dall-e-2 reads only square PNGs under 4 MB (edits and variations), and an
edit's mask must be the size of the image; both are 400s naming ``image`` / ``mask``.

Known limits, kept honest in the docs: ``output_format`` ``jpeg`` and ``webp`` still return
PNG bytes (the response reports the format asked for); ``svg`` returns a real SVG of the same
cells; ``gif`` is not generated (400).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from openai.types.image_create_variation_params import ImageCreateVariationParams
from openai.types.image_edit_params import ImageEditParamsNonStreaming, ImageEditParamsStreaming
from openai.types.image_generate_params import ImageGenerateParamsNonStreaming, ImageGenerateParamsStreaming
from openai.types.image_model import ImageModel
from openai.types.images_response import ImagesResponse
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response

from .. import errors
from ..determinism import count_tokens, digest, generate_text
from ..routing import Ctx, Resource
from ..state import Blob
from ..streaming import event, sse_response
from . import _png

images = Resource("images")


@dataclass(frozen=True)
class Family:
    """What one family of image models accepts and reports."""

    name: str
    #: Sizes accepted as given ("auto" included where the family resolves it).
    sizes: tuple[str, ...]
    default_size: str
    #: The real API's message for a size outside ``sizes`` ({size}; {choices}: a Python list,
    #: {listing}: 'a', 'b', and 'c'), and its code.
    size_error: str
    size_code: str | None
    max_n: int
    qualities: tuple[str, ...]
    #: What an omitted or ``auto`` quality is reported as.
    default_quality: str
    max_prompt: int
    #: ``response_format`` (url / b64_json) is accepted; the default is ``url``.
    response_format: bool = False
    styles: tuple[str, ...] = ()
    revises_prompt: bool = False
    #: A GPT image model: always b64_json; reports background/output_format/quality/size/usage;
    #: accepts the GPT image parameters (background, moderation, output_*, stream ...).
    gpt: bool = False
    #: ``WIDTHxHEIGHT`` sizes beyond ``sizes`` (multiples of 16, ratio <= 3:1, pixel limits).
    custom_sizes: bool = False
    output_formats: tuple[str, ...] = ()
    input_fidelity: tuple[str, ...] = ()
    markup: bool = False
    edits: bool = False
    #: Without a mask, the image to edit must have an alpha channel (its transparent areas are the mask).
    edit_needs_alpha: bool = False
    #: Images to edit or vary must be square, and a mask the same size as the image.
    square_uploads: bool = False
    variations: bool = False
    #: Upload Content-Types accepted by edits / variations.
    upload_types: tuple[str, ...] = ()
    #: Images one edit takes.
    max_images: int = 1


_GPT_SIZES = ("1024x1024", "1536x1024", "1024x1536", "auto")
_GPT_QUALITIES = ("low", "medium", "high", "auto")

DALL_E_2 = Family(
    name="dall-e-2",
    sizes=("256x256", "512x512", "1024x1024"),
    default_size="1024x1024",
    size_error="'{size}' is not one of {choices} - 'size'",
    size_code=None,
    max_n=10,
    qualities=("standard", "auto"),
    default_quality="standard",
    max_prompt=1000,
    response_format=True,
    edits=True,
    edit_needs_alpha=True,
    square_uploads=True,
    variations=True,
    upload_types=("image/png",),
)
DALL_E_3 = Family(
    name="dall-e-3",
    sizes=("1024x1024", "1792x1024", "1024x1792"),
    default_size="1024x1024",
    size_error="The size is not supported by this model.",
    size_code="invalid_size",
    max_n=1,
    qualities=("standard", "hd", "auto"),
    default_quality="standard",
    max_prompt=4000,
    response_format=True,
    styles=("vivid", "natural"),
    revises_prompt=True,
)
GPT_IMAGE = Family(
    name="gpt-image",
    sizes=_GPT_SIZES,
    default_size="auto",
    size_error="Invalid value: '{size}'. Supported values are: {listing}.",
    size_code="invalid_value",
    max_n=10,
    qualities=_GPT_QUALITIES,
    default_quality="high",
    max_prompt=32000,
    gpt=True,
    output_formats=("png", "jpeg", "webp"),
    input_fidelity=("high", "low"),
    edits=True,
    upload_types=("image/jpeg", "image/png", "image/webp"),
    max_images=16,
)
#: gpt-image-2 and its snapshot: any WIDTHxHEIGHT within limits; no input_fidelity.
GPT_IMAGE_2 = replace(GPT_IMAGE, name="gpt-image-2", custom_sizes=True, input_fidelity=())
#: gpt-image-2.5-sunburst / -flare and snapshots: also xhigh / max quality, SVG output, markup.
GPT_IMAGE_2_5 = replace(
    GPT_IMAGE_2,
    name="gpt-image-2.5",
    qualities=(*_GPT_QUALITIES, "xhigh", "max"),
    output_formats=("png", "jpeg", "webp", "svg"),
    markup=True,
)

#: Model-id prefix -> family; the longest matching prefix wins.
FAMILIES: dict[str, Family] = {
    "dall-e-2": DALL_E_2,
    "dall-e-3": DALL_E_3,
    "gpt-image-": GPT_IMAGE,
    "gpt-image-1-mini": replace(GPT_IMAGE, name="gpt-image-1-mini", input_fidelity=("low",)),
    "gpt-image-2": GPT_IMAGE_2,
    "gpt-image-2.5-": GPT_IMAGE_2_5,
    "gpt-image-2.6-": replace(GPT_IMAGE, name="gpt-image-2.6"),
    "chatgpt-image-": replace(GPT_IMAGE, name="chatgpt-image"),
}

#: When ``model`` is omitted: dall-e-2, unless a parameter only GPT image models take is used.
DEFAULT_MODEL = "dall-e-2"
DEFAULT_GPT_MODEL = "gpt-image-1"
#: Parameters only GPT image models accept.
GPT_PARAMS = (
    "background",
    "complexity",
    "frame_count",
    "frame_duration_ms",
    "input_fidelity",
    "markup",
    "moderation",
    "output_compression",
    "output_format",
    "partial_images",
    "stream",
    "svg",
)
#: Custom sizes (GPT image 2 family): edges multiples of 16, long:short <= 3, within these limits.
MAX_EDGE = 3840
MIN_PIXELS = 655_360
MAX_PIXELS = 3840 * 2160
#: Output tokens for one image at 1024x1024 / 1024x1536 / 1536x1024 (other sizes scale by area).
OUTPUT_TOKENS: dict[str, dict[str, int]] = {
    "low": {"1024x1024": 272, "1024x1536": 408, "1536x1024": 400},
    "medium": {"1024x1024": 1056, "1024x1536": 1584, "1536x1024": 1568},
    "high": {"1024x1024": 4160, "1024x1536": 6240, "1536x1024": 6208},
    "xhigh": {"1024x1024": 6240, "1024x1536": 9360, "1536x1024": 9312},
    "max": {"1024x1024": 8320, "1024x1536": 12480, "1536x1024": 12416},
}
#: dall-e-2 uploads: "a valid PNG file, less than 4MB".
DALL_E_2_MAX_UPLOAD = 4 * 1024 * 1024
#: Input image tokens: GPT-4o vision's tile rule (base + per 512px tile after scaling).
IMAGE_BASE_TOKENS = 85
IMAGE_TILE_TOKENS = 170

NOT_PNG = "Uploaded image must be a PNG and less than 4 MB."
BAD_IMAGE = "Invalid image file or mode for image {index}, please check your image file."
NEEDS_ALPHA = "Invalid input image - format must be in ['RGBA', 'LA', 'L'], got {mode}."
# dall-e-2's 400 for a non-square image, quoted by two public projects that match on it (a
# Laravel admin's seeded list of OpenAI errors, "got ***x*** instead.", and a C# QQ bot calling
# /images/variations); neither shows param or code: the fake names the upload and sends no code.
NOT_SQUARE = "Invalid input image - expected an image with equal width and height, got {width}x{height} instead."
# Unverified: no public report of the real text for a mask of another size than the image was
# found (the API reference: "Must be a valid PNG file, less than 4MB, and have the same
# dimensions as image."). Worded like NOT_SQUARE.
MASK_SIZE = (
    "Invalid mask image - expected a mask with the same width and height as the image "
    "({width}x{height}), got {mask_width}x{mask_height} instead."
)
NOT_MULTIPART = (
    "Invalid Content-Type header ({content_type}), expected multipart/form-data. "
    "(HINT: If you're using curl, you can pass -H 'Content-Type: multipart/form-data')"
)


def family_of(model: str) -> Family | None:
    """The family of ``model`` by its longest matching prefix, or None for a non-image model."""
    best = max((prefix for prefix in FAMILIES if model.startswith(prefix)), key=len, default=None)
    return FAMILIES[best] if best is not None else None


# -- handlers --------------------------------------------------------------------------------


@images.route("POST", "/images/generations", endpoint="images.generate", streams=True, response=ImagesResponse)
def generate_images(ctx: Ctx) -> dict[str, Any] | Response:
    body = ctx.json()
    ctx.validate(body, ImageGenerateParamsStreaming if body.get("stream") is True else ImageGenerateParamsNonStreaming)
    model, family = _model(ctx, body, supports=lambda family: True)
    plan = _plan(body, family, auto_size=(1024, 1024))
    prompt = body["prompt"]
    seeds = [digest("images.generate", model, prompt, plan.style, index) for index in range(plan.n)]
    usage = _usage(plan, count_tokens(prompt), 0)
    revised = [_revised_prompt(prompt, seed) if family.revises_prompt else None for seed in seeds]
    return _reply(ctx, family, plan, seeds, usage, revised, events="image_generation")


@images.route("POST", "/images/edits", endpoint="images.edit", streams=True, response=ImagesResponse)
def edit_images(ctx: Ctx) -> dict[str, Any] | Response:
    body = _multipart(ctx, ImageEditParamsNonStreaming, lists=("image",), singles=("mask", "markup"))
    ctx.validate(body, ImageEditParamsStreaming if body.get("stream") is True else ImageEditParamsNonStreaming)
    model, family = _model(ctx, body, supports=lambda family: family.edits)
    listed = isinstance(body["image"], list)
    uploads: list[FileStorage] = body["image"] if listed else [body["image"]]
    errors.check_length("image", uploads, maximum=family.max_images)
    # The IHDR of each upload that is a PNG (None for JPEG and WebP).
    pngs = [_check_upload(family, upload, f"image[{i}]" if listed else "image", i) for i, upload in enumerate(uploads)]
    first = pngs[0]
    if family.square_uploads:
        _check_square(first, "image")
    mask, markup = body.get("mask"), body.get("markup")
    if mask is not None:
        mask_png = _check_mask(mask, "mask")
        if family.square_uploads:
            _check_mask_size(mask_png, first)
    if markup is not None:
        if mask is not None:
            raise errors.bad_request("Invalid 'markup': cannot be combined with 'mask'.", param="markup")
        _check_mask(markup, "markup")
    if family.edit_needs_alpha and mask is None and first is not None and first.mode not in ("RGBA", "LA", "L"):
        raise errors.bad_request(NEEDS_ALPHA.format(mode=first.mode), param="image", code="invalid_image_format")
    plan = _plan(body, family, auto_size=_auto_size(first))
    prompt = body["prompt"]
    inputs = [_bytes_digest(upload) for upload in uploads]
    extra = [_bytes_digest(f) for f in (mask, markup) if f is not None]
    seeds = [digest("images.edit", model, prompt, inputs, extra, index) for index in range(plan.n)]
    usage = _usage(plan, count_tokens(prompt), sum(_image_tokens(png) for png in pngs))
    return _reply(ctx, family, plan, seeds, usage, [None] * plan.n, events="image_edit")


@images.route("POST", "/images/variations", endpoint="images.create_variation", response=ImagesResponse)
def create_image_variation(ctx: Ctx) -> dict[str, Any]:
    body = _multipart(ctx, ImageCreateVariationParams, lists=(), singles=("image",))
    ctx.validate(body, ImageCreateVariationParams)
    model, family = _model(ctx, body, supports=lambda family: family.variations)
    upload = body["image"]
    header = _check_upload(family, upload, "image", 0)
    if family.square_uploads:
        _check_square(header, "image")
    plan = _plan(body, family, auto_size=(1024, 1024))
    source = _bytes_digest(upload)
    seeds = [digest("images.create_variation", model, source, index) for index in range(plan.n)]
    reply = _reply(ctx, family, plan, seeds, None, [None] * plan.n, events="")
    assert isinstance(reply, dict)  # variations never stream
    return reply


# -- model and parameters --------------------------------------------------------------------


def _model(ctx: Ctx, body: dict[str, Any], *, supports: Callable[[Family], bool]) -> tuple[str, Family]:
    """The model (the documented default when omitted), checked against the catalog and ``supports``."""
    model = body.get("model")
    if model is None:
        uses_gpt = any(body.get(key) is not None and body.get(key) is not False for key in GPT_PARAMS)
        model = DEFAULT_GPT_MODEL if uses_gpt else DEFAULT_MODEL
    ctx.require_model(model)
    family = family_of(model)
    if family is None or not supports(family):
        able = [m for m in _sdk_image_models() if (f := family_of(m)) is not None and supports(f)]
        raise errors.invalid_value("model", _supported(model, able))
    return model, family


@functools.lru_cache(maxsize=1)
def _sdk_image_models() -> tuple[str, ...]:
    return tuple(a for a in typing.get_args(ImageModel) if isinstance(a, str))


@dataclass(frozen=True)
class _Plan:
    n: int
    width: int
    height: int
    quality: str
    style: str | None
    response_format: str
    background: str
    output_format: str
    stream: bool
    partial_images: int
    safety_identifier: str | None

    @property
    def size(self) -> str:
        return f"{self.width}x{self.height}"


def _plan(body: dict[str, Any], family: Family, *, auto_size: tuple[int, int]) -> _Plan:
    """Check ``body`` against what ``family`` accepts and resolve every default."""
    _check_supported(body, family)
    _check_prompt(body.get("prompt"), family)
    n = 1 if body.get("n") is None else body["n"]
    errors.check_range("n", n, minimum=1, maximum=family.max_n)
    width, height = _size(body.get("size"), family, auto_size)
    quality = body.get("quality") or "auto"
    _one_of("quality", quality, family.qualities)
    style = body.get("style")
    if family.styles:
        style = style or family.styles[0]
        _one_of("style", style, family.styles)
    if body.get("input_fidelity") is not None:
        _one_of("input_fidelity", body["input_fidelity"], family.input_fidelity)
    output_format = body.get("output_format") or "png"
    if family.gpt:
        _one_of("output_format", output_format, family.output_formats)
    _check_output(body, output_format, n)
    safety = body.get("safety_identifier") or body.get("user") or None
    return _Plan(
        n=n,
        width=width,
        height=height,
        quality=family.default_quality if quality == "auto" else quality,
        style=style,
        response_format=body.get("response_format") or ("url" if family.response_format else "b64_json"),
        background="transparent" if body.get("background") == "transparent" else "opaque",
        output_format=output_format,
        stream=body.get("stream") is True,
        partial_images=body.get("partial_images") or 0,
        safety_identifier=safety if family.gpt else None,
    )


def _check_supported(body: dict[str, Any], family: Family) -> None:
    """The real API's 400 for a parameter this family does not take (``response_format`` on GPT image)."""
    for key, value in body.items():
        if value is None or (key == "stream" and value is False):
            continue
        unsupported = (
            (key in GPT_PARAMS and not family.gpt)
            or (key == "response_format" and not family.response_format)
            or (key == "style" and not family.styles)
            or (key == "input_fidelity" and not family.input_fidelity)
            or (key == "markup" and not family.markup)
        )
        if unsupported:
            raise errors.bad_request(f"Unknown parameter: '{key}'.", param=key, code="unknown_parameter")


def _check_prompt(prompt: Any, family: Family) -> None:
    if not isinstance(prompt, str):
        return
    if not prompt:
        raise errors.bad_request(
            "Invalid 'prompt': empty string. Expected a string with minimum length 1, but got an empty string instead.",
            param="prompt",
            code="empty_string",
        )
    if len(prompt) > family.max_prompt:
        raise errors.bad_request(
            f"Invalid 'prompt': string too long. Expected a string with maximum length {family.max_prompt}, "
            f"but got a string with length {len(prompt)} instead.",
            param="prompt",
            code="string_above_max_length",
        )


def _check_output(body: dict[str, Any], output_format: str, n: int) -> None:
    """How the GPT image output options combine: compression, transparency, GIF and SVG rules."""
    compression = body.get("output_compression")
    errors.check_range("output_compression", compression, minimum=0, maximum=100)
    errors.check_range("partial_images", body.get("partial_images"), minimum=0, maximum=3)
    if isinstance(compression, int) and compression < 100 and output_format in ("png", "svg"):
        message = f"Compression less than 100 is not supported for {output_format.upper()} output format."
        raise _invalid("output_compression", message)
    if body.get("background") == "transparent" and output_format == "jpeg":
        raise _invalid("background", "Transparent background is not supported for jpeg output format. Use png or webp.")
    for key in ("frame_count", "frame_duration_ms"):
        if body.get(key) is not None:
            raise _invalid(key, f"Invalid '{key}': only supported with output_format=gif.")
    if body.get("svg") is not None and output_format != "svg":
        raise _invalid("svg", "Invalid 'svg': only supported with output_format=svg.")
    if output_format == "svg":
        errors.check_range("n", n, maximum=1)
        for key in ("stream", "partial_images", "output_compression"):
            if body.get(key) not in (None, False, 0) or (key == "output_compression" and compression is not None):
                raise _invalid(key, f"Invalid '{key}': not supported with output_format=svg.")


def _invalid(param: str, message: str) -> errors.OpenAIError:
    return errors.bad_request(message, param=param, code="invalid_value")


_SIZE = re.compile(r"^([1-9][0-9]{0,4})x([1-9][0-9]{0,4})$")


def _size(size: str | None, family: Family, auto: tuple[int, int]) -> tuple[int, int]:
    if size is None:
        size = family.default_size
    if size == "auto" and "auto" in family.sizes:
        return auto
    if size in family.sizes:
        width, height = size.split("x")
        return int(width), int(height)
    match = _SIZE.match(size)
    if family.custom_sizes and match:
        width, height = int(match.group(1)), int(match.group(2))
        problem = None
        if width % 16 or height % 16:
            problem = "width and height must both be multiples of 16"
        elif max(width, height) > 3 * min(width, height):
            problem = "the aspect ratio must be between 1:3 and 3:1"
        elif max(width, height) > MAX_EDGE:
            problem = f"the longest edge must be at most {MAX_EDGE} pixels"
        elif not MIN_PIXELS <= width * height <= MAX_PIXELS:
            problem = f"the image must have between {MIN_PIXELS} and {MAX_PIXELS} pixels"
        if problem is None:
            return width, height
        raise errors.bad_request(f"Invalid size '{size}': {problem}.", param="size", code="invalid_value")
    message = family.size_error.format(size=size, choices=list(family.sizes), listing=_listing(list(family.sizes)))
    raise errors.bad_request(message, param="size", code=family.size_code)


def _one_of(param: str, value: Any, allowed: Iterable[str]) -> None:
    allowed = tuple(allowed)
    if value not in allowed:
        raise errors.invalid_value(param, _supported(value, allowed))


def _supported(value: Any, allowed: Iterable[str]) -> str:
    return f"Invalid value: {value!r}. Supported values are: {_listing(list(allowed))}."


def _listing(values: list[str]) -> str:
    shown = [f"'{v}'" for v in values]
    if len(shown) <= 2:
        return " and ".join(shown)
    return ", ".join(shown[:-1]) + ", and " + shown[-1]


# -- multipart -------------------------------------------------------------------------------


_INT_FIELDS = frozenset({"n", "output_compression", "partial_images", "frame_count", "frame_duration_ms"})
_BOOL_FIELDS = frozenset({"stream"})
_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")


def _multipart(ctx: Ctx, params_type: type, *, lists: tuple[str, ...], singles: tuple[str, ...]) -> dict[str, Any]:
    """A multipart request as a params body: text typed (numbers, booleans), ``a[b]`` nested, files in.

    A file field in ``lists`` (``image``) may come as ``image`` or ``image[]`` parts: one
    ``image`` part is a single ``FileStorage``, anything else a list of them, as the SDK sent it.
    A field in ``singles`` is one ``FileStorage``. Files are in the body so that ``validate``
    reports a missing ``Required`` one like any other parameter.
    """
    request = ctx.request
    if request.mimetype != "multipart/form-data":
        raise errors.bad_request(NOT_MULTIPART.format(content_type=request.mimetype or "none"))
    known = params_type.__required_keys__ | params_type.__optional_keys__  # type: ignore[attr-defined]
    file_fields = set(lists) | set(singles)
    body: dict[str, Any] = {}
    for key in request.form:
        path = _field_path(key)
        if path[0] in file_fields:
            expected = "one of an array of files or file" if path[0] in lists else "a file"
            raise errors.bad_request(
                f"Invalid type for '{path[0]}': expected {expected}, but got a string instead.",
                param=path[0],
                code="invalid_type",
            )
        values = request.form.getlist(key)
        is_list = len(path) > 1 and path[-1] == ""
        if is_list:
            path = path[:-1]
        target = body
        for part in path[:-1]:
            nested = target.setdefault(part, {})
            if not isinstance(nested, dict):
                raise errors.invalid_type(part, "an object", nested)
            target = nested
        leaf = path[-1]
        target[leaf] = [_typed(leaf, v) for v in values] if is_list else _typed(leaf, values[-1])

    allowed = file_fields | {f"{name}[]" for name in lists}
    for key in request.files:
        if key in allowed:
            continue
        name = _field_path(key)[0]
        if name in file_fields:  # e.g. image[] parts where one image is expected
            raise errors.invalid_type(name, "a file", [])
        if name in known:
            raise errors.bad_request(
                f"Invalid type for '{name}': expected a string, but got a file instead.",
                param=name,
                code="invalid_type",
            )
        raise errors.unknown_parameter(name)
    for name in lists:
        listed = request.files.getlist(f"{name}[]")
        uploads = request.files.getlist(name) + listed
        if uploads:
            body[name] = uploads if len(uploads) > 1 or listed else uploads[0]
    for name in singles:
        if name in request.files:
            body[name] = request.files[name]
    return body


def _field_path(key: str) -> list[str]:
    """``svg[reasoning][effort]`` -> ``["svg", "reasoning", "effort"]``; ``image[]`` -> ``["image", ""]``."""
    match = _KEY.match(key)
    if match is None:
        raise errors.unknown_parameter(key)
    return [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]


def _typed(name: str, value: str) -> Any:
    """Multipart sends every value as text: numbers and booleans are read back where the params say so."""
    # Up to 4000 digits (Python's int() refuses over 4300): longer stays text, a type 400.
    if name in _INT_FIELDS and re.fullmatch(r"-?[0-9]{1,4000}", value):
        return int(value)
    if name in _BOOL_FIELDS and value in ("true", "false"):
        return value == "true"
    return value


def _check_upload(family: Family, upload: FileStorage, param: str, index: int) -> _png.Png | None:
    """400 unless ``upload`` is an image this family reads; its PNG header when it is a PNG."""
    mimetype = upload.mimetype or "application/octet-stream"
    if mimetype not in family.upload_types:
        raise errors.bad_request(
            f"Invalid file '{param}': unsupported mimetype ('{mimetype}'). Supported file formats are "
            f"{_listing(list(family.upload_types))}.",
            param=param,
            code="unsupported_file_mimetype",
        )
    data = _read(upload)
    kind = _png.sniff(data)
    header = None
    try:
        if kind != mimetype.removeprefix("image/"):
            raise _png.PngError(f"the bytes are {kind or 'not an image'}, not {mimetype}")
        if kind == "png":
            header = _png.read_header(data)
    except _png.PngError:
        if family.gpt:
            raise errors.OpenAIError(
                400,
                BAD_IMAGE.format(index=index + 1),
                type="image_generation_user_error",
                param=param,
                code="invalid_image_file",
            ) from None
        raise errors.bad_request(NOT_PNG, param=param, code="invalid_image_format") from None
    if not family.gpt and len(data) >= DALL_E_2_MAX_UPLOAD:
        raise errors.bad_request(NOT_PNG, param=param, code="invalid_image_format")
    return header


def _check_square(header: _png.Png | None, param: str) -> None:
    if header is not None and header.width != header.height:
        raise errors.bad_request(NOT_SQUARE.format(width=header.width, height=header.height), param=param)


def _check_mask_size(mask: _png.Png, image: _png.Png | None) -> None:
    if image is not None and (mask.width, mask.height) != (image.width, image.height):
        message = MASK_SIZE.format(
            width=image.width, height=image.height, mask_width=mask.width, mask_height=mask.height
        )
        raise errors.bad_request(message, param="mask")


def _check_mask(upload: FileStorage, param: str) -> _png.Png:
    mimetype = upload.mimetype or "application/octet-stream"
    if mimetype != "image/png":
        raise errors.bad_request(
            f"Invalid file '{param}': unsupported mimetype ('{mimetype}'). Supported file formats are 'image/png'.",
            param=param,
            code="unsupported_file_mimetype",
        )
    try:
        return _png.read_header(_read(upload))
    except _png.PngError:
        message = f"Invalid '{param}': the file is not a valid PNG image."
        raise errors.bad_request(message, param=param, code="invalid_image_format") from None


def _read(upload: FileStorage) -> bytes:
    upload.stream.seek(0)
    data = upload.stream.read()
    upload.stream.seek(0)
    return data


def _bytes_digest(upload: FileStorage) -> str:
    return hashlib.sha256(_read(upload)).hexdigest()


def _auto_size(header: _png.Png | None) -> tuple[int, int]:
    """``size=auto`` for an edit: the standard size closest to the first image's shape."""
    if header is None or header.width == header.height:
        return 1024, 1024
    return (1536, 1024) if header.width > header.height else (1024, 1536)


# -- replies ---------------------------------------------------------------------------------


def _reply(
    ctx: Ctx,
    family: Family,
    plan: _Plan,
    seeds: list[bytes],
    usage: dict[str, Any] | None,
    revised: list[str | None],
    *,
    events: str,
) -> dict[str, Any] | Response:
    transparent = plan.background == "transparent"
    if plan.stream:
        return sse_response(_frames(ctx, plan, seeds, usage, events, transparent))
    data = []
    for seed, revised_prompt in zip(seeds, revised):
        image = _image(seed, plan, transparent)
        item: dict[str, Any] = {}
        if plan.response_format == "url":
            name = f"images/{ctx.ids.next('img-')}.png"
            ctx.state.blobs[name] = Blob("image/png", image)
            item["url"] = f"{ctx.root_url}__fake/blobs/{name}"
        else:
            item["b64_json"] = base64.b64encode(image).decode("ascii")
        if revised_prompt is not None:
            item["revised_prompt"] = revised_prompt
        data.append(item)
    reply: dict[str, Any] = {"created": ctx.clock.now(), "data": data}
    if family.gpt:
        reply.update(
            background=plan.background,
            output_format=plan.output_format,
            quality=plan.quality,
            size=plan.size,
            usage=usage,
        )
        if plan.safety_identifier:
            reply["safety_identifier"] = plan.safety_identifier
    return reply


def _frames(
    ctx: Ctx, plan: _Plan, seeds: list[bytes], usage: dict[str, Any] | None, events: str, transparent: bool
) -> list[bytes]:
    common = {
        "background": plan.background,
        "created_at": ctx.clock.now(),
        "output_format": plan.output_format,
        "quality": plan.quality,
        "size": plan.size,
    }
    assert usage is not None
    per_image = {
        "input_tokens": usage["input_tokens"],
        "input_tokens_details": usage["input_tokens_details"],
        "output_tokens": usage["output_tokens"] // len(seeds),
        "total_tokens": usage["input_tokens"] + usage["output_tokens"] // len(seeds),
    }
    frames = []
    for seed in seeds:
        for index in range(plan.partial_images):
            shown = plan.height * (index + 1) // (plan.partial_images + 1)
            partial = render_png(seed, plan.width, plan.height, transparent, shown)
            frames.append(
                event(
                    {
                        **common,
                        "type": f"{events}.partial_image",
                        "b64_json": base64.b64encode(partial).decode("ascii"),
                        "partial_image_index": index,
                    },
                    name=f"{events}.partial_image",
                )
            )
        final: dict[str, Any] = {
            **common,
            "type": f"{events}.completed",
            "b64_json": base64.b64encode(_image(seed, plan, transparent)).decode("ascii"),
            "usage": per_image,
        }
        if plan.safety_identifier:
            final["safety_identifier"] = plan.safety_identifier
        frames.append(event(final, name=f"{events}.completed"))
    return frames


def _image(seed: bytes, plan: _Plan, transparent: bool) -> bytes:
    if plan.output_format == "svg":
        return render_svg(seed, plan.width, plan.height, transparent)
    return render_png(seed, plan.width, plan.height, transparent)


def _usage(plan: _Plan, text_tokens: int, image_tokens: int) -> dict[str, Any]:
    output = plan.n * _output_tokens(plan.quality, plan.width, plan.height)
    return {
        "input_tokens": text_tokens + image_tokens,
        "input_tokens_details": {"image_tokens": image_tokens, "text_tokens": text_tokens},
        "output_tokens": output,
        "total_tokens": text_tokens + image_tokens + output,
        "output_tokens_details": {"image_tokens": output, "text_tokens": 0},
    }


def _output_tokens(quality: str, width: int, height: int) -> int:
    table = OUTPUT_TOKENS.get(quality, OUTPUT_TOKENS["high"])
    exact = table.get(f"{width}x{height}")
    if exact is not None:
        return exact
    return round(table["1024x1024"] * width * height / (1024 * 1024))


def _image_tokens(header: _png.Png | None) -> int:
    """Tokens for one input image: scaled into 2048x2048, shortest side 768, 512px tiles."""
    width, height = (header.width, header.height) if header is not None else (1024, 1024)
    scale = min(1.0, 2048 / max(width, height))
    width, height = width * scale, height * scale
    scale = min(1.0, 768 / min(width, height))
    width, height = width * scale, height * scale
    tiles = -(-int(width) // 512) * -(-int(height) // 512)
    return IMAGE_BASE_TOKENS + IMAGE_TILE_TOKENS * tiles


def _revised_prompt(prompt: str, seed: bytes) -> str:
    """dall-e-3 rewrites every prompt; the fake keeps it and adds hash-picked detail."""
    return f"{prompt.strip().rstrip('.')}. {generate_text(seed, min_words=10, max_words=24)}"


# -- pictures --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Layout:
    """A grid of coloured cells drawn from a seed."""

    columns: int
    rows: int
    colours: tuple[tuple[int, int, int], ...]  # row-major, one per cell


def _layout(seed: bytes) -> _Layout:
    stream = b"".join(hashlib.sha256(seed + bytes([i])).digest() for i in range(4))
    columns, rows = 3 + stream[0] % 6, 3 + stream[1] % 6
    palette = [(stream[2 + 3 * i], stream[3 + 3 * i], stream[4 + 3 * i]) for i in range(5)]
    colours = tuple(palette[stream[20 + i] % len(palette)] for i in range(columns * rows))
    return _Layout(columns, rows, colours)


@functools.lru_cache(maxsize=32)
def render_png(seed: bytes, width: int, height: int, transparent: bool = False, shown: int | None = None) -> bytes:
    """The PNG for ``seed``: cells of hash-picked colours, shaded top to bottom within each row.

    ``transparent``: RGBA with a fully transparent border. ``shown``: only the first ``shown``
    rows are drawn, the rest is grey (the partial images of a stream).
    """
    layout = _layout(seed)
    pixel_size = 4 if transparent else 3
    xs = [c * width // layout.columns for c in range(layout.columns + 1)]
    margin = max(1, min(width, height) // 16) if transparent else 0
    clear = b"\x00" * pixel_size
    blank = clear * width
    grey = (b"\x80\x80\x80\xff" if transparent else b"\x80\x80\x80") * width
    cache: dict[tuple[int, int], bytes] = {}
    out: list[bytes] = []
    limit = height if shown is None else shown
    for y in range(height):
        if y >= limit:
            out.append(grey)
            continue
        if y < margin or y >= height - margin:
            out.append(blank)
            continue
        band = y * layout.rows // height
        top, bottom = band * height // layout.rows, (band + 1) * height // layout.rows
        step = (y - top) * 16 // max(1, bottom - top)  # 16 shades per band
        row = cache.get((band, step))
        if row is None:
            shift = step * 6 - 48
            parts = []
            for c in range(layout.columns):
                r, g, b = layout.colours[band * layout.columns + c]
                pixel = bytes((_clamp(r + shift), _clamp(g + shift), _clamp(b + shift)))
                if transparent:
                    pixel += b"\xff"
                parts.append(pixel * (xs[c + 1] - xs[c]))
            row = b"".join(parts)
            if margin:
                row = clear * margin + row[margin * pixel_size : -margin * pixel_size] + clear * margin
            cache[(band, step)] = row
        out.append(row)
    return _png.encode(width, height, out, alpha=transparent)


def _clamp(value: int) -> int:
    return 0 if value < 0 else min(value, 255)


@functools.lru_cache(maxsize=32)
def render_svg(seed: bytes, width: int, height: int, transparent: bool = False) -> bytes:
    """The same cells as ``render_png`` (flat colours) as an SVG document."""
    layout = _layout(seed)
    xs = [c * width // layout.columns for c in range(layout.columns + 1)]
    ys = [r * height // layout.rows for r in range(layout.rows + 1)]
    rects = [
        f'<rect x="{xs[c]}" y="{ys[r]}" width="{xs[c + 1] - xs[c]}" height="{ys[r + 1] - ys[r]}" '
        f'fill="#{"".join(f"{v:02x}" for v in layout.colours[r * layout.columns + c])}"/>'
        for r in range(layout.rows)
        for c in range(layout.columns)
    ]
    margin = max(1, min(width, height) // 16) if transparent else 0
    inner = f'x="{margin}" y="{margin}" width="{width - 2 * margin}" height="{height - 2 * margin}"'
    clip = f'<clipPath id="c"><rect {inner}/></clipPath>' if margin else ""
    group = f'<g clip-path="url(#c)">{"".join(rects)}</g>' if margin else "".join(rects)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">{clip}{group}</svg>'
    ).encode()
