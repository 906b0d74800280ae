//! The authenticator log as the function receives it: real-shaped lines in a
//! CloudWatch Logs subscription payload.

use base64::Engine;
use std::io::Write;

/// A denial the authenticator logs for a role no access entry or mapping names.
pub const DENIED: &str = r#"time="2026-11-28T15:37:19Z" level=warning msg="access denied" arn="arn:aws:iam::111122223333:role/admin-test-role" client="127.0.0.1:33384" error="ARN is not mapped" method=POST path=/authenticate"#;
pub const GRANTED: &str = r#"time="2026-11-28T15:36:58Z" level=info msg="access granted" arn="arn:aws:iam::111122223333:role/platform-admins" client="127.0.0.1:57586" groups="[]" method=POST path=/authenticate uid="aws-iam-authenticator:111122223333:AROARZ3KX7QJ5PLM2TD4N" username=admin"#;

/// A subscription payload as CloudWatch Logs delivers it (gzip, base64) from the
/// control-plane log group of `payments-prod`: `lines` with ids from `first_id`.
pub fn subscription(lines: &[&str], first_id: usize) -> String {
    let events: Vec<serde_json::Value> = lines
        .iter()
        .enumerate()
        .map(|(i, line)| serde_json::json!({"id": format!("{:056}", first_id + i), "timestamp": 1_795_900_000_000u64 + i as u64, "message": line}))
        .collect();
    let message = serde_json::json!({
        "messageType": "DATA_MESSAGE", "owner": "111122223333", "logGroup": "/aws/eks/payments-prod/cluster",
        "logStream": "authenticator-8c0c570ea5676c62c44d98da6189a02b", "subscriptionFilters": ["eks-access-doctor-authenticator"],
        "logEvents": events,
    });
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gzip.write_all(message.to_string().as_bytes()).unwrap();
    let data = base64::engine::general_purpose::STANDARD.encode(gzip.finish().unwrap());
    serde_json::json!({"awslogs": {"data": data}}).to_string()
}
