/**
 * Reading AWS resources as Pulumi registers them: provider settings (which the engine passes as JSON
 * strings), effective tags, IAM policy documents (JSON strings or objects), S3 joins.
 */
import type { StackSubject } from "../framework/define";
import { isUnknown, raw } from "../framework/unknowns";

/** A value that may be JSON text (provider settings, IAM documents) as an object; undefined if unparseable. */
export function jsonish(v: unknown): any {
    if (typeof v !== "string") return v;
    const t = v.trim();
    if (!t.startsWith("{") && !t.startsWith("[")) return v;
    try {
        return JSON.parse(t);
    } catch {
        return undefined;
    }
}

/** The provider's `defaultTags.tags` (the engine sends provider inputs as JSON strings). */
export function providerDefaultTags(provider: StackSubject["provider"]): Record<string, unknown> {
    if (!provider) return {};
    const dt = jsonish(provider.props?.defaultTags);
    const tags = jsonish(dt?.tags);
    return typeof tags === "object" && tags !== null ? (tags as Record<string, unknown>) : {};
}

/**
 * The tags a resource ends up with: its provider's default tags overlaid with its own `tags`, and
 * `tagsAll` when the engine sent outputs that include it.
 */
export function effectiveTags(r: StackSubject): Record<string, unknown> {
    const own = jsonish(r.props.tags);
    const all = raw(r.props).tagsAll;
    const tagsAll = all !== undefined && !isUnknown(all) ? (r.props.tagsAll as Record<string, unknown>) : {};
    return { ...providerDefaultTags(r.provider), ...(own && typeof own === "object" ? own : {}), ...tagsAll };
}

// -------------------------------------------------------------------------------------------------
// IAM policy documents
// -------------------------------------------------------------------------------------------------

export interface Statement {
    readonly sid?: string;
    readonly effect: string;
    readonly actions: string[];
    readonly notActions: string[];
    readonly resources: string[];
    readonly notResources: string[];
    readonly principal: unknown;
    readonly condition: Record<string, Record<string, unknown>>;
    /** `statement "ReadObjects"` or `statement #2`. */
    readonly label: string;
}

const list = (v: unknown): string[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);

/**
 * Parses a policy document; undefined when it is not one. (It never catches: an unknown value read
 * through the policy proxy propagates, so the policy becomes not applicable rather than failing.)
 */
export function parseDocument(value: unknown): Statement[] | undefined {
    const doc = jsonish(value);
    if (!doc || typeof doc !== "object") return undefined;
    const statements = Array.isArray(doc.Statement) ? doc.Statement : doc.Statement ? [doc.Statement] : [];
    return statements.map((s: Record<string, any>, i: number) => ({
        sid: s.Sid,
        effect: String(s.Effect ?? ""),
        actions: list(s.Action),
        notActions: list(s.NotAction),
        resources: list(s.Resource),
        notResources: list(s.NotResource),
        principal: s.Principal,
        condition: (s.Condition ?? {}) as Record<string, Record<string, unknown>>,
        label: s.Sid ? `statement "${s.Sid}"` : `statement #${i + 1}`,
    }));
}

/** The policy documents a resource carries, with where they sit: `policy`, `inlinePolicies[0].policy`. */
export function policyDocuments(type: string, props: Record<string, any>): { where: string; document: unknown }[] {
    switch (type) {
        case "aws:iam/rolePolicy:RolePolicy":
        case "aws:iam/policy:Policy":
        case "aws:iam/userPolicy:UserPolicy":
        case "aws:iam/groupPolicy:GroupPolicy":
            return props.policy === undefined ? [] : [{ where: "policy", document: props.policy }];
        case "aws:iam/role:Role":
            return (Array.isArray(props.inlinePolicies) ? props.inlinePolicies : [])
                .map((p: Record<string, any>, i: number) => ({ where: `inlinePolicies[${i}] (${p?.name ?? "unnamed"})`, document: p?.policy }))
                .filter((d: { document: unknown }) => d.document !== undefined);
        default:
            return [];
    }
}

export const IAM_POLICY_TYPES = [
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/policy:Policy",
    "aws:iam/userPolicy:UserPolicy",
    "aws:iam/groupPolicy:GroupPolicy",
    "aws:iam/role:Role",
];

/** A case-insensitive regex for an IAM glob (`*` any run, `?` one character). */
export function globRegex(glob: string): RegExp {
    const body = glob
        .replace(/[.+^${}()|[\]\\]/g, "\\$&")
        .replace(/\*/g, ".*")
        .replace(/\?/g, ".");
    return new RegExp(`^${body}$`, "i");
}

/** Do two IAM action globs overlap (one could match an action the other matches)? */
export function actionsOverlap(a: string, b: string): boolean {
    return globRegex(a).test(b) || globRegex(b).test(a);
}

// -------------------------------------------------------------------------------------------------
// S3: a bucket and the separate resources that configure it (aws v7)
// -------------------------------------------------------------------------------------------------

export const BUCKET_TYPES = ["aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"];

/** The names by which configuration resources may refer to a bucket (its name and id), when known. */
function bucketIdentifiers(bucket: StackSubject): string[] {
    const p = raw(bucket.props) as Record<string, unknown>;
    return [p.bucket, p.id].filter((v): v is string => typeof v === "string" && v.length > 0 && !isUnknown(v));
}

/** The bucket's name if known. */
export function bucketName(bucket: StackSubject): string | undefined {
    const p = raw(bucket.props) as Record<string, unknown>;
    return typeof p.bucket === "string" && !isUnknown(p.bucket) ? p.bucket : undefined;
}

export interface BucketJoin {
    /** Configuration resources that target the bucket. */
    readonly matches: StackSubject[];
    /** Configuration resources whose target is unknown during preview (could be this bucket). */
    readonly unresolved: StackSubject[];
}

/**
 * The configuration resources of `types` that target `bucket`: by the `bucket` input (its name) when
 * known, else by the property dependency of `bucket` on the bucket resource (known even in preview).
 */
export function joinBucket(bucket: StackSubject, resources: readonly StackSubject[], types: readonly string[]): BucketJoin {
    const ids = bucketIdentifiers(bucket);
    const matches: StackSubject[] = [];
    const unresolved: StackSubject[] = [];
    for (const r of resources) {
        if (!types.includes(r.type)) continue;
        const target = (raw(r.props) as Record<string, unknown>).bucket;
        const deps = r.propertyDependencies?.bucket ?? [];
        if (deps.some((d) => d.urn === bucket.urn)) matches.push(r);
        else if (typeof target === "string" && !isUnknown(target)) {
            if (ids.includes(target) || target === `arn:aws:s3:::${ids[0]}`) matches.push(r);
        } else if (deps.length === 0) unresolved.push(r);
    }
    return { matches, unresolved };
}
