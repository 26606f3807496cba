"""The worker: claims queued jobs and runs each conversion in a child process.

``python -m twin worker`` (or the workers ``twin serve`` starts, ``TWIN_WORKERS``) loops:
recover lost jobs and stale staging at start, claim the oldest queued job, start
``python -m twin.jobs.convert_job``, send heartbeats while it runs and decide the job's
end if the child died without doing so (killed: ``worker_lost``). ``twin import`` claims
and runs its own job through :func:`run_job_now`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import TYPE_CHECKING

from ..errors import JobFailed, JobNotFound
from . import queue
from .models import FAILED, RUNNING, TERMINAL, ImportJob

if TYPE_CHECKING:
    from types import FrameType

    from ..settings import Settings
    from ..store import Store

POLL_SECONDS = 0.2
INTERNAL_CODES = frozenset({"internal_error", "worker_lost"})


class Stop(Exception):
    """The worker was asked to stop (SIGTERM/SIGINT)."""


def _child_env(store: Store, settings: Settings | None) -> dict[str, str]:
    env = dict(os.environ)
    env["TWIN_DATA_DIR"] = str(store.data_dir)
    env["TWIN_DATABASE_URL"] = store.db.url
    if settings is not None:
        env["TWIN_VALIDATE_GLTF"] = "1" if settings.validate_gltf else "0"
    return env


def run_claimed(store: Store, job_id: str, token: str, settings: Settings | None = None) -> str:
    """Run a job this process claimed; returns its final state."""
    heartbeat = settings.job_heartbeat_seconds if settings else 2.0
    child = subprocess.Popen(
        [sys.executable, "-m", "twin.jobs.convert_job", job_id, token],
        env=_child_env(store, settings),
    )
    try:
        queue.touch(store, job_id, token, child_pid=child.pid)
        last = time.monotonic()
        while child.poll() is None:
            time.sleep(POLL_SECONDS)
            if time.monotonic() - last >= heartbeat:
                queue.touch(store, job_id, token)
                last = time.monotonic()
    except BaseException:
        child.kill()
        child.wait()
        if queue.requeue(store, job_id, token):  # nothing was recorded: run it again later
            queue.discard_outputs(store, job_id, keep_upload=True)
        else:
            queue.discard_outputs(store, job_id)
        raise
    code = child.returncode
    if code < 0:
        queue.fail(
            store,
            job_id,
            token,
            "worker_lost",
            f"the conversion process was killed (signal {-code}); nothing was published",
        )
    elif code != 0:
        queue.fail(
            store, job_id, token, "internal_error", f"the conversion process exited with {code}"
        )
    else:  # the child always decides; a running job here means it could not
        queue.fail(store, job_id, token, "internal_error", "the conversion process gave no result")
    with store.db.session() as session:
        job = session.get(ImportJob, job_id)
        state = job.state if job else FAILED
    if state != RUNNING:
        queue.discard_outputs(store, job_id)
    return state


def run_job_now(store: Store, job_id: str, settings: Settings | None = None) -> None:
    """Run one queued job in this process (or wait for the worker that claimed it first);
    raise :class:`JobFailed` with the job's code if it fails."""
    claimed = queue.claim_job(store, job_id)
    if claimed is not None:
        run_claimed(store, *claimed, settings=settings)
    while True:  # a running worker may have taken the job first: wait for its verdict
        with store.db.session() as session:
            job = session.get(ImportJob, job_id)
        if job is None:
            raise JobNotFound(f"no import job {job_id!r}")
        if job.state in TERMINAL:
            break
        time.sleep(POLL_SECONDS)
    if job.state == FAILED:
        code, message = job.error_code or "internal_error", job.error_message or ""
        if code in INTERNAL_CODES:
            raise RuntimeError(f"{message} [{code}]")
        raise JobFailed(code, message)


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise Stop(signal.Signals(signum).name)


def serve(store: Store, settings: Settings, *, drain: bool = False, poll: float = 1.0) -> int:
    """The worker loop; with ``drain``, return once the queue is empty. Returns jobs run."""
    signal.signal(signal.SIGTERM, _raise_stop)
    queue.cleanup(store, settings.job_stale_seconds)
    done = 0
    last_recover = time.monotonic()
    try:
        while True:
            claimed = queue.claim(store)
            if claimed is None:
                if drain:
                    return done
                time.sleep(poll)
                if time.monotonic() - last_recover > settings.job_stale_seconds:
                    queue.recover(store, settings.job_stale_seconds)
                    last_recover = time.monotonic()
                continue
            run_claimed(store, *claimed, settings=settings)
            done += 1
    except (Stop, KeyboardInterrupt):
        return done


class Supervisor:
    """Worker processes started by the web service (``start_workers``), stopped with it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        env = dict(os.environ)
        env["TWIN_DATA_DIR"] = str(self.settings.data_dir)
        env["TWIN_DATABASE_URL"] = self.settings.database
        for _ in range(self.settings.workers):
            self.procs.append(subprocess.Popen([sys.executable, "-m", "twin", "worker"], env=env))

    def stop(self, timeout: float = 10.0) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs.clear()
