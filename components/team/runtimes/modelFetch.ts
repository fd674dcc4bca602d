/**
 * The model download of the runtime presets that serve an artifact from the artifact store (onnx,
 * triton, torchserve): an init container that copies the artifact from the team's model prefix to a
 * volume the server reads, with the AWS CLI, as the pod's service account (the EKS pod identity webhook
 * gives every container of the pod, init containers included, the workload role's web identity: the
 * role may read `models/<team>/` and nothing else of the bucket).
 */
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { modelPrefix } from "../../contract";
import { restrictedContainerSecurityContext } from "../../shared/k8sHelpers";

/** Name of the volume the model is downloaded to. */
export const MODEL_VOLUME = "model";
/** Where the model volume is mounted, in the init container and the server. */
export const MODEL_DIR = "/models";
/** Default size limit of the model volume. */
export const DEFAULT_MODEL_VOLUME_SIZE = "4Gi";

/** How the artifact is copied: one object to a file, or a prefix (directory) to a directory. */
export type FetchMode = "file" | "directory";

/** Problems of an `artifactPath` (empty when fine). */
export function artifactPathProblems(path: unknown, suffix: string | undefined, what: string): string[] {
    if (typeof path !== "string" || path === "") return [`runtime.artifactPath must name the ${what} under the team's model prefix`];
    if (path.startsWith("/") || path.startsWith("s3://"))
        return [
            `runtime.artifactPath "${path}" must be relative to the team's model prefix (models/<team>/), like fraud-scorer/12/${suffix ? `model${suffix}` : "repository"}`,
        ];
    if (path.split("/").some((s) => s === ".." || s === ".") || !/^[A-Za-z0-9._/-]+$/.test(path)) {
        return [`runtime.artifactPath "${path}" may hold only letters, digits, ., _, - and /, and no . or .. segments`];
    }
    if (suffix && !path.endsWith(suffix)) return [`runtime.artifactPath "${path}" must name a ${suffix} file (${what})`];
    return [];
}

/** The S3 URI of an artifact of a team. */
export function artifactS3Uri(bucket: pulumi.Input<string>, team: string, artifactPath: string): pulumi.Output<string> {
    return pulumi.interpolate`s3://${bucket}/${modelPrefix(team)}/${artifactPath.replace(/\/+$/, "")}`;
}

/** The AWS CLI arguments of the copy (after `aws`): `s3 cp <uri> <file>` or `s3 sync <uri>/ <dir>/`. */
export function fetchArgs(source: pulumi.Input<string>, target: string, mode: FetchMode): pulumi.Output<string[]> {
    return pulumi
        .output(source)
        .apply((uri) =>
            mode === "file"
                ? ["s3", "cp", "--only-show-errors", uri, target]
                : ["s3", "sync", "--only-show-errors", "--exact-timestamps", `${uri}/`, `${target}/`],
        );
}

/** The download init container, and the model volume it fills. */
export function modelFetch(o: { image: pulumi.Input<string>; source: pulumi.Input<string>; target: string; mode: FetchMode; uid: number; sizeLimit: string }): {
    initContainer: k8s.types.input.core.v1.Container;
    volume: k8s.types.input.core.v1.Volume;
    mount: k8s.types.input.core.v1.VolumeMount;
} {
    const mount = { name: MODEL_VOLUME, mountPath: MODEL_DIR };
    return {
        initContainer: {
            name: "model-download",
            image: o.image,
            imagePullPolicy: "IfNotPresent",
            command: ["aws"],
            args: fetchArgs(o.source, o.target, o.mode),
            // The CLI writes its cache under HOME; the root filesystem is read-only.
            env: [
                { name: "HOME", value: "/tmp" },
                { name: "AWS_RETRY_MODE", value: "standard" },
                { name: "AWS_MAX_ATTEMPTS", value: "5" },
            ],
            securityContext: restrictedContainerSecurityContext(o.uid),
            volumeMounts: [mount, { name: "tmp", mountPath: "/tmp" }],
        },
        volume: { name: MODEL_VOLUME, emptyDir: { sizeLimit: o.sizeLimit } },
        mount: { ...mount, readOnly: true },
    };
}
