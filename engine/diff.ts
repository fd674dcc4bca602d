/**
 * What a change does, from two plan documents (plan.json, `npm run plan -- --json/--out`): resources
 * created, deleted, updated (with the input paths that changed), moved (a new URN with an alias to the
 * old one: no change in the cloud) and replaced where that can be known from the plans alone: a URN that
 * changes without an alias (a delete and a create of the same type and name), or a change to a property
 * the provider cannot update in place. Stateful and protected resources come first, then the policy
 * results that appeared or went away. Rendered as text for a terminal and as Markdown for a pull-request
 * comment. Pure functions.
 *
 * What the plans cannot show: the cloud's current state (a plan is made from the program, not from a
 * state file), a secret's value (both plans hold `[secret]`; only a value becoming or ceasing to be a
 * secret shows), and replacements an AWS provider decides for properties outside {@link AWS_REPLACE_PATHS}
 * (the installed @pulumi/aws package carries no schema saying which properties force a replacement).
 */
import { resolveOldUrns } from "./aliases";
import type { RecordedAlias } from "./recorder";

/** A resource as plan.json holds it (engine/render.ts `resourceEntry`). */
export interface PlanResource {
    urn: string;
    type: string;
    name: string;
    custom: boolean;
    parent: string;
    inputs: Record<string, unknown>;
    secretInputs?: string[];
    options: { protect?: boolean; retainOnDelete?: boolean; aliases?: RecordedAlias[]; [k: string]: unknown };
}

export interface PlanViolationEntry {
    policyPackName: string;
    policyName: string;
    enforcementLevel: string;
    urn?: string;
    message: string;
}

/** The parts of a plan document a diff reads. */
export interface PlanDocument {
    planFormat: number;
    project: string;
    stack: string;
    resources: PlanResource[];
    policy?: { violations?: PlanViolationEntry[]; skipped?: string };
    error?: string;
}

/** Types that hold data: deleting or replacing one loses it. */
export const STATEFUL_TYPES: ReadonlySet<string> = new Set([
    "aws:s3/bucket:Bucket",
    "aws:s3/bucketV2:BucketV2",
    "aws:kms/key:Key",
    "aws:rds/instance:Instance",
    "aws:rds/cluster:Cluster",
    "aws:dynamodb/table:Table",
    "aws:efs/fileSystem:FileSystem",
    "aws:ecr/repository:Repository",
    "aws:secretsmanager/secret:Secret",
    "kubernetes:core/v1:Namespace",
    "kubernetes:core/v1:PersistentVolumeClaim",
    "kubernetes:core/v1:PersistentVolume",
    "kubernetes:apps/v1:StatefulSet",
]);

/** Input paths whose change makes every Kubernetes object be replaced (its identity). */
const KUBERNETES_IDENTITY = ["metadata.name", "metadata.namespace"];

/**
 * Input paths (prefixes) Kubernetes forbids updating, so a change replaces the object: the API server
 * rejects an update of these fields (immutable after creation), and the Kubernetes provider replaces
 * the object instead.
 */
export const KUBERNETES_REPLACE_PATHS: Readonly<Record<string, readonly string[]>> = {
    "apps/v1/Deployment": ["spec.selector"],
    "apps/v1/ReplicaSet": ["spec.selector"],
    "apps/v1/DaemonSet": ["spec.selector"],
    // A StatefulSet's spec may change only in replicas, template, updateStrategy, minReadySeconds,
    // ordinals and persistentVolumeClaimRetentionPolicy.
    "apps/v1/StatefulSet": ["spec.selector", "spec.serviceName", "spec.volumeClaimTemplates", "spec.podManagementPolicy", "spec.revisionHistoryLimit"],
    "batch/v1/Job": ["spec.selector", "spec.template", "spec.completionMode"],
    "core/v1/PersistentVolumeClaim": ["spec.accessModes", "spec.storageClassName", "spec.volumeName", "spec.volumeMode", "spec.selector", "spec.dataSource"],
    "core/v1/Service": ["spec.clusterIP"],
    "core/v1/Secret": ["type"],
    "rbac.authorization.k8s.io/v1/RoleBinding": ["roleRef"],
    "rbac.authorization.k8s.io/v1/ClusterRoleBinding": ["roleRef"],
};

/**
 * AWS properties the provider cannot update in place (the Terraform AWS provider's `ForceNew`, shown as
 * "Forces new resource" in its documentation), for the stateful and identity resources this platform
 * creates. Everything else is reported as an update.
 */
export const AWS_REPLACE_PATHS: Readonly<Record<string, readonly string[]>> = {
    "aws:s3/bucket:Bucket": ["bucket", "bucketPrefix"],
    "aws:s3/bucketV2:BucketV2": ["bucket", "bucketPrefix"],
    "aws:rds/instance:Instance": ["identifier", "identifierPrefix", "engine", "storageEncrypted", "kmsKeyId", "username", "dbName", "characterSetName"],
    "aws:ecr/repository:Repository": ["name"],
    "aws:kms/key:Key": ["customerMasterKeySpec", "keyUsage"],
    "aws:iam/role:Role": ["name", "namePrefix", "path"],
    "aws:eks/accessEntry:AccessEntry": ["clusterName", "principalArn"],
    "aws:secretsmanager/secret:Secret": ["name", "namePrefix"],
};

export type ChangeKind = "create" | "delete" | "update" | "replace" | "move";

export interface ResourceChange {
    kind: ChangeKind;
    urn: string;
    type: string;
    name: string;
    /** The URN in the baseline, when it differs (moves, and replacements by a changed URN). */
    oldUrn?: string;
    /** Input paths that differ (dotted, `[i]` for array items); secrets compare masked. */
    changedPaths: string[];
    /** Why the resource is replaced. */
    replaceReasons: string[];
    stateful: boolean;
    protected: boolean;
}

export interface PolicyChange {
    change: "new" | "resolved";
    violation: PlanViolationEntry;
}

export interface PlanDiff {
    base: { project: string; stack: string };
    head: { project: string; stack: string };
    /** Stateful and protected first, then by kind (replace, delete, create, update, move), then URN. */
    changes: ResourceChange[];
    unchanged: number;
    policy: PolicyChange[];
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Paths at which `a` and `b` differ (the shallowest differing path of each branch). */
export function changedPaths(a: unknown, b: unknown, path = ""): string[] {
    if (isPlainObject(a) && isPlainObject(b)) {
        const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
        return keys.flatMap((k) => changedPaths(a[k], b[k], path ? `${path}.${k}` : k));
    }
    if (Array.isArray(a) && Array.isArray(b)) {
        if (a.length !== b.length) return [path];
        return a.flatMap((e, i) => changedPaths(e, b[i], `${path}[${i}]`));
    }
    return JSON.stringify(a) === JSON.stringify(b) ? [] : [path];
}

/** `apiVersion/kind` of a Kubernetes resource type token (`kubernetes:apps/v1:Deployment` -> `apps/v1/Deployment`). */
function kubernetesKind(type: string): string | undefined {
    const m = /^kubernetes:([^:]+):([^:]+)$/.exec(type);
    return m ? `${m[1]}/${m[2]}` : undefined;
}

function under(path: string, prefix: string): boolean {
    return path === prefix || path.startsWith(`${prefix}.`) || path.startsWith(`${prefix}[`);
}

/** Why a change of `paths` replaces a resource of `type` (empty: an update in place). */
export function replaceReasons(type: string, paths: readonly string[], before: Record<string, unknown>, after: Record<string, unknown>): string[] {
    const kind = kubernetesKind(type);
    let forcing: readonly string[];
    if (kind) {
        forcing = [...KUBERNETES_IDENTITY, ...(KUBERNETES_REPLACE_PATHS[kind] ?? [])];
        // An immutable ConfigMap or Secret cannot change its data.
        const immutable = (before as { immutable?: unknown }).immutable === true && (after as { immutable?: unknown }).immutable === true;
        if (immutable && (kind === "core/v1/ConfigMap" || kind === "core/v1/Secret")) forcing = [...forcing, "data", "stringData", "binaryData"];
    } else {
        forcing = AWS_REPLACE_PATHS[type] ?? [];
    }
    const reasons = new Set<string>();
    for (const p of paths) {
        const f = forcing.find((prefix) => under(p, prefix));
        if (f) reasons.add(`${f} cannot be changed in place`);
    }
    return [...reasons];
}

/** Reasons from the resource's own `replaceOnChanges` option (`*` for every property). */
function replaceOnChanges(r: PlanResource, paths: readonly string[]): string[] {
    const opts = (r.options.replaceOnChanges as string[] | undefined) ?? [];
    return opts.filter((o) => paths.some((p) => o === "*" || under(p, o))).map((o) => `replaceOnChanges: ${o}`);
}

function entryOf(kind: ChangeKind, r: PlanResource, extra: Partial<ResourceChange> = {}): ResourceChange {
    return {
        kind,
        urn: r.urn,
        type: r.type,
        name: r.name,
        changedPaths: [],
        replaceReasons: [],
        stateful: STATEFUL_TYPES.has(r.type),
        protected: Boolean(r.options.protect),
        ...extra,
    };
}

const KIND_ORDER: Record<ChangeKind, number> = { replace: 0, delete: 1, create: 2, update: 3, move: 4 };

/** Data at risk: stateful or protected, and deleted or replaced. */
export function losesData(c: ResourceChange): boolean {
    return (c.stateful || c.protected) && (c.kind === "delete" || c.kind === "replace");
}

function violationKey(v: PlanViolationEntry): string {
    return `${v.policyPackName}\u0000${v.policyName}\u0000${v.urn ?? ""}\u0000${v.message}`;
}

/** `doc` with the stack left out of every URN, to compare two stacks of one project (environment drift). */
export function withoutStack(doc: PlanDocument): PlanDocument {
    const prefix = `urn:pulumi:${doc.stack}::`;
    const strip = (u: string) => (u.startsWith(prefix) ? `urn:pulumi:*::${u.slice(prefix.length)}` : u);
    return {
        ...doc,
        resources: doc.resources.map((r) => ({
            ...r,
            urn: strip(r.urn),
            parent: r.parent ? strip(r.parent) : r.parent,
            options: {
                ...r.options,
                aliases: (r.options.aliases ?? []).map((a) =>
                    "urn" in a ? { urn: strip(a.urn) } : { ...a, stack: "*", ...(a.parentUrn ? { parentUrn: strip(a.parentUrn) } : {}) },
                ),
            },
        })),
        policy: doc.policy ? { ...doc.policy, violations: doc.policy.violations?.map((v) => ({ ...v, ...(v.urn ? { urn: strip(v.urn) } : {}) })) } : doc.policy,
    };
}

/** The diff from `base` (e.g. main's plan) to `head` (the branch's). */
export function diffPlans(base: PlanDocument, head: PlanDocument): PlanDiff {
    const baseByUrn = new Map(base.resources.map((r) => [r.urn, r]));
    const headUrns = new Set(head.resources.map((r) => r.urn));
    // Where the engine finds each resource of head in base's state: its URN, or an alias (inherited ones too).
    const foundAt = resolveOldUrns(head.resources, (u) => baseByUrn.has(u));
    const matched = new Set<string>();
    const changes: ResourceChange[] = [];
    let unchanged = 0;
    const created: PlanResource[] = [];
    for (const r of head.resources) {
        const oldUrn = foundAt.get(r.urn);
        const old = oldUrn === undefined ? undefined : baseByUrn.get(oldUrn);
        const moved = oldUrn !== r.urn;
        if (!old) {
            created.push(r);
            continue;
        }
        matched.add(old.urn);
        const paths = changedPaths(old.inputs, r.inputs);
        const secretsBefore = new Set(old.secretInputs ?? []);
        const secretsAfter = new Set(r.secretInputs ?? []);
        for (const p of new Set([...secretsBefore, ...secretsAfter])) if (secretsBefore.has(p) !== secretsAfter.has(p) && !paths.includes(p)) paths.push(p);
        const reasons = r.custom ? [...replaceReasons(r.type, paths, old.inputs, r.inputs), ...replaceOnChanges(r, paths)] : [];
        if (reasons.length) changes.push(entryOf("replace", r, { changedPaths: paths, replaceReasons: reasons, ...(moved ? { oldUrn: old.urn } : {}) }));
        else if (paths.length && r.custom) changes.push(entryOf("update", r, { changedPaths: paths, ...(moved ? { oldUrn: old.urn } : {}) }));
        else if (moved) changes.push(entryOf("move", r, { oldUrn: old.urn, changedPaths: paths }));
        else unchanged++;
    }
    const deleted = base.resources.filter((r) => !matched.has(r.urn) && !headUrns.has(r.urn));
    // A URN that changed without an alias: the same type and name under another parent (or project,
    // stack): Pulumi deletes the old resource and creates a new one.
    const deletedByKey = new Map<string, PlanResource[]>();
    for (const d of deleted) {
        const key = `${d.type}\u0000${d.name}`;
        deletedByKey.set(key, [...(deletedByKey.get(key) ?? []), d]);
    }
    const replacedOld = new Set<string>();
    for (const r of created) {
        const candidates = deletedByKey.get(`${r.type}\u0000${r.name}`);
        const old = candidates?.shift();
        if (old && r.custom) {
            replacedOld.add(old.urn);
            const paths = changedPaths(old.inputs, r.inputs);
            changes.push(
                entryOf("replace", r, {
                    oldUrn: old.urn,
                    changedPaths: paths,
                    replaceReasons: ["the URN changed without an alias to the old one (add `aliases` to keep the resource)"],
                    protected: Boolean(r.options.protect || old.options.protect),
                }),
            );
        } else {
            if (old) replacedOld.add(old.urn); // a component: its children carry the change
            changes.push(entryOf("create", r));
        }
    }
    for (const d of deleted) if (!replacedOld.has(d.urn)) changes.push(entryOf("delete", d));
    changes.sort(
        (a, b) =>
            Number(losesData(b)) - Number(losesData(a)) ||
            Number(b.stateful || b.protected) - Number(a.stateful || a.protected) ||
            KIND_ORDER[a.kind] - KIND_ORDER[b.kind] ||
            (a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : 0),
    );
    const baseViolations = new Map((base.policy?.violations ?? []).map((v) => [violationKey(v), v]));
    const headViolations = new Map((head.policy?.violations ?? []).map((v) => [violationKey(v), v]));
    const policy: PolicyChange[] = [
        ...[...headViolations].filter(([k]) => !baseViolations.has(k)).map(([, v]) => ({ change: "new" as const, violation: v })),
        ...[...baseViolations].filter(([k]) => !headViolations.has(k)).map(([, v]) => ({ change: "resolved" as const, violation: v })),
    ];
    return { base: { project: base.project, stack: base.stack }, head: { project: head.project, stack: head.stack }, changes, unchanged, policy };
}

/** The stateful or protected resources a diff deletes or replaces (what `--fail-on-stateful-delete` fails on). */
export function dataLosingChanges(d: PlanDiff): ResourceChange[] {
    return d.changes.filter(losesData);
}

function counts(d: PlanDiff): string {
    const n = (k: ChangeKind) => d.changes.filter((c) => c.kind === k).length;
    return `${n("create")} to create, ${n("update")} to update, ${n("replace")} to replace, ${n("delete")} to delete, ${n("move")} moved, ${d.unchanged} unchanged`;
}

function title(d: PlanDiff): string {
    const side = (s: { project: string; stack: string }) => `${s.project}/${s.stack}`;
    return side(d.base) === side(d.head) ? `Changes to ${side(d.head)}` : `Changes from ${side(d.base)} to ${side(d.head)}`;
}

const SYMBOL: Record<ChangeKind, string> = { create: "+", delete: "-", update: "~", replace: "+-", move: ">" };

function flagsOf(c: ResourceChange): string {
    const f = [c.stateful ? "stateful" : "", c.protected ? "protected" : ""].filter(Boolean);
    return f.length ? ` [${f.join(", ")}]` : "";
}

function detailLines(c: ResourceChange): string[] {
    const out: string[] = [];
    if (c.oldUrn) out.push(`was ${c.oldUrn}`);
    for (const r of c.replaceReasons) out.push(`replaced: ${r}`);
    if (c.changedPaths.length)
        out.push(`changed: ${c.changedPaths.slice(0, 20).join(", ")}${c.changedPaths.length > 20 ? `, ... (${c.changedPaths.length} in all)` : ""}`);
    return out;
}

function policyLine(p: PolicyChange): string {
    const v = p.violation;
    return `${p.change === "new" ? "new" : "resolved"} ${v.enforcementLevel} ${v.policyPackName}/${v.policyName}${v.urn ? ` on ${v.urn.split("::").slice(-2).join("::")}` : ""}: ${v.message.split("\n")[0]}`;
}

/** The diff for a terminal. */
export function renderDiff(d: PlanDiff): string {
    const out = [`${title(d)}: ${counts(d)}`];
    const risky = dataLosingChanges(d);
    if (risky.length)
        out.push("", `WARNING: ${risky.length} stateful or protected resource${risky.length === 1 ? "" : "s"} deleted or replaced (data may be lost):`);
    if (d.changes.length) out.push("");
    for (const c of d.changes) {
        out.push(`  ${SYMBOL[c.kind].padEnd(2)} ${c.kind.padEnd(7)} ${c.type}  ${c.name}${flagsOf(c)}`);
        for (const l of detailLines(c)) out.push(`        ${l}`);
    }
    if (d.policy.length) out.push("", "Policy results that changed:", ...d.policy.map((p) => `  ${policyLine(p)}`));
    return out.join("\n");
}

function mdEscape(s: string): string {
    return s.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

/** The diff as Markdown, for a pull-request comment. */
export function renderDiffMarkdown(d: PlanDiff): string {
    const out = [`### ${title(d)}`, "", counts(d)];
    const risky = dataLosingChanges(d);
    if (risky.length)
        out.push("", `> **Warning:** ${risky.length} stateful or protected resource${risky.length === 1 ? "" : "s"} deleted or replaced; data may be lost.`);
    if (d.changes.length) {
        out.push("", "| | Change | Type | Name | Details |", "|---|---|---|---|---|");
        for (const c of d.changes) {
            const details = detailLines(c)
                .map((l) => mdEscape(l))
                .join("<br>");
            out.push(
                `| ${losesData(c) ? "⚠️" : ""} | ${c.kind}${c.stateful ? " (stateful)" : ""}${c.protected ? " (protected)" : ""} | \`${c.type}\` | \`${mdEscape(c.name)}\` | ${details} |`,
            );
        }
    }
    if (d.policy.length) out.push("", "**Policy results that changed**", "", ...d.policy.map((p) => `- ${mdEscape(policyLine(p))}`));
    return out.join("\n");
}
