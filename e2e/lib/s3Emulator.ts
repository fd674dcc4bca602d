/**
 * moto's standalone server (PyPI `moto[server]`, from the s3-emulator venv) on a free loopback port:
 * S3, IAM and STS. Plain HTTP helpers for the suites (create a bucket, list and read objects), IAM roles
 * with the plan's policies and STS credentials for them, and moto's switch that makes it check every
 * later request's signature and IAM permissions (`POST /moto-api/reset-auth` with 0: what the
 * `INITIAL_NO_AUTH_ACTION_COUNT` setting does).
 */
import { Proc, freePort, run, waitFor } from "./procs";
import { venvBin, venvEnv } from "./python";

export interface S3Object {
    readonly key: string;
    readonly size: number;
}

export interface AwsCredentials {
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly sessionToken?: string;
}

export class S3Emulator {
    private constructor(
        readonly proc: Proc,
        readonly port: number,
        readonly region: string,
        readonly host: string,
    ) {}

    /**
     * Starts moto_server; `region` is the stacks' region (buckets are created there); `host` the address it
     * listens on (loopback, or the real node's bridge address so that pods reach it).
     */
    static async start(region: string, host = "127.0.0.1"): Promise<S3Emulator> {
        const port = await freePort();
        const proc = new Proc("moto", venvBin("s3-emulator", "moto_server"), ["-H", host, "-p", String(port)], {
            env: venvEnv("s3-emulator", { AWS_DEFAULT_REGION: region, MOTO_ALLOW_NONEXISTENT_REGION: "true" }),
        });
        const s3 = new S3Emulator(proc, port, region, host);
        await waitFor(
            "moto_server to answer",
            async () => {
                if (!proc.running) throw new Error(`moto_server exited: ${proc.tail()}`);
                return (await fetch(`${s3.endpoint}/moto-api/data.json`)).ok;
            },
            60_000,
        );
        return s3;
    }

    get endpoint(): string {
        return `http://${this.host}:${this.port}`;
    }

    /**
     * Environment that points an AWS SDK (boto3) and MLflow's S3 artifact repository at the emulator,
     * with the given credentials (default: static test credentials, accepted while IAM is not enforced).
     */
    clientEnv(creds?: AwsCredentials): Record<string, string> {
        const c = creds ?? { accessKeyId: "AKIATESTTESTTESTTEST", secretAccessKey: "test-secret-key" };
        return {
            AWS_ENDPOINT_URL: this.endpoint,
            MLFLOW_S3_ENDPOINT_URL: this.endpoint,
            AWS_ACCESS_KEY_ID: c.accessKeyId,
            AWS_SECRET_ACCESS_KEY: c.secretAccessKey,
            ...(c.sessionToken ? { AWS_SESSION_TOKEN: c.sessionToken } : {}),
            AWS_DEFAULT_REGION: this.region,
            AWS_REGION: this.region,
            AWS_EC2_METADATA_DISABLED: "true",
        };
    }

    async createBucket(bucket: string): Promise<void> {
        const body =
            this.region === "us-east-1" ? "" : `<CreateBucketConfiguration><LocationConstraint>${this.region}</LocationConstraint></CreateBucketConfiguration>`;
        const r = await fetch(`${this.endpoint}/${bucket}`, { method: "PUT", body });
        if (!r.ok) throw new Error(`create bucket ${bucket}: HTTP ${r.status} ${await r.text()}`);
    }

    /** Every object under a prefix (moto's S3, read without IAM: it is the test's view of the store). */
    async list(bucket: string, prefix = ""): Promise<S3Object[]> {
        const out: S3Object[] = [];
        let token: string | undefined;
        do {
            const q = new URLSearchParams({ "list-type": "2", prefix, ...(token ? { "continuation-token": token } : {}) });
            const r = await this.adminFetch(`/${bucket}?${q}`);
            const xml = await r.text();
            if (!r.ok) throw new Error(`list ${bucket}/${prefix}: HTTP ${r.status} ${xml}`);
            for (const m of xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)) {
                const key = /<Key>([\s\S]*?)<\/Key>/.exec(m[1])?.[1] ?? "";
                const size = Number(/<Size>(\d+)<\/Size>/.exec(m[1])?.[1] ?? 0);
                out.push({ key: decodeXml(key), size });
            }
            token = /<IsTruncated>true<\/IsTruncated>/.test(xml) ? /<NextContinuationToken>([^<]+)</.exec(xml)?.[1] : undefined;
        } while (token);
        return out;
    }

    async get(bucket: string, key: string): Promise<Buffer> {
        const r = await this.adminFetch(`/${bucket}/${key.split("/").map(encodeURIComponent).join("/")}`);
        if (!r.ok) throw new Error(`get ${bucket}/${key}: HTTP ${r.status}`);
        return Buffer.from(await r.arrayBuffer());
    }

    /** Turns IAM enforcement on (true) or off for every later request. */
    async enforceIam(on: boolean): Promise<void> {
        const r = await fetch(`${this.endpoint}/moto-api/reset-auth`, { method: "POST", body: on ? "0" : "inf" });
        if (!r.ok) throw new Error(`reset-auth: HTTP ${r.status}`);
        this.enforcing = on;
    }

    private enforcing = false;

    /** The test's own reads: done with enforcement briefly off, so they never depend on a role. */
    private async adminFetch(pathAndQuery: string): Promise<Response> {
        const was = this.enforcing;
        if (was) await this.enforceIam(false);
        try {
            // An Authorization header (moto checks no signature while IAM is off): without one, moto
            // treats the request as anonymous and applies the objects' (private) ACLs.
            return await fetch(`${this.endpoint}${pathAndQuery}`, { headers: { Authorization: TEST_AUTHORIZATION(this.region) } });
        } finally {
            if (was) await this.enforceIam(true);
        }
    }

    /**
     * Creates an IAM role with inline policies (name -> policy JSON) and returns STS credentials of a
     * session of it (moto evaluates the role's policies for requests signed with them).
     */
    async roleCredentials(roleName: string, policies: Record<string, string>): Promise<AwsCredentials> {
        const script = [
            "import json, sys, boto3",
            "spec = json.load(sys.stdin)",
            'iam = boto3.client("iam")',
            'trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}',
            'role = iam.create_role(RoleName=spec["role"], AssumeRolePolicyDocument=json.dumps(trust))["Role"]',
            'for name, doc in spec["policies"].items():',
            '    iam.put_role_policy(RoleName=spec["role"], PolicyName=name, PolicyDocument=doc)',
            'c = boto3.client("sts").assume_role(RoleArn=role["Arn"], RoleSessionName="e2e")["Credentials"]',
            'print(json.dumps({"accessKeyId": c["AccessKeyId"], "secretAccessKey": c["SecretAccessKey"], "sessionToken": c["SessionToken"]}))',
        ].join("\n");
        const was = this.enforcing;
        if (was) await this.enforceIam(false);
        try {
            const r = await run(venvBin("s3-emulator", "python"), ["-c", script], {
                env: venvEnv("s3-emulator", this.clientEnv()),
                input: JSON.stringify({ role: roleName, policies }),
            });
            if (r.code !== 0) throw new Error(`role ${roleName}: ${r.stderr}`);
            return JSON.parse(r.stdout) as AwsCredentials;
        } finally {
            if (was) await this.enforceIam(true);
        }
    }

    async stop(): Promise<void> {
        await this.proc.stop();
    }
}

const TEST_AUTHORIZATION = (region: string) =>
    `AWS4-HMAC-SHA256 Credential=AKIATESTTESTTESTTEST/20260101/${region}/s3/aws4_request, SignedHeaders=host, Signature=${"0".repeat(64)}`;

function decodeXml(s: string): string {
    return s
        .replace(/&lt;/g, "<")
        .replace(/&gt;/g, ">")
        .replace(/&quot;/g, '"')
        .replace(/&apos;/g, "'")
        .replace(/&amp;/g, "&");
}
