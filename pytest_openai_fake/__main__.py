"""``python -m pytest_openai_fake``: serve the fake until interrupted, for clients in any language."""

from __future__ import annotations

import argparse
import os
import gc
import signal
import sys
import threading
from typing import Sequence

from . import __version__
from .app import TOOL_ROUTES
from .fake import FakeOpenAI
from .providers import PROVIDERS
from .server import Limits, PortInUseError
from .tls import Certificate, TLSError


def build_parser() -> argparse.ArgumentParser:
    tools = "\n".join(f"  {method:<7} {path.replace('<path:name>', '<name>'):<26} {what}" for method, path, _, what in TOOL_ROUTES)
    parser = argparse.ArgumentParser(
        prog="python -m pytest_openai_fake",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Serve pytest-openai-fake, a deterministic in-memory fake of the OpenAI API, until\n"
            "interrupted (Ctrl-C or SIGTERM). Point any OpenAI client at the printed base URL with\n"
            "any API key."
        ),
        epilog=(
            "tool endpoints (no auth, not captured, no CORS; Host must be a loopback name, the\n"
            "bound host or an --allow-host name):\n" + tools
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
        help="answer an id the fake never created as if it existed (a generated object with that id) instead of 404"
    )
    parser.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="also answer requests whose Host header is NAME (repeatable); by default only "
        "127.0.0.1, localhost, [::1] and the --host address are answered (a guard against DNS rebinding)",
    )
    parser.add_argument(
        "--max-request-body",
        type=int,
        default=None,
        metavar="BYTES",
        help="largest request body answered; a larger one gets the 413 error envelope before it is read "
        "(default: 512 MiB)",
    )
    cassettes = parser.add_argument_group("cassettes (record once against the real API, replay here)")
    cassettes.add_argument("--cassette-dir", metavar="DIR", default=None, help="answer from cassettes in DIR (POST /__fake/cassette switches)")
    cassettes.add_argument("--cassette", metavar="NAME", default="cassette", help="the cassette of this run: DIR/NAME.json (default: %(default)s)")
    cassettes.add_argument(
        "--record-mode",
        choices=("none", "once", "new_episodes", "all"),
        default="none",
        help="none (default: replay only), once (record a cassette that does not exist yet), new_episodes, all",
    )
    cassettes.add_argument(
        "--upstream",
        metavar="URL",
        default=None,
        help="base URL recording forwards to (default: the provider's, e.g. https://api.openai.com/v1); the key comes "
        "from the provider's variable (OPENAI_API_KEY, AZURE_OPENAI_API_KEY, TOGETHER_API_KEY, MISTRAL_API_KEY)",
    )
    cassettes.add_argument("--replay-timing", choices=("fast", "recorded"), default="fast", help="replayed streams: at once, or as recorded")
    cassettes.add_argument("--scrub", action="append", default=[], metavar="NAME", help="also scrub this header or JSON field (repeatable)")
    parser.add_argument(
        "--tls",
        action="store_true",
        help="serve HTTPS with a throwaway CA and a certificate for 127.0.0.1/localhost (needs "
        "pytest-openai-fake[tls]); the CA bundle's path is printed at start-up and GET / reports it as ca_bundle. "
        "HTTP/2 is offered by ALPN when the h2 package is installed",
    )
    parser.add_argument("--tls-cert", metavar="PEM", help="serve HTTPS with this certificate (PEM, chain after it); implies --tls")
    parser.add_argument("--tls-key", metavar="PEM", help="the private key of --tls-cert (default: in the certificate file)")
    parser.add_argument("--no-http2", action="store_true", help="over TLS, offer HTTP/1.1 only (no ALPN h2)")
    parser.add_argument("--version", action="version", version=f"pytest-openai-fake {__version__}")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    port = PROVIDERS[args.provider].default_port if args.port is None else args.port
    try:
        limits = None if args.max_request_body is None else Limits(max_request_body=args.max_request_body)
    except (TypeError, ValueError) as exc:
        parser.error(f"--max-request-body: {exc}")
    if args.tls_key and not args.tls_cert:
        parser.error("--tls-key needs --tls-cert")
    tls: bool | Certificate = bool(args.tls)
    try:
        if args.tls_cert:
            tls = Certificate.from_files(args.tls_cert, args.tls_key)
        fake = FakeOpenAI(
            host=args.host,
            port=port,
            provider=args.provider,
            allowed_hosts=args.allow_host,
            limits=limits,
            lenient_ids=args.lenient_ids,
            tls=tls,
            http2=False if args.no_http2 else None,
        )
    except TLSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.cassette_dir is not None:
        from pathlib import Path

        from .cassette import Cassette, CassetteError, cassette_file, parse_upstreams, recorder_for

        try:
            recorder = recorder_for(
                fake.provider,
                mode=args.record_mode,
                upstreams=parse_upstreams([args.upstream] if args.upstream else [], PROVIDERS),
                environ=dict(os.environ),
                timing=args.replay_timing,
                scrub=args.scrub,
                rerecord="restart the server with --record-mode new_episodes (records what is missing) or --record-mode all",
            )

            def opener(name: str) -> Cassette:
                return Cassette(cassette_file(Path(args.cassette_dir), name), recorder, name=name)

            fake.app.cassette_opener = opener
            fake.app.cassette = opener(args.cassette)
        except CassetteError as exc:
            parser.error(str(exc))
    elif args.record_mode != "none" or args.upstream:
        parser.error("--record-mode and --upstream need --cassette-dir DIR")
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
    if fake.ca_bundle is not None:
        protocols = "HTTP/2 and HTTP/1.1" if fake.http2 else "HTTP/1.1"
        print(
            f"TLS ({protocols}); CA bundle: {fake.ca_bundle}\n"
            f"  trust it: SSL_CERT_FILE / REQUESTS_CA_BUNDLE / NODE_EXTRA_CA_CERTS={fake.ca_bundle}",
            flush=True,
        )
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
    code = main()
    # Nothing is left to clean up: skip the collector's pass over every imported module at exit
    # (~0.4 s of the openai package's objects), so the process ends within 0.5 s of SIGTERM.
    gc.freeze()
    sys.exit(code)
