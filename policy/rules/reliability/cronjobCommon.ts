export const CRONJOB_TYPES = ["kubernetes:batch/v1:CronJob"];
/** `CronJob mlflow/mlflow-gc`. */
export const cronRef = (props: Record<string, any>): string => `CronJob ${props.metadata?.namespace ?? "default"}/${props.metadata?.name ?? "(unnamed)"}`;
