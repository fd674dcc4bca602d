import { celMessage, celString, celStrings } from "../../framework/admission";
import { definePodPolicy, eachContainer } from "./podCommon";

/** `scheme://user:password@host`: a connection string with the password in it. */
const CREDENTIAL_URI = /^[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@/i;

export interface Config {
    namePattern: string;
    allowedNames: string[];
}

/** Environment variables that look like secrets come from a Secret, never a literal. */
export const secretEnvFromSecretRef = definePodPolicy<Config>({
    meta: {
        name: "secret-env-from-secret-ref",
        title: "Secrets reach containers through Secret references",
        description:
            "A container environment variable whose name looks like a secret (matches `namePattern`: PASSWORD, SECRET, TOKEN, API_KEY, ACCESS_KEY, CREDENTIALS...) is set with `valueFrom.secretKeyRef`, never a literal `value` or a ConfigMap; and no literal value of any variable embeds a password in a URI (`scheme://user:password@host`).",
        rationale:
            "A literal value is stored in the Deployment spec: readable by anyone who can read Deployments, shown in `kubectl describe`, kept in Pulumi state and in every rendered manifest.",
        severity: "high",
        remediation: "Put the value in a Kubernetes Secret (from a Pulumi secret) and reference it: `valueFrom: { secretKeyRef: { name, key } }`.",
        controls: [
            { framework: "NIST-800-53", control: "IA-5(7)" },
            { framework: "NIST-800-53", control: "SC-28" },
            { framework: "SOC2", control: "CC6.1" },
        ],
        topics: ["secrets", "kubernetes"],
        protectsData: true,
    },
    config: {
        namePattern: {
            type: "string",
            default: "(^|_)(PASSWORD|PASSWD|PWD|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|SECRET_?KEY|SIGNING_?KEY|CREDENTIALS?)(_|$)",
            description: "Regular expression (case-insensitive) of secret-looking variable names.",
        },
        allowedNames: {
            type: "array",
            items: { type: "string" },
            default: [],
            description: "Names that match the pattern but hold no secret (e.g. a token file path).",
        },
    },
    admission: {
        kinds: "workloads",
        validations: ({ config }) => {
            const pattern = celString(`(?i)${config.namePattern}`);
            const credential = celString(`(?i)${CREDENTIAL_URI.source}`);
            const allowed = celStrings(config.allowedNames);
            const ok = `(e.name in ${allowed} || (e.name.matches(${pattern}) ? (has(e.valueFrom) && has(e.valueFrom.secretKeyRef)) : !(has(e.value) && e.value.matches(${credential}))))`;
            return [
                {
                    expression: `variables.containers.all(c, !has(c.env) || c.env.all(e, ${ok}))`,
                    messageExpression: celMessage(
                        "secret-env-from-secret-ref",
                        `': container(s) ' + variables.containers.filter(c, has(c.env) && !c.env.all(e, ${ok})).map(c, c.name).join(', ') + ' set a secret-looking variable as a literal (or a URI with a password): take secrets from valueFrom.secretKeyRef.'`,
                    ),
                },
            ];
        },
    },
    check: (pod, config) => {
        const secretLike = new RegExp(config.namePattern, "i");
        return eachContainer(pod, (c) =>
            (Array.isArray(c.container.env) ? c.container.env : [])
                .filter((e: any) => typeof e?.name === "string" && !config.allowedNames.includes(e.name))
                .flatMap((e: any) => {
                    if (!secretLike.test(e.name)) {
                        return typeof e.value === "string" && CREDENTIAL_URI.test(e.value)
                            ? [`${c.label} sets ${e.name} to a URI with an embedded password: use valueFrom.secretKeyRef.`]
                            : [];
                    }
                    if (e.value !== undefined) return [`${c.label} sets ${e.name} as a literal value: use valueFrom.secretKeyRef.`];
                    if (!e.valueFrom?.secretKeyRef)
                        return [`${c.label} takes ${e.name} from ${Object.keys(e.valueFrom ?? {})[0] ?? "nowhere"}: use valueFrom.secretKeyRef.`];
                    return [];
                }),
        );
    },
});
