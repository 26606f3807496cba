"""The project catalogue in a real browser: pins, list, legend and filter in step; the card;
deep links; hostile text rendered inert; an editor adding a project by clicking the map,
seen by the public only once it is public; inline validation errors.

The server fixture runs ``twin demo`` (the demo organisation DEMO and its example
projects) and makes an admin (API token) and an editor of DEMO. Waits are on the viewer's
own state (``window.twin.catalogue``), bounded.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Dialog, expect

from .conftest import DESKTOP, EDITOR_EMAIL, PASSWORD, PHONE, TwinServer, ViewerPage, api_call

pytestmark = pytest.mark.browser

STATE_MS = 60_000
#: Set by every payload that manages to run.
XSS_FLAG = "window.__xss = 1"
XSS = {
    "title_sv": f'XSS-prov <img src=x onerror="{XSS_FLAG}"><script>{XSS_FLAG}</script>',
    "summary_sv": f'<svg onload="{XSS_FLAG}"><script>{XSS_FLAG}</script></svg> sammanfattning',
    "description": (
        f"Text <script>{XSS_FLAG}</script> <img src=x onerror='{XSS_FLAG}'>\n\n"
        f'[klicka](javascript:{XSS_FLAG}) och <a href="javascript:{XSS_FLAG}">här</a>\n\n'
        f'<svg><animate onbegin="{XSS_FLAG}" attributeName="x" dur="1s"/></svg>\n\n'
        f"[data](data:text/html,<script>{XSS_FLAG}</script>) [ok](https://example.org/ok)"
    ),
    "municipalities": ["DEMO"],
    "categories": ["safety"],
    "status": "planned",
    "tags": [f'<img src=x onerror="{XSS_FLAG}">', "<b>fet</b>"],
    "partners": [f"<svg/onload={XSS_FLAG}>"],
    "contact": f'<img src=x onerror="{XSS_FLAG}">',
    "contact_public": True,
    "links": [{"title": f"<img src=x onerror='{XSS_FLAG}'>", "url": "https://example.org/x"}],
    "geometries": [{"type": "Point", "coordinates": [4.3672, 52.0125]}],
    "public": True,
}


def _create(twin: TwinServer, **fields: Any) -> dict[str, Any]:
    status, body = twin.api("POST", "/api/projects", fields)
    assert status == 201, (status, body)
    return dict(body)


@pytest.fixture(scope="module")
def catalogue(twin: TwinServer) -> dict[str, Any]:
    """What the server holds: the public demo projects, one internal and one hostile one."""
    internal = _create(
        twin,
        title_sv="Internt e2e-projekt",
        municipalities=["DEMO"],
        categories=["energy"],
        geometries=[{"type": "Point", "coordinates": [4.3650, 52.0110]}],
        public=False,
    )
    xss = _create(twin, **XSS)
    status, page = api_call(twin.url, "GET", "/api/projects?limit=500")
    assert status == 200
    public = {p["id"]: p for p in page["items"]}
    assert internal["id"] not in public
    assert len(public) >= 3, "twin demo should have imported public example projects"
    return {"internal": internal, "xss": xss, "public": public}


@pytest.fixture(scope="module")
def anonymous(
    open_viewer: Callable[..., ViewerPage], catalogue: dict[str, Any]
) -> Iterator[ViewerPage]:
    vp = open_viewer(DESKTOP)
    vp.open()
    vp.wait_ready()
    vp.wait_catalogue()
    yield vp
    vp.close()


@pytest.fixture
def fresh_page(open_viewer: Callable[..., ViewerPage]) -> Iterator[Callable[..., ViewerPage]]:
    """Factory for pages closed at the end of the test."""
    pages: list[ViewerPage] = []

    def make(viewport: Any = DESKTOP) -> ViewerPage:
        vp = open_viewer(viewport)
        pages.append(vp)
        return vp

    yield make
    for vp in pages:
        vp.close()


def _shown(vp: ViewerPage) -> set[int]:
    return set(vp.page.evaluate("window.twin.catalogue.shown"))


def _list_ids(vp: ViewerPage) -> set[int]:
    ids = vp.page.locator("#project-list li").evaluate_all(
        "(lis) => lis.map((li) => Number(li.dataset.project))"
    )
    return set(ids)


def _click_pin(vp: ViewerPage, project_id: int) -> None:
    """Click the project's pin once it is on screen and not inside a cluster."""
    page = vp.page
    page.wait_for_function("!window.twin.catalogue.flying", timeout=STATE_MS)
    page.wait_for_function(
        """(id) => {
            const c = window.twin.catalogue;
            const p = c.screenPosition(id);
            const hit = p && c.hitAt(p.x, p.y);
            return hit && hit.project === id;
        }""",
        arg=project_id,
        timeout=STATE_MS,
    )
    pos = page.evaluate("(id) => window.twin.catalogue.screenPosition(id)", project_id)
    page.mouse.click(pos["x"], pos["y"])


def test_anonymous_visitor_sees_public_projects_only(
    anonymous: ViewerPage, catalogue: dict[str, Any]
) -> None:
    page = anonymous.page
    public = catalogue["public"]
    shown = _shown(anonymous)
    assert shown == set(public), "the map and list show exactly the public projects"
    assert catalogue["internal"]["id"] not in shown
    assert _list_ids(anonymous) == shown
    pins = set(page.evaluate("window.twin.catalogue.pins"))
    assert pins == {i for i, p in public.items() if p["geometry"] or p["bbox"]}
    expect(page.locator("#project-list")).not_to_contain_text("Internt e2e-projekt")
    expect(page.locator("#account-name")).to_have_text("")
    expect(page.get_by_role("button", name="Lägg till projekt")).to_be_hidden()

    # The legend names the categories that colour the shown projects.
    status, categories = api_call(anonymous.base_url, "GET", "/api/categories")
    assert status == 200
    names = {c["key"]: c["name_sv"] for c in categories}
    legend = page.locator("#legend-list li")
    expect(legend.first).to_be_visible()
    legend_keys = set(legend.evaluate_all("(lis) => lis.map((li) => li.dataset.category)"))
    used = {k for p in public.values() for k in p["categories"]}
    assert legend_keys
    assert legend_keys <= used | {""}
    for key in legend_keys - {""}:
        expect(page.locator(f'#legend-list li[data-category="{key}"]')).to_contain_text(names[key])
    anonymous.screenshot("catalogue-desktop.png")
    assert not anonymous.errors, anonymous.errors


def test_filter_list_and_map_stay_in_step_and_open_the_card(
    anonymous: ViewerPage, catalogue: dict[str, Any]
) -> None:
    page = anonymous.page
    target = next(p for p in catalogue["public"].values() if p["geometry"])
    word = target["title_sv"].split(":")[-1].strip().split()[0]
    search = page.get_by_role("searchbox")
    search.fill(word)
    page.wait_for_function(
        """([id, n]) => {
            const c = window.twin.catalogue;
            return c.shown.includes(id) && c.shown.length < n;
        }""",
        arg=[target["id"], len(catalogue["public"])],
        timeout=STATE_MS,
    )
    assert _list_ids(anonymous) == _shown(anonymous)
    assert set(page.evaluate("window.twin.catalogue.pins")) <= _shown(anonymous)

    try:
        # A list item flies to the project and opens its card.
        page.locator(f'#project-list li[data-project="{target["id"]}"] button').click()
        card = page.locator("#project-card")
        expect(card).to_be_visible()
        expect(page.locator("#card-title")).to_have_text(target["title_sv"])
        assert page.evaluate("window.twin.selectedProject.id") == target["id"]
        # The hash also holds the rest of the view (url-sync.js); the project is in it.
        linked = page.evaluate("new URLSearchParams(location.hash.slice(1)).get('project')")
        assert linked == str(target["id"])

        # Closing and clicking the pin opens it again.
        page.get_by_role("button", name="Stäng projektet").click()
        expect(card).to_be_hidden()
        assert page.evaluate("window.twin.selectedProject") is None
        _click_pin(anonymous, target["id"])
        expect(card).to_be_visible()
        expect(page.locator("#card-title")).to_have_text(target["title_sv"])
        page.keyboard.press("Escape")
        expect(card).to_be_hidden()
    finally:
        search.fill("")
        page.wait_for_function(
            "(n) => window.twin.catalogue.shown.length === n",
            arg=len(catalogue["public"]),
            timeout=STATE_MS,
        )


def test_hostile_text_renders_inert(
    fresh_page: Callable[..., ViewerPage], catalogue: dict[str, Any]
) -> None:
    xss = catalogue["xss"]
    vp = fresh_page(DESKTOP)
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    vp.page.on("dialog", on_dialog)
    vp.page.goto(f"{vp.base_url}/#project={xss['id']}")
    vp.wait_catalogue()
    page = vp.page
    card = page.locator("#project-card")
    expect(card).to_be_visible(timeout=STATE_MS)
    # The text is shown as text, not markup.
    expect(page.locator("#card-title")).to_have_text(XSS["title_sv"])
    expect(card).to_contain_text("sammanfattning")
    expect(card).to_contain_text(XSS["tags"][0])
    expect(page.locator(f'#project-list li[data-project="{xss["id"]}"]')).to_contain_text(
        "XSS-prov <img"
    )
    # Images the description's payloads asked for had their chance to fail and fire.
    vp.wait_ready()
    page.wait_for_timeout(500)  # let any queued image error event run (there must be none)

    assert page.evaluate("window.__xss") is None
    assert not dialogs, dialogs
    assert page.locator("[onerror], [onload], [onbegin], script:not([src])").count() == 0
    for selector in ("#project-card", "#project-list"):
        html = page.locator(selector).inner_html()
        assert "<script" not in html
        assert "<svg" not in html.lower()
        assert not re.search(r"<img[^>]*src=\"?x", html)
    hrefs = page.locator("a[href]").evaluate_all("(as) => as.map((a) => a.getAttribute('href'))")
    assert not [h for h in hrefs if re.match(r"\s*(javascript|data|vbscript):", h, re.I)], hrefs
    links = card.locator("a[href]")
    for i in range(links.count()):
        assert links.nth(i).get_attribute("rel") == "noopener noreferrer"
        assert links.nth(i).get_attribute("target") == "_blank"
    expect(card.locator('a[href="https://example.org/ok"]')).to_have_count(1)
    assert not [e for e in vp.errors if "pageerror" in e], vp.errors


def test_deep_link_opens_the_card_on_a_phone(
    fresh_page: Callable[..., ViewerPage], catalogue: dict[str, Any]
) -> None:
    xss_id = catalogue["xss"]["id"]
    target = next(p for p in catalogue["public"].values() if p["id"] != xss_id)
    vp = fresh_page(PHONE)
    vp.page.goto(f"{vp.base_url}/?project={target['id']}")
    vp.wait_catalogue()
    page = vp.page
    card = page.locator("#project-card")
    expect(card).to_be_visible(timeout=STATE_MS)
    expect(page.locator("#card-title")).to_have_text(target["title_sv"])
    assert page.evaluate("window.twin.selectedProject.id") == target["id"]
    box = card.bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= PHONE["width"] + 0.5
    assert box["y"] + box["height"] <= PHONE["height"] + 0.5
    vp.wait_ready()
    page.wait_for_function("!window.twin.catalogue.flying", timeout=STATE_MS)
    vp.screenshot("catalogue-phone.png")

    # A link to an internal project tells the visitor it is not there, and nothing more.
    page.goto(f"{vp.base_url}/#project={catalogue['internal']['id']}")
    vp.wait_catalogue()
    expect(card).to_be_visible(timeout=STATE_MS)
    expect(card).to_contain_text("finns inte eller är inte publikt")
    expect(card).not_to_contain_text("Internt e2e-projekt")


# --- editing ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def editor(
    open_viewer: Callable[..., ViewerPage], catalogue: dict[str, Any]
) -> Iterator[ViewerPage]:
    vp = open_viewer(DESKTOP)
    vp.open()
    vp.wait_ready()
    vp.wait_catalogue()
    yield vp
    vp.close()


def _login(vp: ViewerPage) -> None:
    page = vp.page
    if page.evaluate("window.twin.user"):
        return
    page.get_by_role("button", name="Logga in").click()
    dialog = page.locator("#login-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label("E-post").fill(EDITOR_EMAIL)
    dialog.get_by_label("Lösenord").fill(PASSWORD)
    dialog.get_by_role("button", name="Logga in").click()
    expect(dialog).to_be_hidden()
    page.wait_for_function("window.twin.user && window.twin.user.email", timeout=STATE_MS)
    expect(page.locator("#account-name")).to_contain_text(EDITOR_EMAIL)


def _save_and_wait(vp: ViewerPage, title: str) -> dict[str, Any]:
    page = vp.page
    before = page.evaluate("window.twin.selectedProject") or {}
    page.get_by_role("button", name="Spara", exact=True).click()
    expect(page.locator("#form-panel")).to_be_hidden(timeout=STATE_MS)
    page.wait_for_function(
        """([t, id, version]) => {
            const s = window.twin.selectedProject;
            return s && s.title === t && (s.id !== id || s.version !== version);
        }""",
        arg=[title, before.get("id"), before.get("version")],
        timeout=STATE_MS,
    )
    expect(page.locator("#card-title")).to_have_text(title)
    selected: dict[str, Any] = page.evaluate("window.twin.selectedProject")
    return selected


def test_editor_adds_a_project_by_clicking_the_map_and_the_public_sees_it_once_public(
    editor: ViewerPage, fresh_page: Callable[..., ViewerPage], twin: TwinServer
) -> None:
    page = editor.page
    _login(editor)
    title = f"E2E-projekt {uuid.uuid4().hex[:8]}"

    page.get_by_role("button", name="Lägg till projekt").click()
    form = page.locator("#project-form")
    expect(form).to_be_visible()
    form.get_by_label("Titel (svenska)").fill(title)
    form.get_by_label("Sammanfattning").fill("Skapat av webbläsartestet.")
    expect(form.locator('input[name="municipalities"][value="DEMO"]')).to_be_checked()
    form.get_by_label("Mobilitet").check()
    expect(form.get_by_label("Publikt (synligt för alla)")).not_to_be_checked()

    # Place it: the next click on the map (or the model) sets a point.
    form.get_by_role("button", name="Placera på kartan").click()
    expect(page.locator("#place-banner")).to_be_visible()
    expect(page.locator("#form-panel")).to_be_hidden()
    page.mouse.click(DESKTOP["width"] * 0.6, DESKTOP["height"] * 0.6)
    expect(page.locator("#place-banner")).to_be_hidden()
    expect(page.locator("#form-panel")).to_be_visible()
    expect(page.locator("#f-location-text")).to_contain_text("Punkt")

    created = _save_and_wait(editor, title)
    assert created["public"] is False
    project_id = created["id"]
    expect(page.locator("#project-card")).to_contain_text("Internt")
    status, stored = twin.api("GET", f"/api/projects/{project_id}")
    assert status == 200
    point = stored["geometry"]["geometries"][0]
    assert point["type"] == "Point"
    lon, lat = point["coordinates"][:2]
    assert 4.3 < lon < 4.45, point  # near the Delft demo model
    assert 51.95 < lat < 52.05, point
    assert project_id in set(page.evaluate("window.twin.catalogue.pins"))

    # A visitor in another browser context does not see the internal project.
    visitor = fresh_page(DESKTOP)
    visitor.open()
    visitor.wait_catalogue()
    assert project_id not in _shown(visitor)
    expect(visitor.page.locator("#project-list")).not_to_contain_text(title)
    assert api_call(twin.url, "GET", f"/api/projects/{project_id}")[0] == 404

    # The editor makes it public.
    page.locator("#card-edit").click()
    expect(form).to_be_visible()
    expect(form.get_by_label("Titel (svenska)")).to_have_value(title)
    expect(page.locator("#f-location-text")).to_contain_text("Punkt")
    form.get_by_label("Publikt (synligt för alla)").check()
    updated = _save_and_wait(editor, title)
    assert updated["public"] is True
    assert updated["version"] == created["version"] + 1

    # The visitor sees it after a reload, in the list and as a pin.
    visitor.page.reload()
    visitor.wait_catalogue()
    assert project_id in _shown(visitor)
    assert project_id in set(visitor.page.evaluate("window.twin.catalogue.pins"))
    expect(visitor.page.locator(f'#project-list li[data-project="{project_id}"]')).to_contain_text(
        title
    )
    assert not [e for e in editor.errors + visitor.errors if "pageerror" in e]


@pytest.fixture
def open_form(editor: ViewerPage) -> Iterator[ViewerPage]:
    _login(editor)
    yield editor
    if editor.page.locator("#form-panel").is_visible():
        editor.page.locator("#form-cancel").click()


def test_an_empty_title_is_refused_inline(open_form: ViewerPage) -> None:
    page = open_form.page
    page.get_by_role("button", name="Lägg till projekt").click()
    form = page.locator("#project-form")
    expect(form).to_be_visible()
    form.get_by_label("Titel (svenska)").fill("   ")
    form.get_by_role("button", name="Spara").click()
    error = page.locator('.field[data-field="title_sv"] .field-error')
    expect(error).to_be_visible(timeout=STATE_MS)
    expect(error).to_have_text("Fyll i fältet.")
    expect(form.get_by_label("Titel (svenska)")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#form-message")).to_contain_text("rätta de markerade fälten")
    expect(page.locator("#form-panel")).to_be_visible()


def test_a_concurrent_edit_shows_a_conflict_and_reloads(
    open_form: ViewerPage, twin: TwinServer, catalogue: dict[str, Any]
) -> None:
    page = open_form.page
    target = catalogue["internal"]
    page.evaluate("(id) => window.twin.catalogue.open(id)", target["id"])
    page.wait_for_function(
        "(id) => window.twin.selectedProject?.id === id", arg=target["id"], timeout=STATE_MS
    )
    page.locator("#card-edit").click()
    form = page.locator("#project-form")
    expect(form).to_be_visible()
    # Someone else saves first.
    status, current = twin.api("GET", f"/api/projects/{target['id']}")
    assert status == 200
    body = {
        "title_sv": "Ändrat av någon annan",
        "municipalities": current["municipalities"],
        "geometries": current["geometry"]["geometries"] if current["geometry"] else [],
    }
    status, _ = twin.api(
        "PUT", f"/api/projects/{target['id']}", body, If_Match=f'"{current["version"]}"'
    )
    assert status == 200
    form.get_by_label("Sammanfattning").fill("Min ändring")
    form.get_by_role("button", name="Spara").click()
    message = page.locator("#form-message")
    expect(message).to_contain_text("Någon annan har sparat projektet", timeout=STATE_MS)
    page.get_by_role("button", name="Ladda om projektet").click()
    expect(form.get_by_label("Titel (svenska)")).to_have_value("Ändrat av någon annan")
    expect(message).to_be_hidden()


# --- stewardship --------------------------------------------------------------------


def _make_stale(twin: TwinServer, project_id: int) -> None:
    """Set the project's last review back two years, straight in the server's database."""
    from datetime import UTC, datetime, timedelta

    import layers.accounts  # noqa: F401  (the users table the projects refer to)
    from layers.catalogue.models import Project
    from twin.db import Database
    from twin.settings import Settings

    db = Database(Settings(data_dir=twin.data_dir).database)
    try:
        with db.session() as session:
            project = session.get(Project, project_id)
            assert project is not None
            project.last_reviewed_at = datetime.now(UTC) - timedelta(days=730)
            session.commit()
    finally:
        db.dispose()


def test_an_editor_marks_a_stale_project_still_current(
    fresh_page: Callable[..., ViewerPage], twin: TwinServer, catalogue: dict[str, Any]
) -> None:
    target = next(
        p
        for p in sorted(catalogue["public"].values(), key=lambda p: p["id"])
        if "DEMO" in p["municipalities"] and p["id"] != catalogue["xss"]["id"]
    )
    _make_stale(twin, target["id"])
    status, before = twin.api("GET", f"/api/projects/{target['id']}")
    assert status == 200
    assert before["stale"] is True, before

    vp = fresh_page(DESKTOP)
    vp.open()
    vp.wait_catalogue()
    page = vp.page
    expect(page.locator("#steward")).to_be_hidden()  # not for visitors
    _login(vp)
    steward = page.locator("#steward")
    expect(steward).to_be_visible()
    expect(steward.get_by_role("heading", name="Att granska")).to_be_visible()
    row = steward.locator(f'li[data-project="{target["id"]}"]')
    expect(row).to_contain_text(target["title_sv"], timeout=STATE_MS)

    # The title opens the card, which shows the stale badge and the button.
    row.get_by_role("button", name=target["title_sv"]).click()
    page.wait_for_function(
        "(id) => window.twin.selectedProject?.id === id", arg=target["id"], timeout=STATE_MS
    )
    card = page.locator("#project-card")
    expect(card.locator(".badge.stale")).to_be_visible()
    expect(card.get_by_role("button", name="Fortfarande aktuellt")).to_be_visible()

    # One click in the steward list: it leaves the list, the card loses its stale badge.
    row.get_by_role("button", name="Fortfarande aktuellt").click()
    expect(row).to_have_count(0, timeout=STATE_MS)
    expect(card.locator("#card-message")).to_have_text("Markerat som granskat.")
    expect(card.locator(".badge.stale")).to_have_count(0)
    page.wait_for_function(
        "(id) => Array.isArray(window.twin.catalogue.stale)"
        " && !window.twin.catalogue.stale.includes(id)",
        arg=target["id"],
        timeout=STATE_MS,
    )
    if not page.evaluate("window.twin.catalogue.stale.length"):
        expect(page.locator("#steward-status")).to_have_text("Inga projekt behöver granskas.")

    status, after = twin.api("GET", f"/api/projects/{target['id']}")
    assert status == 200
    assert after["stale"] is False
    assert after["last_reviewed_at"] != before["last_reviewed_at"]
    assert not [e for e in vp.errors if "pageerror" in e]
