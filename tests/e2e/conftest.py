"""Fixtures for the browser tests: a real ``twin serve`` over an imported demo city and one
headless Chromium (Debian's, through Playwright; never ``playwright install``).

Environment:
  TWIN_CHROMIUM          the Chromium executable (default /usr/bin/chromium)
  TWIN_REQUIRE_BROWSER   set in CI: a missing browser fails instead of skipping
"""

from __future__ import annotations

import json
import os
import subprocess
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    ViewportSize,
    sync_playwright,
)
from twinproc import (
    CHROMIUM_ARGS,
    DEMO,
    REPO,
    ServerFailed,
    chromium_path,
    free_port,
    run_twin,
    stop,
    wait_healthy,
)

ARTIFACTS = REPO / "test-artifacts"
DESKTOP: ViewportSize = {"width": 1280, "height": 720}
PHONE: ViewportSize = {"width": 360, "height": 640}
#: The browser's language unless a test says otherwise: the viewer picks its UI language from
#: it (sv* Swedish, en* English), and the tests read the Swedish texts.
LOCALE = "sv-SE"
#: Bounds for waiting on real state; SwiftShader on two cores is slow, so they are generous.
SERVER_START_S = 60
VIEWER_READY_MS = 120_000
#: Accounts made by the server fixture (test-only credentials).
ADMIN_EMAIL = "admin@example.org"
EDITOR_EMAIL = "editor@example.org"
PASSWORD = "e2e-password-1234"


def _chromium() -> str:
    found, path = chromium_path()
    if found:
        return found
    reason = f"Chromium not found at {path!r} (set TWIN_CHROMIUM, or apt-get install chromium)"
    if os.environ.get("TWIN_REQUIRE_BROWSER"):
        pytest.fail(f"{reason}; TWIN_REQUIRE_BROWSER is set, so this is an error")
    pytest.skip(reason)


#: Kept under these names: the browser tests import them from here.
_free_port = free_port
_run_twin = run_twin


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    try:
        wait_healthy(url, proc, log, SERVER_START_S)
    except ServerFailed as exc:
        pytest.fail(f"twin serve: {exc}")


@dataclass(frozen=True)
class TwinServer:
    """The running server and the accounts the tests use."""

    url: str
    data_dir: Path
    admin_token: str

    def api(self, method: str, path: str, body: Any = None, **headers: str) -> tuple[int, Any]:
        """Call the API as the admin (bearer token): (status, parsed JSON or None)."""
        return api_call(self.url, method, path, body, token=self.admin_token, **headers)


def api_call(
    base: str, method: str, path: str, body: Any = None, *, token: str | None = None, **headers: str
) -> tuple[int, Any]:
    """One JSON request; anonymous unless a bearer ``token`` is given."""
    data = None if body is None else json.dumps(body).encode()
    hdrs = {"Accept": "application/json", **{k.replace("_", "-"): v for k, v in headers.items()}}
    if data is not None:
        hdrs["Content-Type"] = "application/json"
    if token:
        hdrs["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(base + path, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            raw = r.read()
            return r.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as e:
        raw = e.read()
        return e.code, json.loads(raw) if raw else None


def _prepare_catalogue(data_dir: Path) -> str:
    """The demo organisation and its example projects, an admin with an API token and an
    editor of the demo organisation; returns the admin's token."""
    done = _run_twin(data_dir, "demo", timeout=120)
    assert done.returncode == 0, f"twin demo failed:\n{done.stdout}\n{done.stderr}"
    for email, role, extra in (
        (ADMIN_EMAIL, "admin", []),
        (EDITOR_EMAIL, "editor", ["--municipality", "DEMO"]),
    ):
        done = _run_twin(
            data_dir,
            "users",
            "add",
            email,
            "--role",
            role,
            *extra,
            "--password-stdin",
            input=PASSWORD + "\n",
            timeout=60,
        )
        assert done.returncode == 0, f"twin users add failed:\n{done.stdout}\n{done.stderr}"
    done = _run_twin(data_dir, "tokens", "create", ADMIN_EMAIL, "--name", "e2e", timeout=60)
    assert done.returncode == 0, f"twin tokens create failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout.strip().splitlines()[-1].strip()


def import_demo(data_dir: Path) -> None:
    """The Delft demo city as layer ``demo`` (title Delft) in ``data_dir``."""
    done = _run_twin(
        data_dir, "import", str(DEMO), "--layer", "demo", "--title", "Delft", timeout=300
    )
    assert done.returncode == 0, f"twin import failed:\n{done.stdout}\n{done.stderr}"


@contextmanager
def serving(data_dir: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """``twin serve`` over ``data_dir`` with extra settings ``env`` (TWIN_...) on a free
    port, until it answers /healthz; yields its base URL and stops it afterwards."""
    port = _free_port()
    log = data_dir / "serve.log"
    proc = _run_twin(data_dir, "serve", "--port", str(port), log=log, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc, log)
        yield url
    finally:
        stop(proc)


@pytest.fixture(scope="session")
def twin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwinServer]:
    """``twin serve`` with the Delft demo imported as layer ``demo`` and the demo catalogue."""
    data_dir = tmp_path_factory.mktemp("twin-data")
    import_demo(data_dir)
    token = _prepare_catalogue(data_dir)
    with serving(data_dir) as url:
        yield TwinServer(url, data_dir, token)


@pytest.fixture(scope="session")
def twin_server(twin: TwinServer) -> str:
    """Base URL of the server."""
    return twin.url


# Package scope: Playwright's sync API runs an event loop in the main thread while it is
# started; stopping it when the browser tests end lets later tests use asyncio.run().
@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    executable = _chromium()
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@dataclass
class ViewerPage:
    """A page plus what it did: every request URL and every error it logged."""

    page: Page
    base_url: str
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def open(self) -> None:
        self.page.goto(self.base_url + "/")

    def close(self) -> None:
        """Close the page's browser context: idle WebGL pages still cost CPU."""
        self.page.context.close()

    def wait_restored(self) -> None:
        """Until the viewer is ready and has applied what the URL says."""
        self.page.wait_for_function(
            """() => {
                const t = window.twin;
                if (t && t.error) throw new Error("viewer error: " + t.error);
                return t && t.ready && t.url && t.url.restored;
            }""",
            timeout=VIEWER_READY_MS,
        )

    def hash_params(self) -> dict[str, str]:
        """The URL's hash as key -> (first) value."""
        fragment = urlsplit(self.page.url).fragment
        return {k: v[0] for k, v in parse_qs(fragment, keep_blank_values=True).items()}

    def wait_ready(self, layer: str = "demo") -> None:
        """Until the viewer is ready and ``layer`` has loaded and drawn its tiles."""
        self.page.wait_for_function(
            """(layer) => {
                const t = window.twin;
                if (!t) return false;
                if (t.error) throw new Error("viewer error: " + t.error);
                const l = t.layers[layer];
                if (l && l.error) throw new Error("layer error: " + l.error);
                return t.ready && l && l.loaded && l.tilesLoaded;
            }""",
            arg=layer,
            timeout=VIEWER_READY_MS,
        )

    def wait_catalogue(self) -> dict[str, Any]:
        """Until the catalogue has answered its first query; returns window.twin.catalogue."""
        self.page.wait_for_function(
            """() => {
                const c = window.twin && window.twin.catalogue;
                if (c && c.error) throw new Error("catalogue error: " + c.error);
                return c && c.loaded;
            }""",
            timeout=VIEWER_READY_MS,
        )
        state: dict[str, Any] = self.page.evaluate("window.twin.catalogue")
        return state

    def find_feature(self, type_: str | None = None) -> dict[str, Any]:
        hit = self.page.evaluate("(t) => window.twin.findFeatureScreenPosition(t)", type_)
        assert hit, f"no {type_ or 'object'} visible anywhere on the map"
        return dict(hit)

    def pick(self, x: float, y: float) -> dict[str, Any] | None:
        hit: dict[str, Any] | None = self.page.evaluate(
            "([x, y]) => window.twin.pickAt(x, y)", [x, y]
        )
        return hit

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / name
        self.page.screenshot(path=str(path))
        return path


def new_viewer_page(
    browser: Browser, base_url: str, viewport: ViewportSize | None = None, **context_args: Any
) -> ViewerPage:
    """A fresh browser context and page on ``base_url``, recording requests and errors;
    the caller closes it (``ViewerPage.close``)."""
    context_args.setdefault("locale", LOCALE)
    context = browser.new_context(viewport=viewport or DESKTOP, **context_args)
    page = context.new_page()
    vp = ViewerPage(page, base_url)
    page.on("request", lambda r: vp.requests.append(r.url))
    page.on("pageerror", lambda e: vp.errors.append(f"pageerror: {e}"))

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            vp.errors.append(f"console: {message.text}")

    page.on("console", on_console)
    return vp


@pytest.fixture(scope="package")
def open_viewer(browser: Browser, twin_server: str) -> Iterator[Callable[..., ViewerPage]]:
    """Factory: a fresh browser context and page, recording requests and errors."""
    contexts: list[BrowserContext] = []

    def make(viewport: ViewportSize | None = None, **context_args: Any) -> ViewerPage:
        vp = new_viewer_page(browser, twin_server, viewport, **context_args)
        contexts.append(vp.page.context)
        return vp

    yield make
    for context in contexts:
        context.close()


@pytest.fixture(scope="module")
def desktop(open_viewer: Callable[..., ViewerPage]) -> ViewerPage:
    """One desktop page with the demo loaded, shared by a module's tests (loading is slow)."""
    vp = open_viewer(DESKTOP)
    vp.open()
    vp.wait_ready()
    return vp
