//! The AWS edge against MiniStack, a local AWS emulator, with the real SDK over
//! HTTP: live lookups read real EKS clusters, access entries and IAM roles, and
//! the DynamoDB idempotency record behaves as designed. Run by `scripts/e2e`
//! (`cargo test --test it -- --ignored ministack::` with `MINISTACK_URL` set).

use aws_sdk_dynamodb::types::{AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType};
use aws_sdk_eks::types::{AuthenticationMode, CreateAccessConfigRequest, VpcConfigRequest};
use eks_access_doctor_aws::enrich::{AwsLookups, Lookups};
use eks_access_doctor_aws::idempotency::{Claim, DynamoStore, FloodStore, IdempotencyStore};
use eks_access_doctor_aws::sns::SnsSink;
use eks_access_doctor_aws::Sink;
use eks_access_doctor_core::facts::{Lookup, PrincipalKind};
use eks_access_doctor_core::flood::Decision;
use eks_access_doctor_core::render::sns::MessageFormat;
use std::time::Duration;

async fn config() -> aws_config::SdkConfig {
    let url = std::env::var("MINISTACK_URL").expect("MINISTACK_URL: run through scripts/e2e");
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(url)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_eks::config::Credentials::new("test", "test", None, None, "tests"))
        .load()
        .await
}

/// A name no other test of this run (parallel threads) or an earlier run uses.
fn unique(prefix: &str) -> String {
    static COUNT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{prefix}-{}-{n}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos())
}

#[tokio::test]
#[ignore = "needs MiniStack: run scripts/e2e"]
async fn lookups_read_live_clusters_entries_and_roles() {
    let config = config().await;
    let eks = aws_sdk_eks::Client::new(&config);
    let iam = aws_sdk_iam::Client::new(&config);
    let cluster = unique("lookups");
    eks.create_cluster()
        .name(&cluster)
        .role_arn("arn:aws:iam::000000000000:role/cluster")
        .resources_vpc_config(VpcConfigRequest::builder().subnet_ids("subnet-1").build())
        .access_config(CreateAccessConfigRequest::builder().authentication_mode(AuthenticationMode::ApiAndConfigMap).build())
        .send()
        .await
        .unwrap();
    let role = iam
        .create_role()
        .role_name(unique("Deployer"))
        .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[]}"#)
        .send()
        .await
        .unwrap()
        .role
        .unwrap();
    eks.create_access_entry().cluster_name(&cluster).principal_arn(role.arn()).kubernetes_groups("ops").send().await.unwrap();
    let linked = iam
        .create_role()
        .path("/aws-service-role/autoscaling.amazonaws.com/")
        .role_name(unique("AWSServiceRoleForAutoScaling"))
        .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[]}"#)
        .send()
        .await
        .unwrap()
        .role
        .unwrap();

    let lookups = AwsLookups { eks, iam };
    assert_eq!(lookups.cluster_auth_mode("us-east-1", &cluster).await, Lookup::Found("API_AND_CONFIG_MAP".into()));
    assert_eq!(lookups.cluster_auth_mode("us-east-1", "no-such-cluster").await, Lookup::Absent);
    assert_eq!(lookups.cluster_auth_mode("eu-west-1", &cluster).await, Lookup::Absent, "lookups go to the event's region");
    let Lookup::Found(entry) = lookups.access_entry("us-east-1", &cluster, role.arn()).await else { panic!("entry not found") };
    assert_eq!(entry.kubernetes_groups, ["ops"]);
    assert_eq!(lookups.access_entry("us-east-1", &cluster, "arn:aws:iam::000000000000:role/nobody").await, Lookup::Absent);
    let Lookup::Found(principal) = lookups.principal(linked.arn()).await else { panic!("role not found") };
    assert_eq!(principal.kind, PrincipalKind::Role);
    assert!(principal.is_service_linked(), "{principal:?}");
    assert_eq!(lookups.principal("arn:aws:iam::000000000000:role/nobody").await, Lookup::Absent);
}

#[tokio::test]
#[ignore = "needs MiniStack: run scripts/e2e"]
async fn the_idempotency_record_blocks_only_delivered_events() {
    let config = config().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let table = table(&dynamodb, "doctor-seen").await;
    let store = DynamoStore { client: dynamodb.clone(), table: table.clone(), ttl: Duration::from_secs(3600) };
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let (lease, ended) = (now + 30, now - 1);
    let go = || Ok(Claim::Go { delivered: vec![] });
    assert_eq!(store.begin("e-1", lease).await, go(), "first delivery goes ahead");
    assert_eq!(
        store.begin("e-1", lease).await,
        Ok(Claim::InProgress { until: lease }),
        "a second container given the same event while the first delivers it waits (retries)"
    );
    let slack = vec!["reserved-group-prefix|slack".to_string()];
    store.abandon("e-1", &slack).await.unwrap();
    assert_eq!(
        store.begin("e-1", ended).await,
        Ok(Claim::Go { delivered: slack }),
        "a failed attempt gave its claim up: the retry goes ahead, knowing what went out"
    );
    assert_eq!(
        store.begin("e-1", lease).await,
        go(),
        "a claim whose lease ended (its container was killed) is taken over: at most one duplicate, never a loss"
    );
    store.complete("e-1").await.unwrap();
    assert_eq!(store.begin("e-1", lease).await, Ok(Claim::Delivered), "a delivered event is a duplicate");
    store.abandon("e-1", &[]).await.unwrap();
    assert_eq!(store.begin("e-1", lease).await, Ok(Claim::Delivered), "giving up a claim never forgets a delivery");
    assert_eq!(store.begin("e-2", lease).await, go());

    let expiring = DynamoStore { client: dynamodb, table, ttl: Duration::ZERO };
    expiring.complete("e-3").await.unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(expiring.begin("e-3", lease).await, go(), "an expired record no longer blocks");

    let missing =
        DynamoStore { client: aws_sdk_dynamodb::Client::new(&config), table: "no-such-table".into(), ttl: Duration::from_secs(60) };
    assert!(missing.begin("e-4", lease).await.is_err(), "a broken store is an error the handler logs, not a silent duplicate");
}

#[tokio::test]
#[ignore = "needs MiniStack: run scripts/e2e"]
async fn sns_publishes_to_a_real_topic_and_fails_on_a_missing_one() {
    let config = config().await;
    let sns = aws_sdk_sns::Client::new(&config);
    let topic = sns.create_topic().name(unique("alerts")).send().await.unwrap().topic_arn.unwrap();
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/events/reserved-group-prefix.json")).unwrap();
    let Ok(eks_access_doctor_core::input::Parsed::Event(event)) = eks_access_doctor_core::input::parse_envelope(&text) else { panic!() };
    let d = eks_access_doctor_core::diagnose(*event, &Default::default());
    SnsSink { client: sns.clone(), topic_arn: topic, format: MessageFormat::Text }.publish(&d, &d.findings[0]).await.unwrap();
    let missing =
        SnsSink { client: sns, topic_arn: "arn:aws:sns:us-east-1:000000000000:no-such-topic".into(), format: MessageFormat::Text };
    assert!(missing.publish(&d, &d.findings[0]).await.is_err());
}

/// A new table shaped like the template's idempotency table.
async fn table(dynamodb: &aws_sdk_dynamodb::Client, prefix: &str) -> String {
    let table = unique(prefix);
    dynamodb
        .create_table()
        .table_name(&table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder().attribute_name("event_id").attribute_type(ScalarAttributeType::S).build().unwrap(),
        )
        .key_schema(KeySchemaElement::builder().attribute_name("event_id").key_type(KeyType::Hash).build().unwrap())
        .send()
        .await
        .unwrap();
    table
}

/// Two containers share flood windows through the table: one alerts, the other
/// counts; a retry of the alerting batch finds its own claim; a released claim and
/// an ended window let the next batch alert, carrying the count.
#[tokio::test]
#[ignore = "needs MiniStack: run scripts/e2e"]
async fn flood_windows_are_shared_across_containers() {
    let config = config().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let table = table(&dynamodb, "doctor-floods").await;
    let container_a = DynamoStore { client: dynamodb.clone(), table: table.clone(), ttl: Duration::from_secs(3600) };
    let container_b = DynamoStore { client: aws_sdk_dynamodb::Client::new(&config), table, ttl: Duration::from_secs(3600) };
    let fp = "identity-not-mapped|prod|arn:aws:iam::111122223333:role/a";
    assert_eq!(container_a.claim(fp, "batch-1", 1000, 900).await, Ok(Decision::Alert { suppressed_before: 0 }));
    assert_eq!(container_b.claim(fp, "batch-2", 1001, 900).await, Ok(Decision::Suppress), "another container within the window");
    container_b.count(fp, 500).await.unwrap();
    let retry = container_a.claim(fp, "batch-1", 1002, 900).await;
    assert_eq!(retry, Ok(Decision::Alert { suppressed_before: 500 }), "the retry of an undelivered batch owns its claim");
    container_a.release(fp, "batch-1", 500).await.unwrap();
    let released = container_b.claim(fp, "batch-2", 1003, 900).await;
    assert_eq!(released, Ok(Decision::Alert { suppressed_before: 500 }), "released with its count: the next batch alerts and says so");
    container_b.delivered(fp, "batch-2").await.unwrap();
    assert_eq!(container_b.claim(fp, "batch-2", 1004, 900).await, Ok(Decision::Suppress), "a delivered batch's retry does not page again");
    container_a.count(fp, 7).await.unwrap();
    assert_eq!(container_a.claim(fp, "batch-3", 1903, 900).await, Ok(Decision::Alert { suppressed_before: 7 }), "the window ended");
    container_b.release(fp, "batch-2", 0).await.unwrap();
    assert_eq!(
        container_b.claim(fp, "batch-4", 1904, 900).await,
        Ok(Decision::Suppress),
        "releasing a claim it no longer owns changes nothing"
    );
    let fresh = "sts-throttled|prod|";
    container_a.count(fresh, 3).await.unwrap();
    assert_eq!(
        container_a.claim(fresh, "batch-5", 1000, 900).await,
        Ok(Decision::Alert { suppressed_before: 0 }),
        "a count makes no window"
    );
}

/// The scheduled audit's record of each cluster's last run, in the idempotency table:
/// none before the first run, what was recorded after it (a clean run too), read by
/// another container; kept with an expiry.
#[tokio::test]
#[ignore = "needs MiniStack: run scripts/e2e"]
async fn the_last_audit_is_kept_in_the_table() {
    use eks_access_doctor_aws::idempotency::AuditLog;
    let config = config().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let table = table(&dynamodb, "doctor-audits").await;
    let container_a = DynamoStore { client: dynamodb.clone(), table: table.clone(), ttl: Duration::from_secs(3600) };
    let container_b = DynamoStore { client: aws_sdk_dynamodb::Client::new(&config), table: table.clone(), ttl: Duration::from_secs(3600) };
    let cluster = "111122223333|eu-west-1|payments-prod";
    assert_eq!(container_a.last(cluster).await, Ok(None));
    let keys = vec!["0123456789abcdef".to_string(), "fedcba9876543210".to_string()];
    container_a.record(cluster, &keys, 1_765_000_000).await.unwrap();
    assert_eq!(container_b.last(cluster).await, Ok(Some(keys)));
    container_b.record(cluster, &[], 1_765_086_400).await.unwrap();
    assert_eq!(container_a.last(cluster).await, Ok(Some(vec![])), "a clean run is recorded as such");
    let item = dynamodb
        .get_item()
        .table_name(&table)
        .key("event_id", aws_sdk_dynamodb::types::AttributeValue::S(format!("audit#{cluster}")))
        .send()
        .await
        .unwrap();
    let expires = item.item().unwrap()["expires_at"].as_n().unwrap().parse::<u64>().unwrap();
    assert!(expires > 1_765_086_400 + 30 * 24 * 3600, "{expires}");
}
