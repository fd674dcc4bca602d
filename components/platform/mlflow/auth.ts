/**
 * MLflow basic auth, a child of MlflowTracking: the generated admin password and Flask secret key (Pulumi
 * secrets), the Secret holding `basic_auth.ini` (admin credentials, the auth store's URI, the default
 * permission, the registry namespaces' authorization function), and the ConfigMap carrying that
 * authorization function's module (mlflowRegistryNamespaces.ts), mounted on the server's PYTHONPATH.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { registryNamespacesConfigMapName, registryNamespacesFiles, REGISTRY_NAMESPACES_AUTH_FUNCTION } from "../mlflowRegistryNamespaces";
import { ADMIN_USERNAME, BASIC_AUTH_INI, basicAuthIni, MLFLOW_NAME, type MlflowPermission, uriSafePassword } from "../mlflowTracking";
import { movedChildOptions } from "./childOptions";

/** Arguments of {@link MlflowAuth}. */
export interface MlflowAuthArgs {
    /** Namespace of the server. */
    readonly namespace: pulumi.Input<string>;
    /** Labels of the Secret and the ConfigMap. */
    readonly labels: Readonly<Record<string, string>>;
    /** SQLAlchemy URI of the auth store (a secret: it holds the database password). */
    readonly databaseUri: pulumi.Output<string>;
    /** Permission of users on what nobody granted them. */
    readonly defaultPermission: MlflowPermission;
    /** The component these resources were children of before (MlflowTracking): each aliases it, keeping its URN's history. */
    readonly formerParent?: pulumi.Resource;
}

/** MLflow basic auth: admin credentials, `basic_auth.ini` and the registry namespaces' module. */
export class MlflowAuth extends pulumi.ComponentResource {
    /** Name of the Secret holding `basic_auth.ini`, the auth store URI, the admin credentials and the Flask secret key. */
    public readonly secretName: pulumi.Output<string>;
    /** The admin password (a secret). */
    public readonly adminPassword: pulumi.Output<string>;
    /** Name of the ConfigMap holding the registry namespaces' authorization module. */
    public readonly registryNamespacesConfigMapName: pulumi.Output<string>;

    /** `name` is MlflowTracking's: the resources keep the names they had as its children. */
    constructor(name: string, args: MlflowAuthArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlops:index:MlflowAuth", name, {}, opts);
        const child = movedChildOptions(this, args.formerParent);

        const adminPassword = new random.RandomPassword(`${name}-admin-password`, uriSafePassword(32), child);
        const flaskSecretKey = new random.RandomPassword(`${name}-flask-secret-key`, uriSafePassword(48), child);
        const ini = pulumi.all([adminPassword.result, args.databaseUri]).apply(([password, databaseUri]) =>
            basicAuthIni({
                adminUsername: ADMIN_USERNAME,
                adminPassword: password,
                databaseUri,
                defaultPermission: args.defaultPermission,
                authorizationFunction: REGISTRY_NAMESPACES_AUTH_FUNCTION,
            }),
        );
        const secret = new k8s.core.v1.Secret(
            `${name}-auth-secret`,
            {
                metadata: { name: `${MLFLOW_NAME}-auth`, namespace: args.namespace, labels: args.labels },
                type: "Opaque",
                stringData: pulumi.secret({
                    [BASIC_AUTH_INI]: ini,
                    "database-uri": args.databaseUri,
                    "admin-username": ADMIN_USERNAME,
                    "admin-password": adminPassword.result,
                    "flask-secret-key": flaskSecretKey.result,
                }),
            },
            child,
        );
        // The registry namespaces' authorization function (basic_auth.ini names it): a ConfigMap on PYTHONPATH.
        const files = registryNamespacesFiles();
        const configMap = new k8s.core.v1.ConfigMap(
            `${name}-registry-namespaces`,
            { metadata: { name: registryNamespacesConfigMapName(files), namespace: args.namespace, labels: args.labels }, data: files },
            child,
        );

        this.secretName = secret.metadata.name;
        this.adminPassword = pulumi.secret(adminPassword.result);
        this.registryNamespacesConfigMapName = configMap.metadata.name;
        this.registerOutputs({
            secretName: this.secretName,
            adminPassword: this.adminPassword,
            registryNamespacesConfigMapName: this.registryNamespacesConfigMapName,
        });
    }
}
