"""A tool on another origin (as OpenRefine's browser side is) adds the
reconciliation service: it reads the manifest, sends a batch and pulls a
field by data extension, all with the browser's own cross-origin checks."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>其他系统</title></head><body>
<p id="name">…</p><p id="match">…</p><p id="unit">…</p>
<script>
const service = new URLSearchParams(location.search).get("service");
(async () => {
  const manifest = await (await fetch(service)).json();
  document.getElementById("name").textContent = manifest.name + " / batch " + manifest.batchSize;
  const queries = JSON.stringify({q0: {query: "门诊病人满意度"}});
  const answer = await (await fetch(service, {method: "POST", body: new URLSearchParams({queries})})).json();
  const best = answer.q0.result[0];
  document.getElementById("match").textContent = best.id + " " + best.name + " " + best.match;
  const extend = JSON.stringify({ids: [best.id], properties: [{id: "unit"}, {id: "level1"}]});
  const rows = await (await fetch(service + "?extend=" + encodeURIComponent(extend))).json();
  document.getElementById("unit").textContent = rows.rows[best.id].unit[0].str + " " + rows.rows[best.id].level1[0].str;
})().catch(e => { document.body.dataset.error = String(e); });
</script></body></html>"""


@pytest.fixture(scope="module")
def other_origin():
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = PAGE.encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_a_tool_on_another_origin_reconciles_and_extends(page, live_server, other_origin):
    assert other_origin.split(":")[-1] != live_server.split(":")[-1]  # a different origin
    page.goto(f"{other_origin}/tool.html?service={live_server}/reconcile")
    page.wait_for_function("document.getElementById('unit').textContent !== '…' || document.body.dataset.error")
    assert page.evaluate("document.body.dataset.error || ''") == ""
    assert page.inner_text("#name") == "预算绩效指标库 zhibiao / batch 100"
    assert page.inner_text("#match") == "YY3-053 门诊患者满意度 true"
    assert page.inner_text("#unit") == "分 满意度评价"  # YY3-053 as the 2019 hospital assessment defines it
