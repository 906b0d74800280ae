//! Least privilege and safe defaults, read from `template.yaml` itself: the
//! function's role and the organization scan's state machine may grant only the
//! documented actions on the documented resources, the topic is encrypted, the failure queue keeps messages.
//! Also: the function's environment is a configuration it accepts (the Slack routes),
//! and the dashboard is valid JSON that graphs only metrics the code emits.

use serde_yaml::Value;
use std::collections::BTreeMap;

/// Every action the function may have, with the only resources it may have them on
/// (after `!Sub`, `!Ref`, `!GetAtt` are written out as text).
const ALLOWED: &[(&str, &[&str])] = &[
    ("logs:CreateLogStream", &["!GetAtt DoctorLogGroup.Arn"]),
    ("logs:PutLogEvents", &["!GetAtt DoctorLogGroup.Arn"]),
    ("eks:DescribeCluster", &["arn:${AWS::Partition}:eks:${AWS::Region}:${AWS::AccountId}:cluster/*"]),
    // The scheduled audit's list of clusters: ListClusters has no resource type.
    ("eks:ListClusters", &["*"]),
    ("eks:ListAccessEntries", &["arn:${AWS::Partition}:eks:${AWS::Region}:${AWS::AccountId}:cluster/*"]),
    ("eks:ListPodIdentityAssociations", &["arn:${AWS::Partition}:eks:${AWS::Region}:${AWS::AccountId}:cluster/*"]),
    ("eks:DescribePodIdentityAssociation", &["arn:${AWS::Partition}:eks:${AWS::Region}:${AWS::AccountId}:podidentityassociation/*"]),
    ("eks:DescribeAddon", &["arn:${AWS::Partition}:eks:${AWS::Region}:${AWS::AccountId}:addon/*/eks-pod-identity-agent/*"]),
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
    ("secretsmanager:GetSecretValue", &["!Ref SlackWebhookSecretArn", "!Ref SlackOnCallWebhookSecretArn"]),
    ("dynamodb:PutItem", &["!GetAtt IdempotencyTable.Arn"]),
    ("dynamodb:UpdateItem", &["!GetAtt IdempotencyTable.Arn"]),
    ("dynamodb:GetItem", &["!GetAtt IdempotencyTable.Arn"]),
    (
        "s3:GetObject",
        &[
            "arn:${AWS::Partition}:s3:::${ArchiveBucketName}/*",
            "arn:${AWS::Partition}:s3:::${ArchiveResultsBucketName}/*",
            "arn:${AWS::Partition}:s3:::${FleetAuditResultsBucketName}/*",
        ],
    ),
    (
        "s3:ListBucket",
        &[
            "arn:${AWS::Partition}:s3:::${ArchiveBucketName}",
            "arn:${AWS::Partition}:s3:::${ArchiveResultsBucketName}",
            "arn:${AWS::Partition}:s3:::${FleetAuditResultsBucketName}",
        ],
    ),
    (
        "s3:PutObject",
        &["arn:${AWS::Partition}:s3:::${ArchiveResultsBucketName}/*", "arn:${AWS::Partition}:s3:::${FleetAuditResultsBucketName}/*"],
    ),
    // The fleet audit: only the read-only role of its name, in any account.
    ("sts:AssumeRole", &["arn:${AWS::Partition}:iam::*:role/${FleetAuditRoleName}"]),
    ("kms:GenerateDataKey", &["!Ref QueueKmsKeyArn"]),
    ("kms:Decrypt", &["!Ref QueueKmsKeyArn"]),
    // Only with KubernetesSubnetIds (the function in a cluster's VPC): Lambda's network
    // interfaces, which these actions cannot name more narrowly than "*".
    ("ec2:CreateNetworkInterface", &["*"]),
    ("ec2:DescribeNetworkInterfaces", &["*"]),
    ("ec2:DeleteNetworkInterface", &["*"]),
    ("ec2:AssignPrivateIpAddresses", &["*"]),
    ("ec2:UnassignPrivateIpAddresses", &["*"]),
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

/// The fleet audit's state machine: invoke the function, run and watch its own child
/// workflows; the function writes the results itself.
const FLEET_MACHINE_ALLOWED: &[(&str, &[&str])] = &[
    ("lambda:InvokeFunction", &["!GetAtt DoctorFunction.Arn"]),
    (
        "states:StartExecution",
        &["arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:${AWS::StackName}-fleet-audit"],
    ),
    ("states:DescribeExecution", FLEET_CHILD_EXECUTIONS),
    ("states:StopExecution", FLEET_CHILD_EXECUTIONS),
];
const FLEET_CHILD_EXECUTIONS: &[&str] = &[
    "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:${AWS::StackName}-fleet-audit:*",
    "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:${AWS::StackName}-fleet-audit/*",
];
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
                let allowed = if text(name) == "FleetAuditStateMachine" { FLEET_MACHINE_ALLOWED } else { STATE_MACHINE_ALLOWED };
                excess(&text(name), statements(&policy["Statement"]), allowed, &mut found);
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
        (
            "Resource: !Ref SlackOnCallWebhookSecretArn",
            "Resource: \"arn:${AWS::Partition}:secretsmanager:*\"",
            "secretsmanager:GetSecretValue on arn:${AWS::Partition}:secretsmanager:* is wider",
        ),
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

/// Every parameter's default, then `given`.
fn parameters(template: &Value, given: &[(&str, &str)]) -> BTreeMap<String, String> {
    let mut values: BTreeMap<String, String> = template["Parameters"]
        .as_mapping()
        .unwrap()
        .iter()
        .map(|(name, p)| (text(name), if p["Default"].is_null() { String::new() } else { text(&p["Default"]) }))
        .collect();
    for (name, value) in given {
        assert!(values.contains_key(*name), "no parameter {name}");
        values.insert(name.to_string(), value.to_string());
    }
    values
}

/// A value as CloudFormation gives it for these parameters; `None` for `AWS::NoValue`.
/// Resources resolve to `<Name>` (their physical ids are not known here).
fn resolve(template: &Value, params: &BTreeMap<String, String>, value: &Value) -> Option<String> {
    match value {
        Value::String(_) | Value::Number(_) | Value::Bool(_) => Some(text(value)),
        Value::Tagged(t) if t.tag == "!Ref" => match text(&t.value).as_str() {
            "AWS::NoValue" => None,
            name => Some(params.get(name).cloned().unwrap_or_else(|| format!("<{name}>"))),
        },
        Value::Tagged(t) if t.tag == "!GetAtt" => Some(format!("<{}>", text(&t.value))),
        // `!Join [SEP, !Ref LIST]`: a CommaDelimitedList parameter's items joined by SEP.
        Value::Tagged(t) if t.tag == "!Join" => {
            let args = t.value.as_sequence().unwrap();
            let items = resolve(template, params, &args[1])?;
            Some(items.split(',').collect::<Vec<_>>().join(&text(&args[0])))
        }
        Value::Tagged(t) if t.tag == "!If" => {
            let branches = t.value.as_sequence().unwrap();
            let chosen = if condition(template, params, &text(&branches[0])) { &branches[1] } else { &branches[2] };
            resolve(template, params, chosen)
        }
        other => panic!("cannot resolve {other:?}"),
    }
}

fn condition(template: &Value, params: &BTreeMap<String, String>, name: &str) -> bool {
    evaluate(template, params, &template["Conditions"][name])
}

fn evaluate(template: &Value, params: &BTreeMap<String, String>, value: &Value) -> bool {
    let Value::Tagged(t) = value else { panic!("not a condition: {value:?}") };
    let args = || t.value.as_sequence().unwrap().iter();
    match t.tag.to_string().as_str() {
        "!Equals" => {
            let pair: Vec<Option<String>> = args().map(|v| resolve(template, params, v)).collect();
            pair[0] == pair[1]
        }
        "!Not" => !args().all(|v| evaluate(template, params, v)),
        "!And" => args().all(|v| evaluate(template, params, v)),
        "!Or" => args().any(|v| evaluate(template, params, v)),
        "!Condition" => condition(template, params, &text(&t.value)),
        other => panic!("unknown condition function {other}"),
    }
}

/// The function's environment for these parameters.
fn environment(template: &Value, params: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let variables = &template["Resources"]["DoctorFunction"]["Properties"]["Environment"]["Variables"];
    variables.as_mapping().unwrap().iter().filter_map(|(name, value)| Some((text(name), resolve(template, params, value)?))).collect()
}

#[test]
fn the_functions_environment_is_a_configuration_it_accepts() {
    use eks_access_doctor_aws::config::{Settings, SlackWebhook};
    use eks_access_doctor_aws::routing::RouteFilter;
    use eks_access_doctor_core::finding::Severity;
    let t = template();
    let settings = |given: &[(&str, &str)]| {
        let env = environment(&t, &parameters(&t, given));
        Settings::from_lookup(|name| env.get(name).cloned()).map_err(|e| e.to_string())
    };
    let sinks = |s: &Settings| s.slack_routes.iter().map(|r| r.sink.clone()).collect::<Vec<_>>();
    let team = ("SlackWebhookSecretArn", "arn:aws:secretsmanager:eu-west-1:111122223333:secret:team");
    let oncall = ("SlackOnCallWebhookSecretArn", "arn:aws:secretsmanager:eu-west-1:111122223333:secret:oncall");

    let defaults = settings(&[]).unwrap();
    assert!(defaults.slack_routes.is_empty() && defaults.sns_topic_arn.as_deref() == Some("<AlertTopic>"), "{defaults:?}");
    assert_eq!(sinks(&settings(&[team]).unwrap()), ["slack"]);
    let routed = settings(&[team, oncall, ("SlackOnCallClusters", "prod-*, payments")]).unwrap();
    assert_eq!(sinks(&routed), ["slack:oncall", "slack"]);
    assert_eq!(routed.slack_routes[0].webhook, SlackWebhook::Secret(oncall.1.into()));
    assert_eq!(
        routed.slack_routes[0].filter,
        RouteFilter { min_severity: Severity::Error, clusters: vec!["prod-*".into(), "payments".into()] }
    );
    assert_eq!(routed.slack_routes[1].webhook, SlackWebhook::Secret(team.1.into()));
    // Parameters the function refuses are refused at init, by name.
    let shadowing = settings(&[team, oncall, ("SlackOnCallMinSeverity", "info")]).unwrap_err();
    assert!(shadowing.contains("route \"slack\" is never used"), "{shadowing}");
    let unrouted = settings(&[("EnableSns", "false"), oncall, ("SlackOnCallClusters", "prod-*")]).unwrap_err();
    assert!(unrouted.contains("would reach no one"), "{unrouted}");

    use eks_access_doctor_aws::config::KubernetesAccess;
    assert_eq!(defaults.kubernetes, KubernetesAccess::Off);
    assert_eq!(settings(&[("KubernetesAccess", "true")]).unwrap().kubernetes, KubernetesAccess::On { endpoint: None });
    let test_server = [("KubernetesAccess", "true"), ("KubernetesEndpoint", "https://127.0.0.1:6443"), ("KubernetesCaData", "LS0t")];
    assert_eq!(
        settings(&test_server).unwrap().kubernetes,
        KubernetesAccess::On { endpoint: Some(("https://127.0.0.1:6443".into(), "LS0t".into())) }
    );
    assert!(
        settings(&[("KubernetesEndpoint", "https://127.0.0.1:6443"), ("KubernetesCaData", "LS0t")]).is_err(),
        "an endpoint without access"
    );

    assert_eq!(settings(&[("IncludeClusters", "prod-*")]).unwrap().metric_clusters, ["prod-*"]);
    assert_eq!(settings(&[("IncludeClusters", "prod-*"), ("MetricClusters", "prod-eu")]).unwrap().metric_clusters, ["prod-eu"]);
}

/// What `!Sub` fills into the dashboard body in the tests below.
const STACK_VALUES: &[(&str, &str)] = &[
    ("AWS::Region", "eu-west-1"),
    ("AWS::StackName", "doctor"),
    ("FailureQueue.QueueName", "doctor-FailureQueue-1A2B3C"),
    ("DoctorFunction", "doctor-DoctorFunction-4D5E6F"),
];

fn stack_value(name: &str) -> &'static str {
    STACK_VALUES.iter().find(|(n, _)| *n == name).map(|(_, v)| *v).unwrap()
}

/// Every way the dashboard is not what it should be: invalid JSON once `!Sub` is done, a
/// substitution of something the stack does not have, a metric the code never emits
/// (or under dimensions it never uses), an emitted metric not graphed, a widget off the grid.
fn dashboard_problems(template: &Value) -> Vec<String> {
    use eks_access_doctor_aws::metrics;
    let mut found = Vec::new();
    let body = &template["Resources"]["Dashboard"]["Properties"]["DashboardBody"];
    let Value::Tagged(sub) = body else { return vec![format!("DashboardBody is not a !Sub: {body:?}")] };
    let mut text = sub.value.as_str().unwrap().to_string();
    while let Some(at) = text.find("${") {
        let end = at + text[at..].find('}').unwrap();
        let name = text[at + 2..end].to_string();
        let resource = name.split('.').next().unwrap();
        let value = STACK_VALUES.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
        match value {
            Some(value) if name.starts_with("AWS::") || !template["Resources"][resource].is_null() => text.replace_range(at..=end, value),
            _ => {
                found.push(format!("${{{name}}} is not a pseudo parameter or resource the test knows"));
                text.replace_range(at..=end, "?");
            }
        }
    }
    let body: serde_json::Value = match serde_json::from_str(&text) {
        Ok(body) => body,
        Err(e) => return [found, vec![format!("not JSON after !Sub: {e}")]].concat(),
    };
    let mut graphed = std::collections::BTreeSet::new();
    let mut ours = |name: &str, dimensions: Vec<&str>, filters: Vec<(&str, &str)>, found: &mut Vec<String>| {
        let Some(metric) = metrics::ALL.iter().find(|m| m.name == name) else {
            return found.push(format!("graphs {name}, which the code never emits"));
        };
        let set: std::collections::BTreeSet<&str> = dimensions.iter().copied().collect();
        if !metric.dimensions.iter().any(|d| d.iter().copied().collect::<std::collections::BTreeSet<_>>() == set) {
            found.push(format!("graphs {name} by {dimensions:?}, a dimension set the code never emits"));
        }
        for (key, value) in filters {
            let known = match key {
                "Outcome" => ["delivered", "failed"].contains(&value),
                "Severity" => ["info", "warning", "error"].contains(&value),
                _ => true,
            };
            if !set.contains(key) || !known {
                found.push(format!("graphs {name} where {key}={value:?}, which the code never emits"));
            }
        }
        graphed.insert(name.to_string());
    };
    let (mut queue, mut errors) = (false, false);
    for widget in body["widgets"].as_array().into_iter().flatten() {
        let p = &widget["properties"];
        if widget["x"].as_u64().unwrap_or(99) + widget["width"].as_u64().unwrap_or(99) > 24 {
            found.push(format!("widget {:?} is off the 24-column grid", p["title"]));
        }
        if widget["type"] != "metric" {
            continue;
        }
        if p["region"] != stack_value("AWS::Region") {
            found.push(format!("widget {:?} is not in the stack's region", p["title"]));
        }
        for entry in p["metrics"].as_array().into_iter().flatten() {
            let entry = entry.as_array().unwrap();
            if let Some(expression) = entry[0]["expression"].as_str() {
                // SEARCH('{Namespace,Dimension,…} MetricName="Name" Dimension="value"', 'Stat', period)
                let Some(query) = expression.strip_prefix("SEARCH('{").and_then(|q| q.split_once("'")).map(|(q, _)| q) else {
                    found.push(format!("unexpected expression {expression}"));
                    continue;
                };
                let (schema, terms) = query.split_once('}').unwrap();
                let mut schema = schema.split(',');
                if schema.next() != Some(metrics::NAMESPACE) {
                    found.push(format!("{expression} searches another namespace than {}", metrics::NAMESPACE));
                    continue;
                }
                let terms: Vec<(&str, &str)> =
                    terms.split_whitespace().filter_map(|t| t.split_once('=')).map(|(k, v)| (k, v.trim_matches('"'))).collect();
                let Some(name) = terms.iter().find(|(k, _)| *k == "MetricName").map(|(_, v)| *v) else {
                    found.push(format!("{expression} names no metric"));
                    continue;
                };
                let filters = terms.into_iter().filter(|(k, _)| *k != "MetricName").collect();
                ours(name, schema.collect(), filters, &mut found);
                continue;
            }
            let strings: Vec<&str> = entry.iter().filter_map(|v| v.as_str()).collect();
            let dimensions: Vec<(&str, &str)> = strings[2..].chunks(2).map(|pair| (pair[0], pair[1])).collect();
            match (strings[0], strings[1], &dimensions[..]) {
                (ns, name, dims) if ns == metrics::NAMESPACE => {
                    ours(name, dims.iter().map(|(k, _)| *k).collect(), dims.to_vec(), &mut found);
                }
                ("AWS/SQS", "ApproximateNumberOfMessagesVisible", [("QueueName", queue_name)])
                    if *queue_name == stack_value("FailureQueue.QueueName") =>
                {
                    queue = true;
                }
                ("AWS/Lambda", name, [("FunctionName", function)]) if *function == stack_value("DoctorFunction") => {
                    errors |= name == "Errors";
                }
                other => found.push(format!("graphs {other:?}, not this stack's")),
            }
        }
    }
    for metric in metrics::ALL {
        if !graphed.contains(metric.name) {
            found.push(format!("{} is emitted but not graphed", metric.name));
        }
    }
    if !queue || !errors {
        found.push("the failure queue's depth and the function's errors must be graphed".to_string());
    }
    found
}

#[test]
fn the_dashboard_graphs_what_the_code_emits() {
    let found = dashboard_problems(&template());
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn the_dashboard_check_catches_mistakes() {
    let original = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/template.yaml")).unwrap();
    for (from, to, want) in [
        (r#"MetricName=\"Findings\""#, r#"MetricName=\"Finding\""#, "graphs Finding, which the code never emits"),
        ("{EksAccessDoctor,Cluster}", "{EksAccessDoctor,Cluster,Cause}", "a dimension set the code never emits"),
        (r#"Outcome=\"failed\""#, r#"Outcome=\"error\""#, "where Outcome=\"error\""),
        (
            "{EksAccessDoctor,Cause} MetricName=\\\"SuppressedRepeats\\\"",
            "{EksAccessDoctor,Cause} MetricName=\\\"Findings\\\"",
            "SuppressedRepeats is emitted but not graphed",
        ),
        ("${FailureQueue.QueueName}", "${FailureQueue.Arn}", "${FailureQueue.Arn} is not a pseudo parameter or resource"),
        ("\"widgets\": [", "\"widgets\": [[", "not JSON after !Sub"),
        ("\"x\": 16, \"y\": 8, \"width\": 8", "\"x\": 16, \"y\": 8, \"width\": 9", "off the 24-column grid"),
        ("\"AWS/SQS\"", "\"AWS/SNS\"", "not this stack's"),
    ] {
        assert!(original.contains(from), "template no longer contains {from:?}: update this test");
        let broken: Value = serde_yaml::from_str(&original.replacen(from, to, 1)).unwrap();
        let found = dashboard_problems(&broken);
        assert!(found.iter().any(|v| v.contains(want)), "{to:?} not caught: {found:#?}");
    }
}

/// The parameter offers exactly the formats the function accepts, defaults to text, and
/// each value reaches the function's settings through SNS_MESSAGE_FORMAT.
#[test]
fn the_sns_message_format_parameter_reaches_the_function() {
    use eks_access_doctor_aws::config::Settings;
    use eks_access_doctor_core::render::sns::MessageFormat;
    let t = template();
    let allowed: Vec<String> = t["Parameters"]["SnsMessageFormat"]["AllowedValues"].as_sequence().unwrap().iter().map(text).collect();
    assert_eq!(allowed, ["text", "chatbot"]);
    let format = |given: &[(&str, &str)]| {
        let env = environment(&t, &parameters(&t, given));
        Settings::from_lookup(|name| env.get(name).cloned()).unwrap().sns_message_format
    };
    assert_eq!(format(&[]), MessageFormat::Text);
    assert_eq!(format(&[("SnsMessageFormat", "text")]), MessageFormat::Text);
    assert_eq!(format(&[("SnsMessageFormat", "chatbot")]), MessageFormat::Chatbot);
}

/// The network-interface permissions a function in a VPC needs ("*" only) come with
/// the VPC option and nothing else, and the function is in no VPC by default.
#[test]
fn the_vpc_permissions_come_only_with_the_vpc() {
    let t = template();
    let policies = &t["Resources"]["DoctorFunctionRole"]["Properties"]["Policies"];
    let mut guarded = Vec::new();
    for policy in policies.as_sequence().unwrap() {
        for statement in policy["PolicyDocument"]["Statement"].as_sequence().unwrap() {
            match statement {
                Value::Tagged(t) if t.tag == "!If" => {
                    let branches = t.value.as_sequence().unwrap();
                    if list(&branches[1]["Action"]).iter().any(|a| a.starts_with("ec2:")) {
                        guarded.push(text(&branches[0]));
                    }
                }
                plain => assert!(!list(&plain["Action"]).iter().any(|a| a.starts_with("ec2:")), "an ec2 grant outside the VPC option"),
            }
        }
    }
    assert_eq!(guarded, ["HasKubernetesVpc"]);
    assert!(!condition(&t, &parameters(&t, &[]), "HasKubernetesVpc"));
    assert!(condition(&t, &parameters(&t, &[("KubernetesSubnetIds", "subnet-1,subnet-2")]), "HasKubernetesVpc"));
    let vpc = &t["Resources"]["DoctorFunction"]["Properties"]["VpcConfig"];
    let Value::Tagged(vpc) = vpc else { panic!("VpcConfig is conditional: {vpc:?}") };
    assert_eq!(text(&vpc.value.as_sequence().unwrap()[0]), "HasKubernetesVpc");
}

/// A CloudWatch Logs term pattern as the service reads it, for the shapes this
/// template uses: quoted phrases, all required, or any one when each has `?`.
fn term_pattern_matches(pattern: &str, line: &str) -> bool {
    let terms: Vec<(bool, &str)> =
        pattern.split('"').collect::<Vec<_>>().chunks(2).filter_map(|pair| Some((pair[0].trim() == "?", *pair.get(1)?))).collect();
    assert!(!terms.is_empty() && pattern.matches('"').count() % 2 == 0, "unsupported pattern {pattern}");
    if terms.iter().any(|(any, _)| *any) {
        assert!(terms.iter().all(|(any, _)| *any), "mixed ? and plain terms in {pattern}");
        terms.iter().any(|(_, t)| line.contains(t))
    } else {
        terms.iter().all(|(_, t)| line.contains(t))
    }
}

/// One subscription filter on the cluster's log group (the other slot is the account's):
/// denials always; granted lines too when the function can read the bindings.
#[test]
fn the_authenticator_subscription_passes_granted_lines_only_with_kubernetes_access() {
    let t = template();
    let filters: Vec<&Value> =
        t["Resources"].as_mapping().unwrap().values().filter(|r| text(&r["Type"]) == "AWS::Logs::SubscriptionFilter").collect();
    assert_eq!(filters.len(), 1, "a log group holds two subscription filters; this stack takes one");
    let denied = r#"time="2026-11-28T15:37:19Z" level=warning msg="access denied" arn="arn:aws:iam::111122223333:role/admin-test-role" client="127.0.0.1:33384" error="ARN is not mapped" method=POST path=/authenticate"#;
    let granted = r#"time="2026-11-29T09:12:44Z" level=info msg="access granted" arn="arn:aws:iam::111122223333:role/platform-admin" client="127.0.0.1:51880" groups="[platform-admin]" method=POST path=/authenticate stsendpoint=sts.eu-west-1.amazonaws.com uid="aws-iam-authenticator:111122223333:AROARZ3KX7QJ5PLM2TD4N" username=platform-admin"#;
    let sts = r#"time="2026-11-29T09:12:44Z" level=info msg="STS response" accesskeyid=ASIA arn="arn:aws:sts::111122223333:assumed-role/platform-admin/s" accountid=111122223333"#;
    for (access, wants_granted) in [("false", false), ("true", true)] {
        let params =
            parameters(&t, &[("EnableAuthenticatorLogs", "true"), ("AuthenticatorLogCluster", "prod"), ("KubernetesAccess", access)]);
        assert!(condition(&t, &params, "HasAuthenticatorCluster"));
        let pattern = resolve(&t, &params, &filters[0]["Properties"]["FilterPattern"]).unwrap();
        assert!(term_pattern_matches(&pattern, denied), "{pattern}");
        assert_eq!(term_pattern_matches(&pattern, granted), wants_granted, "KubernetesAccess={access}: {pattern}");
        assert!(!term_pattern_matches(&pattern, sts), "{pattern}");
    }
    assert!(!term_pattern_matches(r#""access denied""#, "access granted"));
}
