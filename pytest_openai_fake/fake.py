"""``FakeOpenAI``: the emulator as an object — an app, its server thread, and its state.

Usable without pytest::

    with FakeOpenAI() as fake:
        client = fake.client()
        client.chat.completions.create(model="gpt-4o", messages=[...])
        assert fake.requests.last.endpoint == "chat.completions.create"
"""

from __future__ import annotations

import dataclasses
import ssl
from types import TracebackType
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Pattern

from .app import FakeApp, Problem
from .capture import CapturedRequest, RequestLog
from .determinism import Clock
from .providers import get_provider
from .scripting import Script, ScriptError, Scripts, error, warn_deprecated
from .sdk import async_http_client, sync_http_client
from .server import Limits, ServerThread
from .state import Store, base_model
from .tls import Certificate, TLSError, http2_available

if TYPE_CHECKING:
    import openai

__all__ = ["FakeOpenAI"]

#: The key the fake's own clients send. Any non-empty Bearer token is accepted.
FAKE_API_KEY = "sk-fake-pytest-openai-fake"


class FakeOpenAI:
    """An in-memory OpenAI API on ``http://127.0.0.1:<port>`` (``https://`` with ``tls=True``).

    ``port=0`` (the default) picks a free ephemeral port. ``base_url`` is what an SDK client
    needs (``http://127.0.0.1:<port>/v1``); ``url`` is the server root.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        provider: str = "openai",
        allowed_hosts: Iterable[str] = (),
        keep_credentials: bool = False,
        limits: Limits | None = None,
        lenient_ids: bool = False,
        tls: bool | Certificate = False,
        http2: bool | None = None,
    ) -> None:
        """``allowed_hosts``: Host names answered besides ``127.0.0.1``, ``localhost``, ``[::1]``
        and ``host`` (any other Host header gets a 421, a guard against DNS rebinding).
        ``keep_credentials``: keep ``Authorization`` / ``api-key`` unmasked in ``requests``
        (``GET /__fake/requests`` masks them always). ``limits``: the server's request-size,
        connection and deadline limits (``pytest_openai_fake.Limits``; the defaults when None).
        ``lenient_ids``: an id the fake never created answers as a generated object with that id
        instead of 404, in every test (the stateless mode of ``--lenient-ids``).
        ``tls``: serve HTTPS. ``True`` makes a throwaway CA and a certificate for 127.0.0.1 /
        localhost / ::1 (needs the ``tls`` extra, ``trustme``); a ``pytest_openai_fake.Certificate``
        (``Certificate.from_files(cert, key)``) is presented as it is. ``ca_bundle`` is then the
        PEM file clients trust, and the fake's own clients trust it. ``http2``: offer HTTP/2 over
        TLS (ALPN ``h2``); None (the default) offers it when the ``h2`` library is installed
        (the ``http2`` extra), True requires it, False never offers it."""
        self.provider = get_provider(provider)
        self.app = FakeApp(self.provider, allowed_hosts=allowed_hosts, keep_credentials=keep_credentials)
        if lenient_ids:  # kept across resets
            self.app.state.lenient_ids_default = self.app.state.lenient_ids = True
        #: The certificate the server presents (None: plain HTTP).
        self.certificate: Certificate | None = Certificate.throwaway_ca() if tls is True else (tls or None)
        if http2 and not http2_available():
            raise TLSError("pytest-openai-fake: http2=True needs the h2 package: pip install 'pytest-openai-fake[http2]'")
        if http2 and self.certificate is None:
            raise TLSError("pytest-openai-fake: http2=True needs tls=True (HTTP/2 is offered over TLS, by ALPN)")
        #: Whether HTTP/2 is offered (ALPN ``h2``) to TLS clients.
        self.http2 = self.certificate is not None and (http2_available() if http2 is None else http2)
        context = None if self.certificate is None else self.certificate.server_context(http2=self.http2)
        self.app.ca_bundle = self.ca_bundle
        self._server = ServerThread(self.app, host=host, port=port, tls=context, **dataclasses.asdict(limits or Limits()))
        self._http_client: Any = None  # httpx2.Client (openai 3.x) or httpx.Client (2.x)
        #: Whether ``once`` replies a passing test leaves unused fail it (the pytest plugin's check).
        self.unused_replies = "fail"
        self._ssl_context: ssl.SSLContext | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> FakeOpenAI:
        self._server.start()
        return self

    def stop(self) -> None:
        self.app.cancel_waits()
        if self._http_client is not None:
            self._http_client.close()
            self._http_client = None
        self._server.stop()

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._server.running

    @property
    def port(self) -> int:
        return self._server.port

    @property
    def url(self) -> str:
        """The server root, e.g. ``http://127.0.0.1:4747``."""
        return self._server.url

    @property
    def tls(self) -> bool:
        """Whether the fake serves HTTPS."""
        return self.certificate is not None

    @property
    def ca_bundle(self) -> str | None:
        """The PEM file a client trusts to verify the fake over HTTPS (None without TLS):
        ``openai.OpenAI(base_url=fake.base_url, http_client=httpx2.Client(verify=ssl.create_default_context(cafile=fake.ca_bundle)))``,
        or ``SSL_CERT_FILE`` / ``REQUESTS_CA_BUNDLE`` / ``NODE_EXTRA_CA_CERTS`` for other clients."""
        return None if self.certificate is None else self.certificate.ca_bundle

    @property
    def websocket_options(self) -> dict[str, Any]:
        """What the SDK's WebSocket connects need to reach the fake: over TLS, an SSL context that
        trusts ``ca_bundle`` (the ``websockets`` library does not use the HTTP client's ``verify``);
        ``{}`` without TLS. ``client.realtime.connect(model=..., websocket_connection_options=fake.websocket_options)``."""
        return {} if self.certificate is None else {"ssl": self._ssl()}

    @property
    def base_url(self) -> str:
        """What an SDK's ``base_url`` should be, e.g. ``http://127.0.0.1:4747/v1``."""
        return self._server.url + self.provider.base_path

    @property
    def websocket_base_url(self) -> str:
        """What an SDK's ``websocket_base_url`` should be, e.g. ``ws://127.0.0.1:4747/v1``
        (``wss://`` over TLS). openai 2.0 needs it for sockets over plain HTTP."""
        return ("wss" if self.tls else "ws") + self.base_url.removeprefix("https" if self.tls else "http")

    # -- state and inspection ------------------------------------------------------------------

    @property
    def requests(self) -> RequestLog:
        """Every API request answered since the last reset, oldest first."""
        return self.app.requests

    @property
    def state(self) -> Store:
        return self.app.state

    @property
    def clock(self) -> Clock:
        """The fake clock behind every ``created`` timestamp. ``fake.clock.advance(60)``."""
        return self.app.clock

    def reset(self) -> None:
        """Back to a fresh fake: no requests, no stored objects, full catalog, clock at start."""
        self.app.reset()
        self.unused_replies = "fail"

    def configure(
        self,
        *,
        models: Iterable[str] | None = None,
        problems: str | None = None,
        deployments: Mapping[str, str] | None = None,
        unused_replies: str | None = None,
        lenient_ids: bool | None = None,
        strict: bool | None = None,
    ) -> None:
        """Per-test settings, as the ``openai_fake`` marker applies them.

        ``models``: only these models exist. ``problems``: ``"fail"`` (the default: problems — a
        request no route matches, an exception inside the fake, a script that cannot be followed
        — fail the test) or ``"ignore"``. ``deployments``: deployment name -> model id for
        Azure-style paths: once a test configures any, only those exist (a later call adds more);
        without any, every catalog model is a deployment of its own name. ``unused_replies``:
        ``"fail"`` (the default: ``once`` replies a passing test leaves unused fail it at teardown,
        under the pytest plugin) or ``"ignore"``. ``strict=True/False`` is the deprecated spelling
        of ``problems="fail"/"ignore"``. ``lenient_ids=True``: an id the fake never created answers
        as if it existed (a generated object with that id) instead of the API's 404, for the
        endpoints of the generic layer: the stateless mode for SDK-level sanity checks.
        """
        __tracebackhide__ = True
        if strict is not None:
            if problems is not None:
                raise TypeError("configure(): give problems= only (strict= is its deprecated spelling)")
            warn_deprecated("configure(strict=...) is deprecated: use problems='fail' (strict=True) or problems='ignore' (strict=False)")
            problems = "fail" if strict else "ignore"
        if problems is not None and problems not in ("fail", "ignore"):
            raise ValueError(f"configure(): problems must be 'fail' or 'ignore', got {problems!r}")
        if unused_replies is not None and unused_replies not in ("fail", "ignore"):
            raise ValueError(f"configure(): unused_replies must be 'fail' or 'ignore', got {unused_replies!r}")
        if unused_replies is not None:
            self.unused_replies = unused_replies
        with self.app.lock:
            if models is not None:
                self.app.state.models.restrict(models)
            if problems is not None:
                self.app.strict = problems == "fail"  # FakeApp's flag: problems fail the test
            if deployments is not None:
                self.app.state.deployments.update(deployments)
            if lenient_ids is not None:
                self.app.state.lenient_ids = bool(lenient_ids)

    # -- scripting -----------------------------------------------------------------------------

    def on(
        self,
        endpoint: str | None = None,
        *,
        model: str | None = None,
        message: str | Pattern[str] | None = None,
        stream: bool | None = None,
        match: Callable[[CapturedRequest], bool] | None = None,
        exhaustive: bool = False,
        strict: bool | None = None,
    ) -> Script:
        """Script the answers to the calls that match: ``fake.on("chat.completions.create").respond("Hi")``.

        ``endpoint`` is the SDK call path (``"chat.completions.create"``; a URL path such as
        ``"/v1/chat/completions"`` is read as the endpoint it routes to; ``None``: every endpoint).
        ``model`` must equal the request's model (a model neither in the provider's catalog nor in
        this test's is refused: add it first with ``state.models.add``); ``message`` is a substring
        (or compiled regex) of the last user message; ``stream`` picks streamed or plain calls;
        ``match`` is any predicate on the ``CapturedRequest``; it and reply functions run outside
        the fake's lock, so a slow one holds up no other call. Scripts are tried in the order they
        were made. ``exhaustive=True``: the replies are all the calls there will be — a call after
        the ``once`` replies are used up fails the test, and so do replies left unused when the
        test ends, and a ``respond`` reply no call matched (``strict=`` is its deprecated
        spelling). See ``pytest_openai_fake.scripting``.
        """
        __tracebackhide__ = True
        if strict is not None:
            warn_deprecated("on(..., strict=...) is deprecated: use on(..., exhaustive=...)")
            exhaustive = exhaustive or bool(strict)
        if model is not None and isinstance(model, str) and model and not self._may_exist(model):
            raise ScriptError(
                f"on(model={model!r}): no such model in the {self.provider.name} catalog or this test's, so the "
                f"script could never match; add it first with openai_server.state.models.add({model!r}) or "
                f"@pytest.mark.openai_fake(models=[..., {model!r}])"
            )
        return self.app.scripts.on(endpoint, model=model, message=message, stream=stream, match=match, exhaustive=exhaustive)

    def _may_exist(self, model: str) -> bool:
        """Whether a call may name ``model`` and not be refused: it is in this test's catalog, the
        provider's (the test may still add it), a fine-tune of one, or a deployment name."""
        if model in self.app.state.models or model in self.app.state.deployments or self.provider.serves_deployments:
            return True
        known = {card.id for card in self.provider.catalog}
        return model in known or base_model(model) in known

    def fail_next(self, times: int = 1, status: int = 500, *, endpoint: str | None = None, **fault: Any) -> Script:
        """The next ``times`` calls (to ``endpoint``, or to any endpoint) get ``error(status, **fault)``.

        ``fake.fail_next(2, 429, retry_after=0.001)``: two rate-limit errors, then normal answers.
        """
        __tracebackhide__ = True
        outcome = error(status, **fault)
        if not isinstance(times, int) or isinstance(times, bool) or times < 1:
            raise ScriptError(f"fail_next(): times must be a positive number, got {times!r}")
        return self.on(endpoint).once(*[outcome] * times)

    @property
    def scripts(self) -> Scripts:
        """Every script of this test, in the order they were made."""
        return self.app.scripts

    def assert_all_consumed(self) -> None:
        """Fail unless every ``once`` reply of every script was used."""
        self.app.scripts.assert_all_consumed()

    @property
    def problem_policy(self) -> str:
        """``"fail"`` (problems fail the test at teardown) or ``"ignore"`` (marker ``problems=``)."""
        return "fail" if self.app.strict else "ignore"

    @property
    def strict(self) -> bool:
        """Deprecated: ``problem_policy == "fail"``."""
        warn_deprecated("FakeOpenAI.strict is deprecated: use FakeOpenAI.problem_policy ('fail' or 'ignore')")
        return self.app.strict

    def take_problems(self) -> list[Problem]:
        """The problems seen since the last call (and forget them)."""
        return self.app.take_problems()

    # -- clients -------------------------------------------------------------------------------

    def client(self, **kwargs: Any) -> openai.OpenAI:
        """An ``openai.OpenAI`` pointed at this fake (``max_retries=0``; override any argument).

        Clients share one HTTP connection pool, so making one costs well under a millisecond.
        """
        import openai

        if "http_client" not in kwargs:
            if self._http_client is None:
                self._http_client = sync_http_client(verify=self._ssl())
            kwargs["http_client"] = self._http_client
        if self.provider.client_kind == "azure":
            return openai.AzureOpenAI(**self._azure_options(**kwargs))
        return openai.OpenAI(**self._client_options(**kwargs))

    def async_client(self, *, keep_alive: bool = True, **kwargs: Any) -> openai.AsyncOpenAI:
        """An ``openai.AsyncOpenAI`` pointed at this fake, with its own HTTP client.

        Async connection pools belong to one event loop, so each async client gets a fresh one
        (cheap: the TLS context is built once per fake). Close it with ``await client.close()``;
        ``keep_alive=False`` keeps no idle connections, for when nobody will close it.
        """
        import openai

        if "http_client" not in kwargs:
            kwargs["http_client"] = async_http_client(verify=self._ssl(), keep_alive=keep_alive)
        if self.provider.client_kind == "azure":
            return openai.AsyncAzureOpenAI(**self._azure_options(**kwargs))
        return openai.AsyncOpenAI(**self._client_options(**kwargs))

    def httpx_client(self, *, is_async: bool = False, keep_alive: bool = True) -> Any:
        """An ``httpx`` client (the library the Together and Mistral SDKs are built on) that trusts
        this fake, with the fake's shared TLS context (a fresh one costs ~50 ms per client).
        ``keep_alive=False`` keeps no idle connections (async pools belong to one event loop)."""
        import httpx  # installed with those SDKs

        limits = {} if keep_alive else {"limits": httpx.Limits(max_keepalive_connections=0)}
        return (httpx.AsyncClient if is_async else httpx.Client)(verify=self._ssl(), **limits)

    def _client_options(self, **overrides: Any) -> dict[str, Any]:
        # websocket_base_url: the socket endpoints (realtime, the Responses socket) at ws:// over
        # plain HTTP. Newer SDKs derive that from base_url; openai 2.0 always dials wss://.
        options = {"base_url": self.base_url, "websocket_base_url": self.websocket_base_url, "api_key": FAKE_API_KEY, "max_retries": 0}
        return {**options, **overrides}

    def _azure_options(self, **overrides: Any) -> dict[str, Any]:
        # AzureOpenAI builds /openai/deployments/<model>/... from azure_endpoint itself.
        return {"azure_endpoint": self.url, "api_key": FAKE_API_KEY, "api_version": self.provider.api_version, "max_retries": 0, **overrides}

    def _ssl(self) -> ssl.SSLContext:
        """The client TLS context of the fake's own clients: the system's CAs, plus ``ca_bundle``
        over TLS. Built once per fake (building one is what makes a new SDK client cost ~50 ms)."""
        if self._ssl_context is None:
            self._ssl_context = ssl.create_default_context() if self.certificate is None else self.certificate.client_context()
        return self._ssl_context

    def __repr__(self) -> str:
        state = self.base_url if self.running else "stopped"
        return f"<FakeOpenAI {self.provider.name} {state}>"

