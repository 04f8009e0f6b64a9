import pathlib
import sys

import pytest
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from mlwatch_otel import ModelMonitor, mlwatch_views  # noqa: E402


class Recorded:
    """A ModelMonitor on real OTel SDK providers whose output stays in memory."""

    def __init__(self, **options):
        self.reader = InMemoryMetricReader()
        self.provider = MeterProvider(metric_readers=[self.reader], views=mlwatch_views())
        self.logs = InMemoryLogRecordExporter()
        self.logger_provider = LoggerProvider()
        self.logger_provider.add_log_record_processor(SimpleLogRecordProcessor(self.logs))
        self.monitor = ModelMonitor(
            "iris", "2", self.provider.get_meter("test"), self.logger_provider.get_logger("test"), **options
        )

    def metrics(self) -> dict:
        """{instrument name: [(attributes, point)]} of one collection."""
        out: dict = {}
        data = self.reader.get_metrics_data()
        for rm in data.resource_metrics if data else []:
            for sm in rm.scope_metrics:
                for m in sm.metrics:
                    out.setdefault(m.name, []).extend((dict(p.attributes), p) for p in m.data.data_points)
        return out

    def log_records(self) -> list:
        return [r.log_record for r in self.logs.get_finished_logs()]


@pytest.fixture
def recorded():
    return Recorded
