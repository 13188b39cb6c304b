"""What differs between the supported openai SDK releases (2.x and 3.x), found by feature.

Nothing here compares version numbers: it asks the installed package what it has
(docs/versions.md lists what that means per release).
"""

from __future__ import annotations

import importlib
from functools import lru_cache
from types import ModuleType
from typing import Any

__all__ = ["http_module", "sync_http_client", "async_http_client", "stream_cut_errors", "stream_timeout_errors"]


@lru_cache(maxsize=None)
def http_module() -> ModuleType:
    """The HTTP library the installed SDK's default clients are built on.

    ``httpx2`` under openai 3.x, ``httpx`` under 2.x (2.x can take an httpx2 client too, but
    only as an optional extra). Read from the base classes of ``openai.DefaultHttpxClient``,
    the class the SDK itself builds its default client from, in every release since 1.17.
    """
    import openai

    for cls in openai.DefaultHttpxClient.__mro__:
        if cls.__name__ == "Client" and cls.__module__.split(".")[0] in ("httpx", "httpx2"):
            return importlib.import_module(cls.__module__.split(".")[0])
    raise RuntimeError(f"openai.DefaultHttpxClient is not built on httpx or httpx2: {openai.DefaultHttpxClient.__mro__}")


def sync_http_client(**kwargs: Any) -> Any:
    """The SDK's own default sync HTTP client (its timeouts, limits and redirects), with ``kwargs``."""
    import openai

    return openai.DefaultHttpxClient(**kwargs)


def async_http_client(*, keep_alive: bool = True, **kwargs: Any) -> Any:
    """The SDK's own default async HTTP client; ``keep_alive=False`` keeps no idle connections."""
    import openai

    if not keep_alive:
        kwargs["limits"] = http_module().Limits(max_keepalive_connections=0)
    return openai.DefaultAsyncHttpxClient(**kwargs)


def stream_cut_errors() -> tuple[type[BaseException], ...]:
    """What iterating a stream whose connection was cut raises under the installed SDK.

    openai 3.x's ``Stream`` turns transport errors into ``openai.APIConnectionError``; 2.x lets
    the HTTP library's own error through (``httpx.ReadError``, ``httpx.RemoteProtocolError``).
    For tests of ``cut_stream()``: ``with pytest.raises(stream_cut_errors()): ...``.
    """
    import openai
    import openai._streaming

    if getattr(openai._streaming, "APIConnectionError", None) is openai.APIConnectionError:
        return (openai.APIConnectionError,)
    return (openai.APIConnectionError, http_module().TransportError)


def stream_timeout_errors() -> tuple[type[BaseException], ...]:
    """What a read timeout while iterating a stream raises under the installed SDK.

    ``openai.APITimeoutError`` under 3.x; the HTTP library's ``TimeoutException`` under 2.x.
    """
    import openai
    import openai._streaming

    if getattr(openai._streaming, "APITimeoutError", None) is openai.APITimeoutError:
        return (openai.APITimeoutError,)
    return (openai.APITimeoutError, http_module().TimeoutException)
