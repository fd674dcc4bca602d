/**
 * Writes a container image as an OCI image-layout archive (what `ctr images import` reads), from
 * uncompressed layer tarballs and an image config. The real node has no reachable registry, so every
 * image it runs is built on this machine and imported into containerd this way.
 */
import { execFileSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";

/** The runtime part of an OCI image config (what a Dockerfile's ENV/USER/WORKDIR/CMD set). */
export interface OciRuntimeConfig {
    readonly entrypoint?: string[];
    readonly cmd?: string[];
    /** KEY=value entries. */
    readonly env?: string[];
    /** "uid:gid" (numeric, as runAsNonRoot needs). */
    readonly user?: string;
    readonly workingDir?: string;
}

/** What goes into one image archive. */
export interface OciImageSpec {
    /** The full reference containerd names the image by (e.g. "mlops-e2e.local/pause:3.10"). */
    readonly ref: string;
    /** Uncompressed layer tarballs, lowest first. */
    readonly layers: string[];
    readonly config: OciRuntimeConfig;
    /** The archive to write. */
    readonly out: string;
}

/** sha256 of a file, streamed in chunks (layers are hundreds of MB). */
export function sha256File(file: string): string {
    const hash = crypto.createHash("sha256");
    const fd = fs.openSync(file, "r");
    const buf = Buffer.alloc(4 << 20);
    try {
        for (;;) {
            const n = fs.readSync(fd, buf, 0, buf.length, null);
            if (n === 0) break;
            hash.update(buf.subarray(0, n));
        }
    } finally {
        fs.closeSync(fd);
    }
    return hash.digest("hex");
}

/** Tars a directory as one layer: numeric owners, sorted names and a fixed mtime, so equal trees give equal digests. */
export function tarLayer(dir: string, out: string): void {
    execFileSync("tar", ["--numeric-owner", "--sort=name", "--mtime=@0", "--xattrs", "-C", dir, "-cf", out, "."], { stdio: "inherit" });
}

/** Writes the OCI image-layout archive for `spec` (linux/amd64 or the machine's architecture). */
export function writeOciArchive(spec: OciImageSpec): void {
    const work = fs.mkdtempSync(path.join(path.dirname(spec.out), ".oci-"));
    try {
        const blobs = path.join(work, "blobs", "sha256");
        fs.mkdirSync(blobs, { recursive: true });
        const putJson = (value: unknown) => {
            const bytes = Buffer.from(JSON.stringify(value));
            const hex = crypto.createHash("sha256").update(bytes).digest("hex");
            fs.writeFileSync(path.join(blobs, hex), bytes);
            return { digest: `sha256:${hex}`, size: bytes.length };
        };
        const layers = spec.layers.map((file) => {
            const hex = sha256File(file);
            const blob = path.join(blobs, hex);
            if (!fs.existsSync(blob)) {
                try {
                    fs.linkSync(file, blob);
                } catch {
                    fs.copyFileSync(file, blob);
                }
            }
            return { mediaType: "application/vnd.oci.image.layer.v1.tar", digest: `sha256:${hex}`, size: fs.statSync(file).size };
        });
        const arch = process.arch === "x64" ? "amd64" : process.arch;
        const config = putJson({
            architecture: arch,
            os: "linux",
            config: {
                Entrypoint: spec.config.entrypoint,
                Cmd: spec.config.cmd,
                Env: spec.config.env ?? ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                User: spec.config.user,
                WorkingDir: spec.config.workingDir,
            },
            rootfs: { type: "layers", diff_ids: layers.map((l) => l.digest) },
            history: layers.map(() => ({ created_by: "mlops e2e local image build" })),
        });
        const manifest = putJson({
            schemaVersion: 2,
            mediaType: "application/vnd.oci.image.manifest.v1+json",
            config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config },
            layers,
        });
        fs.writeFileSync(path.join(work, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
        fs.writeFileSync(
            path.join(work, "index.json"),
            JSON.stringify({
                schemaVersion: 2,
                manifests: [
                    {
                        mediaType: "application/vnd.oci.image.manifest.v1+json",
                        ...manifest,
                        platform: { architecture: arch, os: "linux" },
                        // containerd names the imported image by this annotation.
                        annotations: { "io.containerd.image.name": spec.ref, "org.opencontainers.image.ref.name": spec.ref.split(":").pop() },
                    },
                ],
            }),
        );
        const tmp = `${spec.out}.tmp`;
        execFileSync("tar", ["--numeric-owner", "-C", work, "-cf", tmp, "oci-layout", "index.json", "blobs"], { stdio: "inherit" });
        fs.renameSync(tmp, spec.out);
    } finally {
        fs.rmSync(work, { recursive: true, force: true });
    }
}
