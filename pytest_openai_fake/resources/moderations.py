"""Moderations: ``POST /v1/moderations``, with a documented rule that makes inputs flag.

The trigger rule: a category is flagged when its **trigger word** appears in the input as a
whole word, case-sensitively. The trigger of a category is ``FLAG_`` and the category name in
upper case with ``/`` and ``-`` turned into ``_``; ``TRIGGERS`` maps every category to it::

    violence                FLAG_VIOLENCE           self-harm/intent   FLAG_SELF_HARM_INTENT
    violence/graphic        FLAG_VIOLENCE_GRAPHIC   sexual/minors      FLAG_SEXUAL_MINORS
    harassment/threatening  FLAG_HARASSMENT_THREATENING   ...

- A flagged category scores 0.9 or more, every other category scores below 0.001; the scores
  are derived from a hash of (model, input, category), so they repeat exactly. ``flagged`` is
  true when any category is.
- Each trigger flags its own category only (``FLAG_VIOLENCE_GRAPHIC`` does not also flag
  ``violence``); put several triggers in one input to flag several categories.
- Images: the image-capable categories (violence, violence/graphic, self-harm,
  self-harm/intent, self-harm/instructions, sexual: those the SDK types as ``"text" | "image"``)
  also flag when their trigger appears in an image part's URL (percent-decoded), or in the
  decoded bytes of a base64 ``data:`` URL. Triggers of text-only categories in an image are
  ignored, as the real model only scores those categories on text.
- ``input`` as a string or a list of strings gets one result per string; a list of
  multi-modal parts (``{"type": "text"}`` / ``{"type": "image_url"}``) gets one result for the
  whole list. ``category_applied_input_types`` lists, per category, the input types present
  that the category applies to (``["text"]`` for plain text).
- ``model`` defaults to ``omni-moderation-latest`` and is echoed as requested. A catalog model
  that is not a moderation model (its card's ``type`` says otherwise, or the SDK names its id
  for another endpoint: ``gpt-4o``, ``text-embedding-3-small`` ...) gets the real 400 "Invalid
  value for 'model' = gpt-4o. Please check the OpenAI documentation and try again."; a model
  the test added under an id the SDK does not name is taken as a moderation model. The legacy
  ``text-moderation-*`` models reject image parts (400) and have no ``illicit`` categories:
  those are ``null`` in ``categories``, score 0 and apply to no input type.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from typing import Any, List
from urllib.parse import unquote

import typing_extensions
from openai.types.moderation import CategoryAppliedInputTypes, CategoryScores
from openai.types.moderation_create_params import ModerationCreateParams
from openai.types.moderation_create_response import ModerationCreateResponse
from openai.types.moderation_model import ModerationModel
from openai.types.moderation_multi_modal_input_param import ModerationMultiModalInputParam
from typing_extensions import Required, TypedDict

from .. import errors
from ..determinism import digest
from ..routing import Ctx, Resource
from ..state import ModelCard, card_serves, literal_strings

__all__ = ["CATEGORIES", "DEFAULT_MODEL", "IMAGE_CATEGORIES", "TRIGGERS", "moderations", "trigger"]

moderations = Resource("moderations")

#: The model used when the request names none, as on the real API.
DEFAULT_MODEL = "omni-moderation-latest"
#: Models that only read text (the legacy ones), by id prefix.
TEXT_ONLY_PREFIX = "text-moderation"
#: Categories the legacy text models do not have (``null`` in their ``categories``).
LEGACY_MISSING = frozenset({"illicit", "illicit/violent"})

IMAGES_NOT_SUPPORTED = (
    "The model `{model}` does not support image inputs. Use omni-moderation-latest to moderate images."
)
# The real 400 for a model that does not moderate (type invalid_request_error, param "model",
# code null), as pasted in BerriAI/litellm#6020; openai-node#56 is the same 400 for
# text-davinci-003, without its body.
NOT_A_MODERATION_MODEL = "Invalid value for 'model' = {model}. Please check the OpenAI documentation and try again."


def _wire_names(model: type) -> dict[str, str]:
    """Field name -> wire name (the alias, ``self-harm/intent``) of an SDK model."""
    return {name: field.alias or name for name, field in model.model_fields.items()}


def _input_types(annotation: Any) -> tuple[str, ...]:
    # List[Literal["text", "image"]] -> ("text", "image")
    (literal,) = typing_extensions.get_args(annotation)
    return tuple(typing_extensions.get_args(literal))


#: Every category the SDK's ``Moderation`` model requires, in the SDK's order.
CATEGORIES: tuple[str, ...] = tuple(_wire_names(CategoryScores).values())
_APPLIES_TO: dict[str, tuple[str, ...]] = {
    wire: _input_types(CategoryAppliedInputTypes.model_fields[name].annotation)
    for name, wire in _wire_names(CategoryAppliedInputTypes).items()
}
#: The categories the real model also scores on images.
IMAGE_CATEGORIES: frozenset[str] = frozenset(c for c, types in _APPLIES_TO.items() if "image" in types)


def trigger(category: str) -> str:
    """The trigger word of a category: ``violence/graphic`` -> ``FLAG_VIOLENCE_GRAPHIC``."""
    return "FLAG_" + re.sub(r"[/\-]", "_", category).upper()


#: Category -> the word that flags it (see the module docstring for the rule).
TRIGGERS: dict[str, str] = {category: trigger(category) for category in CATEGORIES}
_BY_TRIGGER = {word: category for category, word in TRIGGERS.items()}
_TRIGGER_WORD = re.compile(r"\bFLAG_[A-Z_]+\b")


class _MultiModalBody(TypedDict, total=False):
    input: Required[List[ModerationMultiModalInputParam]]


@moderations.route("POST", "/moderations", endpoint="moderations.create", response=ModerationCreateResponse)
def create_moderation(ctx: Ctx) -> dict[str, Any]:
    body = ctx.json()
    value = body.get("input")
    multi_modal = isinstance(value, list) and any(isinstance(item, dict) for item in value)
    if multi_modal:
        # Judge the parts as parts: "missing input[0].text", not "input[0] is not a string".
        ctx.validate({"input": value}, _MultiModalBody)
    ctx.validate(body, ModerationCreateParams)
    errors.check_length("input", value, minimum=1)
    model = body.get("model", DEFAULT_MODEL)
    ctx.require_model(model)
    if not _moderates(ctx.model_card(model)):
        raise errors.bad_request(NOT_A_MODERATION_MODEL.format(model=model), param="model")
    legacy = model.startswith(TEXT_ONLY_PREFIX)

    items: list[tuple[list[str], list[str]]]  # (texts, image urls) per result
    if isinstance(value, str):
        items = [([value], [])]
    elif multi_modal:
        texts = [part["text"] for part in value if part["type"] == "text"]
        images = [part["image_url"]["url"] for part in value if part["type"] == "image_url"]
        if images and legacy:
            index = next(i for i, part in enumerate(value) if part["type"] == "image_url")
            raise errors.invalid_value(f"input[{index}]", IMAGES_NOT_SUPPORTED.format(model=model))
        items = [(texts, images)]
    else:
        items = [([text], []) for text in value]

    return {
        "id": ctx.ids.next("modr-"),
        "model": model,
        "results": [_result(model, texts, images, legacy) for texts, images in items],
    }


def _moderates(card: ModelCard) -> bool:
    """Whether the catalog's card describes a moderation model: its own ``type`` where the
    catalog has one, else its id (or a fine-tune's base) as the SDK names it; an id the SDK does
    not name is taken as one."""
    return card_serves(card, ("moderation",), _moderation_model_ids())


@functools.lru_cache(maxsize=1)
def _moderation_model_ids() -> frozenset[str]:
    return frozenset(literal_strings(ModerationModel))



def _result(model: str, texts: list[str], images: list[str], legacy: bool) -> dict[str, Any]:
    hits = {_BY_TRIGGER[w] for text in texts for w in _TRIGGER_WORD.findall(text) if w in _BY_TRIGGER}
    for url in images:
        hits |= {c for c in _image_hits(url) if c in IMAGE_CATEGORIES}
    present = {"text"} if texts else set()
    if images:
        present.add("image")
    key = [texts, images]
    categories: dict[str, bool | None] = {}
    scores: dict[str, float] = {}
    applied: dict[str, list[str]] = {}
    for category in CATEGORIES:
        if legacy and category in LEGACY_MISSING:
            categories[category], scores[category], applied[category] = None, 0.0, []
            continue
        raw = digest("moderation", model, key, category)
        fraction = int.from_bytes(raw[:4], "big") / 2**32
        flagged = category in hits
        categories[category] = flagged
        # Flagged: 0.9 to 0.999. Not flagged: 1e-7 to 1e-3, spread on a log scale like real scores.
        scores[category] = round(0.9 + 0.099 * fraction, 6) if flagged else float(f"{10 ** -(3 + 4 * fraction):.6g}")
        applied[category] = [kind for kind in ("text", "image") if kind in present and kind in _APPLIES_TO[category]]
    return {
        "flagged": any(categories.values()),
        "categories": categories,
        "category_scores": scores,
        "category_applied_input_types": applied,
    }


def _image_hits(url: str) -> set[str]:
    """Categories whose trigger is in the URL, or in the decoded bytes of a base64 data URL."""
    haystacks = [unquote(url)]
    if url.startswith("data:") and "," in url:
        header, _, payload = url.partition(",")
        if header.endswith(";base64"):
            try:
                haystacks.append(base64.b64decode(payload + "=" * (-len(payload) % 4)).decode("utf-8", "ignore"))
            except (binascii.Error, ValueError):
                pass
    return {_BY_TRIGGER[w] for text in haystacks for w in _TRIGGER_WORD.findall(text) if w in _BY_TRIGGER}

