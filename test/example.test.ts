/**
 * The example team project (examples/team-fraud) for dev, test and prod: it runs on the same engine as
 * the platform, with its StackReference answered by the REAL platform stack's recorded outputs of the
 * same environment, so the example cannot drift from the platform's output shape. It checks that the
 * team stack builds its own provider from those outputs, deploys valid objects into its namespace with
 * the platform's values, and that docs/operating-notes/ holds its current operating notes
 * (`npm run operating-notes` rewrites them).
 */
import * as fs from "fs";
import * as path from "path";
import { beforeAll, describe, expect, it } from "vitest";
import * as library from "../components/team/index";
import { providerAccessNeeds, rulesAllow } from "../components/platform/kubernetesAccess";
import { kubeconfigFor } from "../components/team/kubeconfig";
import { deployerRules } from "../components/platform/servingNamespace";
import { validateObjects } from "../engine/kubernetes";
import { configNamespace } from "../engine/project";
import { loadModelApprovals } from "../stacks/approvals";
import { ROOT, runProject, runStack, type StackRun, STACKS, stackReferenceOutputs } from "./harness";

const EXAMPLE = path.join(ROOT, "examples", "team-fraud");
const NOTES = path.join(ROOT, "docs", "operating-notes");
const UPDATE_NOTES = process.env.UPDATE_OPERATING_NOTES === "1";

describe("the platform library", () => {
    it("is importable by its package name, from components/team/index.ts", () => {
        expect(require.resolve("mlops-platform")).toBe(path.join(ROOT, "components", "team", "index.ts"));
        const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
        expect(pkg.exports["."]).toEqual({ types: "./components/team/index.ts", default: "./components/team/index.ts" });
        for (const name of ["ModelService", "BatchInference", "readPlatform", "ContainerImage", "parseCron", "parseModelUri", "renderOperatingNote"]) {
            expect(typeof (library as Record<string, unknown>)[name], name).toBe("function");
        }
    });
});

describe.each(STACKS)("examples/team-fraud in %s", (stack) => {
    let platform: StackRun;
    let team: StackRun;
    let outputs: Record<string, any>;
    let config: Record<string, string>;
    beforeAll(async () => {
        platform = await runStack(stack);
        outputs = platform.outputs();
        team = await runProject(EXAMPLE, stack, { stackReferences: { [`acme/mlops/${stack}`]: stackReferenceOutputs(platform) } });
        config = configNamespace(team.recording.stackConfig.config, "team-fraud");
    });
    const objects = () => team.k8s().map((o) => o.object);
    const deployment = () => team.k8sObject("Deployment", "fraud-scorer") as any;
    const cronJob = () => team.k8sObject("CronJob", "fraud-nightly-scoring") as any;
    const envOf = (container: any) => Object.fromEntries(container.env.filter((e: any) => e.value !== undefined).map((e: any) => [e.name, e.value]));

    it("creates only kinds whose provider access (create, update, delete, await) the team's deployer Role grants", () => {
        const kinds = [...new Set(objects().map((o) => o.kind))].sort();
        expect(kinds.length).toBeGreaterThan(5);
        const missing = kinds.flatMap((kind) =>
            providerAccessNeeds(kind).flatMap((n) =>
                n.verbs.filter((v) => !rulesAllow(deployerRules(), n.group, n.resource, v)).map((v) => `${kind}: ${v} ${n.group || "core"}/${n.resource}`),
            ),
        );
        expect(missing).toEqual([]);
    });

    it("is its own project, referencing the platform stack of its environment", () => {
        expect(team.recording.project).toBe("team-fraud");
        expect(config.platformStack).toBe(`acme/mlops/${stack}`);
        expect(config.environment).toBe(outputs.environment);
        expect(config.labelDomain).toBe(outputs.labelDomain);
        expect(JSON.parse(config.aws).region).toBe(outputs.region);
        expect(outputs.teams.fraud.namespace).toBe("ml-fraud");
    });

    it("builds its Kubernetes provider from the platform's cluster outputs, with the team's deploy role", () => {
        const provider = team.one("pulumi:providers:kubernetes");
        expect(provider.name).toBe("platform-kubernetes");
        const inputs = team.inputs(provider);
        const deployRoleArn = JSON.parse(config.aws).deployRoleArn;
        expect(inputs.kubeconfig).toBe(
            kubeconfigFor({
                environment: stack,
                aws: { region: outputs.region, deployRoleArn },
                cluster: {
                    name: outputs.kubernetes.clusterName,
                    endpoint: outputs.kubernetes.endpoint,
                    certificateAuthorityData: outputs.kubernetes.certificateAuthorityData,
                },
            }),
        );
        const kubeconfig = JSON.parse(inputs.kubeconfig);
        expect(kubeconfig.users[0].user.exec.args).toEqual([
            "eks",
            "get-token",
            "--cluster-name",
            outputs.kubernetes.clusterName,
            "--region",
            "eu-west-1",
            "--output",
            "json",
            "--role-arn",
            deployRoleArn,
        ]);
        expect(deployRoleArn).toBe(`arn:aws:iam::${JSON.parse(config.aws).accountId}:role/team-fraud-deploy`);
        // Provider settings reach the engine as strings (structured ones JSON-encoded).
        expect(inputs.enableServerSideApply).toBe("true");
    });

    it("creates every resource with an explicit provider of its package", () => {
        const providers = Object.fromEntries(team.resources.filter((r) => r.type.startsWith("pulumi:providers:")).map((r) => [r.type.split(":")[2], r]));
        expect(Object.keys(providers).sort()).toEqual(stack === "dev" ? ["aws", "docker", "kubernetes"] : ["aws", "kubernetes"]);
        expect(JSON.parse(team.inputs(providers.aws).allowedAccountIds)).toEqual([JSON.parse(config.aws).accountId]);
        expect(team.inputs(providers.aws).region).toBe(outputs.region);
        for (const r of team.resources.filter((r) => r.custom && !r.type.startsWith("pulumi:providers:"))) {
            const pkg = r.type.split(":")[0];
            expect(r.provider.startsWith(`${providers[pkg].urn}::`), `${r.type} ${r.name} uses ${r.provider}`).toBe(true);
        }
    });

    it("deploys valid objects into the team's namespace only", async () => {
        expect(await validateObjects(objects())).toEqual([]);
        for (const o of objects()) expect(o.metadata.namespace).toBe(outputs.teams.fraud.namespace);
        const kinds = objects()
            .map((o) => o.kind)
            .sort();
        expect(kinds).toEqual(
            [
                "ConfigMap",
                "ConfigMap",
                "ConfigMap",
                "CronJob",
                "Deployment",
                "HorizontalPodAutoscaler",
                "HTTPRoute",
                "PodDisruptionBudget",
                "PrometheusRule",
                "PrometheusRule",
                "Service",
                "ServiceMonitor",
            ].sort(),
        );
    });

    it("creates only what its deploy role may: mapped into the team's deploy group, whose Role allows every object it creates", () => {
        // The team deploys as its deploy role (team-fraud:aws.deployRoleArn); the platform maps that role
        // into the team's deploy group with an EKS access entry.
        const deployRole = (JSON.parse(config.aws) as { deployRoleArn: string }).deployRoleArn;
        const entry = platform.ofType("aws:eks/accessEntry:AccessEntry").find((e) => platform.inputs(e).principalArn === deployRole)!;
        expect(entry, `no access entry for ${deployRole}`).toBeDefined();
        const [group] = platform.inputs(entry).kubernetesGroups as string[];
        const binding = platform.k8sOfKind("RoleBinding", outputs.teams.fraud.namespace)[0] as any;
        expect(binding.subjects).toEqual([{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: group }]);
        const rules = (platform.k8sOfKind("Role", outputs.teams.fraud.namespace)[0] as any).rules as {
            apiGroups: string[];
            resources: string[];
            verbs: string[];
        }[];
        const plural = (kind: string) => (kind.endsWith("y") ? `${kind.slice(0, -1)}ies` : `${kind}s`).toLowerCase();
        for (const o of objects()) {
            const apiGroup = o.apiVersion.includes("/") ? o.apiVersion.split("/")[0] : "";
            for (const verb of ["create", "update", "patch", "delete"]) {
                const allowed = rules.some((r) => r.apiGroups.includes(apiGroup) && r.resources.includes(plural(o.kind)) && r.verbs.includes(verb));
                expect(allowed, `${verb} ${apiGroup}/${plural(o.kind)} (${o.kind} ${o.metadata.name})`).toBe(true);
            }
        }
    });

    it("uses the platform's MLflow, bucket, gateway, monitoring, Pushgateway and service account", () => {
        const server = envOf(deployment().spec.template.spec.containers[0]);
        expect(server.MLFLOW_TRACKING_URI).toBe(outputs.mlflowTrackingUri);
        expect(server.PREDICTION_LOG_URI).toBe(`s3://${outputs.artifactBucketName}/prediction-logs/fraud/fraud-scorer/`);
        expect(deployment().spec.template.spec.serviceAccountName).toBe(outputs.teams.fraud.serviceAccountName);
        // The namespace's own policies (the platform's) admit the gateway and Prometheus the team stack reads.
        const policy = (name: string) => platform.k8sOfKind("NetworkPolicy", outputs.teams.fraud.namespace).find((p) => p.metadata.name === name) as any;
        expect(policy("allow-gateway-ingress").spec.ingress[0].from[0].namespaceSelector.matchLabels).toEqual({
            "kubernetes.io/metadata.name": outputs.kubernetes.gatewayNamespace,
        });
        expect(policy("allow-prometheus-scrape").spec.ingress[0].from[0].namespaceSelector.matchLabels).toEqual({
            "kubernetes.io/metadata.name": outputs.monitoring.namespace,
        });
        const batch = envOf(cronJob().spec.jobTemplate.spec.template.spec.containers[0]);
        expect(batch.MLOPS_PUSHGATEWAY_URL).toBe(outputs.monitoring.pushgatewayUrl);
        expect(batch.MLOPS_INPUT_URI).toBe(`s3://${outputs.artifactBucketName}/${outputs.teams.fraud.batchInputPrefix}/transactions/`);
        expect(cronJob().spec.jobTemplate.spec.template.spec.serviceAccountName).toBe(outputs.teams.fraud.batchServiceAccountName);
        expect(outputs.teams.fraud.batchServiceAccountName).toBe("batch");
        // The workload and batch roles of the platform may read and write exactly what the server and the job use.
        expect(outputs.teams.fraud.modelPrefix).toBe("models/fraud");
        expect(outputs.teams.fraud.predictionLogPrefix).toBe("prediction-logs/fraud");
        expect(outputs.teams.fraud.batchInputPrefix).toBe("batch-inputs/fraud");
        expect(outputs.teams.fraud.batchOutputPrefix).toBe("batch-outputs/fraud");
    });

    it("routes the scorer through the platform's gateway: name, namespace, HTTPS listener and hostname suffix from the platform's outputs", () => {
        expect(outputs.gateway).toEqual({
            name: "platform",
            namespace: outputs.kubernetes.gatewayNamespace,
            sectionName: "https",
            hostnameSuffix: stack === "prod" ? "models.acme.io" : `models-${stack}.acme.io`,
        });
        expect(outputs.modelFetchImage).toMatch(/^\d{12}\.dkr\.ecr\.eu-west-1\.amazonaws\.com\/mirror\/aws-cli:[\w.-]+@sha256:[a-f0-9]{64}$/);
        const route = team.k8sObject("HTTPRoute", "fraud-scorer") as any;
        expect(route.metadata.namespace).toBe("ml-fraud");
        expect(route.spec.parentRefs).toEqual([
            {
                group: "gateway.networking.k8s.io",
                kind: "Gateway",
                name: outputs.gateway.name,
                namespace: outputs.gateway.namespace,
                sectionName: outputs.gateway.sectionName,
            },
        ]);
        expect(route.spec.hostnames).toEqual([`fraud-scorer.fraud.${outputs.gateway.hostnameSuffix}`]);
        expect(route.spec.rules[0].backendRefs).toEqual([{ group: "", kind: "Service", name: "fraud-scorer", port: 80, weight: 100 }]);
        expect(team.outputs().scorerHostnames).toEqual(route.spec.hostnames);
        expect(deployment().spec.template.metadata.labels["mlops.acme.io/track"]).toBe("stable");
    });

    it("refuses invalid gateway and modelFetchImage outputs of the platform in one message, before any object", async () => {
        const bad = {
            ...stackReferenceOutputs(platform),
            outputs: { ...outputs, gateway: { ...outputs.gateway, namespace: "gateways" }, modelFetchImage: "aws-cli:latest" },
        };
        const error = await runProject(EXAMPLE, stack, { stackReferences: { [`acme/mlops/${stack}`]: bad } }).catch((e) => e);
        expect(String(error.message)).toContain(
            `readPlatform "platform": platform stack acme/mlops/${stack} has its gateway in namespace "gateways", but kubernetes.gatewayNamespace is "${outputs.kubernetes.gatewayNamespace}"; ` +
                `platform stack acme/mlops/${stack} has an invalid modelFetchImage output "aws-cli:latest": expected an image reference (mlops:serving.modelFetchImage of the platform).`,
        );
        expect(error.resources.filter((r: any) => r.type.startsWith("kubernetes:") && r.type !== "pulumi:providers:kubernetes")).toEqual([]);
    });

    it("refuses its route against a platform without a gateway, saying who sets it", async () => {
        const { gateway: _gateway, ...withoutGateway } = outputs;
        const error = await runProject(EXAMPLE, stack, {
            stackReferences: { [`acme/mlops/${stack}`]: { ...stackReferenceOutputs(platform), outputs: withoutGateway } },
        }).catch((e) => e);
        expect(String(error.message)).toContain(
            "ModelRoute \"fraud-scorer\": platform.gateway must name the platform's Gateway, its HTTPS listener (sectionName) and the hostname suffix (like models.acme.io); readPlatform passes the platform stack's gateway output, which the platform team sets with mlops:serving.gateway.",
        );
        expect(error.resources.filter((r: any) => r.type === "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute")).toEqual([]);
    });

    it(
        stack === "dev"
            ? "builds the scorer image into the team's ECR repository and deploys its digest"
            : "deploys the digests promoted into the environment's account",
        () => {
            const image = deployment().spec.template.spec.containers[0].image as string;
            const scorer = JSON.parse(config.scorer);
            if (stack === "dev") {
                const repo = team.one("aws:ecr/repository:Repository");
                expect(team.inputs(repo)).toMatchObject({
                    name: "ml-fraud/fraud-scorer",
                    imageTagMutability: "IMMUTABLE",
                    imageScanningConfiguration: { scanOnPush: true },
                });
                expect(image).toBe(team.one("docker:index/image:Image").outputs.repoDigest);
                expect(team.inputs(team.one("docker:index/image:Image")).build.context).toBe("model-server"); // relative to the project's directory, where the CLI runs it
            } else {
                expect(team.ofType("aws:ecr/repository:Repository")).toEqual([]);
                expect(image).toBe(scorer.image.reference);
                expect(cronJob().spec.jobTemplate.spec.template.spec.containers[0].image).toBe(JSON.parse(config.nightly).image.reference);
            }
            expect(image).toMatch(
                new RegExp(
                    `^${JSON.parse(config.aws).accountId}\\.dkr\\.ecr\\.eu-west-1\\.amazonaws\\.com/ml-fraud/fraud-scorer(:[\\w.-]+)?@sha256:[a-f0-9]{64}$`,
                ),
            );
        },
    );

    it("takes no approval from its own config: prod stamps compliance's record, which the platform publishes from approvals/prod.yaml", async () => {
        expect(JSON.parse(config.scorer).approval).toBeUndefined();
        expect(JSON.parse(config.nightly).approval).toBeUndefined();
        expect(outputs.modelApprovals).toEqual(stack === "prod" ? loadModelApprovals("prod", ["fraud"]) : []);
        if (stack !== "prod") return;
        expect(cronJob().metadata.annotations).toMatchObject({ "mlops.acme.io/approved-by": "jane.doe", "mlops.acme.io/approval-ticket": "CHG-10423" });
        // The same team stack against a platform that has not approved the version: refused, nothing of the team's workloads created.
        const unapproved = { ...stackReferenceOutputs(platform), outputs: { ...outputs, modelApprovals: [] } };
        const error = await runProject(EXAMPLE, stack, { stackReferences: { [`acme/mlops/${stack}`]: unapproved } }).catch((e) => e);
        expect(String(error.message)).toMatch(/fraud\/fraud-scorer version 12 has no approval: approvals are recorded by compliance in approvals\/prod.yaml/);
        expect(error.resources.filter((r: any) => r.type.startsWith("kubernetes:") && r.type !== "pulumi:providers:kubernetes")).toEqual([]);
    });

    it("pins the model version everywhere but allows an alias nowhere; prod carries the approval", () => {
        const labels = deployment().spec.template.metadata.labels;
        const scorer = JSON.parse(config.scorer);
        expect(scorer.modelUri).toMatch(/^models:\/fraud-scorer\/\d+$/);
        expect(labels["mlops.acme.io/model-version"]).toBe(scorer.modelUri.split("/").pop());
        expect(labels["mlops.acme.io/approval-ticket"]).toBe(stack === "prod" ? "CHG-10423" : undefined);
        expect(deployment().spec.selector.matchLabels).toEqual({
            "app.kubernetes.io/name": "fraud-scorer",
            "app.kubernetes.io/instance": "fraud-scorer",
            "app.kubernetes.io/component": "model-server",
        });
    });

    it("exports its URL, images and operating notes", () => {
        const o = team.outputs();
        expect(o.namespace).toBe("ml-fraud");
        expect(o.scorerUrl).toBe("http://fraud-scorer.ml-fraud.svc.cluster.local");
        expect(o.scorerImage).toBe(deployment().spec.template.spec.containers[0].image);
        expect(o.nightlyOutputUri).toBe(`s3://${outputs.artifactBucketName}/${outputs.teams.fraud.batchOutputPrefix}/nightly-scoring/`);
        expect(o.nightlyStaleAfterSeconds).toBe(129600);
        expect(o.scorerOperatingNote).toContain(`# fraud-scorer: online model service`);
        expect(o.nightlyOperatingNote).toContain(`# fraud-nightly-scoring: scheduled batch scoring`);
    });

    it.runIf(stack === "prod")("has its operating notes in docs/operating-notes/ (npm run operating-notes)", () => {
        const o = team.outputs();
        const notes = { "team-fraud-fraud-scorer.md": o.scorerOperatingNote, "team-fraud-fraud-nightly-scoring.md": o.nightlyOperatingNote };
        for (const [file, note] of Object.entries(notes)) {
            const target = path.join(NOTES, file);
            if (UPDATE_NOTES) {
                fs.mkdirSync(NOTES, { recursive: true });
                fs.writeFileSync(target, note);
            }
            expect(fs.existsSync(target), `${target} is missing: run npm run operating-notes`).toBe(true);
            expect(fs.readFileSync(target, "utf8"), `${target} is out of date: run npm run operating-notes`).toBe(note);
        }
    });
});
