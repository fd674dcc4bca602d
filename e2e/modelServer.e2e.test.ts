/**
 * The example team's model server for real (test stack): the model is trained here and registered in
 * the real MLflow as the team's user (e2e/lib/modelServer.ts); the server runs as the team plan renders
 * its ModelService container, reading the model through MLflow and writing its prediction log to moto
 * as a session of the plan's workload role. moto 5.1.8 cannot verify SigV4 signatures of keys that
 * contain "=" (the log's `date=` partition), so the server writes with IAM enforcement off, and the
 * workload role's policy is proven with the same calls on keys under the same prefixes with moto
 * enforcing IAM. A second server, whose log writes fail (moto enforcing IAM), shows how a failed write is
 * counted; its /metrics, after traffic, is checked against everything the platform reads.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { METRICS, metricNamesIn } from "../components/shared/metricsContract";
import { contractModelServerSeries, labelsIn, modelServerExpressions, TARGET_LABELS } from "./lib/metricsRead";
import { ModelServer, predictionLogsFrom, type ServingWorld, startServingWorld, type Transaction } from "./lib/modelServer";
import { resourceInputs } from "./lib/stackPlans";
import { run, waitFor } from "./lib/procs";
import { parseExposition, promtoolCheckMetrics } from "./lib/promtool";
import { venvBin, venvEnv } from "./lib/python";

const legit = (i: number): Transaction => ({
    amount: 20 + (i % 50),
    currency: "EUR",
    merchant_category: "5411",
    country: "DE",
    card_present: true,
    hour_of_day: 10 + (i % 8),
});
const suspicious = (i: number): Transaction => ({
    amount: 1500 + i,
    currency: "USD",
    merchant_category: "7995",
    country: "US",
    card_present: false,
    hour_of_day: 3,
});

/** Runs boto3 calls as the given credentials; returns "allowed" or the S3 error code per call. */
async function s3Attempts(world: ServingWorld, creds: ServingWorld["workloadCredentials"], calls: { op: "put" | "get"; key: string }[]): Promise<string[]> {
    const script = `
import json, sys, boto3
from botocore.exceptions import ClientError
spec = json.load(sys.stdin)
s3 = boto3.client("s3")
out = []
for c in spec["calls"]:
    try:
        if c["op"] == "put": s3.put_object(Bucket=spec["bucket"], Key=c["key"], Body=b"{}")
        else: s3.get_object(Bucket=spec["bucket"], Key=c["key"])
        out.append("allowed")
    except ClientError as e:
        out.append(e.response["Error"]["Code"])
print(json.dumps(out))
`;
    const r = await run(venvBin("model-server", "python"), ["-c", script], {
        env: venvEnv("model-server", world.mlflow.s3.clientEnv(creds)),
        input: JSON.stringify({ bucket: world.mlflow.bucket, calls }),
    });
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout);
}

describe("the example model server (team fraud, test stack), run as planned", () => {
    let world: ServingWorld;
    let server: ModelServer;
    let denied: ModelServer;
    let logBucket: string;
    let logPrefix: string;
    const sent: { instance: Transaction; prediction: number }[] = [];

    beforeAll(async () => {
        world = await startServingWorld("test");
        const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(world.predictionLogUri)!;
        [logBucket, logPrefix] = [m[1], m[2]];
        server = await ModelServer.start(world.mlflow, world.team, { deployment: "fraud-scorer", aws: world.workloadCredentials });
        // Fault injection: the drift-check role of the same team may read prediction logs, not write them.
        const drift = resourceInputs(world.mlflow.plan, "aws:iam/rolePolicy:RolePolicy", "team-fraud-drift-check-policy");
        const driftCredentials = await world.mlflow.s3.roleCredentials("drift-check-fraud", { "drift-check": drift.policy });
        denied = await ModelServer.start(world.mlflow, world.team, { deployment: "fraud-scorer", aws: driftCredentials });
    });
    afterAll(async () => {
        await server?.stop();
        await denied?.stop();
        await world?.mlflow.s3.enforceIam(false).catch(() => undefined);
        await world?.stop();
    });

    it("is live, and ready once the registered version is loaded through MLflow (as the team user)", async () => {
        const live = server.container.livenessProbe.httpGet.path;
        await waitFor(
            "the model server to answer its liveness probe",
            async () => (await fetch(`${server.url}${live}`).catch(() => undefined))?.status === 200,
            120_000,
        );
        await server.waitReady();
        await denied.waitReady();
        expect((await fetch(`${server.url}${server.container.readinessProbe.httpGet.path}`)).status).toBe(200);
    });

    it("answers /invocations with a fraud probability per instance", async () => {
        const instances = [...Array.from({ length: 20 }, (_, i) => legit(i)), ...Array.from({ length: 20 }, (_, i) => suspicious(i))];
        const r = await server.invoke(instances);
        expect(r.status).toBe(200);
        expect(r.body.model).toBe("fraud-scorer");
        expect(r.body.version).toBe(world.registered.version);
        const p: number[] = r.body.predictions;
        expect(p).toHaveLength(40);
        for (const x of p) {
            expect(x).toBeGreaterThanOrEqual(0);
            expect(x).toBeLessThanOrEqual(1);
        }
        const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;
        expect(mean(p.slice(20))).toBeGreaterThan(mean(p.slice(0, 20)) + 0.3);
        instances.forEach((instance, i) => sent.push({ instance, prediction: p[i] }));
    });

    it("rejects schema violations with 422, naming each field and reason, and counts them", async () => {
        const bad = [
            { ...legit(0), amount: -5 },
            { ...legit(1), currency: "XXX" },
            (({ country: _c, ...rest }) => rest)(legit(2)),
            { ...legit(3), hour_of_day: "ten" },
        ];
        const r = await server.invoke(bad);
        expect(r.status).toBe(422);
        expect(r.body.problems).toEqual([
            { instance: 0, field: "amount", reason: "range" },
            { instance: 1, field: "currency", reason: "category" },
            { instance: 2, field: "country", reason: "missing" },
            { instance: 3, field: "hour_of_day", reason: "type" },
        ]);
        // Two bad fields in one instance count two.
        const two = await server.invoke([{ ...legit(4), amount: -1, currency: "XXX" }]);
        expect(two.body.problems).toEqual([
            { instance: 0, field: "amount", reason: "range" },
            { instance: 0, field: "currency", reason: "category" },
        ]);
        expect((await server.invoke([])).status).toBe(400);
        const text = await server.metrics();
        expect(text).toMatch(/mlops_model_input_validation_failures_total\{[^}]*field="currency"[^}]*reason="category"[^}]*\} 2\.0/);
        expect(text).toMatch(/mlops_model_input_validation_failures_total\{[^}]*field="country"[^}]*reason="missing"[^}]*\} 1\.0/);
        expect(text).toMatch(/mlops_model_requests_total\{[^}]*status="422"[^}]*\} 2\.0/);
        expect(text).toMatch(/mlops_model_requests_total\{[^}]*status="400"[^}]*\} 1\.0/);
    });

    it("after traffic, /metrics carries every metric and label the contract, alert rules, HPA adapter and dashboards read; promtool check metrics passes", async () => {
        // Traffic on the second server: valid, invalid, and a batch large enough (sample rate 0.5) to
        // fill the 500-record log buffer, whose write the drift-check role is denied.
        expect((await denied.invoke(Array.from({ length: 30 }, (_, i) => (i % 2 ? legit(i) : suspicious(i))))).status).toBe(200);
        expect((await denied.invoke([{ ...legit(0), merchant_category: "12" }])).status).toBe(422);
        await world.mlflow.s3.enforceIam(true);
        let text: string;
        try {
            expect((await denied.invoke(Array.from({ length: 1400 }, (_, i) => legit(i)))).status).toBe(200);
            text = await denied.metrics();
            // Its last flush (the records left in the buffer) is denied too, while IAM is still enforced: a
            // later flush of this role's would land under the team's prefix while the next tests read it.
            expect(await denied.terminate()).toBe(0);
        } finally {
            await world.mlflow.s3.enforceIam(false);
        }
        const scraped = parseExposition(text);
        const has = (name: string, labels: string[]) => scraped.some((s) => s.name === name && labels.every((l) => l in s.labels));
        for (const s of contractModelServerSeries()) expect(has(s.name, s.labels), `${s.name} with ${s.labels.join(",")}`).toBe(true);
        const errors = scraped.find((s) => s.name === METRICS.artifactStoreErrors.name);
        // AccessDenied for this role on AWS; moto answers SignatureDoesNotMatch first (the "=" in the key).
        expect(errors?.labels).toMatchObject({ operation: "write_prediction_log", model: "fraud-scorer", team: "fraud" });
        expect(errors?.labels.error_code).toMatch(/^(AccessDenied|SignatureDoesNotMatch)$/);
        const info = scraped.find((s) => s.name === METRICS.modelInfo.name);
        expect(info?.labels).toMatchObject({ run_id: world.registered.run_id, alias: "champion", version: world.registered.version });
        const exprs = modelServerExpressions([world.mlflow.plan, world.team]);
        expect(exprs.some((e) => e.source.startsWith("ml-fraud/"))).toBe(true); // the team's own rules
        expect(exprs.some((e) => e.source.startsWith("dashboard"))).toBe(true);
        expect(exprs.some((e) => e.source.startsWith("prometheus-adapter"))).toBe(true);
        const modelSeries = new Set(contractModelServerSeries().map((s) => s.name));
        for (const { source, expr } of exprs) {
            const names = metricNamesIn(expr).filter((n) => modelSeries.has(n));
            for (const n of names)
                expect(
                    scraped.some((s) => s.name === n),
                    `${source}: ${n}`,
                ).toBe(true);
            for (const label of labelsIn(expr).filter((l) => !TARGET_LABELS.has(l))) {
                expect(
                    names.some((n) => has(n, [label])),
                    `${source}: label ${label} of ${expr}`,
                ).toBe(true);
            }
        }
        const lint = await promtoolCheckMetrics(text);
        expect(lint.code, lint.stdout + lint.stderr).toBe(0);
    });

    it("on SIGTERM it stops reporting ready, finishes the request in flight, writes the prediction log under the team's prefix and exits 0", async () => {
        const big = Array.from({ length: 6000 }, (_, i) => (i % 3 ? legit(i) : suspicious(i)));
        const inFlight = server.invoke(big);
        await new Promise((r) => setTimeout(r, 400));
        server.proc.signal("SIGTERM");
        const ready = await fetch(`${server.url}${server.container.readinessProbe.httpGet.path}`, {
            signal: AbortSignal.timeout(server.container.readinessProbe.timeoutSeconds * 1000),
        }).then(
            (r) => r.status,
            () => "no answer",
        );
        expect(ready).not.toBe(200);
        const done = await inFlight;
        expect(done.status).toBe(200);
        expect(done.body.predictions).toHaveLength(big.length);
        expect(await server.proc.exited).toBe(0);
        big.forEach((instance, i) => sent.push({ instance, prediction: done.body.predictions[i] }));
        const objects = await world.mlflow.s3.list(logBucket, logPrefix);
        expect(objects.length).toBeGreaterThan(0);
        const records = (await Promise.all(objects.map(async (o) => (await world.mlflow.s3.get(logBucket, o.key)).toString()))).flatMap((b) =>
            b
                .split("\n")
                .filter(Boolean)
                .map((l) => JSON.parse(l)),
        );
        for (const o of objects) expect(o.key).toMatch(new RegExp(`^${logPrefix}date=\\d{4}-\\d{2}-\\d{2}/\\d{6}-[0-9a-f]{32}\\.jsonl$`));
        // Sampled at the rendered rate (0.5 in test): about half of what was served, each as served.
        expect(records.length).toBeGreaterThan(sent.length * 0.4);
        expect(records.length).toBeLessThan(sent.length * 0.6);
        const served = new Map(sent.map((s) => [JSON.stringify(s.instance), s.prediction]));
        for (const r of records.slice(0, 200)) {
            expect(r).toMatchObject({ model: "fraud-scorer", version: world.registered.version });
            expect(served.get(JSON.stringify(r.input))).toBeCloseTo(r.prediction, 12);
        }
    });

    it("IAM (moto enforcing it): the workload role may write its own team's prediction logs only, and not read them", async () => {
        const own = `${logPrefix}iam-check.jsonl`;
        const other = logPrefix.replace("/fraud/", "/recsys/") + "iam-check.jsonl";
        expect(other).not.toBe(own);
        await world.mlflow.s3.enforceIam(true);
        let results: string[];
        try {
            results = await s3Attempts(world, world.workloadCredentials, [
                { op: "put", key: own },
                { op: "get", key: own },
                { op: "put", key: other },
                { op: "put", key: `${world.mlflow.artifactPrefix}iam-check.txt` },
            ]);
        } finally {
            await world.mlflow.s3.enforceIam(false);
        }
        expect(results).toEqual(["allowed", "AccessDenied", "AccessDenied", "AccessDenied"]);
    });

    it("the drift-check helper: a new server's prediction logs for given inputs, every input logged at sample rate 1", async () => {
        const inputs = Array.from({ length: 30 }, (_, i) => (i % 2 ? legit(i) : suspicious(i)));
        const { uri, objects } = await predictionLogsFrom(world, inputs, { sampleRate: 1 });
        expect(uri).toBe(world.predictionLogUri);
        const records = objects.flatMap((o) => o.records);
        expect(records.map((r) => r.input)).toEqual(inputs);
        for (const o of objects) expect(o.key.startsWith(logPrefix)).toBe(true);
    });
});
