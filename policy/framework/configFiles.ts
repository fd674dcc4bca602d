/**
 * Per-environment enforcement is data: `policy/config/<stack>/<pack>.json` is the file
 * `pulumi preview --policy-pack policy/<pack> --policy-pack-config policy/config/<stack>/<pack>.json`
 * takes - `{ "<policy>": "<level>" | { "enforcementLevel": "<level>", ...properties } }`, plus `all`.
 * These helpers read it and resolve a policy's level and properties the way the CLI does: the pack's
 * default level, then `all`, then the policy's own entry; properties over the schema defaults.
 */
import * as fs from "fs";
import * as path from "path";
import type { PolicyFactory } from "./define";
import type { EnforcementLevel } from "./types";

export const POLICY_DIR = path.resolve(__dirname, "..");
export const CONFIG_DIR = path.join(POLICY_DIR, "config");

export type PolicyConfigEntry = EnforcementLevel | ({ enforcementLevel?: EnforcementLevel } & Record<string, unknown>);
export type PackConfigFile = Record<string, PolicyConfigEntry>;

/** `policy/config/<stack>/<pack>.json`. */
export function configFilePath(stack: string, pack: string, configDir = CONFIG_DIR): string {
    return path.join(configDir, stack, `${pack}.json`);
}

/** The stack's config file of a pack; `{}` when there is none. */
export function readPackConfig(stack: string, pack: string, configDir = CONFIG_DIR): PackConfigFile {
    const file = configFilePath(stack, pack, configDir);
    if (!fs.existsSync(file)) return {};
    return JSON.parse(fs.readFileSync(file, "utf8")) as PackConfigFile;
}

/** Stacks that have a config directory. */
export function configuredStacks(configDir = CONFIG_DIR): string[] {
    if (!fs.existsSync(configDir)) return [];
    return fs
        .readdirSync(configDir, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name)
        .sort();
}

function levelOf(entry: PolicyConfigEntry | undefined): EnforcementLevel | undefined {
    if (entry === undefined) return undefined;
    return typeof entry === "string" ? entry : entry.enforcementLevel;
}

/** The level a policy runs at with this config file (the pack default is `mandatory`). */
export function effectiveLevel(file: PackConfigFile, policy: string, packDefault: EnforcementLevel = "mandatory"): EnforcementLevel {
    return levelOf(file[policy]) ?? levelOf(file.all) ?? packDefault;
}

/** The properties a policy gets: schema defaults overlaid with the file's. */
export function effectiveProperties(file: PackConfigFile, factory: PolicyFactory): Record<string, unknown> {
    const entry = file[factory.meta.name];
    const own = typeof entry === "object" && entry !== null ? Object.fromEntries(Object.entries(entry).filter(([k]) => k !== "enforcementLevel")) : {};
    return { ...structuredClone(factory.defaults as Record<string, unknown>), ...own };
}
