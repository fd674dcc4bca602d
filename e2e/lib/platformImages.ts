/**
 * The platform's images for the real node, built on this machine from the same intent as their
 * Dockerfiles (nodeImages.ts: Debian bookworm's python3 3.11 instead of python:3.11-slim-bookworm, a
 * virtualenv from the same pinned lock, the same numeric user and entrypoint), and the rewrite that
 * points a rendered object's containers at them (the only change the suite makes to the plan's images):
 * - mlflow: images/mlflow (lock, uid 10001);
 * - model-server: examples/team-fraud/model-server (lock, server.py, uid 10001);
 * - drift-check: images/drift-check (lock, the drift_check package, uid 65532, `python3 -m drift_check`;
 *   upstream's base is distroless, here the same Debian base);
 * - postgres: Debian's postgresql-15 in a Debian root filesystem, user postgres as uid 999 (as the
 *   postgres image), with an entrypoint doing what that image's does (e2e/fixtures/node-images);
 * - pushgateway: Debian's prometheus-pushgateway binary (installed by e2e/setup/install.sh) on the base.
 * Every archive is cached under $E2E_CACHE/node-images by a hash of its inputs (locks, files, packages).
 */
import { execFileSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { unmountAll } from "./hostState";
import { BASE_SUITE, buildBaseLayer, buildPythonImage, type BuiltImage, IMAGE_CACHE, LOCAL_REGISTRY } from "./nodeImages";
import { tarLayer, writeOciArchive } from "./ociImage";

const ROOT = path.resolve(__dirname, "..", "..");
const DEBIAN_MIRROR = process.env.E2E_DEBIAN_MIRROR ?? "http://deb.debian.org/debian";
/** Debian bookworm's PostgreSQL (the plan's image is postgres:16.4: docs/e2e.md says what differs). */
export const POSTGRES_MAJOR = "15";
const POSTGRES_PACKAGES = [`postgresql-${POSTGRES_MAJOR}`, "ca-certificates"];
const POSTGRES_UID = 999;

function hashOf(...parts: (string | Buffer)[]): string {
    const h = crypto.createHash("sha256");
    for (const p of parts) h.update(p).update("\0");
    return h.digest("hex").slice(0, 16);
}

function filesUnder(dir: string, dest: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        if (e.name === "__pycache__") continue;
        const src = path.join(dir, e.name);
        if (e.isDirectory()) Object.assign(out, filesUnder(src, `${dest}/${e.name}`));
        else out[`${dest}/${e.name}`] = src;
    }
    return out;
}

export function mlflowImage(): BuiltImage {
    return buildPythonImage({
        name: "mlflow",
        lock: path.join(ROOT, "images/mlflow/requirements.lock"),
        uid: 10001,
        userName: "mlflow",
        cmd: ["mlflow", "server", "--host", "0.0.0.0", "--port", "5000"],
    });
}

export function modelServerImage(): BuiltImage {
    const dir = path.join(ROOT, "examples/team-fraud/model-server");
    return buildPythonImage({
        name: "model-server",
        lock: path.join(dir, "requirements.lock"),
        uid: 10001,
        userName: "app",
        files: { "/app/server.py": path.join(dir, "server.py") },
        cmd: ["python", "/app/server.py"],
    });
}

export function driftCheckImage(): BuiltImage {
    const dir = path.join(ROOT, "images/drift-check");
    return buildPythonImage({
        name: "drift-check",
        lock: path.join(dir, "requirements.lock"),
        uid: 65532,
        userName: "nonroot",
        files: filesUnder(path.join(dir, "drift_check"), "/app/drift_check"),
        entrypoint: ["python3", "-m", "drift_check"],
        cmd: [],
        env: ["PYTHONPATH=/app"],
    });
}

export function cachedArchive(name: string, key: string, build: (out: string, work: string) => void): BuiltImage {
    const ref = `${LOCAL_REGISTRY}/${name}:${key}`;
    const archive = path.join(IMAGE_CACHE, `${name}-${key}.oci.tar`);
    if (fs.existsSync(archive)) return { ref, archive };
    fs.mkdirSync(IMAGE_CACHE, { recursive: true });
    const work = fs.mkdtempSync(path.join(os.tmpdir(), `image-${name}-`));
    const tmp = `${archive}.${process.pid}.tmp`;
    try {
        build(tmp, work);
        fs.renameSync(tmp, archive);
    } finally {
        fs.rmSync(tmp, { force: true });
        if (unmountAll(work).length === 0) fs.rmSync(work, { recursive: true, force: true });
    }
    return { ref, archive };
}

/** PostgreSQL from Debian: one layer (debootstrap of bookworm with postgresql-15), postgres as uid 999. */
export function postgresImage(): BuiltImage {
    const entrypoint = path.join(ROOT, "e2e/fixtures/node-images/postgres-entrypoint.sh");
    const key = hashOf(BASE_SUITE, DEBIAN_MIRROR, ...POSTGRES_PACKAGES, String(POSTGRES_UID), fs.readFileSync(entrypoint));
    return cachedArchive("postgres", key, (out, work) => {
        const root = path.join(work, "rootfs");
        execFileSync("debootstrap", ["--variant=minbase", `--include=${POSTGRES_PACKAGES.join(",")}`, BASE_SUITE, root, DEBIAN_MIRROR], {
            stdio: ["ignore", "ignore", "inherit"],
        });
        // The package's postinst made a "main" cluster and maybe started nothing (no init system in a chroot):
        // the image keeps only the binaries; the pod's entrypoint makes its cluster on its volume.
        for (const d of [
            `var/lib/postgresql/${POSTGRES_MAJOR}`,
            `etc/postgresql/${POSTGRES_MAJOR}`,
            "var/cache/apt/archives",
            "var/lib/apt/lists",
            "var/log",
        ]) {
            fs.rmSync(path.join(root, d), { recursive: true, force: true });
        }
        fs.mkdirSync(path.join(root, "var/log"), { recursive: true });
        // postgres as uid/gid 999 (the Debian package gives it the next free system id), its files re-owned.
        const passwd = fs.readFileSync(path.join(root, "etc/passwd"), "utf8");
        const m = /^postgres:[^:]*:(\d+):(\d+):/m.exec(passwd);
        if (!m) throw new Error("postgresql-common made no postgres user");
        const chroot = (...args: string[]) =>
            execFileSync("chroot", [root, ...args], { stdio: ["ignore", "ignore", "inherit"], env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" } });
        chroot("groupmod", "--gid", String(POSTGRES_UID), "postgres");
        chroot("usermod", "--uid", String(POSTGRES_UID), "--gid", String(POSTGRES_UID), "postgres");
        chroot("find", "/", "-xdev", "(", "-uid", m[1], "-o", "-gid", m[2], ")", "-exec", "chown", "-h", `${POSTGRES_UID}:${POSTGRES_UID}`, "{}", "+");
        // /var/run/postgresql is the pod's emptyDir (var/run links to /run: nothing is made through it here,
        // an absolute link would lead out of the root filesystem).
        fs.copyFileSync(entrypoint, path.join(root, "usr/local/bin/postgres-entrypoint"));
        fs.chmodSync(path.join(root, "usr/local/bin/postgres-entrypoint"), 0o755);
        tarLayer(root, path.join(work, "layer.tar"));
        writeOciArchive({
            ref: `${LOCAL_REGISTRY}/postgres:${key}`,
            layers: [path.join(work, "layer.tar")],
            out,
            config: {
                entrypoint: ["/usr/local/bin/postgres-entrypoint"],
                user: `${POSTGRES_UID}:${POSTGRES_UID}`,
                env: [
                    `PATH=/usr/lib/postgresql/${POSTGRES_MAJOR}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
                    "LANG=C.UTF-8",
                    "PGDATA=/var/lib/postgresql/data",
                ],
            },
        });
    });
}

/** Where Debian's prometheus-pushgateway package puts its binary. */
export const PUSHGATEWAY_BINARY = "/usr/bin/prometheus-pushgateway";

/** The Pushgateway from Debian: the base layer plus the package's binary, run as nobody (65534). */
export function pushgatewayImage(): BuiltImage {
    const base = buildBaseLayer();
    const bin = fs.readFileSync(PUSHGATEWAY_BINARY);
    const key = hashOf(path.basename(base), bin);
    return cachedArchive("pushgateway", key, (out, work) => {
        const layer = path.join(work, "layer");
        fs.mkdirSync(path.join(layer, "bin"), { recursive: true });
        fs.copyFileSync(PUSHGATEWAY_BINARY, path.join(layer, "bin/pushgateway"));
        fs.chmodSync(path.join(layer, "bin/pushgateway"), 0o755);
        tarLayer(layer, path.join(work, "layer.tar"));
        writeOciArchive({
            ref: `${LOCAL_REGISTRY}/pushgateway:${key}`,
            layers: [base, path.join(work, "layer.tar")],
            out,
            config: { entrypoint: ["/bin/pushgateway"], user: "65534:65534" },
        });
    });
}

/** Which local image replaces a rendered reference (by repository), or undefined to leave it. */
export type ImageMap = ReadonlyArray<{ readonly match: RegExp; readonly image: BuiltImage }>;

/** The same object with every container image the map matches replaced by the local image's reference. */
export function withLocalImages<T>(obj: T, map: ImageMap): T {
    const copy = JSON.parse(JSON.stringify(obj));
    const visit = (spec: any) => {
        for (const c of [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])]) {
            const hit = map.find((m) => m.match.test(c.image));
            if (hit) c.image = hit.image.ref;
        }
    };
    visit(copy.spec);
    visit(copy.spec?.template?.spec);
    visit(copy.spec?.jobTemplate?.spec?.template?.spec);
    return copy;
}
