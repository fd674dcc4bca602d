/**
 * Team serving namespaces as recorded for dev, test and prod: Pod Security labels, quotas, network
 * policies, IRSA roles scoped to exactly the team's prefixes, the deployers' Role, and the drift check.
 */
import * as fs from "fs";
import * as path from "path";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { parsePlatformConfig, type PlatformConfig, teamQuota, teamsIn } from "../stacks/config";
import { driftCheckDeadlines, driftCheckName, validateDriftCheckArgs } from "../components/platform/driftCheck";
import {
    deployerRules,
    driftCheckPolicy,
    INSTANCE_METADATA_CIDR,
    podSecurityAdmissionLabels,
    servingNetworkPolicies,
    validateServingNamespaceArgs,
    workloadPolicy,
    batchPolicy,
    trainingPolicy,
    type ServingNamespaceArgs,
} from "../components/platform/servingNamespace";
import { PROVIDER_AWAIT_WATCHES, providerAccessNeeds, rulesAllow } from "../components/platform/kubernetesAccess";
import { validateObjects } from "../engine/kubernetes";
import { configNamespace } from "../engine/project";
import { policyOf, ROOT, runStack, type StackRun, STACKS } from "./harness";

const ISSUER = (cfg: PlatformConfig) => cfg.cluster.oidcProviderArn.split(":oidc-provider/")[1];

describe.each(STACKS)("serving namespaces in %s", (stack) => {
    let run: StackRun;
    let cfg: PlatformConfig;
    beforeAll(async () => {
        run = await runStack(stack);
        cfg = parsePlatformConfig(configNamespace(run.recording.stackConfig.config, "mlops"), stack);
    });
    const k8sIn = (kind: string, ns: string) => run.k8sOfKind(kind, ns);

    it("exist for exactly the teams that list this environment", () => {
        const expected = stack === "prod" ? ["ml-fraud"] : ["ml-fraud", "ml-recsys"];
        const namespaces = run
            .k8sOfKind("Namespace")
            .map((n) => n.metadata.name)
            .filter((n) => n?.startsWith("ml-"));
        expect(namespaces.sort()).toEqual(expected);
        expect(
            teamsIn(cfg)
                .map((t) => `ml-${t.name}`)
                .sort(),
        ).toEqual(expected);
    });

    it("label the namespace for Pod Security, ownership and MLflow access", () => {
        for (const team of teamsIn(cfg)) {
            const ns = run.k8sObject("Namespace", `ml-${team.name}`);
            expect(ns.metadata.labels).toMatchObject({
                "pod-security.kubernetes.io/enforce": stack === "dev" ? "baseline" : "restricted",
                "pod-security.kubernetes.io/warn": "restricted",
                "pod-security.kubernetes.io/audit": "restricted",
                "mlops.acme.io/mlflow-access": "true",
                "mlops.acme.io/serving": "true",
                "mlops.acme.io/team": team.name,
                "mlops.acme.io/owner": team.name,
                "mlops.acme.io/environment": stack,
                "mlops.acme.io/cost-centre": "CC-4410",
            });
            expect(ns.metadata.annotations).toEqual({
                "mlops.acme.io/owners": team.owners.join(", "),
                "mlops.acme.io/deploy-group": team.deployGroup,
            });
        }
    });

    it(stack === "prod" ? "protect and retain the namespaces" : "do not protect the namespaces", () => {
        for (const r of run.ofType("kubernetes:core/v1:Namespace").filter((r) => r.parent.includes("ServingNamespace"))) {
            expect(r.options.protect).toBe(stack === "prod");
            expect(r.options.retainOnDelete).toBe(stack === "prod");
        }
    });

    it("size the ResourceQuota and LimitRange for the environment (and the team's overrides)", () => {
        for (const team of teamsIn(cfg)) {
            const q = teamQuota(cfg, team);
            const [quota] = k8sIn("ResourceQuota", `ml-${team.name}`);
            expect((quota.spec as any).hard).toEqual({
                "requests.cpu": q.cpu,
                "requests.memory": q.memory,
                "limits.cpu": q.limitsCpu,
                "limits.memory": q.limitsMemory,
                "requests.ephemeral-storage": q.ephemeralStorage,
                "limits.ephemeral-storage": q.limitsEphemeralStorage,
                pods: String(q.pods),
                services: String(q.services),
                persistentvolumeclaims: String(q.persistentVolumeClaims),
                "requests.nvidia.com/gpu": String(q.gpu),
                "services.loadbalancers": "0",
                "services.nodeports": "0",
            });
            const [limits] = k8sIn("LimitRange", `ml-${team.name}`);
            const lr = cfg.serving.limitRange;
            expect((limits.spec as any).limits).toEqual([
                {
                    type: "Container",
                    defaultRequest: { cpu: lr.defaultCpuRequest, memory: lr.defaultMemoryRequest, "ephemeral-storage": lr.defaultEphemeralStorageRequest },
                    default: { cpu: lr.defaultCpuLimit, memory: lr.defaultMemoryLimit, "ephemeral-storage": lr.defaultEphemeralStorageLimit },
                    max: { cpu: lr.maxCpu, memory: lr.maxMemory, "ephemeral-storage": lr.maxEphemeralStorage },
                },
            ]);
        }
        const fraud = (k8sIn("ResourceQuota", "ml-fraud")[0].spec as any).hard;
        expect(fraud["requests.cpu"]).toBe({ dev: "4", test: "8", prod: "48" }[stack]);
        expect(fraud.pods).toBe({ dev: "20", test: "40", prod: "150" }[stack]);
        expect([fraud["requests.ephemeral-storage"], fraud["limits.ephemeral-storage"]]).toEqual(
            { dev: ["16Gi", "64Gi"], test: ["32Gi", "128Gi"], prod: ["128Gi", "512Gi"] }[stack],
        );
    });

    it("deny all traffic, then allow DNS, the gateway, Prometheus, MLflow, the Pushgateway and HTTPS outside the VPC", () => {
        // allow-feature-server-egress is the FeatureStore's (test/featureStore.test.ts), not the namespace's.
        const policies: Record<string, any> = Object.fromEntries(
            k8sIn("NetworkPolicy", "ml-fraud")
                .filter((p) => p.metadata.name !== "allow-feature-server-egress")
                .map((p) => [p.metadata.name, p.spec]),
        );
        expect(k8sIn("NetworkPolicy", "ml-fraud").map((p) => p.metadata.name)).toContain("allow-feature-server-egress");
        expect(Object.keys(policies).sort()).toEqual(
            [
                "allow-aws-https-egress",
                "allow-dns",
                "allow-gateway-ingress",
                "allow-mlflow-egress",
                "allow-prometheus-scrape",
                "allow-pushgateway-egress",
                "default-deny",
            ].sort(),
        );
        for (const p of Object.values(policies)) expect(p.podSelector).toEqual({});
        expect(policies["default-deny"]).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
        expect(policies["allow-dns"].egress).toEqual([
            {
                to: [
                    {
                        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
                        podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
                    },
                ],
                ports: [
                    { protocol: "UDP", port: 53 },
                    { protocol: "TCP", port: 53 },
                ],
            },
        ]);
        expect(policies["allow-gateway-ingress"].ingress).toEqual([
            {
                from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": cfg.cluster.gatewayNamespace } } }],
                ports: [{ protocol: "TCP", port: "http" }],
            },
        ]);
        expect(policies["allow-prometheus-scrape"].ingress).toEqual([
            {
                from: [
                    {
                        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": cfg.monitoring.namespace } },
                        podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus" } },
                    },
                ],
                ports: [
                    { protocol: "TCP", port: "http" },
                    { protocol: "TCP", port: "metrics" },
                ],
            },
        ]);
        expect(policies["allow-mlflow-egress"].egress).toEqual([
            {
                to: [
                    {
                        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": cfg.mlflow.namespace } },
                        podSelector: {
                            matchLabels: {
                                "app.kubernetes.io/name": "mlflow",
                                "app.kubernetes.io/instance": "mlflow",
                                "app.kubernetes.io/component": "tracking-server",
                            },
                        },
                    },
                ],
                ports: [{ protocol: "TCP", port: 5000 }],
            },
        ]);
        expect(policies["allow-pushgateway-egress"].egress).toEqual([
            {
                to: [
                    {
                        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": cfg.monitoring.namespace } },
                        podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus-pushgateway" } },
                    },
                ],
                ports: [{ protocol: "TCP", port: 9091 }],
            },
        ]);
        expect(policies["allow-aws-https-egress"].egress).toEqual([
            { to: [{ ipBlock: { cidr: "0.0.0.0/0", except: [cfg.network.vpcCidr, "169.254.169.254/32"] } }], ports: [{ protocol: "TCP", port: 443 }] },
        ]);
        expect(cfg.network.vpcCidr).toBe({ dev: "10.10.0.0/16", test: "10.20.0.0/16", prod: "10.30.0.0/16" }[stack]);
        // The only ingress sources are the gateway and Prometheus.
        const ingressPolicies = Object.entries(policies)
            .filter(([, p]) => p.ingress)
            .map(([n]) => n);
        expect(ingressPolicies.sort()).toEqual(["allow-gateway-ingress", "allow-prometheus-scrape"]);
    });

    it("give the workload (model servers) a role that reads only the team's models and only writes its prediction logs", () => {
        const bucketArn = run.one("aws:s3/bucket:Bucket").outputs.arn as string;
        const keyArn = run.one("aws:kms/key:Key", "artifacts-key").outputs.arn as string;
        for (const team of teamsIn(cfg)) {
            const role = run.one("aws:iam/role:Role", `team-${team.name}-workload-role`);
            const inputs = run.inputs(role);
            expect(inputs.name).toBe(`acme-${stack}-serve-${team.name}`);
            expect(policyOf(inputs.assumeRolePolicy).Statement).toEqual([
                {
                    Sid: "ServiceAccountWebIdentity",
                    Effect: "Allow",
                    Principal: { Federated: cfg.cluster.oidcProviderArn },
                    Action: "sts:AssumeRoleWithWebIdentity",
                    Condition: {
                        StringEquals: {
                            [`${ISSUER(cfg)}:sub`]: `system:serviceaccount:ml-${team.name}:workload`,
                            [`${ISSUER(cfg)}:aud`]: "sts.amazonaws.com",
                        },
                    },
                },
            ]);
            const policyResource = run.one("aws:iam/rolePolicy:RolePolicy", `team-${team.name}-workload-policy`);
            expect(run.inputs(policyResource).role).toBe(role.id);
            const statements = policyOf(run.inputs(policyResource).policy).Statement;
            expect(statements).toEqual([
                {
                    Sid: "ListPrefixes",
                    Effect: "Allow",
                    Action: ["s3:ListBucket", "s3:GetBucketLocation"],
                    Resource: bucketArn,
                    Condition: { StringLike: { "s3:prefix": [`models/${team.name}`, `models/${team.name}/*`] } },
                },
                {
                    Sid: "ReadObjects",
                    Effect: "Allow",
                    Action: ["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging"],
                    Resource: [`${bucketArn}/models/${team.name}/*`],
                },
                { Sid: "DecryptWithBucketKey", Effect: "Allow", Action: ["kms:Decrypt", "kms:DescribeKey"], Resource: keyArn },
                {
                    Sid: "WriteObjects",
                    Effect: "Allow",
                    Action: ["s3:PutObject", "s3:AbortMultipartUpload"],
                    Resource: [`${bucketArn}/prediction-logs/${team.name}/*`],
                },
                { Sid: "EncryptWithBucketKey", Effect: "Allow", Action: ["kms:GenerateDataKey"], Resource: keyArn },
            ]);
            const sa = run.k8sOfKind("ServiceAccount", `ml-${team.name}`).find((s) => s.metadata.name === "workload")!;
            expect(sa.metadata.annotations).toEqual({ "eks.amazonaws.com/role-arn": role.outputs.arn });
            expect(sa.automountServiceAccountToken).toBe(false);
        }
    });

    it("give batch jobs a separate role that reads the team's models and batch inputs and only writes its batch outputs", () => {
        const bucketArn = run.one("aws:s3/bucket:Bucket").outputs.arn as string;
        for (const team of teamsIn(cfg)) {
            const role = run.one("aws:iam/role:Role", `team-${team.name}-batch-role`);
            expect(run.inputs(role).name).toBe(`acme-${stack}-batch-${team.name}`);
            expect(policyOf(run.inputs(role).assumeRolePolicy).Statement[0].Condition.StringEquals[`${ISSUER(cfg)}:sub`]).toBe(
                `system:serviceaccount:ml-${team.name}:batch`,
            );
            const statements = policyOf(run.inputs(run.one("aws:iam/rolePolicy:RolePolicy", `team-${team.name}-batch-policy`)).policy).Statement;
            const of = (sid: string) => statements.find((x: any) => x.Sid === sid);
            expect(of("ReadObjects").Resource).toEqual([`${bucketArn}/models/${team.name}/*`, `${bucketArn}/batch-inputs/${team.name}/*`]);
            expect(of("WriteObjects")).toEqual({
                Sid: "WriteObjects",
                Effect: "Allow",
                Action: ["s3:PutObject", "s3:AbortMultipartUpload"],
                Resource: [`${bucketArn}/batch-outputs/${team.name}/*`],
            });
            // No other identity reaches the batch prefixes.
            for (const other of ["workload", "drift-check"]) {
                expect(run.inputs(run.one("aws:iam/rolePolicy:RolePolicy", `team-${team.name}-${other}-policy`)).policy).not.toMatch(/batch-(inputs|outputs)/);
            }
            const sa = run.k8sOfKind("ServiceAccount", `ml-${team.name}`).find((x) => x.metadata.name === "batch")!;
            expect(sa.metadata.annotations).toEqual({ "eks.amazonaws.com/role-arn": role.outputs.arn });
            expect(sa.automountServiceAccountToken).toBe(false);
        }
    });

    it("give training runs a separate role that alone reads and writes the team's DVC remote (teams/<team>/dvc/), exported with the remote's settings", () => {
        const bucketArn = run.one("aws:s3/bucket:Bucket").outputs.arn as string;
        const bucketName = run.one("aws:s3/bucket:Bucket").outputs.bucket as string;
        const keyArn = run.one("aws:kms/key:Key", "artifacts-key").outputs.arn as string;
        for (const team of teamsIn(cfg)) {
            const role = run.one("aws:iam/role:Role", `team-${team.name}-training-role`);
            expect(run.inputs(role).name).toBe(`acme-${stack}-train-${team.name}`);
            const trust = policyOf(run.inputs(role).assumeRolePolicy).Statement;
            expect(trust).toHaveLength(1);
            expect(trust[0].Condition.StringEquals[`${ISSUER(cfg)}:sub`]).toBe(`system:serviceaccount:ml-${team.name}:training`);
            expect(policyOf(run.inputs(run.one("aws:iam/rolePolicy:RolePolicy", `team-${team.name}-training-policy`)).policy).Statement).toEqual([
                {
                    Sid: "ListPrefixes",
                    Effect: "Allow",
                    Action: ["s3:ListBucket", "s3:GetBucketLocation"],
                    Resource: bucketArn,
                    Condition: { StringLike: { "s3:prefix": [`teams/${team.name}/dvc`, `teams/${team.name}/dvc/*`] } },
                },
                {
                    Sid: "ReadWriteObjects",
                    Effect: "Allow",
                    Action: [
                        "s3:GetObject",
                        "s3:GetObjectVersion",
                        "s3:GetObjectTagging",
                        "s3:PutObject",
                        "s3:PutObjectTagging",
                        "s3:DeleteObject",
                        "s3:AbortMultipartUpload",
                        "s3:ListMultipartUploadParts",
                    ],
                    Resource: [`${bucketArn}/teams/${team.name}/dvc/*`],
                },
                { Sid: "UseBucketKey", Effect: "Allow", Action: ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"], Resource: keyArn },
            ]);
            // No other identity of any team reaches a DVC remote, neither by its prefix nor by the whole team folder
            // (TensorBoard's reader has teams/<team>/tensorboard/ only).
            for (const other of run.ofType("aws:iam/rolePolicy:RolePolicy").filter((p) => p.name !== `team-${team.name}-training-policy`)) {
                const policy = JSON.stringify(run.inputs(other).policy);
                expect(policy, other.name).not.toContain(`teams/${team.name}/dvc`);
                expect(policy, other.name).not.toMatch(new RegExp(`teams/${team.name}/(\\*|\\\\?")`));
            }
            const sa = run.k8sOfKind("ServiceAccount", `ml-${team.name}`).find((x) => x.metadata.name === "training")!;
            expect(sa.metadata.annotations).toEqual({ "eks.amazonaws.com/role-arn": role.outputs.arn });
            expect(sa.automountServiceAccountToken).toBe(false);
            // The stack output a team project reads (readPlatform(...).dvc).
            const out = run.outputs().teams[team.name];
            expect(out.trainingServiceAccountName).toBe("training");
            expect(out.trainingRoleArn).toBe(role.outputs.arn);
            expect(out.dvcPrefix).toBe(`teams/${team.name}/dvc`);
            expect(out.dvc).toEqual({
                name: "platform",
                url: `s3://${bucketName}/teams/${team.name}/dvc`,
                prefix: `teams/${team.name}/dvc`,
                region: "eu-west-1",
                endpointUrl: "https://s3.eu-west-1.amazonaws.com",
                roleArn: role.outputs.arn,
                serviceAccountName: "training",
                config: `[core]\n    remote = platform\n['remote "platform"']\n    url = s3://${bucketName}/teams/${team.name}/dvc\n    region = eu-west-1\n    endpointurl = https://s3.eu-west-1.amazonaws.com\n`,
            });
            if (stack === "test" && team.name === "fraud") {
                // The team guide shows this stack's file for team fraud.
                const guide = fs.readFileSync(path.join(ROOT, "docs", "team-guide.md"), "utf8");
                expect(/```ini\n([\s\S]*?)```/.exec(guide)?.[1]).toBe(out.dvc.config);
            }
        }
    });

    it("give the drift check a separate role that reads the team's models and prediction logs", () => {
        const bucketArn = run.one("aws:s3/bucket:Bucket").outputs.arn as string;
        const role = run.one("aws:iam/role:Role", "team-fraud-drift-check-role");
        expect(run.inputs(role).name).toBe(`acme-${stack}-drift-fraud`);
        expect(policyOf(run.inputs(role).assumeRolePolicy).Statement[0].Condition.StringEquals[`${ISSUER(cfg)}:sub`]).toBe(
            "system:serviceaccount:ml-fraud:drift-check",
        );
        const statements = policyOf(run.inputs(run.one("aws:iam/rolePolicy:RolePolicy", "team-fraud-drift-check-policy")).policy).Statement;
        expect(statements.find((s: any) => s.Sid === "ReadObjects").Resource).toEqual([`${bucketArn}/models/fraud/*`, `${bucketArn}/prediction-logs/fraud/*`]);
        expect(statements.flatMap((s: any) => s.Action)).not.toContain("s3:PutObject");
    });

    it("bind the team's deploy group to a namespaced Role without Secrets or RBAC rights", () => {
        for (const team of teamsIn(cfg)) {
            const [role] = k8sIn("Role", `ml-${team.name}`);
            expect(role.rules).toEqual(deployerRules());
            const [binding] = k8sIn("RoleBinding", `ml-${team.name}`);
            expect(binding.roleRef).toEqual({ apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "team-deployer" });
            expect(binding.subjects).toEqual([{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: team.deployGroup }]);
        }
        expect(run.k8sOfKind("ClusterRoleBinding")).toEqual([]);
    });

    it("map each of the team's deploy roles into its deploy group with an EKS access entry, and grant nothing else", () => {
        const entries = run.ofType("aws:eks/accessEntry:AccessEntry");
        const expected = teamsIn(cfg).flatMap((t) => t.deployRoleArns.map((arn) => ({ team: t, arn })));
        // The fraud team's stack deploys with this role (examples/team-fraud/Pulumi.<stack>.yaml).
        expect(expected.map((e) => e.arn)).toContain(`arn:aws:iam::${cfg.aws.accountId}:role/team-fraud-deploy`);
        expect(entries).toHaveLength(expected.length);
        for (const { team, arn } of expected) {
            const entry = entries.find((e) => run.inputs(e).principalArn === arn)!;
            expect(run.inputs(entry)).toEqual({
                clusterName: cfg.cluster.name,
                principalArn: arn,
                type: "STANDARD",
                kubernetesGroups: [team.deployGroup],
                tags: { team: team.name },
            });
            expect(entry.parent).toBe(run.ofType("mlops:index:ServingNamespace").find((c) => c.name === `team-${team.name}`)!.urn);
        }
        // The group's rights are the namespaced RoleBinding only: no access policy is associated.
        expect(run.ofType("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")).toEqual([]);
    });

    it("schedule the configured drift checks with restricted pods and the drift-check service account", () => {
        const cronJobs = k8sIn("CronJob", "ml-fraud").filter((c) => c.metadata.name?.startsWith("drift-check-"));
        expect(cronJobs.map((c) => c.metadata.name)).toEqual(["drift-check-fraud-scorer"]);
        expect(run.k8sOfKind("CronJob", "ml-recsys")).toEqual([]);
        const spec = cronJobs[0].spec as any;
        expect(spec).toMatchObject({ schedule: "15 * * * *", timeZone: "Etc/UTC", concurrencyPolicy: "Forbid", startingDeadlineSeconds: 600 });
        const job = spec.jobTemplate.spec;
        expect(job).toMatchObject({ backoffLimit: 2, activeDeadlineSeconds: 3600, ttlSecondsAfterFinished: 86400 });
        const pod = job.template.spec;
        expect(pod).toMatchObject({ serviceAccountName: "drift-check", automountServiceAccountToken: false, restartPolicy: "Never" });
        expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: "RuntimeDefault" } });
        const [container] = pod.containers;
        // dev builds images/drift-check (test/containerImage.test.ts); test and prod run a prebuilt digest.
        expect(container.image).toBe(cfg.monitoring.driftCheckImage ?? run.one("docker:index/image:Image", "drift-check-image-image").outputs.repoDigest);
        expect(container.image).toMatch(/@sha256:[a-f0-9]{64}$/);
        expect(container.securityContext).toMatchObject({
            runAsNonRoot: true,
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ["ALL"] },
            seccompProfile: { type: "RuntimeDefault" },
        });
        const r = cfg.monitoring.driftCheckResources;
        // Ephemeral storage: 128Mi reserved, the limit covers the 1Gi /tmp plus 256Mi.
        expect(container.resources).toEqual({
            requests: { cpu: r.cpuRequest, memory: r.memoryRequest, "ephemeral-storage": "128Mi" },
            limits: { cpu: r.cpuLimit, memory: r.memoryLimit, "ephemeral-storage": "1280Mi" },
        });
        expect(container.volumeMounts).toEqual([{ name: "tmp", mountPath: "/tmp" }]);
        expect(pod.volumes).toEqual([{ name: "tmp", emptyDir: { sizeLimit: "1Gi" } }]);
        const env = Object.fromEntries(container.env.filter((e: any) => e.value !== undefined).map((e: any) => [e.name, e.value]));
        const bucket = run.inputs(run.one("aws:s3/bucket:Bucket")).bucket;
        expect(env).toMatchObject({
            MLOPS_PUSHGATEWAY_URL: "http://pushgateway.monitoring.svc.cluster.local:9091",
            MLOPS_PUSH_JOB: "drift-check-fraud-scorer",
            MLOPS_PUSH_NAMESPACE: "ml-fraud",
            MLOPS_EXPECTED_INTERVAL_SECONDS: "3600",
            MLOPS_PREDICTION_LOG_URI: `s3://${bucket}/prediction-logs/fraud/fraud-scorer/`,
            MLOPS_REFERENCE_URI_PREFIX: `s3://${bucket}/models/fraud/fraud-scorer/`,
            MLFLOW_TRACKING_URI: `http://mlflow.${cfg.mlflow.namespace}.svc.cluster.local`,
        });
        const credentials = container.env.filter((e: any) => e.valueFrom).map((e: any) => e.valueFrom.secretKeyRef);
        expect(credentials).toEqual([
            { name: "mlflow-credentials", key: "username", optional: true },
            { name: "mlflow-credentials", key: "password", optional: true },
        ]);
    });

    it("export what a team stack needs", () => {
        const outputs = run.outputs();
        expect(Object.keys(outputs.teams).sort()).toEqual(
            teamsIn(cfg)
                .map((t) => t.name)
                .sort(),
        );
        const role = run.one("aws:iam/role:Role", "team-fraud-workload-role");
        expect(outputs.teams.fraud).toMatchObject({
            namespace: "ml-fraud",
            serviceAccountName: "workload",
            roleArn: role.outputs.arn,
            driftCheckServiceAccountName: "drift-check",
            modelPrefix: "models/fraud",
            predictionLogPrefix: "prediction-logs/fraud",
            labels: { "mlops.acme.io/team": "fraud", "mlops.acme.io/environment": stack },
        });
        expect(outputs.monitoring).toMatchObject({
            namespace: "monitoring",
            pushgatewayUrl: "http://pushgateway.monitoring.svc.cluster.local:9091",
            prometheusUrl: "http://kube-prometheus-stack-prometheus.monitoring.svc.cluster.local:9090",
            grafanaAdminSecretName: "grafana-admin",
        });
    });

    it("render objects that pass the Kubernetes schemas", async () => {
        const objects = run
            .k8s()
            .filter((o) => o.object.metadata.namespace?.startsWith("ml-") || o.object.metadata.name?.startsWith("ml-"))
            .map((o) => o.object);
        expect(objects.length).toBeGreaterThan(10);
        expect(await validateObjects(objects)).toEqual([]);
    });
});

describe("deployer role", () => {
    const rules = deployerRules();
    it("grants no Secrets, no RBAC objects, no escalation verbs and no wildcards", () => {
        for (const r of rules) {
            expect(r.resources).not.toContain("secrets");
            expect(r.resources).not.toContain("*");
            expect(r.apiGroups).not.toContain("rbac.authorization.k8s.io");
            expect(r.apiGroups).not.toContain("*");
            for (const verb of ["escalate", "bind", "impersonate", "*"]) expect(r.verbs).not.toContain(verb);
            expect(r.resources as string[]).not.toEqual(expect.arrayContaining(["pods/exec"]));
        }
    });
    it("lets the team ship models: deployments, services, configmaps, HPAs, PDBs, jobs, monitors and rules", () => {
        const can = (group: string, resource: string, verb: string) =>
            rules.some(
                (r) => (r.apiGroups as string[]).includes(group) && (r.resources as string[]).includes(resource) && (r.verbs as string[]).includes(verb),
            );
        for (const [g, res] of [
            ["apps", "deployments"],
            ["", "services"],
            ["", "configmaps"],
            ["autoscaling", "horizontalpodautoscalers"],
            ["policy", "poddisruptionbudgets"],
            ["batch", "cronjobs"],
            ["batch", "jobs"],
            ["monitoring.coreos.com", "servicemonitors"],
            ["monitoring.coreos.com", "prometheusrules"],
        ]) {
            expect(can(g, res, "create"), `${g}/${res}`).toBe(true);
        }
        expect(can("", "pods/log", "get")).toBe(true);
        expect(can("networking.k8s.io", "networkpolicies", "create")).toBe(false);
        expect(can("", "serviceaccounts", "create")).toBe(false);
        expect(can("", "resourcequotas", "update")).toBe(false);
    });
    it("lets the Pulumi provider create, update, delete and await every kind ModelService and BatchInference create", () => {
        // The kinds of the team components (the example team stack's objects are checked in example.test.ts).
        const teamKinds = [
            "Deployment",
            "Service",
            "HorizontalPodAutoscaler",
            "PodDisruptionBudget",
            "ConfigMap",
            "CronJob",
            "Job",
            "ServiceMonitor",
            "PrometheusRule",
        ];
        const missing = teamKinds.flatMap((kind) =>
            providerAccessNeeds(kind).flatMap((n) =>
                n.verbs.filter((v) => !rulesAllow(rules, n.group, n.resource, v)).map((v) => `${kind}: ${v} ${n.group || "core"}/${n.resource}`),
            ),
        );
        expect(missing).toEqual([]);
        // The informers of the awaits, spelled out: Deployments, Jobs and Services wait on related objects.
        expect(PROVIDER_AWAIT_WATCHES.Service).toEqual(["Endpoints"]);
        for (const verb of ["list", "watch"]) {
            expect(rulesAllow(rules, "", "endpoints", verb)).toBe(true);
            expect(rulesAllow(rules, "apps", "replicasets", verb)).toBe(true);
            expect(rulesAllow(rules, "", "pods", verb)).toBe(true);
            expect(rulesAllow(rules, "", "persistentvolumeclaims", verb)).toBe(true);
        }
    });
    it("is listed rule for rule in docs/team-guide.md", () => {
        const guide = fs.readFileSync(path.join(ROOT, "docs", "team-guide.md"), "utf8");
        const table = /<!-- deployer-role:start -->([\s\S]*?)<!-- deployer-role:end -->/.exec(guide);
        expect(table, "docs/team-guide.md has the deployer-role table").not.toBeNull();
        const documented = table![1]
            .trim()
            .split("\n")
            .slice(2)
            .map((row) =>
                row
                    .split("|")
                    .slice(1, -1)
                    .map((c) => c.trim()),
            )
            .map(([group, resources, verbs]) => `${group === "(core)" ? "" : group} | ${resources} | ${verbs}`);
        const actual = rules.map(
            (r) => `${(r.apiGroups as string[]).join(", ")} | ${(r.resources as string[]).join(", ")} | ${(r.verbs as string[]).join(", ")}`,
        );
        expect(documented).toEqual(actual);
    });
});

describe("IAM documents", () => {
    it("scope every object right to the team's own prefixes, for any team (property)", () => {
        const bucket = { bucketArn: "arn:aws:s3:::acme-artifacts", kmsKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/k" };
        fc.assert(
            fc.property(fc.stringMatching(/^[a-z][a-z0-9-]{0,18}[a-z0-9]$/), (team) => {
                const objects = (doc: ReturnType<typeof workloadPolicy>) =>
                    doc.Statement.filter((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]).some((a) => /Object|Multipart/.test(a)));
                for (const [policy, reads, writes] of [
                    [workloadPolicy, ["models"], ["prediction-logs"]],
                    [batchPolicy, ["models", "batch-inputs"], ["batch-outputs"]],
                ] as const) {
                    for (const s of objects(policy(bucket, team))) {
                        const own = (s.Action as string[]).includes("s3:PutObject") ? writes : reads;
                        expect(s.Resource).toEqual(own.map((area) => `${bucket.bucketArn}/${area}/${team}/*`));
                    }
                }
                for (const s of objects(trainingPolicy(bucket, team))) {
                    expect(s.Resource).toEqual([`${bucket.bucketArn}/teams/${team}/dvc/*`]);
                }
                for (const s of objects(driftCheckPolicy(bucket, team))) {
                    expect(s.Action).not.toContain("s3:PutObject");
                    expect(s.Resource).toEqual([`${bucket.bucketArn}/models/${team}/*`, `${bucket.bucketArn}/prediction-logs/${team}/*`]);
                }
            }),
            { numRuns: 100 },
        );
    });
});

describe("pure helpers and validation", () => {
    it("Pod Security labels warn and audit at restricted whatever is enforced", () => {
        for (const level of ["privileged", "baseline", "restricted"] as const) {
            expect(podSecurityAdmissionLabels(level)).toMatchObject({
                "pod-security.kubernetes.io/enforce": level,
                "pod-security.kubernetes.io/warn": "restricted",
                "pod-security.kubernetes.io/audit": "restricted",
            });
        }
    });

    it("the HTTPS egress excludes the VPC and the instance metadata service", () => {
        const spec = servingNetworkPolicies({ vpcCidr: "10.99.0.0/16", gatewayNamespace: "gw", monitoringNamespace: "mon", mlflowNamespace: "mlflow" });
        expect(spec["allow-aws-https-egress"].egress).toEqual([
            { to: [{ ipBlock: { cidr: "0.0.0.0/0", except: ["10.99.0.0/16", INSTANCE_METADATA_CIDR] } }], ports: [{ protocol: "TCP", port: 443 }] },
        ]);
        // Without a server selector, any pod of the MLflow namespace on its port.
        expect((spec["allow-mlflow-egress"].egress as any)[0].to).toEqual([
            { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "mlflow" } } },
        ]);
    });

    const valid: ServingNamespaceArgs = {
        team: "fraud",
        owners: ["fraud-ml@acme.io"],
        deployGroup: "acme:team-fraud-deployers",
        labels: { labelDomain: "acme.io", owner: "ml-platform", environment: "dev", costCentre: "CC-1" },
        enforce: "restricted",
        quota: {
            cpu: "4",
            memory: "8Gi",
            limitsCpu: "8",
            limitsMemory: "16Gi",
            ephemeralStorage: "8Gi",
            limitsEphemeralStorage: "32Gi",
            pods: 10,
            services: 5,
            persistentVolumeClaims: 0,
            gpu: 0,
        },
        limitRange: {
            defaultCpuRequest: "100m",
            defaultMemoryRequest: "128Mi",
            defaultCpuLimit: "1",
            defaultMemoryLimit: "1Gi",
            maxCpu: "2",
            maxMemory: "4Gi",
            defaultEphemeralStorageRequest: "128Mi",
            defaultEphemeralStorageLimit: "1Gi",
            maxEphemeralStorage: "8Gi",
        },
        artifactStore: { bucketArn: "arn:aws:s3:::b", kmsKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/k" },
        oidcProviderArn: "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABCDEF0123456789",
        roleNames: { workload: "acme-dev-serve-fraud", driftCheck: "acme-dev-drift-fraud", batch: "acme-dev-batch-fraud", training: "acme-dev-train-fraud" },
        network: { vpcCidr: "10.10.0.0/16", gatewayNamespace: "ingress-nginx", monitoringNamespace: "monitoring", mlflowNamespace: "mlflow" },
    };

    it("accepts valid arguments and rejects bad ones with every problem named", () => {
        expect(() => validateServingNamespaceArgs(valid)).not.toThrow();
        expect(() => validateServingNamespaceArgs({ ...valid, deployGroup: "system:masters" })).toThrow(
            /deployGroup "system:masters" must be a group of the organisation/,
        );
        expect(() => validateServingNamespaceArgs({ ...valid, team: "Fraud" })).toThrow(/team "Fraud" must be 2-20 lower-case letters/);
        expect(() => validateServingNamespaceArgs({ ...valid, owners: [] })).toThrow(/owners must name at least one/);
        expect(() => validateServingNamespaceArgs({ ...valid, quota: { ...valid.quota, limitsMemory: "4Gi" } })).toThrow(
            /quota.limitsMemory \(4Gi\) must be at least quota.memory \(8Gi\)/,
        );
        expect(() => validateServingNamespaceArgs({ ...valid, limitRange: { ...valid.limitRange, defaultCpuLimit: "4" } })).toThrow(
            /limitRange.defaultCpuLimit \(4\) must be at most limitRange.maxCpu \(2\)/,
        );
        expect(() => validateServingNamespaceArgs({ ...valid, network: { ...valid.network, vpcCidr: "10.10.0.1/16" } })).toThrow(/vpcCidr/);
        expect(() => validateServingNamespaceArgs({ ...valid, deployRoleArns: ["arn:aws:iam::123456789012:role/deploy"] })).toThrow(
            /clusterName is required with deployRoleArns/,
        );
        expect(() => validateServingNamespaceArgs({ ...valid, clusterName: "c", deployRoleArns: ["arn:aws:iam::123456789012:user/deploy"] })).toThrow(
            /deployRoleArns: "arn:aws:iam::123456789012:user\/deploy" must be an IAM role ARN/,
        );
        expect(() =>
            validateServingNamespaceArgs({
                ...valid,
                clusterName: "c",
                deployRoleArns: ["arn:aws:iam::123456789012:role/deploy", "arn:aws:iam::210987654321:role/deploy"],
            }),
        ).toThrow(/deployRoleArns must not list a role \(or two roles of the same name\) twice/);
        expect(() => validateServingNamespaceArgs({ ...valid, clusterName: "c", deployRoleArns: ["arn:aws:iam::123456789012:role/deploy"] })).not.toThrow();
        const both = () => validateServingNamespaceArgs({ ...valid, team: "x", roleNames: { workload: "r", driftCheck: "d", batch: "r", training: "t" } });
        expect(both).toThrow(/team "x".*; roleNames.workload, roleNames.driftCheck, roleNames.batch and roleNames.training must differ/);
    });

    it("drift checks: names fit a CronJob, deadlines fit the interval, arguments are checked", () => {
        expect(driftCheckName("fraud-scorer")).toBe("drift-check-fraud-scorer");
        expect(driftCheckName("a-very-long-registered-model-name-for-the-fraud-team-v2").length).toBeLessThanOrEqual(52);
        fc.assert(
            fc.property(fc.integer({ min: 5, max: 10080 }), (minutes) => {
                const d = driftCheckDeadlines(minutes);
                expect(d.activeDeadlineSeconds).toBeLessThanOrEqual(minutes * 60);
                expect(d.startingDeadlineSeconds).toBeLessThan(d.activeDeadlineSeconds + 1);
                expect(d.startingDeadlineSeconds).toBeGreaterThan(0);
            }),
        );
        const args = {
            team: "fraud",
            namespace: "ml-fraud",
            serviceAccountName: "drift-check",
            labels: valid.labels,
            model: "fraud-scorer",
            alias: "champion",
            schedule: "15 * * * *",
            intervalMinutes: 60,
            windowHours: 24,
            image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/mlops-drift-check:0.4.0",
            resources: { cpuRequest: "100m", memoryRequest: "256Mi", cpuLimit: "1", memoryLimit: "1Gi" },
            bucketName: "b",
            modelPrefix: "models/fraud",
            predictionLogPrefix: "prediction-logs/fraud",
            mlflowTrackingUri: "http://mlflow.mlflow.svc.cluster.local",
            pushgatewayUrl: "http://pushgateway.monitoring.svc.cluster.local:9091",
        };
        expect(() => validateDriftCheckArgs(args)).not.toThrow();
        expect(() => validateDriftCheckArgs({ ...args, image: "ghcr.io/acme/drift:latest" })).toThrow(/must be a pinned image reference/);
        expect(() => validateDriftCheckArgs({ ...args, schedule: "hourly", intervalMinutes: 1 })).toThrow(
            /schedule "hourly".*intervalMinutes must be an integer from 5 to 10080, got 1/,
        );
    });
});
