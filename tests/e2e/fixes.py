"""The printed fixes, proven on MiniStack: for each fixture in FIXES, the state the event
shows is made in MiniStack, the commands `replay --format json` prints for it are run
as printed with the real (pinned) AWS CLI, and the state they leave is compared with
what the fix must achieve. Driven by e2e.py (at the end of `check`: it mutates EKS
state, on clusters of its own) or standalone:

    MINISTACK_URL=http://127.0.0.1:PORT E2E_CLI=target/debug/eks-access-doctor \\
        .tools/sam/bin/python tests/e2e/fixes.py        last line "fixes: N passed, M failed"

    FIXES_OVERLAY=DIR   (development only) a directory laid over events/: a fixture at the
                        same relative path there is used instead of, or in the absence
                        of, the one under events/ (said on the output when it happens)

Every call, boto3's and the printed lines' (AWS_ENDPOINT_URL), goes through
eks_mode_proxy.py, started here on 127.0.0.1 in front of MiniStack: it emulates what
MiniStack 1.5.33 lacks about authentication modes (UpdateClusterConfig of
accessConfig.authenticationMode, one step forward at a time; access-entry calls refused
on a CONFIG_MAP cluster) and forwards everything else unchanged; its docstring says
exactly what it emulates and what not. A self-check first proves its refusals
(CONFIG_MAP -> API, API -> CONFIG_MAP) with the real wording.

Per fixture, each time on a fresh cluster named after the event's (`<name>-probe-…`,
`-fix-…`, `-retry-…`, in the event's region), so nothing depends on e2e.py setup's
clusters or on the order of the checks:

1. before: the event's state is not the fixed state, and the failed call re-issued from
   the event's requestParameters (boto3) fails or leaves another state; MiniStack does
   not validate access-entry rules (reserved prefixes, type rules), so for a request that
   was itself wrong it is the state that tells; where the emulation reproduces the
   event's error (`reproduced=True`), it must fail with the event's errorCode and
   errorMessage exactly;
2. the fix: the event, renamed to the fresh cluster, is replayed; every finding's
   `commands` run in order in one bash script (`set -euo pipefail`, the pinned `aws`
   first on PATH; kubectl/eksctl lines skipped: no Kubernetes API here); the script must
   exit 0 and leave the expected state: authentication mode, the cluster's entries, the
   entry's type, username, groups and associated policies with their scope;
3. the failed call again (`retry="succeeds"`: the request was right, the state was
   wrong): on a fresh state, the printed lines run with the failed call, made with boto3
   from requestParameters, in place of the printed line that repeats it (or after the
   last line when none does); it must succeed and leave the expected state.
   `retry="replaced"`: the request itself was wrong (a reserved group, a create of an
   entry that exists); the printed fix is the corrected call, and the old one is not
   made again (AWS would refuse it again).

Last, every mutating command of MUTATING must have run, and succeeded, in some fix.
Then the Pod Identity fixes (check_pod_identity): the printed trust statement, applied with
the AWS CLI, and the association call made again, on a fresh cluster and role.

The expected states below are this test's oracle, written from the causes' meaning;
the commands are never written here: they come from the tool at test time.
"""
import dataclasses
import json
import os
import pathlib
import shlex
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid

import boto3
from botocore import xform_name
from botocore.config import Config
from botocore.exceptions import ClientError, ParamValidationError

import eks_mode_proxy

ROOT = pathlib.Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
AWS_BIN = ROOT / ".tools" / "sam" / "bin"   # the pinned AWS CLI v1 (scripts/tools)
ACCOUNT = "111122223333"
POLICY = "arn:aws:eks::aws:cluster-access-policy/"
# The CLI's default region in the scripts: no fixture's. A printed line without
# --region goes there, finds no cluster and fails, as it would for a user elsewhere.
DEFAULT_REGION = "sa-east-1"
MUTATING = ("create-access-entry", "update-access-entry", "associate-access-policy", "delete-access-entry",
            "update-cluster-config")
# Known emulator gaps, named in a failure's detail (the check still fails: the printed
# line is not proven). Subcommand -> (text of the emulator's error, what it means). None
# known now: UpdateClusterConfig of the authentication mode, which MiniStack 1.5.33 lacks
# ("No route for POST /clusters/<name>/update-config"), is emulated by eks_mode_proxy.py.
EMULATOR_GAPS = {}
SKIPPED_PROGRAMS = {"kubectl": "no Kubernetes API here", "eksctl": "no Kubernetes API here"}


@dataclasses.dataclass(frozen=True)
class Entry:
    type: str
    groups: tuple = ()
    policies: tuple = ()   # (policy ARN, scope type, namespaces), sorted
    username: str = ""     # "": none set (MiniStack keeps "" when no username is given)


@dataclasses.dataclass(frozen=True)
class Fix:
    fixture: str             # path under events/
    cause: str               # the one finding replay must give
    mode: str                # the cluster's authentication mode the event shows
    expect: Entry            # the principal's entry after the fix
    retry: str               # "succeeds" | "replaced" (see the module docstring)
    expect_mode: str = "API_AND_CONFIG_MAP"
    existing: Entry = None   # the entry the event implies exists before the fix
    node_role: bool = False  # the principal is a role EC2 assumes
    patch: dict = None       # requestParameters changes: a variant derived from the fixture
    label: str = ""
    required: bool = True    # False: skipped (said so) while the file does not exist
    reproduced: bool = False  # the re-issued call must fail with the event's errorCode and errorMessage

    @property
    def name(self):
        return self.label or self.fixture


EDIT = (POLICY + "AmazonEKSEditPolicy", "cluster", ())
FIXES = [
    # update-cluster-config (+ create-access-entry): a CONFIG_MAP cluster refused CreateAccessEntry.
    # eks_mode_proxy.py refuses it as AWS did, so the failure is reproduced first.
    Fix("access-entries-disabled.json", "access-entries-disabled", mode="CONFIG_MAP", expect=Entry("STANDARD"),
        retry="succeeds", reproduced=True),
    # create-access-entry + associate-access-policy: AssociateAccessPolicy before any entry.
    Fix("access-entry-not-found.json", "access-entry-not-found", mode="API_AND_CONFIG_MAP",
        expect=Entry("STANDARD", policies=((POLICY + "AmazonEKSViewPolicy", "cluster", ()),)), retry="succeeds"),
    # create-access-entry + associate-access-policy: system:masters dropped, cluster admin by policy.
    Fix("reserved-group-prefix.json", "reserved-group-prefix", mode="API_AND_CONFIG_MAP",
        expect=Entry("STANDARD", policies=((POLICY + "AmazonEKSClusterAdminPolicy", "cluster", ()),)), retry="replaced"),
    # update-access-entry: the fixture's request set no groups (its fix only reads), so a
    # variant with groups; the existing entry is the one e2e.py setup makes (EXISTING_ENTRIES).
    # The update keeps the entry's type and its policy association.
    Fix("access-entry-already-exists.json", "access-entry-already-exists", mode="API_AND_CONFIG_MAP",
        label="access-entry-already-exists.json + kubernetesGroups",
        patch={"kubernetesGroups": ["payments-deployers", "payments-release"]},
        existing=Entry("STANDARD", ("payments-deployers",), (EDIT,)),
        expect=Entry("STANDARD", ("payments-deployers", "payments-release"), (EDIT,)), retry="replaced"),
    # delete-access-entry + create-access-entry --type EC2_LINUX: UpdateAccessEntry adding
    # system:nodes to a node role's STANDARD entry; after the fix, an EC2_LINUX entry, no groups.
    # Being added with the mended advice: required (a missing file fails); required=False
    # would skip it, said so on the output, until it exists.
    Fix("variants/reserved-group-prefix--update-node.json", "reserved-group-prefix", mode="API_AND_CONFIG_MAP",
        existing=Entry("STANDARD"), node_role=True, expect=Entry("EC2_LINUX"), retry="replaced", required=True),
]


@dataclasses.dataclass(frozen=True)
class State:
    mode: str
    entries: tuple      # the principals with an entry on the cluster
    entry: Entry        # the fixture principal's entry, or None

    def __str__(self):
        e = self.entry
        if e is None:
            entry = "no entry"
        else:
            policies = [p.rsplit("/", 1)[-1] + "@" + s + (str(list(n)) if n else "") for p, s, n in e.policies]
            entry = f"{e.type} entry, username {e.username!r}, groups {list(e.groups)}, policies {policies}"
        alone = self.entries == () if e is None else len(self.entries) == 1
        return f"mode {self.mode}, {entry}" + ("" if alone else f", entries {list(self.entries)}")


def expected_state(fix, principal):
    return State(fix.expect_mode, (principal,), fix.expect)


def snapshot(eks, cluster, principal):
    mode = ((eks.describe_cluster(name=cluster)["cluster"].get("accessConfig") or {}).get("authenticationMode"))
    if mode == "CONFIG_MAP":
        return State(mode, (), None)   # no access entries: the API refuses them (eks_mode_proxy.py)
    principals = tuple(sorted(eks.list_access_entries(clusterName=cluster)["accessEntries"]))
    try:
        e = eks.describe_access_entry(clusterName=cluster, principalArn=principal)["accessEntry"]
    except eks.exceptions.ResourceNotFoundException:
        return State(mode, principals, None)
    policies = tuple(sorted(
        (p["policyArn"], p["accessScope"]["type"], tuple(sorted(p["accessScope"].get("namespaces") or ())))
        for p in eks.list_associated_access_policies(clusterName=cluster, principalArn=principal)["associatedAccessPolicies"]))
    entry = Entry(e.get("type"), tuple(sorted(e.get("kubernetesGroups") or ())), policies, e.get("username") or "")
    return State(mode, principals, entry)


# ---------------------------------------------------------------------------- state

def ensure_principal(iam, arn, node_role):
    """The IAM role or user the event names (e2e.py setup made it already, unless standalone)."""
    kind, _, rest = arn.split(":", 5)[5].partition("/")
    path, _, name = ("/" + rest).rpartition("/")
    try:
        if kind == "role":
            trusted = {"Service": "ec2.amazonaws.com"} if node_role else {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
            iam.create_role(RoleName=name, Path=path + "/", AssumeRolePolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": trusted, "Action": "sts:AssumeRole"}]}))
        elif kind == "user":
            iam.create_user(UserName=name, Path=path + "/")
    except iam.exceptions.EntityAlreadyExistsException:
        pass


def make_state(eks, cluster, fix, principal):
    eks.create_cluster(
        name=cluster, roleArn=f"arn:aws:iam::{ACCOUNT}:role/eks-cluster-role",
        resourcesVpcConfig={"subnetIds": ["subnet-0f1x0001", "subnet-0f1x0002"]},
        accessConfig={"authenticationMode": fix.mode, "bootstrapClusterCreatorAdminPermissions": False},
    )
    if fix.existing:
        kwargs = {"clusterName": cluster, "principalArn": principal, "type": fix.existing.type}
        if fix.existing.groups:
            kwargs["kubernetesGroups"] = list(fix.existing.groups)
        if fix.existing.username:
            kwargs["username"] = fix.existing.username
        eks.create_access_entry(**kwargs)
        for policy, scope, namespaces in fix.existing.policies:
            eks.associate_access_policy(clusterName=cluster, principalArn=principal, policyArn=policy,
                                        accessScope={"type": scope, **({"namespaces": list(namespaces)} if namespaces else {})})


def fresh(cluster, kind):
    return f"{cluster}-{kind}-{uuid.uuid4().hex[:6]}"


def renamed(event, cluster):
    event = json.loads(json.dumps(event))
    params = event["detail"]["requestParameters"]
    for key in ("name", "clusterName"):
        if key in params:
            params[key] = cluster
    return event


def reissue(eks, event, cluster):
    """The failed call, made again with boto3 from the event's requestParameters (the
    cluster renamed, path parameters URL-decoded as CloudTrail records them encoded).
    None when it succeeds, else "Code: message"."""
    detail = event["detail"]
    operation = eks.meta.service_model.operation_model(detail["eventName"])
    members = operation.input_shape.members
    params = {}
    for key, value in (detail.get("requestParameters") or {}).items():
        if key == "name" and "name" not in members and "clusterName" in members:
            key = "clusterName"
        if key not in members:
            continue
        if members[key].serialization.get("location") == "uri" and isinstance(value, str):
            value = urllib.parse.unquote(value)
        params[key] = value
    params["clusterName" if "clusterName" in members else "name"] = cluster
    try:
        getattr(eks, xform_name(detail["eventName"]))(**params)
        return None
    except ClientError as e:
        return f"{e.response['Error'].get('Code')}: {e.response['Error'].get('Message')}"
    except ParamValidationError as e:
        return f"ParamValidationError: {e}"


# ---------------------------------------------------------------------------- commands

def parse(line):
    """(program, subcommand, {flag: value}) of a printed line; flags as `--f v` or `--f=v`."""
    words = shlex.split(line)
    program = words[0] if words else ""
    sub = words[2] if program == "aws" and len(words) > 2 else None
    flags, i = {}, 3 if sub else 1
    while i < len(words):
        w = words[i]
        if w.startswith("--"):
            if "=" in w:
                k, v = w.split("=", 1)
                flags[k] = v
            elif i + 1 < len(words) and not words[i + 1].startswith("--"):
                flags[w] = words[i + 1]
                i += 1
            else:
                flags[w] = None
        i += 1
    return program, sub, flags


def repeats(line, event, cluster, principal):
    """True when a printed line is the failed call itself (same operation, cluster, principal)."""
    program, sub, flags = parse(line)
    if program != "aws" or sub != xform_name(event["detail"]["eventName"], "-"):
        return False
    return (flags.get("--cluster-name") or flags.get("--name")) == cluster and flags.get("--principal-arn") in (None, principal)


class Script:
    """Printed lines run in order in one bash script, as printed. Its stderr (each line
    as run, "+ LINE", and any error) is always shown; the commands' stdout only when the
    script fails."""

    def __init__(self, lines, url, workdir):
        self.lines, self.url, self.workdir = lines, url, workdir
        self.rc, self.stderr, self.done, self.failed = 0, "", [], None

    def run(self):
        if not self.lines:
            return self
        marks = pathlib.Path(tempfile.mkstemp(dir=self.workdir, suffix=".marks")[1])
        body = ["set -euo pipefail", "exec 3>" + shlex.quote(str(marks)), 'echo "# aws is $(command -v aws)" >&2']
        for i, line in enumerate(self.lines):
            program = parse(line)[0]
            if program in SKIPPED_PROGRAMS:
                body.append(f"echo {shlex.quote(f'# skipped ({SKIPPED_PROGRAMS[program]}): {line}')} >&2")
                continue
            body += [f"echo {shlex.quote('+ ' + line)} >&2", f"echo start {i} >&3", line, f"echo done {i} >&3"]
        script = pathlib.Path(tempfile.mkstemp(dir=self.workdir, suffix=".sh")[1])
        script.write_text("\n".join(body) + "\n")
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(PATH=f"{AWS_BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}", AWS_ENDPOINT_URL=self.url,
                   AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION=DEFAULT_REGION,
                   AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null")
        # In the work directory: a printed line may write a file (trust-policy.json).
        out = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=300, env=env, cwd=self.workdir)
        self.rc, self.stderr = out.returncode, out.stderr.rstrip()
        started, done = [], []
        for mark in marks.read_text().splitlines():
            what, i = mark.split()
            (started if what == "start" else done).append(int(i))
        self.done = [self.lines[i] for i in done]
        if self.rc != 0 and started and (not done or started[-1] != done[-1]):
            self.failed = self.lines[started[-1]]
        shown = self.stderr.splitlines()
        if self.rc != 0:
            shown += [f"(stdout) {line}" for line in out.stdout.rstrip().splitlines()[-40:]]
        for line in shown:
            if line.strip():
                print(f"    {line}")
        return self

    @property
    def ok(self):
        return self.rc == 0

    def why(self):
        if self.ok:
            return ""
        error = " ".join(x.strip() for x in self.stderr.splitlines() if x.strip() and not x.startswith(("+ ", "# ")))[-600:]
        gap = next((f" [{why}]" for sub, (text, why) in EMULATOR_GAPS.items()
                    if self.failed and parse(self.failed)[1] == sub and text in error), "")
        return f"exit {self.rc} at: {self.failed or '(before any line)'}: {error}{gap}"


def mutating(lines):
    return {parse(line)[1] for line in lines} & set(MUTATING)


# ---------------------------------------------------------------------------- checks

def fixture_path(fix):
    overlay = os.environ.get("FIXES_OVERLAY")
    if overlay and (pathlib.Path(overlay) / fix.fixture).is_file():
        path = pathlib.Path(overlay) / fix.fixture
        print(f"# fixes {fix.name}: DEVELOPMENT COPY {path} (FIXES_OVERLAY), not events/{fix.fixture}")
        return path
    path = EVENTS / fix.fixture
    return path if path.is_file() else None


def check_fix(r, client, replay, fix, path, workdir, executed, url):
    t0 = time.monotonic()
    event = json.loads(path.read_text())
    if fix.patch:
        event["detail"]["requestParameters"].update(fix.patch)
    detail = event["detail"]
    params = detail["requestParameters"]
    region, call = detail.get("awsRegion"), detail["eventName"]
    principal = urllib.parse.unquote(params["principalArn"])
    base = params.get("name") or params.get("clusterName")
    eks = client("eks", region)
    ensure_principal(client("iam"), principal, fix.node_role)
    want = expected_state(fix, principal)
    name = f"fixes {fix.name}"
    made = []

    def commands(cluster):
        copy = pathlib.Path(workdir) / f"{cluster}.json"
        copy.write_text(json.dumps(renamed(event, cluster)))
        line = replay(copy, "json")[0]
        return line, [c for f in line["findings"] for c in f["commands"]]

    try:
        # 1. before the fix
        probe = fresh(base, "probe")
        made.append(probe)
        make_state(eks, probe, fix, principal)
        before = snapshot(eks, probe, principal)
        r.check(f"{name}: before the fix, the event's state ({before}) is not the fixed state", before != want, f"want {want}")
        answer = reissue(eks, event, probe)
        after = snapshot(eks, probe, principal)
        print(f"# {name}: {call} re-issued on the event's state: {'answered ' + answer if answer else 'accepted'}; state {after}")
        if fix.reproduced:
            recorded = f"{detail.get('errorCode')}: {detail.get('errorMessage')}"
            r.check(f"{name}: before the fix, {call} re-issued on the event's state fails as the event recorded "
                    f"({detail.get('errorCode')})", answer == recorded, f"answered {answer or 'OK'}, want {recorded}")
        r.check(f"{name}: before the fix, re-issuing {call} fails or leaves another state than the fix's",
                answer is not None or after != want, f"accepted, and the state is already the fixed one: {after}")

        # 2. the printed fix, as printed
        cluster = fresh(base, "fix")
        made.append(cluster)
        make_state(eks, cluster, fix, principal)
        line, lines = commands(cluster)
        causes = [f["cause"] for f in line["findings"]]
        r.check(f"{name}: replay finds [{fix.cause}] on {cluster} ({region})", causes == [fix.cause] and line.get("cluster") == cluster
                and line.get("region") == region, (causes, line.get("cluster"), line.get("region")))
        print(f"# {name}: the printed fix on {cluster} ({region}, {fix.mode}{', existing entry' if fix.existing else ''}):")
        script = Script(lines, url, workdir).run()
        executed.update(mutating(script.done))
        ran = [parse(x)[1] or parse(x)[0] for x in script.done]
        r.check(f"{name}: the printed commands run as printed ({', '.join(ran) or 'none ran'})", script.ok, script.why())
        got = snapshot(eks, cluster, principal)
        r.check(f"{name}: after the printed fix: {want}", got == want, f"got {got}")

        # 3. the failed call again
        if fix.retry == "replaced":
            print(f"# {name}: the printed fix replaces the failed {call} (its request was itself wrong); not re-issued")
        elif not script.ok:
            r.check(f"{name}: {call} from requestParameters succeeds after the printed fix", False,
                    "not attempted: the printed fix failed (above)")
        else:
            again = fresh(base, "retry")
            made.append(again)
            make_state(eks, again, fix, principal)
            _, lines = commands(again)
            at = next((i for i, x in enumerate(lines) if repeats(x, event, again, principal)), len(lines))
            print(f"# {name}: on {again}: the printed lines, with {call} from requestParameters (boto3) "
                  + (f"in place of: {lines[at]}" if at < len(lines) else "after the last"))
            head = Script(lines[:at], url, workdir).run()
            answer = reissue(eks, event, again) if head.ok else "not made: the printed lines before it failed"
            print(f"    = {call} (boto3): {answer or 'OK'}")
            tail = Script(lines[at + 1:], url, workdir).run() if head.ok and answer is None else None
            got = snapshot(eks, again, principal)
            r.check(f"{name}: {call} from requestParameters succeeds after the printed fix and leaves the fixed state",
                    head.ok and answer is None and tail.ok and got == want,
                    head.why() or answer or tail.why() or f"got {got}, want {want}")
    finally:
        for cluster in made:
            try:
                eks.delete_cluster(name=cluster)
            except ClientError:
                pass
    print(f"# {name}: {time.monotonic() - t0:.1f}s")


def check_proxy(r, client):
    """eks_mode_proxy.py refuses what AWS refuses, with AWS's wording: the jump CONFIG_MAP ->
    API and any step back (from a mode MiniStack holds, and from one the proxy recorded);
    it allows one step forward at a time, and DescribeCluster reads the result."""
    eks = client("eks", "us-east-1")
    made = []

    def cluster(mode):
        name = fresh("eks-mode-proxy", "self")
        eks.create_cluster(name=name, roleArn=f"arn:aws:iam::{ACCOUNT}:role/eks-cluster-role",
                           resourcesVpcConfig={"subnetIds": ["subnet-0f1x0001", "subnet-0f1x0002"]},
                           accessConfig={"authenticationMode": mode, "bootstrapClusterCreatorAdminPermissions": False})
        made.append(name)
        return name

    def update(name, mode):
        try:
            return "OK " + eks.update_cluster_config(name=name, accessConfig={"authenticationMode": mode})["update"]["status"]
        except ClientError as e:
            return f"{e.response['Error'].get('Code')}: {e.response['Error'].get('Message')}"

    def mode(name):
        return eks.describe_cluster(name=name)["cluster"]["accessConfig"]["authenticationMode"]

    def refused(old, new):
        return f"InvalidParameterException: Unsupported authentication mode update from {old} to {new}"

    try:
        a = cluster("CONFIG_MAP")
        got = update(a, "API")
        r.check("fixes: eks_mode_proxy refuses CONFIG_MAP -> API with the real wording, the mode unchanged",
                got == refused("CONFIG_MAP", "API") and mode(a) == "CONFIG_MAP", f"answered {got}; mode {mode(a)}")
        steps = [update(a, "API_AND_CONFIG_MAP"), mode(a), update(a, "API"), mode(a)]
        r.check("fixes: eks_mode_proxy allows CONFIG_MAP -> API_AND_CONFIG_MAP -> API, and DescribeCluster reads each",
                steps == ["OK InProgress", "API_AND_CONFIG_MAP", "OK InProgress", "API"], f"got {steps}")
        got = update(fresh("eks-mode-proxy", "absent"), "API_AND_CONFIG_MAP")
        r.check("fixes: eks_mode_proxy answers ResourceNotFoundException to UpdateClusterConfig of a missing cluster",
                got.startswith("ResourceNotFoundException: "), f"answered {got}")
        b = cluster("API")
        got = [update(b, "CONFIG_MAP"), update(a, "CONFIG_MAP"), update(a, "API_AND_CONFIG_MAP"), update(a, "API")]
        r.check("fixes: eks_mode_proxy refuses API -> CONFIG_MAP (and API -> API_AND_CONFIG_MAP, API -> API) with the "
                "real wording", got == [refused("API", "CONFIG_MAP"), refused("API", "CONFIG_MAP"),
                                        refused("API", "API_AND_CONFIG_MAP"), refused("API", "API")]
                and mode(a) == mode(b) == "API", f"answered {got}; modes {mode(a)}, {mode(b)}")
    finally:
        for name in made:
            try:
                eks.delete_cluster(name=name)
            except ClientError:
                pass


# The Pod Identity fixes proven here (eks_mode_proxy.py checks the association's role as EKS
# does): fixture -> whether the role exists, with a trust policy EC2 alone may use, before.
POD_IDENTITY_FIXES = {"pod-identity-trust-policy.json": True, "pod-identity-role-not-found.json": False}
EC2_ONLY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                                    "Action": "sts:AssumeRole"}]}


def check_pod_identity(r, client, replay, workdir, url):
    """For each of POD_IDENTITY_FIXES, on a fresh cluster and a fresh role (the fixture's name
    and path, made unique): the association call fails as the event recorded; the fix the
    tool prints for the renamed event, run as printed with the AWS CLI, ends with the
    association made, and the role then trusts Pod Identity while keeping what it trusted."""
    for stem, role_exists in POD_IDENTITY_FIXES.items():
        t0 = time.monotonic()
        event = json.loads((EVENTS / stem).read_text())
        detail = event["detail"]
        params = detail["requestParameters"]
        region, name = detail["awsRegion"], f"fixes {stem.removesuffix('.json')}"
        eks, iam = client("eks", region), client("iam")
        cluster = fresh(params["name"], "fix")
        path_and_name = params["roleArn"].split(":role/", 1)[1]
        path = "/" + path_and_name.rsplit("/", 1)[0] + "/" if "/" in path_and_name else "/"
        role = f"{path_and_name.rsplit('/', 1)[-1]}-{uuid.uuid4().hex[:6]}"
        role_arn = f"arn:aws:iam::{ACCOUNT}:role{path}{role}"
        try:
            eks.create_cluster(name=cluster, roleArn=f"arn:aws:iam::{ACCOUNT}:role/eks-cluster-role",
                               resourcesVpcConfig={"subnetIds": ["subnet-0f1x0001", "subnet-0f1x0002"]},
                               accessConfig={"authenticationMode": "API", "bootstrapClusterCreatorAdminPermissions": False})
            if role_exists:
                iam.create_role(RoleName=role, Path=path, AssumeRolePolicyDocument=json.dumps(EC2_ONLY))
            association = {"clusterName": cluster, "namespace": params["namespace"], "serviceAccount": params["serviceAccount"],
                           "roleArn": role_arn}
            try:
                eks.create_pod_identity_association(**association)
                answer = None
            except ClientError as e:
                answer = f"{e.response['Error'].get('Code')}: {e.response['Error'].get('Message')}"
            recorded = f"{detail['errorCode']}: {detail['errorMessage']}"
            r.check(f"{name}: before the fix, CreatePodIdentityAssociation fails as the event recorded", answer == recorded,
                    f"answered {answer or 'OK'}, want {recorded}")
            copy = json.loads(json.dumps(event))
            copy["detail"]["requestParameters"].update(name=cluster, roleArn=role_arn)
            copy_path = pathlib.Path(workdir) / f"{cluster}.json"
            copy_path.write_text(json.dumps(copy))
            line = replay(copy_path, "json")[0]
            lines = [c for f in line["findings"] for c in f["commands"]]
            r.check(f"{name}: replay finds [{stem.removesuffix('.json')}]",
                    [f["cause"] for f in line["findings"]] == [stem.removesuffix(".json")], line.get("findings"))
            print(f"# {name}: the printed fix, on {cluster} ({region}) and role {role_arn}:")
            script = Script(lines, url, workdir).run()
            ran = [parse(x)[1] for x in script.done]
            r.check(f"{name}: the printed commands run as printed ({', '.join(map(str, ran)) or 'none ran'})", script.ok, script.why())
            made = eks.list_pod_identity_associations(clusterName=cluster, namespace=params["namespace"],
                                                      serviceAccount=params["serviceAccount"])["associations"]
            got = [eks.describe_pod_identity_association(clusterName=cluster, associationId=a["associationId"])["association"]["roleArn"]
                   for a in made]
            r.check(f"{name}: after the printed fix, the association maps the service account to the role", got == [role_arn], got)
            trust = iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
            trust = json.loads(urllib.parse.unquote(trust)) if isinstance(trust, str) else trust
            kept = not role_exists or all(st in trust.get("Statement", []) for st in EC2_ONLY["Statement"])
            r.check(f"{name}: the role trusts Pod Identity{' and still EC2' if role_exists else ''}",
                    eks_mode_proxy.trusts_pod_identity(trust) and kept, trust)
        finally:
            for cleanup in (lambda: eks.delete_cluster(name=cluster), lambda: iam.delete_role(RoleName=role)):
                try:
                    cleanup()
                except ClientError:
                    pass
        print(f"# {name}: {time.monotonic() - t0:.1f}s")


def check(r, client, replay):
    """The fixes of FIXES on MiniStack (MINISTACK_URL) behind eks_mode_proxy.py, with the CLI
    E2E_CLI, through `r` (e2e.py's Results); `replay(path, fmt)` is e2e.py's. `client`, e2e.py's
    (MiniStack directly), is not used: the clients here are made like it, with the proxy as
    their endpoint."""
    t0 = time.monotonic()
    executed = set()
    proxy = eks_mode_proxy.start(os.environ["MINISTACK_URL"])

    def via_proxy(service, region="us-east-1"):
        return boto3.client(service, endpoint_url=proxy.url, region_name=region,
                            aws_access_key_id="test", aws_secret_access_key="test",
                            config=Config(retries={"max_attempts": 2}, read_timeout=40, connect_timeout=5))

    print(f"# fixes: eks_mode_proxy on {proxy.url}, in front of {os.environ['MINISTACK_URL']}")
    try:
        try:
            check_proxy(r, via_proxy)
        except Exception as e:
            r.check("fixes: the eks_mode_proxy self-check ran to the end", False, f"{type(e).__name__}: {e}")
        with tempfile.TemporaryDirectory(prefix="e2e-fixes-") as workdir:
            for fix in FIXES:
                path = fixture_path(fix)
                if path is None:
                    if fix.required:
                        r.check(f"fixes {fix.name}: the fixture exists", False, f"missing: events/{fix.fixture}")
                    else:
                        print(f"# fixes {fix.name}: events/{fix.fixture} not added yet (required=False): skipped")
                    continue
                try:
                    check_fix(r, via_proxy, replay, fix, path, workdir, executed, proxy.url)
                except Exception as e:  # one fixture's surprise must not hide the others' results
                    r.check(f"fixes {fix.name}: ran to the end", False, f"{type(e).__name__}: {e}")
            try:
                check_pod_identity(r, via_proxy, replay, workdir, proxy.url)
            except Exception as e:
                r.check("fixes: the Pod Identity fixes ran to the end", False, f"{type(e).__name__}: {e}")
    finally:
        proxy.close()
    for sub in MUTATING:
        r.check(f"fixes: a printed {sub} ran and succeeded in some fix", sub in executed,
                f"ran and succeeded: {sorted(executed)}")
    print(f"# fixes checks: {time.monotonic() - t0:.1f}s")

if __name__ == "__main__":
    if len(sys.argv) != 1 or not os.environ.get("MINISTACK_URL") or not os.environ.get("E2E_CLI"):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    import e2e  # its Results, client and replay (imported here: e2e.py imports this module)

    results = e2e.Results()
    check(results, e2e.client, e2e.replay)
    print(f"fixes: {results.passed} passed, {results.failed} failed")
    sys.exit(0 if results.failed == 0 else 1)
