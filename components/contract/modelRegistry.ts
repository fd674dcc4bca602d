/**
 * Registered models as the platform names them (docs/registry-conventions.md): model names, versions and
 * `models:/` URIs, as ModelService and BatchInference take them and the `model-version-pinned` policy
 * reads them on a workload.
 */

/** Team names, as in `mlops:teams[].name`: they become namespace, role and model name parts. */
export const TEAM_NAME = /^[a-z][a-z0-9-]{0,18}[a-z0-9]$/;
/** Prefix of a team's MLflow user name: the user of team `fraud` is `team-fraud` (with basic auth on). */
export const MLFLOW_TEAM_USER_PREFIX = "team-";
/** MLflow user name of a team. */
export function mlflowTeamUsername(team: string): string {
    return `${MLFLOW_TEAM_USER_PREFIX}${team}`;
}
/**
 * A team's namespace in the registry: its registered model names start with `<team>-`. ModelService and
 * BatchInference check it on the names a team deploys; the MLflow server enforces it when a team user
 * creates, registers a version of or renames a model (components/platform/mlflowRegistryNamespaces.ts).
 */
export function teamModelPrefix(team: string): string {
    return `${team}-`;
}
/** Longest registered model name: it becomes part of object names and label values. */
export const MODEL_NAME_MAX = 40;
/** Registered model names: lower-case letters, digits and `-`, alphanumeric at both ends. */
export const MODEL_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** MLflow registry aliases. */
export const MODEL_ALIAS = /^[a-z][a-z0-9_-]{0,62}$/;
/** MLflow's deprecated stages: never a version. */
export const REGISTRY_STAGES = ["production", "staging", "archived", "none"] as const;
/** A URI that pins a version, `models:/<name>/<number>`: group 1 the name, group 2 the version. */
export const PINNED_MODEL_URI = /^models:\/([^/@]+)\/(\d+)$/;
/** The environment variable that tells a model server or batch job which model to load. */
export const MODEL_URI_ENV = "MODEL_URI";

/** Is `v` a registered model version (a positive integer)? */
export function isModelVersion(v: unknown): v is number {
    return typeof v === "number" && Number.isSafeInteger(v) && v >= 1;
}

/** `models:/<name>/<version>`: the pinned registry URI of a version. */
export function modelVersionUri(name: string, version: number): string {
    return `models:/${name}/${version}`;
}

/** A parsed registry URI: a pinned version, or an alias resolved when the server loads it. */
export type ModelRef = { readonly name: string; readonly version: number } | { readonly name: string; readonly alias: string };

/** Thrown for a malformed `models:/` URI. */
class ModelUriError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "ModelUriError";
    }
}

const STAGE = new RegExp(`^(${REGISTRY_STAGES.join("|")})$`, "i");

/**
 * Parses `models:/<name>/<version>` or `models:/<name>@<alias>`.
 * @throws ModelUriError saying what is wrong and what a good URI looks like.
 */
export function parseModelUri(uri: string): ModelRef {
    const bad = (why: string) => new ModelUriError(`model URI "${uri}" ${why}`);
    const m = /^models:\/([^/@]+)(?:\/([^/@]+)|@([^/@]+))$/.exec(uri);
    if (!m) throw bad("is malformed: expected models:/<name>/<version> or models:/<name>@<alias>");
    const [, name, version, alias] = m;
    if (!MODEL_NAME.test(name)) throw bad(`names "${name}", which is not a registered model name (lower-case letters, digits and -)`);
    if (alias !== undefined) {
        if (!MODEL_ALIAS.test(alias)) throw bad(`has an invalid alias "${alias}" (lower-case letters, digits, _ and -, starting with a letter)`);
        return { name, alias };
    }
    if (STAGE.test(version)) throw bad(`names the stage "${version}": stages are not used, pin models:/${name}/<version>`);
    if (/^latest$/i.test(version)) throw bad(`names "latest", which moves: pin models:/${name}/<version>`);
    if (!/^\d+$/.test(version) || !isModelVersion(Number(version))) throw bad(`has version "${version}"; a version is a positive integer`);
    return { name, version: Number(version) };
}
