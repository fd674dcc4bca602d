/**
 * What compliance takes away from a plan: the result of every policy of every pack for every resource
 * (violation, pass, not applicable with its reason, accepted exception with its reason) with the
 * policy's controls, as a JSON results file, and the findings as SARIF 2.1.0 for code-scanning views.
 * Both come from the plan's policy report (engine/policies.ts), the recorded resources, the policy
 * catalogue (policy/reports/catalogue.ts) and the documented exceptions (docs/policy-exceptions.md).
 *
 * Status per (policy, resource), for the platform's packs, whose policies the catalogue knows:
 * - `violation`: the pack reported it (mandatory or advisory), unless an advisory one is a documented
 *   exception for this stack and resource: `accepted-exception`, with the exception's reason;
 * - `not-applicable`: the policy said so (its reason), or it does not look at the resource's type;
 * - `pass`: a resource policy that looks at the type and reported nothing;
 * - stack policies (which join resources) report per resource only what they found; their verdict for
 *   the stack is in `stackPolicies`.
 * A pack the catalogue does not know (e.g. awsguard) gets `violation` or `no-finding`.
 */
import { PACKS } from "../policy/packs";
import type { PolicyCatalogue } from "../policy/reports/catalogue";
import type { PolicyFactory } from "../policy/framework/define";
import type { PolicyException } from "../policy/reports/exceptions";
import type { PolicyReport } from "./policies";
import type { RecordedResource } from "./recorder";

export type ResultStatus = "violation" | "pass" | "not-applicable" | "accepted-exception" | "no-finding";

/** One policy's result for one resource. */
export interface PolicyResult {
    readonly pack: string;
    readonly policy: string;
    readonly status: ResultStatus;
    /** The enforcement level of a violation or accepted exception. */
    readonly level?: string;
    readonly message?: string;
    /** Why: the policy's not-applicable reason, or the exception's reason. */
    readonly reason?: string;
    readonly controls: readonly string[];
}

/** The results file of one stack's plan. */
export interface PlanResults {
    readonly resultsFormat: 1;
    readonly project: string;
    readonly stack: string;
    readonly generatedAt: string;
    readonly packs: readonly { readonly name: string; readonly version: string }[];
    readonly summary: Readonly<Record<ResultStatus, number>>;
    readonly resources: readonly { readonly urn: string; readonly type: string; readonly name: string; readonly results: readonly PolicyResult[] }[];
    /** Stack policies: violation when they reported anything, else pass. */
    readonly stackPolicies: readonly {
        readonly pack: string;
        readonly policy: string;
        readonly status: "violation" | "pass";
        readonly violations: number;
        readonly controls: readonly string[];
    }[];
}

const nameOf = (urn: string) => urn.split("::").pop() ?? urn;

/** Inputs of {@link planResults}. */
export interface PlanResultsInput {
    readonly project: string;
    /** The stack as docs/policy-exceptions.md names it: `prod`, or `<team project>/prod`. */
    readonly exceptionStack: string;
    readonly stack: string;
    readonly report: PolicyReport;
    readonly resources: readonly RecordedResource[];
    readonly catalogue: PolicyCatalogue;
    readonly exceptions: readonly PolicyException[];
    readonly now: Date;
}

/** Every policy's result for every resource of a plan. */
export function planResults(input: PlanResultsInput): PlanResults {
    const { report, catalogue } = input;
    const factories = new Map<string, PolicyFactory>(PACKS.flatMap((p) => p.policies.map((f) => [`${p.name}/${f.meta.name}`, f] as const)));
    const controlsOf = (pack: string, policy: string) =>
        catalogue.policies.find((p) => p.pack === pack && p.name === policy)?.controls.map((c) => `${c.framework}:${c.control}`) ?? [];
    const violations = new Map<string, PolicyReport["violations"]>();
    for (const v of report.violations) {
        if (!v.urn) continue;
        const key = `${v.urn}\u0000${v.policyPackName}/${v.policyName}`;
        violations.set(key, [...(violations.get(key) ?? []), v]);
    }
    const notApplicable = new Map(report.notApplicable.map((n) => [`${n.urn}\u0000${n.policyPackName}/${n.policyName}`, n.reason]));
    const exceptionFor = (policy: string, urn: string) =>
        input.exceptions.find((e) => e.stack === input.exceptionStack && e.policy === policy && e.resource === nameOf(urn));
    const summary: Record<ResultStatus, number> = { violation: 0, pass: 0, "not-applicable": 0, "accepted-exception": 0, "no-finding": 0 };

    const resources = input.resources
        .filter((r) => !r.type.startsWith("pulumi:") && !r.type.startsWith("mlops:"))
        .map((r) => {
            const results: PolicyResult[] = [];
            for (const pack of report.packs) {
                for (const info of pack.policies) {
                    const id = `${pack.name}/${info.name}`;
                    const factory = factories.get(id);
                    const controls = controlsOf(pack.name, info.name);
                    const found = violations.get(`${r.urn}\u0000${id}`) ?? [];
                    const base = { pack: pack.name, policy: info.name, controls };
                    if (found.length > 0) {
                        for (const v of found) {
                            const exception = v.enforcementLevel === "advisory" ? exceptionFor(info.name, r.urn) : undefined;
                            results.push(
                                exception
                                    ? { ...base, status: "accepted-exception", level: v.enforcementLevel, message: v.message, reason: exception.reason }
                                    : { ...base, status: "violation", level: v.enforcementLevel, message: v.message },
                            );
                        }
                        continue;
                    }
                    if (factory?.kind === "stack") continue;
                    const level = (pack.config[info.name] as { enforcementLevel?: string } | undefined)?.enforcementLevel ?? info.enforcementLevel;
                    if (level === "disabled") {
                        results.push({ ...base, status: "not-applicable", reason: "disabled in this stack's policy config" });
                        continue;
                    }
                    const reason = notApplicable.get(`${r.urn}\u0000${id}`);
                    if (reason !== undefined) results.push({ ...base, status: "not-applicable", reason });
                    else if (!factory) results.push({ ...base, status: "no-finding" });
                    else if (factory.kind === "resource" && !factory.appliesToType(r.type))
                        results.push({ ...base, status: "not-applicable", reason: `does not look at ${r.type}` });
                    else results.push({ ...base, status: "pass" });
                }
            }
            for (const x of results) summary[x.status]++;
            return { urn: r.urn, type: r.type, name: r.name, results };
        });

    const stackPolicies = report.packs.flatMap((pack) =>
        pack.policies
            .filter((info) => factories.get(`${pack.name}/${info.name}`)?.kind === "stack")
            .map((info) => {
                const n = report.violations.filter((v) => v.policyPackName === pack.name && v.policyName === info.name).length;
                return {
                    pack: pack.name,
                    policy: info.name,
                    status: n > 0 ? ("violation" as const) : ("pass" as const),
                    violations: n,
                    controls: controlsOf(pack.name, info.name),
                };
            }),
    );
    return {
        resultsFormat: 1,
        project: input.project,
        stack: input.stack,
        generatedAt: input.now.toISOString(),
        packs: report.packs.map((p) => ({ name: p.name, version: p.version })),
        summary,
        resources,
        stackPolicies,
    };
}

/** SARIF levels of the enforcement levels. */
const SARIF_LEVEL: Record<string, "error" | "warning" | "note"> = { mandatory: "error", remediate: "error", advisory: "warning" };

/** Inputs of {@link sarifLog}. */
export interface SarifInput {
    readonly tool: { readonly name: string; readonly version: string };
    readonly catalogue: PolicyCatalogue;
    /** One run per planned stack. */
    readonly runs: readonly { readonly results: PlanResults; readonly stackFile: string; readonly commit?: string }[];
}

/**
 * A SARIF 2.1.0 log: one run per stack; its rules are the catalogue's policies of the packs that ran
 * (help = remediation, properties = severity, controls, tags); its results the violations (error for
 * mandatory, warning for advisory) and accepted exceptions (with an external suppression and its
 * reason), located at the stack file and the resource's URN.
 */
export function sarifLog(input: SarifInput): Record<string, unknown> {
    return {
        $schema: "https://json.schemastore.org/sarif-2.1.0.json",
        version: "2.1.0",
        runs: input.runs.map(({ results, stackFile, commit }) => {
            const ran = new Set(results.packs.map((p) => p.name));
            const rules = input.catalogue.policies.filter((p) => ran.has(p.pack));
            const index = new Map(rules.map((p, i) => [`${p.pack}/${p.name}`, i]));
            const findings = results.resources.flatMap((r) =>
                r.results
                    .filter((x) => x.status === "violation" || x.status === "accepted-exception")
                    .map((x) => ({
                        ruleId: x.policy,
                        ...(index.has(`${x.pack}/${x.policy}`) ? { ruleIndex: index.get(`${x.pack}/${x.policy}`) } : {}),
                        level: SARIF_LEVEL[x.level ?? "advisory"] ?? "warning",
                        message: { text: x.message ?? x.policy },
                        locations: [
                            {
                                physicalLocation: { artifactLocation: { uri: stackFile } },
                                logicalLocations: [{ name: r.name, fullyQualifiedName: r.urn, kind: "resource" }],
                            },
                        ],
                        partialFingerprints: { "mlopsResource/v1": `${x.pack}/${x.policy}/${r.urn}` },
                        ...(x.status === "accepted-exception"
                            ? { suppressions: [{ kind: "external", status: "accepted", justification: x.reason ?? "" }] }
                            : {}),
                        properties: { pack: x.pack, enforcementLevel: x.level, controls: x.controls },
                    })),
            );
            return {
                tool: {
                    driver: {
                        name: input.tool.name,
                        version: input.tool.version,
                        rules: rules.map((p) => ({
                            id: p.name,
                            name: p.title,
                            shortDescription: { text: p.title },
                            fullDescription: { text: p.description },
                            help: { text: p.remediation },
                            defaultConfiguration: { level: SARIF_LEVEL[p.levels[results.stack] ?? ""] ?? "note" },
                            properties: {
                                pack: p.pack,
                                severity: p.severity,
                                controls: p.controls.map((c) => `${c.framework}:${c.control}`),
                                tags: [...p.topics, ...p.controls.map((c) => `${c.framework}:${c.control}`)],
                            },
                        })),
                    },
                },
                automationDetails: { id: `${results.project}/${results.stack}/` },
                invocations: [{ executionSuccessful: true, endTimeUtc: results.generatedAt }],
                results: findings,
                properties: { project: results.project, stack: results.stack, ...(commit ? { commit } : {}), summary: results.summary },
            };
        }),
    };
}
