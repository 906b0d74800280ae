//! The few Kubernetes API reads the checks need, over the HTTP and TLS stack the
//! crate already has (reqwest on rustls, with the aws-lc-rs provider the AWS SDK
//! uses: no second TLS stack), trusting only the cluster's own CA. Typed by the
//! fields read; the shapes are the Kubernetes API's (`RoleBindingList`,
//! `ClusterRoleBindingList`, `ConfigMap`, and `Status` for errors).
//!
//! Reads: `GET /apis/rbac.authorization.k8s.io/v1/rolebindings` (every namespace),
//! `GET /apis/rbac.authorization.k8s.io/v1/clusterrolebindings`, `…/roles` and
//! `…/clusterroles` (`audit`, `explain --cluster`), each paged with
//! `limit` and `continue`; `GET /api/v1/namespaces/kube-system/configmaps/aws-auth`.

use base64::Engine;
use eks_access_doctor_core::kubernetes::authz::RbacRole;
use eks_access_doctor_core::kubernetes::{AwsAuth, Binding};
use std::time::Duration;

/// Items per page (the API server may return fewer).
const PAGE_LIMIT: u32 = 250;
/// Pages read per list at most (a runaway `continue` cannot loop forever).
const MAX_PAGES: usize = 200;

/// Where the API server is and the CA that signs its certificate.
#[derive(Clone, Debug, PartialEq)]
pub struct Endpoint {
    /// `https://…`, no trailing slash.
    pub url: String,
    /// PEM.
    pub ca_pem: Vec<u8>,
}

impl Endpoint {
    /// From `DescribeCluster`: `endpoint` and `certificateAuthority.data` (base64 of the PEM).
    pub fn from_describe_cluster(endpoint: &str, ca_data: &str) -> Result<Endpoint, KubeError> {
        let ca_pem = base64::engine::general_purpose::STANDARD
            .decode(ca_data.trim())
            .map_err(|e| KubeError::Setup(format!("certificateAuthority.data is not base64: {e}")))?;
        Ok(Endpoint { url: endpoint.trim_end_matches('/').to_string(), ca_pem })
    }
}

/// Why a read failed, in words a person can act on.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum KubeError {
    #[error("the Kubernetes API refused the token (401 Unauthorized): the principal has no access entry (or aws-auth mapping) on this cluster, or the token was rejected")]
    Unauthorized,
    #[error("the Kubernetes API denied the read (403 Forbidden): {0}")]
    Forbidden(String),
    #[error("the Kubernetes API answered {code}: {message}")]
    Status { code: u16, message: String },
    #[error("the Kubernetes API is unreachable: {0}")]
    Unreachable(String),
    #[error("the Kubernetes API's answer is unreadable: {0}")]
    Malformed(String),
    #[error("{0}")]
    Setup(String),
}

/// An API client for one cluster and one token.
#[derive(Clone, Debug)]
pub struct KubeClient {
    http: reqwest::Client,
    base: String,
    token: String,
}

/// The TLS configuration trusting exactly the CA in `ca_pem`.
fn tls_config(ca_pem: &[u8]) -> Result<rustls::ClientConfig, KubeError> {
    use rustls::pki_types::{pem::PemObject, CertificateDer};
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem) {
        let cert = cert.map_err(|e| KubeError::Setup(format!("the cluster CA is not PEM: {e}")))?;
        roots.add(cert).map_err(|e| KubeError::Setup(format!("the cluster CA is not usable: {e}")))?;
    }
    if roots.is_empty() {
        return Err(KubeError::Setup("the cluster CA holds no certificate".into()));
    }
    crate::tls::client_config(roots).map_err(|e| KubeError::Setup(e.to_string()))
}

impl KubeClient {
    pub fn new(endpoint: &Endpoint, token: String, timeout: Duration) -> Result<KubeClient, KubeError> {
        if !endpoint.url.starts_with("https://") {
            return Err(KubeError::Setup(format!("the Kubernetes endpoint {:?} is not https", endpoint.url)));
        }
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(tls_config(&endpoint.ca_pem)?)
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| KubeError::Setup(e.to_string()))?;
        Ok(KubeClient { http, base: endpoint.url.clone(), token })
    }

    /// One GET; `Ok(None)` for 404.
    async fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<Option<serde_json::Value>, KubeError> {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .query(query)
            .bearer_auth(&self.token)
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|e| KubeError::Unreachable(error_chain(&e)))?;
        let code = response.status().as_u16();
        let body = response.bytes().await.map_err(|e| KubeError::Unreachable(error_chain(&e)))?;
        let json: Option<serde_json::Value> = serde_json::from_slice(&body).ok();
        let message = || {
            json.as_ref()
                .and_then(|j| j["message"].as_str())
                .map(|m| eks_access_doctor_core::escape::truncate(&eks_access_doctor_core::escape::inline(m), 300))
                .unwrap_or_else(|| format!("{} bytes of non-Status body", body.len()))
        };
        match code {
            200 => json.map(Some).ok_or_else(|| KubeError::Malformed(format!("GET {path}: not JSON"))),
            401 => Err(KubeError::Unauthorized),
            403 => Err(KubeError::Forbidden(message())),
            404 => Ok(None),
            _ => Err(KubeError::Status { code, message: message() }),
        }
    }

    /// Every item of a list, following `continue`.
    async fn list(&self, path: &str) -> Result<Vec<serde_json::Value>, KubeError> {
        let mut items = Vec::new();
        let mut token = String::new();
        let limit = PAGE_LIMIT.to_string();
        for _ in 0..MAX_PAGES {
            let mut query = vec![("limit", limit.as_str())];
            if !token.is_empty() {
                query.push(("continue", token.as_str()));
            }
            let page =
                self.get(path, &query).await?.ok_or_else(|| KubeError::Status { code: 404, message: format!("{path} not found") })?;
            match page["items"].as_array() {
                Some(page_items) => items.extend(page_items.iter().cloned()),
                None if page["items"].is_null() => {}
                None => return Err(KubeError::Malformed(format!("GET {path}: items is not a list"))),
            }
            token = page["metadata"]["continue"].as_str().unwrap_or_default().to_string();
            if token.is_empty() {
                return Ok(items);
            }
        }
        Err(KubeError::Malformed(format!("GET {path}: more than {MAX_PAGES} pages")))
    }

    /// Every RoleBinding (all namespaces) and ClusterRoleBinding.
    pub async fn bindings(&self) -> Result<Vec<Binding>, KubeError> {
        let mut bindings = Vec::new();
        for (kind, path) in [
            ("ClusterRoleBinding", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings"),
            ("RoleBinding", "/apis/rbac.authorization.k8s.io/v1/rolebindings"),
        ] {
            let items = self.list(path).await?;
            bindings.extend(items.iter().filter_map(|item| Binding::from_item(kind, item)));
        }
        Ok(bindings)
    }

    /// Every Role (all namespaces) and ClusterRole, their rules as stored.
    pub async fn roles(&self) -> Result<Vec<RbacRole>, KubeError> {
        let mut roles = Vec::new();
        for (kind, path) in
            [("ClusterRole", "/apis/rbac.authorization.k8s.io/v1/clusterroles"), ("Role", "/apis/rbac.authorization.k8s.io/v1/roles")]
        {
            let items = self.list(path).await?;
            roles.extend(items.iter().filter_map(|item| RbacRole::from_item(kind, item)));
        }
        Ok(roles)
    }

    /// The `kube-system/aws-auth` ConfigMap; `None` when the cluster has none.
    pub async fn aws_auth(&self) -> Result<Option<AwsAuth>, KubeError> {
        Ok(self.get("/api/v1/namespaces/kube-system/configmaps/aws-auth", &[]).await?.map(|cm| AwsAuth::from_config_map(&cm)))
    }
}

/// An error and its causes on one line (reqwest's own message is only the outermost).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    eks_access_doctor_core::escape::truncate(&eks_access_doctor_core::escape::inline(&text), 300)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ca_must_be_pem() {
        assert!(matches!(Endpoint::from_describe_cluster("https://x", "%%%"), Err(KubeError::Setup(_))));
        let endpoint = Endpoint::from_describe_cluster("https://x/", &base64::engine::general_purpose::STANDARD.encode("not pem")).unwrap();
        assert_eq!(endpoint.url, "https://x");
        assert!(
            matches!(KubeClient::new(&endpoint, "t".into(), Duration::from_secs(1)), Err(KubeError::Setup(m)) if m.contains("no certificate"))
        );
        let plain = Endpoint { url: "http://127.0.0.1:1".into(), ca_pem: Vec::new() };
        assert!(matches!(KubeClient::new(&plain, "t".into(), Duration::from_secs(1)), Err(KubeError::Setup(m)) if m.contains("not https")));
    }
}
