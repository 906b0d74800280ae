"""End-to-end test of the deployed stack on MiniStack. Driven by scripts/e2e.

    python e2e.py setup SLACK_URL      secret + IAM principals + EKS clusters/entries from the
                                       fixtures; prints the secret ARN
    python e2e.py archive DIR          buckets for the organization scan; DIR's files uploaded
                                       to ARCHIVE_BUCKET under the same relative keys
    python e2e.py check                the assertions; last line "N passed, M failed"

Environment: MINISTACK_URL, E2E_DIR (the Slack stand-in's records are in E2E_DIR/slack),
E2E_CLI (the eks-access-doctor binary, for `replay`), STACK (default eks-access-doctor).
Every client uses the access key "test"; scripts/e2e starts MiniStack with
MINISTACK_ACCOUNT_ID=111122223333, the fixtures' account, so the deployed function runs in
the same account as the events and looks them up (it skips events of other accounts).
"""
import concurrent.futures
import copy
import json
import os
import pathlib
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid

import boto3
from botocore.config import Config

import fixes
import kubernetes
import soak

ROOT = pathlib.Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
ACCOUNT = "111122223333"
REGION = "us-east-1"
STACK = os.environ.get("STACK", "eks-access-doctor")

# Live state created by `setup`, from the fixtures (cluster name -> authentication mode).
CLUSTER_MODES = {
    "prod-eu": "API",                       # auth-mode-irreversible: "from API to API_AND_CONFIG_MAP"
    "legacy-batch": "CONFIG_MAP",           # access-entries-disabled
    "payments-prod": "API_AND_CONFIG_MAP",  # access-entry-already-exists: entry below
    "search-prod": "API_AND_CONFIG_MAP",    # access-policy-requires-standard: EC2_LINUX entry below
    "ml-training": "API",                   # service-linked-role
    "reporting-prod": "CONFIG_MAP",         # auth-mode-two-step: "from CONFIG_MAP to API"
    "orders-staging": "API_AND_CONFIG_MAP", # auth-mode-unchanged
    "orders-prod": "API",                   # the EKS Pod Identity fixtures
}
# Clusters whose creation failed in the fixture (CreateCluster errors) are not created.
EXISTING_ENTRIES = {
    # fixture -> (type, kubernetes groups, access policy or None)
    "access-entry-already-exists": ("STANDARD", ["payments-deployers"], "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy"),
    "access-policy-requires-standard": ("EC2_LINUX", [], None),
    # Its second look finds the entry as it stands: no groups, no policy.
    "access-entry-grants-nothing": ("STANDARD", [], None),
}
# The principal of this fixture must not exist in IAM (the finding says so, live).
ABSENT_PRINCIPAL_FIXTURE = "invalid-principal"
# The authenticator log: a cluster in the function's own region whose control-plane log
# group the stack subscribes (EnableAuthenticatorLogs=true, AuthenticatorLogCluster).
AUTH_CLUSTER = "auth-e2e"
AUTH_CLUSTER_MODE = "API_AND_CONFIG_MAP"
AUTH_FLOOD = 1000
# An entry for the right role name in another account: it never matches the caller.
AUTH_SIBLING = "arn:aws:iam::444455556666:role/e2e-unmapped"

# What enrichment must add to the SNS message (and Slack notes) given the state above.
EXPECTED_LIVE = {
    "pod-identity-trust-policy": [
        "Live: the trust policy of arn:aws:iam::111122223333:role/orders-reader does not let the Pod Identity service "
        "(pods.eks.amazonaws.com) take sts:AssumeRole or sts:TagSession.",
    ],
    "pod-identity-association-exists": ["maps this service account to arn:aws:iam::111122223333:role/orders-reader."],
    "pod-identity-role-not-found": ["Live: IAM has no role named orders-reader-v2 in this account."],
    "access-entry-already-exists": [
        "Live: the existing entry has type STANDARD",
        "groups [payments-deployers]",
        "policies [arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy]",
    ],
    "access-policy-requires-standard": ["Live: the existing entry has type EC2_LINUX"],
    "auth-mode-irreversible": ["Live: the cluster is now in API; it can still move to nothing"],
    "access-entries-disabled": ["Live: the cluster is in CONFIG_MAP; it can move to API_AND_CONFIG_MAP"],
    "node-type-requires-role": ["Live: IAM says arn:aws:iam::111122223333:user/build-agent is"],
    "invalid-principal": ["Live: IAM has no principal arn:aws:iam::111122223333:role/AWSReservedSSO_ClusterAdmins_"],
    "service-linked-role": ["Live: the cluster is in API mode, which ignores aws-auth"],
}

# The organization scan: the archive (E2E_DIR/archive, uploaded by `archive`) and where
# the scan writes (template parameters ArchiveBucketName, ArchiveResultsBucketName).
ARCHIVE_BUCKET = "e2e-archive"
RESULTS_BUCKET = "e2e-results"
RESULTS_PREFIX = "scans"
# A cluster made while MiniStack's CloudTrail records, for `lookup` to find its entry.
LOOKUP_CLUSTER = "lookup-e2e"

# The EventBridge rule's $or branches, as the template's comments describe them.
A_NAMES = {"CreateAccessEntry", "UpdateAccessEntry", "DeleteAccessEntry", "AssociateAccessPolicy",
           "DisassociateAccessPolicy", "CreateCluster"}


def expected_branches(event):
    """Which branches (a)-(i) of the rule an event should match: an oracle written
    from the template's comments, independent of any matcher."""
    d = event.get("detail") or {}
    if (event.get("source") not in ("aws.eks", "aws.eks-auth") or event.get("detail-type") != "AWS API Call via CloudTrail"
            or d.get("eventSource") not in ("eks.amazonaws.com", "eks-auth.amazonaws.com")):
        return set()
    name, error = d.get("eventName"), d.get("errorCode")
    params = d.get("requestParameters") or {}
    out = set()
    if name in A_NAMES and error is not None:
        out.add("a")
    groups = params.get("kubernetesGroups")
    if name == "UpdateAccessEntry" and error is None and isinstance(groups, list) and groups:
        out.add("b")
    if name == "UpdateClusterConfig" and ((params.get("accessConfig") or {}).get("authenticationMode") is not None):
        out.add("c")
    if isinstance(error, str) and error.startswith("AccessDenied"):
        out.add("d")
    if name in ("CreateAccessEntry", "DeleteAccessEntry") and error is None:
        out.add("e")
    policy, scope = params.get("policyArn") or "", (params.get("accessScope") or {}).get("type")
    if (name == "AssociateAccessPolicy" and error is None and scope == "cluster"
            and policy.rsplit("/", 1)[-1] in ("AmazonEKSClusterAdminPolicy", "AmazonEKSAdminPolicy", "AmazonEKSAdminViewPolicy")):
        out.add("f")
    if name in ("CreatePodIdentityAssociation", "UpdatePodIdentityAssociation", "DeletePodIdentityAssociation") and error is not None:
        out.add("g")
    if name == "CreatePodIdentityAssociation" and error is None:
        out.add("h")
    if name == "AssumeRoleForPodIdentity" and error is not None:
        out.add("i")
    return out


def client(service, region=REGION):
    return boto3.client(
        service, endpoint_url=os.environ["MINISTACK_URL"], region_name=region,
        aws_access_key_id="test", aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 2}, read_timeout=40, connect_timeout=5),
    )


# Causes that match on the function's live facts or state alone (replay cannot show
# them): checked apart, by check_risky_successes and (the Kubernetes facts) kubernetes.check.
# Each cause says so itself (its reach, in `causes --format json`).
LIVE_ONLY = {c["id"] for c in map(json.loads, subprocess.run(
    [os.environ.get("E2E_CLI", str(ROOT / "target" / "debug" / "eks-access-doctor")), "causes", "--format", "json"],
    check=True, capture_output=True, text=True).stdout.splitlines()) if c["reach"] != "event"}
# Fixtures whose role EC2 may assume (the finding reads the trust policy live).
EC2_TRUSTED = {"node-role-standard-entry", "node-entry-deleted"}
# The e2e stack's second look comes this many seconds after the call (SecondLookDelaySeconds).
SECOND_LOOK_DELAY = 2


def fixtures():
    cause = sorted(p for p in EVENTS.glob("*.json") if p.stem not in LIVE_ONLY)
    none = sorted((EVENTS / "no-finding").glob("*.json"))
    return cause, none


def cause_of(path):
    stem = path.stem
    return "missing-iam-permission" if stem == "missing-iam-permission-explicit-deny" else stem


def params_of(event):
    return (event.get("detail") or {}).get("requestParameters") or {}


def principal_of(event):
    arn = params_of(event).get("principalArn")
    return urllib.parse.unquote(arn) if arn else None


def cluster_of(event):
    p = params_of(event)
    return p.get("clusterName") or p.get("name")


# ---------------------------------------------------------------------------- setup

def setup(slack_url):
    sm, iam, eks = client("secretsmanager"), client("iam"), client("eks")
    secret = sm.create_secret(Name="eks-access-doctor/slack-webhook", SecretString=json.dumps({"url": slack_url}))
    cause, none = fixtures()
    events = {p.stem: json.loads(p.read_text()) for p in cause + none + [EVENTS / f"{stem}.json" for stem in LIVE_ONLY]}

    # IAM: every role/user of this account that a fixture names, except the "invalid" one.
    # Roles trust the account; the node role's fixture names a role EC2 may assume.
    def trust(principal):
        return json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}]})
    made = set()
    for stem, event in sorted(events.items()):
        arn = principal_of(event)
        if not arn or stem == ABSENT_PRINCIPAL_FIXTURE or arn in made:
            continue
        m = re.fullmatch(r"arn:aws:iam::(\d{12}):(role|user)(/.*)?/([^/]+)", arn)
        if not m or m.group(1) != ACCOUNT:
            continue
        path = (m.group(3) or "") + "/"
        if m.group(2) == "role":
            trusted = {"Service": "ec2.amazonaws.com"} if stem in EC2_TRUSTED else {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
            iam.create_role(RoleName=m.group(4), Path=path, AssumeRolePolicyDocument=trust(trusted))
        else:
            iam.create_user(UserName=m.group(4), Path=path)
        made.add(arn)
    print(f"created {len(made)} IAM principals", file=sys.stderr)

    # Clusters live in the region of the fixtures that name them: the function looks
    # them up in the event's region.
    region_of = {}
    for event in events.values():
        region_of.setdefault(cluster_of(event), (event.get("detail") or {}).get("awsRegion") or REGION)
    for name, mode in CLUSTER_MODES.items():
        eks = client("eks", region_of.get(name, REGION))
        eks.create_cluster(
            name=name, roleArn=f"arn:aws:iam::{ACCOUNT}:role/eks-cluster-role",
            resourcesVpcConfig={"subnetIds": ["subnet-0e2e0001", "subnet-0e2e0002"]},
            accessConfig={"authenticationMode": mode, "bootstrapClusterCreatorAdminPermissions": False},
        )
        got = eks.describe_cluster(name=name)["cluster"]["accessConfig"]["authenticationMode"]
        assert got == mode, f"{name}: MiniStack kept {got}, wanted {mode}"
    for stem, (kind, groups, policy) in EXISTING_ENTRIES.items():
        event = events[stem]
        cluster, principal = cluster_of(event), principal_of(event)
        eks = client("eks", event["detail"].get("awsRegion") or REGION)
        kwargs = {"clusterName": cluster, "principalArn": principal, "type": kind}
        if groups:
            kwargs["kubernetesGroups"] = groups
        eks.create_access_entry(**kwargs)
        if policy:
            eks.associate_access_policy(clusterName=cluster, principalArn=principal, policyArn=policy, accessScope={"type": "cluster"})
    print(f"created {len(CLUSTER_MODES)} EKS clusters, {len(EXISTING_ENTRIES)} access entries", file=sys.stderr)

    # EKS Pod Identity: the trust-policy fixture's role, which EC2 alone may assume (the
    # finding reads its trust policy live), and the association the exists fixture meets.
    pod = events["pod-identity-trust-policy"]["detail"]
    asked = pod["requestParameters"]
    iam.create_role(RoleName=asked["roleArn"].rsplit("/", 1)[-1], AssumeRolePolicyDocument=trust({"Service": "ec2.amazonaws.com"}))
    client("eks", pod["awsRegion"]).create_pod_identity_association(
        clusterName=asked["name"], namespace=asked["namespace"], serviceAccount=asked["serviceAccount"], roleArn=asked["roleArn"])

    # The authenticator log's cluster and its control-plane log group (EKS creates the
    # group when a log type is switched on; the stack's subscription filter needs it).
    client("eks").create_cluster(
        name=AUTH_CLUSTER, roleArn=f"arn:aws:iam::{ACCOUNT}:role/eks-cluster-role",
        resourcesVpcConfig={"subnetIds": ["subnet-0e2e0001", "subnet-0e2e0002"]},
        accessConfig={"authenticationMode": AUTH_CLUSTER_MODE, "bootstrapClusterCreatorAdminPermissions": False},
    )
    client("logs").create_log_group(logGroupName=f"/aws/eks/{AUTH_CLUSTER}/cluster")
    client("eks").create_access_entry(clusterName=AUTH_CLUSTER, principalArn=AUTH_SIBLING, type="STANDARD")
    kubernetes.setup(client, ACCOUNT, pathlib.Path(os.environ["E2E_DIR"]) / "kube")
    print(secret["ARN"])


def archive(directory):
    s3 = client("s3")
    for bucket in (ARCHIVE_BUCKET, RESULTS_BUCKET):
        s3.create_bucket(Bucket=bucket)
    root = pathlib.Path(directory)
    files = sorted(p for p in root.rglob("*") if p.is_file())
    for path in files:
        s3.upload_file(str(path), ARCHIVE_BUCKET, path.relative_to(root).as_posix())
    print(f"{len(files)} objects in s3://{ARCHIVE_BUCKET}/")


# ---------------------------------------------------------------------------- check

class Results:
    def __init__(self):
        self.passed = self.failed = 0

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            print(f"PASS {name}")
        else:
            self.failed += 1
            print(f"FAIL {name}: {detail}")
        sys.stdout.flush()
        return ok


def replay(path, fmt):
    out = subprocess.run([os.environ["E2E_CLI"], "replay", str(path), "--format", fmt, "--no-summary", "--color", "never"],
                         capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise RuntimeError(f"replay {path} --format {fmt}: exit {out.returncode}: {out.stderr.strip()}")
    return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]


def stack_outputs(cfn):
    stack = cfn.describe_stacks(StackName=STACK)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def drain(sqs, url, want=None, timeout=20.0, quiet=1.5):
    """Receives from a queue until `want` messages arrived (or `timeout`), then keeps
    listening `quiet` seconds more so unexpected extra messages are seen too."""
    got, deadline, quiet_until = [], time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        resp = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, MessageAttributeNames=["All"])
        for m in resp.get("Messages", []):
            got.append(m)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        if want is not None and len(got) >= want and quiet_until is None:
            quiet_until = time.monotonic() + quiet
        if quiet_until is not None and time.monotonic() >= quiet_until:
            break
    return got


def event_id_in_sns(message):
    m = re.search(r"^  event id   (\S+)$", message, re.M)
    return m.group(1) if m else None


def event_id_in_slack(payload):
    for block in reversed(payload.get("blocks") or []):
        for el in block.get("elements") or []:
            m = re.search(r"event `([^`]+)`", el.get("text", ""))
            if m:
                return m.group(1)
    return None


def note_lines(message):
    return [line for line in message.splitlines() if line.startswith("  note: ")]


def hostile_event():
    """reserved-username-prefix with Slack control sequences in event values."""
    event = json.loads((EVENTS / "reserved-username-prefix.json").read_text())
    event["id"] = str(uuid.uuid4())
    event["detail"]["eventID"] = str(uuid.uuid4())
    event["detail"]["requestParameters"]["username"] = "system:<!channel> <@U024BE7LH> <!subteam^S1|ops> ```x``` <https://evil.example|click>"
    event["detail"]["userIdentity"]["arn"] = "arn:aws:sts::111122223333:assumed-role/PlatformDeployer/<!here>"
    # Another principal: the same one would be a repeat of the fixture, counted and not sent.
    event["detail"]["requestParameters"]["principalArn"] = "arn:aws:iam::111122223333:role/CheckoutOnCall-<!here>"
    return event


def check():
    r = Results()
    t0 = time.monotonic()
    cfn, events, lam, sqs, sns, logs = (client(s) for s in ("cloudformation", "events", "lambda", "sqs", "sns", "logs"))
    outputs = stack_outputs(cfn)
    fn, topic, failure_url = outputs["FunctionName"], outputs["TopicArn"], outputs["FailureQueueUrl"]
    cause_files, none_files = fixtures()
    loaded = {p: json.loads(p.read_text()) for p in cause_files + none_files}
    slack_dir = pathlib.Path(os.environ["E2E_DIR"]) / "slack"
    slack_url = (slack_dir / "url").read_text().strip()

    # -- the deployed rule(s), from DescribeRule
    resources = cfn.describe_stack_resources(StackName=STACK)["StackResources"]
    rule_ids = [x["PhysicalResourceId"] for x in resources if x["ResourceType"] == "AWS::Events::Rule"]
    rules = {rid.split("|")[-1].split("/")[-1]: None for rid in rule_ids}
    for name in rules:
        rules[name] = events.describe_rule(Name=name)
    pattern_rules = [n for n, rule in rules.items() if "EventPattern" in rule]
    schedules = [n for n, rule in rules.items() if "ScheduleExpression" in rule]
    r.check("stack has one EventBridge event rule and the audit's schedule", len(pattern_rules) == 1 and len(schedules) == 1,
            f"rules: {rule_ids}")
    # The scheduled audit is off by default (AuditSchedule empty): its rule is there, disabled.
    for name in schedules:
        rule = rules[name]
        r.check(f"schedule {name} is disabled by default", rule.get("State") == "DISABLED" and rule.get("ScheduleExpression") == "rate(1 day)",
                {k: rule.get(k) for k in ("State", "ScheduleExpression")})
    patterns = {}
    for name in pattern_rules:
        rule = rules[name]
        patterns[name] = json.loads(rule["EventPattern"])
        # Read-only management events (EKS Auth's AssumeRoleForPodIdentity) match only in this state.
        r.check(f"rule {name} matches read-only management events too", rule.get("State") == "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS",
                rule.get("State"))
        targets = events.list_targets_by_rule(Rule=name)["Targets"]
        r.check(f"rule {name} targets the function", any(t["Arn"].split(":")[-1] == fn or t["Arn"].endswith(f":function:{fn}") for t in targets),
                f"targets {[t['Arn'] for t in targets]}, function {fn}")

    def matches(pattern, event):
        return events.test_event_pattern(EventPattern=json.dumps(pattern), Event=json.dumps(event))["Result"]

    def branch_patterns(pattern):
        detail = pattern.get("detail") or {}
        if "$or" not in detail:
            return {}
        out = {}
        for label, branch in zip("abcdefghijkl", detail["$or"]):
            p = copy.deepcopy(pattern)
            del p["detail"]["$or"]
            p["detail"].update(copy.deepcopy(branch))
            out[label] = p
        return out

    for name, pattern in patterns.items():
        branches = branch_patterns(pattern)
        r.check(f"rule {name} has the nine $or branches (a)-(i)", sorted(branches) == list("abcdefghi"), sorted(branches))
        live_files = [EVENTS / f"{stem}.json" for stem in sorted(LIVE_ONLY)]
        for path in cause_files + none_files + live_files:
            event = loaded.get(path) or json.loads(path.read_text())
            label = path.relative_to(EVENTS)
            want = expected_branches(event)
            got = {b for b, p in branches.items() if matches(p, event)}
            whole = matches(pattern, event)
            if path.parent == EVENTS:
                ok = whole and got == want and bool(want)
            else:
                # A call without a finding may still reach the function (every entry
                # created does): the rule matches exactly when the oracle says so.
                ok = whole == bool(want) and got == want
            r.check(f"pattern: {label} matches branches {sorted(want) or 'none'}", ok,
                    f"whole pattern {whole}, branches {sorted(got)}, expected {sorted(want)}")
    print(f"# rule checks: {time.monotonic() - t0:.1f}s")

    # -- subscribe a queue to the topic before anything is published
    sink_q = sqs.create_queue(QueueName="e2e-alerts")["QueueUrl"]
    sink_arn = sqs.get_queue_attributes(QueueUrl=sink_q, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=sink_arn)
    drain(sqs, sink_q, want=0, timeout=1, quiet=0)

    # -- invoke the function with every fixture, synchronously
    t1 = time.monotonic()
    hostile = hostile_event()
    invocations = [(p, loaded[p]) for p in cause_files + none_files] + [("hostile reserved-username-prefix", hostile)]
    responses = {}
    for label, event in invocations:
        started = time.monotonic()
        resp = lam.invoke(FunctionName=fn, InvocationType="RequestResponse", Payload=json.dumps(event).encode())
        body = resp["Payload"].read().decode()
        responses[label] = (resp, body, time.monotonic() - started)
    print(f"# {len(invocations)} invocations: {time.monotonic() - t1:.1f}s "
          f"(first {responses[invocations[0][0]][2]:.2f}s, max {max(v[2] for v in responses.values()):.2f}s)")

    def outcome(label):
        resp, body, _ = responses[label]
        try:
            return resp, json.loads(body)
        except ValueError:
            return resp, {"raw": body}

    expected_alerts = {}  # event id -> (label, cause, replay sns, replay slack, replay json finding)
    for path in cause_files:
        resp, out = outcome(path)
        label, cause = path.name, cause_of(path)
        ok = resp.get("StatusCode") == 200 and "FunctionError" not in resp and out.get("outcome") == "alerted" and out.get("causes") == [cause]
        r.check(f"invoke {label}: alerted [{cause}]", ok, f"status {resp.get('StatusCode')}, error {resp.get('FunctionError')}, payload {out}")
        sns_msgs, slack_msgs, js = replay(path, "sns"), replay(path, "slack"), replay(path, "json")
        expected_alerts[loaded[path]["detail"]["eventID"]] = (label, cause, sns_msgs, slack_msgs, js[0]["findings"])
    for path in none_files:
        resp, out = outcome(path)
        ok = resp.get("StatusCode") == 200 and "FunctionError" not in resp and out.get("outcome") in ("no_finding", "ignored")
        r.check(f"invoke no-finding/{path.name}: {out.get('outcome')}", ok, f"error {resp.get('FunctionError')}, payload {out}")
        r.check(f"replay no-finding/{path.name}: nothing to send", replay(path, "sns") == [] and replay(path, "slack") == [])
    resp, out = outcome("hostile reserved-username-prefix")
    r.check("invoke hostile variant: alerted [reserved-username-prefix]",
            "FunctionError" not in resp and out.get("outcome") == "alerted" and out.get("causes") == ["reserved-username-prefix"],
            f"error {resp.get('FunctionError')}, payload {out}")

    # -- what SNS delivered (through the SQS subscription)
    received = drain(sqs, sink_q, want=len(cause_files) + 1, timeout=20)
    by_id = {}
    for m in received:
        envelope = json.loads(m["Body"])
        attrs = {k: v.get("Value") for k, v in (envelope.get("MessageAttributes") or {}).items()}
        types = {k: v.get("Type") for k, v in (envelope.get("MessageAttributes") or {}).items()}
        eid = event_id_in_sns(envelope.get("Message", ""))
        by_id.setdefault(eid, []).append({"subject": envelope.get("Subject"), "message": envelope.get("Message", ""), "attributes": attrs, "types": types})
    r.check(f"SNS delivered {len(cause_files) + 1} messages, one per cause fixture + hostile", len(received) == len(cause_files) + 1,
            f"got {len(received)}: {sorted(map(str, by_id))}")
    none_ids = {loaded[p]["detail"]["eventID"] for p in none_files}
    r.check("no-finding fixtures produced no SNS message", not (none_ids & set(by_id)), sorted(none_ids & set(by_id)))

    slack_records = [json.loads(p.read_text()) for p in sorted(slack_dir.glob("[0-9]*.json"))]
    slack_by_id = {}
    for rec in slack_records:
        slack_by_id.setdefault(event_id_in_slack(rec["payload"] or {}), []).append(rec)
    r.check(f"Slack received {len(cause_files) + 1} posts", len(slack_records) == len(cause_files) + 1, f"got {len(slack_records)}")
    r.check("no-finding fixtures produced no Slack post", not (none_ids & set(slack_by_id)), sorted(none_ids & set(slack_by_id)))
    r.check("every Slack post is valid Block Kit", all(not rec["problems"] for rec in slack_records),
            [(event_id_in_slack(rec["payload"] or {}), rec["problems"]) for rec in slack_records if rec["problems"]])

    for eid, (label, cause, want_sns, want_slack, findings) in sorted(expected_alerts.items(), key=lambda kv: kv[1][0]):
        got = by_id.get(eid, [])
        if not r.check(f"SNS {label}: one message", len(got) == 1, f"{len(got)} messages"):
            continue
        got, want = got[0], want_sns[0]
        cluster = cluster_of(loaded[EVENTS / label])
        r.check(f"SNS {label}: attribute cause={cause}", got["attributes"].get("cause") == cause, got["attributes"])
        r.check(f"SNS {label}: attributes are String and equal replay's", got["attributes"] == want["attributes"]
                and set(got["types"].values()) == {"String"}, f"got {got['attributes']} {got['types']}, replay {want['attributes']}")
        r.check(f"SNS {label}: subject equals replay's", got["subject"] == want["subject"], f"{got['subject']!r} vs {want['subject']!r}")
        commands = findings[0]["commands"]
        r.check(f"SNS {label}: message names cluster {cluster} and has the fix command",
                bool(cluster) and cluster in got["message"] and bool(commands) and f"$ {commands[0]}" in got["message"],
                f"commands {commands[:1]}")
        live = EXPECTED_LIVE.get(label.removesuffix(".json"), [])
        if live:
            missing = [s for s in live if s not in got["message"]]
            r.check(f"SNS {label}: live facts {live[0][:50]!r}…", not missing, f"missing {missing}; notes {note_lines(got['message'])}")
        else:
            # Nothing to look up live: exactly what `replay --format sns` prints.
            r.check(f"SNS {label}: message equals replay's", got["message"] == want["message"],
                    f"notes {note_lines(got['message'])} vs replay {note_lines(want['message'])}")
        r.check(f"SNS {label}: no failed lookup", "Could not check" not in got["message"], note_lines(got["message"]))

        posts = slack_by_id.get(eid, [])
        if not r.check(f"Slack {label}: one post", len(posts) == 1, f"{len(posts)} posts"):
            continue
        payload = posts[0]["payload"]
        r.check(f"Slack {label}: text mentions `{cause}` and {cluster}", f"`{cause}`" in payload.get("text", "") and cluster in payload.get("text", ""),
                payload.get("text"))
        r.check(f"Slack {label}: posted to the secret's URL path", posts[0]["path"] == urllib.parse.urlparse(slack_url).path, posts[0]["path"])
        if live:
            blob = json.dumps(payload, ensure_ascii=False)
            r.check(f"Slack {label}: shows the live facts", all(s.split(" [")[0] in blob for s in live), live)
        else:
            r.check(f"Slack {label}: payload equals replay's", payload == want_slack[0], "differs from `replay --format slack`")

    hid = hostile["detail"]["eventID"]
    posts = slack_by_id.get(hid, [])
    ok = len(posts) == 1 and not posts[0]["problems"] and "&lt;!channel&gt;" in posts[0]["body"]
    r.check("Slack hostile: mentions escaped, valid Block Kit", ok, [p["problems"] for p in posts])
    got = by_id.get(hid, [])
    r.check("SNS hostile: delivered with cause reserved-username-prefix", len(got) == 1 and got[0]["attributes"].get("cause") == "reserved-username-prefix", got)
    print(f"# deliveries checked: {time.monotonic() - t1:.1f}s since first invoke")

    # -- the authenticator log: real-shaped lines written with PutLogEvents reach the
    #    function through the stack's subscription filter, as {"awslogs":{"data":…}}
    check_risky_successes(r, lam, fn, sqs, sink_q, slack_dir)
    check_authenticator(r, logs, sqs, sink_q, slack_dir, len(list(slack_dir.glob("[0-9]*.json"))))
    check_cloudtrail_flood(r, lam, fn, logs, sqs, sink_q, slack_dir, failure_url)

    # -- an unreadable payload: sync it fails the invocation; async it ends in the failure queue
    resp = lam.invoke(FunctionName=fn, InvocationType="RequestResponse", Payload=b'{"hello":1}')
    body = resp["Payload"].read().decode()
    r.check("invoke {\"hello\":1} synchronously: function error 'unreadable event'",
            resp.get("FunctionError") is not None and "unreadable event" in body, f"{resp.get('FunctionError')} {body[:200]}")
    t2 = time.monotonic()
    marker = str(uuid.uuid4())
    resp = lam.invoke(FunctionName=fn, InvocationType="Event", Payload=json.dumps({"hello": 1, "e2e": marker}).encode())
    r.check("invoke {\"hello\":1} asynchronously: accepted (202)", resp.get("StatusCode") == 202, resp.get("StatusCode"))
    record, deadline = None, time.monotonic() + 60
    while record is None and time.monotonic() < deadline:
        for m in drain(sqs, failure_url, want=1, timeout=2, quiet=0):
            body = json.loads(m["Body"])
            if (body.get("requestPayload") or {}).get("e2e") == marker:
                record = body
    waited = time.monotonic() - t2
    r.check(f"unreadable payload reached the failure queue ({waited:.1f}s)", record is not None, "nothing within 60 s")
    if record:
        ctx = record.get("requestContext") or {}
        r.check("failure record: condition RetriesExhausted", ctx.get("condition") == "RetriesExhausted", ctx)
        r.check("failure record: the original payload", record.get("requestPayload") == {"hello": 1, "e2e": marker}, record.get("requestPayload"))
        r.check("failure record: names the function", fn in (ctx.get("functionArn") or ""), ctx.get("functionArn"))
        resp_ctx = record.get("responseContext") or {}
        r.check("failure record: function error", resp_ctx.get("functionError") is not None or "unreadable" in json.dumps(record.get("responsePayload")),
                {"responseContext": resp_ctx, "responsePayload": record.get("responsePayload")})

    # -- every sink down (Slack answers 503, the SNS topic is gone): a real alert must
    #    end in the failure queue, not vanish
    urllib.request.urlopen(urllib.request.Request(slack_url.split("/services/")[0] + "/_control/down", method="PUT"), timeout=5)
    sns.delete_topic(TopicArn=topic)
    event = json.loads((EVENTS / "reserved-group-prefix.json").read_text())
    event["detail"]["eventID"] = down_id = str(uuid.uuid4())
    event["detail"]["requestParameters"]["principalArn"] = "arn:aws:iam::111122223333:role/e2e-sinks-down"  # not a repeat
    t3 = time.monotonic()
    resp = lam.invoke(FunctionName=fn, InvocationType="Event", Payload=json.dumps(event).encode())
    r.check("sinks down: asynchronous invoke accepted (202)", resp.get("StatusCode") == 202, resp.get("StatusCode"))
    record, deadline = None, time.monotonic() + 120
    while record is None and time.monotonic() < deadline:
        for m in drain(sqs, failure_url, want=1, timeout=2, quiet=0):
            body = json.loads(m["Body"])
            if ((body.get("requestPayload") or {}).get("detail") or {}).get("eventID") == down_id:
                record = body
    r.check(f"sinks down: the alert's event reached the failure queue ({time.monotonic() - t3:.1f}s)", record is not None, "nothing within 120 s")
    if record:
        r.check("sinks down: condition RetriesExhausted", (record.get("requestContext") or {}).get("condition") == "RetriesExhausted", record.get("requestContext"))
        said = json.dumps(record.get("responsePayload"))
        r.check("sinks down: the error names both sinks", "slack delivery failed" in said and "sns delivery failed" in said, said[:300])

    # -- the function's log group: one line per event, the webhook URL (a secret) never logged
    group = f"/aws/lambda/{STACK}"
    text = ""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            evs = logs.filter_log_events(logGroupName=group, limit=10000).get("events", [])
        except Exception as e:  # noqa: BLE001
            evs = []
            text = f"<{e}>"
        text = "\n".join(e["message"] for e in evs)
        if text.count("event handled") >= len(cause_files) + len(none_files) + 1:
            break
        time.sleep(1)
    handled = text.count("event handled")
    r.check(f"log group {group}: an 'event handled' line per handled event", handled >= len(cause_files) + len(none_files) + 1,
            f"{handled} lines; log text starts {text[:300]!r}")
    secret_part = urllib.parse.urlparse(slack_url).path.rsplit("/", 1)[-1]
    r.check("log group: the webhook URL is never logged", text != "" and secret_part not in text and slack_url not in text)
    check_metrics(r, text, expected_alerts, down_id, outputs, fn)

    check_archive(r, outputs)
    check_fleet(r, outputs)
    check_lookup(r)

    # -- both sinks back; then the Kubernetes side, idempotency under concurrency and the
    #    soak (each reconfigures the function for its duration and puts it back)
    urllib.request.urlopen(urllib.request.Request(slack_url.split("/services/")[0] + "/_control/up", method="PUT"), timeout=5)
    r.check("SNS topic recreated with the same ARN", sns.create_topic(Name=topic.rsplit(":", 1)[1])["TopicArn"] == topic)
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=sink_arn)
    drain(sqs, sink_q, want=0, timeout=1, quiet=0)
    drain(sqs, failure_url, want=0, timeout=1, quiet=0)
    # -- the Kubernetes side (kubernetes.py): the function reads the stand-in's API
    def sns_messages(want):
        return [json.loads(m["Body"]).get("Message", "") for m in drain(sqs, sink_q, want=want, timeout=20 if want else 1, quiet=1)]
    kubernetes.check(r, client, ACCOUNT, lam, fn, EVENTS, pathlib.Path(os.environ["E2E_DIR"]) / "kube", sns_messages)

    soak.check_idempotency(r, lam, fn, sqs, sink_q, failure_url, slack_dir, slack_url, EVENTS)
    soak.check_soak(r, lam, fn, sqs, f"/aws/eks/{AUTH_CLUSTER}/cluster", ACCOUNT, sink_q, failure_url, slack_dir, slack_url, cause_files, none_files, cause_of,
                    count=int(os.environ.get("E2E_SOAK_EVENTS", "600")))

    # -- no function process died but the one the stand-in killed (MiniStack logs each exit)
    ministack_log = pathlib.Path(os.environ["E2E_DIR"]) / "ministack" / "ministack.log"
    exits = ministack_log.read_text(errors="replace").count("Runtime exited before returning a response")
    r.check("the function's process exited only when killed (1 exit in MiniStack's log)", exits == 1, f"{exits} exits")

    # -- last: the printed fixes run on MiniStack (fixes.py; it changes EKS state, on its own clusters)
    fixes.check(r, client, replay)

    print(f"# check total: {time.monotonic() - t0:.1f}s")
    print(f"{r.passed} passed, {r.failed} failed")
    return 0 if r.failed == 0 else 1


CLOUDTRAIL_FLOOD = 1000


def check_risky_successes(r, lam, fn, sqs, sink_q, slack_dir):
    """The causes that need the function's live facts or state: a node role given a
    STANDARD entry (its trust policy, read live), an entry deleted soon after the
    function saw it created (its own record), and an entry that still grants nothing
    at its second look (the SQS delay queue, then the entry read live); and an entry
    given a policy before its second look, which stays quiet; a Pod Identity association
    on a cluster without the agent (the add-on and Auto Mode, read live)."""
    t0 = time.monotonic()
    slack_before = len(list(slack_dir.glob("[0-9]*.json")))

    def invoke(event):
        resp = lam.invoke(FunctionName=fn, InvocationType="RequestResponse", Payload=json.dumps(event).encode())
        return json.loads(resp["Payload"].read() or b"{}")

    node = json.loads((EVENTS / "node-role-standard-entry.json").read_text())
    out = invoke(node)
    r.check("node-role-standard-entry: alerted, from the role's trust policy read live", out.get("causes") == ["node-role-standard-entry"], out)

    deleted = json.loads((EVENTS / "short-lived-access-entry.json").read_text())
    created = copy.deepcopy(node)
    created["detail"]["eventID"] = str(uuid.uuid4())
    created["detail"]["requestParameters"]["principalArn"] = urllib.parse.unquote(deleted["detail"]["requestParameters"]["principalArn"])
    out = invoke(created)
    r.check("short-lived-access-entry: the creation is recorded (no finding of its own)", out.get("outcome") == "no_finding", out)
    out = invoke(deleted)
    r.check("short-lived-access-entry: the deletion soon after alerts", out.get("causes") == ["short-lived-access-entry"], out)

    nothing = json.loads((EVENTS / "access-entry-grants-nothing.json").read_text())
    out = invoke(nothing)
    r.check("access-entry-grants-nothing: nothing said at creation (a policy may follow)", out.get("outcome") == "no_finding", out)
    # The same call for a role that gets its policy within the delay: quiet at its second look.
    granted = copy.deepcopy(nothing)
    granted["detail"]["eventID"] = str(uuid.uuid4())
    writer = f"arn:aws:iam::{ACCOUNT}:role/ReportingWriters"
    granted["detail"]["requestParameters"]["principalArn"] = writer
    cluster = cluster_of(nothing)
    eks = client("eks", nothing["detail"]["awsRegion"])  # the cluster's region
    eks.create_access_entry(clusterName=cluster, principalArn=writer, type="STANDARD")
    eks.associate_access_policy(clusterName=cluster, principalArn=writer, policyArn="arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy",
                                accessScope={"type": "cluster"})
    out = invoke(granted)
    r.check("access-entry-grants-nothing: a granted entry is quiet at creation too", out.get("outcome") == "no_finding", out)

    # An Auto Mode node entry (type EC2) still without AmazonEKSAutoNodePolicy at its second look.
    auto = json.loads((EVENTS / "auto-mode-node-policy-missing.json").read_text())
    # MiniStack 1.5.33 knows only STANDARD, EC2_LINUX, EC2_WINDOWS and FARGATE_LINUX ("Invalid
    # type EC2"): the entry is stored as EC2_LINUX. The second look reads its policies, not
    # its type (the event's type is what makes it an Auto Mode node entry).
    eks.create_access_entry(clusterName=cluster_of(auto), principalArn=principal_of(auto), type="EC2_LINUX")
    out = invoke(auto)
    r.check("auto-mode-node-policy-missing: nothing said at creation (the policy may follow)", out.get("outcome") == "no_finding", out)
    # A node role's entry deleted: its trust policy, read live, says EC2 may assume it.
    out = invoke(json.loads((EVENTS / "node-entry-deleted.json").read_text()))
    r.check("node-entry-deleted: alerted, from the role's trust policy read live", out.get("causes") == ["node-entry-deleted"], out)

    # An association on a cluster with neither the Pod Identity Agent add-on nor Auto Mode
    # (both read live); the same call once the add-on is installed is quiet.
    agent = json.loads((EVENTS / "pod-identity-agent-missing.json").read_text())
    out = invoke(agent)
    r.check("pod-identity-agent-missing: alerted, from DescribeAddon and DescribeCluster read live", out.get("causes") == ["pod-identity-agent-missing"], out)
    client("eks", agent["detail"]["awsRegion"]).create_addon(clusterName=cluster_of(agent), addonName="eks-pod-identity-agent")
    served = copy.deepcopy(agent)
    served["detail"]["eventID"] = str(uuid.uuid4())
    out = invoke(served)
    r.check("pod-identity-agent-missing: quiet once the agent add-on is installed", out.get("outcome") == "no_finding", out)

    want = ["access-entry-grants-nothing", "auto-mode-node-policy-missing", "node-entry-deleted", "node-role-standard-entry",
            "pod-identity-agent-missing", "short-lived-access-entry"]
    received = [json.loads(m["Body"]) for m in drain(sqs, sink_q, want=len(want), timeout=60 + SECOND_LOOK_DELAY, quiet=5 + SECOND_LOOK_DELAY)]
    causes = sorted(((m.get("MessageAttributes") or {}).get("cause") or {}).get("Value") for m in received)
    r.check(f"risky successes: SNS got exactly the {len(want)} live causes (two of them at their second look)", causes == want, causes)
    by_cause = {((m.get("MessageAttributes") or {}).get("cause") or {}).get("Value"): m.get("Message", "") for m in received}
    r.check("node-role-standard-entry: says EC2 may assume the role, and how to recreate the entry",
            "ec2.amazonaws.com" in by_cause.get("node-role-standard-entry", "") and "--type EC2_LINUX" in by_cause.get("node-role-standard-entry", ""))
    r.check("short-lived-access-entry: says how long the entry lived", "seconds after it was created" in by_cause.get("short-lived-access-entry", ""),
            by_cause.get("short-lived-access-entry", "")[:300])
    m = by_cause.get("access-entry-grants-nothing", "")
    r.check("access-entry-grants-nothing: names the entry and the fix, and not the granted one", "ReportingReaders" in m and "associate-access-policy" in m
            and "ReportingWriters" not in json.dumps(received), m[:300])
    time.sleep(1)
    posts = [json.loads(p.read_text()) for p in sorted(slack_dir.glob("[0-9]*.json"))][slack_before:]
    r.check(f"risky successes: Slack got the same {len(want)} alerts", len(posts) == len(want), len(posts))
    print(f"# risky successes: {time.monotonic() - t0:.1f}s")


CLOUDTRAIL_FLOOD = 1000


def check_cloudtrail_flood(r, lam, fn, logs, sqs, sink_q, slack_dir, failure_url):
    """A controller retrying one failing call: 1,000 identical CloudTrail events, invoked
    asynchronously as EventBridge invokes the function (MiniStack refuses PutEvents from
    aws.* sources, as AWS does), 8 at a time so MiniStack runs many containers at once,
    page at most a handful of times per sink (the stack's DynamoDB table shares the
    windows: without it each new container alerts once), and every event is accounted
    for: in the function's log as alerted or counted, or in the failure queue (an
    invocation that could not run ends there, as on AWS; its error is printed), or, for
    the few whose log line MiniStack misattributes under load, in the idempotency table
    as done."""
    t0 = time.monotonic()
    slack_before = len(list(slack_dir.glob("[0-9]*.json")))
    base = json.loads((EVENTS / "reserved-group-prefix.json").read_text())
    base["detail"]["requestParameters"]["principalArn"] = "arn:aws:iam::111122223333:role/e2e-reconciler"
    ids = [f"flood-{uuid.uuid4()}" for _ in range(CLOUDTRAIL_FLOOD)]

    def invoke(eid):
        event = copy.deepcopy(base)
        event["id"], event["detail"]["eventID"] = str(uuid.uuid4()), eid
        return lam.invoke(FunctionName=fn, InvocationType="Event", Payload=json.dumps(event).encode())["StatusCode"]

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(invoke, ids))
    assert statuses == [202] * len(ids), f"asynchronous invokes answered {set(statuses)}"
    wanted = set(ids)
    handled, deadline, text = {}, time.monotonic() + 180, ""
    while time.monotonic() < deadline and len(handled) < len(wanted):
        evs = logs.filter_log_events(logGroupName=f"/aws/lambda/{STACK}", filterPattern='"flood-"', limit=10000).get("events", [])
        for e in evs:
            m = re.search(r'"outcome":"(\w+)[^}]*?"event_id":"(flood-[0-9a-f-]+)"', e["message"].replace('\\"', '"'))
            if m and m.group(2) in wanted:
                handled[m.group(2)] = m.group(1)
        for m in drain(sqs, failure_url, want=0, timeout=0.5, quiet=0):
            record = json.loads(m["Body"])
            eid = ((record.get("requestPayload") or {}).get("detail") or {}).get("eventID")
            if eid in wanted and eid not in handled:
                handled[eid] = "failure_queue"
                print(f"# CloudTrail flood: {eid} in the failure queue: {json.dumps(record.get('responsePayload'))[:300]}")
        time.sleep(2)
        if len(handled) < len(wanted) and time.monotonic() > deadline - 150:
            # MiniStack attributes a process's output to an invocation by timing: under
            # load a few log lines are lost (nothing else is). The idempotency table is the
            # function's own record that it handled (alerted or counted) the event.
            table = lam.get_function_configuration(FunctionName=fn)["Environment"]["Variables"]["IDEMPOTENCY_TABLE"]
            for eid in wanted - set(handled):
                item = client("dynamodb").get_item(TableName=table, Key={"event_id": {"S": eid}}).get("Item") or {}
                if (item.get("status") or {}).get("S") == "done":
                    handled[eid] = "recorded"
                    print(f"# CloudTrail flood: {eid}: no log line, but recorded done in the idempotency table")
    outcomes = {}
    for outcome in handled.values():
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    seconds = time.monotonic() - t0
    r.check(f"CloudTrail flood: all {CLOUDTRAIL_FLOOD} events handled, each alerted or counted ({outcomes}, {seconds:.1f}s)",
            len(handled) == CLOUDTRAIL_FLOOD and set(outcomes) <= {"alerted", "suppressed", "failure_queue", "recorded"}
            and outcomes.get("recorded", 0) <= 10, f"{len(handled)} handled: {outcomes}")
    alerts = outcomes.get("alerted", 0)
    received = [json.loads(m["Body"]) for m in drain(sqs, sink_q, want=alerts, timeout=30, quiet=3)]
    ours = [m for m in received if "e2e-reconciler" in m.get("Message", "")]
    r.check(f"CloudTrail flood: SNS delivered one message per alerted event, a handful at most ({len(ours)})",
            1 <= len(ours) == alerts <= 5, f"{len(ours)} SNS messages, {alerts} alerted")
    time.sleep(1)
    posts = [json.loads(p.read_text()) for p in sorted(slack_dir.glob("[0-9]*.json"))][slack_before:]
    slack_ours = [p for p in posts if "e2e-reconciler" in json.dumps(p["payload"])]
    r.check(f"CloudTrail flood: Slack received as many posts ({len(slack_ours)})", len(slack_ours) == alerts, f"{len(slack_ours)} vs {alerts}")
    print(f"# CloudTrail flood: {CLOUDTRAIL_FLOOD} events in, {alerts} alert(s) per sink, {outcomes.get('suppressed', 0)} counted, {seconds:.1f}s")


def check_metrics(r, text, expected_alerts, down_id, outputs, fn):
    """The EMF lines in the function's log group, and the dashboard as deployed (MiniStack
    keeps the lines as log events; it does not turn them into metrics)."""
    lines = []
    for line in text.splitlines():
        at = line.find('{"_aws"')
        if at >= 0:
            try:
                lines.append(json.loads(line[at:].strip()))
            except ValueError:
                r.check("metrics: every EMF line is JSON", False, line[:200])
    r.check("metrics: EMF lines in the log group", len(lines) > 0, f"log text starts {text[:300]!r}")

    def metric(line):
        return line["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"]

    findings = [l for l in lines if metric(l) == "Findings"]
    deliveries = [l for l in lines if metric(l) == "Deliveries"]
    missing = [label for eid, (label, cause, *_rest) in expected_alerts.items()
               if not any(l.get("EventId") == eid and l.get("Cause") == cause for l in findings)]
    r.check(f"metrics: a Findings line for each of the {len(expected_alerts)} alerted fixtures", not missing, missing)
    undelivered = [label for eid, (label, *_rest) in expected_alerts.items()
                   if {l.get("Sink") for l in deliveries if l.get("EventId") == eid and l.get("Outcome") == "delivered"} != {"sns", "slack"}]
    r.check("metrics: each alerted fixture delivered to sns and slack", not undelivered, undelivered)
    down = [(l.get("Sink"), l.get("Outcome")) for l in deliveries if l.get("EventId") == down_id]
    r.check("metrics: sinks down: failed deliveries counted, the finding not",
            {"sns", "slack"} <= {sink for sink, outcome in down if outcome == "failed"}
            and not any(l.get("EventId") == down_id for l in findings), down)
    auth = [l for l in findings if l.get("Cause") == "identity-not-mapped"]
    r.check("metrics: the authenticator's two alerts are two findings", len(auth) == 2, len(auth))

    cw = client("cloudwatch")
    try:
        body = json.loads(cw.get_dashboard(DashboardName=outputs["DashboardName"])["DashboardBody"])
    except Exception as e:  # noqa: BLE001
        body = {"error": str(e)}
    queue_name = outputs["FailureQueueUrl"].rsplit("/", 1)[-1]
    said = json.dumps(body)
    r.check("dashboard: deployed, its widgets graph this stack's function and failure queue",
            len(body.get("widgets", [])) == 9 and f'"{fn}"' in said and f'"{queue_name}"' in said, said[:300])


def authenticator_line(role, when):
    return (f'time="{when}" level=warning msg="access denied" arn="arn:aws:iam::{ACCOUNT}:role/{role}" '
            f'client="127.0.0.1:33384" error="ARN is not mapped" method=POST path=/authenticate')


def check_authenticator(r, logs, sqs, sink_q, slack_dir, slack_before):
    t0 = time.monotonic()
    group, stream = f"/aws/eks/{AUTH_CLUSTER}/cluster", "authenticator-0e2e570ea5676c62c44d98da6189a02b"
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    now_ms = int(time.time() * 1000)
    granted = (f'time="{when}" level=info msg="access granted" arn="arn:aws:iam::{ACCOUNT}:role/platform-admins" '
               f'client="127.0.0.1:57586" groups="[]" method=POST path=/authenticate username=admin')
    # One denial (and a granted line the filter pattern keeps away), then a flood of
    # identical denials from another role, as kubectl retries and controllers make them.
    logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[
        {"timestamp": now_ms, "message": granted},
        {"timestamp": now_ms, "message": authenticator_line("e2e-unmapped", when)},
    ])
    logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[
        {"timestamp": now_ms + 1, "message": authenticator_line("e2e-flood", when)} for _ in range(AUTH_FLOOD)
    ])
    received = drain(sqs, sink_q, want=2, timeout=60, quiet=3)
    messages = [json.loads(m["Body"]) for m in received]
    r.check(f"authenticator: SNS delivered 2 alerts for 1 + {AUTH_FLOOD} denials", len(messages) == 2,
            [(m.get("Subject"), (m.get("MessageAttributes") or {}).get("cause")) for m in messages])
    by_role = {role: [m for m in messages if f"role/{role}" in m.get("Message", "")] for role in ("e2e-unmapped", "e2e-flood")}
    for role, got in by_role.items():
        if not r.check(f"authenticator {role}: one SNS alert", len(got) == 1, f"{len(got)} alerts"):
            continue
        m = got[0]
        cause = ((m.get("MessageAttributes") or {}).get("cause") or {}).get("Value")
        r.check(f"authenticator {role}: cause identity-not-mapped, cluster {AUTH_CLUSTER}",
                cause == "identity-not-mapped" and AUTH_CLUSTER in m.get("Message", ""), (cause, m.get("Subject")))
        r.check(f"authenticator {role}: live fact (cluster mode) and the create-access-entry fix",
                f"Live: the cluster is in {AUTH_CLUSTER_MODE}" in m["Message"] and "create-access-entry" in m["Message"]
                and "--region us-east-1" in m["Message"], note_lines(m["Message"]))
    if by_role["e2e-flood"]:
        m = by_role["e2e-flood"][0]["Message"]
        r.check(f"authenticator flood: one alert says {AUTH_FLOOD} identical denials", f"{AUTH_FLOOD} identical denials" in m, note_lines(m))
    if by_role["e2e-unmapped"]:
        m = by_role["e2e-unmapped"][0]["Message"]
        r.check("authenticator single denial: no repeats note", "identical denials" not in m, note_lines(m))
        r.check("authenticator single denial: live ListAccessEntries finds the same name in another account",
                "entries for the same name under other ARNs" in m and AUTH_SIBLING in m, note_lines(m))

    posts, deadline = [], time.monotonic() + 30
    while time.monotonic() < deadline:
        posts = [json.loads(p.read_text()) for p in sorted(slack_dir.glob("[0-9]*.json"))][slack_before:]
        if len(posts) >= 2:
            break
        time.sleep(0.5)
    time.sleep(2)
    posts = [json.loads(p.read_text()) for p in sorted(slack_dir.glob("[0-9]*.json"))][slack_before:]
    r.check("authenticator: Slack received 2 posts", len(posts) == 2, f"{len(posts)} posts")
    blobs = [json.dumps(p["payload"], ensure_ascii=False) for p in posts]
    r.check("authenticator: Slack posts are valid Block Kit naming identity-not-mapped",
            all(not p["problems"] for p in posts) and all("identity-not-mapped" in b for b in blobs), [p["problems"] for p in posts])
    r.check(f"authenticator flood: the Slack post says {AUTH_FLOOD} identical denials", sum(f"{AUTH_FLOOD} identical denials" in b for b in blobs) == 1,
            [b[:200] for b in blobs])
    print(f"# authenticator checks: {time.monotonic() - t0:.1f}s")


def cli(*args, env=None, timeout=120):
    """The CLI against MiniStack: the standard credential chain given the dummy key."""
    env = {**os.environ, "AWS_ENDPOINT_URL": os.environ["MINISTACK_URL"], "AWS_ACCESS_KEY_ID": "test",
           "AWS_SECRET_ACCESS_KEY": "test", "AWS_REGION": REGION, **(env or {})}
    return subprocess.run([os.environ["E2E_CLI"], *args], capture_output=True, text=True, timeout=timeout, env=env)


def finished(sfn, machine, run, timeout=180):
    """The execution `run` of `machine` once it is no longer running (or at the timeout)."""
    arn = machine.replace(":stateMachine:", ":execution:") + f":{run}"
    deadline, status = time.monotonic() + timeout, {}
    while time.monotonic() < deadline:
        status = sfn.describe_execution(executionArn=arn)
        if status["status"] != "RUNNING":
            break
        time.sleep(1)
    return status


def check_archive(r, outputs):
    """replay s3://… and the Step Functions scan give exactly what a local replay of the same files gives."""
    t0 = time.monotonic()
    local_dir = pathlib.Path(os.environ["E2E_DIR"]) / "archive"
    args = ["--format", "json", "--only-findings", "--color", "never"]
    local = cli("replay", str(local_dir), *args)
    r.check("archive: local replay finds findings and names the corrupt object (exit 1)",
            local.returncode == 1 and local.stdout.count("\n") > 50 and "corrupt" in local.stderr, (local.returncode, local.stderr[-400:]))
    t1 = time.monotonic()
    remote = cli("replay", f"s3://{ARCHIVE_BUCKET}/", *args)
    s3_seconds = time.monotonic() - t1
    r.check(f"replay s3://{ARCHIVE_BUCKET}/: the same findings, in the same order, as the local files ({s3_seconds:.1f}s)",
            remote.stdout == local.stdout and remote.returncode == local.returncode,
            f"exit {remote.returncode}; {len(remote.stdout)} vs {len(local.stdout)} bytes; {remote.stderr[-400:]}")
    summary = lambda stderr: (re.search(r"^\d+ file\(s\).*", stderr, re.S | re.M) or re.search("$", "")).group(0)
    r.check("replay s3://: the same summary as local", summary(remote.stderr) == summary(local.stderr) != "", (summary(remote.stderr), summary(local.stderr)))
    missing = cli("replay", "s3://no-such-bucket-e2e/")
    r.check("replay s3:// of a missing bucket: exit 2 naming the bucket and S3's answer",
            missing.returncode == 2 and "s3://no-such-bucket-e2e/" in missing.stderr and "NoSuchBucket" in missing.stderr, missing.stderr)

    # -- the organization scan: the deployed state machine, to the end
    sfn, s3 = client("stepfunctions"), client("s3")
    machine = outputs.get("ArchiveScanStateMachineArn")
    if not r.check("stack output ArchiveScanStateMachineArn", machine is not None, outputs):
        return
    run = f"e2e-{uuid.uuid4().hex[:8]}"
    sfn.start_execution(stateMachineArn=machine, name=run, input=json.dumps(
        {"bucket": ARCHIVE_BUCKET, "prefix": "", "results_bucket": RESULTS_BUCKET, "results_prefix": RESULTS_PREFIX}))
    status = finished(sfn, machine, run)
    scan_seconds = time.monotonic() - t0
    if not r.check(f"organization scan: execution SUCCEEDED ({scan_seconds:.1f}s)", status.get("status") == "SUCCEEDED",
                   (status.get("status"), status.get("error"), (status.get("cause") or "")[:400])):
        return
    prefix = f"{RESULTS_PREFIX}/{run}/"
    keys = sorted(o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=RESULTS_BUCKET, Prefix=prefix + "findings/")
                  for o in page.get("Contents", []))
    scanned = "".join(s3.get_object(Bucket=RESULTS_BUCKET, Key=k)["Body"].read().decode() for k in keys)
    r.check(f"organization scan: the findings under s3://{RESULTS_BUCKET}/{prefix}findings/ are exactly the local replay's ({len(keys)} objects)",
            scanned == local.stdout, f"{len(scanned)} vs {len(local.stdout)} bytes")
    got = json.loads(s3.get_object(Bucket=RESULTS_BUCKET, Key=prefix + "summary.json")["Body"].read())
    output = {k: v for k, v in json.loads(status.get("output") or "{}").items() if k != "outcome"}
    want = {}
    for line in local.stdout.splitlines():
        for f in json.loads(line)["findings"]:
            want[f["cause"]] = want.get(f["cause"], 0) + 1
    files = int(re.search(r"^(\d+) file\(s\)", local.stderr, re.M).group(1))
    r.check("organization scan: summary.json counts every cause as the local replay does, and is the execution's output",
            got.get("findings") == want and got == output and got.get("archive_objects") == files and got.get("objects_with_errors") == 1,
            (got.get("findings"), want, got.get("archive_objects"), files, got.get("objects_with_errors")))
    r.check("organization scan: the corrupt object's error is kept and quoted", any("corrupt" in e for e in got.get("errors", [])), got.get("errors"))
    print(f"# archive checks: {time.monotonic() - t0:.1f}s (replay s3:// {s3_seconds:.1f}s)")


# The fleet audit: a second account (MiniStack takes a 12-digit access key as the account).
FLEET_ACCOUNT = "444455556666"


def client_in(account, service):
    return boto3.client(service, endpoint_url=os.environ["MINISTACK_URL"], region_name=REGION,
                        aws_access_key_id=account, aws_secret_access_key="test",
                        config=Config(retries={"max_attempts": 2}, read_timeout=40, connect_timeout=5))


def check_fleet(r, outputs):
    """The fleet audit over two accounts: deploy/fleet-audit-reader.yaml deployed in each
    through MiniStack's CloudFormation, a cluster in each with an entry to flag, the
    deployed state machine run to the end: one audit per cluster in S3, the summary and
    the SARIF file, the second account's clusters listed with the role assumed there."""
    t0 = time.monotonic()
    machine = outputs.get("FleetAuditStateMachineArn")
    if not r.check("stack output FleetAuditStateMachineArn", machine is not None, outputs):
        return
    function_role = client("lambda").get_function_configuration(FunctionName=outputs["FunctionName"])["Role"]
    reader = (ROOT / "deploy" / "fleet-audit-reader.yaml").read_text()
    clusters = {}
    for account in (ACCOUNT, FLEET_ACCOUNT):
        cfn = client_in(account, "cloudformation")
        stack = f"eks-access-doctor-audit-reader-{uuid.uuid4().hex[:6]}"
        cfn.create_stack(StackName=stack, TemplateBody=reader, Capabilities=["CAPABILITY_NAMED_IAM"],
                         Parameters=[{"ParameterKey": "AuditorRoleArn", "ParameterValue": function_role}])
        status = ""
        for _ in range(120):
            status = cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
            if not status.endswith("IN_PROGRESS"):
                break
            time.sleep(0.5)
        r.check(f"fleet: deploy/fleet-audit-reader.yaml deploys in account {account}", status == "CREATE_COMPLETE", status)
        eks, iam = client_in(account, "eks"), client_in(account, "iam")
        name = f"fleet-{account[-4:]}-{uuid.uuid4().hex[:4]}"
        eks.create_cluster(name=name, roleArn=f"arn:aws:iam::{account}:role/eks-cluster-role",
                           resourcesVpcConfig={"subnetIds": ["subnet-0e2e0001"]},
                           accessConfig={"authenticationMode": "API", "bootstrapClusterCreatorAdminPermissions": False})
        # Flagged in each: a cross-account entry (the other account's CI role) and an
        # entry whose role is gone.
        other = FLEET_ACCOUNT if account == ACCOUNT else ACCOUNT
        eks.create_access_entry(clusterName=name, principalArn=f"arn:aws:iam::{other}:role/fleet-ci")
        gone = f"fleet-gone-{uuid.uuid4().hex[:4]}"
        iam.create_role(RoleName=gone, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))
        eks.create_access_entry(clusterName=name, principalArn=f"arn:aws:iam::{account}:role/{gone}")
        iam.delete_role(RoleName=gone)
        clusters[account] = name
    run = f"fleet-{uuid.uuid4().hex[:8]}"
    sfn, s3 = client("stepfunctions"), client("s3")
    # The first account names its cluster (it holds the e2e's others); the second is listed.
    sfn.start_execution(stateMachineArn=machine, name=run, input=json.dumps({
        "targets": [{"account": ACCOUNT, "region": REGION, "clusters": [clusters[ACCOUNT]], "kubernetes": False},
                    {"account": FLEET_ACCOUNT, "region": REGION, "kubernetes": False}],
        "results_prefix": "fleet"}))
    status = finished(sfn, machine, run)
    if not r.check(f"fleet: execution SUCCEEDED ({time.monotonic() - t0:.1f}s)", status.get("status") == "SUCCEEDED",
                   (status.get("status"), status.get("error"), (status.get("cause") or "")[:400])):
        return
    prefix = f"fleet/{run}/"
    keys = sorted(o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=RESULTS_BUCKET, Prefix=prefix)
                  for o in page.get("Contents", []))
    want = {f"{prefix}clusters/{a}/{REGION}/{c}.json" for a, c in clusters.items()}
    r.check("fleet: one audit per cluster of both accounts, the summary and the SARIF file",
            want <= set(keys) and f"{prefix}summary.json" in keys and f"{prefix}audit.sarif" in keys, keys)
    summary = json.loads(s3.get_object(Bucket=RESULTS_BUCKET, Key=prefix + "summary.json")["Body"].read())
    rows = {(row["account"], row["cluster"]): row for row in summary.get("rows", [])}
    r.check("fleet: the summary covers two accounts, each cluster with its flags",
            summary.get("accounts") == 2 and all(rows.get((a, c), {}).get("flags", 0) >= 2 for a, c in clusters.items())
            and summary.get("by_flag", {}).get("cross-account", 0) >= 2 and summary.get("by_flag", {}).get("principal-deleted", 0) >= 2
            and summary.get("errors") == [], summary)
    listed = json.loads(s3.get_object(Bucket=RESULTS_BUCKET, Key=f"{prefix}clusters/{FLEET_ACCOUNT}/{REGION}/{clusters[FLEET_ACCOUNT]}.json")["Body"].read())
    r.check("fleet: the second account's cluster was read there (its account, its entries)",
            listed.get("account") == FLEET_ACCOUNT and any(p["principal"] == f"arn:aws:iam::{ACCOUNT}:role/fleet-ci" for p in listed.get("principals", [])),
            {k: listed.get(k) for k in ("account", "cluster", "gaps")})
    sarif = json.loads(s3.get_object(Bucket=RESULTS_BUCKET, Key=prefix + "audit.sarif")["Body"].read())
    r.check("fleet: the SARIF file has one result per flag", len(sarif["runs"][0]["results"]) == summary.get("flags"), summary.get("flags"))
    print(f"# fleet checks: {time.monotonic() - t0:.1f}s")


def as_cloudtrail_records_it(request, **_):
    """MiniStack's CloudTrail names a REST call by its x-amz-target header, else as
    METHOD.service ("POST.eks"), and records the body, not the path: this adds what
    AWS's CloudTrail records for CreateAccessEntry (its name, and clusterName among the
    request parameters). EKS itself ignores both; the call is real and succeeds."""
    body = json.loads(request.body or b"{}")
    body["clusterName"] = LOOKUP_CLUSTER
    request.body = json.dumps(body).encode()
    request.headers["Content-Length"] = str(len(request.body))
    request.headers["X-Amz-Target"] = "AmazonEKS.CreateAccessEntry"


def recording(on):
    request = urllib.request.Request(os.environ["MINISTACK_URL"] + "/_ministack/config", method="POST",
                                     data=json.dumps({"cloudtrail._recording_enabled": "true" if on else "false"}).encode(),
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=10).read()


def check_lookup(r):
    """lookup: MiniStack's CloudTrail records real EKS calls; the pull command reads them
    through LookupEvents, diagnoses them exactly as replay does, and finds the finding."""
    t0 = time.monotonic()
    eks, iam, trail = client("eks"), client("iam"), client("cloudtrail")
    recording(True)
    try:
        role = iam.create_role(RoleName="e2e-lookup-deployers", AssumeRolePolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}]}))
        principal = role["Role"]["Arn"]
        eks.create_cluster(name=LOOKUP_CLUSTER, roleArn=f"arn:aws:iam::{ACCOUNT}:role/eks-cluster-role",
                           resourcesVpcConfig={"subnetIds": ["subnet-0e2e0001", "subnet-0e2e0002"]},
                           accessConfig={"authenticationMode": "API", "bootstrapClusterCreatorAdminPermissions": False})
        node_role = iam.create_role(RoleName="e2e-lookup-nodes", AssumeRolePolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
        eks.meta.events.register("before-send.eks.CreateAccessEntry", as_cloudtrail_records_it)
        eks.create_access_entry(clusterName=LOOKUP_CLUSTER, principalArn=principal, kubernetesGroups=["lookup-deployers"])
        eks.create_access_entry(clusterName=LOOKUP_CLUSTER, principalArn=node_role, type="STANDARD")
        found = cli("lookup", "--since", "30m", "--region", REGION, "--format", "json", "--color", "never")
        live = cli("lookup", "--since", "30m", "--region", REGION, "--format", "json", "--only-findings", "--live-facts", "--color", "never")
        history = trail.lookup_events(LookupAttributes=[{"AttributeKey": "EventSource", "AttributeValue": "eks.amazonaws.com"}],
                                      StartTime=time.time() - 1800)
    finally:
        recording(False)
    lines = [json.loads(line) for line in found.stdout.splitlines() if line.strip()]
    recorded = {e["EventId"] for e in history["Events"]}
    r.check(f"lookup: reads every EKS event MiniStack's CloudTrail recorded ({len(recorded)}), each once (exit 0)",
            found.returncode == 0 and sorted(line["event_id"] for line in lines) == sorted(recorded), (found.returncode, found.stderr[-400:], len(lines)))
    saved = pathlib.Path(os.environ["E2E_DIR"]) / "lookup-events.json"
    saved.write_text(json.dumps(history, default=str))
    replayed = cli("replay", str(saved), "--format", "json", "--color", "never")
    r.check("lookup: the same lines as replay of the same events saved by aws cloudtrail lookup-events",
            sorted(found.stdout.splitlines()) == sorted(replayed.stdout.splitlines()) and replayed.returncode == 0, replayed.stderr[-300:])
    ours = [line for line in lines if line.get("principal") == principal and line.get("event_name") == "CreateAccessEntry"]
    if r.check("lookup: the recorded CreateAccessEntry is among them", len(ours) == 1, [line.get("event_name") for line in lines]):
        causes = [f["cause"] for f in ours[0]["findings"]]
        commands = " ".join(c for f in ours[0]["findings"] for c in f["commands"])
        r.check(f"lookup: diagnoses it as unbound-kubernetes-group on {LOOKUP_CLUSTER}", causes == ["unbound-kubernetes-group"]
                and ours[0].get("cluster") == LOOKUP_CLUSTER and "lookup-deployers" in commands, (causes, ours[0].get("cluster"), commands[:300]))
    node_lines = [line for line in lines if line.get("principal") == node_role]
    r.check("lookup: without --live-facts, the node role's STANDARD entry has no finding (its trust policy is not read)",
            len(node_lines) == 1 and node_lines[0]["findings"] == [], node_lines)
    live_lines = [json.loads(line) for line in live.stdout.splitlines() if line.strip()]
    live_causes = {line.get("principal"): [f["cause"] for f in line["findings"]] for line in live_lines}
    r.check("lookup --live-facts: reads the role's trust policy with the caller's credentials: node-role-standard-entry",
            live.returncode == 0 and live_causes.get(node_role) == ["node-role-standard-entry"] and live_causes.get(principal) == ["unbound-kubernetes-group"],
            (live.returncode, live_causes, live.stderr[-300:]))
    ignored = [line for line in lines if line.get("ignored")]
    r.check("lookup: the other recorded calls are skipped with why (as replay does)", ignored and all(line["findings"] == [] for line in ignored),
            [(line.get("event_name"), line.get("ignored")) for line in ignored][:5])
    print(f"# lookup checks: {time.monotonic() - t0:.1f}s")


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "setup" and len(sys.argv) == 3:
        setup(sys.argv[2])
    elif len(sys.argv) == 3 and sys.argv[1] == "archive":
        archive(sys.argv[2])
    elif sys.argv[1:] == ["check"]:
        sys.exit(check())
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
