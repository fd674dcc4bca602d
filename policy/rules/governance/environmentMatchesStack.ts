import { AWS_TAGS, ORG_LABELS } from "../../../components/contract";
import { effectiveTags, providerDefaultTags } from "../../readers/aws";
import { isTaggableAwsType } from "../../readers/awsTaggable";
import { defineStackPolicy, evaluateEach, skip } from "../../framework/define";
import { isKubernetesObjectType, objectRef, orgKeyName, orgValue, podTemplate } from "../../readers/k8s";

/** The environment tags and labels of every resource name the stack's own environment. */
export const environmentMatchesStack = defineStackPolicy<Record<string, never>>({
    meta: {
        name: "environment-matches-stack",
        pack: "mlops-governance",
        title: "Environment tags match the stack",
        description:
            "The `environment` tag of every AWS resource (counting provider default tags), the default tags of every AWS provider, and the `mlops.<domain>/environment` label of every Kubernetes object and pod template equal the environment of the stack being deployed (from the stack name).",
        rationale:
            "A prod stack whose resources say `dev` (a copied config) is billed, alerted on and cleaned up as dev: a clean-up job for dev may delete production data.",
        severity: "medium",
        remediation: "Set `mlops:environment` in Pulumi.<stack>.yaml to the stack's environment; tags and labels are derived from it.",
        controls: [
            { framework: "NIST-800-53", control: "CM-8" },
            { framework: "NIST-800-53", control: "CM-6" },
        ],
        topics: ["ownership", "environments"],
        protectsData: false,
        appliesTo: ["taggable aws:* resources", "pulumi:providers:aws", "every kubernetes:* object"],
    },
    config: {},
    check: (resources, _config, ctx) => {
        const env = ctx.environment ?? skip(`the stack's environment is not known (stack "${ctx.stack ?? ""}")`);
        const subjects = resources.filter((r) => r.type === "pulumi:providers:aws" || isTaggableAwsType(r.type) || isKubernetesObjectType(r.type));
        return evaluateEach(subjects, (r) => {
            if (r.type === "pulumi:providers:aws") {
                const tag = providerDefaultTags(r)[AWS_TAGS.environment];
                return tag !== undefined && tag !== env ? [`provider ${r.name} tags everything environment=${String(tag)} in the ${env} stack.`] : [];
            }
            if (r.type.startsWith("aws:")) {
                const tag = effectiveTags(r)[AWS_TAGS.environment];
                return tag !== undefined && tag !== env ? [`${r.type} "${r.name}" is tagged environment=${String(tag)} in the ${env} stack.`] : [];
            }
            const problems: string[] = [];
            const key = orgKeyName(ORG_LABELS.environment, ctx.labelDomain);
            const own = orgValue(r.props.metadata?.labels, ORG_LABELS.environment, ctx.labelDomain);
            if (own !== undefined && own !== env) problems.push(`${objectRef(r.type, r.props, r.name)} is labelled ${key}=${String(own)} in the ${env} stack.`);
            const pod = podTemplate(r.type, r.props);
            const inPod = orgValue(pod?.metadata?.labels, ORG_LABELS.environment, ctx.labelDomain);
            if (inPod !== undefined && inPod !== env)
                problems.push(`${objectRef(r.type, r.props, r.name)}: its pods are labelled ${key}=${String(inPod)} in the ${env} stack.`);
            return problems;
        });
    },
});
