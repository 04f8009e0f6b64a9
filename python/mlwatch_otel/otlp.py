"""OTLP/HTTP protobuf exporters built on the official encoder.

opentelemetry-exporter-otlp-proto-http 1.45.0 needs two packages that some
package indexes do not serve (opentelemetry-exporter-http-transport and
opentelemetry-exporter-otlp-common 0.66b0). These two classes do its job with
the official protobuf encoder (opentelemetry-exporter-otlp-proto-common) and
the standard library's HTTP client. providers.py uses the official exporter
whenever it is installed.
"""

import logging
import urllib.error
import urllib.request
from collections.abc import Sequence

from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult
from opentelemetry.sdk.metrics.export import MetricExporter, MetricExportResult, MetricsData

_log = logging.getLogger("mlwatch_otel")


def _post(url: str, body: bytes, timeout_s: float) -> bool:
    req = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/x-protobuf"}
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout_s) as res:
            res.read()
            return 200 <= res.status < 300
    except (urllib.error.URLError, OSError) as e:
        # Telemetry must never break the service: report and drop the batch.
        _log.warning("mlwatch: OTLP export to %s failed: %s", url, e)
        return False


class OtlpHttpMetricExporter(MetricExporter):
    """Sends metrics as OTLP/HTTP protobuf to {endpoint}/v1/metrics."""

    def __init__(self, endpoint: str, timeout_s: float = 10.0) -> None:
        super().__init__()
        self._url = endpoint.rstrip("/") + "/v1/metrics"
        self._timeout_s = timeout_s

    def export(self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs) -> MetricExportResult:
        body = encode_metrics(metrics_data).SerializeToString()
        ok = _post(self._url, body, min(self._timeout_s, timeout_millis / 1000))
        return MetricExportResult.SUCCESS if ok else MetricExportResult.FAILURE

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True

    def shutdown(self, timeout_millis: float = 30_000, **kwargs) -> None:
        pass


class OtlpHttpLogExporter(LogRecordExporter):
    """Sends log records as OTLP/HTTP protobuf to {endpoint}/v1/logs."""

    def __init__(self, endpoint: str, timeout_s: float = 10.0) -> None:
        self._url = endpoint.rstrip("/") + "/v1/logs"
        self._timeout_s = timeout_s

    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        body = encode_logs(batch).SerializeToString()
        ok = _post(self._url, body, self._timeout_s)
        return LogRecordExportResult.SUCCESS if ok else LogRecordExportResult.FAILURE

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True
