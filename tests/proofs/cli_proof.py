"""The AWS CLI proof: every `aws ...` command the tool prints is run through the real,
pinned AWS CLI v1 (awscli 1.46.3) against a local recording endpoint, so the CLI's own
parser and parameter validation judge it (unknown options, bad shorthand, bad types,
missing required parameters all make it exit non-zero before anything is sent). Each
request the CLI then sends is checked against the service model the CLI ships.

    .tools/sam/bin/python tests/proofs/cli_proof.py CLI_BINARY      the proof
    .tools/sam/bin/python tests/proofs/cli_proof.py --self-test     only the self-test

CLI_PROOF_KEEP=1 keeps the scripts, the CLI's argv/stderr/status per invocation and every
recorded request (requests.json) in the temporary directory it names.

Run it with the python of the awscli venv (`scripts/tools sam`): `import awscli` comes
first, which makes `botocore` resolve to the copy awscli 1.46.3 vendors
(awscli/botocore/data), i.e. exactly the models the CLI validates and serialises with.

How it works
  * tests/proofs/collect.py gathers every finding's `commands` and `iam_policy`.
  * One recording endpoint on 127.0.0.1 (threaded http.server). Every `aws` call goes
    through a shim first on PATH that numbers the invocation, sets AWS_ENDPOINT_URL to
    http://127.0.0.1:PORT/inv/<finding>/<n> (awscli 1.46.3 honours AWS_ENDPOINT_URL for
    eks, iam, sts, sso-admin, organizations and cloudtrail, path prefix included), execs
    the real CLI and keeps its argv, exit status and stderr. The path prefix ties each
    request to its invocation; the endpoint strips it. The real CLI runs in a fork of
    tests/proofs/aws_server.py, which has done the CLI's imports once (most of a fresh
    `aws` process's 0.7 s): the fork gets the call's argv, environment, directory and
    stdio and runs the `aws` script itself. CLI_PROOF_FORK=0 runs a fresh `aws` process
    per call instead (the same results, 2-3 times the CPU).
  * The endpoint identifies the service from the SigV4 credential scope (signing name)
    and the operation from the request: X-Amz-Target (json 1.1), Action= (query), or
    method + requestUri template (rest-json). It answers with a response generated from
    the operation's output shape in the service's protocol: structures with their
    members (depth-limited, no recursion), lists with ONE element (so `for` loops run
    their bodies), maps with one entry, strings a placeholder (ARN-shaped for members
    named *Arn, the first enum value for enums, except that "ACTIVE" is preferred when
    the enum has it, so `aws eks update-kubeconfig` accepts the cluster), numbers 1,
    booleans true, timestamps 2024-01-01T00:00:00Z. Pagination tokens are left out (and
    IsTruncated is false) so paginating commands stop. One more thing, so the Identity
    Center lookup loop can take the branch it relies on: when a line compares
    `"$(aws SVC OP ... --query A.B --output text)" = LITERAL`, that finding's OP answers
    LITERAL at A.B.
  * Each finding's lines run in order as ONE bash script (`set -e -o pipefail`) in a
    temporary directory holding policy.json (the finding's iam_policy) when it has one,
    with shims for kubectl, eksctl and jq that print nothing and exit 0. Lines with no
    `aws` invocation are skipped (counted, not judged); only `aws` invocations are.
  * Dummy credentials, AWS_DEFAULT_REGION=us-east-1 for lines without --region, a
    throw-away HOME/KUBECONFIG, no AWS config files, AWS_MAX_ATTEMPTS=1.

Model rules every recorded request is checked against
  1. the service and operation exist in the CLI's model;
  2. every member sent exists in the input shape (rest-json: body members, URI labels
     and querystring parameters; query: every form key, list/map nesting included;
     json: every body key), at every depth, with the right type;
  3. required input members are present;
  4. enum-typed strings carry one of the model's enum values;
  5. strings whose model documentation enumerates the allowed values but that have
     no enum: the value must be one of the <code>…</code> values of the "Valid values
     are …" sentence. Found by scanning the documentation of the members sent; in
     the six services' models of awscli 1.46.3 that is exactly one member, eks
     CreateAccessEntryRequest.type (the access entry type: STANDARD, FARGATE_LINUX,
     EC2_LINUX, EC2_WINDOWS, EC2, HYBRID_LINUX, HYPERPOD_LINUX); the run prints the
     list and fails if the access entry type is no longer among them;
  6. string length min/max and numeric min/max of the model, and `pattern` for values
     other than the placeholders this endpoint itself handed out (those were never the
     tool's advice);
  7. a plain `aws SERVICE OPERATION` call sent that operation (so a misidentified
     request cannot pass unchecked).
  After the run it asserts that EKS access entry `type`, access scope `type` and
  `authenticationMode` values were actually seen and were all valid.

Output: one line per judged `aws` invocation (origin, cause, line, operation, OK/FAIL
with the reason: the command as the CLI received it, its stderr, the rule broken); a
FAIL line for any line with `aws` in it that never ran, and for a script that did not
exit 0 although none of its `aws` invocations failed; then exactly
`cli proof: N passed, M failed` (N + M = judged invocations + those extra FAIL lines).
Exit 1 if anything failed or if nothing was judged. The self-test runs first, every
time: a misspelled flag, an unknown option, bad shorthand (syntax and key), an invalid
access scope type (type=namespaces), an invalid access entry type (EC2_LINUXX), an
invalid authenticationMode, an unknown CLI operation, a missing required parameter, an
aws line that never runs, and raw requests for an unknown operation (json and query)
and an unknown rest-json member must all FAIL, and a correct command must pass, or the
proof stops with exit 1.

Not judged: lines without `aws` (kubectl, eksctl, jq); whether the advice is right for
the situation; IAM policy documents beyond their being sent (a proof of their own);
values that only the live service knows are wrong (a role that does not exist, a
placeholder such as NAMESPACE); header-bound members; commands the CLI answers without
a request (`aws eks get-token` is judged by exit status only); how the CLI behaves on
real, varied responses (ours are one fixed shape per operation).
"""

import awscli  # noqa: F401  first: makes `botocore` the copy awscli vendors
import base64
import concurrent.futures
import datetime
import html
import http.server
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

import botocore
import botocore.session
from botocore import xform_name

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
REAL_AWS = os.path.join(os.path.dirname(sys.executable), "aws")
AWS_SERVER = os.path.join(HERE, "aws_server.py")
AWS_CLIENT = os.path.join(HERE, "aws_client.py")
AWS_VIA = {}  # the shim's route to the CLI server, once it runs (start_aws_server)
SERVICES = ["eks", "iam", "sts", "sso-admin", "organizations", "cloudtrail"]
FIXED_TIME = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
MAX_DEPTH = 6
POOL = 3
SCRIPT_TIMEOUT = 120
ACCOUNT = "111122223333"

SESSION = botocore.session.get_session()
_models, _paginators, _lock = {}, {}, threading.Lock()


def model(service):
    with _lock:
        if service not in _models:
            _models[service] = SESSION.get_service_model(service)
        return _models[service]


def services_for_signing_name(name):
    found = [s for s in SERVICES if model(s).signing_name == name]
    if not found:
        try:
            found = [name] if model(name) else []
        except Exception:
            found = []
    return found


def paginator_tokens(service, op):
    with _lock:
        if service not in _paginators:
            try:
                _paginators[service] = SESSION.get_paginator_model(service)._paginator_config
            except Exception:
                _paginators[service] = {}
        conf = _paginators[service].get(op, {})
    tokens = conf.get("output_token", [])
    if isinstance(tokens, str):
        tokens = [tokens]
    names = set()
    for t in tokens:
        names.update(re.findall(r"[A-Za-z_]\w*", t))
    return names | {"nextToken", "NextToken", "Marker", "NextMarker"}


# ---------------------------------------------------------------- doc-enumerated values

def doc_enum(shape):
    """Allowed values a string member's documentation lists ("Valid values are
    <code>A</code>, <code>B</code>, and <code>C</code>.") when the model has no enum."""
    if shape.type_name != "string" or shape.enum:
        return None
    doc = shape.documentation or ""
    m = re.search(r"Valid values (?:are|include)\s*:?(.*?)(?:</p>|\.\s|\.$)", doc, re.S)
    if not m:
        return None
    values = re.findall(r"<code>\s*([^<]+?)\s*</code>", m.group(1))
    if len(values) < 2 or not all(re.fullmatch(r"[A-Za-z0-9_.:\-]+", v) for v in values):
        return None
    return values


def doc_enum_members():
    """Every (service, owner shape, member) of the services' input shapes checked by
    rule 5, with its values."""
    out = {}
    for svc in SERVICES:
        m = model(svc)
        seen = set()

        def walk(shape):
            if shape.name in seen:
                return
            seen.add(shape.name)
            if shape.type_name == "structure":
                for name, member in shape.members.items():
                    vals = doc_enum(member)
                    if vals:
                        out[(svc, shape.name, name)] = vals
                    walk(member)
            elif shape.type_name == "list":
                walk(shape.member)
            elif shape.type_name == "map":
                walk(shape.value)

        for op in m.operation_names:
            o = m.operation_model(op)
            if o.input_shape is not None:
                walk(o.input_shape)
    return out


# ---------------------------------------------------------------- fake responses

def placeholder_string(shape, name, service):
    if shape.enum:
        return "ACTIVE" if "ACTIVE" in shape.enum else shape.enum[0]
    if name.lower().endswith("arn"):
        value = "arn:aws:%s:us-east-1:%s:%s/proof-placeholder" % (
            model(service).signing_name, ACCOUNT, (name[:-3] or "resource").lower())
    else:
        value = "proof-%s" % (name or "value")
    lo, hi = shape.metadata.get("min"), shape.metadata.get("max")
    if lo and len(value) < lo:
        value += "x" * (lo - len(value))
    if hi and len(value) > hi:
        value = value[:hi]
    return value


def fake_value(shape, name, service, depth, stack, emitted):
    t = shape.type_name
    if t == "structure":
        if depth > MAX_DEPTH or shape.name in stack or shape.is_document_type:
            return None
        out = {}
        for mname, mshape in shape.members.items():
            v = fake_value(mshape, mname, service, depth + 1, stack + (shape.name,), emitted)
            if v is not None:
                out[mname] = v
                if shape.is_tagged_union:
                    break
        return out
    if t == "list":
        v = fake_value(shape.member, name, service, depth + 1, stack, emitted)
        return [] if v is None else [v]
    if t == "map":
        k = fake_value(shape.key, "key", service, depth + 1, stack, emitted)
        v = fake_value(shape.value, name, service, depth + 1, stack, emitted)
        return {} if v is None else {k: v}
    if t == "string":
        v = placeholder_string(shape, name, service)
        emitted.add(v)
        return v
    if t in ("integer", "long"):
        return max(1, shape.metadata.get("min") or 1)
    if t in ("float", "double"):
        return 1.0
    if t == "boolean":
        return True
    if t == "timestamp":
        return FIXED_TIME
    if t == "blob":
        return b"proof-placeholder"
    return None


def fake_output(service, op, hints, emitted):
    om = model(service).operation_model(op)
    shape = om.output_shape
    if shape is None:
        return None, {}
    value = fake_value(shape, "", service, 0, (), emitted) or {}
    for token in paginator_tokens(service, op):
        value.pop(token, None)
    if "IsTruncated" in value:
        value["IsTruncated"] = False
    for path, literal in hints.get((service, op), []):
        node = value
        for seg in path[:-1]:
            node = node.setdefault(seg, {}) if isinstance(node, dict) else {}
        if isinstance(node, dict):
            node[path[-1]] = literal
    return shape, value


def ts_format(shape, protocol):
    fmt = shape.serialization.get("timestampFormat") or shape.metadata.get("timestampFormat")
    if fmt:
        return fmt
    return "iso8601" if protocol in ("query", "ec2", "rest-xml") else "unixTimestamp"


def ts_text(shape, protocol):
    fmt = ts_format(shape, protocol)
    if fmt == "unixTimestamp":
        return int(FIXED_TIME.timestamp())
    if fmt == "rfc822":
        return "Mon, 01 Jan 2024 00:00:00 GMT"
    return "2024-01-01T00:00:00Z"


def to_json(value, shape, protocol):
    t = shape.type_name
    if t == "structure":
        if shape.is_document_type:
            return value
        out = {}
        for mname, v in value.items():
            mshape = shape.members[mname]
            if mshape.serialization.get("location"):
                continue
            out[mshape.serialization.get("name", mname)] = to_json(v, mshape, protocol)
        return out
    if t == "list":
        return [to_json(v, shape.member, protocol) for v in value]
    if t == "map":
        return {k: to_json(v, shape.value, protocol) for k, v in value.items()}
    if t == "timestamp":
        return ts_text(shape, protocol)
    if t == "blob":
        return base64.b64encode(value).decode()
    return value


def to_xml(value, shape, tag):
    t = shape.type_name
    if t == "structure":
        inner = []
        for mname, v in value.items():
            mshape = shape.members[mname]
            inner.append(to_xml(v, mshape, mshape.serialization.get("name", mname)))
        return "<%s>%s</%s>" % (tag, "".join(inner), tag)
    if t == "list":
        if shape.serialization.get("flattened"):
            return "".join(to_xml(v, shape.member, tag) for v in value)
        mtag = shape.member.serialization.get("name", "member")
        return "<%s>%s</%s>" % (tag, "".join(to_xml(v, shape.member, mtag) for v in value), tag)
    if t == "map":
        ktag = shape.key.serialization.get("name", "key")
        vtag = shape.value.serialization.get("name", "value")
        entries = "".join("<entry>%s%s</entry>" % (to_xml(k, shape.key, ktag), to_xml(v, shape.value, vtag))
                          for k, v in value.items())
        return "<%s>%s</%s>" % (tag, entries, tag)
    if t == "boolean":
        text = "true" if value else "false"
    elif t == "timestamp":
        text = ts_text(shape, "query")
    elif t == "blob":
        text = base64.b64encode(value).decode()
    else:
        text = html.escape(str(value), quote=False)
    return "<%s>%s</%s>" % (tag, text, tag)


def render_response(service, op, hints, emitted):
    """(status, headers, body) of a successful response to `op`."""
    m = model(service)
    shape, value = fake_output(service, op, hints, emitted)
    if m.protocol == "query":
        ns = m.metadata.get("xmlNamespace", "")
        inner = ""
        if shape is not None:
            wrapper = shape.serialization.get("resultWrapper", op + "Result")
            inner = to_xml(value, shape, wrapper)
        body = ('<%sResponse xmlns="%s">%s<ResponseMetadata><RequestId>proof-request</RequestId>'
                '</ResponseMetadata></%sResponse>') % (op, ns, inner, op)
        return 200, {"Content-Type": "text/xml"}, body.encode()
    headers = {"Content-Type": "application/x-amz-json-%s" % m.metadata.get("jsonVersion", "1.1")
               if m.protocol == "json" else "application/json", "x-amzn-RequestId": "proof-request"}
    if shape is None:
        return 200, headers, b"{}"
    if m.protocol == "rest-json":
        for mname, mshape in shape.members.items():
            if mshape.serialization.get("location") == "header" and mname in value:
                v = value[mname]
                headers[mshape.serialization.get("name", mname)] = (
                    str(ts_text(mshape, "rest-json")) if mshape.type_name == "timestamp" else
                    str(v).lower() if isinstance(v, bool) else str(v))
        payload = shape.serialization.get("payload")
        if payload:
            pshape = shape.members[payload]
            v = value.get(payload)
            if pshape.type_name == "structure":
                return 200, headers, json.dumps(to_json(v or {}, pshape, m.protocol)).encode()
            if pshape.type_name == "blob":
                return 200, headers, v or b""
            return 200, headers, str(v or "").encode()
    return 200, headers, json.dumps(to_json(value, shape, m.protocol)).encode()


def render_error(protocol, code, message):
    if protocol == "query":
        body = ("<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error>"
                "<RequestId>proof-request</RequestId></ErrorResponse>") % (code, html.escape(message))
        return 400, {"Content-Type": "text/xml"}, body.encode()
    return 400, {"Content-Type": "application/json", "x-amzn-ErrorType": code}, \
        json.dumps({"__type": code, "message": message}).encode()


# ---------------------------------------------------------------- request checks

class Checker:
    """Checks the members of one request against an input shape; collects the rule
    breaches and the string values it saw (for the closing assertions)."""

    def __init__(self, service, emitted):
        self.service, self.emitted = service, emitted
        self.errors, self.seen = [], []

    def err(self, path, msg):
        self.errors.append("%s: %s" % (path, msg))

    def scalar(self, value, shape, path, owner, member, from_text):
        t = shape.type_name
        if t == "string":
            if not isinstance(value, str):
                return self.err(path, "expected a string, got %r" % (value,))
            self.seen.append(((self.service, owner, member), shape.name, value))
            if shape.enum and value not in shape.enum:
                self.err(path, "%r is not one of the model's enum values %s (shape %s)"
                         % (value, shape.enum, shape.name))
            allowed = doc_enum(shape)
            if allowed and value not in allowed:
                self.err(path, "%r is not one of the values the model documents for %s.%s: %s"
                         % (value, owner, member, allowed))
            lo, hi = shape.metadata.get("min"), shape.metadata.get("max")
            if lo is not None and len(value) < lo:
                self.err(path, "%r is shorter than the model's min length %d" % (value, lo))
            if hi is not None and len(value) > hi:
                self.err(path, "%r is longer than the model's max length %d" % (value, hi))
            pattern = shape.metadata.get("pattern")
            if pattern and value not in self.emitted:
                try:
                    ok = re.search(pattern, value, re.S) is not None
                except re.error:
                    ok = True  # a Java-only pattern: not judged
                if not ok:
                    self.err(path, "%r does not match the model's pattern %s" % (value, pattern))
        elif t in ("integer", "long", "float", "double"):
            if from_text:
                try:
                    value = int(value) if t in ("integer", "long") else float(value)
                except ValueError:
                    return self.err(path, "%r is not a %s" % (value, t))
            elif isinstance(value, bool) or not isinstance(value, (int, float)):
                return self.err(path, "expected a %s, got %r" % (t, value))
            lo, hi = shape.metadata.get("min"), shape.metadata.get("max")
            if lo is not None and value < lo:
                self.err(path, "%r is below the model's min %s" % (value, lo))
            if hi is not None and value > hi:
                self.err(path, "%r is above the model's max %s" % (value, hi))
        elif t == "boolean":
            if (from_text and value not in ("true", "false")) or (not from_text and not isinstance(value, bool)):
                self.err(path, "expected a boolean, got %r" % (value,))
        elif t == "timestamp":
            if not isinstance(value, (str, int, float)) or isinstance(value, bool):
                self.err(path, "expected a timestamp, got %r" % (value,))
        elif t == "blob":
            if not isinstance(value, str):
                self.err(path, "expected a blob, got %r" % (value,))
        else:
            self.err(path, "the model gives this member type %s, which a request cannot carry" % t)

    # json and rest-json bodies ---------------------------------------------------
    def json_value(self, value, shape, path, owner, member):
        t = shape.type_name
        if t == "structure":
            if shape.is_document_type:
                return
            if not isinstance(value, dict):
                return self.err(path, "expected an object (shape %s), got %r" % (shape.name, value))
            by_name = {ms.serialization.get("name", mn): mn for mn, ms in shape.members.items()
                       if not ms.serialization.get("location")}
            for key, v in value.items():
                mname = by_name.get(key)
                if mname is None:
                    self.err(path + "." + key, "no member %r in the model's shape %s (members: %s)"
                             % (key, shape.name, sorted(by_name)))
                    continue
                self.json_value(v, shape.members[mname], path + "." + key, shape.name, mname)
            for req in shape.required_members:
                key = shape.members[req].serialization.get("name", req)
                if key not in value and not shape.members[req].serialization.get("location"):
                    self.err(path, "required member %r of shape %s is missing" % (req, shape.name))
        elif t == "list":
            if not isinstance(value, list):
                return self.err(path, "expected a list (shape %s), got %r" % (shape.name, value))
            self.length(value, shape, path)
            for i, v in enumerate(value):
                self.json_value(v, shape.member, "%s[%d]" % (path, i), owner, member)
        elif t == "map":
            if not isinstance(value, dict):
                return self.err(path, "expected a map (shape %s), got %r" % (shape.name, value))
            self.length(value, shape, path)
            for k, v in value.items():
                self.scalar(k, shape.key, "%s{%s}" % (path, k), shape.name, "key", False)
                self.json_value(v, shape.value, "%s{%s}" % (path, k), owner, member)
        else:
            self.scalar(value, shape, path, owner, member, False)

    def length(self, value, shape, path):
        lo, hi = shape.metadata.get("min"), shape.metadata.get("max")
        if lo is not None and len(value) < lo:
            self.err(path, "%d items, below the model's min %d" % (len(value), lo))
        if hi is not None and len(value) > hi:
            self.err(path, "%d items, above the model's max %d" % (len(value), hi))

    # query protocol form keys ------------------------------------------------------
    def query_key(self, shape, segs, value, path, owner, member):
        t = shape.type_name
        if t == "structure":
            if not segs:
                return self.err(path, "a structure (shape %s) sent as the scalar %r" % (shape.name, value))
            by_name = {ms.serialization.get("name", mn): mn for mn, ms in shape.members.items()}
            mname = by_name.get(segs[0])
            if mname is None:
                return self.err(path + "." + segs[0], "no member %r in the model's shape %s (members: %s)"
                                % (segs[0], shape.name, sorted(by_name)))
            return self.query_key(shape.members[mname], segs[1:], value, path + "." + segs[0],
                                  shape.name, mname)
        if t == "list":
            if not segs:
                if value == "":
                    return  # an empty list
                return self.err(path, "a list (shape %s) sent as the scalar %r" % (shape.name, value))
            if not shape.serialization.get("flattened"):
                want = shape.member.serialization.get("name", "member")
                if segs[0] != want:
                    return self.err(path + "." + segs[0], "list elements are %s.N in the model" % want)
                segs = segs[1:]
            if not segs or not segs[0].isdigit():
                return self.err(path, "a list element without an index")
            return self.query_key(shape.member, segs[1:], value, "%s[%s]" % (path, segs[0]), owner, member)
        if t == "map":
            if not shape.serialization.get("flattened"):
                if not segs or segs[0] != "entry":
                    return self.err(path, "map entries are entry.N.key/value in the model")
                segs = segs[1:]
            if len(segs) < 2 or not segs[0].isdigit():
                return self.err(path, "a map entry without an index")
            kname = shape.key.serialization.get("name", "key")
            vname = shape.value.serialization.get("name", "value")
            if segs[1] == kname:
                return self.query_key(shape.key, segs[2:], value, path + "{key}", shape.name, "key")
            if segs[1] == vname:
                return self.query_key(shape.value, segs[2:], value, path + "{value}", owner, member)
            return self.err(path, "map entries have only %s and %s" % (kname, vname))
        if segs:
            return self.err(path + "." + ".".join(segs), "the model's %s is a scalar" % shape.name)
        self.scalar(value, shape, path, owner, member, True)


def identify_and_check(method, raw_path, query, headers, body, emitted):
    """-> (service, operation or None, [rule breaches], seen values)."""
    auth = headers.get("Authorization", "")
    m = re.search(r"Credential=[^/]+/\d+/[^/]+/([^/]+)/aws4_request", auth)
    if not m:
        return None, None, ["request is not SigV4-signed; cannot tell the service"], []
    candidates = services_for_signing_name(m.group(1))
    if not candidates:
        return m.group(1), None, ["signing name %r names no service the CLI ships" % m.group(1)], []
    target = headers.get("X-Amz-Target")
    ctype = headers.get("Content-Type", "")
    errors = []
    for service in candidates:
        sm = model(service)
        if sm.protocol == "json" and target:
            prefix = sm.metadata.get("targetPrefix", "")
            tp, _, op = target.rpartition(".")
            if tp != prefix:
                continue
            if op not in sm.operation_names:
                return service, op, ["operation %r (X-Amz-Target %s) is not in the %s model" % (op, target, service)], []
            chk = Checker(service, emitted)
            try:
                doc = json.loads(body or b"{}")
            except ValueError as e:
                return service, op, ["body is not JSON: %s" % e], []
            shape = sm.operation_model(op).input_shape
            if shape is not None:
                chk.json_value(doc, shape, op, shape.name, "")
            elif doc:
                chk.err(op, "the operation takes no input, yet %r was sent" % (doc,))
            return service, op, chk.errors, chk.seen
        if sm.protocol == "query" and "x-www-form-urlencoded" in ctype:
            form = urllib.parse.parse_qs(body.decode(), keep_blank_values=True)
            op = (form.pop("Action", [None]))[0]
            version = (form.pop("Version", [None]))[0]
            if op not in sm.operation_names:
                return service, op, ["operation %r (Action=) is not in the %s model" % (op, service)], []
            chk = Checker(service, emitted)
            if version != sm.api_version:
                chk.err(op, "Version=%s, the model's API version is %s" % (version, sm.api_version))
            shape = sm.operation_model(op).input_shape
            for key, values in form.items():
                for v in values:
                    if shape is None:
                        chk.err(key, "the operation takes no input")
                    else:
                        chk.query_key(shape, key.split("."), v, op, shape.name, "")
            if shape is not None:
                sent = {k.split(".")[0] for k in form}
                for req in shape.required_members:
                    if shape.members[req].serialization.get("name", req) not in sent:
                        chk.err(op, "required member %r is missing" % req)
            return service, op, chk.errors, chk.seen
        if sm.protocol in ("rest-json", "rest-xml"):
            found = match_rest(sm, method, raw_path)
            if found is None:
                errors.append("%s %s matches no operation's method and requestUri in the %s model"
                              % (method, raw_path, service))
                continue
            op, labels, literal_query = found
            chk = Checker(service, emitted)
            shape = sm.operation_model(op).input_shape
            present = set()
            params = urllib.parse.parse_qs(query, keep_blank_values=True)
            for k in literal_query:
                params.pop(k, None)
            if shape is not None:
                by_label = {ms.serialization.get("name", mn): mn for mn, ms in shape.members.items()
                            if ms.serialization.get("location") == "uri"}
                for label, v in labels.items():
                    mname = by_label.get(label)
                    if mname is None:
                        chk.err(op, "URI label {%s} names no member of %s" % (label, shape.name))
                        continue
                    present.add(mname)
                    chk.scalar(v, shape.members[mname], "%s{%s}" % (op, label), shape.name, mname, True)
                by_qs = {ms.serialization.get("name", mn): mn for mn, ms in shape.members.items()
                         if ms.serialization.get("location") == "querystring"}
                qs_map = [mn for mn, ms in shape.members.items()
                          if ms.serialization.get("location") == "querystring" and ms.type_name == "map"]
                for k, vs in params.items():
                    mname = by_qs.get(k)
                    if mname is None:
                        if not qs_map:
                            chk.err("%s?%s" % (op, k), "no querystring member %r in %s (members: %s)"
                                    % (k, shape.name, sorted(by_qs)))
                        continue
                    present.add(mname)
                    ms = shape.members[mname]
                    if ms.type_name == "list":
                        for v in vs:
                            chk.scalar(v, ms.member, "%s?%s" % (op, k), shape.name, mname, True)
                    else:
                        if len(vs) > 1:
                            chk.err("%s?%s" % (op, k), "a scalar sent %d times" % len(vs))
                        chk.scalar(vs[0], ms, "%s?%s" % (op, k), shape.name, mname, True)
                payload = shape.serialization.get("payload")
                if payload:
                    pshape = shape.members[payload]
                    if body:
                        present.add(payload)
                        if pshape.type_name == "structure":
                            try:
                                chk.json_value(json.loads(body), pshape, op + "." + payload, shape.name, payload)
                            except ValueError as e:
                                chk.err(op, "body is not JSON: %s" % e)
                elif body:
                    try:
                        doc = json.loads(body)
                    except ValueError as e:
                        doc = None
                        chk.err(op, "body is not JSON: %s" % e)
                    if isinstance(doc, dict):
                        present.update(mn for mn, ms in shape.members.items()
                                       if ms.serialization.get("name", mn) in doc and not ms.serialization.get("location"))
                        chk.json_value(doc, shape, op, shape.name, "")
                for req in shape.required_members:
                    ms = shape.members[req]
                    if ms.serialization.get("location") in ("uri", "querystring") and req not in present:
                        chk.err(op, "required member %r is missing" % req)
            elif body or params:
                chk.err(op, "the operation takes no input, yet input was sent")
            return service, op, chk.errors, chk.seen
    return candidates[0], None, errors or ["cannot identify the operation (signing name %s, target %s)"
                                           % (m.group(1), target)], []


def match_rest(sm, method, raw_path):
    segs = raw_path.split("/")[1:] if raw_path != "/" else []
    best = None
    for op in sm.operation_names:
        http_ = sm.operation_model(op).http
        if http_.get("method") != method:
            continue
        uri = http_.get("requestUri", "/")
        tpath, _, tquery = uri.partition("?")
        tsegs = tpath.split("/")[1:] if tpath != "/" else []
        labels = match_segments(tsegs, segs)
        if labels is None:
            continue
        literal = [kv.split("=")[0] for kv in tquery.split("&") if kv]
        score = sum(1 for s in tsegs if not s.startswith("{"))
        if best is None or score > best[0]:
            best = (score, op, labels, literal)
    return None if best is None else best[1:]


def match_segments(tsegs, segs):
    labels = {}
    for i, t in enumerate(tsegs):
        if t.startswith("{") and t.endswith("+}"):
            labels[t[1:-2]] = urllib.parse.unquote("/".join(segs[i:]))
            return labels if len(segs) > i else None
        if i >= len(segs):
            return None
        if t.startswith("{"):
            if not segs[i]:
                return None
            labels[t[1:-1]] = urllib.parse.unquote(segs[i])
        elif t != segs[i]:
            return None
    return labels if len(segs) == len(tsegs) else None


# ---------------------------------------------------------------- recording endpoint

class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests = {}  # (finding, n) -> [record]
        self.hints = {}     # finding -> {(service, op): [(path, literal)]}
        self.emitted = set()

    def record(self, key, rec):
        with self.lock:
            self.requests.setdefault(key, []).append(rec)


def make_handler(rec):
    class Handler(http.server.BaseHTTPRequestHandler):
        def handle_any(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            path, _, query = self.path.partition("?")
            m = re.match(r"^/inv/([^/]+)/(\d+)(/.*)?$", path)
            key = (m.group(1), int(m.group(2))) if m else ("?", 0)
            raw_path = (m.group(3) if m else path) or "/"
            headers = {k: v for k, v in self.headers.items()}
            try:
                service, op, errors, seen = identify_and_check(self.command, raw_path, query, headers, body,
                                                               rec.emitted)
            except Exception as e:  # a harness bug must not pass silently
                service, op, errors, seen = None, None, ["harness error while checking: %r" % e], []
            rec.record(key, {"method": self.command, "path": raw_path, "query": query,
                             "target": headers.get("X-Amz-Target"), "body": body.decode("utf-8", "replace"),
                             "service": service, "op": op, "errors": errors, "seen": seen})
            protocol = model(service).protocol if service in _models else "json"
            if op is None or (service in _models and op not in model(service).operation_names):
                status, hdrs, out = render_error(protocol, "ProofUnknownOperation", "; ".join(errors))
            else:
                try:
                    status, hdrs, out = render_response(service, op, rec.hints.get(key[0], {}), rec.emitted)
                except Exception as e:
                    status, hdrs, out = render_error(protocol, "ProofHarnessError", repr(e))
            self.send_response(status)
            for k, v in hdrs.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = handle_any

        def log_message(self, *args):
            pass

    return Handler


# ---------------------------------------------------------------- running findings

AWS_SHIM = r"""#!/bin/bash
# aws shim of the CLI proof: numbers the invocation, points the real CLI at the
# recording endpoint with a per-invocation path prefix, keeps argv, stderr, status.
n=$(( $(cat "$EAD_LOG/counter" 2>/dev/null || echo 0) + 1 ))
echo "$n" > "$EAD_LOG/counter"
printf '%s\0' "$@" > "$EAD_LOG/$n.argv"
echo "${EAD_LINE:-0}" > "$EAD_LOG/$n.line"
if [ -n "${EAD_AWS_SERVER:-}" ]; then
    AWS_ENDPOINT_URL="$EAD_ENDPOINT/$n" "$EAD_PYTHON" -I -S "$EAD_AWS_CLIENT" "$@" 2> "$EAD_LOG/$n.err"
else
    AWS_ENDPOINT_URL="$EAD_ENDPOINT/$n" "$EAD_REAL_AWS" "$@" 2> "$EAD_LOG/$n.err"
fi
rc=$?
echo "$rc" > "$EAD_LOG/$n.rc"
cat "$EAD_LOG/$n.err" >&2
exit "$rc"
"""
NOOP_SHIM = "#!/bin/sh\nexit 0\n"
AWS_WORD = re.compile(r"(?:^|[\s;|&(`!{])aws\s")
COMPARE = re.compile(r"\[\s+\"\$\((aws\s[^()]*)\)\"\s+=\s+(\"?)([^\s\"\]]+)\2\s+\]")


def comparison_hints(lines):
    hints = {}
    for line in lines:
        for m in COMPARE.finditer(line):
            try:
                argv = shlex.split(m.group(1))
            except ValueError:
                continue
            if len(argv) < 3 or "--query" not in argv:
                continue
            query = argv[argv.index("--query") + 1] if argv.index("--query") + 1 < len(argv) else ""
            if not re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*", query):
                continue
            try:
                sm = model(argv[1])
            except Exception:
                continue
            ops = [op for op in sm.operation_names if xform_name(op, "-") == argv[2]]
            if ops:
                hints.setdefault((argv[1], ops[0]), []).append((tuple(query.split(".")), m.group(3)))
    return hints


def base_env():
    return {k: v for k, v in os.environ.items()
            if not (k.startswith("AWS_") or k in ("KUBECONFIG", "HTTP_PROXY", "HTTPS_PROXY", "http_proxy",
                                                  "https_proxy", "ALL_PROXY", "all_proxy"))}


def start_aws_server(workroot):
    """Starts tests/proofs/aws_server.py (the real CLI, imported once, forked per call) and
    routes the shim through it; returns the process, or None where it cannot run (then
    each call is a fresh `aws` process, as with CLI_PROOF_FORK=0: slower, equally valid)."""
    if os.environ.get("CLI_PROOF_FORK") == "0":
        return None
    if not hasattr(os, "pidfd_open"):
        print("cli proof: no os.pidfd_open here, so no AWS CLI server")
        return None
    path = os.path.join(workroot, "aws.sock")
    log = open(os.path.join(workroot, "aws-server.log"), "w")
    proc = subprocess.Popen([sys.executable, AWS_SERVER, path, REAL_AWS], env=base_env(), cwd=workroot,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True,
                            start_new_session=True)
    log.close()
    if proc.stdout.readline().strip() != "ready":
        proc.kill()
        proc.wait()
        proc.stdin.close()
        proc.stdout.close()
        print("cli proof: the AWS CLI server did not start:\n%s"
              % indent(open(os.path.join(workroot, "aws-server.log")).read()[-3000:]))
        return None
    AWS_VIA.update({"EAD_AWS_SERVER": path, "EAD_AWS_CLIENT": AWS_CLIENT, "EAD_PYTHON": sys.executable})
    return proc


def stop_aws_server(proc):
    if proc is not None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # the server and any call still running
        except ProcessLookupError:
            pass
        proc.wait()
        proc.stdin.close()
        proc.stdout.close()


def run_finding(fid, item, endpoint, rec, workroot):
    work = os.path.join(workroot, fid)
    log = os.path.join(work, "log")
    cwd = os.path.join(work, "cwd")
    os.makedirs(log)
    os.makedirs(cwd)
    if item.get("iam_policy") is not None:
        with open(os.path.join(cwd, "policy.json"), "w") as f:
            json.dump(item["iam_policy"], f, indent=2)
    rec.hints[fid] = comparison_hints(item["commands"])
    script = ["set -e -o pipefail"]
    for i, line in enumerate(item["commands"], 1):
        script += ["export EAD_LINE=%d" % i, line]
    with open(os.path.join(work, "finding.sh"), "w") as f:
        f.write("\n".join(script) + "\n")
    env = base_env()
    env.update(AWS_VIA)
    env.update({
        "PATH": os.path.join(workroot, "bin") + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": work, "KUBECONFIG": os.path.join(work, "kubeconfig"),
        "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1", "AWS_MAX_ATTEMPTS": "1", "AWS_RETRY_MODE": "standard",
        "AWS_CONFIG_FILE": os.path.join(work, "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": os.path.join(work, "no-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true", "AWS_PAGER": "",
        "AWS_ENDPOINT_URL": endpoint + "/inv/%s/0" % fid,  # only a call that bypassed the shim uses it
        "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
        "EAD_LOG": log, "EAD_ENDPOINT": endpoint + "/inv/%s" % fid, "EAD_REAL_AWS": REAL_AWS,
    })
    proc = subprocess.Popen(["bash", os.path.join(work, "finding.sh")], cwd=cwd, env=env, text=True,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=SCRIPT_TIMEOUT)
        rc = proc.returncode
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the script's own process group: bash and its aws calls
        out, err = proc.communicate()
        rc, err = "timeout", "script timed out after %ds\n%s" % (SCRIPT_TIMEOUT, err)
    invocations = []
    n = 1
    while os.path.exists(os.path.join(log, "%d.argv" % n)):
        def read(ext, default=""):
            p = os.path.join(log, "%d.%s" % (n, ext))
            return open(p, errors="replace").read() if os.path.exists(p) else default
        argv = read("argv").split("\0")[:-1]
        invocations.append({"n": n, "argv": argv, "line": int(read("line", "0").strip() or 0),
                            "rc": read("rc", "").strip(), "stderr": read("err"),
                            "requests": rec.requests.get((fid, n), [])})
        n += 1
    return {"fid": fid, "item": item, "rc": rc, "stdout": out, "stderr": err, "invocations": invocations,
            "stray": rec.requests.get((fid, 0), [])}


def judge(result):
    """-> list of entries {ok, origin, cause, line, op, reason}; plus skipped line count."""
    item, entries = result["item"], []
    lines = item["commands"]
    base = {"origin": item["origin"], "cause": item["cause"]}
    for inv in result["invocations"]:
        line = inv["line"]
        source = lines[line - 1] if 0 < line <= len(lines) else "?"
        reqs = inv["requests"]
        ops = ", ".join(sorted({"%s %s" % (r["service"], r["op"]) for r in reqs})) or \
            "%s (no request)" % " ".join(inv["argv"][:2])
        problems = []
        if inv["rc"] != "0":
            problems.append("the AWS CLI exited %s; its stderr:\n%s" % (inv["rc"] or "?",
                            indent(clean_stderr(inv["stderr"]) or "(empty)")))
        for r in reqs:
            for e in r["errors"]:
                problems.append("model rule broken by %s %s: %s" % (r["service"], r["op"], e))
        expected = expected_operation(inv["argv"])
        if inv["rc"] == "0" and expected and expected not in {(r["service"], r["op"]) for r in reqs}:
            problems.append("`aws %s %s` should send %s %s, but the endpoint saw: %s"
                            % (inv["argv"][0], inv["argv"][1], expected[0], expected[1], ops))
        entry = dict(base, line=line, op=ops, ok=not problems,
                     command="aws " + shlex.join(inv["argv"]), source=source,
                     reason="\n".join(problems), seen=[s for r in reqs for s in r["seen"]],
                     note="" if reqs else "no request: answered locally by the CLI")
        entries.append(entry)
    ran_lines = {inv["line"] for inv in result["invocations"]}
    judged_lines = skipped = 0
    for i, line in enumerate(lines, 1):
        if AWS_WORD.search(" " + line):
            judged_lines += 1
            if i not in ran_lines:
                entries.append(dict(base, line=i, op="-", ok=False, command=line, source=line, seen=[], note="",
                                    reason="this line has an aws command but no aws invocation ran "
                                           "(the script stopped before it, or the shell never reached it)"))
        else:
            skipped += 1
    if result["rc"] != 0 and all(e["ok"] for e in entries if e["op"] != "-"):
        entries.append(dict(base, line=0, op="script", ok=False, command="(the finding's script)", source="",
                            seen=[], note="", reason="the finding's bash script exited %s; its stderr:\n%s"
                            % (result["rc"], indent(clean_stderr(result["stderr"])[-3000:] or "(empty)"))))
    for r in result["stray"]:
        entries.append(dict(base, line=0, op="%s %s" % (r["service"], r["op"]), ok=False, seen=[], note="",
                            command="?", source="", reason="a request came from outside the aws shim"))
    return entries, judged_lines, skipped


def expected_operation(argv):
    """(service, operation) a plain `aws SERVICE OPERATION ...` call must send, or None for
    CLI customizations such as `eks update-kubeconfig` that are not model operations."""
    words = argv[:2]
    if len(words) < 2 or any(w.startswith("-") for w in words):
        return None
    try:
        sm = model(words[0])
    except Exception:
        return None
    ops = [op for op in sm.operation_names if xform_name(op, "-") == words[1]]
    return (words[0], ops[0]) if ops else None


def clean_stderr(text):
    """The CLI's stderr without its usage banner (the "Note: AWS CLI version 2" advert
    and the "To see help text" lines), which says nothing about what went wrong."""
    text = re.sub(r"usage: \s*Note: AWS CLI version 2.*?aws <command> <subcommand> help\n", "", text, flags=re.S)
    lines = text.strip().splitlines()
    if len(lines) > 30:
        lines = lines[:30] + ["... (%d more lines)" % (len(lines) - 30)]
    return "\n".join(lines)


def indent(text, pad="        "):
    return "\n".join(pad + l for l in text.splitlines())


def describe(entry):
    head = "%s  %s [%s] line %s: %s" % ("OK  " if entry["ok"] else "FAIL", entry["origin"], entry["cause"],
                                        entry["line"], entry["op"])
    if entry["ok"]:
        return head + (" (%s)" % entry["note"] if entry["note"] else "")
    out = [head, "      command (as the CLI received it): %s" % entry["command"]]
    if entry["source"] and entry["source"] != entry["command"]:
        out.append("      advice line: %s" % entry["source"])
    out.append(indent(entry["reason"], "      "))
    return "\n".join(out)


# ---------------------------------------------------------------- self-test

SELF_TESTS = [
    # (name, commands, must fail?)
    ("correct command passes",
     ["aws eks create-access-entry --cluster-name c --principal-arn arn:aws:iam::111122223333:role/R "
      "--type EC2_LINUX --region eu-west-1"], False),
    ("misspelled flag",
     ["aws eks create-access-entry --cluster-name c --principle-arn arn:aws:iam::111122223333:role/R "
      "--type STANDARD --region eu-west-1"], True),
    ("unknown option",
     ["aws eks create-access-entry --cluster-name c --principal-arn arn:aws:iam::111122223333:role/R "
      "--type STANDARD --usrname u --region eu-west-1"], True),
    ("bad shorthand syntax",
     ["aws eks associate-access-policy --cluster-name c --principal-arn arn:aws:iam::111122223333:role/R "
      "--policy-arn arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy "
      "--access-scope type=namespace,namespaces --region eu-west-1"], True),
    ("bad shorthand key",
     ["aws eks associate-access-policy --cluster-name c --principal-arn arn:aws:iam::111122223333:role/R "
      "--policy-arn arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy "
      "--access-scope type=namespace,namespace=a --region eu-west-1"], True),
    ("invalid access scope type (type=namespaces)",
     ["aws eks associate-access-policy --cluster-name c --principal-arn arn:aws:iam::111122223333:role/R "
      "--policy-arn arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy "
      "--access-scope type=namespaces --region eu-west-1"], True),
    ("invalid access entry type (EC2_LINUXX, documented values only)",
     ["aws eks create-access-entry --cluster-name c --principal-arn arn:aws:iam::111122223333:role/R "
      "--type EC2_LINUXX --region eu-west-1"], True),
    ("invalid authenticationMode",
     ["aws eks update-cluster-config --name c --access-config authenticationMode=CONFIGMAP --region eu-west-1"],
     True),
    ("unknown CLI operation",
     ["aws eks describe-access-entrys --cluster-name c --principal-arn arn:aws:iam::111122223333:role/R"], True),
    ("missing required parameter",
     ["aws eks create-access-entry --cluster-name c --region eu-west-1"], True),
    ("aws line that never runs",
     ["false", "aws sts get-caller-identity"], True),
]


def raw_self_tests(endpoint, rec):
    """Requests no CLI would send, straight at the endpoint: an unknown json operation and
    an unknown rest-json body member must be caught by the model check itself."""
    auth = "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/%s/aws4_request, SignedHeaders=host, Signature=0"
    cases = [
        ("unknown operation (raw X-Amz-Target)", "/inv/raw1/1", "POST",
         {"X-Amz-Target": "SWBExternalService.DescribeAccessEntrys", "Content-Type": "application/x-amz-json-1.1",
          "Authorization": auth % "sso"}, b"{}", ("raw1", 1)),
        ("unknown member (raw rest-json body)", "/inv/raw2/1/clusters/c/access-entries", "POST",
         {"Content-Type": "application/json", "Authorization": auth % "eks"},
         json.dumps({"principalArn": "arn:aws:iam::111122223333:role/R", "kind": "STANDARD"}).encode(),
         ("raw2", 1)),
        ("unknown operation (raw Action=)", "/inv/raw3/1", "POST",
         {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8", "Authorization": auth % "iam"},
         b"Action=GetRoles&Version=2010-05-08&RoleName=r", ("raw3", 1)),
    ]
    out = []
    for name, path, method, headers, body, key in cases:
        req = urllib.request.Request(endpoint + path, data=body, method=method, headers=headers)
        try:
            urllib.request.urlopen(req, timeout=10).read()
        except urllib.error.HTTPError:
            pass
        errors = [e for r in rec.requests.get(key, []) for e in r["errors"]]
        out.append((name, bool(errors), "; ".join(errors)[:300] or "no model rule broken"))
    return out


def self_test(endpoint, rec, workroot):
    ok = True
    with concurrent.futures.ThreadPoolExecutor(POOL) as pool:
        results = list(pool.map(
            lambda a: run_finding("self%d" % a[0], {"origin": "self-test", "cause": a[1][0], "commands": a[1][1],
                                                    "iam_policy": None}, endpoint, rec, workroot),
            enumerate(SELF_TESTS, 1)))
    for (name, commands, must_fail), result in zip(SELF_TESTS, results):
        entries, _, _ = judge(result)
        failed = [e for e in entries if not e["ok"]]
        if must_fail and not failed:
            ok = False
            print("self-test BROKEN: %r passed but must FAIL" % name)
        elif not must_fail and (failed or not entries):
            ok = False
            print("self-test BROKEN: %r must pass:\n%s" % (name, "\n".join(describe(e) for e in failed)))
        else:
            why = [l.strip() for l in (failed[0]["reason"] if failed else "passed").splitlines() if l.strip()]
            key = [l for l in why[1:] if "error" in l.lower() or "unknown" in l.lower()] or why[-1:]
            why = (why[0] + (" ... " + key[0] if len(why) > 1 else ""))[:240]
            print("self-test ok: %s -> %s (%s)" % (name, "fails as it must" if must_fail else "passes", why))
    for name, caught, why in raw_self_tests(endpoint, rec):
        if not caught:
            ok = False
            print("self-test BROKEN: %r was not caught" % name)
        else:
            print("self-test ok: %s -> fails as it must (%s)" % (name, why[:160]))
    return ok


# ---------------------------------------------------------------- main

KEY_MEMBERS = [
    ("EKS access entry type", lambda k, shape: k == ("eks", "CreateAccessEntryRequest", "type")),
    ("EKS access scope type", lambda k, shape: k == ("eks", "AccessScope", "type")),
    ("EKS authenticationMode", lambda k, shape: k[0] == "eks" and shape == "AuthenticationMode"),
]


def main(argv):
    only_self_test = argv[1:] == ["--self-test"]
    if len(argv) != 2:
        raise SystemExit(__doc__)
    if not os.path.exists(REAL_AWS):
        raise SystemExit("cli proof: no AWS CLI next to this python (%s); run it with .tools/sam/bin/python"
                         % REAL_AWS)
    if "awscli" not in botocore.__file__:
        raise SystemExit("cli proof: botocore is not the copy awscli vendors (%s)" % botocore.__file__)
    started = time.time()
    version = subprocess.run([REAL_AWS, "--version"], capture_output=True, text=True).stdout.strip()
    print("cli proof: %s; models from %s" % (version, os.path.dirname(botocore.__file__)))

    documented = doc_enum_members()
    print("model rule 5 (values the documentation enumerates, no enum) checks:")
    for (svc, owner, member), vals in sorted(documented.items()):
        print("    %s %s.%s: %s" % (svc, owner, member, ", ".join(vals)))
    if ("eks", "CreateAccessEntryRequest", "type") not in documented:
        print("cli proof: the model no longer documents the access entry types; rule 5 needs a look")
        print("cli proof: 0 passed, 1 failed")
        return 1

    rec = Recorder()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), make_handler(rec))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = "http://127.0.0.1:%d" % server.server_address[1]
    workroot = tempfile.mkdtemp(prefix="ead-cli-proof-")
    aws_server = None
    try:
        aws_server = start_aws_server(workroot)
        print("cli proof: each aws call %s" % (
            "a fork of the CLI imported once (tests/proofs/aws_server.py)" if aws_server
            else "a fresh aws process"))
        bindir = os.path.join(workroot, "bin")
        os.makedirs(bindir)
        for name, text in [("aws", AWS_SHIM), ("kubectl", NOOP_SHIM), ("eksctl", NOOP_SHIM), ("jq", NOOP_SHIM)]:
            p = os.path.join(bindir, name)
            with open(p, "w") as f:
                f.write(text)
            os.chmod(p, 0o755)

        if not self_test(endpoint, rec, workroot):
            print("cli proof: the self-test shows the harness cannot tell bad commands from good ones")
            print("cli proof: 0 passed, 1 failed")
            return 1
        if only_self_test:
            print("cli proof: self-test passed (%.1fs)" % (time.time() - started))
            return 0

        sys.path.insert(0, HERE)
        import collect
        items = collect.collect(argv[1])
        print("cli proof: %d distinct findings with commands" % len(items))
        with concurrent.futures.ThreadPoolExecutor(POOL) as pool:
            results = list(pool.map(lambda a: run_finding("f%d" % a[0], a[1], endpoint, rec, workroot),
                                    enumerate(items, 1)))
        entries, judged_lines, skipped = [], 0, 0
        for r in results:
            e, j, s = judge(r)
            entries += e
            judged_lines += j
            skipped += s
        for e in entries:
            print(describe(e))

        failed = [e for e in entries if not e["ok"]]
        judged = [e for e in entries if e["op"] != "script" and e["op"] != "-"]
        print("lines: %d with aws (judged), %d without aws (skipped: kubectl/eksctl/jq/shell only); "
              "%d aws invocations judged, %d requests checked against the model"
              % (judged_lines, skipped, len(judged), sum(len(i["requests"]) for r in results
                                                         for i in r["invocations"])))
        closing_failures = 0
        for label, match in KEY_MEMBERS:
            vals = [(v, e) for e in entries for (k, shape, v) in e["seen"] if match(k, shape)]
            bad = sorted({v for v, e in vals if not e["ok"]
                          and any(v in line for line in e["reason"].splitlines())})
            print("%s: %d values checked (%s)%s" % (label, len(vals), ", ".join(sorted({v for v, _ in vals})),
                                                    " INVALID: %s" % bad if bad else ", all valid"))
            if not vals:
                closing_failures += 1
                print("FAIL  %s: no value was seen, so the proof did not check it" % label)
        passed = len(entries) - len(failed)
        if not judged:
            print("FAIL  no aws invocation was judged: the collection is empty or nothing ran")
        print("(%.1fs)" % (time.time() - started))
        print("cli proof: %d passed, %d failed" % (passed, len(failed) + closing_failures))
        return 1 if failed or closing_failures or not judged else 0
    finally:
        stop_aws_server(aws_server)
        server.shutdown()
        if os.environ.get("CLI_PROOF_KEEP"):
            with open(os.path.join(workroot, "requests.json"), "w") as f:
                json.dump({"%s/%d" % k: v for k, v in sorted(rec.requests.items())}, f, indent=1, default=str)
            print("cli proof: work files and requests.json kept in %s" % workroot, file=sys.stderr)
        else:
            shutil.rmtree(workroot, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
