import { defineResourcePolicy } from "../../framework/define";

const INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
const SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup";
const ANYWHERE = ["0.0.0.0/0", "::/0"];

export interface Config {
    /** Ports that may be open to the internet (none by default: the platform exposes nothing directly). */
    allowedPublicPorts: number[];
}

/** A rule's port range, for messages. */
function ports(r: Record<string, any>): string {
    if (r.ipProtocol === "-1" || r.protocol === "-1") return "every port";
    const from = r.fromPort;
    const to = r.toPort;
    return from === to ? `port ${from}` : `ports ${from}-${to}`;
}

/** Is every port of the rule's range in `allowed`? */
function onlyAllowed(r: Record<string, any>, allowed: number[]): boolean {
    if (r.ipProtocol === "-1" || r.protocol === "-1") return false;
    if (typeof r.fromPort !== "number" || typeof r.toPort !== "number") return false;
    for (let p = r.fromPort; p <= r.toPort; p++) if (!allowed.includes(p)) return false;
    return true;
}

/** Security groups admit no traffic from anywhere (0.0.0.0/0, ::/0), except on the ports the config allows. */
export const securityGroupIngressRestricted = defineResourcePolicy<Config>({
    meta: {
        name: "security-group-ingress-restricted",
        pack: "mlops-security",
        title: "Security groups admit no traffic from anywhere",
        description:
            "No security-group ingress rule (an `aws.vpc.SecurityGroupIngressRule` or an inline `ingress` of an `aws.ec2.SecurityGroup`) has the source `0.0.0.0/0` or `::/0`, except on `allowedPublicPorts`.",
        rationale:
            "A database, a cache or a node reachable from the internet is one leaked password or one unpatched service away from a breach; the platform's data stores take traffic from the cluster's security group only.",
        severity: "critical",
        remediation: "Reference the client's security group (`referencedSecurityGroupId`) or a private CIDR instead of 0.0.0.0/0.",
        controls: [
            { framework: "AWS-FSBP", control: "EC2.18" },
            { framework: "AWS-FSBP", control: "EC2.19" },
            { framework: "AWS-FSBP", control: "EC2.53" },
            { framework: "CIS-AWS", control: "5.2" },
            { framework: "NIST-800-53", control: "SC-7" },
        ],
        topics: ["network", "public-access", "ec2"],
        protectsData: true,
        appliesTo: [INGRESS_RULE, `${SECURITY_GROUP} (inline ingress)`],
    },
    config: {
        allowedPublicPorts: { type: "array", items: { type: "integer" }, default: [], description: "Ports that may admit traffic from anywhere." },
    },
    types: [INGRESS_RULE, SECURITY_GROUP],
    check: ({ type, props }, config) => {
        const rules: Record<string, any>[] =
            type === INGRESS_RULE
                ? [props]
                : (Array.isArray(props.ingress) ? props.ingress : []).map((i: any) => ({
                      ...i,
                      cidrs: [...(i?.cidrBlocks ?? []), ...(i?.ipv6CidrBlocks ?? [])],
                  }));
        const problems: string[] = [];
        for (const r of rules) {
            const sources = type === INGRESS_RULE ? [r.cidrIpv4, r.cidrIpv6].filter((c) => typeof c === "string") : (r.cidrs as string[]);
            const open = sources.filter((c) => ANYWHERE.includes(c));
            if (open.length > 0 && !onlyAllowed(r, config.allowedPublicPorts)) {
                problems.push(`Security group ingress admits ${open.join(" and ")} on ${ports(r)}: reference the client's security group or a private CIDR.`);
            }
        }
        return problems;
    },
});
