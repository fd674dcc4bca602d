import { celMessage, celString } from "../../framework/admission";
import { definePodPolicy, eachContainer } from "./podCommon";

export interface Config {
    requests: string[];
    limits: string[];
}

/** Every container declares resource requests and limits. */
export const containerResourcesRequired = definePodPolicy<Config>({
    meta: {
        name: "container-resources-required",
        title: "Containers declare requests and limits",
        description: "Every container (init containers included) declares `resources.requests` and `resources.limits` for CPU and memory (configurable).",
        rationale:
            "Without requests the scheduler overcommits nodes; without limits one runaway model server or batch job starves its neighbours (a denial of service from inside the cluster) and is OOM-killed unpredictably.",
        severity: "medium",
        remediation: "Set `resources: { requests: { cpu, memory }, limits: { cpu, memory } }` on every container, sized from load tests.",
        controls: [
            { framework: "NIST-800-53", control: "SC-6" },
            { framework: "NSA-CISA-K8S", control: "resource policies" },
            { framework: "SOC2", control: "A1.1" },
        ],
        topics: ["kubernetes", "capacity"],
    },
    config: {
        requests: { type: "array", items: { type: "string" }, default: ["cpu", "memory"], description: "Resources every container must request." },
        limits: { type: "array", items: { type: "string" }, default: ["cpu", "memory"], description: "Resources every container must limit." },
    },
    admission: {
        kinds: "workloads",
        validations: ({ config }) => {
            const set = `(${
                config.requests
                    .map((r) => `has(c.resources.requests) && ${celString(r)} in c.resources.requests`)
                    .concat(config.limits.map((r) => `has(c.resources.limits) && ${celString(r)} in c.resources.limits`))
                    .map((x) => `(${x})`)
                    .join(" && ") || "true"
            })`;
            const ok = `(has(c.resources) && ${set})`;
            return [
                {
                    expression: `variables.containers.all(c, ${ok})`,
                    messageExpression: celMessage(
                        "container-resources-required",
                        `': container(s) ' + variables.containers.filter(c, !${ok}).map(c, c.name).join(', ') + ' do not set resources.requests (${config.requests.join(", ")}) and resources.limits (${config.limits.join(", ")}).'`,
                    ),
                },
            ];
        },
    },
    check: (pod, config) =>
        eachContainer(
            pod,
            (c) => {
                const r = c.container.resources ?? {};
                const missing = [
                    ...config.requests.filter((k) => r.requests?.[k] === undefined).map((k) => `requests.${k}`),
                    ...config.limits.filter((k) => r.limits?.[k] === undefined).map((k) => `limits.${k}`),
                ];
                return missing.length > 0 ? `${c.label} does not set resources.${missing.join(", resources.")}.` : undefined;
            },
            ["container", "initContainer"],
        ),
});
