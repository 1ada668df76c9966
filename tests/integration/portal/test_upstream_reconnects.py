"""The portal's client against a service that drops a kept-alive connection under a request (what a
gunicorn closing an idle connection looks like to the client): a page does not turn into a 503
for that when repeating the request is harmless, and a POST is never sent twice."""
from __future__ import annotations

import socket
import threading

import pytest

from services.portal.upstream import ServiceClient, ServiceUnavailable

BODY = b'{"ok": true}'
ANSWER = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
          b"Connection: keep-alive\r\n\r\n%s" % (len(BODY), BODY))


def _read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return b""
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), 0)
    while len(body) < length:
        body += conn.recv(4096)
    return head


class DroppingService:
    """Answers the first request of each connection, then reads the next and closes without an
    answer; counts the requests that reached it."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.received: list[bytes] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with conn:
                first = _read_request(conn)
                if not first:
                    continue
                self.received.append(first.split(b"\r\n")[0])
                conn.sendall(ANSWER)
                second = _read_request(conn)
                if second:
                    self.received.append(second.split(b"\r\n")[0])

    def close(self):
        self.listener.close()


@pytest.fixture
def service():
    running = DroppingService()
    yield running
    running.close()


def test_a_get_on_a_dropped_connection_is_sent_again_on_a_new_one(service):
    client = ServiceClient({"scheduler": f"http://127.0.0.1:{service.port}"}, 2, 5)
    assert client.get_json("scheduler", "/clinics") == {"ok": True}
    assert client.get_json("scheduler", "/clinics") == {"ok": True}  # the kept-alive one is dropped
    assert service.received == [b"GET /clinics HTTP/1.1"] * 3


def test_a_post_on_a_dropped_connection_is_not_sent_twice(service):
    client = ServiceClient({"registry": f"http://127.0.0.1:{service.port}"}, 2, 5)
    client.get_json("registry", "/healthz")
    with pytest.raises(ServiceUnavailable):
        client.post_json("registry", "/participants", {"username": "Someone"})
    assert service.received == [b"GET /healthz HTTP/1.1", b"POST /participants HTTP/1.1"]
