"""OBJ specifics: sniffing by content, object names, relative and zero face indices.

trimesh names each part of an OBJ ``<object>_<group>_<material>`` (made unique with
``_<n>``); :func:`object_key` takes the material back off so an object's parts become one
feature. trimesh reads a negative (relative) face index as counted from the end of the
whole file, not from the last vertex defined so far (the OBJ rule), which misplaces
objects whose vertices come between faces; :func:`absolute_indices` rewrites such a file
first. An index 0 does not exist in OBJ: :class:`~tiles.errors.VertexIndexError`.
"""

from __future__ import annotations

import mmap
import re
from pathlib import Path

from ..errors import VertexIndexError

_KEYWORDS = frozenset(
    {"v", "vt", "vn", "vp", "f", "l", "p", "o", "g", "s", "usemtl", "mtllib", "maplib"}
    | {"usemap", "lod", "mg", "bevel", "c_interp", "d_interp", "cstype", "deg", "bmat"}
    | {"step", "curv", "curv2", "surf", "parm", "trim", "hole", "scrv", "sp", "end", "con"}
    | {"shadow_obj", "trace_obj", "ctech", "stech", "call", "csh"}
)
_VERTEX = re.compile(rb"^v\s+[-+.\deE]+\s+[-+.\deE]+\s+[-+.\deE]+", re.M)
_NAME = re.compile(rb"^[ \t]*(o|g|usemtl)[ \t]+([^\r\n]*?)[ \t]*\r?$", re.M)
_UNIQUE_SUFFIX = re.compile(r"_\d+$")
_WORD = re.compile(rb"[a-z][a-z_0-9]{0,15}")


def looks_like_obj(head: bytes, *, complete: bool) -> bool:
    """Lines of OBJ statements with vertices among them; a few unknown statements
    (an exporter's own) are tolerated, anything that is not a word is not."""
    lines = head.splitlines()
    if not complete and len(lines) > 1:
        lines = lines[:-1]  # cut at 64 KiB
    vertices = known = unknown = 0
    for raw in lines:
        words = raw.split(None, 1)
        if not words or words[0].startswith(b"#"):
            continue
        if words[0] in (b"v", b"vt", b"vn", b"f"):
            vertices += words[0] == b"v"
            known += 1
        elif words[0].decode("ascii", "replace") in _KEYWORDS:
            known += 1
        elif _WORD.fullmatch(words[0]):
            unknown += 1
        else:
            return False
    return vertices > 0 and unknown * 10 <= known and _VERTEX.search(head) is not None


def statements(path: Path) -> list[tuple[str, str]]:
    """The ``o``, ``g`` and ``usemtl`` statements of an OBJ, in order (memory-mapped)."""
    if path.stat().st_size == 0:
        return []
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        return [
            (m.group(1).decode(), m.group(2).decode("utf-8", "replace")) for m in _NAME.finditer(mm)
        ]


def object_names(statements: list[tuple[str, str]]) -> set[str]:
    """The names trimesh may give an OBJ part before its material: o, g and "o_g"."""
    objects: set[str] = set()
    groups: set[str] = set()
    current: str | None = None
    for kind, name in statements:
        if kind == "usemtl":
            continue
        if kind == "o":
            current = name
            objects.add(name)
        else:
            groups.add(name)
            if current is not None:
                objects.add(f"{current}_{name}")
    return objects | groups


def object_key(
    kind: str, path: Path, node: str, material: str, usemtl: list[str], known: set[str]
) -> str:
    if kind == "ply":
        return path.stem
    if kind != "obj" or node in known:
        return node
    # trimesh names an OBJ part "<object>_<group>_<material>", made unique with "_<n>"
    base = node
    for _ in range(2):
        for name in [material, *usemtl] if material else usemtl:
            if name and base.endswith("_" + name) and base[: -len(name) - 1] in known:
                return base[: -len(name) - 1]
        stripped = _UNIQUE_SUFFIX.sub("", base)
        if stripped in known:
            return stripped
        base = stripped
    return node


_FACE_ZERO = re.compile(rb"^f[ \t][^\r\n]*?(?<=[ \t/])0(?=[/ \t\r\n]|$)", re.M)
_FACE_NEGATIVE = re.compile(rb"^[fl][ \t][^\r\n]*?(?<=[ \t/])-\d", re.M)
_COUNTED = {b"v": 0, b"vt": 1, b"vn": 2}


def check_indices(path: Path) -> bool:
    """Refuse face index 0; True when the file uses relative (negative) indices."""
    if path.stat().st_size == 0:
        return False
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        zero = _FACE_ZERO.search(mm)
        if zero is not None:
            line = mm[: zero.start()].count(b"\n") + 1
            raise VertexIndexError(
                f"line {line}: a face refers to vertex 0; OBJ counts vertices from 1",
                source=path.name,
            )
        return _FACE_NEGATIVE.search(mm) is not None


def absolute_indices(path: Path) -> bytes:
    """The OBJ with every relative (negative) face index made absolute (1-based)."""
    counts = [0, 0, 0]  # v, vt, vn defined so far
    out: list[bytes] = []
    with path.open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            words = line.split()
            if words and words[0] in _COUNTED:
                counts[_COUNTED[words[0]]] += 1
            elif words and words[0] in (b"f", b"l") and b"-" in line:
                line = (
                    words[0]
                    + b" "
                    + b" ".join(_absolute(w, counts, number, path) for w in words[1:])
                    + b"\n"
                )
            out.append(line)
    return b"".join(out)


def _absolute(token: bytes, counts: list[int], line: int, path: Path) -> bytes:
    parts = token.split(b"/")
    for i, part in enumerate(parts[:3]):
        if part.startswith(b"-"):
            try:
                index = counts[i] + int(part) + 1
            except ValueError:
                index = 0
            if index < 1:
                raise VertexIndexError(
                    f"line {line}: relative index {part.decode(errors='replace')} points before "
                    "the first vertex",
                    source=path.name,
                )
            parts[i] = str(index).encode()
    return b"/".join(parts)
