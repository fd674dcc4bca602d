/**
 * The feature store, for real: Feast (PyPI, the feast venv from images/feast's lock), Redis (Debian
 * redis-server) and moto's S3 with IAM enforced, run with what the dev stack's plan renders for team
 * fraud. Redis starts with the rendered redis.conf (the config Secret), the project's feature_store.yaml
 * is the rendered ConfigMap, `feast serve` gets the Deployment's arguments and `feast
 * materialize-incremental` the CronJob's script; only endpoints are rewritten to loopback (Redis' bind
 * and port, the ConfigMap's mount directory, the server's host and port). Each step runs with STS
 * credentials of the role the plan gives it (moto evaluates the rendered policies):
 *
 * - the team's CI role writes the offline Parquet and runs `feast apply` from a tiny repository, with
 *   the online store unreachable (CI never reaches it: `full_scan_for_deletion: false`);
 * - the materialization job loads the offline data into Redis (with IAM enforcement off for that step:
 *   moto rejects s3fs' request signatures while enforcing, see the step);
 * - the feature server role serves it: `/get-online-features` over HTTP returns the latest values,
 *   `/health` answers, and the Prometheus endpoint counts the requests;
 * - and the scoping holds: the feature server's role cannot write the registry, the CI role cannot
 *   touch another team's prefix, and Redis refuses a client without the password.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as YAML from "yaml";
import { FEATURE_SERVER_METRICS_PORT, featureOfflinePrefix, featureRegistryKey } from "../components/contract";
import { FEATURE_REPO_DIR, REDIS_PASSWORD_ENV } from "../components/platform/featureStoreConfig";
import type { Plan } from "../engine/plan";
import { freePort, Proc, run, tcpConnects, waitFor } from "./lib/procs";
import { venvBin, venvEnv } from "./lib/python";
import { type AwsCredentials, S3Emulator } from "./lib/s3Emulator";
import { findObject, planPlatform, resourceInputs } from "./lib/stackPlans";

const FIXTURE = path.join(__dirname, "fixtures", "feast-repo");
const TEAM = "fraud";

describe("the feature store (Feast, Redis, S3), run as the dev stack renders it", () => {
    let plan: Plan;
    let s3: S3Emulator;
    let redis: Proc;
    let server: Proc | undefined;
    let tmp: string;
    let bucket: string;
    let redisPort: number;
    let redisPassword: string;
    let serverUrl: string;
    let renderedYaml: string;
    let configDir: string;
    let repoDir: string;
    let creds: { apply: AwsCredentials; materialize: AwsCredentials; server: AwsCredentials };

    /** The process environment of a Feast step: the feast venv, moto's S3 as the role, the password from the Secret. */
    const feastEnv = (role: AwsCredentials, extra: Record<string, string> = {}) =>
        venvEnv("feast", {
            ...s3.clientEnv(role),
            FEAST_S3_ENDPOINT_URL: s3.endpoint,
            FEAST_USAGE: "False",
            HOME: tmp,
            MLOPS_FEAST_OFFLINE_URI: `s3://${bucket}/${featureOfflinePrefix(TEAM)}/`,
            [REDIS_PASSWORD_ENV]: redisPassword,
            ...extra,
        });
    const feast = (args: string[], role: AwsCredentials, opts: { cwd?: string; extra?: Record<string, string> } = {}) =>
        run(venvBin("feast", "feast"), args, { env: feastEnv(role, opts.extra), cwd: opts.cwd, timeoutMs: 300_000 });

    beforeAll(async () => {
        plan = await planPlatform("dev");
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "e2e-feast-"));

        // --- Redis with the rendered redis.conf: bind, port and data directory rewritten to loopback and a temp dir.
        const redisSecret = findObject(plan, "Secret", "feast-redis-config");
        const conf: string = redisSecret.stringData["redis.conf"];
        redisPassword = findObject(plan, "Secret", "feast-online-store").stringData.password;
        expect(conf).toContain(`requirepass ${redisPassword}`);
        redisPort = await freePort();
        const dataDir = path.join(tmp, "redis-data");
        fs.mkdirSync(dataDir);
        const local = conf
            .replace(/^bind .*$/m, "bind 127.0.0.1")
            .replace(/^port .*$/m, `port ${redisPort}`)
            .replace(/^dir .*$/m, `dir ${dataDir}`);
        fs.writeFileSync(path.join(tmp, "redis.conf"), local, { mode: 0o600 });
        redis = new Proc("redis", "redis-server", [path.join(tmp, "redis.conf")], { env: { PATH: "/usr/bin:/bin" } });
        await waitFor(
            "redis-server to listen",
            async () => {
                if (!redis.running) throw new Error(`redis-server exited: ${redis.tail()}`);
                return tcpConnects(redisPort);
            },
            30_000,
        );

        // --- The rendered feature_store.yaml, as mounted from the ConfigMap: only the Redis endpoint rewritten.
        renderedYaml = findObject(plan, "ConfigMap", `feast-${TEAM}`).data["feature_store.yaml"];
        const doc = YAML.parse(renderedYaml);
        bucket = /^s3:\/\/([^/]+)\//.exec(doc.registry.path)![1];
        expect(doc.registry.path).toBe(`s3://${bucket}/${featureRegistryKey(TEAM)}`);
        const [host, port] = doc.online_store.connection_string.split(",")[0].split(":");
        expect(port).toBe("6379");
        const localYaml = (target: string) => renderedYaml.replace(`${host}:${port}`, target);
        configDir = path.join(tmp, "etc-feast");
        fs.mkdirSync(configDir);
        fs.writeFileSync(path.join(configDir, "feature_store.yaml"), localYaml(`127.0.0.1:${redisPort}`));
        // The team's repository: its definitions and the same feature_store.yaml, but with the online store
        // unreachable (a closed port): CI applies without reaching Redis.
        repoDir = path.join(tmp, "team-repo");
        fs.mkdirSync(repoDir);
        fs.copyFileSync(path.join(FIXTURE, "features.py"), path.join(repoDir, "features.py"));
        fs.writeFileSync(path.join(repoDir, "feature_store.yaml"), localYaml(`127.0.0.1:${await freePort()}`));

        // --- moto's S3 with the artifact bucket and the three roles, with the policies the plan renders.
        s3 = await S3Emulator.start("eu-west-1");
        await s3.createBucket(bucket);
        const policy = (suffix: string) => resourceInputs(plan, "aws:iam/rolePolicy:RolePolicy", suffix).policy as string;
        // Where moto differs from AWS: it authorizes HeadBucket (Feast's registry checks the bucket with it
        // before every read) as an action `s3:HeadBucket`, which IAM does not have; AWS authorizes it as
        // s3:ListBucket, which the rendered policies grant (FeastRegistryHeadBucket). The emulator's name
        // is granted beside each rendered policy, on the bucket only.
        const headBucket = JSON.stringify({
            Version: "2012-10-17",
            Statement: [{ Effect: "Allow", Action: "s3:HeadBucket", Resource: `arn:aws:s3:::${bucket}` }],
        });
        const role = (name: string) => s3.roleCredentials(name, { rendered: policy(`${name}-policy`), "moto-head-bucket": headBucket });
        creds = {
            apply: await role(`feast-apply-${TEAM}`),
            materialize: await role(`feast-materialize-${TEAM}`),
            server: await role(`feast-server-${TEAM}`),
        };
        // The rendered policies are what the plan gives each role.
        expect(JSON.parse(policy(`feast-server-${TEAM}-policy`)).Statement).toContainEqual({
            Sid: "FeastRegistryHeadBucket",
            Effect: "Allow",
            Action: "s3:ListBucket",
            Resource: `arn:aws:s3:::${bucket}`,
        });
        await s3.enforceIam(true);
    });

    afterAll(async () => {
        await server?.stop();
        await redis?.stop();
        await s3?.enforceIam(false).catch(() => undefined);
        await s3?.stop();
        if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    });

    it("the team's CI writes its offline data and applies its repository (registry on S3), without reaching the online store", async () => {
        const write = await run(
            venvBin("feast", "python"),
            [path.join(FIXTURE, "write_offline_data.py"), bucket, `${featureOfflinePrefix(TEAM)}/customer_stats.parquet`],
            {
                env: feastEnv(creds.apply),
            },
        );
        expect(write.code, write.stderr).toBe(0);
        const apply = await feast(["apply"], creds.apply, { cwd: repoDir });
        expect(apply.code, apply.stderr + apply.stdout).toBe(0);
        expect(apply.stdout).toContain("customer_stats");
        expect((await s3.list(bucket, featureRegistryKey(TEAM))).map((o) => o.key)).toEqual([featureRegistryKey(TEAM)]);
    });

    it("the materialization job, with the CronJob's script and role, loads the offline data into Redis", async () => {
        const cronJob = findObject(plan, "CronJob", `feast-materialize-${TEAM}`);
        const container = cronJob.spec.jobTemplate.spec.template.spec.containers[0];
        expect(container.command[0]).toBe("sh");
        const script: string = container.command[2].replace(FEATURE_REPO_DIR, configDir);
        // Where the emulator falls short: moto rejects the signature of s3fs' (aiobotocore's) ListObjectsV2
        // with SignatureDoesNotMatch while it enforces IAM, though boto3's requests with the same credentials
        // pass. So this step runs with enforcement off: the materializer's policy is checked by the unit tests
        // only (test/featureStore.test.ts), not by moto.
        await s3.enforceIam(false);
        const r = await run("sh", ["-c", script], { env: feastEnv(creds.materialize), cwd: tmp, timeoutMs: 300_000 }).finally(() => s3.enforceIam(true));
        expect(r.code, r.stderr + r.stdout).toBe(0);
        expect(r.stdout).toMatch(/Materializing .*1.* feature views/);
        const keys = await run("redis-cli", ["-p", String(redisPort), "--no-auth-warning", "dbsize"], {
            env: { PATH: "/usr/bin:/bin", REDISCLI_AUTH: redisPassword },
        });
        expect(Number(keys.stdout.trim())).toBe(2);
    });

    it("the feature server, with the Deployment's arguments and role, serves the latest values over HTTP and exports metrics", async () => {
        const deployment = findObject(plan, "Deployment", `feature-server-${TEAM}`);
        const container = deployment.spec.template.spec.containers[0];
        const port = await freePort();
        expect(
            await tcpConnects(FEATURE_SERVER_METRICS_PORT),
            `port ${FEATURE_SERVER_METRICS_PORT} (Feast's fixed metrics port) is taken on this machine`,
        ).toBe(false);
        const args: string[] = container.args.map((a: string) =>
            a === FEATURE_REPO_DIR ? configDir : a === "0.0.0.0" ? "127.0.0.1" : a === "6566" ? String(port) : a,
        );
        expect(args).toContain("--metrics");
        server = new Proc("feast-serve", venvBin("feast", container.command[0]), args, { env: feastEnv(creds.server), cwd: tmp });
        serverUrl = `http://127.0.0.1:${port}`;
        const health = container.readinessProbe.httpGet.path;
        // A server that exits stops the wait at once (waitFor retries on errors, so the check returns its verdict).
        const ready = await waitFor(
            "feast serve to answer its readiness probe or exit",
            async () => {
                if (!server!.running) return "exited";
                return (await fetch(`${serverUrl}${health}`).catch(() => undefined))?.status === 200 ? "ready" : undefined;
            },
            180_000,
            1000,
        );
        expect(ready, server.tail()).toBe("ready");

        const r = await fetch(`${serverUrl}/get-online-features`, {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify({ features: ["customer_stats:txn_count_7d", "customer_stats:avg_amount_7d"], entities: { customer_id: [1001, 1002, 9999] } }),
        });
        expect(r.status, server.tail()).toBe(200);
        const body = (await r.json()) as { metadata: { feature_names: string[] }; results: { values: unknown[]; statuses: string[] }[] };
        // Feast does not keep the order of the requested features: results go by feature name.
        expect([...body.metadata.feature_names].sort()).toEqual(["avg_amount_7d", "customer_id", "txn_count_7d"]);
        const result = (feature: string) => body.results[body.metadata.feature_names.indexOf(feature)];
        // Customer 1001's latest row (5, 30.0) wins over its older one; 9999 has no features (null values;
        // Feast 0.67 reports its status as PRESENT all the same).
        expect(result("txn_count_7d").values).toEqual([5, 12, null]);
        expect(result("avg_amount_7d").values).toEqual([30, 80.25, null]);
        expect(result("txn_count_7d").statuses.slice(0, 2)).toEqual(["PRESENT", "PRESENT"]);

        const metrics = await (await fetch(`http://127.0.0.1:${FEATURE_SERVER_METRICS_PORT}/metrics`)).text();
        expect(metrics).toMatch(/^feast_feature_server_request_total\{[^}]*\} [1-9]/m);
        expect(metrics).toContain("feast_feature_server_request_latency_seconds_bucket");
    });

    it("keeps each identity to its prefixes, and Redis to clients with the password", async () => {
        const put = (role: AwsCredentials, key: string) =>
            run(
                venvBin("feast", "python"),
                ["-c", `import boto3, sys; boto3.client("s3").put_object(Bucket=sys.argv[1], Key=sys.argv[2], Body=b"x")`, bucket, key],
                { env: feastEnv(role) },
            );
        const serverWrite = await put(creds.server, featureRegistryKey(TEAM));
        expect(serverWrite.code).not.toBe(0);
        expect(serverWrite.stderr).toContain("AccessDenied");
        const otherTeam = await put(creds.apply, `${featureOfflinePrefix("recsys")}/stolen.parquet`);
        expect(otherTeam.code).not.toBe(0);
        expect(otherTeam.stderr).toContain("AccessDenied");
        const noPassword = await run("redis-cli", ["-p", String(redisPort), "dbsize"], { env: { PATH: "/usr/bin:/bin" } });
        expect(noPassword.stdout + noPassword.stderr).toMatch(/NOAUTH/);
    });
});
