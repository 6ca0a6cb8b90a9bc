"""Browser tests: the real seeded library served on a local port, driven by
Playwright in Debian's Chromium (installed by .ci/run when missing)."""
from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",  # no page reaches outside this machine
]
LOCAL = ("http://127.0.0.1", "data:", "blob:")


# tryfirst: xdist's own hook turns the group marker into the node id's @group suffix, so the
# marker must be on the items before that hook runs (without it the browser tests were spread
# over both workers, each building its own live server and Chromium)
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    skip = pytest.mark.skip(reason=f"Chromium not installed at {CHROMIUM} (.ci/run installs it)")
    for item in items:
        if "browser" in str(item.fspath):
            # one xdist worker runs them all: one live server and one Chromium, not one per worker
            item.add_marker(pytest.mark.xdist_group("browser"))
            if not os.path.exists(CHROMIUM):
                item.add_marker(skip)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory, templates):
    """The app with the real seeded library (SQLite, published as 2024.1), served in a thread. Its database and
    index are copies of the run's seeded template (what `zhibiao init` makes, tested in tests/test_cli.py): other
    tests have usually built it already, and building it again here cost 15 s of the browser worker's time."""
    from werkzeug.serving import make_server

    from tests.conftest import seeded_library

    data_dir = tmp_path_factory.mktemp("live")
    url = templates.copy("sqlite", seeded_library, data_dir)
    (data_dir / url.rsplit("/", 1)[-1]).rename(data_dir / "zhibiao.sqlite3")  # where the command line looks
    templates.copy_derived("sqlite", seeded_library, data_dir)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ZHIBIAO_DATA_DIR", str(data_dir))
        mp.delenv("ZHIBIAO_DATABASE_URL", raising=False)
        from server.app import create_app

        app = create_app()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN", accept_downloads=True)
    # Nothing may load from outside this machine: fail the test if a page tries. Chromium resolves no other
    # host (CHROMIUM_ARGS), so nothing leaves; the pages' requests are watched rather than routed through
    # this process one by one (routing every request cost a round trip to Python each).
    outside = []
    context.on("request", lambda request: outside.append(request.url)
               if not request.url.startswith(LOCAL) else None)
    pg = context.new_page()
    errors = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg
    context.close()
    assert not outside, f"page tried to load remote resources: {outside}"
    assert not errors, f"JavaScript errors: {errors}"


def screenshot(page, name: str) -> Path | None:
    """Save a full-page screenshot for reviewers under test-output/screenshots/, when ZHIBIAO_SCREENSHOTS=1
    asks for them: they assert nothing, and their 28 full pages cost Chromium about 8 s of every run."""
    if os.environ.get("ZHIBIAO_SCREENSHOTS") != "1":
        return None
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
