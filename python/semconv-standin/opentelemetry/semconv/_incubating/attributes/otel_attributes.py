from enum import Enum

OTEL_COMPONENT_NAME = "otel.component.name"
OTEL_COMPONENT_TYPE = "otel.component.type"
OTEL_SPAN_PARENT_ORIGIN = "otel.span.parent.origin"
OTEL_SPAN_SAMPLING_RESULT = "otel.span.sampling_result"


class OtelComponentTypeValues(Enum):
    BATCHING_SPAN_PROCESSOR = "batching_span_processor"
    SIMPLE_SPAN_PROCESSOR = "simple_span_processor"
    BATCHING_LOG_PROCESSOR = "batching_log_processor"
    SIMPLE_LOG_PROCESSOR = "simple_log_processor"
    OTLP_GRPC_SPAN_EXPORTER = "otlp_grpc_span_exporter"
    OTLP_HTTP_SPAN_EXPORTER = "otlp_http_span_exporter"
    OTLP_HTTP_JSON_SPAN_EXPORTER = "otlp_http_json_span_exporter"
    OTLP_GRPC_LOG_EXPORTER = "otlp_grpc_log_exporter"
    OTLP_HTTP_LOG_EXPORTER = "otlp_http_log_exporter"
    OTLP_HTTP_JSON_LOG_EXPORTER = "otlp_http_json_log_exporter"
    PERIODIC_METRIC_READER = "periodic_metric_reader"
    OTLP_GRPC_METRIC_EXPORTER = "otlp_grpc_metric_exporter"
    OTLP_HTTP_METRIC_EXPORTER = "otlp_http_metric_exporter"
    OTLP_HTTP_JSON_METRIC_EXPORTER = "otlp_http_json_metric_exporter"


class OtelSpanSamplingResultValues(Enum):
    DROP = "DROP"
    RECORD_ONLY = "RECORD_ONLY"
    RECORD_AND_SAMPLE = "RECORD_AND_SAMPLE"
