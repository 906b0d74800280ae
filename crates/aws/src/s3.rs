//! CloudTrail archives in S3: `replay s3://bucket/prefix` on a workstation, and the
//! per-object step of the organization scan in the function. Objects are listed
//! (sorted by key, as S3 lists them), read in batches whose listed sizes add up to at
//! most `BATCH_BYTES` (a larger object alone), downloaded concurrently while the
//! previous batch is diagnosed, and printed in key order: the local replay's order
//! and memory guarantees, over S3.

use aws_sdk_s3::Client;
use eks_access_doctor_core::input::MAX_DOCUMENT_BYTES;
use eks_access_doctor_core::replay::{self, Options, Rendered, Summary};
use rayon::prelude::*;
use std::io::Write;
use std::sync::Arc;

/// Compressed bytes held in memory at once by one batch (besides one larger object).
const BATCH_BYTES: u64 = 64 << 20;
/// Objects downloaded at the same time.
const CONCURRENT_GETS: usize = 16;

/// `s3://bucket/prefix`, as given on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Url {
    pub bucket: String,
    pub prefix: String,
}

impl S3Url {
    /// `None` when `text` is not an `s3://` URL; an error when it is one without a bucket.
    pub fn parse(text: &str) -> Option<Result<S3Url, String>> {
        let rest = text.strip_prefix("s3://")?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        Some(if bucket.is_empty() {
            Err(format!("{text}: no bucket name (expected s3://bucket/prefix)"))
        } else {
            Ok(S3Url { bucket: bucket.to_string(), prefix: prefix.to_string() })
        })
    }

    /// How an object of this bucket is named in messages.
    pub fn object_name(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }
}

impl std::fmt::Display for S3Url {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.prefix)
    }
}

/// One listed object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    pub key: String,
    pub size: u64,
}

/// Why S3 could not be read or written; the message names the object and S3's answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum S3Error {
    #[error("{url}: cannot list: {message}")]
    List { url: String, message: String },
    #[error("{object}: cannot read: {message}")]
    Get { object: String, message: String },
    #[error("{object}: cannot write: {message}")]
    Put { object: String, message: String },
}

/// Every object under the prefix that may hold events (the local replay's file rule),
/// in key order. CloudTrail digest files are signatures, not events: skipped.
pub async fn list(client: &Client, url: &S3Url) -> Result<Vec<ObjectRef>, S3Error> {
    let mut objects = list_all(client, url).await?;
    objects.retain(|object| replay::is_event_name(&object.key));
    Ok(objects)
}

/// Every object under the prefix, in key order.
pub async fn list_all(client: &Client, url: &S3Url) -> Result<Vec<ObjectRef>, S3Error> {
    let mut objects = Vec::new();
    let mut pages = client.list_objects_v2().bucket(&url.bucket).prefix(&url.prefix).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| S3Error::List { url: url.to_string(), message: super::describe_sdk_error(&e) })?;
        for object in page.contents() {
            if let Some(key) = object.key() {
                objects.push(ObjectRef { key: key.to_string(), size: object.size().unwrap_or(0).max(0) as u64 });
            }
        }
    }
    Ok(objects)
}

/// The whole object, refused beyond the size a document may have.
pub async fn get(client: &Client, bucket: &str, key: &str) -> Result<Vec<u8>, S3Error> {
    let object = format!("s3://{bucket}/{key}");
    let response = client
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| S3Error::Get { object: object.clone(), message: super::describe_sdk_error(&e) })?;
    if response.content_length().is_some_and(|n| n as u64 > MAX_DOCUMENT_BYTES) {
        return Err(S3Error::Get { object, message: format!("larger than {MAX_DOCUMENT_BYTES} bytes") });
    }
    let body = response.body.collect().await.map_err(|e| S3Error::Get { object, message: format!("body cut off: {e}") })?;
    Ok(body.into_bytes().to_vec())
}

pub async fn put(client: &Client, bucket: &str, key: &str, body: Vec<u8>, content_type: &str) -> Result<(), S3Error> {
    client
        .put_object()
        .bucket(bucket)
        .key(key)
        .content_type(content_type)
        .body(body.into())
        .send()
        .await
        .map(|_| ())
        .map_err(|e| S3Error::Put { object: format!("s3://{bucket}/{key}"), message: super::describe_sdk_error(&e) })
}

/// Consecutive objects whose listed sizes add up to at most `budget` (at least one each).
pub fn batches(objects: &[ObjectRef], budget: u64) -> Vec<&[ObjectRef]> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0u64);
    for (i, object) in objects.iter().enumerate() {
        if i > start && bytes + object.size > budget {
            out.push(&objects[start..i]);
            (start, bytes) = (i, 0);
        }
        bytes += object.size;
    }
    if start < objects.len() {
        out.push(&objects[start..]);
    }
    out
}

/// Downloads a batch, `CONCURRENT_GETS` at a time, keeping key order.
async fn download(client: &Client, bucket: &str, batch: &[ObjectRef]) -> Vec<Result<Vec<u8>, S3Error>> {
    let permits = Arc::new(tokio::sync::Semaphore::new(CONCURRENT_GETS));
    let mut tasks = tokio::task::JoinSet::new();
    for (i, object) in batch.iter().enumerate() {
        let (client, bucket, key, permits) = (client.clone(), bucket.to_string(), object.key.clone(), permits.clone());
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await;
            (i, get(&client, &bucket, &key).await)
        });
    }
    let mut results: Vec<Option<Result<Vec<u8>, S3Error>>> = (0..batch.len()).map(|_| None).collect();
    while let Some(joined) = tasks.join_next().await {
        if let Ok((i, result)) = joined {
            results[i] = Some(result);
        }
    }
    results
        .into_iter()
        .zip(batch)
        .map(|(result, object)| {
            result.unwrap_or_else(|| {
                Err(S3Error::Get { object: format!("s3://{bucket}/{}", object.key), message: "download task failed".to_string() })
            })
        })
        .collect()
}

/// Diagnoses downloaded objects in parallel (CPU work, off the async runtime).
fn diagnose(url: &S3Url, batch: &[ObjectRef], bodies: Vec<Result<Vec<u8>, S3Error>>, options: &Options) -> Vec<Rendered> {
    batch
        .par_iter()
        .zip(bodies)
        .map(|(object, body)| match body {
            Ok(bytes) => replay::replay_bytes(&url.object_name(&object.key), &bytes, options),
            Err(e) => Rendered::unreadable(e.to_string()),
        })
        .collect()
}

/// `replay` of every object under `url`: the next batch downloads while this one is
/// diagnosed. Listing failures are the caller's to report; unreadable objects are
/// counted and named like unreadable files.
pub async fn replay(
    client: &Client,
    url: &S3Url,
    objects: &[ObjectRef],
    options: &Options,
    out: &mut dyn Write,
    err: &mut dyn Write,
    progress: &dyn Fn(usize),
) -> std::io::Result<Summary> {
    let mut summary = Summary::default();
    let batches = batches(objects, BATCH_BYTES);
    let mut next = match batches.first() {
        Some(first) => Some(download(client, &url.bucket, first).await),
        None => None,
    };
    for (i, batch) in batches.iter().enumerate() {
        let Some(bodies) = next.take() else { break };
        let owned_batch = batch.to_vec();
        let (url_c, options_c) = (url.clone(), *options);
        let work = tokio::task::spawn_blocking(move || diagnose(&url_c, &owned_batch, bodies, &options_c));
        let following = async {
            match batches.get(i + 1) {
                Some(following) => Some(download(client, &url.bucket, following).await),
                None => None,
            }
        };
        let (rendered, following) = tokio::join!(work, following);
        let rendered = rendered.map_err(std::io::Error::other)?;
        replay::write_rendered(rendered, out, err, &mut summary)?;
        progress(batch.len());
        next = following;
    }
    out.flush()?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(S3Url::parse("events/"), None);
        assert_eq!(S3Url::parse("s3://b/AWSLogs/1/"), Some(Ok(S3Url { bucket: "b".into(), prefix: "AWSLogs/1/".into() })));
        assert_eq!(S3Url::parse("s3://b"), Some(Ok(S3Url { bucket: "b".into(), prefix: String::new() })));
        assert!(S3Url::parse("s3:///x").unwrap().is_err());
    }

    #[test]
    fn batches_hold_a_budget_and_every_object() {
        let objects: Vec<ObjectRef> =
            [5, 5, 1, 20, 3, 3].iter().enumerate().map(|(i, &size)| ObjectRef { key: i.to_string(), size }).collect();
        let sizes: Vec<Vec<u64>> = batches(&objects, 10).iter().map(|b| b.iter().map(|o| o.size).collect()).collect();
        assert_eq!(sizes, vec![vec![5, 5], vec![1], vec![20], vec![3, 3]]);
        assert!(batches(&[], 10).is_empty());
    }
}
