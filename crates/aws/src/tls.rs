//! One TLS stack for the HTTPS the function speaks itself (Slack, the Kubernetes API):
//! rustls on aws-lc-rs, the provider the AWS SDK already links, so the binary carries
//! one set of ciphers rather than two (reqwest's default would add ring).

use rustls::{ClientConfig, RootCertStore};
use std::sync::Arc;

/// A client configuration trusting exactly `roots`.
pub fn client_config(roots: RootCertStore) -> Result<ClientConfig, rustls::Error> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    Ok(ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// The public web's roots (Mozilla's, compiled in: no file to read at cold start).
pub fn public_roots() -> RootCertStore {
    RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() }
}
