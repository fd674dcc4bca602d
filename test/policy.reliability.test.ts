/**
 * The reliability pack, policy by policy. The stack policies are tested with joined resources: a
 * Deployment without PDB, a PDB that selects other pods, an HPA that scales to one, a model server
 * nobody scrapes or alerts on.
 */
import { describe, expect, it } from "vitest";
import { containerEphemeralStorageSet } from "../policy/rules/reliability/containerEphemeralStorageSet";
import { cronjobBackoffBounded } from "../policy/rules/reliability/cronjobBackoffBounded";
import { cronjobDeadlinesSet } from "../policy/rules/reliability/cronjobDeadlinesSet";
import { cronjobNoConcurrentRuns } from "../policy/rules/reliability/cronjobNoConcurrentRuns";
import { deploymentReplicasHa } from "../policy/rules/reliability/deploymentReplicasHa";
import { mentions, modelAlertsDefined, selectsNamespace } from "../policy/rules/reliability/modelAlertsDefined";
import { modelWorkloadMonitored } from "../policy/rules/reliability/modelWorkloadMonitored";
import { statefulResourcesProtected } from "../policy/rules/reliability/statefulResourcesProtected";
import { workloadHasPdb } from "../policy/rules/reliability/workloadHasPdb";
import { quantityNumber, selects } from "../policy/readers/k8s";
import * as f from "./policies/fixtures";
import {
    assertHasResourceViolation,
    assertHasStackViolation,
    assertNoResourceViolations,
    assertNoStackViolations,
    assertResourceNotApplicable,
    context,
    createResourceValidationArgs,
    createStackValidationArgs,
    resourcePolicy,
    runStackPolicy,
    stackPolicy,
    type TestResource,
    UNKNOWN,
    variant,
    withResource,
} from "./policies/util";

/** The fixture stack with the resource `name` changed (or removed when `mutate` returns null). */
const stackVariant = (name: string, mutate: (props: Record<string, any>) => unknown): TestResource[] => withResource(f.modelStack(), name, mutate);

const DEPLOYMENT_REF = "Deployment team-fraud/fraud";

describe("deployment-replicas-ha", () => {
    const policy = stackPolicy(deploymentReplicasHa);
    const args = (resources: TestResource[]) => createStackValidationArgs(resources, { factory: deploymentReplicasHa });
    const hpa = (minReplicas: number): TestResource => ({
        type: f.HPA,
        name: "fraud-hpa",
        props: {
            metadata: { name: "fraud", namespace: "team-fraud" },
            spec: { scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "fraud" }, minReplicas, maxReplicas: 10 },
        },
    });

    it("passes three replicas", async () => {
        await assertNoStackViolations(policy, args(f.modelStack()));
    });
    it("reports a single replica (and an unset one)", async () => {
        await assertHasStackViolation(
            policy,
            args(stackVariant("fraud-deployment", (d) => (d.spec.replicas = 1))),
            `${DEPLOYMENT_REF} runs 1 replica(s); expected at least 2 (or an HPA with minReplicas >= 2).`,
            "::fraud-deployment",
        );
        await assertHasStackViolation(
            policy,
            args(stackVariant("fraud-deployment", (d) => delete d.spec.replicas)),
            `${DEPLOYMENT_REF} runs 1 replica(s); expected at least 2 (or an HPA with minReplicas >= 2).`,
        );
    });
    it("counts an HPA's minReplicas instead", async () => {
        const single = stackVariant("fraud-deployment", (d) => (d.spec.replicas = 1));
        await assertNoStackViolations(policy, args([...single, hpa(2)]));
        await assertHasStackViolation(
            policy,
            args([...single, hpa(1)]),
            `${DEPLOYMENT_REF} scales down to 1 replica(s) (HPA fraud); expected minReplicas >= 2.`,
        );
    });
    it("applies in prod only", async () => {
        const run = await runStackPolicy(
            stackPolicy(deploymentReplicasHa, context("dev")),
            args(stackVariant("fraud-deployment", (d) => (d.spec.replicas = 1))),
        );
        expect(run).toEqual({ violations: [], notApplicable: "applies in prod only, not in dev" });
    });
    it("skips a Deployment whose replicas are unknown", async () => {
        const run = await runStackPolicy(policy, args(stackVariant("fraud-deployment", (d) => (d.spec.replicas = UNKNOWN))));
        expect(run.violations).toEqual([]);
        expect(run.notApplicable).toMatch(/fraud-deployment: needs a value that is unknown during preview: string value at \.spec\.replicas/);
    });
});

describe("workload-has-pdb", () => {
    const policy = stackPolicy(workloadHasPdb);
    const args = (resources: TestResource[]) => createStackValidationArgs(resources);

    it("passes a Deployment with a matching PDB", async () => {
        await assertNoStackViolations(policy, args(f.modelStack()));
    });
    it("reports a Deployment without PDB", async () => {
        await assertHasStackViolation(
            policy,
            args(stackVariant("fraud-pdb", () => null)),
            `${DEPLOYMENT_REF} has no PodDisruptionBudget selecting its pods.`,
            "::fraud-deployment",
        );
    });
    it("reports a PDB that selects other pods or sits in another namespace", async () => {
        await assertHasStackViolation(
            policy,
            args(stackVariant("fraud-pdb", (p) => (p.spec.selector.matchLabels["app.kubernetes.io/name"] = "other"))),
            `${DEPLOYMENT_REF} has no PodDisruptionBudget selecting its pods.`,
        );
        await assertHasStackViolation(
            policy,
            args(stackVariant("fraud-pdb", (p) => (p.metadata.namespace = "default"))),
            `${DEPLOYMENT_REF} has no PodDisruptionBudget selecting its pods.`,
        );
    });
    it("reports a PDB that allows no disruption", async () => {
        await assertHasStackViolation(
            policy,
            args(stackVariant("fraud-pdb", (p) => (p.spec.maxUnavailable = 0))),
            `${DEPLOYMENT_REF}: PodDisruptionBudget fraud allows no disruption (maxUnavailable 0), which blocks node drains.`,
        );
        await assertHasStackViolation(
            policy,
            args(
                stackVariant("fraud-pdb", (p) => {
                    delete p.spec.maxUnavailable;
                    p.spec.minAvailable = 3;
                }),
            ),
            `${DEPLOYMENT_REF}: PodDisruptionBudget fraud requires 3 of (at least) 3 replica(s) available, which blocks node drains.`,
        );
    });
    it("counts an HPA's minReplicas for a Deployment without replicas (as ModelService renders it)", async () => {
        const hpa: TestResource = {
            type: f.HPA,
            name: "fraud-hpa",
            props: {
                metadata: { name: "fraud", namespace: "team-fraud" },
                spec: { scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "fraud" }, minReplicas: 3, maxReplicas: 12 },
            },
        };
        const scaled = (minAvailable: number) =>
            args([
                ...f.modelStack().map((r) =>
                    r.name === "fraud-deployment"
                        ? { ...r, props: variant(r.props, (d: any) => delete d.spec.replicas) }
                        : r.name === "fraud-pdb"
                          ? {
                                ...r,
                                props: variant(r.props, (p: any) => {
                                    delete p.spec.maxUnavailable;
                                    p.spec.minAvailable = minAvailable;
                                }),
                            }
                          : r,
                ),
                hpa,
            ]);
        await assertNoStackViolations(policy, scaled(2));
        await assertHasStackViolation(
            policy,
            scaled(3),
            `${DEPLOYMENT_REF}: PodDisruptionBudget fraud requires 3 of (at least) 3 replica(s) available, which blocks node drains.`,
        );
    });
    it("matches label selectors with expressions", () => {
        const labels = { app: "fraud", tier: "model" };
        expect(selects({ matchExpressions: [{ key: "app", operator: "In", values: ["fraud", "churn"] }] }, labels)).toBe(true);
        expect(selects({ matchExpressions: [{ key: "tier", operator: "NotIn", values: ["model"] }] }, labels)).toBe(false);
        expect(selects({ matchExpressions: [{ key: "canary", operator: "DoesNotExist" }] }, labels)).toBe(true);
        expect(selects({}, labels)).toBe(true);
        expect(selects(undefined, labels)).toBe(false);
    });
});

describe("stateful-resources-protected", () => {
    const policy = resourcePolicy(statefulResourcesProtected);
    const args = (type: string, protect: boolean) => createResourceValidationArgs(type, {}, { protect, factory: statefulResourcesProtected });

    it("passes protected stateful resources", async () => {
        for (const type of [f.BUCKET, f.KMS_KEY, f.RDS, f.NAMESPACE, f.STATEFULSET]) await assertNoResourceViolations(policy, args(type, true));
    });
    it("reports an unprotected bucket and database", async () => {
        await assertHasResourceViolation(
            policy,
            args(f.BUCKET, false),
            "aws:s3/bucket:Bucket holds state but is not protected: register it with protect: true.",
        );
        await assertHasResourceViolation(
            policy,
            args(f.RDS, false),
            "aws:rds/instance:Instance holds state but is not protected: register it with protect: true.",
        );
    });
    it("does not apply to stateless types, nor outside prod", async () => {
        await assertResourceNotApplicable(policy, args(f.DEPLOYMENT, false), "is not a stateful type");
        await assertResourceNotApplicable(
            resourcePolicy(statefulResourcesProtected, context("test")),
            args(f.BUCKET, false),
            "applies in prod only, not in test",
        );
    });
});

describe("CronJob policies", () => {
    const cron = (mutate: (c: Record<string, any>) => void = () => {}) =>
        createResourceValidationArgs(f.CRONJOB, variant(f.modelCronJob(), mutate), { factory: cronjobBackoffBounded });
    const REF = "CronJob team-fraud/fraud-batch";

    it("pass a well-behaved CronJob", async () => {
        for (const factory of [cronjobNoConcurrentRuns, cronjobDeadlinesSet, cronjobBackoffBounded]) {
            await assertNoResourceViolations(resourcePolicy(factory), createResourceValidationArgs(f.CRONJOB, f.modelCronJob(), { factory }));
        }
    });
    it("cronjob-no-concurrent-runs reports Allow (also when unset)", async () => {
        const policy = resourcePolicy(cronjobNoConcurrentRuns);
        const args = (mutate: (c: Record<string, any>) => void) =>
            createResourceValidationArgs(f.CRONJOB, variant(f.modelCronJob(), mutate), { factory: cronjobNoConcurrentRuns });
        await assertHasResourceViolation(
            policy,
            args((c) => (c.spec.concurrencyPolicy = "Allow")),
            `${REF} has concurrencyPolicy Allow; expected Forbid.`,
        );
        await assertHasResourceViolation(
            policy,
            args((c) => delete c.spec.concurrencyPolicy),
            `${REF} has concurrencyPolicy Allow; expected Forbid.`,
        );
    });
    it("cronjob-deadlines-set reports each missing deadline", async () => {
        const policy = resourcePolicy(cronjobDeadlinesSet);
        await assertHasResourceViolation(
            policy,
            cron((c) => delete c.spec.startingDeadlineSeconds),
            `${REF} does not set spec.startingDeadlineSeconds.`,
        );
        await assertHasResourceViolation(
            policy,
            cron((c) => delete c.spec.jobTemplate.spec.activeDeadlineSeconds),
            `${REF} does not set spec.jobTemplate.spec.activeDeadlineSeconds.`,
        );
    });
    it("cronjob-backoff-bounded reports an unset or large backoffLimit", async () => {
        const policy = resourcePolicy(cronjobBackoffBounded);
        await assertHasResourceViolation(
            policy,
            cron((c) => delete c.spec.jobTemplate.spec.backoffLimit),
            `${REF} does not set spec.jobTemplate.spec.backoffLimit (the default is 6); set it to at most 3.`,
        );
        await assertHasResourceViolation(
            policy,
            cron((c) => (c.spec.jobTemplate.spec.backoffLimit = 10)),
            `${REF} retries 10 times; expected a backoffLimit of at most 3.`,
        );
    });
});

describe("model-workload-monitored", () => {
    const policy = stackPolicy(modelWorkloadMonitored);
    const args = (resources: TestResource[]) => createStackValidationArgs(resources);

    it("passes a model server scraped through its Service", async () => {
        await assertNoStackViolations(policy, args(f.modelStack()));
    });
    it("reports a model server without ServiceMonitor", async () => {
        await assertHasStackViolation(
            policy,
            args(stackVariant("fraud-monitor", () => null)),
            `${DEPLOYMENT_REF} serves a model but no ServiceMonitor selects its Service fraud.`,
            "::fraud-deployment",
        );
    });
    it("reports a ServiceMonitor that selects other labels or another namespace", async () => {
        await assertHasStackViolation(
            policy,
            args(stackVariant("fraud-monitor", (m) => (m.spec.selector.matchLabels["app.kubernetes.io/name"] = "churn"))),
            `${DEPLOYMENT_REF} serves a model but no ServiceMonitor selects its Service fraud.`,
        );
        await assertHasStackViolation(
            policy,
            args(stackVariant("fraud-monitor", (m) => (m.metadata.namespace = "monitoring"))),
            `${DEPLOYMENT_REF} serves a model but no ServiceMonitor selects its Service fraud.`,
        );
        await assertNoStackViolations(
            policy,
            args(
                stackVariant("fraud-monitor", (m) => {
                    m.metadata.namespace = "monitoring";
                    m.spec.namespaceSelector = { matchNames: ["team-fraud"] };
                }),
            ),
        );
    });
    it("reports a model server without Service", async () => {
        await assertHasStackViolation(
            policy,
            args(stackVariant("fraud-service", () => null)),
            `${DEPLOYMENT_REF} serves a model but no Service selects its pods (and no PodMonitor does).`,
        );
    });
    it("accepts a PodMonitor", async () => {
        const podMonitor: TestResource = {
            type: f.POD_MONITOR,
            name: "fraud-pods",
            props: { metadata: { name: "fraud", namespace: "team-fraud" }, spec: { selector: { matchLabels: { ...f.SELECTOR } } } },
        };
        await assertNoStackViolations(policy, args([...stackVariant("fraud-monitor", () => null), podMonitor]));
    });
    it("ignores workloads that serve no model", async () => {
        const unlabelled = (d: Record<string, any>) => {
            delete d.metadata.labels[f.K.model];
            delete d.spec.template.metadata.labels[f.K.model];
        };
        const resources = stackVariant("fraud-monitor", () => null).map((r) =>
            r.name === "fraud-deployment" ? { ...r, props: variant(r.props, unlabelled) } : r,
        );
        await assertNoStackViolations(policy, args(resources));
    });
});

describe("model-alerts-defined", () => {
    const policy = stackPolicy(modelAlertsDefined);
    const args = (resources: TestResource[]) => createStackValidationArgs(resources);

    it("passes when an alert selects the model", async () => {
        await assertNoStackViolations(policy, args(f.modelStack()));
    });
    it("reports model workloads (CronJobs too) nobody alerts on", async () => {
        const resources = stackVariant("fraud-rules", () => null);
        await assertHasStackViolation(
            policy,
            args(resources),
            `${DEPLOYMENT_REF} runs model fraud but no PrometheusRule alert mentions it.`,
            "::fraud-deployment",
        );
        await assertHasStackViolation(
            policy,
            args(resources),
            "CronJob team-fraud/fraud-batch runs model fraud but no PrometheusRule alert mentions it.",
            "::fraud-batch",
        );
    });
    it("does not count recording rules or other models", async () => {
        const onlyRecording = stackVariant("fraud-rules", (r) => (r.spec.groups[0].rules = r.spec.groups[0].rules.filter((x: any) => x.record)));
        await assertHasStackViolation(policy, args(onlyRecording), `${DEPLOYMENT_REF} runs model fraud but no PrometheusRule alert mentions it.`);
        expect(mentions('mlops_requests_total{model="fraud-v2"}', "fraud")).toBe(false);
        expect(mentions('mlops_requests_total{model="fraud"}', "fraud")).toBe(true);
    });
    it("accepts team alerts that select the workload's namespace", async () => {
        const byNamespace = stackVariant("fraud-rules", (r) => {
            r.spec.groups[0].rules[1].expr = 'sum(rate(mlops_model_requests_total{namespace="team-fraud", status=~"5.."}[5m])) > 1';
        });
        await assertNoStackViolations(policy, args(byNamespace));
        expect(selectsNamespace('up{namespace=~"team-.*"}', "team-fraud")).toBe(true);
        expect(selectsNamespace('up{namespace="team-fraud-2"}', "team-fraud")).toBe(false);
    });
});

describe("container-ephemeral-storage-set", () => {
    const policy = resourcePolicy(containerEphemeralStorageSet);
    const deployment = (mutate: (d: Record<string, any>) => void = () => {}) =>
        createResourceValidationArgs(f.DEPLOYMENT, variant(f.modelDeployment(), mutate), { factory: containerEphemeralStorageSet });
    const server = (d: Record<string, any>) => d.spec.template.spec.containers[0];

    it("passes containers that request and limit it above the pod's scratch", async () => {
        await assertNoResourceViolations(policy, deployment());
        await assertNoResourceViolations(policy, createResourceValidationArgs(f.CRONJOB, f.modelCronJob(), { factory: containerEphemeralStorageSet }));
    });
    it("reports a container or init container without a request or a limit", async () => {
        await assertHasResourceViolation(
            policy,
            deployment((d) => delete server(d).resources.limits["ephemeral-storage"]),
            `${DEPLOYMENT_REF}: container "server" does not set resources.limits["ephemeral-storage"].`,
        );
        await assertHasResourceViolation(
            policy,
            deployment(
                (d) =>
                    (d.spec.template.spec.initContainers = [
                        { name: "migrate", image: f.IMAGE, resources: { requests: { cpu: "1", memory: "1Gi" }, limits: { cpu: "1", memory: "1Gi" } } },
                    ]),
            ),
            `${DEPLOYMENT_REF}: initContainer "migrate" does not set resources.requests["ephemeral-storage"] or resources.limits["ephemeral-storage"].`,
        );
    });
    it("reports limits that do not exceed the disk-backed emptyDirs, not memory-backed ones", async () => {
        await assertHasResourceViolation(
            policy,
            deployment((d) => (server(d).resources.limits["ephemeral-storage"] = "1Gi")),
            `${DEPLOYMENT_REF}: the containers' ephemeral-storage limits add up to no more than the emptyDir volumes tmp (1Gi): the pod is evicted before they fill; limit each container at its scratch plus room for logs.`,
        );
        await assertNoResourceViolations(
            policy,
            deployment((d) => (d.spec.template.spec.volumes = [{ name: "shm", emptyDir: { medium: "Memory", sizeLimit: "8Gi" } }])),
        );
    });
    it("is not applicable while a limit is unknown (preview)", async () => {
        await assertResourceNotApplicable(
            policy,
            deployment((d) => (server(d).resources.limits["ephemeral-storage"] = UNKNOWN)),
            "unknown during preview",
        );
    });
    it("quantityNumber reads Kubernetes quantities", () => {
        expect([
            quantityNumber("512Mi"),
            quantityNumber("1Gi"),
            quantityNumber("1.5G"),
            quantityNumber("100m"),
            quantityNumber(3),
            quantityNumber("1 Gi"),
            quantityNumber(undefined),
        ]).toEqual([512 * 1024 ** 2, 1024 ** 3, 1.5e9, 0.1, 3, undefined, undefined]);
    });
});
