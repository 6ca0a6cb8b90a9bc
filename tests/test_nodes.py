"""Scale-out: two gunicorn nodes on one PostgreSQL, each with its own index.
A version published through one node is served by the other within 5 s,
without a restart."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from kb import auth as kbauth
from kb import db as kbdb
from tests.conftest import PG_URL, fixture_library

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.skipif(not PG_URL, reason="needs ZHIBIAO_TEST_DATABASE_URL (PostgreSQL)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _call(url: str, method: str = "GET", body: dict | None = None, token: str | None = None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


@pytest.fixture
def cluster(tmp_path, templates):
    # the fixture library published as 2024.1 (a copy of the run's template, as `zhibiao init --from` makes it)
    # and a key made in process: two fewer commands to start
    url = templates.copy("postgresql", fixture_library, tmp_path)
    with kbdb.session(kbdb.make_engine(url)) as s:
        token = kbauth.create_api_key(s, "node-test", "read,suggest,curate").token
    base_env = {**os.environ, "ZHIBIAO_DATABASE_URL": url, "ZHIBIAO_SECRET_KEY": "two-nodes",
                "ZHIBIAO_RATE_LIMIT": "10000 per minute", "ZHIBIAO_WORKERS": "1", "ZHIBIAO_ACCESS_LOG": "/dev/null"}
    node_dirs = [tmp_path / "node-a", tmp_path / "node-b"]
    procs, urls = [], []
    try:
        for folder in node_dirs:
            port = _free_port()
            env = {**base_env, "ZHIBIAO_DATA_DIR": str(folder), "HOST": "127.0.0.1", "PORT": str(port)}
            procs.append(subprocess.Popen([str(BIN / "gunicorn"), "-c", "gunicorn.conf.py"], cwd=ROOT, env=env,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            urls.append(f"http://127.0.0.1:{port}")
        for base in urls:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if _call(f"{base}/api/v1/versions")[0] == 200:
                        break
                except OSError:
                    pass
                assert time.monotonic() < deadline, f"{base} did not start"
                time.sleep(0.2)
        yield urls, token
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
        templates.drop(url)


def test_publish_on_one_node_is_served_by_the_other_within_5_seconds(cluster):
    (node_a, node_b), token = cluster
    name = "两节点发布验证指标"
    query = f"{node_b}/api/v1/indicators?q={urllib.parse.quote(name)}"
    status, body = _call(query)
    assert status == 200 and body["version"] == "2024.1"
    assert all(hit["name"] != name for hit in body["results"])

    status, _ = _call(f"{node_a}/api/v1/draft/indicators", "POST", {
        "code": "NODE-001", "kind": "common", "level1": "产出指标", "level2": "数量指标", "name": name,
        "unit": "个", "operator": "≥", "source": {"document": "测试"}, "provenance": "local",
    }, token)
    assert status == 201
    status, body = _call(f"{node_a}/api/v1/versions", "POST", {"label": "2024.2", "notes": "两节点测试"}, token)
    assert status == 202, body
    deadline = time.monotonic() + 60
    while body["status"] not in ("done", "failed"):
        assert time.monotonic() < deadline, body
        time.sleep(0.1)
        status, body = _call(f"{node_a}/api/v1/jobs/{body['id']}", token=token)
    assert body["status"] == "done", body
    published = time.monotonic()

    while True:
        status, body = _call(query)
        assert status == 200
        if body["version"] == "2024.2" and body["results"] and body["results"][0]["name"] == name:
            break
        assert time.monotonic() - published < 5, f"node B still answers {body['version']}"
        time.sleep(0.1)
    # node B built its own index for the new version
    status, body = _call(f"{node_b}/api/v1/versions")
    assert body["current"] == "2024.2"
