"""The projects API: create, read, save over a version, delete; reference data; hostile
bodies (XSS, control characters, huge bodies, unknown codes)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from conftest import A, B, Env, project_in


def test_create_read_update_delete(env: Env) -> None:
    c = env.client
    r = c.post("/api/projects", json=project_in(), headers=env.auth("editor_a"))
    assert r.status_code == 201, r.text
    p = r.json()
    assert r.headers["etag"] == '"1"'
    assert r.headers["location"] == f"/api/projects/{p['id']}"
    assert p["version"] == 1
    assert p["municipalities"] == [A]
    assert p["bbox"] == [12.70, 56.05, 12.70, 56.05]
    assert p["geometry"] == {
        "type": "GeometryCollection",
        "geometries": [{"type": "Point", "coordinates": [12.70, 56.05]}],
    }
    assert p["created_by"] == env.user_ids["editor_a"]
    assert p["last_reviewed_at"] is not None

    r = c.get(f"/api/projects/{p['id']}")
    assert r.status_code == 200
    assert r.headers["etag"] == '"1"'
    assert "Authorization" in r.headers["vary"]

    body = project_in(title_sv="Nytt namn", municipalities=[A, B], status="completed")
    r = c.put(
        f"/api/projects/{p['id']}", json=body, headers={**env.auth("editor_a"), "If-Match": '"1"'}
    )
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"2"'
    assert r.json()["title_sv"] == "Nytt namn"
    assert r.json()["municipalities"] == [A, B]

    # a joint project needs editor rights in all its municipalities to be deleted
    r = c.delete(f"/api/projects/{p['id']}", headers={**env.auth("editor_a"), "If-Match": '"2"'})
    assert r.status_code == 403
    r = c.delete(f"/api/projects/{p['id']}", headers={**env.auth("admin"), "If-Match": '"2"'})
    assert r.status_code == 204
    assert c.get(f"/api/projects/{p['id']}", headers=env.auth("admin")).status_code == 404


def test_if_match_is_required_and_checked(env: Env) -> None:
    p = env.make()
    url = f"/api/projects/{p.id}"
    r = env.client.put(url, json=project_in(), headers=env.auth("editor_a"))
    assert r.status_code == 428
    assert r.json()["code"] == "precondition_required"
    r = env.client.put(url, json=project_in(), headers={**env.auth("editor_a"), "If-Match": "x"})
    assert r.status_code == 422
    r = env.client.delete(url, headers=env.auth("editor_a"))
    assert r.status_code == 428
    r = env.client.delete(url, headers={**env.auth("editor_a"), "If-Match": 'W/"7"'})
    assert r.status_code == 409
    assert r.json()["current_version"] == 1
    assert env.get(p.id) is not None


def test_a_save_without_changes_keeps_the_version(env: Env) -> None:
    p = env.make()
    body = project_in(municipalities=[A])
    r = env.client.put(
        f"/api/projects/{p.id}", json=body, headers={**env.auth("editor_a"), "If-Match": '"1"'}
    )
    assert r.status_code == 200
    assert r.json()["version"] == 1


def test_editor_may_not_move_a_project_out_of_their_municipalities(env: Env) -> None:
    p = env.make(owners=(A,))
    r = env.client.put(
        f"/api/projects/{p.id}",
        json=project_in(municipalities=[B]),
        headers={**env.auth("editor_a"), "If-Match": '"1"'},
    )
    assert r.status_code == 403
    assert r.json()["field"] == "municipalities"
    assert env.get(p.id).municipality_codes == [A]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"municipalities": ["9999"]}, "municipalities"),
        ({"municipalities": [A, "x' OR 1=1 --"]}, "municipalities"),
        ({"categories": ["no-such-category"]}, "categories"),
        ({"title_sv": "nul\x00byte"}, "title_sv"),
        ({"tags": ["ok", "bell\x07"]}, "tags"),
    ],
)
def test_unknown_codes_and_control_characters_are_422_with_field(
    env: Env, change: dict[str, object], field: str
) -> None:
    r = env.client.post("/api/projects", json=project_in(**change), headers=env.auth("admin"))
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "invalid_project"
    assert r.json()["field"] == field


@pytest.mark.parametrize(
    "change",
    [
        {"geometries": [{"type": "Point", "coordinates": [1e300, 56.0]}]},
        {"geometries": [{"type": "Point", "coordinates": [6_200_000.0, 1_350_000.0]}]},
        {"geometries": [{"type": "Polygon", "coordinates": [[[12, 56], [12.1, 56], [12, 56.1]]]}]},
        {"links": [{"title": "x", "url": "javascript:alert(1)"}]},
        {"status": "secret"},
        {"end_date": "2020-01-01", "start_date": "2021-01-01"},
        {"version": 3},
    ],
)
def test_invalid_bodies_are_422(env: Env, change: dict[str, object]) -> None:
    r = env.client.post("/api/projects", json=project_in(**change), headers=env.auth("admin"))
    assert r.status_code == 422, r.text


def test_huge_body_is_413(env: Env) -> None:
    body = project_in(description="x" * (3 * 1024 * 1024))
    r = env.client.post("/api/projects", json=body, headers=env.auth("admin"))
    assert r.status_code == 413
    assert r.json()["code"] == "payload_too_large"

    def chunks():  # no Content-Length: counted as it arrives
        for _ in range(40):
            yield b"x" * 100_000

    r = env.client.post(
        "/api/projects",
        content=chunks(),
        headers={**env.auth("admin"), "Content-Type": "application/json"},
    )
    assert r.status_code == 413


def test_out_of_range_ids_are_404_or_422_not_500(env: Env) -> None:
    assert env.client.get("/api/projects/2147483647").status_code == 404
    assert env.client.get("/api/projects/99999999999999").status_code == 422
    assert env.client.get("/api/projects/0").status_code == 422
    assert env.client.get("/api/projects/abc").status_code == 422


HOSTILE = (
    "<script>alert(1)</script>\n\n"
    '<img src=x onerror="alert(2)">\n\n'
    "[click](javascript:alert(3))\n\n"
    '<svg onload="alert(4)"><circle r="5"/></svg>\n\n'
    "[data](data:text/html;base64,PHNjcmlwdD4=)\n\n"
    '<a href="javascript:alert(5)">x</a> **fine** [ok](https://example.org)'
)


def test_hostile_descriptions_are_stored_verbatim_and_rendered_inert(env: Env) -> None:
    r = env.client.post(
        "/api/projects", json=project_in(description=HOSTILE), headers=env.auth("editor_a")
    )
    assert r.status_code == 201
    out = env.client.get(f"/api/projects/{r.json()['id']}").json()
    assert out["description"] == HOSTILE
    html = out["description_html"]
    tags = _Tags()
    tags.feed(html)
    assert tags.names <= {"p", "a", "strong"}, tags.names
    for name, value in tags.attrs:
        assert not name.startswith("on"), name
        assert name in ("href", "rel"), name
        if name == "href":
            assert value.startswith("https://"), value
    assert "<strong>fine</strong>" in html
    assert 'href="https://example.org"' in html
    assert "&lt;script&gt;" in html  # shown as text, never as markup


class _Tags(HTMLParser):
    """The element names and attributes a browser would build from some HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()
        self.attrs: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.names.add(tag)
        self.attrs += [(k, v or "") for k, v in attrs]


def test_field_visibility(env: Env) -> None:
    p = env.make(owners=(A,), public=True)
    q = env.make(owners=(A,), public=True, contact_public=True)
    for who in ("anonymous", "no_role", "editor_b"):
        out = env.client.get(f"/api/projects/{p.id}", headers=env.auth(who)).json()
        assert out["contact"] is None
        assert out["created_by"] is None
        assert out["updated_by"] is None
        assert "history" not in out
        listed = env.client.get("/api/projects", headers=env.auth(who)).json()["items"]
        assert {i["id"]: i["contact"] for i in listed}[p.id] is None
        out = env.client.get(f"/api/projects/{q.id}", headers=env.auth(who)).json()
        assert out["contact"] == "Anna Andersson, anna@example.org"
        assert out["created_by"] is None
    for who in ("editor_a", "gis_a", "admin"):
        out = env.client.get(f"/api/projects/{p.id}", headers=env.auth(who)).json()
        assert out["contact"] == "Anna Andersson, anna@example.org"
        assert "created_by" in out


def test_revoked_or_unknown_token_is_401(env: Env) -> None:
    r = env.client.get("/api/projects", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401


def test_municipalities_and_categories(env: Env) -> None:
    ms = env.client.get("/api/municipalities").json()
    assert {"code": "1283", "name": "Helsingborg"}.items() <= ms[
        [m["code"] for m in ms].index(A)
    ].items()
    assert all(len(m["bbox"]) == 4 for m in ms)
    cats = env.client.get("/api/categories").json()
    assert cats[0] == {"key": "mobility", "name_sv": "Mobilitet", "name_en": "Mobility"}

    body = {"code": "9999", "name": "Testkommun", "bbox": [12.0, 55.0, 13.0, 56.0]}
    assert env.client.post("/api/municipalities", json=body).status_code == 401
    for who in ("editor_a", "gis_a"):
        r = env.client.post("/api/municipalities", json=body, headers=env.auth(who))
        assert r.status_code == 403
    r = env.client.post("/api/municipalities", json=body, headers=env.auth("admin"))
    assert r.status_code == 201, r.text
    assert r.json() == {**body, "is_demo": False}
    r = env.client.post("/api/municipalities", json=body, headers=env.auth("admin"))
    assert r.status_code == 422
    assert r.json()["field"] == "code"
    bad = {"code": "x/../y", "name": "n"}
    assert (
        env.client.post("/api/municipalities", json=bad, headers=env.auth("admin")).status_code
        == 422
    )
    bad = {"code": "8888", "name": "n", "bbox": [13, 55, 12, 56]}
    assert (
        env.client.post("/api/municipalities", json=bad, headers=env.auth("admin")).status_code
        == 422
    )
    # the new municipality can own projects now
    r = env.client.post(
        "/api/projects", json=project_in(municipalities=["9999"]), headers=env.auth("admin")
    )
    assert r.status_code == 201


def test_openapi_documents_every_parameter(env: Env) -> None:
    spec = env.client.get("/openapi.json").json()
    for path, ops in spec["paths"].items():
        if not (path.startswith("/api/projects") or path.startswith("/api/municipalities")):
            continue
        for op in ops.values():
            for param in op.get("parameters", []):
                assert param.get("description"), (path, param["name"])


def test_contact_visibility_round_trips_through_an_edit(env: Env) -> None:
    """The edit form gets contact_public back, so a save does not silently hide it."""
    c = env.client
    body = project_in(contact="anna@example.org", contact_public=True, public=True)
    p = c.post("/api/projects", json=body, headers=env.auth("editor_a")).json()
    assert p["contact_public"] is True
    anonymous = c.get(f"/api/projects/{p['id']}").json()
    assert anonymous["contact"] == "anna@example.org"
    assert anonymous["contact_public"] is True
    hidden = project_in(contact="anna@example.org", contact_public=False, public=True)
    r = c.put(
        f"/api/projects/{p['id']}", json=hidden, headers={**env.auth("editor_a"), "If-Match": '"1"'}
    )
    assert r.status_code == 200, r.text
    anonymous = c.get(f"/api/projects/{p['id']}").json()
    assert anonymous["contact"] is None
    assert anonymous["contact_public"] is False
