#!/usr/bin/env python3
"""Cold start of the function against a fake Lambda Runtime API (stdlib only).

For each run: exec the function with a fresh environment, then measure
  init  = exec -> first GET /runtime/invocation/next
  first = exec -> POST of the first invocation's response (one EventBridge event,
          with enrichment and Slack delivery pointed at local HTTP servers)
and, after killing it, the process's peak RSS (wait4 ru_maxrss).

Usage:
  coldstart.py --cmd target/release/eks-access-doctor-lambda --runs 30
  coldstart.py --cmd ".tools/sam/bin/python benches/coldstart/python_handler.py" --runs 10
Prints one human line per command and, with --json, one JSON object per command.

Certificates: the SDK reads the system's CA certificates at init (rustls-native-certs:
the bundle file, then every file of the certificate directory). --certs lambda (the
default) gives the function the layout of the provided.al2023 image, a directory
holding ca-bundle.crt and ca-bundle.trust.crt (both the host's bundle here, so the
trust file is read in full: if anything, more work than on Lambda); --certs host
leaves this machine's own (Debian's /etc/ssl/certs: ~150 single-certificate files,
each opened and read, some 3 ms more).
"""

import argparse
import http.server
import json
import os
import shlex
import signal
import statistics
import subprocess
import shutil
import ssl
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FUNCTION_ARN = "arn:aws:lambda:eu-west-1:111122223333:function:doctor"


class Run:
    """What one function process did, as seen by the fake Runtime API."""

    def __init__(self, event):
        self.event = event
        self.t_next = None
        self.t_answer = None
        self.kind = None
        self.body = b""
        self.served = False
        self.done = threading.Event()
        self.release = threading.Event()


STATE = {"run": None}


class Quiet(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class RuntimeApi(Quiet):
    def do_GET(self):
        run = getattr(self.server, "run", None)
        if not self.path.endswith("/runtime/invocation/next") or run is None:
            return self.reply(404)
        if run.t_next is None:
            run.t_next = time.perf_counter_ns()
        if run.served:
            # Later polls wait, as on Lambda between events, until the process is killed.
            run.release.wait(60)
            return
        run.served = True
        deadline = int(time.time() * 1000) + 30_000
        self.reply(200, run.event, [
            ("Content-Type", "application/json"),
            ("Lambda-Runtime-Aws-Request-Id", "req-1"),
            ("Lambda-Runtime-Deadline-Ms", str(deadline)),
            ("Lambda-Runtime-Invoked-Function-Arn", FUNCTION_ARN),
            ("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Sampled=0"),
        ])

    def do_POST(self):
        run = getattr(self.server, "run", None)
        body = self.body()
        kind = "response" if self.path.endswith("/response") else ("init_error" if "/init/error" in self.path else "error")
        if run is not None and run.t_answer is None:
            run.t_answer = time.perf_counter_ns()
            run.kind, run.body = kind, body
            run.done.set()
        self.reply(202, b'{"status":"OK"}', [("Content-Type", "application/json")])


class Slack(Quiet):
    def do_POST(self):
        self.body()
        self.reply(200, b"ok", [("Content-Type", "text/plain")])


class Aws(Quiet):
    """Any AWS call: a fast, well-formed 'not found' (JSON for EKS, XML for IAM/SNS)."""

    def do_POST(self):
        self.body()
        target = self.headers.get("Content-Type", "")
        if "x-amz-json" in target or "json" in target:
            return self.reply(404, b'{"__type":"ResourceNotFoundException","message":"not found (local endpoint)"}',
                              [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-errortype", "ResourceNotFoundException")])
        return self.reply(404, b'<ErrorResponse><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>not found (local endpoint)</Message></Error><RequestId>1</RequestId></ErrorResponse>',
                          [("Content-Type", "text/xml")])

    def do_GET(self):
        # EKS DescribeCluster is GET /clusters/<name> (REST-JSON).
        self.reply(404, b'{"message":"No cluster found (local endpoint)"}',
                   [("Content-Type", "application/json"), ("x-amzn-errortype", "ResourceNotFoundException")])


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a killed function resets its held-open poll: expected


def serve(handler):
    server = Server(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, "127.0.0.1:%d" % server.server_address[1]


def environment(api, slack, aws, memory):
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "AWS_LAMBDA_RUNTIME_API": api,
        "AWS_LAMBDA_FUNCTION_NAME": "doctor",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/doctor",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2026/11/28/[$LATEST]0123456789abcdef",
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "AKIDBENCHMARK",
        "AWS_SECRET_ACCESS_KEY": "benchmark-secret",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ENDPOINT_URL": "http://" + aws,
        "SLACK_WEBHOOK_URL": "http://" + slack + "/services/T000/B000/benchmark",
        "ENRICHMENT_TIMEOUT_MS": "1500",
        "MIN_SEVERITY": "info",
        "RUST_LOG": "info",
    }
    return env


def lambda_certs(env):
    """`env` pointing at a certificate directory shaped like provided.al2023's
    /etc/pki/tls/certs, made from this machine's bundle."""
    paths = ssl.get_default_verify_paths()
    bundle = next((p for p in (os.environ.get("SSL_CERT_FILE"), paths.cafile, paths.openssl_cafile,
                               "/etc/ssl/certs/ca-certificates.crt") if p and os.path.isfile(p)), None)
    if bundle is None:
        raise SystemExit("no CA bundle on this machine to build the Lambda layout from (use --certs host)")
    certs = Path(tempfile.mkdtemp(prefix="coldstart-certs-"))
    for name in ("ca-bundle.crt", "ca-bundle.trust.crt"):
        shutil.copyfile(bundle, certs / name)
    return dict(env, SSL_CERT_FILE=str(certs / "ca-bundle.crt"), SSL_CERT_DIR=str(certs)), certs


def one(cmd, env, event):
    # A Runtime API of its own per run: a killed process's late poll cannot take the next run's event.
    server, api = serve(RuntimeApi)
    env = dict(env, AWS_LAMBDA_RUNTIME_API=api)
    run = Run(event)
    server.run = run
    STATE["run"] = run
    t0 = time.perf_counter_ns()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    finished = run.done.wait(20)
    try:
        proc.send_signal(signal.SIGKILL)
    except ProcessLookupError:
        pass
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = status
    err = proc.stdout.read().decode(errors="replace")
    proc.stdout.close()
    run.release.set()
    STATE["run"] = None
    server.shutdown()
    server.server_close()
    if not finished or run.t_next is None:
        raise SystemExit("no answer from %s within 60s; stderr:\n%s" % (cmd, err[-2000:]))
    if run.kind != "response":
        raise SystemExit("%s answered %s: %s\nstderr:\n%s" % (cmd, run.kind, run.body[:500], err[-2000:]))
    return {
        "init_ms": (run.t_next - t0) / 1e6,
        "first_response_ms": (run.t_answer - t0) / 1e6,
        "max_rss_mb": usage.ru_maxrss / 1024.0,
        "body": run.body.decode(errors="replace"),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cmd", action="append", required=True, help="command to start (repeatable)")
    parser.add_argument("--label", action="append", help="label per --cmd")
    parser.add_argument("--runs", type=int, action="append", help="runs per --cmd (default 20)")
    parser.add_argument("--event", default=str(ROOT / "events" / "reserved-username-prefix.json"))
    parser.add_argument("--memory", type=int, default=128)
    parser.add_argument("--json", action="store_true", help="also print one JSON object per command")
    parser.add_argument("--certs", choices=("lambda", "host"), default="lambda",
                        help="CA certificate layout: provided.al2023's (default) or this machine's")
    args = parser.parse_args()

    event = Path(args.event).read_bytes()
    servers = [serve(h) for h in (Slack, Aws)]
    (_, slack), (_, aws) = servers
    env = environment("unset", slack, aws, args.memory)
    certs = None
    if args.certs == "lambda":
        env, certs = lambda_certs(env)
    results = []
    for i, cmd in enumerate(args.cmd):
        label = (args.label or [])[i] if args.label and i < len(args.label) else cmd
        runs = (args.runs or [])[i] if args.runs and i < len(args.runs) else (args.runs or [20])[-1]
        argv = shlex.split(cmd)
        one(argv, env, event)  # warm the page cache: a cold start on Lambda is not a cold disk
        samples = [one(argv, env, event) for _ in range(runs)]
        summary = {"label": label, "cmd": cmd, "runs": runs}
        for key in ("init_ms", "first_response_ms", "max_rss_mb"):
            values = sorted(s[key] for s in samples)
            summary[key] = {"median": statistics.median(values), "min": values[0], "max": values[-1]}
        summary["response"] = samples[-1]["body"][:300]
        results.append(summary)
        print("%-10s init median %7.2f ms (min %.2f, max %.2f)   first response median %7.2f ms   peak RSS %.1f MB   (%d runs)" % (
            label, summary["init_ms"]["median"], summary["init_ms"]["min"], summary["init_ms"]["max"],
            summary["first_response_ms"]["median"], summary["max_rss_mb"]["max"], runs), file=sys.stderr)
    if args.json:
        for r in results:
            print(json.dumps(r))
    for server, _ in servers:
        server.shutdown()
    if certs:
        shutil.rmtree(certs, ignore_errors=True)


if __name__ == "__main__":
    main()
