/**
 * The platform's pod contract on a real node (e2e/lib/node.ts): kubelet, containerd and runc run a pod
 * under the security context the components render (restrictedPodSecurityContext /
 * restrictedContainerSecurityContext: non-root numeric UID, read-only root filesystem, every capability
 * dropped, RuntimeDefault seccomp) with an emptyDir /tmp, and it becomes Ready; a Service selects it,
 * gets its endpoint and answers on its ClusterIP (kube-proxy), from the machine and from a pod; the namespace's Pod Security labels (podSecurityAdmissionLabels) refuse a pod that
 * breaks the restricted level; teardown leaves the machine as it found it.
 *
 * Opt-in (E2E_NODE=1; CI sets it) and gated on the machine: when it cannot run a node (not root, no
 * cgroups, no overlayfs, binaries missing) every test is reported as skipped with the reason in its name.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { podSecurityAdmissionLabels } from "../components/platform/servingNamespace";
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from "../components/shared/k8sHelpers";
import { diff, HostSnapshot } from "./lib/hostState";
import { LocalNode, NODE_SETUP_TIMEOUT_MS, nodeSupport, waitFor } from "./lib/node";
import * as path from "path";
import { buildPythonImage, BuiltImage } from "./lib/nodeImages";

const UID = 10001;

function gate(): string | undefined {
    if (process.env.E2E_NODE !== "1") return "E2E_NODE is not 1 (the real-node suite is opt-in: E2E_NODE=1 npm run test:e2e)";
    const support = nodeSupport();
    return support.ok ? undefined : `this machine cannot run a node: ${support.reasons.join("; ")}`;
}

const skipReason = gate();
if (skipReason) console.warn(`[node.e2e] SKIPPED: ${skipReason}`);

describe.skipIf(skipReason !== undefined)(skipReason ? `real node (SKIPPED: ${skipReason})` : "real node", () => {
    let node: LocalNode;
    let before: HostSnapshot;
    let image: BuiltImage;
    let stopped: string[] | undefined;

    beforeAll(async () => {
        // The base layer plus a virtualenv from a pinned lock and the numeric user, as the application images.
        image = buildPythonImage({
            name: "node-web",
            lock: path.join(__dirname, "fixtures", "node-web.requirements.lock"),
            uid: UID,
            userName: "app",
            cmd: ["python", "-m", "http.server", "8080"],
        });
        node = await LocalNode.start();
        before = node.machineBefore;
        node.importImage(image.archive);
        node.kubectl(
            ["apply", "-f", "-"],
            JSON.stringify({
                apiVersion: "v1",
                kind: "Namespace",
                metadata: { name: "team-e2e", labels: podSecurityAdmissionLabels("restricted") },
            }),
        );
        await waitFor(
            "the team namespace's default service account",
            60_000,
            () => node.kubectlJson(["get", "serviceaccount", "default", "-n", "team-e2e"]).metadata?.name === "default",
        );
    }, NODE_SETUP_TIMEOUT_MS);

    afterAll(async () => {
        if (node && stopped === undefined) {
            const left = await node.stop();
            if (left.length > 0) console.error(`[node.e2e] teardown left: ${left.join("; ")}`);
        }
    });

    /** A web server writing its page into the emptyDir /tmp, under the platform's restricted contexts. */
    function webPod(name: string) {
        return {
            apiVersion: "v1",
            kind: "Pod",
            metadata: { name, namespace: "team-e2e", labels: { app: "web" } },
            spec: {
                automountServiceAccountToken: false,
                securityContext: restrictedPodSecurityContext(UID),
                containers: [
                    {
                        name: "web",
                        image: image.ref,
                        imagePullPolicy: "Never",
                        command: ["/bin/sh", "-c", "echo ready > /tmp/index.html && exec python -m http.server 8080 --directory /tmp"],
                        ports: [{ name: "http", containerPort: 8080 }],
                        securityContext: restrictedContainerSecurityContext(UID),
                        readinessProbe: { httpGet: { path: "/index.html", port: "http" }, periodSeconds: 2 },
                        resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { cpu: "200m", memory: "128Mi" } },
                        volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
                    },
                ],
                volumes: [{ name: "tmp", emptyDir: { sizeLimit: "16Mi" } }],
            },
        };
    }

    it("runs a pod under the restricted security context and it becomes Ready", async () => {
        node.kubectl(["apply", "-f", "-"], JSON.stringify(webPod("web")));
        const pod = await waitFor(
            "pod web Ready",
            120_000,
            () => {
                const p = node.kubectlJson(["get", "pod", "web", "-n", "team-e2e"]);
                return p.status?.conditions?.some((c: any) => c.type === "Ready" && c.status === "True") ? p : undefined;
            },
            () => JSON.stringify(node.kubectlJson(["get", "pod", "web", "-n", "team-e2e"]).status, null, 1) + node.log("kubelet"),
        );
        // Served from the pod's IP on the node's private bridge (no kube-proxy, no masquerade).
        const res = await fetch(`http://${pod.status.podIP}:8080/index.html`);
        expect(await res.text()).toBe("ready\n");
        // What the process really runs as, seen from inside the container.
        const exec = (script: string) => node.kubectl(["exec", "-n", "team-e2e", "web", "--", "/bin/sh", "-c", script]).trim();
        expect(exec("id -u; id -g; id -un")).toBe(`${UID}\n${UID}\napp`);
        // The image's virtualenv, from the lock, is what `python` runs.
        expect(exec("command -v python; python -c 'import importlib.metadata as m; print(m.version(\"prometheus-client\"))'")).toBe(
            "/opt/venv/bin/python\n0.22.1",
        );
        expect(exec("grep -E '^(CapEff|CapBnd|CapPrm):' /proc/self/status | awk '{print $2}' | sort -u")).toBe("0000000000000000");
        expect(exec("grep '^NoNewPrivs:' /proc/self/status | awk '{print $2}'")).toBe("1");
        expect(exec("grep '^Seccomp:' /proc/self/status | awk '{print $2}'")).toBe("2");
        expect(exec("touch /etc/probe 2>&1 || true")).toMatch(/Read-only file system/);
        expect(exec("touch /tmp/probe && echo writable")).toBe("writable");
    });

    it("gives a Service selecting the pod its endpoint, and the Service answers on its ClusterIP", async () => {
        node.kubectl(
            ["apply", "-f", "-"],
            JSON.stringify({
                apiVersion: "v1",
                kind: "Service",
                metadata: { name: "web", namespace: "team-e2e" },
                spec: { selector: { app: "web" }, ports: [{ name: "http", port: 80, targetPort: "http" }] },
            }),
        );
        const podIP = node.kubectlJson(["get", "pod", "web", "-n", "team-e2e"]).status.podIP;
        const endpoints = await waitFor("the Service's ready endpoint", 60_000, () => {
            const slices = node.kubectlJson(["get", "endpointslices", "-n", "team-e2e", "-l", "kubernetes.io/service-name=web"]).items;
            const ready = slices.flatMap((s: any) => (s.endpoints ?? []).filter((e: any) => e.conditions?.ready).flatMap((e: any) => e.addresses));
            return ready.length > 0 ? { ready, port: slices[0].ports?.[0]?.port } : undefined;
        });
        expect(endpoints.ready).toEqual([podIP]);
        expect(endpoints.port).toBe(8080);
        // kube-proxy's rules: the ClusterIP's port 80 reaches the pod's named port.
        const clusterIP = node.kubectlJson(["get", "service", "web", "-n", "team-e2e"]).spec.clusterIP;
        const body = await waitFor("the Service answering on its ClusterIP", 30_000, async () => {
            const res = await fetch(`http://${clusterIP}/index.html`, { signal: AbortSignal.timeout(2000) });
            return res.ok ? res.text() : undefined;
        });
        expect(body).toBe("ready\n");
        // From inside a pod too: the node routes the Services' range to kube-proxy's rules (the pod's own Service here).
        const fromPod = node.kubectl([
            "exec",
            "-n",
            "team-e2e",
            "web",
            "--",
            "python",
            "-c",
            `import urllib.request; print(urllib.request.urlopen("http://${clusterIP}/index.html", timeout=5).read().decode(), end="")`,
        ]);
        expect(fromPod).toBe("ready\n");
    });

    it("refuses a pod that breaks the namespace's restricted Pod Security level", () => {
        const bad = webPod("root-web");
        bad.spec.securityContext = { ...bad.spec.securityContext, runAsNonRoot: false, runAsUser: 0 } as any;
        bad.spec.containers[0].securityContext = {
            ...bad.spec.containers[0].securityContext,
            runAsNonRoot: false,
            runAsUser: 0,
            capabilities: { drop: [] },
        } as any;
        expect(() => node.kubectl(["apply", "-f", "-"], JSON.stringify(bad))).toThrow(
            /forbidden: violates PodSecurity "restricted:latest".*runAsNonRoot != false|forbidden: violates PodSecurity "restricted:latest"/s,
        );
        expect(() => node.kubectl(["get", "pod", "root-web", "-n", "team-e2e"])).toThrow(/NotFound/);
    });

    it("tears down and leaves the machine as it found it (sysctls, iptables, mounts, fixed directories, bridge, cgroups)", async () => {
        const root = node.root;
        const apiDir = node.api!.dataDir;
        stopped = await node.stop();
        expect(stopped).toEqual([]);
        expect(diff(before)).toEqual([]);
        const fs = await import("fs");
        expect(fs.existsSync(root)).toBe(false);
        expect(fs.existsSync(apiDir)).toBe(false);
        expect(fs.readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(root);
    });
});
