/**
 * What the offline plan shows and writes: the resource tree for a terminal, the machine-readable plan
 * document, Kubernetes manifests as files, and policy violations in the Pulumi CLI's layout. Secrets
 * never leave in clear: inputs are redacted, Secret data is replaced by a placeholder.
 */
import type { PlanProvenance } from "./provenance";
import * as path from "path";
import { portableYaml } from "../components/shared/yaml";
import { CLUSTER_SCOPED_KINDS, type KubernetesObject, type RenderedObject, type SchemaError } from "./kubernetes";
import { chartOrigin } from "./helm";
import type { RecordedResource } from "./recorder";
import type { PolicyReport, PolicyViolation } from "./policies";
import { isSecret, redact, secretPaths, UNKNOWN } from "./values";

/** What a secret value becomes in printed and written output. */
export const SECRET_MASK = "[secret]";
/** What the values of a Kubernetes Secret become in written manifests. */
export const MANIFEST_SECRET_PLACEHOLDER = "REDACTED-BY-OFFLINE-PLAN";
const ROOT_STACK_TYPE = "pulumi:pulumi:Stack";

// ------------------------------------------------------------------------------------------------
// The tree.
// ------------------------------------------------------------------------------------------------

/**
 * The aliases the program gave a resource. A provider SDK's resource classes add type aliases of their
 * own to every resource (a Deployment answers to its old apiVersions' types, a Bucket to BucketV2): an
 * alias that changes only the type, under the same parent, says nothing about this program, so the tree
 * leaves it out (plan.json keeps every alias).
 */
export function programAliases(r: Pick<RecordedResource, "options" | "parent">): RecordedResource["options"]["aliases"] {
    return r.options.aliases.filter((a) => {
        if ("urn" in a) return true;
        const typeOnly = a.type !== undefined && a.name === undefined && a.stack === undefined && a.project === undefined && !a.noParent;
        return !(typeOnly && (a.parentUrn === undefined || a.parentUrn === r.parent));
    });
}

function flags(r: RecordedResource): string[] {
    const f: string[] = [];
    if (r.options.protect) f.push("protect");
    if (r.options.retainOnDelete) f.push("retainOnDelete");
    if (r.options.deleteBeforeReplace) f.push("deleteBeforeReplace");
    if (r.options.ignoreChanges.length) f.push(`ignoreChanges: ${r.options.ignoreChanges.join(", ")}`);
    const own = programAliases(r);
    if (own.length) f.push(`${own.length} alias${own.length === 1 ? "" : "es"}`);
    const secrets = secretPaths(r.inputs).length;
    if (secrets) f.push(`${secrets} secret input${secrets === 1 ? "" : "s"}`);
    return f;
}

/** Short one-line rendering of a redacted input value. */
function inline(v: unknown): string {
    if (v === UNKNOWN) return "<computed>";
    const s = typeof v === "string" ? JSON.stringify(v) : JSON.stringify(v, (_k, x) => (x === UNKNOWN ? "<computed>" : x));
    return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

/** Kinds of resources, for the summary line. */
export function countKinds(resources: readonly RecordedResource[]): { custom: number; components: number; providers: number } {
    let custom = 0;
    let components = 0;
    let providers = 0;
    for (const r of resources) {
        if (r.type.startsWith("pulumi:providers:")) providers++;
        else if (r.custom) custom++;
        else if (r.type !== ROOT_STACK_TYPE) components++;
    }
    return { custom, components, providers };
}

/** Resource counts by type, most frequent first. */
export function countByType(resources: readonly RecordedResource[]): [string, number][] {
    const counts = new Map<string, number>();
    for (const r of resources) counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
    return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
}

/**
 * The resources as a tree by parent URN: `type  name  [flags]`, children indented under their parent.
 * With `details`, each resource's inputs follow, secrets masked.
 */
export function renderTree(resources: readonly RecordedResource[], opts: { details?: boolean } = {}): string {
    const known = new Set(resources.map((r) => r.urn));
    const children = new Map<string, RecordedResource[]>();
    const roots: RecordedResource[] = [];
    for (const r of resources) {
        if (r.parent && known.has(r.parent)) {
            let list = children.get(r.parent);
            if (!list) children.set(r.parent, (list = []));
            list.push(r);
        } else {
            roots.push(r);
        }
    }
    const lines: string[] = [];
    const walk = (r: RecordedResource, prefix: string, last: boolean, top: boolean) => {
        const f = flags(r);
        const branch = top ? "" : last ? "└─ " : "├─ ";
        lines.push(`${prefix}${branch}${r.type}  ${r.name}${f.length ? `  [${f.join("; ")}]` : ""}`);
        const inner = top ? prefix : prefix + (last ? "   " : "│  ");
        const kids = children.get(r.urn) ?? [];
        if (opts.details) {
            const bar = kids.length ? "│  " : "   ";
            const inputs = redact(r.inputs, SECRET_MASK) as Record<string, unknown>;
            for (const [k, v] of Object.entries(inputs)) lines.push(`${inner}${bar}  ${k}: ${inline(v)}`);
        }
        kids.forEach((c, i) => walk(c, inner, i === kids.length - 1, false));
    };
    roots.forEach((r, i) => walk(r, "", i === roots.length - 1, true));
    return lines.join("\n");
}

export function renderTypeCounts(resources: readonly RecordedResource[]): string {
    const counts = countByType(resources);
    const width = String(counts[0]?.[1] ?? 0).length;
    return counts.map(([type, n]) => `  ${String(n).padStart(width)}  ${type}`).join("\n");
}

// ------------------------------------------------------------------------------------------------
// The plan document (--json, plan.json).
// ------------------------------------------------------------------------------------------------

/** One resource in the plan document: everything recorded, inputs and outputs redacted. */
export function resourceEntry(r: RecordedResource, inputs: Record<string, unknown> = r.inputs) {
    return {
        urn: r.urn,
        type: r.type,
        name: r.name,
        custom: r.custom,
        ...(r.id !== undefined ? { id: r.id } : {}),
        parent: r.parent,
        provider: r.provider,
        providers: r.providers,
        inputs: redact(inputs, SECRET_MASK) as Record<string, unknown>,
        secretInputs: secretPaths(inputs),
        dependencies: r.dependencies,
        propertyDependencies: r.propertyDependencies,
        options: r.options,
    };
}

export interface PlanDocumentInput {
    project: string;
    stack: string;
    organization: string;
    /** The recorded resources (inputs as the engine would deploy them: policy remediations applied). */
    resources: readonly RecordedResource[];
    outputs: Record<string, unknown>;
    schemaErrors: readonly SchemaError[];
    kubernetesObjects: number;
    policy?: PolicyReport;
    policySkipped?: string;
    exitCode: number;
    /** When, from which commit and with which tool and SDK versions the plan was made (engine/provenance.ts). */
    provenance?: PlanProvenance;
}

export function planDocument(p: PlanDocumentInput) {
    const kinds = countKinds(p.resources);
    return {
        planFormat: 1,
        project: p.project,
        stack: p.stack,
        organization: p.organization,
        ...(p.provenance ? { provenance: p.provenance } : {}),
        exitCode: p.exitCode,
        summary: { resources: p.resources.length, ...kinds, byType: Object.fromEntries(countByType(p.resources)) },
        resources: p.resources.map((r) => resourceEntry(r)),
        outputs: redact(p.outputs, SECRET_MASK),
        kubernetes: { objects: p.kubernetesObjects, schemaErrors: p.schemaErrors },
        policy: p.policy
            ? {
                  packs: p.policy.packs.map((k) => ({
                      name: k.name,
                      version: k.version,
                      pluginVersion: k.pluginVersion,
                      dir: k.dir,
                      configFile: k.configFile ?? null,
                      policies: k.policies.length,
                      output: k.output,
                  })),
                  violations: p.policy.violations,
                  remediations: p.policy.remediations.map((m) => ({ ...m, before: redact(m.before, SECRET_MASK), after: redact(m.after, SECRET_MASK) })),
              }
            : { skipped: p.policySkipped ?? "no policy packs" },
    };
}

// ------------------------------------------------------------------------------------------------
// Kubernetes manifests.
// ------------------------------------------------------------------------------------------------

function isPlainObject(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Drops Pulumi-internal (`__`-prefixed) keys, at every level. */
function stripInternal(v: unknown): unknown {
    if (Array.isArray(v)) return v.map(stripInternal);
    if (isPlainObject(v)) {
        const out: Record<string, unknown> = {};
        for (const [k, e] of Object.entries(v)) if (!k.startsWith("__")) out[k] = stripInternal(e);
        return out;
    }
    return v;
}

/**
 * An object as it may be written to disk: Pulumi-internal keys dropped, every secret masked, and the
 * values of a Secret's `data` (base64) and `stringData` replaced by a placeholder whether marked secret
 * or not. apiVersion, kind and metadata come first.
 */
export function manifestObject(o: KubernetesObject): KubernetesObject {
    const clean = stripInternal(o) as Record<string, unknown>;
    const masked = (redact(clean, MANIFEST_SECRET_PLACEHOLDER) ?? {}) as Record<string, unknown>;
    if (o.kind === "Secret" && (o.apiVersion === "v1" || o.apiVersion === "core/v1")) {
        if (isPlainObject(masked.stringData)) {
            masked.stringData = Object.fromEntries(Object.keys(masked.stringData).map((k) => [k, MANIFEST_SECRET_PLACEHOLDER]));
        }
        if (isPlainObject(masked.data)) {
            const b64 = Buffer.from(MANIFEST_SECRET_PLACEHOLDER).toString("base64");
            masked.data = Object.fromEntries(Object.keys(masked.data).map((k) => [k, b64]));
        }
    }
    const { apiVersion, kind, metadata, ...rest } = masked;
    return { apiVersion, kind, metadata, ...rest } as KubernetesObject;
}

function safeSegment(s: string): string {
    return s.replace(/[^A-Za-z0-9._-]+/g, "_") || "_";
}

/** The nearest component (not the stack) above a resource; `_stack` when there is none. */
export function owningComponent(r: RecordedResource, byUrn: ReadonlyMap<string, RecordedResource>): string {
    let p = byUrn.get(r.parent);
    while (p) {
        if (!p.custom && p.type !== ROOT_STACK_TYPE) return p.name;
        p = byUrn.get(p.parent);
    }
    return "_stack";
}

/** `<namespace or _cluster>/<component>/<kind>-<name>.yaml` for an object. */
export function manifestPath(o: KubernetesObject, component: string): string {
    const ns = CLUSTER_SCOPED_KINDS.has(o.kind) ? "_cluster" : (o.metadata.namespace ?? "default");
    return path.posix.join(safeSegment(ns), safeSegment(component), `${safeSegment(o.kind.toLowerCase())}-${safeSegment(o.metadata.name ?? "unnamed")}.yaml`);
}

export interface ManifestFile {
    /** Relative to the manifests directory, `/`-separated. */
    path: string;
    content: string;
    urn: string;
}

/**
 * One object as YAML that kubectl reads back unchanged (kubectl parses YAML 1.1: see `portableYaml`).
 * js-yaml is also about three times faster than the `yaml` package's stringify, a large part of
 * writing manifests.
 */
export function manifestYaml(object: unknown): string {
    return portableYaml(object);
}

/** Every object as a YAML file, grouped by namespace and owning component. */
export function manifestFiles(rendered: readonly RenderedObject[], resources: readonly RecordedResource[]): ManifestFile[] {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const used = new Set<string>();
    return rendered.map(({ resource, object }) => {
        let p = manifestPath(object, owningComponent(resource, byUrn));
        // A chart's objects go in a directory of their release, under the component that installs it.
        const origin = chartOrigin(resource);
        if (origin) p = path.posix.join(path.posix.dirname(p), safeSegment(`helm-${origin.release}`), path.posix.basename(p));
        if (used.has(p)) {
            // Same kind and name in one namespace, different API groups: keep both.
            const group = safeSegment(object.apiVersion.replace(/\//g, "."));
            p = p.replace(/\.yaml$/, `.${group}.yaml`);
            for (let i = 2; used.has(p); i++) p = p.replace(/(\.\d+)?\.yaml$/, `.${i}.yaml`);
        }
        used.add(p);
        const doc = manifestYaml(manifestObject(object));
        const template = origin ? `# Rendered by Helm from ${origin.source} of release ${origin.release}\n` : "";
        return { path: p, content: `# Source: ${resource.urn}\n${template}${doc}`, urn: resource.urn };
    });
}

export function renderSchemaErrors(errors: readonly SchemaError[]): string {
    return errors.map((e) => `    ${e.object}${e.path ? ` ${e.path}` : ""}: ${e.message}`).join("\n");
}

// ------------------------------------------------------------------------------------------------
// Policy results, laid out like the Pulumi CLI's diff display.
// ------------------------------------------------------------------------------------------------

function resourceLabel(urn: string): string {
    if (!urn) return "stack";
    const parts = urn.split("::");
    const type = (parts[2] ?? "").split("$").pop();
    return `${type}: ${parts.slice(3).join("::")}`;
}

/** One violation: `pack@vX [level]  policy  (type: name)`, then the message and remediation, indented. */
export function renderViolation(v: PolicyViolation): string {
    const head = `    ${v.policyPackName}@v${v.policyPackVersion.replace(/^v/, "")} [${v.enforcementLevel}]  ${v.policyName}  (${resourceLabel(v.urn)})`;
    const body = v.message
        .replace(/\n+$/, "")
        .split("\n")
        .map((l) => `    ${l}`);
    const steps = v.remediationSteps
        ? v.remediationSteps
              .replace(/\n+$/, "")
              .split("\n")
              .map((l, i) => `    ${i === 0 ? "Remediation: " : "             "}${l}`)
        : [];
    return [head, ...body, ...steps].join("\n");
}

/** A path relative to the working directory when it is below it. */
function shortPath(p: string): string {
    const r = path.relative(process.cwd(), p);
    return r && !r.startsWith("..") && !path.isAbsolute(r) ? r : p;
}

function changedKeys(before: Record<string, unknown>, after: Record<string, unknown>): string {
    const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
    const out: string[] = [];
    for (const k of keys) {
        if (!(k in before)) out.push(`+${k}`);
        else if (!(k in after)) out.push(`-${k}`);
        else if (JSON.stringify(before[k]) !== JSON.stringify(after[k]) && !(isSecret(before[k]) && isSecret(after[k]))) out.push(`~${k}`);
    }
    return out.join(" ");
}

/** The policy section of the report. */
export function renderPolicyReport(report: PolicyReport): string {
    const out: string[] = [];
    const order = (v: PolicyViolation) => (v.enforcementLevel === "mandatory" ? 0 : 1);
    const violations = [...report.violations].sort((a, b) => order(a) - order(b));
    if (violations.length) {
        out.push("Policy Violations:");
        for (const v of violations) out.push(renderViolation(v), "");
    }
    if (report.remediations.length) {
        out.push("Policy Remediations:");
        for (const m of report.remediations) {
            out.push(
                `    ${m.policyPackName}@v${m.policyPackVersion.replace(/^v/, "")} [remediate]  ${m.policyName}  (${resourceLabel(m.urn)}) [${changedKeys(m.before, m.after)}]`,
            );
        }
        out.push("");
    }
    out.push("Policy Packs run:");
    const rows = report.packs.map((p) => [
        `${p.name}`,
        `v${p.version.replace(/^v/, "")}`,
        `(local: ${shortPath(p.dir)}${p.configFile ? `, config: ${shortPath(p.configFile)}` : ""})`,
    ]);
    const w0 = Math.max(4, ...rows.map((r) => r[0].length));
    const w1 = Math.max(7, ...rows.map((r) => r[1].length));
    out.push(`    ${"Name".padEnd(w0)}  ${"Version".padEnd(w1)}`);
    for (const r of rows) out.push(`    ${r[0].padEnd(w0)}  ${r[1].padEnd(w1)}  ${r[2]}`);
    const mandatory = report.violations.filter((v) => v.enforcementLevel === "mandatory").length;
    const advisory = report.violations.length - mandatory;
    out.push(
        "",
        `    ${mandatory} mandatory, ${advisory} advisory violation${advisory === 1 ? "" : "s"}; ${report.remediations.length} remediation${report.remediations.length === 1 ? "" : "s"}`,
    );
    return out.join("\n");
}
