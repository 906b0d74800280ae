"""Checks the EventBridge pattern in template.yaml against sample CloudTrail events
with TestEventPattern on the running MiniStack (whose matcher follows AWS's rules:
exists on leaves only, prefix, $or). Exit status 1 on any mismatch.

Also replays the fixtures: every events/*.json (an event that must yield a finding)
must match; events/no-finding/*.json are only reported (the function may receive an
event and still find nothing).

    scripts/ministack start
    .tools/sam/bin/python scripts/local/check-event-pattern.py
"""
import json
import os
import pathlib
import sys

import boto3
from samcli.yamlhelper import yaml_parse

ROOT = pathlib.Path(__file__).resolve().parents[2]
endpoint = os.environ.get("AWS_ENDPOINT_URL") or (ROOT / ".tools/ministack.url").read_text().strip()
events = boto3.client("events", endpoint_url=endpoint, region_name="us-east-1",
                      aws_access_key_id="test", aws_secret_access_key="test")

template = yaml_parse((ROOT / "template.yaml").read_text())
patterns = [
    json.dumps(ev["Properties"]["Pattern"])
    for res in template["Resources"].values() if res["Type"] == "AWS::Serverless::Function"
    for ev in res["Properties"].get("Events", {}).values() if ev["Type"] == "EventBridgeRule"
]


def event(name, error=None, params="default", source="aws.eks",
          detail_type="AWS API Call via CloudTrail", event_source="eks.amazonaws.com"):
    detail = {"eventVersion": "1.09", "eventSource": event_source, "eventName": name,
              "awsRegion": "us-east-1",
              "requestParameters": {"name": "demo"} if params == "default" else params}
    if error:
        detail["errorCode"], detail["errorMessage"] = error, "message"
    return {"version": "0", "id": "00000000-0000-0000-0000-000000000001", "detail-type": detail_type,
            "source": source, "account": "111122223333", "time": "2026-01-01T00:00:00Z",
            "region": "us-east-1", "resources": [], "detail": detail}


GROUPS = {"clusterName": "demo", "principalArn": "arn:aws:iam::111122223333:role/r",
          "kubernetesGroups": ["system:masters"]}
CASES = [
    ("(a) CreateAccessEntry failed", event("CreateAccessEntry", "ResourceInUseException"), True),
    ("(a) UpdateAccessEntry failed", event("UpdateAccessEntry", "InvalidParameterException"), True),
    ("(a) DeleteAccessEntry failed, requestParameters null", event("DeleteAccessEntry", "ResourceNotFoundException", params=None), True),
    ("(a) AssociateAccessPolicy failed", event("AssociateAccessPolicy", "InvalidParameterException"), True),
    ("(a) DisassociateAccessPolicy failed", event("DisassociateAccessPolicy", "ResourceNotFoundException"), True),
    ("(a) CreateCluster failed", event("CreateCluster", "InvalidParameterException"), True),
    ("(-) DeleteAccessEntry succeeded", event("DeleteAccessEntry"), False),
    ("(-) CreateCluster succeeded", event("CreateCluster", params={"name": "x", "accessConfig": {"authenticationMode": "API"}}), False),
    ("(b) CreateAccessEntry succeeded with kubernetesGroups", event("CreateAccessEntry", params=GROUPS), True),
    ("(b) UpdateAccessEntry succeeded with kubernetesGroups", event("UpdateAccessEntry", params=GROUPS), True),
    ("(-) CreateAccessEntry succeeded without kubernetesGroups", event("CreateAccessEntry", params={"clusterName": "demo"}), False),
    ("(-) CreateAccessEntry succeeded with kubernetesGroups []", event("CreateAccessEntry", params={"clusterName": "demo", "kubernetesGroups": []}), False),
    ("(c) UpdateClusterConfig accessConfig succeeded", event("UpdateClusterConfig", params={"name": "demo", "accessConfig": {"authenticationMode": "API"}}), True),
    ("(c) UpdateClusterConfig accessConfig failed", event("UpdateClusterConfig", "InvalidRequestException", params={"name": "demo", "accessConfig": {"authenticationMode": "CONFIG_MAP"}}), True),
    ("(-) UpdateClusterConfig logging only", event("UpdateClusterConfig", params={"name": "demo", "logging": {"clusterLogging": []}}), False),
    ("(d) DescribeCluster AccessDenied", event("DescribeCluster", "AccessDenied"), True),
    ("(d) ListAccessEntries AccessDeniedException", event("ListAccessEntries", "AccessDeniedException"), True),
    ("(-) DescribeCluster ResourceNotFoundException", event("DescribeCluster", "ResourceNotFoundException"), False),
    ("(-) source aws.iam", event("CreateAccessEntry", "AccessDenied", source="aws.iam"), False),
    ("(-) other detail-type", event("CreateAccessEntry", "AccessDenied", detail_type="EKS Cluster State Change"), False),
    ("(-) other eventSource", event("CreateAccessEntry", "AccessDenied", event_source="iam.amazonaws.com"), False),
    ("(g) CreatePodIdentityAssociation failed", event("CreatePodIdentityAssociation", "InvalidParameterException"), True),
    ("(g) DeletePodIdentityAssociation failed", event("DeletePodIdentityAssociation", "ResourceNotFoundException"), True),
    ("(h) CreatePodIdentityAssociation succeeded", event("CreatePodIdentityAssociation"), True),
    ("(-) UpdatePodIdentityAssociation succeeded", event("UpdatePodIdentityAssociation"), False),
    ("(i) AssumeRoleForPodIdentity failed", event("AssumeRoleForPodIdentity", "AccessDenied", source="aws.eks-auth",
                                                  event_source="eks-auth.amazonaws.com"), True),
    ("(-) AssumeRoleForPodIdentity succeeded", event("AssumeRoleForPodIdentity", source="aws.eks-auth",
                                                     event_source="eks-auth.amazonaws.com"), False),
]


def matches(ev):
    return any(events.test_event_pattern(EventPattern=p, Event=json.dumps(ev))["Result"] for p in patterns)


bad = total = 0
for label, ev, want in CASES:
    got = matches(ev)
    total += 1
    bad += got != want
    print(f"{'ok ' if got == want else 'BAD'} {label}: matched={got}")
for path in sorted((ROOT / "events").glob("*.json")):
    got = matches(json.loads(path.read_text()))
    total += 1
    bad += not got
    print(f"{'ok ' if got else 'BAD'} fixture {path.relative_to(ROOT)}: matched={got}")
for path in sorted((ROOT / "events" / "no-finding").glob("*.json")):
    print(f"--- fixture {path.relative_to(ROOT)}: matched={matches(json.loads(path.read_text()))}")
print(f"{total - bad} passed, {bad} failed")
sys.exit(1 if bad else 0)
