/** Shared by the image policies: parsing image references and visiting every container's image. */
import { containersOf, type ContainerRef } from "../../readers/k8s";
import { checkPod } from "../security/podCommon";

export interface ImageReference {
    /** Registry host (`docker.io` when the reference names none). */
    readonly registry: string;
    /** Repository path (`library/postgres` for an official Docker Hub image). */
    readonly repository: string;
    readonly tag?: string;
    /** `sha256:<64 hex>`. */
    readonly digest?: string;
}

/** Parses `registry/repo[:tag][@sha256:digest]` the way container runtimes do; undefined if malformed. */
export function parseImage(ref: string): ImageReference | undefined {
    if (typeof ref !== "string" || ref.trim() === "" || /\s/.test(ref)) return undefined;
    let rest = ref;
    let digest: string | undefined;
    const at = rest.indexOf("@");
    if (at >= 0) {
        digest = rest.slice(at + 1);
        rest = rest.slice(0, at);
        if (!/^sha256:[a-f0-9]{64}$/.test(digest)) return undefined;
    }
    let tag: string | undefined;
    const lastSlash = rest.lastIndexOf("/");
    const colon = rest.lastIndexOf(":");
    if (colon > lastSlash) {
        tag = rest.slice(colon + 1);
        rest = rest.slice(0, colon);
        if (!/^[\w][\w.-]{0,127}$/.test(tag)) return undefined;
    }
    const parts = rest.split("/");
    let registry = "docker.io";
    if (parts.length > 1 && (parts[0].includes(".") || parts[0].includes(":") || parts[0] === "localhost")) registry = parts.shift()!;
    let repository = parts.join("/");
    if (registry === "docker.io" && parts.length === 1) repository = `library/${repository}`;
    if (!/^[a-z0-9]+([._-][a-z0-9]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/.test(repository)) return undefined;
    return { registry, repository, tag, digest };
}

/** Visits every container image of a pod-bearing object; `fn` returns problems for one image. */
export function checkImages(
    type: string,
    props: Record<string, any>,
    fn: (image: string, parsed: ImageReference | undefined, c: ContainerRef) => string | undefined,
): string[] {
    return checkPod(type, props, (pod) =>
        containersOf(pod.spec).flatMap((c) => {
            const image = c.container.image;
            if (typeof image !== "string") return [`${c.label} has no image.`];
            const problem = fn(image, parseImage(image), c);
            return problem ? [problem] : [];
        }),
    );
}

export const IMAGE_APPLIES_TO = ["Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"].map(
    (k) => `${k} (containers, initContainers)`,
);
