/**
 * A small evaluator of IAM identity policies, for what moto cannot check: an S3 request's action,
 * resource and condition context against a policy document, with AWS's documented logic (an explicit
 * Deny wins, then an Allow, else the implicit deny). It knows the elements the platform's documents use
 * (Action, Resource, Condition with StringEquals, StringLike, StringNotEquals, StringNotLike and Bool,
 * multi-valued keys matching any value) and throws on anything else rather than guess. The suites check
 * it against moto's own decisions wherever moto can decide (object requests).
 */

export type Decision = "Allowed" | "ImplicitDeny" | "ExplicitDeny";

export interface IamRequest {
    /** `s3:ListBucket`, `s3:GetObject`, ... */
    readonly action: string;
    /** ARN of the bucket or object. */
    readonly resource: string;
    /** Condition keys of the request (`s3:prefix`). */
    readonly context?: Readonly<Record<string, string>>;
}

/** `*` and `?` wildcards of IAM, as a regular expression. */
function wildcard(pattern: string, flags = ""): RegExp {
    return new RegExp(
        `^${pattern
            .replace(/[.+^${}()|[\]\\]/g, "\\$&")
            .replace(/\*/g, ".*")
            .replace(/\?/g, ".")}$`,
        flags,
    );
}

const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : [String(v)]);

function conditionHolds(operator: string, key: string, expected: unknown, context: Readonly<Record<string, string>>): boolean {
    const actual = context[key];
    const values = list(expected);
    switch (operator) {
        case "StringEquals":
            return actual !== undefined && values.includes(actual);
        case "StringNotEquals":
            return actual === undefined || !values.includes(actual);
        case "StringLike":
            return actual !== undefined && values.some((v) => wildcard(v).test(actual));
        case "StringNotLike":
            return actual === undefined || !values.some((v) => wildcard(v).test(actual));
        case "Bool":
            return actual !== undefined && values.includes(actual);
        default:
            throw new Error(`the evaluator does not know the condition operator ${operator}`);
    }
}

/** The decision of one identity policy document (JSON or object) for a request. */
export function evaluate(policy: string | { Statement: unknown }, req: IamRequest): Decision {
    const doc = typeof policy === "string" ? JSON.parse(policy) : policy;
    const statements: any[] = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
    let allowed = false;
    for (const s of statements) {
        for (const unsupported of ["NotAction", "NotResource", "NotPrincipal", "Principal"]) {
            if (unsupported in s) throw new Error(`the evaluator does not know ${unsupported} (statement ${s.Sid ?? "?"})`);
        }
        if (!list(s.Action).some((a) => wildcard(a, "i").test(req.action))) continue;
        if (!list(s.Resource).some((r) => wildcard(r).test(req.resource))) continue;
        const conditions = Object.entries<Record<string, unknown>>(s.Condition ?? {});
        if (!conditions.every(([op, keys]) => Object.entries(keys).every(([k, v]) => conditionHolds(op, k, v, req.context ?? {})))) continue;
        if (s.Effect === "Deny") return "ExplicitDeny";
        if (s.Effect === "Allow") allowed = true;
    }
    return allowed ? "Allowed" : "ImplicitDeny";
}

/** An S3 request as moto's server logged it (`"GET /bucket?list-type=2&prefix=... HTTP/1.1" 200`). */
export interface LoggedS3Request {
    readonly method: string;
    readonly bucket: string;
    readonly key?: string;
    readonly query: URLSearchParams;
    readonly status: number;
}

/** The S3 requests of a slice of moto's log (path-style URLs), without its own /moto-api calls and STS/IAM posts. */
export function loggedS3Requests(log: string): LoggedS3Request[] {
    const out: LoggedS3Request[] = [];
    // eslint-disable-next-line no-control-regex
    for (const m of log.replace(/\u001b\[[0-9;]*m/g, "").matchAll(/"(GET|HEAD|PUT|POST|DELETE) (\/[^ ]*) HTTP\/1\.[01]" (\d{3})/g)) {
        const [pathPart, queryPart = ""] = m[2].split("?", 2);
        if (pathPart === "/" || pathPart.startsWith("/moto-api")) continue;
        const [bucket, ...rest] = pathPart.slice(1).split("/");
        out.push({
            method: m[1],
            bucket,
            key: rest.length > 0 ? decodeURIComponent(rest.join("/")) : undefined,
            query: new URLSearchParams(queryPart),
            status: Number(m[3]),
        });
    }
    return out;
}

/** The IAM request an S3 request is authorised as (the operations DVC and boto3 send). */
export function iamRequestOf(r: LoggedS3Request): IamRequest {
    const bucketArn = `arn:aws:s3:::${r.bucket}`;
    if (r.key === undefined || r.key === "") {
        if (r.method === "GET" && !r.query.has("location") && !r.query.has("uploads"))
            return { action: "s3:ListBucket", resource: bucketArn, context: { "s3:prefix": r.query.get("prefix") ?? "" } };
        if (r.method === "GET" && r.query.has("location")) return { action: "s3:GetBucketLocation", resource: bucketArn };
        throw new Error(`no IAM action known for ${r.method} on bucket ${r.bucket}?${r.query}`);
    }
    const objectArn = `${bucketArn}/${r.key}`;
    if (r.method === "GET" || r.method === "HEAD") return { action: "s3:GetObject", resource: objectArn };
    if (r.method === "PUT" || (r.method === "POST" && (r.query.has("uploads") || r.query.has("uploadId"))))
        return { action: "s3:PutObject", resource: objectArn };
    if (r.method === "DELETE") return { action: r.query.has("uploadId") ? "s3:AbortMultipartUpload" : "s3:DeleteObject", resource: objectArn };
    throw new Error(`no IAM action known for ${r.method} ${r.key}`);
}
