"""Sample MQTT payloads, written after the vendors' documented formats.

- ChirpStack v4 ``event/up``: the integration's ``UplinkEvent`` in the protobuf JSON
  mapping (chirpstack ``api/proto/integration/integration.proto``: deduplicationId, time,
  deviceInfo, devAddr, adr, dr, fCnt, fPort, confirmed, data, object, rxInfo, txInfo).
- The Things Stack v3 ``up``: the ``ApplicationUp`` uplink message of its documented
  data formats (end_device_ids, correlation_ids, received_at, uplink_message with
  f_port, f_cnt, frm_payload, decoded_payload, rx_metadata, settings, received_at).

The devices, ids and values are made up.
"""

from __future__ import annotations

from typing import Any

CHIRPSTACK_DEV_EUI = "a84041000181c3f1"
CHIRPSTACK_TOPIC = (
    f"application/17c82e96-be03-4f38-aef3-f83d48582d97/device/{CHIRPSTACK_DEV_EUI}/event/up"
)
CHIRPSTACK_UPLINK: dict[str, Any] = {
    "deduplicationId": "3ac7e3c4-4401-4b8d-9386-a5c902f9202d",
    "time": "2026-11-27T14:03:12.531465+00:00",
    "deviceInfo": {
        "tenantId": "52f14cd4-c6f1-4fbd-8f87-4025e1d49242",
        "tenantName": "Kommunen",
        "applicationId": "17c82e96-be03-4f38-aef3-f83d48582d97",
        "applicationName": "indoor-climate",
        "deviceProfileId": "14855bf7-d10d-4aee-b618-ebfcb64dc7ad",
        "deviceProfileName": "ERS CO2",
        "deviceName": "school-room-12",
        "devEui": CHIRPSTACK_DEV_EUI,
        "deviceClassEnabled": "CLASS_A",
        "tags": {"building": "school"},
    },
    "devAddr": "00189440",
    "adr": True,
    "dr": 5,
    "fCnt": 1823,
    "fPort": 5,
    "confirmed": False,
    "data": "AQDgAicEAPoHDW8=",
    "object": {"temperature": 22.4, "humidity": 39, "co2": 612, "battery": 3.61},
    "rxInfo": [
        {
            "gatewayId": "0016c001ff10a235",
            "uplinkId": 4213,
            "nsTime": "2026-11-27T14:03:12.521Z",
            "rssi": -57,
            "snr": 10.2,
            "channel": 2,
            "location": {"latitude": 56.046, "longitude": 12.694},
            "context": "EFwMtA==",
            "metadata": {"region_config_id": "eu868", "region_common_name": "EU868"},
            "crcStatus": "CRC_OK",
        }
    ],
    "txInfo": {
        "frequency": 868500000,
        "modulation": {"lora": {"bandwidth": 125000, "spreadingFactor": 7, "codeRate": "CR_4_5"}},
    },
}

TTS_DEVICE = "eui-70b3d57ed005b89a"
TTS_TOPIC = f"v3/weather-stations@ttn/devices/{TTS_DEVICE}/up"
TTS_UPLINK: dict[str, Any] = {
    "end_device_ids": {
        "device_id": TTS_DEVICE,
        "application_ids": {"application_id": "weather-stations"},
        "dev_eui": "70B3D57ED005B89A",
        "join_eui": "0000000000000001",
        "dev_addr": "260BABCD",
    },
    "correlation_ids": [
        "gs:uplink:01JDQ0W3Q6V4Z3Y9K2N8P5R7T1",
        "as:up:01JDQ0W3QA9C1X7M4F6H2J8K0L",
    ],
    "received_at": "2026-11-27T14:05:41.412Z",
    "uplink_message": {
        "session_key_id": "AWNbm/4zfqx0jZ5q1NlBmw==",
        "f_port": 2,
        "f_cnt": 1834,
        "frm_payload": "ASsBKAAA",
        "decoded_payload": {"temperature": 7.5, "humidity": 86.5, "battery": 3.62},
        "rx_metadata": [
            {
                "gateway_ids": {"gateway_id": "eui-aa555a0000000101", "eui": "AA555A0000000101"},
                "time": "2026-11-27T14:05:41.392Z",
                "timestamp": 3895211423,
                "rssi": -68,
                "channel_rssi": -68,
                "snr": 9.2,
            }
        ],
        "settings": {
            "data_rate": {"lora": {"bandwidth": 125000, "spreading_factor": 7}},
            "coding_rate": "4/5",
            "frequency": "868100000",
            "timestamp": 3895211423,
        },
        "received_at": "2026-11-27T14:05:41.401Z",
        "consumed_airtime": "0.061696s",
    },
}
