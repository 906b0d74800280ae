//! Role trust policies for EKS Pod Identity: whether a role lets Pod Identity (or the
//! association's role, for a target role) assume it, and the statement that would.
//! Read from the document IAM returns, so advice built on it keeps every statement
//! the role already has: `update-assume-role-policy` replaces the whole policy.

use serde_json::{json, Value};

/// The service principal EKS Pod Identity assumes roles as.
pub const POD_IDENTITY_SERVICE: &str = "pods.eks.amazonaws.com";

/// The actions a role's trust policy must allow Pod Identity (and an association role
/// on a target role): the session tags Pod Identity adds need `sts:TagSession`.
pub const POD_IDENTITY_ACTIONS: [&str; 2] = ["sts:AssumeRole", "sts:TagSession"];

/// Who a trust statement is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trustee<'a> {
    /// An AWS service principal (`pods.eks.amazonaws.com`).
    Service(&'a str),
    /// An IAM role, by ARN: trusted by its ARN, its account's root or its account id.
    Role(&'a str),
}

impl Trustee<'_> {
    fn principal(&self) -> Value {
        match self {
            Trustee::Service(service) => json!({ "Service": service }),
            Trustee::Role(arn) => json!({ "AWS": arn }),
        }
    }

    /// Whether a statement's `Principal` names this trustee.
    fn named_by(&self, principal: &Value) -> bool {
        match self {
            Trustee::Service(service) => values(&principal["Service"]).any(|v| v.eq_ignore_ascii_case(service)),
            Trustee::Role(arn) => {
                let parsed = crate::arn::Arn::parse(arn);
                let account = parsed.map(|a| a.account).unwrap_or_default();
                let root = parsed.map(|a| format!("arn:{}:iam::{account}:root", a.partition)).unwrap_or_default();
                principal == "*" || values(&principal["AWS"]).any(|v| v == *arn || v == "*" || v == account || v == root)
            }
        }
    }
}

/// A policy element that is a string or a list of strings, as its strings.
fn values(value: &Value) -> impl Iterator<Item = &str> {
    let list: Vec<&str> = match value {
        Value::String(one) => vec![one.as_str()],
        Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    list.into_iter()
}

/// The services `document`'s `Allow` statements name (`Principal.Service`), sorted, each once.
pub fn allowed_services(document: &Value) -> Vec<String> {
    let mut services: Vec<String> = statements(document)
        .into_iter()
        .filter(|s| s["Effect"] == "Allow")
        .flat_map(|s| values(&s["Principal"]["Service"]))
        .map(str::to_string)
        .collect();
    services.sort();
    services.dedup();
    services
}

/// IAM's action matching: case-insensitive, `*` and `?` wildcards.
fn action_matches(pattern: &str, action: &str) -> bool {
    fn glob(p: &[u8], a: &[u8]) -> bool {
        match (p.split_first(), a.split_first()) {
            (None, None) => true,
            (Some((b'*', rest)), _) => glob(rest, a) || (!a.is_empty() && glob(p, &a[1..])),
            (Some((&pc, prest)), Some((&ac, arest))) => (pc == b'?' || pc.eq_ignore_ascii_case(&ac)) && glob(prest, arest),
            _ => false,
        }
    }
    glob(pattern.as_bytes(), action.as_bytes())
}

/// The statements of a policy document (an object or a list).
fn statements(document: &Value) -> Vec<&Value> {
    match &document["Statement"] {
        Value::Array(many) => many.iter().collect(),
        Value::Object(_) => vec![&document["Statement"]],
        _ => Vec::new(),
    }
}

/// Whether a statement of `effect` covers `action` for `trustee`. Statements written
/// with `NotAction` or `NotPrincipal` are not read: they never count as granting.
fn covers(statement: &Value, effect: &str, trustee: Trustee, action: &str) -> bool {
    statement["Effect"].as_str().is_some_and(|e| e.eq_ignore_ascii_case(effect))
        && trustee.named_by(&statement["Principal"])
        && values(&statement["Action"]).any(|pattern| action_matches(pattern, action))
}

/// The actions of [`POD_IDENTITY_ACTIONS`] that `document` does not let `trustee` take:
/// no Allow names it, or a Deny does. Conditions are not evaluated (an Allow with one
/// counts as allowing).
pub fn missing_actions(document: &Value, trustee: Trustee) -> Vec<&'static str> {
    let statements = statements(document);
    POD_IDENTITY_ACTIONS
        .into_iter()
        .filter(|action| {
            let allowed = statements.iter().any(|s| covers(s, "Allow", trustee, action));
            let denied = statements.iter().any(|s| covers(s, "Deny", trustee, action));
            !allowed || denied
        })
        .collect()
}

/// Whether a Deny in `document` refuses `trustee` one of the Pod Identity actions: no
/// added Allow can then help.
pub fn denies(document: &Value, trustee: Trustee) -> bool {
    let statements = statements(document);
    POD_IDENTITY_ACTIONS.iter().any(|action| statements.iter().any(|s| covers(s, "Deny", trustee, action)))
}

/// The statement that lets `trustee` take `actions`. The Sid is the one the EKS User
/// Guide writes for Pod Identity.
pub fn statement(trustee: Trustee, actions: &[&str]) -> Value {
    let sid = match trustee {
        Trustee::Service(_) => "AllowEksAuthToAssumeRoleForPodIdentity",
        Trustee::Role(_) => "AllowPodIdentityAssociationRole",
    };
    json!({ "Sid": sid, "Effect": "Allow", "Principal": trustee.principal(), "Action": actions })
}

/// A trust policy holding only `statement`: for a role that has none to keep.
pub fn policy(statement: Value) -> Value {
    json!({ "Version": "2012-10-17", "Statement": [statement] })
}

/// `document` with `statement` added after its own statements, every one of them kept
/// (a single `Statement` object becomes a list).
pub fn with_statement(document: &Value, statement: Value) -> Value {
    let mut merged = if document.is_object() { document.clone() } else { json!({ "Version": "2012-10-17" }) };
    let mut list: Vec<Value> = statements(document).into_iter().cloned().collect();
    list.push(statement);
    merged["Statement"] = Value::Array(list);
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    const POD: Trustee = Trustee::Service(POD_IDENTITY_SERVICE);

    #[test]
    fn reads_what_a_trust_policy_allows() {
        let ec2 = json!({"Statement": {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}});
        assert_eq!(missing_actions(&ec2, POD), POD_IDENTITY_ACTIONS);
        let assume_only =
            json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": ["pods.eks.amazonaws.com"]}, "Action": "sts:AssumeRole"}]});
        assert_eq!(missing_actions(&assume_only, POD), ["sts:TagSession"]);
        let wildcard = json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": "STS:*"}]});
        assert!(missing_actions(&wildcard, POD).is_empty());
        let denied = json!({"Statement": [
            {"Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": ["sts:AssumeRole", "sts:TagSession"]},
            {"Effect": "Deny", "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": "sts:TagSession"}]});
        assert_eq!(missing_actions(&denied, POD), ["sts:TagSession"]);
        assert!(denies(&denied, POD));
        assert_eq!(missing_actions(&Value::Null, POD), POD_IDENTITY_ACTIONS);
    }

    #[test]
    fn a_role_is_trusted_by_arn_account_or_root() {
        let role = Trustee::Role("arn:aws:iam::111122223333:role/app");
        for principal in ["arn:aws:iam::111122223333:role/app", "arn:aws:iam::111122223333:root", "111122223333"] {
            let doc = json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": principal}, "Action": ["sts:AssumeRole", "sts:TagSession"]}]});
            assert!(missing_actions(&doc, role).is_empty(), "{principal}");
        }
        let other = json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"}, "Action": "sts:*"}]});
        assert_eq!(missing_actions(&other, role).len(), 2);
    }

    #[test]
    fn adding_keeps_every_statement() {
        let ec2 = json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}});
        let merged = with_statement(&ec2, statement(POD, &POD_IDENTITY_ACTIONS));
        assert_eq!(merged["Statement"][0], ec2["Statement"]);
        assert!(missing_actions(&merged, POD).is_empty());
        assert_eq!(merged["Version"], "2012-10-17");
    }
}
