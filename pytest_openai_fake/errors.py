"""OpenAI's error envelope as werkzeug exceptions, and the real API's message texts.

Every error the fake sends is ``{"error": {"message", "type", "param", "code"}}`` with all
four keys present, as the real API does. Handlers raise these; the app renders them.
"""

from __future__ import annotations

import json
from typing import Any, Mapping

from werkzeug.exceptions import HTTPException

__all__ = [
    "HINT_HEADER",
    "DropConnection",
    "OpenAIError",
    "bad_request",
    "check_length",
    "check_metadata",
    "check_range",
    "invalid_api_key",
    "invalid_json",
    "invalid_type",
    "invalid_value",
    "method_not_allowed",
    "missing_api_key",
    "missing_required",
    "model_not_found",
    "not_found",
    "server_error",
    "unknown_parameter",
    "unknown_url",
]

# The real API's texts. Kept together so tests and docs can quote them.
MISSING_API_KEY = (
    "You didn't provide an API key. You need to provide your API key in an Authorization header "
    "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with "
    "blank username) if you're accessing the API from your browser and are prompted for a "
    "username. You can obtain an API key from https://platform.openai.com/account/api-keys."
)
INVALID_AUTH_HEADER = (
    "Incorrect API key provided: {shown}. You can find your API key at "
    "https://platform.openai.com/account/api-keys."
)
INVALID_JSON = (
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't "
    "using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was "
    "sent was not valid JSON. If you have trouble figuring out how to fix this, please contact "
    "us through our help center at help.openai.com.)"
)
MODEL_NOT_FOUND = "The model `{model}` does not exist or you do not have access to it."
UNKNOWN_URL = "Invalid URL ({method} {path})"
METHOD_NOT_ALLOWED = "Invalid method for URL ({method} {path})"
MISSING_REQUIRED = "Missing required parameter: '{param}'."
UNKNOWN_PARAMETER = "Unrecognized request argument supplied: {param}"
UNSUPPORTED_PARAMETER = "Unsupported parameter: '{param}' is not supported with this model.{hint}"
UNSUPPORTED_VALUE = "Unsupported value: '{param}' does not support {value} with this model. Only the default ({default}) value is supported."
INVALID_TYPE = "Invalid type for '{param}': expected {expected}, but got {got} instead."
SERVER_ERROR = (
    "The server had an error while processing your request. Sorry about that! "
    "(pytest-openai-fake: {detail})"
)


class OpenAIError(HTTPException):
    """An HTTP error rendered as OpenAI's JSON error envelope."""

    #: True for a script's fault (``error(...)``): the call it answers uses the fault up, where a
    #: refusal by the fake's own checks gives a scripted ``once`` reply back.
    scripted = False

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(description=message)
        self.code = status
        self.message = message
        self.type = type
        self.param = param
        self.error_code = code
        self.extra_headers = dict(headers or {})

    def to_api(self) -> dict[str, Any]:
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.error_code,
            }
        }

    def get_body(self, environ: Any = None, scope: Any = None) -> str:
        return json.dumps(self.to_api())

    def get_headers(self, environ: Any = None, scope: Any = None) -> list[tuple[str, str]]:
        return [("Content-Type", "application/json"), *self.extra_headers.items()]

    def __repr__(self) -> str:
        return f"OpenAIError({self.code}, {self.message!r}, param={self.param!r}, code={self.error_code!r})"


class DropConnection(Exception):
    """Raised inside a response body to make the server cut the connection without a reply."""


def bad_request(message: str, *, param: str | None = None, code: str | None = None) -> OpenAIError:
    return OpenAIError(400, message, param=param, code=code)


def missing_required(param: str) -> OpenAIError:
    return bad_request(MISSING_REQUIRED.format(param=param), param=param, code="missing_required_parameter")


def unknown_parameter(param: str) -> OpenAIError:
    return bad_request(UNKNOWN_PARAMETER.format(param=param), param=param, code="unknown_parameter")


def unsupported_parameter(param: str, hint: str = "") -> OpenAIError:
    """A parameter this model does not take (``max_tokens`` on a reasoning model, ...)."""
    return bad_request(UNSUPPORTED_PARAMETER.format(param=param, hint=hint), param=param, code="unsupported_parameter")


def unsupported_value(param: str, value: object, default: object) -> OpenAIError:
    """A value this model does not take for a parameter it knows (``temperature`` != 1 on o3)."""
    message = UNSUPPORTED_VALUE.format(param=param, value=json.dumps(value), default=json.dumps(default))
    return bad_request(message, param=param, code="unsupported_value")


def invalid_type(param: str, expected: str, got: object) -> OpenAIError:
    return bad_request(
        INVALID_TYPE.format(param=param, expected=expected, got=json_type_name(got)),
        param=param,
        code="invalid_type",
    )


def invalid_value(param: str, message: str) -> OpenAIError:
    return bad_request(message, param=param, code="invalid_value")


def invalid_json() -> OpenAIError:
    return bad_request(INVALID_JSON)


def missing_api_key() -> OpenAIError:
    return OpenAIError(401, MISSING_API_KEY)


def invalid_api_key(credential: str) -> OpenAIError:
    return OpenAIError(401, INVALID_AUTH_HEADER.format(shown=mask_key(credential)), code="invalid_api_key")


#: A response header with the fake's advice on an error; the error's wire text stays the API's.
HINT_HEADER = "x-fake-hint"
#: The longest model id the hint repeats whole.
HINT_MODEL_CHARS = 200


def model_not_found(model: object) -> OpenAIError:
    """The API's 404 for an unknown model; ``x-fake-hint`` says how a test adds it to its catalog."""
    # Escaped: a header carries neither newlines nor non-latin-1 text. Cut: HTTP clients refuse
    # heads over a few kB (h11: 16 KiB), and a 100 kB model id must still reach them as a 404.
    too_long = isinstance(model, str) and len(model) > HINT_MODEL_CHARS
    shown = json.dumps(model[:HINT_MODEL_CHARS] + "..." if too_long else model)
    hint = (
        f"pytest-openai-fake: model {shown} is not in this test's catalog; add it with "
        f"@pytest.mark.openai_fake(models=[..., {shown}]) or openai_server.state.models.add({shown})"
    )
    return OpenAIError(404, MODEL_NOT_FOUND.format(model=model), code="model_not_found", headers={HINT_HEADER: hint})


def not_found(message: str, *, param: str | None = None) -> OpenAIError:
    return OpenAIError(404, message, param=param)


def unknown_url(method: str, path: str) -> OpenAIError:
    return OpenAIError(404, UNKNOWN_URL.format(method=method, path=path), code="unknown_url")


def method_not_allowed(method: str, path: str, allowed: list[str]) -> OpenAIError:
    return OpenAIError(
        405, METHOD_NOT_ALLOWED.format(method=method, path=path), headers={"Allow": ", ".join(sorted(allowed))}
    )


def server_error(detail: str) -> OpenAIError:
    return OpenAIError(500, SERVER_ERROR.format(detail=detail), type="server_error")


def mask_key(credential: str) -> str:
    """Show a credential the way the real API does: the first few and last four characters."""
    if len(credential) <= 8:
        return "*" * len(credential) if credential else "''"
    return f"{credential[:3]}{'*' * min(len(credential) - 7, 40)}{credential[-4:]}"


def json_type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def check_range(
    param: str, value: object, *, minimum: float | None = None, maximum: float | None = None, decimal: bool = False
) -> None:
    """The real API's 400 for a number outside ``[minimum, maximum]`` (None means unbounded).

    ``decimal``: the parameter is a number, not an integer (the message says so even for 3).
    """
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return
    kind = "decimal" if decimal or not isinstance(value, int) else "integer"
    if minimum is not None and value < minimum:
        raise bad_request(
            f"Invalid '{param}': {kind} below minimum value. Expected a value >= {_num(minimum)}, "
            f"but got {_num(value)} instead.",
            param=param,
            code=f"{kind}_below_min_value",
        )
    if maximum is not None and value > maximum:
        raise bad_request(
            f"Invalid '{param}': {kind} above maximum value. Expected a value <= {_num(maximum)}, "
            f"but got {_num(value)} instead.",
            param=param,
            code=f"{kind}_above_max_value",
        )


def check_length(param: str, value: object, *, minimum: int | None = None, maximum: int | None = None) -> None:
    """The real API's 400 for an array that is empty or too long."""
    if not isinstance(value, list):
        return
    if minimum is not None and len(value) < minimum:
        if not value:
            raise bad_request(
                f"Invalid '{param}': empty array. Expected an array with minimum length {minimum}, "
                "but got an empty array instead.",
                param=param,
                code="empty_array",
            )
        raise bad_request(
            f"Invalid '{param}': array too short. Expected an array with minimum length {minimum}, "
            f"but got an array with length {len(value)} instead.",
            param=param,
            code="array_below_min_length",
        )
    if maximum is not None and len(value) > maximum:
        raise bad_request(
            f"Invalid '{param}': array too long. Expected an array with maximum length {maximum}, "
            f"but got an array with length {len(value)} instead.",
            param=param,
            code="array_above_max_length",
        )


def _num(value: float) -> str:
    if isinstance(value, int):  # exact, and no float() overflow for a 400-digit integer
        return str(value)
    return str(int(value)) if float(value).is_integer() else str(value)


#: The real API's limits on ``metadata``: pairs, key length and value length.
METADATA_MAX_PAIRS = 16
METADATA_MAX_KEY_LENGTH = 64
METADATA_MAX_VALUE_LENGTH = 512


def check_metadata(metadata: Any, param: str = "metadata") -> None:
    """The real API's 400s for ``metadata`` over its limits: 16 pairs, 64-character keys,
    512-character values (types are checked by the params validation)."""
    if not isinstance(metadata, dict):
        return
    if len(metadata) > METADATA_MAX_PAIRS:
        raise bad_request(
            f"Invalid '{param}': too many properties. Expected an object with at most {METADATA_MAX_PAIRS} "
            f"properties, but got an object with {len(metadata)} properties instead.",
            param=param,
            code="object_above_max_properties",
        )
    for key, value in metadata.items():
        if len(key) > METADATA_MAX_KEY_LENGTH:
            shown = f"{key[:3]}...{key[-3:]}"  # the API shortens a long name in the message
            raise bad_request(
                f"Invalid property name in '{param}': '{shown}' is too long. Expected a string with maximum "
                f"length {METADATA_MAX_KEY_LENGTH}, but got a string with length {len(key)} instead.",
                param=f"{param}.{key}",
                code="property_name_above_max_length",
            )
        if isinstance(value, str) and len(value) > METADATA_MAX_VALUE_LENGTH:
            raise bad_request(
                f"Invalid '{param}.{key}': string too long. Expected a string with maximum length "
                f"{METADATA_MAX_VALUE_LENGTH}, but got a string with length {len(value)} instead.",
                param=f"{param}.{key}",
                code="string_above_max_length",
            )
