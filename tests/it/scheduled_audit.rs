//! The scheduled audit through the handler: the schedule's event in, alerts out only
//! for the flags new since the last run; a failed delivery records nothing, so the
//! retry sends it.

use crate::support::doctor::{home, settings, sns, sns_ok, NoLookups, TOPIC};
use aws_sdk_sns::operation::publish::{PublishError, PublishOutput};
use aws_smithy_mocks::mock;
use aws_smithy_types::error::ErrorMetadata;
use eks_access_doctor_aws::handler::{Doctor, HandlerError, Outcome, ScheduledAudit};
use eks_access_doctor_aws::idempotency::MemoryAuditLog;
use eks_access_doctor_aws::kubernetes::picture::Auditor;
use eks_access_doctor_aws::{BoxFuture, Sink};
use eks_access_doctor_core::kubernetes::authz::Rbac;
use eks_access_doctor_core::kubernetes::picture::{ClusterState, Entry, PrincipalState, Read};
use std::sync::{Arc, Mutex};

/// An auditor whose one cluster is what the test says it is now.
#[derive(Clone)]
struct Fake(Arc<Mutex<ClusterState>>);

impl Auditor for Fake {
    fn clusters(&self) -> BoxFuture<'_, Result<Vec<String>, String>> {
        let name = self.0.lock().unwrap().cluster.clone();
        Box::pin(async move { Ok(vec![name]) })
    }
    fn read<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<ClusterState, String>> {
        let state = self.0.lock().unwrap().clone();
        Box::pin(async move { Ok(state) })
    }
}

fn entry(arn: &str) -> Entry {
    Entry {
        principal_arn: arn.into(),
        entry_type: "STANDARD".into(),
        username: "u".into(),
        groups: vec![],
        associations: vec![],
        created_at: Some(1_700_000_000),
    }
}

/// A cluster with a cross-account entry and one whose role is gone (bindings read, none
/// naming them: each also grants nothing).
fn cluster() -> ClusterState {
    ClusterState {
        read_at: "2026-12-08T06:00:00Z".into(),
        cluster: "payments-prod".into(),
        region: "eu-west-1".into(),
        account: "111122223333".into(),
        partition: "aws".into(),
        authentication_mode: Some("API".into()),
        entries: vec![entry("arn:aws:iam::444455556666:role/partner-ci"), entry("arn:aws:iam::111122223333:role/old-ci")],
        principals: vec![("arn:aws:iam::111122223333:role/old-ci".into(), PrincipalState::Deleted)],
        rbac: Rbac::default(),
        read: Read { entries: true, bindings: true, roles: true, aws_auth: true },
        ..ClusterState::default()
    }
}

fn scheduled(run: &str) -> String {
    format!(
        r#"{{"version":"0","id":"{run}","detail-type":"Scheduled Event","source":"aws.events","account":"111122223333","time":"2026-12-08T06:00:00Z","region":"eu-west-1","resources":["arn:aws:events:eu-west-1:111122223333:rule/audit"],"detail":{{}}}}"#
    )
}

fn doctor(state: &Arc<Mutex<ClusterState>>, sink: Box<dyn Sink>) -> Doctor {
    Doctor::new(settings(&[("SNS_TOPIC_ARN", TOPIC)]), Box::new(NoLookups), vec![sink], None)
        .with_audit(ScheduledAudit { auditor: Box::new(Fake(state.clone())), log: Box::new(MemoryAuditLog::default()) })
}

fn report(outcome: Result<Outcome, HandlerError>) -> eks_access_doctor_aws::handler::AuditRun {
    match outcome {
        Ok(Outcome::Audited(run)) => run,
        other => panic!("not an audit run: {other:?}"),
    }
}

#[tokio::test]
async fn each_change_alerts_once() {
    let state = Arc::new(Mutex::new(cluster()));
    let rule = sns_ok();
    let doctor = doctor(&state, Box::new(sns(&rule)));
    // The first run: every flag is new.
    let first = report(doctor.handle(&scheduled("run-1"), &home()).await);
    assert_eq!((first.clusters, first.flags, first.new, first.alerted), (1, 4, 4, 4), "{first:?}");
    assert_eq!(rule.num_calls(), 4);
    // The same picture: nothing new, nothing sent.
    let second = report(doctor.handle(&scheduled("run-2"), &home()).await);
    assert_eq!((second.new, second.alerted, second.resolved), (0, 0, 0), "{second:?}");
    assert_eq!(rule.num_calls(), 4);
    // A new entry that grants nothing, and the partner's entry gone: one alert, two resolved.
    {
        let mut s = state.lock().unwrap();
        s.entries.retain(|e| !e.principal_arn.contains("partner"));
        s.entries.push(entry("arn:aws:iam::111122223333:role/idle"));
        s.principals.push((
            "arn:aws:iam::111122223333:role/idle".into(),
            PrincipalState::Exists { created_at: Some(1_600_000_000), trusts_ec2: false },
        ));
    }
    let third = report(doctor.handle(&scheduled("run-3"), &home()).await);
    assert_eq!((third.new, third.alerted, third.resolved), (1, 1, 2), "{third:?}");
    assert_eq!(rule.num_calls(), 5);
    // The flags that went away come back within the flood window: new, counted, not sent
    // again (the flood gate, as for any alert).
    *state.lock().unwrap() = cluster();
    let fourth = report(doctor.handle(&scheduled("run-4"), &home()).await);
    assert_eq!((fourth.new, fourth.alerted, fourth.suppressed), (2, 0, 2), "{fourth:?}");
}

#[tokio::test]
async fn a_failed_delivery_is_sent_by_the_retry() {
    let state = Arc::new(Mutex::new(cluster()));
    // SNS refuses the first publish, then takes every other.
    let rule = mock!(aws_sdk_sns::Client::publish)
        .sequence()
        .error(|| PublishError::generic(ErrorMetadata::builder().code("InternalError").message("down").build()))
        .times(1)
        .output(|| PublishOutput::builder().message_id("m").build())
        .times(20)
        .build();
    let doctor = doctor(&state, Box::new(sns(&rule)));
    let failed = doctor.handle(&scheduled("run-1"), &home()).await;
    let Err(error) = failed else { panic!("delivered: {failed:?}") };
    assert_eq!(error.error_type(), "AuditIncomplete");
    // Lambda's retry of the same run: the flag that failed is sent, those sent are not again.
    let retry = report(doctor.handle(&scheduled("run-1"), &home()).await);
    assert_eq!(retry.new, 4, "nothing was recorded: {retry:?}");
    assert_eq!(retry.alerted, 1, "{retry:?}");
    assert_eq!(rule.num_calls(), 5, "4 attempts, then the one that failed again");
    let after = report(doctor.handle(&scheduled("run-2"), &home()).await);
    assert_eq!(after.new, 0);
}

#[tokio::test]
async fn without_an_auditor_the_schedule_is_refused() {
    let rule = sns_ok();
    let doctor = Doctor::new(settings(&[("SNS_TOPIC_ARN", TOPIC)]), Box::new(NoLookups), vec![Box::new(sns(&rule))], None);
    let outcome = doctor.handle(&scheduled("run-1"), &home()).await;
    assert!(matches!(outcome, Err(HandlerError::Unreadable(ref why)) if why.contains("no auditor")), "{outcome:?}");
}

/// A run that could not read everything keeps the last run's flags: a flag it could not
/// see is neither resolved nor sent again when the next full read finds it.
#[tokio::test]
async fn a_partial_read_keeps_the_last_flags() {
    let state = Arc::new(Mutex::new(cluster()));
    let rule = sns_ok();
    let doctor = doctor(&state, Box::new(sns(&rule)));
    assert_eq!(report(doctor.handle(&scheduled("run-1"), &home()).await).alerted, 4);
    // The Kubernetes API unreachable: RBAC unknown, so grants-nothing is not raised.
    state.lock().unwrap().read.bindings = false;
    let partial = report(doctor.handle(&scheduled("run-2"), &home()).await);
    assert_eq!((partial.flags, partial.new, partial.resolved), (2, 0, 0), "{partial:?}");
    // Read whole again: the grants-nothing flags were kept, so nothing is new.
    state.lock().unwrap().read.bindings = true;
    let whole = report(doctor.handle(&scheduled("run-3"), &home()).await);
    assert_eq!((whole.new, whole.alerted), (0, 0), "{whole:?}");
    assert_eq!(rule.num_calls(), 4);
}
