"""mlwatch's Python helper: record predictions with the official OpenTelemetry
Python SDK under mlwatch's semantic conventions (docs/python.md)."""

from .monitor import ModelMonitor
from .sampling import fmix32, fnv1a32, is_sampled, request_id_hash
from .providers import DEFAULT_MAX_BUCKETS, Monitoring, mlwatch_views, start_monitoring

__all__ = [
    "DEFAULT_MAX_BUCKETS",
    "ModelMonitor",
    "Monitoring",
    "fmix32",
    "fnv1a32",
    "is_sampled",
    "mlwatch_views",
    "request_id_hash",
    "start_monitoring",
]
