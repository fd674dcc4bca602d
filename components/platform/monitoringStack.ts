/**
 * The monitoring stack: kube-prometheus-stack (Prometheus, Alertmanager, Grafana, kube-state-metrics,
 * node-exporter, the Prometheus operator) and a Pushgateway, installed as pinned Helm releases into a
 * `monitoring` namespace, plus what the platform adds on top:
 *
 * - Alert rules (PrometheusRule) generated from the metrics contract: per team (its serving namespace)
 *   and for the platform (MLflow). Every rule has `severity`, `team` and a runbook link.
 * - Alertmanager routing by the `team` label, one receiver per team (Slack, plus PagerDuty for critical
 *   alerts where asked), the platform owner's receiver as default. Receiver secrets (webhook URLs,
 *   routing keys) never enter the Helm values: they live in a Kubernetes Secret that Alertmanager mounts
 *   (`alertmanagerSpec.secrets`), and the config points at the files (`api_url_file`, `routing_key_file`).
 * - Grafana with a generated admin password kept in a Kubernetes Secret (`admin.existingSecret`), not
 *   exposed (ClusterIP, no ingress), loading the platform's dashboards from ConfigMaps.
 * - A ServiceMonitor for MLflow, and a NetworkPolicy that admits only serving namespaces and Prometheus
 *   to the Pushgateway.
 * - prometheus-adapter serving the custom metrics API with one metric, the model servers' requests per
 *   second per pod (`RPS_METRIC`, components/shared/metricsContract.ts), which a ModelService's HPA
 *   scales on when it sets `autoscaling.targetRequestsPerSecond`; and, unless the cluster has one,
 *   metrics-server, which serves the CPU utilisation every HPA scales on.
 *
 * Prometheus and Alertmanager volumes are created by the operator from volumeClaimTemplates: their PVCs
 * are not Pulumi resources. A StatefulSet's PVCs outlive it, and in prod the namespace and the releases
 * are protected, so removing the component from the program does not delete the data.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { type AlertingRule, modelAlertGroups, type ModelSlo, platformAlertGroups, type RuleGroup } from "../shared/alertRules";
import { CREDENTIAL_SUFFIXES } from "../../stacks/config/rules";
import type { ReceiverSettings } from "../../stacks/config/schema";
import type { ResourceSettings } from "../shared/resources";
import { batchJobsDashboard, type Dashboard, mlflowDashboard, modelServiceDashboard } from "./dashboards";
import {
    containerResources,
    ephemeralStorage,
    namespaceNameLabel,
    restrictedContainerSecurityContext,
    restrictedPodSecurityContext,
} from "../shared/k8sHelpers";
import { requestsPerSecondAdapterRule } from "../shared/metricsContract";
import { labelKeys, type LabelContext, standardLabels } from "../shared/naming";
import { podSecurityAdmissionLabels, PROMETHEUS_POD_LABELS, PUSHGATEWAY_POD_LABELS, PUSHGATEWAY_PORT, servingNamespaceLabel } from "./servingNamespace";

/** Ephemeral storage of the charts' main containers: logs and writable layer (Prometheus, Alertmanager and a persistent Pushgateway keep their data on volumes). */
export const CHART_STORAGE = ephemeralStorage("64Mi");
/** Grafana keeps its database and plugins in an emptyDir (persistence is off: dashboards and the data source are provisioned). */
export const GRAFANA_STORAGE = ephemeralStorage("256Mi", ["1Gi"]);

/**
 * The Helm charts, pinned to versions whose sources the Go module proxy serves (engine/charts.ts), so
 * the plan renders exactly what is installed: see docs/monitoring.md for why these versions.
 */
export const CHARTS = {
    kubePrometheusStack: { chart: "kube-prometheus-stack", version: "88.6.1", repo: "https://prometheus-community.github.io/helm-charts" },
    pushgateway: { chart: "prometheus-pushgateway", version: "3.8.0", repo: "https://prometheus-community.github.io/helm-charts" },
    prometheusAdapter: { chart: "prometheus-adapter", version: "5.3.0", repo: "https://prometheus-community.github.io/helm-charts" },
    metricsServer: { chart: "metrics-server", version: "3.13.1", repo: "https://kubernetes-sigs.github.io/metrics-server/" },
} as const;

/** Helm release names; with fullnameOverride they make the object names stable. */
export const RELEASES = {
    kubePrometheusStack: "kube-prometheus-stack",
    pushgateway: "pushgateway",
    prometheusAdapter: "prometheus-adapter",
    metricsServer: "metrics-server",
} as const;
/** Namespace of metrics-server, where the cluster's own add-ons run. */
export const METRICS_SERVER_NAMESPACE = "kube-system";
/** Port of the Prometheus service kube-prometheus-stack creates. */
export const PROMETHEUS_PORT = 9090;
/** Secret holding the receivers' webhook URLs and routing keys, mounted into Alertmanager. */
export const RECEIVER_SECRET = "alertmanager-receivers";
/** Where the operator mounts `alertmanagerSpec.secrets`. */
export const RECEIVER_SECRET_DIR = `/etc/alertmanager/secrets/${RECEIVER_SECRET}`;
/** Secret with Grafana's admin user and generated password. */
export const GRAFANA_ADMIN_SECRET = "grafana-admin";
/** Label and value the Grafana sidecar loads dashboards by. */
export const DASHBOARD_LABEL = { grafana_dashboard: "1" } as const;

/** Where a team's alerts go, and which namespace and SLOs its rules use. */
export interface TeamMonitoring {
    readonly name: string;
    /** The team's serving namespace. */
    readonly namespace: string;
    readonly receiver: ReceiverSettings;
    readonly slo: ModelSlo;
}

/** Arguments of {@link MonitoringStack}. */
export interface MonitoringStackArgs {
    /** Ownership labels of the stack; the owner is also the default alert receiver. */
    readonly labels: LabelContext;
    /** Namespace to create for the stack. */
    readonly namespace: string;
    /** EKS cluster name: an external label of every series and alert. */
    readonly clusterName: string;
    readonly prometheus: { readonly replicas: number; readonly retentionDays: number; readonly storageGi: number; readonly resources: ResourceSettings };
    readonly alertmanager: { readonly replicas: number; readonly storageGi: number; readonly resources: ResourceSettings };
    readonly grafana: { readonly resources: ResourceSettings };
    readonly pushgateway: { readonly persistence: boolean; readonly storageGi: number; readonly resources: ResourceSettings };
    /**
     * Install metrics-server into kube-system (CPU and memory for the HPAs); false when the cluster runs
     * one already. Default false.
     */
    readonly metricsServer?: boolean;
    /** URL of docs/runbooks; every alert links to `<url>/<runbook>.md`. */
    readonly runbookBaseUrl: string;
    /** The platform owner's receiver (default route and platform alerts). */
    readonly platformReceiver: ReceiverSettings;
    /** Teams present in this environment. */
    readonly teams: readonly TeamMonitoring[];
    /** Receiver secrets by key (`<receiver>-slack-webhook-url`, `<receiver>-pagerduty-routing-key`); treated as secrets. */
    readonly receiverCredentials?: Readonly<Record<string, pulumi.Input<string>>>;
    /** Hours before a still-firing alert is re-sent. */
    readonly repeatIntervalHours: number;
    /** The MLflow tracking server to scrape and alert on. */
    readonly mlflow: {
        /** Its namespace (an output of the MLflow component, so the ServiceMonitor follows it). */
        readonly namespace: pulumi.Input<string>;
        /** The namespace name as a plain string, for rule expressions. */
        readonly namespaceName: string;
        /** Name of its Service (the `service` label of its scrapes). */
        readonly serviceName: string;
        /** Labels of its Service. */
        readonly serviceSelector: Record<string, string>;
        /** Service port name. */
        readonly portName: string;
        /** Secret (in the MLflow namespace) with the basic-auth credentials Prometheus scrapes with (the platform: the metrics user, never the admin); omit when auth is off. */
        readonly basicAuth?: { readonly secretName: pulumi.Input<string>; readonly usernameKey: string; readonly passwordKey: string };
    };
    /** Protect and retain the namespace and releases (prod). Default false. */
    readonly protect?: boolean;
}

/** Names of the receivers a receiver setting produces: `<name>`, and `<name>-critical` when it pages. */
export function receiverNames(name: string, receiver: ReceiverSettings): { default: string; critical?: string } {
    return receiver.pagerduty ? { default: name, critical: `${name}-critical` } : { default: name };
}

/** Receiver secret keys a receiver needs. */
export function requiredCredentials(name: string, receiver: ReceiverSettings): string[] {
    return [`${name}${CREDENTIAL_SUFFIXES.slack}`, ...(receiver.pagerduty ? [`${name}${CREDENTIAL_SUFFIXES.pagerduty}`] : [])];
}

/** What the Alertmanager config needs to know. */
export interface AlertmanagerConfigArgs {
    readonly environment: string;
    /** Default receiver: the platform owner. */
    readonly owner: string;
    readonly platformReceiver: ReceiverSettings;
    readonly teams: readonly Pick<TeamMonitoring, "name" | "receiver">[];
    readonly repeatIntervalHours: number;
    /** Directory the receiver Secret is mounted at. */
    readonly secretDir: string;
}

/**
 * The Alertmanager configuration: a route per team (`team="<name>"` -> receiver `<name>`, critical alerts
 * to `<name>-critical` when the team pages), everything else to the platform owner. Receivers read their
 * secrets from files, so the configuration itself holds none.
 */
export function alertmanagerConfig(args: AlertmanagerConfigArgs): Record<string, unknown> {
    const slack = (name: string, channel: string) => ({
        channel,
        api_url_file: `${args.secretDir}/${name}${CREDENTIAL_SUFFIXES.slack}`,
        send_resolved: true,
        title: `[${args.environment}] [{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} ({{ .CommonLabels.namespace }})`,
        text: "{{ range .Alerts }}*{{ .Annotations.summary }}*\n{{ .Annotations.description }}\nRunbook: {{ .Annotations.runbook_url }}\n{{ end }}",
    });
    const pagerduty = (name: string) => ({
        routing_key_file: `${args.secretDir}/${name}${CREDENTIAL_SUFFIXES.pagerduty}`,
        send_resolved: true,
        description: `[${args.environment}] {{ .CommonLabels.alertname }}: {{ .CommonAnnotations.summary }}`,
    });
    const receiversOf = (name: string, receiver: ReceiverSettings) => {
        const names = receiverNames(name, receiver);
        const out: Record<string, unknown>[] = [{ name: names.default, slack_configs: [slack(name, receiver.slackChannel)] }];
        if (names.critical) out.push({ name: names.critical, slack_configs: [slack(name, receiver.slackChannel)], pagerduty_configs: [pagerduty(name)] });
        return out;
    };
    const criticalRoute = (name: string, receiver: ReceiverSettings) => {
        const critical = receiverNames(name, receiver).critical;
        return critical ? [{ receiver: critical, matchers: ['severity="critical"'] }] : [];
    };
    const platformCritical = criticalRoute(args.owner, args.platformReceiver);
    return {
        global: { resolve_timeout: "5m" },
        route: {
            receiver: args.owner,
            group_by: ["alertname", "team", "namespace"],
            group_wait: "30s",
            group_interval: "5m",
            repeat_interval: `${args.repeatIntervalHours}h`,
            routes: [
                // kube-prometheus-stack's always-firing heartbeat and its info inhibitor go nowhere.
                { receiver: "null", matchers: ['alertname=~"Watchdog|InfoInhibitor"'] },
                ...args.teams.map((t) => {
                    const critical = criticalRoute(t.name, t.receiver);
                    return { receiver: t.name, matchers: [`team="${t.name}"`], ...(critical.length > 0 ? { routes: critical } : {}) };
                }),
                ...platformCritical,
            ],
        },
        inhibit_rules: [
            // A critical alert silences the warning of the same alert in the same namespace.
            { source_matchers: ['severity="critical"'], target_matchers: ['severity="warning"'], equal: ["namespace", "alertname"] },
            // A deployment without replicas explains its other symptoms.
            {
                source_matchers: ['alertname="ModelServiceDown"'],
                target_matchers: ['alertname=~"ModelReplicasUnavailable|ModelLatencyP95High|ModelErrorRatioHigh"'],
                equal: ["namespace"],
            },
        ],
        receivers: [{ name: "null" }, ...receiversOf(args.owner, args.platformReceiver), ...args.teams.flatMap((t) => receiversOf(t.name, t.receiver))],
        templates: ["/etc/alertmanager/config/*.tmpl"],
    };
}

/** A PVC template of a given size (the cluster's default storage class). */
function volumeClaimTemplate(storageGi: number) {
    return { spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: `${storageGi}Gi` } } } };
}

/** Ownership labels (the `mlops.<domain>/*` keys) for objects the charts create. */
export function ownershipLabels(ctx: LabelContext): Record<string, string> {
    const keys = labelKeys(ctx.labelDomain);
    const all = standardLabels(ctx, { name: "monitoring", component: "monitoring" });
    return Object.fromEntries([keys.team, keys.owner, keys.environment, keys.costCentre].map((k) => [k, all[k]]));
}

/** What the kube-prometheus-stack values refer to that other resources create. */
export interface KubePrometheusStackRefs {
    /** Name of the Grafana admin Secret (an output, so the release waits for it). */
    readonly grafanaAdminSecret: pulumi.Input<string>;
    /** Name of the receiver Secret. */
    readonly receiverSecret: pulumi.Input<string>;
}

/** Helm values of kube-prometheus-stack. They contain no secret: Grafana's and Alertmanager's come from Secrets. */
export function kubePrometheusStackValues(args: MonitoringStackArgs, refs: KubePrometheusStackRefs): Record<string, unknown> {
    const p = args.prometheus;
    const a = args.alertmanager;
    return {
        fullnameOverride: RELEASES.kubePrometheusStack,
        commonLabels: ownershipLabels(args.labels),
        crds: { enabled: true },
        // EKS runs the control plane: its components cannot be scraped from the cluster.
        kubeControllerManager: { enabled: false },
        kubeScheduler: { enabled: false },
        kubeEtcd: { enabled: false },
        kubeProxy: { enabled: false },
        defaultRules: {
            create: true,
            rules: { etcd: false, kubeControllerManager: false, kubeSchedulerAlerting: false, kubeSchedulerRecording: false, kubeProxy: false, windows: false },
        },
        // The subcharts take their labels under their own keys (commonLabels reaches only this chart's templates).
        "kube-state-metrics": { customLabels: ownershipLabels(args.labels) },
        "prometheus-node-exporter": { commonLabels: ownershipLabels(args.labels) },
        prometheusOperator: {
            resources: containerResources({ cpuRequest: "50m", memoryRequest: "128Mi", cpuLimit: "500m", memoryLimit: "512Mi" }, CHART_STORAGE),
        },
        prometheus: {
            ingress: { enabled: false },
            service: { type: "ClusterIP" },
            prometheusSpec: {
                replicas: p.replicas,
                retention: `${p.retentionDays}d`,
                // Stop at 90% of the volume: a full disk corrupts the head block.
                retentionSize: `${Math.floor(p.storageGi * 0.9)}GB`,
                resources: containerResources(p.resources, CHART_STORAGE),
                externalLabels: { cluster: args.clusterName, environment: args.labels.environment },
                // Select ServiceMonitors, PodMonitors, Probes, rules and scrape configs in every namespace,
                // not only those labelled with this release: teams ship their own.
                serviceMonitorSelectorNilUsesHelmValues: false,
                podMonitorSelectorNilUsesHelmValues: false,
                probeSelectorNilUsesHelmValues: false,
                ruleSelectorNilUsesHelmValues: false,
                scrapeConfigSelectorNilUsesHelmValues: false,
                storageSpec: { volumeClaimTemplate: volumeClaimTemplate(p.storageGi) },
            },
        },
        alertmanager: {
            ingress: { enabled: false },
            service: { type: "ClusterIP" },
            config: alertmanagerConfig({
                environment: args.labels.environment,
                owner: args.labels.owner,
                platformReceiver: args.platformReceiver,
                teams: args.teams,
                repeatIntervalHours: args.repeatIntervalHours,
                secretDir: RECEIVER_SECRET_DIR,
            }),
            alertmanagerSpec: {
                replicas: a.replicas,
                resources: containerResources(a.resources, CHART_STORAGE),
                // Mounted at /etc/alertmanager/secrets/<name>/: the config reads the receiver secrets there.
                secrets: [refs.receiverSecret],
                storage: { volumeClaimTemplate: volumeClaimTemplate(a.storageGi) },
            },
        },
        grafana: {
            // The admin password is generated and kept in a Secret; the values carry only its name.
            admin: { existingSecret: refs.grafanaAdminSecret, userKey: "admin-user", passwordKey: "admin-password" },
            service: { type: "ClusterIP" },
            ingress: { enabled: false },
            persistence: { enabled: false },
            testFramework: { enabled: false },
            // Grafana's chart labels its objects with extraLabels, not kube-prometheus-stack's commonLabels.
            extraLabels: ownershipLabels(args.labels),
            resources: containerResources(args.grafana.resources, GRAFANA_STORAGE),
            defaultDashboardsTimezone: "utc",
            "grafana.ini": {
                analytics: { reporting_enabled: false, check_for_updates: false },
                users: { allow_sign_up: false },
                "auth.anonymous": { enabled: false },
            },
            sidecar: {
                dashboards: {
                    enabled: true,
                    label: "grafana_dashboard",
                    labelValue: DASHBOARD_LABEL.grafana_dashboard,
                    folderAnnotation: "grafana_folder",
                    provider: { foldersFromFilesStructure: true },
                },
            },
        },
    };
}

/** Helm values of the Pushgateway: restricted pods, scraped with its pushed labels kept (honorLabels). */
export function pushgatewayValues(args: MonitoringStackArgs): Record<string, unknown> {
    const pg = args.pushgateway;
    return {
        fullnameOverride: RELEASES.pushgateway,
        podLabels: ownershipLabels(args.labels),
        automountServiceAccountToken: false,
        resources: containerResources(pg.resources, CHART_STORAGE),
        securityContext: { runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534, fsGroup: 65534, seccompProfile: { type: "RuntimeDefault" } },
        containerSecurityContext: {
            runAsNonRoot: true,
            runAsUser: 65534,
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ["ALL"] },
        },
        persistentVolume: { enabled: pg.persistence, size: `${pg.storageGi}Gi` },
        // Without persistence a restart forgets every pushed series (and the staleness alerts lose their input).
        extraArgs: pg.persistence ? ["--persistence.file=/data/pushgateway.data", "--persistence.interval=5m"] : [],
        // The chart (3.8.0) puts podLabels on every object it renders, its ServiceMonitor included: the
        // ownership labels again as serviceMonitor.additionalLabels would be duplicate YAML keys there.
        serviceMonitor: { enabled: true, namespace: args.namespace, honorLabels: true },
    };
}

/** In-cluster URL of the Prometheus service of kube-prometheus-stack in `namespace` (without the port). */
export function prometheusServiceUrl(namespace: string): string {
    return `http://${RELEASES.kubePrometheusStack}-prometheus.${namespace}.svc.cluster.local`;
}

/**
 * Helm values of prometheus-adapter: the custom metrics API (custom.metrics.k8s.io) with the one metric
 * the platform's HPAs use ({@link requestsPerSecondAdapterRule}); not the chart's default rules (every
 * container metric, relisted from Prometheus every minute, that nothing here reads) and no resource or
 * external metrics (metrics-server keeps metrics.k8s.io). As many replicas as Prometheus,
 * with a disruption budget when there are several: an HPA without its metric does not scale.
 */
export function prometheusAdapterValues(args: MonitoringStackArgs): Record<string, unknown> {
    const replicas = args.prometheus.replicas;
    return {
        fullnameOverride: RELEASES.prometheusAdapter,
        // On every object and, in the chart (5.3.0), on the pod template too: podLabels as well would be
        // duplicate YAML keys there.
        customLabels: ownershipLabels(args.labels),
        prometheus: { url: prometheusServiceUrl(args.namespace), port: PROMETHEUS_PORT, path: "" },
        replicas,
        podDisruptionBudget: replicas > 1 ? { enabled: true, maxUnavailable: 1 } : { enabled: false },
        resources: containerResources({ cpuRequest: "50m", memoryRequest: "128Mi", cpuLimit: "500m", memoryLimit: "256Mi" }, CHART_STORAGE),
        podSecurityContext: restrictedPodSecurityContext(10001),
        securityContext: restrictedContainerSecurityContext(10001),
        rules: { default: false, custom: [requestsPerSecondAdapterRule()], external: [] },
    };
}

/**
 * Helm values of metrics-server: the resource metrics API (metrics.k8s.io: CPU and memory of pods and
 * nodes) HPAs read for CPU targets. As many replicas as Prometheus, with a disruption budget when there
 * are several; restricted; the chart's default arguments (the kubelets' internal addresses, their status
 * port, 15 s resolution).
 */
export function metricsServerValues(args: MonitoringStackArgs): Record<string, unknown> {
    const replicas = args.prometheus.replicas;
    return {
        fullnameOverride: RELEASES.metricsServer,
        commonLabels: ownershipLabels(args.labels),
        // The chart's pod template carries podLabels, not commonLabels.
        podLabels: ownershipLabels(args.labels),
        replicas,
        podDisruptionBudget: replicas > 1 ? { enabled: true, minAvailable: 1 } : { enabled: false },
        resources: containerResources({ cpuRequest: "100m", memoryRequest: "200Mi", cpuLimit: "1", memoryLimit: "500Mi" }, CHART_STORAGE),
        podSecurityContext: restrictedPodSecurityContext(1000),
        securityContext: restrictedContainerSecurityContext(1000),
        apiService: { create: true },
    };
}

/** A PrometheusRule object's worth of rules: its name, the team that owns the alerts, the groups. */
export interface RuleSet {
    readonly name: string;
    readonly team: string;
    readonly groups: RuleGroup[];
}

/** The rule sets of the stack: one per team, and the platform's. */
export function monitoringRuleSets(args: Pick<MonitoringStackArgs, "teams" | "labels" | "mlflow" | "runbookBaseUrl">): RuleSet[] {
    return [
        ...args.teams.map((t) => ({
            name: `mlops-model-alerts-${t.name}`,
            team: t.name,
            groups: modelAlertGroups({ team: t.name, namespace: t.namespace, slo: t.slo, runbookBaseUrl: args.runbookBaseUrl }),
        })),
        {
            name: "mlops-platform-alerts",
            team: args.labels.owner,
            groups: platformAlertGroups({
                owner: args.labels.owner,
                mlflowNamespace: args.mlflow.namespaceName,
                mlflowService: args.mlflow.serviceName,
                runbookBaseUrl: args.runbookBaseUrl,
            }),
        },
    ];
}

/** The platform's dashboards. */
export function monitoringDashboards(args: Pick<MonitoringStackArgs, "mlflow">): Dashboard[] {
    return [modelServiceDashboard(), batchJobsDashboard(), mlflowDashboard({ namespace: args.mlflow.namespaceName, service: args.mlflow.serviceName })];
}

/** The monitoring stack of the platform. */
export class MonitoringStack extends pulumi.ComponentResource {
    /** Namespace of the stack. */
    public readonly namespace: pulumi.Output<string>;
    /** In-cluster URL of the Pushgateway that drift checks and batch jobs push to. */
    public readonly pushgatewayUrl: pulumi.Output<string>;
    /** In-cluster URL of Prometheus. */
    public readonly prometheusUrl: pulumi.Output<string>;
    /** In-cluster URL of Grafana (reach it with `kubectl port-forward`). */
    public readonly grafanaUrl: pulumi.Output<string>;
    /** Secret with Grafana's admin credentials. */
    public readonly grafanaAdminSecretName: pulumi.Output<string>;
    /** The Grafana admin password (a secret). */
    public readonly grafanaAdminPassword: pulumi.Output<string>;
    /** Receiver secrets the configuration needs but was not given (their notifications fail until set). */
    public readonly missingCredentials: string[];
    /** Names of the PrometheusRule objects. */
    public readonly ruleNames: string[];
    /** The release that installs the prometheus-operator CRDs: other components' ServiceMonitors wait for it (and only they). */
    public readonly crds: pulumi.Resource;

    constructor(name: string, args: MonitoringStackArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlops:index:MonitoringStack", name, {}, opts);
        validateMonitoringStackArgs(args);

        const protect = args.protect === true;
        const child: pulumi.CustomResourceOptions = { parent: this };
        const labelsFor = (component: string) => standardLabels(args.labels, { name: "monitoring", component });

        const namespace = new k8s.core.v1.Namespace(
            `${name}-namespace`,
            {
                metadata: {
                    name: args.namespace,
                    // node-exporter needs the host's network, PID namespace and filesystem: privileged.
                    labels: { ...labelsFor("monitoring"), ...podSecurityAdmissionLabels("privileged") },
                },
            },
            { parent: this, protect, retainOnDelete: protect },
        );
        const ns = namespace.metadata.name;

        // --- Secrets -------------------------------------------------------------------------------
        const grafanaPassword = new random.RandomPassword(`${name}-grafana-admin-password`, { length: 32, special: false }, child);
        const grafanaSecret = new k8s.core.v1.Secret(
            `${name}-grafana-admin`,
            {
                metadata: { name: GRAFANA_ADMIN_SECRET, namespace: ns, labels: labelsFor("grafana") },
                type: "Opaque",
                stringData: pulumi.secret({ "admin-user": "admin", "admin-password": grafanaPassword.result }),
            },
            child,
        );
        const receiverSecret = new k8s.core.v1.Secret(
            `${name}-alertmanager-receivers`,
            {
                metadata: { name: RECEIVER_SECRET, namespace: ns, labels: labelsFor("alertmanager") },
                type: "Opaque",
                stringData: pulumi.secret({ ...(args.receiverCredentials ?? {}) }),
            },
            child,
        );
        const needed = [
            ...requiredCredentials(args.labels.owner, args.platformReceiver),
            ...args.teams.flatMap((t) => requiredCredentials(t.name, t.receiver)),
        ];
        this.missingCredentials = needed.filter((k) => !(k in (args.receiverCredentials ?? {})));
        if (this.missingCredentials.length > 0) {
            pulumi.log.warn(
                `Alertmanager receivers have no secret for ${this.missingCredentials.join(", ")}: their notifications fail until set with ` +
                    `pulumi config set --secret --path 'mlops:alertmanagerCredentials.<key>' <value>.`,
                this,
            );
        }

        // --- Charts --------------------------------------------------------------------------------
        /** A pinned chart of {@link CHARTS} as the Helm release of the same key, resource `<name>-<release>`. */
        const chartRelease = (
            key: keyof typeof CHARTS,
            namespace: pulumi.Input<string>,
            values: Record<string, unknown>,
            timeout: number,
            opts: pulumi.CustomResourceOptions,
        ) =>
            new k8s.helm.v3.Release(
                `${name}-${RELEASES[key]}`,
                {
                    name: RELEASES[key],
                    chart: CHARTS[key].chart,
                    version: CHARTS[key].version,
                    repositoryOpts: { repo: CHARTS[key].repo },
                    namespace,
                    createNamespace: false,
                    values,
                    timeout,
                    maxHistory: 10,
                    cleanupOnFail: true,
                },
                opts,
            );
        const kps = chartRelease(
            "kubePrometheusStack",
            ns,
            kubePrometheusStackValues(args, { grafanaAdminSecret: grafanaSecret.metadata.name, receiverSecret: receiverSecret.metadata.name }),
            900,
            // The release owns the Prometheus and Alertmanager StatefulSets and their volumes.
            { parent: this, protect, retainOnDelete: protect },
        );
        // Custom resources need the operator's CRDs, which the kube-prometheus-stack release installs.
        const afterCrds: pulumi.CustomResourceOptions = { parent: this, dependsOn: [kps] };
        this.crds = kps;
        // With persistence the release owns the Pushgateway's volume (pushed series survive restarts).
        const pgData = protect && args.pushgateway.persistence;
        chartRelease("pushgateway", ns, pushgatewayValues(args), 300, { ...afterCrds, protect: pgData, retainOnDelete: pgData });
        // The custom metrics API for the HPAs' requests-per-second target. It reads Prometheus, so it comes
        // after the release that runs it.
        chartRelease("prometheusAdapter", ns, prometheusAdapterValues(args), 300, afterCrds);
        // The resource metrics API for the HPAs' CPU targets, unless the cluster runs its own.
        if (args.metricsServer) chartRelease("metricsServer", METRICS_SERVER_NAMESPACE, metricsServerValues(args), 300, child);
        new k8s.networking.v1.NetworkPolicy(
            `${name}-pushgateway-ingress`,
            {
                metadata: { name: "pushgateway-ingress", namespace: ns, labels: labelsFor("pushgateway") },
                spec: {
                    podSelector: { matchLabels: { ...PUSHGATEWAY_POD_LABELS } },
                    policyTypes: ["Ingress"],
                    ingress: [
                        {
                            from: [
                                // Drift checks and batch jobs of team serving namespaces push.
                                { namespaceSelector: { matchLabels: servingNamespaceLabel(args.labels.labelDomain) } },
                                // Prometheus scrapes.
                                {
                                    namespaceSelector: { matchLabels: namespaceNameLabel(args.namespace) },
                                    podSelector: { matchLabels: { ...PROMETHEUS_POD_LABELS } },
                                },
                            ],
                            ports: [{ protocol: "TCP", port: PUSHGATEWAY_PORT }],
                        },
                    ],
                },
            },
            child,
        );

        // --- Rules, scrape of MLflow, dashboards ---------------------------------------------------
        const ruleSets = monitoringRuleSets(args);
        this.ruleNames = ruleSets.map((r) => r.name);
        for (const set of ruleSets) {
            new k8s.apiextensions.CustomResource(
                `${name}-${set.name}`,
                {
                    apiVersion: "monitoring.coreos.com/v1",
                    kind: "PrometheusRule",
                    metadata: {
                        name: set.name,
                        namespace: ns,
                        labels: standardLabels(args.labels, { name: "monitoring", component: "alert-rules", team: set.team }),
                    },
                    spec: { groups: set.groups.map(toCrdGroup) },
                },
                afterCrds,
            );
        }

        const m = args.mlflow;
        new k8s.apiextensions.CustomResource(
            `${name}-mlflow-service-monitor`,
            {
                apiVersion: "monitoring.coreos.com/v1",
                kind: "ServiceMonitor",
                metadata: { name: "mlflow", namespace: m.namespace, labels: labelsFor("service-monitor") },
                spec: {
                    selector: { matchLabels: m.serviceSelector },
                    namespaceSelector: { matchNames: [m.namespace] },
                    endpoints: [
                        {
                            port: m.portName,
                            path: "/metrics",
                            interval: "30s",
                            scrapeTimeout: "10s",
                            // With MLflow auth on, /metrics needs credentials: the scrape reads them from the
                            // Secret in MLflow's namespace.
                            ...(m.basicAuth
                                ? {
                                      basicAuth: {
                                          username: { name: m.basicAuth.secretName, key: m.basicAuth.usernameKey },
                                          password: { name: m.basicAuth.secretName, key: m.basicAuth.passwordKey },
                                      },
                                  }
                                : {}),
                        },
                    ],
                },
            },
            afterCrds,
        );

        for (const dashboard of monitoringDashboards(args)) {
            new k8s.core.v1.ConfigMap(
                `${name}-dashboard-${dashboard.uid}`,
                {
                    metadata: {
                        name: `dashboard-${dashboard.uid}`,
                        namespace: ns,
                        labels: { ...labelsFor("dashboard"), ...DASHBOARD_LABEL },
                        annotations: { grafana_folder: "MLOps" },
                    },
                    data: { [`${dashboard.uid}.json`]: JSON.stringify(dashboard) },
                },
                child,
            );
        }

        const svc = (service: string, port: number) => pulumi.interpolate`http://${service}.${ns}.svc.cluster.local:${port}`;
        this.namespace = ns;
        this.pushgatewayUrl = svc(RELEASES.pushgateway, PUSHGATEWAY_PORT);
        this.prometheusUrl = svc(`${RELEASES.kubePrometheusStack}-prometheus`, PROMETHEUS_PORT);
        this.grafanaUrl = svc(`${RELEASES.kubePrometheusStack}-grafana`, 80);
        this.grafanaAdminSecretName = grafanaSecret.metadata.name;
        this.grafanaAdminPassword = pulumi.secret(grafanaPassword.result);
        this.registerOutputs({
            namespace: this.namespace,
            pushgatewayUrl: this.pushgatewayUrl,
            prometheusUrl: this.prometheusUrl,
            grafanaUrl: this.grafanaUrl,
            grafanaAdminSecretName: this.grafanaAdminSecretName,
        });
    }
}

/** A rule group as the PrometheusRule CRD wants it (same shape as the rule file; `interval` only when set). */
function toCrdGroup(group: RuleGroup): { name: string; interval?: string; rules: AlertingRule[] } {
    return { name: group.name, ...(group.interval ? { interval: group.interval } : {}), rules: group.rules };
}

/** Checks the arguments before anything is registered; every problem at once. */
export function validateMonitoringStackArgs(args: MonitoringStackArgs): void {
    const problems: string[] = [];
    const names = args.teams.map((t) => t.name);
    const duplicate = names.find((n, i) => names.indexOf(n) !== i);
    if (duplicate) problems.push(`team "${duplicate}" is listed twice`);
    const reserved = [args.labels.owner, "null", ...(args.platformReceiver.pagerduty ? [`${args.labels.owner}-critical`] : [])];
    for (const n of names) if (reserved.includes(n)) problems.push(`team "${n}" has the name of a platform receiver (${reserved.join(", ")})`);
    for (const t of args.teams)
        if (t.namespace === args.namespace) problems.push(`team "${t.name}" cannot serve from the monitoring namespace ${args.namespace}`);
    if (!/^https:\/\/\S+[^/\s]$/.test(args.runbookBaseUrl))
        problems.push(`runbookBaseUrl "${args.runbookBaseUrl}" must be an https:// URL without a trailing slash`);
    for (const [key, value, min, max] of [
        ["prometheus.replicas", args.prometheus.replicas, 1, 5],
        ["prometheus.retentionDays", args.prometheus.retentionDays, 1, 365],
        ["prometheus.storageGi", args.prometheus.storageGi, 5, 16384],
        ["alertmanager.replicas", args.alertmanager.replicas, 1, 5],
        ["alertmanager.storageGi", args.alertmanager.storageGi, 1, 100],
        ["pushgateway.storageGi", args.pushgateway.storageGi, 1, 100],
        ["repeatIntervalHours", args.repeatIntervalHours, 1, 168],
    ] as const) {
        if (!Number.isInteger(value) || value < min || value > max) problems.push(`${key} must be an integer from ${min} to ${max}, got ${value}`);
    }
    const known = new Set([args.labels.owner, ...names].flatMap((n) => Object.values(CREDENTIAL_SUFFIXES).map((s) => `${n}${s}`)));
    for (const key of Object.keys(args.receiverCredentials ?? {})) {
        if (!known.has(key))
            problems.push(
                `receiverCredentials has an unknown key "${key}" (expected <receiver>${CREDENTIAL_SUFFIXES.slack} or <receiver>${CREDENTIAL_SUFFIXES.pagerduty})`,
            );
    }
    if (problems.length > 0) throw new Error(`MonitoringStack: ${problems.join("; ")}.`);
}
