/**
 * A team's TensorBoard under the recording engine: the read-only identity (list the team's prefix, get
 * its objects, decrypt; nothing else), TensorBoard on loopback behind the signing-in proxy whose
 * credentials come from a Secret, the Service exposing the proxy only, and the hardening of both containers.
 */
import { describe, expect, it } from "vitest";
import { TENSORBOARD_PORT, tensorboardLogPrefix } from "../components/contract";
import { authProxyArgs, TensorBoard, tensorboardArgs, tensorboardReadPolicy } from "../components/platform/tensorBoard";
import { policyOf, runProgram } from "./harness";

const BUCKET = { bucketArn: "arn:aws:s3:::acme-dev-artifacts", kmsKeyArn: "arn:aws:kms:eu-west-1:210987654321:key/k" };

describe("TensorBoard", async () => {
    const run = await runProgram(
        () =>
            new TensorBoard("team-fraud-tensorboard", {
                team: "fraud",
                namespace: "ml-fraud",
                labels: { labelDomain: "acme.io", owner: "platform", environment: "dev", costCentre: "CC-1" },
                image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/acme/mlops/tensorboard:2.21.0",
                artifactStore: { bucketName: "acme-dev-artifacts", ...BUCKET },
                oidcProviderArn: "arn:aws:iam::210987654321:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE0123456789",
                roleName: "acme-dev-tensorboard-fraud",
                reloadIntervalSeconds: 60,
                replicas: 2,
                resources: { cpuRequest: "50m", memoryRequest: "256Mi", cpuLimit: "500m", memoryLimit: "1Gi" },
            }),
    );
    const objects = run.k8s().map((o) => o.object as any);
    const deployment = objects.find((o) => o.kind === "Deployment");
    const [tensorboard, proxy] = deployment.spec.template.spec.containers;

    it("reads the team's run logs only: ListBucket on the prefix, GetObject under it, Decrypt with the bucket key", () => {
        expect(tensorboardLogPrefix("fraud")).toBe("teams/fraud/tensorboard");
        const doc = policyOf(run.inputs(run.one("aws:iam/rolePolicy:RolePolicy")).policy);
        expect(doc.Statement).toEqual([
            {
                Sid: "ListRunLogs",
                Effect: "Allow",
                Action: "s3:ListBucket",
                Resource: BUCKET.bucketArn,
                Condition: { StringLike: { "s3:prefix": ["teams/fraud/tensorboard", "teams/fraud/tensorboard/*"] } },
            },
            { Sid: "ReadRunLogs", Effect: "Allow", Action: "s3:GetObject", Resource: `${BUCKET.bucketArn}/teams/fraud/tensorboard/*` },
            { Sid: "DecryptWithBucketKey", Effect: "Allow", Action: "kms:Decrypt", Resource: BUCKET.kmsKeyArn },
        ]);
        expect(JSON.stringify(doc)).not.toMatch(/Put|Delete|"s3:\*"|"kms:\*"/);
        expect(tensorboardReadPolicy(BUCKET, "fraud").Statement.map((s) => s.Action)).toEqual(["s3:ListBucket", "s3:GetObject", "kms:Decrypt"]);
        const trust = policyOf(run.inputs(run.one("aws:iam/role:Role")).assumeRolePolicy);
        expect(Object.values(trust.Statement[0].Condition.StringEquals)).toContain("system:serviceaccount:ml-fraud:tensorboard");
    });

    it("runs TensorBoard on loopback, reading the team's S3 prefix", () => {
        expect(tensorboard.args).toEqual(tensorboardArgs({ logdir: "s3://acme-dev-artifacts/teams/fraud/tensorboard/", reloadIntervalSeconds: 60 }));
        expect(tensorboard.args).toEqual(expect.arrayContaining(["--host", "127.0.0.1"]));
        expect(tensorboard.ports).toBeUndefined();
        expect(() => tensorboardArgs({ logdir: "/local", reloadIntervalSeconds: 60 })).toThrow(/s3:\/\//);
    });

    it("is reached only through the signing-in proxy, whose credentials come from a Secret (never argv)", () => {
        expect(proxy.command).toEqual(["python"]);
        expect(proxy.args).toEqual(authProxyArgs());
        expect(proxy.env).toEqual([
            { name: "TENSORBOARD_USERNAME", valueFrom: { secretKeyRef: { name: "tensorboard-credentials", key: "username" } } },
            { name: "TENSORBOARD_PASSWORD", valueFrom: { secretKeyRef: { name: "tensorboard-credentials", key: "password" } } },
        ]);
        expect(proxy.ports).toEqual([{ name: "http", containerPort: TENSORBOARD_PORT, protocol: "TCP" }]);
        expect(proxy.readinessProbe.httpGet).toEqual({ path: "/healthz", port: "http" });
        const service = objects.find((o) => o.kind === "Service");
        expect(service.spec.ports).toEqual([{ name: "http", port: TENSORBOARD_PORT, targetPort: "http", protocol: "TCP" }]);
        expect(service.spec.type).toBe("ClusterIP");
        const secret = run.one("kubernetes:core/v1:Secret");
        expect(run.isSecretInput(secret, "stringData")).toBe(true);
    });

    it("hardens both containers and the pod", () => {
        for (const c of [tensorboard, proxy]) {
            expect(c.securityContext).toMatchObject({
                runAsNonRoot: true,
                readOnlyRootFilesystem: true,
                allowPrivilegeEscalation: false,
                capabilities: { drop: ["ALL"] },
            });
            expect(c.resources.limits).toHaveProperty("memory");
            expect(c.livenessProbe).toBeDefined();
            expect(c.readinessProbe).toBeDefined();
        }
        expect(deployment.spec.template.spec.automountServiceAccountToken).toBe(false);
        expect(deployment.spec.template.spec.serviceAccountName).toBe("tensorboard");
        expect(tensorboard.readinessProbe.exec.command[0]).toBe("python");
        expect(deployment.spec.replicas).toBe(2);
        expect(objects.find((o) => o.kind === "PodDisruptionBudget").spec).toEqual({ maxUnavailable: 1, selector: deployment.spec.selector });
    });
});
