"""drift-check check --model <m> --alias <a> --window-hours <h> [--min-records <n>]
drift-check profile --input <records.jsonl> --output <profile.json> [--bins <n>]

`check` is what the DriftCheck CronJob runs (components/driftCheck.ts renders its arguments and
environment); `profile` writes the reference profile a team uploads beside a model version. Exit codes:
0 done, 1 the check failed (nothing pushed), 2 bad arguments or environment.
"""

import argparse
import json
import logging
import os
import sys
import time
from datetime import datetime, timedelta, timezone

from . import push as metrics
from .profile import ProfileError, build_profile, score_window, validate_profile
from .sources import SourceError, read_profile, read_window, resolve_alias

log = logging.getLogger("drift-check")

REQUIRED_ENV = (
    "MLOPS_TEAM",
    "MLOPS_PREDICTION_LOG_URI",
    "MLOPS_REFERENCE_URI_PREFIX",
    "MLFLOW_TRACKING_URI",
    "MLOPS_PUSHGATEWAY_URL",
    "MLOPS_PUSH_JOB",
    "MLOPS_PUSH_NAMESPACE",
    "MLOPS_EXPECTED_INTERVAL_SECONDS",
)


class UsageError(Exception):
    """Bad arguments or environment: exit 2."""


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="drift-check", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="score the recent prediction logs of a model against its reference profile and push the scores")
    check.add_argument("--model", required=True)
    check.add_argument("--alias", required=True)
    check.add_argument("--window-hours", type=int, required=True)
    check.add_argument("--min-records", type=int, default=100, help="fewer records in the window: push the job metrics, no scores (default 100)")
    profile = sub.add_parser("profile", help="write a reference profile from records in the prediction-log format")
    profile.add_argument("--input", required=True, help="JSON lines of {\"input\": {...}, \"prediction\": ...}")
    profile.add_argument("--output", required=True)
    profile.add_argument("--bins", type=int, default=10)
    profile.add_argument("--max-categories", type=int, default=50)
    return parser.parse_args(argv)


def settings(args, env):
    """The check's settings from its arguments and environment; every problem at once."""
    problems = [f"{name} is not set" for name in REQUIRED_ENV if not env.get(name)]
    if env.get("MLOPS_MODEL") and env["MLOPS_MODEL"] != args.model:
        problems.append(f"--model {args.model!r} differs from MLOPS_MODEL {env['MLOPS_MODEL']!r}")
    if env.get("MLOPS_MODEL_ALIAS") and env["MLOPS_MODEL_ALIAS"] != args.alias:
        problems.append(f"--alias {args.alias!r} differs from MLOPS_MODEL_ALIAS {env['MLOPS_MODEL_ALIAS']!r}")
    if not 1 <= args.window_hours <= 720:
        problems.append(f"--window-hours must be from 1 to 720, got {args.window_hours}")
    if args.min_records < 1:
        problems.append(f"--min-records must be at least 1, got {args.min_records}")
    interval = env.get("MLOPS_EXPECTED_INTERVAL_SECONDS", "")
    if interval and not interval.isdigit():
        problems.append(f"MLOPS_EXPECTED_INTERVAL_SECONDS must be a whole number of seconds, got {interval!r}")
    for name in ("MLOPS_PREDICTION_LOG_URI", "MLOPS_REFERENCE_URI_PREFIX"):
        value = env.get(name, "")
        if value and (not value.startswith("s3://") or not value.endswith("/")):
            problems.append(f"{name} must be an s3://bucket/prefix/ URI ending in /, got {value!r}")
    if problems:
        raise UsageError("; ".join(problems))
    return {
        "team": env["MLOPS_TEAM"],
        "log_uri": env["MLOPS_PREDICTION_LOG_URI"],
        "reference_prefix": env["MLOPS_REFERENCE_URI_PREFIX"],
        "tracking_uri": env["MLFLOW_TRACKING_URI"],
        "username": env.get("MLFLOW_TRACKING_USERNAME") or None,
        "password": env.get("MLFLOW_TRACKING_PASSWORD") or None,
        "gateway": env["MLOPS_PUSHGATEWAY_URL"],
        "job": env["MLOPS_PUSH_JOB"],
        "namespace": env["MLOPS_PUSH_NAMESPACE"],
        "interval": int(interval),
        "drift_metric": env.get("MLOPS_DRIFT_METRIC") or metrics.DRIFT_SCORE,
    }


def check(args, env, s3=None, now=None):
    """One run of the check; returns the pushed exposition."""
    cfg = settings(args, env)
    started = time.monotonic()
    now = now or datetime.now(timezone.utc)
    version = resolve_alias(cfg["tracking_uri"], args.model, args.alias, cfg["username"], cfg["password"])
    log.info("models:/%s@%s is version %s", args.model, args.alias, version)
    if s3 is None:
        import boto3  # only the check needs it

        s3 = boto3.client("s3")
    try:
        profile = validate_profile(read_profile(s3, cfg["reference_prefix"], version))
    except ProfileError as e:
        raise SourceError(f"the reference profile of version {version} is invalid: {e}") from e
    records, stats = read_window(s3, cfg["log_uri"], args.model, version, now - timedelta(hours=args.window_hours), now)
    log.info("read %d records of version %s from %d log objects (%d of other versions, %d malformed lines)", len(records), version, stats["objects"], stats["other_versions"], stats["malformed"])

    labels = {"model": args.model, "version": version, "team": cfg["team"]}
    samples = []
    if len(records) >= args.min_records:
        for feature, (score, missing) in score_window(profile, records).items():
            samples.append((metrics.DRIFT_SCORE, {**labels, "feature": feature, "method": "psi"}, score))
            samples.append((metrics.MISSING_RATIO, {**labels, "feature": feature}, missing))
            log.info("%s: psi %.4f, missing %.4f", feature, score, missing)
    else:
        log.warning("only %d records of version %s in the last %d hours (at least %d needed): no scores pushed", len(records), version, args.window_hours, args.min_records)
    samples += [
        (metrics.LAST_SUCCESS, labels, time.time()),
        (metrics.EXPECTED_INTERVAL, labels, cfg["interval"]),
        (metrics.ROWS_SCORED, labels, len(records)),
        (metrics.DURATION, labels, time.monotonic() - started),
    ]
    body = metrics.exposition(samples, cfg["drift_metric"])
    metrics.push(cfg["gateway"], cfg["job"], cfg["namespace"], body)
    log.info("pushed %d series to %s", len(samples), metrics.group_url(cfg["gateway"], cfg["job"], cfg["namespace"]))
    return body


def write_profile(args):
    with open(args.input, encoding="utf-8") as f:
        records = [json.loads(line) for line in f if line.strip()]
    profile = validate_profile(build_profile(records, args.bins, args.max_categories))
    with open(args.output, "w", encoding="utf-8") as f:
        json.dump(profile, f, indent=2, sort_keys=True)
    log.info("profiled %d records, %d features, into %s", len(records), len(profile["features"]), args.output)


def main(argv=None, env=None):
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    try:
        args = parse_args(sys.argv[1:] if argv is None else argv)
        if args.command == "profile":
            write_profile(args)
        else:
            check(args, os.environ if env is None else env)
    except UsageError as e:
        log.error("%s", e)
        return 2
    except (SourceError, ProfileError, metrics.PushError) as e:
        log.error("%s", e)
        return 1
    except Exception:
        log.exception("the drift check failed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
