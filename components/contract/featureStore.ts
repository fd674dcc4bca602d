/**
 * Names and prefixes of the feature store (Feast) and of the teams' TensorBoards: where in the artifact
 * bucket a team's feature registry, offline data and training-run logs live, the ports the feature
 * server listens on, and the service account names. The platform's FeatureStore and TensorBoard
 * components create what these name; the team guide and the teams' CI refer to them.
 */

/** Prefix of the artifact bucket the feature store owns: registries and offline data of every project. */
const FEATURE_STORE_PREFIX = "feast";

/** Prefix of a project's (a team's) Feast registry: `feast/registry/<project>`. */
export function featureRegistryPrefix(project: string): string {
    return `${FEATURE_STORE_PREFIX}/registry/${project}`;
}

/** Key of a project's Feast registry file (Feast's `file` registry on S3). */
export function featureRegistryKey(project: string): string {
    return `${featureRegistryPrefix(project)}/registry.db`;
}

/** Prefix of a project's offline feature data (Parquet files its FileSources point at): `feast/offline/<project>`. */
export function featureOfflinePrefix(project: string): string {
    return `${FEATURE_STORE_PREFIX}/offline/${project}`;
}

/** Port of the Feast feature server (`feast serve`, HTTP). */
export const FEATURE_SERVER_PORT = 6566;
/** Port of the feature server's Prometheus endpoint (`feast serve --metrics`; Feast's fixed port). */
export const FEATURE_SERVER_METRICS_PORT = 8000;
/** Port of the in-cluster Redis (dev) and of ElastiCache (test, prod). */
export const REDIS_PORT = 6379;

/** Prefix of a team's training-run logs (TensorBoard event files): `teams/<team>/tensorboard`. */
export function tensorboardLogPrefix(team: string): string {
    return `teams/${team}/tensorboard`;
}

/** Service account of a team's TensorBoard (its IRSA role reads the team's log prefix only). */
export const TENSORBOARD_SERVICE_ACCOUNT = "tensorboard";
/** Name of a team's TensorBoard Deployment and Service in its namespace. */
export const TENSORBOARD_NAME = "tensorboard";
/** Secret in a team's namespace with the TensorBoard sign-in (keys `username`, `password`). */
export const TENSORBOARD_CREDENTIALS_SECRET = "tensorboard-credentials";
/** Port the TensorBoard Service exposes: the authenticating proxy's (TensorBoard itself listens on loopback only). */
export const TENSORBOARD_PORT = 8443;
