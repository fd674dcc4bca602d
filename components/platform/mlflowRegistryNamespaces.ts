/**
 * Registry namespaces per team, enforced by the MLflow server (basic auth on: test, prod).
 *
 * MLflow's basic-auth app gives the creator of a registered model MANAGE on it and everyone else the
 * default permission (READ or NO_PERMISSIONS here), so a team can edit only the models it created. What
 * it does not govern is the name: any signed-in user may create any registered model name, including one
 * meant for another team. The platform closes that with the basic-auth app's own hook: the
 * `authorization_function` of `basic_auth.ini`, which MLflow calls on every request to authenticate it
 * and which may answer with a response of its own. Ours ({@link REGISTRY_NAMESPACES_MODULE}) authenticates
 * exactly as basic auth does, then, for the requests that create a name or add to one
 * (CreateRegisteredModel, CreateModelVersion, RenameRegisteredModel's new name; MLflow's REST and ajax
 * paths, taken from MLflow's own endpoint table), lets a user who is not an admin through only when the
 * name is in its team's namespace: user `team-<team>` ({@link mlflowTeamUsername}) creates and registers
 * `<team>-<model>` ({@link teamModelPrefix}) in the registry's name format. Everything else is refused
 * with HTTP 403 `PERMISSION_DENIED` and a message naming the user, the name and the namespace. Admins
 * (the platform's automation) are not restricted.
 *
 * The module and its rules (rendered from the contract, written nowhere else) are a ConfigMap whose name
 * carries a hash of its content: a change replaces it and rolls the server pods. It is mounted read-only
 * at {@link REGISTRY_NAMESPACES_DIR}, which the server's `PYTHONPATH` names.
 */
import { createHash } from "crypto";
import { MLFLOW_TEAM_USER_PREFIX, MODEL_NAME, MODEL_NAME_MAX, TEAM_NAME, mlflowTeamUsername, teamModelPrefix } from "../contract";

/** Python module name of the authorization function. */
export const REGISTRY_NAMESPACES_MODULE_NAME = "mlops_registry_namespaces";
/** The `authorization_function` of `basic_auth.ini` with namespaces on. */
export const REGISTRY_NAMESPACES_AUTH_FUNCTION = `${REGISTRY_NAMESPACES_MODULE_NAME}:authenticate_request`;
/** Where the server mounts the ConfigMap (and what its `PYTHONPATH` is). */
export const REGISTRY_NAMESPACES_DIR = "/etc/mlflow/registry-namespaces";
/** File of the rules, beside the module. */
export const REGISTRY_NAMESPACES_RULES_FILE = "registry_namespaces.json";
/** Name prefix of the ConfigMap (the rest is a hash of its content). */
export const REGISTRY_NAMESPACES_CONFIGMAP_PREFIX = "mlflow-registry-namespaces";

/** The rules the server applies, as the module reads them. */
export interface RegistryNamespaceRules {
    /** Python regular expression of a team user name; group 1 is the team. */
    readonly teamUserPattern: string;
    /** A team user name as people read it. */
    readonly teamUserExample: string;
    /** The namespace of a team: `{team}` replaced by the team. */
    readonly modelNamePrefix: string;
    /** Python regular expression a registered model name matches in full. */
    readonly modelNamePattern: string;
    /** Longest registered model name. */
    readonly modelNameMax: number;
    /** Where people read the conventions. */
    readonly conventions: string;
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const unanchored = (r: RegExp) => r.source.replace(/^\^/, "").replace(/\$$/, "");

/** The rules, from the contract: team user names, the team prefix and the model name format. */
export function registryNamespaceRules(): RegistryNamespaceRules {
    return {
        teamUserPattern: `^${escapeRegex(MLFLOW_TEAM_USER_PREFIX)}(${unanchored(TEAM_NAME)})$`,
        teamUserExample: mlflowTeamUsername("<team>"),
        modelNamePrefix: teamModelPrefix("{team}"),
        modelNamePattern: MODEL_NAME.source,
        modelNameMax: MODEL_NAME_MAX,
        conventions: "docs/registry-conventions.md",
    };
}

/**
 * The authorization function (Python, MLflow 3.1 basic auth). Authenticates as
 * `mlflow.server.auth.authenticate_request_basic_auth` does (its 401 is returned as it is); for a guarded
 * request by a user who is not an admin, reads the name from the JSON body (decoded twice when a client
 * double-encoded it, as MLflow's handlers do; no name is refused) and returns a 403 JSON
 * response (`error_code` PERMISSION_DENIED, so MLflow's clients raise it with the message) unless the
 * name is in the user's namespace. MLflow calls the function again from its permission checks and
 * after-request handlers within the same request: the decision is kept in `flask.g`. Logs each refusal
 * (user and name, never a credential).
 */
export const REGISTRY_NAMESPACES_MODULE = `"""Registry namespaces per team: MLflow basic auth's authorization_function (mlops platform).

Rendered by components/mlflowRegistryNamespaces.ts; the rules are in registry_namespaces.json beside it.
"""
import json
import logging
import os
import re

from flask import Response, g, make_response, request
from mlflow.protos.model_registry_pb2 import CreateModelVersion, CreateRegisteredModel, RenameRegisteredModel
from mlflow.server import auth as basic_auth
from mlflow.server.handlers import get_endpoints

_logger = logging.getLogger(__name__)

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "${REGISTRY_NAMESPACES_RULES_FILE}")) as f:
    RULES = json.load(f)
TEAM_USER = re.compile(RULES["teamUserPattern"])
MODEL_NAME = re.compile(RULES["modelNamePattern"])

# The requests that create a registered model name or add to one, and the field naming the model.
_NAME_FIELD = {CreateRegisteredModel: "name", CreateModelVersion: "name", RenameRegisteredModel: "new_name"}
GUARDED = {
    (path, method): field
    for path, field, methods in get_endpoints(lambda request_class: _NAME_FIELD.get(request_class))
    for method in methods
    if isinstance(field, str)
}


def namespace_problem(username, name):
    """Why the user may not create, register or rename to the name; None when it may."""
    m = TEAM_USER.fullmatch(username or "")
    if m is None:
        return (
            f"user '{username}' is not a team user ({RULES['teamUserExample']}): only team users, in their team's"
            f" namespace, and admins create, register or rename registered models ({RULES['conventions']})"
        )
    team = m.group(1)
    prefix = RULES["modelNamePrefix"].replace("{team}", team)
    if not isinstance(name, str) or not name.startswith(prefix):
        return (
            f"user '{username}' may create, register and rename registered models only in team {team}'s"
            f" namespace, names starting with '{prefix}'; '{name}' is not in it ({RULES['conventions']})"
        )
    if MODEL_NAME.fullmatch(name) is None or len(name) > RULES["modelNameMax"]:
        return (
            f"registered model name '{name}' must be lower-case letters, digits and -, starting and ending with a"
            f" letter or digit, at most {RULES['modelNameMax']} characters ({RULES['conventions']})"
        )
    return None


def _deny(message):
    body = json.dumps({"error_code": "PERMISSION_DENIED", "message": message})
    return make_response(body, 403, {"Content-Type": "application/json"})


def authenticate_request():
    authorization = basic_auth.authenticate_request_basic_auth()
    if isinstance(authorization, Response):
        return authorization
    field = GUARDED.get((request.path, request.method))
    if field is None:
        return authorization
    if "mlops_registry_namespace" not in g:
        problem = None
        if not basic_auth.store.get_user(authorization.username).is_admin:
            body = request.get_json(force=True, silent=True)
            if isinstance(body, str):
                # As MLflow reads it: older clients post their JSON double-encoded.
                try:
                    body = json.loads(body)
                except ValueError:
                    body = None
            problem = namespace_problem(authorization.username, body.get(field) if isinstance(body, dict) else None)
            if problem:
                _logger.warning("registry namespaces: refused %s %s: %s", request.method, request.path, problem)
        g.mlops_registry_namespace = problem
    return _deny(g.mlops_registry_namespace) if g.mlops_registry_namespace else authorization
`;

/** The ConfigMap's data: the module and its rules. */
export function registryNamespacesFiles(): Record<string, string> {
    return {
        [`${REGISTRY_NAMESPACES_MODULE_NAME}.py`]: REGISTRY_NAMESPACES_MODULE,
        [REGISTRY_NAMESPACES_RULES_FILE]: `${JSON.stringify(registryNamespaceRules(), null, 2)}\n`,
    };
}

/** The ConfigMap's name: the prefix and 10 hex of a SHA-256 of its files. */
export function registryNamespacesConfigMapName(files: Readonly<Record<string, string>> = registryNamespacesFiles()): string {
    const h = createHash("sha256");
    for (const key of Object.keys(files).sort()) h.update(`${key}\0${files[key]}\0`);
    return `${REGISTRY_NAMESPACES_CONFIGMAP_PREFIX}-${h.digest("hex").slice(0, 10)}`;
}
