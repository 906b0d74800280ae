//! The bearer token EKS accepts: `k8s-aws-v1.` + base64url (no padding) of a
//! presigned STS `GetCallerIdentity` URL whose signature covers the header
//! `x-k8s-aws-id: CLUSTER`. The cluster's authenticator sends that URL to STS and
//! maps the identity STS returns.
//!
//! Built as aws-iam-authenticator's `GetWithSTS` builds it (pkg/token/token.go at
//! 81b1daba00d1): query-string SigV4 for service `sts`, `X-Amz-Expires=60` (STS
//! ignores it; tokens live 15 minutes after `X-Amz-Date`, and the verifier takes
//! 0..=900), signed headers `host;x-k8s-aws-id`. The host is always the regional
//! `sts.REGION.DNS_SUFFIX`, which is what the verifier's host check accepts: an
//! `AWS_ENDPOINT_URL` override (an emulator, a VPC endpoint name) would give a
//! token a real cluster refuses, so it is never used here. Tests reach an emulator
//! through a stand-in API server that checks the host and then forwards the
//! presigned request to the emulator's STS, as a DNS override would.

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SignatureLocation, SigningSettings};
use aws_sigv4::sign::v4;
use base64::Engine;
use std::time::{Duration, SystemTime};

pub const PREFIX: &str = "k8s-aws-v1.";
/// The header whose signed value binds a token to one cluster.
pub const CLUSTER_ID_HEADER: &str = "x-k8s-aws-id";
/// What aws-iam-authenticator asks for (STS ignores it; see above).
pub const EXPIRES: Duration = Duration::from_secs(60);

/// Why no token could be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("could not sign the Kubernetes token: {0}")]
pub struct TokenError(String);

/// The STS host of a region, in its partition's DNS suffix.
pub fn sts_host(region: &str) -> String {
    let suffix = match eks_access_doctor_core::arn::partition_of_region(region) {
        "aws-cn" => "amazonaws.com.cn",
        "aws-iso" => "c2s.ic.gov",
        "aws-iso-b" => "sc2s.sgov.gov",
        "aws-iso-e" => "cloud.adc-e.uk",
        "aws-iso-f" => "csp.hci.ic.gov",
        "aws-eusc" => "amazonaws.eu",
        _ => "amazonaws.com",
    };
    format!("sts.{region}.{suffix}")
}

/// The presigned `GetCallerIdentity` URL for `cluster`, signed at `now`.
pub fn presigned_url(credentials: &Credentials, region: &str, cluster: &str, now: SystemTime) -> Result<String, TokenError> {
    let host = sts_host(region);
    let url = format!("https://{host}/?Action=GetCallerIdentity&Version=2011-06-15");
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(EXPIRES);
    let identity = credentials.clone().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("sts")
        .time(now)
        .settings(settings)
        .build()
        .map_err(|e| TokenError(e.to_string()))?
        .into();
    let headers = [("host", host.as_str()), (CLUSTER_ID_HEADER, cluster)];
    let request =
        SignableRequest::new("GET", url.as_str(), headers.into_iter(), SignableBody::Bytes(&[])).map_err(|e| TokenError(e.to_string()))?;
    let (instructions, _) = sign(request, &params).map_err(|e| TokenError(e.to_string()))?.into_parts();
    let mut signed = url;
    for (name, value) in instructions.params() {
        let value: String = percent_encoding::utf8_percent_encode(value, QUERY_VALUE).collect();
        signed.push_str(&format!("&{name}={value}"));
    }
    Ok(signed)
}

/// Query values as SigV4 encodes them: everything but unreserved characters.
const QUERY_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// The bearer token for `cluster`.
pub fn token(credentials: &Credentials, region: &str, cluster: &str, now: SystemTime) -> Result<String, TokenError> {
    let url = presigned_url(credentials, region, cluster, now)?;
    Ok(format!("{PREFIX}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(url)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// The checks aws-iam-authenticator's `tokenVerifier.Verify` makes before it
    /// calls STS, in its order; the decoded query parameters, lower-cased keys.
    fn verify(token: &str, cluster: &str) -> Result<(String, BTreeMap<String, String>), String> {
        if token.len() > 4096 {
            return Err("token is too large".into());
        }
        let encoded = token.strip_prefix(PREFIX).ok_or("missing prefix")?;
        let url = String::from_utf8(base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(encoded).map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
        let rest = url.strip_prefix("https://").ok_or("unexpected scheme")?;
        let (host, path_query) = rest.split_once('/').ok_or("no path")?;
        let (path, query) = path_query.split_once('?').ok_or("no query")?;
        if !path.is_empty() {
            return Err("unexpected path".into());
        }
        let allowed = [
            "action",
            "version",
            "x-amz-algorithm",
            "x-amz-credential",
            "x-amz-date",
            "x-amz-expires",
            "x-amz-security-token",
            "x-amz-signature",
            "x-amz-signedheaders",
        ];
        let mut params = BTreeMap::new();
        for pair in query.split('&') {
            let (k, v) = pair.split_once('=').ok_or("malformed query")?;
            let key = k.to_ascii_lowercase();
            if !allowed.contains(&key.as_str()) {
                return Err(format!("non-whitelisted query parameter {k}"));
            }
            let value = percent_encoding::percent_decode_str(v).decode_utf8().map_err(|e| e.to_string())?.to_string();
            if params.insert(key, value).is_some() {
                return Err("duplicate query parameter".into());
            }
        }
        if params.get("action").map(String::as_str) != Some("GetCallerIdentity") {
            return Err("unexpected action".into());
        }
        if !params.get("x-amz-signedheaders").is_some_and(|h| h.split(';').any(|h| h.eq_ignore_ascii_case(CLUSTER_ID_HEADER))) {
            return Err("client did not sign the x-k8s-aws-id header".into());
        }
        let expires: i64 = params.get("x-amz-expires").and_then(|e| e.parse().ok()).ok_or("invalid X-Amz-Expires")?;
        if !(0..=900).contains(&expires) {
            return Err("invalid X-Amz-Expires".into());
        }
        params.get("x-amz-date").filter(|d| d.len() == 16 && d.ends_with('Z')).ok_or("X-Amz-Date must be present")?;
        let _ = cluster;
        Ok((host.to_string(), params))
    }

    fn credentials(session: Option<&str>) -> Credentials {
        Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", session.map(str::to_string), None, "test")
    }

    #[test]
    fn the_token_is_what_the_authenticator_verifies() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_877_533);
        let token = token(&credentials(Some("FwoGZX/session+token=")), "eu-west-1", "prod", now).unwrap();
        assert!(token.starts_with(PREFIX) && !token.contains('=') && !token.contains('+') && !token.contains('/'), "{token}");
        let (host, params) = verify(&token, "prod").unwrap();
        assert_eq!(host, "sts.eu-west-1.amazonaws.com");
        assert_eq!(params["version"], "2011-06-15");
        assert_eq!(params["x-amz-signedheaders"], "host;x-k8s-aws-id");
        assert_eq!(params["x-amz-expires"], "60");
        assert_eq!(params["x-amz-date"], "20261128T145213Z");
        assert_eq!(params["x-amz-credential"], "AKIDEXAMPLE/20261128/eu-west-1/sts/aws4_request");
        assert_eq!(params["x-amz-security-token"], "FwoGZX/session+token=", "decoded back exactly");
        assert_eq!(params["x-amz-algorithm"], "AWS4-HMAC-SHA256");
        assert_eq!(params["x-amz-signature"].len(), 64);
    }

    #[test]
    fn the_signature_binds_the_cluster_name() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_877_533);
        let signature = |cluster: &str| {
            verify(&token(&credentials(None), "eu-west-1", cluster, now).unwrap(), cluster).unwrap().1["x-amz-signature"].clone()
        };
        assert_ne!(signature("prod"), signature("staging"));
        assert_eq!(signature("prod"), signature("prod"));
        let (_, params) = verify(&token(&credentials(None), "eu-west-1", "prod", now).unwrap(), "prod").unwrap();
        assert!(!params.contains_key("x-amz-security-token"));
    }

    #[test]
    fn hosts_follow_the_partition() {
        assert_eq!(sts_host("cn-north-1"), "sts.cn-north-1.amazonaws.com.cn");
        assert_eq!(sts_host("us-gov-west-1"), "sts.us-gov-west-1.amazonaws.com");
        assert_eq!(sts_host("us-east-1"), "sts.us-east-1.amazonaws.com");
    }
}
