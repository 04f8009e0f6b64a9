import pytest
from opentelemetry.sdk.metrics.export import ExponentialHistogramDataPoint

from mlwatch_otel import ModelMonitor, _names as N

BASE = {"ml.model.name": "iris", "ml.model.version": "2"}


def test_features_use_exponential_histograms_and_the_sign_rule(recorded):
    r = recorded()
    for v in (1.5, -2.5, -4.0, 0.0, -0.0, 3):
        r.monitor.record_prediction(features={"x": v})
    points = r.metrics()["ml.feature.value"]
    by_sign = {attrs.get("ml.feature.sign"): p for attrs, p in points}
    assert set(by_sign) == {None, "negative"}
    pos, neg = by_sign[None], by_sign["negative"]
    assert isinstance(pos, ExponentialHistogramDataPoint) and isinstance(neg, ExponentialHistogramDataPoint)
    # Negative values arrive as magnitudes on their own series; nothing is dropped.
    assert (neg.count, neg.sum, neg.min, neg.max) == (2, 6.5, 2.5, 4.0)
    assert (pos.count, pos.sum, pos.zero_count) == (4, 4.5, 2)
    assert sum(neg.negative.bucket_counts) == 0 and sum(neg.positive.bucket_counts) == 2
    for attrs, _ in points:
        assert {k: attrs[k] for k in BASE} == BASE and attrs["ml.feature.name"] == "x"


def test_categories_bools_and_the_cardinality_cap(recorded):
    r = recorded(max_categories=2)
    for v in ("a", "b", "c", "d", True, "a"):
        r.monitor.record_prediction(features={"channel": v})
    counts = {a["ml.feature.category"]: p.value for a, p in r.metrics()["ml.feature.category"]}
    assert counts == {"a": 2, "b": 1, N.OTHER_CATEGORY: 3}
    r2 = recorded()
    r2.monitor.record_feature("flag", False)
    assert [a["ml.feature.category"] for a, _ in r2.metrics()["ml.feature.category"]] == ["false"]


def test_class_confidence_and_low_confidence(recorded):
    r = recorded()
    r.monitor.record_prediction(predicted_class="setosa", confidence=0.95)
    r.monitor.record_prediction(predicted_class="virginica", confidence=0.4)
    r.monitor.record_prediction(predicted_class="virginica", confidence=1.5)  # ignored, not raised
    m = r.metrics()
    classes = {a["ml.prediction.class"]: p.value for a, p in m["ml.predictions"]}
    assert classes == {"setosa": 1, "virginica": 2}
    [(_, conf)] = m["ml.prediction.confidence"]
    assert conf.count == 2 and conf.sum == pytest.approx(1.35)
    [(attrs, low)] = m["ml.predictions.low_confidence"]
    assert low.value == 1 and attrs["ml.confidence.threshold"] == "0.7"


def test_threshold_text_matches_javascript(recorded):
    r = recorded(confidence_threshold=1)
    r.monitor.record_prediction(confidence=0.5)
    [(attrs, _)] = r.metrics()["ml.predictions.low_confidence"]
    assert attrs["ml.confidence.threshold"] == "1"


def test_bad_values_never_raise(recorded):
    r = recorded()
    r.monitor.record_prediction(
        features={"a": float("nan"), "b": float("inf"), "c": [1, 2], "d": None, "e": 2.0},
        confidence="high",
    )
    m = r.metrics()
    [(attrs, p)] = m["ml.feature.value"]
    assert attrs["ml.feature.name"] == "e" and p.count == 1
    assert "ml.prediction.confidence" not in m


def test_track_request_counts_times_and_types_errors(recorded):
    r = recorded()
    with r.monitor.track_request():
        pass

    @r.monitor.instrument("/score")
    def score(fail: bool):
        if fail:
            raise TimeoutError("slow model")
        return 1

    assert score(False) == 1
    with pytest.raises(TimeoutError):
        score(True)
    m = r.metrics()
    requests = {a["ml.endpoint"]: p.value for a, p in m["ml.requests"]}
    assert requests == {"/predict": 1, "/score": 2}
    [(err_attrs, err)] = m["ml.errors"]
    assert err.value == 1 and err_attrs["error.type"] == "TimeoutError" and err_attrs["ml.endpoint"] == "/score"
    durations = {a["ml.endpoint"]: p for a, p in m["ml.request.duration"]}
    assert durations["/score"].count == 2 and isinstance(durations["/score"], ExponentialHistogramDataPoint)
    [(_, in_flight)] = m["ml.requests.in_progress"]
    assert in_flight.value == 0


async def _async_endpoint(monitor):
    @monitor.instrument()
    async def handler():
        return "ok"

    return await handler()


def test_instrument_wraps_async_functions(recorded):
    import asyncio

    r = recorded()
    assert asyncio.run(_async_endpoint(r.monitor)) == "ok"
    assert [p.value for _, p in r.metrics()["ml.requests"]] == [1]


def test_sampled_prediction_log_records(recorded):
    r = recorded(sample_rate=0.3, include_inputs=True)
    # req-1 sits at 0.283 (sampled at 0.3); order-42 at 0.182 (sampled); 日本 at 0.938 (not).
    for rid in ("req-1", "order-42", "日本"):
        r.monitor.record_prediction(request_id=rid, predicted_class="setosa", confidence=0.9, features={"x": 1})
    records = r.log_records()
    assert [rec.attributes["ml.request.id"] for rec in records] == ["req-1", "order-42"]
    rec = records[0]
    assert rec.event_name == N.SAMPLED_PREDICTION_EVENT
    assert dict(rec.attributes) == {
        **BASE,
        "ml.request.id": "req-1",
        "ml.segment": "ground_truth_sample",
        "ml.prediction.class": "setosa",
        "ml.prediction.confidence": 0.9,
        "ml.prediction.input": '{"x": 1}',
    }
    assert set(rec.attributes) <= set(N.SAMPLED_PREDICTION_ATTRIBUTES)
    assert r.monitor.is_sampled("req-1") and not r.monitor.is_sampled("日本")


def test_outcomes_by_segment(recorded):
    r = recorded()
    r.monitor.record_outcome(True)
    r.monitor.record_outcome(False, segment="mobile")
    got = {(a["ml.segment"], a["ml.outcome"]): p.value for a, p in r.metrics()["ml.segment.outcomes"]}
    assert got == {("ground_truth_sample", "correct"): 1, ("mobile", "incorrect"): 1}


def test_constructor_rejects_missing_identity(recorded):
    r = recorded()
    meter = r.provider.get_meter("x")
    with pytest.raises(ValueError, match="model_version"):
        ModelMonitor("iris", "", meter)
    with pytest.raises(ValueError, match="model_name"):
        ModelMonitor("", "1", meter)
    with pytest.raises(ValueError, match="sample_rate"):
        ModelMonitor("iris", "1", meter, sample_rate=2)
