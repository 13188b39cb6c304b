"""Errors and wire details every endpoint shares, checked over raw HTTP where the SDK can't err."""

from __future__ import annotations

import re

import httpx2
import openai
import pytest

from pytest_openai_fake import FakeOpenAI
from pytest_openai_fake.errors import INVALID_JSON, MISSING_API_KEY
from tests.sdk_features import raw_body

AUTH = {"Authorization": "Bearer sk-test"}
CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}


def envelope(response: httpx2.Response) -> dict:
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"message", "type", "param", "code"}
    return body["error"]


def test_missing_authorization_is_401(openai_server: FakeOpenAI):
    response = httpx2.post(openai_server.base_url + "/chat/completions", json=CHAT)
    assert response.status_code == 401
    assert envelope(response) == {"message": MISSING_API_KEY, "type": "invalid_request_error", "param": None, "code": None}


def test_sdk_without_key_gets_authentication_error(openai_server: FakeOpenAI):
    client = openai_server.client()
    with pytest.raises(openai.AuthenticationError) as caught:
        client.models.list(extra_headers={"Authorization": openai.Omit()})
    assert caught.value.body["message"] == MISSING_API_KEY


def test_non_bearer_credential_is_401_invalid_api_key(openai_server: FakeOpenAI):
    response = httpx2.post(openai_server.base_url + "/chat/completions", json=CHAT, headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert response.status_code == 401
    error = envelope(response)
    assert error["code"] == "invalid_api_key"
    assert error["message"].startswith("Incorrect API key provided: ")
    assert "dXNlcjpwYXNz" not in error["message"]  # masked, as the real API does


def test_malformed_json_is_400(openai_server: FakeOpenAI):
    response = httpx2.post(
        openai_server.base_url + "/chat/completions", content=b'{"model": ', headers={**AUTH, "Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert envelope(response) == {"message": INVALID_JSON, "type": "invalid_request_error", "param": None, "code": None}


def test_missing_required_field_is_400_naming_it(openai_server: FakeOpenAI):
    response = httpx2.post(openai_server.base_url + "/chat/completions", json={"model": "gpt-4o"}, headers=AUTH)
    assert response.status_code == 400
    assert envelope(response) == {
        "message": "Missing required parameter: 'messages'.",
        "type": "invalid_request_error",
        "param": "messages",
        "code": "missing_required_parameter",
    }


# Bodies the SDK's own serializer never writes, sent through the SDK's low-level ``post`` as raw
# bytes, so the reply is still read and raised by the SDK.
DEEP = b'{"model": "text-embedding-3-small", "input": ' + b"[" * 5000 + b"]" * 5000 + b"}"
NOT_JSON_NUMBERS = [
    b'{"model": "gpt-3.5-turbo-instruct", "prompt": "hi", "temperature": NaN}',
    b'{"model": "gpt-3.5-turbo-instruct", "prompt": "hi", "temperature": Infinity}',
    b'{"model": "gpt-3.5-turbo-instruct", "prompt": "hi", "logit_bias": {"50256": -Infinity}}',
]
RAW_JSON = {"headers": {"Content-Type": "application/json"}}
UNPARSEABLE = {"message": INVALID_JSON, "type": "invalid_request_error", "param": None, "code": None}


def post_raw(client, path: str, content: bytes):
    return client.post(path, cast_to=object, **raw_body(content), options=RAW_JSON)


def test_deeply_nested_json_is_the_unparseable_json_400(client):
    with pytest.raises(openai.BadRequestError) as caught:
        post_raw(client, "/embeddings", DEEP)
    assert caught.value.body == UNPARSEABLE


async def test_async_deeply_nested_json_is_the_unparseable_json_400(async_client):
    with pytest.raises(openai.BadRequestError) as caught:
        await async_client.post("/chat/completions", cast_to=object, **raw_body(b'{"messages":' + DEEP), options=RAW_JSON)
    assert caught.value.body == UNPARSEABLE


@pytest.mark.parametrize("content", NOT_JSON_NUMBERS)
def test_nan_and_infinity_are_not_json(client, content):
    with pytest.raises(openai.BadRequestError) as caught:
        post_raw(client, "/completions", content)
    assert caught.value.body == UNPARSEABLE


async def test_async_nan_is_not_json(async_client):
    with pytest.raises(openai.BadRequestError) as caught:
        await async_client.post("/embeddings", cast_to=object, **raw_body(b'{"input": [NaN]}'), options=RAW_JSON)
    assert caught.value.body == UNPARSEABLE


@pytest.mark.parametrize(
    ("path", "content"),
    [
        ("/embeddings", b'{"model": "text-embedding-3-small", "input": "\\ud800"}'),
        ("/completions", b'{"model": "gpt-3.5-turbo-instruct", "prompt": "x \\udc00 y"}'),
        ("/moderations", b'{"input": ["fine", "\\uDBFF"]}'),
        ("/images/generations", b'{"model": "dall-e-2", "prompt": "a cat", "user": "\\ud800"}'),
        ("/chat/completions", b'{"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "metadata": {"\\ud800": "v"}}'),
    ],
)
def test_a_lone_surrogate_is_the_unparseable_json_400(client, path, content):
    # Regression: a lone surrogate escape (which the SDK cannot send, but ASCII-escaping JSON
    # writers can) crashed the fake with a UnicodeEncodeError: a 500 that failed the test.
    with pytest.raises(openai.BadRequestError) as caught:
        post_raw(client, path, content)
    assert caught.value.body == UNPARSEABLE


def test_an_escaped_surrogate_pair_is_text(client):
    body = b'{"model": "text-embedding-3-small", "input": "smile \\ud83d\\ude00", "encoding_format": "float"}'
    assert len(post_raw(client, "/embeddings", body)["data"][0]["embedding"]) == 1536


def test_raw_json_within_limits_still_answers(client):
    body = b'{"model": "gpt-3.5-turbo-instruct", "prompt": "hi", "temperature": 1e0, "stop": ["x"]}'
    assert post_raw(client, "/completions", body)["object"] == "text_completion"


def test_json_that_is_not_an_object_is_400(openai_server: FakeOpenAI):
    response = httpx2.post(openai_server.base_url + "/chat/completions", json=[1, 2], headers=AUTH)
    assert response.status_code == 400
    envelope(response)


@pytest.mark.openai_fake(problems="ignore")
def test_unknown_route_is_404_unknown_url(openai_server: FakeOpenAI):
    response = httpx2.post(openai_server.base_url + "/chat/complete", json=CHAT, headers=AUTH)
    assert response.status_code == 404
    assert envelope(response) == {
        "message": "Invalid URL (POST /v1/chat/complete)",
        "type": "invalid_request_error",
        "param": None,
        "code": "unknown_url",
    }
    assert openai_server.requests.last.endpoint is None
    assert openai_server.requests.last.status == 404


@pytest.mark.openai_fake(problems="ignore")
def test_wrong_method_is_a_json_envelope(openai_server: FakeOpenAI):
    response = httpx2.put(openai_server.base_url + "/embeddings", json=CHAT, headers=AUTH)
    assert response.status_code == 405
    assert envelope(response)["message"] == "Invalid method for URL (PUT /v1/embeddings)"
    assert response.headers["allow"] == "POST"


@pytest.mark.openai_fake(problems="ignore")
def test_nothing_answers_html(openai_server: FakeOpenAI):
    for method, path in [("GET", "/"), ("GET", "/v1"), ("DELETE", "/v1/chat/completions"), ("POST", "/nowhere"), ("GET", "/__fake/nothing")]:
        response = httpx2.request(method, openai_server.url + path, headers=AUTH)
        assert response.headers["content-type"] == "application/json", (method, path)
        assert not response.text.lstrip().startswith("<")


def test_headers_on_every_response(openai_server: FakeOpenAI, client):
    raw = client.chat.completions.with_raw_response.create(**CHAT)
    assert re.fullmatch(r"req_[0-9a-f]{32}", raw.headers["x-request-id"])
    assert raw.headers["openai-version"] == "2020-10-01"
    assert int(raw.headers["openai-processing-ms"]) >= 0
    assert raw.parse()._request_id == raw.headers["x-request-id"]
    error = httpx2.get(openai_server.base_url + "/models/nope", headers=AUTH)
    assert re.fullmatch(r"req_[0-9a-f]{32}", error.headers["x-request-id"])
    assert int(raw.headers["content-length"]) == len(raw.http_response.content)


def test_request_ids_are_unique_and_repeatable_per_test(openai_server: FakeOpenAI, client):
    ids = [client.models.with_raw_response.list().headers["x-request-id"] for _ in range(3)]
    assert len(set(ids)) == 3
    openai_server.reset()
    again = [client.models.with_raw_response.list().headers["x-request-id"] for _ in range(3)]
    assert again == ids


def test_creates_answer_200(client):
    assert client.chat.completions.with_raw_response.create(**CHAT).status_code == 200


def test_sdk_maps_errors_to_its_exception_types(client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="gpt-4o", messages=[])
    assert caught.value.request_id and caught.value.request_id.startswith("req_")
    assert caught.value.code == "empty_array"
    assert caught.value.param == "messages"


def test_a_body_over_the_limit_gets_the_413_envelope_through_the_sdk():
    from pytest_openai_fake import FakeOpenAI, Limits

    with FakeOpenAI(limits=Limits(max_request_body=1000)) as fake:
        client = fake.client(_strict_response_validation=True)
        with pytest.raises(openai.APIStatusError) as exc:
            client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x" * 5000}])
        assert exc.value.status_code == 413
        assert set(exc.value.body) == {"message", "type", "param", "code"}
        assert "over the limit of 1000 bytes" in exc.value.body["message"]
        assert len(fake.requests) == 0  # refused before the app saw it
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}])  # the fake still serves
