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
    const main = typeof doc.main === "string" ? doc.main : ".";
    let entry = path.resolve(root, main);
    if (fs.existsSync(entry) && fs.statSync(entry).isDirectory()) entry = path.join(entry, "index.ts");
    return { root, name: doc.name, entry };
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
