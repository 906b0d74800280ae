"""A stand-in for an EKS cluster's kube-apiserver, for the Kubernetes-side tests.

    python tests/e2e/kube_apiserver_standin.py DIR --cluster NAME --sts-url URL --state FILE
        [--region us-east-1] [--eks-url URL] [--account ACCOUNT]

No real kube-apiserver can be installed on these machines, so this serves the reads
eks-access-doctor makes, as the Kubernetes API shapes them, authenticates every
request the way EKS does (aws-iam-authenticator's `tokenVerifier.Verify`,
pkg/token/token.go, and its mappers) and authorizes any request as an EKS cluster
does (Kubernetes RBAC, then EKS access policies):

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
  case-insensitively with the canonical ARN). No match: 401. The groups always
  include `system:authenticated`, as the API server's authenticator adds it.
- Request attributes, as kube-apiserver's RequestInfoFactory.NewRequestInfo
  (k8s.io/apiserver/pkg/endpoints/request/requestinfo.go) makes them from any
  method and path: `/api/VERSION/…` is the core group "", `/apis/GROUP/VERSION/…`
  a named group (fewer parts: a non-resource URL, e.g. `/healthz`, `/version`,
  `/api`, `/apis/apps/v1`, whose verb is the lower-cased method); the special verbs
  `watch`/`proxy` as a path prefix; `namespaces/NS/RESOURCE[/NAME[/SUBRESOURCE]]`,
  while `namespaces/NS[/status|/finalize]` is resource `namespaces`, name NS (and
  namespace NS, as there); verb from the method (POST create, GET/HEAD get, PUT
  update, PATCH patch, DELETE delete), a GET without a name is `list`, or `watch`
  when the `watch` parameter is neither `0` nor `false` (apimachinery's
  Convert_Slice_string_To_bool), a `fieldSelector=metadata.name=X` gives it name X,
  a DELETE without a name is `deletecollection`.
- Authorization, a union of authorizers as kube-apiserver's chain (the first that
  allows wins; none denies explicitly):
  1. the group `system:masters` is always allowed (kube-apiserver's privileged
     group authorizer, ahead of RBAC);
  2. Kubernetes RBAC (plugin/pkg/auth/authorizer/rbac/rbac.go `RuleAllows`, with
     pkg/apis/rbac/v1/evaluation_helpers.go `VerbMatches`, `APIGroupMatches`,
     `ResourceMatches` (`*`, `RESOURCE/SUBRESOURCE`, `*/SUBRESOURCE`),
     `ResourceNameMatches` (a rule with resourceNames matches only a request whose
     name is among them, so never a list without a name), `NonResourceURLMatches`
     (`*`, exact, or a `PREFIX*`), and pkg/registry/rbac/validation/rule.go
     `VisitRulesFor`/`appliesTo`/`GetRoleReferenceRules`): every ClusterRoleBinding,
     plus the RoleBindings of the request's namespace (none for a cluster-scoped
     request); a subject applies as User (by name), Group (by name) or
     ServiceAccount (user `system:serviceaccount:NS:NAME`, NS defaulting to the
     RoleBinding's namespace); the roleRef is a ClusterRole (from any binding) or a
     Role of the RoleBinding's own namespace (a ClusterRoleBinding's Role reference
     resolves to nothing), from the state's `roles` (e.g. deploy/kubernetes-reader.yaml's).
     ClusterRoles are evaluated as stored, aggregated ones too (their `rules`; the
     `aggregationRule` is the controller's business, not the authorizer's).
     `cluster-admin`, when not stored, is built in as Kubernetes bootstraps it
     (`*`/`*`/`*` and nonResourceURLs `*`).
  3. EKS access policies (latest/ug/manage-access/k8s-access/grant-k8s-access.adoc,
     "Associate access policies with access entries": access policies and RBAC
     grant together, "the IAM principal has all the permissions in all associated
     access policies. It also has all the permissions in any Kubernetes Role or
     ClusterRole …"), for an identity that came from an access entry of type
     STANDARD only ("You can assign one or more access policies to access entries
     of type STANDARD"; not for an aws-auth mapping): its associations are read
     from MiniStack's EKS (ListAssociatedAccessPolicies, only when the earlier
     authorizers did not allow); an association with scope `cluster` applies to any
     request, one with scope `namespace` only to a request whose namespace (as
     RequestInfo sets it) matches one of its `namespaces`, where `*` is a wildcard
     (`dev-*`); a request with no namespace (a cluster-scoped resource, a list across
     namespaces, a non-resource URL) is never allowed by a namespace-scoped
     association. The policies' rules are this file's transcription of the tables of
     latest/ug/manage-access/k8s-access/access-policy-reference.adoc (awsdocs/
     amazon-eks-user-guide, commit 4d52b4d) for AmazonEKSClusterAdminPolicy,
     AmazonEKSAdminPolicy, AmazonEKSEditPolicy, AmazonEKSViewPolicy and
     AmazonEKSAdminViewPolicy, a row a rule, evaluated with the RBAC rule matching
     above. Any other policy (AmazonEKSHybridPolicy, the Auto Mode ones …) grants
     nothing here.
  Denied: 403 `Status` (reason Forbidden) with the API server's message
  (responsewriters.Forbidden, `forbiddenMessage`: `… is forbidden: User "…" cannot
  list resource "rolebindings" in API group "rbac.authorization.k8s.io" at the
  cluster scope`; `forbidden: User "…" cannot get path "/healthz"`).
- Reads served (once authorized): `GET /apis/rbac.authorization.k8s.io/v1/rolebindings`,
  `/apis/rbac.authorization.k8s.io/v1/namespaces/NS/rolebindings`,
  `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings`, and the same for `roles`
  (every namespace and `namespaces/NS/roles`: the state's `roles` of kind Role) and
  `clusterroles` (kind ClusterRole): typed lists (`RoleBindingList`,
  `ClusterRoleBindingList`, `RoleList`, `ClusterRoleList`) with `kind`, `apiVersion`,
  `metadata.resourceVersion`, `limit` honoured and an opaque `continue` token,
  `metadata.remainingItemCount`; items in namespace and name order, without `kind`,
  as typed lists give them (`page_size_cap` applies to all but the namespaced
  RoleBinding list, as before); one of these objects by name
  (`…/clusterroles/NAME`, `…/namespaces/NS/rolebindings/NAME` …, with its `kind`
  and `apiVersion`); `GET /api/v1/namespaces/kube-system/configmaps/aws-auth` (the
  ConfigMap). Anything else allowed: a `list` answers 200 with no items
  (`{"kind": "PodList"` for the kinds this file knows, else `"List"`, `apiVersion`,
  `metadata.resourceVersion`, `items: []}`); a non-resource URL 200 `{}`; any other
  resource request 404 `Status` NotFound (`pods "NAME" not found`, reason NotFound,
  as apierrors.NewNotFound words it; without a name, `the server could not find the
  requested resource`): nothing but the served objects exists, and nothing is
  ever written.

The state file (JSON, read at every request so a test can change it):
    {"rolebindings": [RoleBinding…], "clusterrolebindings": [ClusterRoleBinding…],
     "aws_auth": {"mapRoles": "…", "mapUsers": "…"} or null,
     "roles": [Role or ClusterRole…], "secrets": {"ACCESS_KEY_ID": "SECRET", …},
     "page_size_cap": N}   (at most N items a page whatever the limit, as an API server may do)

Each request is appended to DIR/requests.ndjson: {"method", "path", "query", "code",
"user", "groups", "via", "arn", "sts_status", "signature", "why", "verb", "resource",
"subresource", "namespace", "name", "api_group", "decision", "access_policies"};
`access_policies` lists the associations read (only when RBAC did not allow); `decision` is what
allowed it (`system:masters`, `rbac: ClusterRoleBinding platform-admins`,
`rbac: RoleBinding kube-system/NAME`, `access policy AmazonEKSViewPolicy (namespace
scope)`), `denied`, or null when authentication failed; for a non-resource URL
`resource`, `namespace`, `name` and `api_group` are null.

Not emulated (a real cluster may differ): the built-in roles and bindings other
than cluster-admin (`system:discovery`, `system:basic-user`, `view`, `edit`,
`admin` … are whatever the state stores), the aggregation controller, the Node and
webhook authorizers other than access policies, the permissions EKS gives
non-STANDARD entries (EC2_LINUX …) and their implied groups, access policies other
than the five above, impersonation (which, in EKS, would also drop access
policies), admission, any write (nothing is stored: creates, updates, patches and
deletes that are allowed answer 404), watch streams (an allowed watch answers 404),
objects other than the served ones (lists of anything else are empty, gets 404),
field selectors other than `metadata.name` (and that only for authorization and
the served lists) and label selectors, `resourceVersion` semantics (one fixed
version; a `continue` token never expires: no 410 Gone), HTTP/2 and API discovery
documents, the authenticator's `sso:` mappings, `mapAccounts`, username templates
other than `{{SessionName}}`/`{{AccountID}}`, and its caches; STS's own checks
beyond the signature (MiniStack answers for any key it knows); certificate rotation.
Stops on SIGTERM.
"""
import argparse
import base64
import dataclasses
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


# --- request attributes: k8s.io/apiserver/pkg/endpoints/request/requestinfo.go ---------
API_PREFIXES = {"api", "apis"}
GROUPLESS_API_PREFIXES = {"api"}
SPECIAL_VERBS = {"proxy", "watch"}
SPECIAL_VERBS_NO_SUBRESOURCES = {"proxy"}
NAMESPACE_SUBRESOURCES = {"status", "finalize"}
METHOD_VERBS = {"POST": "create", "GET": "get", "HEAD": "get", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}


@dataclasses.dataclass
class RequestInfo:
    """authorizer.Attributes of one request (RequestInfo's fields)."""
    path: str
    verb: str
    is_resource_request: bool = False
    api_prefix: str = ""
    api_group: str = ""
    api_version: str = ""
    namespace: str = ""
    resource: str = ""
    subresource: str = ""
    name: str = ""
    parts: tuple = ()


class BadRequestInfo(Exception):
    pass


def split_path(path):
    path = path.strip("/")
    return path.split("/") if path else []


def query_bool(values):
    """apimachinery's Convert_Slice_string_To_bool: absent → false; "0"/"false" → false; else true."""
    if not values:
        return False
    return not (values[0] == "0" or values[0].lower() == "false")


def field_selector_name(selector):
    """fields.Selector.RequiresExactMatch("metadata.name") on a `fieldSelector`, with
    the name kept only if it is a valid path segment (path.IsValidPathSegmentName)."""
    for term in (selector or "").split(","):
        for op in ("!=", "==", "="):
            if op in term:
                field, _, value = term.partition(op)
                if op != "!=" and field.strip() == "metadata.name":
                    value = value.strip()
                    if value not in (".", "..") and "/" not in value and "%" not in value:
                        return value
                break
    return ""


def request_info(method, path, query=""):
    """RequestInfoFactory.NewRequestInfo for `method` on `path` with the raw `query`."""
    info = RequestInfo(path=path, verb=method.lower())
    parts = split_path(path)
    if len(parts) < 3 or parts[0] not in API_PREFIXES:
        return info  # a non-resource request: the verb is the lower-cased method
    info.api_prefix, parts = parts[0], parts[1:]
    if info.api_prefix not in GROUPLESS_API_PREFIXES:
        if len(parts) < 3:
            return info
        info.api_group, parts = parts[0], parts[1:]
    info.is_resource_request = True
    info.api_version, parts = parts[0], parts[1:]
    if parts[0] in SPECIAL_VERBS:
        if len(parts) < 2:
            raise BadRequestInfo(f"unable to determine kind and namespace from url, {path}")
        info.verb, parts = parts[0], parts[1:]
    else:
        info.verb = METHOD_VERBS.get(method.upper(), "")
    if parts[0] == "namespaces":
        if len(parts) > 1:
            info.namespace = parts[1]
            # namespaces/NS/RESOURCE…: relative to RESOURCE; namespaces/NS[/status|/finalize]: the namespace itself
            if len(parts) > 2 and parts[2] not in NAMESPACE_SUBRESOURCES:
                parts = parts[2:]
    info.parts = tuple(parts)
    if len(parts) >= 3 and info.verb not in SPECIAL_VERBS_NO_SUBRESOURCES:
        info.subresource = parts[2]
    if len(parts) >= 2:
        info.name = parts[1]
    if len(parts) >= 1:
        info.resource = parts[0]
    if not info.name and info.verb == "get":
        params = urllib.parse.parse_qs(query or "", keep_blank_values=True)
        info.verb = "watch" if query_bool(params.get("watch")) else "list"
        info.name = field_selector_name(params.get("fieldSelector", [""])[0])
    if not info.name and info.verb == "delete":
        info.verb = "deletecollection"
    return info


# --- RBAC: pkg/apis/rbac/v1/evaluation_helpers.go and plugin/pkg/auth/authorizer/rbac/rbac.go ---
def verb_matches(rule, verb):
    return any(v == "*" or v == verb for v in rule.get("verbs") or [])


def api_group_matches(rule, group):
    return any(g == "*" or g == group for g in rule.get("apiGroups") or [])


def resource_matches(rule, combined, subresource):
    for r in rule.get("resources") or []:
        if r == "*" or r == combined:
            return True
        if subresource and len(r) == len(subresource) + 2 and r.startswith("*/") and r.endswith(subresource):
            return True
    return False


def resource_name_matches(rule, name):
    names = rule.get("resourceNames") or []
    return not names or name in names


def non_resource_url_matches(rule, url):
    for u in rule.get("nonResourceURLs") or []:
        if u == "*" or u == url or (u.endswith("*") and url.startswith(u.rstrip("*"))):
            return True
    return False


def rule_allows(info, rule):
    """rbac.go RuleAllows."""
    if info.is_resource_request:
        combined = f"{info.resource}/{info.subresource}" if info.subresource else info.resource
        return verb_matches(rule, info.verb) and api_group_matches(rule, info.api_group) and \
            resource_matches(rule, combined, info.subresource) and resource_name_matches(rule, info.name)
    return verb_matches(rule, info.verb) and non_resource_url_matches(rule, info.path)


# cluster-admin as Kubernetes bootstraps it (plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go).
CLUSTER_ADMIN_RULES = [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
                       {"nonResourceURLs": ["*"], "verbs": ["*"]}]


def applies_to(subject, user, groups, namespace):
    """rule.go appliesToUser; `namespace` is the RoleBinding's ("" for a ClusterRoleBinding)."""
    kind = subject.get("kind")
    if kind == "User":
        return subject.get("name") == user
    if kind == "Group":
        return subject.get("name") in groups
    if kind == "ServiceAccount":
        sa_namespace = subject.get("namespace") or namespace
        return bool(sa_namespace) and user == f"system:serviceaccount:{sa_namespace}:{subject.get('name')}"
    return False


def role_reference_rules(roles, ref, binding_namespace):
    """rule.go GetRoleReferenceRules: a ClusterRole by name, or a Role of the binding's namespace."""
    kind, name = ref.get("kind"), ref.get("name")
    for role in roles:
        meta = role.get("metadata") or {}
        if role.get("kind") != kind or meta.get("name") != name:
            continue
        if kind == "ClusterRole" or (kind == "Role" and binding_namespace and meta.get("namespace") == binding_namespace):
            return role.get("rules") or []
    if kind == "ClusterRole" and name == "cluster-admin":
        return CLUSTER_ADMIN_RULES
    return []


def rbac_decision(info, user, groups, state):
    """rbac.go Authorize over rule.go VisitRulesFor: the binding that allows, or None."""
    roles = state.get("roles") or []
    candidates = [(b, "", f"ClusterRoleBinding {b['metadata']['name']}") for b in state.get("clusterrolebindings") or []]
    if info.namespace:
        candidates += [(b, info.namespace, f"RoleBinding {info.namespace}/{b['metadata']['name']}")
                       for b in state.get("rolebindings") or [] if b["metadata"].get("namespace") == info.namespace]
    for binding, namespace, described in candidates:
        if not any(applies_to(s, user, groups, namespace) for s in binding.get("subjects") or []):
            continue
        if any(rule_allows(info, rule) for rule in role_reference_rules(roles, binding.get("roleRef") or {}, namespace)):
            return f"rbac: {described}"
    return None


# --- EKS access policies -----------------------------------------------------------------
# A transcription of awsdocs/amazon-eks-user-guide latest/ug/manage-access/k8s-access/
# access-policy-reference.adoc (commit 4d52b4d), table by table, row by row, in the page's
# order: each row is a rule ("Each row of each table in each access policy is a separate
# rule"); an empty API group cell is the core group "". Written from the page alone.
GLW = ["get", "list", "watch"]
CDDPU = ["create", "delete", "deletecollection", "patch", "update"]


def _rule(groups, resources, verbs):
    return {"apiGroups": groups, "resources": resources, "verbs": verbs}


ACCESS_POLICIES = {
    "AmazonEKSAdminPolicy": [
        _rule(["apps"], ["daemonsets", "deployments", "deployments/rollback", "deployments/scale", "replicasets",
                         "replicasets/scale", "statefulsets", "statefulsets/scale"], CDDPU),
        _rule(["apps"], ["controllerrevisions", "daemonsets", "daemonsets/status", "deployments", "deployments/scale",
                         "deployments/status", "replicasets", "replicasets/scale", "replicasets/status", "statefulsets",
                         "statefulsets/scale", "statefulsets/status"], GLW),
        _rule(["authorization.k8s.io"], ["localsubjectaccessreviews"], ["create"]),
        _rule(["autoscaling"], ["horizontalpodautoscalers"], CDDPU),
        _rule(["autoscaling"], ["horizontalpodautoscalers", "horizontalpodautoscalers/status"], GLW),
        _rule(["batch"], ["cronjobs", "jobs"], CDDPU),
        _rule(["batch"], ["cronjobs", "cronjobs/status", "jobs", "jobs/status"], GLW),
        _rule(["discovery.k8s.io"], ["endpointslices"], GLW),
        _rule(["extensions"], ["daemonsets", "deployments", "deployments/rollback", "deployments/scale", "ingresses",
                               "networkpolicies", "replicasets", "replicasets/scale", "replicationcontrollers/scale"], CDDPU),
        _rule(["extensions"], ["daemonsets", "daemonsets/status", "deployments", "deployments/scale", "deployments/status",
                               "ingresses", "ingresses/status", "networkpolicies", "replicasets", "replicasets/scale",
                               "replicasets/status", "replicationcontrollers/scale"], GLW),
        _rule(["networking.k8s.io"], ["ingresses", "ingresses/status", "networkpolicies"], GLW),
        _rule(["networking.k8s.io"], ["ingresses", "networkpolicies"], CDDPU),
        _rule(["policy"], ["poddisruptionbudgets"], CDDPU),
        _rule(["policy"], ["poddisruptionbudgets", "poddisruptionbudgets/status"], GLW),
        _rule(["rbac.authorization.k8s.io"], ["rolebindings", "roles"],
              ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]),
        _rule([""], ["configmaps", "endpoints", "persistentvolumeclaims", "persistentvolumeclaims/status", "pods",
                     "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts", "services",
                     "services/status"], GLW),
        _rule([""], ["pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets", "services/proxy"], GLW),
        _rule([""], ["configmaps", "events", "persistentvolumeclaims", "replicationcontrollers",
                     "replicationcontrollers/scale", "secrets", "serviceaccounts", "services", "services/proxy"], CDDPU),
        _rule([""], ["pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"], CDDPU),
        _rule([""], ["serviceaccounts"], ["impersonate"]),
        _rule([""], ["bindings", "events", "limitranges", "namespaces/status", "pods/log", "pods/status",
                     "replicationcontrollers/status", "resourcequotas", "resourcequotas/status"], GLW),
        _rule([""], ["namespaces"], GLW),
    ],
    "AmazonEKSClusterAdminPolicy": [
        _rule(["*"], ["*"], ["*"]),
        {"nonResourceURLs": ["*"], "verbs": ["*"]},
    ],
    "AmazonEKSAdminViewPolicy": [
        _rule(["*"], ["*"], GLW),
    ],
    "AmazonEKSEditPolicy": [
        _rule(["apps"], ["daemonsets", "deployments", "deployments/rollback", "deployments/scale", "replicasets",
                         "replicasets/scale", "statefulsets", "statefulsets/scale"], CDDPU),
        _rule(["apps"], ["controllerrevisions", "daemonsets", "daemonsets/status", "deployments", "deployments/scale",
                         "deployments/status", "replicasets", "replicasets/scale", "replicasets/status", "statefulsets",
                         "statefulsets/scale", "statefulsets/status"], GLW),
        _rule(["autoscaling"], ["horizontalpodautoscalers", "horizontalpodautoscalers/status"], GLW),
        _rule(["autoscaling"], ["horizontalpodautoscalers"], CDDPU),
        _rule(["batch"], ["cronjobs", "jobs"], CDDPU),
        _rule(["batch"], ["cronjobs", "cronjobs/status", "jobs", "jobs/status"], GLW),
        _rule(["discovery.k8s.io"], ["endpointslices"], GLW),
        _rule(["extensions"], ["daemonsets", "deployments", "deployments/rollback", "deployments/scale", "ingresses",
                               "networkpolicies", "replicasets", "replicasets/scale", "replicationcontrollers/scale"], CDDPU),
        _rule(["extensions"], ["daemonsets", "daemonsets/status", "deployments", "deployments/scale", "deployments/status",
                               "ingresses", "ingresses/status", "networkpolicies", "replicasets", "replicasets/scale",
                               "replicasets/status", "replicationcontrollers/scale"], GLW),
        _rule(["networking.k8s.io"], ["ingresses", "networkpolicies"], CDDPU),
        _rule(["networking.k8s.io"], ["ingresses", "ingresses/status", "networkpolicies"], GLW),
        _rule(["policy"], ["poddisruptionbudgets"], CDDPU),
        _rule(["policy"], ["poddisruptionbudgets", "poddisruptionbudgets/status"], GLW),
        _rule([""], ["namespaces"], GLW),
        _rule([""], ["pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets", "services/proxy"], GLW),
        _rule([""], ["serviceaccounts"], ["impersonate"]),
        _rule([""], ["pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"], CDDPU),
        _rule([""], ["configmaps", "events", "persistentvolumeclaims", "replicationcontrollers",
                     "replicationcontrollers/scale", "secrets", "serviceaccounts", "services", "services/proxy"], CDDPU),
        _rule([""], ["configmaps", "endpoints", "persistentvolumeclaims", "persistentvolumeclaims/status", "pods",
                     "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts", "services",
                     "services/status"], GLW),
        _rule([""], ["bindings", "events", "limitranges", "namespaces/status", "pods/log", "pods/status",
                     "replicationcontrollers/status", "resourcequotas", "resourcequotas/status"], GLW),
    ],
    "AmazonEKSViewPolicy": [
        _rule(["apps"], ["controllerrevisions", "daemonsets", "daemonsets/status", "deployments", "deployments/scale",
                         "deployments/status", "replicasets", "replicasets/scale", "replicasets/status", "statefulsets",
                         "statefulsets/scale", "statefulsets/status"], GLW),
        _rule(["autoscaling"], ["horizontalpodautoscalers", "horizontalpodautoscalers/status"], GLW),
        _rule(["batch"], ["cronjobs", "cronjobs/status", "jobs", "jobs/status"], GLW),
        _rule(["discovery.k8s.io"], ["endpointslices"], GLW),
        _rule(["extensions"], ["daemonsets", "daemonsets/status", "deployments", "deployments/scale", "deployments/status",
                               "ingresses", "ingresses/status", "networkpolicies", "replicasets", "replicasets/scale",
                               "replicasets/status", "replicationcontrollers/scale"], GLW),
        _rule(["networking.k8s.io"], ["ingresses", "ingresses/status", "networkpolicies"], GLW),
        _rule(["policy"], ["poddisruptionbudgets", "poddisruptionbudgets/status"], GLW),
        _rule([""], ["configmaps", "endpoints", "persistentvolumeclaims", "persistentvolumeclaims/status", "pods",
                     "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts", "services",
                     "services/status"], GLW),
        # The page spells the last resource r``esourcequotas/status``: resourcequotas/status.
        _rule([""], ["bindings", "events", "limitranges", "namespaces/status", "pods/log", "pods/status",
                     "replicationcontrollers/status", "resourcequotas", "resourcequotas/status"], GLW),
        _rule([""], ["namespaces"], GLW),
    ],
}


def policy_name(policy_arn):
    """`arn:PARTITION:eks::aws:cluster-access-policy/NAME` → NAME."""
    return (policy_arn or "").rsplit("/", 1)[-1]


def namespace_matches(pattern, namespace):
    """An association's namespace, where `*` stands for any characters (`dev-*`)."""
    return re.fullmatch(".*".join(re.escape(p) for p in pattern.split("*")), namespace) is not None


def scope_allows(scope, info):
    """An association's accessScope: `cluster` → any request; `namespace` → a request in
    one of its namespaces (never one without a namespace: a cluster-scoped resource,
    a list across namespaces, a non-resource URL)."""
    kind = (scope or {}).get("type")
    if kind == "cluster":
        return True
    if kind == "namespace":
        return bool(info.namespace) and any(namespace_matches(p, info.namespace) for p in scope.get("namespaces") or [])
    return False


def access_policy_decision(info, associations):
    """The association that allows `info`, as `access policy NAME (SCOPE scope)`, or None."""
    for association in associations:
        name = policy_name(association.get("policyArn"))
        rules = ACCESS_POLICIES.get(name)
        scope = association.get("accessScope") or {}
        if rules and scope_allows(scope, info) and any(rule_allows(info, rule) for rule in rules):
            return f"access policy {name} ({scope.get('type')} scope)"
    return None


def authorize(info, user, groups, state, associations=lambda: []):
    """The union of the authorizers: the decision that allows, or None (denied).
    `associations` is called (once) only when neither system:masters nor RBAC allows."""
    if "system:masters" in groups:
        return "system:masters"
    decision = rbac_decision(info, user, groups, state)
    if decision:
        return decision
    return access_policy_decision(info, associations())


def forbidden(info, user):
    """responsewriters.Forbidden: forbiddenMessage in apierrors.NewForbidden."""
    if not info.is_resource_request:
        return Reject(403, status(403, "Forbidden", f'forbidden: User "{user}" cannot {info.verb} path "{info.path}"'), "forbidden")
    resource = f"{info.resource}/{info.subresource}" if info.subresource else info.resource
    scope = f'in the namespace "{info.namespace}"' if info.namespace else "at the cluster scope"
    reason = f'User "{user}" cannot {info.verb} resource "{resource}" in API group "{info.api_group}" {scope}'
    qualified = qualified_resource(info)
    message = f'{qualified} "{info.name}" is forbidden: {reason}' if info.name else f"{qualified} is forbidden: {reason}"
    return Reject(403, status(403, "Forbidden", message, details(info)), "forbidden")


def qualified_resource(info):
    return f"{info.resource}.{info.api_group}" if info.api_group else info.resource


def details(info):
    out = {"kind": info.resource}
    if info.api_group:
        out["group"] = info.api_group
    if info.name:
        out["name"] = info.name
    return out


def not_found(info):
    """apierrors.NewNotFound for a named object; the generic 404 without a name."""
    if info.name:
        return Reject(404, status(404, "NotFound", f'{qualified_resource(info)} "{info.name}" not found', details(info)), "not found")
    return Reject(404, status(404, "NotFound", "the server could not find the requested resource", details(info)), "not found")


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
        """(username, groups, via, entry): `entry` is {"principalArn", "type"} when an access
        entry mapped the caller, None for an aws-auth mapping."""
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
                    found = {"principalArn": entry.get("principalArn") or entry_arn, "type": entry.get("type") or "STANDARD"}
                    return username, list(entry.get("kubernetesGroups", [])), f"access entry {entry_arn}", found
        if mode != "API" and state.get("aws_auth"):
            key, field = ("mapRoles", "rolearn") if kind == "role" else ("mapUsers", "userarn")
            for mapping in parse_yaml_list(state["aws_auth"].get(key, "")):
                value = next((v for k, v in mapping.items() if k.lower() == field), "")
                if isinstance(value, str) and value.lower() == canonical.lower():
                    username = next((v for k, v in mapping.items() if k.lower() == "username"), "") or canonical
                    groups = next((v for k, v in mapping.items() if k.lower() == "groups"), []) or []
                    return fill(username, session, account), list(groups), f"aws-auth {key}", None
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
        if operation == "ListAssociatedAccessPolicies":
            out, token = [], None
            while True:
                extra = {"nextToken": token} if token else {}
                batch = client.list_associated_access_policies(clusterName=self.args.cluster, principalArn=principal, **extra)
                out += batch.get("associatedAccessPolicies", [])
                token = batch.get("nextToken")
                if not token:
                    return out
        return client.describe_access_entry(clusterName=self.args.cluster, principalArn=principal)

    # --- authorization ------------------------------------------------------
    def associations(self, entry, record):
        """The access policies associated with the caller's access entry (STANDARD only)."""
        if not entry or entry.get("type") != "STANDARD":
            return []
        try:
            found = self.eks("ListAssociatedAccessPolicies", entry["principalArn"])
        except Exception as e:  # noqa: BLE001 - an authorizer that errs has no opinion
            record["access_policies"] = f"unreadable: {e}"
            return []
        record["access_policies"] = [f"{policy_name(a.get('policyArn'))} {json.dumps(a.get('accessScope'), sort_keys=True)}" for a in found]
        return found


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


# --- what is served --------------------------------------------------------------------
# The RBAC objects served from the state: resource → (kind, namespaced, the state's items).
RBAC_SERVED = {
    "rolebindings": ("RoleBinding", True, lambda s: s.get("rolebindings") or []),
    "clusterrolebindings": ("ClusterRoleBinding", False, lambda s: s.get("clusterrolebindings") or []),
    "roles": ("Role", True, lambda s: [r for r in s.get("roles") or [] if r.get("kind") == "Role"]),
    "clusterroles": ("ClusterRole", False, lambda s: [r for r in s.get("roles") or [] if r.get("kind") == "ClusterRole"]),
}
# The list kinds of some well-known resources, for the empty lists of what is not served.
LIST_KINDS = {
    ("", "pods"): "PodList", ("", "services"): "ServiceList", ("", "configmaps"): "ConfigMapList",
    ("", "secrets"): "SecretList", ("", "namespaces"): "NamespaceList", ("", "nodes"): "NodeList",
    ("", "serviceaccounts"): "ServiceAccountList", ("", "events"): "EventList", ("", "endpoints"): "EndpointsList",
    ("", "persistentvolumeclaims"): "PersistentVolumeClaimList", ("", "persistentvolumes"): "PersistentVolumeList",
    ("apps", "deployments"): "DeploymentList", ("apps", "daemonsets"): "DaemonSetList",
    ("apps", "statefulsets"): "StatefulSetList", ("apps", "replicasets"): "ReplicaSetList",
    ("batch", "jobs"): "JobList", ("batch", "cronjobs"): "CronJobList",
    ("networking.k8s.io", "ingresses"): "IngressList", ("networking.k8s.io", "networkpolicies"): "NetworkPolicyList",
    ("policy", "poddisruptionbudgets"): "PodDisruptionBudgetList",
    ("discovery.k8s.io", "endpointslices"): "EndpointSliceList",
}


def api_version(info):
    return f"{info.api_group}/{info.api_version}" if info.api_group else info.api_version


def serve(info, query, state):
    """The answer (200 body) to an authorized request, or a Reject (404, 400)."""
    if not info.is_resource_request:
        return {}
    served = RBAC_SERVED.get(info.resource) if info.api_group == RBAC and info.api_version == "v1" else None
    if served and not info.subresource:
        kind, namespaced, items = served
        if info.namespace and not namespaced:
            raise Reject(404, status(404, "NotFound", "the server could not find the requested resource", {}), "no such path")
        items = [i for i in items(state) if not info.namespace or i["metadata"].get("namespace") == info.namespace]
        if info.verb == "list":
            if info.name:  # fieldSelector=metadata.name=…
                items = [i for i in items if i["metadata"].get("name") == info.name]
            # The namespaced RoleBinding list has no page cap (as before).
            cap = None if (info.resource == "rolebindings" and info.namespace) else state.get("page_size_cap")
            return page(items, query, f"{kind}List", f"{RBAC}/v1", cap)
        if info.verb == "get":
            for item in items:
                if item["metadata"].get("name") == info.name:
                    return dict(item, kind=kind, apiVersion=f"{RBAC}/v1")
            raise not_found(info)
    if (info.verb, info.api_group, info.api_version, info.namespace, info.resource, info.name, info.subresource) == \
            ("get", "", "v1", "kube-system", "configmaps", "aws-auth", ""):
        data = state.get("aws_auth")
        if data is None:
            raise not_found(info)
        return {"kind": "ConfigMap", "apiVersion": "v1",
                "metadata": {"name": "aws-auth", "namespace": "kube-system", "resourceVersion": RESOURCE_VERSION,
                             "uid": "8f1d3c2e-0000-4000-8000-000000000001", "creationTimestamp": "2026-11-01T00:00:00Z"},
                "data": data}
    if info.verb == "list" and not info.subresource:
        return {"kind": LIST_KINDS.get((info.api_group, info.resource), "List"), "apiVersion": api_version(info),
                "metadata": {"resourceVersion": RESOURCE_VERSION}, "items": []}
    raise not_found(info)


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
            if self.command != "HEAD":
                self.wfile.write(data)

        def handle_any(self):
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)  # a body is never used: nothing is written
            url = urllib.parse.urlsplit(self.path)
            query = urllib.parse.parse_qs(url.query)
            record = {"method": self.command, "path": url.path, "query": url.query, "decision": None}
            try:
                try:
                    info = request_info(self.command, url.path, url.query)
                except BadRequestInfo as e:
                    raise Reject(500, status(500, "InternalError", f"failed to create RequestInfo: {e}"), "bad request info")
                resource = info.is_resource_request
                record.update(verb=info.verb, resource=info.resource if resource else None,
                              subresource=info.subresource if resource else None,
                              namespace=(info.namespace or None) if resource else None,
                              name=(info.name or None) if resource else None,
                              api_group=info.api_group if resource else None)
                state = server.state()
                arn = server.verify(self.headers.get("Authorization", ""), state, record)
                user, groups, via, entry = server.identity(arn, state)
                if "system:authenticated" not in groups:
                    groups = groups + ["system:authenticated"]
                record.update(user=user, groups=groups, via=via)
                decision = authorize(info, user, groups, state, lambda: server.associations(entry, record))
                record["decision"] = decision or "denied"
                if not decision:
                    raise forbidden(info, user)
                self.answer(200, serve(info, query, state), record)
            except Reject as reject:
                record["why"] = reject.why
                self.answer(reject.code, reject.status, record)

        do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any  # noqa: N815 - http.server's naming

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
