//! The handler with no AWS behind it: settings from plain pairs, lookups that check
//! nothing, SNS that accepts or refuses, Slack routes on local webhook servers.

use aws_sdk_sns::operation::publish::{PublishError, PublishOutput};
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use aws_smithy_types::error::ErrorMetadata;
use eks_access_doctor_aws::config::Settings;
use eks_access_doctor_aws::enrich::{Home, Lookups};
use eks_access_doctor_aws::slack::RetryPolicy;
use eks_access_doctor_aws::sns::SnsSink;
use eks_access_doctor_aws::BoxFuture;
use eks_access_doctor_core::facts::{AccessEntryFacts, Lookup, PrincipalFacts};
use eks_access_doctor_core::render::sns::MessageFormat;
use std::time::Duration;

pub const TOPIC: &str = "arn:aws:sns:eu-west-1:111122223333:alerts";

/// Settings from `vars` alone (no SNS unless they set it).
pub fn settings(vars: &[(&str, &str)]) -> Settings {
    Settings::from_lookup(|k| vars.iter().rev().find(|(name, _)| *name == k).map(|(_, v)| v.to_string())).unwrap()
}

pub fn home() -> Home {
    Home { account: Some("111122223333".into()), region: Some("eu-west-1".into()) }
}

/// Two quick attempts: a webhook that answers 500 twice fails the delivery.
pub fn policy() -> RetryPolicy {
    RetryPolicy {
        attempts: 2,
        backoff: Duration::from_millis(10),
        max_retry_after: Duration::from_secs(1),
        request_timeout: Duration::from_millis(500),
    }
}

/// Lookups that check nothing: routing and metrics do not depend on live facts.
pub struct NoLookups;

impl Lookups for NoLookups {
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
}

pub fn sns_ok() -> Rule {
    mock!(aws_sdk_sns::Client::publish).then_output(|| PublishOutput::builder().message_id("m").build())
}

/// SNS refuses the first publish, then accepts.
pub fn sns_down_once() -> Rule {
    mock!(aws_sdk_sns::Client::publish)
        .sequence()
        .error(|| PublishError::generic(ErrorMetadata::builder().code("InternalError").message("down").build()))
        .times(1)
        .output(|| PublishOutput::builder().message_id("m").build())
        .build()
}

pub fn sns(rule: &Rule) -> SnsSink {
    SnsSink { client: mock_client!(aws_sdk_sns, RuleMode::MatchAny, [rule]), topic_arn: TOPIC.into(), format: MessageFormat::Text }
}
