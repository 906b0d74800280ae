//! eks-access-doctor: diagnoses failed or risky Amazon EKS access-management calls
//! from CloudTrail and says, in the words of the AWS documentation, how to fix them.
//!
//! This crate is the pure core (`event`, `input`, `catalogue`, `facts`, `finding`,
//! `render`): no AWS SDK, no async runtime, and the crate boundary keeps it so.
//! `eks-access-doctor-aws` holds the edge the Lambda function and the CLI's AWS
//! commands need.

#![forbid(unsafe_code)]

pub mod access_entry;
pub mod arn;
pub mod authenticator;
pub mod catalogue;
pub mod command;
pub mod escape;
pub mod event;
pub mod facts;
pub mod finding;
pub mod flood;
pub mod input;
pub mod kubernetes;
pub mod pasted;
pub mod render;
pub mod replay;
pub mod triage;
pub mod trust;

use facts::Facts;
use render::Diagnosis;

/// Diagnoses one event with whatever live facts are known.
pub fn diagnose(event: event::Event, facts: &Facts) -> Diagnosis {
    let findings = catalogue::diagnose(&event, facts);
    Diagnosis { event, findings }
}
