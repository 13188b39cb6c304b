"""The pytest11 entry point: options, the ``openai_fake`` marker, fixtures. No HTTP code here.

One ``FakeOpenAI`` server per pytest session (per xdist worker), started the first time a test
asks for it and kept on ``config.stash``. The function-scoped ``openai_server`` resets it before
every test and applies the test's marker; at the end of the test it raises whatever problems
the fake saw (an exception inside the fake, a request no route matched).
"""

from __future__ import annotations

import inspect
import os
import threading
from typing import TYPE_CHECKING, Any, Callable, Collection, Iterator, Mapping

import pytest

# Nothing here imports openai, pydantic, the app or the resources at start-up: a run whose
# tests never use the fake must not pay for them. Fixtures and hooks import what they need.
if TYPE_CHECKING:
    from .fake import FakeOpenAI
    from .guard import NetworkGuard
    from .scripting import Script
    from .tls import Certificate

__all__ = [
    "FakeServers",
    "async_azure_openai_client",
    "async_openai_client",
    "async_together_client",
    "azure_openai_client",
    "mistral_client",
    "openai_client",
    "openai_env",
    "openai_server",
    "openai_servers",
    "together_client",
]

MARKER = "openai_fake"
BLOCK_NETWORK_MARKER = "openai_fake_block_network"
PORT_ENV = "PYTEST_OPENAI_FAKE_PORT"
RECORD_MODE_ENV = "PYTEST_OPENAI_FAKE_RECORD_MODE"
UPSTREAM_ENV = "PYTEST_OPENAI_FAKE_UPSTREAM"
#: Literals, not imported from .cassette: this module imports nothing of the fake at start-up.
RECORD_MODES = ("none", "once", "new_episodes", "all")
REPLAY_TIMINGS = ("fast", "recorded")
TLS_ENV = "PYTEST_OPENAI_FAKE_TLS"
_SERVERS: pytest.StashKey[dict[str, FakeOpenAI]] = pytest.StashKey()
_ITEM_SERVERS = pytest.StashKey["FakeServers"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("openai-fake", "pytest-openai-fake")
    group.addoption(
        "--openai-fake-port",
        dest="openai_fake_port",
        type=int,
        default=None,
        metavar="PORT",
        help=(
            "port of the fake OpenAI server (default 0: an ephemeral port). A fixed PORT reserves "
            f"one port per provider: PORT+i for the i-th of {', '.join(PORT_ORDER)}; under "
            f"pytest-xdist worker gwN uses the block at PORT+N*{len(PORT_ORDER)}. "
            "Also ini openai_fake_port and env " + PORT_ENV + "."
        ),
    )
    parser.addini("openai_fake_port", help="port of the fake OpenAI server (0 = ephemeral)", default=None)
    group.addoption(
        "--openai-fake-tls",
        dest="openai_fake_tls",
        action="store_true",
        default=None,
        help=(
            "serve the session's fake servers over HTTPS (and HTTP/2 by ALPN when h2 is installed) with a "
            "throwaway CA (needs pytest-openai-fake[tls]); openai_server.ca_bundle is its PEM file and the "
            "fixture clients trust it. Also ini openai_fake_tls and env " + TLS_ENV + "."
        ),
    )
    parser.addini("openai_fake_tls", help="serve the fake over HTTPS (true/false; see --openai-fake-tls)", default=None)
    group.addoption(
        "--openai-fake-tls-cert",
        dest="openai_fake_tls_cert",
        default=None,
        metavar="PEM",
        help="serve HTTPS with this certificate (PEM, chain after it) instead of a throwaway one; implies "
        "--openai-fake-tls. Also ini openai_fake_tls_cert.",
    )
    group.addoption(
        "--openai-fake-tls-key",
        dest="openai_fake_tls_key",
        default=None,
        metavar="PEM",
        help="the private key of --openai-fake-tls-cert (default: in the certificate file). Also ini openai_fake_tls_key.",
    )
    parser.addini("openai_fake_tls_cert", help="certificate (PEM) the fake serves HTTPS with", default=None)
    parser.addini("openai_fake_tls_key", help="private key (PEM) of openai_fake_tls_cert", default=None)
    group.addoption(
        "--openai-fake-block-network",
        dest="openai_fake_block_network",
        action="store_true",
        default=None,
        help=(
            "fail any test that connects to an address off this machine or looks up a real provider "
            "host (api.openai.com, ...); loopback stays allowed. Also ini openai_fake_block_network "
            f"and marker @pytest.mark.{BLOCK_NETWORK_MARKER}."
        ),
    )
    parser.addini(
        "openai_fake_block_network",
        type="bool",
        default=False,
        help="fail tests that try to reach the network off this machine (see --openai-fake-block-network)",
    )
    group.addoption(
        "--openai-fake-allow-host",
        dest="openai_fake_allow_host",
        action="append",
        default=[],
        metavar="NAME",
        help=(
            "also answer requests whose Host header is NAME (repeatable; also ini openai_fake_allowed_hosts). "
            "By default only 127.0.0.1, localhost and [::1] are answered (a guard against DNS rebinding)."
        ),
    )
    parser.addini("openai_fake_allowed_hosts", type="linelist", default=[], help="Host names the fake answers besides loopback")
    parser.addini(
        "openai_fake_keep_credentials",
        type="bool",
        default=False,
        help="keep Authorization / api-key unmasked in openai_server.requests (GET /__fake/requests masks them always)",
    )
    group.addoption(
        "--openai-fake-record-mode",
        dest="openai_fake_record_mode",
        choices=RECORD_MODES,
        default=None,
        help=(
            "cassettes (tests marked @pytest.mark.openai_fake(cassette=...)): none (default: replay only, a miss fails), "
            "once (record a cassette that does not exist yet), new_episodes (record what is missing), all (record "
            f"everything anew). Also ini openai_fake_record_mode and env {RECORD_MODE_ENV}."
        ),
    )
    parser.addini("openai_fake_record_mode", help="cassette record mode: none, once, new_episodes or all", default=None)
    group.addoption(
        "--openai-fake-cassette-dir",
        dest="openai_fake_cassette_dir",
        default=None,
        metavar="DIR",
        help="keep cassettes in DIR/<module stem>/ instead of cassettes/<module stem>/ next to each test file "
        "(relative to the rootdir; also ini openai_fake_cassette_dir)",
    )
    parser.addini("openai_fake_cassette_dir", help="directory of cassettes (see --openai-fake-cassette-dir)", default=None)
    group.addoption(
        "--openai-fake-upstream",
        dest="openai_fake_upstream",
        action="append",
        default=[],
        metavar="[PROVIDER=]URL",
        help="where a recording mode forwards requests with no recorded answer: the base URL a client would use "
        "(default https://api.openai.com/v1; each provider its own). PROVIDER=URL sets one provider's. Repeatable; "
        f"also ini openai_fake_upstream and env {UPSTREAM_ENV}. The key comes from the provider's usual variable "
        "(OPENAI_API_KEY, ...), as it was when the run started.",
    )
    parser.addini("openai_fake_upstream", type="linelist", default=[], help="[PROVIDER=]URL upstreams for recording")
    group.addoption(
        "--openai-fake-replay-timing",
        dest="openai_fake_replay_timing",
        choices=REPLAY_TIMINGS,
        default=None,
        help="replayed streams: fast (default: at once) or recorded (with the recorded pacing); also ini openai_fake_replay_timing",
    )
    parser.addini("openai_fake_replay_timing", help="fast or recorded (see --openai-fake-replay-timing)", default=None)
    parser.addini(
        "openai_fake_env",
        type="bool",
        default=False,
        help="give every test the openai_env fixture: OPENAI_BASE_URL, OPENAI_API_KEY, AZURE_OPENAI_* and "
        "TOGETHER_* point clients built anywhere in the app at the fake",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(models=None, problems='fail', replies=None, faults=None, provider='openai', deployments=None, "
        "unused_replies='fail', lenient_ids=False, cassette=None, cassette_ignore=(), cassette_match=None): "
        "configure the fake OpenAI server for this test. models: the only model ids that exist; problems: "
        "'fail' (the default) fails the test when the fake raised or got a request it has no route for, "
        "'ignore' does not; replies/faults: endpoint name -> a reply for every call, or a list of replies, "
        "one per call ('*' for faults on every endpoint); provider: which provider openai_server emulates "
        "(openai, together, mistral, azure); deployments: Azure deployment name -> model id; unused_replies: "
        "'fail' (the default) fails a passing test that left scripted once replies unused, 'ignore' does not; "
        "cassette: True or a name, answer from a recorded cassette (see --openai-fake-record-mode); cassette_ignore: "
        "request fields left out of matching; cassette_match: a callable (request, recorded) -> bool.",
    )
    config.addinivalue_line(
        "markers",
        f"{BLOCK_NETWORK_MARKER}(enabled=True): fail this test if it connects to an address off this machine or "
        "looks up a real provider host; enabled=False lets it when --openai-fake-block-network is on.",
    )
    config.pluginmanager.register(_NetworkGuardHooks(config), "openai_fake_network_guard")
    base_port(config)  # a bad port is one usage error now, not one per test
    tls_files(config)  # and so is a bad TLS setting
    record_mode(config)
    # The environment as the run started: a recording's upstream key is read from here, never
    # from what a fixture (openai_env) points at the fake.
    config.stash[_START_ENV] = dict(os.environ)


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(_Hookspecs)


class _Hookspecs:
    @pytest.hookspec
    def pytest_openai_fake_scrub(self, config: pytest.Config) -> Collection[str] | None:  # type: ignore[empty-body]
        """Header or JSON body field names (besides Authorization, api-key, OpenAI-Organization,
        OpenAI-Project and cookies) whose values cassettes record as ``<scrubbed>``."""


_START_ENV = pytest.StashKey[dict[str, str]]()
#: Cassette files this run records into: a test sharing one keeps adding to it (modes once, all).
_RECORDED_CASSETTES = pytest.StashKey[set[Any]]()


def record_mode(config: pytest.Config) -> str:
    """The cassette record mode: ``--openai-fake-record-mode``, else ini, else env, else none."""
    value = config.getoption("openai_fake_record_mode", None)
    source = "--openai-fake-record-mode"
    if value is None:
        value, source = config.getini("openai_fake_record_mode"), "openai_fake_record_mode (ini)"
    if value in (None, ""):
        value, source = os.environ.get(RECORD_MODE_ENV), RECORD_MODE_ENV
    if value in (None, ""):
        return "none"
    if value not in RECORD_MODES:
        raise pytest.UsageError(f"{source}: record mode must be one of {', '.join(RECORD_MODES)}, got {value!r}")
    return str(value)


def pytest_sessionstart(session: pytest.Session) -> None:
    """A fixed port that is taken is one clear error at session start, not one per test."""
    from .server import PortInUseError, _bind

    config = session.config
    if not base_port(config):
        return
    taken = []
    for provider in PORT_ORDER:
        port = provider_port(config, provider)
        try:
            _bind("127.0.0.1", port).close()
        except PortInUseError:
            taken.append(f"{port} ({provider})")
        except OSError as exc:
            taken.append(f"{port} ({provider}: {exc.strerror or exc})")
    if taken:
        raise pytest.UsageError(
            f"pytest-openai-fake: port(s) {', '.join(taken)} on 127.0.0.1 are not free. A fixed port reserves "
            f"{len(PORT_ORDER)} ports per process ({', '.join(PORT_ORDER)}, in that order; xdist worker gwN "
            f"the block at PORT+N*{len(PORT_ORDER)}): choose another "
            "--openai-fake-port, or 0 for ephemeral ports"
        )


def pytest_unconfigure(config: pytest.Config) -> None:
    for fake in config.stash.get(_SERVERS, {}).values():
        fake.stop()
    config.stash[_SERVERS] = {}


#: The order of the providers in a fixed-port block: a fixed PORT gives provider i port PORT+i,
#: and xdist worker gwN the block PORT+N*len(PORT_ORDER) .. +len(PORT_ORDER)-1, so no two
#: servers of one run ever share a port.
#: A literal, not ``tuple(PROVIDERS)``: this module must not import the providers at start-up
#: (tests/plugin check it lists every provider).
PORT_ORDER: tuple[str, ...] = ("openai", "together", "mistral", "azure")


def base_port(config: pytest.Config) -> int:
    """The port from ``--openai-fake-port``, else ini, else env (0: ephemeral ports). Checked:
    the whole block this process may use must lie in 1-65535."""
    value: Any = config.getoption("openai_fake_port", None)
    source = "--openai-fake-port"
    if value is None:
        value, source = config.getini("openai_fake_port"), "openai_fake_port (ini)"
    if value in (None, ""):
        value, source = os.environ.get(PORT_ENV), PORT_ENV
    if value in (None, ""):
        return 0
    try:
        port = int(value)
    except (TypeError, ValueError):
        raise pytest.UsageError(f"{source}: expected a port number, got {value!r}") from None
    if port == 0:
        return 0
    worker = _xdist_worker()
    last = port + worker * len(PORT_ORDER) + len(PORT_ORDER) - 1
    if port < 1 or last > 65535:
        where = f" (xdist worker gw{worker} uses {port + worker * len(PORT_ORDER)}-{last})" if worker else f" (it uses {port}-{last})"
        raise pytest.UsageError(
            f"{source}: port {port} is out of range: a fixed port needs {len(PORT_ORDER)} ports per process, "
            f"one per provider, within 1-65535{where if port >= 1 else ''}; use 0 for ephemeral ports"
        )
    return port


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")
_TLS: pytest.StashKey[Certificate] = pytest.StashKey()


def tls_files(config: pytest.Config) -> tuple[bool, str | None, str | None]:
    """Whether the session's servers speak TLS, and the user's certificate and key (None: a
    throwaway CA). From the options, else ini, else env; checked (a bad value, a missing extra
    or file is one usage error at start-up)."""
    cert = config.getoption("openai_fake_tls_cert", None) or config.getini("openai_fake_tls_cert") or None
    key = config.getoption("openai_fake_tls_key", None) or config.getini("openai_fake_tls_key") or None
    value: Any = config.getoption("openai_fake_tls", None)
    source = "--openai-fake-tls"
    if value is None:
        value, source = config.getini("openai_fake_tls"), "openai_fake_tls (ini)"
    if value in (None, ""):
        value, source = os.environ.get(TLS_ENV), TLS_ENV
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered not in (*_TRUE, *_FALSE, ""):
            raise pytest.UsageError(f"{source}: expected true or false (1/0, yes/no, on/off), got {value!r}")
        value = lowered in _TRUE
    enabled = bool(value) or cert is not None
    if key is not None and cert is None:
        raise pytest.UsageError("--openai-fake-tls-key needs --openai-fake-tls-cert (the certificate it belongs to)")
    for name, path in (("--openai-fake-tls-cert", cert), ("--openai-fake-tls-key", key)):
        if path is not None and not os.path.isfile(path):
            raise pytest.UsageError(f"{name}: no such file: {path}")
    if enabled and cert is None:
        import importlib.util

        if importlib.util.find_spec("trustme") is None:
            raise pytest.UsageError(
                f"{source}: TLS needs the trustme package to make a throwaway certificate: "
                "pip install 'pytest-openai-fake[tls]' (or give your own with --openai-fake-tls-cert)"
            )
    return enabled, cert, key


def session_certificate(config: pytest.Config) -> Certificate | None:
    """The certificate every server of this session presents (one CA for all of them), made on
    first use; None when the session serves plain HTTP."""
    enabled, cert, key = tls_files(config)
    if not enabled:
        return None
    certificate = config.stash.get(_TLS, None)
    if certificate is None:
        from .tls import Certificate, TLSError

        try:
            certificate = Certificate.throwaway_ca() if cert is None else Certificate.from_files(cert, key)
        except TLSError as exc:
            raise pytest.UsageError(str(exc)) from None
        config.stash[_TLS] = certificate
    return certificate


def provider_port(config: pytest.Config, provider: str) -> int:
    """The fixed port of ``provider``'s server in this process (0: ephemeral)."""
    port = base_port(config)
    if not port:
        return 0
    return port + _xdist_worker() * len(PORT_ORDER) + PORT_ORDER.index(provider)


def configured_port(config: pytest.Config) -> int:
    """The fixed port of the openai server in this process (0: ephemeral)."""
    return provider_port(config, "openai")


def _xdist_worker() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else 0


#: ``problems=`` of the marker: whether problems (an exception inside the fake, a request no
#: route matches, a script that cannot be followed) fail the test at teardown.
PROBLEM_POLICIES = ("fail", "ignore")


def _marker_options(
    *,
    models: Collection[str] | None = None,
    problems: str = "fail",
    replies: Mapping[str, Any] | None = None,
    faults: Mapping[str, Any] | None = None,
    provider: str = "openai",
    deployments: Mapping[str, str] | None = None,
    unused_replies: str = "fail",
    lenient_ids: bool = False,
    cassette: str | bool | None = None,
    cassette_ignore: Collection[str] = (),
    cassette_match: Callable[[dict[str, Any], dict[str, Any]], bool] | None = None,
) -> dict[str, Any]:
    """The signature of ``@pytest.mark.openai_fake``; binding to it validates the marker.

    ``replies`` / ``faults``: endpoint name (or ``"*"`` for faults on every endpoint) -> one
    outcome for every call, or a list answered one per call. Faults are installed first.
    ``problems``: ``"fail"`` (default) or ``"ignore"`` (the deprecated ``strict=True/False``).
    ``unused_replies``: ``"fail"`` (default: ``once`` replies a passing test left unused fail it at
    teardown) or ``"ignore"``.
    ``lenient_ids``: an id the fake never created answers as a generated object with that id
    instead of 404 (generic endpoints; the stateless mode for SDK-level sanity checks).
    ``cassette``: answer from a cassette (``True``: ``cassettes/<module>/<test name>.json``; a
    name: ``cassettes/<module>/<name>.json``, shared by every test naming it); what no script
    answers comes from it, and a recording mode records what it lacks. ``cassette_ignore``:
    request fields left out of the match (``"user"``, ``"messages[*].name"``,
    ``"query.api-version"``); ``cassette_match``: ``(request, recorded) -> bool`` instead.
    """
    from .providers import PROVIDERS
    from .scripting import ScriptError, to_outcome

    if models is not None:
        if isinstance(models, (str, bytes)) or not isinstance(models, Collection):
            raise TypeError(f"models= must be a list of model ids, got {type(models).__name__} {models!r}")
        bad = [m for m in models if not isinstance(m, str) or not m]
        if bad:
            raise TypeError(f"models= must contain non-empty strings, got {bad!r}")
        models = list(models)
    if problems not in PROBLEM_POLICIES:
        raise TypeError(f"problems= must be 'fail' or 'ignore', got {problems!r}")
    if unused_replies not in PROBLEM_POLICIES:
        raise TypeError(f"unused_replies= must be 'fail' or 'ignore', got {unused_replies!r}")
    for name, table in (("replies", replies), ("faults", faults)):
        if table is None:
            continue
        if not isinstance(table, Mapping) or not all(isinstance(k, str) for k in table):
            raise TypeError(f"{name}= must map endpoint names to replies, e.g. {{'chat.completions.create': ['Hi']}}")
        for endpoint, value in table.items():
            for item in value if isinstance(value, list) else [value]:
                try:
                    outcome = to_outcome(item)
                except ScriptError as exc:
                    raise TypeError(f"{name}[{endpoint!r}]: {exc}") from None
                if name == "faults" and outcome.kind not in ("fault", "drop") and not outcome.streams_only and not outcome.delay:
                    raise TypeError(f"faults[{endpoint!r}]: {item!r} is not a fault; use error(...), drop(), cut_stream(...), stream_error(...) or delayed(...)")
    if cassette is not None and not (cassette is True or cassette is False or (isinstance(cassette, str) and cassette.strip())):
        raise TypeError(f"cassette= must be True or a cassette name, got {cassette!r}")
    if isinstance(cassette_ignore, (str, bytes)) or not all(isinstance(f, str) and f for f in cassette_ignore):
        raise TypeError(f"cassette_ignore= must be a list of field paths such as ['user', 'messages[*].name'], got {cassette_ignore!r}")
    if cassette_match is not None and not callable(cassette_match):
        raise TypeError(f"cassette_match= must be a callable (request, recorded) -> bool, got {cassette_match!r}")
    if not isinstance(lenient_ids, bool):
        raise TypeError(f"lenient_ids= must be True or False, got {lenient_ids!r}")
    if provider not in PROVIDERS:
        raise TypeError(f"provider= must be one of {', '.join(sorted(PROVIDERS))}, got {provider!r}")
    if deployments is not None and (
        not isinstance(deployments, Mapping) or not all(isinstance(k, str) and isinstance(v, str) and k and v for k, v in deployments.items())
    ):
        raise TypeError(f"deployments= must map deployment names to model ids, got {deployments!r}")
    return {
        "models": models,
        "problems": problems,
        "replies": replies,
        "faults": faults,
        "provider": provider,
        "deployments": deployments,
        "unused_replies": unused_replies,
        "lenient_ids": lenient_ids,
        "cassette": cassette or None,
        "cassette_ignore": list(cassette_ignore),
        "cassette_match": cassette_match,
    }


_MARKER_KEYWORDS = tuple(inspect.signature(_marker_options).parameters)
_MARKER_SIGNATURE = inspect.signature(_marker_options)


def _bind_marker(mark: pytest.Mark) -> tuple[dict[str, Any], bool]:
    """The keywords of one marker, validated; and whether it used the deprecated ``strict=``."""
    import difflib

    kwargs = dict(mark.kwargs)
    deprecated = "strict" in kwargs
    if deprecated:
        strict = kwargs.pop("strict")
        if "problems" in kwargs:
            raise TypeError("give problems= only (strict= is its deprecated spelling)")
        if not isinstance(strict, bool):
            raise TypeError(f"strict= must be True or False, got {strict!r} (strict= is deprecated: use problems='fail' or 'ignore')")
        kwargs["problems"] = "fail" if strict else "ignore"
    unknown = [key for key in kwargs if key not in _MARKER_KEYWORDS]
    if unknown:
        hints = []
        for key in unknown:
            close = difflib.get_close_matches(key, _MARKER_KEYWORDS, n=1, cutoff=0.6)
            hints.append(f"{key}= (did you mean {close[0]}=?)" if close else f"{key}=")
        raise TypeError(f"unknown keyword {', '.join(hints)}; it takes {', '.join(k + '=' for k in _MARKER_KEYWORDS)}")
    if mark.args:
        raise TypeError(f"takes keywords only ({', '.join(k + '=' for k in _MARKER_KEYWORDS)}), got positional {mark.args!r}")
    bound = _MARKER_SIGNATURE.bind(**kwargs)
    _marker_options(**bound.arguments)
    return bound.arguments, deprecated


def _marker_location(node: pytest.Item) -> str:
    path, line, _ = node.location
    return f"{path}:{line + 1}" if line is not None else path


def marker_options(node: pytest.Item) -> dict[str, Any]:
    """The merged ``openai_fake`` markers of a test (the closest one wins per keyword)."""
    __tracebackhide__ = True
    merged: dict[str, Any] = {}
    for mark in reversed(list(node.iter_markers(MARKER))):
        try:
            arguments, _ = _bind_marker(mark)
        except TypeError as exc:
            failure = f"@pytest.mark.{MARKER} on {node.nodeid} ({_marker_location(node)}): {exc}"
            break
        merged.update(arguments)
    else:
        return _marker_options(**merged)
    raise pytest.UsageError(failure)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Validate the test's ``openai_fake`` marker, scripts included, whether or not the test asks
    for a fake: a wrong marker is an error at setup, not silently ignored. Starts no server."""
    __tracebackhide__ = True
    if item.get_closest_marker(MARKER) is None:
        return
    import warnings

    from .app import routes_of
    from .scripting import Scripts

    failure = None
    for mark in item.iter_markers(MARKER):
        try:
            if _bind_marker(mark)[1]:
                line = item.location[1]
                warnings.warn_explicit(
                    f"@pytest.mark.{MARKER}(strict=...) is deprecated: use problems='fail' (strict=True) or "
                    "problems='ignore' (strict=False); strict= will be removed in the next release",
                    DeprecationWarning,
                    filename=str(item.path),
                    lineno=(line or 0) + 1,
                )
        except TypeError:
            pass  # reported by marker_options below, with the test's name
    try:
        options = marker_options(item)
        if options["replies"] or options["faults"]:
            # A dry run against the provider's route table: unknown endpoints, replies an
            # endpoint cannot give, dict replies that don't fit its response model.
            _install_scripts(Scripts(routes_of(options["provider"]), threading.RLock()).on, options, item)
    except pytest.UsageError as exc:
        failure = str(exc)
    if failure is not None:  # outside the except block: the message is printed once, unchained
        pytest.fail(failure, pytrace=False)


def _install_scripts(on: Callable[..., Script], options: dict[str, Any], node: pytest.Item) -> None:
    __tracebackhide__ = True
    failure = None
    from .scripting import ScriptError

    try:
        for name in ("faults", "replies"):
            for endpoint, value in (options[name] or {}).items():
                script = on(None if endpoint == "*" else endpoint)
                if isinstance(value, list):
                    script.once(*value)
                else:
                    script.respond(value)
    except ScriptError as exc:
        failure = f"@pytest.mark.{MARKER} on {node.nodeid} ({_marker_location(node)}): {exc}"
    if failure is not None:
        raise pytest.UsageError(failure)


def _session_server(config: pytest.Config, provider: str = "openai") -> FakeOpenAI:
    """The session's server for ``provider``, started the first time a test asks for it, on
    its port of the fixed-port block (``provider_port``) or an ephemeral one."""
    from .fake import FakeOpenAI
    from .server import PortInUseError

    servers = config.stash.setdefault(_SERVERS, {})
    fake = servers.get(provider)
    if fake is None:
        fake = FakeOpenAI(
            port=provider_port(config, provider),
            provider=provider,
            allowed_hosts=[*config.getini("openai_fake_allowed_hosts"), *(config.getoption("openai_fake_allow_host", None) or [])],
            keep_credentials=bool(config.getini("openai_fake_keep_credentials")),
            tls=session_certificate(config) or False,
        )
        try:
            fake.start()
        except PortInUseError as exc:  # taken since the check at session start
            raise pytest.UsageError(str(exc)) from None
        servers[provider] = fake
    return fake


class CassetteWarning(pytest.PytestWarning):
    """Recorded interactions a test never replayed (its code made fewer or other calls)."""


def _open_cassette(config: pytest.Config, node: pytest.Item, options: dict[str, Any], fake: FakeOpenAI) -> Any:
    """The test's cassette on ``fake``: its file, record mode, upstream, key and scrubbing."""
    from pathlib import Path

    from .cassette import CassetteError, Cassette, cassette_file, default_cassette_name, parse_upstreams, recorder_for
    from .providers import PROVIDERS

    __tracebackhide__ = True
    failure = None
    try:
        directory = config.getoption("openai_fake_cassette_dir", None) or config.getini("openai_fake_cassette_dir")
        module = Path(str(node.path))
        base = (config.rootpath / directory) if directory else module.parent / "cassettes"
        name = options["cassette"]
        if name is True:
            cls = getattr(node, "cls", None)
            name = default_cassette_name(node.name, cls.__name__ if cls is not None else None)
        path = cassette_file(base / module.stem, name)
        upstream_values = config.getoption("openai_fake_upstream", None) or config.getini("openai_fake_upstream")
        if not upstream_values and os.environ.get(UPSTREAM_ENV):
            upstream_values = os.environ[UPSTREAM_ENV].split()
        timing = config.getoption("openai_fake_replay_timing", None) or config.getini("openai_fake_replay_timing") or "fast"
        scrub = [n for names in config.hook.pytest_openai_fake_scrub(config=config) for n in (names or ())]
        mode = record_mode(config)
        key_env = fake.provider.upstream_key_env
        rerecord = (
            f"run `pytest {node.nodeid} --openai-fake-record-mode=new_episodes` (records what is missing) or "
            f"`--openai-fake-record-mode=all` (records the whole cassette again), with ${key_env} set"
        )
        recorder = recorder_for(
            fake.provider,
            mode=mode,
            upstreams=parse_upstreams(upstream_values, PROVIDERS),
            environ=config.stash.get(_START_ENV, dict(os.environ)),
            timing=timing,
            scrub=scrub,
            rerecord=rerecord,
        )
        recorded = config.stash.setdefault(_RECORDED_CASSETTES, set())
        cassette = Cassette(path, recorder, ignore=options["cassette_ignore"], match=options["cassette_match"], name=str(name), fresh=path in recorded)
        if cassette.recording:
            recorded.add(path)
        return cassette
    except CassetteError as exc:
        failure = f"@pytest.mark.{MARKER}(cassette=...) on {node.nodeid}: {exc}"
    pytest.fail(failure, pytrace=False)


def _warn_unplayed(node: pytest.Item, cassette: Any) -> None:
    import warnings

    unplayed = cassette.unplayed()
    if not unplayed:
        return
    listing = "\n".join(f"  #{number}: {interaction.describe()}" for number, interaction in unplayed)
    warnings.warn(
        CassetteWarning(f"{node.nodeid}: {len(unplayed)} recorded interaction(s) of cassette {cassette.path} were never replayed:\n{listing}")
    )


class FakeServers:
    """The fake servers of one test, one per provider: ``openai_servers["mistral"]``.

    Each is reset for the test the first time the test asks for it; the test's ``openai_fake``
    marker configures the one of its ``provider`` (``openai_server``), and its ``deployments``
    every server whose requests name deployments (Azure). Problems of every server the test used
    fail it at teardown.
    """

    def __init__(self, config: pytest.Config, node: pytest.Item, options: dict[str, Any]) -> None:
        self._config = config
        self._node = node
        self._options = options
        self._used: dict[str, FakeOpenAI] = {}

    def __getitem__(self, provider: str) -> FakeOpenAI:
        fake = self._used.get(provider)
        if fake is not None:
            return fake
        from .providers import PROVIDERS

        if provider not in PROVIDERS:
            raise KeyError(f"unknown provider {provider!r}; known: {', '.join(sorted(PROVIDERS))}")
        fake = _session_server(self._config, provider)
        fake.reset()
        fake.app.cassette = None
        fake.configure(unused_replies=self._options["unused_replies"])  # the test's policy, on every server
        if provider == self._options["provider"]:
            fake.configure(models=self._options["models"], problems=self._options["problems"], lenient_ids=self._options["lenient_ids"])
            _install_scripts(fake.on, self._options, self._node)
            if self._options["cassette"]:
                fake.app.cassette = _open_cassette(self._config, self._node, self._options, fake)
        if fake.provider.serves_deployments and self._options["deployments"] is not None:
            fake.configure(deployments=self._options["deployments"])  # also a Mistral test's Azure server
        self._used[provider] = fake
        return fake

    def __iter__(self) -> Iterator[FakeOpenAI]:
        return iter(list(self._used.values()))

    def finish(self) -> None:
        """Fail the test for the problems and unused exhaustive scripts of every server it used,
        and, if the test passed, for ``once`` replies it left unused (``unused_replies="fail"``)."""
        __tracebackhide__ = True
        misses = []
        for fake in self._used.values():
            cassette, fake.app.cassette = fake.app.cassette, None
            if cassette is not None:
                cassette.close()
                misses.extend(cassette.misses)
                if self._options["cassette"] is True:  # a named cassette is shared: each test plays its part
                    _warn_unplayed(self._node, cassette)
        if misses:
            pytest.fail("\n\n".join(misses), pytrace=False)
        problems = [p for fake in self._used.values() for p in fake.take_problems() if fake.problem_policy == "fail"]
        unused = [(s, s.leftover()) for fake in self._used.values() for s in fake.scripts.exhaustive_unconsumed()]
        passed = self._node.stash.get(_CALL_PASSED, False)
        left = [
            (script, fake)
            for fake in self._used.values()
            if passed and fake.unused_replies == "fail"
            for script in fake.scripts
            if script.pending and not script.exhaustive
        ]
        if problems:
            listing = "\n\n".join(str(p) for p in problems)
            pytest.fail(
                f"pytest-openai-fake saw {len(problems)} problem(s) during this test "
                f"(use @pytest.mark.{MARKER}(problems='ignore') if they are expected):\n\n{listing}",
                pytrace=False,
            )
        if unused:
            listing = "\n".join(f"  {s!r}: {left}" for s, left in unused)
            pytest.fail(f"exhaustive script(s) not fully consumed by this test:\n{listing}", pytrace=False)
        if left:
            listing = "\n".join(
                f"  {script!r}: {script.pending} of its once replies unused after {script.call_count} call(s): "
                + ", ".join(map(repr, script.pending_replies))
                for script, _ in left
            )
            pytest.fail(
                "the test passed but left scripted once replies unused: the code made fewer calls than the "
                "script expects, or calls the script does not match. Use respond(...) for a reply that may be "
                f"used or not, or @pytest.mark.{MARKER}(unused_replies='ignore'):\n{listing}",
                pytrace=False,
            )


@pytest.fixture
def openai_servers(request: pytest.FixtureRequest) -> Iterator[FakeServers]:
    """Every provider's fake server for this test, by name: ``openai_servers["together"]``."""
    servers = FakeServers(request.config, request.node, marker_options(request.node))
    request.node.stash[_ITEM_SERVERS] = servers
    yield servers
    servers.finish()


@pytest.fixture
def openai_server(openai_servers: FakeServers, request: pytest.FixtureRequest) -> FakeOpenAI:
    """The fake server of the test's provider (``openai`` unless the marker says otherwise),
    reset for this test and configured by its ``openai_fake`` marker.

    ``openai_server.base_url`` for any client; ``openai_server.requests`` to assert on calls.
    """
    return openai_servers[marker_options(request.node)["provider"]]


@pytest.fixture
def openai_client(openai_server: FakeOpenAI) -> Any:
    """An ``openai.OpenAI`` client for the fake (``max_retries=0``; shares one HTTP pool)."""
    return openai_server.client()


@pytest.fixture
def async_openai_client(openai_server: FakeOpenAI) -> Any:
    """An ``openai.AsyncOpenAI`` client for the fake (``max_retries=0``).

    It keeps no idle connections: they would belong to this test's event loop, which is gone
    by the time fixtures are torn down, and a sync fixture cannot await their closing.
    """
    return openai_server.async_client(keep_alive=False)


@pytest.fixture
def azure_openai_client(openai_servers: FakeServers) -> Any:
    """``openai.AzureOpenAI`` for the fake Azure OpenAI server (api-version set, ``max_retries=0``)."""
    return openai_servers["azure"].client()


@pytest.fixture
def async_azure_openai_client(openai_servers: FakeServers) -> Any:
    """``openai.AsyncAzureOpenAI`` for the fake Azure OpenAI server (keeps no idle connections)."""
    return openai_servers["azure"].async_client(keep_alive=False)


@pytest.fixture
def together_client(openai_servers: FakeServers) -> Any:
    """``together.Together`` for the fake Together AI server; skips when ``together`` is not installed."""
    together = pytest.importorskip("together", reason="together_client needs the together SDK: pip install together")
    from .fake import FAKE_API_KEY

    fake = openai_servers["together"]
    return together.Together(api_key=FAKE_API_KEY, base_url=fake.url, max_retries=0, **_trusting(fake))


@pytest.fixture
def async_together_client(openai_servers: FakeServers) -> Any:
    """``together.AsyncTogether`` for the fake Together AI server; skips without the SDK."""
    together = pytest.importorskip("together", reason="async_together_client needs the together SDK: pip install together")
    from .fake import FAKE_API_KEY

    fake = openai_servers["together"]
    return together.AsyncTogether(api_key=FAKE_API_KEY, base_url=fake.url, max_retries=0, **_trusting(fake, is_async=True))


def _trusting(fake: FakeOpenAI, *, is_async: bool = False) -> dict[str, Any]:
    """Over TLS, ``http_client=`` that trusts the fake's CA (together's default client would not)."""
    return {"http_client": fake.httpx_client(is_async=is_async, keep_alive=not is_async)} if fake.tls else {}


@pytest.fixture
def mistral_client(openai_servers: FakeServers) -> Iterator[Any]:
    """``mistralai.client.Mistral`` for the fake Mistral server (sync and ``*_async`` methods);
    skips when ``mistralai`` is not installed."""
    client = pytest.importorskip("mistralai.client", reason="mistral_client needs the mistralai SDK: pip install mistralai")
    from .fake import FAKE_API_KEY

    fake = openai_servers["mistral"]
    # Its default HTTP clients build two TLS contexts (~100 ms); the fake's shared one is free.
    # Async connections would outlive the test's loop: none are kept.
    sync = fake.httpx_client()
    yield client.Mistral(api_key=FAKE_API_KEY, server_url=fake.url, client=sync, async_client=fake.httpx_client(is_async=True, keep_alive=False))
    sync.close()


#: Environment variables the SDKs read when a client is built without arguments.
#: (mistralai reads only MISTRAL_API_KEY: its server URL has no variable, pass server_url=.)
ENV_UNSET = ("AZURE_OPENAI_AD_TOKEN",)  # would be sent instead of the fake key by AzureOpenAI


@pytest.fixture
def openai_env(openai_servers: FakeServers, openai_server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Point SDK clients built anywhere in the app (``openai.OpenAI()`` with no arguments) at the fake.

    Sets, for this test only: ``OPENAI_BASE_URL`` / ``OPENAI_API_KEY`` (the test's
    ``openai_server``), ``AZURE_OPENAI_ENDPOINT`` / ``AZURE_OPENAI_API_KEY`` /
    ``OPENAI_API_VERSION`` (the fake Azure server), ``TOGETHER_BASE_URL`` / ``TOGETHER_API_KEY``
    (the fake Together server) and ``MISTRAL_API_KEY``; removes ``AZURE_OPENAI_AD_TOKEN``. Over
    TLS also ``SSL_CERT_FILE`` / ``REQUESTS_CA_BUNDLE`` (a bundle of the fake's CA and certifi's
    CAs: these variables replace a client's trust) and ``NODE_EXTRA_CA_CERTS`` (the fake's CA).
    Returns the variables it set. ini ``openai_fake_env = true`` gives it to every test.
    """
    from .fake import FAKE_API_KEY

    azure, together = openai_servers["azure"], openai_servers["together"]
    env = {
        "OPENAI_BASE_URL": openai_server.base_url,
        "OPENAI_API_KEY": FAKE_API_KEY,
        "AZURE_OPENAI_ENDPOINT": azure.url,
        "AZURE_OPENAI_API_KEY": FAKE_API_KEY,
        "OPENAI_API_VERSION": azure.provider.api_version,
        "TOGETHER_BASE_URL": together.url,
        "TOGETHER_API_KEY": FAKE_API_KEY,
        "MISTRAL_API_KEY": FAKE_API_KEY,
    }
    if openai_server.certificate is not None:
        trust = openai_server.certificate.trust_bundle()
        env.update(SSL_CERT_FILE=trust, REQUESTS_CA_BUNDLE=trust, NODE_EXTRA_CA_CERTS=openai_server.certificate.ca_bundle)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for name in ENV_UNSET:
        monkeypatch.delenv(name, raising=False)
    return env


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """ini ``openai_fake_env = true``: every test gets ``openai_env``, as if it asked for it."""
    if not config.getini("openai_fake_env"):
        return
    for item in items:
        names = getattr(item, "fixturenames", None)
        if isinstance(names, list) and "openai_env" not in names:
            names.insert(0, "openai_env")


_GUARD: pytest.StashKey[NetworkGuard] = pytest.StashKey()


class _NetworkGuardHooks:
    """``--openai-fake-block-network``: a ``NetworkGuard`` from the start of a test's setup to the
    end of its teardown. A blocked attempt raises ``NetworkBlockedError`` where it happens, and
    also fails the phase it happened in, so an app that catches the error cannot hide it."""

    def __init__(self, config: pytest.Config) -> None:
        option = config.getoption("openai_fake_block_network", None)
        self.default = bool(option) or bool(config.getini("openai_fake_block_network"))

    def enabled(self, item: pytest.Item) -> tuple[bool, str | None]:
        """Whether the guard is on for ``item``, and what is wrong with its marker (then: on)."""
        mark = item.get_closest_marker(BLOCK_NETWORK_MARKER)
        if mark is None:
            return self.default, None
        try:
            enabled = inspect.signature(_block_network_options).bind(*mark.args, **mark.kwargs).arguments.get("enabled", True)
        except TypeError as exc:
            return True, f"@pytest.mark.{BLOCK_NETWORK_MARKER} on {item.nodeid}: {exc}"
        if not isinstance(enabled, bool):
            return True, f"@pytest.mark.{BLOCK_NETWORK_MARKER} on {item.nodeid}: enabled= must be True or False, got {enabled!r}"
        return enabled, None

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Iterator[None]:
        # Nothing before the yield may raise: the inner wrappers' teardown halves run regardless.
        enabled, problem = self.enabled(item)
        if enabled:
            from .guard import NetworkGuard

            item.stash[_GUARD] = NetworkGuard().install()
        result = yield from self._checked(item, "setup")
        if problem:
            pytest.fail(problem, pytrace=False)
        return result

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Iterator[None]:
        return (yield from self._checked(item, "call"))

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_teardown(self, item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
        try:
            return (yield from self._checked(item, "teardown"))
        finally:
            guard = item.stash.get(_GUARD, None)
            if guard is not None:
                guard.uninstall()
                del item.stash[_GUARD]

    @staticmethod
    def _checked(item: pytest.Item, when: str) -> Iterator[None]:
        try:
            result = yield
        except BaseException:
            guard = item.stash.get(_GUARD, None)
            attempts = guard.take_attempts() if guard is not None else []
            if attempts:
                item.add_report_section(when, "openai-fake network guard", _blocked_message(attempts))
            raise
        guard = item.stash.get(_GUARD, None)
        attempts = guard.take_attempts() if guard is not None else []
        if attempts:
            pytest.fail(_blocked_message(attempts), pytrace=False)
        return result


def _block_network_options(enabled: bool = True) -> None:
    """The signature of ``@pytest.mark.openai_fake_block_network``."""


def _blocked_message(attempts: list[Any]) -> str:
    from .guard import HOW_TO_FIX

    counts: dict[str, int] = {}
    for attempt in attempts:
        line = attempt.describe()
        counts[line] = counts.get(line, 0) + 1
    listing = "\n".join(f"  - {line}" + (f" ({n} times)" if n > 1 else "") for line, n in counts.items())
    return (
        "pytest-openai-fake's network guard blocked this test from reaching the network "
        f"(the app may have caught the ConnectionError):\n{listing}\n{HOW_TO_FIX}"
    )


_REPORTED = pytest.StashKey[bool]()
_CALL_PASSED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A failed test's report gets the story of its OpenAI calls ("OpenAI calls": each call, what
    it sent last, what the fake answered and which script answered) and the scripts it left
    unused ("OpenAI scripts not used"). ``-vv`` adds the full bodies."""
    report = yield
    if report.when == "call":
        item.stash[_CALL_PASSED] = report.passed
    servers = item.stash.get(_ITEM_SERVERS, None)
    if servers is None or not report.failed or report.when not in ("call", "teardown") or item.stash.get(_REPORTED, False):
        return report
    item.stash[_REPORTED] = True
    used = list(servers)
    verbose = item.config.get_verbosity() >= 2
    for fake in used:
        suffix = "" if len(used) == 1 else f" ({fake.provider.name})"
        requests = fake.requests.snapshot()
        if requests:
            report.sections.append((f"OpenAI calls{suffix}", calls_report(requests, verbose=verbose)))
        unused = unused_scripts_report(fake)
        if unused:
            report.sections.append((f"OpenAI scripts not used{suffix}", unused))
    return report


def calls_report(requests: list[Any], *, verbose: bool = False) -> str:
    """Each call (``CapturedRequest``): method, path, model, status and who answered; what it sent
    last (``>``); what the fake answered (``<``). ``verbose``: the full request and response bodies too."""
    import json

    from .errors import HINT_HEADER

    lines = []
    for number, request in enumerate(requests, 1):
        response = request.response
        model = f" model={request.model}" if request.model else ""
        stream = " stream" if request.stream else ""
        by = (request.origin or "default") if request.script is None else repr(request.script)
        lines.append(f"{number:>3}. {request.method} {request.path}{model}{stream} -> {request.status}  [{by}]")
        said = request.describe_request()
        if said:
            lines.append(f"       > {said}")
        if response is not None:
            lines.append(f"       < {response.describe()}")
            hint = response.headers.get(HINT_HEADER)
            if hint:
                lines.append(f"       ! {hint}")
        if verbose:
            body = request.json
            sent = json.dumps(body, indent=2, ensure_ascii=False) if body is not None else request.body.decode("utf-8", "replace")
            lines.append("       request body:")
            lines.extend("         " + line for line in (sent or "(empty)").splitlines())
            if response is not None:
                got = response.json
                text = json.dumps(got, indent=2, ensure_ascii=False) if got is not None else response.full()
                lines.append("       response body:")
                lines.extend("         " + line for line in text.splitlines())
    return "\n".join(lines)


def unused_scripts_report(fake: FakeOpenAI) -> str:
    """The scripts that matched no call, and those with ``once`` replies left unused, with their
    filters (``<Script script_2 on(chat.completions.create, model='gpt-4o')>``)."""
    lines = []
    for script in fake.scripts:
        pending = script.pending_replies
        left = f"{len(pending)} once repl{'y' if len(pending) == 1 else 'ies'} unused: {', '.join(map(repr, pending))}"
        if not script.called:
            lines.append(f"  {script!r}: matched no call" + (f"; {left}" if pending else ""))
        elif pending:
            lines.append(f"  {script!r}: {left.replace(' unused:', f' unused after {script.call_count} call(s):')}")
    return "\n".join(lines)
