"""Team fraud's model server: the platform's server contract around an MLflow pyfunc model.

What the ModelService component expects of a server (docs/team-guide.md#the-server-contract):

- loads MODEL_URI (models:/<name>/<version>) from MLFLOW_TRACKING_URI at start;
- serves POST /invocations on PORT ({"instances": [{...}, ...]} -> {"predictions": [...]}),
  GET /health/ready (200 once the model is loaded, 503 while loading or draining) and
  GET /health/live (200 while the process works);
- validates every instance against the JSON Schema at MODEL_INPUT_SCHEMA_PATH (422 on failure);
- exposes the metrics of docs/metrics-contract.md on METRICS_PORT at /metrics;
- logs a PREDICTION_LOG_SAMPLE_RATE share of requests and responses as JSON lines under
  PREDICTION_LOG_URI (s3://bucket/prefix/) when PREDICTION_LOG_ENABLED is true;
- on SIGTERM stops reporting ready, finishes in-flight requests, flushes the log and exits;
- writes nothing outside /tmp.
"""

import json
import logging
import os
import random
import signal
import threading
import time
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import jsonschema
import mlflow.pyfunc
import pandas as pd
from botocore.exceptions import BotoCoreError, ClientError
from prometheus_client import Counter, Gauge, Histogram, start_http_server

log = logging.getLogger("model-server")
logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")

MODEL_URI = os.environ["MODEL_URI"]
MODEL = os.environ["MODEL_NAME"]
VERSION = os.environ.get("MODEL_VERSION", "unknown")
ALIAS = os.environ.get("MODEL_ALIAS", "")
TEAM = os.environ["MLOPS_TEAM"]
PORT = int(os.environ.get("PORT", "8080"))
METRICS_PORT = int(os.environ.get("METRICS_PORT", "9090"))
SCHEMA_PATH = os.environ.get("MODEL_INPUT_SCHEMA_PATH")
LOG_ENABLED = os.environ.get("PREDICTION_LOG_ENABLED") == "true"
LOG_RATE = float(os.environ.get("PREDICTION_LOG_SAMPLE_RATE", "0"))
LOG_URI = os.environ.get("PREDICTION_LOG_URI", "")
THRESHOLD = float(os.environ.get("FRAUD_THRESHOLD", "0.5"))

L = {"model": MODEL, "version": VERSION, "team": TEAM}
LABELS = list(L)
REQUESTS = Counter("mlops_model_requests", "Prediction requests handled", LABELS + ["status"])
LATENCY = Histogram(
    "mlops_model_request_duration_seconds", "Request duration", LABELS,
    buckets=[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
)
INVALID = Counter("mlops_model_input_validation_failures", "Rejected input fields", LABELS + ["field", "reason"])
SCORES = Histogram(
    "mlops_model_prediction_value", "Fraud scores", LABELS,
    buckets=[0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 1.0],
)
CLASSES = Counter("mlops_model_predictions", "Predictions by class", LABELS + ["class"])
INFO = Gauge("mlops_model_info", "Loaded model version", LABELS + ["run_id", "alias"])
S3_ERRORS = Counter("mlops_artifact_store_errors", "Failed S3 requests", LABELS + ["operation", "error_code"])

REASONS = {"required": "missing", "type": "type", "enum": "category", "pattern": "category", "additionalProperties": "category"}

state = {"model": None, "draining": False}
validator = None
if SCHEMA_PATH:
    with open(SCHEMA_PATH, encoding="utf-8") as f:
        schema = json.load(f)
    validator = jsonschema.validators.validator_for(schema)(schema)


class PredictionLog:
    """Buffers sampled requests and responses, writes them as JSON lines objects (one per minute or 500 records)."""

    def __init__(self):
        self.records, self.lock = [], threading.Lock()
        # Held for a whole flush, so the last flush at exit waits for one in progress on another thread
        # (a daemon thread killed mid-write at exit would lose the records it took).
        self.flushing = threading.Lock()
        bucket_and_prefix = LOG_URI.removeprefix("s3://")
        self.bucket, _, self.prefix = bucket_and_prefix.partition("/")
        self.s3 = boto3.client("s3") if LOG_ENABLED else None

    def add(self, instance, prediction):
        if not LOG_ENABLED or random.random() >= LOG_RATE:
            return
        record = {"ts": datetime.now(timezone.utc).isoformat(), "model": MODEL, "version": VERSION, "input": instance, "prediction": prediction}
        with self.lock:
            self.records.append(record)
            full = len(self.records) >= 500
        if full:
            self.flush()

    def flush(self):
        with self.flushing:
            self._flush()

    def _flush(self):
        with self.lock:
            records, self.records = self.records, []
        if not records:
            return
        now = datetime.now(timezone.utc)
        key = f"{self.prefix}date={now:%Y-%m-%d}/{now:%H%M%S}-{uuid.uuid4().hex}.jsonl"
        try:
            self.s3.put_object(Bucket=self.bucket, Key=key, Body="\n".join(json.dumps(r) for r in records).encode())
        except ClientError as e:
            S3_ERRORS.labels(**L, operation="write_prediction_log", error_code=e.response["Error"]["Code"]).inc()
            log.warning("prediction log not written: %s", e)
        except BotoCoreError as e:
            S3_ERRORS.labels(**L, operation="write_prediction_log", error_code="network").inc()
            log.warning("prediction log not written: %s", e)

    def run(self):
        while True:
            time.sleep(60)
            self.flush()


prediction_log = PredictionLog()


def load_model():
    try:
        model = mlflow.pyfunc.load_model(MODEL_URI)
    except Exception:
        S3_ERRORS.labels(**L, operation="load_model", error_code="load_failed").inc()
        log.exception("cannot load %s", MODEL_URI)
        raise
    INFO.labels(**L, run_id=model.metadata.run_id or "", alias=ALIAS).set(1)
    state["model"] = model
    log.info("loaded %s", MODEL_URI)


def problems(instance):
    if validator is None:
        return []
    out = []
    for error in validator.iter_errors(instance):
        field = ".".join(str(p) for p in error.absolute_path) or (error.message.split("'")[1] if error.validator == "required" else "<root>")
        out.append((field, REASONS.get(error.validator, "range")))
    return out


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # access logs are metrics here
        pass

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/health/live":
            self.reply(200, {"status": "alive"})
        elif self.path == "/health/ready":
            ready = state["model"] is not None and not state["draining"]
            self.reply(200 if ready else 503, {"status": "ready" if ready else "not ready"})
        else:
            self.reply(404, {"error": "not found"})

    def do_POST(self):
        if self.path != "/invocations":
            self.reply(404, {"error": "not found"})
            return
        start = time.perf_counter()
        status = 500
        try:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
            instances = body.get("instances")
            if not isinstance(instances, list) or not instances:
                status = 400
                self.reply(status, {"error": 'expected {"instances": [...]}'})
                return
            bad = [(i, p) for i, inst in enumerate(instances) for p in problems(inst)]
            if bad:
                for _, (field, reason) in bad:
                    INVALID.labels(**L, field=field, reason=reason).inc()
                status = 422
                self.reply(status, {"error": "invalid input", "problems": [{"instance": i, "field": f, "reason": r} for i, (f, r) in bad]})
                return
            scores = [float(s) for s in state["model"].predict(pd.DataFrame(instances))]
            for instance, score in zip(instances, scores):
                SCORES.labels(**L).observe(score)
                CLASSES.labels(**L, **{"class": "fraud" if score >= THRESHOLD else "legit"}).inc()
                prediction_log.add(instance, score)
            status = 200
            self.reply(status, {"predictions": scores, "model": MODEL, "version": VERSION})
        except json.JSONDecodeError:
            status = 400
            self.reply(status, {"error": "the body is not JSON"})
        except Exception:
            log.exception("prediction failed")
            self.reply(status, {"error": "prediction failed"})
        finally:
            REQUESTS.labels(**L, status=str(status)).inc()
            LATENCY.labels(**L).observe(time.perf_counter() - start)


def main():
    start_http_server(METRICS_PORT)
    server = ThreadingHTTPServer(("0.0.0.0", PORT), Handler)
    server.daemon_threads = False

    def stop(*_):
        # The preStop sleep already let the endpoint removal spread; finish in-flight requests and go.
        state["draining"] = True
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    threading.Thread(target=prediction_log.run, daemon=True).start()
    threading.Thread(target=load_model, daemon=True).start()
    log.info("serving %s on :%d, metrics on :%d", MODEL_URI, PORT, METRICS_PORT)
    server.serve_forever()
    # Waits for the requests in flight (non-daemon threads), so that what they log is in the last flush.
    server.server_close()
    prediction_log.flush()


if __name__ == "__main__":
    main()
