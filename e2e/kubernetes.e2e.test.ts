/**
 * Every stack on a real Kubernetes API server (kube-apiserver 1.32 from Go modules, etcd, TLS, token
 * authentication, RBAC, the default admission plugins with Pod Security; e2e/lib/apiserver.ts): for dev,
 * test and prod, the platform's objects (server-side applied as a platform administrator) and the example
 * team stack's (as the team's deploy group, with its own token), in dependency order, each with 0 errors
 * and 0 warnings; a Pod from every workload template admitted (dry run) in its namespace; the team's
 * deployer Role checked as data (what the Pulumi Kubernetes provider needs for each kind the team stack
 * creates, and no rule beyond those docs/team-guide.md lists); and the refusals the platform promises.
 * The output lists per stack the objects applied, errors and warnings, and the team's RBAC table.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KIND_RESOURCES, providerAccessNeeds } from "../components/platform/kubernetesAccess";
import { deployerRules } from "../components/platform/servingNamespace";
import { type ApplyResult, applyAll, dryRunTemplatePods, emulateControllers, refOf } from "./lib/apply";
import { type ApiServer, type KubeObject, startApiServer } from "./lib/apiserver";
import { installGatewayApiCrds } from "./lib/gatewayApi";
import { planPlatformAndTeam, type StackObjects } from "./lib/plans";
import { effectiveRules, expandRules, rbacTable, renderRbacTable, type Subject } from "./lib/rbac";

const ENVIRONMENTS = ["dev", "test", "prod"] as const;
const DEPLOY_GROUP_ANNOTATION = /^mlops\..+\/deploy-group$/;

/** Team namespaces of a platform plan with their deploy groups (the Namespace's deploy-group annotation). */
function teamNamespaces(objects: readonly KubeObject[]): { namespace: string; group: string }[] {
    return objects
        .filter((o) => o.kind === "Namespace")
        .flatMap((o) => {
            const ann = (o.metadata.annotations ?? {}) as Record<string, string>;
            const key = Object.keys(ann).find((k) => DEPLOY_GROUP_ANNOTATION.test(k));
            return key ? [{ namespace: String(o.metadata.name), group: ann[key] }] : [];
        });
}

function report(stack: string, who: string, results: readonly ApplyResult[]): string {
    const byKind = new Map<string, number>();
    for (const r of results) byKind.set(r.ref.split("/")[0], (byKind.get(r.ref.split("/")[0]) ?? 0) + 1);
    const errors = results.filter((r) => r.error);
    const warnings = results.flatMap((r) => r.warnings.map((w) => `${r.ref}: ${w}`));
    return [
        `=== ${stack}: server-side apply as ${who}`,
        `objects applied: ${results.length} (${[...byKind].map(([k, n]) => `${k} ${n}`).join(", ")})`,
        ...results.map((r) => `  ${r.error ? "ERROR" : "ok   "} ${r.status} ${r.ref}`),
        `errors: ${errors.length}`,
        ...errors.map((r) => `  ${r.ref}: ${r.error}`),
        `warnings: ${warnings.length}`,
        ...warnings.map((w) => `  ${w}`),
    ].join("\n");
}

/** A Pod that Pod Security `restricted` admits, with one change (privileged, or root). */
function probePod(namespace: string, name: string, serviceAccountName: string, change: "privileged" | "root"): KubeObject {
    const securityContext: Record<string, unknown> = {
        allowPrivilegeEscalation: false,
        capabilities: { drop: ["ALL"] },
        runAsNonRoot: true,
        runAsUser: 10001,
        seccompProfile: { type: "RuntimeDefault" },
    };
    if (change === "privileged") Object.assign(securityContext, { privileged: true, allowPrivilegeEscalation: true });
    if (change === "root") Object.assign(securityContext, { runAsNonRoot: false, runAsUser: 0 });
    return {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name, namespace },
        spec: {
            serviceAccountName,
            automountServiceAccountToken: false,
            containers: [
                {
                    name: "probe",
                    image: "registry.example/probe:1",
                    securityContext,
                    resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { cpu: "10m", memory: "16Mi" } },
                },
            ],
        },
    };
}

describe.each(ENVIRONMENTS)("stacks of %s on a real kube-apiserver", (env) => {
    let api: ApiServer | undefined;
    let platform: StackObjects;
    let team: StackObjects;
    let teams: { namespace: string; group: string }[];
    let teamNs: string;
    let deployer: Subject;
    let platformResults: ApplyResult[];
    let teamResults: ApplyResult[];

    beforeAll(async () => {
        ({ platform, team } = await planPlatformAndTeam(env));
        teams = teamNamespaces(platform.objects);
        const namespaces = new Set(team.objects.map((o) => o.metadata.namespace));
        expect(namespaces.size, `${team.name} deploys into one namespace`).toBe(1);
        teamNs = String([...namespaces][0]);
        const own = teams.find((t) => t.namespace === teamNs);
        if (!own) throw new Error(`${team.name} deploys into ${teamNs}, which is no team namespace of platform/${env}`);
        // The team authenticates with its own token: user and group as EKS maps its deploy role.
        deployer = { user: `${team.plan.project}-deploy`, groups: [own.group] };
        const crdResources = [
            ...new Set(
                [...platform.objects, ...team.objects]
                    .filter((o) => o.apiVersion.startsWith("monitoring.coreos.com/"))
                    .map((o) => KIND_RESOURCES[o.kind]?.resource ?? `${o.kind.toLowerCase()}s`),
            ),
        ];
        api = await startApiServer({
            users: [deployer, ...teams.filter((t) => t !== own).map((t) => ({ user: `${t.namespace}-deploy`, groups: [t.group] }))],
            prometheusOperatorCrds: crdResources,
        });
        // The team's HTTPRoute (its ModelRoute to the platform's gateway) is checked against the real Gateway API CRDs.
        if (team.objects.some((o) => o.apiVersion.startsWith("gateway.networking.k8s.io/"))) await installGatewayApiCrds(api);

        platformResults = await applyAll(api, platform.objects);
        console.log(report(platform.name, "a platform administrator (system:masters)", platformResults));
        await emulateControllers(api, platform.objects);
        teamResults = await applyAll(api, team.objects, { token: api.tokenFor(deployer.user, deployer.groups) });
        console.log(report(team.name, `the team's deploy group (user ${deployer.user}, group ${deployer.groups[0]})`, teamResults));
    });
    afterAll(async () => {
        await api?.stop();
    });

    it("applies every platform object as a platform administrator: 0 errors, 0 warnings", () => {
        expect(platformResults.length).toBe(platform.objects.length);
        expect(platformResults.length).toBeGreaterThan(30);
        expect(platformResults.filter((r) => r.error).map((r) => `${r.ref}: ${r.error}`)).toEqual([]);
        expect(platformResults.flatMap((r) => r.warnings.map((w) => `${r.ref}: ${w}`))).toEqual([]);
    });

    it("applies every team-fraud object as the team's deploy group: 0 errors, 0 warnings", () => {
        expect(teamResults.length).toBe(team.objects.length);
        expect(teamResults.length).toBeGreaterThan(5);
        expect(teamResults.filter((r) => r.error).map((r) => `${r.ref}: ${r.error}`)).toEqual([]);
        expect(teamResults.flatMap((r) => r.warnings.map((w) => `${r.ref}: ${w}`))).toEqual([]);
    });

    it("stored what was applied: every object reads back", async () => {
        const missing: string[] = [];
        for (const o of [...platform.objects, ...team.objects]) {
            const r = await api!.request("GET", await api!.objectPath(o));
            if (r.status !== 200) missing.push(`${refOf(o)}: ${r.status}`);
        }
        expect(missing).toEqual([]);
    });

    it("admits a Pod built from every workload template in its namespace (dry run): Pod Security enforced, 0 warnings", async () => {
        const results = await dryRunTemplatePods(api!, [...platform.objects, ...team.objects]);
        console.log(
            [
                `=== ${env}: Pods from workload templates (dryRun=All, Pod Security of each namespace)`,
                ...results.map(
                    (r) =>
                        `  ${r.error ? "REFUSED" : "admitted"} ${r.workload}${r.error ? `: ${r.error}` : ""}${r.warnings.length ? ` warnings: ${r.warnings.join("; ")}` : ""}`,
                ),
            ].join("\n"),
        );
        expect(results.length).toBeGreaterThanOrEqual(3);
        expect(results.some((r) => r.workload.startsWith(`Deployment/${teamNs}/`))).toBe(true);
        expect(results.some((r) => r.workload.startsWith(`CronJob/${teamNs}/`))).toBe(true);
        expect(results.filter((r) => r.error).map((r) => `${r.workload}: ${r.error}`)).toEqual([]);
        expect(results.flatMap((r) => r.warnings.map((w) => `${r.workload}: ${w}`))).toEqual([]);
    });

    it("grants the team's deploy group what the Pulumi provider needs for every kind its stack creates (SubjectAccessReview)", async () => {
        const kinds = [...new Set(team.objects.map((o) => o.kind))].sort();
        const needs = new Map<string, Set<string>>();
        for (const kind of kinds) {
            for (const n of providerAccessNeeds(kind)) {
                const related = Object.entries(KIND_RESOURCES).find(([, r]) => r.group === n.group && r.resource === n.resource)![0];
                const s = needs.get(related) ?? new Set<string>();
                n.verbs.forEach((v) => s.add(v));
                needs.set(related, s);
            }
        }
        // The table also shows what the team must not have: Secrets, RBAC, network policy and quota writes.
        const extra = ["Secret", "Role", "RoleBinding", "NetworkPolicy", "ServiceAccount", "ResourceQuota", "LimitRange", "Namespace"].filter(
            (k) => !needs.has(k),
        );
        const rows = await rbacTable(api!, deployer, teamNs, [
            ...[...needs].map(([kind, verbs]) => ({ kind, needed: verbs })),
            ...extra.map((kind) => ({ kind })),
        ]);
        console.log(renderRbacTable(`=== ${team.name}: RBAC of group ${deployer.groups[0]} in namespace ${teamNs} (kind x verb -> allowed)`, rows));
        const refused = rows.flatMap((r) => [...r.needed].filter((v) => !r.allowed[v]).map((v) => `${r.kind}: ${v}`));
        expect(refused).toEqual([]);
        for (const kind of extra.filter((k) => k !== "ServiceAccount" && k !== "ResourceQuota" && k !== "LimitRange" && k !== "NetworkPolicy")) {
            expect(rows.find((r) => r.kind === kind)!.allowed, kind).toEqual({
                get: false,
                list: false,
                watch: false,
                create: false,
                update: false,
                patch: false,
                delete: false,
            });
        }
    });

    it("gives the team's deploy group exactly the Role rules docs/team-guide.md lists, and nothing cluster-wide (SelfSubjectRulesReview)", async () => {
        expect(await effectiveRules(api!, deployer, teamNs)).toEqual(expandRules(deployerRules()));
        for (const t of teams.filter((x) => x.namespace !== teamNs)) expect(await effectiveRules(api!, deployer, t.namespace), t.namespace).toEqual([]);
        for (const ns of [
            "default",
            "kube-system",
            ...new Set(platform.objects.filter((o) => o.kind === "Namespace").map((o) => String(o.metadata.name))),
        ].filter((n) => n !== teamNs)) {
            expect(await effectiveRules(api!, deployer, ns), ns).toEqual([]);
        }
    });

    it("refuses a privileged container in every team namespace, and a root one where restricted is enforced (dev: warns)", async () => {
        for (const t of teams) {
            const ns = await api!.request("GET", `/api/v1/namespaces/${t.namespace}`);
            const enforce = ns.body.metadata.labels["pod-security.kubernetes.io/enforce"];
            const privileged = await api!.create(probePod(t.namespace, "privileged-probe", "workload", "privileged"), { dryRun: true });
            expect(privileged.status, `${t.namespace}: ${JSON.stringify(privileged.body?.message)}`).toBe(403);
            expect(privileged.body.message).toMatch(/violates PodSecurity "(baseline|restricted):latest": privileged/);
            const root = await api!.create(probePod(t.namespace, "root-probe", "workload", "root"), { dryRun: true });
            if (enforce === "restricted") {
                expect(root.status, `${t.namespace}: ${JSON.stringify(root.body?.message)}`).toBe(403);
                expect(root.body.message).toMatch(/violates PodSecurity "restricted:latest": .*runAsNonRoot != true.*runAsUser=0/);
            } else {
                expect(env).toBe("dev");
                expect(enforce).toBe("baseline");
                expect(root.status).toBe(201);
                expect(root.warnings.join("\n")).toMatch(/would violate PodSecurity "restricted:latest": .*runAsNonRoot != true.*runAsUser=0/);
            }
            // The probe itself is admitted where nothing is changed: the refusals are about privilege and root.
            const clean = probePod(t.namespace, "clean-probe", "workload", "root");
            Object.assign((clean.spec as any).containers[0].securityContext, { runAsNonRoot: true, runAsUser: 10001 });
            const ok = await api!.create(clean, { dryRun: true });
            expect([ok.status, ok.warnings]).toEqual([201, []]);
        }
    });

    it("refuses the team's writes in another team's namespace, to Secrets and to the platform's namespaces", async () => {
        const token = api!.tokenFor(deployer.user, deployer.groups);
        const configMap = (namespace: string): KubeObject => ({
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: { name: "e2e-intrusion", namespace },
            data: { x: "1" },
        });
        const refusals: string[] = [];
        const expectRefused = async (what: string, p: Promise<{ status: number }>) => {
            const r = await p;
            refusals.push(`${r.status === 403 ? "refused" : `NOT REFUSED (${r.status})`}: ${what}`);
        };
        const platformNamespaces = [...new Set(platform.objects.filter((o) => o.kind === "Namespace").map((o) => String(o.metadata.name)))].filter(
            (n) => !teams.some((t) => t.namespace === n),
        );
        for (const ns of [...teams.filter((t) => t.namespace !== teamNs).map((t) => t.namespace), ...platformNamespaces, "default", "kube-system"]) {
            await expectRefused(`apply ConfigMap in ${ns}`, api!.apply(configMap(ns), { token }));
            await expectRefused(
                `apply Deployment in ${ns}`,
                api!.apply(
                    { ...(team.objects.find((o) => o.kind === "Deployment") as KubeObject), metadata: { name: "e2e-intrusion", namespace: ns } },
                    { token },
                ),
            );
            await expectRefused(`list Secrets in ${ns}`, api!.request("GET", `/api/v1/namespaces/${ns}/secrets`, { token }));
        }
        await expectRefused(`list Secrets in ${teamNs}`, api!.request("GET", `/api/v1/namespaces/${teamNs}/secrets`, { token }));
        await expectRefused(
            `create a Secret in ${teamNs}`,
            api!.apply({ apiVersion: "v1", kind: "Secret", metadata: { name: "e2e-intrusion", namespace: teamNs }, stringData: { x: "1" } }, { token }),
        );
        await expectRefused(
            `create a RoleBinding in ${teamNs}`,
            api!.apply(
                {
                    apiVersion: "rbac.authorization.k8s.io/v1",
                    kind: "RoleBinding",
                    metadata: { name: "e2e-intrusion", namespace: teamNs },
                    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "admin" },
                    subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: deployer.groups[0] }],
                },
                { token },
            ),
        );
        await expectRefused(
            `widen the Role team-deployer in ${teamNs}`,
            api!.apply(
                {
                    apiVersion: "rbac.authorization.k8s.io/v1",
                    kind: "Role",
                    metadata: { name: "team-deployer", namespace: teamNs },
                    rules: [{ apiGroups: ["*"], resources: ["*"], verbs: ["*"] }],
                },
                { token },
            ),
        );
        await expectRefused(
            `change the NetworkPolicy default-deny in ${teamNs}`,
            api!.apply(
                {
                    apiVersion: "networking.k8s.io/v1",
                    kind: "NetworkPolicy",
                    metadata: { name: "default-deny", namespace: teamNs },
                    spec: { podSelector: {}, policyTypes: [] },
                },
                { token },
            ),
        );
        await expectRefused(
            `relabel its Namespace ${teamNs} (Pod Security)`,
            api!.apply(
                { apiVersion: "v1", kind: "Namespace", metadata: { name: teamNs, labels: { "pod-security.kubernetes.io/enforce": "privileged" } } },
                { token },
            ),
        );
        await expectRefused("create a Namespace", api!.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: "e2e-intrusion" } }, { token }));
        console.log(
            [`=== ${team.name}: refusals as group ${deployer.groups[0]} (real requests with the team's token)`, ...refusals.map((r) => `  ${r}`)].join("\n"),
        );
        expect(refusals.filter((r) => !r.startsWith("refused"))).toEqual([]);
        expect(refusals.length).toBeGreaterThan(10);
    });
});
