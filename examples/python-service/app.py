"""The Python example model service: FastAPI, a scikit-learn model, POST /predict
and POST /feedback, instrumented with mlwatch_otel and exporting OTLP to a collector.

The model predicts whether a diabetes patient's disease progresses more than the
median after a year (scikit-learn's bundled diabetes data set: no download). Its
ten inputs are centred and scaled, so every feature takes negative values: the
service shows the sign rule at work.

Configuration (environment variables):
  MLWATCH_OTLP_URL         collector OTLP/HTTP endpoint (default http://127.0.0.1:4318)
  MLWATCH_QUERY_URL        collector query API, for /feedback (default http://127.0.0.1:9464)
  MLWATCH_EXPORT_INTERVAL  metric export interval in ms (default 5000)
  MLWATCH_SAMPLE_RATE      share of predictions sampled for ground truth (default 0.1)
  MODEL_VERSION            reported model version (default "1")
  TRAINING_CSV             if set, the training rows (features and label) are written there
                           at start, for `mlwatch baseline build`
Run: uvicorn app:app --port 8000   (from this folder, with the venv of scripts/python-venv.sh)
"""

import contextlib
import csv
import json
import os
import pathlib
import sys
import urllib.request
import uuid

import numpy as np
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel
from sklearn.datasets import load_diabetes
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "python"))
from mlwatch_otel import ModelMonitor, start_monitoring  # noqa: E402

MODEL_NAME = "diabetes-progression"
MODEL_VERSION = os.environ.get("MODEL_VERSION", "1")
OTLP_URL = os.environ.get("MLWATCH_OTLP_URL", "http://127.0.0.1:4318")
QUERY_URL = os.environ.get("MLWATCH_QUERY_URL", "http://127.0.0.1:9464").rstrip("/")


def train() -> tuple[LogisticRegression, list[str], np.ndarray, np.ndarray]:
    data = load_diabetes()
    labels = np.where(data.target > np.median(data.target), "progressed", "stable")
    model = LogisticRegression(max_iter=1000).fit(data.data, labels)
    return model, list(data.feature_names), data.data, labels


model, FEATURES, X_train, y_train = train()

if os.environ.get("TRAINING_CSV"):
    with open(os.environ["TRAINING_CSV"], "w", newline="") as f:
        w = csv.writer(f)
        w.writerow([*FEATURES, "label"])
        for row, label in zip(X_train, y_train, strict=True):
            w.writerow([*(repr(float(v)) for v in row), label])

monitoring = start_monitoring(
    "python-model-service", OTLP_URL, int(os.environ.get("MLWATCH_EXPORT_INTERVAL", "5000"))
)
monitor = ModelMonitor(
    MODEL_NAME,
    MODEL_VERSION,
    monitoring.meter_provider.get_meter("python-model-service"),
    monitoring.logger_provider.get_logger("python-model-service"),
    sample_rate=float(os.environ.get("MLWATCH_SAMPLE_RATE", "0.1")),
)

@contextlib.asynccontextmanager
async def lifespan(_app: FastAPI):
    yield
    # Export what is left before the process ends.
    monitoring.shutdown()


app = FastAPI(title="mlwatch Python example", lifespan=lifespan)


class PredictRequest(BaseModel):
    features: dict[str, float]
    request_id: str | None = None


class FeedbackRequest(BaseModel):
    request_id: str
    label: str


class ValidationError(Exception):
    pass


@app.post("/predict")
def predict(body: PredictRequest) -> dict:
    try:
        with monitor.track_request("/predict"):
            missing = [f for f in FEATURES if f not in body.features]
            if missing:
                raise ValidationError(f"missing features: {', '.join(missing)}")
            row = np.array([[body.features[f] for f in FEATURES]])
            probabilities = model.predict_proba(row)[0]
            best = int(np.argmax(probabilities))
            label, confidence = str(model.classes_[best]), float(probabilities[best])
            request_id = body.request_id or str(uuid.uuid4())
            monitor.record_prediction(
                features={f: body.features[f] for f in FEATURES},
                confidence=confidence,
                predicted_class=label,
                request_id=request_id,
            )
    except ValidationError as e:
        raise HTTPException(status_code=400, detail=str(e)) from e
    return {
        "request_id": request_id,
        "label": label,
        "confidence": confidence,
        "sampled": monitor.is_sampled(request_id),
    }


@app.post("/feedback")
def feedback(body: FeedbackRequest) -> dict:
    """Forwards a true label to the collector, which joins it with the sampled prediction."""
    req = urllib.request.Request(
        f"{QUERY_URL}/api/v1/feedback",
        data=json.dumps({"request_id": body.request_id, "label": body.label}).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            return json.loads(res.read())
    except OSError as e:
        raise HTTPException(status_code=502, detail=f"collector feedback API: {e}") from e


@app.get("/healthz")
def healthz() -> dict:
    return {"status": "ok", "model": MODEL_NAME, "version": MODEL_VERSION}
