"""A local stand-in for a Slack incoming webhook, for scripts/e2e.

    python3 tests/e2e/slack_standin.py DIR

Listens on 127.0.0.1 on a free port, writes the URL to DIR/url, and records every
POST as DIR/NNNN.json: {"path", "body" (the raw text), "payload" (parsed JSON or
null), "problems" (Block Kit violations, [] when valid)}. Answers 200 `ok` to a valid
payload and, like Slack, 400 `invalid_blocks` (with the first problem) otherwise.
Stops on SIGTERM.
"""
import http.server
import json
import pathlib
import re
import signal
import sys
import threading

HEADER_LIMIT = 150
SECTION_LIMIT = 3000
FIELD_LIMIT = 2000
FIELDS_MAX = 10
BLOCKS_MAX = 50
# Slack's special sequences: <!channel>, <!here>, <!subteam^…>, <@U…> mentions.
# The function writes none of its own, so any in a payload came from an event value.
MENTION = re.compile(r"<[!@]")


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


class Handler(http.server.BaseHTTPRequestHandler):
    counter = 0
    down = False  # PUT /_control/down: every later post gets 503, as in a Slack outage
    lock = threading.Lock()
    out_dir = pathlib.Path(".")

    def do_PUT(self):
        Handler.down = self.path == "/_control/down"
        self.send_response(204)
        self.end_headers()

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8", errors="replace")
        if Handler.down:
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        try:
            payload = json.loads(raw)
            problems = block_kit_problems(payload)
        except ValueError as e:
            payload, problems = None, [f"body is not JSON: {e}"]
        if self.headers.get_content_type() != "application/json":
            problems.append(f"Content-Type is {self.headers.get('Content-Type')!r}")
        with Handler.lock:
            Handler.counter += 1
            n = Handler.counter
        record = {"path": self.path, "body": raw, "payload": payload, "problems": problems}
        tmp = Handler.out_dir / f".{n:04d}.tmp"
        tmp.write_text(json.dumps(record))
        tmp.rename(Handler.out_dir / f"{n:04d}.json")
        status, answer = (200, b"ok") if not problems else (400, ("invalid_blocks: " + problems[0]).encode())
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

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
