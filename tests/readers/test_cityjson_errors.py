"""Invalid and hostile CityJSON: each gives a TilesError whose code, object and message
name the problem (docs: ../shared/docs/HOSTILE_INPUTS.md), never a crash."""

from __future__ import annotations

import contextlib
import copy
import json
from pathlib import Path
from typing import Any

import pytest

from tiles.errors import TilesError
from tiles.options import ConvertOptions
from tiles.readers import read

from .cjutil import write_json

# file in ../shared/data/cityjson-invalid -> (code, object id or None, phrases in the message)
INVALID = {
    "cjval_material_invalid_overflow.city.json": (
        "appearance_index_invalid",
        "id-1",
        ["material index (theme 'main2') 2 is out of range"],
    ),
    "cjval_texture1_invalid_texture_index.city.json": (
        "appearance_index_invalid",
        "building_texture",
        ["texture index (theme '00') 1 is out of range"],
    ),
    "cjval_texture6_invalid_float_indices.city.json": (
        "appearance_index_invalid",
        "id-1",
        ["texture vertex index (theme '00') 2.1 is not an integer"],
    ),
    "corpus_invalid_cityjsonfeature_root_id_unresolved.city.jsonl": (
        "unresolved_feature",
        "missing-main-object",
        ["'missing-main-object'", "CityObjects"],
    ),
    "corpus_invalid_missing_type.city.json": (
        "invalid_input",
        None,
        ['root object has no "type": "CityJSON"'],
    ),
    "corpus_invalid_out_of_range_vertex_index.city.json": (
        "vertex_index_out_of_range",
        "invalid_out_of_range_vertex_index",
        ["vertex index 99", "out of range", "3 vertices"],
    ),
}


def raises(path: Path, lod: str | None = None) -> TilesError:
    with pytest.raises(TilesError) as info:
        read(path, ConvertOptions(lod=lod))
    return info.value


def check(err: TilesError, code: str, object_id: str | None, *phrases: str) -> None:
    assert err.code == code, err.one_line()
    assert err.object_id == object_id, err.one_line()
    for phrase in phrases:
        assert phrase in err.message, (phrase, err.message)
    line = err.one_line()
    assert line.endswith(f"[{code}]")
    assert "\n" not in line
    assert err.source
    assert line.startswith(err.source)
    if object_id is not None:
        assert repr(object_id) in line


@pytest.mark.shared_data
@pytest.mark.parametrize("name", sorted(INVALID))
def test_shared_invalid_file_names_its_problem(shared_data: Path, name: str) -> None:
    code, oid, phrases = INVALID[name]
    path = shared_data / "cityjson-invalid" / name
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    check(raises(path), code, oid, *phrases)


@pytest.mark.shared_data
def test_every_shared_invalid_file_is_in_the_table(shared_data: Path) -> None:
    folder = shared_data / "cityjson-invalid"
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent")
    assert {p.name for p in folder.iterdir()} == set(INVALID)


# -- synthetic hostile inputs ---------------------------------------------------------
SQUARE = [[0, 0, 0], [1000, 0, 0], [1000, 1000, 0], [0, 1000, 0]]
TRANSFORM = {"scale": [0.001, 0.001, 0.001], "translate": [85000.0, 446500.0, 0.0]}


def cj(
    boundaries: Any = None, vertices: Any = None, gtype: str = "MultiSurface", **extra: Any
) -> dict[str, Any]:
    geom = {
        "type": gtype,
        "lod": "2",
        "boundaries": [[[0, 1, 2, 3]]] if boundaries is None else boundaries,
    }
    return {
        "type": "CityJSON",
        "version": "2.0",
        "transform": TRANSFORM,
        "CityObjects": {"obj-1": {"type": "Building", "geometry": [geom]}},
        "vertices": SQUARE if vertices is None else vertices,
        **extra,
    }


def geom(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["CityObjects"]["obj-1"]["geometry"][0]


@pytest.mark.parametrize(
    ("boundaries", "phrases"),
    [
        ([[[0, 1, 2, 99]]], ["vertex index 99", "out of range", "4 vertices"]),
        ([[[0, 1, -1, 3]]], ["vertex index -1", "out of range"]),
        ([[[0, 1.5, 2, 3]]], ["vertex index 1.5", "not an integer"]),
        ([[[0, 1.0, 2, 3]]], ["vertex index 1.0", "not an integer"]),
        ([[[0, "1", 2, 3]]], ["vertex index '1'", "not an integer"]),
        ([[[0, 1, 2]], [[0, 2, 7]]], ["vertex index 7", "out of range"]),  # triangle path
    ],
)
def test_bad_vertex_index(tmp_path: Path, boundaries: Any, phrases: list[str]) -> None:
    err = raises(write_json(tmp_path, cj(boundaries)))
    check(err, "vertex_index_out_of_range", "obj-1", *phrases)


def test_texture_and_material_overflow(tmp_path: Path) -> None:
    doc = cj(appearance={"materials": [{"name": "brick"}]})
    geom(doc)["material"] = {"visual": {"values": [3]}}
    check(
        raises(write_json(tmp_path, doc)),
        "appearance_index_invalid",
        "obj-1",
        "material index (theme 'visual') 3",
        "out of range (valid: 0 to 0)",
    )
    doc = cj(
        appearance={
            "textures": [{"type": "PNG", "image": "a.png"}],
            "vertices-texture": [[0, 0], [1, 0], [1, 1], [0, 1]],
        }
    )
    geom(doc)["texture"] = {"rgb": {"values": [[[0, 0, 1, 2, 9]]]}}
    check(
        raises(write_json(tmp_path, doc, "t.city.json")),
        "appearance_index_invalid",
        "obj-1",
        "texture vertex index",
        "9",
        "out of range",
    )
    geom(doc)["texture"] = {"rgb": {"values": [[[4, 0, 1, 2, 3]]]}}
    check(
        raises(write_json(tmp_path, doc, "u.city.json")),
        "appearance_index_invalid",
        "obj-1",
        "texture index (theme 'rgb') 4",
        "out of range (valid: 0 to 0)",
    )


def test_missing_types(tmp_path: Path) -> None:
    doc = cj()
    del doc["CityObjects"]["obj-1"]["type"]
    check(raises(write_json(tmp_path, doc)), "invalid_input", "obj-1", "no 'type'")
    doc = cj()
    del geom(doc)["type"]
    check(
        raises(write_json(tmp_path, doc, "g.city.json")),
        "invalid_geometry",
        "obj-1",
        "geometry has no 'type'",
    )
    check(
        raises(write_json(tmp_path, cj(gtype="Polygon"), "p.city.json")),
        "invalid_geometry",
        "obj-1",
        "unknown geometry type 'Polygon'",
    )


def test_cityjsonfeature_errors(tmp_path: Path) -> None:
    header = {
        "type": "CityJSON",
        "version": "2.0",
        "transform": TRANSFORM,
        "CityObjects": {},
        "vertices": [],
    }
    good = {
        "type": "CityJSONFeature",
        "id": "obj-1",
        "vertices": SQUARE,
        "CityObjects": cj()["CityObjects"],
    }
    bad = {**good, "id": "nowhere"}
    lines = [json.dumps(x) for x in (header, good, bad)]
    err = raises(write_json(tmp_path, "\n".join(lines), "s.city.jsonl"))
    check(err, "unresolved_feature", "nowhere", "line 3", "'nowhere'")
    # a lone CityJSONFeature with no header line
    err = raises(write_json(tmp_path, json.dumps(good), "f.city.jsonl"))
    check(err, "invalid_input", "obj-1", "header")
    lines[2] = '{"type": "CityJSONFeature", "id": '
    check(
        raises(write_json(tmp_path, "\n".join(lines), "j.city.jsonl")),
        "invalid_json",
        None,
        "line 3",
        "not valid JSON",
    )


@pytest.mark.parametrize(
    ("transform", "phrase"),
    [
        ({"scale": [0, 0.001, 0.001], "translate": [0, 0, 0]}, "must be positive"),
        ({"scale": [0.001, -0.001, 0.001], "translate": [0, 0, 0]}, "must be positive"),
        ({"translate": [0, 0, 0]}, "needs 'scale'"),
        ({"scale": [0.001, 0.001], "translate": [0, 0, 0]}, "three numbers"),
        ({"scale": ["a", 1, 1], "translate": [0, 0, 0]}, "'scale'"),
    ],
)
def test_invalid_transform(tmp_path: Path, transform: Any, phrase: str) -> None:
    check(raises(write_json(tmp_path, cj(transform=transform))), "invalid_transform", None, phrase)


def test_missing_transform_in_2_0_is_read_with_a_warning(tmp_path: Path) -> None:
    doc = cj()
    del doc["transform"]
    data = read(write_json(tmp_path, doc), ConvertOptions())
    assert any("requires 'transform'" in w for w in data.warnings)
    assert data.features[0].mesh.positions.max() == 1000.0


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
@pytest.mark.parametrize("indent", [None, 2])
def test_nan_and_infinity_literals_are_invalid_json(
    tmp_path: Path, literal: str, indent: int | None
) -> None:
    # orjson (like RFC 8259) rejects these tokens: the file is not JSON, which the reader
    # reports as invalid_json rather than reading a NaN into the mesh.
    text = json.dumps(cj(), indent=indent).replace("1000", literal, 1)
    err = raises(write_json(tmp_path, text))
    check(err, "invalid_json", None, "not valid JSON")


def test_invalid_json_document_error_points_at_the_bad_token(tmp_path: Path) -> None:
    text = json.dumps(cj(), indent=2).replace("1000", "NaN", 1)
    bad_line = next(i for i, ln in enumerate(text.splitlines(), 1) if "NaN" in ln)
    err = raises(write_json(tmp_path, text))
    assert f"line {bad_line}" in err.message, err.message


def test_number_overflowing_to_infinity_is_rejected(tmp_path: Path) -> None:
    text = json.dumps(cj()).replace("1000", "1e309", 1)
    check(raises(write_json(tmp_path, text)), "invalid_json", None, "infinity")


BIG = {"scale": [1e10, 1, 1], "translate": [0, 0, 0]}  # 1e300 × 1e10 overflows to inf
TRI = [[[0, 1, 2]]]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("case", ["inf", "null", "inf-beside-a-good-object"])
def test_non_finite_coordinate_is_rejected(tmp_path: Path, case: str) -> None:
    # (polygons of 4+ vertices with inf go through earcut, whose output on NaN input
    # varies from run to run: sometimes non_finite_coordinate, sometimes dropped)
    doc = cj(TRI, [[1e300, 0, 0], [1, 0, 0], [1, 1, 0]], transform=BIG)
    if case == "null":
        doc = cj(TRI, [[None, 0, 0], [1000, 0, 0], [1000, 1000, 0]])
    if case == "inf-beside-a-good-object":
        doc["vertices"].append([0, 1, 0])
        doc["CityObjects"]["obj-2"] = {
            "type": "Building",
            "geometry": [{"type": "MultiSurface", "lod": "2", "boundaries": [[[1, 2, 3]]]}],
        }
    err = raises(write_json(tmp_path, doc))
    if case == "null":  # rejecting null as "not a number" while reading vertices is fine too
        assert err.code in ("non_finite_coordinate", "invalid_input"), err.one_line()
    else:
        check(err, "non_finite_coordinate", "obj-1")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_absurdly_large_coordinate_is_rejected(tmp_path: Path) -> None:
    doc = cj(TRI, [[1e300, 0, 0], [1000, 0, 0], [1000, 1000, 0]])
    check(raises(write_json(tmp_path, doc)), "non_finite_coordinate", "obj-1")


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("", "empty"),
        ("  \n\n ", "empty"),
        (
            json.dumps({"type": "CityJSON", "version": "2.0", "CityObjects": {}, "vertices": []}),
            "0 objects",
        ),
        (
            json.dumps(
                {
                    "type": "CityJSON",
                    "version": "2.0",
                    "vertices": [],
                    "CityObjects": {
                        "a": {"type": "Building", "geometry": []},
                        "b": {"type": "Building"},
                        "c": {
                            "type": "Building",
                            "geometry": [{"type": "Solid", "lod": "1", "boundaries": []}],
                        },
                        "d": {
                            "type": "Building",
                            "geometry": [{"type": "MultiSurface", "lod": "1", "boundaries": [[]]}],
                        },
                    },
                }
            ),
            "4 objects",
        ),
        (json.dumps(cj([[[0, 1, 1, 0]]])), "1 objects"),  # only a zero-area polygon
    ],
)
def test_empty_input(tmp_path: Path, text: str, phrase: str) -> None:
    check(raises(write_json(tmp_path, text)), "empty_input", None, phrase)


def test_unsupported_version_and_structure(tmp_path: Path) -> None:
    check(
        raises(write_json(tmp_path, cj(version="3.0"))),
        "unsupported_format",
        None,
        "'3.0'",
        "1.0, 1.1, 2.0",
    )
    doc = cj()
    del doc["version"]
    check(raises(write_json(tmp_path, doc, "v.city.json")), "unsupported_format", None, "(missing)")
    check(
        raises(write_json(tmp_path, cj(vertices=[[1, 2]]), "w.city.json")),
        "invalid_input",
        None,
        "'vertices'",
    )
    check(
        raises(write_json(tmp_path, cj([[0, 1, 2, 3]]), "n.city.json")),
        "invalid_geometry",
        "obj-1",
        "ring",
    )


TEMPLATES = {
    "templates": [{"type": "MultiSurface", "lod": "2", "boundaries": [[[0, 1, 2]]]}],
    "vertices-templates": [[0, 0, 0], [1, 0, 0], [0, 1, 0]],
}
IDENTITY = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]


def instance(
    template: Any = 0, matrix: Any = IDENTITY, ref: Any = (0,), templates: Any = TEMPLATES
) -> dict[str, Any]:
    doc = cj(list(ref), gtype="GeometryInstance", **{"geometry-templates": templates})
    geom(doc).update(template=template, transformationMatrix=matrix)
    return doc


@pytest.mark.parametrize(
    ("doc", "code", "phrase"),
    [
        (instance(template=3), "invalid_geometry", "template 3 does not exist"),
        (instance(template=True), "invalid_geometry", "template True"),
        (instance(matrix=[1, 0, 0]), "invalid_geometry", "16-number transformationMatrix"),
        (instance(matrix=None), "invalid_geometry", "transformationMatrix"),
        (instance(ref=(9,)), "vertex_index_out_of_range", "vertex index 9"),
        (instance(ref=(0, 1)), "invalid_geometry", "one vertex index"),
    ],
)
def test_bad_geometry_instance(tmp_path: Path, doc: dict[str, Any], code: str, phrase: str) -> None:
    check(raises(write_json(tmp_path, doc)), code, "obj-1", phrase)


def _template(kind: str) -> dict[str, Any]:
    t = copy.deepcopy(TEMPLATES)
    if kind == "MultiPoint":
        t["templates"][0] = {"type": "MultiPoint", "lod": "1", "boundaries": [0, 1]}
    else:  # a template that instances itself
        t["templates"][0] = {
            "type": "GeometryInstance",
            "template": 0,
            "boundaries": [0],
            "transformationMatrix": IDENTITY,
        }
    return t


@pytest.mark.parametrize("kind", ["MultiPoint", "GeometryInstance"])
def test_odd_template_type_is_a_clear_error_or_skipped(tmp_path: Path, kind: str) -> None:
    path = write_json(tmp_path, instance(templates=_template(kind)))
    with pytest.raises(TilesError):  # invalid_geometry, or empty_input if points are skipped
        read(path, ConvertOptions())


@pytest.mark.parametrize("boundaries", [[[[]]], [[[0, 1, 2, 3], []]]])
def test_empty_ring_is_not_a_crash(tmp_path: Path, boundaries: Any) -> None:
    path = write_json(tmp_path, cj(boundaries))
    with contextlib.suppress(TilesError):  # invalid_geometry, or the ring skipped: both fine
        read(path, ConvertOptions())


def test_huge_integer_vertex_index(tmp_path: Path) -> None:
    err = raises(write_json(tmp_path, cj([[[0, 1, 2, 2**63]]])))
    check(err, "vertex_index_out_of_range", "obj-1", str(2**63))


def test_boolean_vertex_index(tmp_path: Path) -> None:
    check(
        raises(write_json(tmp_path, cj([[[0, True, 2, 3]]]))),
        "vertex_index_out_of_range",
        "obj-1",
        "True",
    )


def test_cityjson_with_members_in_another_order_is_recognised(tmp_path: Path) -> None:
    doc = cj(appearance={"vertices-texture": [[0.5, 0.5]] * 2000})
    ordered = {"appearance": doc.pop("appearance"), **doc}
    data = read(write_json(tmp_path, ordered), ConvertOptions())
    assert len(data.features) == 1
