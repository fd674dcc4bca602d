/**
 * MlflowTracking's parts (components/platform/mlflow/): which resources each child component holds,
 * the aliases that keep their URNs, and the pure helpers they share.
 */
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { movedChildOptions } from "../components/platform/mlflow/childOptions";
import { backendStoreEnv, mlflowGcSelector, postgresEgressRule, s3HttpsEgressRule } from "../components/platform/mlflow/shared";
import { runStack, type StackRun } from "./harness";

describe("MlflowTracking's child components (prod: auth on, RDS)", () => {
    let run: StackRun;
    beforeAll(async () => {
        run = await runStack("prod");
    });
    const tracking = () => run.one("mlops:index:MlflowTracking");
    const kinds = (component: string) =>
        run
            .children(run.one(component))
            .map((r) => `${r.type}::${r.name}`)
            .sort();

    it("auth holds the admin password, the Flask key, the auth Secret and the registry namespaces' ConfigMap", () => {
        expect(kinds("mlops:index:MlflowAuth")).toEqual([
            "kubernetes:core/v1:ConfigMap::mlflow-registry-namespaces",
            "kubernetes:core/v1:Secret::mlflow-auth-secret",
            "random:index/randomPassword:RandomPassword::mlflow-admin-password",
            "random:index/randomPassword:RandomPassword::mlflow-flask-secret-key",
        ]);
    });

    it("server holds the identity, Deployment, Service, PDB and the namespace's NetworkPolicies", () => {
        expect(kinds("mlops:index:MlflowServer")).toEqual([
            "aws:iam/role:Role::mlflow-role",
            "aws:iam/rolePolicy:RolePolicy::mlflow-artifacts-policy",
            "kubernetes:apps/v1:Deployment::mlflow-deployment",
            "kubernetes:core/v1:Service::mlflow-service",
            "kubernetes:core/v1:ServiceAccount::mlflow-service-account",
            "kubernetes:networking.k8s.io/v1:NetworkPolicy::mlflow-default-deny",
            "kubernetes:networking.k8s.io/v1:NetworkPolicy::mlflow-server-network-policy",
            "kubernetes:policy/v1:PodDisruptionBudget::mlflow-pdb",
        ]);
    });

    it("gc holds the CronJob and its NetworkPolicy", () => {
        expect(kinds("mlops:index:MlflowGc")).toEqual([
            "kubernetes:batch/v1:CronJob::mlflow-gc",
            "kubernetes:networking.k8s.io/v1:NetworkPolicy::mlflow-gc-network-policy",
        ]);
    });

    it("the namespace and the database stay direct children of MlflowTracking", () => {
        expect(kinds("mlops:index:MlflowTracking")).toEqual([
            "kubernetes:core/v1:Namespace::mlflow-namespace",
            "kubernetes:core/v1:Secret::mlflow-db-secret",
            "mlops:index:MlflowAuth::mlflow",
            "mlops:index:MlflowGc::mlflow",
            "mlops:index:MlflowServer::mlflow",
            "mlops:index:RdsPostgres::mlflow-db",
            "random:index/randomPassword:RandomPassword::mlflow-db-password",
        ]);
    });

    // (The Kubernetes SDK adds its own aliases for former API versions of a kind, under the current parent.)
    it("every resource of the child components aliases MlflowTracking as its former parent", () => {
        for (const component of ["mlops:index:MlflowAuth", "mlops:index:MlflowServer", "mlops:index:MlflowGc"]) {
            for (const r of run.children(run.one(component))) expect(r.options.aliases, r.urn).toContainEqual({ parentUrn: tracking().urn });
        }
    });
});

describe("movedChildOptions", () => {
    const parent = { urn: "p" } as unknown as pulumi.Resource;
    const former = { urn: "f" } as unknown as pulumi.Resource;
    it("parents to the new component and aliases the former parent", () => {
        expect(movedChildOptions(parent, former)).toEqual({ parent, aliases: [{ parent: former }] });
    });
    it("without a former parent, only parents", () => {
        expect(movedChildOptions(parent, undefined)).toEqual({ parent });
    });
});

describe("shared helpers of the server and the gc job", () => {
    it("backendStoreEnv takes the URI from the database Secret, never a literal value", () => {
        expect(backendStoreEnv("mlflow-db")).toEqual([
            { name: "HOME", value: "/tmp" },
            { name: "TMPDIR", value: "/tmp" },
            { name: "MLFLOW_BACKEND_STORE_URI", valueFrom: { secretKeyRef: { name: "mlflow-db", key: "backend-store-uri" } } },
        ]);
    });
    it("mlflowGcSelector selects the garbage collector's pods", () => {
        expect(mlflowGcSelector()).toEqual({
            "app.kubernetes.io/name": "mlflow",
            "app.kubernetes.io/instance": "mlflow",
            "app.kubernetes.io/component": "garbage-collector",
        });
    });
    it("postgresEgressRule admits the peer on 5432 only", () => {
        expect(postgresEgressRule({ ipBlock: { cidr: "10.0.0.0/16" } })).toEqual({
            to: [{ ipBlock: { cidr: "10.0.0.0/16" } }],
            ports: [{ protocol: "TCP", port: 5432 }],
        });
    });
    it("s3HttpsEgressRule admits HTTPS anywhere and nothing else", () => {
        expect(s3HttpsEgressRule()).toEqual({ to: [{ ipBlock: { cidr: "0.0.0.0/0" } }], ports: [{ protocol: "TCP", port: 443 }] });
    });
});
