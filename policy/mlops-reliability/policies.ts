/** The reliability pack: highly available prod workloads, protected state, well-behaved batch jobs, monitored models. */
import { definePack } from "../lib/define";
import { containerEphemeralStorageSet } from "../lib/rules/reliability/containerEphemeralStorageSet";
import { cronjobBackoffBounded } from "../lib/rules/reliability/cronjobBackoffBounded";
import { cronjobDeadlinesSet } from "../lib/rules/reliability/cronjobDeadlinesSet";
import { cronjobHistoryBounded } from "../lib/rules/reliability/cronjobHistoryBounded";
import { cronjobNoConcurrentRuns } from "../lib/rules/reliability/cronjobNoConcurrentRuns";
import { deploymentReplicasHa } from "../lib/rules/reliability/deploymentReplicasHa";
import { gpuScheduling } from "../lib/rules/reliability/gpuScheduling";
import { jobRunsBounded } from "../lib/rules/reliability/jobRunsBounded";
import { modelAlertsDefined } from "../lib/rules/reliability/modelAlertsDefined";
import { modelWorkloadMonitored } from "../lib/rules/reliability/modelWorkloadMonitored";
import { statefulResourcesProtected } from "../lib/rules/reliability/statefulResourcesProtected";
import { workloadHasPdb } from "../lib/rules/reliability/workloadHasPdb";

export const pack = definePack({
    name: "mlops-reliability",
    description: "MLOps platform reliability: replicas and disruption budgets in prod, protected state, bounded Jobs and CronJobs, monitored and alerted model workloads.",
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
