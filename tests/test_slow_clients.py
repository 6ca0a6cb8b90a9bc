"""Slow clients cannot stall the service: gunicorn as deployed (gunicorn.conf.py,
server/workers.py) keeps answering a health check within 1 s while 50 connections
trickle headers, declare a body and send one byte, or open a chunked body and
send nothing; those get 408 (or are dropped) once their read times out."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from gunicorn.http import errors as http_errors

from tests.conftest import FIXTURE_LIBRARY

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
READ_TIMEOUT = 2

SLOW = [
    b"GET /api/v1/versions HTTP/1.1\r\nHost: x\r\nUser-Agent: slow",  # headers never finished
    b"POST /api/v1/suggest HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
    b"POST /api/v1/suggest HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path, templates):
    url = templates.empty("sqlite", tmp_path)
    port = _free_port()
    env = {**os.environ, "ZHIBIAO_DATABASE_URL": url, "ZHIBIAO_DATA_DIR": str(tmp_path / "data"), "HOST": "127.0.0.1",
           "PORT": str(port), "ZHIBIAO_WORKERS": "2", "ZHIBIAO_READ_TIMEOUT": str(READ_TIMEOUT),
           "ZHIBIAO_RATE_LIMIT": "10000 per minute", "ZHIBIAO_SECRET_KEY": "slow-clients"}
    subprocess.run([str(BIN / "zhibiao"), "init", "--from", str(FIXTURE_LIBRARY), "--label", "2024.1"], env=env,
                   check=True, capture_output=True)
    log = tmp_path / "gunicorn.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(BIN / "gunicorn"), "-c", "gunicorn.conf.py"], cwd=ROOT, env=env, stdout=out, stderr=out)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/v1/versions", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        yield port, log
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_fifty_slow_connections_leave_a_health_check_answered_within_a_second(server):
    port, log = server
    slow = []
    for i in range(50):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(SLOW[i % 3])
        slow.append(s)
    time.sleep(0.3)
    worst = 0.0
    until = time.monotonic() + READ_TIMEOUT * 2 + 1  # before, while and after the slow reads time out
    while time.monotonic() < until:
        started = time.perf_counter()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/versions", timeout=5) as resp:
            assert resp.status == 200
            resp.read()
        worst = max(worst, time.perf_counter() - started)
        time.sleep(0.2)
    assert worst < 1.0, f"a health check took {worst:.2f} s"
    answers = []
    for s in slow:
        s.settimeout(READ_TIMEOUT * 3)
        try:
            answers.append(s.recv(4096))
        except OSError:
            answers.append(b"")
        s.close()
    bodies = [a for a in answers if a.startswith(b"HTTP/1.1 408")]
    # every client that sent a request line and headers gets a 408 with a message a person can act on
    assert len(bodies) == len([i for i in range(50) if i % 3]), answers[:3]
    assert "请求发送太慢".encode() in bodies[0]
    assert b"Traceback" not in log.read_bytes()


@pytest.mark.parametrize(("exc", "status", "error"), [
    (http_errors.LimitRequestLine(8192, 4094), 414, "uri_too_long"),
    (http_errors.LimitRequestHeaders("too many"), 431, "headers_too_large"),
    (http_errors.InvalidRequestLine("GET"), 400, "bad_request"),
], ids=["line-too-long", "headers-too-large", "no-http"])
def test_what_gunicorn_cannot_read_is_refused_with_the_json_error_body(exc, status, error):
    """A request line or headers too long, or no HTTP at all, never reach the app: the worker answers them
    itself, in the app's error shape (not gunicorn's English HTML page)."""
    import json
    import logging

    from server.workers import ThreadWorker

    worker = ThreadWorker.__new__(ThreadWorker)
    worker.log = logging.getLogger("test")
    ours, theirs = socket.socketpair()
    with ours, theirs:
        worker.handle_error(None, ours, ("127.0.0.1", 1), exc)
        ours.shutdown(socket.SHUT_WR)
        raw = b"".join(iter(lambda: theirs.recv(65536), b""))
    head, body = raw.split(b"\r\n\r\n", 1)
    assert head.startswith(f"HTTP/1.1 {status} ".encode()) and b"Content-Type: application/json" in head
    answer = json.loads(body)
    assert (answer["code"], answer["error"]) == (status, error) and "请求" in answer["message"]
