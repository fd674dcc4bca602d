/**
 * Runs a container of a planned pod on this machine, as Kubernetes would start it: the same command and
 * arguments (`$(VAR)` expanded from the container's environment, as the kubelet does), the same
 * environment (`value`, and `valueFrom` secretKeyRef/configMapKeyRef/fieldRef resolved from the plan's
 * own Secret and ConfigMap objects), its volumes (emptyDir, Secret and ConfigMap) as directories of a
 * temp dir. What differs, and only that: the `rewrite` function maps in-cluster endpoints (host names,
 * ports, URIs) to the loopback servers, applied to environment values, arguments and mounted files;
 * mount paths (and the working directory) are mapped to their temp directories; PATH finds the programs in a venv of the project's
 * locks; `extraEnv` adds what the cluster would give (e.g. AWS credentials that IRSA would inject).
 */
import * as fs from "fs";
import * as path from "path";
import type { KubernetesObject } from "../../engine/kubernetes";
import { Proc, run, type RunResult } from "./procs";
import { type VenvName, venvEnv } from "./python";

export interface ContainerLaunch {
    /** argv[0] as the container would exec it, and the rest. */
    readonly command: string;
    readonly args: string[];
    readonly env: Record<string, string>;
    /** mountPath -> local directory. */
    readonly mounts: Record<string, string>;
    /** The container's `workingDir`, mapped as mount paths are (unset: this process's). */
    readonly cwd?: string;
}

export interface PodContext {
    /** Every object of the plan (Secrets and ConfigMaps are looked up here). */
    readonly objects: readonly KubernetesObject[];
    readonly namespace: string;
    readonly podName: string;
    /** Maps in-cluster endpoints to loopback ones. */
    readonly rewrite: (value: string) => string;
    /** The venv whose programs the container's image carries. */
    readonly venv: VenvName;
    /** A temp directory for the pod's volumes. */
    readonly workdir: string;
    /** Environment the cluster would add (IRSA credentials, endpoints of emulated services). */
    readonly extraEnv?: Record<string, string>;
}

function lookup(ctx: PodContext, kind: "Secret" | "ConfigMap", name: string): Record<string, string> | undefined {
    const o = ctx.objects.find((x) => x.kind === kind && x.metadata.name === name && (x.metadata.namespace ?? ctx.namespace) === ctx.namespace) as any;
    if (!o) return undefined;
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries<string>(o.data ?? {})) out[k] = kind === "Secret" ? Buffer.from(v, "base64").toString("utf8") : v;
    for (const [k, v] of Object.entries<string>(o.stringData ?? {})) out[k] = v;
    return out;
}

/** `$(VAR)` references expanded as the kubelet does (`$$(VAR)` escapes; unknown references stay). */
export function expandK8sVars(s: string, env: Record<string, string>): string {
    return s.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name) => (m === "$$" ? "$" : name in env ? env[name] : m));
}

/** Resolves a container of a pod spec into what to exec. Writes its volumes under `ctx.workdir`. */
export function launchOf(ctx: PodContext, pod: any, container: any): ContainerLaunch {
    const env: Record<string, string> = {};
    for (const from of container.envFrom ?? []) {
        const src = from.secretRef ? lookup(ctx, "Secret", from.secretRef.name) : lookup(ctx, "ConfigMap", from.configMapRef.name);
        if (!src && !(from.secretRef ?? from.configMapRef).optional) throw new Error(`${container.name}: envFrom ${JSON.stringify(from)} not in the plan`);
        for (const [k, v] of Object.entries(src ?? {})) env[(from.prefix ?? "") + k] = v;
    }
    for (const e of container.env ?? []) {
        if (e.value !== undefined) env[e.name] = expandK8sVars(String(e.value), env);
        else if (e.valueFrom?.secretKeyRef || e.valueFrom?.configMapKeyRef) {
            const ref = e.valueFrom.secretKeyRef ?? e.valueFrom.configMapKeyRef;
            const src = lookup(ctx, e.valueFrom.secretKeyRef ? "Secret" : "ConfigMap", ref.name);
            if (src?.[ref.key] === undefined) {
                if (ref.optional) continue;
                throw new Error(`${container.name}: env ${e.name} refers to ${ref.name}/${ref.key}, which the plan does not have`);
            }
            env[e.name] = src[ref.key];
        } else if (e.valueFrom?.fieldRef) {
            const f = e.valueFrom.fieldRef.fieldPath;
            env[e.name] = f === "metadata.namespace" ? ctx.namespace : f === "metadata.name" ? ctx.podName : f.startsWith("status.") ? "127.0.0.1" : "";
        } else if (e.valueFrom?.resourceFieldRef) {
            env[e.name] = "1";
        }
    }
    // Volumes as directories.
    const mounts: Record<string, string> = {};
    for (const m of container.volumeMounts ?? []) {
        const vol = (pod.volumes ?? []).find((v: any) => v.name === m.name);
        if (!vol) throw new Error(`${container.name}: volume ${m.name} is not in the pod`);
        const dir = path.join(ctx.workdir, `vol-${m.name}`);
        fs.mkdirSync(dir, { recursive: true });
        const files = vol.secret ? lookup(ctx, "Secret", vol.secret.secretName) : vol.configMap ? lookup(ctx, "ConfigMap", vol.configMap.name) : undefined;
        if ((vol.secret || vol.configMap) && !files) throw new Error(`${container.name}: volume ${m.name} refers to an object the plan does not have`);
        if (files) {
            const items: { key: string; path: string }[] = (vol.secret ?? vol.configMap).items ?? Object.keys(files).map((k) => ({ key: k, path: k }));
            for (const it of items) {
                fs.mkdirSync(path.dirname(path.join(dir, it.path)), { recursive: true });
                fs.writeFileSync(path.join(dir, it.path), ctx.rewrite(files[it.key]), { mode: 0o600 });
            }
        }
        mounts[m.mountPath] = m.subPath ? path.join(dir, m.subPath) : dir;
    }
    const byLength = Object.keys(mounts).sort((a, b) => b.length - a.length);
    const remount = (s: string) => {
        for (const mp of byLength) {
            if (s === mp) return mounts[mp];
            if (s.startsWith(`${mp}/`)) return mounts[mp] + s.slice(mp.length);
        }
        return s;
    };
    const finalEnv: Record<string, string> = {};
    for (const [k, v] of Object.entries(env)) finalEnv[k] = remount(ctx.rewrite(v));
    const argv = [...(container.command ?? []), ...(container.args ?? [])].map((a: string) => remount(ctx.rewrite(expandK8sVars(String(a), env))));
    if (argv.length === 0) throw new Error(`${container.name}: no command in the plan (the image's default is not known here)`);
    return {
        command: argv[0],
        args: argv.slice(1),
        env: venvEnv(ctx.venv, { ...finalEnv, ...(ctx.extraEnv ?? {}) }),
        mounts,
        cwd: container.workingDir ? remount(String(container.workingDir)) : undefined,
    };
}

/** The venv's executable for a command name (`mlflow`, `python`), or the command as it is. */
function resolveCommand(launch: ContainerLaunch): string {
    if (launch.command.includes("/")) return launch.command;
    for (const dir of launch.env.PATH.split(":")) {
        const p = path.join(dir, launch.command);
        if (fs.existsSync(p)) return p;
    }
    return launch.command;
}

/** Runs a container to completion (an init container, a Job's container). */
export function runToCompletion(launch: ContainerLaunch, timeoutMs = 300_000): Promise<RunResult> {
    return run(resolveCommand(launch), launch.args, { env: launch.env, cwd: launch.cwd, timeoutMs });
}

/** Starts a long-running container (a Deployment's). */
export function startContainer(name: string, launch: ContainerLaunch): Proc {
    return new Proc(name, resolveCommand(launch), launch.args, { env: launch.env, cwd: launch.cwd });
}
