"""The HTML report in a real browser: headless Chromium through the DevTools protocol.

Checks that the page loads with no console error, no uncaught exception and no network request,
that every image decodes, that a phone-width viewport needs no horizontal scrolling, and saves a
screenshot at laptop and at phone width (to ``$SCALINGLAWS_SCREENSHOTS`` when set, else to the
test's temporary folder). Chromium is Debian's ``chromium`` package (``make test`` and
``.ci/run`` install it); where it is missing the test is skipped and says so.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from scalinglaws.report.html import write_report

ROOT = Path(__file__).resolve().parents[1]
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome")
FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync",
    "--disable-default-apps", "--disable-extensions", "--remote-allow-origins=*",
    "--remote-debugging-port=0",
)  # fmt: skip


def _browser() -> str | None:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


class DevTools:
    """A minimal Chrome DevTools protocol client over one page's websocket."""

    def __init__(self, url: str) -> None:
        import websocket

        self.ws = websocket.create_connection(url, timeout=30, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict] = []

    def call(self, method: str, **params) -> dict:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_for(self, method: str, timeout: float = 30.0) -> dict:
        deadline = time.monotonic() + timeout
        for event in self.events:
            if event.get("method") == method:
                return event
        while time.monotonic() < deadline:
            message = json.loads(self.ws.recv())
            self.events.append(message)
            if message.get("method") == method:
                return message
        raise TimeoutError(method)

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True,
                           awaitPromise=True)  # fmt: skip
        return result["result"].get("value")

    def screenshot(self, path: Path) -> None:
        data = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=False)
        path.write_bytes(base64.b64decode(data["data"]))

    def close(self) -> None:
        self.ws.close()


@pytest.fixture(scope="module")
def chromium(tmp_path_factory):
    """A headless Chromium with remote debugging on a free port; yields (port, process)."""
    path = _browser()
    if path is None:
        pytest.skip("Chromium is not installed (apt-get install chromium; make test installs "
                    "it where it can): the browser test of the report did not run")
    pytest.importorskip("websocket", reason="websocket-client is not installed (test extra)")
    profile = tmp_path_factory.mktemp("chromium-profile")
    proc = subprocess.Popen([path, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    port_file = profile / "DevToolsActivePort"
    deadline = time.monotonic() + 30
    while not port_file.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
    if not port_file.exists():
        proc.kill()
        pytest.fail("Chromium started but did not open its DevTools port within 30 s")
    port = int(port_file.read_text().split()[0])
    yield port
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def _open_page(port: int) -> DevTools:
    url = f"http://127.0.0.1:{port}/json/new?about:blank"
    request = urllib.request.Request(url, method="PUT")
    with urllib.request.urlopen(request, timeout=10) as response:
        target = json.load(response)
    page = DevTools(target["webSocketDebuggerUrl"])
    for domain in ("Page", "Runtime", "Log", "Network"):
        page.call(f"{domain}.enable")
    return page


def _load(page: DevTools, html: Path) -> None:
    page.call("Page.navigate", url=html.resolve().as_uri())
    page.wait_for("Page.loadEventFired")
    page.evaluate("Promise.race([Promise.allSettled(Array.from(document.images)"
                  ".map(i => i.decode())), new Promise(r => setTimeout(r, 10000))])")


def _problems(page: DevTools) -> list[str]:
    out = []
    for event in page.events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            out.append(f"console {params['type']}: {params.get('args')}")
        elif method == "Runtime.exceptionThrown":
            out.append(f"exception: {params.get('exceptionDetails', {}).get('text')}")
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            out.append(f"log error: {params['entry'].get('text')}")
        elif method == "Network.requestWillBeSent":
            url = params.get("request", {}).get("url", "")
            if not url.startswith(("file:", "data:", "about:")):
                out.append(f"network request: {url}")
    return out


#: What each screenshot shows: the top of the page, the claims (or the first table), a figure.
_PARTS = {
    "": "window.scrollTo(0, 0)",
    "-table": "(document.querySelector('table.claims') || document.querySelector('table'))"
              ".scrollIntoView()",
    "-figure": "document.querySelector('figure').scrollIntoView()",
}


def _screenshots(page: DevTools, shots: Path, stem: str) -> None:
    for part, scroll in _PARTS.items():
        page.evaluate(scroll)
        page.screenshot(shots / f"{stem}{part}.png")


def _check(page: DevTools, html: Path, shots: Path, stem: str) -> dict:
    page.call("Emulation.setDeviceMetricsOverride", width=1280, height=900,
              deviceScaleFactor=1, mobile=False)  # fmt: skip
    _load(page, html)
    images = page.evaluate(
        "Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.alt.length])")
    _screenshots(page, shots, f"{stem}-laptop")
    page.call("Emulation.setDeviceMetricsOverride", width=390, height=844,
              deviceScaleFactor=2, mobile=True)  # fmt: skip
    _load(page, html)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    _screenshots(page, shots, f"{stem}-phone")
    tables = page.evaluate("document.querySelectorAll('table thead th').length")
    return {"images": images, "overflow": overflow, "tables": tables,
            "problems": _problems(page)}  # fmt: skip


def _screenshot_dir(tmp_path: Path) -> Path:
    where = os.environ.get("SCALINGLAWS_SCREENSHOTS")
    out = Path(where) if where else tmp_path / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    return out


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    """The example study run into a fresh store, and a one-finding reproduce folder."""
    from scalinglaws.report.reproduce import reproduce
    from scalinglaws.studies import load_study, run_study

    work = tmp_path_factory.mktemp("report-sources")
    shutil.copy(ROOT / "examples" / "linear_power_law.toml", work)
    run_study(load_study(work / "linear_power_law.toml"), executor="serial")
    reproduce(["equiparameterization"], work / "reproduce", quick=True, seeds=4)
    return work


@pytest.mark.slow
@pytest.mark.parametrize("which", ["study", "reproduce"])
def test_report_opens_in_chromium_without_errors(chromium, sources, tmp_path, which):
    source = sources / ("linear_power_law.toml" if which == "study" else "reproduce")
    html = write_report([source], tmp_path / f"{which}.html")
    page = _open_page(chromium)
    try:
        seen = _check(page, html, _screenshot_dir(tmp_path), f"report-{which}")
    finally:
        page.close()
    assert seen["problems"] == []
    assert seen["images"], "the report has figures"
    assert all(done and width > 0 and alt > 0 for done, width, alt in seen["images"])
    assert seen["overflow"] <= 0, "a phone-width page scrolls sideways"
    assert seen["tables"] > 0
