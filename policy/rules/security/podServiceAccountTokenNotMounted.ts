import { celMessage } from "../../framework/admission";
import { definePodPolicy } from "./podCommon";

/** Pods do not mount a Kubernetes API token unless they say they need one. */
export const podServiceAccountTokenNotMounted = definePodPolicy<Record<string, never>>({
    meta: {
        name: "pod-service-account-token-not-mounted",
        title: "Pods do not mount a service-account token",
        description: "Every pod template sets `automountServiceAccountToken: false` (IRSA's AWS token is a separate projected volume and is not affected).",
        rationale:
            "A mounted token lets anything that runs in the pod call the Kubernetes API as its service account; model servers and batch jobs never need to, so a compromised model or dependency must not get a credential for the cluster.",
        severity: "medium",
        remediation: "Set `automountServiceAccountToken: false` on the pod spec (every component of the platform does).",
        controls: [
            { framework: "CIS-K8S", control: "5.1.6" },
            { framework: "NSA-CISA-K8S", control: "Service accounts" },
            { framework: "NIST-800-53", control: "AC-6" },
        ],
    },
    config: {},
    admission: {
        kinds: "workloads",
        validations: () => [
            {
                expression: "has(variables.podSpec.automountServiceAccountToken) && variables.podSpec.automountServiceAccountToken == false",
                messageExpression: celMessage(
                    "pod-service-account-token-not-mounted",
                    "' mounts a service-account token: set automountServiceAccountToken: false on its pod spec.'",
                ),
            },
        ],
    },
    check: (pod) =>
        pod.spec.automountServiceAccountToken === false ? [] : ["mounts a service-account token: set automountServiceAccountToken: false on its pod spec."],
});
