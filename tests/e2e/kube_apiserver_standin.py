"""A stand-in for an EKS cluster's kube-apiserver, for the Kubernetes-side tests.

    python tests/e2e/kube_apiserver_standin.py DIR --cluster NAME --sts-url URL --state FILE
        [--region us-east-1] [--eks-url URL] [--account ACCOUNT]

No real kube-apiserver can be installed on these machines, so this serves exactly
the reads eks-access-doctor makes, as the Kubernetes API shapes them, and
authenticates every request the way EKS does (aws-iam-authenticator's
`tokenVerifier.Verify`, pkg/token/token.go, and its mappers):

- HTTPS on 127.0.0.1 (a free port), with its own CA made at start: DIR/url holds
  `https://127.0.0.1:PORT`, DIR/ca.pem the CA, DIR/ca.b64 the CA as
  `DescribeCluster`'s `certificateAuthority.data` gives it (base64 of the PEM).
- The bearer token: `k8s-aws-v1.` prefix, at most 4096 bytes, base64url without
  padding, an https URL, the host `sts.REGION.amazonaws.com` (`.amazonaws.com.cn`
  in China; `sts.amazonaws.com` in the aws partition) with a well-formed region,
  path `/`, only the authenticator's whitelisted query parameters, each once,
  `Action=GetCallerIdentity`, `X-Amz-SignedHeaders` naming `x-k8s-aws-id`,
  `X-Amz-Expires` in 0..=900, `X-Amz-Date` no older than 15 minutes. Then, as
  STS would, the SigV4 signature is checked against this server's cluster name in
  `x-k8s-aws-id` when the state file knows the access key's secret (MiniStack
  checks no signature, so a token made for another cluster would otherwise pass).
  Then the presigned GET goes, with `x-k8s-aws-id: CLUSTER`, to `--sts-url`
  (MiniStack's STS: the URL's host is replaced, as a DNS override would), and the
  ARN STS answers is canonicalised (`assumed-role/NAME/SESSION` →
  `arn:P:iam::ACCOUNT:role/NAME`). Any failure: 401 `Status` (reason Unauthorized).
- Identity: the cluster's authentication mode and access entries are read from
  MiniStack's EKS (`--eks-url`, default `--sts-url`): a role entry matches by
  partition, account and role name (the entry's ARN has the path, the canonical
  ARN none), a user entry by ARN; its username (default: the session ARN for a
  role, the user ARN) and groups are the caller's. In CONFIG_MAP modes the served
  `aws-auth` ConfigMap's `mapRoles`/`mapUsers` are read too (rolearn/userarn compared
  case-insensitively with the canonical ARN). No match: 401.
- Authorization, Kubernetes RBAC over what is served: the ClusterRoleBindings (and,
  for a namespaced read, that namespace's RoleBindings) naming the caller's username
  or one of its groups, the Roles/ClusterRoles they refer to (the state's `roles`:
  e.g. deploy/kubernetes-reader.yaml's; `cluster-admin` is built in), and each
  rule's apiGroups, resources, verbs and resourceNames; `system:masters` is always
  allowed. Otherwise 403 `Status` (reason Forbidden) with the API server's message
  (`… is forbidden: User "…" cannot list resource "rolebindings" in API group
  "rbac.authorization.k8s.io" at the cluster scope`).
- Reads: `GET /apis/rbac.authorization.k8s.io/v1/rolebindings`,
  `/apis/rbac.authorization.k8s.io/v1/namespaces/NS/rolebindings`,
  `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings` (lists with `kind`,
  `apiVersion`, `metadata.resourceVersion`, `limit` honoured and an opaque
  `continue` token, `metadata.remainingItemCount`; items in name order, without
  `kind`, as typed lists give them), `GET /api/v1/namespaces/kube-system/configmaps/aws-auth`
  (the ConfigMap, or 404 `Status` NotFound). Other paths: 404 `Status`.

The state file (JSON, read at every request so a test can change it):
    {"rolebindings": [RoleBinding…], "clusterrolebindings": [ClusterRoleBinding…],
     "aws_auth": {"mapRoles": "…", "mapUsers": "…"} or null,
     "roles": [Role or ClusterRole…], "secrets": {"ACCESS_KEY_ID": "SECRET", …},
     "page_size_cap": N}   (at most N items a page whatever the limit, as an API server may do)

Each request is appended to DIR/requests.ndjson: {"method", "path", "code",
"user", "groups", "arn", "sts_status", "why"}.

Not emulated (a real cluster may differ): the built-in roles other than
cluster-admin, aggregated ClusterRoles, nonResourceURLs, impersonation, and the
webhook and Node authorizers; every other API path, verb, watch, field and label selectors,
`resourceVersion` semantics (one fixed version; a `continue` token never
expires: no 410 Gone); namespaces other than those in the bindings; HTTP/2 and
API discovery; access policies (AmazonEKS…Policy) as a source of permissions;
the authenticator's `sso:` mappings, `mapAccounts`, username templates other than
`{{SessionName}}`/`{{AccountID}}`, and its caches; STS's own checks beyond the
signature (MiniStack answers for any key it knows); certificate rotation.
Stops on SIGTERM.
"""
import argparse
import base64
import datetime
import hashlib
import hmac
import http.server
import json
import os
import pathlib
import re
import signal
import ssl
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

PREFIX = "k8s-aws-v1."
CLUSTER_HEADER = "x-k8s-aws-id"
WHITELIST = {
    "action", "version", "x-amz-algorithm", "x-amz-credential", "x-amz-date",
    "x-amz-expires", "x-amz-security-token", "x-amz-signature", "x-amz-signedheaders",
}
REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
RBAC = "rbac.authorization.k8s.io"
RESOURCE_VERSION = "4242"


class Reject(Exception):
    """A request that fails authentication or authorization: (code, Status body)."""

    def __init__(self, code, status, why):
        super().__init__(why)
        self.code, self.status, self.why = code, status, why


def status(code, reason, message, details=None):
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}
    if details:
        body["details"] = details
    return body


def unauthorized(why):
    return Reject(401, status(401, "Unauthorized", "Unauthorized"), why)


def sts_domain(partition):
    return {"aws-cn": "amazonaws.com.cn"}.get(partition, "amazonaws.com")


def check_host(host, partition):
    if host == "sts.amazonaws.com":
        if partition != "aws":
            raise unauthorized(f"global endpoint unsupported in partition {partition}")
        return "us-east-1"
    parts = host.split(".")
    if len(parts) < 4 or parts[0] != "sts":
        raise unauthorized(f"unexpected hostname {host!r} in pre-signed URL")
    region = parts[1]
    if not REGION.match(region):
        raise unauthorized(f"invalid region identifier format provided: {region}")
    if ".".join(parts[2:]) != sts_domain(partition):
        raise unauthorized(f"partition {{{partition}}} does not support hostname {host}")
    return region


def sigv4_signature(secret, params, host, cluster):
    """The presigned URL's signature as STS computes it, with x-k8s-aws-id = cluster."""
    quote = lambda s: urllib.parse.quote(s, safe="-_.~")
    query = "&".join(sorted(f"{quote(k)}={quote(v)}" for k, v in params.items() if k != "X-Amz-Signature"))
    signed = params["X-Amz-SignedHeaders"]
    values = {"host": host, CLUSTER_HEADER: cluster}
    headers = "".join(f"{h}:{values.get(h, '')}\n" for h in signed.split(";"))
    canonical = "\n".join(["GET", "/", query, headers, signed, hashlib.sha256(b"").hexdigest()])
    date = params["X-Amz-Date"]
    scope = params["X-Amz-Credential"].split("/", 1)[1]
    to_sign = "\n".join(["AWS4-HMAC-SHA256", date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + secret).encode()
    for part in scope.split("/"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def canonical_arn(arn):
    parts = arn.split(":", 5)
    if len(parts) != 6:
        raise unauthorized(f"arn {arn!r} is invalid")
    _, partition, service, _, account, resource = parts
    pieces = resource.split("/")
    if service == "sts" and pieces[0] == "assumed-role" and len(pieces) >= 3:
        return f"arn:{partition}:iam::{account}:role/{'/'.join(pieces[1:-1])}", pieces[-1]
    if service == "iam" and pieces[0] in ("role", "user", "root"):
        return arn, None
    raise unauthorized(f"unrecognized resource {resource} for service {service}")


class Server:
    def __init__(self, args):
        self.args = args
        self.dir = pathlib.Path(args.dir)
        self.lock = threading.Lock()

    def state(self):
        return json.loads(pathlib.Path(self.args.state).read_text())

    # --- authentication -------------------------------------------------
    def verify(self, header, state, record):
        if not header.startswith("Bearer "):
            raise unauthorized("no bearer token")
        token = header[len("Bearer "):].strip()
        if len(token) > 4096:
            raise unauthorized("token is too large")
        if not token.startswith(PREFIX):
            raise unauthorized(f"token is missing expected {PREFIX!r} prefix")
        encoded = token[len(PREFIX):]
        try:
            url = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
        except Exception as e:  # noqa: BLE001 - any decoding failure is a format error
            raise unauthorized(f"token is not base64url: {e}")
        if "=" in encoded:
            raise unauthorized("token has base64 padding")
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme != "https":
            raise unauthorized(f"unexpected scheme {parsed.scheme!r} in pre-signed URL")
        region = check_host(parsed.netloc, self.args.partition)
        if parsed.path != "/":
            raise unauthorized("unexpected path in pre-signed URL")
        pairs = urllib.parse.parse_qsl(parsed.query, keep_blank_values=True)
        seen, params = set(), {}
        for key, value in pairs:
            if key.lower() in seen:
                raise unauthorized(f"duplicate query parameter found: {key!r}")
            seen.add(key.lower())
            if key.lower() not in WHITELIST:
                raise unauthorized(f"non-whitelisted query parameter {key!r}")
            params[key] = value
        lower = {k.lower(): v for k, v in params.items()}
        if lower.get("action") != "GetCallerIdentity":
            raise unauthorized("unexpected action parameter in pre-signed URL")
        if not any(h.lower() == CLUSTER_HEADER for h in lower.get("x-amz-signedheaders", "").split(";")):
            raise unauthorized(f"client did not sign the {CLUSTER_HEADER} header in the pre-signed URL")
        try:
            expires = int(lower.get("x-amz-expires", ""))
        except ValueError:
            expires = -1
        if not 0 <= expires <= 900:
            raise unauthorized("invalid X-Amz-Expires parameter in pre-signed URL")
        try:
            date = datetime.datetime.strptime(lower.get("x-amz-date", ""), "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
        except ValueError:
            raise unauthorized("X-Amz-Date parameter must be present and well formed")
        if datetime.datetime.now(datetime.timezone.utc) > date + datetime.timedelta(minutes=15):
            raise unauthorized("X-Amz-Date parameter is expired (15 minute expiration)")
        access_key = lower.get("x-amz-credential", "").split("/")[0]
        secret = state.get("secrets", {}).get(access_key)
        if secret is not None:
            try:
                expected = sigv4_signature(secret, params, parsed.netloc, self.args.cluster)
            except (KeyError, IndexError) as e:
                raise unauthorized(f"SignatureDoesNotMatch: malformed signing parameters ({e})")
            if not hmac.compare_digest(expected, lower.get("x-amz-signature", "")):
                raise unauthorized("SignatureDoesNotMatch: the token was not signed for this cluster")
            record["signature"] = "checked"
        else:
            record["signature"] = "not checked (unknown access key)"
        # Send the presigned request to STS (MiniStack), as the authenticator does.
        sts = urllib.parse.urlsplit(self.args.sts_url)
        forwarded = urllib.parse.urlunsplit((sts.scheme, sts.netloc, "/", parsed.query, ""))
        request = urllib.request.Request(forwarded, headers={CLUSTER_HEADER: self.args.cluster, "accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                body, code = response.read(), response.status
        except urllib.error.HTTPError as e:
            body, code = e.read(), e.code
        except OSError as e:
            record["sts_status"] = "unreachable"
            raise unauthorized(f"error during GET: {e} on {region} endpoint")
        record["sts_status"] = code
        if code != 200:
            raise unauthorized(f"error from AWS (expected 200, got {code}) on {region} endpoint. Body: {body[:200]!r}")
        arn = sts_arn(body)
        record["arn"] = arn
        return arn

    # --- identity mapping -------------------------------------------------
    def identity(self, arn, state):
        canonical, session = canonical_arn(arn)
        partition, account = canonical.split(":")[1], canonical.split(":")[4]
        kind, _, name = canonical.split(":", 5)[5].partition("/")
        cluster = self.eks("DescribeCluster")["cluster"]
        mode = cluster.get("accessConfig", {}).get("authenticationMode", "CONFIG_MAP")
        if mode != "CONFIG_MAP":
            for entry_arn in self.eks("ListAccessEntries").get("accessEntries", []):
                e_parts = entry_arn.split(":", 5)
                if len(e_parts) != 6 or e_parts[1] != partition or e_parts[4] != account:
                    continue
                e_kind, _, e_rest = e_parts[5].partition("/")
                # A role entry names the role with its path, the canonical ARN has none;
                # a user (or the account root, as the cluster creator) by its ARN.
                same = (e_kind == kind == "role" and e_rest.split("/")[-1].lower() == name.split("/")[-1].lower()) or \
                       (e_kind == kind and entry_arn.lower() == canonical.lower())
                if same:
                    entry = self.eks("DescribeAccessEntry", entry_arn)["accessEntry"]
                    default = f"arn:{partition}:sts::{account}:assumed-role/{name}/{{{{SessionName}}}}" if kind == "role" else canonical
                    username = fill(entry.get("username") or default, session, account)
                    return username, list(entry.get("kubernetesGroups", [])), f"access entry {entry_arn}"
        if mode != "API" and state.get("aws_auth"):
            key, field = ("mapRoles", "rolearn") if kind == "role" else ("mapUsers", "userarn")
            for mapping in parse_yaml_list(state["aws_auth"].get(key, "")):
                value = next((v for k, v in mapping.items() if k.lower() == field), "")
                if isinstance(value, str) and value.lower() == canonical.lower():
                    username = next((v for k, v in mapping.items() if k.lower() == "username"), "") or canonical
                    groups = next((v for k, v in mapping.items() if k.lower() == "groups"), []) or []
                    return fill(username, session, account), list(groups), f"aws-auth {key}"
        raise unauthorized(f"ARN is not mapped: {canonical}")

    def eks(self, operation, principal=None):
        import boto3  # the stand-in runs in a virtualenv with boto3 (the SAM CLI's)

        # The cluster's account: MiniStack takes a 12-digit access key as the account id.
        client = boto3.client("eks", endpoint_url=self.args.eks_url or self.args.sts_url, region_name=self.args.region,
                              aws_access_key_id=self.args.account or "test", aws_secret_access_key="test")
        if operation == "DescribeCluster":
            return client.describe_cluster(name=self.args.cluster)
        if operation == "ListAccessEntries":
            return client.list_access_entries(clusterName=self.args.cluster)
        return client.describe_access_entry(clusterName=self.args.cluster, principalArn=principal)

    # --- authorization ------------------------------------------------------
    def authorize(self, user, groups, state, verb, resource, group, name=None, namespace=None):
        """Kubernetes RBAC over what is served: the bindings naming the caller (as
        User or Group), the Roles and ClusterRoles they refer to (`roles` in the
        state; `cluster-admin` is built in), and each rule's apiGroups, resources,
        verbs and resourceNames. `system:masters` is always allowed."""
        if "system:masters" in groups:
            return
        roles = {(r.get("kind"), r["metadata"].get("namespace"), r["metadata"]["name"]): r for r in state.get("roles", [])}
        candidates = [(b, None) for b in state.get("clusterrolebindings", [])]
        if namespace:
            candidates += [(b, namespace) for b in state.get("rolebindings", []) if b["metadata"].get("namespace") == namespace]
        for binding, ns in candidates:
            named = any((s.get("kind") == "User" and s.get("name") == user) or (s.get("kind") == "Group" and s.get("name") in groups)
                        for s in binding.get("subjects", []) or [])
            if not named:
                continue
            ref = binding.get("roleRef", {})
            if ref.get("kind") == "ClusterRole" and ref.get("name") == "cluster-admin":
                return
            role = roles.get((ref.get("kind"), ns if ref.get("kind") == "Role" else None, ref.get("name")))
            for rule in (role or {}).get("rules", []):
                if (group in rule.get("apiGroups", []) or "*" in rule.get("apiGroups", [])) and \
                   (resource in rule.get("resources", []) or "*" in rule.get("resources", [])) and \
                   (verb in rule.get("verbs", []) or "*" in rule.get("verbs", [])) and \
                   (not rule.get("resourceNames") or name in rule["resourceNames"]):
                    return
        full = f"{resource}.{group}" if group else resource
        what = f'{full} "{name}"' if name else full
        scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
        message = f'{what} is forbidden: User "{user}" cannot {verb} resource "{resource}" in API group "{group}" {scope}'
        details = {"kind": resource}
        if group:
            details["group"] = group
        if name:
            details["name"] = name
        raise Reject(403, status(403, "Forbidden", message, details), "forbidden")


def fill(template, session, account):
    return template.replace("{{SessionName}}", session or "").replace("{{AccountID}}", account)


def parse_yaml_list(text):
    if not text or not text.strip():
        return []
    import yaml  # PyYAML, which the SAM CLI's virtualenv has

    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return []
    return [m for m in value if isinstance(m, dict)] if isinstance(value, list) else []


def sts_arn(body):
    try:
        return json.loads(body)["GetCallerIdentityResponse"]["GetCallerIdentityResult"]["Arn"]
    except (ValueError, KeyError, TypeError):
        pass
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        raise unauthorized("STS answer is neither JSON nor XML")
    for element in root.iter():
        if element.tag.endswith("Arn") and element.text:
            return element.text
    raise unauthorized("STS answer has no Arn")


def page(items, query, list_kind, api_version, cap=None):
    items = sorted(items, key=lambda i: (i["metadata"].get("namespace", ""), i["metadata"]["name"]))
    start = 0
    token = query.get("continue", [""])[0]
    if token:
        try:
            decoded = json.loads(base64.b64decode(token))
            assert decoded["v"] == "meta.k8s.io/v1" and decoded["rv"] == int(RESOURCE_VERSION)
            start = int(decoded["start"])
        except Exception:  # noqa: BLE001 - any bad token is the API server's 400
            raise Reject(400, status(400, "BadRequest", "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)"), "bad continue")
    limit = query.get("limit", [""])[0]
    limit = int(limit) if limit.isdigit() and int(limit) > 0 else None
    if cap:  # the API server may return fewer items than asked (API conventions, "limit")
        limit = min(limit or cap, cap)
    end = len(items) if limit is None else min(len(items), start + limit)
    metadata = {"resourceVersion": RESOURCE_VERSION}
    if end < len(items):
        metadata["continue"] = base64.b64encode(json.dumps({"v": "meta.k8s.io/v1", "rv": int(RESOURCE_VERSION), "start": end}).encode()).decode()
        metadata["remainingItemCount"] = len(items) - end
    out = []
    for item in items[start:end]:
        item = {k: v for k, v in item.items() if k not in ("kind", "apiVersion")}
        out.append(item)
    return {"kind": list_kind, "apiVersion": api_version, "metadata": metadata, "items": out}


def make_handler(server):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_):
            pass

        def answer(self, code, body, record):
            # Recorded before the answer leaves, so a client that reads the log
            # once it has its answer always finds the request there.
            record["code"] = code
            with server.lock, open(server.dir / "requests.ndjson", "a") as f:
                f.write(json.dumps(record) + "\n")
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):  # noqa: N802 - http.server's naming
            url = urllib.parse.urlsplit(self.path)
            query = urllib.parse.parse_qs(url.query)
            record = {"method": "GET", "path": url.path, "query": url.query}
            try:
                state = server.state()
                arn = server.verify(self.headers.get("Authorization", ""), state, record)
                user, groups, via = server.identity(arn, state)
                groups = groups + ["system:authenticated"]
                record.update(user=user, groups=groups, via=via)
                body = self.read(url.path, query, user, groups, state)
                self.answer(200, body, record)
            except Reject as reject:
                record["why"] = reject.why
                self.answer(reject.code, reject.status, record)

        def read(self, path, query, user, groups, state):
            if path == f"/apis/{RBAC}/v1/clusterrolebindings":
                server.authorize(user, groups, state, "list", "clusterrolebindings", RBAC)
                return page(state.get("clusterrolebindings", []), query, "ClusterRoleBindingList", f"{RBAC}/v1", state.get("page_size_cap"))
            if path == f"/apis/{RBAC}/v1/rolebindings":
                server.authorize(user, groups, state, "list", "rolebindings", RBAC)
                return page(state.get("rolebindings", []), query, "RoleBindingList", f"{RBAC}/v1", state.get("page_size_cap"))
            m = re.fullmatch(rf"/apis/{re.escape(RBAC)}/v1/namespaces/([^/]+)/rolebindings", path)
            if m:
                server.authorize(user, groups, state, "list", "rolebindings", RBAC, namespace=m.group(1))
                items = [b for b in state.get("rolebindings", []) if b["metadata"].get("namespace") == m.group(1)]
                return page(items, query, "RoleBindingList", f"{RBAC}/v1")
            if path == "/api/v1/namespaces/kube-system/configmaps/aws-auth":
                server.authorize(user, groups, state, "get", "configmaps", "", name="aws-auth", namespace="kube-system")
                data = state.get("aws_auth")
                if data is None:
                    raise Reject(404, status(404, "NotFound", 'configmaps "aws-auth" not found', {"name": "aws-auth", "kind": "configmaps"}), "not found")
                return {"kind": "ConfigMap", "apiVersion": "v1",
                        "metadata": {"name": "aws-auth", "namespace": "kube-system", "resourceVersion": RESOURCE_VERSION,
                                     "uid": "8f1d3c2e-0000-4000-8000-000000000001", "creationTimestamp": "2026-11-01T00:00:00Z"},
                        "data": data}
            raise Reject(404, status(404, "NotFound", "the server could not find the requested resource", {}), "no such path")

    return Handler


def make_certificates(directory):
    """A CA and a server certificate for 127.0.0.1 signed by it (cryptography)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    import ipaddress

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubernetes")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                                       key_encipherment=False, data_encipherment=False, key_agreement=False,
                                       encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = lambda c: c.public_bytes(serialization.Encoding.PEM)
    (directory / "ca.pem").write_bytes(pem(ca))
    (directory / "ca.b64").write_text(base64.b64encode(pem(ca)).decode())
    (directory / "server.pem").write_bytes(pem(cert) + pem(ca))
    (directory / "server.key").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                             serialization.NoEncryption()))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir")
    parser.add_argument("--cluster", required=True)
    parser.add_argument("--sts-url", required=True)
    parser.add_argument("--eks-url")
    parser.add_argument("--state", required=True)
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--account", help="the cluster's account (default: the emulator's default account)")
    parser.add_argument("--partition", default="aws")
    args = parser.parse_args()
    directory = pathlib.Path(args.dir)
    directory.mkdir(parents=True, exist_ok=True)
    make_certificates(directory)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), make_handler(Server(args)))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(directory / "server.pem", directory / "server.key")
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=httpd.shutdown).start())
    url = f"https://127.0.0.1:{httpd.server_address[1]}"
    (directory / "url.tmp").write_text(url)
    os.replace(directory / "url.tmp", directory / "url")
    print(url, flush=True)
    httpd.serve_forever()
    sys.exit(0)


if __name__ == "__main__":
    main()
