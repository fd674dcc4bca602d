import { celMessage } from "../../framework/admission";
import { defineResourcePolicy } from "../../framework/define";
import { POD_TYPES } from "../../readers/k8s";
import { checkImages, IMAGE_APPLIES_TO } from "./imageCommon";

/** Images are pinned by digest (test and prod by default). */
export const imageDigestPinned = defineResourcePolicy<Record<string, never>>({
    meta: {
        name: "image-digest-pinned",
        pack: "mlops-governance",
        title: "Images are pinned by digest",
        description: "Every container image reference carries a digest (`@sha256:<64 hex>`).",
        rationale: "A tag can be moved to other content; only a digest guarantees that test and prod run the bytes that were scanned and tested.",
        severity: "medium",
        remediation: "Deploy `repo@sha256:...` (ContainerImage.imageRef, or `mlops:mlflow.image` with a digest).",
        controls: [
            { framework: "NIST-800-53", control: "SI-7" },
            { framework: "NIST-800-53", control: "CM-2" },
            { framework: "SOC2", control: "CC8.1" },
        ],
        topics: ["supply-chain", "images", "reproducibility"],
        protectsData: false,
        appliesTo: IMAGE_APPLIES_TO,
    },
    config: {},
    environments: ["test", "prod"],
    types: POD_TYPES,
    admission: {
        kinds: "workloads",
        validations: () => [
            {
                expression: "variables.containers.all(c, c.image.matches('@sha256:[a-f0-9]{64}$'))",
                messageExpression: celMessage(
                    "image-digest-pinned",
                    "' runs ' + variables.containers.filter(c, !c.image.matches('@sha256:[a-f0-9]{64}$')).map(c, c.image).join(', ') + ' without a digest: deploy repo@sha256:<digest>.'",
                ),
            },
        ],
    },
    check: ({ type, props }) =>
        checkImages(type, props, (image, parsed, c) =>
            parsed?.digest ? undefined : `${c.label} uses "${image}" without a digest: deploy repo@sha256:<digest>.`,
        ),
});
