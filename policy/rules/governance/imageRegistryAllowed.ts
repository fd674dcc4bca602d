import { celMessage, celStrings } from "../../framework/admission";
/** CEL over container `c`: `registry/repository` of its image (tag and digest cut off, as parseImage does for references that name a registry). */
const NAME_OF_C = "c.image.split('@')[0]";
const REPOSITORY_OF_C = `(${NAME_OF_C}.lastIndexOf(':') > ${NAME_OF_C}.lastIndexOf('/') ? ${NAME_OF_C}.substring(0, ${NAME_OF_C}.lastIndexOf(':')) : ${NAME_OF_C})`;
import { globRegex } from "../../readers/aws";
import { defineResourcePolicy } from "../../framework/define";
import { POD_TYPES } from "../../readers/k8s";
import { checkImages, IMAGE_APPLIES_TO } from "./imageCommon";

/** Images come from allowed registries only. */
export const imageRegistryAllowed = defineResourcePolicy<{ allowedRegistries: string[] }>({
    meta: {
        name: "image-registry-allowed",
        pack: "mlops-governance",
        title: "Images come from allowed registries",
        description:
            "Every container image (containers, init containers, CronJob templates) is pulled from a registry/repository matching one of `allowedRegistries` (globs like `123456789012.dkr.ecr.eu-west-1.amazonaws.com/*`).",
        rationale:
            "Images from arbitrary registries bypass the organisation's build pipeline, vulnerability scanning (ECR scan on push) and provenance; a public image can be replaced or typosquatted.",
        severity: "high",
        remediation:
            "Build the image with the ContainerImage component (pushes to the account's ECR) or mirror the upstream image into ECR, then deploy it from there.",
        controls: [
            { framework: "NIST-800-53", control: "CM-7" },
            { framework: "NIST-800-53", control: "SI-7" },
            { framework: "SOC2", control: "CC6.8" },
        ],
        topics: ["supply-chain", "images"],
        protectsData: false,
        appliesTo: IMAGE_APPLIES_TO,
    },
    config: {
        allowedRegistries: {
            type: "array",
            items: { type: "string" },
            default: ["*.dkr.ecr.*.amazonaws.com/*"],
            description: "Globs over `registry/repository` (`*` matches any run of characters).",
        },
    },
    types: POD_TYPES,
    admission: {
        kinds: "workloads",
        validations: ({ config }) => {
            const allowed = celStrings(config.allowedRegistries.map((g) => `(?i)${globRegex(g).source.replace(/\\\//g, "/")}`));
            return [
                {
                    expression: `variables.containers.all(c, ${allowed}.exists(r, ${REPOSITORY_OF_C}.matches(r)))`,
                    messageExpression: celMessage(
                        "image-registry-allowed",
                        `' pulls ' + variables.containers.filter(c, !${allowed}.exists(r, ${REPOSITORY_OF_C}.matches(r))).map(c, c.image).join(', ') + ', not from an allowed registry (${config.allowedRegistries.join(", ")}).'`,
                    ),
                },
            ];
        },
    },
    check: ({ type, props }, config) => {
        const allowed = config.allowedRegistries.map(globRegex);
        return checkImages(type, props, (image, parsed, c) => {
            if (!parsed) return `${c.label} has the malformed image reference "${image}".`;
            const where = `${parsed.registry}/${parsed.repository}`;
            return allowed.some((re) => re.test(where))
                ? undefined
                : `${c.label} pulls ${where}, which is not in an allowed registry (${config.allowedRegistries.join(", ")}).`;
        });
    },
});
