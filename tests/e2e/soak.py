"""Reliability of the deployed stack under load and faults (issue 14), driven by e2e.py.

- `check_idempotency`: the same event given to several containers at once is delivered
  once; a container killed between delivery and recording (the Slack stand-in kills the
  process that posted) costs at most one duplicate and loses nothing.
- `check_soak`: thousands of mixed events (every cause fixture, benign calls, unreadable
  payloads, duplicates of the same eventID, authenticator denials as CloudWatch Logs
  subscription batches) invoked asynchronously while the Slack
  stand-in fails a share of posts (500, 429 with Retry-After, slow, reset) and SNS is
  down for a while (a proxy in front of MiniStack's SNS answers 503), then a
  reconciliation event by event: every alert that should exist was delivered or its
  event is in the failure queue; duplicates counted and explained; nothing lost.

SNS faults: the function's `AWS_ENDPOINT_URL_SNS` points at `SnsFaultProxy` for the
soak (UpdateFunctionConfiguration; MiniStack recycles the containers), which forwards
every request to MiniStack unless an outage is on. Grouping is off for the soak
(`FLOOD_WINDOW_SECONDS=0`): each event with a finding is one alert, so "every alert that
should exist" is known event by event; grouping under load is e2e.py's flood check.
"""
import base64
import concurrent.futures
import gzip
import http.client
import http.server
import json
import pathlib
import random
import re
import threading
import time
import urllib.parse
import urllib.request
import uuid

SNS_EVENT_ID = re.compile(r"^  event id   (\S+)$", re.M)
SLACK_EVENT_ID = re.compile(r"event `([^`]+)`")


class SnsFaultProxy:
    """A loopback HTTP proxy to MiniStack that can play an SNS outage (503 with SNS's
    XML error body) and logs every Publish: (event id, "forwarded" | "outage")."""

    def __init__(self, upstream):
        self.upstream = urllib.parse.urlparse(upstream)
        self.outage = False
        self.publishes = []
        self.lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
                event_id = None
                if form.get("Action") == ["Publish"]:
                    m = SNS_EVENT_ID.search((form.get("Message") or [""])[0])
                    event_id = m.group(1) if m else None
                with proxy.lock:
                    outage = proxy.outage
                    if form.get("Action") == ["Publish"]:
                        proxy.publishes.append((event_id, "outage" if outage else "forwarded"))
                if outage:
                    error = (b'<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Receiver</Type>'
                             b"<Code>ServiceUnavailable</Code><Message>Service is unavailable</Message></Error>"
                             b"<RequestId>soak</RequestId></ErrorResponse>")
                    return self.reply(503, {"Content-Type": "text/xml"}, error)
                conn = http.client.HTTPConnection(proxy.upstream.hostname, proxy.upstream.port, timeout=30)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "content-length")}
                    conn.request("POST", self.path, body=body, headers=headers)
                    resp = conn.getresponse()
                    data = resp.read()
                    kept = {k: v for k, v in resp.getheaders() if k.lower() in ("content-type", "x-amzn-requestid")}
                    self.reply(resp.status, kept, data)
                finally:
                    conn.close()

            def reply(self, status, headers, data):
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()


def control(slack_url, path, body=None):
    base = slack_url.split("/services/")[0]
    data = json.dumps(body or {}).encode()
    urllib.request.urlopen(urllib.request.Request(base + path, data=data, method="PUT"), timeout=5)


def slack_posts(slack_dir):
    """Delivered posts: [(event id, post)]."""
    out = []
    for p in sorted(slack_dir.glob("[0-9]*.json")):
        rec = json.loads(p.read_text())
        m = None
        for block in reversed((rec.get("payload") or {}).get("blocks") or []):
            for el in block.get("elements") or []:
                m = m or SLACK_EVENT_ID.search(el.get("text", ""))
        out.append((m.group(1) if m else None, rec))
    return out


def slack_attempts(slack_dir):
    path = slack_dir / "attempts.ndjson"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


class Sinks:
    """What reached people, read incrementally: SNS (via the SQS subscription) and Slack."""

    def __init__(self, sqs, sink_q, failure_url, slack_dir):
        self.sqs, self.sink_q, self.failure_url, self.slack_dir = sqs, sink_q, failure_url, slack_dir
        self.sns = []        # (event id, cause)
        self.sns_text = []   # every SNS message, for alerts without an event id (denials)
        self.failed = []     # failure-queue records
        self.slack_skip = len(list(slack_dir.glob("[0-9]*.json")))

    def poll(self):
        for url, into in ((self.sink_q, "sns"), (self.failure_url, "failed")):
            while True:
                resp = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                                MessageAttributeNames=["All"])
                msgs = resp.get("Messages", [])
                if not msgs:
                    break
                for m in msgs:
                    body = json.loads(m["Body"])
                    if into == "sns":
                        eid = SNS_EVENT_ID.search(body.get("Message", ""))
                        cause = ((body.get("MessageAttributes") or {}).get("cause") or {}).get("Value")
                        self.sns.append((eid.group(1) if eid else None, cause))
                        self.sns_text.append(body.get("Message", ""))
                    else:
                        self.failed.append(body)
                    self.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])

    def slack(self):
        return slack_posts(self.slack_dir)[self.slack_skip:]


def failed_id(record):
    payload = record.get("requestPayload") or {}
    return ((payload.get("detail") or {}).get("eventID")) or payload.get("soak") or payload.get("e2e")


def failed_roles(record):
    """The roles of the authenticator lines in a failed CloudWatch Logs batch."""
    data = ((record.get("requestPayload") or {}).get("awslogs") or {}).get("data")
    if not data:
        return set()
    batch = json.loads(gzip.decompress(base64.b64decode(data)))
    return {m.group(1) for e in batch.get("logEvents", []) for m in [DENIED_ROLE.search(e.get("message", ""))] if m}


DENIED_ROLE = re.compile(r'arn="arn:aws:iam::\d+:role/(soak-denied-[0-9a-f]+)"')


def authenticator_line(account, role, when):
    """A denial as aws-iam-authenticator logs it (the shape e2e.py's checks use)."""
    return (f'time="{when}" level=warning msg="access denied" arn="arn:aws:iam::{account}:role/{role}" '
            f'client="127.0.0.1:33384" error="ARN is not mapped" method=POST path=/authenticate')


def failed_type(record):
    response = record.get("responsePayload") or {}
    return response.get("errorType") if isinstance(response, dict) else None


def fixture_event(path, event_id, principal_suffix=None):
    event = json.loads(path.read_text())
    event["id"] = str(uuid.uuid4())
    event["detail"]["eventID"] = event_id
    if principal_suffix:
        params = event["detail"].setdefault("requestParameters", {})
        params["principalArn"] = params.get("principalArn", "arn:aws:iam::111122223333:role/e2e") + principal_suffix
    return event


# -- idempotency under concurrency ------------------------------------------------------

def wait_for(sinks, done, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sinks.poll()
        if done():
            return True
        time.sleep(0.5)
    return False


def check_idempotency(r, lam, fn, sqs, sink_q, failure_url, slack_dir, slack_url, events_dir):
    t0 = time.monotonic()
    sinks = Sinks(sqs, sink_q, failure_url, slack_dir)
    template = events_dir / "reserved-group-prefix.json"

    # Four containers given the same event at the same moment.
    eid = f"same-moment-{uuid.uuid4()}"
    payload = json.dumps(fixture_event(template, eid, "-same-moment")).encode()
    barrier = threading.Barrier(4)

    def invoke(_):
        barrier.wait()
        return lam.invoke(FunctionName=fn, InvocationType="Event", Payload=payload)["StatusCode"]

    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(pool.map(invoke, range(4)))
    r.check("same event, 4 containers at once: invokes accepted", statuses == [202] * 4, statuses)
    wait_for(sinks, lambda: any(e == eid for e, _ in sinks.sns), 30)
    time.sleep(8)  # MiniStack retries a failed async invoke after 1 s, then 2 s more
    sinks.poll()
    sns_n = sum(1 for e, _ in sinks.sns if e == eid)
    slack_n = sum(1 for e, _ in sinks.slack() if e == eid)
    in_progress = [f for f in sinks.failed if failed_id(f) == eid]
    r.check(f"same event, 4 containers at once: one delivery per sink (SNS {sns_n}, Slack {slack_n})",
            sns_n == 1 and slack_n == 1, f"SNS {sns_n}, Slack {slack_n}, failure queue {[failed_type(f) for f in in_progress]}")
    r.check("same event, 4 containers at once: any that ended in the failure queue waited for the delivering one",
            all(failed_type(f) == "EventInProgress" for f in in_progress), [failed_type(f) for f in in_progress])

    # A container killed after delivering, before recording the delivery.
    eid = f"killed-{uuid.uuid4()}"
    marker = f"killed-marker-{uuid.uuid4().hex[:8]}"
    event = fixture_event(template, eid, "-" + marker)
    control(slack_url, "/_control/kill", {"marker": marker})
    started = time.time()
    lam.invoke(FunctionName=fn, InvocationType="Event", Payload=json.dumps(event).encode())
    killed = wait_for(sinks, lambda: any(a.get("event_id") == eid and a["outcome"] == "killed" for a in slack_attempts(slack_dir)), 30)
    outcomes = [a["outcome"] for a in slack_attempts(slack_dir) if a.get("event_id") == eid]
    r.check("killed container: the stand-in killed the function process right after its post", killed, outcomes)
    # Lambda's retries find the claim's lease (until the killed invocation's deadline)
    # and either wait it out (AWS retries after a minute) or, as here where MiniStack
    # retries within seconds, end in the failure queue; a redrive after the lease delivers.
    settled = wait_for(sinks, lambda: any(failed_id(f) == eid for f in sinks.failed)
                       or sum(1 for e, _ in sinks.sns if e == eid) >= 2, 60)
    record = next((f for f in sinks.failed if failed_id(f) == eid), None)
    sns_n = sum(1 for e, _ in sinks.sns if e == eid)
    slack_n = sum(1 for e, _ in sinks.slack() if e == eid)
    r.check(f"killed container: delivered before the kill (SNS {sns_n}, Slack {slack_n}); its retries are in the failure queue "
            f"({failed_type(record) if record else None}) or delivered again", settled and slack_n >= 1 and sns_n >= 1,
            f"failure queue {record and failed_type(record)}, SNS {sns_n}, Slack {slack_n}")
    if record is not None:
        m = re.search(r"until (\d+)", json.dumps(record.get("responsePayload")))
        until = int(m.group(1)) if m else started + 35
        time.sleep(max(0.0, until - time.time() + 1.5))
        resp = lam.invoke(FunctionName=fn, InvocationType="RequestResponse", Payload=json.dumps(record["requestPayload"]).encode())
        body = json.loads(resp["Payload"].read() or b"{}")
        r.check("killed container: the failure queue's event, redriven after the lease, alerts", body.get("outcome") == "alerted", body)
        time.sleep(2)
        sinks.poll()
        sns_n = sum(1 for e, _ in sinks.sns if e == eid)
        slack_n = sum(1 for e, _ in sinks.slack() if e == eid)
    r.check(f"killed container: at most one duplicate, never a loss (SNS {sns_n}, Slack {slack_n})",
            1 <= sns_n <= 2 and 1 <= slack_n <= 2, f"SNS {sns_n}, Slack {slack_n}")
    print(f"# idempotency checks: {time.monotonic() - t0:.1f}s")


# -- the soak -----------------------------------------------------------------------------

def plan_events(count, cause_files, none_files, cause_of, seed):
    """[(label, kind, event id, payload)]: causes, benign calls, unreadable payloads,
    authenticator denials (the id is the denied role) and re-sends of earlier events
    (same eventID), in a seeded random order."""
    rnd = random.Random(seed)
    planned, sent = [], []
    for i in range(count):
        roll = rnd.random()
        if roll < 0.15 and sent:
            label, kind, eid, payload = rnd.choice(sent)
            planned.append((label, "resend-" + kind, eid, payload))
            continue
        if roll < 0.20:
            eid = f"soak-{i}-unreadable"
            planned.append(("unreadable", "unreadable", eid, json.dumps({"hello": i, "soak": eid}).encode()))
            continue
        if roll < 0.28:
            role = f"soak-denied-{uuid.uuid4().hex[:12]}"
            planned.append(("authenticator denial", "denial", role, role.encode()))
            continue
        benign = roll < 0.43
        path = rnd.choice(none_files if benign else cause_files)
        eid = f"soak-{i}-{uuid.uuid4().hex[:12]}"
        event = fixture_event(path, eid)
        item = (path.name, "benign" if benign else "cause:" + cause_of(path), eid, json.dumps(event).encode())
        planned.append(item)
        sent.append(item)
    return planned


def check_soak(r, lam, fn, sqs, auth_group, account, sink_q, failure_url, slack_dir, slack_url, cause_files, none_files,
               cause_of, count, fault_share=0.2, outage_seconds=8.0):
    t0 = time.monotonic()
    config = lam.get_function_configuration(FunctionName=fn)
    original = dict(config["Environment"]["Variables"])
    proxy = SnsFaultProxy(original.get("AWS_ENDPOINT_URL") or "")
    soak_env = dict(original, AWS_ENDPOINT_URL_SNS=proxy.url, FLOOD_WINDOW_SECONDS="0")
    lam.update_function_configuration(FunctionName=fn, Environment={"Variables": soak_env})
    for _ in range(50):
        if lam.get_function_configuration(FunctionName=fn).get("LastUpdateStatus") in ("Successful", None):
            break
        time.sleep(0.2)
    sinks = Sinks(sqs, sink_q, failure_url, slack_dir)
    attempts_before = len(slack_attempts(slack_dir))
    control(slack_url, "/_control/faults", {"share": fault_share, "seed": 14, "slow_seconds": 6})
    planned = plan_events(count, cause_files, none_files, cause_of, seed=14)
    outage = {"from": None, "to": None}

    def sns_outage():
        outage["from"] = time.monotonic()
        proxy.outage = True
        time.sleep(outage_seconds)
        proxy.outage = False
        outage["to"] = time.monotonic()

    stream = f"authenticator-soak{uuid.uuid4().hex[:8]}"

    def invoke(item):
        payload = item[3]
        if item[1] == "denial":
            # What CloudWatch Logs sends for the subscription, invoked asynchronously as
            # on AWS (MiniStack's own delivery invokes once, without Lambda's retries or
            # the failure destination; e2e.py's authenticator checks go through it).
            when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            batch = {"messageType": "DATA_MESSAGE", "owner": account, "logGroup": auth_group, "logStream": stream,
                     "subscriptionFilters": ["soak"], "logEvents": [
                         {"id": uuid.uuid4().hex, "timestamp": int(time.time() * 1000),
                          "message": authenticator_line(account, item[2], when)}]}
            data = base64.b64encode(gzip.compress(json.dumps(batch).encode())).decode()
            payload = json.dumps({"awslogs": {"data": data}}).encode()
        return lam.invoke(FunctionName=fn, InvocationType="Event", Payload=payload)["StatusCode"]

    started = time.monotonic()
    outage_thread = None
    statuses = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        futures = []
        for n, item in enumerate(planned):
            if n == len(planned) * 2 // 5:
                outage_thread = threading.Thread(target=sns_outage)
                outage_thread.start()
            futures.append(pool.submit(invoke, item))
        statuses = [f.result() for f in futures]
    invoked = time.monotonic() - started
    r.check(f"soak: {len(planned)} asynchronous invokes accepted ({invoked:.1f}s)", statuses == [202] * len(planned), set(statuses))
    if outage_thread:
        outage_thread.join()

    causes = {eid: kind.split(":", 1)[1] for _, kind, eid, _ in planned if kind.startswith("cause:")}
    benign = {eid for _, kind, eid, _ in planned if kind == "benign"}
    unreadable = {eid for _, kind, eid, _ in planned if kind == "unreadable"}
    denials = {eid for _, kind, eid, _ in planned if kind == "denial"}

    def named(role, text):
        return f"role/{role}" in text

    def denial_counts(role, slack):
        return {"sns": sum(1 for m in sinks.sns_text if named(role, m)),
                "slack": sum(1 for _, p in slack if named(role, json.dumps(p.get("payload"))))}

    def failed_denials():
        return set().union(*(failed_roles(f) for f in sinks.failed)) if sinks.failed else set()

    def accounted():
        sns_ids = {e for e, _ in sinks.sns}
        slack = sinks.slack()
        slack_ids = {e for e, _ in slack}
        failed = {failed_id(f) for f in sinks.failed}
        gone = failed_denials()
        return (all((eid in sns_ids or eid in failed) and (eid in slack_ids or eid in failed) for eid in causes)
                and unreadable <= failed
                and all(role in gone or min(denial_counts(role, slack).values()) >= 1 for role in denials))

    settled = wait_for(sinks, accounted, 240)
    time.sleep(6)  # late duplicates: retries still running when the last alert arrived
    sinks.poll()
    control(slack_url, "/_control/healthy")
    wall = time.monotonic() - started

    slack = sinks.slack()
    failed_by_id = {}
    for f in sinks.failed:
        failed_by_id.setdefault(failed_id(f), []).append(failed_type(f))
    attempts = slack_attempts(slack_dir)[attempts_before:]
    faulted_slack = {a["event_id"] for a in attempts if a["outcome"] not in ("ok", "invalid")}
    faulted_sns = {e for e, how in proxy.publishes if how == "outage"}
    lost, duplicates, unexplained, delivered = [], 0, [], {"sns": 0, "slack": 0}
    for eid, cause in causes.items():
        counts = {"sns": sum(1 for e, c in sinks.sns if e == eid and c == cause),
                  "slack": sum(1 for e, p in slack if e == eid and f"`{cause}`" in (p.get("payload") or {}).get("text", ""))}
        for sink, n in counts.items():
            delivered[sink] += min(n, 1)
            if n == 0 and eid not in failed_by_id:
                lost.append((eid, cause, sink))
            if n > 1:
                duplicates += n - 1
                # A retry re-sends what the failed attempt had delivered (in another
                # container), or what a slow answer hid from the function.
                if not (eid in faulted_slack or eid in faulted_sns or eid in failed_by_id):
                    unexplained.append((eid, sink, n))
    denied_failed = failed_denials()
    faulted_roles = {role for a in attempts if a["outcome"] not in ("ok", "invalid") for role in a.get("roles", [])}
    for role in denials:
        counts = denial_counts(role, slack)
        for sink, n in counts.items():
            delivered[sink] += min(n, 1)
            if n == 0 and role not in denied_failed:
                lost.append((role, "identity-not-mapped", sink))
            if n > 1:
                duplicates += n - 1
                if not (role in faulted_roles or faulted_sns or role in denied_failed):
                    unexplained.append((role, sink, n))
    unreadable_lost = sorted(unreadable - set(failed_by_id))
    benign_sent = sorted({e for e, _ in sinks.sns if e in benign} | {e for e, _ in slack if e in benign})
    invalid_posts = [p["problems"] for e, p in slack if e in causes and p["problems"]]
    in_queue = {eid for eid in failed_by_id if eid in causes}
    queue_delivered = {eid for eid in in_queue if any(e == eid for e, _ in sinks.sns) and any(e == eid for e, _ in slack)}

    proxy.stop()
    lam.update_function_configuration(FunctionName=fn, Environment={"Variables": original})

    kinds = {}
    for a in attempts:
        kinds[a["outcome"]] = kinds.get(a["outcome"], 0) + 1
    resends = sum(1 for _, kind, _, _ in planned if kind.startswith("resend-"))
    table = [
        ("events in (invocations)", len(planned)),
        ("  of which re-sends of an eventID", resends),
        ("  unique CloudTrail events with a finding", len(causes)),
        ("  authenticator denials (log lines)", len(denials)),
        ("  benign calls / unreadable payloads", f"{len(benign)} / {len(unreadable)}"),
        ("alerts expected per sink", len(causes) + len(denials)),
        ("delivered: SNS / Slack", f"{delivered['sns']} / {delivered['slack']}"),
        ("duplicates delivered (explained)", f"{duplicates} ({duplicates - len(unexplained)})"),
        ("events in the failure queue", len(failed_by_id) + len(denied_failed & denials)),
        ("  alerts there, delivered anyway / not", f"{len(queue_delivered)} / {len(in_queue - queue_delivered)}"),
        ("  unreadable payloads there", len(unreadable) - len(unreadable_lost)),
        ("lost", len(lost) + len(unreadable_lost)),
        ("Slack attempts by outcome", json.dumps(kinds, sort_keys=True)),
        ("SNS publishes refused in the outage", len([1 for _, how in proxy.publishes if how == "outage"])),
        ("wall time (s)", f"{wall:.1f} (invokes {invoked:.1f}, outage {outage_seconds:.0f})"),
    ]
    print("# soak reconciliation")
    for name, value in table:
        print(f"#   {name:<42} {value}")
    r.check("soak: every event accounted for before the deadline", settled, "see the table")
    r.check("soak: lost = 0 (every alert delivered or its event in the failure queue)", not lost and not unreadable_lost,
            f"lost {lost[:5]}, unreadable not in the failure queue {unreadable_lost[:5]}")
    r.check("soak: every duplicate explained by a failed attempt", not unexplained, unexplained[:5])
    r.check("soak: benign calls sent nothing", not benign_sent, benign_sent[:5])
    r.check("soak: every Slack post valid Block Kit", not invalid_posts, invalid_posts[:3])
    r.check("soak: faults were injected (Slack and SNS)", len(kinds) > 1 and faulted_sns, f"{kinds}, SNS refused {len(faulted_sns)}")
    print(f"# soak: {time.monotonic() - t0:.1f}s")
