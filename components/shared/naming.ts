/**
 * Naming, tags and labels: pure functions, shared by every component so that names stay within the
 * limits of Kubernetes and AWS and every object carries the same ownership metadata.
 */
import { createHash } from "crypto";
import { type Environment, labelKeys } from "../contract";

export { labelKeys };

/** Kubernetes DNS-1123 label: 63 characters of [a-z0-9-], alphanumeric at both ends. */
export const K8S_NAME_MAX = 63;
/** S3 bucket names: 3-63 characters of [a-z0-9.-]. */
export const S3_BUCKET_MAX = 63;
/** IAM role names: 64 characters. */
export const IAM_ROLE_MAX = 64;

function shortHash(input: string, length = 6): string {
    return createHash("sha256").update(input).digest("hex").slice(0, length);
}

/** Lower-cases and replaces anything outside [a-z0-9-] with "-", squeezing and trimming dashes. */
export function slug(input: string): string {
    return input
        .toLowerCase()
        .replace(/[^a-z0-9-]+/g, "-")
        .replace(/-+/g, "-")
        .replace(/^-+|-+$/g, "");
}

/**
 * Joins parts into a DNS-1123 label of at most `max` characters. A name that would be too long is
 * cut and ends in a hash of the full name, so two long names never collide and the result is stable.
 */
export function dnsName(parts: readonly string[], max = K8S_NAME_MAX): string {
    const full = slug(parts.filter((p) => p.length > 0).join("-")) || "x";
    if (full.length <= max) return full;
    const hash = shortHash(full);
    const head = full.slice(0, max - hash.length - 1).replace(/-+$/g, "");
    return `${head}-${hash}`;
}

/** Kubernetes label values: 63 characters of [A-Za-z0-9._-], alphanumeric at both ends. */
export function labelValue(value: string): string {
    const cleaned = value.replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, "");
    if (cleaned.length <= 63) return cleaned;
    const hash = shortHash(value);
    return `${cleaned.slice(0, 63 - hash.length - 1).replace(/[^A-Za-z0-9]+$/g, "")}-${hash}`;
}

/** What a component says about the objects it labels. */
export interface LabelArgs {
    /** `app.kubernetes.io/name`: what the thing is (mlflow, postgres, a model name). */
    readonly name: string;
    /** `app.kubernetes.io/component`: its role in the whole (tracking-server, database). */
    readonly component: string;
    /** `app.kubernetes.io/instance`: which instance (defaults to name). */
    readonly instance?: string;
    /** `app.kubernetes.io/version`, when one is meaningful. */
    readonly version?: string;
    /** Team that owns the object (defaults to the platform owner). */
    readonly team?: string;
}

/** The label context of a stack: its ownership and label domain. */
export interface LabelContext {
    readonly labelDomain: string;
    readonly owner: string;
    readonly environment: Environment;
    readonly costCentre: string;
}

/** Labels of a Kubernetes object: `app.kubernetes.io/*` plus `mlops.<domain>/*` ownership keys. */
export function standardLabels(ctx: LabelContext, args: LabelArgs): Record<string, string> {
    const keys = labelKeys(ctx.labelDomain);
    const labels: Record<string, string> = {
        "app.kubernetes.io/name": labelValue(args.name),
        "app.kubernetes.io/instance": labelValue(args.instance ?? args.name),
        "app.kubernetes.io/component": labelValue(args.component),
        "app.kubernetes.io/part-of": "mlops-platform",
        "app.kubernetes.io/managed-by": "pulumi",
        [keys.team]: labelValue(args.team ?? ctx.owner),
        [keys.owner]: labelValue(ctx.owner),
        [keys.environment]: ctx.environment,
        [keys.costCentre]: labelValue(ctx.costCentre),
    };
    if (args.version) labels["app.kubernetes.io/version"] = labelValue(args.version);
    return labels;
}

/**
 * The subset of labels that selects pods: stable across versions (never the version label), so a
 * Deployment's immutable selector does not change on upgrade.
 */
export function selectorLabels(args: Pick<LabelArgs, "name" | "instance" | "component">): Record<string, string> {
    return {
        "app.kubernetes.io/name": labelValue(args.name),
        "app.kubernetes.io/instance": labelValue(args.instance ?? args.name),
        "app.kubernetes.io/component": labelValue(args.component),
    };
}
