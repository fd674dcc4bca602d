import { defineResourcePolicy } from "../../framework/define";

const ECR_REPOSITORY = "aws:ecr/repository:Repository";

/** ECR repositories scan images on push, keep tags immutable and encrypt with KMS. */
export const ecrRepositoryHardened = defineResourcePolicy<Record<string, never>>({
    meta: {
        name: "ecr-repository-hardened",
        pack: "mlops-security",
        title: "ECR repositories scan on push, keep tags immutable and encrypt with KMS",
        description:
            "Every ECR repository sets `imageScanningConfiguration.scanOnPush: true`, `imageTagMutability: IMMUTABLE` (or `IMMUTABLE_WITH_EXCLUSION`) and `encryptionConfigurations` with `encryptionType: KMS`.",
        rationale:
            "Scanning on push finds known vulnerabilities before an image is deployed; an immutable tag cannot be re-pointed at other content after review (the digest an approval names stays the image the tag names); KMS encryption puts the images under the organisation's keys and their access log.",
        severity: "high",
        remediation:
            "Create repositories with ContainerImage (components/team/containerImage.ts), which sets all three; or set them on the aws.ecr.Repository.",
        controls: [
            { framework: "AWS-FSBP", control: "ECR.1" },
            { framework: "AWS-FSBP", control: "ECR.2" },
            { framework: "NIST-800-53", control: "RA-5" },
            { framework: "NIST-800-53", control: "SI-7" },
            { framework: "NIST-800-53", control: "SC-28" },
        ],
        topics: ["supply-chain", "images", "ecr", "encryption"],
        protectsData: false,
        appliesTo: [ECR_REPOSITORY],
    },
    config: {},
    types: [ECR_REPOSITORY],
    check: ({ props }) => {
        const problems: string[] = [];
        if (props.imageScanningConfiguration?.scanOnPush !== true)
            problems.push("ECR repository does not scan on push: set imageScanningConfiguration.scanOnPush: true.");
        const mutability = props.imageTagMutability ?? "MUTABLE";
        if (mutability !== "IMMUTABLE" && mutability !== "IMMUTABLE_WITH_EXCLUSION")
            problems.push(`ECR repository has ${mutability} tags: set imageTagMutability: IMMUTABLE.`);
        const encryption: any[] = Array.isArray(props.encryptionConfigurations) ? props.encryptionConfigurations : [];
        if (!encryption.some((e) => e?.encryptionType === "KMS" || e?.encryptionType === "KMS_DSSE")) {
            problems.push('ECR repository is not encrypted with KMS: set encryptionConfigurations: [{ encryptionType: "KMS" }].');
        }
        return problems;
    },
});
