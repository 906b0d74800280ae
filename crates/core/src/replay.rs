//! `replay`: diagnose saved events and CloudTrail archives offline. Files are read
//! in parallel in batches, and each batch is printed in input order, so output is
//! deterministic while both cores work and memory stays bounded by the batch.

use crate::facts::Facts;
use crate::finding::Severity;
use crate::input::{self, Ignoring, Parsed, Record, MAX_DOCUMENT_BYTES};
use crate::render::sns::MessageFormat;
use crate::render::{self, Diagnosis};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Condvar, Mutex};

/// How output is printed: the one list of formats every command chooses from (each
/// command admits the ones that mean something for it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Markdown,
    Slack,
    Sns,
    /// The AWS Chatbot custom notification that `SNS_MESSAGE_FORMAT=chatbot` publishes.
    Chatbot,
}

impl Format {
    /// Every format: its name on the command line, and what it prints.
    pub const ALL: [(Format, &'static str, &'static str); 6] = [
        (Format::Text, "text", "Plain text for a terminal (colour with --color)"),
        (Format::Json, "json", "One JSON object per record and line, every key always present (null where the record does not say)"),
        (Format::Markdown, "markdown", "Markdown, for an issue or a wiki page"),
        (Format::Slack, "slack", "The Slack Block Kit payloads the function would post (one per line)"),
        (Format::Sns, "sns", "The SNS messages the function would publish (one per line)"),
        (
            Format::Chatbot,
            "chatbot",
            "The AWS Chatbot custom notifications the function would publish with SNS_MESSAGE_FORMAT=chatbot: each message's body (one per line)",
        ),
    ];

    pub fn name(self) -> &'static str {
        Format::ALL.iter().find(|(f, ..)| *f == self).map_or("text", |(_, name, _)| name)
    }

    pub fn about(self) -> &'static str {
        Format::ALL.iter().find(|(f, ..)| *f == self).map_or("", |(.., about)| about)
    }
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(name: &str) -> Result<Format, String> {
        Format::ALL.iter().find(|(_, n, _)| *n == name).map(|(f, ..)| *f).ok_or_else(|| {
            let names: Vec<_> = Format::ALL.iter().map(|(_, n, _)| *n).collect();
            format!("unknown format {name:?}: one of {}", names.join(", "))
        })
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Options {
    pub format: Format,
    pub min_severity: Severity,
    /// Leave out events with no finding (JSON otherwise has one object per record).
    pub only_findings: bool,
    pub color: bool,
}

/// Where records come from.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    Stdin,
    File(PathBuf),
    /// Found in a directory but not to be read: what went wrong, said in its place.
    Unlisted {
        path: PathBuf,
        reason: String,
    },
}

impl Source {
    pub fn name(&self) -> String {
        match self {
            Source::Stdin => "<stdin>".to_string(),
            Source::File(path) | Source::Unlisted { path, .. } => path.display().to_string(),
        }
    }

    fn path(&self) -> Option<&Path> {
        match self {
            Source::Stdin => None,
            Source::File(path) | Source::Unlisted { path, .. } => Some(path),
        }
    }
}

/// What a replay saw, for the closing summary (and the archive scan's report).
#[derive(Debug, Default, Clone, PartialEq, serde::Serialize)]
pub struct Summary {
    pub files: usize,
    pub unreadable: usize,
    pub records: usize,
    pub eks_events: usize,
    pub ignored: usize,
    pub bad_records: usize,
    pub findings: BTreeMap<&'static str, usize>,
}

impl Summary {
    pub fn add(&mut self, other: Summary) {
        self.files += other.files;
        self.unreadable += other.unreadable;
        self.records += other.records;
        self.eks_events += other.eks_events;
        self.ignored += other.ignored;
        self.bad_records += other.bad_records;
        for (cause, n) in other.findings {
            *self.findings.entry(cause).or_default() += n;
        }
    }

    pub fn had_errors(&self) -> bool {
        self.unreadable > 0 || self.bad_records > 0
    }

    pub fn render(&self) -> String {
        let total: usize = self.findings.values().sum();
        let mut out = format!(
            "{} file(s), {} record(s): {} EKS access event(s), {} ignored, {} unreadable record(s), {} unreadable file(s); {} finding(s)",
            self.files, self.records, self.eks_events, self.ignored, self.bad_records, self.unreadable, total
        );
        for (cause, n) in &self.findings {
            out.push_str(&format!("\n  {n:>6}  {cause}"));
        }
        out
    }
}

/// The result of one source: its rendered output, its errors, its counts.
#[derive(Debug, Default)]
pub struct Rendered {
    pub output: String,
    pub errors: Vec<String>,
    pub summary: Summary,
}

impl Rendered {
    /// A source that could not be read at all.
    pub fn unreadable(error: String) -> Rendered {
        Rendered { errors: vec![error], summary: Summary { files: 1, unreadable: 1, ..Summary::default() }, ..Rendered::default() }
    }
}

/// Expands paths into sources: directories recursively (sorted by path, JSON,
/// gzip and log files only, no CloudTrail digests), `-` as standard input, other paths as given.
pub fn sources(paths: &[String]) -> Result<Vec<Source>, String> {
    if paths.is_empty() {
        return Ok(vec![Source::Stdin]);
    }
    let mut out = Vec::new();
    for path in paths {
        if path == "-" {
            out.push(Source::Stdin);
            continue;
        }
        let path = Path::new(path);
        let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
        if meta.is_dir() {
            let mut files = Vec::new();
            walk(path, &mut files);
            // In byte order of the whole path, as S3 lists keys: a directory and its
            // copy under an S3 prefix are read in the same order.
            let key = |s: &Source| s.path().map(|p| p.as_os_str().as_encoded_bytes().to_vec()).unwrap_or_default();
            files.sort_by_key(key);
            out.extend(files);
        } else {
            out.push(Source::File(path.to_path_buf()));
        }
    }
    Ok(out)
}

/// The event files under `dir`. What cannot be listed, and what is not a regular file
/// (a FIFO would block the replay for good, a device never ends), is named in place and
/// not read; the rest of the tree still is.
fn walk(dir: &Path, out: &mut Vec<Source>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => return out.push(Source::Unlisted { path: dir.to_path_buf(), reason: format!("cannot list: {e}") }),
    };
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                out.push(Source::Unlisted { path: dir.to_path_buf(), reason: format!("cannot list: {e}") });
                continue;
            }
        };
        let path = entry.path();
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            if entry.file_name() != DIGEST_FOLDER {
                walk(&path, out);
            }
        } else if path.to_str().is_some_and(is_event_name) {
            // Followed through symlinks; a loop or a dangling link is said when it is read.
            match std::fs::metadata(&path) {
                Ok(meta) if !meta.is_file() && !meta.is_dir() => {
                    out.push(Source::Unlisted { path, reason: "not a regular file (a FIFO, socket or device): not read".into() })
                }
                _ => out.push(Source::File(path)),
            }
        }
    }
}

/// CloudTrail's digest files sit in this folder beside the logs: signatures, not events.
const DIGEST_FOLDER: &str = "CloudTrail-Digest";

/// Whether a file name or S3 key (found in a directory or under a prefix) may hold
/// events: by extension, and never a CloudTrail digest.
pub fn is_event_name(name: &str) -> bool {
    [".json", ".json.gz", ".ndjson", ".jsonl", ".gz", ".log"].iter().any(|ext| name.ends_with(ext))
        && !name.split(['/', std::path::MAIN_SEPARATOR]).any(|part| part == DIGEST_FOLDER)
}

/// The whole source, refused beyond `MAX_DOCUMENT_BYTES` before it is read (a file
/// that size would be refused once decompressed anyway), and never read past the
/// limit (a file that grows while it is read), so memory stays bounded.
fn read_source(source: &Source) -> std::io::Result<Vec<u8>> {
    let too_big =
        |size: u64| std::io::Error::other(format!("{size} bytes, more than the {MAX_DOCUMENT_BYTES} bytes one document may have"));
    let mut bytes = Vec::new();
    match source {
        Source::Stdin => std::io::stdin().lock().take(MAX_DOCUMENT_BYTES + 1).read_to_end(&mut bytes)?,
        Source::Unlisted { reason, .. } => return Err(std::io::Error::other(reason.as_str())),
        Source::File(path) => {
            let file = std::fs::File::open(path)?;
            let size = file.metadata()?.len();
            if size > MAX_DOCUMENT_BYTES {
                return Err(too_big(size));
            }
            // One allocation of the right size, not a doubling (and copying) one.
            bytes.reserve_exact(size as usize + 1);
            file.take(MAX_DOCUMENT_BYTES + 1).read_to_end(&mut bytes)?
        }
    };
    if bytes.len() as u64 > MAX_DOCUMENT_BYTES {
        return Err(too_big(bytes.len() as u64));
    }
    Ok(bytes)
}

/// Reads, diagnoses and renders one source.
pub fn replay_source(source: &Source, options: &Options) -> Rendered {
    let name = source.name();
    if let Source::Unlisted { reason, .. } = source {
        return Rendered::unreadable(format!("{name}: {reason}"));
    }
    match read_source(source) {
        Ok(bytes) => replay_bytes(&name, &bytes, options),
        Err(e) => Rendered::unreadable(format!("{name}: cannot read: {e}")),
    }
}

/// Diagnoses and renders an in-memory document named `name`.
pub fn replay_bytes(name: &str, bytes: &[u8], options: &Options) -> Rendered {
    let facts = Facts::default();
    let ignoring = if options.format == Format::Json && !options.only_findings { Ignoring::Describe } else { Ignoring::Count };
    render_records(name, input::parse_document_with(bytes, ignoring).into_iter().map(|record| (record, &facts)), options)
}

/// Diagnoses and renders records, each with the live facts known for it (none offline).
pub fn render_records<'f>(name: &str, records: impl IntoIterator<Item = (Record, &'f Facts)>, options: &Options) -> Rendered {
    let mut rendered = Rendered { summary: Summary { files: 1, ..Summary::default() }, ..Rendered::default() };
    for (Record { number, outcome }, facts) in records {
        rendered.summary.records += 1;
        // A granted authenticator line is judged on the cluster's bindings only: without
        // them it is read and left alone, with why (a grant alone is no problem).
        let outcome = match outcome {
            Ok(Parsed::Event(event)) if event.granted().is_some() && facts.bindings.found().is_none() => Ok(Parsed::Ignored {
                event_id: Some(event.event_id.clone()),
                event_time: Some(event.event_time.clone()),
                event_name: Some(event.event_name.clone()),
                why: crate::event::Ignored::GrantNotChecked(
                    "replay reads no live facts (eks-access-doctor check-groups reads them with your credentials)".into(),
                ),
            }),
            other => other,
        };
        match outcome {
            Err(e) => {
                rendered.summary.bad_records += 1;
                rendered.errors.push(format!("{name}: record {number}: {e}"));
            }
            Ok(Parsed::Ignored { event_id, event_time, event_name, why }) => {
                rendered.summary.ignored += 1;
                if options.format == Format::Json && !options.only_findings {
                    let reason = why.reason();
                    let line = render::json::ignored(event_id.as_deref(), event_time.as_deref(), event_name.as_deref(), &reason);
                    rendered.output.push_str(&line.to_json());
                    rendered.output.push('\n');
                }
            }
            Ok(Parsed::Event(event)) => {
                rendered.summary.eks_events += 1;
                let mut diagnosis = crate::diagnose(*event, facts);
                diagnosis.findings.retain(|f| f.severity() >= options.min_severity);
                for f in &diagnosis.findings {
                    *rendered.summary.findings.entry(f.cause.id).or_default() += 1;
                }
                if !(options.only_findings && diagnosis.findings.is_empty()) {
                    rendered.output.push_str(&render_diagnosis(&diagnosis, options));
                }
            }
        }
    }
    rendered
}

/// One diagnosis in the chosen format (Slack, SNS and Chatbot: one line per finding).
pub fn render_diagnosis(d: &Diagnosis, options: &Options) -> String {
    let lines = |f: &dyn Fn(&crate::finding::Finding) -> String| -> String { d.findings.iter().map(|finding| f(finding) + "\n").collect() };
    match options.format {
        Format::Text => render::text::render(d, options.color),
        Format::Markdown => render::markdown::render(d),
        Format::Json => render::json::diagnosis(d).to_json() + "\n",
        Format::Slack => lines(&|f| render::slack::payload(d, f).to_json()),
        Format::Sns => lines(&|f| serde_json::to_string(&render::sns::message(d, f, MessageFormat::Text)).unwrap_or_default()),
        Format::Chatbot => lines(&|f| render::chatbot::notification(d, f).to_json()),
    }
}

/// How far reading may run ahead of printing, in files: what bounds memory (each
/// file waiting to be printed holds its output).
const WINDOW: usize = 64;

/// Replays every source in order, writing output to `out` and errors to `err`;
/// `progress` is told how many files are done. One worker per core takes the next
/// file as soon as it is free (no batch waits for its slowest file) and the caller's
/// thread prints results in order as they complete.
pub fn replay_all(
    sources: &[Source],
    options: &Options,
    out: &mut dyn Write,
    err: &mut dyn Write,
    progress: &dyn Fn(usize),
) -> std::io::Result<Summary> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(sources.len()).max(1);
    let next = AtomicUsize::new(0);
    let window = Window::default();
    let (send, done) = mpsc::channel::<(usize, Rendered)>();
    let printed = std::thread::scope(|scope| {
        for _ in 0..workers {
            let (send, next, window) = (send.clone(), &next, &window);
            scope.spawn(move || {
                let _stop = StopOnPanic(window);
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= sources.len() || !window.admit(i) || send.send((i, replay_source(&sources[i], options))).is_err() {
                        return;
                    }
                }
            });
        }
        drop(send);
        let printed = print_in_order(done, &window, out, err, progress);
        // On a write error, the workers waiting for room stop too.
        window.stop();
        printed
    })?;
    out.flush()?;
    Ok(printed)
}

/// Results as workers finish them, printed in source order.
fn print_in_order(
    done: mpsc::Receiver<(usize, Rendered)>,
    window: &Window,
    out: &mut dyn Write,
    err: &mut dyn Write,
    progress: &dyn Fn(usize),
) -> std::io::Result<Summary> {
    let mut summary = Summary::default();
    let mut waiting = BTreeMap::new();
    let mut at = 0;
    for (i, rendered) in done {
        waiting.insert(i, rendered);
        while let Some(rendered) = waiting.remove(&at) {
            write_rendered(vec![rendered], out, err, &mut summary)?;
            at += 1;
            window.printed(at);
            progress(1);
        }
    }
    Ok(summary)
}

/// Stops the window if a worker panics, so the others do not wait for its file
/// forever; the scope then passes the panic on.
struct StopOnPanic<'w>(&'w Window);

impl Drop for StopOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.stop();
        }
    }
}

/// How many files are printed, which lets a worker take file `i` only while
/// `i < printed + WINDOW`.
#[derive(Default)]
struct Window {
    state: Mutex<(usize, bool)>,
    moved: Condvar,
}

impl Window {
    /// Waits for room for file `i`; false once printing has stopped.
    fn admit(&self, i: usize) -> bool {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        while i >= state.0 + WINDOW && !state.1 {
            state = self.moved.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        !state.1
    }

    fn printed(&self, count: usize) {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).0 = count;
        self.moved.notify_all();
    }

    fn stop(&self) {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).1 = true;
        self.moved.notify_all();
    }
}

/// Writes rendered sources in order (output to `out`, errors to `err`) and adds up their counts.
pub fn write_rendered(results: Vec<Rendered>, out: &mut dyn Write, err: &mut dyn Write, summary: &mut Summary) -> std::io::Result<()> {
    for rendered in results {
        out.write_all(rendered.output.as_bytes())?;
        for e in &rendered.errors {
            err.write_all(format!("error: {e}\n").as_bytes())?;
        }
        summary.add(rendered.summary);
    }
    Ok(())
}
