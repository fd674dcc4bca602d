/** The reliability pack: highly available prod workloads, protected state, well-behaved batch jobs, monitored models. */
import { definePack } from "../framework/define";
import { containerEphemeralStorageSet } from "../rules/reliability/containerEphemeralStorageSet";
import { cronjobBackoffBounded } from "../rules/reliability/cronjobBackoffBounded";
import { cronjobDeadlinesSet } from "../rules/reliability/cronjobDeadlinesSet";
import { cronjobHistoryBounded } from "../rules/reliability/cronjobHistoryBounded";
import { cronjobNoConcurrentRuns } from "../rules/reliability/cronjobNoConcurrentRuns";
import { deploymentReplicasHa } from "../rules/reliability/deploymentReplicasHa";
import { gpuScheduling } from "../rules/reliability/gpuScheduling";
import { jobRunsBounded } from "../rules/reliability/jobRunsBounded";
import { modelAlertsDefined } from "../rules/reliability/modelAlertsDefined";
import { modelWorkloadMonitored } from "../rules/reliability/modelWorkloadMonitored";
import { statefulResourcesProtected } from "../rules/reliability/statefulResourcesProtected";
import { workloadHasPdb } from "../rules/reliability/workloadHasPdb";

export const pack = definePack({
    name: "mlops-reliability",
    description:
        "MLOps platform reliability: replicas and disruption budgets in prod, protected state, bounded Jobs and CronJobs, monitored and alerted model workloads.",
    policies: [
        deploymentReplicasHa,
        workloadHasPdb,
        statefulResourcesProtected,
        cronjobNoConcurrentRuns,
        cronjobDeadlinesSet,
        cronjobBackoffBounded,
        cronjobHistoryBounded,
        jobRunsBounded,
        modelWorkloadMonitored,
        modelAlertsDefined,
        containerEphemeralStorageSet,
        gpuScheduling,
    ],
});
