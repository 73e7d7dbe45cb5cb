"""A scripted HTTP server on loopback for transport unit tests.

The simulator models the venue; this stub plays exact byte-level scripts (a 503 then a 200, a
body cut mid-stream, a dropped connection) so each retry rule can be tested deterministically.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    status: int = 200
    body: bytes | dict[str, Any] | str = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    cut_to: int | None = None  # send only this many body bytes, announce the full length
    drop: bool = False  # close the connection without answering


def ok(result: Any, dialect: str = "errno") -> Reply:
    if dialect == "errno":
        return Reply(body={"errno": 0, "errmsg": "", "result": result})
    return Reply(body={"code": 0, "msg": "success", "result": result})


@dataclass
class Seen:
    path: str
    headers: dict[str, str]


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that time out on purpose leave broken pipes behind


class StubServer:
    """Replies from ``script`` in order (the last one repeats); records every request."""

    def __init__(self, script: list[Reply] | None = None) -> None:
        self.script: list[Reply] = list(script or [])
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                with stub._lock:
                    stub.seen.append(Seen(self.path, dict(self.headers.items())))
                    reply = stub.script.pop(0) if len(stub.script) > 1 else stub.script[0]
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                if reply.drop:
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                body = reply.body
                if isinstance(body, dict):
                    body = json.dumps(body).encode()
                elif isinstance(body, str):
                    body = body.encode()
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if reply.cut_to is not None:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()
                self.wfile.write(body if reply.cut_to is None else body[: reply.cut_to])
                self.wfile.flush()

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/openapi"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def set_script(self, script: list[Reply]) -> None:
        with self._lock:
            self.script = list(script)
            self.seen.clear()

    def start(self) -> StubServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def stub_server(script: list[Reply] | None = None) -> Iterator[StubServer]:
    server = StubServer(script or [ok({"total": 0, "list": []})]).start()
    try:
        yield server
    finally:
        server.stop()
