"""ModelMonitor: mlwatch's vocabulary on top of an OTel Meter and Logger.

It records what the TS SDK records, under the names generated from
packages/semconv (_names.py), so the collector cannot tell the two apart.
Recording never raises into the caller's prediction path: a bad value is
skipped with a warning on the "mlwatch_otel" logger.
"""

import functools
import inspect
import json
import logging
import math
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from numbers import Real
from typing import Any

from opentelemetry._logs import Logger, SeverityNumber
from opentelemetry.metrics import Meter

from . import _names as N
from .sampling import is_sampled

_log = logging.getLogger("mlwatch_otel")

FeatureValue = float | int | str | bool | None


def _instrument(meter: Meter, spec: tuple[str, str, str, str]):
    name, kind, unit, description = spec
    make = {
        "counter": meter.create_counter,
        "updowncounter": meter.create_up_down_counter,
        "histogram": meter.create_histogram,
    }[kind]
    return make(name, unit=unit, description=description)


def _number_text(x: float) -> str:
    # As JavaScript's String(x), so both SDKs label a threshold of 0.7 or 1 the same.
    return str(int(x)) if float(x).is_integer() else repr(float(x))


class ModelMonitor:
    """Records predictions, requests and outcomes of one model version.

    meter: an OTel Meter from a MeterProvider that has mlwatch_views().
    logger: an OTel Logger for sampled-prediction log records (None: no sampling logs).
    """

    def __init__(
        self,
        model_name: str,
        model_version: str,
        meter: Meter,
        logger: Logger | None = None,
        *,
        endpoint: str = "/predict",
        confidence_threshold: float = 0.7,
        sample_rate: float = 0.1,
        segment: str = "ground_truth_sample",
        include_inputs: bool = False,
        max_categories: int = 100,
    ) -> None:
        if not isinstance(model_name, str) or model_name == "":
            raise ValueError("model_name must be a non-empty string")
        if not isinstance(model_version, str) or model_version == "":
            raise ValueError("model_version must be a non-empty string (drift and rollouts are per version)")
        if not 0 <= sample_rate <= 1:
            raise ValueError(f"sample_rate must be in [0, 1], got {sample_rate!r}")
        self.model_name = model_name
        self.model_version = model_version
        self.endpoint = endpoint
        self.confidence_threshold = float(confidence_threshold)
        self.sample_rate = float(sample_rate)
        self.segment = segment
        self.include_inputs = include_inputs
        self.max_categories = max_categories
        self._logger = logger
        self._base = {N.ATTR_MODEL_NAME: model_name, N.ATTR_MODEL_VERSION: model_version}
        self._threshold_attrs = {**self._base, N.ATTR_CONFIDENCE_THRESHOLD: _number_text(confidence_threshold)}
        self._categories: dict[str, set[str]] = {}
        self._requests = _instrument(meter, N.INSTRUMENT_REQUESTS)
        self._errors = _instrument(meter, N.INSTRUMENT_ERRORS)
        self._duration = _instrument(meter, N.INSTRUMENT_DURATION)
        self._in_progress = _instrument(meter, N.INSTRUMENT_IN_PROGRESS)
        self._predictions = _instrument(meter, N.INSTRUMENT_PREDICTIONS)
        self._confidence = _instrument(meter, N.INSTRUMENT_CONFIDENCE)
        self._low_confidence = _instrument(meter, N.INSTRUMENT_LOW_CONFIDENCE)
        self._feature_value = _instrument(meter, N.INSTRUMENT_FEATURE_VALUE)
        self._feature_category = _instrument(meter, N.INSTRUMENT_FEATURE_CATEGORY)
        self._outcomes = _instrument(meter, N.INSTRUMENT_SEGMENT_OUTCOMES)

    # -- predictions ---------------------------------------------------------

    def record_prediction(
        self,
        *,
        features: Mapping[str, FeatureValue] | None = None,
        confidence: float | None = None,
        predicted_class: str | None = None,
        request_id: str | None = None,
        segment: str | None = None,
        input: Any = None,
    ) -> None:
        """Records one prediction: class, confidence, features, and (when the
        request id is sampled) a sampled-prediction log record."""
        try:
            if predicted_class is not None:
                self._predictions.add(1, {**self._base, N.ATTR_PREDICTED_CLASS: str(predicted_class)})
            conf = self._valid_confidence(confidence)
            if conf is not None:
                self._confidence.record(conf, self._base)
                if conf < self.confidence_threshold:
                    self._low_confidence.add(1, self._threshold_attrs)
            for name, value in (features or {}).items():
                self.record_feature(name, value)
            if request_id and self._logger is not None and is_sampled(request_id, self.sample_rate):
                self._emit_sample(request_id, predicted_class, conf, segment, input if input is not None else features)
        except Exception:  # never into the prediction path
            _log.exception("mlwatch: record_prediction failed")

    def record_feature(self, name: str, value: FeatureValue) -> None:
        """A number goes to the feature's histogram; a str or bool is counted as a category.

        The sign rule: OTel histograms drop negative values (OTel Python as OTel JS),
        so a negative value is recorded as its magnitude with ml.feature.sign="negative";
        the collector folds that series back into the negative range.
        """
        try:
            if value is None:
                return
            if isinstance(value, bool) or isinstance(value, str):
                self._record_category(name, ("true" if value else "false") if isinstance(value, bool) else value)
                return
            if not isinstance(value, Real):
                _log.warning("mlwatch: ignoring value of feature %r of type %s", name, type(value).__name__)
                return
            v = float(value)
            if not math.isfinite(v):
                _log.warning("mlwatch: ignoring non-finite value of feature %r", name)
                return
            attrs = {**self._base, N.ATTR_FEATURE_NAME: name}
            if v >= 0:
                self._feature_value.record(v + 0.0, attrs)  # + 0.0 turns -0.0 into 0.0
            else:
                self._feature_value.record(-v, {**attrs, N.ATTR_FEATURE_SIGN: "negative"})
        except Exception:
            _log.exception("mlwatch: record_feature failed")

    def _record_category(self, name: str, category: str) -> None:
        seen = self._categories.setdefault(name, set())
        if category not in seen:
            if len(seen) >= self.max_categories:
                category = N.OTHER_CATEGORY
            else:
                seen.add(category)
        self._feature_category.add(
            1, {**self._base, N.ATTR_FEATURE_NAME: name, N.ATTR_FEATURE_CATEGORY: category}
        )

    def _valid_confidence(self, confidence: Any) -> float | None:
        if confidence is None:
            return None
        if isinstance(confidence, Real) and not isinstance(confidence, bool) and 0 <= float(confidence) <= 1:
            return float(confidence)
        _log.warning("mlwatch: ignoring confidence %r: not a number in [0, 1]", confidence)
        return None

    # -- ground truth --------------------------------------------------------

    def is_sampled(self, request_id: str) -> bool:
        """Whether this request id's prediction is sampled for ground truth (same answer on every replica)."""
        return isinstance(request_id, str) and request_id != "" and is_sampled(request_id, self.sample_rate)

    def _emit_sample(
        self, request_id: str, predicted_class: Any, conf: float | None, segment: str | None, inputs: Any
    ) -> None:
        attributes: dict[str, Any] = {
            **self._base,
            N.ATTR_REQUEST_ID: request_id,
            N.ATTR_SEGMENT: segment or self.segment,
        }
        if predicted_class is not None and str(predicted_class) != "":
            attributes[N.ATTR_PREDICTED_CLASS] = str(predicted_class)
        if conf is not None:
            attributes[N.ATTR_PREDICTION_CONFIDENCE] = conf
        if self.include_inputs and inputs is not None:
            attributes[N.ATTR_PREDICTION_INPUT] = json.dumps(inputs, default=str)[:8192]
        self._logger.emit(
            event_name=N.SAMPLED_PREDICTION_EVENT,
            severity_number=SeverityNumber.INFO,
            severity_text="INFO",
            attributes=attributes,
        )

    def record_outcome(self, correct: bool, segment: str | None = None) -> None:
        """Counts one prediction whose truth is known, in its segment."""
        try:
            self._outcomes.add(
                1,
                {
                    **self._base,
                    N.ATTR_SEGMENT: segment or self.segment,
                    N.ATTR_OUTCOME: "correct" if correct else "incorrect",
                },
            )
        except Exception:
            _log.exception("mlwatch: record_outcome failed")

    # -- requests (RED) ------------------------------------------------------

    @contextmanager
    def track_request(self, endpoint: str | None = None) -> Iterator[None]:
        """Counts the block as one request: in flight while it runs, then counted and
        timed; an exception is also counted as an error of its class name and re-raised."""
        ep = endpoint or self.endpoint
        attrs = {**self._base, N.ATTR_ENDPOINT: ep}
        self._safe(self._in_progress.add, 1, self._base)
        start = time.perf_counter()
        try:
            yield
        except BaseException as e:
            self._safe(self._errors.add, 1, {**attrs, N.ATTR_ERROR_TYPE: type(e).__name__})
            raise
        finally:
            self._safe(self._duration.record, max(time.perf_counter() - start, 0.0), attrs)
            self._safe(self._requests.add, 1, attrs)
            self._safe(self._in_progress.add, -1, self._base)

    def instrument(self, endpoint: str | None = None) -> Callable[[Callable], Callable]:
        """Decorator form of track_request, for sync and async endpoint functions."""

        def wrap(fn: Callable) -> Callable:
            if inspect.iscoroutinefunction(fn):

                @functools.wraps(fn)
                async def async_wrapper(*args, **kwargs):
                    with self.track_request(endpoint):
                        return await fn(*args, **kwargs)

                return async_wrapper

            @functools.wraps(fn)
            def wrapper(*args, **kwargs):
                with self.track_request(endpoint):
                    return fn(*args, **kwargs)

            return wrapper

        return wrap

    @staticmethod
    def _safe(op: Callable, *args: Any) -> None:
        try:
            op(*args)
        except Exception:
            _log.exception("mlwatch: recording a request failed")
