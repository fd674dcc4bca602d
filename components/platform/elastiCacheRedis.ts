/**
 * A managed Redis (ElastiCache replication group), the feature store's online store in test and prod:
 * encrypted at rest with its own KMS key and in transit (TLS required), an AUTH token (a generated
 * secret), in private subnets behind a security group that admits Redis from the cluster's nodes only,
 * with automatic failover across zones when it has replicas, and daily snapshots.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { REDIS_PORT } from "../contract";

/** Arguments of {@link ElastiCacheRedis}. */
export interface ElastiCacheRedisArgs {
    /** Replication group id (1-40 lower-case letters, digits and single hyphens, starting with a letter). */
    readonly replicationGroupId: string;
    /** Node type, e.g. `cache.t4g.small`. */
    readonly nodeType: string;
    /** Redis engine version, e.g. `7.1`. */
    readonly engineVersion: string;
    /** Cache nodes: a primary and its replicas. More than one gets automatic failover across zones. */
    readonly nodes: number;
    /** Days of daily snapshots kept (0 switches them off). */
    readonly snapshotRetentionDays: number;
    /** The AUTH token clients send: pass a secret (16-128 letters and digits). */
    readonly authToken: pulumi.Input<string>;
    /** VPC of the cluster. */
    readonly vpcId: string;
    /** Private subnets of the cache nodes. */
    readonly subnetIds: readonly string[];
    /** Security group of the cluster's nodes and pods: the only source admitted. */
    readonly clientSecurityGroupId: string;
    /** Apply modifications immediately instead of in the maintenance window. Default false. */
    readonly applyImmediately?: boolean;
    /** Protect and retain the replication group and its key (prod). Default false. */
    readonly protect?: boolean;
}

/** An encrypted, private, authenticated ElastiCache replication group. */
export class ElastiCacheRedis extends pulumi.ComponentResource {
    /** Host name of the primary endpoint (not secret). */
    public readonly host: pulumi.Output<string>;
    /** Port of the endpoint. */
    public readonly port: number;
    /** The replication group. */
    public readonly replicationGroup: aws.elasticache.ReplicationGroup;
    /** The security group of the cache nodes. */
    public readonly securityGroupId: pulumi.Output<string>;

    constructor(name: string, args: ElastiCacheRedisArgs, opts?: pulumi.ComponentResourceOptions) {
        validateElastiCacheRedisArgs(args);
        super("mlops:index:ElastiCacheRedis", name, {}, opts);

        const protect = args.protect === true;
        const stateful: pulumi.CustomResourceOptions = { parent: this, protect, retainOnDelete: protect };
        const child: pulumi.CustomResourceOptions = { parent: this };
        const id = args.replicationGroupId;

        const key = new aws.kms.Key(
            `${name}-key`,
            { description: `Encrypts the ElastiCache replication group ${id} and its snapshots`, enableKeyRotation: true, deletionWindowInDays: 30 },
            stateful,
        );
        new aws.kms.Alias(`${name}-key-alias`, { name: `alias/${id}-elasticache`, targetKeyId: key.keyId }, child);

        const subnetGroup = new aws.elasticache.SubnetGroup(
            `${name}-subnets`,
            { name: id, description: `Private subnets of ${id}`, subnetIds: [...args.subnetIds] },
            child,
        );
        const securityGroup = new aws.ec2.SecurityGroup(
            `${name}-sg`,
            { description: `Redis ${id}: TCP ${REDIS_PORT} from the cluster nodes only`, vpcId: args.vpcId },
            child,
        );
        // No egress rule: the cache opens no connections. The only ingress is Redis from the nodes.
        new aws.vpc.SecurityGroupIngressRule(
            `${name}-ingress-nodes`,
            {
                securityGroupId: securityGroup.id,
                description: "Redis from the EKS nodes and pods",
                ipProtocol: "tcp",
                fromPort: REDIS_PORT,
                toPort: REDIS_PORT,
                referencedSecurityGroupId: args.clientSecurityGroupId,
            },
            child,
        );

        const failover = args.nodes > 1;
        this.replicationGroup = new aws.elasticache.ReplicationGroup(
            `${name}-replication-group`,
            {
                replicationGroupId: id,
                description: `Feast online store ${id}`,
                engine: "redis",
                engineVersion: args.engineVersion,
                nodeType: args.nodeType,
                numCacheClusters: args.nodes,
                automaticFailoverEnabled: failover,
                multiAzEnabled: failover,
                port: REDIS_PORT,
                subnetGroupName: subnetGroup.name,
                securityGroupIds: [securityGroup.id],
                atRestEncryptionEnabled: true,
                kmsKeyId: key.arn,
                transitEncryptionEnabled: true,
                transitEncryptionMode: "required",
                authToken: pulumi.secret(args.authToken),
                autoMinorVersionUpgrade: true,
                snapshotRetentionLimit: args.snapshotRetentionDays,
                snapshotWindow: "02:00-03:00",
                maintenanceWindow: "sun:03:30-sun:04:30",
                applyImmediately: args.applyImmediately ?? false,
                finalSnapshotIdentifier: args.snapshotRetentionDays > 0 ? `${id}-final` : undefined,
            },
            stateful,
        );

        this.host = this.replicationGroup.primaryEndpointAddress;
        this.port = REDIS_PORT;
        this.securityGroupId = securityGroup.id;
        this.registerOutputs({ host: this.host, port: this.port, securityGroupId: this.securityGroupId });
    }
}

/** Checks the arguments before anything is registered. */
export function validateElastiCacheRedisArgs(args: ElastiCacheRedisArgs): void {
    const problems: string[] = [];
    if (!/^[a-z](?!.*--)[a-z0-9-]{0,39}(?<!-)$/.test(args.replicationGroupId)) {
        problems.push(`replicationGroupId "${args.replicationGroupId}" must be 1-40 lower-case letters, digits and single hyphens, starting with a letter`);
    }
    if (!/^cache\.[a-z0-9]+\.[a-z0-9]+$/.test(args.nodeType))
        problems.push(`nodeType "${args.nodeType}" must be an ElastiCache node type like cache.t4g.small`);
    if (!/^\d+\.\d+$/.test(args.engineVersion)) problems.push(`engineVersion "${args.engineVersion}" must be a Redis version like 7.1`);
    if (!Number.isInteger(args.nodes) || args.nodes < 1 || args.nodes > 6) problems.push(`nodes must be an integer from 1 to 6, got ${args.nodes}`);
    if (!Number.isInteger(args.snapshotRetentionDays) || args.snapshotRetentionDays < 0 || args.snapshotRetentionDays > 35) {
        problems.push(`snapshotRetentionDays must be an integer from 0 to 35, got ${args.snapshotRetentionDays}`);
    }
    if (new Set(args.subnetIds).size < 2) problems.push(`subnetIds must hold at least two distinct private subnets, got ${args.subnetIds.length}`);
    if (!/^sg-[0-9a-f]{8,17}$/.test(args.clientSecurityGroupId))
        problems.push(`clientSecurityGroupId "${args.clientSecurityGroupId}" must be a security group id like sg-0123456789abcdef0`);
    if (problems.length > 0) throw new Error(`ElastiCacheRedis "${args.replicationGroupId}": ${problems.join("; ")}.`);
}
