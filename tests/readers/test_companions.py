"""`twin import` copies an export's texture images with it, and nothing outside its folder."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from glbtools import Glb

from tiles.readers.companions import companions

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"


def test_cityjson_and_citygml_images_are_listed() -> None:
    cj = companions(FIXTURES / "cityjson" / "textured" / "textured.city.json")
    assert [rel for _, rel in cj] == [
        "appearance/checker.png",
        "appearance/roof.png",
        "appearance/stripes.png",
    ]
    assert all(p.is_file() for p, _ in cj)
    gml = companions(FIXTURES / "citygml" / "textured" / "textured_v3.gml")
    assert [rel for _, rel in gml] == ["appearance/checker.png"]


def test_references_outside_the_folder_are_never_listed(tmp_path: Path) -> None:
    export = tmp_path / "export"
    (export / "img").mkdir(parents=True)
    (export / "img" / "ok.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (tmp_path / "secret.png").write_bytes(b"secret")
    doc = {
        "type": "CityJSON",
        "appearance": {
            "textures": [
                {"type": "PNG", "image": "img/ok.png"},
                {"type": "PNG", "image": "../secret.png"},
                {"type": "PNG", "image": "/etc/passwd"},
                {"type": "PNG", "image": "http://example.org/x.png"},
                {"type": "PNG", "image": "img/missing.png"},
            ]
        },
    }
    source = export / "city.json"
    source.write_text(json.dumps(doc), encoding="utf-8")
    assert [rel for _, rel in companions(source)] == ["img/ok.png"]


def test_import_of_a_textured_file_keeps_its_textures(tmp_path: Path) -> None:
    """`twin import` of a lone CityJSON file (not a zip): the published tiles embed its images."""
    src = tmp_path / "src"
    shutil.copytree(FIXTURES / "cityjson" / "textured", src)
    data = tmp_path / "data"
    cmd = [sys.executable, "-m", "twin", "--data-dir", str(data), "import"]
    r = subprocess.run(
        [*cmd, str(src / "textured.city.json"), "--layer", "tex"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    assert r.returncode == 0, r.stderr
    glbs = sorted(data.glob("layers/tex/versions/*/tiles/*.glb"))
    assert glbs
    images = sum(len(Glb(g).json.get("images", [])) for g in glbs)
    assert images > 0
    # Only the image the fixture leaves out on purpose is reported missing.
    assert "checker.png" not in r.stderr
    assert "missing.jpg" in r.stderr
