"""Unit tests of the check: settings, the log window, the pushed exposition (S3 from moto, in process)."""

import argparse
import json
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from moto import mock_aws

from drift_check import push
from drift_check.__main__ import UsageError, main, settings
from drift_check.sources import read_window

ENV = {
    "MLOPS_TEAM": "fraud", "MLOPS_MODEL": "m", "MLOPS_MODEL_ALIAS": "champion",
    "MLOPS_PREDICTION_LOG_URI": "s3://b/prediction-logs/fraud/m/", "MLOPS_REFERENCE_URI_PREFIX": "s3://b/models/fraud/m/",
    "MLFLOW_TRACKING_URI": "http://mlflow:5000", "MLOPS_PUSHGATEWAY_URL": "http://pgw:9091", "MLOPS_PUSH_JOB": "drift-check-m",
    "MLOPS_PUSH_NAMESPACE": "ml-fraud", "MLOPS_EXPECTED_INTERVAL_SECONDS": "3600",
}


def args(**kw):
    return argparse.Namespace(**{"model": "m", "alias": "champion", "window_hours": 24, "min_records": 100, **kw})


def test_settings_report_every_problem_at_once():
    env = {**ENV, "MLOPS_PUSH_JOB": "", "MLOPS_PREDICTION_LOG_URI": "s3://b/no-slash", "MLOPS_EXPECTED_INTERVAL_SECONDS": "1h"}
    with pytest.raises(UsageError) as e:
        settings(args(model="other", window_hours=0), env)
    assert str(e.value) == (
        "MLOPS_PUSH_JOB is not set; --model 'other' differs from MLOPS_MODEL 'm'; --window-hours must be from 1 to 720, got 0; "
        "MLOPS_EXPECTED_INTERVAL_SECONDS must be a whole number of seconds, got '1h'; "
        "MLOPS_PREDICTION_LOG_URI must be an s3://bucket/prefix/ URI ending in /, got 's3://b/no-slash'"
    )
    assert settings(args(), ENV)["interval"] == 3600


@mock_aws
def test_the_window_keeps_records_of_the_version_within_its_hours():
    s3 = boto3.client("s3", region_name="eu-west-1")
    s3.create_bucket(Bucket="logs-b", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    now = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)

    def put(at, lines):
        key = f"prediction-logs/fraud/m/date={at:%Y-%m-%d}/{at:%H%M%S}-x.jsonl"
        s3.put_object(Bucket="logs-b", Key=key, Body="\n".join(lines).encode())

    def rec(at, version="3", model="m"):
        return json.dumps({"ts": at.isoformat(), "model": model, "version": version, "input": {"a": 1}, "prediction": 0.1})

    inside, before = now - timedelta(hours=2), now - timedelta(hours=30)
    put(inside, [rec(inside), rec(inside, version="2"), rec(inside, model="other"), "not json", rec(before)])
    put(before, [rec(before)])  # flushed before the window: not read
    records, stats = read_window(s3, "s3://logs-b/prediction-logs/fraud/m/", "m", "3", now - timedelta(hours=24), now)
    assert len(records) == 1 and records[0]["ts"] == inside.isoformat()
    assert stats == {"objects": 1, "other_versions": 1, "malformed": 1}


def test_exposition_escapes_labels_and_renames_the_drift_metric():
    body = push.exposition([(push.DRIFT_SCORE, {"feature": 'a"b\\c', "method": "psi"}, 0.5), (push.ROWS_SCORED, {"model": "m"}, 3)], "custom_drift")
    assert body.splitlines() == [
        f"# HELP custom_drift {push.HELP[push.DRIFT_SCORE]}",
        "# TYPE custom_drift gauge",
        'custom_drift{feature="a\\"b\\\\c",method="psi"} 0.5',
        f"# HELP {push.ROWS_SCORED} {push.HELP[push.ROWS_SCORED]}",
        f"# TYPE {push.ROWS_SCORED} gauge",
        f'{push.ROWS_SCORED}{{model="m"}} 3.0',
    ]
    assert push.group_url("http://pgw:9091/", "drift-check-m", "ml-fraud") == "http://pgw:9091/metrics/job/drift-check-m/namespace/ml-fraud"


def test_main_exits_2_on_bad_arguments_or_environment_and_1_when_a_source_fails():
    assert main(["check", "--model", "m", "--alias", "champion", "--window-hours", "24"], env={}) == 2
    with pytest.raises(SystemExit) as e:
        main(["check", "--model", "m"], env=ENV)
    assert e.value.code == 2
    # MLflow unreachable (nothing listens on port 9 of loopback): a failed source, exit 1.
    assert main(["check", "--model", "m", "--alias", "champion", "--window-hours", "24"], env={**ENV, "MLFLOW_TRACKING_URI": "http://127.0.0.1:9"}) == 1
