"""Serving so that slow clients cannot stall the service.

Sync workers give each connection the whole worker until its request has
arrived: two clients that declare a body and send one byte left a health
check unanswered for 15 s. Here (gunicorn.conf.py):

- `ThreadWorker`: gunicorn's gthread worker whose client sockets time out.
  Every read waits at most READ_TIMEOUT seconds, and a whole request (headers
  and body) must arrive within REQUEST_DEADLINE, so a trickling client holds a
  thread for a bounded time, never a worker.
- `BufferedRequests`: WSGI middleware that reads the body into memory (within
  the upload limit) before the app runs, and lets only `slots` requests per
  worker run the app at once. Many threads wait on slow networks; the app's
  CPU work is not split between threads fighting over one GIL (measured:
  2 threads on CPU-bound search cut a worker's throughput by more than half).

Both answer a slow request with 408 and a Chinese message; nothing of it
reaches the app.
"""
from __future__ import annotations

import errno
import io
import json
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from gunicorn import util
from gunicorn.http import errors as http_errors
from gunicorn.workers import gthread

from server.error_codes import http_error
from importers.files import env_number


READ_TIMEOUT = env_number("ZHIBIAO_READ_TIMEOUT", 10.0)  # seconds
REQUEST_DEADLINE = env_number("ZHIBIAO_REQUEST_DEADLINE", 60.0)
CLOSERS = 8  # threads that close finished connections (each lingers up to 2 s)


class SlowClient(OSError):
    """A read that waited too long. Its errno (ENOTCONN) makes gunicorn drop the connection
    quietly instead of logging a traceback per slow client."""

    def __init__(self, what: str):
        super().__init__(errno.ENOTCONN, what)


class BoundedSocket(socket.socket):
    """A client socket whose "blocking" mode is a timeout: each read waits at most
    READ_TIMEOUT, and reads stop REQUEST_DEADLINE after the request began."""

    __slots__ = ("read_timeout", "deadline_after", "deadline", "slow")

    @classmethod
    def adopt(cls, sock: socket.socket, read_timeout: float = READ_TIMEOUT,
              deadline_after: float = REQUEST_DEADLINE) -> "BoundedSocket":
        bounded = cls(sock.family, sock.type, sock.proto, fileno=sock.detach())
        bounded.read_timeout = read_timeout
        bounded.deadline_after = deadline_after
        bounded.deadline = None
        bounded.slow = False
        return bounded

    def setblocking(self, flag: bool) -> None:
        # gunicorn sets blocking mode when a thread takes the connection up for a request
        if flag:
            self.deadline = time.monotonic() + self.deadline_after
            self.settimeout(self.read_timeout)
        else:
            self.deadline = None
            super().setblocking(False)

    def _arm(self) -> None:
        if self.deadline is None:
            return
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise SlowClient("request deadline passed")
        # never longer than a timeout someone set since (gunicorn's lingering close sets 2 s)
        self.settimeout(min(self.gettimeout() or self.read_timeout, self.read_timeout, left))

    def recv(self, *args):
        self._arm()
        try:
            return super().recv(*args)
        except TimeoutError:
            self.slow = True
            raise SlowClient("read timed out") from None

    def recv_into(self, *args):
        self._arm()
        try:
            return super().recv_into(*args)
        except TimeoutError:
            self.slow = True
            raise SlowClient("read timed out") from None


class ThreadWorker(gthread.ThreadWorker):
    """gthread with bounded client sockets, and connections closed off the main thread: gunicorn
    closes a finished connection "gracefully" on its main thread, lingering up to 2 s for the
    client to close its side, so a few clients that never close would stall every accept."""

    def init_process(self):
        self.closer = ThreadPoolExecutor(max_workers=CLOSERS, thread_name_prefix="close")
        super().init_process()

    def finish_request(self, conn, fs):
        try:
            keep = fs.result() if not fs.cancelled() else False
        except Exception:
            keep = False
        if keep:
            return super().finish_request(conn, fs)
        self.nr_conns -= 1
        self.closer.submit(_close, conn)

    def handle_error(self, req, client, addr, exc):
        """gunicorn's own refusals of what it cannot parse answered as the app answers: JSON with the error
        identifier and a Chinese message, not gunicorn's English HTML page (which a client of the API,
        expecting the Error body, could not read)."""
        refusal = _refusal(exc)
        if refusal is None:
            return super().handle_error(req, client, addr, exc)
        self.log.warning("Invalid request from ip=%s: %s", (addr or ("",))[0], exc)
        try:
            util.write_nonblock(client, _raw_answer(*refusal))
        except Exception:
            self.log.debug("Failed to send error message.")

    def accept(self, listener):
        try:
            client, address = listener.accept()
            client = BoundedSocket.adopt(client)
            self.nr_conns += 1
            client.setblocking(True)
            self.enqueue_req(gthread.TConn(self.cfg, client, address, listener.getsockname()))
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise


def _close(conn) -> None:
    try:
        conn.close(graceful=not getattr(conn.sock, "slow", False))  # a slow client gets no lingering
    except Exception:
        pass


class BufferedRequests:
    """WSGI middleware: the body read whole (within `max_bytes`) before the app runs, and at most
    `slots` requests in the app at once."""

    def __init__(self, app, slots: int, max_bytes: int):
        self.app = app
        self.slots = threading.BoundedSemaphore(slots)
        self.max_bytes = max_bytes

    def __call__(self, environ, start_response):
        try:
            refused = self._buffer(environ)
        except (SlowClient, TimeoutError):
            refused = (408, f"请求发送太慢：{READ_TIMEOUT:g} 秒内没有收到数据，或 {REQUEST_DEADLINE:g} 秒内没有收完，已断开。请检查网络后重试")
        except OSError:
            refused = (400, "请求内容不完整：连接在发送过程中断开")
        if refused:
            return _answer(start_response, *refused)
        with self.slots:
            return self.app(environ, start_response)

    def _buffer(self, environ) -> tuple[int, str] | None:
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return 400, "请求头 Content-Length 不是数字"
        if not length and not chunked:
            return None
        if length > self.max_bytes:
            return None  # the app refuses it with its 413, without reading it
        body = environ["wsgi.input"].read(self.max_bytes + 1) if chunked else _read_exactly(environ["wsgi.input"], length)
        if len(body) > self.max_bytes:
            return 413, f"请求内容过大（上限 {self.max_bytes // (1024 * 1024)} MB）"
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        environ["wsgi.input_terminated"] = True
        return None


# what gunicorn answers with 400 (gunicorn.workers.base.handle_error), proxy-protocol errors aside
MALFORMED = tuple(getattr(http_errors, name) for name in (
    "InvalidRequestLine", "InvalidRequestMethod", "InvalidHTTPVersion", "InvalidHeader", "InvalidHeaderName",
    "InvalidSchemeHeaders", "ObsoleteFolding", "InvalidChunkSize", "ChunkMissingTerminator", "InvalidChunkExtension",
    "InvalidH2CPreface"))


def _refusal(exc) -> tuple[int, str] | None:
    """(status, Chinese message) for a request gunicorn could not read; None for anything else."""
    if isinstance(exc, http_errors.LimitRequestLine):
        return 414, "请求地址过长（请求行超过上限）：请缩短查询参数，或改用请求体发送"
    if isinstance(exc, http_errors.LimitRequestHeaders):
        return 431, "请求头过大或过多"
    if isinstance(exc, MALFORMED):
        return 400, "请求格式有误，无法解析"
    return None


def _raw_answer(status: int, message: str) -> bytes:
    """A whole HTTP answer with the JSON error body, for a request that never reached the app."""
    reason = {400: "Bad Request", 414: "URI Too Long", 431: "Request Header Fields Too Large"}[status]
    body = json.dumps({"code": status, "error": http_error(status), "status": reason, "message": message},
                      ensure_ascii=False).encode()
    head = (f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    return head.encode("latin-1") + body


def _read_exactly(stream, length: int) -> bytes:
    parts, left = [], length
    while left > 0:
        chunk = stream.read(min(left, 1 << 16))
        if not chunk:
            raise ConnectionError("body ended early")
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


def _answer(start_response, status: int, message: str):
    reason = {400: "Bad Request", 408: "Request Timeout", 413: "Payload Too Large"}[status]
    body = json.dumps({"code": status, "error": http_error(status), "status": reason, "message": message},
                      ensure_ascii=False).encode()
    start_response(f"{status} {reason}", [("Content-Type", "application/json; charset=utf-8"),
                                          ("Content-Length", str(len(body))), ("Connection", "close")])
    return [body]
