"""The import panel in a real browser, against a real ``twin serve`` and its worker: a GIS
officer drops a broken file (the job fails with its code and message; retried), then the
demo export, watches the job reach "succeeded", reads the report, previews the new layer,
publishes it and sees its tiles in the scene; a second upload (through the file picker,
auto-published) is rolled back and deleted. Anonymous visitors never see the panel; on a
360 px phone it fits the screen.

Waits are on the viewer's own state (``window.twin.imports``, ``window.twin.layers``),
bounded; the API (admin token) is the reference for what the panel shows.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Dialog, Page, expect

from .conftest import (
    DEMO,
    DESKTOP,
    PASSWORD,
    PHONE,
    VIEWER_READY_MS,
    TwinServer,
    ViewerPage,
    _run_twin,
    api_call,
)

pytestmark = pytest.mark.browser

JOB_MS = 180_000  # a conversion in the server's worker, on a busy two-core machine
STATE_MS = 60_000


def _gis_account(twin: TwinServer) -> str:
    email = f"gis-{uuid.uuid4().hex[:6]}@example.org"
    done = _run_twin(
        twin.data_dir,
        "users",
        "add",
        email,
        "--role",
        "gis",
        "--municipality",
        "DEMO",
        "--password-stdin",
        input=PASSWORD + "\n",
        timeout=60,
    )
    assert done.returncode == 0, f"twin users add failed:\n{done.stdout}\n{done.stderr}"
    return email


def _login(page: Page, email: str) -> None:
    page.get_by_role("button", name="Logga in").click()
    dialog = page.locator("#login-dialog")
    dialog.get_by_label("E-post").fill(email)
    dialog.get_by_label("Lösenord").fill(PASSWORD)
    dialog.get_by_role("button", name="Logga in").click()
    expect(dialog).to_be_hidden()
    page.wait_for_function("window.twin.imports && window.twin.imports.allowed", timeout=STATE_MS)


def _drop_file(page: Page, selector: str, name: str, data: bytes) -> None:
    """A real drop event carrying a File in a DataTransfer, as a desktop drag gives."""
    page.evaluate(
        """([selector, name, b64]) => {
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, { type: "application/json" }));
            const target = document.querySelector(selector);
            for (const type of ["dragenter", "dragover", "drop"]) {
                target.dispatchEvent(
                    new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true })
                );
            }
        }""",
        [selector, name, base64.b64encode(data).decode()],
    )


def _wait_job(page: Page, state: str) -> dict[str, Any]:
    page.wait_for_function(
        """(state) => {
            const j = window.twin.imports.job;
            if (j && j.state !== state && /failed/.test(j.state)) {
                throw new Error(j.state + ": " + JSON.stringify(j.error));
            }
            return j && j.state === state;
        }""",
        arg=state,
        timeout=JOB_MS,
    )
    job: dict[str, Any] = page.evaluate("window.twin.imports.job")
    return job


def _wait_layer_drawn(page: Page, layer: str) -> None:
    page.wait_for_function(
        """(name) => {
            const l = window.twin.layers[name];
            if (l && l.error) throw new Error("layer error: " + l.error);
            return l && l.loaded && l.tilesLoaded;
        }""",
        arg=layer,
        timeout=VIEWER_READY_MS,
    )


def test_gis_officer_uploads_previews_publishes_and_rolls_back(
    open_viewer: Callable[..., ViewerPage], twin: TwinServer
) -> None:
    layer = f"delft-{uuid.uuid4().hex[:6]}"
    email = _gis_account(twin)
    vp = open_viewer(DESKTOP)
    page = vp.page
    vp.open()
    vp.wait_ready()
    vp.wait_catalogue()

    # Anonymous: no panel, no way to open it.
    assert page.evaluate("window.twin.imports.allowed") is False
    expect(page.locator("#imports-open")).to_be_hidden()
    expect(page.locator("#imports-panel")).to_be_hidden()

    _login(page, email)
    opener = page.get_by_role("button", name="Importera och publicera")
    opener.click()
    panel = page.locator("#imports-panel")
    expect(panel).to_be_visible()

    # A file that is no map export: the job fails with the reader's code and message, and
    # "Försök igen" sends it again as a new job.
    panel.get_by_label("Lager (namn)").fill(f"broken-{layer}")
    _drop_file(page, "#imports-drop", "broken.json", b'{"type": "Nothing", "features": 3}')
    panel.get_by_role("button", name="Ladda upp").click()
    failed = _wait_job(page, "failed")
    status, api_failed = twin.api("GET", f"/api/imports/{failed['id']}")
    assert status == 200
    code, message = api_failed["error"]["code"], api_failed["error"]["message"]
    expect(page.locator("#imports-progress-text")).to_have_text(f"Misslyckades ({code}): {message}")
    retry = page.locator("#imports-job-retry")
    expect(retry).to_be_visible()
    retry.click()
    page.wait_for_function(
        "(id) => { const j = window.twin.imports.job;"
        " return j && j.id && j.id !== id && j.state === 'failed'; }",
        arg=failed["id"],
        timeout=JOB_MS,
    )
    assert page.evaluate("window.twin.imports.job.error.code") == code
    panel.get_by_label("Lager (namn)").fill("")

    # Drop the export on the panel: the chosen file shows and a layer name is suggested.
    _drop_file(page, "#imports-drop", "delft.city.json", DEMO.read_bytes())
    expect(page.locator("#imports-chosen")).to_contain_text("delft.city.json")
    expect(panel.get_by_label("Lager (namn)")).to_have_value("delft")
    panel.get_by_label("Lager (namn)").fill(layer)
    panel.get_by_label("Titel", exact=True).fill("Delft, ny import")
    # Every text the live progress line shows, in order.
    page.evaluate(
        """() => {
            const node = document.getElementById("imports-progress-text");
            window.__progress = [];
            new MutationObserver(() => window.__progress.push(node.textContent))
                .observe(node, { childList: true, characterData: true, subtree: true });
        }"""
    )
    panel.get_by_role("button", name="Ladda upp").click()
    job = _wait_job(page, "succeeded")
    progress = page.locator("#imports-progress-text")
    expect(progress).to_have_text("Klar – inte publicerad än")
    assert progress.get_attribute("aria-live") == "polite"
    seen = page.evaluate("window.__progress")
    assert "I kö" in seen, seen  # the job's states came through the event stream
    assert seen.index("I kö") < seen.index("Klar – inte publicerad än"), seen
    assert page.locator("#imports-progress").get_attribute("value") == "100"

    # The report in the panel is the API's.
    status, api_job = twin.api("GET", f"/api/imports/{job['id']}")
    assert status == 200
    report = api_job["report"]
    objects = page.locator("#imports-report .row", has_text="Objekt").first.locator("dd")
    expect(objects).to_have_text(f"{report['feature_count']:,}".replace(",", "\u00a0"))
    building = page.locator('#imports-report [data-type="Building"] dd')
    expect(building).to_have_text(str(report["types"]["Building"]))
    expect(page.locator("#imports-report")).to_contain_text(report["crs"])
    for warning in report["warnings"]:
        expect(page.locator("#imports-report")).to_contain_text(warning)
    assert api_call(twin.url, "GET", f"/api/layers/{layer}")[0] == 404  # not published yet
    vp.screenshot("imports-report.png")

    # Preview the unpublished version in the scene.
    page.locator("#imports-job-preview").click()
    page.wait_for_function(
        """() => {
            const p = window.twin.imports.preview;
            if (p && p.error) throw new Error("preview: " + p.error);
            return p && p.loaded && p.tilesLoaded;
        }""",
        timeout=VIEWER_READY_MS,
    )
    assert page.evaluate("window.twin.imports.preview.version") == job["version"]
    expect(page.locator("#imports-preview")).to_contain_text(job["version"])

    # Publish: the layer joins the layer list and its tiles are drawn.
    page.locator("#imports-job-publish").click()
    _wait_job(page, "published")
    _wait_layer_drawn(page, layer)
    assert page.evaluate("window.twin.imports.preview") is None
    expect(page.locator(f'#layer-list li[data-layer="{layer}"]')).to_contain_text(
        "Delft, ny import"
    )
    status, published = api_call(twin.url, "GET", f"/api/layers/{layer}")
    assert (status, published["version"]) == (200, job["version"])

    # A second version through the file picker, published at once.
    page.locator("#imports-file").set_input_files(str(DEMO))
    panel.get_by_label("Lager (namn)").fill(layer)
    panel.get_by_label("Publicera direkt när konverteringen lyckas").check()
    panel.get_by_role("button", name="Ladda upp").click()
    page.wait_for_function(
        "(id) => window.twin.imports.job && window.twin.imports.job.id !== id",
        arg=job["id"],
        timeout=STATE_MS,
    )
    second = _wait_job(page, "published")
    page.wait_for_function(
        "([n, v]) => { const l = window.twin.imports.layers.find((x) => x.name === n);"
        " return l && l.current === v; }",
        arg=[layer, second["version"]],
        timeout=STATE_MS,
    )
    _wait_layer_drawn(page, layer)

    # Roll back to the first version from the version history.
    item = page.locator(f'#imports-layers li[data-layer="{layer}"]')
    item.locator("summary").click()
    first_row = item.locator(f'li[data-version="{job["version"]}"]')
    expect(first_row.locator('[data-action="rollback"]')).to_be_visible()
    expect(item.locator(f'li[data-version="{second["version"]}"] .badge')).to_have_text("Aktuell")
    first_row.locator('[data-action="rollback"]').click()
    expect(first_row.locator(".badge")).to_have_text("Aktuell", timeout=STATE_MS)
    status, rolled = api_call(twin.url, "GET", f"/api/layers/{layer}")
    assert rolled["version"] == job["version"]
    _wait_layer_drawn(page, layer)

    # Delete the newer, no longer current version (after confirming).
    dialogs: list[str] = []

    def accept(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    item.locator(f'li[data-version="{second["version"]}"] [data-action="delete"]').click()
    expect(item.locator(f'li[data-version="{second["version"]}"]')).to_have_count(
        0, timeout=STATE_MS
    )
    assert len(dialogs) == 1
    assert second["version"] in dialogs[0]
    status, versions = twin.api("GET", f"/api/layers/{layer}/versions")
    assert [v["id"] for v in versions] == [job["version"]]

    # Keyboard: Escape closes the panel and gives focus back to its button.
    panel.get_by_label("Titel", exact=True).focus()
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(opener).to_be_focused()

    # On a 360 px phone the panel fits the screen and its controls stay reachable.
    page.set_viewport_size(PHONE)
    opener.click()
    expect(panel).to_be_visible()
    box = panel.bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= PHONE["width"]
    upload_button = panel.get_by_role("button", name="Ladda upp")
    upload_button.scroll_into_view_if_needed()
    expect(upload_button).to_be_in_viewport()
    vp.screenshot("imports-phone.png")
    assert not vp.errors, vp.errors
    vp.close()

    # Leave the shared server as the other browser tests expect it: the new layer internal,
    # so anonymous visitors no longer see it (nor its tiles) beside the demo layer.
    status, patched = twin.api("PATCH", f"/api/layers/{layer}", {"public": False})
    assert status == 200
    assert patched["public"] is False
    assert api_call(twin.url, "GET", f"/api/layers/{layer}")[0] == 404
