/**
 * `npm run plan -- <stack> [flags]`: the offline plan of a stack. Usage, outputs and exit codes are in
 * docs/plan.md; `--help` prints a summary.
 */
import { auditPlan, type StackAudit, writeAuditExports } from "../auditExports";
import { planProvenance } from "../provenance";
import * as fs from "fs";
import * as path from "path";
import { parseArgs } from "util";
import { DEFAULT_POLICY_TIMEOUT_SECONDS } from "../analyzer";
import { dataLosingChanges, diffPlans, type PlanDiff, type PlanDocument, renderDiff, renderDiffMarkdown, withoutStack } from "../diff";
import { combineExitCodes, describeFailure, EXIT, type Plan, planStack, PLAN_PACKAGE, resolvePolicyPacks, UsageError } from "../plan";
import { NO_PROGRESS, Progress } from "../progress";
import { ensureCharts } from "../charts";
import { setStackReferenceOutputs } from "../mockState";
import { cmdRunProgram, cmdRunTsconfig, readProject } from "../project";
import { RELEASE_TYPE } from "../helm";
import { manifestFiles, planDocument, renderPolicyReport, renderSchemaErrors, renderTree, renderTypeCounts, countKinds } from "../render";

const USAGE = `usage: npm run plan -- <stack>... [flags]

Runs the stack's program offline (mocked providers) and prints what \`pulumi preview\` would register.
Several stacks are planned one after the other; the exit code is the most severe of theirs.

  --json                      print the plan as JSON on stdout (messages go to stderr); with several
                              stacks, a JSON array of plans
  --out <dir>                 write <dir>/<stack>/plan.json and <dir>/<stack>/manifests/**.yaml
  --details                   show every resource's inputs in the tree (secrets masked)
  --policy-pack <dir>         run this CrossGuard pack (repeatable); default: every pack under policy/,
                              or else the platform's packs shipped with the mlops-plan package the
                              project depends on (no packs at all is an error: see --no-policy)
  --policy-pack-config <file> config of the matching --policy-pack (repeatable, one per pack);
                              default: the first of <pack>/config/<stack>.json,
                              policy/config/<stack>/<pack>.json (this repository's layout),
                              policy/config/<pack>/<stack>.json, policy/config/<stack>.json
  --no-policy                 run no policy pack
  --no-charts                 do not render the Helm releases (their objects are then not counted,
                              written, validated or checked: the plan says so); by default Helm and the
                              charts are built into ~/.cache/mlops-charts on first use (needs Go)
  --policy-timeout <seconds>  budget for a pack to start and for each call to it (default ${DEFAULT_POLICY_TIMEOUT_SECONDS})
  -c, --config <ns:key=value> set a config value for this plan only (repeatable; like pulumi --config)
  -C, --cwd <dir>             project directory (default: the current directory)
  --organization <name>       organisation the packs are told about (default: the stack config's
                              <project>:organization, else the owner of <project>:platformStack)
  --preview                   keep computed values unknown, as during a real preview
  --in-process                import the program into this process instead of running it as the
                              Pulumi CLI does (node, the SDK's cmd/run, ts-node; docs/plan.md)
  --stack-reference <name>=<file>
                              StackReferences to <name> return the outputs in <file>: a plan.json
                              written by --out (e.g. of the platform stack) or a JSON object (repeatable)
  --sarif <file>              write the policy findings as SARIF 2.1.0 (one run per stack; accepted
                              exceptions as suppressed results) for code-scanning views
  --results <file>            write every policy's result for every resource (violation, pass, not
                              applicable, accepted exception) with its controls, as JSON
  --quiet                     no progress on stderr (by default each phase and its time; a live line
                              on a terminal)

diffs (what a change does; stateful and protected resources first):
  --diff <plan.json | dir>    compare each stack's plan with a baseline: a plan.json, or a directory
                              written by --out (its <stack>/plan.json), e.g. the plan of main
  --compare                   plan exactly two stacks and show how the second differs from the first
                              (environment drift): npm run -s plan -- --compare test prod
  --markdown <file>           also write the diff as Markdown (a pull-request comment) to <file>
  --fail-on-stateful-delete   exit 5 when the diff deletes or replaces a stateful or protected resource

exit codes: 0 ok, 1 mandatory policy violations, 2 the plan could not be made (flags, stack files,
invalid config, the program threw), 3 a policy pack failed (start, crash, timeout, invalid policy
config), 4 invalid Kubernetes objects, 5 a stateful or protected resource deleted or replaced
(--fail-on-stateful-delete)`;

interface Flags {
    stacks: string[];
    json: boolean;
    out?: string;
    details: boolean;
    packs?: string[];
    packConfigs: string[];
    noPolicy: boolean;
    noCharts: boolean;
    timeoutMs: number;
    config: Record<string, string>;
    root: string;
    organization?: string;
    preview: boolean;
    /** Run the program in this process (the test harness's way) instead of as the CLI runs it. */
    inProcess: boolean;
    /** Outputs that StackReferences to these stack names return: name -> plan.json (or outputs JSON) file. */
    stackReferences: Record<string, string>;
    quiet: boolean;
    /** Baseline plan.json or --out directory. */
    diff?: string;
    compare: boolean;
    markdown?: string;
    failOnStatefulDelete: boolean;
    /** Audit exports (engine/auditExports.ts). */
    sarif?: string;
    results?: string;
}

/** Parses argv (without node and script); throws UsageError. Exported for tests. */
export function parseFlags(argv: string[], cwd = process.cwd()): Flags | "help" {
    let parsed;
    try {
        parsed = parseArgs({
            args: argv,
            allowPositionals: true,
            options: {
                json: { type: "boolean", default: false },
                out: { type: "string" },
                details: { type: "boolean", default: false },
                "policy-pack": { type: "string", multiple: true },
                "policy-pack-config": { type: "string", multiple: true },
                "no-policy": { type: "boolean", default: false },
                "no-charts": { type: "boolean", default: false },
                "policy-timeout": { type: "string", default: String(DEFAULT_POLICY_TIMEOUT_SECONDS) },
                config: { type: "string", short: "c", multiple: true },
                cwd: { type: "string", short: "C" },
                organization: { type: "string" },
                preview: { type: "boolean", default: false },
                "in-process": { type: "boolean", default: false },
                "stack-reference": { type: "string", multiple: true },
                quiet: { type: "boolean", short: "q", default: false },
                diff: { type: "string" },
                compare: { type: "boolean", default: false },
                markdown: { type: "string" },
                "fail-on-stateful-delete": { type: "boolean", default: false },
                sarif: { type: "string" },
                results: { type: "string" },
                help: { type: "boolean", short: "h", default: false },
            },
        });
    } catch (err) {
        throw new UsageError(`${(err as Error).message}\n\n${USAGE}`);
    }
    const v = parsed.values;
    if (v.help) return "help";
    if (parsed.positionals.length === 0) throw new UsageError(`expected a stack name\n\n${USAGE}`);
    const timeout = Number(v["policy-timeout"]);
    if (!Number.isFinite(timeout) || timeout <= 0) throw new UsageError(`--policy-timeout must be a positive number of seconds, got "${v["policy-timeout"]}"`);
    const config: Record<string, string> = {};
    for (const c of v.config ?? []) {
        const eq = c.indexOf("=");
        if (eq <= 0) throw new UsageError(`--config expects key=value, got "${c}"`);
        config[c.slice(0, eq)] = c.slice(eq + 1);
    }
    const stackReferences: Record<string, string> = {};
    for (const r of v["stack-reference"] ?? []) {
        const eq = r.indexOf("=");
        if (eq <= 0) throw new UsageError(`--stack-reference expects <stack name>=<plan.json>, got "${r}"`);
        stackReferences[r.slice(0, eq)] = path.resolve(cwd, r.slice(eq + 1));
    }
    if (v["no-policy"] && (v["policy-pack"]?.length || v["policy-pack-config"]?.length)) {
        throw new UsageError("--no-policy cannot be combined with --policy-pack or --policy-pack-config");
    }
    const stacks = [...new Set(parsed.positionals)];
    if (v.compare && stacks.length !== 2) throw new UsageError(`--compare expects exactly two stacks (the baseline first), got ${stacks.length}`);
    if (v.compare && v.diff) throw new UsageError("--compare cannot be combined with --diff");
    if ((v.markdown || v["fail-on-stateful-delete"]) && !v.compare && !v.diff)
        throw new UsageError("--markdown and --fail-on-stateful-delete need --diff or --compare");
    if (v.diff && stacks.length > 1 && !(fs.existsSync(path.resolve(cwd, v.diff)) && fs.statSync(path.resolve(cwd, v.diff)).isDirectory())) {
        throw new UsageError("--diff with several stacks needs a directory written by --out (one <stack>/plan.json each)");
    }
    return {
        stacks,
        json: v.json ?? false,
        out: v.out ? path.resolve(cwd, v.out) : undefined,
        details: v.details ?? false,
        packs: v["policy-pack"]?.map((p) => path.resolve(cwd, p)),
        packConfigs: (v["policy-pack-config"] ?? []).map((p) => path.resolve(cwd, p)),
        noPolicy: v["no-policy"] ?? false,
        noCharts: v["no-charts"] ?? false,
        timeoutMs: timeout * 1000,
        config,
        root: path.resolve(cwd, v.cwd ?? "."),
        organization: v.organization,
        preview: v.preview ?? false,
        inProcess: v["in-process"] ?? false,
        stackReferences,
        quiet: v.quiet ?? false,
        diff: v.diff ? path.resolve(cwd, v.diff) : undefined,
        compare: v.compare ?? false,
        markdown: v.markdown ? path.resolve(cwd, v.markdown) : undefined,
        failOnStatefulDelete: v["fail-on-stateful-delete"] ?? false,
        sarif: v.sarif ? path.resolve(cwd, v.sarif) : undefined,
        results: v.results ? path.resolve(cwd, v.results) : undefined,
    };
}

/** The baseline plan of `stack` for --diff: the file itself, or `<dir>/<stack>/plan.json`. */
export function readBaseline(diff: string, stack: string): PlanDocument {
    const file = fs.existsSync(diff) && fs.statSync(diff).isDirectory() ? path.join(diff, stack, "plan.json") : diff;
    type Plan = { stack?: unknown; planFormat?: unknown; resources?: unknown; error?: unknown } | null;
    let read: Plan | Plan[];
    try {
        read = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (err) {
        throw new UsageError(`--diff: cannot read the baseline plan ${file}: ${(err as Error).message}`);
    }
    const doc = Array.isArray(read) ? read.find((d) => d?.stack === stack) : read;
    if (!doc || doc.planFormat !== 1 || !Array.isArray(doc.resources)) {
        throw new UsageError(
            `--diff: ${file} is not a plan of stack "${stack}" (write one with --out or --json)${doc?.error ? `; that plan failed: ${doc.error}` : ""}`,
        );
    }
    return doc as unknown as PlanDocument;
}

/**
 * Makes StackReferences answer offline: each named stack returns the outputs of a plan of that stack
 * (`<dir>/<stack>/plan.json` from `--out`; secrets in it are masked) or of a plain JSON object of outputs.
 */
function useStackReferences(refs: Record<string, string>): void {
    const outputs: Record<string, { outputs: Record<string, unknown> }> = {};
    for (const [name, file] of Object.entries(refs)) {
        let doc: unknown;
        try {
            doc = JSON.parse(fs.readFileSync(file, "utf8"));
        } catch (err) {
            throw new UsageError(`--stack-reference ${name}: cannot read ${file}: ${(err as Error).message}`);
        }
        const plan = doc && typeof doc === "object" && "planFormat" in doc ? (doc as { outputs?: unknown }).outputs : doc;
        outputs[name] = { outputs: plan as Record<string, unknown> };
    }
    setStackReferenceOutputs(outputs);
}

/** Relative path for messages. */
function rel(p: string): string {
    const r = path.relative(process.cwd(), p);
    return r && !r.startsWith("..") ? r : p;
}

function configKey(key: string, project: string): string {
    return key.includes(":") ? key : `${project}:${key}`;
}

function writeOutputs(plan: Plan, doc: unknown, outDir: string): { planFile: string; manifests: number } {
    const stackDir = path.join(outDir, plan.stack);
    const manifestsDir = path.join(stackDir, "manifests");
    fs.rmSync(manifestsDir, { recursive: true, force: true });
    fs.mkdirSync(manifestsDir, { recursive: true });
    const planFile = path.join(stackDir, "plan.json");
    fs.writeFileSync(planFile, `${JSON.stringify(doc, null, 2)}\n`);
    const files = manifestFiles(plan.objects, plan.resources);
    for (const f of files) {
        const file = path.join(manifestsDir, ...f.path.split("/"));
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, f.content);
    }
    return { planFile, manifests: files.length };
}

/** What the report says about the Helm releases: how many objects were rendered, or that they were not. */
export function chartsLine(releases: number, chartObjects: number, noCharts: boolean): string | undefined {
    if (releases === 0) return undefined;
    if (noCharts)
        return `WARNING: --no-charts: the ${releases} Helm release${releases === 1 ? " was" : "s were"} not rendered; their objects are not counted, written, validated or checked by the policy packs`;
    return `Helm releases: ${releases} rendered into ${chartObjects} object${chartObjects === 1 ? "" : "s"} (children of their Release in the tree; checked like the platform's own)`;
}

function humanReport(plan: Plan, flags: Flags, skipped: string | undefined): string {
    const out: string[] = [];
    const k = countKinds(plan.resources);
    const releases = plan.recording.resources.filter((r) => r.type === RELEASE_TYPE && r.custom).length;
    const charts = chartsLine(releases, plan.chartResources.length, flags.noCharts);
    out.push(
        `Plan of ${plan.project}/${plan.stack}: ${plan.resources.length} resources (${k.custom} custom, ${k.components} components, ${k.providers} providers; mocked provider values)`,
        ...(charts ? [charts] : []),
        "",
        renderTree(plan.resources, { details: flags.details }),
        "",
        "Resources by type:",
        renderTypeCounts(plan.resources),
        "",
    );
    const t = plan.recording.times;
    if (t) {
        const info = plan.recording.info;
        const tsconfig = cmdRunTsconfig(info);
        out.push(
            `Program: ${rel(cmdRunProgram(info.program.directory, info.program.entryPoint))} run as the Pulumi CLI runs it (@pulumi/pulumi/cmd/run --pwd ${rel(info.program.directory) || "."} ${info.program.entryPoint}), ` +
                `compiled with ${tsconfig ? rel(tsconfig) : "cmd/run's default options (no tsconfig.json)"}; start-up ${t.startup.toFixed(1)} s (node, TypeScript, modules), registrations ${t.program.toFixed(1)} s`,
            "",
        );
    }
    const logs = plan.recording.logs;
    if (logs.length) out.push("Program diagnostics:", ...logs.map((l) => `    ${l.severity}: ${l.message}`), "");
    if (plan.schemaErrors.length) {
        const bad = new Set(plan.schemaErrors.map((e) => e.object)).size;
        out.push(`Kubernetes: ${plan.objects.length} objects, ${bad} invalid:`, renderSchemaErrors(plan.schemaErrors), "");
    } else {
        out.push(`Kubernetes: ${plan.objects.length} objects, all valid against the upstream schemas`, "");
    }
    if (plan.policy) {
        out.push(renderPolicyReport(plan.policy), "");
        // What packs wrote besides their port, as the CLI shows a plugin's output.
        for (const p of plan.policy.packs.filter((k) => k.output.length)) out.push(`Output of ${p.name}:`, ...p.output.map((l) => `    ${l}`), "");
    } else out.push(`Policy: ${skipped}`, "");
    return out.join("\n");
}

const VERDICT: Record<number, string> = {
    [EXIT.OK]: "ok",
    [EXIT.MANDATORY_VIOLATIONS]: "mandatory policy violations",
    [EXIT.PROGRAM_ERROR]: "the plan could not be made",
    [EXIT.POLICY_PACK_ERROR]: "a policy pack failed",
    [EXIT.INVALID_KUBERNETES]: "invalid Kubernetes objects",
};

/** Plans one stack; prints its report (or its one error). Returns its exit code and JSON document. */
async function planOne(f: Flags, stack: string, log: (s: string) => void): Promise<{ exitCode: number; doc: unknown; audit?: StackAudit }> {
    const progress = f.quiet ? undefined : new Progress({ label: stack });
    try {
        const projectName = readProject(f.root).name;
        const configOverrides = Object.fromEntries(Object.entries(f.config).map(([k, v]) => [configKey(k, projectName), v]));
        const packs = f.noPolicy ? [] : resolvePolicyPacks(f.root, stack, f.packs, f.packConfigs);
        if (!f.noPolicy && packs.length === 0) {
            // Never a silent green: a plan that would check nothing fails unless asked for with --no-policy.
            throw new UsageError(
                `no policy packs to run: none under ${rel(path.join(f.root, "policy"))}/ and the project does not depend on ${PLAN_PACKAGE} (whose packs a plan runs by default); name packs with --policy-pack, or plan unchecked with --no-policy`,
            );
        }
        const skipped = f.noPolicy ? "skipped (--no-policy)" : undefined;
        const plan = await planStack({
            root: f.root,
            stack,
            configOverrides,
            policyPacks: packs,
            policyTimeoutMs: f.timeoutMs,
            organization: f.organization,
            preview: f.preview,
            progress: progress ?? NO_PROGRESS,
            charts: f.noCharts ? false : { prepare: (charts) => ensureCharts(charts, (line) => process.stderr.write(`${line}\n`)) },
            runner: f.inProcess ? "in-process" : "cli",
        });
        progress?.stop();
        const provenance = planProvenance(f.root);
        const doc = planDocument({
            provenance,
            project: plan.project,
            stack: plan.stack,
            organization: plan.organization,
            resources: plan.resources,
            outputs: plan.recording.outputs,
            schemaErrors: plan.schemaErrors,
            kubernetesObjects: plan.objects.length,
            policy: plan.policy,
            policySkipped: skipped,
            exitCode: plan.exitCode,
        });
        if (!f.json) process.stdout.write(`${humanReport(plan, f, skipped)}\n`);
        else if (f.noCharts) {
            const releases = plan.recording.resources.filter((r) => r.type === RELEASE_TYPE && r.custom).length;
            const warning = chartsLine(releases, 0, true);
            if (warning) process.stderr.write(`${warning}\n`);
        }
        if (f.out) {
            const w = writeOutputs(plan, doc, f.out);
            log(`Wrote ${rel(w.planFile)} and ${w.manifests} manifest${w.manifests === 1 ? "" : "s"} under ${rel(path.join(f.out, stack, "manifests"))}/`);
        }
        log(`exit ${plan.exitCode}: ${VERDICT[plan.exitCode]}`);
        return { exitCode: plan.exitCode, doc, audit: f.sarif || f.results ? auditPlan(plan, f.root, provenance) : undefined };
    } catch (err) {
        progress?.stop();
        const { exitCode, message } = describeFailure(err, f.root);
        process.stderr.write(`error: ${f.stacks.length > 1 ? `${stack}: ` : ""}${message}\n`);
        return { exitCode, doc: { planFormat: 1, stack, exitCode, error: message } };
    }
}

async function main(argv: string[]): Promise<number> {
    let flags: Flags | "help";
    try {
        flags = parseFlags(argv);
    } catch (err) {
        process.stderr.write(`error: ${(err as Error).message}\n`);
        return EXIT.PROGRAM_ERROR;
    }
    if (flags === "help") {
        process.stdout.write(`${USAGE}\n`);
        return EXIT.OK;
    }
    const f = flags;
    try {
        useStackReferences(f.stackReferences);
    } catch (err) {
        process.stderr.write(`error: ${(err as Error).message}\n`);
        return EXIT.PROGRAM_ERROR;
    }
    const log = (s: string) => (f.json ? process.stderr : process.stdout).write(`${s}\n`);
    const results: { exitCode: number; doc: unknown; audit?: StackAudit }[] = [];
    for (const stack of f.stacks) {
        if (f.stacks.length > 1) log(`${results.length ? "\n" : ""}=== ${stack} ===`);
        results.push(await planOne(f, stack, log));
    }
    const codes = results.map((r) => r.exitCode);
    if (f.sarif || f.results) {
        const audits = results.flatMap((r) => (r.audit ? [r.audit] : []));
        for (const file of writeAuditExports(
            audits,
            { sarif: f.sarif, results: f.results },
            { name: "mlops-plan", version: planProvenance(f.root).tool.version ?? "0.0.0" },
        ))
            log(`Wrote ${rel(file)}`);
    }
    // Diffs: each stack against its baseline, or the second stack against the first.
    const diffs: PlanDiff[] = [];
    try {
        if (f.compare) {
            const [a, b] = results.map((r) => r.doc as PlanDocument);
            if (!a.error && !b.error) diffs.push(diffPlans(withoutStack(a), withoutStack(b)));
        } else if (f.diff) {
            for (const r of results) {
                const head = r.doc as PlanDocument;
                if (!head.error) diffs.push(diffPlans(readBaseline(f.diff, head.stack), head));
            }
        }
    } catch (err) {
        process.stderr.write(`error: ${(err as Error).message}\n`);
        codes.push(EXIT.PROGRAM_ERROR);
    }
    if (diffs.length && !f.json) process.stdout.write(`\n${diffs.map(renderDiff).join("\n\n")}\n`);
    if (diffs.length && f.markdown) {
        fs.writeFileSync(f.markdown, `${diffs.map(renderDiffMarkdown).join("\n\n")}\n`);
        log(`Wrote the diff as Markdown to ${rel(f.markdown)}`);
    }
    if (f.failOnStatefulDelete) {
        const lost = diffs.flatMap(dataLosingChanges);
        if (lost.length) {
            process.stderr.write(
                `error: --fail-on-stateful-delete: ${lost.length} stateful or protected resource${lost.length === 1 ? " is" : "s are"} deleted or replaced:\n${lost.map((c) => `  ${c.kind} ${c.urn}`).join("\n")}\n`,
            );
            codes.push(EXIT.STATEFUL_DELETE);
        }
    }
    if (f.json) {
        const docs = results.map((r) => r.doc);
        const out = f.stacks.length === 1 ? docs[0] : docs;
        const withDiff = diffs.length
            ? f.compare
                ? { plans: docs, diff: diffs[0] }
                : Array.isArray(out)
                  ? { plans: out, diffs }
                  : { ...(out as object), diff: diffs[0] }
            : out;
        process.stdout.write(`${JSON.stringify(withDiff, null, 2)}\n`);
    }
    return combineExitCodes(codes);
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => {
            process.exitCode = code;
            // Everything is closed by now; should a library keep a handle open, do not hang.
            setTimeout(() => process.exit(code), 5000).unref();
        },
        (err) => {
            process.stderr.write(`error: ${(err as Error)?.stack ?? String(err)}\n`);
            process.exit(EXIT.PROGRAM_ERROR);
        },
    );
}
