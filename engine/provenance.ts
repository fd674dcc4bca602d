/**
 * Where a plan comes from, for the audit trail in plan.json: when it was made, the git commit of the
 * project, the tool and SDK versions, and the organisation the stack belongs to (from its config, not a
 * placeholder).
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

/** Packages whose versions make the plan what it is. */
const SDK_PACKAGES = ["@pulumi/pulumi", "@pulumi/aws", "@pulumi/kubernetes", "@pulumi/docker", "@pulumi/random", "@pulumi/policy"] as const;

/** The organisation a stack belongs to: `<project>:organization` (the platform's `mlops:organization`), else the owner part of `<project>:platformStack` (`acme/mlops/prod`), else undefined. */
export function organizationOf(config: Readonly<Record<string, string>>, project: string): string | undefined {
    const own = config[`${project}:organization`];
    if (own && own.trim()) return own.trim();
    const ref = config[`${project}:platformStack`];
    const m = ref ? /^([A-Za-z0-9_.-]+)\/[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.exec(ref) : null;
    return m ? m[1] : undefined;
}

/** The HEAD commit of the git work tree at `dir`, or null outside one (or without git). */
export function gitCommit(dir: string): string | null {
    try {
        const out = execFileSync("git", ["rev-parse", "HEAD"], { cwd: dir, stdio: ["ignore", "pipe", "ignore"], timeout: 5000 })
            .toString()
            .trim();
        return /^[0-9a-f]{40}$/.test(out) ? out : null;
    } catch {
        return null;
    }
}

function versionOf(pkg: string, from: string): string | null {
    try {
        const file = require.resolve(`${pkg}/package.json`, { paths: [from] });
        return (JSON.parse(fs.readFileSync(file, "utf8")) as { version?: string }).version ?? null;
    } catch {
        return null;
    }
}

/** The provenance block of plan.json. */
export interface PlanProvenance {
    /** ISO 8601 time the plan was made. */
    readonly generatedAt: string;
    /** HEAD of the project's git work tree, or null. */
    readonly gitCommit: string | null;
    /** The plan tool: the mlops-plan package (engine/package.json, or the installed package) and its version. */
    readonly tool: { readonly name: string; readonly version: string | null };
    /** Versions of the SDKs and providers as the project resolves them. */
    readonly sdk: Readonly<Record<string, string | null>>;
    /** Node.js the plan ran on. */
    readonly node: string;
}

/**
 * The plan's own package: the nearest directory above this module with a package.json (engine/ in the
 * platform repository; the installed mlops-plan package, whose bin/plan.js bundles this module).
 */
function toolPackageDir(): string {
    for (let dir = __dirname; ; dir = path.dirname(dir)) {
        if (fs.existsSync(path.join(dir, "package.json"))) return dir;
        if (path.dirname(dir) === dir) throw new Error(`no package.json above ${__dirname}`);
    }
}

/** Provenance of a plan of the project at `root`, made at `now`. */
export function planProvenance(root: string, now: Date = new Date()): PlanProvenance {
    const toolRoot = toolPackageDir();
    const tool = JSON.parse(fs.readFileSync(path.join(toolRoot, "package.json"), "utf8")) as { name: string; version?: string };
    return {
        generatedAt: now.toISOString(),
        gitCommit: gitCommit(root),
        tool: { name: tool.name, version: tool.version ?? null },
        sdk: Object.fromEntries(SDK_PACKAGES.map((p) => [p, versionOf(p, root) ?? versionOf(p, toolRoot)])),
        node: process.version,
    };
}
