/**
 * The drift-check suite's environment and the DriftCheck CronJob as the plan renders it.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { E2E_CACHE } from "./paths";

export const ROOT = path.resolve(__dirname, "..", "..");
export const DRIFT_CHECK_DIR = path.join(ROOT, "images", "drift-check");
const LOCKS = [path.join(DRIFT_CHECK_DIR, "requirements.lock"), path.join(ROOT, "e2e", "setup", "drift-check.requirements.lock")];

/** The venv e2e/setup/drift-venv.sh made from the two locks (named after their hash, as the script names it). */
export function driftVenv(): string {
    const hash = createHash("sha256")
        .update(Buffer.concat(LOCKS.map((f) => fs.readFileSync(f))))
        .digest("hex")
        .slice(0, 12);
    return path.join(E2E_CACHE, `venv-drift-check-${hash}`);
}

/** The image's ENTRYPOINT (JSON form) from images/drift-check/Dockerfile. */
export function dockerEntrypoint(): string[] {
    const dockerfile = fs.readFileSync(path.join(DRIFT_CHECK_DIR, "Dockerfile"), "utf8");
    const m = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(dockerfile);
    if (!m) throw new Error("images/drift-check/Dockerfile has no JSON-form ENTRYPOINT");
    return JSON.parse(m[1]) as string[];
}

/** The image's ENV (`ENV K=V \` lines) from the Dockerfile's final stage. */
export function dockerEnv(): Record<string, string> {
    const dockerfile = fs.readFileSync(path.join(DRIFT_CHECK_DIR, "Dockerfile"), "utf8").replace(/\\\n/g, " ");
    const env: Record<string, string> = {};
    for (const line of dockerfile.split("\n").filter((l) => l.startsWith("ENV "))) {
        for (const m of line.slice(4).matchAll(/([A-Z_]+)=(\S+)/g)) env[m[1]] = m[2];
    }
    return env;
}

export interface RenderedContainer {
    name: string;
    image: string;
    command?: string[];
    args?: string[];
    env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } } }[];
}
