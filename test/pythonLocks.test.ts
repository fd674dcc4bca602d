/**
 * The Python locks the images and the e2e tier install (`pip install --require-hashes --no-deps`): every
 * package pinned to one version with at least one sha256 hash, the MLflow images at the configured MLflow
 * version, and SQLAlchemy below 2.1 (2.1 removed FallbackAsyncAdaptedQueuePool, which mlflow 3.1.1 imports).
 */
import * as fs from "fs";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { parsePlatformConfig } from "../stacks/config";
import { configNamespace, readProject, readStackConfig } from "../engine/project";
import { ROOT, STACKS } from "./harness";

/** name -> { version, hashes } of a pip-compile/uv lock with --generate-hashes. */
export function parseLock(text: string): Map<string, { version: string; hashes: string[] }> {
    const out = new Map<string, { version: string; hashes: string[] }>();
    // One requirement per logical line: continuation lines (`\`) carry its hashes.
    const logical = text
        .replace(/\\\n\s*/g, " ")
        .split("\n")
        .map((l) => l.replace(/\s+#.*$/, "").trim())
        .filter((l) => l && !l.startsWith("#"));
    for (const line of logical) {
        const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==(\S+)((?:\s+--hash=sha256:[0-9a-f]{64})*)$/.exec(line);
        if (!m) throw new Error(`not a pinned, hashed requirement: ${line}`);
        out.set(m[1].toLowerCase().replace(/[._]/g, "-"), { version: m[3], hashes: m[4].trim().split(/\s+/).filter(Boolean) });
    }
    return out;
}

const LOCKS = {
    mlflow: "images/mlflow/requirements.lock",
    modelServer: "examples/team-fraud/model-server/requirements.lock",
    s3Emulator: "e2e/setup/python/s3-emulator.lock",
    dvc: "e2e/setup/python/dvc.lock",
    feast: "images/feast/requirements.lock",
    tensorboard: "images/tensorboard/requirements.lock",
} as const;
const lock = (p: string) => parseLock(fs.readFileSync(path.join(ROOT, p), "utf8"));

describe("Python locks", () => {
    it.each(Object.values(LOCKS))("%s pins every package to one version with its hashes", (p) => {
        const pkgs = lock(p);
        expect(pkgs.size).toBeGreaterThan(5);
        for (const [name, { version, hashes }] of pkgs) {
            expect(version, name).toMatch(/^\d+(\.\d+)*([a-z]+\d*)?(\.post\d+)?$/);
            expect(hashes.length, name).toBeGreaterThan(0);
        }
    });

    it("the MLflow server and the model server pin the configured MLflow version, and SQLAlchemy 2.0", () => {
        const versions = new Set(
            STACKS.map((s) => parsePlatformConfig(configNamespace(readStackConfig(readProject(ROOT), s).config, "mlops"), s).mlflow.version),
        );
        expect(versions.size).toBe(1);
        for (const p of [LOCKS.mlflow, LOCKS.modelServer]) {
            const pkgs = lock(p);
            for (const name of ["mlflow", "mlflow-skinny"]) expect(pkgs.get(name)?.version, `${p} ${name}`).toBe([...versions][0]);
            expect(pkgs.get("sqlalchemy")?.version, p).toMatch(/^2\.0\.\d+$/);
        }
        expect([...lock(LOCKS.mlflow).keys()]).toEqual(
            expect.arrayContaining(["flask-wtf", "psycopg2-binary", "boto3", "prometheus-flask-exporter", "gunicorn"]),
        );
        expect([...lock(LOCKS.modelServer).keys()]).toEqual(expect.arrayContaining(["scikit-learn", "pandas", "boto3", "jsonschema", "prometheus-client"]));
        expect([...lock(LOCKS.s3Emulator).keys()]).toEqual(expect.arrayContaining(["moto", "flask", "flask-cors"]));
        expect(lock(LOCKS.dvc).get("dvc")?.version).toBe("3.67.1");
        expect([...lock(LOCKS.dvc).keys()]).toEqual(expect.arrayContaining(["dvc-s3", "s3fs", "aiobotocore"]));
        // The Feast image and the e2e feast venv: the configured Feast version, Redis and S3 (registry, offline store).
        const feastVersions = new Set(
            STACKS.map((s) => parsePlatformConfig(configNamespace(readStackConfig(readProject(ROOT), s).config, "mlops"), s).featureStore.version),
        );
        expect([...feastVersions]).toEqual([lock(LOCKS.feast).get("feast")?.version]);
        expect([...lock(LOCKS.feast).keys()]).toEqual(expect.arrayContaining(["feast", "redis", "boto3", "s3fs", "pyarrow"]));
        // TensorBoard reads s3:// through its own file system, which needs boto3.
        expect([...lock(LOCKS.tensorboard).keys()]).toEqual(expect.arrayContaining(["tensorboard", "boto3"]));
    });

    it("parseLock rejects an unpinned or unhashed requirement", () => {
        expect(() => parseLock("mlflow>=3\n")).toThrow(/not a pinned/);
        expect(parseLock("mlflow==3.1.1\n").get("mlflow")?.hashes).toEqual([]);
    });

    it("the e2e venvs are built from the same locks the images install", () => {
        const script = fs.readFileSync(path.join(ROOT, "e2e", "setup", "python-venvs.sh"), "utf8");
        for (const p of Object.values(LOCKS).filter((p) => p !== LOCKS.tensorboard)) expect(script).toContain(p);
        expect(script).toContain("--require-hashes --no-deps");
        for (const dockerfile of [
            "images/mlflow/Dockerfile",
            "images/feast/Dockerfile",
            "images/tensorboard/Dockerfile",
            "examples/team-fraud/model-server/Dockerfile",
        ]) {
            expect(fs.readFileSync(path.join(ROOT, dockerfile), "utf8")).toContain("--require-hashes --no-deps -r /tmp/requirements.lock");
        }
    });
});
