/**
 * Reads a Pulumi project the way the Pulumi CLI does: the project name and entry point from
 * `Pulumi.yaml`, and a stack's configuration from `Pulumi.<stack>.yaml`, flattened to what the
 * program receives (`namespace:key` -> string, structured values as JSON). Encrypted (`secure:`)
 * values cannot be decrypted offline: they become placeholders that stay marked secret.
 */
import * as fs from "fs";
import * as path from "path";
import YAML from "yaml";

export interface ProjectInfo {
    /** Directory holding Pulumi.yaml. */
    root: string;
    /** Project name. */
    name: string;
    /** Absolute path of the program's entry module. */
    entry: string;
    /**
     * Where the Pulumi CLI runs the program, as its engine derives it from `main` (`getPwdMain`): the
     * program directory (`--pwd` of the SDK's `cmd/run`) and the entry point it is given there - `.` when
     * `main` is a directory or absent (cmd/run then resolves the package.json found from that directory),
     * the file's base name when `main` is a file.
     */
    program: { directory: string; entryPoint: string };
    /** `runtime.options` of Pulumi.yaml (typescript, tsconfig, nodeargs, packagemanager). */
    runtimeOptions: Record<string, unknown>;
}

export interface StackConfig {
    stack: string;
    /** The stack file that was read. */
    file: string;
    config: Record<string, string>;
    secretKeys: string[];
}

/** Error in the project or stack files: message is meant for the user as is. */
export class ProjectError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "ProjectError";
    }
}

function readYaml(file: string): any {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch {
        throw new ProjectError(`cannot read ${file}`);
    }
    try {
        return YAML.parse(text) ?? {};
    } catch (err) {
        throw new ProjectError(`${file} is not valid YAML: ${(err as Error).message}`);
    }
}

/** Reads Pulumi.yaml in `root`. */
export function readProject(root: string): ProjectInfo {
    const file = path.join(root, "Pulumi.yaml");
    const doc = readYaml(file);
    if (typeof doc.name !== "string") throw new ProjectError(`${file} has no project name`);
    const main = typeof doc.main === "string" && doc.main !== "" ? doc.main : undefined;
    const runtime = doc.runtime;
    const runtimeOptions =
        runtime && typeof runtime === "object" && runtime.options && typeof runtime.options === "object" ? (runtime.options as Record<string, unknown>) : {};
    const program = programLocation(file, root, main);
    let entry = cmdRunProgram(program.directory, program.entryPoint);
    const inside = path.relative(program.directory, entry);
    if (inside.startsWith("..") || path.isAbsolute(inside)) {
        throw new ProjectError(
            `${file}: main "${main ?? "."}" is a directory, so the Pulumi CLI runs the module the nearest package.json names for it: ` +
                `${path.relative(root, entry) || "."}, outside the program directory ${path.relative(root, program.directory) || "."}/. ` +
                `Name the program's file in main (e.g. main: ${path.join(path.relative(root, program.directory), "index.ts")}) or give the program directory a package.json of its own (docs/plan.md, "Execution model").`,
        );
    }
    if (fs.existsSync(entry) && fs.statSync(entry).isDirectory()) entry = path.join(entry, "index.ts");
    return { root, name: doc.name, entry, program, runtimeOptions };
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const manifest = require("@pulumi/pulumi/runtime/manifest") as {
    searchupPackageManifest(dir: string): string | undefined;
    readPackageManifest(dir: string): { data: Record<string, any> };
};

/**
 * The module the SDK's cmd/run loads for an entry point in a program directory (cmd/run/run.js `run`):
 * a named file as it is; `.` through the nearest package.json (or package.yaml) from that directory -
 * its `exports` (a string, or `"."`'s string or `default`/`require`/`import`), else its `main` - and the
 * directory itself when none names an existing file. Found with the SDK's own manifest search.
 */
export function cmdRunProgram(directory: string, entryPoint: string): string {
    const program = path.isAbsolute(entryPoint) ? entryPoint : path.join(directory, entryPoint);
    if (entryPoint !== ".") return program;
    const found = manifest.searchupPackageManifest(directory);
    if (!found) return program;
    const packageRoot = path.dirname(found);
    let pkg: Record<string, any> = {};
    try {
        pkg = manifest.readPackageManifest(packageRoot).data;
    } catch {
        /* best effort, as cmd/run */
    }
    const existing = (p: unknown) => (typeof p === "string" && fs.existsSync(path.join(packageRoot, p)) ? path.join(packageRoot, p) : program);
    if (typeof pkg.exports === "string") return existing(pkg.exports);
    if (pkg.exports && typeof pkg.exports === "object") {
        const main = pkg.exports["."];
        if (typeof main === "string") return existing(main);
        if (main && typeof main === "object") return existing(main.default || main.require || main.import);
        return program;
    }
    return pkg.main ? existing(pkg.main) : program;
}

/**
 * The tsconfig.json whose compiler options cmd/run gives ts-node: `runtime.options.tsconfig`
 * (PULUMI_NODEJS_TSCONFIG_PATH, relative to the program directory) or `tsconfig.json` in the program
 * directory - never one further up. Undefined when there is none: ts-node then compiles with cmd/run's
 * defaults (target ES2020, module nodenext, no lib beyond the target's).
 */
export function cmdRunTsconfig(info: ProjectInfo): string | undefined {
    const configured = info.runtimeOptions.tsconfig;
    const file = path.resolve(info.program.directory, typeof configured === "string" && configured !== "" ? configured : "tsconfig.json");
    return fs.existsSync(file) ? file : undefined;
}

/**
 * The engine's `getPwdMain`: no `main` runs `.` in the project root; a directory runs `.` in that
 * directory; a file runs its base name in its directory. A `main` that does not exist fails, as
 * `pulumi preview` fails ("project 'main' could not be read").
 */
export function programLocation(file: string, root: string, main: string | undefined): { directory: string; entryPoint: string } {
    if (main === undefined) return { directory: root, entryPoint: "." };
    const target = path.resolve(root, main);
    let stat: fs.Stats;
    try {
        stat = fs.statSync(target);
    } catch {
        throw new ProjectError(`${file}: project 'main' could not be read: ${main} (${target}) does not exist`);
    }
    return stat.isDirectory() ? { directory: target, entryPoint: "." } : { directory: path.dirname(target), entryPoint: path.basename(target) };
}

/** Names of the stacks that have a Pulumi.<stack>.yaml in `root`. */
export function listStacks(root: string): string[] {
    return fs
        .readdirSync(root)
        .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
        .filter((s): s is string => s !== undefined)
        .sort();
}

/** Placeholder a `secure:` value becomes offline. */
export const SECRET_PLACEHOLDER = "offline-plan-secret-placeholder";

function isSecure(v: unknown): boolean {
    return typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length === 1 && "secure" in v;
}

/** Replaces `secure:` values with the placeholder; tells whether there were any. */
function unsecure(v: unknown): { value: unknown; secret: boolean } {
    if (isSecure(v)) return { value: SECRET_PLACEHOLDER, secret: true };
    if (Array.isArray(v)) {
        const parts = v.map(unsecure);
        return { value: parts.map((p) => p.value), secret: parts.some((p) => p.secret) };
    }
    if (typeof v === "object" && v !== null) {
        let secret = false;
        const out: Record<string, unknown> = {};
        for (const [k, e] of Object.entries(v)) {
            const p = unsecure(e);
            out[k] = p.value;
            secret ||= p.secret;
        }
        return { value: out, secret };
    }
    return { value: v, secret: false };
}

/**
 * Reads `Pulumi.<stack>.yaml` and flattens it as the CLI hands config to a program. Keys without a
 * namespace get the project's; project-level defaults from Pulumi.yaml apply where the stack is silent.
 */
export function readStackConfig(project: ProjectInfo, stack: string): StackConfig {
    const file = path.join(project.root, `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(file)) {
        const known = listStacks(project.root);
        throw new ProjectError(`no stack "${stack}": ${file} does not exist (stacks here: ${known.join(", ") || "none"})`);
    }
    const projectDoc = readYaml(path.join(project.root, "Pulumi.yaml"));
    const stackDoc = readYaml(file);
    const raw: Record<string, unknown> = {};
    for (const [key, decl] of Object.entries((projectDoc.config ?? {}) as Record<string, any>)) {
        if (decl && typeof decl === "object" && "value" in decl) raw[key] = decl.value;
        else if (decl !== null && typeof decl !== "object") raw[key] = decl;
    }
    Object.assign(raw, (stackDoc.config ?? {}) as Record<string, unknown>);
    const config: Record<string, string> = {};
    const secretKeys: string[] = [];
    for (const [key, value] of Object.entries(raw)) {
        const full = key.includes(":") ? key : `${project.name}:${key}`;
        if (full.startsWith("pulumi:")) continue; // engine settings, not program config
        const { value: v, secret } = unsecure(value);
        config[full] = typeof v === "string" ? v : JSON.stringify(v);
        if (secret) secretKeys.push(full);
    }
    return { stack, file, config, secretKeys };
}

/** The `namespace:` keys of a flattened config, without the namespace. */
export function configNamespace(config: Record<string, string>, namespace: string): Record<string, string> {
    const prefix = `${namespace}:`;
    return Object.fromEntries(
        Object.entries(config)
            .filter(([k]) => k.startsWith(prefix))
            .map(([k, v]) => [k.slice(prefix.length), v]),
    );
}
