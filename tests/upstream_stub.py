"""A scriptable stand-in for a Run:ai control plane on loopback, for fault tests.

Each request takes the next Reply of the queue (or `handler(seen)`, or `default`); every
request is recorded, and every accepted TCP connection counted, so a test can assert that a
POST was sent once or that twenty calls shared one connection. It speaks HTTP/1.1 with
Content-Length, so keep-alive works as with a real server.
"""

import json
import socket
import struct
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    status: int = 200
    body: object = None  # dict/list: JSON; str/bytes: sent as they are; None: empty
    headers: dict = field(default_factory=dict)
    delay: float = 0.0  # seconds before the status line
    reset: bool = False  # drop the connection (RST) instead of answering
    trickle: float = 0.0  # seconds between body bytes (a server that never quite finishes)


@dataclass
class Seen:
    method: str
    path: str  # with the query string
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def get_request(self):
        connection = super().get_request()
        self.stub.connections += 1
        return connection

    def handle_error(self, request, client_address):
        pass  # a client that gave up (timeout) makes our late write fail: expected here


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 5  # idle keep-alive connections end on their own
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall

    def log_message(self, format, *args):
        pass

    def _serve(self):
        stub = self.server.stub
        length = int(self.headers.get("Content-Length") or 0)
        seen = Seen(self.command, self.path, dict(self.headers), self.rfile.read(length))
        reply = stub.take(seen)
        if reply.delay and stub.stopping.wait(reply.delay):
            return
        if reply.reset:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        body = reply.body
        if isinstance(body, dict | list):
            body = json.dumps(body)
        body = body.encode() if isinstance(body, str) else (body or b"")
        self.send_response(reply.status)
        headers = {"Content-Type": "application/json", **reply.headers}
        for name, value in headers.items():
            self.send_header(name, str(value))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command == "HEAD":
            return
        if reply.trickle:
            for index in range(len(body)):
                self.wfile.write(body[index : index + 1])
                self.wfile.flush()
                if stub.stopping.wait(reply.trickle):
                    return
        else:
            self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve


class UpstreamStub:
    def __init__(self):
        self.replies: deque[Reply] = deque()
        self.handler = None  # callable(Seen) -> Reply, used when the queue is empty
        self.default = Reply(200, {})
        self.requests: list[Seen] = []
        self.connections = 0
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.stub = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def script(self, *replies: Reply) -> None:
        self.replies.extend(replies)

    def take(self, seen: Seen) -> Reply:
        with self._lock:
            self.requests.append(seen)
            if self.replies:
                return self.replies.popleft()
        return self.handler(seen) if self.handler else self.default

    def seen(self, method: str | None = None) -> list[Seen]:
        return [r for r in self.requests if method is None or r.method == method]

    def start(self) -> "UpstreamStub":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()  # wakes handlers sleeping on a delay
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def closed_port() -> int:
    """A loopback port nothing listens on: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
