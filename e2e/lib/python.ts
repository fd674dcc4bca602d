/**
 * The tier's Python virtualenvs, built by e2e/setup/python-venvs.sh from the project's hash-pinned locks
 * into E2E_CACHE/venv/<name>-<first 16 hex of the lock's SHA-256>. Every Python program a suite runs
 * runs from one of them (never the system Python's site-packages).
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { E2E_CACHE } from "./paths";

const ROOT = path.resolve(__dirname, "..", "..");

/** The locks, by venv name (the same table as e2e/setup/python-venvs.sh). */
export const PYTHON_LOCKS = {
    mlflow: "images/mlflow/requirements.lock",
    "model-server": "examples/team-fraud/model-server/requirements.lock",
    "s3-emulator": "e2e/setup/python/s3-emulator.lock",
    dvc: "e2e/setup/python/dvc.lock",
    feast: "images/feast/requirements.lock",
    tensorboard: "images/tensorboard/requirements.lock",
} as const;
export type VenvName = keyof typeof PYTHON_LOCKS;

/** The venv directory of a lock, as python-venvs.sh names it. */
export function venvDir(name: VenvName): string {
    const hash = createHash("sha256")
        .update(fs.readFileSync(path.join(ROOT, PYTHON_LOCKS[name])))
        .digest("hex")
        .slice(0, 16);
    const dir = path.join(E2E_CACHE, "venv", `${name}-${hash}`);
    if (!fs.existsSync(path.join(dir, ".complete"))) {
        throw new Error(`the ${name} venv is missing (${dir}): run e2e/setup/install.sh (npm run test:e2e does)`);
    }
    return dir;
}

/** An executable of a venv (`python`, `mlflow`, `moto_server`, ...). */
export function venvBin(name: VenvName, exe: string): string {
    return path.join(venvDir(name), "bin", exe);
}

/**
 * A process environment that runs a venv's programs: its bin first on PATH, no user site-packages,
 * nothing inherited that would point Python or AWS clients elsewhere. `extra` is added last.
 */
export function venvEnv(name: VenvName, extra: Record<string, string> = {}): Record<string, string> {
    const dir = venvDir(name);
    return {
        PATH: `${path.join(dir, "bin")}:/usr/local/bin:/usr/bin:/bin`,
        VIRTUAL_ENV: dir,
        PYTHONNOUSERSITE: "1",
        PYTHONDONTWRITEBYTECODE: "1",
        PYTHONUNBUFFERED: "1",
        LANG: "C.UTF-8",
        ...extra,
    };
}
