//! One typed ARN for the whole crate. Every ARN an event carries (callers, session
//! issuers, principals, resources in error messages, the function's own ARN) is read
//! here, and every ARN the advice writes is built here, in the event's partition.

use std::fmt;

/// `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`, borrowed from the text it was read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arn<'a> {
    pub partition: &'a str,
    pub service: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub resource: &'a str,
}

impl<'a> Arn<'a> {
    /// Reads an ARN; `None` unless it has all six parts and a partition, service and resource.
    pub fn parse(text: &'a str) -> Option<Arn<'a>> {
        let mut parts = text.splitn(6, ':');
        if parts.next()? != "arn" {
            return None;
        }
        let arn = Arn {
            partition: parts.next()?,
            service: parts.next()?,
            region: parts.next()?,
            account: parts.next()?,
            resource: parts.next()?,
        };
        (!arn.partition.is_empty() && !arn.service.is_empty() && !arn.resource.is_empty()).then_some(arn)
    }

    /// The IAM principal this ARN names: a role (with its path), a user, or an STS
    /// session of a role. `None` for any other ARN.
    pub fn principal(&self) -> Option<Principal<'a>> {
        let (kind, rest) = self.resource.split_once('/')?;
        let kind = match (self.service, kind) {
            ("iam", "role") => PrincipalKind::Role,
            ("iam", "user") => PrincipalKind::User,
            ("sts", "assumed-role") => PrincipalKind::AssumedRole,
            _ => return None,
        };
        let (path, name, session) = match kind {
            PrincipalKind::AssumedRole => {
                let (role, session) = rest.split_once('/').unwrap_or((rest, ""));
                ("/", role, Some(session))
            }
            _ => match rest.rsplit_once('/') {
                // The path with its slashes, as it stands in the resource: `role/a/b/NAME` → `/a/b/`.
                Some((path, name)) => {
                    let start = kind.prefix().len() - 1;
                    (&self.resource[start..start + path.len() + 2], name, None)
                }
                None => ("/", rest, None),
            },
        };
        (!name.is_empty()).then_some(Principal { arn: *self, kind, path, name, session })
    }
}

impl fmt::Display for Arn<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "arn:{}:{}:{}:{}:{}", self.partition, self.service, self.region, self.account, self.resource)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrincipalKind {
    Role,
    User,
    /// `arn:…:sts::ACCOUNT:assumed-role/ROLE/SESSION`: the role's path is not in it.
    AssumedRole,
}

impl PrincipalKind {
    fn prefix(self) -> &'static str {
        match self {
            PrincipalKind::Role => "role/",
            PrincipalKind::User => "user/",
            PrincipalKind::AssumedRole => "assumed-role/",
        }
    }
}

/// An IAM role, user or role session, split the way IAM names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Principal<'a> {
    pub arn: Arn<'a>,
    pub kind: PrincipalKind,
    /// `/` or `/a/b/`, as IAM writes paths (always `/` for a session: the ARN has none).
    pub path: &'a str,
    /// The role or user name.
    pub name: &'a str,
    /// The session name of an assumed role.
    pub session: Option<&'a str>,
}

/// The prefix IAM Identity Center gives the roles it creates for permission sets.
const SSO_ROLE_PREFIX: &str = "AWSReservedSSO_";

impl<'a> Principal<'a> {
    pub fn is_role(&self) -> bool {
        matches!(self.kind, PrincipalKind::Role | PrincipalKind::AssumedRole)
    }

    /// Service-linked roles live under `/aws-service-role/`.
    pub fn is_service_linked(&self) -> bool {
        self.kind == PrincipalKind::Role && self.path.starts_with("/aws-service-role/")
    }

    /// The role's ARN: itself for a role; for a session, the role behind it (path
    /// unknown, so written without one). `None` for a user.
    pub fn role_arn(&self) -> Option<String> {
        match self.kind {
            PrincipalKind::Role => Some(self.arn.to_string()),
            PrincipalKind::AssumedRole => Some(iam_role_arn(self.arn.partition, self.arn.account, "/", self.name)),
            PrincipalKind::User => None,
        }
    }

    /// The role ARN without its path: the form the `aws-auth` ConfigMap matches on.
    pub fn role_arn_without_path(&self) -> Option<String> {
        self.is_role().then(|| iam_role_arn(self.arn.partition, self.arn.account, "/", self.name))
    }

    /// The Identity Center permission set behind an `AWSReservedSSO_NAME_SUFFIX` role.
    pub fn permission_set(&self) -> Option<PermissionSet<'a>> {
        if !self.is_role() {
            return None;
        }
        let rest = self.name.strip_prefix(SSO_ROLE_PREFIX)?;
        let (name, suffix) = rest.rsplit_once('_')?;
        let region = self
            .path
            .strip_prefix("/aws-reserved/sso.amazonaws.com/")
            .and_then(|r| r.strip_suffix('/'))
            .filter(|r| !r.is_empty() && !r.contains('/'));
        (!name.is_empty() && !suffix.is_empty()).then_some(PermissionSet { name, region })
    }
}

/// An IAM Identity Center permission set, as far as its role's ARN tells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PermissionSet<'a> {
    pub name: &'a str,
    /// The Identity Center region, from the role's `/aws-reserved/sso.amazonaws.com/REGION/` path.
    pub region: Option<&'a str>,
}

/// `arn:P:iam::ACCOUNT:role/PATH/NAME`; `path` is `/` or `/a/b/`.
pub fn iam_role_arn(partition: &str, account: &str, path: &str, name: &str) -> String {
    format!("arn:{partition}:iam::{account}:role{path}{name}")
}

/// An EKS access policy's ARN: `arn:P:eks::aws:cluster-access-policy/NAME`.
pub fn access_policy_arn(partition: &str, name: &str) -> String {
    format!("arn:{partition}:eks::aws:cluster-access-policy/{name}")
}

/// An EKS cluster's ARN: `arn:P:eks:REGION:ACCOUNT:cluster/NAME`.
pub fn eks_cluster_arn(partition: &str, region: &str, account: &str, name: &str) -> String {
    format!("arn:{partition}:eks:{region}:{account}:cluster/{name}")
}

/// The partition a region belongs to, by its documented prefixes.
pub fn partition_of_region(region: &str) -> &'static str {
    const PREFIXES: &[(&str, &str)] = &[
        ("cn-", "aws-cn"),
        ("us-gov-", "aws-us-gov"),
        ("us-isob-", "aws-iso-b"),
        ("us-isof-", "aws-iso-f"),
        ("us-iso-", "aws-iso"),
        ("eu-isoe-", "aws-iso-e"),
        ("eusc-", "aws-eusc"),
    ];
    PREFIXES.iter().find(|(prefix, _)| region.starts_with(prefix)).map_or("aws", |(_, partition)| partition)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_principal_shape() {
        let role = Arn::parse("arn:aws-us-gov:iam::111122223333:role/team/ops/Deployer").unwrap().principal().unwrap();
        assert_eq!((role.kind, role.path, role.name), (PrincipalKind::Role, "/team/ops/", "Deployer"));
        assert_eq!(role.role_arn_without_path().unwrap(), "arn:aws-us-gov:iam::111122223333:role/Deployer");

        let plain = Arn::parse("arn:aws:iam::1:role/Plain").unwrap().principal().unwrap();
        assert_eq!((plain.path, plain.name), ("/", "Plain"));

        let session = Arn::parse("arn:aws-cn:sts::1:assumed-role/Deployer/jdoe@example.com").unwrap().principal().unwrap();
        assert_eq!((session.kind, session.name, session.session), (PrincipalKind::AssumedRole, "Deployer", Some("jdoe@example.com")));
        assert_eq!(session.role_arn().unwrap(), "arn:aws-cn:iam::1:role/Deployer");

        let user = Arn::parse("arn:aws:iam::1:user/dev/alice").unwrap().principal().unwrap();
        assert_eq!((user.kind, user.path, user.name, user.role_arn()), (PrincipalKind::User, "/dev/", "alice", None));

        assert!(Arn::parse("arn:aws:eks:eu-west-1:1:cluster/prod").unwrap().principal().is_none());
        assert!(Arn::parse("arn:aws:iam::1:role/").unwrap().principal().is_none());
        assert_eq!(Arn::parse("not an arn"), None);
        assert_eq!(Arn::parse("arn:aws:iam"), None);
    }

    #[test]
    fn service_linked_and_identity_center_roles() {
        let slr = Arn::parse("arn:aws:iam::1:role/aws-service-role/eks.amazonaws.com/AWSServiceRoleForAmazonEKS").unwrap();
        assert!(slr.principal().unwrap().is_service_linked());

        let sso =
            Arn::parse("arn:aws:iam::1:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Platform_Admins_0123456789abcdef")
                .unwrap()
                .principal()
                .unwrap();
        assert_eq!(sso.permission_set(), Some(PermissionSet { name: "Platform_Admins", region: Some("eu-west-1") }));
        let session = Arn::parse("arn:aws:sts::1:assumed-role/AWSReservedSSO_ReadOnly_0123456789abcdef/jane").unwrap();
        assert_eq!(session.principal().unwrap().permission_set(), Some(PermissionSet { name: "ReadOnly", region: None }));
        assert_eq!(Arn::parse("arn:aws:iam::1:role/AWSReservedSSO_").unwrap().principal().unwrap().permission_set(), None);
    }

    #[test]
    fn builds_arns_in_the_partition_of_the_region() {
        assert_eq!(partition_of_region("cn-northwest-1"), "aws-cn");
        assert_eq!(partition_of_region("us-gov-west-1"), "aws-us-gov");
        assert_eq!(partition_of_region("eu-west-1"), "aws");
        assert_eq!(access_policy_arn("aws-cn", "AmazonEKSViewPolicy"), "arn:aws-cn:eks::aws:cluster-access-policy/AmazonEKSViewPolicy");
        assert_eq!(iam_role_arn("aws-us-gov", "1", "/x/", "R"), "arn:aws-us-gov:iam::1:role/x/R");
        assert_eq!(eks_cluster_arn("aws-cn", "cn-north-1", "1", "prod"), "arn:aws-cn:eks:cn-north-1:1:cluster/prod");
    }
}
