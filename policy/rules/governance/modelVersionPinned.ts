import { celMessage, celStrings } from "../../framework/admission";
import { MODEL_URI_ENV, ORG_ANNOTATIONS, ORG_LABELS, PINNED_MODEL_URI, REGISTRY_STAGES } from "../../../components/contract";
import { defineResourcePolicy } from "../../framework/define";
import { containersOf, orgKeyName, podTemplate } from "../../readers/k8s";
import { isModelWorkloadType, MODEL_APPLIES_TO, orgValues, requireModel } from "./modelCommon";

export interface Config {
    uriVariables: string[];
}

const VERSION = /^\d+$/;
const PINNED_URI = PINNED_MODEL_URI;
/** Words that name a stage or a common alias rather than a version. */
const NOT_A_VERSION = new RegExp(`^(${[...REGISTRY_STAGES, "champion", "challenger"].join("|")})$`, "i");

/** Why a version string is not a pin, in words. */
function notPinned(version: string): string {
    if (/^latest$/i.test(version)) return "latest";
    if (NOT_A_VERSION.test(version)) return `the stage or alias "${version}"`;
    return `"${version}"`;
}

/** What is wrong with a model URI, or undefined when it pins `models:/<name>/<number>`. */
export function modelUriProblem(uri: string): string | undefined {
    if (PINNED_URI.test(uri)) return undefined;
    const alias = /^models:\/[^/@]+@(.+)$/.exec(uri);
    if (alias) return `the alias "@${alias[1]}" (an alias moves; pin models:/<name>/<version>)`;
    const other = /^models:\/[^/@]+\/(.+)$/.exec(uri);
    if (other) return `${notPinned(other[1])} instead of a version number`;
    return "not a registry URI models:/<name>/<version>";
}

/** Model workloads pin a registered model version: a numeric version label and pinned MODEL_URI. */
export const modelVersionPinned = defineResourcePolicy<Config>({
    meta: {
        name: "model-version-pinned",
        pack: "mlops-governance",
        title: "Model workloads pin a model version",
        description:
            "A model workload carries `mlops.<domain>/model-version` with a registered version number (not `latest`, a stage like `Production` or an alias), every copy of it agrees, and each MODEL_URI variable (and `mlops.<domain>/model-uri` annotation) is the literal `models:/<name>/<number>` of that version.",
        rationale:
            "A stage or alias resolves to whatever version is promoted next: the running model then changes without a deployment, an approval or a rollback path, and no one can tell afterwards which version produced a prediction.",
        severity: "high",
        remediation:
            'Deploy a specific registered version: label mlops.<domain>/model-version: "<n>" and MODEL_URI=models:/<name>/<n> (ModelService and BatchInference set both from `modelUri: "models:/<name>/<n>"`; an alias URI is for dev only).',
        controls: [
            { framework: "NIST-800-53", control: "CM-2" },
            { framework: "NIST-800-53", control: "CM-3" },
            { framework: "SOC2", control: "CC8.1" },
        ],
        topics: ["model-governance", "reproducibility"],
        protectsData: false,
        appliesTo: MODEL_APPLIES_TO,
    },
    config: {
        uriVariables: { type: "array", items: { type: "string" }, default: [MODEL_URI_ENV], description: "Environment variables that hold the model URI." },
    },
    types: isModelWorkloadType,
    admission: {
        kinds: "workloads",
        model: true,
        validations: ({ config, labelDomain }) => {
            const vars = celStrings(config.uriVariables);
            const modelKey = orgKeyName(ORG_LABELS.model, labelDomain);
            const versionKey = orgKeyName(ORG_LABELS.modelVersion, labelDomain);
            return [
                {
                    expression: `variables.isModel || variables.containers.all(c, !has(c.env) || !c.env.exists(e, e.name in ${vars}))`,
                    messageExpression: celMessage(
                        "model-version-pinned",
                        `' sets ${config.uriVariables.join(" or ")} but is not labelled ${modelKey}: a workload that loads a model is a model workload (label its model and ${versionKey}).'`,
                    ),
                },
                {
                    expression: "!variables.isModel || variables.version.matches('^[1-9][0-9]*$')",
                    messageExpression: celMessage(
                        "model-version-pinned",
                        `' does not pin a model version: set the label ${versionKey} to the registered version number.'`,
                    ),
                },
                {
                    expression: `!variables.isModel || variables.containers.all(c, !has(c.env) || c.env.all(e, !(e.name in ${vars}) || (has(e.value) && e.value == 'models:/' + variables.model + '/' + variables.version)))`,
                    messageExpression: celMessage(
                        "model-version-pinned",
                        `' does not load models:/' + variables.model + '/' + variables.version + ', the version its labels name: set ${config.uriVariables.join(" or ")} to it, as a literal value.'`,
                    ),
                },
            ];
        },
    },
    check: ({ type, props }, config, ctx) => {
        const { ref } = requireModel(type, props, ctx.labelDomain);
        const key = orgKeyName(ORG_LABELS.modelVersion, ctx.labelDomain);
        const problems: string[] = [];
        const versions = orgValues(type, props, ORG_LABELS.modelVersion, ctx.labelDomain);
        if (versions.length === 0) problems.push(`${ref} does not pin a model version: set the ${key} label to the registered version number.`);
        for (const { where, value } of versions) {
            if (typeof value !== "string" || !VERSION.test(value))
                problems.push(`${ref}: the ${key} ${where} is ${notPinned(String(value))}; expected a registered version number.`);
        }
        const distinct = [...new Set(versions.map((v) => String(v.value)))];
        if (distinct.length > 1) problems.push(`${ref}: the ${key} copies disagree (${distinct.join(", ")}).`);
        const version = distinct.length === 1 && VERSION.test(distinct[0]) ? distinct[0] : undefined;
        for (const { where, value } of orgValues(type, props, ORG_ANNOTATIONS.modelUri, ctx.labelDomain)) {
            const uriKey = orgKeyName(ORG_ANNOTATIONS.modelUri, ctx.labelDomain);
            const problem = typeof value === "string" ? modelUriProblem(value) : "not a string";
            if (problem) problems.push(`${ref}: the ${uriKey} ${where} is "${String(value)}", ${problem}.`);
            else if (version && PINNED_URI.exec(value as string)![2] !== version)
                problems.push(`${ref}: the ${uriKey} ${where} is "${String(value)}" but ${key} is ${version}.`);
        }
        const pod = podTemplate(type, props);
        for (const c of pod ? containersOf(pod.spec) : []) {
            for (const e of Array.isArray(c.container.env) ? c.container.env : []) {
                if (!config.uriVariables.includes(e?.name)) continue;
                if (typeof e.value !== "string") {
                    problems.push(
                        `${ref}: ${c.label} takes ${e.name} from valueFrom: set it as a literal models:/<name>/<version> so the pinned version is reviewable.`,
                    );
                    continue;
                }
                const problem = modelUriProblem(e.value);
                if (problem) problems.push(`${ref}: ${c.label} sets ${e.name}="${e.value}", ${problem}.`);
                else if (version && PINNED_URI.exec(e.value)![2] !== version)
                    problems.push(`${ref}: ${c.label} sets ${e.name}="${e.value}" but ${key} is ${version}.`);
            }
        }
        return problems;
    },
});
