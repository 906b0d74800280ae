//! Fetches the Slack webhook URL from Secrets Manager once, at init.

use super::describe_sdk_error;

/// The secret may hold the URL itself or JSON with a `url`, `webhook_url` or `webhook` key.
pub fn webhook_from_secret(secret: &str) -> Result<String, String> {
    let secret = secret.trim();
    let url = if secret.starts_with('{') {
        let value: serde_json::Value = serde_json::from_str(secret).map_err(|_| "the secret is JSON but not valid".to_string())?;
        ["url", "webhook_url", "webhook"]
            .iter()
            .find_map(|k| value.get(k).and_then(|v| v.as_str()))
            .ok_or("the secret's JSON has no url, webhook_url or webhook key")?
            .to_string()
    } else {
        secret.to_string()
    };
    if url.starts_with("https://") || url.starts_with("http://") {
        Ok(url)
    } else {
        Err("the secret does not hold an http(s) URL".to_string())
    }
}

pub async fn fetch_webhook(client: &aws_sdk_secretsmanager::Client, secret_id: &str) -> Result<String, String> {
    let out = client
        .get_secret_value()
        .secret_id(secret_id)
        .send()
        .await
        .map_err(|e| format!("cannot read the Slack webhook secret {secret_id}: {}", describe_sdk_error(&e)))?;
    let secret = out.secret_string().ok_or_else(|| format!("the secret {secret_id} has no string value"))?;
    webhook_from_secret(secret).map_err(|e| format!("{secret_id}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_a_url_or_json() {
        assert_eq!(webhook_from_secret(" https://hooks.slack.com/x ").unwrap(), "https://hooks.slack.com/x");
        assert_eq!(webhook_from_secret(r#"{"webhook_url":"https://h/x"}"#).unwrap(), "https://h/x");
        assert!(webhook_from_secret("hunter2").is_err());
        assert!(!webhook_from_secret("{\"token\":\"hunter2\"").unwrap_err().contains("hunter2"));
    }
}
