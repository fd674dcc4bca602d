/**
 * Kubernetes objects in a recording: extracting them from resource inputs and validating each against
 * the upstream OpenAPI schemas with `kubernetes-models` (prometheus-operator kinds with
 * `@kubernetes-models/prometheus-operator`, Gateway API kinds with `@kubernetes-models/gateway-api`).
 */
import Ajv, { type ValidateFunction } from "ajv";
import type { RecordedResource } from "./recorder";
import { reveal } from "./values";

export interface KubernetesObject {
    apiVersion: string;
    kind: string;
    metadata: { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
    [key: string]: unknown;
}

/** Kinds that are not namespaced (an object of any other kind lands in its release's namespace). */
export const CLUSTER_SCOPED_KINDS: ReadonlySet<string> = new Set([
    "Namespace",
    "Node",
    "PersistentVolume",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "StorageClass",
    "PriorityClass",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "APIService",
    "IngressClass",
    "RuntimeClass",
    "CSIDriver",
    "VolumeSnapshotClass",
]);

/** A Kubernetes object with the resource it came from. */
export interface RenderedObject {
    resource: RecordedResource;
    object: KubernetesObject;
}

/** Resource types that are not Kubernetes objects themselves (providers, Helm releases, YAML groups). */
function isObjectType(type: string): boolean {
    return (
        type.startsWith("kubernetes:") &&
        !type.startsWith("kubernetes:helm.sh/") &&
        !type.startsWith("kubernetes:yaml") &&
        !type.startsWith("kubernetes:kustomize")
    );
}

/**
 * Every Kubernetes object of a recording, as the API server would receive it: apiVersion, kind and the
 * inputs, with `metadata.name` filled in where the provider auto-names. Secret values are revealed:
 * call `redact` before printing.
 */
export function kubernetesObjects(resources: readonly RecordedResource[], revealSecrets = true): RenderedObject[] {
    return resources
        .filter((r) => r.custom && isObjectType(r.type))
        .map((r) => {
            const inputs = (revealSecrets ? reveal(r.inputs) : r.inputs) as Record<string, any>;
            const outputs = reveal(r.outputs) as Record<string, any>;
            const [, groupVersion, kind] = r.type.split(":");
            const apiVersion = inputs.apiVersion ?? (groupVersion.startsWith("core/") ? groupVersion.slice(5) : groupVersion);
            const metadata = { ...(inputs.metadata ?? {}) };
            if (!metadata.name) metadata.name = outputs.metadata?.name;
            return { resource: r, object: { ...inputs, apiVersion, kind: inputs.kind ?? kind, metadata } as KubernetesObject };
        });
}

/** One schema error of one object. */
export interface SchemaError {
    /** `kind/namespace/name` of the object. */
    object: string;
    /** JSON pointer of the bad field. */
    path: string;
    message: string;
}

const PROMETHEUS_OPERATOR_GROUP = "monitoring.coreos.com";
const GATEWAY_API_GROUP = "gateway.networking.k8s.io";

function modulePath(apiVersion: string): string {
    const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
    if (group === PROMETHEUS_OPERATOR_GROUP) return `@kubernetes-models/prometheus-operator/${group}/${version}`;
    if (group === GATEWAY_API_GROUP) return `@kubernetes-models/gateway-api/${group}/${version}`;
    return group ? `kubernetes-models/${group}/${version}` : `kubernetes-models/${version}`;
}

// kubernetes-models is ESM-only: load it with a dynamic import(), which TypeScript (module node16),
// tsx and vitest all keep as a real import. (A `new Function("return import(...)")` trick fails under
// vitest: "A dynamic import callback was not specified", so every object came out "no schema".)
const importModule = (specifier: string): Promise<Record<string, any>> => import(specifier);
const modules = new Map<string, Promise<Record<string, any> | undefined>>();

function loadModule(apiVersion: string): Promise<Record<string, any> | undefined> {
    const path = modulePath(apiVersion);
    let m = modules.get(path);
    if (!m) {
        m = importModule(path).catch((err: NodeJS.ErrnoException) => {
            // An unknown group/version has no module; any other failure must not pass for "no schema".
            const missing = ["ERR_MODULE_NOT_FOUND", "MODULE_NOT_FOUND", "ERR_PACKAGE_PATH_NOT_EXPORTED"].includes(err?.code ?? "");
            if (missing || /is not exported|Cannot find (module|package)|Failed to (load|resolve)/.test(err?.message ?? "")) return undefined;
            throw new Error(`cannot load the schemas of ${apiVersion} (${path}): ${err?.message ?? err}`);
        });
        modules.set(path, m);
    }
    return m;
}

export function objectRef(o: KubernetesObject): string {
    return [o.kind, o.metadata?.namespace, o.metadata?.name].filter(Boolean).join("/");
}

/** Schemas of custom kinds by `<group>/<version>/<kind>`, compiled from CustomResourceDefinitions. */
export type CrdSchemas = ReadonlyMap<string, ValidateFunction>;

/**
 * CRD patterns are Go (RE2) regular expressions: an inline `(?i)` JavaScript does not know becomes the
 * `i` flag; a pattern JavaScript still cannot compile is not checked here (the API server checks it).
 */
const goRegExp = Object.assign(
    (pattern: string, flags: string) => {
        try {
            return new RegExp(pattern, flags);
        } catch {
            try {
                return new RegExp(pattern.replace(/\(\?i\)/g, ""), `${flags}i`);
            } catch {
                return /[\s\S]*/;
            }
        }
    },
    { code: "goRegExp" },
);
const crdAjv = new Ajv({ allErrors: true, strict: false, validateFormats: false, code: { regExp: goRegExp } });

/**
 * The schemas the given CustomResourceDefinitions declare (`openAPIV3Schema` of each served version).
 * Objects of those kinds are validated against them instead of the packaged models: the CRD is what the
 * API server checks, and a chart ships the CRDs of the operator version it runs.
 */
export function crdSchemas(objects: readonly KubernetesObject[]): CrdSchemas {
    const out = new Map<string, ValidateFunction>();
    for (const o of objects) {
        if (o.kind !== "CustomResourceDefinition" || !o.apiVersion.startsWith("apiextensions.k8s.io/")) continue;
        const spec = (
            o as {
                spec?: { group?: string; names?: { kind?: string }; versions?: { name: string; served?: boolean; schema?: { openAPIV3Schema?: object } }[] };
            }
        ).spec;
        for (const v of spec?.versions ?? []) {
            if (!spec?.group || !spec.names?.kind || !v.schema?.openAPIV3Schema || v.served === false) continue;
            out.set(`${spec.group}/${v.name}/${spec.names.kind}`, crdAjv.compile(v.schema.openAPIV3Schema));
        }
    }
    return out;
}

/** Validates one object; returns its schema errors (an unknown kind is an error too). */
export async function validateObject(o: KubernetesObject, crds?: CrdSchemas): Promise<SchemaError[]> {
    const ref = objectRef(o);
    const crd = crds?.get(`${o.apiVersion}/${o.kind}`);
    if (crd) {
        if (crd(o)) return [];
        return (crd.errors ?? []).map((e) => ({ object: ref, path: e.instancePath, message: e.message ?? String(e) }));
    }
    const mod = await loadModule(o.apiVersion);
    const Model = mod?.[o.kind];
    if (typeof Model !== "function") {
        return [{ object: ref, path: "", message: `no schema for ${o.apiVersion} ${o.kind}` }];
    }
    try {
        new Model(o).validate();
        return [];
    } catch (err: any) {
        const details: any[] = err?.errors ?? err?.details ?? [];
        if (details.length === 0) return [{ object: ref, path: "", message: String(err?.message ?? err) }];
        return details.map((d) => ({ object: ref, path: d.instancePath ?? d.path ?? "", message: d.message ?? String(d) }));
    }
}

/**
 * Validates every object; returns all schema errors. Objects of a kind a CustomResourceDefinition among
 * them declares are validated against that CRD.
 */
export async function validateObjects(objects: readonly KubernetesObject[]): Promise<SchemaError[]> {
    const crds = crdSchemas(objects);
    const results = await Promise.all(objects.map((o) => validateObject(o, crds)));
    return results.flat();
}
