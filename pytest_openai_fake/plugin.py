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
            "port of the fake OpenAI server (default 0: an ephemeral port). Under pytest-xdist, "
            "worker gwN uses PORT+N. Also ini openai_fake_port and env " + PORT_ENV + "."
        ),
    )
    parser.addini("openai_fake_port", help="port of the fake OpenAI server (0 = ephemeral)", default=None)
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
        f"{MARKER}(models=None, strict=True, replies=None, faults=None, provider='openai', deployments=None): "
        "configure the fake OpenAI server for this test. models: the only model ids that exist; strict: "
        "fail the test when the fake raised or got a request it has no route for; replies/faults: endpoint "
        "name -> a reply for every call, or a list of replies, one per call ('*' for faults on every "
        "endpoint); provider: which provider openai_server emulates (openai, together, mistral, azure); "
        "deployments: Azure deployment name -> model id.",
    )
    config.addinivalue_line(
        "markers",
        f"{BLOCK_NETWORK_MARKER}(enabled=True): fail this test if it connects to an address off this machine or "
        "looks up a real provider host; enabled=False lets it when --openai-fake-block-network is on.",
    )
    config.pluginmanager.register(_NetworkGuardHooks(config), "openai_fake_network_guard")


def pytest_unconfigure(config: pytest.Config) -> None:
    for fake in config.stash.get(_SERVERS, {}).values():
        fake.stop()
    config.stash[_SERVERS] = {}


def configured_port(config: pytest.Config) -> int:
    """The port from ``--openai-fake-port``, else ini, else env; shifted by the xdist worker."""
    value: Any = config.getoption("openai_fake_port")
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
    if not 0 <= port <= 65535:
        raise pytest.UsageError(f"{source}: port {port} is out of range 0-65535")
    return port + _xdist_offset() if port else 0


def _xdist_offset() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else 0


def _marker_options(
    *,
    models: Collection[str] | None = None,
    strict: bool = True,
    replies: Mapping[str, Any] | None = None,
    faults: Mapping[str, Any] | None = None,
    provider: str = "openai",
    deployments: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The signature of ``@pytest.mark.openai_fake``; binding to it validates the marker.

    ``replies`` / ``faults``: endpoint name (or ``"*"`` for faults on every endpoint) -> one
    outcome for every call, or a list answered one per call. Faults are installed first.
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
    if not isinstance(strict, bool):
        raise TypeError(f"strict= must be True or False, got {strict!r}")
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
    if provider not in PROVIDERS:
        raise TypeError(f"provider= must be one of {', '.join(sorted(PROVIDERS))}, got {provider!r}")
    if deployments is not None and (
        not isinstance(deployments, Mapping) or not all(isinstance(k, str) and isinstance(v, str) and k and v for k, v in deployments.items())
    ):
        raise TypeError(f"deployments= must map deployment names to model ids, got {deployments!r}")
    return {"models": models, "strict": strict, "replies": replies, "faults": faults, "provider": provider, "deployments": deployments}


def marker_options(node: pytest.Item) -> dict[str, Any]:
    """The merged ``openai_fake`` markers of a test (the closest one wins per keyword)."""
    merged: dict[str, Any] = {}
    for mark in reversed(list(node.iter_markers(MARKER))):
        try:
            bound = inspect.signature(_marker_options).bind(*mark.args, **mark.kwargs)
            _marker_options(**bound.arguments)
        except TypeError as exc:
            raise pytest.UsageError(f"@pytest.mark.{MARKER} on {node.nodeid}: {exc}") from None
        merged.update(bound.arguments)
    return _marker_options(**merged)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Validate the test's ``openai_fake`` marker, scripts included, whether or not the test asks
    for a fake: a wrong marker is an error at setup, not silently ignored. Starts no server."""
    if item.get_closest_marker(MARKER) is None:
        return
    from .app import routes_of
    from .scripting import Scripts

    try:
        options = marker_options(item)
        if options["replies"] or options["faults"]:
            # A dry run against the provider's route table: unknown endpoints, replies an
            # endpoint cannot give, dict replies that don't fit its response model.
            _install_scripts(Scripts(routes_of(options["provider"]), threading.RLock()).on, options, item)
    except pytest.UsageError as exc:
        pytest.fail(str(exc), pytrace=False)


def _install_scripts(on: Callable[..., Script], options: dict[str, Any], node: pytest.Item) -> None:
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
        raise pytest.UsageError(f"@pytest.mark.{MARKER} on {node.nodeid}: {exc}") from None


def _session_server(config: pytest.Config, provider: str = "openai") -> FakeOpenAI:
    """The session's server for ``provider``, started the first time a test asks for it.

    A fixed port (``--openai-fake-port``) is the openai server's; another provider's server
    keeps the distance between the standalone default ports (mistral PORT+8, together PORT+116).
    """
    from .fake import FakeOpenAI
    from .providers import PROVIDERS
    from .server import PortInUseError

    servers = config.stash.setdefault(_SERVERS, {})
    fake = servers.get(provider)
    if fake is None:
        port = configured_port(config)
        if port:
            port += PROVIDERS[provider].default_port - PROVIDERS["openai"].default_port
        fake = FakeOpenAI(port=port, provider=provider)
        try:
            fake.start()
        except PortInUseError as exc:
            raise pytest.UsageError(str(exc)) from None
        servers[provider] = fake
    return fake


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
        if provider == self._options["provider"]:
            fake.configure(models=self._options["models"], strict=self._options["strict"])
            _install_scripts(fake.on, self._options, self._node)
        if fake.provider.serves_deployments and self._options["deployments"] is not None:
            fake.configure(deployments=self._options["deployments"])  # also a Mistral test's Azure server
        self._used[provider] = fake
        return fake

    def __iter__(self) -> Iterator[FakeOpenAI]:
        return iter(list(self._used.values()))

    def finish(self) -> None:
        """Fail the test for the problems and unused strict scripts of every server it used."""
        problems = [p for fake in self._used.values() for p in fake.take_problems() if fake.strict]
        unused = [(s, s.leftover()) for fake in self._used.values() for s in fake.scripts.strict_unconsumed()]
        if problems:
            listing = "\n\n".join(str(p) for p in problems)
            pytest.fail(
                f"pytest-openai-fake saw {len(problems)} problem(s) during this test "
                f"(use @pytest.mark.{MARKER}(strict=False) if they are expected):\n\n{listing}",
                pytrace=False,
            )
        if unused:
            listing = "\n".join(f"  {s!r}: {left}" for s, left in unused)
            pytest.fail(f"strict script(s) not fully consumed by this test:\n{listing}", pytrace=False)


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

    return together.Together(api_key=FAKE_API_KEY, base_url=openai_servers["together"].url, max_retries=0)


@pytest.fixture
def async_together_client(openai_servers: FakeServers) -> Any:
    """``together.AsyncTogether`` for the fake Together AI server; skips without the SDK."""
    together = pytest.importorskip("together", reason="async_together_client needs the together SDK: pip install together")
    from .fake import FAKE_API_KEY

    return together.AsyncTogether(api_key=FAKE_API_KEY, base_url=openai_servers["together"].url, max_retries=0)


@pytest.fixture
def mistral_client(openai_servers: FakeServers) -> Iterator[Any]:
    """``mistralai.client.Mistral`` for the fake Mistral server (sync and ``*_async`` methods);
    skips when ``mistralai`` is not installed."""
    client = pytest.importorskip("mistralai.client", reason="mistral_client needs the mistralai SDK: pip install mistralai")
    import httpx  # mistralai's HTTP library, installed with it

    from .fake import FAKE_API_KEY

    fake = openai_servers["mistral"]
    # Its default HTTP clients build two TLS contexts (~100 ms); the fake's shared one is free.
    sync = httpx.Client(verify=fake._ssl())
    idle = httpx.Limits(max_keepalive_connections=0)  # async connections would outlive the test's loop
    yield client.Mistral(
        api_key=FAKE_API_KEY, server_url=fake.url, client=sync, async_client=httpx.AsyncClient(verify=fake._ssl(), limits=idle)
    )
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
    (the fake Together server) and ``MISTRAL_API_KEY``; removes ``AZURE_OPENAI_AD_TOKEN``.
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


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    servers = item.stash.get(_ITEM_SERVERS, None)
    if servers is not None and report.failed and report.when == "call":
        used = list(servers)
        for fake in used:
            requests = fake.requests.snapshot()
            title = "OpenAI calls" if len(used) == 1 else f"OpenAI calls ({fake.provider.name})"
            lines = [f"{i + 1:>3}. {r.summary()}" for i, r in enumerate(requests)]
            report.sections.append((title, "\n".join(lines) if lines else "(none)"))
    return report
