"""tiles: map exports to OGC 3D Tiles 1.1, with no web imports.

The public entry point is :func:`convert`.
"""

from .convert import Report, convert
from .errors import TilesError
from .options import ConvertOptions

__all__ = ["ConvertOptions", "Report", "TilesError", "convert"]
