"""A throwaway PostgreSQL server for tests: Debian's binaries, a cluster in a temp dir.

``TWIN_TEST_POSTGRES_URL`` (e.g. ``postgresql+psycopg://u:p@host:5432/postgres``) uses a
server you already run instead. As root, the cluster runs as the ``postgres`` user
(PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def find_bindir() -> Path | None:
    initdb = shutil.which("initdb")
    if initdb:
        return Path(os.path.realpath(initdb)).parent
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def postgres_server(workdir: Path) -> Iterator[str]:
    """Start a cluster under ``workdir``; yield its admin URL; stop it afterwards.

    ``workdir``'s parents must be traversable by the ``postgres`` user when running as
    root: use a folder made with :func:`tempfile.mkdtemp` directly under the system temp
    folder, not pytest's (pytest keeps ``pytest-of-<user>`` at mode 0700 and re-applies
    that whenever another session starts, which would cut a running server off).
    """
    bindir = find_bindir()
    if bindir is None:
        raise FileNotFoundError("PostgreSQL server binaries (initdb) not found")
    as_root = os.geteuid() == 0
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    data, sock = workdir / "pgdata", workdir / "pgsock"
    workdir.mkdir(parents=True, exist_ok=True)
    sock.mkdir(exist_ok=True)
    if as_root:
        os.chmod(workdir, 0o755)
        shutil.chown(workdir, "postgres")
        shutil.chown(sock, "postgres")
    port = _free_port()
    log = workdir / "postgres.log"
    env = {**os.environ, "LC_ALL": "C.UTF-8"}
    subprocess.run(
        [
            *prefix,
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            "twin",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        ],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        timeout=120,
    )
    opts = (
        f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off"
    )
    subprocess.run(
        [
            *prefix,
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            opts,
            "-l",
            str(log),
            "-w",
            "-t",
            "60",
            "start",
        ],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
        timeout=120,
    )
    try:
        yield f"postgresql+psycopg://twin@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=60,
            check=False,
        )
