//! Deterministic generator of a realistic CloudTrail archive for the replay benchmark.
//!
//! ```sh
//! cargo run --release --example gen_archive -- --out .bench/archive --size 1GB --seed 1
//! ```
//!
//! Writes gzip log files in the S3 layout CloudTrail delivers,
//! `AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<YYYYMMDDTHHMMZ>_<16 chars>.json.gz`,
//! each `{"Records":[...]}` of records from many services. About 1% are EKS events:
//! most of those are the failed or risky calls of `events/*.json` (every cause of the
//! catalogue) with fresh eventIDs, requestIDs and times, the rest benign EKS calls
//! (`events/no-finding/`, DescribeCluster, ListClusters...). The same seed gives the
//! same bytes. `--size` counts uncompressed JSON. A `manifest.txt` (JSON) beside `AWSLogs/`
//! gives the counts the replay must find.

use flate2::write::GzEncoder;
use flate2::Compression;
use rayon::prelude::*;
use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};

const ACCOUNTS: &[&str] = &["210987654321", "345678901234", "456789012345"];
const REGIONS: &[&str] = &["us-east-1", "eu-west-1", "eu-central-1", "ap-southeast-2"];
/// 2026-11-01T00:00:00Z.
const START_EPOCH: u64 = 1_793_491_200;

struct Args {
    out: PathBuf,
    size: u64,
    seed: u64,
    eks_permille: u64,
    level: u32,
}

fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim().to_ascii_uppercase();
    let (num, mult) = [("GB", 1u64 << 30), ("G", 1 << 30), ("MB", 1 << 20), ("M", 1 << 20), ("KB", 1 << 10), ("K", 1 << 10), ("B", 1)]
        .iter()
        .find_map(|(suffix, mult)| s.strip_suffix(suffix).map(|n| (n.to_string(), *mult)))
        .unwrap_or((s.clone(), 1));
    let n: f64 = num.trim().parse().map_err(|_| format!("bad size {s:?} (try 100MB, 1GB)"))?;
    Ok((n * mult as f64) as u64)
}

fn args() -> Result<Args, String> {
    let mut args = Args { out: PathBuf::from(".bench/archive"), size: 100 << 20, seed: 1, eks_permille: 10, level: 6 };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--out" => args.out = PathBuf::from(value()?),
            "--size" => args.size = parse_size(&value()?)?,
            "--seed" => args.seed = value()?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--eks-permille" => args.eks_permille = value()?.parse().map_err(|e| format!("--eks-permille: {e}"))?,
            "--level" => args.level = value()?.parse().map_err(|e| format!("--level: {e}"))?,
            "-h" | "--help" => {
                println!("gen_archive --out DIR --size 1GB [--seed N] [--eks-permille 10] [--level 6]");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(args)
}

/// splitmix64: tiny, fast, deterministic.
#[derive(Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
    fn uuid(&mut self) -> String {
        let (a, b) = (self.next(), self.next());
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | (b >> 48) & 0x3fff,
            b & 0xffff_ffff_ffff
        )
    }
    fn chars(&mut self, n: usize, alphabet: &[u8]) -> String {
        (0..n).map(|_| *self.pick(alphabet) as char).collect()
    }
    fn upper(&mut self, n: usize) -> String {
        self.chars(n, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    }
}

/// (year, month, day, hour, minute, second) of a Unix time (UTC).
fn civil(t: u64) -> (i64, u32, u32, u32, u32, u32) {
    let days = (t / 86_400) as i64;
    let secs = t % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d, (secs / 3600) as u32, (secs % 3600 / 60) as u32, (secs % 60) as u32)
}

fn iso(t: u64) -> String {
    let (y, mo, d, h, mi, s) = civil(t);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// An EKS record from `events/`, with placeholders for what must be fresh.
struct EksTemplate {
    json: String,
    failed_access_call: bool,
}

fn load_eks_templates(dir: &Path) -> Result<(Vec<EksTemplate>, Vec<EksTemplate>), String> {
    let mut failures = Vec::new();
    let mut benign = Vec::new();
    for sub in [dir.to_path_buf(), dir.join("no-finding")] {
        let mut paths: Vec<_> = std::fs::read_dir(&sub)
            .map_err(|e| format!("{}: {e}", sub.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        paths.sort();
        for path in paths {
            let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
            let Some(mut detail) = value.get("detail").cloned() else { continue };
            if !eks_access_doctor_core::event::EVENT_SOURCES.iter().any(|source| detail["eventSource"] == *source) {
                continue;
            }
            detail["eventID"] = "@@EVENTID@@".into();
            detail["requestID"] = "@@REQUESTID@@".into();
            detail["eventTime"] = "@@EVENTTIME@@".into();
            let failed_access_call = detail.get("errorCode").is_some_and(|c| !c.is_null());
            let t = EksTemplate { json: detail.to_string(), failed_access_call };
            if sub == dir {
                failures.push(t)
            } else {
                benign.push(t)
            }
        }
    }
    if failures.is_empty() {
        return Err(format!("no EKS events in {}", dir.display()));
    }
    Ok((failures, benign))
}

struct Ctx<'a> {
    account: &'a str,
    region: &'a str,
    time: String,
}

fn identity(rng: &mut Rng, ctx: &Ctx, out: &mut String) {
    let roles = ["PlatformDeployer", "ci-runner", "DataPipeline", "ReadOnlyAuditor", "karpenter-node", "AWSServiceRoleForECS"];
    let role = rng.pick(&roles);
    let session = rng.pick(&["jdoe", "asmith", "gh-actions-1842", "i-0a1b2c3d4e5f67890", "botocore-session-1793491200"]);
    let pid = rng.upper(20);
    let key = rng.upper(16);
    let _ = write!(
        out,
        r#""userIdentity":{{"type":"AssumedRole","principalId":"AROA{pid}:{session}","arn":"arn:aws:sts::{a}:assumed-role/{role}/{session}","accountId":"{a}","accessKeyId":"ASIA{key}","sessionContext":{{"sessionIssuer":{{"type":"Role","principalId":"AROA{pid}","arn":"arn:aws:iam::{a}:role/{role}","accountId":"{a}","userName":"{role}"}},"attributes":{{"creationDate":"{t}","mfaAuthenticated":"false"}}}}}},"#,
        a = ctx.account,
        t = ctx.time
    );
}

fn user_agent(rng: &mut Rng) -> &'static str {
    const AGENTS: &[&str] = &[
        "aws-cli/2.22.35 md/awscrt#0.23.8 ua/2.1 os/linux#6.8.0-1021-aws md/arch#x86_64 lang/python#3.12.9 md/pyimpl#CPython cfg/retry-mode#standard",
        "aws-sdk-go-v2/1.32.7 ua/2.1 os/linux lang/go#1.23.4 md/GOOS#linux md/GOARCH#amd64 api/s3#1.71.1",
        "Boto3/1.35.90 md/Botocore#1.35.90 ua/2.0 os/linux#5.10.230-223.885.amzn2.x86_64 md/arch#x86_64 lang/python#3.11.11",
        "aws-sdk-java/2.29.45 Linux/5.10.230 OpenJDK_64-Bit_Server_VM/17.0.13+11-LTS Java/17.0.13 vendor/Amazon.com_Inc. exec-env/AWS_ECS_FARGATE",
        "console.amazonaws.com",
        "AWS Internal",
    ];
    rng.pick::<&str>(AGENTS)
}

/// One record of another service (or a benign EKS read) in CloudTrail's compact form.
fn other_record(rng: &mut Rng, ctx: &Ctx, out: &mut String) {
    let (source, name, params, response, read_only, error): (&str, &str, String, String, bool, Option<(&str, String)>) = match rng
        .below(100)
    {
        0..=29 => {
            let bucket = rng.pick(&["app-assets-prod", "data-lake-raw", "ci-artifacts", "cloudtrail-archive"]);
            let key = format!(
                "{}/{}/part-{:05}.parquet",
                rng.pick(&["events", "logs", "exports"]),
                ctx.time.get(..10).unwrap_or(""),
                rng.below(100_000)
            );
            (
                "s3.amazonaws.com",
                *rng.pick(&["GetObject", "PutObject", "HeadObject"]),
                format!(r#"{{"bucketName":"{bucket}","Host":"{bucket}.s3.{}.amazonaws.com","key":"{key}"}}"#, ctx.region),
                "null".to_string(),
                true,
                None,
            )
        }
        30..=44 => {
            let id = format!("i-0{:016x}", rng.next() >> 4);
            (
                "ec2.amazonaws.com",
                "DescribeInstances",
                format!(r#"{{"instancesSet":{{"items":[{{"instanceId":"{id}"}}]}},"filterSet":{{}},"includeAllInstances":false}}"#),
                "null".to_string(),
                true,
                None,
            )
        }
        45..=59 => {
            let arn = format!("arn:aws:kms:{}:{}:key/{}", ctx.region, ctx.account, rng.uuid());
            (
                "kms.amazonaws.com",
                "Decrypt",
                format!(
                    r#"{{"encryptionAlgorithm":"SYMMETRIC_DEFAULT","keyId":"{arn}","encryptionContext":{{"aws:s3:arn":"arn:aws:s3:::data-lake-raw"}}}}"#
                ),
                "null".to_string(),
                true,
                None,
            )
        }
        60..=69 => {
            let role = rng.pick(&["ci-runner", "DataPipeline", "ReadOnlyAuditor"]);
            let session = rng.upper(12);
            (
                "sts.amazonaws.com",
                "AssumeRole",
                format!(r#"{{"roleArn":"arn:aws:iam::{}:role/{role}","roleSessionName":"{session}","durationSeconds":3600}}"#, ctx.account),
                format!(
                    r#"{{"credentials":{{"accessKeyId":"ASIA{}","sessionToken":"IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD{}","expiration":"Nov 28, 2026, 11:14:58 AM"}},"assumedRoleUser":{{"assumedRoleId":"AROA{}:{session}","arn":"arn:aws:sts::{}:assumed-role/{role}/{session}"}}}}"#,
                    rng.upper(16),
                    rng.upper(40),
                    rng.upper(17),
                    ctx.account
                ),
                false,
                None,
            )
        }
        70..=77 => {
            let group = format!("/aws/lambda/{}", rng.pick(&["orders-api", "ingest", "eks-access-doctor"]));
            (
                "logs.amazonaws.com",
                "CreateLogStream",
                format!(r#"{{"logGroupName":"{group}","logStreamName":"2026/11/28/[$LATEST]{:032x}"}}"#, rng.next() as u128 * 7),
                "null".to_string(),
                false,
                None,
            )
        }
        78..=83 => {
            let table = rng.pick(&["orders", "sessions", "idempotency"]);
            ("dynamodb.amazonaws.com", "DescribeTable", format!(r#"{{"tableName":"{table}"}}"#), "null".to_string(), true, None)
        }
        84..=87 => {
            let name = format!("/prod/{}/{}", rng.pick(&["db", "api", "slack"]), rng.pick(&["password", "url", "token"]));
            ("ssm.amazonaws.com", "GetParameter", format!(r#"{{"name":"{name}","withDecryption":true}}"#), "null".to_string(), true, None)
        }
        88..=90 => {
            // A policy document is a JSON string inside JSON: escaped quotes, as real IAM records have.
            let role = rng.pick(&["ci-runner", "DataPipeline"]);
            let doc = format!(
                r#"{{\"Version\":\"2012-10-17\",\"Statement\":[{{\"Effect\":\"Allow\",\"Action\":[\"s3:GetObject\"],\"Resource\":\"arn:aws:s3:::data-lake-raw/{}/*\"}}]}}"#,
                rng.upper(6)
            );
            (
                "iam.amazonaws.com",
                "PutRolePolicy",
                format!(r#"{{"roleName":"{role}","policyName":"inline-{}","policyDocument":"{doc}"}}"#, rng.upper(4)),
                "null".to_string(),
                false,
                None,
            )
        }
        91..=93 => {
            let id = format!("i-0{:016x}", rng.next() >> 4);
            let msg = "You are not authorized to perform this operation. User: arn:aws:sts::ACCOUNT:assumed-role/ci-runner/gh-actions-1842 is not authorized to perform: ec2:CreateTags on resource: arn:aws:ec2:REGION:ACCOUNT:instance/ID because no identity-based policy allows the ec2:CreateTags action. Encoded authorization failure message: ".replace("ACCOUNT", ctx.account).replace("REGION", ctx.region).replace("ID", &id) + &rng.chars(120, b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_");
            (
                "ec2.amazonaws.com",
                "CreateTags",
                format!(
                    r#"{{"resourcesSet":{{"items":[{{"resourceId":"{id}"}}]}},"tagSet":{{"items":[{{"key":"team","value":"platform"}}]}}}}"#
                ),
                "null".to_string(),
                false,
                Some(("Client.UnauthorizedOperation", msg)),
            )
        }
        94..=95 => ("ecr.amazonaws.com", "GetAuthorizationToken", "null".to_string(), "null".to_string(), true, None),
        96..=97 => {
            let fname = rng.pick(&["orders-api", "ingest"]);
            (
                "lambda.amazonaws.com",
                "GetFunction20150331v2",
                format!(r#"{{"functionName":"arn:aws:lambda:{}:{}:function:{fname}"}}"#, ctx.region, ctx.account),
                "null".to_string(),
                true,
                None,
            )
        }
        _ => {
            // Non-access EKS reads: the same eventSource, rejected by name.
            let cluster = rng.pick(&["prod-eu", "checkout-prod", "staging"]);
            let name = *rng.pick(&["DescribeCluster", "ListClusters", "ListNodegroups", "DescribeAddon"]);
            ("eks.amazonaws.com", name, format!(r#"{{"name":"{cluster}"}}"#), "null".to_string(), true, None)
        }
    };
    out.push_str(r#"{"eventVersion":"1.09","#);
    identity(rng, ctx, out);
    let ip = format!("{}.{}.{}.{}", 10 + rng.below(200), rng.below(256), rng.below(256), 1 + rng.below(254));
    let service = source.split('.').next().unwrap_or("");
    let _ = write!(
        out,
        r#""eventTime":"{t}","eventSource":"{source}","eventName":"{name}","awsRegion":"{r}","sourceIPAddress":"{ip}","userAgent":"{ua}","#,
        t = ctx.time,
        r = ctx.region,
        ua = user_agent(rng)
    );
    if let Some((code, message)) = &error {
        let _ = write!(out, r#""errorCode":"{code}","errorMessage":"{message}","#);
    }
    let _ = write!(
        out,
        r#""requestParameters":{params},"responseElements":{response},"requestID":"{rid}","eventID":"{eid}","readOnly":{read_only},"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"{a}","eventCategory":"Management","tlsDetails":{{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"{service}.{r}.amazonaws.com"}}}}"#,
        rid = rng.uuid(),
        eid = rng.uuid(),
        a = ctx.account,
        r = ctx.region
    );
}

#[derive(Default, Clone, Copy)]
struct Counts {
    records: u64,
    bytes: u64,
    eks_fixture_events: u64,
    failed_access_calls: u64,
}

/// One log file: its relative path, its records' counts, its gzip bytes.
fn make_file(
    index: u64,
    seed: u64,
    target: u64,
    eks_permille: u64,
    level: u32,
    failures: &[EksTemplate],
    benign: &[EksTemplate],
) -> (PathBuf, Counts, Vec<u8>) {
    let mut rng = Rng(seed ^ index.wrapping_mul(0xA24B_AED4_963E_E407));
    let account = ACCOUNTS[(index % ACCOUNTS.len() as u64) as usize];
    let region = REGIONS[(index / ACCOUNTS.len() as u64 % REGIONS.len() as u64) as usize];
    // Each (account, region) delivers one file per 5 minutes.
    let slot = index / (ACCOUNTS.len() * REGIONS.len()) as u64;
    let end = START_EPOCH + (slot + 1) * 300;
    let (y, mo, d, h, mi, _) = civil(end);
    let name = format!(
        "{account}_CloudTrail_{region}_{y:04}{mo:02}{d:02}T{h:02}{mi:02}Z_{}.json.gz",
        rng.chars(16, b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    );
    let path = PathBuf::from(format!("AWSLogs/{account}/CloudTrail/{region}/{y:04}/{mo:02}/{d:02}")).join(name);
    let mut counts = Counts::default();
    let mut text = String::with_capacity(target as usize + 8192);
    text.push_str(r#"{"Records":["#);
    let mut record = String::with_capacity(4096);
    while (text.len() as u64) < target {
        record.clear();
        let time = iso(end - 300 + rng.below(300));
        if rng.below(1000) < eks_permille {
            // 80% of EKS events are the catalogue's failed or risky calls, the rest benign.
            let t = if benign.is_empty() || rng.below(10) < 8 { rng.pick(failures) } else { rng.pick(benign) };
            record.push_str(
                &t.json.replace("@@EVENTID@@", &rng.uuid()).replace("@@REQUESTID@@", &rng.uuid()).replace("@@EVENTTIME@@", &time),
            );
            counts.eks_fixture_events += 1;
            counts.failed_access_calls += u64::from(t.failed_access_call);
        } else {
            other_record(&mut rng, &Ctx { account, region, time }, &mut record);
        }
        if counts.records > 0 {
            text.push(',');
        }
        text.push_str(&record);
        counts.records += 1;
    }
    text.push_str("]}");
    counts.bytes = text.len() as u64;
    let mut gz = GzEncoder::new(Vec::with_capacity(text.len() / 8), Compression::new(level));
    gz.write_all(text.as_bytes()).expect("in-memory gzip");
    (path, counts, gz.finish().expect("in-memory gzip"))
}

fn main() {
    let args = match args() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    let events = Path::new(env!("CARGO_MANIFEST_DIR")).join("events");
    let (failures, benign) = load_eks_templates(&events).unwrap_or_else(|e| {
        eprintln!("error: {e}");
        std::process::exit(2);
    });
    let started = std::time::Instant::now();
    // File sizes vary like real deliveries: 64 KiB to ~4 MiB uncompressed, decided up front.
    let mut sizer = Rng(args.seed);
    let mut plan = Vec::new();
    let mut planned = 0u64;
    while planned < args.size {
        let size = (64 << 10) + sizer.below(4 << 20);
        let size = size.min(args.size - planned).max(1);
        plan.push(size);
        planned += size;
    }
    let mut total = Counts::default();
    let mut written = 0u64;
    for (chunk_index, chunk) in plan.chunks(64).enumerate() {
        let files: Vec<_> = chunk
            .par_iter()
            .enumerate()
            .map(|(i, &size)| make_file((chunk_index * 64 + i) as u64, args.seed, size, args.eks_permille, args.level, &failures, &benign))
            .collect();
        for (path, counts, gz) in files {
            let full = args.out.join(&path);
            if let Some(parent) = full.parent() {
                std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("{}: {e}", parent.display()));
            }
            std::fs::write(&full, &gz).unwrap_or_else(|e| panic!("{}: {e}", full.display()));
            written += gz.len() as u64;
            total.records += counts.records;
            total.bytes += counts.bytes;
            total.eks_fixture_events += counts.eks_fixture_events;
            total.failed_access_calls += counts.failed_access_calls;
        }
    }
    let manifest = serde_json::json!({
        "seed": args.seed,
        "files": plan.len(),
        "records": total.records,
        "uncompressed_bytes": total.bytes,
        "compressed_bytes": written,
        "eks_fixture_events": total.eks_fixture_events,
        "failed_eks_access_calls": total.failed_access_calls,
    });
    std::fs::write(args.out.join("manifest.txt"), format!("{manifest:#}\n")).expect("write manifest");
    eprintln!(
        "{} files, {} records, {:.1} MiB uncompressed, {:.1} MiB gzip, {} EKS fixture events ({} failed access calls) in {:.1}s",
        plan.len(),
        total.records,
        total.bytes as f64 / (1 << 20) as f64,
        written as f64 / (1 << 20) as f64,
        total.eks_fixture_events,
        total.failed_access_calls,
        started.elapsed().as_secs_f64()
    );
}
