/** The governance pack: who approved what runs in prod, ownership, environment separation, image provenance. */
import { definePack } from "../framework/define";
import { awsOwnershipTags } from "../rules/governance/awsOwnershipTags";
import { environmentMatchesStack } from "../rules/governance/environmentMatchesStack";
import { imageDigestPinned } from "../rules/governance/imageDigestPinned";
import { imageRegistryAllowed } from "../rules/governance/imageRegistryAllowed";
import { imageTagNotLatest } from "../rules/governance/imageTagNotLatest";
import { kubernetesOwnershipLabels } from "../rules/governance/kubernetesOwnershipLabels";
import { modelApprovalRecord } from "../rules/governance/modelApprovalRecord";
import { modelVersionPinned } from "../rules/governance/modelVersionPinned";
import { noCrossEnvironmentReferences } from "../rules/governance/noCrossEnvironmentReferences";

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
