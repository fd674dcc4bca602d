/** The security pack: data at rest and in transit, least privilege, hardened pods, exposure. */
import { definePack } from "../lib/define";
import { ecrRepositoryHardened } from "../lib/rules/security/ecrRepositoryHardened";
import { securityGroupIngressRestricted } from "../lib/rules/security/securityGroupIngressRestricted";
import { podServiceAccountTokenNotMounted } from "../lib/rules/security/podServiceAccountTokenNotMounted";
import { rbacNoWildcards } from "../lib/rules/security/rbacNoWildcards";
import { containerProbesRequired } from "../lib/rules/security/containerProbesRequired";
import { containerResourcesRequired } from "../lib/rules/security/containerResourcesRequired";
import { iamNoWildcardActions } from "../lib/rules/security/iamNoWildcardActions";
import { iamNoWildcardResources } from "../lib/rules/security/iamNoWildcardResources";
import { ingressTlsRequired } from "../lib/rules/security/ingressTlsRequired";
import { irsaTrustPinned } from "../lib/rules/security/irsaTrustPinned";
import { kmsKeyRotationEnabled } from "../lib/rules/security/kmsKeyRotationEnabled";
import { podCapabilitiesRestricted } from "../lib/rules/security/podCapabilitiesRestricted";
import { podNoHostNamespaces } from "../lib/rules/security/podNoHostNamespaces";
import { podNoHostPath } from "../lib/rules/security/podNoHostPath";
import { podNoPrivileged } from "../lib/rules/security/podNoPrivileged";
import { podNoPrivilegeEscalation } from "../lib/rules/security/podNoPrivilegeEscalation";
import { podReadOnlyRootFilesystem } from "../lib/rules/security/podReadOnlyRootFilesystem";
import { podRunAsNonRoot } from "../lib/rules/security/podRunAsNonRoot";
import { podSeccompProfile } from "../lib/rules/security/podSeccompProfile";
import { rdsBackupRetention } from "../lib/rules/security/rdsBackupRetention";
import { rdsDeletionProtected } from "../lib/rules/security/rdsDeletionProtected";
import { rdsMultiAz } from "../lib/rules/security/rdsMultiAz";
import { rdsNotPubliclyAccessible } from "../lib/rules/security/rdsNotPubliclyAccessible";
import { rdsStorageEncrypted } from "../lib/rules/security/rdsStorageEncrypted";
import { s3BucketEncryptedWithKms } from "../lib/rules/security/s3BucketEncryptedWithKms";
import { s3BucketPublicAccessBlocked } from "../lib/rules/security/s3BucketPublicAccessBlocked";
import { s3BucketTlsOnly } from "../lib/rules/security/s3BucketTlsOnly";
import { s3BucketVersioningEnabled } from "../lib/rules/security/s3BucketVersioningEnabled";
import { secretEnvFromSecretRef } from "../lib/rules/security/secretEnvFromSecretRef";
import { serviceTypeRestricted } from "../lib/rules/security/serviceTypeRestricted";
import { httpRouteGatewayHostnames } from "../lib/rules/security/httpRouteGatewayHostnames";
import { networkPolicyCoverage } from "../lib/rules/security/networkPolicyCoverage";

export const pack = definePack({
    name: "mlops-security",
    description: "MLOps platform security: encrypted, private, TLS-only storage and databases, least-privilege IAM and IRSA, restricted pods, secrets by reference, no public exposure.",
    policies: [
        s3BucketEncryptedWithKms,
        s3BucketVersioningEnabled,
        s3BucketPublicAccessBlocked,
        s3BucketTlsOnly,
        kmsKeyRotationEnabled,
        rdsStorageEncrypted,
        rdsNotPubliclyAccessible,
        rdsBackupRetention,
        rdsDeletionProtected,
        rdsMultiAz,
        iamNoWildcardActions,
        iamNoWildcardResources,
        irsaTrustPinned,
        podRunAsNonRoot,
        podNoPrivilegeEscalation,
        podReadOnlyRootFilesystem,
        podCapabilitiesRestricted,
        podSeccompProfile,
        podNoHostNamespaces,
        podNoHostPath,
        podNoPrivileged,
        containerResourcesRequired,
        containerProbesRequired,
        secretEnvFromSecretRef,
        serviceTypeRestricted,
        ingressTlsRequired,
        httpRouteGatewayHostnames,
        networkPolicyCoverage,
        ecrRepositoryHardened,
        securityGroupIngressRestricted,
        rbacNoWildcards,
        podServiceAccountTokenNotMounted,
    ],
});
