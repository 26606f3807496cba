"""Base maps and terrain from settings: validation with clear errors, /api/config, and a
Content-Security-Policy that lets in exactly the configured servers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from twin.app import create_app
from twin.cli import main
from twin.settings import Settings, SettingsInvalid, settings_error

XYZ = {
    "name": "topo",
    "title": "Topografisk",
    "type": "xyz",
    "url": "https://tiles.example.se/topo/{z}/{x}/{y}.png",
    "credit": "© Kommunen",
}
WMTS = {
    "name": "lm",
    "title": "Lantmäteriet",
    "type": "wmts",
    "url": "https://maps.example.org:8443/open/topowebb-ccby/v1/wmts",
    "layer": "topowebb",
    "tile_matrix_set": "3857",
    "maximum_level": 15,
}


def settings_from_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **env: str) -> Settings:
    for key, value in env.items():
        monkeypatch.setenv(f"TWIN_{key.upper()}", value)
    return Settings(data_dir=tmp_path)


def error_of(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **env: str) -> str:
    with pytest.raises(SettingsInvalid) as info:
        settings_from_env(monkeypatch, tmp_path, **env)
    return settings_error(info.value)


def test_default_is_the_offline_map_alone(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path)
    assert [m.name for m in s.all_base_maps()] == ["natural-earth"]
    assert s.base_map_name == "natural-earth"
    assert s.external_origins == []
    assert s.terrain_url is None


def test_base_maps_from_json_in_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    s = settings_from_env(
        monkeypatch,
        tmp_path,
        base_maps=json.dumps([XYZ, WMTS]),
        default_base_map="lm",
        terrain_url="https://terrain.example.net/dem",
    )
    maps = s.all_base_maps()
    assert [m.name for m in maps] == ["natural-earth", "topo", "lm"]
    assert maps[2].layer == "topowebb"
    assert maps[2].style == "default"
    assert s.base_map_name == "lm"
    assert s.external_origins == [
        "https://maps.example.org:8443",
        "https://terrain.example.net",
        "https://tiles.example.se",
    ]


def test_older_single_tms_setting_is_one_entry_shown_first(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    s = settings_from_env(
        monkeypatch,
        tmp_path,
        base_map_url="https://gis.example.se/tms/ortho",
        base_map_credit="© Ortofoto",
    )
    legacy = s.all_base_maps()[1]
    assert (legacy.name, legacy.type, legacy.url, legacy.credit) == (
        "base-map",
        "tms",
        "https://gis.example.se/tms/ortho",
        "© Ortofoto",
    )
    assert s.base_map_name == "base-map"
    assert s.external_origins == ["https://gis.example.se"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('[{"name": "x",', "Expecting property name"),
        ('{"name": "x"}', "TWIN_BASE_MAPS: Input should be a valid list"),
        (json.dumps([{**XYZ, "type": "wms"}]), "TWIN_BASE_MAPS[0][type]: Input should be 'xyz'"),
        (json.dumps([{k: v for k, v in XYZ.items() if k != "url"}]), "[0][url]: Field required"),
        (json.dumps([{**WMTS, "layer": None}]), "'lm' (wmts) needs layer"),
        (json.dumps([{**XYZ, "url": "https://t.example/{z}/{x}.png"}]), "needs {z}, {x} and {y}"),
        (json.dumps([{**XYZ, "url": "ftp://t.example/{z}/{x}/{y}"}]), "must be an http(s) URL"),
        (json.dumps([{**XYZ, "url": "https://{s}.t.example/{z}/{x}/{y}"}]), "no {s} subdomains"),
        (json.dumps([{**XYZ, "url": "https://t.example;x/{z}/{x}/{y}"}]), "in its host"),
        (json.dumps([XYZ, XYZ]), "'topo' is used twice"),
        (json.dumps([{**XYZ, "name": "natural-earth"}]), "is the built-in offline map"),
        (json.dumps([{**XYZ, "name": "Topo Karta"}]), "[0][name]: String should match"),
        (json.dumps([{**XYZ, "zoom": 3}]), "[0][zoom]: Extra inputs are not permitted"),
    ],
)
def test_bad_base_maps_say_what_is_wrong(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, value: str, expected: str
) -> None:
    message = error_of(monkeypatch, tmp_path, base_maps=value)
    assert message.startswith("invalid settings: ")
    assert expected in message


def test_unknown_default_and_bad_terrain_url(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    message = error_of(monkeypatch, tmp_path, default_base_map="ortho")
    assert "TWIN_DEFAULT_BASE_MAP: 'ortho' is none of the base maps: natural-earth" in message
    message = error_of(monkeypatch, tmp_path, terrain_url="terrain.example.net/dem")
    named = "TWIN_TERRAIN_URL='terrain.example.net/dem'"
    assert f"{named}: terrain_url must be an http(s) URL" in message


def test_cli_refuses_bad_settings_in_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TWIN_BASE_MAPS", json.dumps([{**XYZ, "type": "wms"}]))
    assert main(["--data-dir", str(tmp_path), "layers"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("twin: error: invalid settings: TWIN_BASE_MAPS[0][type]")


def csp_sources(header: str) -> dict[str, list[str]]:
    directives = [d.strip().split() for d in header.split(";") if d.strip()]
    return {d[0]: d[1:] for d in directives}


def test_config_lists_base_maps_and_terrain(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        base_maps=[XYZ, WMTS],  # type: ignore[list-item]
        default_base_map="topo",
        terrain_url="https://terrain.example.net/dem",
    )
    cfg = TestClient(create_app(settings)).get("/api/config").json()
    assert [m["name"] for m in cfg["base_maps"]] == ["natural-earth", "topo", "lm"]
    assert [m["offline"] for m in cfg["base_maps"]] == [True, False, False]
    assert cfg["base_maps"][0]["url"] == "/cesium/Assets/Textures/NaturalEarthII"
    assert cfg["base_map"]["name"] == "topo"
    assert cfg["base_maps"][2]["tile_matrix_set"] == "3857"
    assert cfg["terrain"] == {"url": "https://terrain.example.net/dem"}


def test_by_default_nothing_leaves_the_server(tmp_path: Path) -> None:
    client = TestClient(create_app(Settings(data_dir=tmp_path)))
    cfg = client.get("/api/config").json()
    assert cfg["terrain"] is None
    assert cfg["base_map"]["name"] == "natural-earth"
    assert [m["name"] for m in cfg["base_maps"]] == ["natural-earth"]
    for page in ("/", "/?embed=1"):
        csp = csp_sources(client.get(page).headers["content-security-policy"])
        assert csp["img-src"] == ["'self'", "data:", "blob:"]
        assert csp["connect-src"] == ["'self'", "data:", "blob:"]
        assert csp["default-src"] == ["'self'"]


def test_csp_allows_exactly_the_configured_origins(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        base_maps=[XYZ, WMTS, {**XYZ, "name": "local", "url": "/maps/{z}/{x}/{y}.png"}],  # type: ignore[list-item]
        base_map_url="http://127.0.0.1:8123/tms",
        terrain_url="https://terrain.example.net/dem/",
        frame_ancestors="https://www.example.se",
    )
    client = TestClient(create_app(settings))
    expected = [
        "'self'",
        "data:",
        "blob:",
        "http://127.0.0.1:8123",
        "https://maps.example.org:8443",
        "https://terrain.example.net",
        "https://tiles.example.se",
    ]
    for page, ancestors in (("/", ["'self'"]), ("/?embed=1", ["https://www.example.se"])):
        csp = csp_sources(client.get(page).headers["content-security-policy"])
        assert csp["img-src"] == expected, page
        assert csp["connect-src"] == expected, page
        assert csp["frame-ancestors"] == ancestors
        # Nothing else widened: scripts, styles, workers and the rest stay this server's.
        assert csp["script-src"] == ["'self'", "'unsafe-eval'"]
        assert csp["worker-src"] == ["'self'", "blob:"]
        assert csp["default-src"] == ["'self'"]
    # The JSON API carries no CSP of its own (it is no page).
    assert "content-security-policy" not in client.get("/api/config").headers
