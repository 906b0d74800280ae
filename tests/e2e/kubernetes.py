"""The Kubernetes side through the deployed function (issue 11), driven by e2e.py.

`setup` (during `e2e.py setup`) makes the cluster KUBE_CLUSTER in MiniStack's EKS
(API_AND_CONFIG_MAP, so aws-auth still counts), its IAM principals and access
entries, and writes the kube-apiserver stand-in's state (E2E_DIR/kube/state.json):
RBAC bindings, the read-only RBAC of deploy/kubernetes-reader.yaml as is, and an
aws-auth ConfigMap with three principals that have no access entry and one that has.
scripts/e2e then starts tests/e2e/kube_apiserver_standin.py on that state, with
MiniStack as its STS and EKS.

`check` gives the function's role (and the account root, MiniStack's identity for a
Lambda process) an access entry in `eks-access-doctor-readers`, turns the function's
Kubernetes access on with the stand-in as its endpoint (UpdateFunctionConfiguration,
as KubernetesAccess=true KubernetesEndpoint=… KubernetesCaData=… would; put back
afterwards, so the other checks see the stack as deployed), and checks:
- an entry whose group no binding names alerts `group-not-bound`, naming the bound
  group it was probably meant to be; a bound group sends nothing;
- a move to API names the three aws-auth-only principals, each with its command;
- the authenticator's `access granted` lines: bound groups send nothing, 1000 lines of
  an identity in an unbound group page once;
- every read went through a token the stand-in accepted only after MiniStack's STS
  answered the presigned GetCallerIdentity, and a request without one gets 401.
"""
import base64
import copy
import gzip
import json
import pathlib
import ssl
import time
import urllib.error
import urllib.request
import uuid

import yaml

KUBE_CLUSTER = "k8s-e2e"
READERS = "eks-access-doctor-readers"
ROOT = pathlib.Path(__file__).resolve().parents[2]
NODE_ROLE, SSO_ROLE, USER = "k8s-e2e-node-role", "AWSReservedSSO_K8sAdmins_0e2e5f2c9e1a7b3d", "oncall/k8s-dana"
SSO_PATH = "/aws-reserved/sso.amazonaws.com/us-east-1/"


def binding(kind, name, namespace, role, group):
    meta = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    return {"kind": kind, "apiVersion": "rbac.authorization.k8s.io/v1", "metadata": meta,
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": group}]}


def setup(client, account, kube_dir):
    eks, iam = client("eks"), client("iam")
    eks.create_cluster(
        name=KUBE_CLUSTER, roleArn=f"arn:aws:iam::{account}:role/eks-cluster-role",
        resourcesVpcConfig={"subnetIds": ["subnet-0e2e0001", "subnet-0e2e0002"]},
        accessConfig={"authenticationMode": "API_AND_CONFIG_MAP", "bootstrapClusterCreatorAdminPermissions": False},
    )
    trust = json.dumps({"Version": "2012-10-17", "Statement": []})
    for name, path in ((NODE_ROLE, "/"), (SSO_ROLE, SSO_PATH), ("k8s-e2e-platform", "/")):
        iam.create_role(RoleName=name, Path=path, AssumeRolePolicyDocument=trust)
    iam.create_user(UserName=USER.split("/")[1], Path="/oncall/")
    # The one aws-auth principal that also has an entry: not named.
    eks.create_access_entry(clusterName=KUBE_CLUSTER, principalArn=f"arn:aws:iam::{account}:role/k8s-e2e-platform",
                            kubernetesGroups=["platform-admins"])
    map_roles = (
        f"- rolearn: arn:aws:iam::{account}:role/{NODE_ROLE}\n  username: system:node:{{{{EC2PrivateDNSName}}}}\n"
        "  groups:\n    - system:bootstrappers\n    - system:nodes\n"
        f"- rolearn: arn:aws:iam::{account}:role/{SSO_ROLE}\n  username: k8s-admin:{{{{SessionName}}}}\n  groups:\n    - system:masters\n"
        f"- rolearn: arn:aws:iam::{account}:role/k8s-e2e-platform\n  username: platform\n  groups:\n    - platform-admins\n"
    )
    map_users = f"- userarn: arn:aws:iam::{account}:user/{USER}\n  username: dana\n  groups: [payments-oncall]\n"
    manifest = [d for d in yaml.safe_load_all((ROOT / "deploy" / "kubernetes-reader.yaml").read_text()) if d]
    of_kind = lambda *kinds: [d for d in manifest if d["kind"] in kinds]  # noqa: E731
    state = {
        "roles": of_kind("Role", "ClusterRole"),
        "clusterrolebindings": of_kind("ClusterRoleBinding") + [binding("ClusterRoleBinding", "platform-admins", None, "cluster-admin", "platform-admins")],
        "rolebindings": of_kind("RoleBinding") + [binding("RoleBinding", f"team-{i}", f"ns-{i}", "view", f"team-{i}") for i in range(5)]
        + [binding("RoleBinding", "readonly", "tools", "view", "readonly")],
        "aws_auth": {"mapRoles": map_roles, "mapUsers": map_users},
        "page_size_cap": 3,
        # MiniStack gives a Lambda process the account id as its access key and "test" as
        # its secret: with it the stand-in checks each token's SigV4 signature.
        "secrets": {account: "test"},
    }
    kube_dir.mkdir(parents=True, exist_ok=True)
    (kube_dir / "state.json").write_text(json.dumps(state, indent=1))


def wait_updated(lam, fn):
    for _ in range(100):
        if lam.get_function_configuration(FunctionName=fn).get("LastUpdateStatus") in ("Successful", None):
            return
        time.sleep(0.1)


def check(r, client, account, lam, fn, events_dir, kube_dir, sns_messages):
    """`sns_messages(want)`: the SNS messages delivered since the last call (at least `want`)."""
    t0 = time.monotonic()
    eks = client("eks")
    config = lam.get_function_configuration(FunctionName=fn)
    original = dict(config["Environment"]["Variables"])
    # Whichever identity the function's process has: its role, or (MiniStack's key) the account root.
    for principal in (config["Role"], f"arn:aws:iam::{account}:root"):
        try:
            eks.create_access_entry(clusterName=KUBE_CLUSTER, principalArn=principal, kubernetesGroups=[READERS])
        except eks.exceptions.ResourceInUseException:
            eks.update_access_entry(clusterName=KUBE_CLUSTER, principalArn=principal, kubernetesGroups=[READERS])
    url = (kube_dir / "url").read_text().strip()
    ca = (kube_dir / "ca.b64").read_text().strip()
    lam.update_function_configuration(FunctionName=fn, Environment={"Variables": dict(
        original, KUBERNETES_ACCESS="on", KUBERNETES_ENDPOINT=url, KUBERNETES_CA_DATA=ca, ENRICHMENT_TIMEOUT_MS="8000",
        AUDIT_CLUSTERS=KUBE_CLUSTER)})
    wait_updated(lam, fn)
    requests_before = len(requests(kube_dir))
    try:
        sns_messages(0)

        def invoke(event):
            resp = lam.invoke(FunctionName=fn, InvocationType="RequestResponse", Payload=json.dumps(event).encode())
            return json.loads(resp["Payload"].read() or b"{}")

        base = json.loads((events_dir / "group-not-bound.json").read_text())

        def entry_event(groups):
            event = copy.deepcopy(base)
            event["id"], event["detail"]["eventID"] = str(uuid.uuid4()), f"k8s-{uuid.uuid4()}"
            d = event["detail"]
            d["awsRegion"], d["recipientAccountId"], event["region"], event["account"] = "us-east-1", account, "us-east-1", account
            d["requestParameters"]["name"] = KUBE_CLUSTER
            d["requestParameters"]["principalArn"] = f"arn:aws:iam::{account}:role/k8s-e2e-{uuid.uuid4().hex[:8]}"
            d["requestParameters"]["kubernetesGroups"] = groups
            return event

        unbound = invoke(entry_event(["platform-admin", "readonly"]))
        r.check("kubernetes: an entry with an unbound group alerts group-not-bound",
                unbound.get("outcome") == "alerted" and "group-not-bound" in unbound.get("causes", []), unbound)
        got = sns_messages(1)
        text = next((m for m in got if "group-not-bound" in m), "")
        r.check("kubernetes: the alert names the unbound group and the bound one it was probably meant to be",
                "platform-admin" in text and "platform-admins" in text, text[:600])
        bound = invoke(entry_event(["platform-admins", "readonly"]))
        r.check("kubernetes: an entry whose groups are all bound sends nothing", bound.get("outcome") == "no_finding", bound)

        move = json.loads((events_dir / "aws-auth-principal-loses-access.json").read_text())
        move["id"], move["detail"]["eventID"] = str(uuid.uuid4()), f"k8s-move-{uuid.uuid4()}"
        move["detail"]["requestParameters"]["name"] = KUBE_CLUSTER
        move["detail"]["recipientAccountId"], move["account"] = account, account
        moved = invoke(move)
        r.check("kubernetes: a move to API with aws-auth-only principals alerts aws-auth-principal-loses-access",
                moved.get("outcome") == "alerted" and "aws-auth-principal-loses-access" in moved.get("causes", []), moved)
        got = sns_messages(1)
        text = next((m for m in got if "aws-auth-principal-loses-access" in m), "")
        lost = [f"role/{NODE_ROLE}", f"role{SSO_PATH}{SSO_ROLE}", f"user/{USER}"]
        commands = [line for line in text.splitlines() if "aws eks create-access-entry" in line]
        r.check("kubernetes: it names all three aws-auth-only principals (the SSO role with its path), each with its command",
                all(p in text for p in lost) and len(commands) >= 3 and "k8s-e2e-platform" not in "".join(commands),
                {"missing": [p for p in lost if p not in text], "commands": commands})
        r.check("kubernetes: the node role's command makes an EC2_LINUX entry",
                any(NODE_ROLE in c and "EC2_LINUX" in c for c in commands), commands)

        # The authenticator's `access granted` lines (a subscription batch, as CloudWatch
        # Logs invokes the function): groups bound → nothing; an unbound group → one alert
        # for 1000 lines, with the bound name it was probably meant to be.
        def subscription(lines):
            batch = {"messageType": "DATA_MESSAGE", "owner": account, "logGroup": f"/aws/eks/{KUBE_CLUSTER}/cluster",
                     "logStream": "authenticator-0e2e", "subscriptionFilters": ["eks-access-doctor-authenticator"],
                     "logEvents": [{"id": f"{uuid.uuid4().int % 10**56:056d}", "timestamp": int(time.time() * 1000), "message": line}
                                   for line in lines]}
            return {"awslogs": {"data": base64.b64encode(gzip.compress(json.dumps(batch).encode())).decode()}}

        def granted(role, groups):
            when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            return (f'time="{when}" level=info msg="access granted" arn="arn:aws:iam::{account}:role/{role}" client="127.0.0.1:51880" '
                    f'groups="[{groups}]" method=POST path=/authenticate uid="aws-iam-authenticator:{account}:AROAE2E" username={role}')

        ok = invoke(subscription([granted("k8s-e2e-platform", "platform-admins system:authenticated")] * 5))
        r.check("kubernetes: access-granted lines whose groups are bound send nothing",
                ok.get("outcome") == "log_batch" and ok.get("alerts") == 0 and ok.get("ignored") == 5, ok)
        typo = invoke(subscription([granted("k8s-e2e-typo", "platform-admin")] * 1000))
        r.check("kubernetes: 1000 access-granted lines with an unbound group page once",
                typo.get("alerts") == 1 and typo.get("repeats_in_alerts") == 999 and typo.get("causes") == ["group-not-bound"], typo)
        text = next((m for m in sns_messages(1) if "group-not-bound" in m), "")
        r.check("kubernetes: the access-granted alert names the bound group", 'Did you mean the bound group "platform-admins"' in text, text[:600])

        # The scheduled audit (the schedule's event, as EventBridge sends it): the first
        # run alerts each flag of the cluster once; the next, with nothing changed, nothing.
        def schedule():
            return {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
                    "account": account, "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "region": "us-east-1",
                    "resources": [f"arn:aws:events:us-east-1:{account}:rule/eks-access-doctor-audit"], "detail": {}}

        first = invoke(schedule())
        r.check("kubernetes: the scheduled audit reads the cluster and alerts each flag once",
                first.get("outcome") == "audited" and first.get("clusters") == 1 and first.get("unread") == []
                and first.get("alerted", 0) >= 1 and first.get("alerted") == first.get("new"), first)
        got = sns_messages(first.get("alerted", 1))
        flagged = [m for m in got if "audit-flag" in m]
        r.check("kubernetes: each audit alert names its flag and the cluster",
                len(flagged) >= first.get("alerted", 1) and all(KUBE_CLUSTER in m for m in flagged), [m[:300] for m in got[:3]])
        second = invoke(schedule())
        r.check("kubernetes: the next scheduled run, nothing changed, sends nothing",
                second.get("outcome") == "audited" and second.get("new") == 0 and second.get("alerted") == 0
                and second.get("flags") == first.get("flags"), second)

        seen = requests(kube_dir)[requests_before:]
        r.check(f"kubernetes: the function read the API ({len(seen)} requests), every token's signature checked and accepted through MiniStack's STS",
                bool(seen) and all(q.get("code") == 200 and q.get("sts_status") == 200 and q.get("signature") == "checked" for q in seen),
                [q for q in seen if q.get("code") != 200 or q.get("sts_status") != 200][:3])
        paths = {q["path"].split("?")[0] for q in seen}
        r.check("kubernetes: rolebindings, clusterrolebindings, roles, clusterroles and the aws-auth ConfigMap were read (pages followed)",
                {"/apis/rbac.authorization.k8s.io/v1/rolebindings", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
                 "/apis/rbac.authorization.k8s.io/v1/roles", "/apis/rbac.authorization.k8s.io/v1/clusterroles",
                 "/api/v1/namespaces/kube-system/configmaps/aws-auth"} <= paths
                and sum(1 for q in seen if "continue=" in q.get("query", "")) > 0, sorted(paths))
        context = ssl.create_default_context(cadata=(kube_dir / "ca.pem").read_text())
        try:
            urllib.request.urlopen(url + "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", context=context, timeout=10)
            status, body = 200, {}
        except urllib.error.HTTPError as e:
            status, body = e.code, json.loads(e.read() or b"{}")
        r.check("kubernetes: a request without a token gets 401 with a Status body",
                status == 401 and body.get("kind") == "Status" and body.get("reason") == "Unauthorized", (status, body))
    finally:
        lam.update_function_configuration(FunctionName=fn, Environment={"Variables": original})
        wait_updated(lam, fn)
    print(f"# kubernetes checks: {time.monotonic() - t0:.1f}s")


def requests(kube_dir):
    path = kube_dir / "requests.ndjson"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
