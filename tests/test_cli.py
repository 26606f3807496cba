"""The twin command: exit codes, one-line errors, convert, import, layers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "data" / "demo" / "delft.city.json"


def twin(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    full_env.pop("TWIN_DATA_DIR", None) if env is None else None
    return subprocess.run(
        [sys.executable, "-m", "twin", *map(str, args)],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=300,
        check=False,
    )


def test_convert_writes_a_standalone_tileset(tmp_path: Path) -> None:
    r = twin("convert", DEMO, "--out", tmp_path / "out")
    assert r.returncode == 0, r.stderr
    assert "570 objects" in r.stdout
    assert (tmp_path / "out" / "tileset.json").is_file()
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["crs"] == "EPSG:7415"
    assert report["crs_from"] == "file"
    assert "heights used as ellipsoidal" in r.stderr  # the height decision is reported


def test_crs_option_overrides_the_file(tmp_path: Path) -> None:
    r = twin("convert", DEMO, "--out", tmp_path / "out", "--crs", "EPSG:28992")
    assert r.returncode == 0, r.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["crs"] == "EPSG:28992"
    assert report["crs_from"] == "option"


@pytest.mark.parametrize(
    ("content", "code", "phrase"),
    [
        ("", "empty_input", "empty"),
        ("{not json", "unsupported_format", "not a format"),
        (
            '{"type": "CityJSON", "version": "2.0", "transform": {"scale": [0, 1, 1], '
            '"translate": [0, 0, 0]}, "CityObjects": {}, "vertices": []}',
            "invalid_transform",
            "scale",
        ),
        (
            '{"type": "CityJSON", "version": "3.7", "CityObjects": {}, "vertices": []}',
            "unsupported_format",
            "version",
        ),
    ],
)
def test_bad_input_is_one_line_with_code(
    tmp_path: Path, content: str, code: str, phrase: str
) -> None:
    src = tmp_path / "bad.city.json"
    src.write_text(content)
    r = twin("convert", src, "--out", tmp_path / "out")
    assert r.returncode == 3
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert "bad.city.json" in lines[0]
    assert f"[{code}]" in lines[0]
    assert phrase in lines[0]
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "out").exists()


def test_missing_crs_says_how_to_pass_one(tmp_path: Path) -> None:
    doc = json.loads(DEMO.read_text())
    del doc["metadata"]["referenceSystem"]
    src = tmp_path / "nocrs.city.json"
    src.write_text(json.dumps(doc))
    r = twin("convert", src, "--out", tmp_path / "out")
    assert r.returncode == 3
    assert "[crs_missing]" in r.stderr
    assert "--crs" in r.stderr


def test_unknown_crs_is_refused(tmp_path: Path) -> None:
    r = twin("convert", DEMO, "--out", tmp_path / "out", "--crs", "EPSG:999999")
    assert r.returncode == 3
    assert "[crs_unknown]" in r.stderr


def test_wrong_crs_is_caught_by_area_of_use(tmp_path: Path) -> None:
    # Dutch RD coordinates declared as SWEREF 99 TM: outside Sweden either way.
    r = twin("convert", DEMO, "--out", tmp_path / "out", "--crs", "EPSG:3006")
    assert r.returncode == 3
    assert "[crs_out_of_area]" in r.stderr
    assert "area of use" in r.stderr


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    src = tmp_path / "empty.city.json"
    src.write_text("")
    r = twin("--debug", "convert", src, "--out", tmp_path / "out")
    assert r.returncode == 3
    assert "Traceback" in r.stderr


def test_import_is_idempotent_and_listed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    r = twin(
        "--data-dir", data, "import", DEMO, "--layer", "demo", "--title", "Delft", "--if-changed"
    )
    assert r.returncode == 0, r.stderr
    assert "published" in r.stdout
    again = twin("--data-dir", data, "import", DEMO, "--layer", "demo", "--if-changed")
    assert again.returncode == 0
    assert "up to date" in again.stdout
    assert len(list((data / "layers" / "demo" / "versions").iterdir())) == 1
    listed = twin("--data-dir", data, "layers")
    assert listed.returncode == 0
    assert listed.stdout.startswith("demo\tDelft\t570 objects\tEPSG:7415")


def test_data_dir_from_environment(tmp_path: Path) -> None:
    data = tmp_path / "envdata"
    r = twin("import", DEMO, "--layer", "demo", env={"TWIN_DATA_DIR": str(data)})
    assert r.returncode == 0, r.stderr
    # Layers live in the database now (no layer.json): the import is listed and on disk.
    assert len(list((data / "layers" / "demo" / "versions").iterdir())) == 1
    listed = twin("layers", env={"TWIN_DATA_DIR": str(data)})
    assert listed.stdout.startswith("demo\t")


def test_failed_import_keeps_the_published_version(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert twin("--data-dir", data, "import", DEMO, "--layer", "demo").returncode == 0
    before = twin("--data-dir", data, "layers").stdout  # layers live in the database now
    bad = tmp_path / "bad.city.json"
    bad.write_text('{"type": "CityJSON", "version": "2.0", "CityObjects": {}, "vertices": []}')
    r = twin("--data-dir", data, "import", bad, "--layer", "demo")
    assert r.returncode == 3
    assert "[empty_input]" in r.stderr
    assert twin("--data-dir", data, "layers").stdout == before
    assert len(list((data / "layers" / "demo" / "versions").iterdir())) == 1


def test_bad_layer_name(tmp_path: Path) -> None:
    r = twin("--data-dir", tmp_path, "import", DEMO, "--layer", "../evil")
    assert r.returncode == 3
    assert "[invalid_layer_name]" in r.stderr


def test_usage_error_exit_code() -> None:
    assert twin("convert").returncode == 2


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"TWIN_SENSOR_RETENTION_DAYS": "abc"}, "TWIN_SENSOR_RETENTION_DAYS='abc'"),
        ({"TWIN_FRAME_ANCESTORS": "https://a.example; script-src *"}, "TWIN_FRAME_ANCESTORS="),
    ],
)
def test_an_invalid_setting_is_named_not_an_internal_error(
    tmp_path: Path, env: dict[str, str], named: str
) -> None:
    r = twin("--data-dir", tmp_path / "data", "layers", env=env)
    assert r.returncode == 2, r.stderr
    assert named in r.stderr
    assert "[bad_setting]" in r.stderr
    assert "internal error" not in r.stderr
    assert not (tmp_path / "data").exists()  # nothing was created from a bad configuration
