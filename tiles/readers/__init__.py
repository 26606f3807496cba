"""Readers turn a map export into :class:`tiles.model.SourceData`.

Every reader module has the same contract:

- ``sniff(path: Path, head: bytes) -> bool``: whether it reads this file, decided from
  the content (``head`` is the first 64 KiB), never trusted from the file name;
- ``read(path: Path, options: ConvertOptions) -> SourceData``: features in source
  coordinates; placement is :mod:`tiles.georef`'s job.

:data:`READERS` is tried in order; the first whose ``sniff`` says yes reads the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from ..errors import EmptyInput, UnsupportedFormat
from . import citygml, cityjson, footprints, mesh, points

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
    """The reader for ``path``, detected from its content."""
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
