"""An EKS authentication-mode stand-in: a loopback HTTP proxy in front of MiniStack,
for tests/e2e/fixes.py only.

    proxy = eks_mode_proxy.start("http://127.0.0.1:PORT")   # MiniStack's URL
    ... clients and AWS_ENDPOINT_URL use proxy.url ...
    proxy.close()

Why: MiniStack 1.5.33 has no UpdateClusterConfig route (`InvalidRequestException: No
route for POST /clusters/<name>/update-config`) and serves access-entry calls on any
cluster, whatever its authentication mode. So the printed `update-cluster-config` fix,
and the failure it mends, cannot be shown on MiniStack alone.

What AWS documents, and this module relies on:
- EKS API reference, UpdateClusterConfig: `POST /clusters/{name}/update-config`; "The
  response output includes an update ID that you can use to track the status of your
  cluster update with `DescribeUpdate`." Its `accessConfig` is an
  UpdateAccessConfigRequest, whose one member is `authenticationMode`, "The desired
  authentication mode for the cluster", Valid Values: `API | API_AND_CONFIG_MAP |
  CONFIG_MAP`.
- EKS API reference, Update: "An object representing an asynchronous update": `id` ("A
  UUID that is used to track the update"), `status` (`InProgress | Failed | Cancelled |
  Successful`), `type` (among them `AccessConfigUpdate`), `params` (UpdateParam
  objects; UpdateParamType includes `AuthenticationMode`), `createdAt` ("The Unix epoch
  timestamp at object creation"). botocore's model (eks 2017-11-01, rest-json):
  UpdateClusterConfigResponse = {"update": Update}; timestamps as epoch seconds.
- EKS User Guide, "Change authentication mode to use access entries": "To begin using
  access entries, you must change the authentication mode of the cluster to either the
  API_AND_CONFIG_MAP or API modes." and "you can't change the authentication mode back
  to a mode that removes the EKS API and access entries."
- CreateAccessConfigRequest.authenticationMode: "If you create a cluster by using the
  EKS API, Amazon Web Services SDKs, or CloudFormation, the default is CONFIG_MAP."
- The one-way order CONFIG_MAP -> API_AND_CONFIG_MAP -> API, and the real wordings
  (/work/shared/reference/error-messages.md, from field reports):
  UpdateClusterConfig, InvalidParameterException: "Unsupported authentication mode
  update from CONFIG_MAP to API" (CONFIG_MAP must go through API_AND_CONFIG_MAP first),
  "... from API_AND_CONFIG_MAP to API_AND_CONFIG_MAP" (already in that mode);
  access-entry calls on a CONFIG_MAP cluster, InvalidRequestException: "The cluster's
  authentication mode must be set to one of [API, API_AND_CONFIG_MAP] to perform this
  operation."

What it emulates (everything else is forwarded to MiniStack unchanged: method, target,
headers and body, bar hop-by-hop headers (a chunked body is sent with a Content-Length);
MiniStack's answer is returned likewise):
1. UpdateClusterConfig with a JSON body holding `accessConfig.authenticationMode`:
   - the cluster must exist: a DescribeCluster (`GET /clusters/{name}`, with the
     caller's headers, so the same region and account) is sent to MiniStack, and its
     404 ResourceNotFoundException answer is returned as is;
   - the current mode is the one recorded here, else MiniStack's, else CONFIG_MAP (the
     API default, when the cluster was created without one);
   - only one step forward along CONFIG_MAP -> API_AND_CONFIG_MAP -> API is allowed:
     CONFIG_MAP -> API_AND_CONFIG_MAP and API_AND_CONFIG_MAP -> API. Anything else (the
     same mode, a step back, the jump CONFIG_MAP -> API) is 400
     InvalidParameterException "Unsupported authentication mode update from X to Y";
   - a value outside the three modes, or other update fields beside `accessConfig` in
     the same body, is 400 InvalidParameterException with a message of this stand-in's
     own (marked "(eks_mode_proxy)"; AWS's wording for these is not recorded);
   - on success the new mode is recorded at once and the answer is 200
     {"update": {"id": uuid, "status": "InProgress", "type": "AccessConfigUpdate",
     "params": [{"type": "AuthenticationMode", "value": MODE}], "createdAt": epoch,
     "errors": []}}.
   Any other update-config body (logging, VPC, ...) goes to MiniStack (which has no
   route for it).
2. DescribeUpdate (`GET /clusters/{name}/updates/{id}`) of an update made here: the
   same object with status "Successful" (the mode was recorded already). Other ids go
   to MiniStack.
3. DescribeCluster answers (200) carry the effective mode (the JSON re-encoded) in
   `cluster.accessConfig.authenticationMode` (recorded, else MiniStack's, else
   CONFIG_MAP).
4. Every access-entry call (`/clusters/{name}/access-entries...`, any method: create,
   list, describe, update, delete, associate/disassociate/list access policies) on a
   cluster whose effective mode is CONFIG_MAP: 400 InvalidRequestException "The
   cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] to
   perform this operation.", as REST-JSON (`x-amzn-errortype` header, `{"message"}`
   body), so the AWS CLI and boto3 name it. When the cluster does not exist the call
   goes to MiniStack (its own ResourceNotFoundException).
5. A recorded mode is dropped when MiniStack accepts a DeleteCluster or a CreateCluster
   of that name (a new cluster starts from what it is created with).
6. CreatePodIdentityAssociation (`POST /clusters/{name}/pod-identity-associations`) and
   UpdatePodIdentityAssociation (`POST /clusters/{name}/pod-identity-associations/{id}`)
   with a `roleArn`: the role is read from MiniStack's IAM (GetRole, the caller's access
   key) before the call goes on, as EKS checks it (MiniStack 1.5.33 checks neither):
   - no such role: 400 InvalidParameterException "Role provided in the request does not
     exist" (the wording terraform-provider-aws retries on: PR #34717);
   - a trust policy without an Allow for Principal Service `pods.eks.amazonaws.com` of both
     `sts:AssumeRole` and `sts:TagSession` (an action listed, `sts:*` or `*`): 400
     InvalidParameterException "Trust policy of the role provided is invalid"
     (terraform-provider-aws#41483, aws-cdk#31522). The EKS User Guide: the console "only
     contains roles that have the following trust policy", the Pod Identity statement.
   What it does not emulate of it: Conditions in the trust policy (EKS's own reading of
   them is not documented), Deny statements, roles of another account, `targetRoleArn`.
State is per (access key, region, cluster name), from the SigV4 Authorization header, as
MiniStack keys its own state by account and region.

What it does not emulate: the update lifecycle (the cluster's status does not go to
UPDATING; the update is "InProgress" in the UpdateClusterConfig answer and "Successful"
on every later DescribeUpdate; it never fails or is cancelled); "one update at a time"
(ResourceInUseException "Cannot AccessConfigUpdate because cluster NAME currently has
update UUID in progress"); a refusal on a cluster that is not ACTIVE; clientRequestToken
idempotency; ListUpdates; any other update type; the aws-auth ConfigMap and what each
mode means to the Kubernetes API (no Kubernetes here); IAM authorization (no
eks:authenticationMode condition); bootstrapClusterCreatorAdminPermissions rules;
access-entry validation beyond the mode (MiniStack's own, which is thin).

Standard library only; loopback only (it listens on 127.0.0.1, on a free port).
"""
import http.client
import http.server
import json
import re
import threading
import time
import urllib.parse
import uuid

MODES = ("CONFIG_MAP", "API_AND_CONFIG_MAP", "API")
DEFAULT_MODE = "CONFIG_MAP"   # CreateAccessConfigRequest: the API's default
# The allowed moves, one step forward each.
NEXT = {"CONFIG_MAP": "API_AND_CONFIG_MAP", "API_AND_CONFIG_MAP": "API"}
UNSUPPORTED = "Unsupported authentication mode update from {} to {}"
ACCESS_ENTRIES_OFF = ("The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] "
                      "to perform this operation.")

NAME = r"([0-9A-Za-z][A-Za-z0-9_-]*)"
CLUSTER = re.compile(rf"/clusters/{NAME}")
UPDATE_CONFIG = re.compile(rf"/clusters/{NAME}/update-config")
UPDATE = re.compile(rf"/clusters/{NAME}/updates/([^/]+)")
ACCESS_ENTRIES = re.compile(rf"/clusters/{NAME}/access-entries(?:/.*)?")
POD_IDENTITY_WRITE = re.compile(rf"/clusters/{NAME}/pod-identity-associations(?:/[^/]+)?")
POD_IDENTITY_SERVICE = "pods.eks.amazonaws.com"
ROLE_MISSING = "Role provided in the request does not exist"
TRUST_INVALID = "Trust policy of the role provided is invalid"
CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/[^/]+/([^/]+)/")
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade",
              "content-length"}


class Answer:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body   # headers: [(name, value)]

    def json(self):
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None


def error(status, code, message):
    return Answer(status, [("Content-Type", "application/json"), ("x-amzn-errortype", code),
                           ("x-amzn-requestid", str(uuid.uuid4()))], json.dumps({"message": message}).encode())


def ok(body):
    return Answer(200, [("Content-Type", "application/json"), ("x-amzn-requestid", str(uuid.uuid4()))],
                  json.dumps(body).encode())


class Proxy:
    def __init__(self, upstream):
        parts = urllib.parse.urlsplit(upstream)
        if parts.scheme != "http" or parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError(f"eks_mode_proxy: a loopback http upstream is needed, not {upstream}")
        self.upstream = (parts.hostname, parts.port or 80)
        self.lock = threading.Lock()
        self.modes = {}     # (access key, region, cluster) -> mode recorded by an UpdateClusterConfig
        self.updates = {}   # (access key, region, cluster, update id) -> the Update object
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), make_handler(self))
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True, name="eks-mode-proxy")
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    # -------------------------------------------------------------- upstream

    def forward(self, method, target, headers, body):
        conn = http.client.HTTPConnection(*self.upstream, timeout=120)
        try:
            conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
            for k, v in headers:
                if k.lower() not in HOP_BY_HOP:
                    conn.putheader(k, v)
            if body or method in ("POST", "PUT", "PATCH"):
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body or None)
            resp = conn.getresponse()
            data = resp.read()
            return Answer(resp.status, [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP_BY_HOP], data)
        finally:
            conn.close()

    def describe(self, name, headers):
        """MiniStack's DescribeCluster, with the caller's headers (region, account)."""
        keep = [(k, v) for k, v in headers if k.lower() not in ("content-type", "content-md5", "x-amz-content-sha256")]
        return self.forward("GET", f"/clusters/{name}", keep, b"")

    # -------------------------------------------------------------- state

    @staticmethod
    def scope(headers):
        auth = next((v for k, v in headers if k.lower() == "authorization"), "")
        m = CREDENTIAL.search(auth)
        return (m.group(1), m.group(2)) if m else ("", "")

    def effective(self, key, described):
        """The cluster's mode: recorded here (key None: not looked up), else MiniStack's (in
        its DescribeCluster answer), else the API default."""
        with self.lock:
            recorded = self.modes.get(key) if key else None
        if recorded:
            return recorded
        cluster = (described.json() or {}).get("cluster") or {}
        return (cluster.get("accessConfig") or {}).get("authenticationMode") or DEFAULT_MODE

    # -------------------------------------------------------------- requests

    def handle(self, method, target, headers, body):
        path = urllib.parse.urlsplit(target).path
        scope = self.scope(headers)

        m = UPDATE_CONFIG.fullmatch(path)
        if m and method == "POST":
            try:
                request = json.loads(body or b"{}")
            except ValueError:
                request = None
            access = request.get("accessConfig") if isinstance(request, dict) else None
            if isinstance(access, dict) and "authenticationMode" in access:
                return self.update_config(m.group(1), scope, headers, request)

        m = UPDATE.fullmatch(path)
        if m and method == "GET":
            with self.lock:
                update = self.updates.get((*scope, m.group(1), m.group(2)))
            if update:
                return ok({"update": dict(update, status="Successful")})

        m = POD_IDENTITY_WRITE.fullmatch(path)
        if m and method == "POST":
            try:
                request = json.loads(body or b"{}")
            except ValueError:
                request = None
            role = request.get("roleArn") if isinstance(request, dict) else None
            if isinstance(role, str):
                refused = self.pod_identity_role(role, headers)
                if refused:
                    return refused

        m = ACCESS_ENTRIES.fullmatch(path)
        if m:
            described = self.describe(m.group(1), headers)
            if described.status == 200 and self.effective((*scope, m.group(1)), described) == "CONFIG_MAP":
                return error(400, "InvalidRequestException", ACCESS_ENTRIES_OFF)

        answer = self.forward(method, target, headers, body)

        m = CLUSTER.fullmatch(path)
        if m and method == "GET" and answer.status == 200:
            data = answer.json()
            if isinstance(data, dict) and isinstance(data.get("cluster"), dict):
                mode = self.effective((*scope, m.group(1)), answer)
                data["cluster"]["accessConfig"] = dict(data["cluster"].get("accessConfig") or {}, authenticationMode=mode)
                answer.body = json.dumps(data).encode()
        elif m and method == "DELETE" and answer.status == 200:
            self.forget((*scope, m.group(1)))
        elif path == "/clusters" and method == "POST" and answer.status == 200:
            name = ((answer.json() or {}).get("cluster") or {}).get("name")
            if name:
                self.forget((*scope, name))
        return answer

    def pod_identity_role(self, role_arn, headers):
        """EKS's checks of an association's role (6. above): None when it passes, else the error."""
        name = role_arn.rsplit("/", 1)[-1]
        access_key = self.scope(headers)[0] or "test"
        form = urllib.parse.urlencode({"Action": "GetRole", "Version": "2010-05-08", "RoleName": name}).encode()
        iam_headers = [("Host", "%s:%d" % self.upstream), ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"),
                       ("Authorization", f"AWS4-HMAC-SHA256 Credential={access_key}/20260101/us-east-1/iam/aws4_request, "
                                         "SignedHeaders=content-type;host, Signature=0")]
        answer = self.forward("POST", "/", iam_headers, form)
        if answer.status != 200:
            return error(400, "InvalidParameterException", ROLE_MISSING)
        found = re.search(rb"<AssumeRolePolicyDocument>(.*?)</AssumeRolePolicyDocument>", answer.body, re.S)
        text = urllib.parse.unquote(found.group(1).decode()) if found else ""
        text = text.replace("&quot;", '"').replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
        try:
            trust = json.loads(text)
        except ValueError:
            trust = {}
        return None if trusts_pod_identity(trust) else error(400, "InvalidParameterException", TRUST_INVALID)

    def forget(self, key):
        with self.lock:
            self.modes.pop(key, None)
            for k in [k for k in self.updates if k[:3] == key]:
                del self.updates[k]

    def update_config(self, name, scope, headers, request):
        described = self.describe(name, headers)
        if described.status != 200:
            return described   # MiniStack's ResourceNotFoundException (or whatever it said)
        others = sorted(k for k in request if k not in ("accessConfig", "clientRequestToken", "name"))
        if others or set(request["accessConfig"]) != {"authenticationMode"}:
            return error(400, "InvalidParameterException",
                         f"(eks_mode_proxy) only accessConfig.authenticationMode is emulated in one call; also given: "
                         f"{others + sorted(set(request['accessConfig']) - {'authenticationMode'})}")
        wanted = request["accessConfig"]["authenticationMode"]
        if wanted not in MODES:
            return error(400, "InvalidParameterException",
                         f"(eks_mode_proxy) authenticationMode {wanted!r} is not one of {list(MODES)}")
        key = (*scope, name)
        upstream_mode = self.effective(None, described)
        with self.lock:   # the check and the change at once: two concurrent updates cannot both pass
            current = self.modes.get(key) or upstream_mode
            if NEXT.get(current) != wanted:
                return error(400, "InvalidParameterException", UNSUPPORTED.format(current, wanted))
            update = {"id": str(uuid.uuid4()), "status": "InProgress", "type": "AccessConfigUpdate",
                      "params": [{"type": "AuthenticationMode", "value": wanted}], "createdAt": time.time(),
                      "errors": []}
            self.modes[key] = wanted
            self.updates[(*key, update["id"])] = update
        return ok({"update": update})


def trusts_pod_identity(trust):
    """Whether a trust policy has Allows for Pod Identity's service of sts:AssumeRole and sts:TagSession."""
    def listed(value):
        return value if isinstance(value, list) else [value]
    allowed = set()
    for st in listed((trust or {}).get("Statement") or []):
        if not isinstance(st, dict) or st.get("Effect") != "Allow":
            continue
        principal = st.get("Principal") if isinstance(st.get("Principal"), dict) else {}
        if POD_IDENTITY_SERVICE not in listed(principal.get("Service")):
            continue
        for action in listed(st.get("Action")):
            if isinstance(action, str):
                allowed |= {a for a in ("sts:AssumeRole", "sts:TagSession") if action.lower() in (a.lower(), "sts:*", "*")}
    return allowed == {"sts:AssumeRole", "sts:TagSession"}


def make_handler(proxy):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True   # headers and body are two writes: no 40 ms delayed-ACK stall

        def log_message(self, *args):
            pass

        def body(self):
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                data = b""
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass
                        return data
                    data += self.rfile.read(size)
                    self.rfile.readline()
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def serve(self):
            body = self.body()
            try:
                answer = proxy.handle(self.command, self.path, list(self.headers.items()), body)
            except Exception as e:   # the upstream is down, etc.: an error the client can name
                answer = error(500, "ServerException", f"(eks_mode_proxy) {type(e).__name__}: {e}")
            self.send_response(answer.status)
            for k, v in answer.headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(answer.body)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = serve

    return Handler


def start(upstream):
    """A running proxy in front of `upstream` (MiniStack's URL); its address is `.url`."""
    return Proxy(upstream)
