"""A spatial tree over features that keeps each tile small.

Features are never split. A node becomes a leaf when its estimated glb size and feature
count fit the budget; otherwise its features are split four ways at the medians of their
centres (first along the longer horizontal axis, then each half along the other).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

# Bytes per vertex: position 12, normal 12, colour 4, two feature ids 8; per triangle: 12.
BYTES_PER_VERTEX = 36
BYTES_PER_TRIANGLE = 12
BYTES_PER_FEATURE = 160  # property table row, a rough average
MAX_DEPTH = 24


@dataclass
class Node:
    address: str
    lo: NDArray[np.float64]
    hi: NDArray[np.float64]
    features: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    children: list[Node] = field(default_factory=list)

    @property
    def is_leaf(self) -> bool:
        return not self.children

    def walk(self) -> list[Node]:
        out = [self]
        for c in self.children:
            out.extend(c.walk())
        return out

    @property
    def diagonal(self) -> float:
        return float(np.linalg.norm(self.hi - self.lo))


def feature_cost(vertices: NDArray[np.int64], triangles: NDArray[np.int64]) -> NDArray[np.int64]:
    return vertices * BYTES_PER_VERTEX + triangles * BYTES_PER_TRIANGLE + BYTES_PER_FEATURE


def build_tree(
    lo: NDArray[np.float64],
    hi: NDArray[np.float64],
    cost: NDArray[np.int64],
    *,
    max_bytes: int,
    max_features: int,
) -> Node:
    """Build the tree over features with bounding boxes ``lo``/``hi`` (n, 3)."""
    centres = (lo + hi) / 2
    return _node("0", np.arange(lo.shape[0]), lo, hi, centres, cost, max_bytes, max_features, 0)


def _node(
    address: str,
    idx: NDArray[np.int64],
    lo: NDArray[np.float64],
    hi: NDArray[np.float64],
    centres: NDArray[np.float64],
    cost: NDArray[np.int64],
    max_bytes: int,
    max_features: int,
    depth: int,
) -> Node:
    node = Node(address, lo[idx].min(axis=0), hi[idx].max(axis=0))
    fits = int(cost[idx].sum()) <= max_bytes and idx.size <= max_features
    if fits or idx.size == 1 or depth >= MAX_DEPTH:
        node.features = idx
        return node
    parts = _split4(idx, centres)
    if len(parts) == 1:
        node.features = idx
        return node
    node.children = [
        _node(f"{address}_{i}", part, lo, hi, centres, cost, max_bytes, max_features, depth + 1)
        for i, part in enumerate(parts)
    ]
    return node


def _split2(idx: NDArray[np.int64], values: NDArray[np.float64]) -> list[NDArray[np.int64]]:
    if idx.size < 2:
        return [idx]
    order = idx[np.argsort(values[idx], kind="stable")]
    half = order.size // 2
    return [order[:half], order[half:]]


def _split4(idx: NDArray[np.int64], centres: NDArray[np.float64]) -> list[NDArray[np.int64]]:
    span = centres[idx].max(axis=0) - centres[idx].min(axis=0)
    first, second = (0, 1) if span[0] >= span[1] else (1, 0)
    if span[first] == 0 and span[second] == 0:
        span3 = span[2]
        if span3 == 0:  # every centre identical: split by order to bound tile size
            return [p for p in np.array_split(idx, 2) if p.size]
        return [p for p in _split2(idx, centres[:, 2]) if p.size]
    parts: list[NDArray[np.int64]] = []
    for half in _split2(idx, centres[:, first]):
        parts.extend(p for p in _split2(half, centres[:, second]) if p.size)
    return parts
