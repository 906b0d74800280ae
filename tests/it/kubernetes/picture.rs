//! `explain --cluster`, `audit` and `check-groups --reverse` against MiniStack and the
//! kube-apiserver stand-in, whose own authorization (RBAC over what it serves, and its
//! own transcription of the access policies, `tests/e2e/kube_apiserver_standin.py`)
//! is the judge: each case is also made as a real request by the principal.

use super::*;
use aws_sdk_eks::types::{AccessScope, AccessScopeType};
use eks_access_doctor_aws::kubernetes::picture::read_state;
use eks_access_doctor_core::kubernetes::authz::Request;
use eks_access_doctor_core::kubernetes::picture::explain;

fn role_ref(name: &str, namespace: Option<&str>, role_kind: &str, role: &str, subjects: Value) -> Value {
    let mut metadata = json!({"name": name});
    if let Some(ns) = namespace {
        metadata["namespace"] = json!(ns);
    }
    json!({"metadata": metadata, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role}, "subjects": subjects})
}

fn rbac_role(kind: &str, name: &str, namespace: Option<&str>, rules: Value, aggregated: bool) -> Value {
    let mut metadata = json!({"name": name});
    if let Some(ns) = namespace {
        metadata["namespace"] = json!(ns);
    }
    let mut role = json!({"kind": kind, "metadata": metadata, "rules": rules});
    if aggregated {
        role["aggregationRule"] = json!({"clusterRoleSelectors": [{"matchLabels": {"example.com/aggregate-to-ops": "true"}}]});
    }
    role
}

fn policy(name: &str) -> String {
    format!("arn:aws:eks::aws:cluster-access-policy/{name}")
}

async fn associate(eks: &aws_sdk_eks::Client, cluster: &str, principal: &str, policy_name: &str, namespaces: &[&str]) {
    let scope = if namespaces.is_empty() {
        AccessScope::builder().r#type(AccessScopeType::Cluster).build()
    } else {
        AccessScope::builder()
            .r#type(AccessScopeType::Namespace)
            .set_namespaces(Some(namespaces.iter().map(|s| s.to_string()).collect()))
            .build()
    };
    eks.associate_access_policy()
        .cluster_name(cluster)
        .principal_arn(principal)
        .policy_arn(policy(policy_name))
        .access_scope(scope)
        .send()
        .await
        .unwrap();
}

/// The request's path and method, as kubectl would send it.
fn http(request: &Request) -> (reqwest::Method, String) {
    let (plural, sub) = match request.resource.split_once('/') {
        Some((p, s)) => (p.to_string(), Some(s.to_string())),
        None => (request.resource.clone(), None),
    };
    let mut path = if request.api_group.is_empty() { "/api/v1".to_string() } else { format!("/apis/{}/v1", request.api_group) };
    if let Some(ns) = &request.namespace {
        path.push_str(&format!("/namespaces/{ns}"));
    }
    path.push_str(&format!("/{plural}"));
    let item = matches!(request.verb.as_str(), "get" | "update" | "patch" | "delete");
    if item {
        path.push_str(&format!("/{}", request.name.clone().unwrap_or_else(|| "x".into())));
        if let Some(sub) = sub {
            path.push_str(&format!("/{sub}"));
        }
    }
    let method = match request.verb.as_str() {
        "get" | "list" | "watch" => reqwest::Method::GET,
        "create" => reqwest::Method::POST,
        "update" => reqwest::Method::PUT,
        "patch" => reqwest::Method::PATCH,
        _ => reqwest::Method::DELETE,
    };
    if request.verb == "watch" {
        path.push_str("?watch=true");
    }
    (method, path)
}

/// The stand-in's answer to `request` made by `credentials`: the HTTP status.
async fn ask(server: &StandIn, cluster: &str, credentials: &Credentials, request: &Request) -> u16 {
    let creds = aws_sdk_eks::config::Credentials::new(&credentials.key, &credentials.secret, credentials.token.clone(), None, "t");
    let token = eks_access_doctor_aws::kubernetes::token::token(&creds, "us-east-1", cluster, std::time::SystemTime::now()).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    use rustls::pki_types::{pem::PemObject, CertificateDer};
    for cert in CertificateDer::pem_slice_iter(&std::fs::read(server.ca()).unwrap()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let tls = eks_access_doctor_aws::tls::client_config(roots).unwrap();
    let client = reqwest::Client::builder().use_preconfigured_tls(tls).build().unwrap();
    let (method, path) = http(request);
    let mut call = client.request(method.clone(), format!("{}{path}", server.url())).bearer_auth(token);
    if method != reqwest::Method::GET && method != reqwest::Method::DELETE {
        call = call.header("content-type", "application/json").body("{}");
    }
    call.send().await.unwrap().status().as_u16()
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs MiniStack: run scripts/e2e"]
async fn explain_agrees_with_the_stand_in_on_every_case() {
    let f = fixture().await;
    let iam = aws_sdk_iam::Client::new(&config(&root()).await);
    let arn = |name: &str| format!("arn:aws:iam::{ACCOUNT}:role/{name}");
    let names = ["pic-viewer", "pic-editor", "pic-dev", "pic-alice", "pic-ops", "pic-payments", "pic-admin", "pic-nobody"];
    for name in names {
        let _ = iam.create_role().role_name(name).assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[]}"#).send().await;
    }
    let entry = |name: &str, groups: &[&str], username: Option<&str>| {
        let mut call = f.eks.create_access_entry().cluster_name(&f.cluster).principal_arn(arn(name));
        for g in groups {
            call = call.kubernetes_groups(*g);
        }
        if let Some(u) = username {
            call = call.username(u);
        }
        call.send()
    };
    entry("pic-viewer", &[], None).await.unwrap();
    associate(&f.eks, &f.cluster, &arn("pic-viewer"), "AmazonEKSViewPolicy", &["dev-*"]).await;
    entry("pic-editor", &[], None).await.unwrap();
    associate(&f.eks, &f.cluster, &arn("pic-editor"), "AmazonEKSEditPolicy", &[]).await;
    entry("pic-dev", &["devs"], None).await.unwrap();
    entry("pic-alice", &[], Some("alice")).await.unwrap();
    entry("pic-payments", &["devs"], None).await.unwrap();
    associate(&f.eks, &f.cluster, &arn("pic-payments"), "AmazonEKSAdminViewPolicy", &["payments"]).await;
    entry("pic-admin", &[], None).await.unwrap();
    associate(&f.eks, &f.cluster, &arn("pic-admin"), "AmazonEKSClusterAdminPolicy", &[]).await;

    let mut state = f.state.clone();
    let map_roles = state["aws_auth"]["mapRoles"].as_str().unwrap().to_string()
        + &format!("- rolearn: {}\n  username: ops\n  groups: [ops]\n", arn("pic-ops"));
    state["aws_auth"]["mapRoles"] = json!(map_roles);
    let roles = state["roles"].as_array_mut().unwrap();
    roles.push(rbac_role(
        "ClusterRole",
        "pod-reader",
        None,
        json!([{"apiGroups": [""], "resources": ["pods", "pods/log"], "verbs": ["get", "list"]}]),
        false,
    ));
    roles.push(rbac_role(
        "ClusterRole",
        "node-viewer",
        None,
        json!([{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list"]}]),
        false,
    ));
    roles.push(rbac_role(
        "Role",
        "deployer",
        Some("prod"),
        json!([{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["create", "update", "patch"]},
               {"apiGroups": ["apps"], "resources": ["*/scale"], "verbs": ["update"]}]),
        false,
    ));
    roles.push(rbac_role(
        "ClusterRole",
        "ops-aggregate",
        None,
        json!([{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"], "resourceNames": ["token"]},
               {"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["*"]}]),
        true,
    ));
    state["rolebindings"].as_array_mut().unwrap().extend([
        role_ref("devs-pods", Some("dev-a"), "ClusterRole", "pod-reader", json!([{"kind": "Group", "name": "devs"}])),
        role_ref("alice-deploys", Some("prod"), "Role", "deployer", json!([{"kind": "User", "name": "alice"}])),
        role_ref("ops-jobs", Some("batch"), "ClusterRole", "ops-aggregate", json!([{"kind": "Group", "name": "ops"}])),
    ]);
    state["clusterrolebindings"].as_array_mut().unwrap().push(role_ref(
        "devs-nodes",
        None,
        "ClusterRole",
        "node-viewer",
        json!([{"kind": "Group", "name": "devs"}]),
    ));
    let server = StandIn::start(&f.cluster, &ministack(), &state);

    // The picture, read once as the reader, as the CLI reads it.
    let reads = ApiReads {
        eks: aws_sdk_eks::Client::new(&config(&f.reader).await),
        iam: aws_sdk_iam::Client::new(&config(&f.reader).await),
        credentials: config(&f.reader).await.credentials_provider().unwrap(),
        endpoint_override: Some(server.endpoint()),
        timeout: Duration::from_secs(20),
    };
    let picture = read_state(&reads, "us-east-1", &f.cluster, true, None).await.unwrap();
    assert!(picture.gaps.is_empty(), "{:?}", picture.gaps);

    type Case = (&'static str, &'static str, &'static str, Option<&'static str>, Option<&'static str>);
    let cases: Vec<Case> = vec![
        // A View policy scoped to dev-*.
        ("pic-viewer", "list", "pods", Some("dev-a"), None),
        ("pic-viewer", "get", "pods", Some("dev-b"), Some("web")),
        ("pic-viewer", "list", "pods", Some("prod"), None),
        ("pic-viewer", "get", "secrets", Some("dev-a"), Some("s")),
        ("pic-viewer", "list", "deployments.apps", Some("dev-x"), None),
        ("pic-viewer", "delete", "pods", Some("dev-a"), Some("web")),
        ("pic-viewer", "list", "nodes", None, None),
        ("pic-viewer", "list", "pods", None, None),
        // An Edit policy at cluster scope.
        ("pic-editor", "create", "deployments.apps", Some("prod"), None),
        ("pic-editor", "get", "secrets", Some("prod"), Some("s")),
        ("pic-editor", "create", "secrets", Some("kube-system"), None),
        ("pic-editor", "delete", "pods", Some("any"), Some("p")),
        ("pic-editor", "create", "roles", Some("prod"), None),
        ("pic-editor", "list", "nodes", None, None),
        ("pic-editor", "create", "namespaces", None, None),
        ("pic-editor", "update", "deployments.apps/scale", Some("prod"), Some("web")),
        // Groups: a RoleBinding to a ClusterRole in dev-a, a ClusterRoleBinding for nodes.
        ("pic-dev", "get", "pods", Some("dev-a"), Some("p")),
        ("pic-dev", "get", "pods/log", Some("dev-a"), Some("p")),
        ("pic-dev", "list", "pods", Some("dev-b"), None),
        ("pic-dev", "delete", "pods", Some("dev-a"), Some("p")),
        ("pic-dev", "get", "nodes", None, Some("n1")),
        ("pic-dev", "list", "nodes", None, None),
        ("pic-dev", "delete", "nodes", None, Some("n1")),
        ("pic-dev", "list", "pods", None, None),
        // A username bound to a Role in prod, with */scale.
        ("pic-alice", "create", "deployments.apps", Some("prod"), None),
        ("pic-alice", "patch", "deployments.apps", Some("prod"), Some("web")),
        ("pic-alice", "update", "deployments.apps/scale", Some("prod"), Some("web")),
        ("pic-alice", "update", "statefulsets.apps/scale", Some("prod"), Some("db")),
        ("pic-alice", "delete", "deployments.apps", Some("prod"), Some("web")),
        ("pic-alice", "create", "deployments.apps", Some("staging"), None),
        ("pic-alice", "get", "deployments.apps", Some("prod"), Some("web")),
        // aws-auth only, bound to an aggregated ClusterRole as stored, with resourceNames.
        ("pic-ops", "get", "secrets", Some("batch"), Some("token")),
        ("pic-ops", "get", "secrets", Some("batch"), Some("other")),
        ("pic-ops", "list", "secrets", Some("batch"), None),
        ("pic-ops", "delete", "jobs.batch", Some("batch"), Some("j")),
        ("pic-ops", "create", "jobs.batch", Some("prod"), None),
        ("pic-ops", "list", "nodes", None, None),
        // An AdminView policy on payments plus the devs group's bindings.
        ("pic-payments", "get", "secrets", Some("payments"), Some("s")),
        ("pic-payments", "list", "configmaps", Some("payments"), None),
        ("pic-payments", "create", "configmaps", Some("payments"), None),
        ("pic-payments", "get", "secrets", Some("dev-a"), Some("s")),
        ("pic-payments", "list", "pods", Some("dev-a"), None),
        ("pic-payments", "get", "nodes", None, Some("n1")),
        ("pic-payments", "watch", "pods", Some("payments"), None),
        // Cluster admin by policy.
        ("pic-admin", "delete", "nodes", None, Some("n1")),
        ("pic-admin", "create", "clusterroles.rbac.authorization.k8s.io", None, None),
        ("pic-admin", "get", "secrets", Some("kube-system"), Some("s")),
        ("pic-admin", "deletecollection", "pods", Some("prod"), None),
        // No entry, no mapping: cannot authenticate.
        ("pic-nobody", "get", "pods", Some("dev-a"), Some("p")),
        ("pic-nobody", "list", "namespaces", None, None),
        // The reader itself: bindings and roles, never secrets.
        ("READER", "list", "clusterroles.rbac.authorization.k8s.io", None, None),
        ("READER", "list", "roles.rbac.authorization.k8s.io", None, None),
        ("READER", "get", "secrets", Some("kube-system"), Some("s")),
        ("READER", "get", "configmaps", Some("kube-system"), Some("aws-auth")),
        ("READER", "get", "configmaps", Some("kube-system"), Some("other")),
    ];
    assert!(cases.len() >= 50);
    let reader_role = server_reader_role(&f).await;
    let mut disagreements = Vec::new();
    let (mut allowed, mut denied) = (0, 0);
    for (who, verb, resource, namespace, name) in &cases {
        let principal = if *who == "READER" { reader_role.clone() } else { arn(who) };
        let request = Request::new(verb, resource, *namespace, *name);
        let ours = explain(&picture, &principal, &request);
        let credentials = if *who == "READER" { f.reader.clone() } else { assume(who, "case").await };
        let code = ask(&server, &f.cluster, &credentials, &request).await;
        let theirs = !matches!(code, 401 | 403);
        if ours.allowed() {
            allowed += 1;
        } else {
            denied += 1;
        }
        if ours.allowed() != theirs || (code == 401) != ours.identity.is_none() {
            disagreements.push(format!("{who} {}: explain {:?}, stand-in {code}", request.describe(), ours.decision));
        }
    }
    assert!(disagreements.is_empty(), "{} of {} cases disagree:\n{}", disagreements.len(), cases.len(), disagreements.join("\n"));
    assert!(allowed >= 20 && denied >= 20, "a table of mixed answers: {allowed} allowed, {denied} denied");

    // The CLI: an allowed case names its grant; a denied one prints the least fixes,
    // and the associate command it prints makes the stand-in allow the request.
    let allowed = server.cli(
        &f.reader,
        &[
            "explain",
            "--cluster",
            &f.cluster,
            "--principal",
            &arn("pic-alice"),
            "--verb",
            "update",
            "--resource",
            "deployments.apps/scale",
            "-n",
            "prod",
            "--name",
            "web",
        ],
    );
    assert_eq!(allowed.status.code(), Some(0), "{}", String::from_utf8_lossy(&allowed.stderr));
    let text = String::from_utf8_lossy(&allowed.stdout);
    assert!(
        text.contains("ALLOWED by") && text.contains("RoleBinding prod/alice-deploys (Role/deployer), which names the user \"alice\""),
        "{text}"
    );
    let denied = server.cli(
        &f.reader,
        &[
            "explain",
            "--cluster",
            &f.cluster,
            "--principal",
            &arn("pic-viewer"),
            "--verb",
            "get",
            "--resource",
            "secrets",
            "-n",
            "dev-a",
            "--format",
            "json",
        ],
    );
    assert_eq!(denied.status.code(), Some(1), "{}", String::from_utf8_lossy(&denied.stderr));
    let out: Value = serde_json::from_slice(&denied.stdout).unwrap();
    let command = out["fixes"][0]["command"].as_str().unwrap();
    assert_eq!(
        command,
        format!(
            "aws eks associate-access-policy --cluster-name {} --principal-arn {} --policy-arn arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminViewPolicy --access-scope type=namespace,namespaces=dev-a --region us-east-1",
            f.cluster,
            arn("pic-viewer")
        )
    );
    let request = Request::new("get", "secrets", Some("dev-a"), Some("s"));
    assert_eq!(ask(&server, &f.cluster, &assume("pic-viewer", "before").await, &request).await, 403);
    associate(&f.eks, &f.cluster, &arn("pic-viewer"), "AmazonEKSAdminViewPolicy", &["dev-a"]).await;
    assert_ne!(ask(&server, &f.cluster, &assume("pic-viewer", "after").await, &request).await, 403, "the printed fix works");
    // The manifest fix for a username-bound identity applies as is: a Role and a RoleBinding.
    let manifest = out["fixes"].as_array().unwrap().iter().find(|f| f["kind"] == "manifest");
    assert!(manifest.is_none(), "a role session's username depends on the session: no User binding offered");
    let unauthenticated = server.cli(
        &f.reader,
        &["explain", "--cluster", &f.cluster, "--principal", &arn("pic-nobody"), "--verb", "list", "--resource", "pods", "-n", "a"],
    );
    assert_eq!(unauthenticated.status.code(), Some(1));
    let text = String::from_utf8_lossy(&unauthenticated.stdout);
    assert!(text.contains("cannot authenticate") && text.contains("aws eks create-access-entry"), "{text}");
}

/// The reader's role ARN (the fixture names it uniquely).
async fn server_reader_role(f: &Fixture) -> String {
    let mut pages = f.eks.list_access_entries().cluster_name(&f.cluster).into_paginator().send();
    while let Some(page) = pages.next().await {
        if let Some(arn) = page.unwrap().access_entries().iter().find(|a| a.contains(":role/Reader-")) {
            return arn.clone();
        }
    }
    panic!("no reader entry")
}

/// The AWS CLI (`scripts/tools sam` installs it) against MiniStack, as the test account; its output.
fn aws_cli(args: &[&str]) -> Vec<u8> {
    let aws = Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/sam/bin/aws");
    let out = Command::new(&aws)
        .args(args)
        .args(["--endpoint-url", &ministack(), "--region", "us-east-1", "--output", "json"])
        .env("AWS_ACCESS_KEY_ID", ACCOUNT)
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .output()
        .unwrap_or_else(|e| panic!("{}: {e} (run scripts/tools sam)", aws.display()));
    assert!(out.status.success(), "aws {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

/// The SARIF 2.1.0 schema `scripts/tools sarif` installs.
fn sarif_validator() -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/sarif/sarif-schema-2.1.0.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e} (run scripts/tools sarif)", path.display()));
    // The schema's `language` patterns have a stray `]` that ECMA regexes accept and the
    // validator's dialect rejects as a pattern; the audit writes no `language`, so each is
    // replaced by what it means.
    let stray = r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#;
    assert!(text.contains(stray), "the pinned schema changed");
    let schema: Value = serde_json::from_str(&text.replace(stray, r#""^[a-zA-Z]{2}(-[a-zA-Z]{2})?$""#)).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

async fn create_role(iam: &aws_sdk_iam::Client, name: &str, trust_ec2: bool) {
    let trust = if trust_ec2 {
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#
    } else {
        r#"{"Version":"2012-10-17","Statement":[]}"#
    };
    iam.create_role().role_name(name).assume_role_policy_document(trust).send().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs MiniStack: run scripts/e2e"]
async fn audit_finds_each_flag_and_a_clean_cluster_none_and_reverse_finds_dead_bindings() {
    let f = fixture().await;
    let iam = aws_sdk_iam::Client::new(&config(&root()).await);
    let tag = unique("a").replace('-', "");
    let name = |n: &str| format!("{n}-{tag}");
    let arn = |n: &str| format!("arn:aws:iam::{ACCOUNT}:role/{}", name(n));
    let entry = |principal: String, groups: &[&str]| {
        let mut call = f.eks.create_access_entry().cluster_name(&f.cluster).principal_arn(principal);
        for g in groups {
            call = call.kubernetes_groups(*g);
        }
        call.send()
    };
    entry(format!("arn:aws:iam::111122223333:role/partner-ci-{tag}"), &["readonly"]).await.unwrap();
    create_role(&iam, &name("gone"), false).await;
    entry(arn("gone"), &["readonly"]).await.unwrap();
    iam.delete_role().role_name(name("gone")).send().await.unwrap();
    entry(arn("reborn"), &["readonly"]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    create_role(&iam, &name("reborn"), false).await;
    create_role(&iam, &name("idle"), false).await;
    entry(arn("idle"), &[]).await.unwrap();
    create_role(&iam, &name("web-nodes"), true).await;
    entry(arn("web-nodes"), &["readonly"]).await.unwrap();
    create_role(&iam, &name("typo"), false).await;
    entry(arn("typo"), &["developer"]).await.unwrap();
    let mut state = f.state.clone();
    // The user-facing ClusterRoles every cluster stores (their rules, in short).
    state["roles"].as_array_mut().unwrap().extend([
        rbac_role(
            "ClusterRole",
            "view",
            None,
            json!([{"apiGroups": ["", "apps"], "resources": ["pods", "services", "deployments"], "verbs": ["get", "list", "watch"]}]),
            true,
        ),
        rbac_role("ClusterRole", "edit", None, json!([{"apiGroups": ["", "apps"], "resources": ["*"], "verbs": ["*"]}]), true),
    ]);
    state["clusterrolebindings"].as_array_mut().unwrap().push(binding("ClusterRole", "developers", None, "view", "developers"));
    state["rolebindings"].as_array_mut().unwrap().push(binding("ClusterRole", "deployers", Some("payments"), "edit", "payments-deployers"));
    let server = StandIn::start(&f.cluster, &ministack(), &state);

    let out = server.cli(&f.reader, &["audit", "--cluster", &f.cluster, "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let audits: Value = serde_json::from_slice(&out.stdout).unwrap();
    let audit = &audits[0];
    assert_eq!(audit["gaps"], json!([]), "{audit}");
    let flags_of = |principal: &str| -> Vec<String> {
        let p = audit["principals"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["principal"] == principal)
            .unwrap_or_else(|| panic!("{principal} in {audit}"));
        p["flags"].as_array().unwrap().iter().map(|f| f["flag"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(flags_of(&format!("arn:aws:iam::111122223333:role/partner-ci-{tag}")), ["cross-account"]);
    assert_eq!(flags_of(&arn("gone")), ["principal-deleted"]);
    assert_eq!(flags_of(&arn("reborn")), ["principal-recreated"]);
    assert_eq!(flags_of(&arn("idle")), ["grants-nothing"]);
    assert_eq!(flags_of(&arn("web-nodes")), ["node-role-standard"]);
    assert_eq!(flags_of(&arn("typo")), ["grants-nothing", "group-bound-nowhere"]);
    // MiniStack, as EKS, gives the creator (here the account's root) an admin entry.
    assert_eq!(flags_of(&format!("arn:aws:iam::{ACCOUNT}:root")), ["creator-admin"]);
    assert_eq!(flags_of(&format!("arn:aws:iam::{ACCOUNT}:role/PlatformAdmin")), ["entry-overrides-aws-auth"]);
    assert_eq!(flags_of(&format!("arn:aws:iam::{ACCOUNT}:user/oncall/dana")), ["group-bound-nowhere"]);
    assert_eq!(flags_of(&format!("arn:aws:iam::{ACCOUNT}:role/ci-deployer")), Vec::<String>::new());
    assert_eq!(flags_of(&format!("arn:aws:iam::{ACCOUNT}:role/payments-node-role")), Vec::<String>::new());
    let admin = audit["principals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["principal"] == format!("arn:aws:iam::{ACCOUNT}:role/PlatformAdmin"))
        .unwrap();
    assert_eq!((admin["reach"]["cluster_admin"].as_bool(), admin["reach"]["secrets"][0].as_str()), (Some(true), Some("every namespace")));
    let sso = audit["principals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["principal"].as_str().unwrap().contains("AWSReservedSSO_PaymentsAdmin"))
        .unwrap();
    assert_eq!(sso["reach"]["cluster_admin"], true, "system:masters");

    // SARIF: valid against the OASIS schema, one result per flag.
    let sarif = server.cli(&f.reader, &["audit", "--cluster", &f.cluster, "--format", "sarif"]);
    let sarif: Value = serde_json::from_slice(&sarif.stdout).unwrap();
    let errors: Vec<String> = sarif_validator().iter_errors(&sarif).map(|e| format!("{e} at {}", e.instance_path())).collect();
    assert!(errors.is_empty(), "{errors:?}");
    let flagged: usize = audit["principals"].as_array().unwrap().iter().map(|p| p["flags"].as_array().unwrap().len()).sum();
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), flagged);
    // Markdown: a table a person reads.
    let markdown = String::from_utf8(server.cli(&f.reader, &["audit", "--cluster", &f.cluster, "--format", "markdown"]).stdout).unwrap();
    assert!(markdown.contains("| principal | from | reach | flags |") && markdown.contains("**principal-recreated**"), "{markdown}");

    // check-groups --reverse: dead bindings, with the produced name they were meant to be,
    // and the ones that die at the switch to API; a group seen in the log is alive.
    let log_dir = tempfile::tempdir().unwrap();
    let log = log_dir.path().join("authenticator.log");
    std::fs::write(
        &log,
        "time=\"2026-12-08T10:00:00Z\" level=info msg=\"access granted\" arn=\"arn:aws:iam::000000000000:role/x\" groups=\"[team-3 system:authenticated]\" username=x\n",
    )
    .unwrap();
    // And team-5 granted in the authenticator log as EKS writes it to CloudWatch Logs,
    // read back with the AWS CLI's `logs filter-log-events` as the README says.
    let group = format!("/aws/eks/{}/cluster", f.cluster);
    let granted = r#"time=\"2026-12-08T10:00:00Z\" level=info msg=\"access granted\" arn=\"arn:aws:iam::000000000000:role/y\" groups=\"[team-5]\" username=y"#;
    let denied = r#"time=\"2026-12-08T10:00:00Z\" level=warning msg=\"access denied\" groups=\"[team-6]\""#;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis();
    let events = format!(r#"[{{"timestamp":{now},"message":"{granted}"}},{{"timestamp":{now},"message":"{denied}"}}]"#);
    aws_cli(&["logs", "create-log-group", "--log-group-name", &group]);
    aws_cli(&["logs", "create-log-stream", "--log-group-name", &group, "--log-stream-name", "authenticator-0e2e4f"]);
    aws_cli(&["logs", "put-log-events", "--log-group-name", &group, "--log-stream-name", "authenticator-0e2e4f", "--log-events", &events]);
    let exported = aws_cli(&[
        "logs",
        "filter-log-events",
        "--log-group-name",
        &group,
        "--log-stream-name-prefix",
        "authenticator-",
        "--filter-pattern",
        "\"access granted\"",
    ]);
    let cloudwatch = log_dir.path().join("granted.json");
    std::fs::write(&cloudwatch, exported).unwrap();
    let out = server.cli(
        &f.reader,
        &[
            "check-groups",
            "--cluster",
            &f.cluster,
            "--reverse",
            "--log",
            log.to_str().unwrap(),
            "--log",
            cloudwatch.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let reverse: Value = serde_json::from_slice(&out.stdout).unwrap();
    let fate = |group: &str| {
        reverse["groups"].as_array().unwrap().iter().find(|g| g["group"] == group).unwrap_or_else(|| panic!("{group}"))["fate"].clone()
    };
    assert_eq!(fate("developers"), "dead");
    let developers = reverse["groups"].as_array().unwrap().iter().find(|g| g["group"] == "developers").unwrap();
    assert_eq!(developers["near"][0][0], "developer");
    assert_eq!(fate("payments-deployers"), "dies-at-api");
    assert_eq!(fate("team-0"), "dead");
    assert_eq!(fate("team-3"), "fed", "seen in the log file");
    assert_eq!(fate("team-5"), "fed", "seen in CloudWatch Logs");
    assert_eq!(fate("team-6"), "dead", "a denial produces nothing");
    assert_eq!(fate("readonly"), "fed");
    assert_eq!(fate("platform-admins"), "fed");
    assert_eq!(fate("eks-access-doctor-readers"), "fed");

    // A clean cluster: its entries bound, its principals there, no aws-auth: nothing flagged.
    let clean = unique("clean");
    f.eks
        .create_cluster()
        .name(&clean)
        .role_arn(format!("arn:aws:iam::{ACCOUNT}:role/cluster"))
        .resources_vpc_config(VpcConfigRequest::builder().subnet_ids("subnet-1").build())
        .access_config(
            CreateAccessConfigRequest::builder()
                .authentication_mode(AuthenticationMode::Api)
                .bootstrap_cluster_creator_admin_permissions(false)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let reader_arn = server_reader_role(&f).await;
    f.eks
        .create_access_entry()
        .cluster_name(&clean)
        .principal_arn(&reader_arn)
        .kubernetes_groups("eks-access-doctor-readers")
        .send()
        .await
        .unwrap();
    create_role(&iam, &name("viewer"), false).await;
    f.eks.create_access_entry().cluster_name(&clean).principal_arn(arn("viewer")).send().await.unwrap();
    associate(&f.eks, &clean, &arn("viewer"), "AmazonEKSViewPolicy", &["apps"]).await;
    let mut clean_state = f.state.clone();
    clean_state["aws_auth"] = Value::Null;
    clean_state["rolebindings"] = json!(reader_manifest().into_iter().filter(|d| d["kind"] == "RoleBinding").collect::<Vec<_>>());
    clean_state["clusterrolebindings"] =
        json!(reader_manifest().into_iter().filter(|d| d["kind"] == "ClusterRoleBinding").collect::<Vec<_>>());
    let clean_server = StandIn::start(&clean, &ministack(), &clean_state);
    let out = clean_server.cli(&f.reader, &["audit", "--cluster", &clean]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("authentication mode API: 2 principal(s), 0 flag(s)") && text.contains("namespaces apps"), "{text}");
    // The book shows this audit, names aside.
    let reader_name = reader_arn.rsplit('/').next().unwrap();
    let sample = text.replace(&clean, "payments").replace(reader_name, "doctor-reader").replace(&name("viewer"), "viewer");
    assert_eq!(crate::support::doc_sample("audit"), sample, "the audit sample is out of date:\n{sample}");
    let reverse = clean_server.cli(&f.reader, &["check-groups", "--cluster", &clean, "--reverse"]);
    assert_eq!(reverse.status.code(), Some(0), "{}", String::from_utf8_lossy(&reverse.stdout));
}
