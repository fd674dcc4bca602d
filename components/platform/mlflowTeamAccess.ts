/**
 * MLflow credentials for the product teams, when MLflow basic auth is on (test, prod).
 *
 * Model servers, batch jobs and drift checks in a team's serving namespace read `MLFLOW_TRACKING_USERNAME`
 * and `MLFLOW_TRACKING_PASSWORD` from the Secret `mlflow-credentials` of their namespace (keys `username`
 * and `password`, see `mlflowEnv` in modelWorkload.ts and driftCheck.ts). Team deployers may not create
 * Secrets, so the platform delivers it. Per team: a generated password (a Pulumi secret end to end), an
 * MLflow user `team-<name>`, and that Secret in `ml-<team>`.
 *
 * The users are created (or their password set) through MLflow's auth REST API by a Job in the MLflow
 * namespace: it runs the server image's python with the admin credentials of the admin Secret
 * (secretKeyRef) and the team passwords mounted from a Secret beside it, never a literal. It is idempotent
 * (get, then create or update-password). The Job has no TTL (Pulumi would see it disappear); its name
 * carries a hash of the user list and of the passwords, so adding a team or rotating a password replaces
 * it (delete before replace) and the new Job runs again. A NetworkPolicy lets its pods out to DNS and the
 * server only; the server's policy admits them (mlflowTracking.ts, {@link MLFLOW_TEAM_USERS_SELECTOR}).
 *
 * With `metricsUser`, the same Job also creates the user Prometheus scrapes MLflow's /metrics as
 * ({@link MLFLOW_METRICS_USERNAME}, credentials in the Secret {@link MLFLOW_METRICS_SECRET} of the MLflow
 * namespace, where the ServiceMonitor is). MLflow's basic auth lets any authenticated user read /metrics,
 * so the scrape does not need the admin's credentials, which can create users and change permissions.
 */
import { createHash } from "crypto";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { MLFLOW_CREDENTIALS_SECRET } from "./driftCheck";
import { containerResources, dnsEgressRule, ephemeralStorage, restrictedContainerSecurityContext, restrictedPodSecurityContext } from "../shared/k8sHelpers";
import { mlflowTeamUsername, ORG_ANNOTATIONS, orgKey } from "../contract";
import { MLFLOW_NAME, MLFLOW_PORT, MLFLOW_TEAM_USERS_SELECTOR, MLFLOW_UID, uriSafePassword } from "./mlflowTracking";
import { type LabelContext, standardLabels } from "../shared/naming";

/** Keys of the `mlflow-credentials` Secret, as the team workloads reference them. */
export const MLFLOW_CREDENTIALS_KEYS = { username: "username", password: "password" } as const;
/** Secret in the MLflow namespace holding the team users' passwords (one key per user), read by the Job. */
export const TEAM_PASSWORDS_SECRET = `${MLFLOW_NAME}-team-passwords`;
/** Name prefix of the Job (and name of its NetworkPolicy). */
export const TEAM_USERS_JOB_PREFIX = `${MLFLOW_NAME}-team-users`;
/** Where the Job mounts the passwords Secret. */
export const TEAM_PASSWORDS_DIR = "/etc/mlflow/team-passwords";
/**
 * The one key of the passwords Secret: a JSON object user name -> password. One key, not one per user,
 * so that user names travel only inside secrets (a key of a Secret is not secret).
 */
export const TEAM_USERS_FILE = "users.json";

/** The MLflow user Prometheus scrapes /metrics as: not a team user (those are `team-<name>`), not the admin. */
export const MLFLOW_METRICS_USERNAME = "metrics-prometheus";
/** Secret in the MLflow namespace with that user's credentials (keys {@link MLFLOW_CREDENTIALS_KEYS}). */
export const MLFLOW_METRICS_SECRET = `${MLFLOW_NAME}-metrics-credentials`;

/** MLflow user name of a team (the contract's, as the server's registry namespaces read it). */
export { mlflowTeamUsername };

/** One team: its name and its serving namespace. */
export interface MlflowTeam {
    readonly name: string;
    readonly namespace: pulumi.Input<string>;
}

/** Arguments of {@link MlflowTeamAccess}. */
export interface MlflowTeamAccessArgs {
    /** Ownership labels of the stack. */
    readonly labels: LabelContext;
    /** Namespace of the MLflow server: the Job, its NetworkPolicy and the passwords Secret go there. */
    readonly mlflowNamespace: pulumi.Input<string>;
    /** In-cluster URL of the tracking server. */
    readonly trackingUri: pulumi.Input<string>;
    /** Name of the Secret with the admin credentials (keys `admin-username`, `admin-password`). */
    readonly adminSecretName: pulumi.Input<string>;
    /** The MLflow server image (it has python). */
    readonly image: pulumi.Input<string>;
    /** Pod labels of the server, the only peer the Job's pods may reach. */
    readonly serverSelector: Record<string, string>;
    /** The teams of the environment (none is allowed with `metricsUser`). */
    readonly teams: readonly MlflowTeam[];
    /**
     * Also create the user Prometheus scrapes /metrics as, and the Secret {@link MLFLOW_METRICS_SECRET}
     * with its credentials in the MLflow namespace. Default false.
     */
    readonly metricsUser?: boolean;
}

/**
 * The Job's script: for each user of the JSON file `MLFLOW_TEAM_USERS_FILE` (user name -> password), `GET users/get`, then `PATCH
 * users/update-password` when it exists or `POST users/create` when not (MLflow basic-auth REST API,
 * JSON bodies). Waits for the server's /health first. Prints user names and HTTP statuses, never a
 * password or a response body. Exits non-zero on any failure, so the Job retries.
 */
export const TEAM_USERS_SCRIPT = [
    "import base64, json, os, sys, time, urllib.error, urllib.parse, urllib.request",
    'base = os.environ["MLFLOW_TRACKING_URI"].rstrip("/")',
    'creds = os.environ["MLFLOW_ADMIN_USERNAME"] + ":" + os.environ["MLFLOW_ADMIN_PASSWORD"]',
    'auth = "Basic " + base64.b64encode(creds.encode()).decode()',
    "def call(method, path, body=None, query=None):",
    '    url = base + path + ("?" + urllib.parse.urlencode(query) if query else "")',
    "    data = None if body is None else json.dumps(body).encode()",
    '    req = urllib.request.Request(url, data=data, method=method, headers={"Authorization": auth, "Content-Type": "application/json"})',
    "    try:",
    "        with urllib.request.urlopen(req, timeout=30) as resp:",
    "            return resp.status",
    "    except urllib.error.HTTPError as e:",
    "        return e.code",
    "for attempt in range(60):",
    "    try:",
    '        with urllib.request.urlopen(base + "/health", timeout=5) as resp:',
    "            if resp.status == 200:",
    "                break",
    "    except (urllib.error.URLError, OSError):",
    "        pass",
    "    time.sleep(5)",
    "else:",
    '    sys.exit("MLflow server not healthy after 5 minutes")',
    "failed = []",
    'with open(os.environ["MLFLOW_TEAM_USERS_FILE"]) as f:',
    "    passwords = json.load(f)",
    "for user in sorted(passwords):",
    "    password = passwords[user]",
    '    body = {"username": user, "password": password}',
    '    found = call("GET", "/api/2.0/mlflow/users/get", query={"username": user})',
    "    if found == 200:",
    '        action, status = "update-password", call("PATCH", "/api/2.0/mlflow/users/update-password", body)',
    "    elif found == 404:",
    '        action, status = "create", call("POST", "/api/2.0/mlflow/users/create", body)',
    "        if status != 200:",
    '            action, status = "update-password", call("PATCH", "/api/2.0/mlflow/users/update-password", body)',
    "    else:",
    '        action, status = "get", found',
    '    print(f"{user}: {action} -> HTTP {status}", flush=True)',
    "    if status != 200:",
    "        failed.append(user)",
    "if failed:",
    '    sys.exit("failed: " + " ".join(failed))',
].join("\n");

/** Job name: the prefix and 10 hex of a hash of the user list and of the passwords' checksum. */
export function teamUsersJobName(usernames: readonly string[], passwordsChecksum: string): string {
    const h = createHash("sha256")
        .update([...usernames].sort().join(","))
        .update("\0")
        .update(passwordsChecksum)
        .digest("hex");
    return `${TEAM_USERS_JOB_PREFIX}-${h.slice(0, 10)}`;
}

/** Checksum of the passwords (16 hex of SHA-256): changes when any password changes, reveals none. */
export function passwordsChecksum(passwords: Readonly<Record<string, string>>): string {
    const h = createHash("sha256");
    for (const user of Object.keys(passwords).sort()) h.update(`${user}\0${passwords[user]}\0`);
    return h.digest("hex").slice(0, 16);
}

/** MLflow users for the teams, and the `mlflow-credentials` Secret in each team namespace. */
export class MlflowTeamAccess extends pulumi.ComponentResource {
    /** MLflow user name of each team, by team name. */
    public readonly usernames: Readonly<Record<string, string>>;
    /** Name of the Job that creates the users. */
    public readonly jobName: pulumi.Output<string>;
    /** The Secret (in the MLflow namespace) with the metrics user's credentials; undefined without `metricsUser`. */
    public readonly metricsSecretName: string | undefined;

    constructor(name: string, args: MlflowTeamAccessArgs, opts?: pulumi.ComponentResourceOptions) {
        validateMlflowTeamAccessArgs(args);
        super("mlops:index:MlflowTeamAccess", name, {}, opts);
        const child: pulumi.CustomResourceOptions = { parent: this };
        const ctx = args.labels;
        const jobLabels = standardLabels(ctx, { name: MLFLOW_NAME, component: MLFLOW_TEAM_USERS_SELECTOR["app.kubernetes.io/component"] });

        const usernames: Record<string, string> = {};
        const passwords: Record<string, pulumi.Output<string>> = {};
        for (const team of args.teams) {
            const username = mlflowTeamUsername(team.name);
            usernames[team.name] = username;
            const password = new random.RandomPassword(`${name}-${team.name}-password`, { ...uriSafePassword(32), keepers: { team: team.name } }, child);
            passwords[username] = password.result;
            new k8s.core.v1.Secret(
                `${name}-${team.name}-credentials`,
                {
                    metadata: {
                        name: MLFLOW_CREDENTIALS_SECRET,
                        namespace: team.namespace,
                        labels: standardLabels(
                            { ...ctx, owner: team.name },
                            { name: MLFLOW_CREDENTIALS_SECRET, component: "mlflow-credentials", team: team.name },
                        ),
                    },
                    type: "Opaque",
                    stringData: pulumi.secret({ [MLFLOW_CREDENTIALS_KEYS.username]: username, [MLFLOW_CREDENTIALS_KEYS.password]: password.result }),
                },
                child,
            );
        }
        this.usernames = usernames;
        if (args.metricsUser) {
            const password = new random.RandomPassword(`${name}-metrics-password`, { ...uriSafePassword(32), keepers: { role: "metrics" } }, child);
            passwords[MLFLOW_METRICS_USERNAME] = password.result;
            new k8s.core.v1.Secret(
                `${name}-metrics-credentials`,
                {
                    metadata: {
                        name: MLFLOW_METRICS_SECRET,
                        namespace: args.mlflowNamespace,
                        labels: standardLabels(ctx, { name: MLFLOW_METRICS_SECRET, component: "metrics-credentials" }),
                    },
                    type: "Opaque",
                    stringData: pulumi.secret({
                        [MLFLOW_CREDENTIALS_KEYS.username]: MLFLOW_METRICS_USERNAME,
                        [MLFLOW_CREDENTIALS_KEYS.password]: password.result,
                    }),
                },
                child,
            );
        }
        this.metricsSecretName = args.metricsUser ? MLFLOW_METRICS_SECRET : undefined;
        const userList = Object.keys(passwords).sort();

        const passwordsSecret = new k8s.core.v1.Secret(
            `${name}-passwords`,
            {
                metadata: { name: TEAM_PASSWORDS_SECRET, namespace: args.mlflowNamespace, labels: jobLabels },
                type: "Opaque",
                stringData: pulumi.secret({ [TEAM_USERS_FILE]: pulumi.jsonStringify(passwords) }),
            },
            child,
        );

        // A checksum of the passwords, not a secret: it names the Job, so a rotated password runs it again.
        const checksum = pulumi.unsecret(pulumi.all(passwords).apply((p) => passwordsChecksum(p)));
        this.jobName = checksum.apply((c) => teamUsersJobName(userList, c));

        new k8s.networking.v1.NetworkPolicy(
            `${name}-network-policy`,
            {
                metadata: { name: TEAM_USERS_JOB_PREFIX, namespace: args.mlflowNamespace, labels: jobLabels },
                spec: {
                    podSelector: { matchLabels: { ...MLFLOW_TEAM_USERS_SELECTOR } },
                    policyTypes: ["Ingress", "Egress"],
                    ingress: [],
                    egress: [dnsEgressRule(), { to: [{ podSelector: { matchLabels: args.serverSelector } }], ports: [{ protocol: "TCP", port: MLFLOW_PORT }] }],
                },
            },
            child,
        );

        const adminKey = (key: string): k8s.types.input.core.v1.EnvVarSource => ({ secretKeyRef: { name: args.adminSecretName, key } });
        new k8s.batch.v1.Job(
            `${name}-job`,
            {
                metadata: { name: this.jobName, namespace: args.mlflowNamespace, labels: jobLabels },
                spec: {
                    // No ttlSecondsAfterFinished: Pulumi would see the Job vanish and recreate it.
                    backoffLimit: 3,
                    activeDeadlineSeconds: 900,
                    template: {
                        metadata: {
                            labels: jobLabels,
                            annotations: {
                                // Team names, not user names: those stay inside the Secrets.
                                [orgKey(ctx.labelDomain, ORG_ANNOTATIONS.teams)]: args.teams
                                    .map((t) => t.name)
                                    .sort()
                                    .join(","),
                                [orgKey(ctx.labelDomain, ORG_ANNOTATIONS.passwordsChecksum)]: checksum,
                            },
                        },
                        spec: {
                            restartPolicy: "Never",
                            automountServiceAccountToken: false,
                            enableServiceLinks: false,
                            securityContext: restrictedPodSecurityContext(MLFLOW_UID),
                            containers: [
                                {
                                    name: "create-users",
                                    image: args.image,
                                    command: ["python", "-c", TEAM_USERS_SCRIPT],
                                    env: [
                                        { name: "HOME", value: "/tmp" },
                                        { name: "MLFLOW_TRACKING_URI", value: args.trackingUri },
                                        { name: "MLFLOW_ADMIN_USERNAME", valueFrom: adminKey("admin-username") },
                                        { name: "MLFLOW_ADMIN_PASSWORD", valueFrom: adminKey("admin-password") },
                                        { name: "MLFLOW_TEAM_USERS_FILE", value: `${TEAM_PASSWORDS_DIR}/${TEAM_USERS_FILE}` },
                                    ],
                                    resources: containerResources(
                                        { cpuRequest: "50m", memoryRequest: "128Mi", cpuLimit: "500m", memoryLimit: "256Mi" },
                                        ephemeralStorage("64Mi", ["64Mi"]),
                                    ),
                                    securityContext: restrictedContainerSecurityContext(MLFLOW_UID),
                                    volumeMounts: [
                                        { name: "tmp", mountPath: "/tmp" },
                                        { name: "team-passwords", mountPath: TEAM_PASSWORDS_DIR, readOnly: true },
                                    ],
                                },
                            ],
                            volumes: [
                                { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
                                { name: "team-passwords", secret: { secretName: passwordsSecret.metadata.name, defaultMode: 0o440 } },
                            ],
                        },
                    },
                },
            },
            { parent: this, deleteBeforeReplace: true },
        );

        this.registerOutputs({ jobName: this.jobName, metricsSecretName: this.metricsSecretName });
    }
}

/** Checks the arguments before anything is registered. */
export function validateMlflowTeamAccessArgs(args: MlflowTeamAccessArgs): void {
    const problems: string[] = [];
    if (args.teams.length === 0 && !args.metricsUser) problems.push("teams must name at least one team (or metricsUser must be true)");
    const seen = new Set<string>();
    for (const t of args.teams) {
        if (!/^[a-z][a-z0-9-]{0,18}[a-z0-9]$/.test(t.name))
            problems.push(`team "${t.name}" must be 2-20 lower-case letters, digits and -, starting with a letter`);
        if (seen.has(t.name)) problems.push(`team "${t.name}" is listed twice`);
        seen.add(t.name);
    }
    if (problems.length > 0) throw new Error(`MlflowTeamAccess: ${problems.join("; ")}.`);
}
