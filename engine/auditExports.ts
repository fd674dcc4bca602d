/**
 * The plan's audit exports (`plan --sarif <file>`, `plan --results <file>`): per stack, every policy's
 * result per resource (engine/audit.ts planResults), then one results file (one stack: its document;
 * several: a list) and one SARIF log (one run per stack).
 */
import * as fs from "fs";
import * as path from "path";
import { CONFIG_NAMESPACE } from "../components/contract";
import { policyCatalogue } from "../policy/reports/catalogue";
import { readPolicyExceptions } from "../policy/reports/exceptions";
import { type PlanResults, planResults, sarifLog } from "./audit";
import type { Plan } from "./plan";
import type { PlanProvenance } from "./provenance";

/** The results of one planned stack, with what its SARIF run needs. */
export interface StackAudit {
    readonly results: PlanResults;
    readonly stackFile: string;
    readonly commit?: string;
}

/** The audit of one plan (undefined when no pack ran). `root`: the project directory. */
export function auditPlan(plan: Plan, root: string, provenance: PlanProvenance): StackAudit | undefined {
    if (!plan.policy) return undefined;
    const results = planResults({
        project: plan.project,
        // docs/policy-exceptions.md names the platform's stacks `prod` and a team project's `<project>/prod`.
        exceptionStack: plan.project === CONFIG_NAMESPACE ? plan.stack : `${plan.project}/${plan.stack}`,
        stack: plan.stack,
        report: plan.policy,
        resources: plan.resources,
        catalogue: policyCatalogue(),
        exceptions: readPolicyExceptions(),
        now: new Date(provenance.generatedAt),
    });
    return {
        results,
        stackFile: path.relative(process.cwd(), path.join(root, `Pulumi.${plan.stack}.yaml`)) || `Pulumi.${plan.stack}.yaml`,
        commit: provenance.gitCommit ?? undefined,
    };
}

/** Writes the requested exports; returns the files written. */
export function writeAuditExports(
    audits: readonly StackAudit[],
    files: { sarif?: string; results?: string },
    tool: { name: string; version: string },
): string[] {
    const written: string[] = [];
    if (files.results) {
        const docs = audits.map((a) => a.results);
        fs.mkdirSync(path.dirname(files.results), { recursive: true });
        fs.writeFileSync(files.results, `${JSON.stringify(docs.length === 1 ? docs[0] : docs, null, 2)}\n`);
        written.push(files.results);
    }
    if (files.sarif) {
        fs.mkdirSync(path.dirname(files.sarif), { recursive: true });
        fs.writeFileSync(files.sarif, `${JSON.stringify(sarifLog({ tool, catalogue: policyCatalogue(), runs: audits }), null, 2)}\n`);
        written.push(files.sarif);
    }
    return written;
}
