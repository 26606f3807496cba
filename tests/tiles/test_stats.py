"""Attribute statistics in the conversion report (``properties[].stats``), checked against
numpy and ``collections.Counter`` over what the written tiles hold."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from glbtools import load_tileset

from tiles import convert
from tiles.metadata import QUANTILES, Property, build_schema, property_stats, schema_json
from tiles.model import Feature, Mesh

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "data" / "demo" / "delft.city.json"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    """The demo city's report properties by id, and every leaf tile's values per property."""
    out = tmp_path_factory.mktemp("stats") / "out"
    report = convert(DEMO, out)
    _, glbs = load_tileset(out)
    columns: dict[str, list[Any]] = {}
    for glb in glbs:
        table = glb.property_table()
        for pid, values in table.items():
            columns.setdefault(pid, []).extend(values)
    return {p["id"]: p for p in report.properties}, columns


def _classes(values: np.ndarray, breaks: list[float]) -> list[int]:
    """Counts per class, written out the slow way: the last class whose lower break v reaches;
    the last class is closed."""
    counts = [0] * (len(breaks) - 1)
    for v in values:
        k = max(i for i in range(len(breaks) - 1) if v >= breaks[i]) if v >= breaks[0] else 0
        counts[k] += 1
    return counts


def test_every_property_has_stats_matching_the_tiles(demo: Any) -> None:
    props, columns = demo
    assert set(props) == set(columns)
    n = len(columns["id"])
    assert n == 570
    for pid, prop in props.items():
        stats = prop["stats"]
        present = [v for v in columns[pid] if v is not None]
        assert stats["count"] == len(present), pid
        assert stats["missing"] == n - len(present), pid


def test_numeric_stats_equal_numpy(demo: Any) -> None:
    props, columns = demo
    height = props["measuredHeight"]
    assert height["type"] == "FLOAT64"
    values = np.array([v for v in columns["measuredHeight"] if v is not None], dtype=np.float64)
    stats = height["stats"]
    assert stats["count"] == values.size == 160
    assert stats["min"] == values.min()
    assert stats["max"] == values.max()
    assert stats["quantiles"] == pytest.approx(np.quantile(values, QUANTILES).tolist())
    q = stats["classes"]["quantile"]
    assert q["breaks"] == sorted(set(q["breaks"]))
    assert q["counts"] == _classes(values, q["breaks"])
    assert sum(q["counts"]) == values.size
    eq = stats["classes"]["equal"]
    assert eq["breaks"] == pytest.approx(np.linspace(values.min(), values.max(), 6).tolist())
    assert eq["counts"] == _classes(values, eq["breaks"])


def test_text_stats_equal_counter(demo: Any) -> None:
    props, columns = demo
    for pid in ("type", "function", "class", "bgt_fysiekvoorkomen"):
        counts = Counter(v for v in columns[pid] if v is not None)
        stats = props[pid]["stats"]
        assert stats["distinct"] == len(counts), pid
        want = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:20]
        assert [(r["value"], r["count"]) for r in stats["values"]] == want, pid
    assert props["type"]["stats"]["values"][0] == {"value": "Building", "count": 160}
    # Unique per object: not categorical, so no value list.
    assert props["id"]["stats"]["distinct"] == 570
    assert "values" not in props["id"]["stats"]


def _feature(i: int, **attributes: Any) -> Feature:
    positions = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0]], dtype=np.float64) + i
    mesh = Mesh(positions, np.array([[0, 1, 2]], dtype=np.int64), np.zeros(1, np.int16))
    return Feature(f"f{i}", "Building", mesh, attributes)


def test_missing_and_nan_are_not_counted() -> None:
    values = [3, None, 7, 1, None, 7]
    features = [_feature(i, floors=v) for i, v in enumerate(values)]
    (floors,) = [p for p in schema_json(build_schema(features), features) if p["id"] == "floors"]
    assert floors["type"] == "INT32"
    stats = floors["stats"]
    assert (stats["count"], stats["missing"], stats["min"], stats["max"]) == (4, 2, 1, 7)
    assert stats["quantiles"] == np.quantile([3, 7, 1, 7], QUANTILES).tolist()
    prop = Property("h", "h", "FLOAT64", has_missing=True)
    stats = property_stats(prop, [1.5, float("nan"), None, 2.5])
    assert (stats["count"], stats["missing"], stats["min"], stats["max"]) == (2, 2, 1.5, 2.5)
    assert stats["classes"]["equal"]["counts"] == [1, 0, 0, 0, 1]
    # Only missing values: counted, and nothing else claimed.
    assert property_stats(prop, [None, None]) == {"count": 0, "missing": 2}


def test_one_value_gives_one_class() -> None:
    stats = property_stats(Property("h", "h", "FLOAT64"), [4.0, 4.0, 4.0])
    assert stats["classes"]["quantile"] == {"breaks": [4.0], "counts": [3]}


def test_categorical_threshold_and_empty_text() -> None:
    prop = Property("c", "c", "STRING", has_missing=True)
    many = [f"v{i:02d}" for i in range(51)]
    stats = property_stats(prop, many)
    assert (stats["count"], stats["distinct"]) == (51, 51)
    assert "values" not in stats
    fifty = [f"v{i:02d}" for i in range(50)] + ["v00", "", None]
    stats = property_stats(prop, fifty)
    # The empty text is the column's noData marker: no value, as the viewer sees it.
    assert (stats["count"], stats["missing"], stats["distinct"]) == (51, 2, 50)
    assert len(stats["values"]) == 20
    assert stats["values"][0] == {"value": "v00", "count": 2}
    assert [r["value"] for r in stats["values"][1:4]] == ["v01", "v02", "v03"]


def test_boolean_counts() -> None:
    stats = property_stats(Property("b", "b", "BOOLEAN"), [True, False, True, None])
    assert stats == {"count": 3, "missing": 1, "true": 2, "false": 1}
