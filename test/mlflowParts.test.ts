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

    it("database holds the password, the RDS component and the URI Secret; the RDS component its instance, key, groups and rule", () => {
        expect(kinds("mlops:index:MlflowDatabase")).toEqual([
            "kubernetes:core/v1:Secret::mlflow-db-secret",
            "mlops:index:RdsPostgres::mlflow-db",
            "random:index/randomPassword:RandomPassword::mlflow-db-password",
        ]);
        expect(kinds("mlops:index:RdsPostgres")).toEqual([
            "aws:ec2/securityGroup:SecurityGroup::mlflow-db-sg",
            "aws:kms/alias:Alias::mlflow-db-key-alias",
            "aws:kms/key:Key::mlflow-db-key",
            "aws:rds/instance:Instance::mlflow-db-instance",
            "aws:rds/parameterGroup:ParameterGroup::mlflow-db-params",
            "aws:rds/subnetGroup:SubnetGroup::mlflow-db-subnets",
            "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule::mlflow-db-ingress-nodes",
        ]);
    });

    it("the database's instance and key stay protected and retained in prod", () => {
        for (const [type, name] of [
            ["aws:rds/instance:Instance", "mlflow-db-instance"],
            ["aws:kms/key:Key", "mlflow-db-key"],
        ]) {
            const r = run.one(type, name);
            expect(r.urn).toContain("mlops:index:MlflowTracking$mlops:index:MlflowDatabase$mlops:index:RdsPostgres$");
            expect(r.options).toMatchObject({ protect: true, retainOnDelete: true });
        }
    });

    it("only the namespace stays a direct child of MlflowTracking, beside the child components", () => {
        expect(kinds("mlops:index:MlflowTracking")).toEqual([
            "kubernetes:core/v1:Namespace::mlflow-namespace",
            "mlops:index:MlflowAuth::mlflow",
            "mlops:index:MlflowDatabase::mlflow",
            "mlops:index:MlflowGc::mlflow",
            "mlops:index:MlflowServer::mlflow",
        ]);
    });

    // (The Kubernetes SDK adds its own aliases for former API versions of a kind, under the current parent.)
    it("every resource of the child components aliases MlflowTracking as its former parent", () => {
        for (const component of ["mlops:index:MlflowAuth", "mlops:index:MlflowServer", "mlops:index:MlflowGc", "mlops:index:MlflowDatabase"]) {
            for (const r of run.children(run.one(component))) expect(r.options.aliases, r.urn).toContainEqual({ parentUrn: tracking().urn });
        }
    });

    it("the RDS component's children carry no alias of their own: they inherit their component's (engine/aliases.ts)", () => {
        for (const r of run.children(run.one("mlops:index:RdsPostgres"))) expect(r.options.aliases, r.urn).toEqual([]);
    });
});

describe("MlflowTracking's database in dev (in-cluster Postgres)", () => {
    let run: StackRun;
    beforeAll(async () => {
        run = await runStack("dev");
    });

    it("database holds the password, the in-cluster Postgres component and the URI Secret, each aliasing MlflowTracking", () => {
        const database = run.one("mlops:index:MlflowDatabase");
        expect(
            run
                .children(database)
                .map((r) => `${r.type}::${r.name}`)
                .sort(),
        ).toEqual([
            "kubernetes:core/v1:Secret::mlflow-db-secret",
            "mlops:index:InClusterPostgres::mlflow-postgres",
            "random:index/randomPassword:RandomPassword::mlflow-db-password",
        ]);
        for (const r of run.children(database)) expect(r.options.aliases, r.urn).toContainEqual({ parentUrn: run.one("mlops:index:MlflowTracking").urn });
        expect(run.one("kubernetes:apps/v1:StatefulSet", "mlflow-postgres-statefulset").parent).toBe(run.one("mlops:index:InClusterPostgres").urn);
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
