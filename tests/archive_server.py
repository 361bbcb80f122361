"""A real HTTP server on 127.0.0.1 for download tests: serves bytes, honours ``Range``, counts
the body bytes it sends, and misbehaves on demand (cuts a transfer, ignores ``Range``, answers
with an HTML page)."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class ServerState:
    """What the test server serves and how it misbehaves; ``requests`` logs (path, Range)."""

    files: dict[str, bytes] = field(default_factory=dict)
    cut_after: int | None = None  # drop the connection after this many body bytes, once
    ignore_range: bool = False
    html: bool = False
    requests: list[tuple[str, str | None]] = field(default_factory=list)
    sent: int = 0  # body bytes the server managed to write, over all requests
    in_flight: int = 0  # requests whose handler has not returned yet
    lock: threading.Lock = field(default_factory=threading.Lock)
    base_url: str = ""

    def url(self, name: str) -> str:
        return f"{self.base_url}/{name}?export=download&confirm=t"

    def ranges(self) -> list[str | None]:
        return [r for _, r in self.requests]

    def settled_sent(self, timeout: float = 5.0) -> int:
        """``sent`` once every handler has returned: the client can read the last chunk before
        the handler's thread has counted it, so reading ``sent`` at once races."""
        deadline = time.monotonic() + timeout
        while self.in_flight and time.monotonic() < deadline:
            time.sleep(0.01)
        with self.lock:
            return self.sent


def make_handler(state: ServerState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            # counted before the client can see the response, so settled_sent() waits for it
            with state.lock:
                state.in_flight += 1
            try:
                self._serve()
            finally:
                with state.lock:
                    state.in_flight -= 1

        def _serve(self) -> None:
            path = self.path.split("?")[0].lstrip("/")
            range_header = self.headers.get("Range")
            with state.lock:
                state.requests.append((path, range_header))
                cut, state.cut_after = state.cut_after, None
            if state.html:
                body = b"<html><body>Google Drive - Quota exceeded</body></html>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            data = state.files.get(path)
            if data is None:
                self.send_error(404)
                return
            start = 0
            match = re.fullmatch(r"bytes=(\d+)-", range_header or "")
            if match and not state.ignore_range:
                start = int(match.group(1))
                if start >= len(data):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(data)}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            else:
                self.send_response(200)
            body = data[start:]
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if cut is not None:
                body = body[:cut]
                self.close_connection = True
            try:
                for start in range(0, len(body), 1 << 16):
                    self.wfile.write(body[start : start + (1 << 16)])
                    with state.lock:
                        state.sent += len(body[start : start + (1 << 16)])
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client hung up (as it may after the headers)

    return Handler


@pytest.fixture
def server() -> Iterator[ServerState]:
    state = ServerState()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(state))
    httpd.daemon_threads = True
    state.base_url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
