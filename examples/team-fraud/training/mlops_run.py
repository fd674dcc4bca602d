"""The TrainingJob entrypoint contract, for a training image (copy this file into it).

A TrainingJob (components/team/trainingJob.ts) sets the environment variables of TRAINING_ENV
(components/contract/training.ts): what the run is (code, environment, data, parameters) and where it
logs. This module turns them into an MLflow run that carries its reproducibility note:

- tags ``mlops.*`` (team, job, git commit and repository, image, data remote, path, rev or md5, the data
  reference) and MLflow's own ``mlflow.source.git.commit``;
- params: the run's parameters (``MLOPS_PARAMS_JSON``);
- at the end, the artifact ``reproducibility.json``: code, environment, data, parameters, and the run's
  metrics and artifacts as MLflow recorded them.

``fetch_data()`` downloads the data pinned by md5 from the team's DVC remote (DVC 3's layout
``files/md5/<2 hex>/<30 hex>``) with the pod's AWS identity and checks its md5; a directory (``.dir``) or
a ``rev`` pin is left to ``dvc get`` (DVC in the image).

    with training_run() as run:
        path = fetch_data()
        params = parameters()
        ...train, mlflow.log_metric(...), mlflow.<flavor>.log_model(..., registered_model_name=registered_model())
"""
import contextlib
import hashlib
import json
import os
from urllib.parse import urlparse

import mlflow

ENV = {
    "team": "MLOPS_TEAM",
    "job": "MLOPS_JOB",
    "git_repository": "MLOPS_GIT_REPOSITORY",
    "git_commit": "MLOPS_GIT_COMMIT",
    "image": "MLOPS_IMAGE",
    "data_remote": "MLOPS_DATA_REMOTE",
    "data_path": "MLOPS_DATA_PATH",
    "data_rev": "MLOPS_DATA_REV",
    "data_md5": "MLOPS_DATA_MD5",
    "data_ref": "MLOPS_DATA_REF",
    "params_json": "MLOPS_PARAMS_JSON",
    "experiment": "MLFLOW_EXPERIMENT_NAME",
    "registered_model": "MLOPS_REGISTERED_MODEL",
}

TAGS = {
    "team": "mlops.team",
    "job": "mlops.job",
    "git_repository": "mlops.git.repository",
    "git_commit": "mlops.git.commit",
    "image": "mlops.image",
    "data_remote": "mlops.data.remote",
    "data_path": "mlops.data.path",
    "data_rev": "mlops.data.rev",
    "data_md5": "mlops.data.md5",
    "data_ref": "mlops.data.ref",
}

REQUIRED = ("team", "job", "git_commit", "image", "data_remote", "data_path", "data_ref", "params_json", "experiment")


def _env(key, environ=None):
    return (environ if environ is not None else os.environ).get(ENV[key])


def parameters(environ=None):
    """The run's parameters (a dict), from MLOPS_PARAMS_JSON."""
    return json.loads(_env("params_json", environ) or "{}")


def registered_model(environ=None):
    """The registered model to register the run's model as, or None."""
    return _env("registered_model", environ)


def note(environ=None):
    """The reproducibility note's code, environment, data and parameters, from the environment."""
    missing = [ENV[k] for k in REQUIRED if not _env(k, environ)]
    if missing:
        raise RuntimeError(f"not run by a TrainingJob: {', '.join(missing)} unset")
    return {
        "code": {"git_commit": _env("git_commit", environ), "git_repository": _env("git_repository", environ)},
        "environment": {"image": _env("image", environ)},
        "data": {
            "remote": _env("data_remote", environ),
            "path": _env("data_path", environ),
            "rev": _env("data_rev", environ),
            "md5": _env("data_md5", environ),
            "ref": _env("data_ref", environ),
        },
        "parameters": parameters(environ),
        "run": {"team": _env("team", environ), "job": _env("job", environ), "experiment": _env("experiment", environ)},
    }


def _tags(environ=None):
    tags = {tag: _env(key, environ) for key, tag in TAGS.items() if _env(key, environ)}
    tags["mlflow.source.git.commit"] = _env("git_commit", environ)
    return tags


@contextlib.contextmanager
def training_run():
    """An MLflow run in the job's experiment, tagged and parametrised from the contract; on success the
    artifact reproducibility.json adds the metrics and artifacts the run recorded."""
    base = note()
    mlflow.set_experiment(base["run"]["experiment"])
    with mlflow.start_run(run_name=base["run"]["job"], tags=_tags()) as run:
        if base["parameters"]:
            mlflow.log_params({k: v if isinstance(v, str) else json.dumps(v) for k, v in base["parameters"].items()})
        yield run
        client = mlflow.MlflowClient()
        data = client.get_run(run.info.run_id).data
        artifacts = sorted(_artifacts(client, run.info.run_id))
        mlflow.log_dict({**base, "metrics": dict(sorted(data.metrics.items())), "artifacts": artifacts}, "reproducibility.json")


def _artifacts(client, run_id, path=None):
    for f in client.list_artifacts(run_id, path):
        if f.is_dir:
            yield from _artifacts(client, run_id, f.path)
        else:
            yield f.path


def md5_object_key(remote_url, md5):
    """Bucket and key of a file in a DVC 3 remote: <prefix>/files/md5/<2 hex>/<30 hex>."""
    u = urlparse(remote_url)
    prefix = u.path.strip("/")
    return u.netloc, f"{prefix}/files/md5/{md5[:2]}/{md5[2:]}"


def fetch_data(dest_dir=None, s3=None):
    """Downloads the pinned data file (MLOPS_DATA_MD5) from the team's DVC remote and checks its md5;
    returns its local path."""
    md5 = _env("data_md5")
    if not md5 or md5.endswith(".dir"):
        raise RuntimeError("fetch_data() reads a file pinned by md5; use `dvc get --rev` for a rev or a directory")
    bucket, key = md5_object_key(_env("data_remote"), md5)
    if s3 is None:
        import boto3

        s3 = boto3.client("s3")
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    actual = hashlib.md5(body).hexdigest()
    if actual != md5:
        raise RuntimeError(f"data {_env('data_ref')}: the remote's object has md5 {actual}, not {md5}")
    dest = os.path.join(dest_dir or os.environ.get("TMPDIR", "/tmp"), "data", os.path.basename(_env("data_path")))
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    with open(dest, "wb") as f:
        f.write(body)
    return dest
