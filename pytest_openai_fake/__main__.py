"""``python -m pytest_openai_fake``: serve the fake until interrupted, for clients in any language."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Sequence

from . import __version__
from .fake import FakeOpenAI
from .providers import PROVIDERS
from .server import PortInUseError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pytest_openai_fake",
        description=(
            "Serve pytest-openai-fake, a deterministic in-memory fake of the OpenAI API, until "
            "interrupted (Ctrl-C or SIGTERM). Point any OpenAI client at the printed base URL with "
            "any API key. Tools: GET /health, GET / (service metadata), GET or DELETE "
            "/__fake/requests (the request log), POST /__fake/reset (forget everything)."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: %(default)s)")
    parser.add_argument(
        "--port",
        type=int,
        default=None,
        help="port to listen on; 0 picks a free one (default: the provider's: "
        + ", ".join(f"{p.name} {p.default_port}" for p in PROVIDERS.values())
        + ")",
    )
    parser.add_argument(
        "--provider",
        default="openai",
        choices=sorted(PROVIDERS),
        help="which API to emulate (default: %(default)s)",
    )
    parser.add_argument(
        "--lenient-ids",
        action="store_true",
        help="answer an id the fake never created as if it existed (a generated object with that id) instead of 404",
    )
    parser.add_argument("--version", action="version", version=f"pytest-openai-fake {__version__}")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    port = PROVIDERS[args.provider].default_port if args.port is None else args.port
    fake = FakeOpenAI(host=args.host, port=port, provider=args.provider, lenient_ids=args.lenient_ids)
    try:
        fake.start()
    except PortInUseError:
        print(f"error: port {port} on {args.host} is already in use; choose another with --port (0 picks a free one)", file=sys.stderr)
        return 2
    stop = threading.Event()
    # Installed explicitly: a parent may have left SIGINT ignored or at its default (kill).
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    print(f"pytest-openai-fake {__version__} emulating {args.provider} at {fake.base_url} (Ctrl-C to stop)", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()
    print("pytest-openai-fake stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
