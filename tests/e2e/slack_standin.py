"""A local stand-in for a Slack incoming webhook, for scripts/e2e.

    python3 tests/e2e/slack_standin.py DIR

Listens on 127.0.0.1 on a free port, writes the URL to DIR/url, and records every
POST as DIR/NNNN.json: {"path", "body" (the raw text), "payload" (parsed JSON or
null), "problems" (Block Kit violations, [] when valid)}. Answers 200 `ok` to a valid
payload and, like Slack, 400 `invalid_blocks` (with the first problem) otherwise.
Stops on SIGTERM.

Faults, switched by PUT requests (for the soak and the idempotency checks):
- `/_control/down`: every later post gets 503, as in a Slack outage; `/_control/up` ends it.
- `/_control/faults` with a JSON body `{"share": 0.2, "seed": 1, "slow_seconds": 6}`: that
  share of posts fails, each in one of four ways chosen at random: 500, 429 with
  `Retry-After: 1`, slow (answered 200 after `slow_seconds`: the post is delivered, but
  a client that gave up earlier does not know it) and reset (the connection is closed
  without an answer). `/_control/healthy` ends them.
- `/_control/kill` with a JSON body `{"marker": "…"}`: the next post whose body contains
  the marker is recorded (delivered), then the process that sent it is killed (SIGKILL)
  before it gets an answer: a Lambda container dying between delivery and recording.
Every attempt, delivered or not, is appended to DIR/attempts.ndjson:
{"n", "event_id", "roles" (role names the post mentions), "outcome": "ok" | "invalid" | "down" | "500" | "429" |
"slow" | "reset" | "killed"}.
"""
import http.server
import json
import os
import pathlib
import random
import re
import signal
import socket
import sys
import threading
import time

HEADER_LIMIT = 150
SECTION_LIMIT = 3000
FIELD_LIMIT = 2000
FIELDS_MAX = 10
BLOCKS_MAX = 50
# Slack's special sequences: <!channel>, <!here>, <!subteam^…>, <@U…> mentions.
# The function writes none of its own, so any in a payload came from an event value.
MENTION = re.compile(r"<[!@]")
# IAM role names a post mentions (the principal of an authenticator denial has no event id).
ROLE = re.compile(r"role/([A-Za-z0-9+=,.@_-]+)")


def text_problems(where, obj, limit, kinds=("plain_text", "mrkdwn")):
    if not isinstance(obj, dict):
        return [f"{where}: text object is not an object"]
    problems = []
    if obj.get("type") not in kinds:
        problems.append(f"{where}: text type {obj.get('type')!r} not in {kinds}")
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        problems.append(f"{where}: text missing or empty")
        return problems
    if len(text) > limit:
        problems.append(f"{where}: text has {len(text)} characters (limit {limit})")
    if MENTION.search(text):
        problems.append(f"{where}: unescaped mention/command {MENTION.search(text).group(0)!r}")
    return problems


def block_kit_problems(payload):
    """Violations of the Block Kit rules Slack enforces that this function can break."""
    if not isinstance(payload, dict):
        return ["payload is not a JSON object"]
    problems = []
    text = payload.get("text")
    if not isinstance(text, str) or not text:
        problems.append("top-level text (the notification fallback) missing")
    elif MENTION.search(text):
        problems.append(f"top-level text: unescaped mention/command {MENTION.search(text).group(0)!r}")
    blocks = payload.get("blocks")
    if not isinstance(blocks, list) or not blocks:
        return problems + ["blocks is not a non-empty list"]
    if len(blocks) > BLOCKS_MAX:
        problems.append(f"{len(blocks)} blocks (limit {BLOCKS_MAX})")
    for i, block in enumerate(blocks):
        where = f"blocks[{i}]"
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            problems.append(f"{where}: no type")
            continue
        kind = block["type"]
        if kind == "header":
            problems += text_problems(f"{where} header", block.get("text"), HEADER_LIMIT, ("plain_text",))
        elif kind == "section":
            if "text" not in block and "fields" not in block:
                problems.append(f"{where}: section with neither text nor fields")
            if "text" in block:
                problems += text_problems(f"{where} section", block["text"], SECTION_LIMIT)
            if "fields" in block:
                fields = block["fields"]
                if not isinstance(fields, list) or not fields:
                    problems.append(f"{where}: fields is not a non-empty list")
                    continue
                if len(fields) > FIELDS_MAX:
                    problems.append(f"{where}: {len(fields)} fields (limit {FIELDS_MAX})")
                for j, field in enumerate(fields):
                    problems += text_problems(f"{where}.fields[{j}]", field, FIELD_LIMIT)
        elif kind == "context":
            elements = block.get("elements")
            if not isinstance(elements, list) or not elements or len(elements) > 10:
                problems.append(f"{where}: context needs 1..10 elements")
                continue
            for j, element in enumerate(elements):
                problems += text_problems(f"{where}.elements[{j}]", element, SECTION_LIMIT)
        elif kind == "divider":
            pass
        else:
            problems.append(f"{where}: unexpected block type {kind!r}")
    return problems


def event_id_of(payload):
    """The event id in a post's context line (as tests/e2e/e2e.py reads it)."""
    if not isinstance(payload, dict):
        return None
    for block in reversed(payload.get("blocks") or []):
        for el in (block.get("elements") or []) if isinstance(block, dict) else []:
            m = re.search(r"event `([^`]+)`", el.get("text", "") if isinstance(el, dict) else "")
            if m:
                return m.group(1)
    return None


def sender_pid(client_port):
    """The pid of the local process whose TCP socket has `client_port` (via /proc)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = pathlib.Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == client_port:
                inodes.add(f"socket:[{fields[9]}]")
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes and int(pid) != os.getpid():
                    return int(pid)
            except OSError:
                continue
    return None


class Handler(http.server.BaseHTTPRequestHandler):
    counter = 0
    attempts = 0
    down = False
    faults = None  # {"share", "slow_seconds", "random"} while faults are on
    kill_marker = None
    lock = threading.Lock()
    out_dir = pathlib.Path(".")

    def do_PUT(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        with Handler.lock:
            if self.path in ("/_control/down", "/_control/up"):
                Handler.down = self.path == "/_control/down"
            elif self.path == "/_control/faults":
                Handler.faults = {"share": float(body.get("share", 0.2)), "slow_seconds": float(body.get("slow_seconds", 6)),
                                  "random": random.Random(body.get("seed", 1))}
            elif self.path == "/_control/healthy":
                Handler.faults = None
            elif self.path == "/_control/kill":
                Handler.kill_marker = body["marker"]
        self.send_response(204)
        self.end_headers()

    def attempt(self, payload, outcome):
        with Handler.lock:
            Handler.attempts += 1
            roles = sorted(set(ROLE.findall(json.dumps(payload))))
            line = json.dumps({"n": Handler.attempts, "event_id": event_id_of(payload), "roles": roles, "outcome": outcome})
            with open(Handler.out_dir / "attempts.ndjson", "a") as f:
                f.write(line + "\n")

    def record(self, raw, payload, problems):
        with Handler.lock:
            Handler.counter += 1
            n = Handler.counter
        record = {"path": self.path, "body": raw, "payload": payload, "problems": problems}
        tmp = Handler.out_dir / f".{n:04d}.tmp"
        tmp.write_text(json.dumps(record))
        tmp.rename(Handler.out_dir / f"{n:04d}.json")

    def answer(self, status, text=b"", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(text)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(text)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8", errors="replace")
        try:
            payload = json.loads(raw)
            problems = block_kit_problems(payload)
        except ValueError as e:
            payload, problems = None, [f"body is not JSON: {e}"]
        if self.headers.get_content_type() != "application/json":
            problems.append(f"Content-Type is {self.headers.get('Content-Type')!r}")
        with Handler.lock:
            down, faults, marker = Handler.down, Handler.faults, Handler.kill_marker
            fault = None
            if faults and faults["random"].random() < faults["share"]:
                fault = faults["random"].choice(["500", "429", "slow", "reset"])
            killing = marker is not None and marker in raw
            if killing:
                Handler.kill_marker = None
        if down:
            self.attempt(payload, "down")
            return self.answer(503)
        if fault in ("500", "429", "reset"):
            self.attempt(payload, fault)
            if fault == "500":
                return self.answer(500, b"internal_error")
            if fault == "429":
                return self.answer(429, b"rate_limited", [("Retry-After", "1")])
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return None
        self.record(raw, payload, problems)
        if killing:
            pid = sender_pid(self.client_address[1])
            cmdline = pathlib.Path(f"/proc/{pid}/cmdline").read_bytes() if pid else b""
            if pid and b"bootstrap" in cmdline:
                os.kill(pid, signal.SIGKILL)
                self.attempt(payload, "killed")
            else:
                self.attempt(payload, f"kill failed: sender {pid} {cmdline[:80]!r}")
            self.close_connection = True
            return None
        if fault == "slow":
            time.sleep(faults["slow_seconds"])
        self.attempt(payload, "slow" if fault == "slow" else ("ok" if not problems else "invalid"))
        if problems:
            return self.answer(400, ("invalid_blocks: " + problems[0]).encode())
        return self.answer(200, b"ok")

    def log_message(self, fmt, *args):
        pass


def main():
    out = pathlib.Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    Handler.out_dir = out
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    port = server.server_address[1]
    (out / "url.tmp").write_text(f"http://127.0.0.1:{port}/services/T0E2E/B0E2E/e2e-secret-token\n")
    (out / "url.tmp").rename(out / "url")
    server.serve_forever()


if __name__ == "__main__":
    main()
