# The fallback OTLP/HTTP exporters against a real HTTP server on loopback:
# what arrives must decode as OTLP protobuf with mlwatch's names.
import http.server
import threading

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import LogRecordExportResult, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricExportResult, MetricsData, PeriodicExportingMetricReader

from mlwatch_otel import ModelMonitor, mlwatch_views
from mlwatch_otel.otlp import OtlpHttpLogExporter, OtlpHttpMetricExporter


class Sink(http.server.BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Sink.received.append((self.path, self.headers["Content-Type"], body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_metrics_and_logs_arrive_as_otlp_protobuf():
    server = http.server.HTTPServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        reader = PeriodicExportingMetricReader(OtlpHttpMetricExporter(url), export_interval_millis=60_000)
        meters = MeterProvider(metric_readers=[reader], views=mlwatch_views())
        loggers = LoggerProvider()
        loggers.add_log_record_processor(SimpleLogRecordProcessor(OtlpHttpLogExporter(url)))
        monitor = ModelMonitor("iris", "2", meters.get_meter("t"), loggers.get_logger("t"), sample_rate=1)
        monitor.record_prediction(request_id="r1", predicted_class="setosa", confidence=0.8, features={"x": -3.0})
        meters.force_flush()
        paths = {p: (ct, body) for p, ct, body in Sink.received}
        assert set(paths) == {"/v1/metrics", "/v1/logs"}
        assert all(ct == "application/x-protobuf" for ct, _ in paths.values())
        metrics = ExportMetricsServiceRequest.FromString(paths["/v1/metrics"][1])
        by_name = {m.name: m for rm in metrics.resource_metrics for sm in rm.scope_metrics for m in sm.metrics}
        feature = by_name["ml.feature.value"]
        assert feature.WhichOneof("data") == "exponential_histogram"
        [point] = feature.exponential_histogram.data_points
        attrs = {a.key: a.value.string_value for a in point.attributes}
        assert attrs["ml.feature.sign"] == "negative" and point.sum == 3.0
        logs = ExportLogsServiceRequest.FromString(paths["/v1/logs"][1])
        [record] = [r for rl in logs.resource_logs for sl in rl.scope_logs for r in sl.log_records]
        assert record.event_name == "ml.prediction.sampled"
        meters.shutdown()
        loggers.shutdown()
    finally:
        server.shutdown()


def test_an_unreachable_collector_is_a_failed_export_not_an_exception():
    # Port 9 (discard) has no listener on loopback: the connection is refused.
    exporter = OtlpHttpMetricExporter("http://127.0.0.1:9", timeout_s=2)
    assert exporter.export(MetricsData(resource_metrics=[])) == MetricExportResult.FAILURE
    logs = OtlpHttpLogExporter("http://127.0.0.1:9", timeout_s=2)
    assert logs.export([]) == LogRecordExportResult.FAILURE
