/**
 * The machine-readable policy catalogue: every pack and policy with its metadata (title, description,
 * rationale, severity, remediation, controls with their frameworks, topics, what it applies to), its
 * config schema and defaults, its enforcement level in each stack, and how the cluster enforces it.
 * `npm run policy:catalogue` writes it to docs/policy-catalogue.json; docs/policies.md renders the same
 * facts (test/catalogue.test.ts keeps both current); the plan's SARIF and results exports take their
 * rules and controls from it.
 */
import { ADMISSION_ELSEWHERE } from "../framework/admission";
import { readPackConfig } from "../framework/configFiles";
import { environmentOfStack } from "../framework/context";
import type { PolicyFactory } from "../framework/define";
import { levelIn } from "./docs";
import { PACKS, STACKS } from "../packs";
import { FRAMEWORKS } from "../framework/types";

/** One policy in the catalogue. */
export interface CataloguePolicy {
    readonly name: string;
    readonly pack: string;
    readonly kind: "resource" | "stack";
    readonly title: string;
    readonly description: string;
    readonly rationale: string;
    readonly severity: string;
    readonly remediation: string;
    readonly controls: readonly { readonly framework: string; readonly frameworkName: string; readonly frameworkVersion: string; readonly control: string }[];
    readonly topics: readonly string[];
    readonly protectsData: boolean;
    readonly appliesTo: readonly string[];
    /** Default environment scope, when the policy has one. */
    readonly environments?: readonly string[];
    /** The level per stack (`mandatory`, `advisory`, `disabled`, or `not applicable (...)`). */
    readonly levels: Readonly<Record<string, string>>;
    /** Config properties: default and description. */
    readonly config: Readonly<Record<string, { readonly default: unknown; readonly description: string }>>;
    /** How the cluster enforces it: `admission` (a ValidatingAdmissionPolicy), or why not. */
    readonly inCluster: { readonly admission: boolean; readonly note?: string };
}

/** The catalogue document. */
export interface PolicyCatalogue {
    readonly catalogueFormat: 1;
    readonly stacks: readonly string[];
    readonly packs: readonly { readonly name: string; readonly description: string; readonly policies: readonly string[] }[];
    readonly policies: readonly CataloguePolicy[];
}

function entry(factory: PolicyFactory, pack: string): CataloguePolicy {
    const m = factory.meta;
    const schema = (factory.configSchema.properties ?? {}) as Record<string, { default?: unknown; description?: string }>;
    const admission = (factory as { admission?: { partial?: string } }).admission;
    return {
        name: m.name,
        pack,
        kind: factory.kind,
        title: m.title,
        description: m.description,
        rationale: m.rationale,
        severity: m.severity,
        remediation: m.remediation,
        controls: m.controls.map((c) => ({
            framework: c.framework,
            frameworkName: FRAMEWORKS[c.framework].name,
            frameworkVersion: FRAMEWORKS[c.framework].version,
            control: c.control,
        })),
        topics: m.topics,
        protectsData: m.protectsData,
        appliesTo: m.appliesTo,
        ...(factory.environments ? { environments: [...factory.environments] } : {}),
        levels: Object.fromEntries(STACKS.map((s) => [s, levelIn(factory, readPackConfig(s, pack), environmentOfStack(s))])),
        config: Object.fromEntries(Object.entries(schema).map(([k, p]) => [k, { default: p.default, description: p.description ?? "" }])),
        inCluster: admission
            ? { admission: true, ...(admission.partial ? { note: admission.partial } : {}) }
            : { admission: false, note: ADMISSION_ELSEWHERE[m.name] ?? "AWS resources, not Kubernetes objects: the packs only" },
    };
}

/** The catalogue of the platform's packs. */
export function policyCatalogue(): PolicyCatalogue {
    return {
        catalogueFormat: 1,
        stacks: STACKS,
        packs: PACKS.map((p) => ({ name: p.name, description: p.description, policies: p.policies.map((f) => f.meta.name) })),
        policies: PACKS.flatMap((p) => p.policies.map((f) => entry(f, p.name))),
    };
}

/** docs/policy-catalogue.json as it should be. */
export function policyCatalogueJson(): string {
    return `${JSON.stringify(policyCatalogue(), null, 2)}\n`;
}
