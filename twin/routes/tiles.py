"""Tiles: ``/tiles/<layer>/tileset.json`` (current version) and ``/tiles/<layer>/@<version>/...``.

Internal layers, tiles included, are 404 to anyone who may not see them. Versioned URLs
never change content, so they are cached as immutable; unversioned ones
are revalidated (ETag, conditional GET) so a newly published version shows at once.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path as FsPath
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import FileResponse, Response

from ..auth.deps import PrincipalDep
from ..compression import accepts_gzip, add_vary, compressible, gzip_etag, gzip_response, matches
from ..errors import Forbidden, LayerNotFound, TileNotFound
from ..store import Layer
from .api import visible_layer
from .deps import StoreDep

router = APIRouter(tags=["tiles"])
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


def tile_layer(
    store: StoreDep,
    principal: PrincipalDep,
    layer: Annotated[str, Path(description="The layer's name, e.g. `demo`.")],
    path: str,
) -> Layer:
    """A published layer the caller may see; for a versioned path, also a layer not yet
    published to those who manage it (previewing a new layer's first version)."""
    try:
        return visible_layer(store, principal, layer)
    except LayerNotFound:
        if not path.startswith("@") or principal.anonymous:
            raise
        try:
            return store.get_managed(layer, principal)
        except Forbidden:
            raise LayerNotFound(f"no layer named {layer!r}") from None


@router.get(
    "/tiles/{layer}/{path:path}",
    name="tile_file",
    summary="A tileset file: tileset.json, a glb, or the conversion report",
)
def tile_file(
    request: Request,
    store: StoreDep,
    layer: Annotated[Layer, Depends(tile_layer)],
    path: Annotated[
        str,
        Path(
            description="`tileset.json`, `tiles/0_1.glb`, or "
            "`@<version>/...` for an immutable versioned URL."
        ),
    ],
) -> Response:
    if path.startswith("@"):
        version, _, path = path[1:].partition("/")
        if version not in {v.id for v in layer.ready_versions}:
            raise TileNotFound(f"layer {layer.name!r} has no version {version!r}")
        cache = IMMUTABLE
    elif layer.current is None:  # a layer not yet published: only its versions, to managers
        raise TileNotFound(f"layer {layer.name!r} has no published version")
    else:
        version, cache = layer.current, REVALIDATE
    root = store.version_dir(layer.name, version).resolve()
    file = (root / path).resolve()
    if (
        not path
        or not file.is_relative_to(root)
        or not file.is_file()
        or any(part.startswith(".") for part in FsPath(path).parts)
    ):
        raise TileNotFound(f"no file {path!r} in layer {layer.name!r}")
    stat = file.stat()
    etag = f'"{version}-{stat.st_size:x}-{int(stat.st_mtime_ns):x}"'
    headers = {"ETag": etag, "Cache-Control": cache, "Access-Control-Allow-Origin": "*"}
    if not layer.public or layer.current is None:  # never from a shared cache or elsewhere
        headers["Cache-Control"] = "private, " + cache.removeprefix("public, ")
        headers["Vary"] = "Cookie, Authorization"
        del headers["Access-Control-Allow-Origin"]
    media = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    gz = None
    if compressible(media):
        add_vary(headers)
        if accepts_gzip(request.headers.get("accept-encoding")):
            gz = request.app.state.gzip_cache.get(file, stat)  # a sync route: in a thread
            if gz is not None:
                headers["ETag"] = gzip_etag(etag)
    if matches(request.headers.get("if-none-match"), headers["ETag"]):
        return Response(status_code=304, headers=headers)
    if gz is not None:
        return gzip_response(gz, headers, media)
    return FileResponse(file, media_type=media, headers=headers)
