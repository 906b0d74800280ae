//! The Kubernetes side, pure: the `aws-auth` ConfigMap read the way the
//! authenticator reads it, its mappings matched to access entries the way EKS
//! matches identities, and Kubernetes groups checked against RBAC bindings. No
//! I/O: the edge (`aws::kubernetes`) reads the cluster and hands the objects in.
//!
//! Sources (each rule cites the one it follows):
//! - aws-iam-authenticator (kubernetes-sigs/aws-iam-authenticator, read at commit
//!   81b1daba00d1): `pkg/mapper/configmap/configmap.go` `ParseMap` (YAML → JSON →
//!   Go structs: keys match case-insensitively, an entry that fails validation is
//!   dropped and the others kept, empty data is skipped), `pkg/config/mapper.go`
//!   (`RoleMapping.Matches`/`UserMapping.Matches`: `strings.EqualFold` against the
//!   caller's canonical ARN; `sso:` mappings match
//!   `arn:PARTITION:iam::ACCOUNT:role/AWSReservedSSO_PERMISSIONSET_*`), `pkg/arn/arn.go`
//!   (`Canonicalize`: an assumed-role session becomes `arn:P:iam::ACCOUNT:role/NAME`,
//!   with no path, since a session ARN carries none).
//! - kubernetes-sigs/aws-iam-authenticator#153 (a mapped role with a path is never
//!   recognised; `arn.StripPath` exists but is used by the dynamic-file mapper only)
//!   and terraform-aws-modules/terraform-aws-eks#894 (which strips paths when writing
//!   `aws-auth` to work around it).
//! - EKS user guide, "Grant IAM users access to Kubernetes with a ConfigMap"
//!   (<https://docs.aws.amazon.com/eks/latest/userguide/auth-configmap.html>): the
//!   `rolearn` "can't include a path"; "Create access entries"
//!   (<https://docs.aws.amazon.com/eks/latest/userguide/creating-access-entries.html>)
//!   and "Migrating existing aws-auth ConfigMap entries to access entries"
//!   (<https://docs.aws.amazon.com/eks/latest/userguide/migrating-access-entries.html>):
//!   the principal ARN of an entry is the role's full ARN, path included (Identity Center roles live
//!   under `/aws-reserved/sso.amazonaws.com/[REGION/]`); node roles take the types
//!   `EC2_LINUX`/`EC2_WINDOWS` and no groups; group names and usernames may not
//!   start with `system:`, `eks:`, `aws:`, `amazon:` or `iam:`.
//! - Kubernetes RBAC reference: a `Group` subject matches a group name exactly
//!   (case-sensitive); `system:masters` is a privileged group the authorizer lets
//!   through whatever the bindings say.

pub mod access_policies;
pub mod audit;
pub mod authz;
pub mod aws_auth;
pub mod migration;
pub mod picture;
pub mod rbac;
pub mod report;
pub mod reverse;

pub use aws_auth::{AwsAuth, Mapping, MappingKind};
pub use migration::{AccessEntrySummary, Migration, Unmatched};
pub use rbac::{Binding, GroupCheck};
