"""Workers as real processes: kill -9 mid-conversion, a restart with queued jobs and two
workers racing, a full disk, and claiming on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tiles import ConvertOptions
from twin.db import Database
from twin.jobs import queue
from twin.jobs.models import ImportJob, LayerVersionRow
from twin.settings import Settings
from twin.store import Store

from .conftest import DEMO, drain


def _env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWIN_TEST_")}
    env.update(
        TWIN_DATA_DIR=str(settings.data_dir),
        TWIN_DATABASE_URL=settings.database,
        **extra,
    )
    return env


def _job(store: Store, job_id: str) -> ImportJob:
    with store.db.session() as session:
        job = session.get(ImportJob, job_id)
    assert job is not None
    return job


def _wait(predicate: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.1)


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    import psutil

    return bool(psutil.Process(pid).status() == psutil.STATUS_ZOMBIE)


@pytest.fixture
def published(store: Store) -> str:
    """The layer ``city`` with one published version (through ``twin import``'s path)."""
    layer, changed = store.import_file(DEMO, "city", title="Delft")
    assert changed
    assert layer.current is not None
    return layer.current


def test_kill_9_of_the_worker_keeps_the_published_version(
    store: Store, settings: Settings, anon: TestClient, published: str
) -> None:
    job_id = queue.enqueue_file(store, "city", DEMO, ConvertOptions(), auto_publish=True)
    worker = subprocess.Popen(
        [sys.executable, "-m", "twin", "worker"],
        env=_env(settings, TWIN_TEST_JOB_SLEEP="60"),
    )
    try:
        _wait(lambda: _job(store, job_id).stage == "converting")
        child = _job(store, job_id).child_pid
        assert child is not None
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
        _wait(lambda: _gone(child), 10)  # the conversion notices and stops by itself
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    # The next start (a worker, the web service) finds the job lost.
    queue.cleanup(store, settings.job_stale_seconds)
    job = _job(store, job_id)
    assert job.state == "failed"
    assert job.error_code == "worker_lost"
    assert "nothing was published" in (job.error_message or "")
    assert store.get("city").current == published
    assert anon.get("/api/layers").json()[0]["version"] == published
    assert anon.get("/tiles/city/tileset.json").status_code == 200
    assert [d.name for d in (store.root / "city" / "versions").iterdir()] == [published]
    assert not queue.job_folder(store, job_id).exists()


def test_kill_9_of_the_conversion_process_fails_the_job_at_once(
    store: Store, settings: Settings, published: str
) -> None:
    job_id = queue.enqueue_file(store, "city", DEMO, ConvertOptions(), auto_publish=True)
    worker = subprocess.Popen(
        [sys.executable, "-m", "twin", "worker", "--drain"],
        env=_env(settings, TWIN_TEST_JOB_SLEEP="60"),
    )
    try:
        _wait(lambda: _job(store, job_id).stage == "converting")
        child = _job(store, job_id).child_pid
        assert child is not None
        os.kill(child, signal.SIGKILL)
        assert worker.wait(60) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    job = _job(store, job_id)
    assert (job.state, job.error_code) == ("failed", "worker_lost")
    assert "signal 9" in (job.error_message or "")
    assert store.get("city").current == published


def test_restart_with_queued_jobs_runs_each_exactly_once(store: Store, settings: Settings) -> None:
    store.ensure_layer("city")
    ids = [
        queue.enqueue_file(store, "city", DEMO, ConvertOptions(), auto_publish=False)
        for _ in range(4)
    ]
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "twin", "worker", "--drain"],
            env=_env(settings),
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [w.communicate(timeout=300)[1] for w in workers]
    assert [w.returncode for w in workers] == [0, 0], outputs
    jobs = [_job(store, i) for i in ids]
    assert [(j.state, j.attempts) for j in jobs] == [("succeeded", 1)] * 4
    with store.db.session() as session:
        versions = session.scalars(select(LayerVersionRow)).all()
    assert sorted(v.job_id or "" for v in versions) == sorted(ids)
    assert len({j.version_id for j in jobs}) == 4
    assert sum(int(o.split(": ")[1].split()[0]) for o in outputs) == 4  # "N job(s) run"


def test_disk_full_fails_the_job_and_publishes_nothing(
    store: Store, settings: Settings, published: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Simulated: the child's test hook raises ENOSPC after writing the tiles (no tmpfs
    without root here); the job must fail ``disk_full`` and its files be removed."""
    monkeypatch.setenv("TWIN_TEST_JOB_FAULT", "enospc")
    job_id = queue.enqueue_file(store, "city", DEMO, ConvertOptions(), auto_publish=True)
    drain(store, settings)
    job = _job(store, job_id)
    assert (job.state, job.error_code) == ("failed", "disk_full")
    assert store.get("city").current == published
    assert [v.id for v in store.get("city").versions] == [published]
    assert [d.name for d in (store.root / "city" / "versions").iterdir()] == [published]


def test_a_failed_conversion_reports_the_code(store: Store, settings: Settings) -> None:
    bad = store.data_dir / "bad.city.json"
    bad.write_text('{"type": "CityJSON", "version": "2.0", "CityObjects": {}, "vertices": []}')
    store.ensure_layer("city")
    job_id = queue.enqueue_file(store, "city", bad, ConvertOptions())
    drain(store, settings)
    job = _job(store, job_id)
    assert (job.state, job.error_code) == ("failed", "empty_input")
    assert "bad.city.json" in (job.error_message or "")


def test_concurrent_claims_take_each_job_once(database_url: str, tmp_path: Path) -> None:
    """Four workers claim from one queue at once: every job exactly once (SQLite:
    compare-and-set; PostgreSQL: FOR UPDATE SKIP LOCKED as well)."""
    data = tmp_path / "data"
    data.mkdir()
    db = Database(database_url)
    db.setup()
    store = Store(data, db)
    store.ensure_layer("city")
    source = tmp_path / "x.city.json"
    source.write_text("{}")
    ids = {queue.enqueue(store, queue.new_job_id(), "city", source, "x", {}) for _ in range(40)}
    claimed: list[str] = []
    lock = threading.Lock()

    def claim_all() -> None:
        own = Store(data, Database(database_url))
        while (c := queue.claim(own)) is not None:
            with lock:
                claimed.append(c[0])
        own.db.dispose()

    threads = [threading.Thread(target=claim_all) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(claimed) == sorted(ids)
    with db.session() as session:
        attempts = session.scalars(select(ImportJob.attempts)).all()
    assert set(attempts) == {1}
    db.dispose()


def test_sigterm_puts_the_running_job_back_in_the_queue(store: Store, settings: Settings) -> None:
    store.ensure_layer("city")
    job_id = queue.enqueue_file(store, "city", DEMO, ConvertOptions(), auto_publish=True)
    worker = subprocess.Popen(
        [sys.executable, "-m", "twin", "worker"], env=_env(settings, TWIN_TEST_JOB_SLEEP="60")
    )
    try:
        _wait(lambda: _job(store, job_id).stage == "converting")
        worker.terminate()
        assert worker.wait(30) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    job = _job(store, job_id)
    assert (job.state, job.attempts) == ("queued", 1)
    assert Path(job.upload_path).is_file()  # the upload is kept for the next run
    drain(store, settings)
    job = _job(store, job_id)
    assert (job.state, job.attempts) == ("published", 2)
    assert len(store.get("city").versions) == 1
