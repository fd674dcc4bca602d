/**
 * What every policy of the platform's packs carries besides its check: the metadata a compliance
 * reviewer reads (docs/policies.md is generated from it) and the context a check runs in.
 */
import type { EnforcementLevel, Severity } from "@pulumi/policy";

export type { EnforcementLevel, Severity };

import { ENVIRONMENTS, type Environment, isEnvironment } from "../../components/contract";

export { ENVIRONMENTS, type Environment, isEnvironment };

export const PACK_NAMES = ["mlops-governance", "mlops-security", "mlops-reliability"] as const;
export type PackName = (typeof PACK_NAMES)[number];

export const SEVERITIES: readonly Severity[] = ["low", "medium", "high", "critical"];

/** A control of a compliance framework that a policy helps to meet. */
export interface ControlRef {
    /** Framework short name: `NIST-800-53` (rev. 5), `SOC2` (TSC 2017), `CIS-AWS` (v3.0.0), `CIS-K8S` (v1.8), `PSS` (Kubernetes Pod Security Standards), `AWS-FSBP` (AWS Foundational Security Best Practices, control ids like `ECR.1`). */
    readonly framework: "NIST-800-53" | "SOC2" | "CIS-AWS" | "CIS-K8S" | "PSS" | "NSA-CISA-K8S" | "AWS-FSBP";
    /** Control id within the framework, e.g. `SC-28`, `CC6.1`, `2.1.4`, `restricted`. */
    readonly control: string;
}

/** Human-readable names and versions of the frameworks, for the docs and Pulumi's `framework` field. */
export const FRAMEWORKS: Record<ControlRef["framework"], { name: string; version: string }> = {
    "NIST-800-53": { name: "NIST SP 800-53", version: "Rev. 5" },
    SOC2: { name: "SOC 2 Trust Services Criteria", version: "2017" },
    "CIS-AWS": { name: "CIS AWS Foundations Benchmark", version: "3.0.0" },
    "CIS-K8S": { name: "CIS Kubernetes Benchmark", version: "1.8" },
    PSS: { name: "Kubernetes Pod Security Standards", version: "v1.30" },
    "NSA-CISA-K8S": { name: "NSA/CISA Kubernetes Hardening Guide", version: "1.2" },
    "AWS-FSBP": { name: "AWS Foundational Security Best Practices", version: "1.0.0" },
};

/** Everything a reviewer needs to know about one policy. */
export interface PolicyMetadata {
    /** Stable kebab-case id: the key in policy config files and in exceptions. Never rename. */
    readonly name: string;
    readonly pack: PackName;
    /** Short title. */
    readonly title: string;
    /** What the policy checks, one or two sentences. */
    readonly description: string;
    /** Why it matters: the risk it prevents. */
    readonly rationale: string;
    readonly severity: Severity;
    /** What to change to comply. */
    readonly remediation: string;
    /** Controls of compliance frameworks it helps to meet. */
    readonly controls: readonly ControlRef[];
    /** Topic tags, e.g. `encryption`, `pod-security`, `ownership`. */
    readonly topics: readonly string[];
    /**
     * Protects data (encryption, public access, TLS, least privilege, secrets): mandatory in every
     * environment, dev included. A test holds the per-stack config files to this.
     */
    readonly protectsData: boolean;
    /** Resource types (Pulumi type tokens) or kinds the policy looks at, for the docs. */
    readonly appliesTo: readonly string[];
    /** Limits of the check a reviewer should know (what it cannot see). */
    readonly limitations?: string;
}

/** The stack a check runs for. */
export interface PolicyContext {
    /** Stack name, when the engine told the pack. */
    readonly stack?: string;
    /** dev, test or prod: derived from the stack name. Undefined when it cannot be determined. */
    readonly environment?: Environment;
    /** Domain of the organisation's label keys (`mlops.<domain>/team`). Undefined: any `mlops.*` domain is accepted. */
    readonly labelDomain?: string;
    /** The time of the check (approval ages are measured from it). */
    readonly now: Date;
}

/** One violation a check found. */
export interface Violation {
    readonly message: string;
    /** URN of the offending resource (stack policies); resource policies report on the resource itself. */
    readonly urn?: string;
}

/** A subject a stack policy could not evaluate (an unknown value during preview, a missing provider). */
export interface Skipped {
    readonly urn?: string;
    readonly reason: string;
}

/** What a stack check returns. */
export interface StackOutcome {
    readonly violations: Violation[];
    readonly skipped: Skipped[];
}
