"""Project images: PNG/JPEG/WebP by content only, re-encoded without metadata, size caps,
the decompression-bomb guard, served with the right type and nosniff."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from conftest import A, B, Env
from PIL import Image

from layers.catalogue import images


def _image(fmt: str, size: tuple[int, int] = (40, 30), **save: object) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format=fmt, **save)
    return out.getvalue()


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width``×``height`` pixels, with one tiny data chunk."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def _upload(env: Env, pid: int, data: bytes, who: str = "editor_a", **kw: str):  # type: ignore[no-untyped-def]
    files = {"file": (kw.pop("filename", "photo.png"), data, kw.pop("ctype", "image/png"))}
    return env.client.post(
        f"/api/projects/{pid}/images", files=files, data=kw, headers=env.auth(who)
    )


def test_png_upload_is_served_back_re_encoded(env: Env) -> None:
    p = env.make(owners=(A,))
    r = _upload(env, p.id, _image("PNG"), caption="Sensorn vid torget")
    assert r.status_code == 201, r.text
    img = r.json()
    assert img["content_type"] == "image/png"
    assert (img["width"], img["height"]) == (40, 30)
    assert img["caption"] == "Sensorn vid torget"
    assert img["project_version"] == 2
    assert r.headers["location"] == img["url"] == f"/api/projects/{p.id}/images/{img['id']}"

    got = env.client.get(img["url"])
    assert got.status_code == 200
    assert got.headers["content-type"] == "image/png"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert Image.open(io.BytesIO(got.content)).size == (40, 30)
    etag = got.headers["etag"]
    assert env.client.get(img["url"], headers={"If-None-Match": etag}).status_code == 304

    out = env.client.get(f"/api/projects/{p.id}").json()
    assert out["version"] == 2
    assert [i["id"] for i in out["images"]] == [img["id"]]
    hist = env.client.get(f"/api/projects/{p.id}/history", headers=env.auth("admin")).json()
    assert hist[0]["action"] == "image"
    # stored under the data directory, by content hash
    assert list((env.data_dir / "images").rglob("*.png"))


def test_metadata_is_stripped(env: Env) -> None:
    p = env.make()
    exif = Image.Exif()
    exif[0x010F] = "Secret Camera Maker"  # Make
    exif[0x8825] = {2: (55.0, 59.0, 0.0)}  # GPS
    data = _image("JPEG", exif=exif.tobytes(), comment=b"secret comment")
    assert b"Secret Camera" in data
    r = _upload(env, p.id, data, filename="x.jpg", ctype="image/jpeg")
    assert r.status_code == 201
    got = env.client.get(r.json()["url"])
    assert got.headers["content-type"] == "image/jpeg"
    assert b"Secret Camera" not in got.content
    assert b"secret comment" not in got.content
    assert not Image.open(io.BytesIO(got.content)).getexif()


def test_webp_is_accepted(env: Env) -> None:
    p = env.make()
    r = _upload(env, p.id, _image("WEBP"), filename="x.webp", ctype="image/webp")
    assert r.status_code == 201
    assert env.client.get(r.json()["url"]).headers["content-type"] == "image/webp"


HTML = b"<html><script>alert(document.cookie)</script></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><circle r="4"/></svg>'


@pytest.mark.parametrize(
    "data",
    [
        HTML,
        b"\x89PNG\r\n\x1a\n" + HTML,  # a PNG signature, then HTML
        SVG,
        b"%PDF-1.4\n" + b"0" * 100,
        _image("GIF"),
        _image("BMP"),
        _image("PNG")[:60],  # truncated
        b"",
    ],
    ids=["html", "png-signature-html", "svg", "pdf", "gif", "bmp", "truncated", "empty"],
)
def test_anything_but_png_jpeg_webp_is_refused(env: Env, data: bytes) -> None:
    p = env.make()
    r = _upload(env, p.id, data)  # declared image/png, named .png
    assert r.status_code in (415, 422), r.text
    assert r.json()["code"] == "unsupported_image"
    assert r.json()["field"] == "image"
    assert env.client.get(f"/api/projects/{p.id}").json()["images"] == []
    assert not (env.data_dir / "images").exists() or not list(
        (env.data_dir / "images").rglob("*.*")
    )


@pytest.mark.parametrize(
    "data",
    [
        _png_header_only(100_000, 100_000),  # Pillow's bomb guard (beyond 2× its limit)
        _png_header_only(12_000, 12_000),  # above MAX_IMAGE_PIXELS: the guard's warning
        _png_header_only(images.MAX_SIDE + 1, 10),  # our side cap
        _png_header_only(7000, 7000),  # our pixel cap (49 Mpx)
    ],
    ids=["bomb", "bomb-warning", "side", "pixels"],
)
@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_huge_dimensions_are_refused_before_decoding(env: Env, data: bytes) -> None:
    p = env.make()
    r = _upload(env, p.id, data)
    assert r.status_code in (413, 422), r.text
    assert r.json()["code"] == "image_too_large"


def test_the_decompression_bomb_guard_stays_on() -> None:
    assert Image.MAX_IMAGE_PIXELS is not None
    assert images.MAX_PIXELS < Image.MAX_IMAGE_PIXELS


def test_big_images_are_scaled_down(env: Env) -> None:
    p = env.make()
    r = _upload(env, p.id, _image("PNG", (5000, 100)))
    assert r.status_code == 201
    assert (r.json()["width"], r.json()["height"]) == (images.STORE_SIDE, 82)


def test_too_many_bytes_is_413(env: Env) -> None:
    p = env.make()
    r = _upload(env, p.id, b"\x89PNG" + b"\0" * (images.MAX_BYTES + 100_000))
    assert r.status_code == 413


def test_image_permissions(env: Env) -> None:
    internal = env.make(owners=(A,), public=False)
    public_b = env.make(owners=(B,))
    png = _image("PNG")
    assert _upload(env, internal.id, png, who="editor_b").status_code == 404
    assert _upload(env, public_b.id, png, who="editor_a").status_code == 403
    assert _upload(env, public_b.id, png, who="gis_a").status_code == 403
    r = env.client.post(f"/api/projects/{public_b.id}/images", files={"file": ("a.png", png)})
    assert r.status_code == 401
    r = _upload(env, internal.id, png, who="editor_a")
    assert r.status_code == 201
    url = r.json()["url"]
    assert env.client.get(url).status_code == 404  # an internal project's image
    assert env.client.get(url, headers=env.auth("editor_b")).status_code == 404
    assert env.client.get(url, headers=env.auth("gis_a")).status_code == 200
    other = f"/api/projects/{public_b.id}/images/{r.json()['id']}"
    assert env.client.get(other).status_code == 404  # an image of another project


def test_deleting_a_project_removes_its_unshared_files(env: Env) -> None:
    p = env.make()
    q = env.make()
    shared = _image("PNG")
    own = _image("PNG", (10, 10))
    assert _upload(env, p.id, shared).status_code == 201
    assert _upload(env, p.id, own).status_code == 201
    assert _upload(env, q.id, shared).status_code == 201
    assert len(list((env.data_dir / "images").rglob("*.png"))) == 2
    r = env.client.delete(f"/api/projects/{p.id}", headers={**env.auth("admin"), "If-Match": '"3"'})
    assert r.status_code == 204
    assert len(list((env.data_dir / "images").rglob("*.png"))) == 1  # q's stays
    q_image = env.client.get(f"/api/projects/{q.id}").json()["images"][0]
    assert env.client.get(f"/api/projects/{q.id}/images/{q_image['id']}").status_code == 200
