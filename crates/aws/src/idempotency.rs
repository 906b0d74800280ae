//! Duplicate suppression. EventBridge and Lambda retries can deliver one CloudTrail
//! event more than once; the same `eventID` must not page twice. A warm container
//! remembers recent ids in memory; across containers an optional DynamoDB record
//! (conditional write, TTL) does. Both prefer a rare duplicate to a lost alert: a
//! record only blocks once the alert was delivered.

use super::{describe_sdk_error, sdk_error_code, BoxFuture};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_smithy_runtime_api::client::result::SdkError;
use eks_access_doctor_core::flood::Decision;
use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The most recent delivered event ids of this container, oldest forgotten first.
#[derive(Debug, Default)]
pub struct RecentIds {
    order: VecDeque<String>,
    set: HashSet<String>,
}

impl RecentIds {
    pub const CAPACITY: usize = 4096;

    pub fn contains(&self, id: &str) -> bool {
        self.set.contains(id)
    }

    pub fn insert(&mut self, id: &str) {
        if self.set.insert(id.to_string()) {
            self.order.push_back(id.to_string());
            if self.order.len() > Self::CAPACITY {
                if let Some(old) = self.order.pop_front() {
                    self.set.remove(&old);
                }
            }
        }
    }
}

/// One delivered part of an alert: (cause id, sink name).
pub type Part = (&'static str, &'static str);

/// How a part is written in the shared record.
pub fn part_key((cause, sink): Part) -> String {
    format!("{cause}|{sink}")
}

/// The parts already delivered of events whose delivery partly failed, so Lambda's
/// retry re-sends only what failed. Only events with a failure are remembered, they
/// are forgotten once delivered, and at most `CAPACITY` are kept, oldest forgotten
/// first: a forgotten part is sent again (a rare duplicate, never a loss), and a
/// container's memory no longer grows with its life.
#[derive(Debug, Default)]
pub struct PartialDeliveries {
    order: VecDeque<String>,
    parts: HashMap<String, Vec<Part>>,
}

impl PartialDeliveries {
    pub const CAPACITY: usize = 1024;

    pub fn contains(&self, event_id: &str, part: Part) -> bool {
        self.parts.get(event_id).is_some_and(|parts| parts.contains(&part))
    }

    /// Adds the parts delivered by an attempt that failed elsewhere.
    pub fn remember(&mut self, event_id: &str, delivered: Vec<Part>) {
        if delivered.is_empty() {
            return;
        }
        match self.parts.get_mut(event_id) {
            Some(parts) => {
                for part in delivered {
                    if !parts.contains(&part) {
                        parts.push(part);
                    }
                }
            }
            None => {
                self.parts.insert(event_id.to_string(), delivered);
                self.order.push_back(event_id.to_string());
                if self.order.len() > Self::CAPACITY {
                    if let Some(old) = self.order.pop_front() {
                        self.parts.remove(&old);
                    }
                }
            }
        }
    }

    /// The parts of `event_id` delivered so far.
    pub fn parts(&self, event_id: &str) -> Vec<Part> {
        self.parts.get(event_id).cloned().unwrap_or_default()
    }

    /// The event is fully delivered: nothing of it needs remembering.
    pub fn forget(&mut self, event_id: &str) {
        if self.parts.remove(event_id).is_some() {
            self.order.retain(|id| id != event_id);
        }
    }

    pub fn len(&self) -> usize {
        self.parts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }
}

/// What the shared record says about an event a container is about to deliver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Nobody delivered it and nobody is delivering it: this container now is, until
    /// its lease ends. `delivered`: the parts an earlier attempt that failed elsewhere
    /// did deliver (`part_key`), so the retry, in whatever container, sends only the rest.
    Go { delivered: Vec<String> },
    /// Delivered already: a duplicate.
    Delivered,
    /// Another container is delivering it right now (its lease ends at `until`,
    /// seconds since the epoch). Retrying after that either finds it delivered or,
    /// if that container died, takes over.
    InProgress { until: u64 },
}

/// A shared record of delivered events. A claim is a lease that ends with the
/// claiming invocation's deadline: two containers given the same event at once
/// deliver it once, and a container killed after delivering (before recording)
/// costs at most one duplicate, sent by whichever attempt comes after its lease.
pub trait IdempotencyStore: Send + Sync {
    /// Claims `event_id` until `lease_until` (seconds since the epoch).
    fn begin<'a>(&'a self, event_id: &'a str, lease_until: u64) -> BoxFuture<'a, Result<Claim, String>>;
    /// Marks the event delivered.
    fn complete<'a>(&'a self, event_id: &'a str) -> BoxFuture<'a, Result<(), String>>;
    /// Gives up this attempt's claim (its delivery failed), so the retry need not wait
    /// for the lease to end, and records the parts that did go out (`part_key`). A
    /// delivered record is left alone.
    fn abandon<'a>(&'a self, event_id: &'a str, delivered: &'a [String]) -> BoxFuture<'a, Result<(), String>>;
}

/// Table with partition key `event_id` (S) and TTL attribute `expires_at` (N); a
/// claim in progress carries `status` = `pending` and `lease_until` (N).
#[derive(Clone, Debug)]
pub struct DynamoStore {
    pub client: aws_sdk_dynamodb::Client,
    pub table: String,
    pub ttl: Duration,
}

impl DynamoStore {
    fn put(&self, event_id: &str, status: &str, now: u64) -> aws_sdk_dynamodb::operation::put_item::builders::PutItemFluentBuilder {
        self.client
            .put_item()
            .table_name(&self.table)
            .item("event_id", AttributeValue::S(event_id.to_string()))
            .item("status", AttributeValue::S(status.to_string()))
            .item("expires_at", AttributeValue::N((now + self.ttl.as_secs()).to_string()))
    }
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs()
}

/// A number attribute of `item`, if present and readable.
fn number_in(item: &HashMap<String, AttributeValue>, name: &str) -> Option<u64> {
    item.get(name)?.as_n().ok()?.parse().ok()
}

impl IdempotencyStore for DynamoStore {
    fn begin<'a>(&'a self, event_id: &'a str, lease_until: u64) -> BoxFuture<'a, Result<Claim, String>> {
        Box::pin(async move {
            let now = now();
            let result = self
                .put(event_id, "pending", now)
                .item("lease_until", number(lease_until))
                .condition_expression(
                    "attribute_not_exists(event_id) OR expires_at < :now OR (#s <> :done AND (attribute_not_exists(lease_until) OR lease_until < :now))",
                )
                .expression_attribute_values(":now", number(now))
                .expression_attribute_names("#s", "status")
                .expression_attribute_values(":done", AttributeValue::S("done".into()))
                .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
                .return_values_on_condition_check_failure(aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure::AllOld)
                .send()
                .await;
            let error = match result {
                Ok(out) => {
                    let parts = out.attributes().and_then(|old| old.get("parts")).and_then(|p| p.as_ss().ok());
                    return Ok(Claim::Go { delivered: parts.cloned().unwrap_or_default() });
                }
                Err(e) => e,
            };
            let Some(PutItemError::ConditionalCheckFailedException(refused)) = error.as_service_error() else {
                return Err(describe_sdk_error(&error));
            };
            // Delivered, or claimed by a lease not yet ended. A refusal that does not say
            // which (no old item) is treated as in progress: the retry asks again.
            let old = refused.item.as_ref();
            let status = old.and_then(|item| item.get("status")).and_then(|s| s.as_s().ok());
            Ok(match status.map(String::as_str) {
                Some("done") => Claim::Delivered,
                _ => Claim::InProgress { until: old.and_then(|item| number_in(item, "lease_until")).unwrap_or(now) },
            })
        })
    }

    fn complete<'a>(&'a self, event_id: &'a str) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move { self.put(event_id, "done", now()).send().await.map(|_| ()).map_err(|e| describe_sdk_error(&e)) })
    }

    fn abandon<'a>(&'a self, event_id: &'a str, delivered: &'a [String]) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            // Ends the lease now (an update, not a delete: the role may not delete items).
            let mut update = self
                .client
                .update_item()
                .table_name(&self.table)
                .key("event_id", AttributeValue::S(event_id.to_string()))
                .condition_expression("#s <> :done")
                .expression_attribute_names("#s", "status")
                .expression_attribute_values(":done", AttributeValue::S("done".into()))
                .expression_attribute_values(":ended", number(0));
            update = if delivered.is_empty() {
                update.update_expression("SET lease_until = :ended")
            } else {
                update
                    .update_expression("SET lease_until = :ended ADD parts :parts")
                    .expression_attribute_values(":parts", AttributeValue::Ss(delivered.to_vec()))
            };
            unless_condition_failed(update.send().await)
        })
    }
}

/// Flood windows shared by every container: one item per fingerprint in the same
/// table (`event_id` = `flood#FINGERPRINT`), claimed with a conditional write before
/// the alert is sent. `owner` is the batch's first event id, so Lambda's retry of the
/// same batch finds its own claim and alerts; a claim whose alert could not be
/// delivered is released. Both keep the rule: a rare duplicate, never a lost alert.
pub trait FloodStore: Send + Sync {
    /// `Alert` (the window is this batch's now) or `Suppress` (another alert went out within it).
    fn claim<'a>(&'a self, fingerprint: &'a str, owner: &'a str, now: u64, window: u64) -> BoxFuture<'a, Result<Decision, String>>;
    /// Counts repeats that were not sent, into an existing window.
    fn count<'a>(&'a self, fingerprint: &'a str, repeats: u64) -> BoxFuture<'a, Result<(), String>>;
    /// The owner's alert went out: a retry of its batch no longer owns the window.
    fn delivered<'a>(&'a self, fingerprint: &'a str, owner: &'a str) -> BoxFuture<'a, Result<(), String>>;
    /// Ends this owner's window early (its alert was not delivered), giving back the
    /// `suppressed_before` count its claim took over.
    fn release<'a>(&'a self, fingerprint: &'a str, owner: &'a str, suppressed_before: u64) -> BoxFuture<'a, Result<(), String>>;
}

/// A conditional write that found the condition false: for these updates, nothing to do.
fn unless_condition_failed<T, E, R>(result: Result<T, SdkError<E, R>>) -> Result<(), String>
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match result {
        Ok(_) => Ok(()),
        Err(e) if sdk_error_code(&e) == Some("ConditionalCheckFailedException") => Ok(()),
        Err(e) => Err(describe_sdk_error(&e)),
    }
}

fn flood_key(fingerprint: &str) -> AttributeValue {
    AttributeValue::S(format!("flood#{fingerprint}"))
}

fn number(value: u64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

impl FloodStore for DynamoStore {
    fn claim<'a>(&'a self, fingerprint: &'a str, owner: &'a str, now: u64, window: u64) -> BoxFuture<'a, Result<Decision, String>> {
        Box::pin(async move {
            let result = self
                .client
                .put_item()
                .table_name(&self.table)
                .item("event_id", flood_key(fingerprint))
                .item("owner", AttributeValue::S(owner.to_string()))
                .item("window_ends", number(now + window))
                .item("suppressed", number(0))
                .item("expires_at", number(now + window + self.ttl.as_secs()))
                .condition_expression(
                    "attribute_not_exists(event_id) OR window_ends <= :now OR (#owner = :owner AND attribute_not_exists(delivered))",
                )
                .expression_attribute_names("#owner", "owner")
                .expression_attribute_values(":now", number(now))
                .expression_attribute_values(":owner", AttributeValue::S(owner.to_string()))
                .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
                .send()
                .await;
            match result {
                Ok(out) => {
                    let suppressed_before = out
                        .attributes()
                        .and_then(|old| old.get("suppressed"))
                        .and_then(|n| n.as_n().ok())
                        .and_then(|n| n.parse().ok())
                        .unwrap_or(0);
                    Ok(Decision::Alert { suppressed_before })
                }
                Err(e) if sdk_error_code(&e) == Some("ConditionalCheckFailedException") => Ok(Decision::Suppress),
                Err(e) => Err(describe_sdk_error(&e)),
            }
        })
    }

    fn count<'a>(&'a self, fingerprint: &'a str, repeats: u64) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            // Only into a window that exists: a bare counter would have no window_ends and
            // block every claim of the fingerprint for good.
            let update = self.update_window(fingerprint, "ADD suppressed :n", "attribute_exists(window_ends)");
            unless_condition_failed(update.expression_attribute_values(":n", number(repeats)).send().await)
        })
    }

    fn delivered<'a>(&'a self, fingerprint: &'a str, owner: &'a str) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let update = self.update_window(fingerprint, "SET delivered = :yes", "#owner = :owner");
            let update = owned_by(update, owner).expression_attribute_values(":yes", AttributeValue::Bool(true));
            unless_condition_failed(update.send().await)
        })
    }

    fn release<'a>(&'a self, fingerprint: &'a str, owner: &'a str, suppressed_before: u64) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            // Another batch owns the window now (the condition fails): nothing of ours to release.
            let update = self.update_window(
                fingerprint,
                "SET window_ends = :zero ADD suppressed :restore",
                "#owner = :owner AND attribute_not_exists(delivered)",
            );
            let update = owned_by(update, owner)
                .expression_attribute_values(":zero", number(0))
                .expression_attribute_values(":restore", number(suppressed_before));
            unless_condition_failed(update.send().await)
        })
    }
}

type UpdateItem = aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;

impl DynamoStore {
    /// A conditional update of one fingerprint's window.
    fn update_window(&self, fingerprint: &str, expression: &str, condition: &str) -> UpdateItem {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("event_id", flood_key(fingerprint))
            .update_expression(expression)
            .condition_expression(condition)
    }
}

/// Binds `#owner = :owner` to `owner`.
fn owned_by(update: UpdateItem, owner: &str) -> UpdateItem {
    update.expression_attribute_names("#owner", "owner").expression_attribute_values(":owner", AttributeValue::S(owner.to_string()))
}

/// When this function saw access entries created, so a deletion soon after is noticed
/// (`short-lived-access-entry`): this container's memory, and with the table on, one
/// item per entry (`event_id` = `entry#REGION|CLUSTER|PRINCIPAL`) that every container reads.
pub trait EntryLog: Send + Sync {
    fn created<'a>(&'a self, entry: &'a str, at: u64) -> BoxFuture<'a, Result<(), String>>;
    fn created_at<'a>(&'a self, entry: &'a str) -> BoxFuture<'a, Result<Option<u64>, String>>;
}

fn entry_key(entry: &str) -> AttributeValue {
    AttributeValue::S(format!("entry#{entry}"))
}

impl EntryLog for DynamoStore {
    fn created<'a>(&'a self, entry: &'a str, at: u64) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let expires = at + eks_access_doctor_core::catalogue::SHORT_LIVED_SECS + 3600;
            self.client
                .put_item()
                .table_name(&self.table)
                .item("event_id", entry_key(entry))
                .item("created_at", number(at))
                .item("expires_at", number(expires))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| describe_sdk_error(&e))
        })
    }

    fn created_at<'a>(&'a self, entry: &'a str) -> BoxFuture<'a, Result<Option<u64>, String>> {
        Box::pin(async move {
            let out = self
                .client
                .get_item()
                .table_name(&self.table)
                .key("event_id", entry_key(entry))
                .consistent_read(true)
                .send()
                .await
                .map_err(|e| describe_sdk_error(&e))?;
            Ok(out.item().and_then(|item| item.get("created_at")).and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok()))
        })
    }
}

/// What the last scheduled audit of each cluster flagged (`Audit::keys`), so a run
/// alerts only what changed: with the table on, one item per cluster (`event_id` =
/// `audit#ACCOUNT|REGION|CLUSTER`); otherwise this container's memory, so a cold start
/// alerts every flag once more.
pub trait AuditLog: Send + Sync {
    /// The keys of the last run; `None` before the first.
    fn last<'a>(&'a self, cluster: &'a str) -> BoxFuture<'a, Result<Option<Vec<String>>, String>>;
    fn record<'a>(&'a self, cluster: &'a str, keys: &'a [String], now: u64) -> BoxFuture<'a, Result<(), String>>;
}

/// Kept this long after the last run wrote them (a schedule slower than monthly
/// starts again from nothing).
const AUDIT_TTL_SECS: u64 = 35 * 24 * 3600;

fn audit_key(cluster: &str) -> AttributeValue {
    AttributeValue::S(format!("audit#{cluster}"))
}

impl AuditLog for DynamoStore {
    fn last<'a>(&'a self, cluster: &'a str) -> BoxFuture<'a, Result<Option<Vec<String>>, String>> {
        Box::pin(async move {
            let out = self
                .client
                .get_item()
                .table_name(&self.table)
                .key("event_id", audit_key(cluster))
                .consistent_read(true)
                .send()
                .await
                .map_err(|e| describe_sdk_error(&e))?;
            let Some(item) = out.item() else { return Ok(None) };
            let keys = item.get("flags").and_then(|v| v.as_s().ok()).ok_or("the audit item has no flags")?;
            Ok(Some(keys.split(',').filter(|k| !k.is_empty()).map(str::to_string).collect()))
        })
    }

    fn record<'a>(&'a self, cluster: &'a str, keys: &'a [String], now: u64) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            self.client
                .put_item()
                .table_name(&self.table)
                .item("event_id", audit_key(cluster))
                // A string, not a string set: DynamoDB has no empty set, and a clean run is one.
                .item("flags", AttributeValue::S(keys.join(",")))
                .item("audited_at", number(now))
                .item("expires_at", number(now + AUDIT_TTL_SECS))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| describe_sdk_error(&e))
        })
    }
}

/// This container's memory of the last audits, when no table is configured.
#[derive(Debug, Default)]
pub struct MemoryAuditLog {
    runs: std::sync::Mutex<HashMap<String, Vec<String>>>,
}

impl AuditLog for MemoryAuditLog {
    fn last<'a>(&'a self, cluster: &'a str) -> BoxFuture<'a, Result<Option<Vec<String>>, String>> {
        let last = self.runs.lock().map(|runs| runs.get(cluster).cloned()).map_err(|e| e.to_string());
        Box::pin(async move { last })
    }

    fn record<'a>(&'a self, cluster: &'a str, keys: &'a [String], _now: u64) -> BoxFuture<'a, Result<(), String>> {
        let recorded = match self.runs.lock() {
            Ok(mut runs) => {
                runs.insert(cluster.to_string(), keys.to_vec());
                Ok(())
            }
            Err(e) => Err(e.to_string()),
        };
        Box::pin(async move { recorded })
    }
}

/// The access entries this container saw created, at most `CAPACITY`, oldest forgotten
/// first (a forgotten one means a short-lived entry goes unnoticed here, never a false alert).
#[derive(Debug, Default)]
pub struct RecentEntries {
    order: VecDeque<String>,
    created: HashMap<String, u64>,
}

impl RecentEntries {
    pub const CAPACITY: usize = 4096;

    pub fn created(&mut self, entry: &str, at: u64) {
        if self.created.insert(entry.to_string(), at).is_none() {
            self.order.push_back(entry.to_string());
            if self.order.len() > Self::CAPACITY {
                if let Some(old) = self.order.pop_front() {
                    self.created.remove(&old);
                }
            }
        }
    }

    pub fn created_at(&self, entry: &str) -> Option<u64> {
        self.created.get(entry).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_entries_forget_the_oldest() {
        let mut entries = RecentEntries::default();
        for i in 0..RecentEntries::CAPACITY + 1 {
            entries.created(&i.to_string(), i as u64);
        }
        assert_eq!(entries.created_at("0"), None);
        assert_eq!(entries.created_at("1"), Some(1));
    }

    #[test]
    fn recent_ids_forget_the_oldest() {
        let mut ids = RecentIds::default();
        for i in 0..=RecentIds::CAPACITY {
            ids.insert(&i.to_string());
        }
        assert!(!ids.contains("0"));
        assert!(ids.contains("1") && ids.contains(&RecentIds::CAPACITY.to_string()));
    }

    #[test]
    fn partial_deliveries_are_bounded_and_forgotten_once_complete() {
        let mut parts = PartialDeliveries::default();
        parts.remember("a", vec![("cause", "sns")]);
        parts.remember("a", vec![("other", "slack")]);
        assert!(parts.contains("a", ("cause", "sns")) && parts.contains("a", ("other", "slack")));
        assert!(!parts.contains("a", ("cause", "slack")));
        parts.forget("a");
        assert!(parts.is_empty() && parts.order.is_empty());
        for i in 0..PartialDeliveries::CAPACITY * 3 {
            parts.remember(&i.to_string(), vec![("cause", "sns")]);
        }
        assert_eq!((parts.len(), parts.order.len()), (PartialDeliveries::CAPACITY, PartialDeliveries::CAPACITY));
        assert!(!parts.contains("0", ("cause", "sns")));
        parts.remember("nothing delivered", vec![]);
        assert!(!parts.parts.contains_key("nothing delivered"));
    }
}
