"""The CityJSON reader on every real export in ../shared/data (skipped when absent).

Expectations come from reading each file independently with plain ``json``
(:func:`.cjutil.load_source`), not from the reader under test.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from shared import shared_data_dir

from tiles.model import SURFACE_TYPES, surface_index
from tiles.options import ConvertOptions
from tiles.readers import read

from .cjutil import (
    assert_mesh_sane,
    by_id,
    expected_attributes,
    load_source,
    lod_key,
    mesh_area,
    newell,
)

pytestmark = pytest.mark.shared_data

# Collected from the folder itself, so a new export is tested without editing this file.
_BASE = shared_data_dir()
VALID = sorted(
    str(p.relative_to(_BASE))
    for pattern in ("cityjson*/**/*.json", "cityjson*/**/*.jsonl")
    for p in (_BASE.glob(pattern) if _BASE else [])
    if p.is_file() and "invalid" not in p.parent.name and "appearances" not in p.parts
)
_MESH_TYPES = ("MultiSurface", "CompositeSurface", "Solid", "MultiSolid", "CompositeSolid")


def polygons(node: Any) -> Any:
    """Every polygon (a list of rings of vertex indices) of a boundaries tree."""
    if node and isinstance(node[0], list) and node[0] and isinstance(node[0][0], int):
        yield node
        return
    for child in node:
        if isinstance(child, list):
            yield from polygons(child)


def semantic_names(node: Any, surfaces: list[dict[str, Any]]) -> set[str]:
    if isinstance(node, list):
        return set().union(*(semantic_names(v, surfaces) for v in node)) if node else set()
    return {surfaces[node]["type"]} if isinstance(node, int) else set()


@pytest.mark.parametrize("rel", VALID)
def test_real_cityjson_reads_faithfully(shared_data: Path, rel: str) -> None:
    path = shared_data / rel
    data = read(path, ConvertOptions())
    header, objects = load_source(path)
    assert data.features, rel
    assert data.object_count == len(objects)
    assert data.crs_text == (header.get("metadata") or {}).get("referenceSystem")
    assert data.format == f"CityJSON {header['version']}"
    features = by_id(data)
    skipped = {s.object_id for s in data.skipped}
    for oid, obj in objects.items():  # every object with surfaces is drawn, by itself or parts
        if any(g["type"] in _MESH_TYPES for g in obj.get("geometry") or []):
            assert (
                oid in features
                or oid in skipped
                or any(c in features for c in obj.get("children") or [])
            ), oid
    for oid, f in features.items():
        obj = objects[oid]
        assert_mesh_sane(f.mesh, len(SURFACE_TYPES))
        assert f.type == obj["type"]
        assert f.parent_id == ((obj.get("parents") or [None])[0])
        assert f.attributes == expected_attributes(objects, oid), oid
        chosen = [
            g
            for g in obj["geometry"]
            if g["type"] in _MESH_TYPES and lod_key(g.get("lod", 0)) == lod_key(f.lod)
        ]
        assert chosen, (oid, f.lod)
        assert lod_key(f.lod) == max(
            lod_key(g.get("lod", 0)) for g in obj["geometry"] if g["type"] in _MESH_TYPES
        )
        # the triangles cover the polygons: area of each outer ring minus its holes
        real = obj["_real"]
        area = sum(
            (
                np.linalg.norm(newell(real[p[0]]))
                - sum(np.linalg.norm(newell(real[h])) for h in p[1:])
            )
            / 2
            for g in chosen
            for p in polygons(g["boundaries"])
        )
        assert mesh_area(f.mesh) == pytest.approx(area, rel=1e-4), oid
        # semantic classes: exactly those the chosen geometry names (known ones)
        named = set().union(
            *(
                semantic_names(g["semantics"].get("values"), g["semantics"]["surfaces"])
                for g in chosen
                if g.get("semantics")
            )
        )
        got = {SURFACE_TYPES[s] for s in np.unique(f.mesh.surfaces)} - {""}
        assert got == {n for n in named if surface_index(n)}, oid
    assert data.lods == dict(Counter(f.lod for f in data.features))


def test_every_shared_cityjson_is_collected(shared_data: Path) -> None:
    names = {Path(r).name for r in VALID}
    assert {
        "delft.json",
        "rotterdam_subset.json",
        "rotterdam_one.json",
        "japanese.city.json",
        "3dbag_b2.city.json",
        "3dbag_b2.city.jsonl",
        "delft_subset.city.jsonl",
    } <= names, names


def _read(shared_data: Path, rel: str, lod: str | None = None) -> Any:
    path = shared_data / rel
    if not path.is_file():
        pytest.skip(f"{rel} is absent")
    return read(path, ConvertOptions(lod=lod))


def test_rotterdam_subset_declares_no_crs(shared_data: Path) -> None:
    data = _read(shared_data, "cityjson-rotterdam-textured/rotterdam_subset.json")
    assert data.crs_text is None
    assert len(data.features) == 16
    assert set(data.lods) == {"2"}
    roof = {SURFACE_TYPES[s] for f in data.features for s in f.mesh.surfaces}
    assert {"RoofSurface", "WallSurface", "GroundSurface"} <= roof


def test_rotterdam_one_is_cityjson_1_1(shared_data: Path) -> None:
    data = _read(shared_data, "cityjson-rotterdam-textured/rotterdam_one.json")
    assert data.format == "CityJSON 1.1"
    assert data.crs_text == "https://www.opengis.net/def/crs/EPSG/0/7415"


def test_delft_bgt_object_types(shared_data: Path) -> None:
    data = _read(shared_data, "cityjson-delft-bgt-lod1/delft.json")
    assert Counter(f.type for f in data.features) == {
        "Building": 160,
        "Road": 143,
        "PlantCover": 126,
        "LandUse": 81,
        "GenericCityObject": 54,
        "Bridge": 3,
        "WaterBody": 3,
    }
    assert data.lods == {"1": 570}
    lo = np.min([f.mesh.positions.min(axis=0) for f in data.features], axis=0)
    hi = np.max([f.mesh.positions.max(axis=0) for f in data.features], axis=0)
    assert 80_000 < lo[0] < hi[0] < 90_000
    assert 440_000 < lo[1] < hi[1] < 450_000


@pytest.mark.parametrize(
    ("lod", "chosen"),
    [(None, "2.2"), ("2.2", "2.2"), ("1.3", "1.3"), ("1.2", "1.2"), ("1.9", "1.3")],
)
def test_delft_subset_lod_choice_draws_parts(
    shared_data: Path, lod: str | None, chosen: str
) -> None:
    rel = "cityjsonseq-delft-subset/delft_subset.city.jsonl"
    data = _read(shared_data, rel, lod)
    _, objects = load_source(shared_data / rel)
    assert data.lods == {chosen: 10}
    assert data.object_count == 20
    for f in data.features:  # the BuildingParts, carrying their Building's attributes
        assert f.type == "BuildingPart"
        parent = objects[f.parent_id]
        assert parent["type"] == "Building"
        assert parent["attributes"].items() <= f.attributes.items()
        assert f.attributes["identificatie"] == f.parent_id
    assert any("drawn by their parts" in w for w in data.warnings)


def test_delft_subset_lods_differ_in_shape(shared_data: Path) -> None:
    rel = "cityjsonseq-delft-subset/delft_subset.city.jsonl"
    lod12, lod22 = (by_id(_read(shared_data, rel, lod)) for lod in ("1.2", "2.2"))
    assert set(lod12) == set(lod22)
    assert sum(f.mesh.triangle_count for f in lod22.values()) > sum(
        f.mesh.triangle_count for f in lod12.values()
    )


def test_japanese_attributes_and_negative_coordinates(shared_data: Path) -> None:
    data = _read(shared_data, "cityjson-plateau-japan/japanese.city.json")
    assert data.crs_text == "http://www.opengis.net/def/crs/EPSG/0/6677"
    features = by_id(data)
    building = features["bldg_ae456d21-3425-4a03-813d-c06e999bd1b8"]
    assert "延べ面積換算係数" in building.attributes
    assert building.attributes["address"][0]["Locality"] == "東京都港区六本木一丁目"
    installation = features["bldg_f40ad798-d23b-4d45-a3b3-6028f4920c03_BuildingInstallation_1060"]
    assert installation.parent_id == "bldg_f40ad798-d23b-4d45-a3b3-6028f4920c03"
    assert installation.type == "BuildingInstallation"
    assert (building.mesh.positions[:, :2] < 0).all()  # EPSG:6677 west/south of its origin
