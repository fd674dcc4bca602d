/**
 * The compliance view: docs/policies.md rendered from the packs' metadata and the per-stack config
 * files. Pure: scripts/policy-docs.ts writes it, a test regenerates it in memory and compares.
 */
import { ADMISSION_ELSEWHERE } from "../framework/admission";
import { effectiveLevel, effectiveProperties, type PackConfigFile } from "../framework/configFiles";
import type { PackDefinition, PolicyFactory } from "../framework/define";
import { FRAMEWORKS } from "../framework/types";

export interface DocsInput {
    readonly packs: readonly PackDefinition[];
    /** Stacks in column order (dev, test, prod). */
    readonly stacks: readonly string[];
    /** The config file of a pack for a stack. */
    readonly config: (stack: string, pack: string) => PackConfigFile;
    /** Environment of a stack (for scopes). */
    readonly environmentOf: (stack: string) => string | undefined;
}

const anchor = (name: string) => name;
const code = (v: unknown) => `\`${typeof v === "string" ? v : JSON.stringify(v)}\``;
const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

/** What a policy does in a stack: its level, or why it does not run there. */
export function levelIn(factory: PolicyFactory, file: PackConfigFile, environment: string | undefined): string {
    const level = effectiveLevel(file, factory.meta.name);
    if (level === "disabled") return "disabled";
    const scope = factory.environments ? (effectiveProperties(file, factory).environments as string[]) : undefined;
    if (scope && (environment === undefined || !scope.includes(environment))) return "not applicable";
    return level === "remediate" ? "mandatory" : level;
}

function controls(factory: PolicyFactory): string {
    if (factory.meta.controls.length === 0) return "none mapped";
    const byFramework = new Map<string, string[]>();
    for (const c of factory.meta.controls) byFramework.set(c.framework, [...(byFramework.get(c.framework) ?? []), c.control]);
    return [...byFramework]
        .map(([fw, ids]) => `${FRAMEWORKS[fw as keyof typeof FRAMEWORKS].name} ${FRAMEWORKS[fw as keyof typeof FRAMEWORKS].version}: ${ids.join(", ")}`)
        .join("; ");
}

function configTable(factory: PolicyFactory, input: DocsInput, pack: string): string[] {
    const props = factory.configSchema.properties ?? {};
    const keys = Object.keys(props);
    if (keys.length === 0) return [];
    const lines = [`| Setting | Default | ${input.stacks.join(" | ")} | Meaning |`, `|---|---|${input.stacks.map(() => "---").join("|")}|---|`];
    for (const key of keys) {
        const schema = props[key] as { default?: unknown; description?: string };
        const def = JSON.stringify(schema.default);
        const perStack = input.stacks.map((s) => {
            const v = JSON.stringify(effectiveProperties(input.config(s, pack), factory)[key]);
            return v === def ? "default" : cell(code(JSON.parse(v)));
        });
        lines.push(`| ${code(key)} | ${cell(code(schema.default))} | ${perStack.join(" | ")} | ${cell(schema.description ?? "")} |`);
    }
    return ["", ...lines];
}

/** How the cluster enforces a policy for every client (policy/framework/admission.ts). */
function inCluster(factory: PolicyFactory): string {
    const admission = (factory as { admission?: { partial?: string } }).admission;
    if (admission) {
        return `ValidatingAdmissionPolicy \`mlops-${factory.meta.name}\` in the teams' serving namespaces, at the level above (mandatory: Deny, advisory: Audit)${admission.partial ? `; in part: ${admission.partial}` : ""}`;
    }
    return ADMISSION_ELSEWHERE[factory.meta.name] ?? "AWS resources, not Kubernetes objects: the packs only";
}

function policySection(factory: PolicyFactory, pack: PackDefinition, input: DocsInput): string[] {
    const m = factory.meta;
    const levels = input.stacks.map((s) => `${s}: **${levelIn(factory, input.config(s, pack.name), input.environmentOf(s))}**`).join(" · ");
    return [
        `### ${m.name}`,
        "",
        `**${m.title}.** ${m.description}`,
        "",
        `- **Severity:** ${m.severity}${m.protectsData ? " · **protects data** (mandatory in every environment)" : ""}`,
        `- **Kind:** ${factory.kind === "stack" ? "stack policy (joins resources)" : "resource policy"} · **Applies to:** ${m.appliesTo.map((t) => code(t)).join(", ")}`,
        `- **Enforcement:** ${levels}${factory.environments ? ` (scope by default: ${factory.environments.join(", ")})` : ""}`,
        `- **Why:** ${m.rationale}`,
        `- **Remediation:** ${m.remediation}`,
        `- **Controls:** ${controls(factory)}`,
        `- **In the cluster:** ${inCluster(factory)}`,
        `- **Topics:** ${m.topics.join(", ")}`,
        ...(m.limitations ? [`- **Limits:** ${m.limitations}`] : []),
        ...configTable(factory, input, pack.name),
        "",
    ];
}

/** Renders docs/policies.md. */
export function renderPolicyDocs(input: DocsInput): string {
    const all = input.packs.flatMap((p) => p.policies.map((f) => ({ pack: p, factory: f })));
    const lines: string[] = [
        "# Policy packs",
        "",
        "<!-- Generated by `npm run policy:docs` (scripts/policy-docs.ts) from the policy metadata in policy/rules and the",
        "     enforcement files policy/config/<stack>/<pack>.json. Do not edit by hand: test/policy.docs.test.ts fails when this",
        "     file is out of date. -->",
        "",
        `${input.packs.length} CrossGuard packs, ${all.length} policies. Each runs with \`pulumi preview\` / \`pulumi up\`:`,
        "",
        "```sh",
        ...input.packs.map((p) => `pulumi preview --stack prod --policy-pack policy/${p.name} --policy-pack-config policy/config/prod/${p.name}.json`),
        "```",
        "",
        "Exceptions (advisory findings accepted on the real stacks) are listed with their reasons in [policy-exceptions.md](policy-exceptions.md).",
        "The same facts, machine-readable, are in [policy-catalogue.json](policy-catalogue.json) (`npm run policy:catalogue`); the controls each",
        "resource type of the stacks needs, and the policy or exception that covers each, are in [coverage.md](coverage.md).",
        "",
        "## How enforcement is decided",
        "",
        "- **Per environment, as data.** The level of every policy in every stack is in `policy/config/<stack>/<pack>.json`, the",
        "  file `--policy-pack-config` takes. Without a file a policy is `mandatory` (the packs fail closed).",
        "- **prod:** every policy is mandatory. **test:** like prod, so what prod would reject is caught one step earlier.",
        "  **dev:** advisory, except the policies that protect data (encryption, public access, TLS, least-privilege IAM, private",
        "  databases, secrets, environment isolation), which are mandatory everywhere.",
        "- **Scopes.** Some rules only make sense in some environments (approval records and HA in prod, digest pinning in test",
        "  and prod). Their `environments` setting says where they apply; elsewhere they report themselves *not applicable*.",
        "- **The stack's environment** comes from the stack name the engine gives the pack (`PULUMI_NODEJS_STACK`, what",
        "  `pulumi.getStack()` returns: `prod`, or a last name part like `acme/mlops-prod`), then a stack tag `environment`, then",
        "  the stack's `mlops:environment` config. When it cannot be told, environment-dependent policies are not applicable.",
        "- **Unknown values.** During a preview, outputs of resources not yet created are unknown. A policy that needs one",
        "  reports itself not applicable for that resource, naming the property; it never passes on a value it did not see.",
        "  Stack policies still report the resources they could evaluate.",
        "- **In the cluster, for every client.** Each policy that can be judged on one Kubernetes object also declares an admission",
        "  rule; the platform stack renders it as a ValidatingAdmissionPolicy bound to the teams' serving namespaces, at the",
        "  stack's level (mandatory: Deny; advisory: Audit) with the stack's config (components/platform/admissionPolicies.ts). So",
        "  `kubectl apply` or `pulumi up` without packs meet the same rules (e2e/admission.e2e.test.ts). Each policy below says",
        "  how the cluster enforces it, or why it cannot.",
        "",
        "## Summary",
        "",
        `| Policy | Pack | Severity | Protects data | ${input.stacks.join(" | ")} |`,
        `|---|---|---|---|${input.stacks.map(() => "---").join("|")}|`,
        ...all.map(
            ({ pack, factory }) =>
                `| [${factory.meta.name}](#${anchor(factory.meta.name)}) | ${pack.name} | ${factory.meta.severity} | ${factory.meta.protectsData ? "yes" : "no"} | ${input.stacks
                    .map((s) => levelIn(factory, input.config(s, pack.name), input.environmentOf(s)))
                    .join(" | ")} |`,
        ),
        "",
    ];
    for (const pack of input.packs) {
        lines.push(`## ${pack.name}`, "", pack.description, "");
        for (const factory of pack.policies) lines.push(...policySection(factory, pack, input));
    }
    lines.push(
        "## What the packs cannot see",
        "",
        "- **Helm releases** (`kubernetes:helm.sh/v3:Release`, e.g. kube-prometheus-stack) are one resource whose inputs are the",
        "  chart reference and its values; the objects the chart renders are not registered with Pulumi, so no policy sees their",
        "  pod specs, images or Services. The Kubernetes policies do not apply to releases. Review chart values in code review,",
        "  pin the chart version, and rely on the cluster's admission control (Pod Security Admission `restricted` on the",
        "  namespaces) for what runs. Objects created with `kubernetes:yaml/v2` are registered one by one and are checked.",
        "- **Values unknown during preview** (ids, ARNs, digests of resources being created) make the policies that need them",
        "  not applicable to that resource; `pulumi up` runs the packs again with the real values.",
        "- **Provider default tags** are only visible when the engine sends each resource's provider with it (current CLIs do);",
        "  otherwise `aws-ownership-tags` reports the resources it could not evaluate.",
        "- **`retainOnDelete`** is not passed to policies by @pulumi/policy 1.21; `stateful-resources-protected` checks `protect`.",
        "",
    );
    return lines.join("\n");
}
