"""Compare ways of serving the fake's werkzeug app to the real ``openai`` SDK.

Run: ``python benchmarks/serving_layers.py [--calls 2000] [--repeats 5]``

One tiny werkzeug app returns a fixed chat.completion body. Each layer serves it on
127.0.0.1 and we time ``client.chat.completions.create(...)`` through the SDK, against the
floor: the same SDK call answered in memory by ``httpx2.MockTransport``. Layers are measured
interleaved (every repeat runs every layer once) so that background load on the machine hits
all of them alike; the table shows the median µs/call over the repeats and the ratio to the
floor, and the process CPU time per call (all threads), which background load disturbs far less
than wall time on a shared 2-core machine. Then ``ServerThread.start()``/``stop()`` are timed.

Layers:
  floor          httpx2.MockTransport, no socket at all
  canned         a thread per connection answering canned bytes without parsing: the floor
                 for any loopback server (the SDK's HTTP stack + two threads + TCP)
  ServerThread   pytest_openai_fake.server (werkzeug handler subclass, HTTP/1.1 keep-alive)
  stdlib         a minimal http.server keep-alive handler with a hand-built environ
  cheroot        cheroot.wsgi.Server (only if cheroot is importable; not a dependency)
  werkzeug-dev   werkzeug.serving.make_server(threaded=True): Connection: close per call
"""

from __future__ import annotations

import argparse
import gc
import io
import re
import socket
import statistics
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from socketserver import TCPServer, ThreadingMixIn
from typing import Any
from urllib.parse import unquote

import httpx2
import openai
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pytest_openai_fake.server import ServerThread

BODY = (
    b'{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o",'
    b'"choices":[{"index":0,"message":{"role":"assistant","content":"hi","refusal":null},'
    b'"finish_reason":"stop","logprobs":null}],'
    b'"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}'
)
MESSAGES = [{"role": "user", "content": "hi"}]


@Request.application
def app(request: Request) -> Response:
    request.get_data()  # like the real app: parse the JSON body
    return Response(BODY, content_type="application/json")


# -- layers: start() serves the app and returns its base URL; stop() shuts it down -------------


class Layer:
    name = ""

    def start(self) -> str:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError


class ServerThreadLayer(Layer):
    name = "ServerThread (keep-alive)"

    def start(self) -> str:
        self.server = ServerThread(app)
        self.server.start()
        return self.server.url

    def stop(self) -> None:
        self.server.stop()


class _QuietWerkzeugHandler(WSGIRequestHandler):
    """werkzeug's own handler, minus the per-request log line (a subclass: never mutate the base)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class WerkzeugDevLayer(Layer):
    name = "werkzeug make_server (close)"

    def start(self) -> str:
        self.server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietWerkzeugHandler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        return f"http://127.0.0.1:{self.server.port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(2)


class _StdlibHandler(BaseHTTPRequestHandler):
    """The hand-written alternative: http.server parsing, a minimal environ, one write."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = 600

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def handle_one_request(self) -> None:
        try:
            self._handle_one_request()
        except (ConnectionError, TimeoutError):
            self.close_connection = True

    def _handle_one_request(self) -> None:
        self.raw_requestline = self.rfile.readline(65537)
        if not self.raw_requestline:
            self.close_connection = True
            return
        if not self.parse_request():
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path, _, query = self.path.partition("?")
        environ = {
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.input_terminated": True,
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "REQUEST_METHOD": self.command,
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote(path, "latin-1"),
            "QUERY_STRING": query,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": str(self.server.server_address[1]),  # type: ignore[index]
            "SERVER_PROTOCOL": self.request_version,
            "REMOTE_ADDR": self.client_address[0],
            "CONTENT_LENGTH": str(len(body)),
        }
        for key, value in self.headers.items():
            key = key.upper().replace("-", "_")
            if key == "CONTENT_TYPE":
                environ[key] = value
            elif key != "CONTENT_LENGTH":
                environ["HTTP_" + key] = value
        status_headers: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            status_headers.extend((status, headers))
            return self.wfile.write

        payload = b"".join(app(environ, start_response))
        status, headers = status_headers
        head = f"HTTP/1.1 {status}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
        self.wfile.write(head.encode("latin-1") + payload)


class _StdlibServer(ThreadingMixIn, TCPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True


class StdlibLayer(Layer):
    name = "stdlib http.server (keep-alive)"

    def start(self) -> str:
        self.server = _StdlibServer(("127.0.0.1", 0), _StdlibHandler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(2)


class CannedLayer(Layer):
    """The socket floor: no HTTP parsing and no app, just canned bytes back per request.

    It shows what the SDK's own HTTP stack (httpcore2 + h11) and two threads talking over
    loopback cost before any server does any work.
    """

    name = "canned bytes (socket floor)"
    REPLY = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%b" % (len(BODY), BODY)

    def start(self) -> str:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.05)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}"

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.settimeout(600)
        buffer = b""
        with conn:
            while not self.stopping.is_set():
                head_end = buffer.find(b"\r\n\r\n")
                if head_end >= 0:
                    match = re.search(rb"(?i)\r\ncontent-length: *(\d+)", buffer[:head_end])
                    end = head_end + 4 + (int(match.group(1)) if match else 0)
                    if len(buffer) >= end:
                        buffer = buffer[end:]
                        conn.sendall(self.REPLY)
                        continue
                try:
                    data = conn.recv(65536)
                except (ConnectionError, TimeoutError):
                    return
                if not data:
                    return
                buffer += data

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(2)
        self.listener.close()


class CherootLayer(Layer):
    name = "cheroot 11 (keep-alive)"

    def start(self) -> str:
        from cheroot import wsgi  # type: ignore[import-not-found]

        self.server = wsgi.Server(("127.0.0.1", 0), app, numthreads=4)
        self.server.prepare()
        self.thread = threading.Thread(target=self.server.serve, daemon=True)
        self.thread.start()
        return f"http://127.0.0.1:{self.server.bind_addr[1]}"

    def stop(self) -> None:
        self.server.stop()
        self.thread.join(2)


def cheroot_available() -> bool:
    try:
        import cheroot.wsgi  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        return False
    return True


# -- timing --------------------------------------------------------------------------------------


def make_call(client: openai.OpenAI) -> Callable[[], object]:
    def call() -> object:
        return client.chat.completions.create(model="gpt-4o", messages=MESSAGES)  # type: ignore[arg-type]

    return call


def time_calls(call: Callable[[], object], n: int) -> tuple[float, float]:
    """(wall-clock µs, process CPU µs) per call over n calls.

    CPU time counts every thread of this process (client and server alike) and is far less
    sensitive than wall time to other processes competing for the machine's cores.
    """
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(n):
        call()
    return (time.perf_counter() - wall) * 1e6 / n, (time.process_time() - cpu) * 1e6 / n


def floor_client() -> openai.OpenAI:
    def handler(request: httpx2.Request) -> httpx2.Response:
        request.read()
        return httpx2.Response(200, content=BODY, headers={"content-type": "application/json"})

    http_client = httpx2.Client(transport=httpx2.MockTransport(handler))
    return openai.OpenAI(base_url="http://fake.invalid/v1", api_key="sk-test", max_retries=0, http_client=http_client)


def bench_layers(calls: int, repeats: int, warmup: int) -> None:
    layers: list[Layer] = [CannedLayer(), ServerThreadLayer(), StdlibLayer()]
    if cheroot_available():
        layers.append(CherootLayer())
    else:
        print("(cheroot not importable: skipped; `pip install cheroot` to include it)")
    layers.append(WerkzeugDevLayer())

    targets: list[tuple[str, Callable[[], object]]] = [("in-memory MockTransport (floor)", make_call(floor_client()))]
    for layer in layers:
        url = layer.start()
        client = openai.OpenAI(base_url=url + "/v1", api_key="sk-test", max_retries=0)
        targets.append((layer.name, make_call(client)))
    try:
        for _, call in targets:
            for _ in range(warmup):
                call()
        results: dict[str, list[tuple[float, float]]] = {name: [] for name, _ in targets}
        for _ in range(repeats):
            for name, call in targets:
                results[name].append(time_calls(call, calls))
    finally:
        for layer in layers:
            layer.stop()

    floor_samples = results[targets[0][0]]
    floor_wall = statistics.median(wall for wall, _ in floor_samples)
    floor_cpu = statistics.median(cpu for _, cpu in floor_samples)
    print(f"\nµs per chat.completions.create, median of {repeats} x {calls} calls (after {warmup} warm-up)")
    print(f"{'layer':<34} {'µs/call':>8} {'min':>6} {'max':>6} {'x floor':>8} {'CPU µs':>8} {'x floor':>8}")
    for name, samples in results.items():
        walls = [wall for wall, _ in samples]
        wall = statistics.median(walls)
        cpu = statistics.median(cpu for _, cpu in samples)
        print(
            f"{name:<34} {wall:>8.0f} {min(walls):>6.0f} {max(walls):>6.0f} {wall / floor_wall:>7.2f}x"
            f" {cpu:>8.0f} {cpu / floor_cpu:>7.2f}x"
        )


def bench_start_stop(rounds: int) -> None:
    starts: list[float] = []
    stops: list[float] = []
    stops_idle_conn: list[float] = []
    for i in range(rounds):
        server = ServerThread(app)
        t0 = time.perf_counter()
        server.start()
        starts.append(time.perf_counter() - t0)
        if i % 2:  # leave an idle keep-alive connection open
            with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
                sock.sendall(b"GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n")
                _read_response(sock)
                t0 = time.perf_counter()
                server.stop()
                stops_idle_conn.append(time.perf_counter() - t0)
        else:
            t0 = time.perf_counter()
            server.stop()
            stops.append(time.perf_counter() - t0)

    def ms(values: list[float]) -> str:
        return f"median {statistics.median(values) * 1e3:.2f} ms, max {max(values) * 1e3:.2f} ms"

    print(f"\nServerThread over {rounds} rounds (first start: {starts[0] * 1e3:.2f} ms)")
    print(f"  start()                          {ms(starts)}")
    print(f"  stop(), no connection            {ms(stops)}")
    print(f"  stop(), idle keep-alive client   {ms(stops_idle_conn)}")


def _read_response(sock: socket.socket) -> bytes:
    data = b""
    for _ in range(100):
        data += sock.recv(65536)
        head, sep, body = data.partition(b"\r\n\r\n")
        if sep:
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:") and len(body) >= int(line.split(b":")[1]):
                    return data
    raise RuntimeError("incomplete response")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--start-stop-rounds", type=int, default=40)
    args = parser.parse_args(argv)
    print(f"python {sys.version.split()[0]}, openai {openai.__version__}, httpx2 {httpx2.__version__}")
    bench_layers(args.calls, args.repeats, args.warmup)
    bench_start_stop(args.start_stop_rounds)


if __name__ == "__main__":
    main()
