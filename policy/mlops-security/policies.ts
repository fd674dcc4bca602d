/** The security pack: data at rest and in transit, least privilege, hardened pods, exposure. */
import { definePack } from "../framework/define";
import { ecrRepositoryHardened } from "../rules/security/ecrRepositoryHardened";
import { securityGroupIngressRestricted } from "../rules/security/securityGroupIngressRestricted";
import { podServiceAccountTokenNotMounted } from "../rules/security/podServiceAccountTokenNotMounted";
import { rbacNoWildcards } from "../rules/security/rbacNoWildcards";
import { containerProbesRequired } from "../rules/security/containerProbesRequired";
import { containerResourcesRequired } from "../rules/security/containerResourcesRequired";
import { iamNoWildcardActions } from "../rules/security/iamNoWildcardActions";
import { iamNoWildcardResources } from "../rules/security/iamNoWildcardResources";
import { ingressTlsRequired } from "../rules/security/ingressTlsRequired";
import { irsaTrustPinned } from "../rules/security/irsaTrustPinned";
import { kmsKeyRotationEnabled } from "../rules/security/kmsKeyRotationEnabled";
import { podCapabilitiesRestricted } from "../rules/security/podCapabilitiesRestricted";
import { podNoHostNamespaces } from "../rules/security/podNoHostNamespaces";
import { podNoHostPath } from "../rules/security/podNoHostPath";
import { podNoPrivileged } from "../rules/security/podNoPrivileged";
import { podNoPrivilegeEscalation } from "../rules/security/podNoPrivilegeEscalation";
import { podReadOnlyRootFilesystem } from "../rules/security/podReadOnlyRootFilesystem";
import { podRunAsNonRoot } from "../rules/security/podRunAsNonRoot";
import { podSeccompProfile } from "../rules/security/podSeccompProfile";
import { rdsBackupRetention } from "../rules/security/rdsBackupRetention";
import { rdsDeletionProtected } from "../rules/security/rdsDeletionProtected";
import { rdsMultiAz } from "../rules/security/rdsMultiAz";
import { rdsNotPubliclyAccessible } from "../rules/security/rdsNotPubliclyAccessible";
import { rdsStorageEncrypted } from "../rules/security/rdsStorageEncrypted";
import { s3BucketEncryptedWithKms } from "../rules/security/s3BucketEncryptedWithKms";
import { s3BucketPublicAccessBlocked } from "../rules/security/s3BucketPublicAccessBlocked";
import { s3BucketTlsOnly } from "../rules/security/s3BucketTlsOnly";
import { s3BucketVersioningEnabled } from "../rules/security/s3BucketVersioningEnabled";
import { secretEnvFromSecretRef } from "../rules/security/secretEnvFromSecretRef";
import { serviceTypeRestricted } from "../rules/security/serviceTypeRestricted";
import { httpRouteGatewayHostnames } from "../rules/security/httpRouteGatewayHostnames";
import { networkPolicyCoverage } from "../rules/security/networkPolicyCoverage";
import { elastiCacheEncryptedAuthenticated } from "../rules/security/elastiCacheEncryptedAuthenticated";

export const pack = definePack({
    name: "mlops-security",
    description:
        "MLOps platform security: encrypted, private, TLS-only storage and databases, least-privilege IAM and IRSA, restricted pods, secrets by reference, no public exposure.",
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
        elastiCacheEncryptedAuthenticated,
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
