//! `eks-access-doctor`: replay saved CloudTrail events and list the catalogue, with
//! no AWS account needed.

#![forbid(unsafe_code)]

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{Parser, Subcommand, ValueEnum};
#[cfg(feature = "aws")]
use eks_access_doctor_aws::lookup;
use eks_access_doctor_core::catalogue;
use eks_access_doctor_core::finding::Severity;
use eks_access_doctor_core::replay::{self, Format, Options};
use std::io::IsTerminal;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "eks-access-doctor", version, about = "Explains failed or risky Amazon EKS access-management calls and how to fix them")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Diagnose saved events: EventBridge events, CloudTrail records or log files
    /// (.json or .json.gz), lookup-events, CloudWatch Logs and CloudTrail Lake output,
    /// NDJSON, directories (recursively), `s3://bucket/prefix` or `-` for stdin.
    Replay {
        /// Files, directories or s3://bucket/prefix; none or `-` reads standard input.
        paths: Vec<String>,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Read CloudTrail's event history (LookupEvents: the last 90 days, no trail or
    /// deployment needed) for EKS calls with your AWS credentials, and diagnose them.
    #[cfg(feature = "aws")]
    Lookup {
        /// How far back: 30m, 12h, 7d (at most 90d).
        #[arg(long, default_value = "24h", value_parser = lookup::parse_since)]
        since: std::time::Duration,
        /// A region to read (repeat for several); default: the region of your AWS configuration.
        #[arg(long = "region")]
        regions: Vec<String>,
        /// Look up live facts (cluster authentication mode, access entries, IAM
        /// principals) with your credentials, as the deployed function does.
        #[arg(long)]
        live_facts: bool,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Before moving a cluster to authentication mode API: every aws-auth mapping
    /// with no equivalent access entry (who would lose access), and the commands that
    /// create the entries. Reads the cluster's Kubernetes API with your AWS
    /// credentials (no kubeconfig). Exit 0: nobody loses access; 1: someone would;
    /// 3: the check could not be made.
    #[cfg(feature = "aws")]
    Preflight {
        #[command(flatten)]
        cluster: kube_cli::ClusterArgs,
        #[arg(long, default_value = "text", value_parser = formats(&[Format::Text, Format::Json]))]
        format: Format,
    },
    /// Check the Kubernetes groups of access entries against the cluster's
    /// RoleBindings and ClusterRoleBindings (every entry, or those of --principal).
    /// Exit 0: every group is bound; 1: some group is not; 3: the check could not be made.
    #[cfg(feature = "aws")]
    CheckGroups {
        #[command(flatten)]
        cluster: kube_cli::ClusterArgs,
        /// An access entry's principal ARN (repeat for several); default: every entry.
        #[arg(long = "principal", conflicts_with = "reverse")]
        principals: Vec<String>,
        /// The other way round: every Group subject of every binding, with what produces
        /// it (access entries, aws-auth in a mode that reads it, Kubernetes and EKS,
        /// groups seen in --log); flags the dead ones and those that die in API mode.
        #[arg(long)]
        reverse: bool,
        /// With --reverse: an authenticator log whose `access granted` groups count as
        /// produced (repeat for several): `aws logs filter-log-events` output for the
        /// cluster's log group `/aws/eks/CLUSTER/cluster` (streams `authenticator-`), JSON
        /// lines with `message`, or plain lines.
        #[arg(long = "log", requires = "reverse")]
        logs: Vec<std::path::PathBuf>,
        #[arg(long, default_value = "text", value_parser = formats(&[Format::Text, Format::Json]))]
        format: Format,
    },
    /// Who can reach a cluster, and with what: every access entry (type, username,
    /// groups, access policies and scopes), aws-auth (when the mode reads it), the RBAC
    /// bindings and roles, and each principal in IAM; per principal its reach and flags.
    /// Exit 0: nothing flagged; 1: something is; 3: the audit could not be made.
    #[cfg(feature = "aws")]
    Audit {
        #[command(flatten)]
        selection: picture_cli::Selection,
        #[arg(long, value_enum, default_value = "text")]
        format: picture_cli::AuditFormat,
    },
    /// What a pasted error means: the causes that match an error as a terminal or the
    /// console printed it (the AWS CLI, terraform, eksctl, CDK, kubectl, the EKS console, a
    /// pod's SDK), and what each would need to be sure. No text, or `-`, reads standard
    /// input. Exit 0: some cause matches; 1: none does.
    ///
    /// With --cluster: may --principal make this request on the cluster, by which access
    /// policy or binding, and when not, the smallest fix. Exit 0: allowed; 1: denied;
    /// 3: the check could not be made; 4: cannot tell (an associated access policy
    /// whose permissions AWS does not publish).
    Explain {
        /// The error text (quote it; several words are joined with spaces).
        #[cfg_attr(feature = "aws", arg(conflicts_with = "cluster"))]
        text: Vec<String>,
        #[cfg(feature = "aws")]
        #[command(flatten)]
        request: picture_cli::RequestArgs,
        #[arg(long, default_value = "text", value_parser = formats(&[Format::Text, Format::Json]))]
        format: Format,
    },
    /// List the catalogue of causes: id, severity, title, documentation.
    Causes {
        #[arg(long, default_value = "text", value_parser = formats(&[Format::Text, Format::Json, Format::Markdown]))]
        format: Format,
    },
}

/// How findings are printed: the same for every command that diagnoses.
#[derive(clap::Args)]
struct OutputArgs {
    #[arg(long, default_value = "text", value_parser = formats(&Format::ALL.map(|(format, ..)| format)))]
    format: Format,
    /// Hide findings below this severity.
    #[arg(long, default_value = "info", value_parser = parse_severity)]
    min_severity: Severity,
    /// Print only events that have findings.
    #[arg(long)]
    only_findings: bool,
    /// Colour in text output.
    #[arg(long, value_enum, default_value = "auto")]
    color: ColorArg,
    /// Do not print the summary (to stderr) at the end.
    #[arg(long)]
    no_summary: bool,
}

impl OutputArgs {
    fn options(&self) -> Options {
        let color = match self.color {
            ColorArg::Always => true,
            ColorArg::Never => false,
            ColorArg::Auto => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        };
        Options { format: self.format, min_severity: self.min_severity, only_findings: self.only_findings, color }
    }
}

/// The `--format` values a command admits, from the one list of formats.
fn formats(admitted: &[Format]) -> impl clap::builder::TypedValueParser<Value = Format> {
    let values: Vec<PossibleValue> = admitted.iter().map(|f| PossibleValue::new(f.name()).help(f.about())).collect();
    // The parser lets through only the names above, each of which parses.
    PossibleValuesParser::new(values).map(|name| name.parse().unwrap_or(Format::Text))
}

#[derive(Clone, Copy, ValueEnum)]
enum ColorArg {
    Auto,
    Always,
    Never,
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    s.parse()
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Replay { paths, output } => run_replay(&paths, output.options(), !output.no_summary),
        #[cfg(feature = "aws")]
        Command::Lookup { since, regions, live_facts, output } => {
            pull::run(pull::Request { since, regions, live_facts }, output.options(), !output.no_summary)
        }
        #[cfg(feature = "aws")]
        Command::Preflight { cluster, format } => kube_cli::preflight(cluster, format),
        #[cfg(feature = "aws")]
        Command::CheckGroups { cluster, reverse: true, logs, format, .. } => picture_cli::reverse(cluster, &logs, format),
        #[cfg(feature = "aws")]
        Command::CheckGroups { cluster, principals, format, .. } => kube_cli::check_groups(cluster, &principals, format),
        #[cfg(feature = "aws")]
        Command::Audit { selection, format } => picture_cli::audit(selection, format),
        #[cfg(feature = "aws")]
        Command::Explain { request, format, .. } if request.cluster.is_some() => picture_cli::explain(request, format),
        #[cfg(feature = "aws")]
        Command::Explain { text, format, .. } => run_explain(&text, format),
        #[cfg(not(feature = "aws"))]
        Command::Explain { text, format } => run_explain(&text, format),
        Command::Causes { format } => {
            print!("{}", causes(format));
            ExitCode::SUCCESS
        }
    }
}

/// The most of standard input `explain` reads: an error, not a log.
const PASTE_LIMIT: u64 = 1 << 20;

fn run_explain(words: &[String], format: Format) -> ExitCode {
    let text = if words.is_empty() || words == ["-"] {
        let mut text = String::new();
        let read = std::io::Read::read_to_string(&mut std::io::Read::take(std::io::stdin(), PASTE_LIMIT + 1), &mut text);
        match read {
            Ok(n) if n as u64 > PASTE_LIMIT => return usage_error("the pasted text is over 1 MiB: paste the error, not the whole log"),
            Ok(_) => text,
            Err(e) => return usage_error(&format!("standard input is not readable text: {e}")),
        }
    } else {
        words.join(" ")
    };
    let explained = eks_access_doctor_core::pasted::explain(&text);
    match format {
        Format::Json => println!("{}", serde_json::to_string(&explained).unwrap_or_default()),
        _ => print!("{}", eks_access_doctor_core::pasted::render_text(&explained)),
    }
    if explained.matches.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

#[cfg(feature = "aws")]
mod kube_cli {
    //! `preflight` and `check-groups`: the Kubernetes-side checks with the caller's
    //! own credentials, the token built as the function builds it.

    use super::{print_json, pull::aws_config, runtime, usage_error};
    use eks_access_doctor_aws::kubernetes::client::Endpoint;
    use eks_access_doctor_aws::kubernetes::{checks, ApiReads};
    use eks_access_doctor_core::kubernetes::report;
    use eks_access_doctor_core::replay::Format;
    use std::process::ExitCode;
    use std::time::Duration;

    /// Each Kubernetes API request's limit.
    const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
    /// Exit status when the check could not be made (reads denied, cluster unreachable).
    const NOT_CHECKED: u8 = 3;

    #[derive(clap::Args)]
    pub struct ClusterArgs {
        /// The EKS cluster's name.
        #[arg(long)]
        cluster: String,
        /// The cluster's region (default: your configuration's).
        #[arg(long)]
        region: Option<String>,
        /// Reach the API server here instead of at DescribeCluster's endpoint (a
        /// proxy, a tunnel, a test server); needs --kubernetes-ca.
        #[arg(long, requires = "kubernetes_ca")]
        kubernetes_endpoint: Option<String>,
        /// The PEM file of the CA that signs --kubernetes-endpoint's certificate.
        #[arg(long, requires = "kubernetes_endpoint")]
        kubernetes_ca: Option<std::path::PathBuf>,
    }

    impl ClusterArgs {
        pub fn new(
            cluster: String,
            region: Option<String>,
            kubernetes_endpoint: Option<String>,
            kubernetes_ca: Option<std::path::PathBuf>,
        ) -> ClusterArgs {
            ClusterArgs { cluster, region, kubernetes_endpoint, kubernetes_ca }
        }

        pub fn name(&self) -> &str {
            &self.cluster
        }
    }

    /// The reads, the region and the cluster; `Err` is a usage error.
    pub async fn reads(args: &ClusterArgs) -> Result<(ApiReads, String), String> {
        let config = aws_config(args.region.clone()).await;
        let region = config.region().map(|r| r.to_string()).ok_or("no region: pass --region or set AWS_REGION")?;
        let credentials = config.credentials_provider().ok_or("no AWS credentials configured")?;
        let endpoint_override = match (&args.kubernetes_endpoint, &args.kubernetes_ca) {
            (Some(url), Some(ca)) => {
                let ca_pem = std::fs::read(ca).map_err(|e| format!("{}: {e}", ca.display()))?;
                Some(Endpoint { url: url.trim_end_matches('/').to_string(), ca_pem })
            }
            _ => None,
        };
        let reads = ApiReads {
            eks: aws_sdk_eks::Client::new(&config),
            iam: aws_sdk_iam::Client::new(&config),
            credentials,
            endpoint_override,
            timeout: REQUEST_TIMEOUT,
        };
        Ok((reads, region))
    }

    /// Runs `check` with the cluster's API reads (and the region) on a runtime; what
    /// cannot be set up is a usage error.
    pub fn with_reads<F: std::future::Future<Output = ExitCode>>(
        args: &ClusterArgs,
        check: impl FnOnce(ApiReads, String) -> F,
    ) -> ExitCode {
        let runtime = match runtime() {
            Ok(runtime) => runtime,
            Err(e) => return usage_error(&e),
        };
        runtime.block_on(async {
            match reads(args).await {
                Ok((reads, region)) => check(reads, region).await,
                Err(e) => usage_error(&e),
            }
        })
    }

    pub fn preflight(args: ClusterArgs, format: Format) -> ExitCode {
        let args = &args;
        with_reads(args, |reads, region| async move {
            match checks::preflight(&reads, &region, &args.cluster).await {
                Ok(preflight) => {
                    match format {
                        Format::Json => print_json(&preflight),
                        _ => print!("{}", report::preflight_text(&preflight)),
                    }
                    verdict(preflight.migration.loses_access())
                }
                Err(why) => not_checked(&args.cluster, why),
            }
        })
    }

    /// Exit 1 when the check found a problem, 0 when it found none.
    fn verdict(problem: bool) -> ExitCode {
        if problem {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        }
    }

    fn not_checked(cluster: &str, why: impl std::fmt::Display) -> ExitCode {
        eprintln!("error: could not check cluster {cluster}: {why}");
        ExitCode::from(NOT_CHECKED)
    }

    pub fn check_groups(args: ClusterArgs, principals: &[String], format: Format) -> ExitCode {
        let args = &args;
        with_reads(args, |reads, region| async move {
            match checks::check_groups(&reads, &region, &args.cluster, principals).await {
                Ok((entries, bindings)) => {
                    match format {
                        Format::Json => {
                            print_json(&serde_json::json!({"cluster": args.cluster, "bindings": bindings.len(), "entries": entries}))
                        }
                        _ => print!("{}", report::groups_text(&args.cluster, &entries, bindings.len())),
                    }
                    verdict(entries.iter().any(|e| e.unbound() > 0))
                }
                Err(why) => not_checked(&args.cluster, why),
            }
        })
    }
}

#[cfg(feature = "aws")]
mod picture_cli {
    //! `audit`, `explain --cluster` and `check-groups --reverse`: the whole access picture
    //! of a cluster, read with the caller's own credentials (read-only).

    use super::kube_cli::{with_reads, ClusterArgs};
    use super::{print_json, runtime, usage_error};
    use eks_access_doctor_aws::kubernetes::picture::{read_state, Progress};
    use eks_access_doctor_aws::kubernetes::ApiReads;
    use eks_access_doctor_core::kubernetes::audit::{self, Audit};
    use eks_access_doctor_core::kubernetes::authz::Request;
    use eks_access_doctor_core::kubernetes::picture::{explain as explain_request, explanation_text};
    use eks_access_doctor_core::kubernetes::reverse::{self, Fate};
    use eks_access_doctor_core::replay::Format;
    use std::io::IsTerminal;
    use std::process::ExitCode;
    use std::sync::Arc;

    /// Exit status when the check could not be made.
    const NOT_CHECKED: u8 = 3;
    /// `explain --cluster`: AWS does not publish an associated policy's permissions (2 is
    /// a usage error, as clap exits).
    const CANNOT_TELL: u8 = 4;

    #[derive(Clone, Copy, clap::ValueEnum)]
    pub enum AuditFormat {
        Text,
        Json,
        Markdown,
        /// SARIF 2.1.0, for code-scanning dashboards.
        Sarif,
    }

    /// Which clusters: one, or every cluster of the regions given.
    #[derive(clap::Args)]
    pub struct Selection {
        /// The cluster's name.
        #[arg(long, conflicts_with = "all_clusters", required_unless_present = "all_clusters")]
        cluster: Option<String>,
        /// Every cluster of each --region (ListClusters).
        #[arg(long)]
        all_clusters: bool,
        /// The region (repeat with --all-clusters; default: your configuration's).
        #[arg(long = "region")]
        regions: Vec<String>,
        /// Reach the API server here instead of at DescribeCluster's endpoint (one cluster only).
        #[arg(long, requires = "kubernetes_ca", conflicts_with = "all_clusters")]
        kubernetes_endpoint: Option<String>,
        /// The PEM file of the CA that signs --kubernetes-endpoint's certificate.
        #[arg(long, requires = "kubernetes_endpoint")]
        kubernetes_ca: Option<std::path::PathBuf>,
    }

    /// `explain --cluster NAME --principal ARN --verb VERB --resource RESOURCE`.
    #[derive(clap::Args)]
    pub struct RequestArgs {
        /// The cluster to ask about (instead of a pasted error).
        #[arg(long, requires_all = ["principal", "verb", "resource"])]
        pub cluster: Option<String>,
        /// The IAM role or user ARN (a role session's ARN is its role).
        #[arg(long, requires = "cluster")]
        principal: Option<String>,
        /// get, list, watch, create, update, patch, delete, deletecollection, …
        #[arg(long, requires = "cluster")]
        verb: Option<String>,
        /// As kubectl writes it: secrets, deployments.apps, pods/log.
        #[arg(long, requires = "cluster")]
        resource: Option<String>,
        /// The namespace (none: cluster-scoped, or every namespace).
        #[arg(long, short = 'n', requires = "cluster")]
        namespace: Option<String>,
        /// One object's name (rules with resourceNames match only named requests).
        #[arg(long, requires = "cluster")]
        name: Option<String>,
        /// The cluster's region (default: your configuration's).
        #[arg(long, requires = "cluster")]
        region: Option<String>,
        /// Reach the API server here instead of at DescribeCluster's endpoint; needs --kubernetes-ca.
        #[arg(long, requires_all = ["kubernetes_ca", "cluster"])]
        kubernetes_endpoint: Option<String>,
        /// The PEM file of the CA that signs --kubernetes-endpoint's certificate.
        #[arg(long, requires = "kubernetes_endpoint")]
        kubernetes_ca: Option<std::path::PathBuf>,
    }

    fn progress_bar() -> Option<Progress> {
        if !std::io::stderr().is_terminal() {
            return None;
        }
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{msg} {bar:30} {pos}/{len} entries")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar.set_message("reading access entries");
        Some(Arc::new(move |done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
            if done == total {
                bar.finish_and_clear();
            }
        }))
    }

    pub fn explain(args: RequestArgs, format: Format) -> ExitCode {
        let cluster = ClusterArgs::new(
            args.cluster.clone().unwrap_or_default(),
            args.region.clone(),
            args.kubernetes_endpoint.clone(),
            args.kubernetes_ca.clone(),
        );
        let request = Request::new(
            args.verb.as_deref().unwrap_or_default(),
            args.resource.as_deref().unwrap_or_default(),
            args.namespace.as_deref(),
            args.name.as_deref(),
        );
        let principal = args.principal.clone().unwrap_or_default();
        let (cluster, request, principal) = (&cluster, &request, &principal);
        with_reads(cluster, |reads, region| async move {
            let state = match read_state(&reads, &region, cluster.name(), true, None).await {
                Ok(state) => state,
                Err(why) => return not_checked(cluster.name(), why),
            };
            // Without the entries, aws-auth (in a mode that reads it), the bindings and the
            // roles, no answer can be trusted.
            if !(state.read.entries && state.read.rbac() && (state.read.aws_auth || !state.reads_aws_auth())) {
                return not_checked(cluster.name(), state.gaps.join("; "));
            }
            let explained = explain_request(&state, principal, request);
            match format {
                Format::Json => print_json(&explained),
                _ => print!("{}", explanation_text(&explained)),
            }
            match &explained.decision {
                Some(d) if d.allowed => ExitCode::SUCCESS,
                Some(d) if !d.cannot_tell.is_empty() => ExitCode::from(CANNOT_TELL),
                _ => ExitCode::FAILURE,
            }
        })
    }

    pub fn reverse(cluster: ClusterArgs, logs: &[std::path::PathBuf], format: Format) -> ExitCode {
        let mut seen = Vec::new();
        for log in logs {
            match std::fs::read_to_string(log) {
                Ok(text) => seen.extend(reverse::groups_seen(&text)),
                Err(e) => return usage_error(&format!("--log {}: {e}", log.display())),
            }
        }
        let cluster = &cluster;
        let seen = &seen;
        with_reads(cluster, |reads, region| async move {
            let state = match read_state(&reads, &region, cluster.name(), true, None).await {
                Ok(state) => state,
                Err(why) => return not_checked(cluster.name(), why),
            };
            // The producers are the entries and aws-auth; the consumers the bindings.
            if !(state.read.entries && state.read.bindings) {
                return not_checked(cluster.name(), state.gaps.join("; "));
            }
            let judged = reverse::reverse(&state, seen);
            match format {
                Format::Json => {
                    print_json(&serde_json::json!({"cluster": cluster.name(), "authentication_mode": state.mode(), "groups": judged}))
                }
                _ => print!("{}", reverse::text(cluster.name(), state.mode(), &judged, !seen.is_empty())),
            }
            let bad = judged.iter().any(|g| matches!(g.fate, Fate::Dead | Fate::DiesAtApi));
            if bad {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        })
    }

    pub fn audit(selection: Selection, format: AuditFormat) -> ExitCode {
        let runtime = match runtime() {
            Ok(runtime) => runtime,
            Err(e) => return usage_error(&e),
        };
        runtime.block_on(async {
            let targets = match targets(&selection).await {
                Ok(targets) => targets,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(NOT_CHECKED);
                }
            };
            let mut audits: Vec<Audit> = Vec::new();
            let mut failed = false;
            for (region, cluster) in targets {
                let args = ClusterArgs::new(
                    cluster.clone(),
                    Some(region.clone()),
                    selection.kubernetes_endpoint.clone(),
                    selection.kubernetes_ca.clone(),
                );
                let reads: ApiReads = match super::kube_cli::reads(&args).await {
                    Ok((reads, _)) => reads,
                    Err(e) => return usage_error(&e),
                };
                match read_state(&reads, &region, &cluster, true, progress_bar()).await {
                    Ok(state) => audits.push(audit::audit(&state)),
                    Err(why) => {
                        eprintln!("error: could not audit cluster {cluster} in {region}: {why}");
                        failed = true;
                    }
                }
            }
            match format {
                AuditFormat::Json => print_json(&audits),
                AuditFormat::Markdown => audits.iter().for_each(|a| print!("{}", audit::markdown_report(a))),
                AuditFormat::Sarif => print_json(&audit::sarif(&audits, env!("CARGO_PKG_VERSION"))),
                AuditFormat::Text => audits.iter().for_each(|a| print!("{}", audit::text(a))),
            }
            if failed {
                ExitCode::from(NOT_CHECKED)
            } else if audits.iter().any(|a| a.flagged() > 0) {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        })
    }

    /// (region, cluster) pairs.
    async fn targets(selection: &Selection) -> Result<Vec<(String, String)>, String> {
        let regions: Vec<Option<String>> =
            if selection.regions.is_empty() { vec![None] } else { selection.regions.iter().cloned().map(Some).collect() };
        let mut targets = Vec::new();
        for region in regions {
            let config = super::pull::aws_config(region).await;
            let region = config.region().map(|r| r.to_string()).ok_or("no region: pass --region or set AWS_REGION")?;
            match &selection.cluster {
                Some(cluster) => targets.push((region, cluster.clone())),
                None => {
                    let eks = aws_sdk_eks::Client::new(&config);
                    let mut pages = eks.list_clusters().into_paginator().send();
                    while let Some(page) = pages.next().await {
                        let page =
                            page.map_err(|e| format!("eks:ListClusters in {region}: {}", eks_access_doctor_aws::describe_sdk_error(&e)))?;
                        targets.extend(page.clusters().iter().map(|c| (region.clone(), c.clone())));
                    }
                }
            }
        }
        Ok(targets)
    }

    fn not_checked(cluster: &str, why: impl std::fmt::Display) -> ExitCode {
        eprintln!("error: could not check cluster {cluster}: {why}");
        ExitCode::from(NOT_CHECKED)
    }
}

/// One replay argument: local files (a path expanded) or an S3 prefix.
enum Part {
    Local(Vec<replay::Source>),
    #[cfg_attr(not(feature = "aws"), allow(dead_code))]
    S3(String),
}

fn run_replay(paths: &[String], options: Options, summary: bool) -> ExitCode {
    let mut parts = Vec::new();
    for path in paths {
        if path.starts_with("s3://") {
            parts.push(Part::S3(path.clone()));
            continue;
        }
        match replay::sources(std::slice::from_ref(path)) {
            Ok(sources) => parts.push(Part::Local(sources)),
            Err(e) => return usage_error(&e),
        }
    }
    if parts.is_empty() {
        parts.push(Part::Local(vec![replay::Source::Stdin]));
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut totals = replay::Summary::default();
    for part in parts {
        let result = match part {
            Part::Local(sources) => {
                let bar = progress_bar(sources.len());
                let result = replay::replay_all(&sources, &options, &mut out, &mut AboveBar(bar.as_ref()), &|n| advance(&bar, n));
                finish(bar);
                result
            }
            Part::S3(url) => match replay_s3(&url, &options, &mut out) {
                Ok(result) => result,
                Err(e) => return usage_error(&e),
            },
        };
        match result {
            Ok(part) => totals.add(part),
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: writing output: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    drop(out);
    report(&totals, summary)
}

/// The closing summary, and the exit status: 1 when anything could not be read.
fn report(totals: &replay::Summary, summary: bool) -> ExitCode {
    if summary {
        eprintln!("{}", totals.render());
    }
    if totals.had_errors() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// A command that cannot start (a path that does not exist, a prefix that cannot be listed): exit 2.
fn usage_error(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(2)
}

fn advance(bar: &Option<indicatif::ProgressBar>, n: usize) {
    if let Some(bar) = bar {
        bar.inc(n as u64);
    }
}

fn finish(bar: Option<indicatif::ProgressBar>) {
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
}

/// `replay s3://bucket/prefix`: lists, then reads and diagnoses the objects in key
/// order. `Err` when the prefix cannot be listed (or this build has no AWS support).
#[cfg(feature = "aws")]
fn replay_s3(url: &str, options: &Options, out: &mut dyn std::io::Write) -> Result<std::io::Result<replay::Summary>, String> {
    use eks_access_doctor_aws::s3::{self, S3Url};
    let url = S3Url::parse(url).unwrap_or_else(|| Err(format!("{url}: not an s3:// URL")))?;
    let runtime = runtime()?;
    runtime.block_on(async {
        let client = aws_sdk_s3::Client::new(&pull::aws_config(None).await);
        let objects = s3::list(&client, &url).await.map_err(|e| e.to_string())?;
        let bar = progress_bar(objects.len());
        let result = s3::replay(&client, &url, &objects, options, out, &mut AboveBar(bar.as_ref()), &|n| advance(&bar, n)).await;
        finish(bar);
        Ok(result)
    })
}

#[cfg(not(feature = "aws"))]
fn replay_s3(url: &str, _: &Options, _: &mut dyn std::io::Write) -> Result<std::io::Result<replay::Summary>, String> {
    Err(format!("{url}: this build reads local files only (built with --no-default-features); build with default features to read S3"))
}

#[cfg(feature = "aws")]
fn print_json(value: &impl serde::Serialize) {
    println!("{}", serde_json::to_string(value).unwrap_or_default());
}

#[cfg(feature = "aws")]
fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| format!("cannot start the async runtime: {e}"))
}

#[cfg(feature = "aws")]
mod pull {
    //! `lookup`: CloudTrail event history, every region at once (each has its own
    //! rate limit), oldest first, then the same diagnosis and output as `replay`.

    use super::{finish, report, runtime, usage_error, AboveBar};
    use eks_access_doctor_aws::enrich::{gather, AwsLookups, Home};
    use eks_access_doctor_aws::lookup::{self, Recorded};
    use eks_access_doctor_core::facts::Facts;
    use eks_access_doctor_core::input::{self, Parsed, Record};
    use eks_access_doctor_core::replay::{self, Options};
    use std::io::IsTerminal;
    use std::process::ExitCode;
    use std::time::{Duration, SystemTime};

    /// Time for one event's live lookups.
    const LIVE_FACTS_BUDGET: Duration = Duration::from_secs(5);

    pub struct Request {
        pub since: Duration,
        pub regions: Vec<String>,
        pub live_facts: bool,
    }

    /// The standard credential and region chain (`AWS_PROFILE`, `AWS_REGION`, SSO, …).
    pub async fn aws_config(region: Option<String>) -> aws_config::SdkConfig {
        let loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
        match region {
            Some(region) => loader.region(aws_config::Region::new(region)).load().await,
            None => loader.load().await,
        }
    }

    pub fn run(request: Request, options: Options, summary: bool) -> ExitCode {
        let runtime = match runtime() {
            Ok(runtime) => runtime,
            Err(e) => return usage_error(&e),
        };
        runtime.block_on(async {
            let config = aws_config(None).await;
            let regions = if request.regions.is_empty() {
                match config.region() {
                    Some(region) => vec![region.to_string()],
                    None => return usage_error("no region: pass --region (repeat it for several) or set AWS_REGION"),
                }
            } else {
                request.regions.clone()
            };
            let end = SystemTime::now();
            let start = end - request.since;
            let spinner = spinner();
            let mut tasks = tokio::task::JoinSet::new();
            for region in regions {
                let client = aws_sdk_cloudtrail::Client::from_conf(
                    aws_sdk_cloudtrail::config::Builder::from(&config).region(aws_config::Region::new(region.clone())).build(),
                );
                let spinner = spinner.clone();
                tasks.spawn(async move {
                    lookup::region_history(&client, &region, start, end, &|region, n| {
                        if let Some(spinner) = &spinner {
                            spinner.set_message(format!("{region}: {n} EKS event(s) read"));
                        }
                    })
                    .await
                });
            }
            let mut events = Vec::new();
            let mut failed = Vec::new();
            while let Some(joined) = tasks.join_next().await {
                match joined {
                    Ok(Ok(region)) => events.extend(region),
                    Ok(Err(e)) => failed.push(e.to_string()),
                    Err(e) => failed.push(format!("a region's lookup stopped: {e}")),
                }
            }
            finish(spinner.clone());
            let events = lookup::in_order(events);
            let lookups =
                request.live_facts.then(|| AwsLookups { eks: aws_sdk_eks::Client::new(&config), iam: aws_sdk_iam::Client::new(&config) });
            let (records, facts): (Vec<Record>, Vec<Facts>) = diagnose_with_facts(events, lookups.as_ref()).await.into_iter().unzip();
            let mut rendered = replay::render_records("cloudtrail", records.into_iter().zip(&facts), &options);
            rendered.summary.unreadable += failed.len();
            rendered.errors.extend(failed);
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            let mut totals = replay::Summary::default();
            match replay::write_rendered(vec![rendered], &mut out, &mut AboveBar(None), &mut totals) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: writing output: {e}");
                    return ExitCode::FAILURE;
                }
                Ok(()) => {}
            }
            drop(out);
            report(&totals, summary)
        })
    }

    /// Each recorded event parsed as `replay` would, with live facts when asked for.
    async fn diagnose_with_facts(events: Vec<Recorded>, lookups: Option<&AwsLookups>) -> Vec<(Record, Facts)> {
        let mut out = Vec::with_capacity(events.len());
        for (i, recorded) in events.into_iter().enumerate() {
            let outcome = input::parse_record(&recorded.record, None)
                .map_err(|e| format!("{} event {}: {e}", recorded.region, recorded.event_id.as_deref().unwrap_or("?")));
            let facts = match (&outcome, lookups) {
                (Ok(Parsed::Event(event)), Some(lookups)) => {
                    let plan = eks_access_doctor_core::catalogue::lookup_plan(event);
                    gather(lookups, event, plan, LIVE_FACTS_BUDGET, &Home { account: None, region: Some(recorded.region.clone()) }).await
                }
                _ => Facts::default(),
            };
            out.push((Record { number: i + 1, outcome }, facts));
        }
        out
    }

    /// A spinner on a terminal: LookupEvents gives no total to count towards.
    fn spinner() -> Option<indicatif::ProgressBar> {
        std::io::stderr().is_terminal().then(|| {
            let spinner = indicatif::ProgressBar::new_spinner();
            spinner.enable_steady_tick(Duration::from_millis(120));
            spinner
        })
    }
}

/// Standard error that prints error lines above the progress bar, not through it.
struct AboveBar<'a>(Option<&'a indicatif::ProgressBar>);

impl std::io::Write for AboveBar<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.0 {
            Some(bar) => bar.suspend(|| std::io::stderr().write(buf)),
            None => std::io::stderr().write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        match self.0 {
            Some(bar) => bar.suspend(|| std::io::stderr().write_all(buf)),
            None => std::io::stderr().write_all(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// A progress bar on stderr, only on a terminal and only for runs long enough to need one.
fn progress_bar(files: usize) -> Option<indicatif::ProgressBar> {
    (files >= 200 && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(files as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} files {elapsed_precise} eta {eta}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    })
}

/// The catalogue in `format` (text, JSON or Markdown: the parser admits no other).
fn causes(format: Format) -> String {
    let all: Vec<_> = catalogue::all_causes().collect();
    match format {
        Format::Text | Format::Slack | Format::Sns | Format::Chatbot => all
            .iter()
            .map(|c| {
                let sources: String =
                    c.sources.iter().map(|s| format!("{:<49} source: {}\n{:<49}   \"{}\"\n", "", s.page, "", s.quote)).collect();
                format!("{:<40} {:<8} {}\n{:<40} {:<8} {}\n{sources}", c.id, c.severity, c.title, "", "", c.docs)
            })
            .collect(),
        Format::Json => all
            .iter()
            .map(|c| {
                serde_json::json!({"id": c.id, "severity": c.severity, "title": c.title, "docs": c.docs, "reach": c.reach.as_str(), "sources": c.sources})
                    .to_string()
                    + "\n"
            })
            .collect(),
        Format::Markdown => {
            let mut out = String::from("| id | severity | title |\n|---|---|---|\n");
            for c in &all {
                out.push_str(&format!("| `{}` | {} | [{}]({}) |\n", c.id, c.severity, c.title, c.docs));
            }
            out.push_str(
                "\n### Sources\n\nEvery fact a cause states, with the page or source file it comes from and the sentence quoted from it.\n",
            );
            for c in &all {
                out.push_str(&format!("\n#### `{}`\n\n", c.id));
                for s in c.sources {
                    let page = if s.page.starts_with("https://") { format!("<{}>", s.page) } else { format!("`{}`", s.page) };
                    out.push_str(&format!("- {page}: \"{}\"\n", s.quote));
                }
            }
            out
        }
    }
}
