"""MeterProvider and LoggerProvider set up for mlwatch, exporting OTLP/HTTP protobuf."""

from dataclasses import dataclass

from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricExporter, PeriodicExportingMetricReader
from opentelemetry.sdk.metrics.view import ExponentialBucketHistogramAggregation, View
from opentelemetry.sdk.resources import Resource

from ._names import HISTOGRAM_INSTRUMENTS

# As the TS SDK: up to 160 buckets per histogram (its scale adapts to the range).
DEFAULT_MAX_BUCKETS = 160


def mlwatch_views(max_size: int = DEFAULT_MAX_BUCKETS) -> list[View]:
    """Base-2 exponential aggregation for mlwatch's histograms. Without these Views
    OTel Python aggregates histograms into explicit buckets, which lose the feature
    distributions that drift is computed from."""
    return [
        View(instrument_name=name, aggregation=ExponentialBucketHistogramAggregation(max_size=max_size))
        for name in HISTOGRAM_INSTRUMENTS
    ]


def _metric_exporter(endpoint: str) -> MetricExporter:
    try:
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    except ImportError:
        from .otlp import OtlpHttpMetricExporter

        return OtlpHttpMetricExporter(endpoint)
    return OTLPMetricExporter(endpoint=endpoint.rstrip("/") + "/v1/metrics")


def _log_exporter(endpoint: str):
    try:
        from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    except ImportError:
        from .otlp import OtlpHttpLogExporter

        return OtlpHttpLogExporter(endpoint)
    return OTLPLogExporter(endpoint=endpoint.rstrip("/") + "/v1/logs")


@dataclass
class Monitoring:
    meter_provider: MeterProvider
    logger_provider: LoggerProvider

    def force_flush(self) -> None:
        self.meter_provider.force_flush()
        self.logger_provider.force_flush()

    def shutdown(self) -> None:
        self.logger_provider.shutdown()
        self.meter_provider.shutdown()


def start_monitoring(
    service_name: str,
    endpoint: str = "http://127.0.0.1:4318",
    export_interval_millis: int = 5000,
) -> Monitoring:
    """A MeterProvider (with mlwatch_views) and a LoggerProvider exporting to the
    collector's OTLP/HTTP endpoint. Pass them to ModelMonitor(meter=..., logger=...)."""
    resource = Resource.create({"service.name": service_name})
    reader = PeriodicExportingMetricReader(
        _metric_exporter(endpoint), export_interval_millis=export_interval_millis
    )
    meter_provider = MeterProvider(metric_readers=[reader], resource=resource, views=mlwatch_views())
    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(
        BatchLogRecordProcessor(_log_exporter(endpoint), schedule_delay_millis=min(export_interval_millis, 1000))
    )
    return Monitoring(meter_provider, logger_provider)
