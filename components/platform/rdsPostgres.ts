/**
 * A managed Postgres database for a platform service: private, encrypted with its own rotating KMS key,
 * reachable only from the cluster's nodes, TLS enforced, backed up, and kept (final snapshot) on deletion.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** The Postgres port; the security group and NetworkPolicies open exactly this one. */
export const POSTGRES_PORT = 5432;

/** Arguments of {@link RdsPostgres}. */
export interface RdsPostgresArgs {
    /** DB instance identifier, e.g. `acme-prod-mlflow` (letters, digits and -, starting with a letter). */
    readonly identifier: string;
    /** Database created with the instance. */
    readonly databaseName: string;
    /** Master user name; the application connects as this user. */
    readonly username: string;
    /** Master password: pass a secret (e.g. `random.RandomPassword.result`). */
    readonly password: pulumi.Input<string>;
    /** Postgres `major.minor` version, e.g. `16.4`. */
    readonly engineVersion: string;
    /** Instance class, e.g. `db.t4g.medium`. */
    readonly instanceClass: string;
    /** Allocated storage in GiB (at least 20 for gp3). */
    readonly allocatedStorageGiB: number;
    /** Days of automated backups (1-35). */
    readonly backupRetentionDays: number;
    /** A standby in a second availability zone. */
    readonly multiAz: boolean;
    /** Refuse deletion of the instance. */
    readonly deletionProtection: boolean;
    /** VPC of the instance. */
    readonly vpcId: string;
    /** Private subnets of the subnet group (two availability zones at least). */
    readonly subnetIds: readonly string[];
    /** The only security group admitted on the Postgres port: the cluster's nodes (and pods). */
    readonly clientSecurityGroupId: string;
    /** Apply modifications now rather than in the maintenance window. Default false. */
    readonly applyImmediately?: boolean;
    /**
     * Let RDS apply minor versions in the maintenance window. Default true: the instance is then given the
     * major version only (`16`), so an automatic upgrade to 16.x is no drift that Pulumi would try to undo.
     */
    readonly autoMinorVersionUpgrade?: boolean;
    /** Performance Insights (7 days, free tier), encrypted with the database key. Default false. */
    readonly performanceInsights?: boolean;
    /** Storage autoscaling ceiling in GiB. Default twice the allocated storage. */
    readonly maxAllocatedStorageGiB?: number;
    /** Protect the instance and key from deletion and keep them if removed from the program (prod). Default false. */
    readonly protect?: boolean;
}

/**
 * Postgres on RDS: `publiclyAccessible: false` in a private subnet group, a security group that admits
 * TCP 5432 from the client security group only, storage encrypted with its own KMS key, `rds.force_ssl`,
 * automated backups, a final snapshot on deletion, deletion protection and Multi-AZ as configured.
 */
export class RdsPostgres extends pulumi.ComponentResource {
    /** The instance. */
    public readonly instance: aws.rds.Instance;
    /** Host name of the instance (not secret). */
    public readonly address: pulumi.Output<string>;
    /** Port of the instance. */
    public readonly port: number;
    /** Name of the database. */
    public readonly databaseName: string;
    /** Master user name. */
    public readonly username: string;
    /** The instance's security group. */
    public readonly securityGroupId: pulumi.Output<string>;
    /** ARN of the KMS key encrypting storage, snapshots and Performance Insights. */
    public readonly kmsKeyArn: pulumi.Output<string>;

    constructor(name: string, args: RdsPostgresArgs, opts?: pulumi.ComponentResourceOptions) {
        // Before super(): a bad argument fails before anything is registered.
        validateRdsPostgresArgs(args);
        super("mlops:index:RdsPostgres", name, {}, opts);

        const protect = args.protect === true;
        const stateful: pulumi.CustomResourceOptions = { parent: this, protect, retainOnDelete: protect };
        const child: pulumi.CustomResourceOptions = { parent: this };
        const autoMinor = args.autoMinorVersionUpgrade ?? true;

        const key = new aws.kms.Key(
            `${name}-key`,
            {
                description: `Encrypts the Postgres instance ${args.identifier}, its snapshots and Performance Insights`,
                enableKeyRotation: true,
                deletionWindowInDays: 30,
                keyUsage: "ENCRYPT_DECRYPT",
                customerMasterKeySpec: "SYMMETRIC_DEFAULT",
            },
            stateful,
        );
        new aws.kms.Alias(`${name}-key-alias`, { name: `alias/${args.identifier}-rds`, targetKeyId: key.keyId }, child);

        const subnetGroup = new aws.rds.SubnetGroup(
            `${name}-subnets`,
            { name: args.identifier, description: `Private subnets of ${args.identifier}`, subnetIds: [...args.subnetIds] },
            child,
        );

        const securityGroup = new aws.ec2.SecurityGroup(
            `${name}-sg`,
            { description: `Postgres ${args.identifier}: TCP ${POSTGRES_PORT} from the cluster nodes only`, vpcId: args.vpcId },
            child,
        );
        // No egress rule: the database opens no connections. The only ingress is Postgres from the nodes.
        new aws.vpc.SecurityGroupIngressRule(
            `${name}-ingress-nodes`,
            {
                securityGroupId: securityGroup.id,
                description: "Postgres from the EKS nodes and pods",
                ipProtocol: "tcp",
                fromPort: POSTGRES_PORT,
                toPort: POSTGRES_PORT,
                referencedSecurityGroupId: args.clientSecurityGroupId,
            },
            child,
        );

        const family = postgresParameterFamily(args.engineVersion);
        const parameterGroup = new aws.rds.ParameterGroup(
            `${name}-params`,
            {
                // Named by family: a major upgrade creates the new group before the old one goes.
                name: `${args.identifier}-${family}`,
                description: `Postgres settings of ${args.identifier}: TLS only`,
                family,
                parameters: postgresParameters(),
            },
            child,
        );

        this.instance = new aws.rds.Instance(
            `${name}-instance`,
            {
                identifier: args.identifier,
                engine: "postgres",
                engineVersion: rdsEngineVersion(args.engineVersion, autoMinor),
                autoMinorVersionUpgrade: autoMinor,
                allowMajorVersionUpgrade: false,
                instanceClass: args.instanceClass,
                allocatedStorage: args.allocatedStorageGiB,
                maxAllocatedStorage: args.maxAllocatedStorageGiB ?? args.allocatedStorageGiB * 2,
                storageType: "gp3",
                storageEncrypted: true,
                kmsKeyId: key.arn,
                dbName: args.databaseName,
                username: args.username,
                password: args.password,
                port: POSTGRES_PORT,
                dbSubnetGroupName: subnetGroup.name,
                vpcSecurityGroupIds: [securityGroup.id],
                parameterGroupName: parameterGroup.name,
                publiclyAccessible: false,
                multiAz: args.multiAz,
                deletionProtection: args.deletionProtection,
                backupRetentionPeriod: args.backupRetentionDays,
                backupWindow: "02:00-03:00",
                maintenanceWindow: "sun:03:30-sun:04:30",
                copyTagsToSnapshot: true,
                deleteAutomatedBackups: false,
                skipFinalSnapshot: false,
                finalSnapshotIdentifier: finalSnapshotIdentifier(args.identifier),
                applyImmediately: args.applyImmediately ?? false,
                enabledCloudwatchLogsExports: ["postgresql", "upgrade"],
                performanceInsightsEnabled: args.performanceInsights === true,
                ...(args.performanceInsights ? { performanceInsightsKmsKeyId: key.arn, performanceInsightsRetentionPeriod: 7 } : {}),
                caCertIdentifier: "rds-ca-rsa2048-g1",
            },
            stateful,
        );

        this.address = this.instance.address;
        this.port = POSTGRES_PORT;
        this.databaseName = args.databaseName;
        this.username = args.username;
        this.securityGroupId = securityGroup.id;
        this.kmsKeyArn = key.arn;
        this.registerOutputs({ address: this.address, port: this.port, securityGroupId: this.securityGroupId, kmsKeyArn: this.kmsKeyArn });
    }
}

const RDS_IDENTIFIER = /^[a-z](?!.*--)[a-z0-9-]{0,62}(?<!-)$/;
const PG_NAME = /^[a-z][a-z0-9_]{0,62}$/;
const RESERVED_USERS = ["rdsadmin", "rdsrepladmin", "postgres", "admin", "public"];

/** Checks the arguments before anything is registered. */
export function validateRdsPostgresArgs(args: RdsPostgresArgs): void {
    const problems: string[] = [];
    if (!RDS_IDENTIFIER.test(args.identifier)) {
        problems.push(
            `identifier "${args.identifier}" must be 1-63 lower-case letters, digits and single hyphens, starting with a letter and not ending with a hyphen`,
        );
    }
    if (!PG_NAME.test(args.databaseName)) {
        problems.push(`databaseName "${args.databaseName}" must be 1-63 lower-case letters, digits and _, starting with a letter`);
    }
    if (!PG_NAME.test(args.username) || RESERVED_USERS.includes(args.username)) {
        problems.push(
            `username "${args.username}" must be 1-63 lower-case letters, digits and _, starting with a letter, and not one of ${RESERVED_USERS.join(", ")}`,
        );
    }
    if (!/^\d+(\.\d+)?$/.test(args.engineVersion)) {
        problems.push(`engineVersion "${args.engineVersion}" must be a Postgres version like 16.4`);
    }
    if (!/^db\.[a-z0-9]+\.[a-z0-9]+$/.test(args.instanceClass)) {
        problems.push(`instanceClass "${args.instanceClass}" must be an RDS instance class like db.t4g.medium`);
    }
    if (!Number.isInteger(args.allocatedStorageGiB) || args.allocatedStorageGiB < 20 || args.allocatedStorageGiB > 65536) {
        problems.push(`allocatedStorageGiB must be an integer from 20 to 65536 (gp3 needs at least 20), got ${args.allocatedStorageGiB}`);
    }
    const max = args.maxAllocatedStorageGiB;
    if (max !== undefined && (!Number.isInteger(max) || max < args.allocatedStorageGiB || max > 65536)) {
        problems.push(`maxAllocatedStorageGiB must be an integer from allocatedStorageGiB (${args.allocatedStorageGiB}) to 65536, got ${max}`);
    }
    if (!Number.isInteger(args.backupRetentionDays) || args.backupRetentionDays < 1 || args.backupRetentionDays > 35) {
        problems.push(`backupRetentionDays must be an integer from 1 to 35 (0 would switch backups off), got ${args.backupRetentionDays}`);
    }
    if (new Set(args.subnetIds).size < 2) {
        problems.push(`subnetIds must hold at least two distinct private subnets (RDS needs two availability zones), got ${args.subnetIds.length}`);
    }
    if (!/^sg-[0-9a-f]{8,17}$/.test(args.clientSecurityGroupId)) {
        problems.push(`clientSecurityGroupId "${args.clientSecurityGroupId}" must be a security group id like sg-0123456789abcdef0`);
    }
    if (problems.length > 0) {
        throw new Error(`RdsPostgres "${args.identifier}": ${problems.join("; ")}.`);
    }
}

/** The engine version given to RDS: the major version alone when RDS upgrades minors itself, else `major.minor`. */
export function rdsEngineVersion(version: string, autoMinorVersionUpgrade: boolean): string {
    return autoMinorVersionUpgrade ? version.split(".")[0] : version;
}

/** Parameter group family of a Postgres version: `postgres16` for 16.4. */
export function postgresParameterFamily(version: string): string {
    return `postgres${version.split(".")[0]}`;
}

/** Parameters of the instance: reject connections without TLS, log statements slower than a second. */
export function postgresParameters(): { name: string; value: string; applyMethod: "immediate" | "pending-reboot" }[] {
    return [
        { name: "rds.force_ssl", value: "1", applyMethod: "immediate" },
        { name: "log_min_duration_statement", value: "1000", applyMethod: "immediate" },
    ];
}

/** Name of the snapshot RDS takes when the instance is deleted. */
export function finalSnapshotIdentifier(identifier: string): string {
    return `${identifier}-final`;
}
