"""The Python baseline for the cold-start bench: what a boto3 Lambda function of the
same shape does at init (boto3 clients for EKS, IAM and SNS) and per event (one EKS
and one IAM lookup, one Slack post), polling the Runtime API with urllib as the
awslambdaric loop would. No diagnosis: the baseline is the platform cost alone."""

import json
import os
import urllib.request

import boto3

session = boto3.session.Session()
eks = session.client("eks")
iam = session.client("iam")
sns = session.client("sns")
WEBHOOK = os.environ.get("SLACK_WEBHOOK_URL")
API = "http://%s/2018-06-01/runtime" % os.environ["AWS_LAMBDA_RUNTIME_API"]


def handle(event):
    detail = event.get("detail", {})
    params = detail.get("requestParameters") or {}
    cluster = params.get("name") or params.get("clusterName")
    facts = {}
    try:
        facts["cluster"] = eks.describe_cluster(name=cluster)["cluster"]["status"]
    except Exception as e:  # noqa: BLE001 - a failed lookup is a note, as in the function
        facts["cluster_error"] = type(e).__name__
    principal = params.get("principalArn", "")
    try:
        facts["role"] = iam.get_role(RoleName=principal.rsplit("/", 1)[-1])["Role"]["Arn"]
    except Exception as e:  # noqa: BLE001
        facts["role_error"] = type(e).__name__
    if WEBHOOK:
        body = json.dumps({"text": "%s failed: %s" % (detail.get("eventName"), detail.get("errorMessage"))}).encode()
        req = urllib.request.Request(WEBHOOK, body, {"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=5).read()
    return {"event_id": detail.get("eventID"), "facts": facts}


while True:
    with urllib.request.urlopen(API + "/invocation/next") as r:
        request_id = r.headers["Lambda-Runtime-Aws-Request-Id"]
        event = json.loads(r.read())
    result = json.dumps(handle(event)).encode()
    urllib.request.urlopen(urllib.request.Request(API + "/invocation/%s/response" % request_id, result, method="POST")).read()
