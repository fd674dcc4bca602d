/**
 * A team's TensorBoard, for real: TensorBoard and the signing-in proxy (images/tensorboard/auth_proxy.py),
 * both from the tensorboard venv (images/tensorboard's own lock), reading moto's S3, run with the
 * container commands, arguments and environment the dev stack's plan renders for team fraud. Only the
 * loopback ports (TensorBoard's 6006, the proxy's 8443), the proxy's listen address (127.0.0.1), HOME
 * (a temp dir) and the S3 endpoint (moto's, where IRSA would give AWS's) are rewritten; the AWS
 * credentials are STS credentials of a role carrying the policy the plan renders for the TensorBoard role.
 *
 * - a scalar written with TensorBoard's own summary writer (`tensorboard.summary.Writer`, no TensorFlow)
 *   under teams/fraud/tensorboard/run-1/ is listed and read back through the proxy;
 * - the proxy answers 401 without (or with wrong) credentials and proxies with the rendered ones;
 * - IAM: moto judges object reads (the team's role reads its run's event file, not another team's);
 *   moto cannot judge listings with a prefix (it refuses them with SignatureDoesNotMatch while enforcing,
 *   see e2e/training.e2e.test.ts), so TensorBoard itself runs with enforcement off and every S3 request
 *   it sent is judged against the rendered policy by e2e/lib/iamPolicy.ts.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TENSORBOARD_PORT, tensorboardLogPrefix } from "../components/contract";
import { TENSORBOARD_LOOPBACK_PORT } from "../components/platform/tensorBoard";
import type { Plan } from "../engine/plan";
import { evaluate, iamRequestOf, loggedS3Requests } from "./lib/iamPolicy";
import { freePort, Proc, run, waitFor } from "./lib/procs";
import { venvBin, venvEnv } from "./lib/python";
import { type AwsCredentials, S3Emulator } from "./lib/s3Emulator";
import { findObject, planPlatform, resourceInputs } from "./lib/stackPlans";

const ROOT = path.resolve(__dirname, "..");
const TEAM = "fraud";
const OTHER = "recsys";

describe("a team's TensorBoard behind its signing-in proxy, run as the dev stack renders it", () => {
    let plan: Plan;
    let s3: S3Emulator;
    let tensorboard: Proc | undefined;
    let proxy: Proc | undefined;
    let tmp: string;
    let bucket: string;
    let policies: Record<string, string>;
    let creds: Record<string, AwsCredentials>;
    let username: string;
    let password: string;
    let proxyUrl: string;
    let tensorboardLog = "";

    const basic = (u: string, p: string) => ({ Authorization: `Basic ${Buffer.from(`${u}:${p}`).toString("base64")}` });
    /** Runs Python in the tensorboard venv against moto with the given credentials. */
    const py = (script: string, c: AwsCredentials | undefined, input = "") =>
        run(venvBin("tensorboard", "python"), ["-c", script], { env: venvEnv("tensorboard", { ...s3.clientEnv(c), HOME: tmp }), input, timeoutMs: 120_000 });

    beforeAll(async () => {
        plan = await planPlatform("dev");
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "e2e-tensorboard-"));
        s3 = await S3Emulator.start("eu-west-1");
        const deployment = findObject(plan, "Deployment", "tensorboard", `ml-${TEAM}`);
        const logdir: string = deployment.spec.template.spec.containers[0].args[1];
        bucket = /^s3:\/\/([^/]+)\//.exec(logdir)![1];
        expect(logdir).toBe(`s3://${bucket}/${tensorboardLogPrefix(TEAM)}/`);
        await s3.createBucket(bucket);
        const secret = findObject(plan, "Secret", "tensorboard-credentials", `ml-${TEAM}`);
        username = secret.stringData.username;
        password = secret.stringData.password;
        expect(username).toBe(TEAM);
        expect(password.length).toBeGreaterThanOrEqual(16);

        policies = {
            [TEAM]: resourceInputs(plan, "aws:iam/rolePolicy:RolePolicy", `team-${TEAM}-tensorboard-policy`).policy,
            [OTHER]: resourceInputs(plan, "aws:iam/rolePolicy:RolePolicy", `team-${OTHER}-tensorboard-policy`).policy,
        };
        creds = {
            [TEAM]: await s3.roleCredentials(`tensorboard-${TEAM}`, { rendered: policies[TEAM] }),
            [OTHER]: await s3.roleCredentials(`tensorboard-${OTHER}`, { rendered: policies[OTHER] }),
        };

        // A training run's log: one scalar, written with TensorBoard's own summary writer to a local
        // directory, then uploaded under each team's prefix (the test's own writes, IAM off).
        const write = await py(
            [
                "import json, os, sys, boto3",
                "from tensorboard.summary import Writer",
                "spec = json.load(sys.stdin)",
                'w = Writer(spec["dir"])',
                'for step, value in enumerate(spec["values"]): w.add_scalar("loss", value, step)',
                "w.close()",
                's3 = boto3.client("s3")',
                'for name in os.listdir(spec["dir"]):',
                '    for prefix in spec["prefixes"]:',
                '        s3.upload_file(os.path.join(spec["dir"], name), spec["bucket"], f"{prefix}/run-1/{name}")',
                '        print(f"{prefix}/run-1/{name}")',
            ].join("\n"),
            undefined,
            JSON.stringify({
                dir: path.join(tmp, "run-1"),
                values: [0.75, 0.5, 0.25],
                bucket,
                prefixes: [tensorboardLogPrefix(TEAM), tensorboardLogPrefix(OTHER)],
            }),
        );
        expect(write.code, write.stderr).toBe(0);
        expect(write.stdout.trim().split("\n")).toHaveLength(2);
    }, 300_000);

    afterAll(async () => {
        await proxy?.stop();
        await tensorboard?.stop();
        await s3?.enforceIam(false).catch(() => undefined);
        await s3?.stop();
        if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    });

    it("TensorBoard and the proxy start with the rendered commands, arguments and environment", async () => {
        const deployment = findObject(plan, "Deployment", "tensorboard", `ml-${TEAM}`);
        const [tb, px] = deployment.spec.template.spec.containers;
        expect([tb.name, px.name]).toEqual(["tensorboard", "auth-proxy"]);
        const tbPort = await freePort();
        const pxPort = await freePort();
        const tbArgs: string[] = tb.args.map((a: string) => (a === String(TENSORBOARD_LOOPBACK_PORT) ? String(tbPort) : a));
        expect(tbArgs).toContain("--load_fast");
        expect(tb.env).toEqual([{ name: "HOME", value: "/tmp" }]);
        const before = s3.proc.output.length;
        tensorboard = new Proc("tensorboard", venvBin("tensorboard", tb.command[0]), tbArgs, {
            env: venvEnv("tensorboard", { ...s3.clientEnv(creds[TEAM]), HOME: tmp }),
            cwd: tmp,
        });

        // The proxy: the script from images/tensorboard (the image's /app/auth_proxy.py), the Secret's keys as env.
        const pxArgs: string[] = px.args.map((a: string) =>
            a === "/app/auth_proxy.py"
                ? path.join(ROOT, "images", "tensorboard", "auth_proxy.py")
                : a === String(TENSORBOARD_PORT)
                  ? String(pxPort)
                  : a === `http://127.0.0.1:${TENSORBOARD_LOOPBACK_PORT}`
                    ? `http://127.0.0.1:${tbPort}`
                    : a,
        );
        expect(px.env.map((e: any) => [e.name, e.valueFrom.secretKeyRef.key])).toEqual([
            ["TENSORBOARD_USERNAME", "username"],
            ["TENSORBOARD_PASSWORD", "password"],
        ]);
        proxy = new Proc("auth-proxy", venvBin("tensorboard", px.command[0]), [...pxArgs, "--host", "127.0.0.1"], {
            env: venvEnv("tensorboard", { HOME: tmp, TENSORBOARD_USERNAME: username, TENSORBOARD_PASSWORD: password }),
        });
        proxyUrl = `http://127.0.0.1:${pxPort}`;
        // The readiness probe's path: 200 once TensorBoard answers.
        const health = px.readinessProbe.httpGet.path;
        const ready = await waitFor(
            "the proxy's /healthz to answer 200",
            async () => {
                if (!tensorboard!.running) return "tensorboard exited";
                if (!proxy!.running) return "proxy exited";
                return (await fetch(`${proxyUrl}${health}`).catch(() => undefined))?.status === 200 ? "ready" : undefined;
            },
            120_000,
            1000,
        );
        expect(ready, tensorboard.tail() + proxy.tail()).toBe("ready");
        // TensorBoard has loaded run-1 once /data/runs lists it (read through the proxy).
        const runs = await waitFor(
            "TensorBoard to list run-1",
            async () => {
                const r = await fetch(`${proxyUrl}/data/runs`, { headers: basic(username, password) });
                const body = (await r.json()) as string[];
                return body.includes("run-1") ? body : undefined;
            },
            120_000,
            1000,
        ).catch((e) => {
            throw new Error(`${e}\n${tensorboard!.tail()}`);
        });
        expect(runs).toEqual(["run-1"]);
        tensorboardLog = s3.proc.output.slice(before);
    }, 300_000);

    it("the proxy answers 401 without credentials or with wrong ones, and reveals nothing but /healthz", async () => {
        for (const headers of [{}, basic(username, "wrong-password-wrong"), basic(OTHER, password)]) {
            for (const p of ["/", "/data/runs", "/data/plugin/scalars/scalars?run=run-1&tag=loss"]) {
                const r = await fetch(`${proxyUrl}${p}`, { headers });
                expect(r.status, p).toBe(401);
                expect(r.headers.get("www-authenticate")).toMatch(/^Basic realm="TensorBoard"/);
                expect(await r.text()).toBe("sign in\n");
            }
        }
        const health = await fetch(`${proxyUrl}/healthz`);
        expect(health.status).toBe(200);
        expect(await health.text()).toBe("ok\n");
    });

    it("with the rendered user and password it proxies TensorBoard: its page, the runs, and the scalar logged", async () => {
        const page = await fetch(`${proxyUrl}/`, { headers: basic(username, password) });
        expect(page.status).toBe(200);
        expect(await page.text()).toMatch(/<tf-tensorboard|TensorBoard/);
        const tags = (await (await fetch(`${proxyUrl}/data/plugin/scalars/tags`, { headers: basic(username, password) })).json()) as Record<
            string,
            Record<string, unknown>
        >;
        expect(Object.keys(tags)).toEqual(["run-1"]);
        expect(Object.keys(tags["run-1"])).toEqual(["loss"]);
        const r = await fetch(`${proxyUrl}/data/plugin/scalars/scalars?run=run-1&tag=loss`, { headers: basic(username, password) });
        expect(r.status).toBe(200);
        const points = (await r.json()) as [number, number, number][];
        expect(points.map(([, step, value]) => [step, value])).toEqual([
            [0, 0.75],
            [1, 0.5],
            [2, 0.25],
        ]);
    });

    it("every S3 request TensorBoard sent is allowed by the rendered policy of the team's role, and denied by the other team's", () => {
        const requests = loggedS3Requests(tensorboardLog);
        expect(requests.length).toBeGreaterThan(0);
        expect(requests.every((r) => r.bucket === bucket)).toBe(true);
        const iam = requests.map(iamRequestOf);
        expect(new Set(iam.map((r) => r.action))).toEqual(new Set(["s3:ListBucket", "s3:GetObject"]));
        for (const r of iam) {
            expect(evaluate(policies[TEAM], r), JSON.stringify(r)).toBe("Allowed");
            expect(evaluate(policies[OTHER], r), JSON.stringify(r)).toBe("ImplicitDeny");
        }
        expect(iam.filter((r) => r.action === "s3:GetObject").map((r) => r.resource)).toEqual(
            expect.arrayContaining([
                expect.stringMatching(new RegExp(`^arn:aws:s3:::${bucket}/${tensorboardLogPrefix(TEAM)}/run-1/events\\.out\\.tfevents\\.`)),
            ]),
        );
        // Listing another team's logs is not granted either (the evaluator: moto cannot judge s3:prefix).
        const list = (team: string, prefix: string) =>
            evaluate(policies[team], { action: "s3:ListBucket", resource: `arn:aws:s3:::${bucket}`, context: { "s3:prefix": prefix } });
        expect(list(TEAM, `${tensorboardLogPrefix(OTHER)}/`)).toBe("ImplicitDeny");
        expect(list(TEAM, "teams/")).toBe("ImplicitDeny");
    });

    it("moto, enforcing IAM, lets the team's role read its event file and refuses it the other team's and any write (it cannot judge TensorBoard's listing: SignatureDoesNotMatch)", async () => {
        const keys = (await s3.list(bucket, "teams/")).map((o) => o.key);
        const own = keys.find((k) => k.startsWith(`${tensorboardLogPrefix(TEAM)}/run-1/`))!;
        const other = keys.find((k) => k.startsWith(`${tensorboardLogPrefix(OTHER)}/run-1/`))!;
        expect(own && other).toBeTruthy();
        const script = `
import json, sys, boto3
from botocore.exceptions import ClientError
spec = json.load(sys.stdin)
s3 = boto3.client("s3")
out = []
for method, key in spec["requests"]:
    try:
        if method == "PUT": s3.put_object(Bucket=spec["bucket"], Key=key, Body=b"x")
        elif method == "LIST": s3.list_objects(Bucket=spec["bucket"], Prefix=key, Delimiter="/")
        else: s3.get_object(Bucket=spec["bucket"], Key=key)["Body"].read()
        out.append("Allowed")
    except ClientError as e:
        out.append(e.response["Error"]["Code"])
print(json.dumps(out))
`;
        const requests = [
            ["GET", own],
            ["GET", other],
            ["PUT", `${tensorboardLogPrefix(TEAM)}/run-1/intruder`],
            // The listing TensorBoard sends (ListObjects with a prefix and a delimiter), of its own logs: moto
            // refuses its signature while enforcing, so it cannot judge it (why TensorBoard runs with
            // enforcement off and its listings are judged by the evaluator).
            ["LIST", `${tensorboardLogPrefix(TEAM)}/`],
        ];
        await s3.enforceIam(true);
        try {
            const r = await py(script, creds[TEAM], JSON.stringify({ bucket, requests }));
            expect(r.code, r.stderr).toBe(0);
            expect(JSON.parse(r.stdout)).toEqual(["Allowed", "AccessDenied", "AccessDenied", "SignatureDoesNotMatch"]);
        } finally {
            await s3.enforceIam(false);
        }
    });
});
