"""Structural checks of a written 3D Tiles tileset (1.0 and 1.1).

3D Tiles 1.1 (OGC 22-025r4, https://docs.ogc.org/cs/22-025r4/22-025r4.html), sections
"Tiles", "Bounding volumes", "Transforms", "Tileset JSON", "External tilesets", "Bounding
volume spatial coherence", "Implicit tiling" and "Extensions". The checks and their ``code``:

* ``invalid_json`` (not UTF-8, a BOM, a syntax error), ``duplicate_key``, ``invalid_type``,
  ``non_finite`` (NaN, Infinity or a number beyond float range anywhere), ``tileset_missing``
* ``asset_version_missing``, ``asset_version_unknown`` (not "1.0" or "1.1"), ``root_missing``
* ``geometric_error_missing``, ``geometric_error_negative``, ``geometric_error_not_decreasing``
* ``refine_missing_in_root``, ``refine_invalid``, ``transform_invalid`` (16 numbers, affine)
* ``bounding_volume_missing``, ``bounding_volume_invalid`` (twin writes exactly one of
  box, region, sphere; the spec would allow several), ``child_not_inside_parent``,
  ``content_not_inside_tile`` (see :mod:`tiles.validate_bounds`; for ``pnts`` content
  every point is checked), ``pnts_invalid`` (see :mod:`tiles.validate_pnts`),
  ``b3dm_invalid`` (header, lengths, 8-byte alignment: :func:`tiles.legacy.b3dm_problems`)
* ``children_empty``, ``content_and_contents``, ``contents_empty``, ``content_uri_missing``,
  ``content_missing``, ``content_uri_unsupported`` (absolute URLs: twin tilesets are
  self-contained), ``content_uri_unsafe`` (escapes the tileset's directory),
  ``external_tileset_with_children``, ``external_tileset_cycle``, ``too_many_tilesets``
* ``extension_required_not_used``, ``extension_found_not_used`` and, a warning as in the
  3d-tiles-validator, ``extension_used_not_found``
* ``implicit_subtrees_uri_missing``, ``implicit_subtree_missing`` (the root subtree file);
  implicit tiles themselves are not walked.

Spatial coherence in the spec asks only that child *content* lie inside the parent's
volume; twin also requires child volumes inside parent volumes (its tiling guarantees it).
External tilesets are checked as children of the tile that references them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import numpy as np

from .errors import InvalidTileset
from .legacy import b3dm_problems
from .validate_bounds import (
    Array,
    Volume,
    overshoot,
    points_overshoot,
    tolerance,
    volume,
    volume_problems,
)
from .validate_json import extensions_found, non_finite, read_json
from .validate_pnts import pnts_problems

VERSIONS = ("1.0", "1.1")
REFINES = ("ADD", "REPLACE")
VOLUME_KINDS = ("box", "region", "sphere")
MAX_PER_CODE = 50
MAX_TILESET_FILES = 1000


@dataclass(frozen=True)
class Issue:
    """One problem: a stable ``code``, a sentence, and where (``root.children[2].content``;
    inside an external tileset prefixed with its path, ``sub/tileset.json#root``)."""

    code: str
    message: str
    path: str
    severity: str = "error"  # or "warning"


def check_tileset(path: Path) -> list[Issue]:
    """Every problem found in the tileset at ``path`` and the external tilesets it uses."""
    file = Path(path).resolve()
    checker = _Checker(file.parent)
    checker.check_file(file, "", None)
    return checker.finish()


def assert_valid_tileset(path: Path) -> None:
    """Raise :class:`~tiles.errors.InvalidTileset` listing the errors (not the warnings)."""
    errors = [i for i in check_tileset(path) if i.severity == "error"]
    if errors:
        shown = "; ".join(f"{i.code} at {i.path or 'top'}: {i.message}" for i in errors[:10])
        more = f"; and {len(errors) - 10} more" if len(errors) > 10 else ""
        error = InvalidTileset(f"{len(errors)} problem(s): {shown}{more}", source=str(path))
        error.issues = tuple(errors)
        raise error


@dataclass(frozen=True)
class _Frame:
    tile: object
    path: str
    world: Array | None  # accumulated transform; None below an invalid one
    parent_volume: Volume | None
    parent_error: float | None
    is_root: bool


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # e.g. a name too long for the file system
        return False


def _short(text: str) -> str:
    return text if len(text) <= 100 else text[:97] + "..."


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class _Checker:
    def __init__(self, top: Path) -> None:
        self.top = top
        self.issues: list[Issue] = []
        self.counts: dict[str, int] = {}
        self.chain: list[Path] = []
        self.files = 0

    def add(self, code: str, message: str, path: str, severity: str = "error") -> None:
        self.counts[code] = self.counts.get(code, 0) + 1
        if self.counts[code] <= MAX_PER_CODE:
            self.issues.append(Issue(code, message, path, severity))

    def finish(self) -> list[Issue]:
        for code, count in self.counts.items():
            if count > MAX_PER_CODE:
                severity = next(i.severity for i in self.issues if i.code == code)
                self.issues.append(Issue(code, f"and {count - MAX_PER_CODE} more", "", severity))
        return self.issues

    # --- files -----------------------------------------------------------------------

    def check_file(self, file: Path, prefix: str, parent: _Frame | None) -> None:
        where = parent.path if parent else ""
        if file in self.chain:
            self.add("external_tileset_cycle", f"{file.name} refers back to itself", where)
            return
        self.files += 1
        if self.files > MAX_TILESET_FILES:
            if self.files == MAX_TILESET_FILES + 1:
                self.add("too_many_tilesets", f"more than {MAX_TILESET_FILES} tileset files", where)
            return
        doc = self._load(file, prefix)
        if doc is None:
            return
        self.chain.append(file)
        try:
            self._check_doc(doc, file.parent, prefix, parent)
        finally:
            self.chain.pop()

    def _load(self, file: Path, prefix: str) -> dict[str, Any] | None:
        doc, problems = read_json(file)
        for code, message in problems:
            self.add(code, message, prefix)
        if doc is not None and not isinstance(doc, dict):
            self.add("invalid_type", "the tileset is not a JSON object", prefix)
            return None
        return doc if isinstance(doc, dict) else None

    def _check_doc(
        self, doc: dict[str, Any], base: Path, prefix: str, parent: _Frame | None
    ) -> None:
        for path, value in non_finite(doc):
            self.add("non_finite", f"{value} is not a JSON number", prefix + path)
        asset = doc.get("asset")
        version = asset.get("version") if isinstance(asset, dict) else None
        if version is None:
            self.add("asset_version_missing", "asset.version is required", prefix + "asset")
        elif version not in VERSIONS:
            self.add(
                "asset_version_unknown",
                f"asset.version {version!r} is not 1.0 or 1.1",
                prefix + "asset.version",
            )
        self._geometric_error(doc, prefix + "geometricError")
        self._extensions(doc, prefix, version)
        root = doc.get("root")
        if not isinstance(root, dict):
            self.add("root_missing", "the tileset has no root tile object", prefix + "root")
            return
        world = parent.world if parent else np.eye(4)
        stack = [
            _Frame(
                root,
                prefix + "root",
                world,
                parent.parent_volume if parent else None,
                parent.parent_error if parent else None,
                True,
            )
        ]
        while stack:
            stack.extend(reversed(self._tile(stack.pop(), base, prefix)))

    # --- tiles -----------------------------------------------------------------------

    def _tile(self, frame: _Frame, base: Path, prefix: str) -> list[_Frame]:
        tile, path = frame.tile, frame.path
        if not isinstance(tile, dict):
            self.add("invalid_type", "a tile must be a JSON object", path)
            return []
        error = self._geometric_error(tile, path + ".geometricError")
        if error is not None and frame.parent_error is not None and error > frame.parent_error:
            self.add(
                "geometric_error_not_decreasing",
                f"geometricError {error} is larger than its parent's {frame.parent_error}",
                path + ".geometricError",
            )
        refine = tile.get("refine")
        if refine is None and frame.is_root:
            self.add("refine_missing_in_root", "the root tile must have refine", path)
        elif refine is not None and refine not in REFINES:
            self.add("refine_invalid", f"refine {refine!r} is not ADD or REPLACE", path + ".refine")
        world = self._transform(tile, path, frame.world)
        own = self._volume(tile.get("boundingVolume"), path + ".boundingVolume", world, True)
        if "viewerRequestVolume" in tile:
            self._volume(tile["viewerRequestVolume"], path + ".viewerRequestVolume", world, False)
        self._inside(
            "child_not_inside_parent",
            frame.parent_volume,
            own,
            path + ".boundingVolume",
            "its parent's bounding volume",
        )
        implicit = tile.get("implicitTiling")
        if implicit is not None:
            self._implicit(implicit, path + ".implicitTiling", base)
        for content, content_path in self._contents(tile, path):
            inner = self._volume(
                content.get("boundingVolume"), content_path + ".boundingVolume", world, False
            )
            self._inside(
                "content_not_inside_tile",
                own,
                inner,
                content_path + ".boundingVolume",
                "its tile's bounding volume",
            )
            if implicit is None:  # an implicit root's content URI is a template
                child = _Frame(tile, content_path, world, own, error, True)
                self._content(content, child, base, prefix)
        children = tile.get("children")
        if children is None:
            return []
        if not isinstance(children, list):
            self.add("invalid_type", "children must be an array", path + ".children")
            return []
        if not children:
            self.add(
                "children_empty", "children is an empty array (omit it instead)", path + ".children"
            )
        return [
            _Frame(child, f"{path}.children[{i}]", world, own, error, False)
            for i, child in enumerate(children)
        ]

    def _geometric_error(self, owner: dict[str, Any], path: str) -> float | None:
        if "geometricError" not in owner:
            self.add("geometric_error_missing", "geometricError is required", path)
            return None
        value = owner["geometricError"]
        if not _is_number(value):
            self.add("invalid_type", "geometricError must be a number", path)
            return None
        if not math.isfinite(value):
            return None  # reported as non_finite
        if value < 0:
            self.add("geometric_error_negative", f"geometricError {value} is negative", path)
            return None
        return float(value)

    def _transform(self, tile: dict[str, Any], path: str, world: Array | None) -> Array | None:
        values = tile.get("transform")
        if values is None:
            return world
        if not (
            isinstance(values, list) and len(values) == 16 and all(_is_number(v) for v in values)
        ):
            self.add(
                "transform_invalid", "transform must be an array of 16 numbers", path + ".transform"
            )
            return None
        if not all(math.isfinite(v) for v in values):
            return None  # reported as non_finite
        matrix = np.asarray(values, dtype=np.float64).reshape(4, 4).T  # column-major
        if not np.array_equal(matrix[3], [0.0, 0.0, 0.0, 1.0]):
            self.add(
                "transform_invalid",
                "transform is not affine (last row must be 0 0 0 1)",
                path + ".transform",
            )
            return None
        if world is None:
            return None
        with np.errstate(over="ignore", invalid="ignore"):
            combined: Array = world @ matrix
        return combined if np.isfinite(combined).all() else None

    def _volume(
        self, value: object, path: str, world: Array | None, required: bool
    ) -> Volume | None:
        if value is None:
            if required:
                self.add("bounding_volume_missing", "boundingVolume is required", path)
            return None
        if not isinstance(value, dict):
            self.add("bounding_volume_invalid", "a bounding volume must be an object", path)
            return None
        kinds = [kind for kind in VOLUME_KINDS if kind in value]
        if not kinds:
            if value.get("extensions"):
                return None  # a volume defined by an extension, e.g. 3DTILES_bounding_volume_S2
            self.add("bounding_volume_invalid", "has none of box, region, sphere", path)
            return None
        if len(kinds) > 1:
            self.add("bounding_volume_invalid", f"has {' and '.join(kinds)}; expected one", path)
        valid = all(self._volume_values(kind, value[kind], f"{path}.{kind}") for kind in kinds)
        return volume(value, world) if valid and world is not None else None

    def _volume_values(self, kind: str, values: object, path: str) -> bool:
        problems = volume_problems(kind, values)
        for problem in problems:
            self.add("bounding_volume_invalid", problem, path)
        return not problems

    def _inside(
        self, code: str, outer: Volume | None, inner: Volume | None, path: str, what: str
    ) -> None:
        if outer is None or inner is None:
            return
        with np.errstate(all="ignore"):  # volumes near float range: NaN means "cannot tell"
            reach, allowed = overshoot(outer, inner), tolerance(outer)
        if reach > allowed:
            self.add(code, f"reaches {reach:.3f} m outside {what}", path)

    # --- contents --------------------------------------------------------------------

    def _contents(self, tile: dict[str, Any], path: str) -> list[tuple[dict[str, Any], str]]:
        found: list[tuple[object, str]] = []
        if "content" in tile and "contents" in tile:
            self.add("content_and_contents", "a tile has either content or contents", path)
        if "content" in tile:
            found.append((tile["content"], path + ".content"))
        if "contents" in tile:
            contents = tile["contents"]
            if not isinstance(contents, list):
                self.add("invalid_type", "contents must be an array", path + ".contents")
            elif not contents:
                self.add("contents_empty", "contents is an empty array", path + ".contents")
            else:
                found += [(c, f"{path}.contents[{i}]") for i, c in enumerate(contents)]
        result = []
        for content, content_path in found:
            if isinstance(content, dict):
                result.append((content, content_path))
            else:
                self.add("invalid_type", "a content must be a JSON object", content_path)
        return result

    def _content(self, content: dict[str, Any], frame: _Frame, base: Path, prefix: str) -> None:
        uri = content.get("uri")
        if not isinstance(uri, str):
            legacy = " (pre-1.0 'url' is not 3D Tiles 1.0)" if "url" in content else ""
            self.add("content_uri_missing", f"content has no uri{legacy}", frame.path)
            return
        target = self._resolve(uri, base, frame.path + ".uri")
        if target is None:
            return
        if not _is_file(target):
            self.add("content_missing", f"{_short(uri)} does not exist", frame.path + ".uri")
            return
        if target.suffix.lower() == ".pnts":
            self._pnts(target, frame)
        if target.suffix.lower() == ".b3dm":
            for problem in b3dm_problems(target.read_bytes()):
                self.add("b3dm_invalid", f"{target.name}: {problem}", frame.path + ".uri")
        if target.suffix.lower() == ".json":
            tile = frame.tile
            if isinstance(tile, dict) and tile.get("children"):
                self.add(
                    "external_tileset_with_children",
                    "a tile pointing to an external tileset cannot have children",
                    frame.path,
                )
            external_prefix = target.relative_to(self.top).as_posix() + "#"
            self.check_file(target, external_prefix, frame)

    def _pnts(self, target: Path, frame: _Frame) -> None:
        """A point cloud tile must decode, and its points lie inside its tile's volume."""
        tile, problems = pnts_problems(target)
        for problem in problems:
            self.add("pnts_invalid", f"{target.name}: {problem}", frame.path + ".uri")
        if tile is None or frame.world is None or frame.parent_volume is None:
            return
        if tile.positions.shape[0]:
            world = tile.positions @ frame.world[:3, :3].T + frame.world[:3, 3]
            over = points_overshoot(frame.parent_volume, world)
            if over > tolerance(frame.parent_volume):
                self.add(
                    "content_not_inside_tile",
                    f"points of {target.name} reach {over:.3f} m outside the tile's volume",
                    frame.path,
                )

    def _resolve(self, uri: str, base: Path, path: str) -> Path | None:
        """The file a relative URI names, or ``None`` (a data URI, or a reported problem)."""
        parts = urlsplit(uri)
        if parts.scheme == "data":
            return None
        if parts.scheme or parts.netloc:
            self.add(
                "content_uri_unsupported",
                f"{_short(uri)} is not a relative reference; twin tilesets are self-contained",
                path,
            )
            return None
        relative = unquote(parts.path)
        if not relative or relative.startswith("/") or "\\" in relative or "\0" in relative:
            self.add("content_uri_unsafe", f"{_short(uri)!r} is not a relative file path", path)
            return None
        try:
            target = (base / relative).resolve()
        except (OSError, RuntimeError) as exc:  # name too long, symlink loop
            self.add("content_missing", f"{_short(uri)} cannot be resolved: {str(exc)[:100]}", path)
            return None
        if not target.is_relative_to(self.top):
            self.add(
                "content_uri_unsafe", f"{_short(uri)} leads outside the tileset's folder", path
            )
            return None
        return target

    def _implicit(self, implicit: object, path: str, base: Path) -> None:
        subtrees = implicit.get("subtrees") if isinstance(implicit, dict) else None
        uri = subtrees.get("uri") if isinstance(subtrees, dict) else None
        if not isinstance(uri, str):
            self.add(
                "implicit_subtrees_uri_missing",
                "implicitTiling.subtrees.uri is required",
                path + ".subtrees",
            )
            return
        first = uri
        for name in ("level", "x", "y", "z"):
            first = first.replace("{" + name + "}", "0")
        target = self._resolve(first, base, path + ".subtrees.uri")
        if target is not None and not _is_file(target):
            self.add(
                "implicit_subtree_missing",
                f"the root subtree {first} does not exist",
                path + ".subtrees.uri",
            )

    # --- extensions ------------------------------------------------------------------

    def _extensions(self, doc: dict[str, Any], prefix: str, version: object) -> None:
        declared: dict[str, set[str]] = {}
        for key in ("extensionsUsed", "extensionsRequired"):
            names = doc.get(key, [])
            if not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
                self.add("invalid_type", f"{key} must be an array of strings", prefix + key)
                names = []
            declared[key] = set(names)
        used, required = declared["extensionsUsed"], declared["extensionsRequired"]
        found = extensions_found(doc, version)
        for name in sorted(required - used):
            self.add(
                "extension_required_not_used",
                f"{name} is in extensionsRequired but not in extensionsUsed",
                prefix + "extensionsRequired",
            )
        for name in sorted(found - used):
            self.add(
                "extension_found_not_used",
                f"{name} is used but not in extensionsUsed",
                prefix + "extensionsUsed",
            )
        for name in sorted(used - found):
            self.add(
                "extension_used_not_found",
                f"{name} is declared in extensionsUsed but never used",
                prefix + "extensionsUsed",
                "warning",
            )
