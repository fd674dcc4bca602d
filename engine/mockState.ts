/**
 * What the mocked providers return for a resource: its inputs plus the computed attributes a real
 * provider would fill in (ARNs, ids, endpoints, digests, generated passwords), derived
 * deterministically from the resource's name so every run of a program records the same values.
 */
import { createHash } from "crypto";
import type { MockCallArgs, MockResourceArgs } from "@pulumi/pulumi/runtime/mocks";

/** Account and region used in mocked ARNs. */
export interface MockContext {
    accountId: string;
    region: string;
}

let context: MockContext = { accountId: "123456789012", region: "us-east-1" };

/** Sets the account and region that mocked ARNs use (the stack's own, so ARNs look like the real ones). */
export function setMockContext(ctx: MockContext): void {
    context = ctx;
}

/** What the engine hands a `pulumi.StackReference`: the referenced stack's outputs and which of them are secret. */
export interface StackReferenceOutputs {
    outputs: Record<string, unknown>;
    secretOutputNames?: string[];
}

let stackReferences: Record<string, StackReferenceOutputs> = {};

/**
 * Sets what mocked `pulumi.StackReference`s return, by referenced stack name (`org/project/stack`).
 * `{}` clears them. A reference to a stack not in the map fails, as it does against a real backend.
 */
export function setStackReferenceOutputs(refs: Record<string, StackReferenceOutputs>): void {
    stackReferences = { ...refs };
}

function stackReferenceState(stack: string): { id: string; state: State } {
    const ref = stackReferences[stack];
    if (!ref) {
        const known = Object.keys(stackReferences);
        throw new Error(`no outputs mocked for stack reference "${stack}" (mocked: ${known.join(", ") || "none"}); see setStackReferenceOutputs`);
    }
    return { id: stack, state: { name: stack, outputs: ref.outputs, secretOutputNames: ref.secretOutputNames ?? [] } };
}

function hex(seed: string, length: number): string {
    let out = "";
    for (let i = 0; out.length < length; i++) out += createHash("sha256").update(`${seed}#${i}`).digest("hex");
    return out.slice(0, length);
}

function service(type: string): string {
    // aws:s3/bucket:Bucket -> s3
    return type.split(":")[1]?.split("/")[0] ?? "unknown";
}

type State = Record<string, any>;

/** Computed attributes for the resource types the platform uses; others get the inputs back. */
const computed: Record<string, (name: string, inputs: State, ctx: MockContext) => { id?: string; state: State }> = {
    "aws:s3/bucket:Bucket": (name, i) => {
        const bucket = i.bucket ?? `${name}-${hex(name, 7)}`;
        return { id: bucket, state: { bucket, arn: `arn:aws:s3:::${bucket}`, bucketRegionalDomainName: `${bucket}.s3.amazonaws.com` } };
    },
    "aws:kms/key:Key": (name, _i, c) => {
        const keyId = `${hex(name, 8)}-${hex(name + "a", 4)}-${hex(name + "b", 4)}-${hex(name + "c", 4)}-${hex(name + "d", 12)}`;
        return { id: keyId, state: { keyId, arn: `arn:aws:kms:${c.region}:${c.accountId}:key/${keyId}` } };
    },
    "aws:iam/role:Role": (name, i, c) => {
        const roleName = i.name ?? `${name}-${hex(name, 7)}`;
        return { id: roleName, state: { name: roleName, arn: `arn:aws:iam::${c.accountId}:role/${roleName}`, uniqueId: `AROA${hex(name, 17).toUpperCase()}` } };
    },
    "aws:iam/policy:Policy": (name, i, c) => {
        const policyName = i.name ?? `${name}-${hex(name, 7)}`;
        const arn = `arn:aws:iam::${c.accountId}:policy/${policyName}`;
        return { id: arn, state: { name: policyName, arn } };
    },
    "aws:ec2/securityGroup:SecurityGroup": (name, _i, c) => {
        const id = `sg-${hex(name, 17)}`;
        return { id, state: { arn: `arn:aws:ec2:${c.region}:${c.accountId}:security-group/${id}` } };
    },
    "aws:rds/instance:Instance": (name, i, c) => {
        const identifier = i.identifier ?? `${name}-${hex(name, 7)}`;
        const address = `${identifier}.${hex(name, 12)}.${c.region}.rds.amazonaws.com`;
        return {
            id: identifier,
            state: {
                identifier,
                address,
                port: i.port ?? 5432,
                endpoint: `${address}:${i.port ?? 5432}`,
                arn: `arn:aws:rds:${c.region}:${c.accountId}:db:${identifier}`,
            },
        };
    },
    "aws:ecr/repository:Repository": (name, i, c) => {
        const repo = i.name ?? `${name}-${hex(name, 7)}`;
        return {
            id: repo,
            state: {
                name: repo,
                arn: `arn:aws:ecr:${c.region}:${c.accountId}:repository/${repo}`,
                repositoryUrl: `${c.accountId}.dkr.ecr.${c.region}.amazonaws.com/${repo}`,
                registryId: c.accountId,
            },
        };
    },
    "docker:index/image:Image": (name, i) => {
        const imageName: string = i.imageName ?? name;
        const repo = imageName.replace(/(:[^/@]+)?(@sha256:[a-f0-9]+)?$/, "");
        return { id: `${repo}@sha256:${hex(imageName, 64)}`, state: { imageName, repoDigest: `${repo}@sha256:${hex(imageName, 64)}` } };
    },
    "random:index/randomPassword:RandomPassword": (name, i) => {
        const length = Number(i.length ?? 32);
        return { id: "none", state: { result: hex(`password:${name}`, length), bcryptHash: `$2a$10$${hex(`bcrypt:${name}`, 53)}` } };
    },
    "random:index/randomId:RandomId": (name, i) => {
        const bytes = Number(i.byteLength ?? 8);
        const h = hex(`id:${name}`, bytes * 2);
        return { id: h, state: { hex: h, dec: BigInt(`0x${h}`).toString(), b64Url: Buffer.from(h, "hex").toString("base64url") } };
    },
};

function kubernetesState(type: string, name: string, inputs: State): { id: string; state: State } {
    const metadata = { ...(inputs.metadata ?? {}) };
    if (!metadata.name) metadata.name = `${name}-${hex(name, 8)}`;
    const namespaced =
        !/:(Namespace|ClusterRole|ClusterRoleBinding|CustomResourceDefinition|PersistentVolume|StorageClass|ValidatingAdmissionPolicy|ValidatingAdmissionPolicyBinding)$/.test(
            type,
        );
    const id = namespaced && metadata.namespace ? `${metadata.namespace}/${metadata.name}` : metadata.name;
    return { id, state: { ...inputs, metadata } };
}

/** Mocked `newResource`: id and state for a registration. */
export function mockState(args: MockResourceArgs): { id: string | undefined; state: State } {
    const { type, name, inputs } = args;
    if (type.startsWith("pulumi:providers:")) return { id: `${name}-provider-id`, state: inputs };
    if (type === "pulumi:pulumi:StackReference") return stackReferenceState(String(inputs.name ?? name));
    if (type.startsWith("kubernetes:") && !type.startsWith("kubernetes:helm.sh")) return kubernetesState(type, name, inputs);
    const fn = computed[type];
    if (fn) {
        const { id, state } = fn(name, inputs, context);
        return { id: id ?? `${name}-id`, state: { ...inputs, ...state } };
    }
    const extra: State = {};
    if (type.startsWith("aws:")) extra.arn = `arn:aws:${service(type)}:${context.region}:${context.accountId}:${name}`;
    if (type.startsWith("kubernetes:helm.sh")) extra.status = { status: "deployed", namespace: inputs.namespace, name: inputs.name ?? name };
    return { id: `${name}-id`, state: { ...inputs, ...extra } };
}

/** Mocked invokes (functions). The platform avoids invokes; these cover the few a provider SDK makes. */
export function mockCall(args: MockCallArgs): Record<string, unknown> {
    switch (args.token) {
        case "aws:index/getCallerIdentity:getCallerIdentity":
            return { accountId: context.accountId, arn: `arn:aws:iam::${context.accountId}:user/mock`, userId: "MOCK" };
        case "aws:index/getRegion:getRegion":
            return { name: context.region, region: context.region };
        case "aws:index/getPartition:getPartition":
            return { partition: "aws", dnsSuffix: "amazonaws.com" };
        default:
            return args.inputs;
    }
}
