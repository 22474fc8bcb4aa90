"""Provider calls reuse their connections: every provider session of a process shares
one keep-alive pool (integrations/http.py), so a relay making one call per message does
not pay a TCP (and TLS) handshake per message."""

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from integrations.http import ProviderSession, reset_pool, shared_adapter


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.connections = 0
        self.lock = threading.Lock()

    def get_request(self):
        request = super().get_request()
        with self.lock:
            self.connections += 1
        return request


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive

    def do_GET(self):
        body = json.dumps({"ok": True, "auth": self.headers.get("Authorization", "")}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    server = _Server()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_sessions_share_one_keep_alive_connection(server):
    url = f"http://127.0.0.1:{server.server_address[1]}/me"
    answers = []
    for token in ("first-workspace", "second-workspace", "third-workspace"):
        # A new session per call, as the clients make one per workspace and call.
        session = ProviderSession()
        session.headers["Authorization"] = f"Bearer {token}"
        answers.append(session.get(url, timeout=5).json()["auth"])
        session.close()  # closing a session leaves the shared pool open
    # Each session still sends its own headers...
    assert answers == [
        "Bearer first-workspace",
        "Bearer second-workspace",
        "Bearer third-workspace",
    ]
    # ...over the one connection the first call opened.
    assert server.connections == 1


def test_threads_calling_at_once_keep_their_connections(server):
    url = f"http://127.0.0.1:{server.server_address[1]}/me"
    barrier = threading.Barrier(8)

    def call(_):
        session = ProviderSession()
        barrier.wait(timeout=10)  # eight calls in flight together
        return session.get(url, timeout=5).status_code

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(call, range(8))) == [200] * 8
        assert server.connections <= 8
        # A second round finds the connections the first round left in the pool: never
        # more than eight in all (sixteen without a pool).
        assert list(pool.map(call, range(8))) == [200] * 8
    assert server.connections <= 8


def test_a_forked_child_gets_a_pool_of_its_own(monkeypatch):
    parent = shared_adapter()
    assert shared_adapter() is parent
    monkeypatch.setattr("integrations.http.os.getpid", lambda: -1)
    assert shared_adapter() is not parent


def test_a_reset_closes_the_kept_connections(server):
    url = f"http://127.0.0.1:{server.server_address[1]}/me"
    ProviderSession().get(url, timeout=5)
    reset_pool()
    ProviderSession().get(url, timeout=5)
    assert server.connections == 2
