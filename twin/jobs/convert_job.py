"""The child process that converts one claimed job: ``python -m twin.jobs.convert_job ID TOKEN``.

It converts the upload into the job's version folder (through :func:`tiles.convert`'s
staging), checks the result (structural tileset checks, the Khronos glTF validator), and
records the version (publishing it with ``auto_publish``) in one transaction. Any failure
marks the job failed with a code and removes what it wrote. It exits by itself when its
worker dies, so a lost worker never publishes later.

Test hooks (environment; used by ``tests/jobs``, never set in production):
``TWIN_TEST_JOB_SLEEP`` seconds to sleep once the ``converting`` stage is recorded (to
kill a worker mid-conversion); ``TWIN_TEST_JOB_FAULT=enospc`` raises "No space left on
device" after the tiles are written, as a full disk would.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import sys
import threading
import time
import traceback
from pathlib import Path

from tiles import ConvertOptions, TilesError, convert, georef
from tiles.validate import check_tileset

from . import queue
from .models import PUBLISHED, SUCCEEDED

DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os._exit(70)


def _check(version_dir: Path, validate_gltf: bool) -> tuple[str, str] | None:
    errors = [i for i in check_tileset(version_dir / "tileset.json") if i.severity == "error"]
    if errors:
        shown = "; ".join(f"{i.code} at {i.path or 'top'}: {i.message}" for i in errors[:5])
        return "invalid_tileset", f"the tileset failed {len(errors)} check(s): {shown}"
    if validate_gltf:
        from tiles.gltf_validator import validate_glbs

        files = sorted([*version_dir.rglob("*.glb"), *version_dir.rglob("*.b3dm")])
        bad = {p: r for p, r in validate_glbs(files).items() if not r.ok}
        if bad:
            first = next(iter(bad))
            codes = sorted(bad[first].codes)[:5]
            return "invalid_gltf", (
                f"{len(bad)} glb file(s) failed the glTF validator, e.g. "
                f"{first.relative_to(version_dir)}: {', '.join(codes)}"
            )
    return None


def run(job_id: str, token: str) -> int:
    from ..db import Database
    from ..settings import Settings
    from ..store import Store
    from .models import ImportJob

    settings = Settings()
    if settings.proj_grid_dir is not None:
        georef.use_grid_directory(settings.proj_grid_dir)
    db = Database(settings.database)
    store = Store(settings.data_dir, db)
    with db.session() as session:
        job = session.get(ImportJob, job_id)
    if job is None or job.claim_token != token or job.version_id is None:
        return 2
    version_dir = store.version_dir(job.layer, job.version_id)
    try:
        if not queue.touch(store, job_id, token, stage="converting", percent=10):
            return 0
        if sleep := float(os.environ.get("TWIN_TEST_JOB_SLEEP") or 0):
            time.sleep(sleep)
        report = convert(Path(job.upload_path), version_dir, ConvertOptions(**job.options))
        if os.environ.get("TWIN_TEST_JOB_FAULT") == "enospc":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(version_dir))
        queue.touch(store, job_id, token, stage="validating", percent=70)
        problem = _check(version_dir, settings.validate_gltf)
        if problem is not None:
            queue.fail(store, job_id, token, *problem, report=report.to_json())
        else:
            queue.touch(store, job_id, token, stage="publishing", percent=95)
            queue.finish(store, job_id, token, report.to_json())
    except TilesError as exc:
        where = f"{exc.source}: " if exc.source else ""
        obj = f"object {exc.object_id!r}: " if exc.object_id is not None else ""
        queue.fail(store, job_id, token, exc.code, f"{where}{obj}{exc.message}")
    except OSError as exc:
        if exc.errno in DISK_FULL:
            queue.fail(store, job_id, token, "disk_full", "the disk is full; nothing was published")
        else:
            traceback.print_exc()
            queue.fail(store, job_id, token, "internal_error", f"{type(exc).__name__}: {exc}")
    except BaseException as exc:  # lazrs panics derive from BaseException
        traceback.print_exc()
        queue.fail(store, job_id, token, "internal_error", f"{type(exc).__name__}: {exc}")
    finally:
        with db.session() as session:
            done = session.get(ImportJob, job_id)
            if done is None or done.state not in (SUCCEEDED, PUBLISHED):
                shutil.rmtree(version_dir, ignore_errors=True)
        db.dispose()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m twin.jobs.convert_job JOB_ID CLAIM_TOKEN", file=sys.stderr)
        return 2
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the worker's to handle
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    return run(args[0], args[1])


if __name__ == "__main__":
    sys.exit(main())
