import { celMessage } from "../../framework/admission";
/** CEL over container `c`: not the latest tag, and a tag or a digest. */
const PINNED = "!c.image.matches(':latest(@|$)') && (c.image.contains('@') || c.image.matches(':[^/@]+$'))";
import { defineResourcePolicy } from "../../framework/define";
import { POD_TYPES } from "../../readers/k8s";
import { checkImages, IMAGE_APPLIES_TO } from "./imageCommon";

/** No image is deployed as `latest`, explicitly or implicitly. */
export const imageTagNotLatest = defineResourcePolicy<Record<string, never>>({
    meta: {
        name: "image-tag-not-latest",
        pack: "mlops-governance",
        title: "Images are never latest",
        description: "No container image uses the `latest` tag or omits both tag and digest (which means latest).",
        rationale:
            "`latest` changes under a running Deployment: two pods of one ReplicaSet can run different code, a node restart silently upgrades, and a rollback restores nothing.",
        severity: "high",
        remediation: "Deploy an immutable version tag, or better a digest (`repo@sha256:...`, what ContainerImage.imageRef gives).",
        controls: [
            { framework: "NIST-800-53", control: "CM-2" },
            { framework: "SOC2", control: "CC8.1" },
        ],
        topics: ["supply-chain", "images", "reproducibility"],
        protectsData: false,
        appliesTo: IMAGE_APPLIES_TO,
    },
    config: {},
    types: POD_TYPES,
    admission: {
        kinds: "workloads",
        validations: () => [
            {
                expression: `variables.containers.all(c, ${PINNED})`,
                messageExpression: celMessage(
                    "image-tag-not-latest",
                    `' runs ' + variables.containers.filter(c, !(${PINNED})).map(c, c.image).join(', ') + ' with the latest tag, or without tag or digest (which means latest): pin a version or digest.'`,
                ),
            },
        ],
    },
    check: ({ type, props }) =>
        checkImages(type, props, (image, parsed, c) => {
            if (!parsed) return undefined; // image-registry-allowed reports malformed references
            if (parsed.tag === "latest") return `${c.label} uses "${image}" with the latest tag: pin a version or digest.`;
            if (!parsed.tag && !parsed.digest) return `${c.label} uses "${image}" without tag or digest, which means latest: pin a version or digest.`;
            return undefined;
        }),
});
