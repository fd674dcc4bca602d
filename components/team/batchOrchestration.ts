/**
 * Batch runs started by a pipeline orchestrator (Airflow, Prefect, Dagster, Kubeflow Pipelines) instead
 * of a schedule: the BatchInference's CronJob is kept suspended as the run template, and the service
 * accounts the platform configuration names for the team (`mlops:teams[].orchestrators`) get a Role in
 * the team's namespace to start runs of it (`kubectl create job --from=cronjob/<job>`: read the CronJob,
 * create a Job) and follow them (Jobs, their pods and logs). Nothing else: they cannot change the
 * template, and a Job they create runs as the template says (the team's batch identity and image).
 */
import type * as k8s from "@pulumi/kubernetes";

/** A service account of an orchestrator, in its own namespace. */
export interface OrchestratorAccount {
    readonly namespace: string;
    readonly serviceAccount: string;
}

/** What a run starter may do in the team's namespace. */
export function batchRunStarterRules(): k8s.types.input.rbac.v1.PolicyRule[] {
    return [
        { apiGroups: ["batch"], resources: ["cronjobs"], verbs: ["get", "list", "watch"] },
        { apiGroups: ["batch"], resources: ["jobs"], verbs: ["get", "list", "watch", "create", "delete"] },
        { apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch"] },
        { apiGroups: [""], resources: ["pods/log"], verbs: ["get"] },
    ];
}

/** The RoleBinding's subjects. */
export function orchestratorSubjects(accounts: readonly OrchestratorAccount[]): k8s.types.input.rbac.v1.Subject[] {
    return accounts.map((a) => ({ kind: "ServiceAccount", name: a.serviceAccount, namespace: a.namespace }));
}

/** How a BatchInference's runs start. */
export type BatchTrigger = "schedule" | "orchestrator";

/** Problems of `trigger` (empty when fine). */
export function triggerProblems(trigger: unknown, suspend: unknown): string[] {
    if (trigger === undefined || trigger === "schedule") return [];
    if (trigger !== "orchestrator") return [`trigger "${String(trigger)}" must be schedule or orchestrator`];
    if (suspend === false)
        return ["suspend: false contradicts trigger orchestrator (the CronJob is the orchestrator's suspended run template); remove suspend"];
    return [];
}
