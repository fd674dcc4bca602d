/**
 * Data versioning and training runs: where a team's DVC remote lives in the artifact bucket, the
 * identity that reaches it, and the entrypoint contract of a TrainingJob (the environment variables the
 * component sets and the MLflow tags and parameters a run records from them, its reproducibility note).
 * The platform stack (ServingNamespace) creates the prefix's identity; TrainingJob and the team's DVC
 * projects refer to them; images/training-entrypoint (the helper) and the e2e tier read the same names.
 */

/** Name of the team's DVC remote in `.dvc/config` (the snippet the platform exports names it so). */
export const DVC_REMOTE_NAME = "platform";

/** S3 prefix of a team's DVC remote: `teams/<team>/dvc` (read and written by its training identity only). */
export function dvcPrefix(team: string): string {
    return `teams/${team}/dvc`;
}

/** Service account of a team's training runs (TrainingJob): its IRSA role reads and writes the team's DVC remote. */
export const TRAINING_SERVICE_ACCOUNT = "training";

/**
 * Environment variables a TrainingJob sets: what the run is (code, environment, data, parameters) and
 * where it logs. A training image logs them to its MLflow run (the helper `mlops_run.py` does), so the
 * run carries its reproducibility note.
 */
export const TRAINING_ENV = {
    /** The team and the job (object name). */
    team: "MLOPS_TEAM",
    job: "MLOPS_JOB",
    /** Code: the git repository (optional) and the full 40-hex commit the image was built from. */
    gitRepository: "MLOPS_GIT_REPOSITORY",
    gitCommit: "MLOPS_GIT_COMMIT",
    /** Environment: the image, pinned by digest. */
    image: "MLOPS_IMAGE",
    /** Data: the DVC remote URL, the path in the data repository, and the git revision or DVC md5 that pins it. */
    dataRemote: "MLOPS_DATA_REMOTE",
    dataPath: "MLOPS_DATA_PATH",
    dataRev: "MLOPS_DATA_REV",
    dataMd5: "MLOPS_DATA_MD5",
    /** The data reference as one string: `<remote>/<path>@rev:<rev>` or `<remote>/<path>@md5:<md5>`. */
    dataRef: "MLOPS_DATA_REF",
    /** Parameters: a JSON object of the run's parameters (names sorted). */
    paramsJson: "MLOPS_PARAMS_JSON",
    /** MLflow: the experiment, and the registered model the run's model is registered as (optional). */
    experiment: "MLFLOW_EXPERIMENT_NAME",
    registeredModel: "MLOPS_REGISTERED_MODEL",
} as const;

/**
 * MLflow run tags of the reproducibility note (the helper sets them from {@link TRAINING_ENV}); the
 * parameters become MLflow params, the metrics and artifacts are what the script logs.
 */
export const TRAINING_TAGS = {
    team: "mlops.team",
    job: "mlops.job",
    gitRepository: "mlops.git.repository",
    gitCommit: "mlops.git.commit",
    image: "mlops.image",
    dataRemote: "mlops.data.remote",
    dataPath: "mlops.data.path",
    dataRev: "mlops.data.rev",
    dataMd5: "mlops.data.md5",
    dataRef: "mlops.data.ref",
    /** MLflow's own tag of the source commit (shown in its UI). */
    mlflowGitCommit: "mlflow.source.git.commit",
} as const;

/** The data reference as one string, the `MLOPS_DATA_REF` value: `<remote>/<path>@rev:<rev>` or `@md5:<md5>`. */
export function dataRefString(remote: string, path: string, pin: { rev: string } | { md5: string }): string {
    const base = `${remote.replace(/\/+$/, "")}/${path.replace(/^\/+/, "")}`;
    return "rev" in pin ? `${base}@rev:${pin.rev}` : `${base}@md5:${pin.md5}`;
}
