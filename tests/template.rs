//! Least privilege and safe defaults, read from `template.yaml` itself: the
//! function's role and the organization scan's state machine may grant only the
//! documented actions on the documented resources, the topic is encrypted, the failure queue keeps messages.

use serde_yaml::Value;
use std::collections::BTreeMap;

/// Every action the function may have, with the only resources it may have them on
/// (after `!Sub`, `!Ref`, `!GetAtt` are written out as text).
const ALLOWED: &[(&str, &[&str])] = &[
    ("logs:CreateLogStream", &["!GetAtt DoctorLogGroup.Arn"]),
    ("logs:PutLogEvents", &["!GetAtt DoctorLogGroup.Arn"]),
    ("eks:DescribeCluster", &["arn:${AWS::Partition}:eks:${AWS::Region}:${AWS::AccountId}:cluster/*"]),
    ("eks:ListAccessEntries", &["arn:${AWS::Partition}:eks:${AWS::Region}:${AWS::AccountId}:cluster/*"]),
    ("eks:DescribeAccessEntry", &["arn:${AWS::Partition}:eks:${AWS::Region}:${AWS::AccountId}:access-entry/*"]),
    ("eks:ListAssociatedAccessPolicies", &["arn:${AWS::Partition}:eks:${AWS::Region}:${AWS::AccountId}:access-entry/*"]),
    ("iam:GetRole", &["arn:${AWS::Partition}:iam::${AWS::AccountId}:role/*", "arn:${AWS::Partition}:iam::${AWS::AccountId}:user/*"]),
    ("iam:GetUser", &["arn:${AWS::Partition}:iam::${AWS::AccountId}:role/*", "arn:${AWS::Partition}:iam::${AWS::AccountId}:user/*"]),
    ("sqs:SendMessage", &["!GetAtt FailureQueue.Arn", "!GetAtt SecondLookQueue.Arn"]),
    ("sqs:ReceiveMessage", &["!GetAtt SecondLookQueue.Arn"]),
    ("sqs:DeleteMessage", &["!GetAtt SecondLookQueue.Arn"]),
    ("sqs:GetQueueAttributes", &["!GetAtt SecondLookQueue.Arn"]),
    ("sqs:ChangeMessageVisibility", &["!GetAtt SecondLookQueue.Arn"]),
    ("sns:Publish", &["!Ref AlertTopic"]),
    ("secretsmanager:GetSecretValue", &["!Ref SlackWebhookSecretArn"]),
    ("dynamodb:PutItem", &["!GetAtt IdempotencyTable.Arn"]),
    ("dynamodb:UpdateItem", &["!GetAtt IdempotencyTable.Arn"]),
    ("dynamodb:GetItem", &["!GetAtt IdempotencyTable.Arn"]),
    ("s3:GetObject", &["arn:${AWS::Partition}:s3:::${ArchiveBucketName}/*", "arn:${AWS::Partition}:s3:::${ArchiveResultsBucketName}/*"]),
    ("s3:ListBucket", &["arn:${AWS::Partition}:s3:::${ArchiveBucketName}", "arn:${AWS::Partition}:s3:::${ArchiveResultsBucketName}"]),
    ("s3:PutObject", &["arn:${AWS::Partition}:s3:::${ArchiveResultsBucketName}/*"]),
    ("kms:GenerateDataKey", &["!Ref QueueKmsKeyArn"]),
    ("kms:Decrypt", &["!Ref QueueKmsKeyArn"]),
];

/// The organization scan's state machine: invoke the function, list the archive, write
/// the map's results, run and watch its own child workflows; nothing else.
const STATE_MACHINE_ALLOWED: &[(&str, &[&str])] = &[
    ("lambda:InvokeFunction", &["!GetAtt DoctorFunction.Arn"]),
    ("s3:ListBucket", &["arn:${AWS::Partition}:s3:::${ArchiveBucketName}"]),
    ("s3:PutObject", &[RESULTS]),
    ("s3:GetObject", &[RESULTS]),
    ("s3:ListMultipartUploadParts", &[RESULTS]),
    ("s3:AbortMultipartUpload", &[RESULTS]),
    (
        "states:StartExecution",
        &["arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:${AWS::StackName}-archive-scan"],
    ),
    ("states:DescribeExecution", CHILD_EXECUTIONS),
    ("states:StopExecution", CHILD_EXECUTIONS),
];
const RESULTS: &str = "arn:${AWS::Partition}:s3:::${ArchiveResultsBucketName}/*";
const CHILD_EXECUTIONS: &[&str] = &[
    "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:${AWS::StackName}-archive-scan:*",
    "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:${AWS::StackName}-archive-scan/*",
];

fn template() -> Value {
    serde_yaml::from_str(&std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/template.yaml")).unwrap()).unwrap()
}

/// A scalar or intrinsic as text: `!Sub x` → `x`, `!Ref x` → `!Ref x`.
fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Tagged(t) if t.tag == "!Sub" => text(&t.value),
        Value::Tagged(t) => format!("{} {}", t.tag, text(&t.value)),
        other => serde_yaml::to_string(other).unwrap().trim().to_string(),
    }
}

fn list(value: &Value) -> Vec<String> {
    match value {
        Value::Sequence(items) => items.iter().map(text).collect(),
        other => vec![text(other)],
    }
}

/// Statements, with `!If [cond, a, b]` expanded to both branches.
fn statements(value: &Value) -> Vec<Value> {
    match value {
        Value::Sequence(items) => items.iter().flat_map(statements).collect(),
        Value::Tagged(t) if t.tag == "!If" => t.value.as_sequence().unwrap()[1..].iter().flat_map(statements).collect(),
        Value::Tagged(t) if t.tag == "!Ref" && text(&t.value) == "AWS::NoValue" => vec![],
        Value::Mapping(_) => vec![value.clone()],
        other => panic!("unexpected statement {other:?}"),
    }
}

/// Every grant in `statements` beyond `allowed`.
fn excess(name: &str, statements: Vec<Value>, allowed: &[(&str, &[&str])], found: &mut Vec<String>) {
    let allowed: BTreeMap<&str, &[&str]> = allowed.iter().copied().collect();
    for s in statements {
        if text(&s["Effect"]) != "Allow" {
            continue;
        }
        if !s["NotAction"].is_null() || !s["NotResource"].is_null() {
            found.push(format!("{name}: NotAction/NotResource grant too much"));
        }
        for action in list(&s["Action"]) {
            let Some(resources_allowed) = allowed.get(action.as_str()) else {
                found.push(format!("{name}: action {action} is not in the documented list"));
                continue;
            };
            for resource in list(&s["Resource"]) {
                if !resources_allowed.contains(&resource.as_str()) {
                    found.push(format!("{name}: {action} on {resource} is wider than documented"));
                }
            }
        }
    }
}

/// Every violation of least privilege in a template.
fn violations(template: &Value) -> Vec<String> {
    let mut found = Vec::new();
    let resources = template["Resources"].as_mapping().unwrap();
    for (name, resource) in resources {
        let kind = text(&resource["Type"]);
        if matches!(kind.as_str(), "AWS::IAM::Policy" | "AWS::IAM::ManagedPolicy" | "AWS::IAM::User" | "AWS::IAM::Group") {
            found.push(format!("{}: unexpected {kind}", text(name)));
        }
        if kind == "AWS::Lambda::Permission" {
            // Who else may invoke the function: only CloudWatch Logs, from this account's
            // EKS control-plane log groups (the authenticator log subscription).
            let p = &resource["Properties"];
            let eks_log_groups = "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/eks/*";
            if text(&p["Principal"]) != "logs.amazonaws.com" {
                found.push(format!("{}: lets {} invoke the function", text(name), text(&p["Principal"])));
            }
            if text(&p["SourceArn"]) != eks_log_groups {
                found.push(format!("{}: source {} is wider than EKS control-plane log groups", text(name), text(&p["SourceArn"])));
            }
            if text(&p["SourceAccount"]) != "!Ref AWS::AccountId" || text(&p["Action"]) != "lambda:InvokeFunction" {
                found.push(format!("{}: must be lambda:InvokeFunction from this account only", text(name)));
            }
        }
        if kind == "AWS::Serverless::StateMachine" {
            // SAM writes its role from these statements alone: no policy templates, no managed policies.
            for policy in resource["Properties"]["Policies"].as_sequence().into_iter().flatten() {
                if policy["Statement"].is_null() {
                    found.push(format!("{}: only inline statements, not {}", text(name), serde_yaml::to_string(policy).unwrap().trim()));
                }
                excess(&text(name), statements(&policy["Statement"]), STATE_MACHINE_ALLOWED, &mut found);
            }
            if !resource["Properties"]["Role"].is_null() {
                found.push(format!("{}: a role of its own bypasses this check", text(name)));
            }
        }
        if kind == "AWS::Serverless::Function" && !resource["Properties"]["Policies"].is_null() {
            found.push(format!("{}: SAM policy templates bypass this check; use DoctorFunctionRole", text(name)));
        }
        if kind != "AWS::IAM::Role" {
            continue;
        }
        let trust = &resource["Properties"]["AssumeRolePolicyDocument"]["Statement"];
        for s in statements(trust) {
            if list(&s["Principal"]["Service"]) != ["lambda.amazonaws.com"] {
                found.push(format!("{}: trusts more than lambda.amazonaws.com", text(name)));
            }
        }
        if !resource["Properties"]["ManagedPolicyArns"].is_null() {
            found.push(format!("{}: managed policies are not allowed", text(name)));
        }
        for policy in resource["Properties"]["Policies"].as_sequence().into_iter().flatten() {
            excess(&text(name), statements(&policy["PolicyDocument"]["Statement"]), ALLOWED, &mut found);
        }
    }
    found
}

#[test]
fn the_function_role_grants_only_the_documented_permissions() {
    let found = violations(&template());
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn the_check_catches_wider_grants() {
    let original = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/template.yaml")).unwrap();
    for (from, to, want) in [
        ("- eks:DescribeCluster", "- eks:*", "action eks:* is not in the documented list"),
        (
            "Action: sns:Publish\n                  Resource: !Ref AlertTopic",
            "Action: sns:Publish\n                  Resource: \"*\"",
            "sns:Publish on * is wider",
        ),
        (":cluster/*", ":*", "eks:DescribeCluster on arn:${AWS::Partition}:eks:${AWS::Region}:${AWS::AccountId}:* is wider"),
        ("Service: lambda.amazonaws.com", "Service: [lambda.amazonaws.com, ec2.amazonaws.com]", "trusts more than"),
        ("log-group:/aws/eks/*", "log-group:*", "is wider than EKS control-plane log groups"),
        ("Principal: logs.amazonaws.com", "Principal: s3.amazonaws.com", "lets s3.amazonaws.com invoke"),
        (
            "Action: lambda:InvokeFunction\n              Resource: !GetAtt DoctorFunction.Arn",
            "Action: lambda:InvokeFunction\n              Resource: \"*\"",
            "ArchiveScanStateMachine: lambda:InvokeFunction on * is wider",
        ),
        ("- states:StopExecution", "- states:*", "ArchiveScanStateMachine: action states:* is not in the documented list"),
        ("s3:::${ArchiveBucketName}/*", "s3:::*", "DoctorFunctionRole: s3:GetObject on arn:${AWS::Partition}:s3:::* is wider"),
    ] {
        assert!(original.contains(from), "template no longer contains {from:?}: update this test");
        let widened: Value = serde_yaml::from_str(&original.replacen(from, to, 1)).unwrap();
        let found = violations(&widened);
        assert!(found.iter().any(|v| v.contains(want)), "{to:?} not caught: {found:?}");
    }
}

#[test]
fn topic_is_encrypted_and_the_failure_queue_keeps_messages() {
    let t = template();
    let topic = &t["Resources"]["AlertTopic"]["Properties"];
    assert!(!topic["KmsMasterKeyId"].is_null(), "the alert topic must be encrypted");
    let queue = &t["Resources"]["FailureQueue"]["Properties"];
    assert_eq!(queue["MessageRetentionPeriod"].as_u64(), Some(1_209_600), "failure queue keeps messages 14 days");
    // SQS-managed encryption, or the KMS key the QueueKmsKeyArn parameter names: never none.
    assert_eq!(text(&queue["SqsManagedSseEnabled"]), "!If - HasQueueKmsKey\n- !Ref AWS::NoValue\n- true");
    assert_eq!(text(&queue["KmsMasterKeyId"]), "!If - HasQueueKmsKey\n- !Ref QueueKmsKeyArn\n- !Ref AWS::NoValue");
    let invoke = &t["Resources"]["DoctorFunction"]["Properties"]["EventInvokeConfig"];
    assert_eq!(text(&invoke["DestinationConfig"]["OnFailure"]["Type"]), "SQS");
    assert!(!t["Resources"]["DoctorLogGroup"]["Properties"]["RetentionInDays"].is_null());
}

/// The parameter offers exactly the formats the function accepts, defaults to text, and
/// reaches the function as SNS_MESSAGE_FORMAT.
#[test]
fn the_sns_message_format_parameter_reaches_the_function() {
    use eks_access_doctor::render::sns::MessageFormat;
    let t = template();
    let parameter = &t["Parameters"]["SnsMessageFormat"];
    let allowed: Vec<String> = parameter["AllowedValues"].as_sequence().unwrap().iter().map(text).collect();
    assert_eq!(allowed, ["text", "chatbot"]);
    let parsed: Vec<MessageFormat> = allowed.iter().map(|v| v.parse().unwrap()).collect();
    assert_eq!(parsed, [MessageFormat::Text, MessageFormat::Chatbot]);
    assert_eq!(text(&parameter["Default"]).parse::<MessageFormat>(), Ok(MessageFormat::default()));
    let env = &t["Resources"]["DoctorFunction"]["Properties"]["Environment"]["Variables"];
    assert_eq!(text(&env["SNS_MESSAGE_FORMAT"]), "!Ref SnsMessageFormat");
}
