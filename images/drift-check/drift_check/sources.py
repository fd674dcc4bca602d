"""Where the drift check reads from: the model registry (MLflow's REST API), the reference profile and
the prediction logs (S3). The S3 client comes from boto3's default chain: in the cluster, the web
identity of the pod's service account (IRSA)."""

import base64
import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone

log = logging.getLogger("drift-check")

#: Name of the reference profile under <reference prefix><version>/reference/.
PROFILE_NAME = "profile.json"


class SourceError(RuntimeError):
    """A source could not be read."""


def split_s3_uri(uri):
    """s3://bucket/prefix/ -> (bucket, prefix)."""
    if not uri.startswith("s3://"):
        raise SourceError(f"{uri!r} is not an s3:// URI")
    bucket, _, prefix = uri[len("s3://"):].partition("/")
    if not bucket:
        raise SourceError(f"{uri!r} names no bucket")
    return bucket, prefix


def resolve_alias(tracking_uri, model, alias, username=None, password=None, timeout=30):
    """The version `models:/<model>@<alias>` points at, from MLflow's registry REST API."""
    query = urllib.parse.urlencode({"name": model, "alias": alias})
    url = f"{tracking_uri.rstrip('/')}/api/2.0/mlflow/registered-models/alias?{query}"
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    if username:
        token = base64.b64encode(f"{username}:{password or ''}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = json.load(response)
    except urllib.error.HTTPError as e:
        raise SourceError(f"MLflow answered {e.code} for models:/{model}@{alias}: {e.read()[:300].decode(errors='replace')}") from e
    except (urllib.error.URLError, OSError, ValueError) as e:
        raise SourceError(f"cannot resolve models:/{model}@{alias} at {tracking_uri}: {e}") from e
    version = (body.get("model_version") or {}).get("version")
    if not version:
        raise SourceError(f"MLflow returned no version for models:/{model}@{alias}")
    return str(version)


def read_profile(s3, reference_uri_prefix, version):
    """The reference profile of a version: <reference prefix><version>/reference/profile.json."""
    bucket, prefix = split_s3_uri(reference_uri_prefix)
    key = f"{prefix}{version}/reference/{PROFILE_NAME}"
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except Exception as e:  # botocore's ClientError and network errors alike
        raise SourceError(f"cannot read the reference profile s3://{bucket}/{key}: {e}") from e
    try:
        return json.loads(body)
    except ValueError as e:
        raise SourceError(f"the reference profile s3://{bucket}/{key} is not JSON: {e}") from e


def _parse_ts(value):
    ts = datetime.fromisoformat(value)
    return ts if ts.tzinfo else ts.replace(tzinfo=timezone.utc)


def _object_time(prefix, key):
    """Flush time from a log key <prefix>date=YYYY-MM-DD/HHMMSS-<id>.jsonl, or None for other keys."""
    rest = key[len(prefix):]
    if not rest.startswith("date=") or not rest.endswith(".jsonl"):
        return None
    try:
        day, name = rest[len("date="):].split("/", 1)
        return datetime.strptime(f"{day} {name[:6]}", "%Y-%m-%d %H%M%S").replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def read_window(s3, log_uri, model, version, start, end):
    """Records of `model` `version` logged in [start, end] under the log prefix.

    Log objects are written by the model server as <prefix>date=YYYY-MM-DD/HHMMSS-<id>.jsonl at flush
    time, after every record they hold: objects flushed before `start` are not read. Returns (records,
    stats) where stats counts the objects read, records of other versions and lines that are not records.
    """
    bucket, prefix = split_s3_uri(log_uri)
    stats = {"objects": 0, "other_versions": 0, "malformed": 0}
    records = []
    day = start.date()
    while day <= end.date():
        paginator = s3.get_paginator("list_objects_v2")
        try:
            pages = list(paginator.paginate(Bucket=bucket, Prefix=f"{prefix}date={day:%Y-%m-%d}/"))
        except Exception as e:
            raise SourceError(f"cannot list s3://{bucket}/{prefix}date={day:%Y-%m-%d}/: {e}") from e
        for page in pages:
            for obj in page.get("Contents", []):
                flushed = _object_time(prefix, obj["Key"])
                if flushed is None or flushed < start.replace(microsecond=0):
                    continue
                try:
                    body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read().decode("utf-8")
                except Exception as e:
                    raise SourceError(f"cannot read s3://{bucket}/{obj['Key']}: {e}") from e
                stats["objects"] += 1
                for line in body.splitlines():
                    if not line.strip():
                        continue
                    try:
                        record = json.loads(line)
                        ts = _parse_ts(record["ts"])
                    except (ValueError, KeyError, TypeError):
                        stats["malformed"] += 1
                        continue
                    if not isinstance(record, dict) or not isinstance(record.get("input"), dict):
                        stats["malformed"] += 1
                        continue
                    if not start <= ts <= end or record.get("model") != model:
                        continue
                    if str(record.get("version")) != version:
                        stats["other_versions"] += 1
                        continue
                    records.append(record)
        day += timedelta(days=1)
    return records, stats
