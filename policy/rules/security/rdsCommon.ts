/** The RDS resource types the RDS policies look at. */
export const RDS_INSTANCE = "aws:rds/instance:Instance";
export const RDS_CLUSTER = "aws:rds/cluster:Cluster";
export const RDS_TYPES = [RDS_INSTANCE, RDS_CLUSTER];
