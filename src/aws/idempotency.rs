//! Duplicate suppression. EventBridge and Lambda retries can deliver one CloudTrail
//! event more than once; the same `eventID` must not page twice. A warm container
//! remembers recent ids in memory; across containers an optional DynamoDB record
//! (conditional write, TTL) does. Both prefer a rare duplicate to a lost alert: a
//! record only blocks once the alert was delivered.

use super::{describe_sdk_error, sdk_error_code, BoxFuture};
use aws_sdk_dynamodb::types::AttributeValue;
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
            Some(parts) => parts.extend(delivered),
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

/// A shared record of delivered events.
pub trait IdempotencyStore: Send + Sync {
    /// `Ok(false)` when the event was already delivered; `Ok(true)` to go ahead.
    fn begin<'a>(&'a self, event_id: &'a str) -> BoxFuture<'a, Result<bool, String>>;
    /// Marks the event delivered.
    fn complete<'a>(&'a self, event_id: &'a str) -> BoxFuture<'a, Result<(), String>>;
}

/// Table with partition key `event_id` (S) and TTL attribute `expires_at` (N).
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

impl IdempotencyStore for DynamoStore {
    fn begin<'a>(&'a self, event_id: &'a str) -> BoxFuture<'a, Result<bool, String>> {
        Box::pin(async move {
            let now = now();
            let result = self
                .put(event_id, "pending", now)
                .condition_expression("attribute_not_exists(event_id) OR #s <> :done OR expires_at < :now")
                .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
                .expression_attribute_names("#s", "status")
                .expression_attribute_values(":done", AttributeValue::S("done".into()))
                .send()
                .await;
            match result {
                Ok(_) => Ok(true),
                Err(e) if sdk_error_code(&e) == Some("ConditionalCheckFailedException") => Ok(false),
                Err(e) => Err(describe_sdk_error(&e)),
            }
        })
    }

    fn complete<'a>(&'a self, event_id: &'a str) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move { self.put(event_id, "done", now()).send().await.map(|_| ()).map_err(|e| describe_sdk_error(&e)) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
