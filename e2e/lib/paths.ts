/**
 * Where the end-to-end tier finds what e2e/setup/install.sh installed or built: one cache directory
 * (~/.cache/mlops-e2e, or $E2E_CACHE) shared by every suite and kept between runs.
 */
import * as os from "os";
import * as path from "path";

/** The pinned Kubernetes release the tier builds (e2e/setup/build-kube.sh reads the same variable). */
export const KUBE_VERSION = process.env.KUBE_VERSION ?? "v1.32.13";

/** The tier's cache directory. */
export const E2E_CACHE = process.env.E2E_CACHE ?? path.join(os.homedir(), ".cache", "mlops-e2e");

/** A Kubernetes binary built by e2e/setup/build-kube.sh. */
export function kubeBinary(name: "kube-apiserver" | "kubectl" | "kubelet" | "kube-scheduler" | "kube-controller-manager" | "kube-proxy"): string {
    return path.join(E2E_CACHE, `kube-${KUBE_VERSION}`, "bin", name);
}

/**
 * The prometheus-operator release whose CRDs the tier installs (e2e/setup/prometheus-operator-crds.sh
 * reads the same variable; see there why it is v0.86.1 for kube-prometheus-stack 79.7.1's v0.86.2).
 */
export const PROMETHEUS_OPERATOR_VERSION = process.env.PROMETHEUS_OPERATOR_VERSION ?? "v0.86.1";

/** Directory of the cached prometheus-operator CRD manifests (monitoring.coreos.com_*.yaml). */
export function prometheusOperatorCrdDir(): string {
    return path.join(E2E_CACHE, `prometheus-operator-crds-${PROMETHEUS_OPERATOR_VERSION}`);
}
