/**
 * RBAC as data, asked of a real API server: SubjectAccessReviews (as the administrator) for a table of
 * kinds x verbs, and the rules a subject effectively has in a namespace (SelfSubjectRulesReview as the
 * subject, minus what every authenticated user has).
 */
import { kindResource } from "../../components/platform/kubernetesAccess";
import type { ApiServer } from "./apiserver";

export interface Subject {
    readonly user: string;
    readonly groups: readonly string[];
}

export const VERBS = ["get", "list", "watch", "create", "update", "patch", "delete"] as const;

/** One row of the table: a kind (or a resource) and, per verb, whether it is allowed and whether it is needed. */
export interface RbacRow {
    readonly kind: string;
    readonly group: string;
    readonly resource: string;
    readonly allowed: Record<string, boolean>;
    readonly needed: ReadonlySet<string>;
}

/** Asks the server, per kind and verb, whether `subject` may do it in `namespace`. */
export async function rbacTable(
    api: ApiServer,
    subject: Subject,
    namespace: string,
    kinds: readonly { kind: string; needed?: Iterable<string> }[],
): Promise<RbacRow[]> {
    const rows: RbacRow[] = [];
    for (const k of kinds) {
        const { group, resource } = kindResource(k.kind);
        const allowed: Record<string, boolean> = {};
        for (const verb of VERBS) allowed[verb] = await api.can(subject, { verb, group, resource, namespace });
        rows.push({ kind: k.kind, group, resource, allowed, needed: new Set(k.needed ?? []) });
    }
    return rows;
}

/** The table as text: `yes`/`-` per verb; a needed verb is marked `*`, a needed but refused one `NO*`. */
export function renderRbacTable(title: string, rows: readonly RbacRow[]): string {
    const cell = (r: RbacRow, v: string) => `${r.allowed[v] ? "yes" : r.needed.has(v) ? "NO" : "-"}${r.needed.has(v) ? "*" : ""}`;
    const head = ["kind (group/resource)", ...VERBS];
    const body = rows.map((r) => [`${r.kind} (${r.group || "core"}/${r.resource})`, ...VERBS.map((v) => cell(r, v))]);
    const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
    const line = (cells: string[]) =>
        cells
            .map((c, i) => c.padEnd(widths[i]))
            .join("  ")
            .trimEnd();
    return [
        title,
        line(head),
        ...body.map(line),
        "(* = the Pulumi Kubernetes provider needs it for a kind the team stack creates; NO* = needed but refused)",
    ].join("\n");
}

/** `group/resource:verb` for every resource rule (wildcard-free rules expanded). */
function expand(rules: readonly { apiGroups?: string[]; resources?: string[]; verbs: string[]; resourceNames?: string[] }[]): Set<string> {
    const out = new Set<string>();
    for (const r of rules) {
        if (r.resourceNames?.length) continue;
        for (const g of r.apiGroups ?? []) for (const res of r.resources ?? []) for (const v of r.verbs) out.add(`${g || "core"}/${res}:${v}`);
    }
    return out;
}

async function rulesReview(api: ApiServer, subject: Subject, namespace: string): Promise<Set<string>> {
    const r = await api.request("POST", "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews", {
        as: subject.user,
        asGroups: subject.groups,
        body: { apiVersion: "authorization.k8s.io/v1", kind: "SelfSubjectRulesReview", spec: { namespace } },
    });
    if (r.status !== 201) throw new Error(`SelfSubjectRulesReview failed (${r.status}): ${JSON.stringify(r.body)}`);
    if (r.body.status.incomplete) throw new Error(`SelfSubjectRulesReview incomplete: ${r.body.status.evaluationError}`);
    return expand(r.body.status.resourceRules ?? []);
}

/**
 * The resource rules `subject` has in `namespace` beyond those of every authenticated user (as
 * `group/resource:verb`, core group as `core`).
 */
export async function effectiveRules(api: ApiServer, subject: Subject, namespace: string): Promise<string[]> {
    const mine = await rulesReview(api, subject, namespace);
    const everyone = await rulesReview(api, { user: "e2e-nobody", groups: [] }, namespace);
    return [...mine].filter((r) => !everyone.has(r)).sort();
}

/** The same `group/resource:verb` form for Role rules. */
export function expandRules(rules: readonly { apiGroups?: unknown; resources?: unknown; verbs?: unknown }[]): string[] {
    return [...expand(rules as any)].sort();
}
