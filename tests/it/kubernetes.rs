//! The Kubernetes side end to end, against MiniStack (EKS, IAM, STS) and the
//! kube-apiserver stand-in (`tests/e2e/kube_apiserver_standin.py`), which checks
//! each token as aws-iam-authenticator does and sends it to MiniStack's STS. Run
//! like `tests/it/ministack.rs`: `MINISTACK_URL=… cargo test --test it -- --ignored kubernetes::`
//! (the stand-in's Python, with boto3, PyYAML and cryptography, is
//! `$KUBE_STANDIN_PYTHON`, else `.tools/sam/bin/python`, the SAM CLI's virtualenv).

use crate::support;

mod picture;
use aws_sdk_eks::types::{AuthenticationMode, CreateAccessConfigRequest, VpcConfigRequest};
use eks_access_doctor_aws::enrich::{gather, AwsLookups, Home};
use eks_access_doctor_aws::kubernetes::client::Endpoint;
use eks_access_doctor_aws::kubernetes::{ApiReads, KubernetesLookups};
use eks_access_doctor_core::facts::Lookup;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::Duration;

const ACCOUNT: &str = "000000000000";

fn ministack() -> String {
    std::env::var("MINISTACK_URL").expect("MINISTACK_URL: run through scripts/e2e")
}

/// A name no other test of this run (parallel threads) or an earlier run uses.
fn unique(prefix: &str) -> String {
    static COUNT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{prefix}-{}-{n}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos())
}

async fn config(credentials: &Credentials) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(ministack())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_eks::config::Credentials::new(
            &credentials.key,
            &credentials.secret,
            credentials.token.clone(),
            None,
            "tests",
        ))
        .load()
        .await
}

#[derive(Clone, Debug)]
struct Credentials {
    key: String,
    secret: String,
    token: Option<String>,
}

/// The account's own keys: MiniStack takes a 12-digit access key as the account id, so
/// these tests run in ACCOUNT whatever account the instance defaults to (scripts/e2e
/// starts it with the fixtures' account).
fn root() -> Credentials {
    Credentials { key: ACCOUNT.into(), secret: "test".into(), token: None }
}

fn xml_field(xml: &str, name: &str) -> String {
    let start = xml.find(&format!("<{name}>")).unwrap_or_else(|| panic!("{name} in {xml}")) + name.len() + 2;
    xml[start..start + xml[start..].find('<').unwrap()].to_string()
}

/// A session of `role` from MiniStack's STS (AssumeRole).
async fn assume(role: &str, session: &str) -> Credentials {
    let body = format!("Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::{ACCOUNT}:role/{role}&RoleSessionName={session}");
    // Plain HTTP, but reqwest wants a TLS configuration (it links no provider of its own).
    let tls = eks_access_doctor_aws::tls::client_config(rustls::RootCertStore::empty()).unwrap();
    let xml = reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .build()
        .unwrap()
        .post(ministack())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    Credentials {
        key: xml_field(&xml, "AccessKeyId"),
        secret: xml_field(&xml, "SecretAccessKey"),
        token: Some(xml_field(&xml, "SessionToken")),
    }
}

/// The stand-in, stopped when dropped.
struct StandIn {
    child: Child,
    dir: tempfile::TempDir,
    state: PathBuf,
}

impl StandIn {
    fn start(cluster: &str, sts_url: &str, state: &Value) -> StandIn {
        let dir = tempfile::tempdir().unwrap();
        let state_path = dir.path().join("state.json");
        std::fs::write(&state_path, state.to_string()).unwrap();
        let python = std::env::var("KUBE_STANDIN_PYTHON")
            .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/sam/bin/python").display().to_string());
        let child = Command::new(python)
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/kube_apiserver_standin.py"))
            .arg(dir.path().join("srv"))
            .args(["--cluster", cluster, "--account", ACCOUNT, "--sts-url", sts_url, "--eks-url", &ministack(), "--state"])
            .arg(&state_path)
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("the stand-in's python");
        let url = dir.path().join("srv/url");
        for _ in 0..200 {
            if url.exists() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(url.exists(), "the stand-in did not start");
        StandIn { child, dir, state: state_path }
    }

    fn url(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("srv/url")).unwrap()
    }

    fn ca(&self) -> PathBuf {
        self.dir.path().join("srv/ca.pem")
    }

    fn endpoint(&self) -> Endpoint {
        Endpoint { url: self.url(), ca_pem: std::fs::read(self.ca()).unwrap() }
    }

    fn set_state(&self, state: &Value) {
        std::fs::write(&self.state, state.to_string()).unwrap();
    }

    /// Every request the stand-in answered.
    fn requests(&self) -> Vec<Value> {
        std::fs::read_to_string(self.dir.path().join("srv/requests.ndjson"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// `eks-access-doctor ARGS --cluster CLUSTER --kubernetes-endpoint … --kubernetes-ca …` as `credentials`.
    fn cli(&self, credentials: &Credentials, args: &[&str]) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_eks-access-doctor"));
        command
            .args(args)
            .args(["--kubernetes-endpoint", &self.url(), "--kubernetes-ca"])
            .arg(self.ca())
            .env("AWS_ENDPOINT_URL", ministack())
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", &credentials.key)
            .env("AWS_SECRET_ACCESS_KEY", &credentials.secret)
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_SESSION_TOKEN");
        if let Some(token) = &credentials.token {
            command.env("AWS_SESSION_TOKEN", token);
        }
        command.output().unwrap()
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn binding(kind: &str, name: &str, namespace: Option<&str>, role: &str, group: &str) -> Value {
    let mut metadata = json!({"name": name, "uid": format!("uid-{name}"), "resourceVersion": "4242"});
    if let Some(ns) = namespace {
        metadata["namespace"] = json!(ns);
    }
    json!({"metadata": metadata, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": role},
           "subjects": [{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": group}]})
}

/// The documents of deploy/kubernetes-reader.yaml.
fn reader_manifest() -> Vec<Value> {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/kubernetes-reader.yaml")).unwrap();
    serde_yaml::Deserializer::from_str(&text)
        .map(|doc| serde_json::to_value(<serde_yaml::Value as serde::Deserialize>::deserialize(doc).unwrap()).unwrap())
        .collect()
}

/// A cluster in MiniStack (API_AND_CONFIG_MAP), the roles, and a reader role with an
/// entry in the group the reader ClusterRoleBinding names; the stand-in's state.
struct Fixture {
    cluster: String,
    reader: Credentials,
    state: Value,
    eks: aws_sdk_eks::Client,
}

async fn fixture() -> Fixture {
    let config = config(&root()).await;
    let eks = aws_sdk_eks::Client::new(&config);
    let iam = aws_sdk_iam::Client::new(&config);
    let cluster = unique("k8s");
    eks.create_cluster()
        .name(&cluster)
        .role_arn(format!("arn:aws:iam::{ACCOUNT}:role/cluster"))
        .resources_vpc_config(VpcConfigRequest::builder().subnet_ids("subnet-1").build())
        .access_config(CreateAccessConfigRequest::builder().authentication_mode(AuthenticationMode::ApiAndConfigMap).build())
        .send()
        .await
        .unwrap();
    let reader = unique("Reader");
    for name in [reader.as_str(), "payments-node-role", "ci-deployer", "PlatformAdmin"] {
        let _ = iam.create_role().role_name(name).assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[]}"#).send().await;
    }
    let _ = iam
        .create_role()
        .path("/aws-reserved/sso.amazonaws.com/eu-west-1/")
        .role_name("AWSReservedSSO_PaymentsAdmin_5f2c9e1a7b3d4c60")
        .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[]}"#)
        .send()
        .await;
    let entry = |arn: String, groups: &[&str], kind: Option<&str>| {
        let mut call = eks.create_access_entry().cluster_name(&cluster).principal_arn(arn);
        for g in groups {
            call = call.kubernetes_groups(*g);
        }
        if let Some(kind) = kind {
            call = call.r#type(kind);
        }
        call.send()
    };
    entry(format!("arn:aws:iam::{ACCOUNT}:role/{reader}"), &["eks-access-doctor-readers"], None).await.unwrap();
    entry(format!("arn:aws:iam::{ACCOUNT}:role/payments-node-role"), &[], Some("EC2_LINUX")).await.unwrap();
    entry(format!("arn:aws:iam::{ACCOUNT}:role/PlatformAdmin"), &["platform-admins"], None).await.unwrap();
    let map_roles = format!(
        "- rolearn: arn:aws:iam::{ACCOUNT}:role/payments-node-role\n  username: system:node:{{{{EC2PrivateDNSName}}}}\n  groups:\n    - system:bootstrappers\n    - system:nodes\n\
         - rolearn: arn:aws:iam::{ACCOUNT}:role/AWSReservedSSO_PaymentsAdmin_5f2c9e1a7b3d4c60\n  username: payments-admin:{{{{SessionName}}}}\n  groups:\n    - system:masters\n\
         - rolearn: arn:aws:iam::{ACCOUNT}:role/ci-deployer\n  username: ci-deployer\n  groups:\n    - payments-deployers\n\
         - rolearn: arn:aws:iam::{ACCOUNT}:role/PlatformAdmin\n  username: platform-admin\n  groups:\n    - platform-admins\n"
    );
    let map_users = format!("- userarn: arn:aws:iam::{ACCOUNT}:user/oncall/dana\n  username: dana\n  groups: [payments-oncall]\n");
    let reader_credentials = assume(&reader, "doctor").await;
    let mut rolebindings: Vec<Value> = (0..7)
        .map(|i| binding("ClusterRole", &format!("team-{i}"), Some(&format!("ns-{}", i % 3)), "view", &format!("team-{i}")))
        .collect();
    rolebindings.push(binding("ClusterRole", "readonly", Some("tools"), "view", "readonly"));
    // The read-only RBAC as deployed: deploy/kubernetes-reader.yaml, as is.
    let manifest = reader_manifest();
    let of_kind = |kinds: &[&str]| manifest.iter().filter(|d| kinds.contains(&d["kind"].as_str().unwrap())).cloned().collect::<Vec<_>>();
    rolebindings.extend(of_kind(&["RoleBinding"]));
    let mut clusterrolebindings = of_kind(&["ClusterRoleBinding"]);
    clusterrolebindings.push(binding("ClusterRole", "platform-admins", None, "cluster-admin", "platform-admins"));
    let state = json!({
        "roles": of_kind(&["Role", "ClusterRole"]),
        "clusterrolebindings": clusterrolebindings,
        "rolebindings": rolebindings,
        "aws_auth": {"mapRoles": map_roles, "mapUsers": map_users},
        "secrets": {reader_credentials.key.clone(): reader_credentials.secret.clone()},
        "page_size_cap": 3,
    });
    Fixture { cluster, reader: reader_credentials, state, eks }
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs MiniStack: run scripts/e2e"]
async fn preflight_names_every_aws_auth_only_principal_with_its_commands() {
    let f = fixture().await;
    // A binding of a group only aws-auth produces: it dies with the move to API.
    let mut state = f.state.clone();
    state["rolebindings"].as_array_mut().unwrap().push(binding("ClusterRole", "deployers", Some("payments"), "edit", "payments-deployers"));
    let server = StandIn::start(&f.cluster, &ministack(), &state);
    let out = server.cli(&f.reader, &["preflight", "--cluster", &f.cluster, "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let unmatched = report["migration"]["unmatched"].as_array().unwrap();
    let names: Vec<&str> = unmatched.iter().map(|u| u["mapped"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            format!("arn:aws:iam::{ACCOUNT}:role/AWSReservedSSO_PaymentsAdmin_5f2c9e1a7b3d4c60"),
            format!("arn:aws:iam::{ACCOUNT}:role/ci-deployer"),
            format!("arn:aws:iam::{ACCOUNT}:user/oncall/dana"),
        ]
    );
    // IAM gave the Identity Center role's path: the entry names the full ARN.
    assert_eq!(
        unmatched[0]["commands"][0],
        format!(
            "aws eks create-access-entry --cluster-name {} --principal-arn arn:aws:iam::{ACCOUNT}:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_PaymentsAdmin_5f2c9e1a7b3d4c60 --type STANDARD --username 'payments-admin:{{{{SessionName}}}}' --region us-east-1",
            f.cluster
        )
    );
    assert!(unmatched[0]["commands"][1].as_str().unwrap().contains("AmazonEKSClusterAdminPolicy"));
    assert_eq!(
        unmatched[1]["commands"][0],
        format!("aws eks create-access-entry --cluster-name {} --principal-arn arn:aws:iam::{ACCOUNT}:role/ci-deployer --type STANDARD --username ci-deployer --kubernetes-groups payments-deployers --region us-east-1", f.cluster)
    );
    assert_eq!(report["migration"]["covered"], 2, "the node role (EC2_LINUX entry) and PlatformAdmin");
    let bindings = report["bindings"].as_array().unwrap();
    let fate = |group: &str| bindings.iter().find(|b| b["group"] == group).map(|b| b["fate"].clone());
    assert_eq!(fate("payments-deployers"), Some(json!("dies-at-api")), "{bindings:?}");
    assert_eq!(fate("readonly"), Some(json!("dead")));
    assert_eq!(fate("platform-admins"), None, "fed by PlatformAdmin's entry: not listed");
    // Every read went through MiniStack's STS, with the signature checked for this cluster.
    let requests = server.requests();
    assert!(!requests.is_empty());
    for r in &requests {
        assert_eq!((r["code"].as_u64(), r["sts_status"].as_u64(), r["signature"].as_str()), (Some(200), Some(200), Some("checked")), "{r}");
        assert!(r["arn"].as_str().unwrap().ends_with("/doctor"), "{r}");
    }

    // The text report says the same, as the README shows it (cluster name aside).
    let text = server.cli(&f.reader, &["preflight", "--cluster", &f.cluster]);
    let text = String::from_utf8_lossy(&text.stdout).replace(&f.cluster, "payments");
    assert_eq!(crate::support::doc_sample("preflight"), text, "the preflight sample is out of date:\n{text}");
    let mut fixed = f.state.clone();
    fixed["aws_auth"]["mapRoles"] = json!(format!("- rolearn: arn:aws:iam::{ACCOUNT}:role/PlatformAdmin\n  groups: [platform-admins]\n"));
    fixed["aws_auth"]["mapUsers"] = json!("");
    server.set_state(&fixed);
    assert_eq!(server.cli(&f.reader, &["preflight", "--cluster", &f.cluster]).status.code(), Some(0));
    fixed["aws_auth"] = Value::Null;
    server.set_state(&fixed);
    let none = server.cli(&f.reader, &["preflight", "--cluster", &f.cluster]);
    assert_eq!(none.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&none.stdout).contains("No aws-auth ConfigMap"));
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs MiniStack: run scripts/e2e"]
async fn the_token_is_accepted_only_through_ministack_sts_and_for_this_cluster() {
    let f = fixture().await;
    // STS unreachable: the stand-in cannot verify, the API answers 401.
    let dead = StandIn::start(&f.cluster, "http://127.0.0.1:9", &f.state);
    let out = dead.cli(&f.reader, &["preflight", "--cluster", &f.cluster]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("401 Unauthorized"), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(dead.requests().iter().all(|r| r["sts_status"] == "unreachable" && r["code"] == 401));

    // A token signed for another cluster name: STS's signature check fails.
    let other = StandIn::start("another-cluster", &ministack(), &f.state);
    let out = other.cli(&f.reader, &["preflight", "--cluster", &f.cluster]);
    assert_eq!(out.status.code(), Some(3));
    assert!(other.requests().iter().all(|r| r["code"] == 401 && r["why"].as_str().unwrap().contains("SignatureDoesNotMatch")));

    // A principal with no access entry and no mapping: 401 after STS answered.
    let server = StandIn::start(&f.cluster, &ministack(), &f.state);
    let name = unique("Stranger");
    let iam = aws_sdk_iam::Client::new(&config(&root()).await);
    iam.create_role().role_name(&name).assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[]}"#).send().await.unwrap();
    let stranger = assume(&name, "stranger").await;
    let out = server.cli(&stranger, &["check-groups", "--cluster", &f.cluster]);
    assert_eq!(out.status.code(), Some(3));
    let last = server.requests().pop().unwrap_or_else(|| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!((last["code"].as_u64(), last["sts_status"].as_u64()), (Some(401), Some(200)), "{last}");

    // Mapped in aws-auth only (the cluster still reads it in API_AND_CONFIG_MAP), not a reader: 403.
    let deployer = assume("ci-deployer", "deployer").await;
    assert_eq!(server.cli(&deployer, &["check-groups", "--cluster", &f.cluster]).status.code(), Some(3));
    let last = server.requests().pop().unwrap();
    assert_eq!(
        (last["code"].as_u64(), last["via"].as_str(), last["user"].as_str()),
        (Some(403), Some("aws-auth mapRoles"), Some("ci-deployer")),
        "{last}"
    );

    // Mapped (an access entry) but not bound to the reader role: 403 with the API server's wording.
    let admin = assume("PlatformAdmin", "admin").await;
    let mut state = f.state.clone();
    state["clusterrolebindings"][1]["roleRef"]["name"] = json!("view");
    server.set_state(&state);
    let out = server.cli(&admin, &["check-groups", "--cluster", &f.cluster]);
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(r#"403 Forbidden): clusterrolebindings.rbac.authorization.k8s.io is forbidden: User "arn:aws:sts::000000000000:assumed-role/PlatformAdmin/admin" cannot list resource "clusterrolebindings" in API group "rbac.authorization.k8s.io" at the cluster scope"#),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs MiniStack: run scripts/e2e"]
async fn unbound_groups_are_errors_and_bound_groups_stay_quiet() {
    let f = fixture().await;
    let server = StandIn::start(&f.cluster, &ministack(), &f.state);
    let principal = format!("arn:aws:iam::{ACCOUNT}:role/ci-deployer");
    f.eks
        .create_access_entry()
        .cluster_name(&f.cluster)
        .principal_arn(&principal)
        .kubernetes_groups("platform-admin")
        .kubernetes_groups("readonly")
        .send()
        .await
        .unwrap();

    // The CLI.
    let out = server.cli(&f.reader, &["check-groups", "--cluster", &f.cluster, "--principal", &principal]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(r#"UNBOUND  "platform-admin""#) && text.contains(r#"did you mean "platform-admins" (1 character apart)?"#),
        "{text}"
    );
    assert!(text.contains(r#"ok       "readonly": bound by RoleBinding tools/readonly (ClusterRole/view)"#), "{text}");
    let bound = server
        .cli(&f.reader, &["check-groups", "--cluster", &f.cluster, "--principal", &format!("arn:aws:iam::{ACCOUNT}:role/PlatformAdmin")]);
    assert_eq!(bound.status.code(), Some(0), "{}", String::from_utf8_lossy(&bound.stdout));
    // 9 RoleBindings and 2 ClusterRoleBindings, all read, in pages of at most 3.
    assert!(text.contains("11 RoleBindings and ClusterRoleBindings read"), "{text}");
    let pages: Vec<String> = server
        .requests()
        .iter()
        .filter(|r| r["path"] == "/apis/rbac.authorization.k8s.io/v1/rolebindings")
        .map(|r| r["query"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(pages.len() % 3, 0, "three pages per listing: {pages:?}");
    assert_eq!(pages[0], "limit=250");
    assert!(pages[1].starts_with("limit=250&continue=") && pages[2].starts_with("limit=250&continue="), "{pages:?}");

    // The function's path: facts gathered with the Kubernetes reads, then the diagnosis.
    let config = config(&f.reader).await;
    let lookups = KubernetesLookups {
        inner: AwsLookups { eks: aws_sdk_eks::Client::new(&config), iam: aws_sdk_iam::Client::new(&config) },
        reads: ApiReads {
            eks: aws_sdk_eks::Client::new(&config),
            iam: aws_sdk_iam::Client::new(&config),
            credentials: config.credentials_provider().unwrap(),
            endpoint_override: Some(server.endpoint()),
            timeout: Duration::from_secs(10),
        },
    };
    let diagnose = |groups: Value| {
        let mut event: Value = serde_json::from_str(
            &std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("events/group-not-bound.json")).unwrap(),
        )
        .unwrap();
        event["detail"]["requestParameters"]["name"] = json!(f.cluster);
        event["detail"]["requestParameters"]["kubernetesGroups"] = groups;
        event["detail"]["awsRegion"] = json!("us-east-1");
        event["detail"]["recipientAccountId"] = json!(ACCOUNT);
        event["detail"]["requestParameters"]["principalArn"] = json!(format!("arn:aws:iam::{ACCOUNT}:role/ci-deployer"));
        let records = eks_access_doctor_core::input::parse_document(event.to_string().as_bytes());
        let Ok(eks_access_doctor_core::input::Parsed::Event(event)) = records.into_iter().next().unwrap().outcome else { panic!() };
        *event
    };
    for (groups, expected) in
        [(json!(["platform-admin", "readonly"]), vec!["group-not-bound"]), (json!(["platform-admins", "readonly"]), vec![])]
    {
        let event = diagnose(groups);
        let plan = eks_access_doctor_core::catalogue::lookup_plan(&event);
        assert!(plan.bindings, "{plan:?}");
        let facts = gather(&lookups, &event, plan, Duration::from_secs(10), &Home::default()).await;
        assert!(matches!(facts.bindings, Lookup::Found(ref b) if b.len() == 11), "{:?}", facts.bindings);
        let d = eks_access_doctor_core::diagnose(event, &facts);
        let ids: Vec<&str> = d.findings.iter().map(|f| f.cause.id).collect();
        assert_eq!(ids, expected, "{:?}", d.findings);
    }
}

/// The real function binary (`KUBERNETES_ACCESS=on`, the stand-in as its endpoint)
/// on a local Runtime API: the reads happen with the function's own credentials,
/// and the alert reaches Slack, or nothing does.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs MiniStack: run scripts/e2e"]
async fn the_function_checks_groups_through_the_api() {
    use crate::support::runtime_api::RuntimeApi;
    use crate::support::webhook::Webhook;
    let f = fixture().await;
    let server = StandIn::start(&f.cluster, &ministack(), &f.state);
    let ca_data = std::fs::read_to_string(server.dir.path().join("srv/ca.b64")).unwrap();
    for (groups, alerted) in [(json!(["platform-admin", "readonly"]), true), (json!(["platform-admins", "readonly"]), false)] {
        let event = support::edited_fixture("group-not-bound.json", |r| {
            r["requestParameters"]["name"] = json!(f.cluster);
            r["requestParameters"]["kubernetesGroups"] = groups.clone();
            r["awsRegion"] = json!("us-east-1");
        });
        let hook = Webhook::start(vec![]);
        let api = RuntimeApi::start(String::from_utf8(event).unwrap());
        let child = Command::new(crate::support::lambda_binary())
            .env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", &api.address)
            .env("AWS_LAMBDA_FUNCTION_NAME", "doctor")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ENDPOINT_URL", ministack())
            .env("AWS_ACCESS_KEY_ID", &f.reader.key)
            .env("AWS_SECRET_ACCESS_KEY", &f.reader.secret)
            .env("AWS_SESSION_TOKEN", f.reader.token.as_deref().unwrap())
            .env("SLACK_WEBHOOK_URL", &hook.url)
            .env("ENRICHMENT_TIMEOUT_MS", "8000")
            .env("KUBERNETES_ACCESS", "on")
            .env("KUBERNETES_ENDPOINT", server.url())
            .env("KUBERNETES_CA_DATA", &ca_data)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let answer = api.answer(Duration::from_secs(30));
        let mut child = child;
        let _ = child.kill();
        let out = child.wait_with_output().unwrap();
        let logs = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert_eq!(answer.kind, "response", "{answer:?}\n{logs}");
        let sent = hook.received();
        if alerted {
            assert!(answer.body.contains("\"causes\":[\"group-not-bound\"]"), "{}\n{logs}", answer.body);
            assert!(sent[0].to_string().contains("platform-admins"), "{}", sent[0]);
        } else {
            assert!(answer.body.contains("\"outcome\":\"no_finding\""), "{}\n{logs}", answer.body);
            assert!(sent.is_empty(), "{sent:?}");
        }
    }
    // Both invocations read the bindings through the API, authenticated via MiniStack's STS.
    let reads: Vec<Value> =
        server.requests().into_iter().filter(|r| r["path"] == "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings").collect();
    assert_eq!(reads.len(), 2, "{reads:?}");
    assert!(reads.iter().all(|r| r["code"] == 200 && r["sts_status"] == 200 && r["signature"] == "checked"), "{reads:?}");
}
