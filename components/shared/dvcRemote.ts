/**
 * A team's DVC remote on the artifact store: the settings a team project needs (remote URL, region,
 * endpoint, the training identity that reaches it) and the `.dvc/config` that names it. Pure: the
 * platform stack exports them per team (`teams.<team>.dvc`), `readPlatform` hands them to team stacks.
 *
 * The remote is the prefix `teams/<team>/dvc/` of the artifact bucket (contract/training.ts). Only the
 * team's training identity may read and write it: the IRSA role of the `training` service account of
 * its serving namespace (ServingNamespace), so DVC runs inside that namespace (a TrainingJob, or a pod of
 * the team running as `training`) with the credentials IRSA injects; `.dvc/config` carries no secret.
 */
import { DVC_REMOTE_NAME, dvcPrefix } from "../contract";

/** What a team project needs to use its DVC remote. */
export interface DvcRemoteSettings {
    /** Name of the remote in `.dvc/config`. */
    readonly name: string;
    /** `s3://<bucket>/teams/<team>/dvc`. */
    readonly url: string;
    /** Prefix of the remote in the artifact bucket (`teams/<team>/dvc`). */
    readonly prefix: string;
    /** AWS region of the bucket. */
    readonly region: string;
    /** The regional S3 endpoint the remote is reached at. */
    readonly endpointUrl: string;
    /** The only identity that may read and write the remote: the IRSA role of the training service account. */
    readonly roleArn: string;
    /** Service account (in the team's namespace) whose pods get that role. */
    readonly serviceAccountName: string;
    /** The `.dvc/config` of a project using the remote (commit it; no secrets). */
    readonly config: string;
}

/** The regional S3 endpoint of a region (`https://s3.<region>.amazonaws.com`; `.com.cn` in China). */
export function s3Endpoint(region: string): string {
    return `https://s3.${region}.amazonaws.com${region.startsWith("cn-") ? ".cn" : ""}`;
}

/** The remote's URL: `s3://<bucket>/teams/<team>/dvc`. */
export function dvcRemoteUrl(bucketName: string, team: string): string {
    return `s3://${bucketName}/${dvcPrefix(team)}`;
}

/**
 * `.dvc/config` of a project whose default remote is the team's: the remote's URL, region and endpoint
 * (the format `dvc remote add -d` and `dvc remote modify` write).
 */
export function dvcConfigFile(s: Pick<DvcRemoteSettings, "name" | "url" | "region" | "endpointUrl">): string {
    return [
        "[core]",
        `    remote = ${s.name}`,
        `['remote "${s.name}"']`,
        `    url = ${s.url}`,
        `    region = ${s.region}`,
        `    endpointurl = ${s.endpointUrl}`,
        "",
    ].join("\n");
}

/** Every setting of a team's DVC remote. */
export function dvcRemoteSettings(o: { bucketName: string; team: string; region: string; roleArn: string; serviceAccountName: string }): DvcRemoteSettings {
    const base = { name: DVC_REMOTE_NAME, url: dvcRemoteUrl(o.bucketName, o.team), region: o.region, endpointUrl: s3Endpoint(o.region) };
    return { ...base, prefix: dvcPrefix(o.team), roleArn: o.roleArn, serviceAccountName: o.serviceAccountName, config: dvcConfigFile(base) };
}
