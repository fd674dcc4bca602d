/**
 * ModelService: every argument rule with its exact error (and that misuse registers nothing), the
 * objects it renders in prod (HPA) and dev (one fixed replica), and the build-and-push path of its
 * image. Its alert rules under promtool (they fire for this service only): e2e/alertRules.e2e.test.ts.
 */
import * as path from "path";
import { beforeAll, describe, expect, it } from "vitest";
import type { Environment } from "../stacks/config";
import { contextHash, ecrLifecyclePolicy } from "../components/team/containerImage";
import { fullSlo, type ModelServiceArgs, ModelService, serviceRuleGroups, validateModelServiceArgs } from "../components/team/modelService";
import { selectorLabels } from "../components/shared/naming";
import { deployerRules, METRICS_PORT_NAME, SERVING_PORT_NAME } from "../components/platform/servingNamespace";
import { validateObjects } from "../engine/kubernetes";
import type { PlatformRefs } from "../components/team/modelWorkload";
import { ProgramError } from "../engine/recorder";
import * as pulumi from "@pulumi/pulumi";
import { ROOT, runProgram, type StackRun } from "./harness";
import { APPROVAL_12, DIGEST_REF, platformRefs, prodArgs, RUNBOOKS, SCHEMA } from "./modelServiceFixtures";
import { approvalsRecordedIn, type ModelApproval } from "../components/contract";

const RECORDED = approvalsRecordedIn("prod");
/**
 * Platform references whose approval of version 12 also covers the digest `make` builds: the build is
 * pushed first (in test, where nothing is looked up), then compliance approves its digest, as a team's
 * first push of a build goes.
 */
async function approvingBuild(make: (platform: PlatformRefs) => void): Promise<PlatformRefs> {
    const pushed = await runProgram(() => make(platformRefs("test")));
    const digest = String(pushed.one("docker:index/image:Image").outputs.repoDigest).split("@")[1];
    return { ...platformRefs("prod"), approvals: [{ ...APPROVAL_12, imageDigests: [...APPROVAL_12.imageDigests, digest] }] };
}
const OTHER_DIGEST_REF = DIGEST_REF.replace(/[a-f0-9]{64}$/, "c".repeat(64));

const NOW = new Date("2026-11-22T12:00:00Z");
const TAG_REF = "210987654321.dkr.ecr.eu-west-1.amazonaws.com/ml-fraud/fraud-scorer:1.4.0";
const BUILD_CONTEXT = path.join("examples", "team-fraud", "model-server");

/** Valid arguments in dev: one replica, a tag, no approval, no schema, no logging. */
function devArgs(change: Partial<ModelServiceArgs> = {}): ModelServiceArgs {
    const { approval: _approval, inputSchema: _schema, autoscaling: _autoscaling, ...rest } = prodArgs();
    return {
        ...rest,
        platform: platformRefs("dev"),
        modelUri: "models:/fraud-scorer@champion",
        alias: undefined,
        previousVersion: undefined,
        image: { reference: TAG_REF },
        replicas: { min: 1, max: 1 },
        predictionLogging: { enabled: false },
        ...change,
    };
}

const inEnv = (env: Environment, change: Partial<ModelServiceArgs> = {}) =>
    env === "dev" ? devArgs(change) : prodArgs({ platform: platformRefs(env), ...change });

function errorOf(args: ModelServiceArgs): string | undefined {
    try {
        validateModelServiceArgs("fraud-scorer", args, NOW);
    } catch (e) {
        return (e as Error).message;
    }
    return undefined;
}

describe("ModelService arguments", () => {
    it("accept the fraud scorer in every environment", () => {
        for (const env of ["dev", "test", "prod"] as const) expect(errorOf(inEnv(env))).toBeUndefined();
        expect(errorOf(prodArgs({ image: { build: { context: BUILD_CONTEXT } } }))).toBeUndefined();
    });

    const cases: [string, Environment, Partial<ModelServiceArgs>, string][] = [
        // Images.
        ["a tag-only image in test", "test", { image: { reference: TAG_REF } }, `image "${TAG_REF}" must be pinned by digest (repo@sha256:...) in test`],
        ["an unpinned image in prod", "prod", { image: { reference: "x:latest" } }, 'image "x:latest" must be pinned by digest (repo@sha256:...) in prod'],
        [
            "latest in dev",
            "dev",
            { image: { reference: "210987654321.dkr.ecr.eu-west-1.amazonaws.com/ml-fraud/fraud-scorer:latest" } },
            'image "210987654321.dkr.ecr.eu-west-1.amazonaws.com/ml-fraud/fraud-scorer:latest" uses the moving tag latest: pin a version tag (and a digest)',
        ],
        [
            "a malformed reference",
            "dev",
            { image: { reference: "fraud scorer" } },
            'image "fraud scorer" is not an image reference like 123456789012.dkr.ecr.eu-west-1.amazonaws.com/repo:1.2.0@sha256:<64 hex digits>',
        ],
        ["a missing build context", "prod", { image: { build: { context: "no/such/dir" } } }, 'image build: build context "no/such/dir" is not a directory'],
        [
            "a build without Dockerfile",
            "prod",
            { image: { build: { context: BUILD_CONTEXT, dockerfile: "Nope.Dockerfile" } } },
            `image build: Dockerfile "${path.join(BUILD_CONTEXT, "Nope.Dockerfile")}" does not exist`,
        ],
        // Approval: compliance's record in the platform, not the team's.
        [
            "a team-supplied approval in prod",
            "prod",
            { approval: { approvedBy: "jane.doe", ticket: "CHG-10423", date: "2026-11-02" } },
            `approval is no longer taken from the team's stack: ${RECORDED}; remove approval from this workload`,
        ],
        [
            "a version compliance has not approved",
            "prod",
            { modelUri: "models:/fraud-scorer/13" },
            `fraud/fraud-scorer version 13 has no approval: ${RECORDED}`,
        ],
        [
            "an image digest the approval does not cover",
            "prod",
            { image: { reference: OTHER_DIGEST_REF } },
            `the approval of fraud/fraud-scorer version 12 (CHG-10423) does not cover the image digest sha256:${"c".repeat(64)} (approved: sha256:${"a".repeat(64)}, sha256:${"b".repeat(64)}); ${RECORDED}`,
        ],
        [
            "an expired approval",
            "prod",
            { platform: { ...platformRefs("prod"), approvals: [{ ...APPROVAL_12, date: "2026-08-01", expires: "2026-10-30" }] } },
            `the approval of fraud/fraud-scorer version 12 (CHG-10423) expired on 2026-10-30: re-approve it; ${RECORDED}`,
        ],
        [
            "no approvals from the platform",
            "prod",
            { platform: { ...platformRefs("prod"), approvals: undefined } },
            `platform.approvals is missing: in prod a workload deploys only an approved version (readPlatform passes the platform stack's modelApprovals output); ${RECORDED}`,
        ],
        // Model.
        [
            "a malformed model URI",
            "prod",
            { modelUri: "s3://models/fraud-scorer" },
            'model URI "s3://models/fraud-scorer" is malformed: expected models:/<name>/<version> or models:/<name>@<alias>',
        ],
        [
            "a stage instead of a version",
            "prod",
            { modelUri: "models:/fraud-scorer/Production" },
            'model URI "models:/fraud-scorer/Production" names the stage "Production": stages are not used, pin models:/fraud-scorer/<version>',
        ],
        [
            "an alias in prod",
            "prod",
            { modelUri: "models:/fraud-scorer@champion" },
            'model URI "models:/fraud-scorer@champion" names the alias "champion"; in prod pin a version (models:/fraud-scorer/<version>): resolve the alias when you deploy',
        ],
        [
            "an alias in test",
            "test",
            { modelUri: "models:/fraud-scorer@champion" },
            'model URI "models:/fraud-scorer@champion" names the alias "champion"; in test pin a version (models:/fraud-scorer/<version>): resolve the alias when you deploy',
        ],
        ["another team's model", "prod", { modelUri: "models:/recsys-ranker/3" }, 'model name "recsys-ranker" must start with the team name ("fraud-")'],
        [
            "an invalid alias label",
            "prod",
            { alias: "Champion" },
            'alias "Champion" must be a registry alias like champion (lower-case letters, digits, _ and -)',
        ],
        ["previousVersion = version", "prod", { previousVersion: 12 }, "previousVersion 12 is the version being deployed; name the version to roll back to"],
        ["a fractional previousVersion", "prod", { previousVersion: 11.5 }, "previousVersion must be a registered version (a positive integer), got 11.5"],
        // Owner and names.
        ["a malformed team", "prod", { team: "Fraud" }, 'team "Fraud" must be 2-20 lower-case letters, digits and -, starting with a letter'],
        ["no owners", "prod", { owners: [] }, "owners must name at least one person or group accountable for the model"],
        [
            "a service name with a digit first",
            "prod",
            { serviceName: "1-scorer" },
            'serviceName "1-scorer" must be lower-case letters, digits and -, starting with a letter, at most 46 characters',
        ],
        [
            "a service name too long",
            "prod",
            { serviceName: `fraud-${"s".repeat(41)}` },
            `serviceName "fraud-${"s".repeat(41)}" must be lower-case letters, digits and -, starting with a letter, at most 46 characters`,
        ],
        // Replicas and autoscaling.
        ["min > max", "test", { replicas: { min: 5, max: 3 } }, "replicas.min (5) must not exceed replicas.max (3)"],
        [
            "one replica in prod",
            "prod",
            { replicas: { min: 1, max: 4 } },
            "replicas.min must be at least 2 in prod (one replica cannot survive a node drain or a rollout), got 1",
        ],
        ["zero replicas", "dev", { replicas: { min: 0, max: 1 } }, "replicas.min must be an integer from 1 to 100, got 0"],
        ["a fractional max", "test", { replicas: { min: 2, max: 2.5 } }, "replicas.max must be an integer from 1 to 100, got 2.5"],
        [
            "a CPU target of 100%",
            "prod",
            { autoscaling: { targetCpuUtilization: 100 } },
            "autoscaling.targetCpuUtilization must be an integer percentage from 10 to 95, got 100",
        ],
        ["a zero RPS target", "prod", { autoscaling: { targetRequestsPerSecond: 0 } }, "autoscaling.targetRequestsPerSecond must be a number above 0, got 0"],
        [
            "a negative stabilisation window",
            "prod",
            { autoscaling: { scaleDownStabilizationSeconds: -1 } },
            "autoscaling.scaleDownStabilizationSeconds must be an integer from 0 to 3600, got -1",
        ],
        // SLOs.
        [
            "a zero latency SLO",
            "prod",
            { slo: { latencyP95Seconds: 0, errorRatio: 0.01 } },
            "slo.latencyP95Seconds must be a number of seconds above 0 and at most 60, got 0",
        ],
        [
            "a negative latency SLO",
            "prod",
            { slo: { latencyP95Seconds: -0.2, errorRatio: 0.01 } },
            "slo.latencyP95Seconds must be a number of seconds above 0 and at most 60, got -0.2",
        ],
        ["an error ratio of 0", "prod", { slo: { latencyP95Seconds: 0.3, errorRatio: 0 } }, "slo.errorRatio must be a ratio strictly between 0 and 1, got 0"],
        ["an error ratio of 1", "prod", { slo: { latencyP95Seconds: 0.3, errorRatio: 1 } }, "slo.errorRatio must be a ratio strictly between 0 and 1, got 1"],
        [
            "an error ratio in percent",
            "prod",
            { slo: { latencyP95Seconds: 0.3, errorRatio: 5 } },
            "slo.errorRatio must be a ratio strictly between 0 and 1, got 5",
        ],
        [
            "a prediction shift above 1",
            "prod",
            { slo: { latencyP95Seconds: 0.3, errorRatio: 0.01, predictionShift: 2 } },
            "slo.predictionShift must be a number above 0 and at most 1, got 2",
        ],
        // Prediction logging.
        [
            "a sample rate above 1",
            "prod",
            { predictionLogging: { enabled: true, sampleRate: 1.5 } },
            "predictionLogging.sampleRate must be a number from 0 to 1, got 1.5",
        ],
        [
            "a negative sample rate",
            "prod",
            { predictionLogging: { enabled: true, sampleRate: -0.1 } },
            "predictionLogging.sampleRate must be a number from 0 to 1, got -0.1",
        ],
        [
            "logging on at rate 0",
            "prod",
            { predictionLogging: { enabled: true, sampleRate: 0 } },
            "predictionLogging.sampleRate is 0 with logging enabled: set enabled: false instead",
        ],
        [
            "a log prefix of another team",
            "prod",
            { predictionLogging: { enabled: true, prefix: "prediction-logs/recsys/fraud-scorer" } },
            'predictionLogging.prefix "prediction-logs/recsys/fraud-scorer" must be under the team\'s prediction-log prefix prediction-logs/fraud/ (the only prefix its workload role may write)',
        ],
        [
            "a log prefix escaping with ..",
            "prod",
            { predictionLogging: { enabled: true, prefix: "prediction-logs/fraud/../recsys" } },
            'predictionLogging.prefix "prediction-logs/fraud/../recsys" must be under the team\'s prediction-log prefix prediction-logs/fraud/ (the only prefix its workload role may write)',
        ],
        // Input schema.
        [
            "no input schema in prod",
            "prod",
            { inputSchema: undefined },
            "inputSchema is required in prod: the JSON Schema the server validates requests against",
        ],
        [
            "an invalid input schema",
            "test",
            { inputSchema: { type: "objekt" } },
            "inputSchema is not a valid JSON Schema: schema is invalid: data/type must be equal to one of the allowed values, data/type must be array, data/type must match a schema in anyOf",
        ],
        [
            "a draft-04 schema",
            "test",
            { inputSchema: { $schema: "http://json-schema.org/draft-04/schema#", type: "object" } },
            'inputSchema names the JSON Schema dialect "http://json-schema.org/draft-04/schema#"; use draft-07, 2019-09 or 2020-12',
        ],
        // Ports, probes, pod.
        ["a privileged port", "prod", { port: 80 }, "port must be an integer from 1024 to 65535 (the server runs as non-root), got 80"],
        ["the same port twice", "prod", { port: 9090 }, "port and metricsPort must differ, both are 9090"],
        ["a relative health path", "prod", { health: { readinessPath: "ready" } }, 'health.readinessPath "ready" must be a URL path starting with /'],
        [
            "a startup timeout of 5 s",
            "prod",
            { health: { startupTimeoutSeconds: 5 } },
            "health.startupTimeoutSeconds must be an integer from 10 to 3600, got 5",
        ],
        ["a drain of 10 minutes", "prod", { drainSeconds: 600 }, "drainSeconds must be an integer from 0 to 120, got 600"],
        ["root", "prod", { runAsUser: 0 }, "runAsUser must be a numeric non-root uid (1 to 2147483647), got 0"],
        ["a malformed /tmp size", "prod", { tmpSizeLimit: "2 GB" }, 'tmpSizeLimit "2 GB" is not a Kubernetes quantity like 2Gi'],
        [
            "requests above limits",
            "prod",
            { resources: { cpuRequest: "3", memoryRequest: "2Gi", cpuLimit: "2", memoryLimit: "3Gi" } },
            "resources.cpuRequest (3) must not exceed resources.cpuLimit (2)",
        ],
        [
            "a malformed quantity",
            "prod",
            { resources: { cpuRequest: "1", memoryRequest: "2GB", cpuLimit: "2", memoryLimit: "3Gi" } },
            'resources.memoryRequest "2GB" is not a Kubernetes quantity (like 500m, 2, 512Mi or 4Gi)',
        ],
        ["an env var the component sets", "prod", { env: { MODEL_URI: "models:/fraud-scorer/1" } }, 'env "MODEL_URI" is set by the component; remove it'],
        [
            "an invalid env var name",
            "prod",
            { env: { "FRAUD-THRESHOLD": "0.7" } },
            'env "FRAUD-THRESHOLD" is not a valid variable name (letters, digits and _)',
        ],
        // Platform references.
        [
            "a runbook URL with a trailing slash",
            "prod",
            { platform: { ...platformRefs("prod"), runbookBaseUrl: `${RUNBOOKS}/` } },
            `platform.runbookBaseUrl "${RUNBOOKS}/" must be an https:// URL of docs/runbooks without a trailing slash`,
        ],
        [
            "a malformed label domain",
            "prod",
            { platform: { ...platformRefs("prod"), labelDomain: "acme" } },
            'platform.labelDomain "acme" must be a DNS domain like acme.io',
        ],
    ];

    it.each(cases)("refuse %s", (_what, env, change, problem) => {
        expect(errorOf(inEnv(env, change))).toBe(`ModelService "fraud-scorer": ${problem}.`);
    });

    it("list every problem at once", () => {
        expect(errorOf(prodArgs({ modelUri: "models:/fraud-scorer/13", replicas: { min: 4, max: 2 }, slo: { latencyP95Seconds: 0, errorRatio: 0.01 } }))).toBe(
            `ModelService "fraud-scorer": fraud/fraud-scorer version 13 has no approval: ${RECORDED}; ` +
                "replicas.min (4) must not exceed replicas.max (2); slo.latencyP95Seconds must be a number of seconds above 0 and at most 60, got 0.",
        );
    });

    it("in prod, with approvals known only at deploy (a StackReference), register no child without one: the refusal names the version and where approvals are recorded", async () => {
        const refused = (approvals: ModelApproval[]) =>
            runProgram(() => {
                new ModelService("fraud-scorer", prodArgs({ platform: { ...platformRefs("prod"), approvals: pulumi.output(approvals) } }));
            }).catch((e) => e);
        const none = await refused([]);
        expect(none).toBeInstanceOf(ProgramError);
        expect((none as ProgramError).message).toBe(
            `the program failed: ModelService "fraud-scorer": fraud/fraud-scorer version 12 has no approval: ${RECORDED}.`,
        );
        expect((none as ProgramError).resources.map((r) => r.type)).toEqual(["pulumi:pulumi:Stack", "mlops:index:ModelService"]);
        const expired = await refused([{ ...APPROVAL_12, date: "2020-01-01", expires: "2020-03-01" }]);
        expect((expired as ProgramError).message).toContain("expired on 2020-03-01");
        expect((expired as ProgramError).resources.map((r) => r.type)).toEqual(["pulumi:pulumi:Stack", "mlops:index:ModelService"]);
    });

    it("in prod, with approvals known only at deploy, stamp compliance's record on the Deployment and its pods", async () => {
        const run = await runProgram(() => {
            new ModelService("fraud-scorer", prodArgs({ platform: { ...platformRefs("prod"), approvals: pulumi.output([APPROVAL_12]) } }));
        });
        const d = run.inputs(run.one("kubernetes:apps/v1:Deployment"));
        for (const labels of [d.metadata.labels, d.spec.template.metadata.labels]) {
            expect(labels).toMatchObject({
                "mlops.acme.io/approval-ticket": "CHG-10423",
                "mlops.acme.io/approved-by": "jane.doe",
                "mlops.acme.io/approval-date": "2026-11-02",
            });
        }
        expect(d.metadata.annotations).toMatchObject({ "mlops.acme.io/approval-ticket": "CHG-10423" });
    });

    it("ignore a team-supplied approval outside prod, stamping nothing", async () => {
        const run = await runProgram(() => {
            new ModelService("fraud-scorer", inEnv("test", { approval: { approvedBy: "me", ticket: "CHG-1", date: "2026-11-02" } }));
        });
        expect(run.inputs(run.one("kubernetes:apps/v1:Deployment")).metadata.labels["mlops.acme.io/approval-ticket"]).toBeUndefined();
    });

    it("register nothing when misused", async () => {
        const error = await runProgram(() => {
            new ModelService("fraud-scorer", prodArgs({ image: { reference: "x:latest" } }));
        }).catch((e) => e);
        expect(error).toBeInstanceOf(ProgramError);
        expect((error as ProgramError).message).toBe(
            'the program failed: ModelService "fraud-scorer": image "x:latest" must be pinned by digest (repo@sha256:...) in prod.',
        );
        expect((error as ProgramError).resources.map((r) => r.type)).toEqual(["pulumi:pulumi:Stack"]);
    });
});

// ---------------------------------------------------------------------------------------------
// Rendered objects.
// ---------------------------------------------------------------------------------------------

/** The fraud scorer's objects of one kind (the recording holds only this component's). */
const one = (run: StackRun, kind: string) => {
    const found = run.k8sOfKind(kind, "ml-fraud");
    expect(found, kind).toHaveLength(1);
    return found[0] as any;
};

describe("ModelService in prod", () => {
    let run: StackRun;
    let service: ModelService;
    beforeAll(async () => {
        run = await runProgram(() => {
            service = new ModelService("fraud-scorer", prodArgs());
            return { note: service.operatingNote, url: service.url };
        });
    });
    const deployment = () => one(run, "Deployment");
    const pod = () => deployment().spec.template.spec;
    const container = () => pod().containers[0];
    const env = (name: string) => container().env.find((e: any) => e.name === name);
    const selector = selectorLabels({ name: "fraud-scorer", instance: "fraud-scorer", component: "model-server" });

    it("renders only valid Kubernetes objects, all in the team's namespace, labelled for the team", async () => {
        const objects = run.k8s().map((o) => o.object);
        expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
            "ConfigMap/fraud-scorer-input-schema",
            "ConfigMap/fraud-scorer-operating-note",
            "Deployment/fraud-scorer",
            "HorizontalPodAutoscaler/fraud-scorer",
            "PodDisruptionBudget/fraud-scorer",
            "PrometheusRule/fraud-scorer-alerts",
            "Service/fraud-scorer",
            "ServiceMonitor/fraud-scorer",
        ]);
        expect(await validateObjects(objects)).toEqual([]);
        for (const o of objects) {
            expect(o.metadata.namespace).toBe("ml-fraud");
            expect(o.metadata.labels).toMatchObject({
                "mlops.acme.io/team": "fraud",
                "mlops.acme.io/owner": "fraud",
                "mlops.acme.io/environment": "prod",
                "mlops.acme.io/model": "fraud-scorer",
            });
        }
    });

    it("is one component whose children are named after it and parented to it", () => {
        const component = run.one("mlops:index:ModelService");
        expect(component.name).toBe("fraud-scorer");
        const children = run.children(component);
        expect(children.map((c) => c.name).sort()).toEqual(
            ["alerts", "deployment", "hpa", "input-schema", "operating-note", "pdb", "service", "service-monitor"].map((r) => `fraud-scorer-${r}`).sort(),
        );
        expect(run.resources.filter((r) => r.custom).every((r) => r.parent === component.urn)).toBe(true);
    });

    it("labels the pods with model, version, stage and approval, and annotates the exact record", () => {
        const d = deployment();
        expect(d.spec.template.metadata.labels).toMatchObject({
            "app.kubernetes.io/name": "fraud-scorer",
            "app.kubernetes.io/instance": "fraud-scorer",
            "app.kubernetes.io/component": "model-server",
            "app.kubernetes.io/version": "12",
            "mlops.acme.io/model-version": "12",
            "mlops.acme.io/stage": "champion",
            "mlops.acme.io/approved-by": "jane.doe",
            "mlops.acme.io/approval-ticket": "CHG-10423",
            "mlops.acme.io/approval-date": "2026-11-02",
        });
        expect(d.metadata.annotations).toEqual({
            "mlops.acme.io/owners": "fraud-ml@acme.io",
            "mlops.acme.io/model-uri": "models:/fraud-scorer/12",
            "mlops.acme.io/previous-version": "11",
            "mlops.acme.io/approved-by": "jane.doe",
            "mlops.acme.io/approval-ticket": "CHG-10423",
            "mlops.acme.io/approval-date": "2026-11-02",
            "kubernetes.io/change-cause": "models:/fraud-scorer/12 (pulumi)",
        });
    });

    it("selects its pods with stable labels that every pod carries (not the version)", () => {
        const d = deployment();
        expect(d.spec.selector.matchLabels).toEqual(selector);
        expect(d.spec.template.metadata.labels).toMatchObject(selector);
        expect(Object.keys(selector)).not.toContain("app.kubernetes.io/version");
        for (const kind of ["Service", "PodDisruptionBudget", "ServiceMonitor"]) {
            const o = one(run, kind);
            const s = o.spec.selector?.matchLabels ?? o.spec.selector;
            expect(s, kind).toEqual(selector);
        }
    });

    it("rolls out without downtime and leaves the replica count to the HPA", () => {
        const spec = deployment().spec;
        expect(spec.strategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
        expect(spec.replicas).toBeUndefined();
        expect(spec.revisionHistoryLimit).toBe(10);
        expect(spec.minReadySeconds).toBe(5);
    });

    it("probes startup, readiness and liveness on the http port, with the model's load time as startup budget", () => {
        const c = container();
        expect(c.startupProbe).toEqual({
            httpGet: { path: "/health/ready", port: "http", scheme: "HTTP" },
            periodSeconds: 5,
            timeoutSeconds: 3,
            failureThreshold: 60,
        });
        expect(c.readinessProbe).toEqual({
            httpGet: { path: "/health/ready", port: "http", scheme: "HTTP" },
            periodSeconds: 10,
            timeoutSeconds: 3,
            failureThreshold: 3,
            successThreshold: 1,
        });
        expect(c.livenessProbe).toEqual({
            httpGet: { path: "/health/live", port: "http", scheme: "HTTP" },
            periodSeconds: 20,
            timeoutSeconds: 5,
            failureThreshold: 3,
        });
        expect(c.ports).toEqual([
            { name: "http", containerPort: 8080, protocol: "TCP" },
            { name: "metrics", containerPort: 9090, protocol: "TCP" },
        ]);
    });

    it("runs restricted: non-root numeric uid, no escalation, read-only root with /tmp, no capabilities, RuntimeDefault, no token", () => {
        const p = pod();
        expect(p.securityContext).toEqual({
            runAsNonRoot: true,
            runAsUser: 10001,
            runAsGroup: 10001,
            fsGroup: 10001,
            seccompProfile: { type: "RuntimeDefault" },
        });
        expect(container().securityContext).toEqual({
            runAsNonRoot: true,
            runAsUser: 10001,
            runAsGroup: 10001,
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            privileged: false,
            capabilities: { drop: ["ALL"] },
            seccompProfile: { type: "RuntimeDefault" },
        });
        expect(p.automountServiceAccountToken).toBe(false);
        expect(p.enableServiceLinks).toBe(false);
        expect(p.serviceAccountName).toBe("workload");
        expect(p.volumes).toEqual([
            { name: "tmp", emptyDir: { sizeLimit: "2Gi" } },
            { name: "input-schema", configMap: { name: "fraud-scorer-input-schema", defaultMode: 0o444 } },
        ]);
        expect(container().volumeMounts).toEqual([
            { name: "tmp", mountPath: "/tmp" },
            { name: "input-schema", mountPath: "/etc/mlops/input-schema", readOnly: true },
        ]);
        // Ephemeral storage: 512Mi reserved (the model download), the limit covers the 2Gi /tmp plus 256Mi.
        expect(container().resources).toEqual({
            requests: { cpu: "1", memory: "2Gi", "ephemeral-storage": "512Mi" },
            limits: { cpu: "2", memory: "3Gi", "ephemeral-storage": "2304Mi" },
        });
    });

    it("drains before it stops and spreads over zones (hard) and nodes", () => {
        const p = pod();
        expect(container().lifecycle).toEqual({ preStop: { sleep: { seconds: 10 } } });
        expect(p.terminationGracePeriodSeconds).toBe(40);
        expect(p.topologySpreadConstraints).toEqual([
            {
                maxSkew: 1,
                topologyKey: "topology.kubernetes.io/zone",
                whenUnsatisfiable: "DoNotSchedule",
                labelSelector: { matchLabels: selector },
                matchLabelKeys: ["pod-template-hash"],
            },
            {
                maxSkew: 1,
                topologyKey: "kubernetes.io/hostname",
                whenUnsatisfiable: "ScheduleAnyway",
                labelSelector: { matchLabels: selector },
                matchLabelKeys: ["pod-template-hash"],
            },
        ]);
    });

    it("deploys the digest-pinned image and hands the server its model, MLflow, schema and logging settings", () => {
        expect(container().image).toBe(DIGEST_REF);
        expect(container().image).toMatch(/@sha256:[a-f0-9]{64}$/);
        expect(
            Object.fromEntries(
                container()
                    .env.filter((e: any) => e.value !== undefined)
                    .map((e: any) => [e.name, e.value]),
            ),
        ).toEqual({
            MODEL_URI: "models:/fraud-scorer/12",
            MODEL_NAME: "fraud-scorer",
            MODEL_VERSION: "12",
            MODEL_ALIAS: "champion",
            MLOPS_TEAM: "fraud",
            MLOPS_SERVICE: "fraud-scorer",
            MLFLOW_TRACKING_URI: "http://mlflow.mlflow.svc.cluster.local",
            PORT: "8080",
            METRICS_PORT: "9090",
            MODEL_INPUT_SCHEMA_PATH: "/etc/mlops/input-schema/schema.json",
            PREDICTION_LOG_ENABLED: "true",
            PREDICTION_LOG_SAMPLE_RATE: "0.1",
            PREDICTION_LOG_URI: "s3://acme-mlops-prod-artifacts/prediction-logs/fraud/fraud-scorer/",
            HOME: "/tmp",
            TMPDIR: "/tmp",
        });
        expect(env("MLFLOW_TRACKING_PASSWORD").valueFrom).toEqual({ secretKeyRef: { name: "mlflow-credentials", key: "password", optional: true } });
    });

    it("mounts the input schema from a ConfigMap and rolls the pods when it changes", () => {
        const schemaMap = run.k8sOfKind("ConfigMap", "ml-fraud").find((c) => c.metadata.name === "fraud-scorer-input-schema") as any;
        expect(JSON.parse(schemaMap.data["schema.json"])).toEqual(SCHEMA);
        expect(deployment().spec.template.metadata.annotations["mlops.acme.io/input-schema-sha256"]).toMatch(/^[a-f0-9]{64}$/);
    });

    it("exposes http and metrics through a ClusterIP Service", () => {
        const s = one(run, "Service");
        expect(s.spec).toEqual({
            type: "ClusterIP",
            selector,
            ports: [
                { name: "http", port: 80, targetPort: "http", protocol: "TCP" },
                { name: "metrics", port: 9090, targetPort: "metrics", protocol: "TCP" },
            ],
        });
        expect(service.url).toBe("http://fraud-scorer.ml-fraud.svc.cluster.local");
    });

    it("scales between the bounds on CPU and requests per second, and scales down slowly", () => {
        const hpa = one(run, "HorizontalPodAutoscaler");
        expect(hpa.apiVersion).toBe("autoscaling/v2");
        expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name: "fraud-scorer" });
        expect([hpa.spec.minReplicas, hpa.spec.maxReplicas]).toEqual([3, 12]);
        expect(hpa.spec.metrics).toEqual([
            { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 60 } } },
            { type: "Pods", pods: { metric: { name: "mlops_model_requests_per_second" }, target: { type: "AverageValue", averageValue: "40" } } },
        ]);
        expect(hpa.spec.behavior.scaleDown).toEqual({
            stabilizationWindowSeconds: 300,
            selectPolicy: "Max",
            policies: [{ type: "Percent", value: 50, periodSeconds: 60 }],
        });
        expect(hpa.spec.behavior.scaleUp.stabilizationWindowSeconds).toBe(0);
    });

    it("keeps all but one replica of the floor through a drain", () => {
        expect(one(run, "PodDisruptionBudget").spec).toEqual({
            minAvailable: 2,
            selector: { matchLabels: selector },
            unhealthyPodEvictionPolicy: "AlwaysAllow",
        });
    });

    it("leaves network access to the serving namespace: no NetworkPolicy, ports named as the namespace's policies admit them", () => {
        // The namespace admits the gateway on the port named http and Prometheus on http and metrics; the
        // team's deploy group may read NetworkPolicies but not create them.
        expect(run.k8s().filter((o) => o.object.kind === "NetworkPolicy")).toEqual([]);
        expect(deployerRules().find((r) => (r.resources as string[]).includes("networkpolicies"))?.verbs).toEqual(["get", "list", "watch"]);
        const ports = deployment()
            .spec.template.spec.containers[0].ports.map((p: any) => p.name)
            .sort();
        expect(ports).toEqual([METRICS_PORT_NAME, SERVING_PORT_NAME].sort());
        expect(
            one(run, "Service")
                .spec.ports.map((p: any) => p.targetPort)
                .sort(),
        ).toEqual([METRICS_PORT_NAME, SERVING_PORT_NAME].sort());
    });

    it("is scraped on its metrics port at /metrics", () => {
        const sm = one(run, "ServiceMonitor");
        expect(sm.apiVersion).toBe("monitoring.coreos.com/v1");
        expect(sm.spec).toEqual({
            selector: { matchLabels: selector },
            namespaceSelector: { matchNames: ["ml-fraud"] },
            endpoints: [{ port: "metrics", path: "/metrics", interval: "30s", scrapeTimeout: "10s" }],
        });
        expect(one(run, "Service").metadata.labels).toMatchObject(sm.spec.selector.matchLabels);
    });

    it("alerts with its own SLO thresholds, for itself only", () => {
        const rule = one(run, "PrometheusRule");
        const expected = serviceRuleGroups({
            team: "fraud",
            serviceName: "fraud-scorer",
            modelName: "fraud-scorer",
            slo: fullSlo(prodArgs().slo),
            runbookBaseUrl: RUNBOOKS,
        });
        expect(rule.spec.groups).toEqual(expected);
        expect(service.ruleGroups).toEqual(expected);
        const rules = Object.fromEntries(rule.spec.groups.flatMap((g: any) => g.rules).map((r: any) => [r.alert, r]));
        expect(rules.ModelLatencyP95High.expr).toBe(
            'histogram_quantile(0.95, sum by (namespace, model, version, le) (rate(mlops_model_request_duration_seconds_bucket{namespace="ml-fraud", service="fraud-scorer"}[5m]))) > 0.25',
        );
        expect(rules.ModelErrorRatioHigh.expr).toContain("> 0.005");
        expect(rules.ModelServiceDown.expr).toContain('kube_deployment_status_replicas_available{namespace="ml-fraud", deployment="fraud-scorer"}');
    });

    it("ships its operating note: owner, failures, alerts with thresholds and runbooks, rollback commands", () => {
        const note = run.k8sOfKind("ConfigMap", "ml-fraud").find((c) => c.metadata.name === "fraud-scorer-operating-note") as any;
        expect(note.data["README.md"]).toBe(service.operatingNote);
        expect(run.outputs().note).toBe(service.operatingNote);
        const md = service.operatingNote;
        expect(md).toContain("| Owners | fraud-ml@acme.io |");
        expect(md).toContain("## What can fail");
        expect(md).toContain(
            `| ModelErrorRatioHigh | critical | more than 0.5% of requests fail with 5xx over 5 minutes, for 5m | [model-error-ratio-high](${RUNBOOKS}/model-error-ratio-high.md) |`,
        );
        expect(md).toContain(`| ModelLatencyP95High | warning | p95 latency is above 250ms over 5 minutes, for 10m |`);
        expect(md).toContain(
            "set this service's `modelUri` to `models:/fraud-scorer/11` and `previousVersion` to `12` (version 11 and its image must still be approved in approvals/prod.yaml of the platform)",
        );
        expect(md).toContain("kubectl -n ml-fraud rollout undo deployment/fraud-scorer");
        expect(md).toContain('set_registered_model_alias("fraud-scorer", "champion", 11)');
    });
});

describe("ModelService in dev with one replica", () => {
    let run: StackRun;
    beforeAll(async () => {
        run = await runProgram(() => {
            new ModelService("fraud-scorer", devArgs({ predictionLogging: { enabled: false }, drainSeconds: 0 }));
        });
    });
    const deployment = () => one(run, "Deployment");

    it("runs a fixed replica without HPA; a drain may evict it", async () => {
        expect(deployment().spec.replicas).toBe(1);
        expect(run.k8sOfKind("HorizontalPodAutoscaler")).toEqual([]);
        expect(one(run, "PodDisruptionBudget").spec.maxUnavailable).toBe(1);
        expect(one(run, "PodDisruptionBudget").spec.minAvailable).toBeUndefined();
        expect(await validateObjects(run.k8s().map((o) => o.object))).toEqual([]);
    });

    it("resolves the alias when the pod starts, without version labels, and spreads over zones softly", () => {
        const pod = deployment().spec.template;
        const env = Object.fromEntries(pod.spec.containers[0].env.filter((e: any) => e.value).map((e: any) => [e.name, e.value]));
        expect(env.MODEL_URI).toBe("models:/fraud-scorer@champion");
        expect(env.MODEL_ALIAS).toBe("champion");
        expect(env.MODEL_VERSION).toBeUndefined();
        expect(pod.metadata.labels["mlops.acme.io/stage"]).toBe("champion");
        expect(pod.metadata.labels["mlops.acme.io/model-version"]).toBeUndefined();
        expect(pod.spec.topologySpreadConstraints[0].whenUnsatisfiable).toBe("ScheduleAnyway");
    });

    it("logs nothing, mounts no schema, stops without drain when told so", () => {
        const c = deployment().spec.template.spec.containers[0];
        const names = c.env.map((e: any) => e.name);
        expect(c.env.find((e: any) => e.name === "PREDICTION_LOG_ENABLED").value).toBe("false");
        expect(names).not.toContain("PREDICTION_LOG_URI");
        expect(names).not.toContain("MODEL_INPUT_SCHEMA_PATH");
        expect(c.lifecycle).toBeUndefined();
        expect(run.k8sOfKind("ConfigMap").map((o) => o.metadata.name)).toEqual(["fraud-scorer-operating-note"]);
    });
});

describe("ModelService building its image", () => {
    let run: StackRun;
    beforeAll(async () => {
        const make = (platform: PlatformRefs) =>
            new ModelService("fraud-scorer", prodArgs({ image: { build: { context: BUILD_CONTEXT, buildArgs: { MLFLOW_VERSION: "3.1.1" } } }, platform }));
        const platform = await approvingBuild(make);
        run = await runProgram(() => make(platform));
    });

    it("creates a private ECR repository: immutable tags, scan on push, KMS, protected in prod, with a lifecycle policy", () => {
        const repo = run.one("aws:ecr/repository:Repository");
        expect(repo.name).toBe("fraud-scorer-image-repository");
        expect(run.inputs(repo)).toEqual({
            name: "ml-fraud/fraud-scorer",
            imageTagMutability: "IMMUTABLE",
            imageScanningConfiguration: { scanOnPush: true },
            encryptionConfigurations: [{ encryptionType: "KMS" }],
            forceDelete: false,
        });
        expect(repo.options.protect).toBe(true);
        expect(JSON.parse(run.inputs(run.one("aws:ecr/lifecyclePolicy:LifecyclePolicy")).policy)).toEqual(ecrLifecyclePolicy(30, 7));
        expect(repo.parent).toBe(run.one("mlops:index:ContainerImage").urn);
        expect(run.one("mlops:index:ContainerImage").parent).toBe(run.one("mlops:index:ModelService").urn);
    });

    it("builds the context for linux/amd64 with its build args and pushes a content-addressed tag with ECR credentials kept secret", () => {
        const image = run.one("docker:index/image:Image");
        const inputs = run.inputs(image);
        const repoUrl = run.one("aws:ecr/repository:Repository").outputs.repositoryUrl as string;
        expect(inputs.imageName).toBe(`${repoUrl}:fraud-scorer-${contextHash(path.join(ROOT, BUILD_CONTEXT)).slice(0, 12)}`);
        expect(inputs.build).toEqual({
            context: BUILD_CONTEXT,
            dockerfile: path.join(BUILD_CONTEXT, "Dockerfile"),
            platform: "linux/amd64",
            args: { MLFLOW_VERSION: "3.1.1" },
        });
        expect(inputs.registry.server).toBe(repoUrl);
        expect(JSON.stringify(image.inputs.registry)).toContain("1b47061264138c4ac30d75fd1eb44270");
    });

    it("deploys the pushed digest, not the tag", () => {
        const digest = run.one("docker:index/image:Image").outputs.repoDigest as string;
        expect(digest).toMatch(/^410987654321\.dkr\.ecr\.eu-west-1\.amazonaws\.com\/ml-fraud\/fraud-scorer@sha256:[a-f0-9]{64}$/);
        expect(one(run, "Deployment").spec.template.spec.containers[0].image).toBe(digest);
    });
});
