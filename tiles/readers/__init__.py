"""Readers turn a map export into :class:`tiles.model.SourceData`.

Every reader has the same contract: ``read(path, options) -> SourceData``. Coordinates
stay in the source CRS; placement is :mod:`tiles.georef`'s job. The format is detected
from the content, not trusted from the file name.
"""

from __future__ import annotations

import mmap
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import EmptyInput, UnsupportedFormat
from . import cityjson

if TYPE_CHECKING:
    from ..model import SourceData
    from ..options import ConvertOptions


def sniff(path: Path) -> str:
    """Name of the format of ``path``, detected from its first bytes."""
    with path.open("rb") as fh:
        head = fh.read(4096)
        text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        if not text:
            raise EmptyInput("the file is empty", source=path.name)
        if text.startswith(b"{"):
            if b'"CityJSON' in head or b'"CityObjects"' in head:
                return "cityjson"
            # JSON members come in any order: look through the whole file.
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
                if mm.find(b'"CityObjects"') >= 0 or mm.find(b'"CityJSON') >= 0:
                    return "cityjson"
    raise UnsupportedFormat(
        "not a format twin reads yet (expected CityJSON 1.0, 1.1, 2.0 or CityJSONSeq)",
        source=path.name,
    )


def read(path: Path, options: ConvertOptions) -> SourceData:
    kind = sniff(path)
    if kind == "cityjson":
        return cityjson.read(path, options)
    raise UnsupportedFormat(f"no reader for {kind}", source=path.name)  # pragma: no cover
