"""Unit checks of the kube-apiserver stand-in's authorization (no MiniStack, no network).

    python3 tests/e2e/standin_selftest.py       (or .tools/sam/bin/python …)

Checks kube_apiserver_standin.py's request attributes (RequestInfoFactory), RBAC rule
matching and binding resolution, EKS access-policy scopes and rules, the served role
lists and the API server's Forbidden/NotFound wording. With the EKS user guide mirror
present (/work/.mirror/awsdocs+amazon-eks-user-guide/repo, or $EKS_USER_GUIDE_REPO),
the access-policy tables are also compared with the reference page, row by row.
Prints `ok N checks` and exits 0, or lists the failures and exits 1.
"""
import os
import pathlib
import re
import subprocess
import sys
import traceback

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import kube_apiserver_standin as k  # noqa: E402

CHECKS = []


def check(fn):
    CHECKS.append(fn)
    return fn


def info(method, path, query=""):
    return k.request_info(method, path, query)


def attrs(i):
    return (i.is_resource_request, i.verb, i.api_group, i.api_version, i.namespace, i.resource, i.subresource, i.name)


# --- RequestInfo -------------------------------------------------------------------------
@check
def core_list_all_namespaces():
    assert attrs(info("GET", "/api/v1/pods")) == (True, "list", "", "v1", "", "pods", "", "")


@check
def grouped_namespaced_get():
    assert attrs(info("GET", "/apis/apps/v1/namespaces/dev/deployments/web")) == (True, "get", "apps", "v1", "dev", "deployments", "", "web")


@check
def subresource():
    assert attrs(info("GET", "/api/v1/namespaces/dev/pods/web-0/log")) == (True, "get", "", "v1", "dev", "pods", "log", "web-0")
    assert attrs(info("PUT", "/apis/apps/v1/namespaces/dev/deployments/web/scale")) == (True, "update", "apps", "v1", "dev", "deployments", "scale", "web")


@check
def watch_parameter():
    assert info("GET", "/api/v1/namespaces/dev/pods", "watch=true").verb == "watch"
    assert info("GET", "/api/v1/namespaces/dev/pods", "watch=1").verb == "watch"
    assert info("GET", "/api/v1/namespaces/dev/pods", "watch=false").verb == "list"
    assert info("GET", "/api/v1/namespaces/dev/pods", "watch=0").verb == "list"
    # a named GET stays a get whatever the parameter says
    assert info("GET", "/api/v1/namespaces/dev/pods/p", "watch=true").verb == "get"


@check
def watch_special_verb_path():
    assert attrs(info("GET", "/apis/apps/v1/watch/namespaces/dev/deployments")) == (True, "watch", "apps", "v1", "dev", "deployments", "", "")


@check
def proxy_has_no_subresource():
    i = info("GET", "/api/v1/proxy/namespaces/dev/services/web/some/path")
    assert (i.verb, i.resource, i.name, i.subresource) == ("proxy", "services", "web", "")


@check
def methods_to_verbs():
    assert info("POST", "/api/v1/namespaces/dev/configmaps").verb == "create"
    assert info("PUT", "/api/v1/namespaces/dev/configmaps/c").verb == "update"
    assert info("PATCH", "/api/v1/namespaces/dev/configmaps/c").verb == "patch"
    assert info("DELETE", "/api/v1/namespaces/dev/configmaps/c").verb == "delete"
    assert info("HEAD", "/api/v1/namespaces/dev/configmaps/c").verb == "get"


@check
def deletecollection():
    assert attrs(info("DELETE", "/apis/batch/v1/namespaces/dev/jobs")) == (True, "deletecollection", "batch", "v1", "dev", "jobs", "", "")


@check
def namespace_object():
    assert attrs(info("GET", "/api/v1/namespaces/dev")) == (True, "get", "", "v1", "dev", "namespaces", "", "dev")
    assert attrs(info("PUT", "/api/v1/namespaces/dev/finalize")) == (True, "update", "", "v1", "dev", "namespaces", "finalize", "dev")
    assert attrs(info("GET", "/api/v1/namespaces")) == (True, "list", "", "v1", "", "namespaces", "", "")


@check
def cluster_scoped_grouped():
    assert attrs(info("GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles/view")) == \
        (True, "get", "rbac.authorization.k8s.io", "v1", "", "clusterroles", "", "view")


@check
def non_resource_urls():
    for path in ("/healthz", "/version", "/api", "/api/v1", "/apis", "/apis/apps/v1", "/openapi/v2"):
        i = info("GET", path)
        assert not i.is_resource_request and i.verb == "get", (path, i)
    assert info("POST", "/healthz").verb == "post"


@check
def field_selector_name():
    i = info("GET", "/api/v1/namespaces/kube-system/configmaps", "fieldSelector=metadata.name%3Daws-auth")
    assert (i.verb, i.name) == ("list", "aws-auth")
    assert info("GET", "/api/v1/namespaces/kube-system/configmaps", "fieldSelector=metadata.name!=x").name == ""


# --- RBAC ----------------------------------------------------------------------------------
def binding(kind, name, namespace, role_kind, role, subjects):
    meta = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    return {"kind": kind, "metadata": meta, "roleRef": {"apiGroup": k.RBAC, "kind": role_kind, "name": role}, "subjects": subjects}


def role(kind, name, rules, namespace=None, **extra):
    meta = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    return dict({"kind": kind, "metadata": meta, "rules": rules}, **extra)


def group(name):
    return {"kind": "Group", "apiGroup": k.RBAC, "name": name}


def allowed(method, path, user="alice", groups=("system:authenticated",), state=None, query=""):
    return k.authorize(info(method, path, query), user, list(groups), state or {})


@check
def star_slash_subresource():
    rule = {"apiGroups": ["apps"], "resources": ["*/scale"], "verbs": ["update"]}
    assert k.rule_allows(info("PUT", "/apis/apps/v1/namespaces/d/deployments/web/scale"), rule)
    assert not k.rule_allows(info("PUT", "/apis/apps/v1/namespaces/d/deployments/web"), rule)
    assert not k.rule_allows(info("PUT", "/apis/apps/v1/namespaces/d/deployments/web/status"), rule)


@check
def resource_subresource_exact():
    rule = {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]}
    assert k.rule_allows(info("GET", "/api/v1/namespaces/d/pods/p/log"), rule)
    assert not k.rule_allows(info("GET", "/api/v1/namespaces/d/pods/p"), rule)


@check
def resource_names():
    rule = {"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["aws-auth"], "verbs": ["get", "list"]}
    assert k.rule_allows(info("GET", "/api/v1/namespaces/kube-system/configmaps/aws-auth"), rule)
    assert not k.rule_allows(info("GET", "/api/v1/namespaces/kube-system/configmaps/other"), rule)
    assert not k.rule_allows(info("GET", "/api/v1/namespaces/kube-system/configmaps"), rule), "a list has no name"


@check
def verbs_and_groups():
    rule = {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get"]}
    assert not k.rule_allows(info("GET", "/apis/extensions/v1beta1/namespaces/d/deployments/x"), rule)
    assert not k.rule_allows(info("DELETE", "/apis/apps/v1/namespaces/d/deployments/x"), rule)
    assert k.rule_allows(info("GET", "/apis/apps/v1/namespaces/d/deployments/x"), {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]})


@check
def non_resource_url_rules():
    rule = {"nonResourceURLs": ["/healthz*"], "verbs": ["get"]}
    assert k.rule_allows(info("GET", "/healthz/etcd"), rule)
    assert k.rule_allows(info("GET", "/healthz"), rule)
    assert not k.rule_allows(info("GET", "/version"), rule)
    assert not k.rule_allows(info("GET", "/api/v1/pods"), rule), "a nonResourceURLs rule never allows a resource"
    assert not k.rule_allows(info("GET", "/healthz"), {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]})


@check
def rolebinding_to_clusterrole_is_namespace_limited():
    state = {"roles": [role("ClusterRole", "pod-reader", [{"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]}])],
             "rolebindings": [binding("RoleBinding", "read", "dev", "ClusterRole", "pod-reader", [group("team")])]}
    assert allowed("GET", "/api/v1/namespaces/dev/pods", groups=["team"], state=state) == "rbac: RoleBinding dev/read"
    assert allowed("GET", "/api/v1/namespaces/prod/pods", groups=["team"], state=state) is None
    assert allowed("GET", "/api/v1/pods", groups=["team"], state=state) is None


@check
def role_only_from_its_own_namespace():
    rules = [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}]
    state = {"roles": [role("Role", "r", rules, "other")],
             "rolebindings": [binding("RoleBinding", "b", "dev", "Role", "r", [group("team")])],
             "clusterrolebindings": [binding("ClusterRoleBinding", "c", None, "Role", "r", [group("team")])]}
    assert allowed("GET", "/api/v1/namespaces/dev/secrets/s", groups=["team"], state=state) is None
    state["roles"].append(role("Role", "r", rules, "dev"))
    assert allowed("GET", "/api/v1/namespaces/dev/secrets/s", groups=["team"], state=state) == "rbac: RoleBinding dev/b"
    assert allowed("GET", "/api/v1/namespaces/other/secrets/s", groups=["team"], state=state) is None, \
        "a ClusterRoleBinding's Role reference resolves to nothing"


@check
def user_subject():
    state = {"clusterrolebindings": [binding("ClusterRoleBinding", "ops", None, "ClusterRole", "cluster-admin",
                                             [{"kind": "User", "apiGroup": k.RBAC, "name": "alice"}])]}
    assert allowed("DELETE", "/api/v1/nodes/n", user="alice", state=state) == "rbac: ClusterRoleBinding ops"
    assert allowed("DELETE", "/api/v1/nodes/n", user="bob", state=state) is None


@check
def service_account_subject():
    sa = "system:serviceaccount:dev:builder"
    rules = [{"apiGroups": [""], "resources": ["pods"], "verbs": ["create"]}]
    state = {"roles": [role("ClusterRole", "creator", rules)],
             "rolebindings": [binding("RoleBinding", "b", "dev", "ClusterRole", "creator", [{"kind": "ServiceAccount", "name": "builder"}])],
             "clusterrolebindings": [binding("ClusterRoleBinding", "c", None, "ClusterRole", "creator", [{"kind": "ServiceAccount", "name": "builder"}])]}
    assert allowed("POST", "/api/v1/namespaces/dev/pods", user=sa, state=state) == "rbac: RoleBinding dev/b"
    assert allowed("POST", "/api/v1/namespaces/prod/pods", user=sa, state=state) is None, "a ClusterRoleBinding's SA needs a namespace"
    state["clusterrolebindings"][0]["subjects"][0]["namespace"] = "dev"
    assert allowed("POST", "/api/v1/namespaces/prod/pods", user=sa, state=state) == "rbac: ClusterRoleBinding c"
    assert allowed("POST", "/api/v1/namespaces/prod/pods", user="system:serviceaccount:prod:builder", state=state) is None


@check
def system_authenticated_group():
    rules = [{"nonResourceURLs": ["/version", "/healthz"], "verbs": ["get"]}]
    state = {"roles": [role("ClusterRole", "system:public-info-viewer", rules)],
             "clusterrolebindings": [binding("ClusterRoleBinding", "public", None, "ClusterRole", "system:public-info-viewer",
                                             [group("system:authenticated")])]}
    assert allowed("GET", "/version", state=state) == "rbac: ClusterRoleBinding public"
    assert allowed("GET", "/version", groups=[], state=state) is None
    assert allowed("GET", "/metrics", state=state) is None


@check
def cluster_admin_built_in_unless_stored():
    state = {"clusterrolebindings": [binding("ClusterRoleBinding", "admins", None, "ClusterRole", "cluster-admin", [group("admins")])]}
    assert allowed("DELETE", "/api/v1/namespaces/d/secrets", groups=["admins"], state=state) == "rbac: ClusterRoleBinding admins"
    assert allowed("GET", "/metrics", groups=["admins"], state=state) == "rbac: ClusterRoleBinding admins"
    state["roles"] = [role("ClusterRole", "cluster-admin", [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}])]
    assert allowed("DELETE", "/api/v1/namespaces/d/secrets", groups=["admins"], state=state) is None


@check
def aggregated_clusterrole_as_stored():
    state = {"roles": [role("ClusterRole", "monitoring", [], aggregationRule={"clusterRoleSelectors": [{"matchLabels": {"x": "y"}}]}),
                       role("ClusterRole", "part", [{"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]}], labels={"x": "y"})],
             "clusterrolebindings": [binding("ClusterRoleBinding", "m", None, "ClusterRole", "monitoring", [group("mon")])]}
    assert allowed("GET", "/api/v1/pods", groups=["mon"], state=state) is None
    state["roles"][0]["rules"] = [{"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]}]
    assert allowed("GET", "/api/v1/pods", groups=["mon"], state=state) == "rbac: ClusterRoleBinding m"


@check
def system_masters_always():
    assert allowed("DELETE", "/api/v1/nodes/n", groups=["system:masters"]) == "system:masters"
    assert allowed("GET", "/anything", groups=["system:masters"]) == "system:masters"


@check
def reader_manifest_as_deployed():
    """deploy/kubernetes-reader.yaml's rules, transcribed: list bindings, get aws-auth, nothing else."""
    state = {"roles": [role("ClusterRole", "eks-access-doctor-reader",
                            [{"apiGroups": [k.RBAC], "resources": ["rolebindings", "clusterrolebindings"], "verbs": ["list"]}]),
                       role("Role", "eks-access-doctor-aws-auth-reader",
                            [{"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["aws-auth"], "verbs": ["get"]}], "kube-system")],
             "clusterrolebindings": [binding("ClusterRoleBinding", "eks-access-doctor-reader", None, "ClusterRole",
                                             "eks-access-doctor-reader", [group("eks-access-doctor-readers")])],
             "rolebindings": [binding("RoleBinding", "eks-access-doctor-aws-auth-reader", "kube-system", "Role",
                                      "eks-access-doctor-aws-auth-reader", [group("eks-access-doctor-readers")])]}
    g = ["eks-access-doctor-readers", "system:authenticated"]
    assert allowed("GET", "/apis/rbac.authorization.k8s.io/v1/rolebindings", groups=g, state=state)
    assert allowed("GET", "/apis/rbac.authorization.k8s.io/v1/namespaces/x/rolebindings", groups=g, state=state)
    assert allowed("GET", "/api/v1/namespaces/kube-system/configmaps/aws-auth", groups=g, state=state) == \
        "rbac: RoleBinding kube-system/eks-access-doctor-aws-auth-reader"
    assert allowed("GET", "/api/v1/namespaces/kube-system/configmaps", groups=g, state=state) is None
    assert allowed("GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles", groups=g, state=state) is None
    assert allowed("GET", "/apis/rbac.authorization.k8s.io/v1/rolebindings", groups=g, state=state, query="watch=true") is None


# --- access policies -------------------------------------------------------------------------
def association(policy, scope="cluster", namespaces=None):
    scope_doc = {"type": scope}
    if namespaces is not None:
        scope_doc["namespaces"] = namespaces
    return {"policyArn": f"arn:aws:eks::aws:cluster-access-policy/{policy}", "accessScope": scope_doc}


def by_policy(method, path, *associations, query=""):
    return k.access_policy_decision(info(method, path, query), list(associations))


@check
def cluster_scope():
    assert by_policy("GET", "/api/v1/nodes", association("AmazonEKSViewPolicy")) is None, "View has no nodes"
    assert by_policy("GET", "/api/v1/namespaces", association("AmazonEKSViewPolicy")) == "access policy AmazonEKSViewPolicy (cluster scope)"
    assert by_policy("GET", "/api/v1/pods", association("AmazonEKSViewPolicy")) == "access policy AmazonEKSViewPolicy (cluster scope)"
    assert by_policy("GET", "/healthz", association("AmazonEKSClusterAdminPolicy")) == "access policy AmazonEKSClusterAdminPolicy (cluster scope)"
    assert by_policy("GET", "/healthz", association("AmazonEKSAdminViewPolicy")) is None, "AdminView has no nonResourceURLs"


@check
def namespace_scope():
    view = association("AmazonEKSViewPolicy", "namespace", ["dev", "tools"])
    assert by_policy("GET", "/api/v1/namespaces/dev/pods", view) == "access policy AmazonEKSViewPolicy (namespace scope)"
    assert by_policy("GET", "/api/v1/namespaces/tools/pods/p", view)
    assert by_policy("GET", "/api/v1/namespaces/prod/pods", view) is None
    assert by_policy("GET", "/api/v1/pods", view) is None, "a list across namespaces is not in a namespace"
    assert by_policy("GET", "/api/v1/namespaces/dev", view), "the namespace object itself: RequestInfo gives it namespace dev"


@check
def namespace_wildcard():
    edit = association("AmazonEKSEditPolicy", "namespace", ["dev-*"])
    assert by_policy("POST", "/apis/apps/v1/namespaces/dev-a/deployments", edit) == "access policy AmazonEKSEditPolicy (namespace scope)"
    assert by_policy("POST", "/apis/apps/v1/namespaces/dev-/deployments", edit)
    assert by_policy("POST", "/apis/apps/v1/namespaces/dev/deployments", edit) is None
    assert by_policy("POST", "/apis/apps/v1/namespaces/prod-dev-a/deployments", edit) is None
    assert k.namespace_matches("*", "anything") and k.namespace_matches("a*b*c", "aXbYc") and not k.namespace_matches("a.b", "aXb")


@check
def cluster_scoped_resource_under_namespace_scope():
    admin = association("AmazonEKSClusterAdminPolicy", "namespace", ["*"])
    assert by_policy("GET", "/api/v1/namespaces/dev/secrets", admin)
    assert by_policy("GET", "/api/v1/nodes", admin) is None
    assert by_policy("DELETE", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/x", admin) is None
    assert by_policy("GET", "/healthz", admin) is None
    assert by_policy("GET", "/api/v1/namespaces", admin) is None


@check
def view_does_not_read_secrets_adminview_does():
    for scope in (association("AmazonEKSViewPolicy"), association("AmazonEKSViewPolicy", "namespace", ["dev"])):
        assert by_policy("GET", "/api/v1/namespaces/dev/secrets/s", scope) is None
        assert by_policy("GET", "/api/v1/namespaces/dev/secrets", scope) is None
    assert by_policy("GET", "/api/v1/namespaces/dev/secrets/s", association("AmazonEKSAdminViewPolicy")) == \
        "access policy AmazonEKSAdminViewPolicy (cluster scope)"
    assert by_policy("GET", "/api/v1/namespaces/dev/secrets", association("AmazonEKSAdminViewPolicy", "namespace", ["dev"]))
    assert by_policy("DELETE", "/api/v1/namespaces/dev/secrets/s", association("AmazonEKSAdminViewPolicy")) is None


@check
def view_reads_but_never_writes():
    view = association("AmazonEKSViewPolicy")
    assert by_policy("GET", "/apis/apps/v1/namespaces/d/deployments/x/scale", view)
    assert by_policy("GET", "/api/v1/namespaces/d/pods/p/log", view)
    assert by_policy("GET", "/api/v1/namespaces/d/pods/p/exec", view) is None
    assert by_policy("PATCH", "/apis/apps/v1/namespaces/d/deployments/x", view) is None
    assert by_policy("GET", "/apis/rbac.authorization.k8s.io/v1/rolebindings", view) is None


@check
def edit_and_admin_differ_on_rbac():
    path = "/apis/rbac.authorization.k8s.io/v1/namespaces/d/rolebindings"
    assert by_policy("POST", path, association("AmazonEKSEditPolicy")) is None
    assert by_policy("POST", path, association("AmazonEKSAdminPolicy", "namespace", ["d"])) == "access policy AmazonEKSAdminPolicy (namespace scope)"
    assert by_policy("POST", "/apis/authorization.k8s.io/v1/namespaces/d/localsubjectaccessreviews", association("AmazonEKSAdminPolicy"))
    assert by_policy("POST", "/apis/authorization.k8s.io/v1/namespaces/d/localsubjectaccessreviews", association("AmazonEKSEditPolicy")) is None
    assert by_policy("POST", "/api/v1/namespaces/d/serviceaccounts", association("AmazonEKSEditPolicy"))


@check
def other_policies_grant_nothing():
    assert by_policy("GET", "/api/v1/nodes", association("AmazonEKSHybridPolicy")) is None
    assert by_policy("GET", "/api/v1/pods", association("AmazonEKSAutoNodePolicy")) is None


@check
def several_associations_union():
    a = [association("AmazonEKSViewPolicy", "namespace", ["dev"]), association("AmazonEKSAdminViewPolicy", "namespace", ["ops"])]
    assert by_policy("GET", "/api/v1/namespaces/ops/secrets", *a) == "access policy AmazonEKSAdminViewPolicy (namespace scope)"
    assert by_policy("GET", "/api/v1/namespaces/dev/secrets", *a) is None


@check
def union_order_and_lazy_associations():
    calls = []

    def lazily():
        calls.append(1)
        return [association("AmazonEKSViewPolicy")]

    state = {"clusterrolebindings": [binding("ClusterRoleBinding", "a", None, "ClusterRole", "cluster-admin", [group("admins")])]}
    assert k.authorize(info("GET", "/api/v1/pods"), "u", ["admins"], state, lazily) == "rbac: ClusterRoleBinding a"
    assert not calls, "associations are read only when RBAC does not allow"
    assert k.authorize(info("GET", "/api/v1/pods"), "u", ["x"], state, lazily) == "access policy AmazonEKSViewPolicy (cluster scope)"
    assert k.authorize(info("GET", "/api/v1/secrets"), "u", ["x"], state, lazily) is None


# --- served reads and wording -------------------------------------------------------------------
ROLES_STATE = {"roles": [role("ClusterRole", f"c{i}", []) for i in range(5)]
               + [role("Role", "r1", [], "b"), role("Role", "r0", [], "a"), role("Role", "r2", [], "b")],
               "page_size_cap": 2}


@check
def role_lists_typed_and_paged():
    out = k.serve(info("GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles"), {}, ROLES_STATE)
    assert (out["kind"], out["apiVersion"], len(out["items"]), out["metadata"]["remainingItemCount"]) == \
        ("ClusterRoleList", "rbac.authorization.k8s.io/v1", 2, 3)
    assert "kind" not in out["items"][0]
    token = out["metadata"]["continue"]
    more = k.serve(info("GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles"), {"continue": [token]}, ROLES_STATE)
    assert [i["metadata"]["name"] for i in more["items"]] == ["c2", "c3"]
    everywhere = k.serve(info("GET", "/apis/rbac.authorization.k8s.io/v1/roles"), {"limit": ["10"]}, dict(ROLES_STATE, page_size_cap=None))
    assert everywhere["kind"] == "RoleList" and [i["metadata"]["name"] for i in everywhere["items"]] == ["r0", "r1", "r2"]
    in_b = k.serve(info("GET", "/apis/rbac.authorization.k8s.io/v1/namespaces/b/roles"), {}, dict(ROLES_STATE, page_size_cap=None))
    assert [i["metadata"]["name"] for i in in_b["items"]] == ["r1", "r2"]
    one = k.serve(info("GET", "/apis/rbac.authorization.k8s.io/v1/namespaces/b/roles/r2"), {}, ROLES_STATE)
    assert (one["kind"], one["metadata"]["name"]) == ("Role", "r2")


@check
def unserved_answers():
    assert k.serve(info("GET", "/apis/apps/v1/namespaces/d/deployments"), {}, {}) == \
        {"kind": "DeploymentList", "apiVersion": "apps/v1", "metadata": {"resourceVersion": k.RESOURCE_VERSION}, "items": []}
    assert k.serve(info("GET", "/apis/example.com/v1/widgets"), {}, {})["kind"] == "List"
    assert k.serve(info("GET", "/healthz"), {}, {}) == {}
    try:
        k.serve(info("GET", "/apis/apps/v1/namespaces/d/deployments/web"), {}, {})
        raise AssertionError("no 404")
    except k.Reject as r:
        assert (r.code, r.status["reason"], r.status["message"]) == (404, "NotFound", 'deployments.apps "web" not found')
    try:
        k.serve(info("GET", "/api/v1/namespaces/kube-system/configmaps/aws-auth"), {}, {"aws_auth": None})
        raise AssertionError("no 404")
    except k.Reject as r:
        assert r.status["message"] == 'configmaps "aws-auth" not found' and r.status["details"] == {"kind": "configmaps", "name": "aws-auth"}


@check
def forbidden_wording():
    r = k.forbidden(info("GET", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings"), "arn:x")
    assert r.status["message"] == ('clusterrolebindings.rbac.authorization.k8s.io is forbidden: User "arn:x" cannot list resource '
                                   '"clusterrolebindings" in API group "rbac.authorization.k8s.io" at the cluster scope')
    r = k.forbidden(info("GET", "/api/v1/namespaces/d/pods/p/log"), "u")
    assert r.status["message"] == 'pods "p" is forbidden: User "u" cannot get resource "pods/log" in API group "" in the namespace "d"'
    assert r.status["details"] == {"kind": "pods", "name": "p"}
    r = k.forbidden(info("GET", "/healthz"), "u")
    assert (r.code, r.status["message"]) == (403, 'forbidden: User "u" cannot get path "/healthz"')


# --- the transcription against the reference page -------------------------------------------
def reference_tables():
    """{policy: [(groups, resources, verbs, non_resource_urls)]} from access-policy-reference.adoc, or None."""
    repo = os.environ.get("EKS_USER_GUIDE_REPO", "/work/.mirror/awsdocs+amazon-eks-user-guide/repo")
    try:
        text = subprocess.run(["git", "-C", repo, "show", "HEAD:latest/ug/manage-access/k8s-access/access-policy-reference.adoc"],
                              capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    tables = {}
    for section in re.split(r"\n== ", text)[1:]:
        name = section.splitlines()[0].strip()
        if name not in k.ACCESS_POLICIES:
            continue
        body = section.split("|===", 2)[1]
        header, _, rows = body.partition("\n\n\n")
        columns = [c.strip() for c in header.strip().splitlines() if c.startswith("|")]
        cells = [c.strip() for c in rows.split("\n") if c.startswith("|")]
        clean = lambda c: [v.strip() for v in c.lstrip("|").replace("`", "").replace("\\", "").split(",") if v.strip()]  # noqa: E731
        out = []
        for i in range(0, len(cells), len(columns)):
            row = dict(zip(columns, (clean(c) for c in cells[i:i + len(columns)])))
            resources = row.get("|Kubernetes resources", [])
            out.append((row.get("|Kubernetes API groups") or ([""] if resources else []), resources,
                        row["|Kubernetes verbs (permissions)"], row.get("|Kubernetes nonResourceURLs", [])))
        tables[name] = out
    return tables


@check
def transcription_matches_reference_page():
    tables = reference_tables()
    if tables is None:
        print("note: the EKS user guide mirror is absent; the transcription was not compared with the page")
        return
    assert set(tables) == set(k.ACCESS_POLICIES), sorted(tables)
    for name, rows in tables.items():
        ours = [(r.get("apiGroups", []), r.get("resources", []), r["verbs"], r.get("nonResourceURLs", [])) for r in k.ACCESS_POLICIES[name]]
        assert len(ours) == len(rows), (name, len(ours), len(rows))
        for i, (mine, page) in enumerate(zip(ours, rows)):
            assert mine == page, (name, i, mine, page)


def main():
    failures = 0
    for fn in CHECKS:
        try:
            fn()
        except Exception:  # noqa: BLE001 - report every failing check
            failures += 1
            print(f"FAIL {fn.__name__}")
            traceback.print_exc()
    if failures:
        print(f"{failures} of {len(CHECKS)} checks failed")
        return 1
    print(f"ok {len(CHECKS)} checks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
