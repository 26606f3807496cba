"""Errors raised while reading a map export or writing tiles.

Every error carries a stable machine-readable ``code``, the file it concerns and, where
there is one, the object id, so the CLI can print one line and the service can answer
with a 4xx and the same fields.
"""

from __future__ import annotations


class TilesError(Exception):
    """Base class of every error in :mod:`tiles`."""

    code = "tiles_error"

    def __init__(
        self, message: str, *, source: str | None = None, object_id: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.source = source
        self.object_id = object_id

    def one_line(self) -> str:
        """``file: object 'id': message [code]``, the form the CLI prints."""
        parts = []
        if self.source:
            parts.append(self.source)
        if self.object_id is not None:
            parts.append(f"object {self.object_id!r}")
        where = ": ".join(parts)
        text = f"{where}: {self.message}" if where else self.message
        return f"{text} [{self.code}]"

    def to_dict(self) -> dict[str, str | None]:
        return {
            "code": self.code,
            "message": self.message,
            "source": self.source,
            "object_id": self.object_id,
        }


class InputError(TilesError):
    """The input is not what it claims to be, or breaks a rule of its format."""

    code = "invalid_input"


class UnsupportedFormat(InputError):
    code = "unsupported_format"


class InvalidJSON(InputError):
    code = "invalid_json"


class InvalidTransform(InputError):
    code = "invalid_transform"


class VertexIndexError(InputError):
    code = "vertex_index_out_of_range"


class AppearanceIndexError(InputError):
    code = "appearance_index_invalid"


class NonFiniteCoordinate(InputError):
    code = "non_finite_coordinate"


class EmptyInput(InputError):
    code = "empty_input"


class UnresolvedFeature(InputError):
    code = "unresolved_feature"


class InvalidGeometry(InputError):
    code = "invalid_geometry"


class InvalidMesh(InputError):
    """A mesh file (OBJ, glTF, PLY) that cannot be read as triangles."""

    code = "invalid_mesh"


class InvalidOffset(InputError):
    """A mesh's origin (``--origin``, an offset file, ``metadata.xml``) is unreadable."""

    code = "invalid_offset"


class CRSError(TilesError):
    code = "crs_error"


class CRSMissing(CRSError):
    code = "crs_missing"


class CRSRequired(CRSMissing):
    """A mesh (OBJ, glTF, PLY) carries no CRS and none was given."""

    code = "crs_required"


class CRSUnknown(CRSError):
    code = "crs_unknown"


class CRSOutOfArea(CRSError):
    code = "crs_out_of_area"


class InvalidTileset(TilesError):
    """A written tileset breaks a rule of 3D Tiles (see :mod:`tiles.validate`)."""

    code = "invalid_tileset"
    issues: tuple[object, ...] = ()  # the tiles.validate.Issue errors


class ValidatorUnavailable(TilesError):
    """Node or the npm package ``gltf-validator`` cannot be found."""

    code = "validator_unavailable"


class UnsafeXML(InputError):
    """An XML document declares a DOCTYPE: entities or an external DTD, never needed."""

    code = "unsafe_xml"
