import { OWNERSHIP_TAGS } from "../../../components/contract";
import { effectiveTags } from "../../readers/aws";
import { isTaggableAwsType } from "../../readers/awsTaggable";
import { defineStackPolicy, evaluateEach, skip } from "../../framework/define";

/** Every taggable AWS resource ends up with the ownership tags, counting the provider's default tags. */
export const awsOwnershipTags = defineStackPolicy<{ requiredTags: string[] }>({
    meta: {
        name: "aws-ownership-tags",
        pack: "mlops-governance",
        title: "AWS resources carry ownership tags",
        description:
            "Every taggable AWS resource (per the installed @pulumi/aws) has non-empty `owner`, `environment` and `cost-centre` tags (configurable), counting its provider's `defaultTags`: a stack policy joins each resource with the provider the engine sent with it.",
        rationale:
            "Untagged resources cannot be attributed: nobody is paged for them, their cost lands on no budget, and they outlive the project that created them.",
        severity: "medium",
        remediation:
            "Create the AWS provider with `defaultTags: { tags: awsDefaultTags(cfg) }` (components/platform/providers.ts) and pass it to every component; set missing tags on the resource's `tags` otherwise.",
        controls: [
            { framework: "NIST-800-53", control: "CM-8" },
            { framework: "SOC2", control: "CC1.3" },
        ],
        topics: ["ownership", "cost", "tagging"],
        protectsData: false,
        appliesTo: ["taggable aws:* resources", "pulumi:providers:aws (defaultTags)"],
        limitations: "A resource whose provider the engine does not send (older CLIs) is reported as not evaluated unless its own tags are complete.",
    },
    config: {
        requiredTags: { type: "array", items: { type: "string" }, default: [...OWNERSHIP_TAGS], description: "Tag keys every taggable resource must carry." },
    },
    check: (resources, config) =>
        evaluateEach(
            resources.filter((r) => isTaggableAwsType(r.type)),
            (r) => {
                const tags = effectiveTags(r);
                const missing = config.requiredTags.filter((k) => typeof tags[k] !== "string" || (tags[k] as string).trim() === "");
                if (missing.length === 0) return [];
                if (!r.provider) skip(`its provider was not sent, so its default tags are unknown (missing on the resource itself: ${missing.join(", ")})`);
                return [
                    `${r.type} "${r.name}" is missing the tag(s) ${missing.join(", ")}: set them in the defaultTags of provider ${r.provider.name} or on the resource.`,
                ];
            },
        ),
});
