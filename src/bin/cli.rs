//! `eks-access-doctor`: replay saved CloudTrail events and list the catalogue, with
//! no AWS account needed.

#![forbid(unsafe_code)]

use clap::{Parser, Subcommand, ValueEnum};
use eks_access_doctor::catalogue;
use eks_access_doctor::finding::Severity;
use eks_access_doctor::replay::{self, Format, Options};
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
    /// (.json or .json.gz), NDJSON, directories (recursively) or `-` for stdin.
    Replay {
        /// Files or directories; none or `-` reads standard input.
        paths: Vec<String>,
        #[arg(long, value_enum, default_value = "text")]
        format: FormatArg,
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
    },
    /// List the catalogue of causes: id, severity, title, documentation.
    Causes {
        #[arg(long, value_enum, default_value = "text")]
        format: CausesFormat,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    Text,
    Json,
    Markdown,
    /// The Slack Block Kit payloads the function would post (one per line).
    Slack,
    /// The SNS messages the function would publish (one per line).
    Sns,
}

#[derive(Clone, Copy, ValueEnum)]
enum ColorArg {
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy, ValueEnum)]
enum CausesFormat {
    Text,
    Json,
    Markdown,
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    s.parse()
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Replay { paths, format, min_severity, only_findings, color, no_summary } => {
            let format = match format {
                FormatArg::Text => Format::Text,
                FormatArg::Json => Format::Json,
                FormatArg::Markdown => Format::Markdown,
                FormatArg::Slack => Format::Slack,
                FormatArg::Sns => Format::Sns,
            };
            let stdout_is_tty = std::io::stdout().is_terminal();
            let color = match color {
                ColorArg::Always => true,
                ColorArg::Never => false,
                ColorArg::Auto => stdout_is_tty && std::env::var_os("NO_COLOR").is_none(),
            };
            run_replay(&paths, Options { format, min_severity, only_findings, color }, !no_summary)
        }
        Command::Causes { format } => {
            print!("{}", causes(format));
            ExitCode::SUCCESS
        }
    }
}

fn run_replay(paths: &[String], options: Options, summary: bool) -> ExitCode {
    let sources = match replay::sources(paths) {
        Ok(sources) => sources,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let bar = progress_bar(sources.len());
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut err = AboveBar(bar.as_ref());
    let result = replay::replay_all(&sources, &options, &mut out, &mut err, &|n| {
        if let Some(bar) = &bar {
            bar.inc(n as u64);
        }
    });
    drop(out);
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    match result {
        Ok(totals) => {
            if summary {
                eprintln!("{}", totals.render());
            }
            if totals.had_errors() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: writing output: {e}");
            ExitCode::FAILURE
        }
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

fn causes(format: CausesFormat) -> String {
    let all: Vec<_> = catalogue::all_causes().collect();
    match format {
        CausesFormat::Text => {
            all.iter().map(|c| format!("{:<40} {:<8} {}\n{:<40} {:<8} {}\n", c.id, c.severity, c.title, "", "", c.docs)).collect()
        }
        CausesFormat::Json => all
            .iter()
            .map(|c| serde_json::json!({"id": c.id, "severity": c.severity, "title": c.title, "docs": c.docs}).to_string() + "\n")
            .collect(),
        CausesFormat::Markdown => {
            let mut out = String::from("| id | severity | title |\n|---|---|---|\n");
            for c in all {
                out.push_str(&format!("| `{}` | {} | [{}]({}) |\n", c.id, c.severity, c.title, c.docs));
            }
            out
        }
    }
}
