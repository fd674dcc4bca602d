/**
 * `npm run plan` as a user runs it: a separate process (node with the tsx loader, as `tsx` runs it),
 * checked for its exit codes, its messages, its files, and that it ends (no hang, no stray pack). The
 * programs run `--in-process` here (seconds, not a program process and its TypeScript compile per
 * plan); the default, the program run as the Pulumi CLI runs it, is tested in test/programRun.test.ts
 * (a fixture) and e2e/programRun.e2e.test.ts (these stacks and the example team stacks).
 */
import { execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { beforeAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { validateObjects } from "../engine/kubernetes";
import { MANIFEST_SECRET_PLACEHOLDER } from "../engine/render";
import { isSecret, redact } from "../engine/values";
import { ROOT, runStack, type StackName, type StackRun, STACKS } from "./harness";
import { validateSarif } from "./sarifSchema";

const FIXTURE_PROJECT = "test/fixtures/project";
const PACK = "test/fixtures/policy-pack";
const SILENT_PACK = "test/fixtures/broken-packs/silent";

/**
 * A plan that has not ended after this long hangs: it is killed so that the suite ends, and its test
 * fails saying so. The plans here take seconds alone; on a loaded two-core machine (CI and other work
 * running) one took more than the 45 s this used to allow, which failed a plan that did end.
 */
const HANG_MS = 240_000;

interface Run {
    code: number | null;
    /** Killed after {@link HANG_MS}: the plan did not end. */
    hung: boolean;
    stdout: string;
    /** stderr without the progress lines. */
    stderr: string;
    /** The progress lines (`plan <stack>: <phase>...`). */
    progress: string[];
    seconds: number;
}

function plan(args: string[]): Promise<Run> {
    const t0 = Date.now();
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, ["--import", "tsx", "engine/cli/plan.ts", "--in-process", ...args, "--no-charts"], {
            cwd: ROOT,
            env: { ...process.env, FORCE_COLOR: "0" },
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        let hung = false;
        const killer = setTimeout(() => {
            hung = true;
            child.kill("SIGKILL");
        }, HANG_MS);
        child.on("error", reject);
        child.on("close", (code) => {
            clearTimeout(killer);
            const lines = stderr.split(/(?<=\n)/);
            const isProgress = (l: string) => /^plan [^ :]+: /.test(l);
            resolve({
                code,
                hung,
                stdout,
                stderr: lines.filter((l) => !isProgress(l)).join(""),
                progress: lines.filter(isProgress).map((l) => l.trimEnd()),
                seconds: (Date.now() - t0) / 1000,
            });
        });
    });
}

/** The plan ended by itself (else its output so far says where it stopped). */
function expectEnded(r: Run): void {
    expect(r.hung, `the plan did not end within ${HANG_MS / 1000}s and was killed; stderr so far:\n${r.stderr}${r.progress.join("\n")}`).toBe(false);
}

/** A plan to run: its arguments, and a plan that reads its output, run as soon as it ended. */
interface Job<K extends string> {
    args: string[];
    then?: [K, string[]];
}

/** Runs the plans two at a time (the CI machine has two cores), in order, each `then` right after its job. */
async function runAll<K extends string>(jobs: Partial<Record<K, Job<K>>>): Promise<Record<K, Run>> {
    const entries = Object.entries(jobs) as [K, Job<K>][];
    const out = {} as Record<K, Run>;
    let next = 0;
    const worker = async () => {
        while (next < entries.length) {
            const [k, { args, then }] = entries[next++];
            out[k] = await plan(args);
            if (then) out[then[0]] = await plan(then[1]);
        }
    };
    await Promise.all([worker(), worker()]);
    return out;
}

const outDir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-cli-"));
type RunName = "stacks" | "violate" | "diff" | "badConfig" | "packTimeout" | "invalidK8s";
let runs: Record<RunName, Run>;
/** The harness's recording of each stack, made while the plans run (the test worker waits on them otherwise). */
const harnessRuns = new Map<StackName, StackRun>();
let packConfig: string;
const diffMarkdown = path.join(outDir, "diff.md");

beforeAll(
    async () => {
        packConfig = path.join(outDir, "fixture-pack-config.json");
        fs.writeFileSync(packConfig, JSON.stringify({ "max-buckets": { maxBuckets: 0 } }));
        const recorded = (async () => {
            for (const stack of STACKS) harnessRuns.set(stack, await runStack(stack));
        })();
        [runs] = await Promise.all([
            runAll<RunName>({
                stacks: { args: [...STACKS, "--no-policy", "--json", "--out", path.join(outDir, "real")] },
                violate: {
                    args: [
                        "ok",
                        "-C",
                        FIXTURE_PROJECT,
                        "-c",
                        "fixture:mode=violate",
                        "--policy-pack",
                        PACK,
                        "--policy-pack-config",
                        packConfig,
                        "--out",
                        path.join(outDir, "fixture"),
                        "--details",
                        "--sarif",
                        path.join(outDir, "violate.sarif"),
                        "--results",
                        path.join(outDir, "violate.results.json"),
                    ],
                    // The diff against that plan's --out directory (the baseline).
                    then: [
                        "diff",
                        [
                            "ok",
                            "-C",
                            FIXTURE_PROJECT,
                            "-c",
                            'fixture:teams=["risk"]',
                            "--no-policy",
                            "--diff",
                            path.join(outDir, "fixture"),
                            "--fail-on-stateful-delete",
                            "--markdown",
                            diffMarkdown,
                        ],
                    ],
                },
                badConfig: { args: ["dev", "-c", "mlops:environment=qa", "--no-policy"] },
                packTimeout: { args: ["ok", "-C", FIXTURE_PROJECT, "--policy-pack", SILENT_PACK, "--policy-timeout", "1"] },
                invalidK8s: { args: ["ok", "-C", FIXTURE_PROJECT, "-c", "fixture:mode=invalid-k8s", "--no-policy"] },
            }),
            recorded,
        ]);
    },
    6 * HANG_MS + 60_000, // six plans: each is killed as hung before this, even if all hang one after another
);

/** Every string held in a secret anywhere in `v` (long enough not to match by chance). */
function secretStrings(v: unknown, inSecret = false): string[] {
    if (isSecret(v)) return secretStrings(v.value, true);
    if (typeof v === "string") return inSecret && v.length >= 8 ? [v] : [];
    if (Array.isArray(v)) return v.flatMap((e) => secretStrings(e, inSecret));
    if (typeof v === "object" && v !== null) return Object.values(v).flatMap((e) => secretStrings(e, inSecret));
    return [];
}

describe("npm run plan -- dev test prod --json --out <dir>", () => {
    it("exits 0 and prints one plan per stack", () => {
        expectEnded(runs.stacks);
        expect(runs.stacks.stderr).not.toMatch(/error/i);
        // npm test never runs Helm (--no-charts): the plan says loudly what it left out.
        expect(runs.stacks.stderr).toContain(
            "WARNING: --no-charts: the 4 Helm releases were not rendered; their objects are not counted, written, validated or checked by the policy packs",
        );
        expect(runs.stacks.code).toBe(0);
        expect(JSON.parse(runs.stacks.stdout).map((d: any) => [d.stack, d.exitCode])).toEqual(STACKS.map((s) => [s, 0]));
    });

    it.each(STACKS)("%s: the plan is what the harness records; the files are valid and hold no secret", async (stack) => {
        expectEnded(runs.stacks);
        const doc = JSON.parse(runs.stacks.stdout).find((d: any) => d.stack === stack);
        const harness = harnessRuns.get(stack)!;
        expect(doc).toMatchObject({ planFormat: 1, project: "mlops", stack, organization: "acme", exitCode: 0, policy: { skipped: "skipped (--no-policy)" } });
        expect(doc.resources.map((x: any) => [x.urn, x.type, x.parent, x.provider])).toEqual(
            harness.resources.map((x) => [x.urn, x.type, x.parent, x.provider]),
        );
        expect(doc.resources.map((x: any) => x.inputs)).toEqual(harness.resources.map((x) => redact(x.inputs, "[secret]")));
        expect(doc.resources.map((x: any) => x.dependencies)).toEqual(harness.resources.map((x) => x.dependencies));
        const stackDir = path.join(outDir, "real", stack);
        const planFile = fs.readFileSync(path.join(stackDir, "plan.json"), "utf8");
        expect(JSON.parse(planFile)).toEqual(doc);

        const files = execFileSync("find", [path.join(stackDir, "manifests"), "-name", "*.yaml"], { encoding: "utf8" })
            .trim()
            .split("\n")
            .filter(Boolean);
        expect(files.length).toBe(harness.k8s().length);
        const texts = files.map((f) => fs.readFileSync(f, "utf8"));
        const objects = texts.map((t) => YAML.parse(t));
        for (const [i, o] of objects.entries()) {
            expect(Object.keys(o).slice(0, 3)).toEqual(["apiVersion", "kind", "metadata"]);
            const rel = path.relative(path.join(stackDir, "manifests"), files[i]);
            expect(rel).toBe(path.join(o.metadata.namespace ?? "_cluster", rel.split(path.sep)[1], `${o.kind.toLowerCase()}-${o.metadata.name}.yaml`));
        }
        expect(await validateObjects(objects)).toEqual([]);
        for (const o of objects.filter((x) => x.kind === "Secret")) {
            for (const v of Object.values<string>(o.stringData ?? {})) expect(v).toBe(MANIFEST_SECRET_PLACEHOLDER);
        }
        const written = planFile + texts.join("\n");
        // A value inside a secret that is also a resource's name is public anyway (e.g. the MLflow user
        // `team-<name>` in the `mlflow-credentials` Secret is the name of the team's ServingNamespace).
        const names = new Set(harness.resources.map((r) => r.name));
        const secrets = [...new Set([...harness.resources.flatMap((r) => secretStrings(r.inputs)), ...secretStrings(harness.recording.outputs)])].filter(
            (s) => !names.has(s),
        );
        for (const s of secrets) expect(written.includes(s), `a secret of length ${s.length} was written`).toBe(false);
    });
});

describe("npm run plan: exit codes", () => {
    it("exit 1: a mandatory violation printed like the Pulumi CLI prints it, the tree, the remediation, the files", () => {
        const r = runs.violate;
        expectEnded(r);
        expect(r.stderr).toBe("");
        expect(r.code).toBe(1);
        expect(r.progress).toEqual([
            expect.stringMatching(/^plan ok: starting the policy packs: 1 pack ready in \d+\.\ds$/),
            expect.stringMatching(/^plan ok: running the program: 10 resources \(each analysed by the packs as it registered\) in \d+\.\ds$/),
            expect.stringMatching(/^plan ok: checking the stack with the policy packs: 2 violations in \d+\.\ds$/),
            expect.stringMatching(/^plan ok: validating Kubernetes objects: 4 objects, all valid in \d+\.\ds$/),
        ]);
        expect(r.stdout).toContain("pulumi:pulumi:Stack  fixture-ok\n├─ pulumi:providers:kubernetes  k8s\n");
        expect(r.stdout).toContain(
            "└─ fixture:index:Team  fraud\n   ├─ fixture:index:Storage  fraud-storage\n   │  └─ aws:s3/bucket:Bucket  fraud-storage-data\n",
        );
        // --details shows inputs, secrets masked (the secure config value never appears).
        expect(r.stdout).toContain('   ├─ kubernetes:core/v1:Secret  fraud-db  [1 secret input]\n   │       apiVersion: "v1"\n');
        expect(r.stdout).toContain('stringData: "[secret]"');
        expect(r.stdout).not.toContain("offline-plan-secret-placeholder");
        expect(r.stdout).toContain(
            [
                "Policy Violations:",
                "    mlops-fixture@v0.1.0 [mandatory]  no-force-destroy  (aws:s3/bucket:Bucket: fraud-storage-data)",
                "    Buckets are never force-destroyed.",
                "    forceDestroy is true: deleting the stack would delete every object.",
                "    Remediation: Set forceDestroy to false; empty the bucket by hand if it really must go.",
            ].join("\n"),
        );
        expect(r.stdout).toContain(
            "Policy Remediations:\n    mlops-fixture@v0.1.0 [remediate]  namespace-checked-label  (kubernetes:core/v1:Namespace: fraud-ns) [~metadata]",
        );
        expect(r.stdout).toMatch(
            /Policy Packs run:\n {4}Name {11}Version\n {4}mlops-fixture {2}v0\.1\.0 {3}\(local: test\/fixtures\/policy-pack, config: \S+fixture-pack-config\.json\)/,
        );
        // The --policy-pack-config file reaches the stack policy.
        expect(r.stdout).toContain(
            "    mlops-fixture@v0.1.0 [advisory]  max-buckets  (stack)\n    A stack holds at most maxBuckets buckets.\n    1 buckets, at most 0 allowed.\n",
        );
        expect(r.stdout).toContain("1 mandatory, 1 advisory violation; 1 remediation");
        expect(r.stdout.trimEnd()).toMatch(/exit 1: mandatory policy violations\nWrote \S+violate\.results\.json\nWrote \S+violate\.sarif$/);
        // The audit exports of the same run (test/audit.test.ts checks their content against the schema).
        const sarif = JSON.parse(fs.readFileSync(path.join(outDir, "violate.sarif"), "utf8"));
        expect(validateSarif(sarif)).toEqual([]);
        expect(sarif.runs[0].results.map((x: any) => [x.ruleId, x.level, x.locations[0].logicalLocations[0].name])).toEqual([
            ["no-force-destroy", "error", "fraud-storage-data"],
        ]);
        const results = JSON.parse(fs.readFileSync(path.join(outDir, "violate.results.json"), "utf8"));
        expect(results).toMatchObject({ resultsFormat: 1, project: "fixture", stack: "ok", packs: [{ name: "mlops-fixture", version: "0.1.0" }] });
        expect(results.stackPolicies).toEqual([]);
        const bucket = results.resources.find((x: any) => x.name === "fraud-storage-data");
        expect(bucket.results.find((x: any) => x.policy === "no-force-destroy")).toMatchObject({ status: "violation", level: "mandatory" });
        const plan = JSON.parse(fs.readFileSync(path.join(outDir, "fixture", "ok", "plan.json"), "utf8"));
        expect(plan.provenance).toMatchObject({
            gitCommit: expect.stringMatching(/^[0-9a-f]{40}$/),
            tool: { name: "mlops-plan" },
            sdk: {
                "@pulumi/pulumi": "3.248.0",
                "@pulumi/aws": "7.48.0",
                "@pulumi/kubernetes": "4.34.2",
                "@pulumi/policy": expect.stringMatching(/^v?1\.21\.0$/),
            },
        });
        expect(Date.parse(plan.provenance.generatedAt)).toBeGreaterThan(Date.now() - 10 * 60_000);
        const stackDir = path.join(outDir, "fixture", "ok");
        const ns = YAML.parse(fs.readFileSync(path.join(stackDir, "manifests", "_cluster", "fraud", "namespace-fraud.yaml"), "utf8"));
        expect(ns.metadata.labels).toEqual({ "policy.example.io/checked": "true" });
        const doc = JSON.parse(fs.readFileSync(path.join(stackDir, "plan.json"), "utf8"));
        expect(doc.exitCode).toBe(1);
        expect(doc.policy.violations.map((v: any) => [v.policyName, v.enforcementLevel, v.stage])).toEqual([
            ["no-force-destroy", "mandatory", "resource"],
            ["max-buckets", "advisory", "stack"],
        ]);
    });

    it("exit 2: invalid config prints the ConfigError's message alone", () => {
        const r = runs.badConfig;
        expectEnded(r);
        expect(r.code).toBe(2);
        expect(r.stdout).toBe("");
        expect(r.stderr).toMatch(
            /^error: Invalid configuration for stack "dev" \(1 problem\):\n {2}- mlops:environment: got "qa"; expected one of dev, test, prod\.\n$/,
        );
    });

    it("exit 3: a pack that never answers times out, and is not left running", () => {
        const r = runs.packTimeout;
        expectEnded(r);
        expect(r.code).toBe(3);
        expect(r.stderr).toMatch(
            /^error: policy pack ".*broken-packs\/silent" failed to start: it did not print its port within 1s; on a busy machine allow more time with --policy-timeout <seconds>\n$/,
        );
        expect(r.seconds).toBeLessThan(20);
        const ps = execFileSync("ps", ["-eo", "args"], { encoding: "utf8" });
        expect(ps.split("\n").filter((l) => l.includes("run-policy-pack") && l.includes("silent"))).toEqual([]);
    });

    it("exit 5: --diff against the baseline --out directory with --fail-on-stateful-delete: the deleted namespace and bucket first, a Markdown comment", () => {
        const r = runs.diff;
        expectEnded(r);
        expect(r.code).toBe(5);
        const diff = r.stdout.slice(r.stdout.indexOf("Changes to fixture/ok:"));
        expect(diff.split("\n")[0]).toBe("Changes to fixture/ok: 7 to create, 0 to update, 0 to replace, 7 to delete, 0 moved, 3 unchanged");
        expect(diff).toContain("WARNING: 2 stateful or protected resources deleted or replaced (data may be lost):");
        const rows = diff.split("\n").filter((l) => /^ {2}(\+|-|~) /.test(l));
        expect(rows.slice(0, 2).map((l) => l.trim())).toEqual([
            "-  delete  aws:s3/bucket:Bucket  fraud-storage-data [stateful]",
            "-  delete  kubernetes:core/v1:Namespace  fraud-ns [stateful]",
        ]);
        expect(diff).toContain("Policy results that changed:\n  resolved mandatory");
        expect(r.stderr).toMatch(
            /^error: --fail-on-stateful-delete: 2 stateful or protected resources are deleted or replaced:\n {2}delete urn:pulumi:ok::fixture::fixture:index:Team\$fixture:index:Storage\$aws:s3\/bucket:Bucket::fraud-storage-data\n/m,
        );
        expect(fs.readFileSync(diffMarkdown, "utf8")).toMatch(/^### Changes to fixture\/ok\n\n7 to create.*\n\n> \*\*Warning:\*\* 2 stateful/);
        // Progress: each phase with its time, plain lines (stderr is not a terminal).
        expect(r.progress).toEqual([
            expect.stringMatching(/^plan ok: running the program: \d+ resources in \d+\.\ds$/),
            expect.stringMatching(/^plan ok: validating Kubernetes objects: 4 objects, all valid in \d+\.\ds$/),
        ]);
    });

    it("exit 4: an invalid Kubernetes object, with its path and schema error", () => {
        const r = runs.invalidK8s;
        expectEnded(r);
        expect(r.code).toBe(4);
        expect(r.stdout).toContain("Kubernetes: 4 objects, 1 invalid:\n    Deployment/fraud/api /spec/replicas: must be integer\n");
        expect(r.stdout.trimEnd().endsWith("exit 4: invalid Kubernetes objects")).toBe(true);
    });
});
