"""Fixtures for the sensor tests."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from mqttbroker import find_mosquitto, mosquitto
from sensor_fixtures import (  # noqa: F401  (the core tests' fixtures)
    anon,
    client_for,
    make_datastream,
    make_source,
    sensor_app,
    sensor_settings,
)


@pytest.fixture(scope="session")
def mqtt_broker() -> Iterator[int]:
    """A real Mosquitto broker on 127.0.0.1 for the session; yields its port. Skips when
    mosquitto is not installed, unless ``TWIN_REQUIRE_MQTT`` is set (CI), then fails."""
    binary = find_mosquitto()
    if binary is None:
        if os.environ.get("TWIN_REQUIRE_MQTT"):
            pytest.fail("Mosquitto is required (TWIN_REQUIRE_MQTT) but not installed")
        pytest.skip("mosquitto not found (apt-get install mosquitto)")
    # Mosquitto started as root drops to its own user: a folder outside pytest's 0700 tree.
    workdir = Path(tempfile.mkdtemp(prefix="twin-test-mosquitto-"))
    try:
        with mosquitto(workdir, binary) as port:
            yield port
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
