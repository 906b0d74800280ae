//! Publishes findings to an SNS topic, with `cause`, `severity`, `cluster`,
//! `account` and `region` as message attributes for subscription filter policies. The
//! body is plain text, or the AWS Chatbot custom notification (`SNS_MESSAGE_FORMAT`).

use super::{describe_sdk_error, BoxFuture, DeliveryError, Sink};
use aws_sdk_sns::types::MessageAttributeValue;
use eks_access_doctor_core::finding::Finding;
use eks_access_doctor_core::render::sns::{self, MessageFormat};
use eks_access_doctor_core::render::Diagnosis;

pub struct SnsSink {
    pub client: aws_sdk_sns::Client,
    pub topic_arn: String,
    pub format: MessageFormat,
}

impl Sink for SnsSink {
    fn name(&self) -> &'static str {
        "sns"
    }

    fn publish<'a>(&'a self, diagnosis: &'a Diagnosis, finding: &'a Finding) -> BoxFuture<'a, Result<(), DeliveryError>> {
        Box::pin(async move {
            let message = sns::message(diagnosis, finding, self.format);
            let mut request = self.client.publish().topic_arn(&self.topic_arn).subject(message.subject).message(message.message);
            for (name, value) in message.attributes {
                let attribute = MessageAttributeValue::builder()
                    .data_type("String")
                    .string_value(value)
                    .build()
                    .map_err(|e| DeliveryError { sink: "sns", message: e.to_string() })?;
                request = request.message_attributes(name, attribute);
            }
            request.send().await.map(|_| ()).map_err(|e| DeliveryError { sink: "sns", message: describe_sdk_error(&e) })
        })
    }
}
