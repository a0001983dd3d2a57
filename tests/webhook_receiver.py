"""A webhook receiver on loopback for tests: records raw bodies, answers from a script."""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.servers import free_port

HANG = "hang"  # a scripted answer: hold the request until the receiver is released


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


class Receiver:
    """An HTTP endpoint on 127.0.0.1 that records every POST and answers from a script
    per path (status codes, or HANG), then 200. It can go down and come back on its port."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.received: list[Received] = []
        self.scripts: dict[str, list[int | str]] = {}
        self.released = threading.Event()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def up(self) -> "Receiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                headers = {name.lower(): value for name, value in self.headers.items()}
                with receiver._lock:
                    receiver.received.append(Received(self.path, headers, body, time.monotonic()))
                    script = receiver.scripts.get(self.path)
                    answer = script.pop(0) if script else 200
                if answer == HANG:
                    receiver.released.wait(timeout=30)
                    answer = 200
                try:
                    self.send_response(int(answer))
                    self.send_header("content-length", "0")
                    self.end_headers()
                except OSError:  # the sender gave up on us (HANG)
                    pass

            def log_message(self, *_: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def down(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def at(self, path: str) -> list[Received]:
        with self._lock:
            return [hit for hit in self.received if hit.path == path]

    def wait_for(self, path: str, count: int, timeout: float = 10) -> list[Received]:
        eventually(lambda: len(self.at(path)) >= count, timeout, f"{count} POSTs to {path}")
        return self.at(path)


def eventually(check: Callable[[], Any], timeout: float = 10, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
