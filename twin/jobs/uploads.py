"""Uploads: written to the staging area with a byte cap; zips checked and extracted safely.

Every entry name is checked before anything is written (no absolute paths, drive letters,
``..``, symlinks, duplicates or names differing only in case, control characters), then
entries are extracted one by one with counted reads, so a zip that lies about its sizes
is stopped at the limit, not after filling the disk.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import stat
import unicodedata
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from tiles.errors import EmptyInput, UnsupportedFormat
from tiles.readers import in_folder, visible_files

from ..errors import NoConvertibleFile, UnsafePath, UnsupportedArchive, UploadTooLarge

CHUNK = 1 << 20
SUPPORTED_COMPRESSION = frozenset(
    {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
)
_DRIVE = re.compile(r"^[A-Za-z]:")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_entries: int
    max_total: int
    max_ratio: int


def safe_filename(name: str) -> str:
    """A plain file name for an uploaded file (its folders and odd characters dropped)."""
    base = PurePosixPath(name.replace("\\", "/")).name
    cleaned = _SAFE_NAME.sub("_", base).strip("._") or "upload"
    return cleaned[:120]


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def source_digest(path: Path) -> str:
    """SHA-256 of a file, or of a folder's files (their paths and contents), so
    ``--if-changed`` sees any change in a multi-file export."""
    if not path.is_dir():
        return sha256_file(path)
    h = hashlib.sha256()
    for f in visible_files(path):
        h.update(f.relative_to(path).as_posix().encode() + b"\0")
        h.update(sha256_file(f).encode() + b"\n")
    return h.hexdigest()


def copy_folder(source: Path, dest: Path, limits: Limits) -> None:
    """Copy a local export folder into staging under the archive limits (entries, bytes);
    links and hidden files are left behind, never followed."""
    files = visible_files(source)
    if len(files) > limits.max_entries:
        raise UploadTooLarge(f"the folder holds more than {limits.max_entries:,} files")
    total = sum(f.stat().st_size for f in files)
    if total > limits.max_total:
        raise UploadTooLarge(f"the folder holds more than {limits.max_total:,} bytes")
    for f in files:
        target = dest / f.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(f, target)


def copy_capped(chunks: Iterable[bytes], dest: Path, max_bytes: int) -> int:
    """Write ``chunks`` to ``dest``; 413 (and nothing left behind) past ``max_bytes``."""
    written = 0
    try:
        with dest.open("wb") as out:
            for chunk in chunks:
                written += len(chunk)
                if written > max_bytes:
                    raise UploadTooLarge(f"the upload is larger than {max_bytes:,} bytes")
                out.write(chunk)
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
    return written


def _check_name(info: zipfile.ZipInfo) -> PurePosixPath:
    name = info.filename
    if any(ord(c) < 32 or ord(c) == 127 for c in info.orig_filename):  # zipfile cuts at NUL
        raise UnsafePath(f"zip entry {name!r} has a control character in its name")
    if "\\" in name:
        raise UnsafePath(f"zip entry {name!r} uses backslashes")
    if name.startswith("/") or _DRIVE.match(name):
        raise UnsafePath(f"zip entry {name!r} is an absolute path")
    path = PurePosixPath(name)
    if any(part == ".." for part in path.parts):
        raise UnsafePath(f"zip entry {name!r} points outside the archive ('..')")
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise UnsafePath(f"zip entry {name!r} is a symbolic link")
    return path


def _check_method(info: zipfile.ZipInfo) -> None:
    if info.flag_bits & 0x1:
        raise UnsupportedArchive(f"zip entry {info.filename!r} is encrypted")
    if info.compress_type not in SUPPORTED_COMPRESSION:
        raise UnsupportedArchive(
            f"zip entry {info.filename!r} uses compression method {info.compress_type}, "
            "which twin does not read (use deflate)"
        )


def extract_zip(archive: Path, dest: Path, limits: Limits) -> list[Path]:
    """Check every entry of ``archive``, then extract its files under ``dest``."""
    try:
        zf = zipfile.ZipFile(archive)
    except zipfile.BadZipFile as exc:
        raise UnsupportedArchive(f"the upload is not a readable zip archive: {exc}") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > limits.max_entries:
            raise UploadTooLarge(
                f"the archive has {len(infos):,} entries; at most {limits.max_entries:,} allowed"
            )
        seen: set[str] = set()
        files: list[tuple[zipfile.ZipInfo, PurePosixPath]] = []
        declared = 0
        for info in infos:
            path = _check_name(info)
            key = unicodedata.normalize("NFC", str(path)).casefold()
            if key in seen:
                raise UnsafePath(f"zip entry {info.filename!r} appears twice (or differs in case)")
            seen.add(key)
            if info.is_dir():
                continue
            _check_method(info)
            declared += info.file_size
            files.append((info, path))
        if declared > limits.max_total:
            raise UploadTooLarge(
                f"the archive would unpack to {declared:,} bytes; at most "
                f"{limits.max_total:,} allowed"
            )
        out: list[Path] = []
        total = 0
        root = dest.resolve()
        for info, path in files:
            target = (root / path).resolve()
            if not target.is_relative_to(root):  # belt and braces after _check_name
                raise UnsafePath(f"zip entry {info.filename!r} points outside the archive")
            target.parent.mkdir(parents=True, exist_ok=True)
            allowed = max(info.compress_size, 1) * limits.max_ratio
            written = 0
            try:
                with zf.open(info) as src, target.open("wb") as dst:
                    while block := src.read(CHUNK):
                        written += len(block)
                        total += len(block)
                        if written > allowed:
                            raise UploadTooLarge(
                                f"zip entry {info.filename!r} expands more than "
                                f"{limits.max_ratio}:1 (a zip bomb?)"
                            )
                        if total > limits.max_total:
                            raise UploadTooLarge(
                                f"the archive unpacks to more than {limits.max_total:,} bytes"
                            )
                        dst.write(block)
            except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
                raise UnsupportedArchive(
                    f"zip entry {info.filename!r} cannot be read: {exc}"
                ) from None
            out.append(target)
        return out


def is_zip(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(4) in (b"PK\x03\x04", b"PK\x05\x06")


def choose_source(root: Path) -> Path:
    """What to convert in an unpacked upload (detected by content): its one convertible file,
    or the folder when all are meshes (:func:`tiles.readers.in_folder`)."""
    try:
        return in_folder(root, "archive")
    except (EmptyInput, UnsupportedFormat) as exc:
        raise NoConvertibleFile(exc.message) from None


def prepare(upload: Path, folder: Path, limits: Limits) -> Path:
    """The file to convert: ``upload`` itself, or the one convertible file in its zip (or
    the unpacked folder, when all its convertible files are meshes: a multi-tile export)."""
    if not is_zip(upload):
        return upload
    # Named after the archive: a folder of mesh tiles is converted as itself, and its name
    # is the report's source.
    unpacked = folder / (Path(upload.name).stem or "unpacked")
    if unpacked == upload:
        unpacked = folder / "unpacked"
    unpacked.mkdir()
    extract_zip(upload, unpacked, limits)
    source = choose_source(unpacked.resolve())
    upload.unlink()
    return source
