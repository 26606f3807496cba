"""Embed mode's headers: only ``/?embed=1`` may be framed by other sites, as
``TWIN_FRAME_ANCESTORS`` says; the full viewer, the docs and the API stay same-origin."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from twin.app import create_app
from twin.settings import Settings


def _frame_ancestors(csp: str) -> str:
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";") if d.strip())
    return directives["frame-ancestors"]


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    return TestClient(create_app(Settings(data_dir=tmp_path)))


def test_embed_page_may_be_framed_by_anyone_by_default(client: TestClient) -> None:
    r = client.get("/?embed=1")
    assert r.status_code == 200
    assert _frame_ancestors(r.headers["content-security-policy"]) == "*"
    assert "x-frame-options" not in r.headers
    # The rest of the policy is the viewer's usual one.
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert "script-src 'self' 'unsafe-eval'" in r.headers["content-security-policy"]


def test_full_viewer_docs_and_api_stay_same_origin(client: TestClient) -> None:
    for path in ("/", "/?embed=0", "/docs"):
        r = client.get(path)
        assert r.status_code == 200, path
        assert _frame_ancestors(r.headers["content-security-policy"]) == "'self'", path
        assert r.headers["x-frame-options"] == "SAMEORIGIN", path
    for path in ("/api/config", "/api/layers"):
        r = client.get(path + "?embed=1")
        assert r.status_code == 200, path
        assert r.headers["x-frame-options"] == "SAMEORIGIN", path


def test_frame_ancestors_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWIN_FRAME_ANCESTORS", "  https://www.example.se   https://*.kommun.se ")
    client = TestClient(create_app(Settings(data_dir=tmp_path)))
    r = client.get("/?embed=1")
    assert (
        _frame_ancestors(r.headers["content-security-policy"])
        == "https://www.example.se https://*.kommun.se"
    )
    closed = TestClient(create_app(Settings(data_dir=tmp_path, frame_ancestors="'none'")))
    assert _frame_ancestors(closed.get("/?embed=1").headers["content-security-policy"]) == "'none'"


@pytest.mark.parametrize(
    "value",
    [
        "",
        "https://a.se; script-src *",  # another directive
        "https://a.se\r\nSet-Cookie: x=1",  # another header
        "'none' https://a.se",
        "'unsafe-inline'",
        "https://a.se,https://b.se",
    ],
)
def test_bad_frame_ancestors_are_refused(tmp_path: Path, value: str) -> None:
    with pytest.raises(ValidationError):
        Settings(data_dir=tmp_path, frame_ancestors=value)
