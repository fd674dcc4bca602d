"""The metrics a drift check pushes, in the Prometheus text format, and the push itself.

Names and labels are those of the platform's metrics contract (components/metricsContract.ts): the drift
alert (ModelFeatureDriftHigh) reads mlops_feature_drift_score, the staleness alert (BatchJobStale) the
batch-job gauges. One PUT replaces the whole group /metrics/job/<job>/namespace/<namespace>, so scores of
features that are gone do not linger.
"""

import urllib.error
import urllib.parse
import urllib.request

DRIFT_SCORE = "mlops_feature_drift_score"
MISSING_RATIO = "mlops_feature_missing_ratio"
LAST_SUCCESS = "mlops_batch_job_last_success_timestamp_seconds"
EXPECTED_INTERVAL = "mlops_batch_job_expected_interval_seconds"
ROWS_SCORED = "mlops_batch_job_rows_scored"
DURATION = "mlops_batch_job_duration_seconds"

HELP = {
    DRIFT_SCORE: "Drift of one input feature (or of the prediction, feature=__prediction__) from the training reference of the served version.",
    MISSING_RATIO: "Share of the window's logged requests in which the feature is absent, null or not of its reference type.",
    LAST_SUCCESS: "Unix time at which the job last completed successfully.",
    EXPECTED_INTERVAL: "How often the job is meant to succeed.",
    ROWS_SCORED: "Rows scored by the job's last successful run.",
    DURATION: "Wall-clock duration of the job's last successful run.",
}


class PushError(RuntimeError):
    """The Pushgateway did not take the metrics."""


def _escape(value):
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value):
    return repr(float(value))


def exposition(samples, drift_metric=DRIFT_SCORE):
    """Text exposition of [(metric, labels, value)]: one HELP/TYPE header per metric, all gauges."""
    by_name = {}
    for name, labels, value in samples:
        by_name.setdefault(drift_metric if name == DRIFT_SCORE else name, []).append((labels, value))
    lines = []
    for name, series in by_name.items():
        lines.append(f"# HELP {name} {HELP.get(name, HELP[DRIFT_SCORE])}")
        lines.append(f"# TYPE {name} gauge")
        for labels, value in series:
            rendered = ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(labels.items()))
            lines.append(f"{name}{{{rendered}}} {_number(value)}")
    return "\n".join(lines) + "\n"


def group_url(gateway, job, namespace):
    """URL of the push group: <gateway>/metrics/job/<job>/namespace/<namespace>."""
    quote = lambda s: urllib.parse.quote(s, safe="")  # noqa: E731
    return f"{gateway.rstrip('/')}/metrics/job/{quote(job)}/namespace/{quote(namespace)}"


def push(gateway, job, namespace, body, timeout=30):
    """PUTs the exposition to the group; raises PushError unless the Pushgateway accepts it."""
    request = urllib.request.Request(group_url(gateway, job, namespace), data=body.encode(), method="PUT", headers={"Content-Type": "text/plain; version=0.0.4"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as e:
        raise PushError(f"the Pushgateway answered {e.code}: {e.read()[:300].decode(errors='replace')}") from e
    except (urllib.error.URLError, OSError) as e:
        raise PushError(f"cannot reach the Pushgateway at {gateway}: {e}") from e
    if status not in (200, 202):
        raise PushError(f"the Pushgateway answered {status}")
