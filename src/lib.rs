//! eks-access-doctor: diagnoses failed or risky Amazon EKS access-management calls
//! from CloudTrail and says, in the words of the AWS documentation, how to fix them.
//!
//! The core (`event`, `input`, `catalogue`, `facts`, `finding`, `render`) is pure:
//! no AWS SDK, no async. `aws` holds the edge the Lambda function needs.

#![forbid(unsafe_code)]

pub mod access_entry;
pub mod arn;
pub mod authenticator;
#[cfg(feature = "lambda")]
pub mod aws;
pub mod catalogue;
pub mod command;
pub mod escape;
pub mod event;
pub mod facts;
pub mod finding;
pub mod flood;
pub mod input;
pub mod kubernetes;
pub mod render;
pub mod replay;

use facts::Facts;
use render::Diagnosis;

/// Diagnoses one event with whatever live facts are known.
pub fn diagnose(event: event::Event, facts: &Facts) -> Diagnosis {
    let findings = catalogue::diagnose(&event, facts);
    Diagnosis { event, findings }
}
