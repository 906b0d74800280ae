//! The EKS authenticator's log: the evidence for `kubectl … (Unauthorized)`, which no
//! CloudTrail call records. EKS writes it to the log group `/aws/eks/CLUSTER/cluster`,
//! streams `authenticator-…`, when the cluster's `authenticator` log type is on.
//!
//! The lines come from aws-iam-authenticator through logrus' text formatter:
//! `time="…" level=warning msg="access denied" arn="…" client="127.0.0.1:…" error="…"
//! method=POST path=/authenticate`. The remaining keys are sorted, a value is bare
//! when it is made of `[A-Za-z0-9-._/@^+]` and a Go `%q` string otherwise; EKS builds
//! have added and renamed keys over the years (`sts`, `stsendpoint`), so keys are read
//! in any order and unknown ones are kept. Real lines and their sources are in
//! `events/authenticator/SOURCES.md`.

/// One parsed log line: logrus' three fixed keys, then every other key in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogLine {
    pub time: Option<String>,
    pub level: Option<String>,
    pub msg: Option<String>,
    pub fields: Vec<(String, String)>,
}

impl LogLine {
    pub fn field(&self, key: &str) -> Option<&str> {
        self.fields.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// Why a line could not be read as logrus `key=value` text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    #[error("not an authenticator log line (no time= or level= key)")]
    NotLogfmt,
    #[error("unterminated quoted value for key {0:?}")]
    Unterminated(String),
    #[error("invalid escape in the value of key {0:?}")]
    BadEscape(String),
}

/// Longest line read: the authenticator's lines are a few hundred bytes, and an STS
/// error body a few more; anything longer is not one of them.
pub const MAX_LINE: usize = 64 * 1024;

/// Reads one line. A prefix before the first `time=` or `level=` key (the console's
/// timestamp column, a pod name from `kubectl logs`) is skipped.
pub fn parse_line(line: &str) -> Result<LogLine, LineError> {
    let line = line.trim_end_matches(['\n', '\r']);
    if line.len() > MAX_LINE {
        return Err(LineError::NotLogfmt);
    }
    let start = ["time=", "level="].iter().filter_map(|key| find_key(line, key)).min().ok_or(LineError::NotLogfmt)?;
    let mut parsed = LogLine::default();
    let mut rest = &line[start..];
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            break;
        }
        let Some(eq) = rest.find('=') else { break };
        let key = &rest[..eq];
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b)) {
            // Not a key: the rest is free text logrus never writes; stop here.
            break;
        }
        let (value, after) = read_value(key, &rest[eq + 1..])?;
        match key {
            "time" => parsed.time = Some(value),
            "level" => parsed.level = Some(value),
            "msg" => parsed.msg = Some(value),
            _ => parsed.fields.push((key.to_string(), value)),
        }
        rest = after;
    }
    Ok(parsed)
}

/// Where `key` starts as a key: at the start of the line or after white space.
fn find_key(line: &str, key: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(at) = line[from..].find(key) {
        let at = from + at;
        if at == 0 || line[..at].ends_with(char::is_whitespace) {
            return Some(at);
        }
        from = at + key.len();
    }
    None
}

/// A bare value up to white space, or a Go `%q` string.
fn read_value<'a>(key: &str, text: &'a str) -> Result<(String, &'a str), LineError> {
    let Some(quoted) = text.strip_prefix('"') else {
        let end = text.find(char::is_whitespace).unwrap_or(text.len());
        return Ok((text[..end].to_string(), &text[end..]));
    };
    let mut value = String::new();
    let mut chars = quoted.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((value, &quoted[i + 1..])),
            '\\' => {
                let bad = || LineError::BadEscape(key.to_string());
                let (_, escape) = chars.next().ok_or_else(bad)?;
                let mut hex = |digits: usize| -> Result<u32, LineError> {
                    let text: String = (0..digits).filter_map(|_| chars.next().map(|(_, c)| c)).collect();
                    if text.len() != digits {
                        return Err(bad());
                    }
                    u32::from_str_radix(&text, 16).map_err(|_| bad())
                };
                match escape {
                    '"' | '\\' | '\'' => value.push(escape),
                    'n' => value.push('\n'),
                    'r' => value.push('\r'),
                    't' => value.push('\t'),
                    'a' => value.push('\u{7}'),
                    'b' => value.push('\u{8}'),
                    'f' => value.push('\u{c}'),
                    'v' => value.push('\u{b}'),
                    // Go writes invalid UTF-8 bytes as \xNN: shown as the replacement character.
                    'x' => value.push(char::from_u32(hex(2)?).filter(char::is_ascii).unwrap_or('\u{FFFD}')),
                    'u' => value.push(char::from_u32(hex(4)?).unwrap_or('\u{FFFD}')),
                    'U' => value.push(char::from_u32(hex(8)?).unwrap_or('\u{FFFD}')),
                    _ => return Err(bad()),
                }
            }
            c => value.push(c),
        }
    }
    Err(LineError::Unterminated(key.to_string()))
}

/// What an authenticator line says about one authentication attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attempt {
    pub time: String,
    pub granted: bool,
    /// The canonical ARN STS returned (roles without their path); absent when the
    /// token failed before or at STS.
    pub arn: Option<String>,
    /// The authenticator's error, on a denial.
    pub error: Option<String>,
    pub username: Option<String>,
    pub groups: Vec<String>,
    /// `aws-iam-authenticator:ACCOUNT:USERID` (or `heptio-authenticator-aws:…`).
    pub uid: Option<String>,
}

/// Why a line is not an authentication attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotAttempt {
    /// Another message of the authenticator (`STS response`, mapper start-up, …).
    OtherMessage(String),
}

impl Attempt {
    /// The attempt a line records; other authenticator messages are not attempts.
    pub fn from_line(line: &LogLine) -> Result<Attempt, NotAttempt> {
        let msg = line.msg.as_deref().unwrap_or_default();
        let granted = match msg {
            m if m.eq_ignore_ascii_case("access granted") => true,
            m if m.eq_ignore_ascii_case("access denied") => false,
            other => return Err(NotAttempt::OtherMessage(other.to_string())),
        };
        let owned = |key: &str| line.field(key).filter(|v| !v.is_empty()).map(str::to_string);
        Ok(Attempt {
            time: line.time.clone().unwrap_or_default(),
            granted,
            arn: owned("arn"),
            error: owned("error"),
            username: owned("username"),
            groups: line.field("groups").map(parse_groups).unwrap_or_default(),
            uid: owned("uid"),
        })
    }
}

/// Groups a granted line names that are checked against the cluster's bindings, at most.
pub const MAX_CHECKED_GROUPS: usize = 100;

impl Attempt {
    /// The groups of a granted attempt that a RoleBinding or ClusterRoleBinding must
    /// name to mean anything: every group but Kubernetes' own `system:` groups
    /// (`system:masters`, `system:nodes`, `system:bootstrappers`, …), which the API
    /// server, the Node authorizer and the default bindings serve. Empty for a denial.
    pub fn checkable_groups(&self) -> Vec<&str> {
        if !self.granted {
            return Vec::new();
        }
        self.groups.iter().map(String::as_str).filter(|g| !g.starts_with("system:")).take(MAX_CHECKED_GROUPS).collect()
    }
}

/// `[a b]`, as Go prints a `[]string` (`%v`: names joined by one space, so a name
/// with white space in it reads as several; the cause joins them again against the
/// bound names).
fn parse_groups(text: &str) -> Vec<String> {
    let inner = text.trim().trim_start_matches('[').trim_end_matches(']');
    inner.split_whitespace().map(str::to_string).collect()
}

/// The cluster a log group belongs to: `/aws/eks/CLUSTER/cluster`.
pub fn cluster_of_log_group(group: &str) -> Option<&str> {
    group.strip_prefix("/aws/eks/")?.strip_suffix("/cluster").filter(|c| !c.is_empty() && !c.contains('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DENIED: &str = r#"time="2022-12-28T15:37:19Z" level=warning msg="access denied" arn="arn:aws:iam::111122223333:role/admin-test-role" client="127.0.0.1:33384" error="ARN is not mapped" method=POST path=/authenticate"#;

    #[test]
    fn reads_logrus_text() {
        let line = parse_line(DENIED).unwrap();
        assert_eq!(line.time.as_deref(), Some("2022-12-28T15:37:19Z"));
        assert_eq!(line.level.as_deref(), Some("warning"));
        assert_eq!(line.msg.as_deref(), Some("access denied"));
        assert_eq!(line.field("error"), Some("ARN is not mapped"));
        assert_eq!(line.field("method"), Some("POST"));
        assert_eq!(line.field("path"), Some("/authenticate"));
        let attempt = Attempt::from_line(&line).unwrap();
        assert!(!attempt.granted);
        assert_eq!(attempt.arn.as_deref(), Some("arn:aws:iam::111122223333:role/admin-test-role"));
    }

    #[test]
    fn reads_go_quoted_values_with_escapes() {
        let text = r#"time="t" level=warning msg="access denied" client="127.0.0.1:43440" error="sts getCallerIdentity failed: error from AWS (expected 200, got 403). Body: {\"Error\":{\"Code\":\"InvalidClientTokenId\"}}\n\u00e9\x41" method=POST"#;
        let line = parse_line(text).unwrap();
        assert_eq!(
            line.field("error"),
            Some("sts getCallerIdentity failed: error from AWS (expected 200, got 403). Body: {\"Error\":{\"Code\":\"InvalidClientTokenId\"}}\né\u{41}")
        );
        assert_eq!(line.field("method"), Some("POST"));
    }

    #[test]
    fn skips_a_prefix_and_keeps_unknown_keys_in_any_order() {
        let text = r#"2023-11-11T11:11:11.111-08:00 level=info time="2021-08-11T10:09:43Z" msg="access granted" sts=sts.eu-west-1.amazonaws.com arn="arn:aws:iam::1:user/awscli" groups="[system:masters other]" uid="heptio-authenticator-aws:1:ABC" username=kubernetes-admin"#;
        let line = parse_line(text).unwrap();
        assert_eq!(line.field("sts"), Some("sts.eu-west-1.amazonaws.com"));
        let attempt = Attempt::from_line(&line).unwrap();
        assert!(attempt.granted);
        assert_eq!(attempt.groups, ["system:masters", "other"]);
        assert_eq!(attempt.username.as_deref(), Some("kubernetes-admin"));
        assert_eq!(parse_groups("[]"), Vec::<String>::new());
    }

    #[test]
    fn refuses_what_is_not_logrus() {
        assert_eq!(parse_line("hello world"), Err(LineError::NotLogfmt));
        assert_eq!(parse_line(r#"time="2022 level=warning"#), Err(LineError::Unterminated("time".into())));
        assert_eq!(parse_line(r#"time="a\q""#), Err(LineError::BadEscape("time".into())));
        assert_eq!(parse_line(r#"time="a\u12""#), Err(LineError::BadEscape("time".into())));
        assert_eq!(parse_line(&format!("time=\"{}\"", "x".repeat(MAX_LINE))), Err(LineError::NotLogfmt));
        let other = parse_line(r#"time="t" level=info msg="STS response" accountid=1"#).unwrap();
        assert_eq!(Attempt::from_line(&other), Err(NotAttempt::OtherMessage("STS response".into())));
    }

    /// The shape upstream's `server.go` logs on success (`log.WithFields(username, uid,
    /// groups, stsendpoint).Info("access granted")` after `arn`, `client`, `method`,
    /// `path`), keys sorted by logrus.
    const GRANTED: &str = r#"time="2026-11-29T09:12:44Z" level=info msg="access granted" arn="arn:aws:iam::111122223333:role/platform-admin" client="127.0.0.1:51880" groups="[platform-admin system:authenticated]" method=POST path=/authenticate stsendpoint=sts.eu-west-1.amazonaws.com uid="aws-iam-authenticator:111122223333:AROARZ3KX7QJ5PLM2TD4N" username=platform-admin"#;

    #[test]
    fn reads_granted_lines_and_their_groups() {
        let attempt = Attempt::from_line(&parse_line(GRANTED).unwrap()).unwrap();
        assert!(attempt.granted);
        assert_eq!(attempt.arn.as_deref(), Some("arn:aws:iam::111122223333:role/platform-admin"));
        assert_eq!(attempt.username.as_deref(), Some("platform-admin"));
        assert_eq!(attempt.groups, ["platform-admin", "system:authenticated"]);
        assert_eq!(attempt.checkable_groups(), ["platform-admin"]);
        assert_eq!(attempt.uid.as_deref(), Some("aws-iam-authenticator:111122223333:AROARZ3KX7QJ5PLM2TD4N"));
        // A node: only Kubernetes' own groups, nothing to check.
        let node = GRANTED.replace("[platform-admin system:authenticated]", "[system:bootstrappers system:nodes]");
        assert!(Attempt::from_line(&parse_line(&node).unwrap()).unwrap().checkable_groups().is_empty());
        let none = GRANTED.replace("[platform-admin system:authenticated]", "[]");
        assert!(Attempt::from_line(&parse_line(&none).unwrap()).unwrap().checkable_groups().is_empty());
        // A denial has no groups to check, whatever it carries.
        let denied = Attempt::from_line(&parse_line(DENIED).unwrap()).unwrap();
        assert!(denied.checkable_groups().is_empty());
    }

    #[test]
    fn hostile_groups_stay_bounded_and_literal() {
        // Quotes, escapes, control characters and look-alike letters: read as written.
        let text = r#"time="t" level=info msg="access granted" arn="arn:aws:iam::1:role/r" groups="[\"$(id)\" `x` \u0440eadonly a\tb]" username=u"#;
        let attempt = Attempt::from_line(&parse_line(text).unwrap()).unwrap();
        assert_eq!(attempt.groups, ["\"$(id)\"", "`x`", "\u{440}eadonly", "a", "b"]);
        // Thousands of groups: at most MAX_CHECKED_GROUPS are checked.
        let many: Vec<String> = (0..5000).map(|i| format!("g{i}")).collect();
        let text = format!(r#"time="t" level=info msg="access granted" arn="a" groups="[{}]""#, many.join(" "));
        let attempt = Attempt::from_line(&parse_line(&text).unwrap()).unwrap();
        assert_eq!(attempt.groups.len(), 5000);
        assert_eq!(attempt.checkable_groups().len(), MAX_CHECKED_GROUPS);
        // No groups key at all (older builds log none on some paths).
        let bare = Attempt::from_line(&parse_line(r#"time="t" level=info msg="access granted" arn="a""#).unwrap()).unwrap();
        assert!(bare.groups.is_empty());
    }

    #[test]
    fn finds_the_cluster_in_its_log_group() {
        assert_eq!(cluster_of_log_group("/aws/eks/prod-eu/cluster"), Some("prod-eu"));
        assert_eq!(cluster_of_log_group("/aws/lambda/x"), None);
        assert_eq!(cluster_of_log_group("/aws/eks//cluster"), None);
    }
}
