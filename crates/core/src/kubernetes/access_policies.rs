//! The Kubernetes permissions of the Amazon EKS access policies
//! (`arn:aws:eks::aws:cluster-access-policy/NAME`), as static data for a pure evaluator.
//!
//! Sources, as read (each policy's `source` names the one it follows):
//! - EKS User Guide, "Review access policy permissions"
//!   (<https://docs.aws.amazon.com/eks/latest/userguide/access-policy-permissions.html>):
//!   "Access policies include `rules` that contain Kubernetes `verbs` (permissions) and
//!   `resources`. [...] Similar to Kubernetes `Role` and `ClusterRole` objects, access policies
//!   only include `allow` `rules`." and "Each row of each table in each access policy is a
//!   separate rule." Its source, `latest/ug/manage-access/k8s-access/access-policy-reference.adoc`,
//!   was read in three copies:
//!   - `awsdocs/amazon-eks-user-guide` at `4d52b4d05e34` (Dec 18, 2024; the local mirror): the
//!     Admin, ClusterAdmin, AdminView, Edit and View tables, the Auto Mode prose, Hybrid;
//!   - `awsdocs/amazon-eks-user-guide` at `145543a96a20` (search index): adds
//!     `AmazonEKSSecretReaderPolicy` ("Add a new policy for read-only access to secrets | November 6,
//!     2025"), `AmazonEKSClusterInsightsPolicy` and the notes "This policy is designated for AWS
//!     service-linked roles only and cannot be used with customer-managed roles.";
//!   - `sheetaljoshi/amazon-eks-user-guide` at `f61a77a4ac79` (a fork of the same repository, the
//!     newest copy found): adds `AWSBackupFullAccessPolicyForBackup`/`ForRestore` and the four
//!     EKS Capabilities policies ("Publish `AmazonEKSACKPolicy`, `AmazonEKSArgoCDClusterPolicy`,
//!     `AmazonEKSArgoCDPolicy`, and `AmazonEKSKROPolicy` for managing EKS Capabilities | November
//!     22, 2025"). The live page itself could not be fetched; the official
//!     `latest/ug/security/capabilities-security.adoc` (`awsdocs` at `2d7d4e673553`) names the same
//!     four policies and points to this page "for more detailed information".
//! - `aws/aws-cli` `awscli/examples/eks/list-access-policies.rst` (AWS's own example output of
//!   `aws eks list-access-policies`): `AmazonEMRJobPolicy` and three `AmazonSagemakerHyperpod*`
//!   policies, which the page does not describe.
//!
//! Transcription: the rows are kept in the page's order, `*` where the page says `*`, the empty
//! API group `""` for the core group (the page leaves the cell blank). The page's typos are read as
//! meant (``r``esourcequotas/status`` is `resourcequotas/status`, ``get`,``list`` is `get`, `list`).
//! Three rows restrict a resource to names the page does not list ("`leases` (specific ACK service
//! controller leases only)", "`customresourcedefinitions` (Argo CD CRDs only)", "`leases` (kro
//! controller lease only)"): their only resource name is the page's own words, which no Kubernetes
//! object can be named (names allow no spaces or parentheses), so the row never matches a real
//! request rather than matching on a guess.
//!
//! Where AWS describes a policy in prose only (EKS Auto Mode) or not at all (HyperPod), its
//! permissions are [`Permissions::Unpublished`]: an evaluator cannot decide with it.
//!
//! Policies AWS lists for other AWS services, which fit no [`Audience`] (AWS Backup, Cluster
//! Insights, EMR, ...), are kept apart in [`OTHER_SERVICE_POLICIES`].

use serde::Serialize;

/// One rule, one row of the reference page's table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct PolicyRule {
    /// `""` is the core group.
    pub api_groups: &'static [&'static str],
    /// `"pods"`, `"pods/log"`, `"*"`, `"*/scale"`.
    pub resources: &'static [&'static str],
    pub verbs: &'static [&'static str],
    /// Empty: any name.
    pub resource_names: &'static [&'static str],
    pub non_resource_urls: &'static [&'static str],
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Permissions {
    /// The rules as the reference page lists them.
    Rules { rules: &'static [PolicyRule] },
    /// AWS describes the policy in prose only: no rule can be evaluated.
    Unpublished { summary: &'static str },
}

/// Who the policy is for, as AWS says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    People,
    AutoMode,
    Hybrid,
    HyperPod,
    Capability,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct AccessPolicy {
    /// `"AmazonEKSViewPolicy"`.
    pub name: &'static str,
    pub audience: Audience,
    pub permissions: Permissions,
    /// Whether the page says it includes Secrets reads/"cluster admin equivalent", in its own words (short), or "".
    pub note: &'static str,
    /// Where this was read: URL or repository path, and a short quote.
    pub source: &'static str,
}

/// An access policy AWS lists for another AWS service's own roles: no [`Audience`] fits it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct OtherPolicy {
    pub name: &'static str,
    /// The service or feature AWS says uses it, or "" when no source says.
    pub used_by: &'static str,
    pub permissions: Permissions,
    /// Where this was read: URL or repository path, and a short quote.
    pub source: &'static str,
}

/// A rule on resources, with any name.
const fn rule(api_groups: &'static [&'static str], resources: &'static [&'static str], verbs: &'static [&'static str]) -> PolicyRule {
    PolicyRule { api_groups, resources, verbs, resource_names: &[], non_resource_urls: &[] }
}

/// A rule on resources whose names the page restricts without listing them (see the module docs).
const fn rule_named(
    api_groups: &'static [&'static str],
    resources: &'static [&'static str],
    resource_names: &'static [&'static str],
    verbs: &'static [&'static str],
) -> PolicyRule {
    PolicyRule { api_groups, resources, verbs, resource_names, non_resource_urls: &[] }
}

/// A rule on non-resource URLs.
const fn rule_urls(non_resource_urls: &'static [&'static str], verbs: &'static [&'static str]) -> PolicyRule {
    PolicyRule { api_groups: &[], resources: &[], verbs, resource_names: &[], non_resource_urls }
}

/// The reference page and the copy of its source it was read in, then a quote.
macro_rules! page {
    ($copy:literal, $quote:literal) => {
        concat!(
            "https://docs.aws.amazon.com/eks/latest/userguide/access-policy-permissions.html (read as ",
            $copy,
            " latest/ug/manage-access/k8s-access/access-policy-reference.adoc): \"",
            $quote,
            "\""
        )
    };
}

const WRITE: &[&str] = &["create", "delete", "deletecollection", "patch", "update"];
const READ: &[&str] = &["get", "list", "watch"];
const ANY: &[&str] = &["*"];
const CORE: &[&str] = &[""];

// ---- AmazonEKSAdminPolicy ----------------------------------------------------------------------

const ADMIN_RULES: &[PolicyRule] = &[
    rule(
        &["apps"],
        &[
            "daemonsets",
            "deployments",
            "deployments/rollback",
            "deployments/scale",
            "replicasets",
            "replicasets/scale",
            "statefulsets",
            "statefulsets/scale",
        ],
        WRITE,
    ),
    rule(
        &["apps"],
        &[
            "controllerrevisions",
            "daemonsets",
            "daemonsets/status",
            "deployments",
            "deployments/scale",
            "deployments/status",
            "replicasets",
            "replicasets/scale",
            "replicasets/status",
            "statefulsets",
            "statefulsets/scale",
            "statefulsets/status",
        ],
        READ,
    ),
    rule(&["authorization.k8s.io"], &["localsubjectaccessreviews"], &["create"]),
    rule(&["autoscaling"], &["horizontalpodautoscalers"], WRITE),
    rule(&["autoscaling"], &["horizontalpodautoscalers", "horizontalpodautoscalers/status"], READ),
    rule(&["batch"], &["cronjobs", "jobs"], WRITE),
    rule(&["batch"], &["cronjobs", "cronjobs/status", "jobs", "jobs/status"], READ),
    rule(&["discovery.k8s.io"], &["endpointslices"], READ),
    rule(
        &["extensions"],
        &[
            "daemonsets",
            "deployments",
            "deployments/rollback",
            "deployments/scale",
            "ingresses",
            "networkpolicies",
            "replicasets",
            "replicasets/scale",
            "replicationcontrollers/scale",
        ],
        WRITE,
    ),
    rule(
        &["extensions"],
        &[
            "daemonsets",
            "daemonsets/status",
            "deployments",
            "deployments/scale",
            "deployments/status",
            "ingresses",
            "ingresses/status",
            "networkpolicies",
            "replicasets",
            "replicasets/scale",
            "replicasets/status",
            "replicationcontrollers/scale",
        ],
        READ,
    ),
    rule(&["networking.k8s.io"], &["ingresses", "ingresses/status", "networkpolicies"], READ),
    rule(&["networking.k8s.io"], &["ingresses", "networkpolicies"], WRITE),
    rule(&["policy"], &["poddisruptionbudgets"], WRITE),
    rule(&["policy"], &["poddisruptionbudgets", "poddisruptionbudgets/status"], READ),
    rule(
        &["rbac.authorization.k8s.io"],
        &["rolebindings", "roles"],
        &["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
    ),
    rule(
        CORE,
        &[
            "configmaps",
            "endpoints",
            "persistentvolumeclaims",
            "persistentvolumeclaims/status",
            "pods",
            "replicationcontrollers",
            "replicationcontrollers/scale",
            "serviceaccounts",
            "services",
            "services/status",
        ],
        READ,
    ),
    rule(CORE, &["pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets", "services/proxy"], READ),
    rule(
        CORE,
        &[
            "configmaps",
            "events",
            "persistentvolumeclaims",
            "replicationcontrollers",
            "replicationcontrollers/scale",
            "secrets",
            "serviceaccounts",
            "services",
            "services/proxy",
        ],
        WRITE,
    ),
    rule(CORE, &["pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"], WRITE),
    rule(CORE, &["serviceaccounts"], &["impersonate"]),
    rule(
        CORE,
        &[
            "bindings",
            "events",
            "limitranges",
            "namespaces/status",
            "pods/log",
            "pods/status",
            "replicationcontrollers/status",
            "resourcequotas",
            "resourcequotas/status",
        ],
        READ,
    ),
    rule(CORE, &["namespaces"], READ),
];

// ---- AmazonEKSClusterAdminPolicy ---------------------------------------------------------------

const CLUSTER_ADMIN_RULES: &[PolicyRule] = &[rule(ANY, ANY, ANY), rule_urls(ANY, ANY)];

// ---- AmazonEKSAdminViewPolicy ------------------------------------------------------------------

const ADMIN_VIEW_RULES: &[PolicyRule] = &[rule(ANY, ANY, READ)];

// ---- AmazonEKSEditPolicy -----------------------------------------------------------------------

const EDIT_RULES: &[PolicyRule] = &[
    rule(
        &["apps"],
        &[
            "daemonsets",
            "deployments",
            "deployments/rollback",
            "deployments/scale",
            "replicasets",
            "replicasets/scale",
            "statefulsets",
            "statefulsets/scale",
        ],
        WRITE,
    ),
    rule(
        &["apps"],
        &[
            "controllerrevisions",
            "daemonsets",
            "daemonsets/status",
            "deployments",
            "deployments/scale",
            "deployments/status",
            "replicasets",
            "replicasets/scale",
            "replicasets/status",
            "statefulsets",
            "statefulsets/scale",
            "statefulsets/status",
        ],
        READ,
    ),
    rule(&["autoscaling"], &["horizontalpodautoscalers", "horizontalpodautoscalers/status"], READ),
    rule(&["autoscaling"], &["horizontalpodautoscalers"], WRITE),
    rule(&["batch"], &["cronjobs", "jobs"], WRITE),
    rule(&["batch"], &["cronjobs", "cronjobs/status", "jobs", "jobs/status"], READ),
    rule(&["discovery.k8s.io"], &["endpointslices"], READ),
    rule(
        &["extensions"],
        &[
            "daemonsets",
            "deployments",
            "deployments/rollback",
            "deployments/scale",
            "ingresses",
            "networkpolicies",
            "replicasets",
            "replicasets/scale",
            "replicationcontrollers/scale",
        ],
        WRITE,
    ),
    rule(
        &["extensions"],
        &[
            "daemonsets",
            "daemonsets/status",
            "deployments",
            "deployments/scale",
            "deployments/status",
            "ingresses",
            "ingresses/status",
            "networkpolicies",
            "replicasets",
            "replicasets/scale",
            "replicasets/status",
            "replicationcontrollers/scale",
        ],
        READ,
    ),
    rule(&["networking.k8s.io"], &["ingresses", "networkpolicies"], WRITE),
    rule(&["networking.k8s.io"], &["ingresses", "ingresses/status", "networkpolicies"], READ),
    rule(&["policy"], &["poddisruptionbudgets"], WRITE),
    rule(&["policy"], &["poddisruptionbudgets", "poddisruptionbudgets/status"], READ),
    rule(CORE, &["namespaces"], READ),
    rule(CORE, &["pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets", "services/proxy"], READ),
    rule(CORE, &["serviceaccounts"], &["impersonate"]),
    rule(CORE, &["pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"], WRITE),
    rule(
        CORE,
        &[
            "configmaps",
            "events",
            "persistentvolumeclaims",
            "replicationcontrollers",
            "replicationcontrollers/scale",
            "secrets",
            "serviceaccounts",
            "services",
            "services/proxy",
        ],
        WRITE,
    ),
    rule(
        CORE,
        &[
            "configmaps",
            "endpoints",
            "persistentvolumeclaims",
            "persistentvolumeclaims/status",
            "pods",
            "replicationcontrollers",
            "replicationcontrollers/scale",
            "serviceaccounts",
            "services",
            "services/status",
        ],
        READ,
    ),
    rule(
        CORE,
        &[
            "bindings",
            "events",
            "limitranges",
            "namespaces/status",
            "pods/log",
            "pods/status",
            "replicationcontrollers/status",
            "resourcequotas",
            "resourcequotas/status",
        ],
        READ,
    ),
];

// ---- AmazonEKSViewPolicy -----------------------------------------------------------------------

const VIEW_RULES: &[PolicyRule] = &[
    rule(
        &["apps"],
        &[
            "controllerrevisions",
            "daemonsets",
            "daemonsets/status",
            "deployments",
            "deployments/scale",
            "deployments/status",
            "replicasets",
            "replicasets/scale",
            "replicasets/status",
            "statefulsets",
            "statefulsets/scale",
            "statefulsets/status",
        ],
        READ,
    ),
    rule(&["autoscaling"], &["horizontalpodautoscalers", "horizontalpodautoscalers/status"], READ),
    rule(&["batch"], &["cronjobs", "cronjobs/status", "jobs", "jobs/status"], READ),
    rule(&["discovery.k8s.io"], &["endpointslices"], READ),
    rule(
        &["extensions"],
        &[
            "daemonsets",
            "daemonsets/status",
            "deployments",
            "deployments/scale",
            "deployments/status",
            "ingresses",
            "ingresses/status",
            "networkpolicies",
            "replicasets",
            "replicasets/scale",
            "replicasets/status",
            "replicationcontrollers/scale",
        ],
        READ,
    ),
    rule(&["networking.k8s.io"], &["ingresses", "ingresses/status", "networkpolicies"], READ),
    rule(&["policy"], &["poddisruptionbudgets", "poddisruptionbudgets/status"], READ),
    rule(
        CORE,
        &[
            "configmaps",
            "endpoints",
            "persistentvolumeclaims",
            "persistentvolumeclaims/status",
            "pods",
            "replicationcontrollers",
            "replicationcontrollers/scale",
            "serviceaccounts",
            "services",
            "services/status",
        ],
        READ,
    ),
    rule(
        CORE,
        &[
            "bindings",
            "events",
            "limitranges",
            "namespaces/status",
            "pods/log",
            "pods/status",
            "replicationcontrollers/status",
            "resourcequotas",
            "resourcequotas/status",
        ],
        READ,
    ),
    rule(CORE, &["namespaces"], READ),
];

// ---- AmazonEKSSecretReaderPolicy ---------------------------------------------------------------

const SECRET_READER_RULES: &[PolicyRule] = &[rule(CORE, &["secrets"], READ)];

// ---- AmazonEKSHybridPolicy ---------------------------------------------------------------------

const HYBRID_RULES: &[PolicyRule] = &[rule(ANY, &["nodes"], &["list"])];

// ---- EKS Capabilities --------------------------------------------------------------------------

/// The page's words for the names of the one restricted `leases` row of `AmazonEKSACKPolicy`.
pub const ACK_CONTROLLER_LEASES: &str = "(specific ACK service controller leases only)";
/// The page's words for the names of the restricted `customresourcedefinitions` row of
/// `AmazonEKSArgoCDClusterPolicy`.
pub const ARGO_CD_CRDS: &str = "(Argo CD CRDs only)";
/// The page's words for the names of the restricted `leases` row of `AmazonEKSKROPolicy`.
pub const KRO_CONTROLLER_LEASE: &str = "(kro controller lease only)";

const ACK_RULES: &[PolicyRule] = &[
    rule(CORE, &["namespaces"], &["get", "watch", "list"]),
    rule(
        &[
            "services.k8s.aws",
            "acm.services.k8s.aws",
            "acmpca.services.k8s.aws",
            "apigateway.services.k8s.aws",
            "apigatewayv2.services.k8s.aws",
            "applicationautoscaling.services.k8s.aws",
            "athena.services.k8s.aws",
            "bedrock.services.k8s.aws",
            "bedrockagent.services.k8s.aws",
            "bedrockagentcorecontrol.services.k8s.aws",
            "cloudfront.services.k8s.aws",
            "cloudtrail.services.k8s.aws",
            "cloudwatch.services.k8s.aws",
            "cloudwatchlogs.services.k8s.aws",
            "codeartifact.services.k8s.aws",
            "cognitoidentityprovider.services.k8s.aws",
            "documentdb.services.k8s.aws",
            "dynamodb.services.k8s.aws",
            "ec2.services.k8s.aws",
            "ecr.services.k8s.aws",
            "ecrpublic.services.k8s.aws",
            "ecs.services.k8s.aws",
            "efs.services.k8s.aws",
            "eks.services.k8s.aws",
            "elasticache.services.k8s.aws",
            "elbv2.services.k8s.aws",
            "emrcontainers.services.k8s.aws",
            "eventbridge.services.k8s.aws",
            "iam.services.k8s.aws",
            "kafka.services.k8s.aws",
            "keyspaces.services.k8s.aws",
            "kinesis.services.k8s.aws",
            "kms.services.k8s.aws",
            "lambda.services.k8s.aws",
            "memorydb.services.k8s.aws",
            "mq.services.k8s.aws",
            "networkfirewall.services.k8s.aws",
            "opensearchservice.services.k8s.aws",
            "organizations.services.k8s.aws",
            "pipes.services.k8s.aws",
            "prometheusservice.services.k8s.aws",
            "ram.services.k8s.aws",
            "rds.services.k8s.aws",
            "recyclebin.services.k8s.aws",
            "route53.services.k8s.aws",
            "route53resolver.services.k8s.aws",
            "s3.services.k8s.aws",
            "s3control.services.k8s.aws",
            "sagemaker.services.k8s.aws",
            "secretsmanager.services.k8s.aws",
            "ses.services.k8s.aws",
            "sfn.services.k8s.aws",
            "sns.services.k8s.aws",
            "sqs.services.k8s.aws",
            "ssm.services.k8s.aws",
            "wafv2.services.k8s.aws",
        ],
        ANY,
        ANY,
    ),
    rule(&["coordination.k8s.io"], &["leases"], &["create", "get", "list", "watch"]),
    rule_named(&["coordination.k8s.io"], &["leases"], &[ACK_CONTROLLER_LEASES], &["delete", "update", "patch"]),
    rule(CORE, &["events"], &["create", "patch"]),
    rule(&["apiextensions.k8s.io"], &["customresourcedefinitions"], ANY),
];

const ARGO_CD_CLUSTER_RULES: &[PolicyRule] = &[
    rule(CORE, &["namespaces"], &["create", "get", "update", "patch", "delete"]),
    rule(&["apiextensions.k8s.io"], &["customresourcedefinitions"], &["create"]),
    rule_named(&["apiextensions.k8s.io"], &["customresourcedefinitions"], &[ARGO_CD_CRDS], &["get", "update", "patch", "delete"]),
    rule_urls(&["/api", "/api/*", "/apis", "/apis/*"], &["get"]),
];

const ARGO_CD_RULES: &[PolicyRule] = &[
    rule(CORE, &["secrets"], ANY),
    rule(CORE, &["configmaps"], READ),
    rule(CORE, &["events"], &["get", "list", "watch", "patch", "create"]),
    rule(
        &["argoproj.io"],
        &[
            "applications",
            "applications/finalizers",
            "applications/status",
            "applicationsets",
            "applicationsets/finalizers",
            "applicationsets/status",
            "appprojects",
            "appprojects/finalizers",
            "appprojects/status",
        ],
        ANY,
    ),
];

const KRO_RULES: &[PolicyRule] = &[
    rule(&["kro.run"], ANY, ANY),
    rule(&["apiextensions.k8s.io"], &["customresourcedefinitions"], ANY),
    rule(&["coordination.k8s.io"], &["leases"], &["create", "get", "list", "watch"]),
    rule_named(&["coordination.k8s.io"], &["leases"], &[KRO_CONTROLLER_LEASE], &["delete", "update", "patch"]),
    rule(CORE, &["events"], &["create", "patch"]),
];

// ---- AWS Backup (kept in OTHER_SERVICE_POLICIES) ------------------------------------------------

const BACKUP_RULES: &[PolicyRule] = &[rule(ANY, ANY, &["list", "get"])];
const RESTORE_RULES: &[PolicyRule] = &[rule(ANY, ANY, &["list", "get", "create"])];

/// HyperPod policies: AWS lists the names but describes none of them.
const HYPERPOD_UNPUBLISHED: Permissions = Permissions::Unpublished {
    summary: "AWS lists this SageMaker HyperPod access policy by name but publishes no description of its Kubernetes permissions.",
};

const AWS_CLI_EXAMPLE: &str =
    "aws/aws-cli awscli/examples/eks/list-access-policies.rst (AWS's example output of `aws eks list-access-policies`)";

/// Every access policy with an [`Audience`]: the reference page's policies in the page's order,
/// then the SageMaker HyperPod policies, which the page does not describe.
pub const ACCESS_POLICIES: &[AccessPolicy] = &[
    AccessPolicy {
        name: "AmazonEKSAdminPolicy",
        audience: Audience::People,
        permissions: Permissions::Rules { rules: ADMIN_RULES },
        note: "",
        source: page!(
            "awsdocs/amazon-eks-user-guide@4d52b4d05e34",
            "This access policy includes permissions that grant an IAM principal most permissions to resources. When associated to an access entry, its access scope is typically one or more Kubernetes namespaces."
        ),
    },
    AccessPolicy {
        name: "AmazonEKSClusterAdminPolicy",
        audience: Audience::People,
        permissions: Permissions::Rules { rules: CLUSTER_ADMIN_RULES },
        note: "grant an IAM principal administrator access to a cluster",
        source: page!(
            "awsdocs/amazon-eks-user-guide@4d52b4d05e34",
            "This access policy includes permissions that grant an IAM principal administrator access to a cluster. When associated to an access entry, its access scope is typically the cluster, rather than a Kubernetes namespace."
        ),
    },
    AccessPolicy {
        name: "AmazonEKSAdminViewPolicy",
        audience: Audience::People,
        permissions: Permissions::Rules { rules: ADMIN_VIEW_RULES },
        note: "Note this includes Kubernetes Secrets.",
        source: page!(
            "awsdocs/amazon-eks-user-guide@4d52b4d05e34",
            "This access policy includes permissions that grant an IAM principal access to list/view all resources in a cluster. Note this includes Kubernetes Secrets."
        ),
    },
    AccessPolicy {
        name: "AmazonEKSEditPolicy",
        audience: Audience::People,
        permissions: Permissions::Rules { rules: EDIT_RULES },
        note: "",
        source: page!(
            "awsdocs/amazon-eks-user-guide@4d52b4d05e34",
            "This access policy includes permissions that allow an IAM principal to edit most Kubernetes resources."
        ),
    },
    AccessPolicy {
        name: "AmazonEKSViewPolicy",
        audience: Audience::People,
        permissions: Permissions::Rules { rules: VIEW_RULES },
        note: "",
        source: page!(
            "awsdocs/amazon-eks-user-guide@4d52b4d05e34",
            "This access policy includes permissions that allow an IAM principal to view most Kubernetes resources."
        ),
    },
    AccessPolicy {
        name: "AmazonEKSSecretReaderPolicy",
        audience: Audience::People,
        permissions: Permissions::Rules { rules: SECRET_READER_RULES },
        note: "allow an IAM principal to read Kubernetes Secrets.",
        source: page!(
            "awsdocs/amazon-eks-user-guide@145543a96a20",
            "This access policy includes permissions that allow an IAM principal to read Kubernetes Secrets."
        ),
    },
    AccessPolicy {
        name: "AmazonEKSAutoNodePolicy",
        audience: Audience::AutoMode,
        permissions: Permissions::Unpublished {
            summary: "For the EKS Auto Mode node components: kube-proxy (monitor network endpoints and services, manage related events), ipamd (manage AWS VPC networking resources and CNI), coredns (service discovery resources like endpoints and services), ebs-csi-driver (storage-related resources for Amazon EBS volumes), neuron (monitor nodes and pods for AWS Neuron devices), node-monitoring-agent (node diagnostics and events). Each component uses a dedicated service account.",
        },
        note: "",
        source: page!(
            "awsdocs/amazon-eks-user-guide@4d52b4d05e34",
            "If you manually specifiy a Node IAM role in a NodeClass, you need to create an Access Entry that associates the new Node IAM role with this Access Policy."
        ),
    },
    AccessPolicy {
        name: "AmazonEKSBlockStoragePolicy",
        audience: Audience::AutoMode,
        permissions: Permissions::Unpublished {
            summary: "coordination.k8s.io: create and manage lease objects for leader election of the EKS storage components, scoped to specific lease resources.",
        },
        note: "",
        source: page!(
            "awsdocs/amazon-eks-user-guide@145543a96a20",
            "This policy is designated for AWS service-linked roles only and cannot be used with customer-managed roles."
        ),
    },
    AccessPolicy {
        name: "AmazonEKSLoadBalancingPolicy",
        audience: Audience::AutoMode,
        permissions: Permissions::Unpublished {
            summary: "coordination.k8s.io: create and manage lease objects for leader election of the EKS load balancing components, scoped specifically to load balancing lease resources.",
        },
        note: "",
        source: page!(
            "awsdocs/amazon-eks-user-guide@4d52b4d05e34",
            "The policy is scoped specifically to load balancing lease resources to ensure proper coordination while preventing access to other lease resources in the cluster."
        ),
    },
    AccessPolicy {
        name: "AmazonEKSNetworkingPolicy",
        audience: Audience::AutoMode,
        permissions: Permissions::Unpublished {
            summary: "coordination.k8s.io: create and manage lease objects for leader election of the EKS networking components, scoped specifically to networking lease resources.",
        },
        note: "",
        source: page!(
            "awsdocs/amazon-eks-user-guide@4d52b4d05e34",
            "The policy is scoped specifically to networking lease resources to ensure proper coordination while preventing access to other lease resources in the cluster."
        ),
    },
    AccessPolicy {
        name: "AmazonEKSComputePolicy",
        audience: Audience::AutoMode,
        permissions: Permissions::Unpublished {
            summary: "coordination.k8s.io: create and manage lease objects for leader election of the EKS compute components, scoped to compute management lease resources, with get and watch on all lease resources in the cluster.",
        },
        note: "",
        source: page!(
            "awsdocs/amazon-eks-user-guide@145543a96a20",
            "The policy is scoped specifically to compute management lease resources while allowing basic read access (`get`, `watch`) to all lease resources in the cluster."
        ),
    },
    AccessPolicy {
        name: "AmazonEKSBlockStorageClusterPolicy",
        audience: Audience::AutoMode,
        permissions: Permissions::Unpublished {
            summary: "Block storage capability of EKS Auto Mode: CSI drivers (create, read, update, delete); persistent volumes (list, watch, create, update, patch, delete); persistent volume claims (list, watch, update) and their status (patch); read nodes and pods; manage events; read storage classes, CSI nodes and volume attribute classes; volume attachments and their statuses (list, watch, modify); manage volume snapshots, snapshot contents, snapshot classes and volume group snapshots.",
        },
        note: "",
        source: page!(
            "awsdocs/amazon-eks-user-guide@145543a96a20",
            "This policy grants permissions necessary for the block storage capability of Amazon EKS Auto Mode."
        ),
    },
    AccessPolicy {
        name: "AmazonEKSComputeClusterPolicy",
        audience: Audience::AutoMode,
        permissions: Permissions::Unpublished {
            summary: "Compute management of EKS Auto Mode: NodePools and NodeClaims (create, read, update, delete, status); NodeClasses; read pods, nodes, persistent volumes, persistent volume claims, replication controllers, namespaces, storage classes, CSI nodes, volume attachments; list and watch deployments, daemon sets, replica sets, stateful sets; read pod disruption budgets; create, read and manage events; update, patch and delete nodes; create pod evictions and delete pods; create CRDs and manage the NodeClasses, NodePools, NodeClaims and NodeDiagnostics CRDs.",
        },
        note: "",
        source: page!(
            "awsdocs/amazon-eks-user-guide@145543a96a20",
            "This policy grants permissions necessary for the compute management capability of Amazon EKS Auto Mode."
        ),
    },
    AccessPolicy {
        name: "AmazonEKSLoadBalancingClusterPolicy",
        audience: Audience::AutoMode,
        permissions: Permissions::Unpublished {
            summary: "Load balancing of EKS Auto Mode: create and patch events; read pods, nodes, endpoints and namespaces; update pod statuses; full management of services and their statuses; control over ingresses and their statuses; read endpoint slices and ingress classes; create and modify target group bindings and their statuses; read ingress class parameters; create and read all CRDs, manage the targetgroupbindings.eks.amazonaws.com and ingressclassparams.eks.amazonaws.com CRDs; create and read mutating and validating webhook configurations, manage the eks-load-balancing-webhook configuration.",
        },
        note: "",
        source: page!(
            "awsdocs/amazon-eks-user-guide@4d52b4d05e34",
            "This policy grants permissions necessary for the load balancing capability of Amazon EKS Auto Mode."
        ),
    },
    AccessPolicy {
        name: "AmazonEKSNetworkingClusterPolicy",
        audience: Audience::AutoMode,
        permissions: Permissions::Unpublished {
            summary: "Networking of EKS Auto Mode: read NodeClasses, NodeClaims and their statuses; read pods; CNINodes and their statuses (create, read, update, delete, patch); create and read all CRDs, update, patch and delete the cninodes.eks.amazonaws.com CRD; create and patch events.",
        },
        note: "",
        source: page!(
            "awsdocs/amazon-eks-user-guide@4d52b4d05e34",
            "This policy grants permissions necessary for the networking capability of Amazon EKS Auto Mode."
        ),
    },
    AccessPolicy {
        name: "AmazonEKSHybridPolicy",
        audience: Audience::Hybrid,
        permissions: Permissions::Rules { rules: HYBRID_RULES },
        note: "",
        source: page!(
            "awsdocs/amazon-eks-user-guide@4d52b4d05e34",
            "This access policy includes permissions that grant EKS access to the nodes of a cluster. [...] This policy is used by Amazon EKS hybrid nodes."
        ),
    },
    AccessPolicy {
        name: "AmazonEKSACKPolicy",
        audience: Audience::Capability,
        permissions: Permissions::Rules { rules: ACK_RULES },
        note: "",
        source: page!(
            "sheetaljoshi/amazon-eks-user-guide@f61a77a4ac79",
            "Amazon EKS automatically creates an access entry with this access policy for the capability IAM role that you supply when the ACK capability is created."
        ),
    },
    AccessPolicy {
        name: "AmazonEKSArgoCDClusterPolicy",
        audience: Audience::Capability,
        permissions: Permissions::Rules { rules: ARGO_CD_CLUSTER_RULES },
        note: "",
        source: page!(
            "sheetaljoshi/amazon-eks-user-guide@f61a77a4ac79",
            "This policy grants cluster-level permissions necessary for the Argo CD capability to discover resources and manage cluster-scoped objects."
        ),
    },
    AccessPolicy {
        name: "AmazonEKSArgoCDPolicy",
        audience: Audience::Capability,
        permissions: Permissions::Rules { rules: ARGO_CD_RULES },
        note: "Full access to secrets for Git credentials and cluster secrets.",
        source: page!(
            "sheetaljoshi/amazon-eks-user-guide@f61a77a4ac79",
            "Amazon EKS automatically creates an access entry with this access policy for the capability IAM role that you supply when the Argo CD capability is created, scoped to the Argo CD namespace."
        ),
    },
    AccessPolicy {
        name: "AmazonEKSKROPolicy",
        audience: Audience::Capability,
        permissions: Permissions::Rules { rules: KRO_RULES },
        note: "",
        source: page!(
            "sheetaljoshi/amazon-eks-user-guide@f61a77a4ac79",
            "This policy grants permissions necessary for the kro (Kube Resource Orchestrator) capability to create and manage custom Kubernetes APIs."
        ),
    },
    AccessPolicy {
        name: "AmazonSagemakerHyperpodClusterPolicy",
        audience: Audience::HyperPod,
        permissions: HYPERPOD_UNPUBLISHED,
        note: "",
        source: AWS_CLI_EXAMPLE,
    },
    AccessPolicy {
        name: "AmazonSagemakerHyperpodControllerPolicy",
        audience: Audience::HyperPod,
        permissions: HYPERPOD_UNPUBLISHED,
        note: "",
        source: AWS_CLI_EXAMPLE,
    },
    AccessPolicy {
        name: "AmazonSagemakerHyperpodSystemNamespacePolicy",
        audience: Audience::HyperPod,
        permissions: HYPERPOD_UNPUBLISHED,
        note: "",
        source: AWS_CLI_EXAMPLE,
    },
    AccessPolicy {
        name: "AmazonSagemakerHyperpodSpacePolicy",
        audience: Audience::HyperPod,
        permissions: HYPERPOD_UNPUBLISHED,
        note: "",
        source: "third-party blog post (Korean, 2026), table output of `aws eks list-access-policies` (search-index file 52295245659): \"arn:aws:eks::aws:cluster-access-policy/AmazonSagemakerHyperpodSpacePolicy\"",
    },
    AccessPolicy {
        name: "AmazonSagemakerHyperpodSpaceTemplatePolicy",
        audience: Audience::HyperPod,
        permissions: HYPERPOD_UNPUBLISHED,
        note: "",
        source: "third-party blog post (Korean, 2026), table output of `aws eks list-access-policies` (search-index file 52295245659): \"arn:aws:eks::aws:cluster-access-policy/AmazonSagemakerHyperpodSpaceTemplatePolicy\"",
    },
    AccessPolicy {
        name: "AmazonSagemakerHyperpodUserClusterPolicy",
        audience: Audience::HyperPod,
        permissions: HYPERPOD_UNPUBLISHED,
        note: "",
        source: "third-party blog post (Korean, 2026), table output of `aws eks list-access-policies` (search-index file 52295245659): \"arn:aws:eks::aws:cluster-access-policy/AmazonSagemakerHyperpodUserClusterPolicy\"",
    },
    AccessPolicy {
        name: "AmazonSagemakerHyperpodInferenceMonitoringPolicy",
        audience: Audience::HyperPod,
        permissions: HYPERPOD_UNPUBLISHED,
        note: "",
        source: "https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AmazonSageMakerHyperPodInferenceAccess.html (the IAM policy for the HyperPod inference operator): \"eks:policyarn\" : \"arn:aws:eks::aws:cluster-access-policy/AmazonSagemakerHyperpodInferenceMonitoringPolicy\"",
    },
];

/// Access policies AWS lists for other AWS services' own roles, which fit no [`Audience`]: kept
/// apart so that an evaluator of [`ACCESS_POLICIES`] never mistakes them for policies for people.
pub const OTHER_SERVICE_POLICIES: &[OtherPolicy] = &[
    OtherPolicy {
        name: "AmazonEKSClusterInsightsPolicy",
        used_by: "EKS Cluster Insights",
        permissions: Permissions::Unpublished {
            summary: "Read-only for EKS Cluster Insights: list and view cluster nodes, read node status information, read access to kube-proxy configuration (DaemonSet).",
        },
        source: page!(
            "awsdocs/amazon-eks-user-guide@145543a96a20",
            "This policy is automatically managed by the EKS service for Cluster Insights."
        ),
    },
    OtherPolicy {
        name: "AWSBackupFullAccessPolicyForBackup",
        used_by: "AWS Backup",
        permissions: Permissions::Rules { rules: BACKUP_RULES },
        source: page!(
            "sheetaljoshi/amazon-eks-user-guide@f61a77a4ac79",
            "This policy grants the permissions necessary for AWS Backup to manage and create backups of the EKS Cluster."
        ),
    },
    OtherPolicy {
        name: "AWSBackupFullAccessPolicyForRestore",
        used_by: "AWS Backup",
        permissions: Permissions::Rules { rules: RESTORE_RULES },
        source: page!(
            "sheetaljoshi/amazon-eks-user-guide@f61a77a4ac79",
            "This policy grants the permissions necessary for AWS Backup to manage and restore backups of the EKS Cluster."
        ),
    },
    OtherPolicy {
        name: "AmazonAIOpsAssistantPolicy",
        used_by: "",
        permissions: Permissions::Unpublished { summary: "Listed by name in the page's sample `aws eks list-access-policies` output; not described." },
        source: page!(
            "awsdocs/amazon-eks-user-guide@145543a96a20",
            "\"name\": \"AmazonAIOpsAssistantPolicy\""
        ),
    },
    OtherPolicy {
        name: "AmazonARCRegionSwitchScalingPolicy",
        used_by: "",
        permissions: Permissions::Unpublished { summary: "Listed by name in the page's sample `aws eks list-access-policies` output; not described." },
        source: page!(
            "awsdocs/amazon-eks-user-guide@145543a96a20",
            "\"name\": \"AmazonARCRegionSwitchScalingPolicy\""
        ),
    },
    OtherPolicy {
        name: "AmazonEMRJobPolicy",
        used_by: "Amazon EMR on EKS",
        permissions: Permissions::Unpublished { summary: "Listed by name by `aws eks list-access-policies`; AWS publishes no description of its Kubernetes permissions." },
        source: AWS_CLI_EXAMPLE,
    },
    OtherPolicy {
        name: "AmazonEKSEventPolicy",
        used_by: "",
        permissions: Permissions::Unpublished { summary: "Listed by name by `aws eks list-access-policies`; no AWS description found." },
        source: "third-party blog post (Korean, 2026), table output of `aws eks list-access-policies` (search-index file 52295245659): \"arn:aws:eks::aws:cluster-access-policy/AmazonEKSEventPolicy\"",
    },
    OtherPolicy {
        name: "AmazonEKSPodIdentityPolicy",
        used_by: "",
        permissions: Permissions::Unpublished { summary: "Listed by name by `aws eks list-access-policies`; no AWS description found." },
        source: "third-party blog post (Korean, 2026), table output of `aws eks list-access-policies` (search-index file 52295245659): \"arn:aws:eks::aws:cluster-access-policy/AmazonEKSPodIdentityPolicy\"",
    },
    OtherPolicy {
        name: "AmazonEKSSecretAdminPolicy",
        used_by: "",
        permissions: Permissions::Unpublished {
            summary: "Listed by name by `aws eks list-access-policies`; no AWS description found (third-party notes say `secrets` with verb `*`, unverified).",
        },
        source: "third-party blog post (Korean, 2026), table output of `aws eks list-access-policies` (search-index file 52295245659): \"arn:aws:eks::aws:cluster-access-policy/AmazonEKSSecretAdminPolicy\"",
    },
    OtherPolicy {
        name: "AIDevOpsAgentAccessPolicy",
        used_by: "",
        permissions: Permissions::Unpublished { summary: "Listed by name by `aws eks list-access-policies`; no AWS description found." },
        source: "third-party blog post (Korean, 2026), table output of `aws eks list-access-policies` (search-index file 52295245659): \"arn:aws:eks::aws:cluster-access-policy/AIDevOpsAgentAccessPolicy\"",
    },
];

/// The name in an access policy ARN of any partition
/// (`arn:PARTITION:eks::aws:cluster-access-policy/NAME`), or the input itself when it is no ARN.
fn policy_name(name_or_arn: &str) -> Option<&str> {
    let Some(rest) = name_or_arn.strip_prefix("arn:") else {
        return Some(name_or_arn);
    };
    let mut parts = rest.splitn(5, ':');
    let (partition, service, region, account, resource) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if partition.is_empty() || service != "eks" || !region.is_empty() || account != "aws" {
        return None;
    }
    resource.strip_prefix("cluster-access-policy/").filter(|name| !name.is_empty() && !name.contains('/'))
}

/// The policy by name or by ARN in any partition (`arn:aws-cn:eks::aws:cluster-access-policy/AmazonEKSViewPolicy`).
pub fn find(name_or_arn: &str) -> Option<&'static AccessPolicy> {
    let name = policy_name(name_or_arn)?;
    ACCESS_POLICIES.iter().find(|policy| policy.name == name)
}

/// A policy of [`OTHER_SERVICE_POLICIES`] by name or by ARN in any partition.
pub fn find_other(name_or_arn: &str) -> Option<&'static OtherPolicy> {
    let name = policy_name(name_or_arn)?;
    OTHER_SERVICE_POLICIES.iter().find(|policy| policy.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn rules(name: &str) -> &'static [PolicyRule] {
        match find(name).map(|p| p.permissions) {
            Some(Permissions::Rules { rules }) => rules,
            other => panic!("{name}: {other:?}"),
        }
    }

    #[test]
    fn finds_by_name_and_by_arn_in_every_partition() {
        assert_eq!(find("AmazonEKSViewPolicy").map(|p| p.name), Some("AmazonEKSViewPolicy"));
        for partition in ["aws", "aws-cn", "aws-us-gov"] {
            let arn = format!("arn:{partition}:eks::aws:cluster-access-policy/AmazonEKSViewPolicy");
            assert_eq!(find(&arn).map(|p| p.name), Some("AmazonEKSViewPolicy"), "{arn}");
        }
        assert_eq!(find("arn:aws:eks::aws:cluster-access-policy/AmazonEKSArgoCDPolicy").map(|p| p.audience), Some(Audience::Capability));
        assert_eq!(
            find_other("arn:aws:eks::aws:cluster-access-policy/AWSBackupFullAccessPolicyForBackup").map(|p| p.used_by),
            Some("AWS Backup")
        );
    }

    #[test]
    fn rejects_what_is_not_an_access_policy() {
        for input in [
            "",
            "AmazonEKSNoSuchPolicy",
            "amazoneksviewpolicy",
            "arn:aws:iam::aws:policy/AmazonEKSViewPolicy",
            "arn:aws:eks:us-east-1:aws:cluster-access-policy/AmazonEKSViewPolicy",
            "arn:aws:eks::123456789012:cluster-access-policy/AmazonEKSViewPolicy",
            "arn::eks::aws:cluster-access-policy/AmazonEKSViewPolicy",
            "arn:aws:eks::aws:cluster-access-policy/",
            "arn:aws:eks::aws:cluster-access-policy/x/AmazonEKSViewPolicy",
            "arn:aws:eks::aws",
        ] {
            assert!(find(input).is_none(), "{input}");
        }
        // The other services' policies are not in the table for people.
        assert!(find("AWSBackupFullAccessPolicyForBackup").is_none());
        assert!(find_other("AmazonEKSViewPolicy").is_none());
    }

    #[test]
    fn names_are_unique_and_amazon() {
        let mut seen = HashSet::new();
        for policy in ACCESS_POLICIES {
            assert!(policy.name.starts_with("Amazon"), "{}", policy.name);
            assert!(seen.insert(policy.name), "{} twice", policy.name);
        }
        for policy in OTHER_SERVICE_POLICIES {
            assert!(
                policy.name.starts_with("Amazon") || policy.name.starts_with("AWS") || policy.name.starts_with("AI"),
                "{}",
                policy.name
            );
            assert!(seen.insert(policy.name), "{} twice", policy.name);
        }
    }

    #[test]
    fn counts() {
        assert_eq!(ACCESS_POLICIES.len(), 27);
        assert_eq!(OTHER_SERVICE_POLICIES.len(), 10);
        assert_eq!(ACCESS_POLICIES.iter().filter(|p| matches!(p.permissions, Permissions::Rules { .. })).count(), 11);
        assert_eq!(rules("AmazonEKSAdminPolicy").len(), 22);
        assert_eq!(rules("AmazonEKSEditPolicy").len(), 20);
        assert_eq!(rules("AmazonEKSViewPolicy").len(), 10);
        assert_eq!(rules("AmazonEKSACKPolicy")[1].api_groups.len(), 56);
    }

    #[test]
    fn cluster_admin_is_everything() {
        let rules = rules("AmazonEKSClusterAdminPolicy");
        assert!(rules.iter().any(|r| r.api_groups == ["*"] && r.resources == ["*"] && r.verbs == ["*"] && r.resource_names.is_empty()));
        assert!(rules.iter().any(|r| r.non_resource_urls == ["*"] && r.verbs == ["*"]));
    }

    #[test]
    fn view_reads_no_secrets() {
        assert!(rules("AmazonEKSViewPolicy").iter().all(|r| !r.resources.contains(&"secrets") && !r.resources.contains(&"*")));
    }

    #[test]
    fn admin_view_reads_everything() {
        assert_eq!(rules("AmazonEKSAdminViewPolicy"), &[rule(&["*"], &["*"], &["get", "list", "watch"])]);
        assert!(find("AmazonEKSAdminViewPolicy").is_some_and(|p| p.note.contains("Secrets")));
    }

    #[test]
    fn edit_creates_secrets() {
        assert!(rules("AmazonEKSEditPolicy")
            .iter()
            .any(|r| r.api_groups == [""] && r.resources.contains(&"secrets") && r.verbs.contains(&"create")));
    }

    #[test]
    fn every_rule_is_well_formed() {
        let all =
            ACCESS_POLICIES.iter().map(|p| (p.name, p.permissions)).chain(OTHER_SERVICE_POLICIES.iter().map(|p| (p.name, p.permissions)));
        for (name, permissions) in all {
            match permissions {
                Permissions::Rules { rules } => {
                    assert!(!rules.is_empty(), "{name}");
                    for r in rules {
                        assert!(!r.verbs.is_empty(), "{name}: {r:?}");
                        // A rule is on resources or on URLs, never both, never neither.
                        assert_ne!(r.resources.is_empty(), r.non_resource_urls.is_empty(), "{name}: {r:?}");
                        assert_eq!(r.api_groups.is_empty(), r.resources.is_empty(), "{name}: {r:?}");
                        assert!(r.verbs.iter().chain(r.resources).all(|s| !s.is_empty() && s.trim() == *s), "{name}: {r:?}");
                    }
                }
                Permissions::Unpublished { summary } => assert!(!summary.is_empty(), "{name}"),
            }
        }
    }

    #[test]
    fn restricted_rows_name_nothing_real() {
        for name in [ACK_CONTROLLER_LEASES, ARGO_CD_CRDS, KRO_CONTROLLER_LEASE] {
            assert!(name.contains(' ') && name.starts_with('('), "{name}");
        }
        let restricted = ACCESS_POLICIES
            .iter()
            .filter_map(|p| match p.permissions {
                Permissions::Rules { rules } => Some(rules),
                Permissions::Unpublished { .. } => None,
            })
            .flatten()
            .filter(|r| !r.resource_names.is_empty())
            .count();
        assert_eq!(restricted, 3);
    }

    #[test]
    fn every_policy_is_sourced() {
        for (name, source) in
            ACCESS_POLICIES.iter().map(|p| (p.name, p.source)).chain(OTHER_SERVICE_POLICIES.iter().map(|p| (p.name, p.source)))
        {
            assert!(source.contains('"') || source.contains("aws-cli"), "{name}: {source}");
        }
    }

    #[test]
    fn serializes_with_a_kind_tag() {
        let json = serde_json::to_value(find("AmazonEKSAutoNodePolicy").unwrap()).unwrap();
        assert_eq!(json["audience"], "auto_mode");
        assert_eq!(json["permissions"]["kind"], "unpublished");
        let json = serde_json::to_value(find("AmazonEKSHybridPolicy").unwrap()).unwrap();
        assert_eq!(json["permissions"]["kind"], "rules");
        assert_eq!(json["permissions"]["rules"][0]["resources"][0], "nodes");
    }
}
