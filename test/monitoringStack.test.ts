/**
 * The monitoring stack as recorded for dev, test and prod: pinned charts and per-environment values,
 * secrets kept out of the Helm values, Alertmanager routing by team, PrometheusRules and the MLflow
 * ServiceMonitor after the CRDs, dashboards, the Pushgateway and its NetworkPolicy.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { type AlertingRule, ALERTS } from "../components/shared/alertRules";
import { parsePlatformConfig, type PlatformConfig, teamSlo, teamsIn } from "../stacks/config";
import { dashboardQueries } from "../components/platform/dashboards";
import { requestsPerSecondAdapterRule, RPS_METRIC, unknownMetrics } from "../components/shared/metricsContract";
import { MLFLOW_METRICS_SECRET, MLFLOW_METRICS_USERNAME } from "../components/platform/mlflowTeamAccess";
import { alertmanagerConfig, CHARTS, type MonitoringStackArgs, receiverNames, validateMonitoringStackArgs } from "../components/platform/monitoringStack";
import { validateObjects } from "../engine/kubernetes";
import { configNamespace } from "../engine/project";
import type { RecordedResource } from "../engine/recorder";
import { secretPaths } from "../engine/values";
import { alertmanagerConfigOf } from "../scripts/render-rules";
import { runStack, type StackRun, STACKS } from "./harness";

const RELEASE = "kubernetes:helm.sh/v3:Release";

describe.each(STACKS)("monitoring stack in %s", (stack) => {
    let run: StackRun;
    let cfg: PlatformConfig;
    beforeAll(async () => {
        run = await runStack(stack);
        cfg = parsePlatformConfig(configNamespace(run.recording.stackConfig.config, "mlops"), stack);
    });
    const release = (name: string): RecordedResource => run.ofType(RELEASE).find((r) => run.inputs(r).name === name)!;
    const kpsValues = () => run.inputs(release("kube-prometheus-stack")).values;
    /** The release of a chart: pinned to an exact version from its repository, into an existing namespace. */
    const pinnedRelease = (name: string, chart: string, repo: string, namespace: string): RecordedResource => {
        const r = release(name);
        expect(run.inputs(r)).toMatchObject({ chart, repositoryOpts: { repo }, namespace, createNamespace: false });
        expect(run.inputs(r).version).toMatch(/^\d+\.\d+\.\d+$/);
        return r;
    };

    it("creates the monitoring namespace, privileged for node-exporter, warning at restricted", () => {
        const ns = run.k8sObject("Namespace", "monitoring");
        expect(ns.metadata.labels).toMatchObject({
            "pod-security.kubernetes.io/enforce": "privileged",
            "pod-security.kubernetes.io/warn": "restricted",
            "pod-security.kubernetes.io/audit": "restricted",
            "mlops.acme.io/team": "ml-platform",
            "mlops.acme.io/environment": stack,
        });
        const r = run.ofType("kubernetes:core/v1:Namespace").find((n) => n.name === "monitoring-namespace")!;
        expect([r.options.protect, r.options.retainOnDelete]).toEqual([stack === "prod", stack === "prod"]);
    });

    it("installs the pinned kube-prometheus-stack and Pushgateway charts into it", () => {
        const kps = run.inputs(release("kube-prometheus-stack"));
        expect(kps).toMatchObject({
            chart: "kube-prometheus-stack",
            version: "88.6.1",
            repositoryOpts: { repo: "https://prometheus-community.github.io/helm-charts" },
            namespace: "monitoring",
            createNamespace: false,
        });
        const pg = run.inputs(release("pushgateway"));
        expect(pg).toMatchObject({
            chart: "prometheus-pushgateway",
            version: CHARTS.pushgateway.version,
            repositoryOpts: { repo: CHARTS.pushgateway.repo },
            namespace: "monitoring",
        });
        expect(CHARTS.pushgateway.version).toMatch(/^\d+\.\d+\.\d+$/);
        // The Pushgateway's ServiceMonitor needs the operator's CRDs.
        expect(release("pushgateway").dependencies).toContain(release("kube-prometheus-stack").urn);
        // The release waits for the namespace and the Grafana Secret through their outputs, not dependsOn.
        expect(release("kube-prometheus-stack").dependencies).toEqual(
            expect.arrayContaining([run.ofType("kubernetes:core/v1:Namespace").find((n) => n.name === "monitoring-namespace")!.urn]),
        );
        expect([release("kube-prometheus-stack").options.protect]).toEqual([stack === "prod"]);
        // The Pushgateway release owns its volume when it persists pushed series: protected and retained in prod.
        const pgData = stack === "prod" && cfg.monitoring.pushgateway.persistence;
        expect([release("pushgateway").options.protect, release("pushgateway").options.retainOnDelete]).toEqual([pgData, pgData]);
        expect(stack !== "prod" || pgData).toBe(true);
    });

    it("labels the subcharts' objects through their own keys, and never twice where a chart already does", () => {
        const owner = { "mlops.acme.io/team": "ml-platform", "mlops.acme.io/environment": stack };
        const kps = kpsValues();
        expect(kps.grafana.extraLabels).toMatchObject(owner);
        expect(kps["kube-state-metrics"].customLabels).toMatchObject(owner);
        expect(kps["prometheus-node-exporter"].commonLabels).toMatchObject(owner);
        const pg = run.inputs(release("pushgateway")).values;
        expect(pg.podLabels).toMatchObject(owner);
        expect(pg.serviceMonitor.additionalLabels).toBeUndefined();
    });

    it("sizes Prometheus and Alertmanager for the environment", () => {
        const p = cfg.monitoring.prometheus;
        const spec = kpsValues().prometheus.prometheusSpec;
        expect(spec).toMatchObject({
            replicas: p.replicas,
            retention: `${p.retentionDays}d`,
            retentionSize: `${Math.floor(p.storageGi * 0.9)}GB`,
            resources: {
                requests: { cpu: p.resources.cpuRequest, memory: p.resources.memoryRequest, "ephemeral-storage": "64Mi" },
                limits: { cpu: p.resources.cpuLimit, memory: p.resources.memoryLimit, "ephemeral-storage": "256Mi" },
            },
            externalLabels: { cluster: `ml-${stack}`, environment: stack },
            storageSpec: { volumeClaimTemplate: { spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: `${p.storageGi}Gi` } } } } },
            serviceMonitorSelectorNilUsesHelmValues: false,
            ruleSelectorNilUsesHelmValues: false,
            podMonitorSelectorNilUsesHelmValues: false,
        });
        expect([spec.replicas, spec.retention, spec.storageSpec.volumeClaimTemplate.spec.resources.requests.storage]).toEqual(
            { dev: [1, "7d", "20Gi"], test: [1, "15d", "50Gi"], prod: [2, "30d", "200Gi"] }[stack],
        );
        const am = kpsValues().alertmanager.alertmanagerSpec;
        expect(am.replicas).toBe({ dev: 1, test: 2, prod: 3 }[stack]);
        expect(am.storage.volumeClaimTemplate.spec.resources.requests.storage).toBe(`${cfg.monitoring.alertmanager.storageGi}Gi`);
        expect(am.secrets).toEqual(["alertmanager-receivers"]);
        for (const off of ["kubeControllerManager", "kubeScheduler", "kubeEtcd", "kubeProxy"]) expect(kpsValues()[off]).toEqual({ enabled: false });
    });

    it("keeps Grafana private, with a generated admin password in a Secret and none in the values", () => {
        const grafana = kpsValues().grafana;
        expect(grafana.service).toEqual({ type: "ClusterIP" });
        expect(grafana.ingress).toEqual({ enabled: false });
        expect(grafana.admin).toEqual({ existingSecret: "grafana-admin", userKey: "admin-user", passwordKey: "admin-password" });
        expect(grafana).not.toHaveProperty("adminPassword");
        expect(kpsValues().prometheus.ingress).toEqual({ enabled: false });
        expect(kpsValues().alertmanager.ingress).toEqual({ enabled: false });

        const secret = run.one("kubernetes:core/v1:Secret", "monitoring-grafana-admin");
        expect(run.isSecretInput(secret, "stringData")).toBe(true);
        const password = run.one("random:index/randomPassword:RandomPassword", "monitoring-grafana-admin-password");
        expect(run.inputs(password)).toMatchObject({ length: 32 });
        expect(run.inputs(secret).stringData).toEqual({ "admin-user": "admin", "admin-password": password.outputs.result });

        for (const r of run.ofType(RELEASE)) {
            expect(secretPaths(r.inputs), r.name).toEqual([]);
            expect(JSON.stringify(r.inputs)).not.toContain(password.outputs.result as string);
        }
    });

    it("routes alerts by team, critical ones to PagerDuty where asked, the rest to the platform owner", () => {
        const config = kpsValues().alertmanager.config;
        const teams = teamsIn(cfg);
        expect(config).toEqual(
            alertmanagerConfig({
                environment: stack,
                owner: "ml-platform",
                platformReceiver: cfg.monitoring.platformAlerts,
                teams: teams.map((t) => ({ name: t.name, receiver: t.alerts })),
                repeatIntervalHours: cfg.monitoring.repeatIntervalHours,
                secretDir: "/etc/alertmanager/secrets/alertmanager-receivers",
            }),
        );
        expect(config.route.receiver).toBe("ml-platform");
        expect(config.route.repeat_interval).toBe({ dev: "24h", test: "12h", prod: "4h" }[stack]);
        const teamRoutes = config.route.routes.filter((r: any) => r.matchers[0].startsWith("team="));
        expect(teamRoutes.map((r: any) => [r.matchers, r.receiver])).toEqual(teams.map((t) => [[`team="${t.name}"`], t.name]));
        const names = config.receivers.map((r: any) => r.name);
        expect(names).toEqual([
            "null",
            ...Object.values(receiverNames("ml-platform", cfg.monitoring.platformAlerts)),
            ...teams.flatMap((t) => Object.values(receiverNames(t.name, t.alerts))),
        ]);
        expect(names.includes("ml-platform-critical")).toBe(stack === "prod");
        expect(names).toContain("fraud-critical");
        const fraud = config.receivers.find((r: any) => r.name === "fraud-critical");
        expect(fraud.slack_configs[0]).toMatchObject({
            channel: "#fraud-ml-alerts",
            api_url_file: "/etc/alertmanager/secrets/alertmanager-receivers/fraud-slack-webhook-url",
        });
        expect(fraud.pagerduty_configs[0].routing_key_file).toBe("/etc/alertmanager/secrets/alertmanager-receivers/fraud-pagerduty-routing-key");
    });

    it("the Alertmanager configuration (as render-rules writes it for amtool) holds no secret: receivers read their credentials from mounted files", () => {
        const text = JSON.stringify(alertmanagerConfigOf(run.resources));
        expect(text).not.toMatch(/hooks\.slack\.com|"api_url"|"routing_key"|"service_key"/);
        expect(text).toContain("/etc/alertmanager/secrets/alertmanager-receivers/");
    });

    it("keeps the receiver secrets in a Secret and warns about the missing ones", () => {
        const secret = run.one("kubernetes:core/v1:Secret", "monitoring-alertmanager-receivers");
        expect(run.isSecretInput(secret, "stringData")).toBe(true);
        expect(run.inputs(secret).metadata).toMatchObject({ name: "alertmanager-receivers", namespace: "monitoring" });
        const warning = run.recording.logs.find((l) => l.message.startsWith("Alertmanager receivers have no secret"));
        expect(warning?.severity).toBe("warning");
        expect(warning?.message).toContain("fraud-slack-webhook-url, fraud-pagerduty-routing-key");
        expect(warning?.message.includes("recsys-slack-webhook-url")).toBe(stack !== "prod");
    });

    it("creates a PrometheusRule per team of the environment and one for the platform, after the CRDs", () => {
        const rules = run.ofType("kubernetes:monitoring.coreos.com/v1:PrometheusRule");
        const names = rules.map((r) => run.inputs(r).metadata.name).sort();
        expect(names).toEqual([...teamsIn(cfg).map((t) => `mlops-model-alerts-${t.name}`), "mlops-platform-alerts"].sort());
        const kps = release("kube-prometheus-stack").urn;
        for (const r of rules) {
            const inputs = run.inputs(r);
            expect(inputs.metadata.namespace).toBe("monitoring");
            expect(r.dependencies).toContain(kps);
            const alerts: AlertingRule[] = inputs.spec.groups.flatMap((g: any) => g.rules);
            for (const a of alerts) {
                expect(a.labels.team).toBe(inputs.metadata.labels["mlops.acme.io/team"]);
                expect(a.labels.severity).toBe(ALERTS[a.alert as keyof typeof ALERTS].severity);
                expect(a.annotations.runbook_url).toBe(`${cfg.monitoring.runbookBaseUrl}/${ALERTS[a.alert as keyof typeof ALERTS].runbook}.md`);
                expect(unknownMetrics(a.expr), a.alert).toEqual([]);
            }
        }
        // Thresholds follow the environment's SLOs and the team's overrides.
        for (const team of teamsIn(cfg)) {
            const rule = rules.find((r) => run.inputs(r).metadata.name === `mlops-model-alerts-${team.name}`)!;
            const latency = run.inputs(rule).spec.groups[0].rules.find((a: AlertingRule) => a.alert === "ModelLatencyP95High");
            expect(latency.expr.endsWith(` > ${teamSlo(cfg, team).latencyP95Seconds}`)).toBe(true);
            expect(latency.expr).toContain(`namespace="ml-${team.name}"`);
        }
        const fraudErrors = run.inputs(rules.find((r) => run.inputs(r).metadata.name === "mlops-model-alerts-fraud")!).spec.groups[0].rules[1];
        expect(fraudErrors.expr.endsWith(` > ${{ dev: 0.05, test: 0.02, prod: 0.01 }[stack]}`)).toBe(true);
    });

    it("scrapes MLflow's /metrics with a ServiceMonitor in its namespace, with credentials when auth is on", () => {
        const sm = run.one("kubernetes:monitoring.coreos.com/v1:ServiceMonitor", "mlflow-service-monitor");
        expect(sm.dependencies).toContain(release("kube-prometheus-stack").urn);
        const inputs = run.inputs(sm);
        expect(inputs.metadata.namespace).toBe(cfg.mlflow.namespace);
        expect(inputs.spec.selector).toEqual({
            matchLabels: { "app.kubernetes.io/name": "mlflow", "app.kubernetes.io/instance": "mlflow", "app.kubernetes.io/component": "tracking-server" },
        });
        const mlflowService = run.k8sOfKind("Service", cfg.mlflow.namespace).find((s) => s.metadata.name === "mlflow")!;
        expect(mlflowService.metadata.labels).toMatchObject(inputs.spec.selector.matchLabels);
        expect((mlflowService.spec as any).ports.map((p: any) => p.name)).toContain("http");
        const [endpoint] = inputs.spec.endpoints;
        expect(endpoint).toMatchObject({ port: "http", path: "/metrics" });
        if (cfg.mlflow.auth) {
            // The metrics user's Secret beside the ServiceMonitor, never the admin's.
            expect(endpoint.basicAuth).toEqual({
                username: { name: MLFLOW_METRICS_SECRET, key: "username" },
                password: { name: MLFLOW_METRICS_SECRET, key: "password" },
            });
            const secret = run.k8sOfKind("Secret", cfg.mlflow.namespace).find((s) => s.metadata.name === MLFLOW_METRICS_SECRET) as any;
            expect(secret.stringData.username).toBe(MLFLOW_METRICS_USERNAME);
            expect(secret.stringData["admin-password"]).toBeUndefined();
        } else {
            expect(endpoint.basicAuth).toBeUndefined();
        }
        expect(cfg.mlflow.auth).toBe(stack !== "dev");
    });

    it("ships the dashboards as ConfigMaps the Grafana sidecar loads", () => {
        const maps = run.k8sOfKind("ConfigMap", "monitoring").filter((c) => c.metadata.labels?.grafana_dashboard === "1");
        expect(maps.map((m) => m.metadata.name).sort()).toEqual(["dashboard-mlops-batch-jobs", "dashboard-mlops-mlflow", "dashboard-mlops-model-service"]);
        for (const m of maps) {
            const [[file, json]] = Object.entries(m.data as Record<string, string>);
            const dashboard = JSON.parse(json);
            expect(file).toBe(`${dashboard.uid}.json`);
            for (const q of dashboardQueries(dashboard)) expect(unknownMetrics(q), q).toEqual([]);
        }
        expect(kpsValues().grafana.sidecar.dashboards).toMatchObject({
            enabled: true,
            label: "grafana_dashboard",
            labelValue: "1",
            folderAnnotation: "grafana_folder",
        });
    });

    it("runs the Pushgateway restricted, persistent outside dev, scraped with its pushed labels", () => {
        const v = run.inputs(release("pushgateway")).values;
        expect(v.persistentVolume).toEqual({ enabled: stack !== "dev", size: `${cfg.monitoring.pushgateway.storageGi}Gi` });
        expect(v.extraArgs.length > 0).toBe(stack !== "dev");
        expect(v.serviceMonitor).toMatchObject({ enabled: true, namespace: "monitoring", honorLabels: true });
        expect(v.containerSecurityContext).toMatchObject({
            runAsNonRoot: true,
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ["ALL"] },
        });
        expect(v.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
        expect(v.automountServiceAccountToken).toBe(false);
        const [policy] = run.k8sOfKind("NetworkPolicy", "monitoring");
        expect(policy.spec).toEqual({
            podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus-pushgateway" } },
            policyTypes: ["Ingress"],
            ingress: [
                {
                    from: [
                        { namespaceSelector: { matchLabels: { "mlops.acme.io/serving": "true" } } },
                        {
                            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } },
                            podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus" } },
                        },
                    ],
                    ports: [{ protocol: "TCP", port: 9091 }],
                },
            ],
        });
    });

    it("installs prometheus-adapter serving the requests-per-second metric the HPAs scale on, from this stack's Prometheus", () => {
        const r = pinnedRelease("prometheus-adapter", "prometheus-adapter", "https://prometheus-community.github.io/helm-charts", "monitoring");
        expect(run.inputs(r).version).toBe(CHARTS.prometheusAdapter.version);
        expect(r.dependencies).toContain(release("kube-prometheus-stack").urn);
        const v = run.inputs(r).values;
        // The Prometheus service kube-prometheus-stack creates (its fullnameOverride + "-prometheus"), and the stack's own URL of it.
        expect(v.prometheus).toEqual({ url: `http://${kpsValues().fullnameOverride}-prometheus.monitoring.svc.cluster.local`, port: 9090, path: "" });
        expect(`${v.prometheus.url}:${v.prometheus.port}`).toBe(run.outputs().monitoring.prometheusUrl);
        // One metric, the HPAs': no default container rules, no external or resource metrics (metrics-server keeps metrics.k8s.io).
        expect(v.rules).toEqual({ default: false, custom: [requestsPerSecondAdapterRule()], external: [] });
        expect(v.rules.custom[0].name.as).toBe(RPS_METRIC);
        expect(v.replicas).toBe(cfg.monitoring.prometheus.replicas);
        expect(v.podDisruptionBudget).toEqual(cfg.monitoring.prometheus.replicas > 1 ? { enabled: true, maxUnavailable: 1 } : { enabled: false });
        expect(v.securityContext).toEqual({
            runAsNonRoot: true,
            runAsUser: 10001,
            runAsGroup: 10001,
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            privileged: false,
            capabilities: { drop: ["ALL"] },
            seccompProfile: { type: "RuntimeDefault" },
        });
        expect(v.podSecurityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
        expect(v.resources.limits).toEqual({ cpu: expect.any(String), memory: expect.any(String), "ephemeral-storage": "256Mi" });
        expect(v.customLabels).toMatchObject({ "mlops.acme.io/team": "ml-platform", "mlops.acme.io/environment": stack });
        // The chart puts customLabels on the pod template too: podLabels as well would duplicate YAML keys.
        expect(v.podLabels).toBeUndefined();
    });

    it("installs metrics-server into kube-system for the HPAs' CPU targets, pinned and restricted", () => {
        expect(cfg.cluster.installMetricsServer).toBe(true);
        const r = pinnedRelease("metrics-server", "metrics-server", "https://kubernetes-sigs.github.io/metrics-server/", "kube-system");
        expect(run.inputs(r).version).toBe(CHARTS.metricsServer.version);
        const v = run.inputs(r).values;
        expect(v.apiService).toEqual({ create: true });
        expect(v.replicas).toBe(cfg.monitoring.prometheus.replicas);
        expect(v.podDisruptionBudget).toEqual(cfg.monitoring.prometheus.replicas > 1 ? { enabled: true, minAvailable: 1 } : { enabled: false });
        expect(v.securityContext).toMatchObject({
            runAsNonRoot: true,
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ["ALL"] },
            seccompProfile: { type: "RuntimeDefault" },
        });
        expect(v.commonLabels).toMatchObject({ "mlops.acme.io/environment": stack });
        // Its pod template carries podLabels, not commonLabels.
        expect(v.podLabels).toEqual(v.commonLabels);
        expect(r.parent).toBe(run.ofType("mlops:index:MonitoringStack")[0].urn);
    });

    it("renders objects that pass the Kubernetes and prometheus-operator schemas", async () => {
        const objects = run
            .k8s()
            .filter((o) => o.resource.parent.includes("MonitoringStack"))
            .map((o) => o.object);
        expect(objects.map((o) => o.kind)).toEqual(
            expect.arrayContaining(["Namespace", "Secret", "NetworkPolicy", "PrometheusRule", "ServiceMonitor", "ConfigMap"]),
        );
        expect(await validateObjects(objects)).toEqual([]);
    });
});

describe("a cluster that runs its own metrics-server", () => {
    it("gets none from the platform (mlops:cluster.installMetricsServer false), and the rest unchanged", async () => {
        const base = await runStack("prod");
        const cluster = { ...JSON.parse(base.recording.stackConfig.config["mlops:cluster"]), installMetricsServer: false };
        const run = await runStack("prod", { "mlops:cluster": JSON.stringify(cluster) });
        const releases = (r: StackRun) =>
            r
                .ofType(RELEASE)
                .map((x) => r.inputs(x).name as string)
                .sort();
        expect(releases(base)).toContain("metrics-server");
        expect(releases(run)).toEqual(releases(base).filter((n) => n !== "metrics-server"));
    });
});

describe("receiver credentials from the stack config", () => {
    it("reach the Secret as secrets, and silence the warning", async () => {
        const credentials = {
            "ml-platform-slack-webhook-url": "https://hooks.slack.com/services/T000/B000/platform",
            "fraud-slack-webhook-url": "https://hooks.slack.com/services/T000/B000/fraud",
            "fraud-pagerduty-routing-key": "0123456789abcdef0123456789abcdef",
            "recsys-slack-webhook-url": "https://hooks.slack.com/services/T000/B000/recsys",
        };
        const run = await runStack("dev", { "mlops:alertmanagerCredentials": JSON.stringify(credentials) });
        const secret = run.one("kubernetes:core/v1:Secret", "monitoring-alertmanager-receivers");
        expect(run.isSecretInput(secret, "stringData")).toBe(true);
        expect(run.inputs(secret).stringData).toEqual(credentials);
        expect(run.recording.logs.filter((l) => l.message.startsWith("Alertmanager receivers"))).toEqual([]);
        for (const r of run.resources.filter((r) => r.name !== "monitoring-alertmanager-receivers")) {
            const plain = JSON.stringify(r.inputs);
            for (const v of Object.values(credentials)) expect(plain.includes(v), `${r.urn} carries a receiver secret`).toBe(false);
        }
    });
});

describe("validateMonitoringStackArgs", () => {
    const resources = { cpuRequest: "100m", memoryRequest: "128Mi", cpuLimit: "1", memoryLimit: "1Gi" };
    const valid: MonitoringStackArgs = {
        labels: { labelDomain: "acme.io", owner: "ml-platform", environment: "dev", costCentre: "CC-1" },
        namespace: "monitoring",
        clusterName: "ml-dev",
        prometheus: { replicas: 1, retentionDays: 7, storageGi: 20, resources },
        alertmanager: { replicas: 1, storageGi: 1, resources },
        grafana: { resources },
        pushgateway: { persistence: false, storageGi: 1, resources },
        runbookBaseUrl: "https://github.com/acme/mlops-platform/blob/main/docs/runbooks",
        platformReceiver: { slackChannel: "#ml-platform", pagerduty: false },
        teams: [
            {
                name: "fraud",
                namespace: "ml-fraud",
                receiver: { slackChannel: "#fraud", pagerduty: true },
                slo: { latencyP95Seconds: 0.3, errorRatio: 0.01, inputValidationFailureRatio: 0.05, driftScore: 0.2, predictionShift: 0.2 },
            },
        ],
        repeatIntervalHours: 4,
        mlflow: { namespace: "mlflow", namespaceName: "mlflow", serviceName: "mlflow", serviceSelector: { app: "mlflow" }, portName: "http" },
    };

    it("accepts valid arguments and names every problem", () => {
        expect(() => validateMonitoringStackArgs(valid)).not.toThrow();
        const team = valid.teams[0];
        expect(() => validateMonitoringStackArgs({ ...valid, teams: [team, team] })).toThrow(/team "fraud" is listed twice/);
        expect(() => validateMonitoringStackArgs({ ...valid, teams: [{ ...team, name: "ml-platform" }] })).toThrow(
            /team "ml-platform" has the name of a platform receiver/,
        );
        expect(() =>
            validateMonitoringStackArgs({ ...valid, runbookBaseUrl: "https://x/runbooks/", prometheus: { ...valid.prometheus, replicas: 0 } }),
        ).toThrow(/runbookBaseUrl .* without a trailing slash; prometheus.replicas must be an integer from 1 to 5, got 0/);
        expect(() => validateMonitoringStackArgs({ ...valid, receiverCredentials: { "fraud-slack-token": "x" } })).toThrow(/unknown key "fraud-slack-token"/);
    });
});
