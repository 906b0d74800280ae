//! The function's handler with the Kubernetes facts, in-process: the lookups are a
//! fake answering as the Kubernetes reads would (found, denied, unreachable, not
//! configured), the alerts go to a real local Slack stand-in. Checked: a bound
//! group gives no alert, an unbound one an error naming the near group, a missing
//! check says why, and a move to API names every aws-auth-only principal. The
//! authenticator's `access granted` lines (a CloudWatch Logs subscription payload) are
//! judged on the same bindings, read once a minute per cluster, and say nothing
//! without them.

use crate::support;
use crate::support::webhook::Webhook;
use eks_access_doctor_aws::config::Settings;
use eks_access_doctor_aws::enrich::{Home, Lookups};
use eks_access_doctor_aws::handler::{Doctor, LogBatch, Outcome};
use eks_access_doctor_aws::slack::{RetryPolicy, SlackSink};
use eks_access_doctor_aws::{BoxFuture, Sink};
use eks_access_doctor_core::facts::{AccessEntryFacts, AwsAuthFacts, Lookup, PrincipalFacts};
use eks_access_doctor_core::kubernetes::{AccessEntrySummary, Binding};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

/// Answers the Kubernetes lookups as given, and nothing else.
struct FakeKubernetes {
    bindings: Lookup<Vec<Binding>>,
    aws_auth: Lookup<AwsAuthFacts>,
    reads: AtomicUsize,
}

impl Lookups for FakeKubernetes {
    fn cluster_auth_mode<'a>(&'a self, _: &'a str, _: &'a str) -> BoxFuture<'a, Lookup<String>> {
        Box::pin(async { Lookup::NotChecked })
    }
    fn access_entry<'a>(&'a self, _: &'a str, _: &'a str, _: &'a str) -> BoxFuture<'a, Lookup<AccessEntryFacts>> {
        Box::pin(async { Lookup::NotChecked })
    }
    fn principal<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Lookup<PrincipalFacts>> {
        Box::pin(async { Lookup::NotChecked })
    }
    fn cluster_entries<'a>(&'a self, _: &'a str, _: &'a str) -> BoxFuture<'a, Lookup<Vec<String>>> {
        Box::pin(async { Lookup::NotChecked })
    }
    // Counted when polled: the handler builds every lookup's future and awaits only the planned ones.
    fn bindings<'a>(&'a self, _: &'a str, _: &'a str) -> BoxFuture<'a, Lookup<Vec<Binding>>> {
        Box::pin(async move {
            self.reads.fetch_add(1, Ordering::SeqCst);
            self.bindings.clone()
        })
    }
    fn aws_auth<'a>(&'a self, _: &'a str, _: &'a str) -> BoxFuture<'a, Lookup<AwsAuthFacts>> {
        Box::pin(async move {
            self.reads.fetch_add(1, Ordering::SeqCst);
            self.aws_auth.clone()
        })
    }
}

fn fake(bindings: Lookup<Vec<Binding>>, aws_auth: Lookup<AwsAuthFacts>) -> FakeKubernetes {
    FakeKubernetes { bindings, aws_auth, reads: AtomicUsize::new(0) }
}

/// Shares the fake with the test, which counts its reads.
struct Shared(std::sync::Arc<FakeKubernetes>);
impl Lookups for Shared {
    fn cluster_auth_mode<'a>(&'a self, r: &'a str, c: &'a str) -> BoxFuture<'a, Lookup<String>> {
        self.0.cluster_auth_mode(r, c)
    }
    fn access_entry<'a>(&'a self, r: &'a str, c: &'a str, p: &'a str) -> BoxFuture<'a, Lookup<AccessEntryFacts>> {
        self.0.access_entry(r, c, p)
    }
    fn principal<'a>(&'a self, a: &'a str) -> BoxFuture<'a, Lookup<PrincipalFacts>> {
        self.0.principal(a)
    }
    fn cluster_entries<'a>(&'a self, r: &'a str, c: &'a str) -> BoxFuture<'a, Lookup<Vec<String>>> {
        self.0.cluster_entries(r, c)
    }
    fn bindings<'a>(&'a self, r: &'a str, c: &'a str) -> BoxFuture<'a, Lookup<Vec<Binding>>> {
        self.0.bindings(r, c)
    }
    fn aws_auth<'a>(&'a self, r: &'a str, c: &'a str) -> BoxFuture<'a, Lookup<AwsAuthFacts>> {
        self.0.aws_auth(r, c)
    }
}

/// The function with these lookups, alerting to `hook`, on `clock` (seconds).
fn doctor(lookups: std::sync::Arc<FakeKubernetes>, hook: &Webhook, clock: std::sync::Arc<AtomicU64>) -> Doctor {
    let settings = Settings::from_lookup(|k| match k {
        "SLACK_WEBHOOK_URL" => Some(hook.url.clone()),
        "ENRICHMENT_TIMEOUT_MS" => Some("500".into()),
        _ => None,
    })
    .unwrap();
    let policy = RetryPolicy {
        attempts: 1,
        backoff: Duration::from_millis(10),
        max_retry_after: Duration::from_secs(1),
        request_timeout: Duration::from_millis(500),
    };
    let sinks: Vec<Box<dyn Sink>> = vec![Box::new(SlackSink::new(hook.url.clone(), policy).unwrap())];
    Doctor::new(settings, Box::new(Shared(lookups)), sinks, None).with_clock(move || clock.load(Ordering::SeqCst))
}

fn home() -> Home {
    Home { account: Some("111122223333".into()), region: Some("eu-west-1".into()) }
}

async fn handle(lookups: FakeKubernetes, fixture: &[u8]) -> (Outcome, Vec<String>, usize) {
    let hook = Webhook::start(vec![]);
    let reads = std::sync::Arc::new(lookups);
    let doctor = doctor(reads.clone(), &hook, std::sync::Arc::new(AtomicU64::new(1_795_900_000)));
    let outcome =
        doctor.handle(std::str::from_utf8(fixture).unwrap(), &Home { account: Some("111122223333".into()), region: None }).await.unwrap();
    let texts = hook.received().iter().map(|m| m.to_string()).collect();
    (outcome, texts, reads.reads.load(Ordering::SeqCst))
}

fn with_groups(groups: &[&str]) -> Vec<u8> {
    support::edited_fixture("group-not-bound.json", |r| r["requestParameters"]["kubernetesGroups"] = serde_json::json!(groups))
}

#[tokio::test]
async fn a_bound_group_gives_no_alert_and_an_unbound_one_an_error() {
    let (outcome, sent, reads) =
        handle(fake(Lookup::Found(support::sample_bindings()), Lookup::NotChecked), &with_groups(&["platform-admins", "readonly"])).await;
    assert!(matches!(outcome, Outcome::NoFinding { .. }), "{outcome:?}");
    assert!(sent.is_empty());
    assert_eq!(reads, 1, "the bindings were read once, and nothing else of Kubernetes");

    let (outcome, sent, _) =
        handle(fake(Lookup::Found(support::sample_bindings()), Lookup::NotChecked), &with_groups(&["platform-admin", "readonly"])).await;
    assert!(matches!(&outcome, Outcome::Alerted { causes, .. } if causes == &["group-not-bound"]), "{outcome:?}");
    assert!(sent[0].contains(r#"Did you mean the bound group \"platform-admins\" (1 character apart)?"#), "{}", sent[0]);
}

#[tokio::test]
async fn without_the_bindings_the_warning_says_why() {
    for (answer, says) in [
        (Lookup::NotChecked, "this run had no Kubernetes access"),
        (
            Lookup::Failed(
                "the Kubernetes API denied the read (403 Forbidden): rolebindings.rbac.authorization.k8s.io is forbidden".into(),
            ),
            "Could not check the cluster's RBAC bindings: the Kubernetes API denied the read (403 Forbidden)",
        ),
        (Lookup::Failed("the Kubernetes API is unreachable: connection refused".into()), "the Kubernetes API is unreachable"),
    ] {
        let (outcome, sent, _) = handle(fake(answer, Lookup::NotChecked), &with_groups(&["platform-admin"])).await;
        assert!(matches!(&outcome, Outcome::Alerted { causes, .. } if causes == &["unbound-kubernetes-group"]), "{outcome:?}");
        assert!(sent[0].contains(says), "{says} not in {}", sent[0]);
    }
}

#[tokio::test]
async fn a_move_to_api_names_every_aws_auth_only_principal() {
    let fixture = support::fixture_text("aws-auth-principal-loses-access.json");
    let (outcome, sent, _) = handle(fake(Lookup::NotChecked, Lookup::Found(support::sample_aws_auth())), fixture.as_bytes()).await;
    assert!(
        matches!(&outcome, Outcome::Alerted { causes, .. } if causes == &["aws-auth-principal-loses-access", "config-map-retired"]),
        "{outcome:?}"
    );
    let alert = &sent[0];
    for principal in ["AWSReservedSSO_PaymentsAdmin_5f2c9e1a7b3d4c60", "role/ci-deployer", "user/oncall/dana"] {
        assert!(alert.contains(principal), "{principal} not in {alert}");
    }
    assert_eq!(alert.matches("aws eks create-access-entry").count(), 3, "{alert}");
    assert!(!alert.contains("payments-node-role --type"), "the node role has its EC2_LINUX entry: {alert}");
    // Everything covered: only the notice, which says so.
    let mut covered = support::sample_aws_auth();
    for arn in ["role/AWSReservedSSO_PaymentsAdmin_5f2c9e1a7b3d4c60", "role/ci-deployer", "user/oncall/dana"] {
        covered.entries.push(AccessEntrySummary { principal_arn: format!("arn:aws:iam::111122223333:{arn}"), entry_type: None });
    }
    let (outcome, sent, _) = handle(fake(Lookup::NotChecked, Lookup::Found(covered)), fixture.as_bytes()).await;
    assert!(matches!(&outcome, Outcome::Alerted { causes, .. } if causes == &["config-map-retired"]), "{outcome:?}");
    assert!(sent[0].contains("Every one of the 5 aws-auth mapping(s) that grant access has an equivalent access entry"), "{}", sent[0]);
}

/// An `access granted` line of upstream's shape (`pkg/server/server.go`) for `role`, with `groups`.
fn granted(role: &str, groups: &str) -> String {
    format!(
        r#"time="2026-11-29T09:12:44Z" level=info msg="access granted" arn="arn:aws:iam::111122223333:role/{role}" client="127.0.0.1:51880" groups="[{groups}]" method=POST path=/authenticate stsendpoint=sts.eu-west-1.amazonaws.com uid="aws-iam-authenticator:111122223333:AROARZ3KX7QJ5PLM2TD4N" username={role}"#
    )
}

fn batch(outcome: &Outcome) -> &LogBatch {
    match outcome {
        Outcome::LogBatch(batch) => batch,
        other => panic!("not a log batch: {other:?}"),
    }
}

#[tokio::test]
async fn granted_lines_are_checked_against_the_bindings() {
    // Every group bound, or Kubernetes' own: nothing, after one read.
    let bound = granted("platform-admins", "platform-admins readonly system:authenticated");
    let node = granted("payments-node-role", "system:bootstrappers system:nodes");
    let payload = support::logs::subscription(&[bound.as_str(), node.as_str(), support::logs::GRANTED], 1);
    let (outcome, sent, reads) = handle(fake(Lookup::Found(support::sample_bindings()), Lookup::NotChecked), payload.as_bytes()).await;
    assert_eq!(batch(&outcome), &LogBatch { log_events: 3, ignored: 3, ..LogBatch::default() });
    assert!(sent.is_empty(), "{sent:?}");
    assert_eq!(reads, 1, "only the line with groups to check reads them");

    // An unbound group: an error naming the near bound group; a denial beside it keeps its own alert.
    let unbound = granted("platform-admin", "platform-admin system:authenticated");
    let payload = support::logs::subscription(&[unbound.as_str(), support::logs::DENIED], 1);
    let (outcome, sent, _) = handle(fake(Lookup::Found(support::sample_bindings()), Lookup::NotChecked), payload.as_bytes()).await;
    let b = batch(&outcome);
    assert_eq!((b.alerts, b.causes.clone()), (2, vec!["group-not-bound", "identity-not-mapped"]), "{b:?}");
    let alert = sent.iter().find(|m| m.contains("group-not-bound")).unwrap();
    assert!(alert.contains(r#"Did you mean the bound group \"platform-admins\" (1 character apart)?"#), "{alert}");
    assert!(alert.contains("role/platform-admin authenticated to cluster payments-prod"), "{alert}");
    assert!(!alert.contains("system:authenticated"), "{alert}");
}

#[tokio::test]
async fn without_kubernetes_access_a_granted_line_says_nothing() {
    let unbound = granted("platform-admin", "platform-admin");
    let payload = support::logs::subscription(&[unbound.as_str()], 1);
    for answer in [Lookup::NotChecked, Lookup::Failed("the Kubernetes API is unreachable: connection refused".into())] {
        let (outcome, sent, _) = handle(fake(answer.clone(), Lookup::NotChecked), payload.as_bytes()).await;
        assert_eq!(batch(&outcome), &LogBatch { log_events: 1, ignored: 1, ..LogBatch::default() }, "{answer:?}");
        assert!(sent.is_empty(), "{answer:?}: {sent:?}");
    }
}

#[tokio::test]
async fn a_thousand_grants_of_one_identity_page_once_on_one_read_a_minute() {
    let hook = Webhook::start(vec![]);
    let lookups = std::sync::Arc::new(fake(Lookup::Found(support::sample_bindings()), Lookup::NotChecked));
    let clock = std::sync::Arc::new(AtomicU64::new(1_795_900_000));
    let doctor = doctor(lookups.clone(), &hook, clock.clone());
    let line = granted("platform-admin", "platform-admin");
    let lines = vec![line.as_str(); 1000];
    let outcome = doctor.handle(&support::logs::subscription(&lines, 1), &home()).await.unwrap();
    assert_eq!(
        batch(&outcome),
        &LogBatch { log_events: 1000, alerts: 1, repeats_in_alerts: 999, causes: vec!["group-not-bound"], ..LogBatch::default() }
    );
    assert_eq!(hook.received().len(), 1);
    assert_eq!(lookups.reads.load(Ordering::SeqCst), 1, "one read for the whole batch");
    // The next batch, 30 s later: counted within the flood window, on the bindings already read.
    clock.fetch_add(30, Ordering::SeqCst);
    let outcome = doctor.handle(&support::logs::subscription(&lines, 1001), &home()).await.unwrap();
    assert_eq!(batch(&outcome), &LogBatch { log_events: 1000, suppressed: 1000, ..LogBatch::default() });
    assert_eq!(hook.received().len(), 1);
    assert_eq!(lookups.reads.load(Ordering::SeqCst), 1, "the bindings serve the cluster for a minute");
    // A minute after the read: read again.
    clock.fetch_add(31, Ordering::SeqCst);
    doctor.handle(&support::logs::subscription(&lines[..1], 2001), &home()).await.unwrap();
    assert_eq!(lookups.reads.load(Ordering::SeqCst), 2);
}
