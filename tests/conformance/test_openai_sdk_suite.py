"""Run the openai SDK's own generated test suite against the fake: every file, in two modes.

The SDK's `tests/api_resources/` were written for a mock server at `TEST_API_BASE_URL`. The
files are cut into `CHUNKS` runs of about equal size; each runs in a pytest subprocess (cwd =
the cached suite root, so `tests.utils` imports) against a fresh fake, in two modes:

- `stateful` (the default mode): the suite addresses objects it never created (placeholder ids
  such as `"batch_id"`), which the fake answers with the API's 404, as the real API would. Every
  failure must be such a 404 (`PLACEHOLDER`) or a documented faithful refusal; a failure on an
  unknown route, a 500 or a reply the SDK rejects fails the run.
- `lenient` (`lenient_ids=True`): an id the fake never created answers as if it existed, so
  every failure must be a documented refusal.

Refusals are documented per test in `SUITE` (by function name, for both classes and every
client flavour) and by the error for every file in `REFUSALS`.
"""

from __future__ import annotations

import ast
import glob
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

pytestmark = pytest.mark.conformance

RUN_TIMEOUT_S = 600
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
_PREVIOUS_RESPONSE = (
    "continues previous_response_id 'resp_123', never created: a 400 for an id in the body, which "
    "lenient_ids (ids in the path) does not cover"
)
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
            **{name: _STORED_RESPONSE_ITEMS for name in ("test_method_list", "test_raw_response_list", "test_streaming_response_list")},
            "test_method_list_with_all_params": _STORED_RESPONSE_ITEMS + "; and " + _LIMIT_ZERO,
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
        "tests/api_resources/beta/test_responses.py",
        deselect={
            "test_method_create_with_all_params_overload_1": _PREVIOUS_AND_CONVERSATION,
            "test_method_create_with_all_params_overload_2": _PREVIOUS_AND_CONVERSATION,
            "test_method_compact_with_all_params": _PREVIOUS_RESPONSE,
        },
    ),
    SuiteFile(
        "tests/api_resources/beta/responses/test_input_tokens.py",
        deselect={"test_method_count_with_all_params": _PREVIOUS_AND_CONVERSATION + "; and names model 'model'"},
    ),
    SuiteFile(
        "tests/api_resources/chat/completions/test_messages.py",
        deselect={
            "test_method_list": _STORED_COMPLETION,
            "test_method_list_with_all_params": _STORED_COMPLETION + "; and " + _LIMIT_ZERO,
            "test_raw_response_list": _STORED_COMPLETION,
            "test_streaming_response_list": _STORED_COMPLETION,
        },
    ),
)


#: The files run in this many subprocesses per mode (about 8,600 SDK tests in all for openai 3.63).
CHUNKS = 6

#: Faithful refusals in any file, by the error the fake answered with.
REFUSALS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"Error code: 400 - Invalid '[\w.]*limit': integer below minimum value"), _LIMIT_ZERO),
    (
        re.compile(r"Error code: 400 - Invalid file '\w+': unsupported mimetype \('application/octet-stream'\)"),
        "uploads b'Example data' (no file name, so application/octet-stream): the real API 400s",
    ),
    (
        re.compile(r"Error code: 400 - Invalid file format\. Supported formats: \['flac'"),
        "transcribes b'Example data', which is no audio of any supported format: the real API 400s",
    ),
)

#: In the stateful mode: the API's 404 for an object the suite never created (its placeholder
#: ids: "batch_id", "file_id", "resp_677efb...", "conv_123", ...).
PLACEHOLDER = re.compile(r"NotFoundError: Error code: 404 - (No .+ found with id '|No such (File|Upload) object: '|(Response|Conversation) with id ')")
PLACEHOLDER_REASON = "addresses an object by a placeholder id the suite never created: the API's 404"


@dataclass(frozen=True)
class Failure:
    path: str  # the suite file
    test: str  # "test_method_retrieve[strict]"
    message: str


_FAILED_LINE = re.compile(r"^(?:FAILED|ERROR) (tests/api_resources/[^:]+)::[^:]+::(\S+)(?: - (.*))?$")


def failures_of(output: str) -> list[Failure]:
    """The `FAILED <node id> - <error>` lines of a run (`-rfE` output)."""
    found = []
    for line in output.splitlines():
        match = _FAILED_LINE.match(line.strip())
        if match:
            found.append(Failure(match.group(1), match.group(2), match.group(3) or ""))
    return found


_BY_PATH = {suite.path: suite for suite in SUITE}


def reason_for(failure: Failure, mode: str) -> str | None:
    """Why ``failure`` is expected in ``mode``; None when it is a bug in the fake."""
    if mode == "lenient" and PLACEHOLDER.search(failure.message):
        return None  # lenient_ids must answer every id
    suite = _BY_PATH.get(failure.path)
    if suite is not None:
        function = failure.test.partition("[")[0]
        reason = suite.deselect.get(failure.test) or suite.deselect.get(function)
        if reason is not None:
            return reason
    for pattern, reason in REFUSALS:
        if pattern.search(failure.message):
            return reason
    if mode == "stateful" and PLACEHOLDER.search(failure.message):
        return PLACEHOLDER_REASON
    return None


def suite_files(root: Path) -> list[str]:
    return sorted(glob.glob("tests/api_resources/**/test_*.py", root_dir=root, recursive=True))


def chunk_files(root: Path, index: int, count: int = CHUNKS) -> list[str]:
    """The files of chunk ``index`` of ``count``: contiguous in path order, about equal in tests."""
    files = suite_files(root)
    sizes = [max(1, (root / f).read_text(encoding="utf-8").count("def test_")) for f in files]
    total, chunks, current, acc = sum(sizes), [[] for _ in range(count)], 0, 0
    for file, size in zip(files, sizes):
        if acc >= total * (current + 1) / count and current < count - 1:
            current += 1
        chunks[current].append(file)
        acc += size
    return chunks[index]


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


def run_suite_files(root: Path, paths: list[str], base_url: str, *extra_args: str) -> SuiteRun:
    """Run suite files in one pytest subprocess against the server at `base_url`."""
    cmd = [
        sys.executable, "-m", "pytest", *paths, "-p", "no:cacheprovider", "-q",
        # The suite's pyproject adds `-n auto --durations=20`; one file is faster in-process.
        "-o", "addopts=", "--tb=no", "-rfE",
        # Our own plugin stays out of the SDK's session: only the server under test is ours.
        "-p", "no:openai_fake",
        *extra_args,
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}  # ADDOPTS, XDIST_*
    env["TEST_API_BASE_URL"] = base_url
    env["COLUMNS"] = "400"  # room for the error message on each `FAILED <node id> - ...` line
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


@pytest.mark.parametrize("mode", ["stateful", "lenient"])
@pytest.mark.parametrize("chunk", range(CHUNKS), ids=[f"chunk{i + 1}of{CHUNKS}" for i in range(CHUNKS)])
def test_sdk_suite(chunk: int, mode: str, sdk_suite_root: Path) -> None:
    from pytest_openai_fake import FakeOpenAI

    paths = chunk_files(sdk_suite_root, chunk)
    for suite in SUITE:  # the tables name tests the files define (checked on every openai upgrade)
        if suite.path in paths:
            deselect_args(sdk_suite_root, suite)
    with FakeOpenAI(lenient_ids=mode == "lenient") as fake:
        fake.configure(problems="ignore")  # the run's failures are judged below, one by one
        run = run_suite_files(sdk_suite_root, paths, fake.base_url)
    outcome = "timed out" if run.returncode is None else f"exit code {run.returncode}"
    assert run.returncode is not None, f"{outcome} after {run.seconds:.1f}s\n{run.tail()}"
    failures = failures_of(run.output)
    unexpected = [f for f in failures if reason_for(f, mode) is None]
    summary = run.output.strip().splitlines()[-1] if run.output.strip() else ""
    assert run.returncode in (0, 1) and not unexpected, (
        f"{len(paths)} SDK suite files ({paths[0]} .. {paths[-1]}) in {mode} mode: {outcome} after {run.seconds:.1f}s; "
        f"{len(unexpected)} failures without a documented reason:\n"
        + "\n".join(f"  {f.path}::{f.test} - {f.message}" for f in unexpected[:60])
        + f"\n--- {summary}\ncmd: {' '.join(run.cmd)}"
    )
