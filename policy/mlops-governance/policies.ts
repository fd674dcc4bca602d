/** The governance pack: who approved what runs in prod, ownership, environment separation, image provenance. */
import { definePack } from "../lib/define";
import { awsOwnershipTags } from "../lib/rules/governance/awsOwnershipTags";
import { environmentMatchesStack } from "../lib/rules/governance/environmentMatchesStack";
import { imageDigestPinned } from "../lib/rules/governance/imageDigestPinned";
import { imageRegistryAllowed } from "../lib/rules/governance/imageRegistryAllowed";
import { imageTagNotLatest } from "../lib/rules/governance/imageTagNotLatest";
import { kubernetesOwnershipLabels } from "../lib/rules/governance/kubernetesOwnershipLabels";
import { modelApprovalRecord } from "../lib/rules/governance/modelApprovalRecord";
import { modelVersionPinned } from "../lib/rules/governance/modelVersionPinned";
import { noCrossEnvironmentReferences } from "../lib/rules/governance/noCrossEnvironmentReferences";

export const pack = definePack({
    name: "mlops-governance",
    description: "MLOps platform governance: approved and pinned production models, ownership tags and labels, environment separation, image provenance.",
    policies: [
        modelApprovalRecord,
        modelVersionPinned,
        awsOwnershipTags,
        kubernetesOwnershipLabels,
        environmentMatchesStack,
        noCrossEnvironmentReferences,
        imageRegistryAllowed,
        imageTagNotLatest,
        imageDigestPinned,
    ],
});
