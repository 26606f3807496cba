"""The job queue in the database: enqueue, claim, progress, finish, recover, clean up.

Claiming is a compare-and-set (``UPDATE ... WHERE id = ? AND state = 'queued'``) after a
``SELECT ... FOR UPDATE SKIP LOCKED`` (PostgreSQL; SQLite ignores the lock clause and
relies on the compare-and-set alone), so several workers can share one queue and each
job is claimed exactly once. Every later write of a running job names the claim token it
was given, so a worker that was declared lost cannot overwrite the verdict.
"""

from __future__ import annotations

import os
import shutil
import socket
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from tiles import ConvertOptions

from .models import (
    DELETED,
    FAILED,
    PUBLISHED,
    QUEUED,
    READY,
    RUNNING,
    SUCCEEDED,
    ImportJob,
    LayerRow,
    LayerVersionRow,
)
from .uploads import Limits, copy_folder, prepare, safe_filename, source_digest

if TYPE_CHECKING:
    from ..store import Store

HOST = socket.gethostname()[:255]
ACTIVE = (QUEUED, RUNNING)


def now() -> datetime:
    return datetime.now(UTC)


def new_job_id() -> str:
    return uuid.uuid4().hex


def staging_root(store: Store) -> Path:
    return store.data_dir / "staging"


def job_folder(store: Store, job_id: str) -> Path:
    return staging_root(store) / job_id


def default_limits() -> Limits:
    from ..settings import Settings

    s = Settings()
    return Limits(
        s.upload_max_bytes, s.archive_max_entries, s.archive_max_bytes, s.archive_max_ratio
    )


# -- enqueue ---------------------------------------------------------------------------


def enqueue(
    store: Store,
    job_id: str,
    layer: str,
    source: Path,
    source_name: str,
    options: dict[str, Any],
    *,
    auto_publish: bool = False,
    created_by: int | None = None,
) -> str:
    """Queue a job for ``source`` (already in the job's staging folder, checked)."""
    job = ImportJob(
        id=job_id,
        layer=layer,
        state=QUEUED,
        stage="queued",
        percent=0,
        source_name=source_name,
        upload_path=str(source),
        sha256=source_digest(source),
        options=options,
        auto_publish=auto_publish,
        created_by=created_by,
        attempts=0,
    )
    with store.db.sessions.begin() as session:
        session.add(job)
    return job_id


def enqueue_file(
    store: Store,
    layer: str,
    source: Path,
    options: ConvertOptions,
    *,
    auto_publish: bool = True,
    limits: Limits | None = None,
) -> str:
    """Copy a local file (or zip) into staging, check it, and queue a job for it."""
    from tiles.readers import in_folder
    from tiles.readers.companions import companions

    from ..store import options_json

    job_id = new_job_id()
    folder = job_folder(store, job_id)
    folder.mkdir(parents=True)
    try:
        upload = folder / safe_filename(source.name)
        if source.is_dir():  # an export folder: its one file, or all of it as mesh tiles
            copy_folder(source, upload, limits or default_limits())
            chosen = in_folder(upload)
        else:
            shutil.copyfile(source, upload)
            for extra, rel in companions(source, upload.stem):  # textures, MTL, offset file
                (folder / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(extra, folder / rel)
            chosen = prepare(upload, folder, limits or default_limits())
        return enqueue(
            store,
            job_id,
            layer,
            chosen,
            source.name if chosen == upload or chosen.is_dir() else chosen.name,
            options_json(options),
            auto_publish=auto_publish,
        )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


# -- claim and run ---------------------------------------------------------------------


def _claim(store: Store, only: str | None) -> tuple[str, str] | None:
    from ..store import new_version_id

    while True:
        with store.db.sessions() as session:
            query = select(ImportJob.id).where(ImportJob.state == QUEUED)
            if only is not None:
                query = query.where(ImportJob.id == only)
            query = query.order_by(ImportJob.created_at, ImportJob.id).limit(1)
            candidate = session.scalar(query.with_for_update(skip_locked=True))
            if candidate is None:
                return None
            token = uuid.uuid4().hex
            stamp = now()
            result = session.execute(
                update(ImportJob)
                .where(ImportJob.id == candidate, ImportJob.state == QUEUED)
                .values(
                    state=RUNNING,
                    stage="starting",
                    percent=0,
                    claim_token=token,
                    worker_host=HOST,
                    worker_pid=os.getpid(),
                    child_pid=None,
                    started_at=stamp,
                    heartbeat_at=stamp,
                    attempts=ImportJob.attempts + 1,
                    version_id=new_version_id(),
                )
            )
            session.commit()
            if result.rowcount == 1:  # type: ignore[attr-defined]
                return candidate, token
        if only is not None:
            return None


def claim(store: Store) -> tuple[str, str] | None:
    """The oldest queued job, now running for this process: ``(job id, claim token)``."""
    return _claim(store, None)


def claim_job(store: Store, job_id: str) -> tuple[str, str] | None:
    """Claim one particular queued job (``twin import`` runs its own)."""
    return _claim(store, job_id)


def _running(job_id: str, token: str) -> Any:
    return (
        (ImportJob.id == job_id) & (ImportJob.state == RUNNING) & (ImportJob.claim_token == token)
    )


def touch(store: Store, job_id: str, token: str, **values: Any) -> bool:
    """Update a running job (heartbeat, stage, percent, child pid); False if it is not ours."""
    with store.db.sessions.begin() as session:
        result = session.execute(
            update(ImportJob).where(_running(job_id, token)).values(heartbeat_at=now(), **values)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


def fail(
    store: Store,
    job_id: str,
    token: str | None,
    code: str,
    message: str,
    report: dict[str, Any] | None = None,
) -> bool:
    """Mark a running job failed (only if ``token`` still holds it; ``None``: any)."""
    cond = (ImportJob.id == job_id) & (ImportJob.state == RUNNING)
    if token is not None:
        cond = cond & (ImportJob.claim_token == token)
    with store.db.sessions.begin() as session:
        result = session.execute(
            update(ImportJob)
            .where(cond)
            .values(
                state=FAILED,
                error_code=code,
                error_message=message[:4000],
                report=report,
                finished_at=now(),
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


def requeue(store: Store, job_id: str, token: str) -> bool:
    """Give a running job back to the queue (the worker is stopping, nothing was written)."""
    with store.db.sessions.begin() as session:
        result = session.execute(
            update(ImportJob)
            .where(_running(job_id, token))
            .values(state=QUEUED, stage="queued", percent=0, claim_token=None)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


def finish(store: Store, job_id: str, token: str, report: dict[str, Any]) -> bool:
    """Record the job's version (its folder is complete and checked) and, with
    ``auto_publish``, make it current: one transaction. False if the job is not ours."""
    with store.db.sessions.begin() as session:
        job = session.get(ImportJob, job_id, with_for_update=True)
        if job is None or job.state != RUNNING or job.claim_token != token:
            return False
        assert job.version_id is not None
        session.add(
            LayerVersionRow(
                id=job.version_id,
                layer=job.layer,
                source_name=job.source_name,
                sha256=job.sha256,
                options=job.options,
                report=report,
                status=READY,
                job_id=job.id,
            )
        )
        session.flush()
        if job.auto_publish:
            store.publish(job.layer, job.version_id, session)
        job.state = PUBLISHED if job.auto_publish else SUCCEEDED
        job.stage, job.percent, job.report, job.finished_at = "done", 100, report, now()
    return True


def publish_job(store: Store, job_id: str) -> str:
    """Publish the version a succeeded job made (or re-publish a published job's)."""
    from ..errors import Conflict, JobNotFound

    with store.db.sessions.begin() as session:
        job = session.get(ImportJob, job_id, with_for_update=True)
        if job is None:
            raise JobNotFound(f"no import job {job_id!r}")
        if job.state not in (SUCCEEDED, PUBLISHED) or job.version_id is None:
            raise Conflict(
                f"import job {job_id!r} is {job.state}: only a finished import publishes"
            )
        store.publish(job.layer, job.version_id, session)
        job.state = PUBLISHED
        return job.version_id


def cancel(store: Store, job_id: str) -> bool:
    """Cancel a queued job (failed, code ``cancelled``); False if it is no longer queued.
    The same compare-and-set as claiming, so a job is either cancelled or run, never both."""
    with store.db.sessions.begin() as session:
        result = session.execute(
            update(ImportJob)
            .where(ImportJob.id == job_id, ImportJob.state == QUEUED)
            .values(
                state=FAILED,
                error_code="cancelled",
                error_message="cancelled before it started; nothing was published",
                finished_at=now(),
            )
        )
        cancelled = bool(result.rowcount)  # type: ignore[attr-defined]
    if cancelled:
        discard_outputs(store, job_id)
    return cancelled


# -- recovery and cleanup --------------------------------------------------------------


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child of ours counts as dead
        import psutil

        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except Exception:
        return True


def _kill_orphan_child(pid: int | None) -> None:
    """Stop a conversion whose worker is gone (only if it really is one: psutil checks)."""
    if not pid:
        return
    try:
        import psutil

        proc = psutil.Process(pid)
        if any("convert_job" in part for part in proc.cmdline()):
            proc.kill()
    except Exception:
        return


def recover(store: Store, stale_seconds: float) -> list[str]:
    """Fail running jobs whose worker is gone (dead pid on this host, or no heartbeat for
    ``stale_seconds``) with ``worker_lost``; their partial output is removed."""
    lost: list[str] = []
    limit = now() - timedelta(seconds=stale_seconds)
    with store.db.session() as session:
        running = session.scalars(select(ImportJob).where(ImportJob.state == RUNNING)).all()
    for job in running:
        same_host = job.worker_host == HOST
        dead = same_host and job.worker_pid != os.getpid() and not _alive(job.worker_pid)
        stale = job.heartbeat_at is None or job.heartbeat_at < limit
        if not (dead or stale):
            continue
        if same_host:
            _kill_orphan_child(job.child_pid)
        reason = (
            f"the worker (pid {job.worker_pid}) died during stage {job.stage!r}"
            if dead
            else f"the worker sent no heartbeat for {stale_seconds:.0f} s"
        )
        if fail(store, job.id, job.claim_token, "worker_lost", reason + "; nothing was published"):
            lost.append(job.id)
            discard_outputs(store, job.id)
    return lost


def discard_outputs(store: Store, job_id: str, *, keep_upload: bool = False) -> None:
    """Remove a job's staging folder (unless ``keep_upload``: it was requeued) and, if it
    made no version, its version folder."""
    with store.db.session() as session:
        job = session.get(ImportJob, job_id)
        if job is None:
            return
        if job.version_id and session.get(LayerVersionRow, job.version_id) is None:
            shutil.rmtree(store.version_dir(job.layer, job.version_id), ignore_errors=True)
    if not keep_upload:
        shutil.rmtree(job_folder(store, job_id), ignore_errors=True)


def _newest_mtime(folder: Path) -> float:
    newest = folder.stat().st_mtime
    for p in folder.rglob("*"):
        try:
            newest = max(newest, p.lstat().st_mtime)
        except OSError:
            continue
    return newest


def cleanup(store: Store, stale_seconds: float = 60.0) -> int:
    """Recover lost jobs, then remove staging nobody is using: upload folders of finished
    or unknown jobs, half-written version folders, versions without a row (a kill between
    writing a version and recording it) and files of deleted versions."""
    recover(store, stale_seconds)
    removed = 0
    with store.db.session() as session:
        active = session.execute(
            select(ImportJob.id, ImportJob.version_id).where(ImportJob.state.in_(ACTIVE))
        ).all()
        active_jobs = {row[0] for row in active}
        active_versions = {row[1] for row in active if row[1]}
        known_jobs = set(session.scalars(select(ImportJob.id)).all())
        layers = set(session.scalars(select(LayerRow.name)).all())
        versions = dict(session.execute(select(LayerVersionRow.id, LayerVersionRow.status)).all())
    staging = staging_root(store)
    if staging.is_dir():
        for folder in staging.iterdir():
            if folder.name in active_jobs:
                continue
            if (
                folder.name not in known_jobs
                and time.time() - _newest_mtime(folder) < stale_seconds
            ):
                continue  # an upload still arriving
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    if store.root.is_dir():
        for vdir in store.root.glob("*/versions/*"):
            name = vdir.name
            if name.startswith("."):
                vid = name[1:].split(".partial-")[0].split(".old-")[0]
                if vid not in active_versions and (".partial-" in name or ".old-" in name):
                    shutil.rmtree(vdir, ignore_errors=True)
                    removed += 1
                continue
            layer = vdir.parent.parent.name
            orphan = name not in versions and name not in active_versions and layer in layers
            if orphan or versions.get(name) == DELETED:
                shutil.rmtree(vdir, ignore_errors=True)
                removed += 1
    return removed
