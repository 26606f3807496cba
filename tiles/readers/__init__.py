"""Readers turn a map export into :class:`tiles.model.SourceData`.

Every reader module has the same contract:

- ``sniff(path: Path, head: bytes) -> bool``: whether it reads this file, decided from
  the content (``head`` is the first 64 KiB), never trusted from the file name;
- ``read(path: Path, options: ConvertOptions) -> SourceData``: features in source
  coordinates; placement is :mod:`tiles.georef`'s job.

:data:`READERS` is tried in order; the first whose ``sniff`` says yes reads the file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from ..errors import EmptyInput, UnsupportedFormat
from . import citygml, cityjson, footprints, mesh, mesh_set, points

if TYPE_CHECKING:
    from ..model import SourceData
    from ..options import ConvertOptions

HEAD_BYTES = 64 * 1024


class Reader(Protocol):
    NAME: str

    def sniff(self, path: Path, head: bytes) -> bool: ...

    def read(self, path: Path, options: ConvertOptions) -> SourceData: ...


#: Tried in this order: CityJSON claims JSON before the footprint reader sees it.
#: Point clouds first: a PLY without faces is theirs before a mesh reader sees it.
READERS: list[Reader] = [points, cityjson, citygml, mesh, footprints]


def sniff(path: Path) -> Reader:
    """The reader for ``path``, detected from its content (a folder: a mesh set)."""
    if path.is_dir():
        return mesh_set
    with path.open("rb") as fh:
        head = fh.read(HEAD_BYTES)
    if not head.lstrip(b"\xef\xbb\xbf \t\r\n"):
        raise EmptyInput("the file is empty", source=path.name)
    for reader in READERS:
        if reader.sniff(path, head):
            return reader
    names = ", ".join(r.NAME for r in READERS)
    raise UnsupportedFormat(f"not a format twin reads (it reads: {names})", source=path.name)


def read(path: Path, options: ConvertOptions) -> SourceData:
    return sniff(path).read(path, options)


def convertible(path: Path) -> Reader | None:
    """The reader for a file, or None when twin reads no such file (or it is empty)."""
    with path.open("rb") as fh:
        head = fh.read(HEAD_BYTES)
    if not head.strip():
        return None
    return next((r for r in READERS if r.sniff(path, head)), None)


def visible_files(folder: Path) -> list[Path]:
    """Regular files under ``folder``, sorted: symbolic links (to files or folders) and
    hidden entries (``.name``, ``__MACOSX``) are left out, never followed."""
    out: list[Path] = []
    for root, dirs, names in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not _hidden(d) and not os.path.islink(Path(root, d)))
        for name in sorted(names):
            path = Path(root) / name
            if not _hidden(name) and not path.is_symlink() and path.is_file():
                out.append(path)
    return sorted(out)


def _hidden(name: str) -> bool:
    return name.startswith(".") or name == "__MACOSX"


def in_folder(folder: Path, what: str = "folder") -> Path:
    """What to convert in a folder: its one convertible file, or the folder itself when all
    its convertible files are meshes (a multi-tile export, read by :mod:`.mesh_set`).
    ``what`` names the folder in the errors (an unpacked upload is "the archive")."""
    found = [(p, r) for p in visible_files(folder) if (r := convertible(p)) is not None]
    names = ", ".join(r.NAME for r in READERS)
    if not found:
        raise EmptyInput(
            f"the {what} holds no file twin reads (it reads: {names})", source=folder.name
        )
    if len(found) == 1:
        return found[0][0]
    if all(r is mesh for _, r in found):
        return folder
    listed = ", ".join(str(p.relative_to(folder)) for p, _ in found[:5])
    raise UnsupportedFormat(
        f"the {what} holds {len(found)} convertible files ({listed}) of different kinds: "
        "convert one at a time (only a set of meshes converts as one layer)",
        source=folder.name,
    )
