/**
 * A team's TensorBoard, in the team's serving namespace: it reads the team's training-run logs from
 * `s3://<bucket>/teams/<team>/tensorboard/` with a read-only identity (an IRSA role with s3:ListBucket on
 * that prefix, s3:GetObject under it, and decryption with the bucket's key), and is reached only through
 * a signing-in proxy (images/tensorboard/auth_proxy.py, HTTP basic auth with a generated password kept
 * in the `tensorboard-credentials` Secret). TensorBoard itself listens on the pod's loopback; the Service
 * exposes the proxy's port only.
 *
 * Why the team's namespace rather than a platform one: the logs, the quota and the people are the
 * team's; the namespace's default-deny policies already admit only the gateway (and Prometheus) on the
 * `http` port and let pods reach S3 over HTTPS and nothing else; the team's deployers cannot read the
 * Secret (their Role has no Secrets) and get the password from the platform's stack output.
 */
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { ResourceSettings } from "../shared/resources";
import {
    SERVING_PORT_NAME,
    TENSORBOARD_CREDENTIALS_SECRET,
    TENSORBOARD_NAME,
    TENSORBOARD_PORT,
    TENSORBOARD_SERVICE_ACCOUNT,
    tensorboardLogPrefix,
} from "../contract";
import { irsaTrustPolicy, type PolicyDocument } from "./iam";
import { normalizePrefix } from "../shared/s3Prefix";
import { containerResources, ephemeralStorage, restrictedContainerSecurityContext, restrictedPodSecurityContext } from "../shared/k8sHelpers";
import { uriSafePassword } from "./mlflowTracking";
import { type LabelContext, selectorLabels, standardLabels } from "../shared/naming";

/** uid/gid of the `tensorboard` user of images/tensorboard/Dockerfile. */
export const TENSORBOARD_UID = 10001;
/** Loopback port of TensorBoard inside the pod (only the proxy reaches it). */
export const TENSORBOARD_LOOPBACK_PORT = 6006;
/** Ephemeral storage of each container: TensorBoard caches nothing on disk beyond /tmp (256Mi). */
export const TENSORBOARD_STORAGE = ephemeralStorage("128Mi", ["256Mi"]);

/** Arguments of {@link TensorBoard}. */
export interface TensorBoardArgs {
    /** Team name: logs under `teams/<team>/tensorboard/`. */
    readonly team: string;
    /** The team's serving namespace. */
    readonly namespace: pulumi.Input<string>;
    /** Ownership labels of the stack (the team becomes the owner). */
    readonly labels: LabelContext;
    /** The TensorBoard image (images/tensorboard), pinned. */
    readonly image: pulumi.Input<string>;
    /** The artifact bucket: name, ARN and KMS key. */
    readonly artifactStore: { readonly bucketName: pulumi.Input<string>; readonly bucketArn: pulumi.Input<string>; readonly kmsKeyArn: pulumi.Input<string> };
    /** ARN of the cluster's OIDC provider, trusted by the IRSA role. */
    readonly oidcProviderArn: string;
    /** Name of the IRSA role (at most 64 characters). */
    readonly roleName: string;
    /** Seconds between TensorBoard's reloads of the log directory. */
    readonly reloadIntervalSeconds: number;
    /** Replicas (each reads the logs itself); more than one gets a PodDisruptionBudget. */
    readonly replicas: number;
    /** Requests and limits of the TensorBoard container (the proxy gets a small fixed share). */
    readonly resources: ResourceSettings;
}

/** Read-only access to a team's run logs: list the prefix, get its objects, decrypt with the bucket's key. Nothing else. */
export function tensorboardReadPolicy(bucket: { bucketArn: pulumi.Input<string>; kmsKeyArn: pulumi.Input<string> }, team: string): PolicyDocument {
    const prefix = normalizePrefix(tensorboardLogPrefix(team));
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "ListRunLogs",
                Effect: "Allow",
                Action: "s3:ListBucket",
                Resource: bucket.bucketArn,
                Condition: { StringLike: { "s3:prefix": [prefix, `${prefix}/*`] } },
            },
            { Sid: "ReadRunLogs", Effect: "Allow", Action: "s3:GetObject", Resource: pulumi.interpolate`${bucket.bucketArn}/${prefix}/*` },
            { Sid: "DecryptWithBucketKey", Effect: "Allow", Action: "kms:Decrypt", Resource: bucket.kmsKeyArn },
        ],
    };
}

/**
 * TensorBoard's arguments: the team's S3 log directory, loopback only, and the slow (Python) loader,
 * which reads through TensorBoard's S3 file system (the fast Rust loader reads local paths only).
 */
export function tensorboardArgs(o: { logdir: string; reloadIntervalSeconds: number }): string[] {
    if (!/^s3:\/\/[a-z0-9][a-z0-9.-]+\/.+\/$/.test(o.logdir)) throw new Error(`logdir "${o.logdir}" must be an s3:// prefix ending in /`);
    return [
        "--logdir",
        o.logdir,
        "--host",
        "127.0.0.1",
        "--port",
        String(TENSORBOARD_LOOPBACK_PORT),
        "--load_fast",
        "false",
        "--reload_interval",
        String(o.reloadIntervalSeconds),
    ];
}

/** The proxy's arguments: listen on the Service's port, forward to TensorBoard on loopback. */
export function authProxyArgs(): string[] {
    return ["/app/auth_proxy.py", "--port", String(TENSORBOARD_PORT), "--upstream", `http://127.0.0.1:${TENSORBOARD_LOOPBACK_PORT}`];
}

/** A team's TensorBoard behind its signing-in proxy. */
export class TensorBoard extends pulumi.ComponentResource {
    /** In-cluster URL of the proxy. */
    public readonly url: pulumi.Output<string>;
    /** The sign-in user name (the team's name). */
    public readonly username: string;
    /** The sign-in password (a secret). */
    public readonly password: pulumi.Output<string>;
    /** ARN of the read-only IRSA role. */
    public readonly roleArn: pulumi.Output<string>;
    /** `s3://` prefix the team writes its run logs to. */
    public readonly logdir: pulumi.Output<string>;

    constructor(name: string, args: TensorBoardArgs, opts?: pulumi.ComponentResourceOptions) {
        if (!/^[a-z][a-z0-9-]{0,18}[a-z0-9]$/.test(args.team))
            throw new Error(`TensorBoard: team "${args.team}" must be 2-20 lower-case letters, digits and -.`);
        if (!Number.isInteger(args.reloadIntervalSeconds) || args.reloadIntervalSeconds < 5)
            throw new Error(`TensorBoard "${args.team}": reloadIntervalSeconds must be an integer of at least 5, got ${args.reloadIntervalSeconds}.`);
        if (!Number.isInteger(args.replicas) || args.replicas < 1 || args.replicas > 5)
            throw new Error(`TensorBoard "${args.team}": replicas must be an integer from 1 to 5, got ${args.replicas}.`);
        super("mlops:index:TensorBoard", name, {}, opts);
        const child: pulumi.CustomResourceOptions = { parent: this };
        const ctx: LabelContext = { ...args.labels, owner: args.team };
        const labels = standardLabels(ctx, { name: TENSORBOARD_NAME, component: "experiment-view", team: args.team });
        const selector = selectorLabels({ name: TENSORBOARD_NAME, component: "experiment-view" });
        const ns = args.namespace;

        const role = new aws.iam.Role(
            `${name}-role`,
            {
                name: args.roleName,
                description: `TensorBoard of team ${args.team}: read ${tensorboardLogPrefix(args.team)}/`,
                assumeRolePolicy: pulumi.output(ns).apply((n) => JSON.stringify(irsaTrustPolicy(args.oidcProviderArn, n, TENSORBOARD_SERVICE_ACCOUNT))),
                maxSessionDuration: 3600,
            },
            child,
        );
        new aws.iam.RolePolicy(
            `${name}-policy`,
            { name: "tensorboard-read", role: role.name, policy: pulumi.jsonStringify(tensorboardReadPolicy(args.artifactStore, args.team)) },
            child,
        );
        const account = new k8s.core.v1.ServiceAccount(
            `${name}-service-account`,
            {
                metadata: { name: TENSORBOARD_SERVICE_ACCOUNT, namespace: ns, labels, annotations: { "eks.amazonaws.com/role-arn": role.arn } },
                automountServiceAccountToken: false,
            },
            child,
        );

        const password = new random.RandomPassword(`${name}-password`, uriSafePassword(32), child);
        const credentials = new k8s.core.v1.Secret(
            `${name}-credentials`,
            {
                metadata: { name: TENSORBOARD_CREDENTIALS_SECRET, namespace: ns, labels },
                type: "Opaque",
                stringData: pulumi.secret({ username: args.team, password: password.result }),
            },
            child,
        );

        const logdir = pulumi.interpolate`s3://${args.artifactStore.bucketName}/${tensorboardLogPrefix(args.team)}/`;
        const secretEnv = (env: string, key: string): k8s.types.input.core.v1.EnvVar => ({
            name: env,
            valueFrom: { secretKeyRef: { name: credentials.metadata.name, key } },
        });
        // TensorBoard listens on loopback only: its probes run inside the container.
        const tensorboardAnswers = [
            "python",
            "-c",
            `import urllib.request; urllib.request.urlopen("http://127.0.0.1:${TENSORBOARD_LOOPBACK_PORT}/data/environment", timeout=4)`,
        ];
        const hardened = {
            imagePullPolicy: "IfNotPresent",
            securityContext: restrictedContainerSecurityContext(TENSORBOARD_UID),
            volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
        };
        new k8s.apps.v1.Deployment(
            `${name}-deployment`,
            {
                metadata: { name: TENSORBOARD_NAME, namespace: ns, labels },
                spec: {
                    replicas: args.replicas,
                    selector: { matchLabels: selector },
                    template: {
                        metadata: { labels },
                        spec: {
                            serviceAccountName: account.metadata.name,
                            automountServiceAccountToken: false,
                            enableServiceLinks: false,
                            securityContext: restrictedPodSecurityContext(TENSORBOARD_UID),
                            containers: [
                                {
                                    ...hardened,
                                    name: "tensorboard",
                                    image: args.image,
                                    command: ["tensorboard"],
                                    args: logdir.apply((d) => tensorboardArgs({ logdir: d, reloadIntervalSeconds: args.reloadIntervalSeconds })),
                                    env: [{ name: "HOME", value: "/tmp" }],
                                    resources: containerResources(args.resources, TENSORBOARD_STORAGE),
                                    startupProbe: { exec: { command: tensorboardAnswers }, periodSeconds: 5, timeoutSeconds: 5, failureThreshold: 60 },
                                    readinessProbe: { exec: { command: tensorboardAnswers }, periodSeconds: 15, timeoutSeconds: 5, failureThreshold: 3 },
                                    livenessProbe: {
                                        exec: {
                                            command: [
                                                "python",
                                                "-c",
                                                `import socket; socket.create_connection(("127.0.0.1", ${TENSORBOARD_LOOPBACK_PORT}), 3).close()`,
                                            ],
                                        },
                                        periodSeconds: 30,
                                        timeoutSeconds: 5,
                                        failureThreshold: 4,
                                    },
                                },
                                {
                                    ...hardened,
                                    name: "auth-proxy",
                                    image: args.image,
                                    command: ["python"],
                                    args: authProxyArgs(),
                                    ports: [{ name: SERVING_PORT_NAME, containerPort: TENSORBOARD_PORT, protocol: "TCP" }],
                                    env: [secretEnv("TENSORBOARD_USERNAME", "username"), secretEnv("TENSORBOARD_PASSWORD", "password")],
                                    resources: containerResources(
                                        { cpuRequest: "20m", memoryRequest: "64Mi", cpuLimit: "250m", memoryLimit: "128Mi" },
                                        TENSORBOARD_STORAGE,
                                    ),
                                    readinessProbe: {
                                        httpGet: { path: "/healthz", port: SERVING_PORT_NAME },
                                        periodSeconds: 10,
                                        timeoutSeconds: 5,
                                        failureThreshold: 3,
                                    },
                                    livenessProbe: { tcpSocket: { port: SERVING_PORT_NAME }, periodSeconds: 20, timeoutSeconds: 5, failureThreshold: 6 },
                                },
                            ],
                            volumes: [{ name: "tmp", emptyDir: { sizeLimit: "256Mi" } }],
                        },
                    },
                },
            },
            child,
        );
        if (args.replicas > 1) {
            new k8s.policy.v1.PodDisruptionBudget(
                `${name}-pdb`,
                { metadata: { name: TENSORBOARD_NAME, namespace: ns, labels }, spec: { maxUnavailable: 1, selector: { matchLabels: selector } } },
                child,
            );
        }
        new k8s.core.v1.Service(
            `${name}-service`,
            {
                metadata: { name: TENSORBOARD_NAME, namespace: ns, labels },
                spec: {
                    type: "ClusterIP",
                    selector,
                    ports: [{ name: SERVING_PORT_NAME, port: TENSORBOARD_PORT, targetPort: SERVING_PORT_NAME, protocol: "TCP" }],
                },
            },
            child,
        );

        this.url = pulumi.interpolate`http://${TENSORBOARD_NAME}.${ns}.svc.cluster.local:${TENSORBOARD_PORT}`;
        this.username = args.team;
        this.password = pulumi.secret(password.result);
        this.roleArn = role.arn;
        this.logdir = logdir;
        this.registerOutputs({ url: this.url, username: this.username, roleArn: this.roleArn, logdir: this.logdir });
    }
}
