//! Helpers the integration tests share: load fixtures and diagnose them.

use eks_access_doctor_core::event::{Event, Evidence};
use eks_access_doctor_core::facts::{AccessEntryFacts, AwsAuthFacts, Facts, Lookup, PrincipalFacts};
use eks_access_doctor_core::finding::Cause;
use eks_access_doctor_core::input::{self, Parsed};
use eks_access_doctor_core::kubernetes::{AccessEntrySummary, AwsAuth, Binding};
use eks_access_doctor_core::render::Diagnosis;
use std::path::PathBuf;

pub fn events_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("events")
}

pub fn fixture_text(name: &str) -> String {
    std::fs::read_to_string(events_dir().join(name)).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

/// The one EKS event in a fixture file.
pub fn fixture_event(name: &str) -> Event {
    parse_one(fixture_text(name).as_bytes())
}

pub fn parse_one(bytes: &[u8]) -> Event {
    let mut records = input::parse_document(bytes);
    assert_eq!(records.len(), 1, "expected one record");
    match records.remove(0).outcome {
        Ok(Parsed::Event(event)) => *event,
        other => panic!("expected an EKS event, got {other:?}"),
    }
}

pub fn diagnose(event: Event) -> Diagnosis {
    eks_access_doctor_core::diagnose(event, &Facts::default())
}

pub fn cause_ids(d: &Diagnosis) -> Vec<&'static str> {
    d.findings.iter().map(|f| f.cause.id).collect()
}

/// A fixture's JSON with the CloudTrail record edited by `edit`.
pub fn edited_fixture(name: &str, edit: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let mut value: serde_json::Value = serde_json::from_str(&fixture_text(name)).unwrap();
    edit(&mut value["detail"]);
    serde_json::to_vec(&value).unwrap()
}
/// A cause's fixture: `events/ID.json` for CloudTrail causes, `events/authenticator/ID.json`
/// (a decoded CloudWatch Logs subscription message) for authenticator causes: by the
/// first evidence the cause reads (`group-not-bound`'s authenticator fixture is
/// `authenticator/group-not-bound.json`, tested on its own).
pub fn cause_fixture(cause: &Cause) -> String {
    match cause.evidence[0] {
        Evidence::CloudTrail => format!("{}.json", cause.id),
        Evidence::Authenticator => format!("authenticator/{}.json", cause.id),
        Evidence::Audit => format!("audit/{}.json", cause.id),
    }
}

/// The live facts a cause that matches on facts alone is shown with; none for the others.
pub fn facts_for(cause: &Cause) -> Facts {
    match cause.id {
        "short-lived-access-entry" => Facts { entry_lifetime: Lookup::Found(754), ..Facts::default() },
        "node-role-standard-entry" => Facts {
            principal: Lookup::Found(PrincipalFacts {
                arn: Some("arn:aws:iam::111122223333:role/KarpenterNodeRole-prod-eu".into()),
                path: "/".into(),
                trusted_services: vec!["ec2.amazonaws.com".into()],
                ..PrincipalFacts::default()
            }),
            ..Facts::default()
        },
        "access-entry-grants-nothing" => Facts {
            settled_entry: Lookup::Found(AccessEntryFacts { entry_type: Some("STANDARD".into()), ..AccessEntryFacts::default() }),
            ..Facts::default()
        },
        "auto-mode-node-policy-missing" => Facts {
            settled_entry: Lookup::Found(AccessEntryFacts { entry_type: Some("EC2".into()), ..AccessEntryFacts::default() }),
            ..Facts::default()
        },
        "node-entry-deleted" => Facts {
            principal: Lookup::Found(PrincipalFacts {
                arn: Some("arn:aws:iam::111122223333:role/batch-workers-node-role".into()),
                path: "/".into(),
                trusted_services: vec!["ec2.amazonaws.com".into()],
                ..PrincipalFacts::default()
            }),
            ..Facts::default()
        },
        "group-not-bound" => Facts { bindings: Lookup::Found(sample_bindings()), ..Facts::default() },
        "pod-identity-agent-missing" => Facts { pod_identity_agent: Lookup::Absent, ..Facts::default() },
        "aws-auth-principal-loses-access" => Facts { aws_auth: Lookup::Found(sample_aws_auth()), ..Facts::default() },
        _ => Facts::default(),
    }
}

/// A cluster's bindings: `platform-admins` cluster-wide, `readonly` in one namespace.
pub fn sample_bindings() -> Vec<Binding> {
    let item = |kind: &str, json: serde_json::Value| Binding::from_item(kind, &json).unwrap();
    vec![
        item(
            "ClusterRoleBinding",
            serde_json::json!({"metadata": {"name": "platform-admins"}, "roleRef": {"kind": "ClusterRole", "name": "cluster-admin"},
                "subjects": [{"kind": "Group", "name": "platform-admins", "apiGroup": "rbac.authorization.k8s.io"}]}),
        ),
        item(
            "RoleBinding",
            serde_json::json!({"metadata": {"name": "readonly", "namespace": "tools"}, "roleRef": {"kind": "ClusterRole", "name": "view"},
                "subjects": [{"kind": "Group", "name": "readonly", "apiGroup": "rbac.authorization.k8s.io"}]}),
        ),
    ]
}

/// An `aws-auth` ConfigMap with a node role, three principals mapped nowhere else,
/// and one that already has an access entry.
pub fn sample_aws_auth() -> AwsAuthFacts {
    let map_roles = "\
- rolearn: arn:aws:iam::111122223333:role/payments-node-role
  username: system:node:{{EC2PrivateDNSName}}
  groups:
    - system:bootstrappers
    - system:nodes
- rolearn: arn:aws:iam::111122223333:role/AWSReservedSSO_PaymentsAdmin_5f2c9e1a7b3d4c60
  username: payments-admin:{{SessionName}}
  groups:
    - system:masters
- rolearn: arn:aws:iam::111122223333:role/ci-deployer
  username: ci-deployer
  groups:
    - payments-deployers
- rolearn: arn:aws:iam::111122223333:role/PlatformAdmin
  username: platform-admin
  groups:
    - platform-admins
";
    let map_users = "- userarn: arn:aws:iam::111122223333:user/oncall/dana\n  username: dana\n  groups: [payments-oncall]\n";
    let data = std::collections::BTreeMap::from([
        ("mapRoles".to_string(), map_roles.to_string()),
        ("mapUsers".to_string(), map_users.to_string()),
    ]);
    AwsAuthFacts {
        config_map: Some(AwsAuth::parse(&data)),
        entries: vec![
            AccessEntrySummary {
                principal_arn: "arn:aws:iam::111122223333:role/payments-node-role".into(),
                entry_type: Some("EC2_LINUX".into()),
            },
            AccessEntrySummary {
                principal_arn: "arn:aws:iam::111122223333:role/PlatformAdmin".into(),
                entry_type: Some("STANDARD".into()),
            },
        ],
        role_arns: Default::default(),
    }
}

pub fn diagnose_cause_fixture(cause: &Cause) -> eks_access_doctor_core::render::Diagnosis {
    eks_access_doctor_core::diagnose(fixture_event(&cause_fixture(cause)), &facts_for(cause))
}

pub mod doctor;
pub mod emf;
pub mod logs;
pub mod runtime_api;
pub mod webhook;

/// The sample `name` as the README and the book show it (between `<!-- sample:NAME:start -->`
/// and its end marker, without the fence). Every copy must be the same, so one check
/// keeps them all true; there must be at least one.
pub fn doc_sample(name: &str) -> String {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut pages = vec![root.join("README.md")];
    let mut book: Vec<_> = std::fs::read_dir(root.join("docs/src")).unwrap().map(|e| e.unwrap().path()).collect();
    book.sort();
    pages.extend(book.into_iter().filter(|p| p.extension().is_some_and(|e| e == "md")));
    let (start, end) = (format!("<!-- sample:{name}:start -->\n"), format!("<!-- sample:{name}:end -->"));
    let mut copies = Vec::new();
    for page in pages {
        let text = std::fs::read_to_string(&page).unwrap();
        for (_, rest) in text.match_indices(&start).map(|(at, _)| text.split_at(at + start.len())) {
            let section = rest.split_once(&end).unwrap_or_else(|| panic!("{}: sample {name} has no end", page.display())).0;
            let body = section.split_once('\n').unwrap().1;
            copies.push((page.clone(), body.strip_suffix("```\n").unwrap().to_string()));
        }
    }
    let (first_page, first) = copies.first().cloned().unwrap_or_else(|| panic!("no copy of sample {name} in the README or the book"));
    for (page, copy) in &copies {
        assert_eq!(copy, &first, "sample {name}: {} and {} differ", first_page.display(), page.display());
    }
    first
}

/// The function's binary, built by cargo for this test run's profile. It is another
/// package's binary (crates/lambda, which builds neither clap nor indicatif), so cargo
/// does not build it for this package's tests: it is built here, once, by cargo itself
/// (a no-op when up to date), so no test ever runs a stale function.
pub fn lambda_binary() -> std::path::PathBuf {
    static BUILT: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let cli = std::path::Path::new(env!("CARGO_BIN_EXE_eks-access-doctor"));
            let profile = if cfg!(debug_assertions) { "dev" } else { "release" };
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let mut command = std::process::Command::new(cargo);
            // Without the variables cargo set for this test process: build scripts watch
            // some (ring's, through cc, reruns when CARGO_MANIFEST_DIR changes), so they
            // would rebuild the SDK here, and again in the next `cargo test`.
            for (name, _) in std::env::vars_os() {
                let name = name.to_string_lossy();
                if [
                    "CARGO_PKG_",
                    "CARGO_BIN_",
                    "CARGO_CRATE_",
                    "CARGO_MANIFEST_",
                    "CARGO_PRIMARY_PACKAGE",
                    "CARGO_TARGET_TMPDIR",
                    "OUT_DIR",
                ]
                .iter()
                .any(|set| name.starts_with(set))
                {
                    command.env_remove(name.as_ref());
                }
            }
            let status = command
                // The binary, with an example (it takes the dev-dependencies, as these tests
                // do) in the same build, the dependencies' features are those `cargo test` built them
                // with (the SDK's test-util), so nothing is compiled a second time.
                .args(["build", "--quiet", "--profile", profile, "-p", "eks-access-doctor-lambda", "-p", "eks-access-doctor"])
                .args(["--bin", "eks-access-doctor-lambda", "--example", "gen_archive", "--manifest-path"])
                .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
                .status()
                .expect("run cargo build for the function's binary");
            assert!(status.success(), "cargo build -p eks-access-doctor-lambda failed");
            let binary = cli.with_file_name(format!("eks-access-doctor-lambda{}", std::env::consts::EXE_SUFFIX));
            assert!(binary.exists(), "{} not built", binary.display());
            binary
        })
        .clone()
}
