import { defineResourcePolicy, skip } from "../../framework/define";
import { ENVIRONMENTS, type Environment } from "../../framework/types";
import { isUnknown, raw } from "../../framework/unknowns";

export interface Config {
    environmentAccounts: Partial<Record<Environment, string[]>>;
    allowedReferences: string[];
}

const ARN = /arn:aws[a-z-]*:[a-z0-9-]*:[a-z0-9-]*:\d{0,12}:[^\s"',\]}]+/g;
const S3_URI = /s3a?:\/\/[^\s"',\]}]+/g;
const ECR = /\b\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com[^\s"',\]}]*/g;
/** Keys whose whole value names a bucket, key, namespace or other environment-specific resource. */
const REFERENCE_KEY = /(bucket|namespace|kms|keyid|keyarn|arn|rolearn|secretname|repository|registry|metadata\.name|queue|topic|table|endpoint|uri|url|host)$/i;

/** Every string of a property tree with the key that holds it; env-var-like `{ name, value }` pairs use `name` as the key. */
function strings(value: unknown, path: string, key: string, out: { path: string; key: string; value: string }[]): void {
    if (typeof value === "string") {
        if (!isUnknown(value)) out.push({ path, key, value });
        return;
    }
    if (Array.isArray(value)) {
        value.forEach((v, i) => strings(v, `${path}[${i}]`, key, out));
        return;
    }
    if (value && typeof value === "object") {
        const obj = value as Record<string, unknown>;
        const pairKey = typeof obj.name === "string" && typeof obj.value === "string" ? obj.name : undefined;
        for (const [k, v] of Object.entries(obj)) strings(v, path ? `${path}.${k}` : k, k === "value" && pairKey ? pairKey : k, out);
    }
}

/** The parts of a string that refer to resources: ARNs, S3 URIs, ECR registries, or the whole value under a reference key. */
function references(key: string, value: string): string[] {
    const found = [...(value.match(ARN) ?? []), ...(value.match(S3_URI) ?? []), ...(value.match(ECR) ?? [])];
    if (REFERENCE_KEY.test(key)) found.push(value);
    return found;
}

/** The other environment a reference points at, if any: by name part or by account id. */
export function otherEnvironment(
    reference: string,
    env: Environment,
    accounts: Config["environmentAccounts"],
): { env: Environment; because: string } | undefined {
    const tokens = reference.toLowerCase().split(/[^a-z0-9]+/);
    for (const other of ENVIRONMENTS.filter((e) => e !== env)) {
        if (tokens.includes(other)) return { env: other, because: `contains "${other}"` };
        const account = (accounts[other] ?? []).find((a) => tokens.includes(a));
        if (account) return { env: other, because: `is in the ${other} account ${account}` };
    }
    return undefined;
}

/** No resource of one environment references another environment's buckets, keys, roles or namespaces. */
export const noCrossEnvironmentReferences = defineResourcePolicy<Config>({
    meta: {
        name: "no-cross-environment-references",
        pack: "mlops-governance",
        title: "No references across environments",
        description:
            "No property of any resource refers to another environment's resources: ARNs, S3 URIs, ECR registries and values of bucket/namespace/key/role-like properties (including environment variables) must not contain another environment's name as a name part (`-dev-`) or, when configured, another environment's AWS account id.",
        rationale:
            "A prod workload reading a dev bucket trains or serves on unreviewed data; a dev workload holding a prod bucket or key can read or corrupt production data with dev's weaker controls.",
        severity: "high",
        remediation:
            "Derive names from the stack's own config (artifactBucketName(cfg), iamRoleName(cfg, ...)); share data between environments only through an explicit, reviewed promotion step.",
        controls: [
            { framework: "NIST-800-53", control: "AC-4" },
            { framework: "SOC2", control: "CC6.1" },
        ],
        topics: ["environments", "data-isolation"],
        protectsData: true,
        appliesTo: ["every resource"],
        limitations:
            "Values unknown during preview are outputs of this stack's own resources, whose inputs are checked themselves, so they are skipped rather than making the policy not applicable. Names that do not contain the environment (or account) cannot be told apart.",
    },
    config: {
        environmentAccounts: {
            type: "object",
            additionalProperties: { type: "array", items: { type: "string", pattern: "^\\d{12}$" } },
            default: {},
            description: 'AWS account ids of each environment (`{ "dev": ["210987654321"] }`): a reference into another environment\'s account is a violation.',
        },
        allowedReferences: {
            type: "array",
            items: { type: "string" },
            default: [],
            description: "Exact references accepted anyway (each documented in docs/policy-exceptions.md).",
        },
    },
    types: (type) => type !== "pulumi:pulumi:Stack",
    check: ({ props }, config, ctx) => {
        const env = ctx.environment ?? skip(`the stack's environment is not known (stack "${ctx.stack ?? ""}")`);
        const found: { path: string; key: string; value: string }[] = [];
        strings(raw(props), "", "", found);
        const problems = new Set<string>();
        for (const { path, key, value } of found) {
            for (const ref of references(key, value)) {
                if (config.allowedReferences.includes(ref)) continue;
                const other = otherEnvironment(ref, env, config.environmentAccounts);
                if (other) problems.add(`${path} refers to ${other.env} from the ${env} stack: "${ref}" ${other.because}.`);
            }
        }
        return [...problems];
    },
});
