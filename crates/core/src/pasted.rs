//! `explain "PASTED ERROR TEXT"`: an error as people meet it, in a terminal or a console
//! (the AWS CLI, terraform and eksctl through the Go SDK, CDK and CloudFormation through
//! the Java SDK, kubectl, the EKS console, a pod's SDK talking to the Pod Identity
//! Agent), read back into the call, error code and message it reports, and run through
//! the catalogue. A pasted text lacks what a CloudTrail record has (the request, the
//! caller, the cluster's state), so each matching cause says what it would need to be sure.

use crate::catalogue::{self, CATALOGUE};
use crate::escape::inline;
use crate::event::{Event, Evidence, ACCESS_ENTRY_CALLS, ASSUME_ROLE_FOR_POD_IDENTITY, POD_IDENTITY_CALLS};
use crate::facts::Facts;
use crate::finding::{Cause, Reach};
use serde::Serialize;

/// What a pasted error says of itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Pasted {
    /// The API operation, when the text names it (`CreateAccessEntry`).
    pub operation: Option<String>,
    /// The error code, when the text names it (`InvalidParameterException`).
    pub code: Option<String>,
    /// The error message, without the tool's wrapping (request ids, status codes).
    pub message: String,
    /// An answer of the cluster's Kubernetes API rather than of an EKS API call.
    pub kubernetes: Option<KubernetesAnswer>,
}

/// The Kubernetes-side answers people paste, which no EKS API call records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum KubernetesAnswer {
    /// `kubectl`: "error: You must be logged in to the server (Unauthorized)": the
    /// authenticator refused the token.
    Unauthorized,
    /// The EKS console: "Your current IAM principal doesn't have access to Kubernetes
    /// objects on this cluster": no entry for the principal, or no Kubernetes permission.
    ConsoleNoAccess,
}

/// The calls a pasted text may come from, when it does not name its operation.
fn candidate_calls() -> impl Iterator<Item = &'static str> {
    ACCESS_ENTRY_CALLS.iter().chain(POD_IDENTITY_CALLS).copied().chain([
        "UpdateClusterConfig",
        "CreateCluster",
        ASSUME_ROLE_FOR_POD_IDENTITY,
    ])
}

/// The text after the first `marker`.
fn after<'a>(text: &'a str, marker: &str) -> Option<&'a str> {
    text.find(marker).map(|at| &text[at + marker.len()..])
}

/// An error code: a word ending in `Exception`, or IAM's `AccessDenied`.
fn is_code(word: &str) -> bool {
    !word.is_empty()
        && word.bytes().all(|b| b.is_ascii_alphanumeric())
        && (word.ends_with("Exception") || word == "AccessDenied" || word == "UnauthorizedOperation")
}

/// `CODE: MESSAGE` at the start of `text`, else the whole text as the message.
fn code_and_message(text: &str) -> (Option<String>, String) {
    let text = text.trim();
    match text.split_once(": ") {
        Some((code, message)) if is_code(code) => (Some(code.to_string()), message.trim().to_string()),
        _ => (None, text.to_string()),
    }
}

/// Reads a pasted error in the shapes the tools print it.
pub fn read(text: &str) -> Pasted {
    let text = text.trim();
    if text.contains("You must be logged in to the server") {
        return Pasted { message: text.to_string(), kubernetes: Some(KubernetesAnswer::Unauthorized), ..Pasted::default() };
    }
    if text.contains("have access to Kubernetes objects on this cluster") {
        return Pasted { message: text.to_string(), kubernetes: Some(KubernetesAnswer::ConsoleNoAccess), ..Pasted::default() };
    }
    // The AWS CLI and boto3: "An error occurred (CODE) when calling the OP operation: MESSAGE".
    if let Some((code, rest)) = after(text, "An error occurred (").and_then(|r| r.split_once(')')) {
        let operation = after(rest, "when calling the ").and_then(|r| r.split_once(" operation")).map(|(op, _)| op.to_string());
        let message = after(rest, "operation: ").or_else(|| after(rest, ": ")).unwrap_or(rest);
        return Pasted { operation, code: Some(code.to_string()), message: message.trim().to_string(), kubernetes: None };
    }
    // The Go SDK (terraform, eksctl, the Pod Identity Agent): "operation error EKS: OP,
    // https response error StatusCode: N, RequestID: ID, [api error ]CODE: MESSAGE".
    if let Some(rest) = after(text, "operation error ") {
        let operation = rest.split_once(": ").and_then(|(_, r)| r.split(',').next()).map(|op| op.trim().to_string());
        let tail = after(rest, "RequestID: ").and_then(|r| r.split_once(", ").map(|(_, t)| t)).unwrap_or(rest);
        let (code, message) = code_and_message(tail.strip_prefix("api error ").unwrap_or(tail));
        return Pasted { operation, code, message, kubernetes: None };
    }
    // The agent's answer through a pod's SDK: "…: (CODE): MESSAGE, fault: client".
    if let Some((head, tail)) = text.split_once("): ") {
        if let Some(code) = head.rsplit_once('(').map(|(_, c)| c).filter(|c| is_code(c)) {
            let message = tail.rsplit_once(", fault: ").map_or(tail, |(m, _)| m);
            // Through a pod's SDK, only the agent answers from "container metadata".
            let from_agent = text.contains("container metadata");
            return Pasted {
                operation: from_agent.then(|| ASSUME_ROLE_FOR_POD_IDENTITY.to_string()),
                code: Some(code.to_string()),
                message: message.trim().to_string(),
                kubernetes: None,
            };
        }
    }
    // "OP: CODE: MESSAGE" (issue titles, some wrappers), then "CODE: MESSAGE".
    let (operation, rest) = match text.split_once(": ") {
        Some((op, rest)) if candidate_calls().any(|c| c == op) => (Some(op.to_string()), rest),
        _ => (None, text),
    };
    // The Java SDK (CDK, CloudFormation): "MESSAGE (Service: Eks, Status Code: 400, Error Code: CODE; Request ID: …)".
    let java_code = after(rest, "Error Code: ").map(|r| r.split([';', ',', ')']).next().unwrap_or(r).trim().to_string());
    let rest = rest.split(" (Service: ").next().unwrap_or(rest);
    let (code, message) = code_and_message(rest);
    Pasted { operation, code: code.or(java_code.filter(|c| is_code(c))), message, kubernetes: None }
}

/// One cause that matches a pasted error.
#[derive(Debug, Clone, Serialize)]
pub struct Match {
    #[serde(rename = "cause", serialize_with = "cause_id")]
    pub cause: &'static Cause,
    /// The calls under which the cause matched (the named one, or every candidate that fits).
    pub calls: Vec<&'static str>,
    /// The cause's explanation, with what the text gave and placeholders for the rest.
    pub explanation: String,
    /// What the cause would need to be sure.
    pub to_be_sure: Vec<String>,
}

fn cause_id<S: serde::Serializer>(cause: &&'static Cause, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(cause.id)
}

/// A pasted error and the causes that match it, most severe first.
#[derive(Debug, Clone, Serialize)]
pub struct Explained {
    pub read: Pasted,
    pub matches: Vec<Match>,
}

/// What the CloudTrail record of the call would add, said once.
const RECORD: &str = "the call's CloudTrail record, for the request's own values and the exact fix: `eks-access-doctor lookup --since 24h` reads it from the event history";
/// What a Kubernetes-side answer needs.
const AUTHENTICATOR_LINE: &str = "the cluster's authenticator log line for the request (control-plane log type `authenticator`, log group `/aws/eks/CLUSTER/cluster`): `eks-access-doctor replay` of it names the cause";

/// The causes that match a pasted error.
pub fn explain(text: &str) -> Explained {
    let read = read(text);
    let matches = match read.kubernetes {
        Some(answer) => kubernetes_matches(answer),
        None => call_matches(&read),
    };
    Explained { read, matches }
}

fn kubernetes_matches(answer: KubernetesAnswer) -> Vec<Match> {
    let authenticator = CATALOGUE.iter().copied().filter(|c| c.evidence.contains(&Evidence::Authenticator));
    // The console says the same of a principal that authenticates but may do nothing.
    let authorization = ["access-entry-grants-nothing", "group-not-bound"].into_iter().filter_map(catalogue::cause_by_id);
    let causes: Vec<&'static Cause> = match answer {
        KubernetesAnswer::Unauthorized => authenticator.collect(),
        KubernetesAnswer::ConsoleNoAccess => authenticator.chain(authorization).collect(),
    };
    causes
        .into_iter()
        .map(|cause| Match {
            cause,
            calls: Vec::new(),
            explanation: cause.title.to_string(),
            to_be_sure: vec![if cause.evidence.contains(&Evidence::Authenticator) {
                AUTHENTICATOR_LINE.to_string()
            } else {
                "the principal's access entry, its access policies and the cluster's RBAC bindings: `eks-access-doctor check-groups --cluster CLUSTER --principal ARN`".to_string()
            }],
        })
        .collect()
}

/// Words only the Pod Identity Agent's errors carry. EKS Auth's answers are the agent's,
/// and several of its causes read the error code alone: a paste that names no call is
/// read as the agent's only when it says so.
const AGENT_WORDS: &[&str] = &[
    "eks auth",
    "eks-auth",
    "assumeroleforpodidentity",
    "pod identity",
    "container metadata",
    "169.254.170.23",
    "permissions to assume the associated role",
];

fn call_matches(read: &Pasted) -> Vec<Match> {
    let from_agent = AGENT_WORDS.iter().any(|w| catalogue::util::mentions(&read.message, &[w]));
    let calls: Vec<&'static str> = match &read.operation {
        Some(op) => candidate_calls().filter(|c| c == op).collect::<Vec<_>>(),
        None => candidate_calls().filter(|c| *c != ASSUME_ROLE_FOR_POD_IDENTITY || from_agent).collect(),
    };
    // A named call this tool does not read still gets the message checked under its own name.
    let named_elsewhere = read.operation.as_deref().filter(|_| calls.is_empty());
    let mut matches: Vec<Match> = Vec::new();
    for call in calls.iter().copied().map(Some).chain(named_elsewhere.map(|_| None)) {
        let event = Event {
            event_id: "pasted".to_string(),
            event_name: call.or(named_elsewhere).unwrap_or_default().to_string(),
            error_code: Some(read.code.clone().unwrap_or_default()),
            error_message: Some(read.message.clone()),
            cluster: crate::event::cluster_in_message(&read.message),
            ..Event::default()
        };
        for finding in catalogue::diagnose(&event, &Facts::default()) {
            if finding.cause == catalogue::UNCLASSIFIED {
                continue;
            }
            match matches.iter_mut().find(|m| m.cause == finding.cause) {
                Some(known) => known.calls.extend(call),
                None => matches.push(Match {
                    cause: finding.cause,
                    calls: call.into_iter().collect(),
                    explanation: finding.explanation,
                    to_be_sure: Vec::new(),
                }),
            }
        }
    }
    for m in &mut matches {
        m.to_be_sure = to_be_sure(read, m, calls.len());
    }
    matches.sort_by_key(|m| std::cmp::Reverse(m.cause.severity));
    matches
}

fn to_be_sure(read: &Pasted, m: &Match, every_call: usize) -> Vec<String> {
    let mut needs = Vec::new();
    if read.operation.is_none() && m.calls.len() < every_call {
        needs.push(format!("that the failed call was {}", m.calls.join(" or ")));
    }
    if read.code.is_none() {
        needs.push("the error code".to_string());
    }
    needs.push(RECORD.to_string());
    needs.extend(m.cause.needs.iter().map(|fact| format!("{}: the function and `lookup --live-facts` look it up", fact.what())));
    if let Reach::Kubernetes { .. } = m.cause.reach {
        needs.push("the cluster's Kubernetes API (read-only)".to_string());
    }
    needs
}

/// `explain`'s text: how the paste was read, then each cause with what it would need.
pub fn render_text(explained: &Explained) -> String {
    let read = &explained.read;
    let mut out = String::new();
    let said = [read.operation.as_deref(), read.code.as_deref()].into_iter().flatten().map(inline).collect::<Vec<_>>().join(", ");
    let as_what = match read.kubernetes {
        Some(KubernetesAnswer::Unauthorized) => "kubectl: the cluster's authenticator refused the request (Unauthorized)".to_string(),
        Some(KubernetesAnswer::ConsoleNoAccess) => {
            "the EKS console: the principal may not see the cluster's Kubernetes objects".to_string()
        }
        None if said.is_empty() => format!("a message: \"{}\"", inline(&read.message)),
        None => format!("{said}: \"{}\"", inline(&read.message)),
    };
    out.push_str(&format!("Read as {as_what}\n\n"));
    if explained.matches.is_empty() {
        out.push_str(
            "No cause in the catalogue matches this text. If it came from an EKS access-management or Pod Identity call, \
             `eks-access-doctor lookup` reads the call's CloudTrail record and names its cause, or `unclassified` with \
             everything the record says.\n",
        );
        return out;
    }
    out.push_str(&format!("{} cause(s) may explain it:\n", explained.matches.len()));
    for m in &explained.matches {
        out.push_str(&format!("\n{} {}: {}\n", m.cause.severity.as_str().to_uppercase(), m.cause.id, m.cause.title));
        out.push_str(&format!("  {}\n", inline(&m.explanation)));
        out.push_str("  To be sure, it needs:\n");
        for need in &m.to_be_sure {
            out.push_str(&format!("  - {}\n", inline(need)));
        }
        out.push_str(&format!("  docs: {}\n", m.cause.docs));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_each_tool_shape() {
        let cli = read("An error occurred (InvalidParameterException) when calling the CreateAccessEntry operation: The username must not begin with system:");
        assert_eq!(
            (cli.operation.as_deref(), cli.code.as_deref(), cli.message.as_str()),
            (Some("CreateAccessEntry"), Some("InvalidParameterException"), "The username must not begin with system:")
        );
        let go = read("Error: creating pod identity association: operation error EKS: CreatePodIdentityAssociation, https response error StatusCode: 409, RequestID: 1f, ResourceInUseException: Association already exists: a-1");
        assert_eq!(
            (go.operation.as_deref(), go.code.as_deref(), go.message.as_str()),
            (Some("CreatePodIdentityAssociation"), Some("ResourceInUseException"), "Association already exists: a-1")
        );
        let agent = read("Received non 200 response 400 from container metadata: [b6]: (AccessDeniedException): Unauthorized Exception! EKS does not have permissions to assume the associated role., fault: client");
        assert_eq!(agent.operation.as_deref(), Some(ASSUME_ROLE_FOR_POD_IDENTITY));
        assert_eq!(agent.message, "Unauthorized Exception! EKS does not have permissions to assume the associated role.");
        let java = read("Trust policy of the role provided is invalid. (Service: Eks, Status Code: 400, Error Code: InvalidParameterException; Request ID: 7)");
        assert_eq!(
            (java.code.as_deref(), java.message.as_str()),
            (Some("InvalidParameterException"), "Trust policy of the role provided is invalid.")
        );
        let titled = read("CreatePodIdentityAssociation: InvalidParameterException: Trust policy of the role provided is invalid");
        assert_eq!(
            (titled.operation.as_deref(), titled.code.as_deref()),
            (Some("CreatePodIdentityAssociation"), Some("InvalidParameterException"))
        );
        assert_eq!(read("error: You must be logged in to the server (Unauthorized)").kubernetes, Some(KubernetesAnswer::Unauthorized));
        assert_eq!(read("just words"), Pasted { message: "just words".into(), ..Pasted::default() });
    }
}
