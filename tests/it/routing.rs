//! Slack routes through the handler: each webhook read from its own secret, each
//! finding delivered to exactly the first route that takes it (two real local
//! webhook servers), SNS still getting every finding, and a failed route retried
//! alone.

use crate::support;
use crate::support::doctor::{home, policy, settings, sns, sns_ok, NoLookups, TOPIC};
use crate::support::webhook::{Reply, Webhook};
use aws_sdk_secretsmanager::operation::get_secret_value::{GetSecretValueError, GetSecretValueOutput};
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use aws_smithy_types::error::ErrorMetadata;
use eks_access_doctor_aws::handler::{Doctor, HandlerError, Outcome};
use eks_access_doctor_aws::slack::route_sinks;
use eks_access_doctor_aws::Sink;

const ONCALL_SECRET: &str = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:slack-oncall";
const TEAM_SECRET: &str = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:slack-team";

/// Secrets Manager giving `url` for `secret_id`.
fn secret(secret_id: &'static str, url: &str) -> Rule {
    let value = serde_json::json!({ "url": url }).to_string();
    mock!(aws_sdk_secretsmanager::Client::get_secret_value)
        .match_requests(move |r| r.secret_id() == Some(secret_id))
        .then_output(move || GetSecretValueOutput::builder().secret_string(value.clone()).build())
}

/// On-call takes errors of production clusters; the team channel (the default route) the rest.
async fn doctor(oncall: &Webhook, team: &Webhook, sns_rule: &Rule) -> Doctor {
    let settings = settings(&[
        ("SNS_TOPIC_ARN", TOPIC),
        ("SLACK_ROUTES", "oncall"),
        ("SLACK_ROUTE_ONCALL_SECRET_ARN", ONCALL_SECRET),
        ("SLACK_ROUTE_ONCALL_MIN_SEVERITY", "error"),
        ("SLACK_ROUTE_ONCALL_CLUSTERS", "prod-*, payments-*"),
        ("SLACK_WEBHOOK_SECRET_ARN", TEAM_SECRET),
    ]);
    let (oncall_secret, team_secret) = (secret(ONCALL_SECRET, &oncall.url), secret(TEAM_SECRET, &team.url));
    let secrets = mock_client!(aws_sdk_secretsmanager, RuleMode::MatchAny, [&oncall_secret, &team_secret]);
    let mut sinks: Vec<Box<dyn Sink>> = vec![Box::new(sns(sns_rule))];
    for sink in route_sinks(&settings.slack_routes, &secrets, policy()).await.unwrap() {
        sinks.push(Box::new(sink));
    }
    assert_eq!(sinks.iter().map(|s| s.name()).collect::<Vec<_>>(), ["sns", "slack:oncall", "slack"]);
    Doctor::new(settings, Box::new(NoLookups), sinks, None)
}

/// The cause each Slack post is about, in the order received (the text names it in backticks).
fn causes(hook: &Webhook) -> Vec<String> {
    hook.received()
        .iter()
        .map(|post| {
            let text = post["text"].as_str().unwrap();
            text.split('`').nth(1).unwrap_or_else(|| panic!("no cause in {text}")).to_string()
        })
        .collect()
}

#[tokio::test]
async fn each_finding_reaches_exactly_the_first_route_that_takes_it() {
    let (oncall, team) = (Webhook::start(vec![]), Webhook::start(vec![]));
    let sns_rule = sns_ok();
    let doctor = doctor(&oncall, &team, &sns_rule).await;
    // (fixture, its one finding's severity and cluster, where it must go)
    let cases = [
        ("auth-mode-irreversible.json", "error on prod-eu", "oncall"),
        ("access-entry-already-exists.json", "error on payments-prod", "oncall"),
        ("cluster-update-in-progress.json", "warning on prod-eu", "team"),
        ("reserved-group-prefix.json", "error on data-platform", "team"),
        ("unbound-kubernetes-group.json", "warning on internal-tools", "team"),
    ];
    for (fixture, _, _) in cases {
        let outcome = doctor.handle(&support::fixture_text(fixture), &home()).await.unwrap();
        assert!(matches!(outcome, Outcome::Alerted { .. }), "{fixture}: {outcome:?}");
    }
    let cause = |fixture: &str| fixture.trim_end_matches(".json").to_string();
    let want = |route: &str| cases.iter().filter(|(_, _, r)| *r == route).map(|(f, _, _)| cause(f)).collect::<Vec<_>>();
    assert_eq!(causes(&oncall), want("oncall"));
    assert_eq!(causes(&team), want("team"));
    assert_eq!(sns_rule.num_calls(), cases.len(), "SNS takes every finding, whatever the routes");
}

#[tokio::test]
async fn an_event_whose_cluster_cannot_be_told_goes_to_the_default_route() {
    let (oncall, team) = (Webhook::start(vec![]), Webhook::start(vec![]));
    let sns_rule = sns_ok();
    let doctor = doctor(&oncall, &team, &sns_rule).await;
    let event = support::edited_fixture("auth-mode-irreversible.json", |detail| {
        detail["requestParameters"].as_object_mut().unwrap().remove("name");
    });
    let diagnosed = support::parse_one(&event);
    assert_eq!(diagnosed.cluster, None, "the edit must leave no cluster");
    doctor.handle(std::str::from_utf8(&event).unwrap(), &home()).await.unwrap();
    assert_eq!((causes(&oncall).len(), causes(&team)), (0, vec!["auth-mode-irreversible".to_string()]));
}

/// One event, two findings: its error goes to on-call, its warning to the team. On-call
/// is down: the invocation fails, and Lambda's retry sends the error to on-call alone,
/// not again to the team channel or SNS.
#[tokio::test]
async fn a_failed_route_is_retried_alone() {
    let oncall = Webhook::start(vec![Reply::status(500), Reply::status(500)]);
    let team = Webhook::start(vec![]);
    let sns_rule = sns_ok();
    let doctor = doctor(&oncall, &team, &sns_rule).await;
    let event = support::edited_fixture("auth-mode-irreversible.json", |detail| {
        let message = detail["errorMessage"].as_str().unwrap().to_string();
        detail["errorMessage"] = format!("{message}; cluster prod-eu currently has update 5c0f8e2a in progress").into();
    });
    let event = String::from_utf8(event).unwrap();
    assert_eq!(
        support::cause_ids(&support::diagnose(support::parse_one(event.as_bytes()))),
        ["auth-mode-irreversible", "cluster-update-in-progress"]
    );

    match doctor.handle(&event, &home()).await {
        Err(HandlerError::Delivery(errors)) => {
            assert_eq!(errors.iter().map(|e| e.sink).collect::<Vec<_>>(), ["slack:oncall"], "{errors:?}");
            assert!(errors[0].to_string().starts_with("slack:oncall delivery failed: gave up after 2 attempts: HTTP 500"), "{errors:?}");
            assert!(!errors[0].to_string().contains("very-secret-token"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(causes(&team), ["cluster-update-in-progress"]);
    assert_eq!(causes(&oncall), ["auth-mode-irreversible"; 2], "two attempts, both refused");
    assert_eq!(sns_rule.num_calls(), 2);

    let retried = doctor.handle(&event, &home()).await.unwrap();
    assert!(matches!(&retried, Outcome::Alerted { causes, .. } if causes.len() == 2), "{retried:?}");
    assert_eq!(causes(&oncall), ["auth-mode-irreversible"; 3], "the retry went to on-call");
    assert_eq!(causes(&team), ["cluster-update-in-progress"], "and not again to the team");
    assert_eq!(sns_rule.num_calls(), 2, "nor to SNS");
}

#[tokio::test]
async fn an_unreadable_route_secret_names_the_route_and_never_a_url() {
    let settings = settings(&[
        ("SLACK_ROUTES", "oncall"),
        ("SLACK_ROUTE_ONCALL_SECRET_ARN", ONCALL_SECRET),
        ("SLACK_ROUTE_ONCALL_CLUSTERS", "prod-*"),
        ("SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T0/B0/very-secret-token"),
    ]);
    let denied = mock!(aws_sdk_secretsmanager::Client::get_secret_value)
        .then_error(|| GetSecretValueError::generic(ErrorMetadata::builder().code("AccessDeniedException").message("not yours").build()));
    let secrets = mock_client!(aws_sdk_secretsmanager, [&denied]);
    let error = match route_sinks(&settings.slack_routes, &secrets, policy()).await {
        Err(error) => error,
        Ok(sinks) => panic!("{} sinks", sinks.len()),
    };
    assert!(error.starts_with(&format!("Slack route slack:oncall: cannot read the Slack webhook secret {ONCALL_SECRET}")), "{error}");
    assert!(error.contains("AccessDeniedException") && !error.contains("very-secret-token"), "{error}");
}
