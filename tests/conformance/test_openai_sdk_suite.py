"""Run files of the openai SDK's own generated test suite against the fake.

The SDK's `tests/api_resources/` were written for a mock server at `TEST_API_BASE_URL`. Each
suite file in `SUITE` runs in a pytest subprocess (cwd = the cached suite root, so
`tests.utils` imports) against a fresh fake, minus the tests in its deselect table.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

pytestmark = pytest.mark.conformance

RUN_TIMEOUT_S = 300
OUTPUT_TAIL_LINES = 150


@dataclass(frozen=True)
class SuiteFile:
    path: str
    """Relative to the suite root, e.g. "tests/api_resources/test_models.py"."""
    deselect: dict[str, str] = field(default_factory=dict)
    """Test function name -> why it is not run. Applies to the sync and the async class, and to
    every client flavour unless the name picks one: "test_method_create[strict]"."""
    pending: str = ""
    """Non-empty: not run yet, and why."""


# The SDK's tests use placeholder ids ("completion_id", "ft:gpt-4o-mini:...") for objects that a
# real server would have to hold already. The fake starts empty, so tests that address such an
# object are deselected. Tests that only hit client-side validation (test_path_params_*) still run.
_STORED_COMPLETION = "addresses stored chat completion 'completion_id', never created"
_LIMIT_ZERO = "sends limit=0: list limits are 1-100, so the fake answers 400 integer_below_min_value"
_FINE_TUNED_MODEL = "deletes fine-tuned model 'ft:gpt-4o-mini:acemeco:suffix:abc123', never created"
_REASONING_MAX_TOKENS = (
    "sends max_tokens (with reasoning_effort) to a reasoning model: the real API answers 400 "
    "\"Unsupported parameter: 'max_tokens' is not supported with this model.\""
)

_STORED_RESPONSE = "addresses stored response 'resp_677efb5139a88190b512bc3fef8e535d', never created"
_STORED_RESPONSE_ITEMS = "lists the input items of response 'response_id', never created"
_PREVIOUS_RESPONSE = "continues previous_response_id 'resp_123', never created"
_PREVIOUS_AND_CONVERSATION = (
    "continues previous_response_id 'resp_123' (never created) together with a conversation, "
    "which the real API refuses"
)

SUITE: tuple[SuiteFile, ...] = (
    SuiteFile(
        "tests/api_resources/chat/test_completions.py",
        deselect={
            "test_method_retrieve": _STORED_COMPLETION,
            "test_raw_response_retrieve": _STORED_COMPLETION,
            "test_streaming_response_retrieve": _STORED_COMPLETION,
            "test_method_update": _STORED_COMPLETION,
            "test_raw_response_update": _STORED_COMPLETION,
            "test_streaming_response_update": _STORED_COMPLETION,
            "test_method_delete": _STORED_COMPLETION,
            "test_raw_response_delete": _STORED_COMPLETION,
            "test_streaming_response_delete": _STORED_COMPLETION,
            "test_method_list_with_all_params": _LIMIT_ZERO,
            "test_method_create_with_all_params_overload_1": _REASONING_MAX_TOKENS,
            "test_method_create_with_all_params_overload_2": _REASONING_MAX_TOKENS,
        },
    ),
    SuiteFile(
        "tests/api_resources/test_models.py",
        deselect={
            "test_method_delete": _FINE_TUNED_MODEL,
            "test_raw_response_delete": _FINE_TUNED_MODEL,
            "test_streaming_response_delete": _FINE_TUNED_MODEL,
        },
    ),
    # Later issues: fill in `deselect` (study the file with --collect-only) and drop `pending`.
    SuiteFile(
        "tests/api_resources/test_completions.py",
        # echo=True with logprobs: the real API's first echoed token has a null logprob and a null
        # top_logprobs entry, which the SDK's types (List[float], List[Dict[str, float]]) reject.
        deselect={"test_method_create_with_all_params_overload_1": "echo with logprobs: the first token's null logprob fails the SDK's types, against the real API too"},
    ),
    SuiteFile(
        "tests/api_resources/test_embeddings.py",
        # Without encoding_format the SDK asks for base64, and its strict clients ([strict],
        # [aiohttp]) validate the reply's base64 string against list[float] before decoding it:
        # they fail against api.openai.com the same way. [loose] runs.
        deselect={
            f"{name}[{flavour}]": "default base64 reply: the SDK's strict validation rejects it"
            for name in ("test_method_create", "test_raw_response_create", "test_streaming_response_create")
            for flavour in ("strict", "aiohttp")
        },
    ),
    SuiteFile(
        "tests/api_resources/test_images.py",
        # The real API reads uploads: b"Example data" (no file name) goes out as application/octet-stream,
        # answered "Invalid file 'image': unsupported mimetype ('application/octet-stream') ..." (400).
        deselect={
            "test_method_create_variation": "uploads b'Example data' (octet-stream): the real API 400s",
            "test_raw_response_create_variation": "uploads b'Example data' (octet-stream): the real API 400s",
            "test_streaming_response_create_variation": "uploads b'Example data' (octet-stream): the real API 400s",
            "test_method_create_variation_with_all_params": "uploads b'Example data' (octet-stream): the real API 400s",
            "test_method_edit_overload_1": "uploads b'Example data' (octet-stream): the real API 400s",
            "test_raw_response_edit_overload_1": "uploads b'Example data' (octet-stream): the real API 400s",
            "test_streaming_response_edit_overload_1": "uploads b'Example data' (octet-stream): the real API 400s",
            "test_method_edit_with_all_params_overload_1": "uploads b'Example data' (octet-stream): the real API 400s",
            "test_method_edit_overload_2": "uploads b'Example data' (octet-stream): the real API 400s",
            "test_raw_response_edit_overload_2": "uploads b'Example data' (octet-stream): the real API 400s",
            "test_streaming_response_edit_overload_2": "uploads b'Example data' (octet-stream): the real API 400s",
            "test_method_edit_with_all_params_overload_2": "uploads b'Example data' (octet-stream): the real API 400s",
            "test_method_generate_with_all_params_overload_1": (
                "sends response_format and style to a gpt-image model: the real API answers 400 "
                "\"Unknown parameter: 'response_format'.\""
            ),
            "test_method_generate_with_all_params_overload_2": (
                "sends response_format and style to a gpt-image model: the real API answers 400 "
                "\"Unknown parameter: 'response_format'.\""
            ),
        },
    ),
    SuiteFile("tests/api_resources/test_moderations.py"),
    SuiteFile(
        "tests/api_resources/test_responses.py",
        deselect={
            **{
                f"{kind}_{verb}{suffix}": _STORED_RESPONSE
                for kind in ("test_method", "test_raw_response", "test_streaming_response")
                for verb, suffixes in (("retrieve", ("_overload_1", "_overload_2")), ("delete", ("",)), ("cancel", ("",)))
                for suffix in suffixes
            },
            "test_method_retrieve_with_all_params_overload_1": _STORED_RESPONSE,
            "test_method_retrieve_with_all_params_overload_2": _STORED_RESPONSE,
            "test_method_create_with_all_params_overload_1": _PREVIOUS_AND_CONVERSATION,
            "test_method_create_with_all_params_overload_2": _PREVIOUS_AND_CONVERSATION,
            "test_method_compact_with_all_params": _PREVIOUS_RESPONSE,
        },
    ),
    SuiteFile(
        "tests/api_resources/responses/test_input_items.py",
        deselect={
            name: _STORED_RESPONSE_ITEMS
            for name in ("test_method_list", "test_method_list_with_all_params", "test_raw_response_list", "test_streaming_response_list")
        },
    ),
    SuiteFile(
        "tests/api_resources/responses/test_input_tokens.py",
        deselect={"test_method_count_with_all_params": _PREVIOUS_AND_CONVERSATION + "; and names model 'model'"},
    ),
    SuiteFile(
        "tests/api_resources/conversations/test_items.py",
        deselect={
            **{
                f"test_{kind}_{verb}": "adds to or lists conversation 'conv_123', never created"
                for kind in ("method", "raw_response", "streaming_response")
                for verb in ("create", "list")
            },
            "test_method_create_with_all_params": "adds to conversation 'conv_123', never created",
            "test_method_list_with_all_params": "lists conversation 'conv_123' (never created) with limit=0",
            **{
                f"test_{kind}_{verb}": f"{verb}s item 'msg_abc' of conversation 'conv_123', never created"
                for kind in ("method", "raw_response", "streaming_response")
                for verb in ("retrieve", "delete")
            },
            "test_method_retrieve_with_all_params": "retrieves item 'msg_abc' of conversation 'conv_123', never created",
        },
    ),
    SuiteFile(
        "tests/api_resources/test_conversations.py",
        deselect={
            f"test_{kind}_{verb}": f"{verb}s conversation 'conv_123', never created"
            for kind in ("method", "raw_response", "streaming_response")
            for verb in ("retrieve", "update", "delete")
        },
    ),
    SuiteFile(
        "tests/api_resources/chat/completions/test_messages.py",
        deselect={
            "test_method_list": _STORED_COMPLETION,
            "test_method_list_with_all_params": _STORED_COMPLETION,
            "test_raw_response_list": _STORED_COMPLETION,
            "test_streaming_response_list": _STORED_COMPLETION,
        },
    ),
)


@dataclass(frozen=True)
class SuiteRun:
    cmd: list[str]
    returncode: int | None
    """None when the run timed out."""
    output: str
    seconds: float

    def tail(self, lines: int = OUTPUT_TAIL_LINES) -> str:
        return "\n".join(self.output.splitlines()[-lines:])


def deselect_args(root: Path, suite: SuiteFile) -> list[str]:
    """`--deselect` options for the table entries of `suite`, checked against the file itself.

    Every generated test is parametrized over client flavours (`[loose]`, `[strict]`,
    `[aiohttp]`), so `<file>::<Class>::<function>[` selects exactly that function's instances;
    without the `[`, pytest's prefix match would also take `<function>_with_all_params`.
    """
    tree = ast.parse((root / suite.path).read_text(encoding="utf-8"))
    functions = (ast.FunctionDef, ast.AsyncFunctionDef)
    classes = {
        node.name: {f.name for f in node.body if isinstance(f, functions)}
        for node in tree.body
        if isinstance(node, ast.ClassDef) and node.name.startswith("Test")
    }
    def function(name: str) -> str:
        return name.partition("[")[0]

    unknown = [name for name in suite.deselect if not any(function(name) in fns for fns in classes.values())]
    assert not unknown, f"{suite.path} has no tests {unknown}: update SUITE for this openai"
    # "name" deselects every flavour; "name[strict]" only that one.
    return [
        f"--deselect={suite.path}::{cls}::{name if '[' in name else name + '['}"
        for cls, fns in classes.items()
        for name in suite.deselect
        if function(name) in fns
    ]


def run_suite_file(root: Path, suite: SuiteFile, base_url: str, *extra_args: str) -> SuiteRun:
    """Run one suite file in a pytest subprocess against the server at `base_url`."""
    cmd = [
        sys.executable, "-m", "pytest", suite.path, "-p", "no:cacheprovider", "-q",
        # The suite's pyproject adds `-n auto --durations=20`; one file is faster in-process.
        "-o", "addopts=", "--tb=short", "--show-capture=no", "-rfE",
        # Our own plugin stays out of the SDK's session: only the server under test is ours.
        "-p", "no:openai_fake",
        *deselect_args(root, suite), *extra_args,
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}  # ADDOPTS, XDIST_*
    env["TEST_API_BASE_URL"] = base_url
    env["COLUMNS"] = "240"  # room for the error message on each `FAILED <node id> - ...` line
    env["PYTHONUNBUFFERED"] = "1"  # keep the output so far if the run times out
    no_proxy = os.environ.get("NO_PROXY") or os.environ.get("no_proxy")
    env["NO_PROXY"] = env["no_proxy"] = f"{no_proxy},127.0.0.1" if no_proxy else "127.0.0.1"
    start = time.monotonic()
    returncode: int | None
    try:
        proc = subprocess.run(
            cmd,
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=RUN_TIMEOUT_S,
            check=False,
        )
        returncode, output = proc.returncode, proc.stdout
    except subprocess.TimeoutExpired as exc:  # run() has killed the child
        returncode, output = None, exc.stdout or b""
    return SuiteRun(cmd, returncode, output.decode(errors="replace"), time.monotonic() - start)


def _params() -> list[object]:
    # Pending files are not collected at all: a skipped placeholder would only be noise.
    return [pytest.param(suite, id=suite.path.removeprefix("tests/api_resources/")) for suite in SUITE if not suite.pending]


@pytest.mark.parametrize("suite", _params())
def test_sdk_suite_file(suite: SuiteFile, sdk_suite_root: Path, fake_base_url: str) -> None:
    run = run_suite_file(sdk_suite_root, suite, fake_base_url)
    outcome = "timed out" if run.returncode is None else f"exit code {run.returncode}"
    assert run.returncode == 0, (
        f"SDK suite file {suite.path} {outcome} after {run.seconds:.1f}s against {fake_base_url}\n"
        f"cwd: {sdk_suite_root}\ncmd: {' '.join(run.cmd)}\n"
        f"--- last {OUTPUT_TAIL_LINES} lines ---\n{run.tail()}"
    )
