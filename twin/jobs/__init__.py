"""Durable import jobs: a queue in the database, workers that convert in child processes.

- :mod:`twin.jobs.models`: the ``layer``, ``layer_version`` and ``import_job`` tables.
- :mod:`twin.jobs.uploads`: streaming uploads and safe zip extraction.
- :mod:`twin.jobs.queue`: enqueue, claim (compare-and-set / ``SKIP LOCKED``), recover.
- :mod:`twin.jobs.worker`: the worker loop; each conversion runs in
  :mod:`twin.jobs.convert_job`, a child process.
"""
