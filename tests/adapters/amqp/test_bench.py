"""The benchmark runs and reports (its figures are read by people, never asserted)."""

from __future__ import annotations

import pytest

from adapters.amqp.bench import measure_publish_rate

pytestmark = pytest.mark.rabbitmq


async def test_the_publish_benchmark_reports_rates_and_no_failure(vhost_url: str) -> None:
    report = await measure_publish_rate(vhost_url, messages=200, serial_messages=20)

    assert report["failed"] == 0
    assert report["pipelined_msg_per_s"] > 0
    assert report["serial_msg_per_s"] > 0
