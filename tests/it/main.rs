//! The integration tests, as one binary (`cargo test --test it`): each file was its own
//! binary linking the AWS SDK; as modules of one crate they compile and link once.
//! Run one file's tests with a filter on its module path, e.g.
//! `cargo test --test it -- catalogue::`, or the MiniStack ones (ignored unless asked)
//! with `MINISTACK_URL=… cargo test --test it -- --ignored ministack:: kubernetes::`.

mod support;

mod archive;
mod authenticator;
mod catalogue;
mod chatbot;
mod cli;
mod explain;
mod fuzz_regressions;
mod grouping;
mod handler;
mod hostile;
mod kubernetes;
mod kubernetes_handler;
mod lambda_binary;
mod lookup;
mod malformed;
mod metrics;
mod ministack;
mod risky;
mod routing;
mod scheduled_audit;
mod sdk_errors;
mod slack_delivery;
mod template;
