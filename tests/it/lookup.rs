//! `lookup` against CloudTrail's LookupEvents with `aws-smithy-mocks`: pages followed to
//! the end, throttling waited out, a denied call named, every event kept.

use aws_sdk_cloudtrail::operation::lookup_events::{LookupEventsError, LookupEventsOutput};
use aws_sdk_cloudtrail::types::Event;
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use aws_smithy_types::error::ErrorMetadata;
use eks_access_doctor_aws::lookup::{region_events, region_history};
use eks_access_doctor_core::event::{EKS_AUTH_EVENT_SOURCE, EKS_EVENT_SOURCE};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

fn event(id: &str) -> Event {
    let record = serde_json::json!({"eventSource": EKS_EVENT_SOURCE, "eventName": "CreateAccessEntry", "eventID": id});
    Event::builder().event_id(id).cloud_trail_event(record.to_string()).build()
}

fn page(ids: &[&str], next: Option<&str>) -> LookupEventsOutput {
    LookupEventsOutput::builder().set_events(Some(ids.iter().map(|id| event(id)).collect())).set_next_token(next.map(String::from)).build()
}

fn error(code: &str, message: &str) -> LookupEventsError {
    LookupEventsError::generic(ErrorMetadata::builder().code(code).message(message).build())
}

fn window() -> (SystemTime, SystemTime) {
    let end = SystemTime::now();
    (end - Duration::from_secs(3600), end)
}

#[tokio::test(start_paused = true)]
async fn every_page_is_read_and_only_eks_events_are_asked_for() {
    let first = mock!(aws_sdk_cloudtrail::Client::lookup_events)
        .match_requests(|r| {
            r.next_token().is_none()
                && r.lookup_attributes().iter().any(|a| a.attribute_value() == EKS_EVENT_SOURCE)
                && r.start_time().is_some()
                && r.end_time().is_some()
        })
        .then_output(|| page(&["a", "b"], Some("t1")));
    let second = mock!(aws_sdk_cloudtrail::Client::lookup_events)
        .match_requests(|r| r.next_token() == Some("t1"))
        .then_output(|| page(&["c"], None));
    let client = mock_client!(aws_sdk_cloudtrail, RuleMode::MatchAny, [&first, &second]);
    let seen = Mutex::new(Vec::new());
    let (start, end) = window();
    let events = region_events(
        &client,
        "eu-west-1",
        EKS_EVENT_SOURCE,
        start,
        end,
        &|region, n| seen.lock().unwrap().push((region.to_string(), n)),
        Vec::new(),
    )
    .await
    .unwrap();
    let ids: Vec<_> = events.iter().map(|e| e.event_id.as_deref().unwrap()).collect();
    assert_eq!(ids, ["a", "b", "c"]);
    assert!(events.iter().all(|e| e.region == "eu-west-1" && e.record.contains(EKS_EVENT_SOURCE)));
    assert_eq!(*seen.lock().unwrap(), [("eu-west-1".to_string(), 2), ("eu-west-1".to_string(), 3)]);
    assert_eq!((first.num_calls(), second.num_calls()), (1, 1));
}

#[tokio::test(start_paused = true)]
async fn calls_keep_to_two_per_second() {
    let pages = mock!(aws_sdk_cloudtrail::Client::lookup_events)
        .sequence()
        .output(|| page(&["a"], Some("more")))
        .times(4)
        .output(|| page(&["z"], None))
        .build();
    let client = mock_client!(aws_sdk_cloudtrail, [&pages]);
    let (start, end) = window();
    let began = tokio::time::Instant::now();
    let events = region_events(&client, "us-east-1", EKS_EVENT_SOURCE, start, end, &|_, _| {}, Vec::new()).await.unwrap();
    assert_eq!(events.len(), 5);
    assert!(began.elapsed() >= Duration::from_millis(2500), "5 calls took {:?}", began.elapsed());
}

#[tokio::test(start_paused = true)]
async fn throttling_is_waited_out() {
    let rule = mock!(aws_sdk_cloudtrail::Client::lookup_events)
        .sequence()
        .error(|| error("ThrottlingException", "Rate exceeded"))
        .times(5)
        .output(|| page(&["a"], None))
        .build();
    let client = mock_client!(aws_sdk_cloudtrail, [&rule]);
    let (start, end) = window();
    let events = region_events(&client, "us-east-1", EKS_EVENT_SOURCE, start, end, &|_, _| {}, Vec::new()).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(rule.num_calls(), 6);
}

#[tokio::test(start_paused = true)]
async fn throttling_that_never_ends_is_an_error_not_a_hang() {
    let rule = mock!(aws_sdk_cloudtrail::Client::lookup_events)
        .sequence()
        .error(|| error("ThrottlingException", "Rate exceeded"))
        .times(100)
        .build();
    let client = mock_client!(aws_sdk_cloudtrail, [&rule]);
    let (start, end) = window();
    let e = region_events(&client, "us-east-1", EKS_EVENT_SOURCE, start, end, &|_, _| {}, Vec::new()).await.unwrap_err();
    assert!(e.to_string().contains("us-east-1") && e.to_string().contains("ThrottlingException"), "{e}");
    assert!(rule.num_calls() < 100);
}

#[tokio::test(start_paused = true)]
async fn a_denied_call_says_which_region_and_why() {
    let rule = mock!(aws_sdk_cloudtrail::Client::lookup_events).then_error(|| {
        error("AccessDeniedException", "User: arn:aws:iam::111122223333:user/ro is not authorized to perform: cloudtrail:LookupEvents")
    });
    let client = mock_client!(aws_sdk_cloudtrail, [&rule]);
    let (start, end) = window();
    let e = region_events(&client, "ap-southeast-2", EKS_EVENT_SOURCE, start, end, &|_, _| {}, Vec::new()).await.unwrap_err();
    assert_eq!(e.region, "ap-southeast-2");
    assert!(e.to_string().contains("cloudtrail:LookupEvents failed: AccessDeniedException: User:"), "{e}");
    assert_eq!(rule.num_calls(), 1, "a denial is not retried");
}

/// `lookup` reads both sources, one after the other (LookupEvents takes one attribute
/// per call), and keeps the events of each.
#[tokio::test(start_paused = true)]
async fn both_event_sources_are_read() {
    let asks = |source: &'static str| {
        move |r: &aws_sdk_cloudtrail::operation::lookup_events::LookupEventsInput| {
            r.lookup_attributes().iter().any(|a| a.attribute_value() == source)
        }
    };
    let eks = mock!(aws_sdk_cloudtrail::Client::lookup_events).match_requests(asks(EKS_EVENT_SOURCE)).then_output(|| page(&["a"], None));
    let auth = mock!(aws_sdk_cloudtrail::Client::lookup_events)
        .match_requests(asks(EKS_AUTH_EVENT_SOURCE))
        .then_output(|| page(&["b", "c"], None));
    let client = mock_client!(aws_sdk_cloudtrail, RuleMode::MatchAny, [&eks, &auth]);
    let seen = Mutex::new(Vec::new());
    let (start, end) = window();
    let events = region_history(&client, "eu-west-1", start, end, &|_, n| seen.lock().unwrap().push(n)).await.unwrap();
    let ids: Vec<_> = events.iter().map(|e| e.event_id.as_deref().unwrap()).collect();
    assert_eq!(ids, ["a", "b", "c"]);
    assert_eq!(*seen.lock().unwrap(), [1, 3]);
    assert_eq!((eks.num_calls(), auth.num_calls()), (1, 1));
}
