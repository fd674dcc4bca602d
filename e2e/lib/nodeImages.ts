/**
 * The images the real node runs, built on this machine (no registry is reachable) and cached under
 * $E2E_CACHE/node-images:
 * - the pause image: kubernetes' own build/pause/linux/pause.c (from the pinned k8s.io/kubernetes Go
 *   module) compiled with `gcc -static`, as upstream's Makefile does;
 * - a Debian base layer: `debootstrap --variant=minbase` of Debian's release from Debian's archive, with
 *   Debian's python3 (the production images start from python/MLflow images on a registry instead);
 * - Python application images: the base layer plus one layer holding a virtualenv installed from a
 *   pinned lock with `pip --require-hashes`, the application's files, and its numeric non-root user.
 * Every archive's name carries a hash of its inputs, so a changed lock or source rebuilds only that image.
 */
import { execFileSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { unmountAll } from "./hostState";
import { tarLayer, writeOciArchive } from "./ociImage";
import { E2E_CACHE, KUBE_VERSION } from "./paths";

/** Where built image archives and layers are kept between runs. */
export const IMAGE_CACHE = path.join(E2E_CACHE, "node-images");

/** The reference every local image is named under (never a registry anyone can push to). */
export const LOCAL_REGISTRY = "mlops-e2e.local";

/** The pause image's reference (containerd's CRI `sandbox_image`). */
export const PAUSE_IMAGE = `${LOCAL_REGISTRY}/pause:3.10`;

/** The Debian release and packages of the base layer. */
export const BASE_SUITE = "bookworm";
export const BASE_PACKAGES = ["python3", "python3-venv", "ca-certificates"];
const DEBIAN_MIRROR = process.env.E2E_DEBIAN_MIRROR ?? "http://deb.debian.org/debian";

export function hashOf(...parts: (string | Buffer)[]): string {
    const h = crypto.createHash("sha256");
    for (const p of parts) h.update(p).update("\0");
    return h.digest("hex").slice(0, 16);
}

function cached(file: string, build: (tmp: string) => void): string {
    if (fs.existsSync(file)) return file;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    try {
        build(tmp);
        fs.renameSync(tmp, file);
    } finally {
        fs.rmSync(tmp, { force: true, recursive: true });
    }
    return file;
}

/** kubernetes' pause.c from the pinned module (Go downloads it when build-kube.sh builds the kubelet). */
export function pauseSource(): string {
    const modcache = execFileSync("go", ["env", "GOMODCACHE"], { encoding: "utf8" }).trim();
    return path.join(modcache, `k8s.io/kubernetes@${KUBE_VERSION}`, "build/pause/linux/pause.c");
}

/** The pause image archive: pause.c compiled statically, one layer with /pause, run as 65535 like upstream's. */
export function buildPauseImage(): string {
    const src = fs.readFileSync(pauseSource());
    return cached(path.join(IMAGE_CACHE, `pause-${hashOf(src)}.oci.tar`), (out) => {
        const work = fs.mkdtempSync(path.join(os.tmpdir(), "pause-"));
        try {
            fs.mkdirSync(path.join(work, "root"));
            execFileSync(
                "gcc",
                ["-Os", "-Wall", "-Werror", "-static", `-DVERSION=v3.10-${KUBE_VERSION}`, "-o", path.join(work, "root", "pause"), pauseSource()],
                { stdio: "inherit" },
            );
            tarLayer(path.join(work, "root"), path.join(work, "layer.tar"));
            writeOciArchive({ ref: PAUSE_IMAGE, layers: [path.join(work, "layer.tar")], config: { entrypoint: ["/pause"], user: "65535:65535" }, out });
        } finally {
            fs.rmSync(work, { recursive: true, force: true });
        }
    });
}

/** The Debian base layer (an uncompressed tarball of the debootstrapped root filesystem). */
export function buildBaseLayer(): string {
    const key = hashOf(BASE_SUITE, DEBIAN_MIRROR, ...BASE_PACKAGES);
    return cached(path.join(IMAGE_CACHE, `debian-${BASE_SUITE}-${key}.layer.tar`), (out) => {
        const work = fs.mkdtempSync(path.join(os.tmpdir(), "debootstrap-"));
        try {
            const root = path.join(work, "rootfs");
            execFileSync("debootstrap", ["--variant=minbase", `--include=${BASE_PACKAGES.join(",")}`, BASE_SUITE, root, DEBIAN_MIRROR], {
                stdio: ["ignore", "ignore", "inherit"],
            });
            // Smaller and deterministic: no apt lists or package caches, no logs of the build.
            for (const d of ["var/cache/apt/archives", "var/lib/apt/lists", "var/log"]) {
                for (const e of fs.readdirSync(path.join(root, d))) {
                    if (e !== "partial" && e !== "lock") fs.rmSync(path.join(root, d, e), { recursive: true, force: true });
                }
            }
            tarLayer(root, out);
        } finally {
            fs.rmSync(work, { recursive: true, force: true });
        }
    });
}

/** A Python application image: base layer + venv from a pinned lock + files + a non-root user. */
export interface PythonImageSpec {
    /** Short name; the image is `${LOCAL_REGISTRY}/<name>:<hash of inputs>`. */
    readonly name: string;
    /** A pip requirements file with every package pinned by hash (installed with --require-hashes, no deps resolution). */
    readonly lock: string;
    /** Files to copy into the image: destination path in the image -> source file on this machine. */
    readonly files?: Record<string, string>;
    /** The numeric user and group the image declares (and creates, as the Dockerfiles do). */
    readonly uid: number;
    readonly userName: string;
    readonly cmd: string[];
    /** The image's ENTRYPOINT (as a Dockerfile's; the pod's args then follow it). */
    readonly entrypoint?: string[];
    readonly env?: string[];
}

/** The built image: its archive and the reference containerd knows it by after import. */
export interface BuiltImage {
    readonly ref: string;
    readonly archive: string;
}

export const VENV = "/opt/venv";

/** Builds (or finds cached) a Python application image. */
export function buildPythonImage(spec: PythonImageSpec): BuiltImage {
    const base = buildBaseLayer();
    const files = Object.entries(spec.files ?? {}).sort(([a], [b]) => a.localeCompare(b));
    const key = hashOf(
        path.basename(base),
        fs.readFileSync(spec.lock),
        String(spec.uid),
        spec.userName,
        JSON.stringify(spec.cmd),
        JSON.stringify(spec.env ?? []),
        ...(spec.entrypoint ? [JSON.stringify(spec.entrypoint)] : []),
        ...files.flatMap(([dest, src]) => [dest, fs.readFileSync(src)]),
    );
    const ref = `${LOCAL_REGISTRY}/${spec.name}:${key}`;
    const archive = cached(path.join(IMAGE_CACHE, `${spec.name}-${key}.oci.tar`), (out) => {
        const work = fs.mkdtempSync(path.join(os.tmpdir(), `image-${spec.name}-`));
        try {
            const root = path.join(work, "rootfs");
            fs.mkdirSync(root);
            execFileSync("tar", ["--numeric-owner", "-xf", base, "-C", root]);
            // pip needs name resolution inside the chroot; the file is not part of the layer.
            fs.copyFileSync("/etc/resolv.conf", path.join(root, "etc/resolv.conf"));
            fs.copyFileSync(spec.lock, path.join(root, "tmp/requirements.lock"));
            // pip inside the chroot trusts what pip on this machine trusts (a TLS-intercepting egress proxy's CA,
            // say): the machine's bundle is copied in for the build only (/tmp is not part of any layer).
            const hostBundle = [process.env.PIP_CERT, process.env.SSL_CERT_FILE, "/etc/ssl/certs/ca-certificates.crt"].find((f) => f && fs.existsSync(f));
            if (hostBundle) fs.copyFileSync(hostBundle, path.join(root, "tmp/build-ca.crt"));
            const env: NodeJS.ProcessEnv = { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", HOME: "/tmp", LANG: "C.UTF-8" };
            for (const k of [
                "PIP_INDEX_URL",
                "PIP_EXTRA_INDEX_URL",
                "PIP_DEFAULT_TIMEOUT",
                "HTTP_PROXY",
                "HTTPS_PROXY",
                "NO_PROXY",
                "http_proxy",
                "https_proxy",
                "no_proxy",
            ]) {
                if (process.env[k]) env[k] = process.env[k];
            }
            if (hostBundle) env.PIP_CERT = "/tmp/build-ca.crt";
            const chroot = (...args: string[]) => execFileSync("chroot", [root, ...args], { stdio: ["ignore", "ignore", "inherit"], env });
            chroot("/usr/bin/python3", "-m", "venv", VENV);
            // pip's download cache of this machine (where the tier's venvs were installed from the same locks) is
            // bind-mounted for the build: the wheels are not downloaded twice. Hashes are checked all the same.
            const pipCache = path.join(os.homedir(), ".cache", "pip");
            const mountedCache = path.join(root, "tmp/pip-cache");
            fs.mkdirSync(pipCache, { recursive: true });
            fs.mkdirSync(mountedCache);
            execFileSync("mount", ["--bind", pipCache, mountedCache]);
            try {
                chroot(
                    `${VENV}/bin/pip`,
                    "install",
                    "--cache-dir",
                    "/tmp/pip-cache",
                    "--disable-pip-version-check",
                    "--no-deps",
                    "--require-hashes",
                    "-r",
                    "/tmp/requirements.lock",
                );
            } finally {
                execFileSync("umount", [mountedCache]);
            }
            chroot("groupadd", "--gid", String(spec.uid), spec.userName);
            chroot(
                "useradd",
                "--uid",
                String(spec.uid),
                "--gid",
                String(spec.uid),
                "--home-dir",
                "/tmp",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                spec.userName,
            );
            // The application layer: the venv, the user, the files (owned by root, read-only to the app).
            const layer = path.join(work, "layer");
            fs.mkdirSync(path.join(layer, "etc"), { recursive: true });
            fs.mkdirSync(path.dirname(path.join(layer, VENV)), { recursive: true });
            fs.renameSync(path.join(root, VENV.slice(1)), path.join(layer, VENV.slice(1)));
            for (const f of ["passwd", "group", "shadow", "gshadow"]) fs.copyFileSync(path.join(root, "etc", f), path.join(layer, "etc", f));
            for (const [dest, src] of files) {
                fs.mkdirSync(path.dirname(path.join(layer, dest)), { recursive: true });
                fs.copyFileSync(src, path.join(layer, dest));
                fs.chmodSync(path.join(layer, dest), 0o644);
            }
            tarLayer(layer, path.join(work, "app.layer.tar"));
            writeOciArchive({
                ref,
                layers: [base, path.join(work, "app.layer.tar")],
                out,
                config: {
                    entrypoint: spec.entrypoint,
                    cmd: spec.cmd,
                    user: `${spec.uid}:${spec.uid}`,
                    env: [
                        `PATH=${VENV}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
                        "HOME=/tmp",
                        "TMPDIR=/tmp",
                        "PYTHONDONTWRITEBYTECODE=1",
                        "PYTHONUNBUFFERED=1",
                        ...(spec.env ?? []),
                    ],
                },
            });
        } finally {
            // Never remove through a mount (the bind-mounted pip cache): detach whatever is still mounted first.
            const left = unmountAll(work);
            if (left.length === 0) fs.rmSync(work, { recursive: true, force: true });
        }
    });
    return { ref, archive };
}
