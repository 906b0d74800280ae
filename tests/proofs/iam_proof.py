"""IAM policy proof: every IAM policy document the tool prints, judged by two maintained
IAM linters that carry IAM's own definitions (the Service Authorization Reference as
scraped by each project), plus a least-privilege sanity check.

    scripts/tools proofs
    .tools/proofs/bin/python tests/proofs/iam_proof.py CLI_BINARY

Policies come from tests/proofs/collect.py: each finding's `iam_policy`, and every
command argument that is (or, after `--flag=`, holds) a JSON object with a `Statement`.
An argument that starts like a policy but is not valid JSON is judged too (malformed).
A role trust policy (`create-role --assume-role-policy-document`, `update-assume-role-policy
--policy-document`) is judged as one (judge_trust): parliament, policy_sentry's actions,
and the rules of trust policies (a Principal and no Resource, only STS's role actions).

Each distinct document is judged by
  (a) parliament's analyze_policy_string: any finding that means a wrong policy fails it;
  (b) policy_sentry's bundled database, independently: every action exists, every
      condition key applies to every action of its statement (listed for the action or
      one of its resource types, or a global aws: key), every Resource ARN matches the
      ARN format of a resource type of the statement's actions (placeholders turned into
      patterns, policy wildcards honoured), each action gets a resource of each resource
      type it requires, actions that take only "*" get "*", and every ARN in the document
      (resources and condition values) is of one partition, matching its region;
  (c) least privilege: no "*" or "service:*" (nor any wildcard) action, no NotAction or
      NotResource, no Resource "*" for an action that has resource types, no wildcard in
      the resource-type part of an ARN.
Where a linter's data does not know an action or key, HAND_TABLE (rows of the Service
Authorization Reference, quoted) decides, and the run says so; an action or key that a
linter lacks and the table does not hold fails.

A self-test runs first: policies that must fail (each caught by both linters) and
controls that must pass. If the self-test misjudges anything, the run fails.

Closing line: `iam proof: N passed, M failed`; exit 1 on any failure or when no policy
was checked.
"""

import os
import sys
import tempfile

# policy_sentry reads ~/.policy_sentry/iam-definition.json instead of its bundled
# database when that file exists: judge with the pinned data only.
os.environ["HOME"] = tempfile.mkdtemp(prefix="iam-proof-home-")

import warnings  # noqa: E402

warnings.filterwarnings("ignore", message=".*pkg_resources.*")
warnings.filterwarnings("ignore", category=DeprecationWarning)

import hashlib  # noqa: E402
import importlib.metadata  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import shlex  # noqa: E402
from pathlib import Path  # noqa: E402

import parliament  # noqa: E402
from policy_sentry.querying.actions import (  # noqa: E402
    get_action_data,
    get_actions_with_access_level,
    get_privilege_info,
)
from policy_sentry.querying.all import get_all_service_prefixes  # noqa: E402
from policy_sentry.shared import constants as ps_constants  # noqa: E402
from policy_sentry.shared.iam_data import get_service_prefix_data  # noqa: E402

HERE = Path(__file__).resolve().parent

# ---------------------------------------------------------------------------------------
# What each linter's data is, and how old. The dates come from each project's history:
# parliament's wheel file is byte-identical to duo-labs/parliament's iam_definition.json
# at commit 5f5aa46 ("Updated iam_definition.json", 2025-02-27); policy_sentry 0.15.2 was
# tagged ("Bump to 0.15.2", 2025-12-02) 25 minutes after "Updates database (#565)"
# (1ece9e90, 2025-12-02), the database it ships.
LINTER_DATA = {
    "policy_sentry": {
        "version": "0.15.2",
        "file": Path(ps_constants.BUNDLED_DATASTORE_FILE_PATH),
        "sha256": "41ddfc1bba7652b1e78df6c77015757bf022ed20e5fcf7b7c79744ddd75388ed",
        "date": "2025-12-02 (salesforce/policy_sentry 'Updates database (#565)', shipped in 0.15.2)",
    },
    "parliament": {
        "version": "1.6.4",
        "file": Path(parliament.iam_definition_path),
        "sha256": "d58e32727022a55b5cc51920db195c9be311b011e2f9e115eb917cb5004ae664",
        "date": "2025-02-27 (duo-labs/parliament 5f5aa46 'Updated iam_definition.json')",
    },
}

# ---------------------------------------------------------------------------------------
# The hand table: rows of the Service Authorization Reference for Amazon EKS, checked by
# hand, for actions and condition keys that at least one pinned linter does not know.
# Source: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelastickubernetesservice.html
# read as stored on 2026-05-10 (the copy of that page kept by salesforce/policy_sentry,
# policy_sentry/shared/data/docs/list_amazonelastickubernetesservice.html, c0d416cc).
# Each row is quoted as the page's table has it: Action | Description | Access level |
# Resource types (*required) | Condition keys | Dependent actions.
SAR_URL = ("https://docs.aws.amazon.com/service-authorization/latest/reference/"
           "list_amazonelastickubernetesservice.html")
HAND_TABLE = {
    "actions": {
        # parliament (2025-02-27) lacks eks:loggingType/${type} here; both linters lack
        # eks:endpointPublicAccess, eks:endpointPrivateAccess, eks:deletionProtection,
        # eks:controlPlaneScalingTier and eks:zonalShiftEnabled.
        "eks:UpdateClusterConfig": {
            "row": "UpdateClusterConfig | Grants permission to update Amazon EKS cluster "
                   "configurations (eg: API server endpoint access) | Write | cluster* | | "
                   "eks:authenticationMode eks:supportType eks:computeConfigEnabled "
                   "eks:elasticLoadBalancingEnabled eks:blockStorageEnabled "
                   "eks:loggingType/${type} eks:endpointPublicAccess eks:endpointPrivateAccess "
                   "eks:deletionProtection eks:controlPlaneScalingTier eks:zonalShiftEnabled |",
            "access_level": "Write",
            "resource_types": {"eks:cluster": True},
            "condition_keys": [
                "eks:authenticationMode", "eks:supportType", "eks:computeConfigEnabled",
                "eks:elasticLoadBalancingEnabled", "eks:blockStorageEnabled",
                "eks:loggingType/${type}", "eks:endpointPublicAccess",
                "eks:endpointPrivateAccess", "eks:deletionProtection",
                "eks:controlPlaneScalingTier", "eks:zonalShiftEnabled",
            ],
        },
        # parliament lacks eks:loggingType/${type} here; both lack eks:kubernetesVersion,
        # eks:endpointPublicAccess, eks:endpointPrivateAccess, eks:deletionProtection,
        # eks:controlPlaneScalingTier, eks:encryptionConfigProviderKeyArns, eks:zonalShiftEnabled.
        "eks:CreateCluster": {
            "row": "CreateCluster | Grants permission to create an Amazon EKS cluster | Write | "
                   "| aws:RequestTag/${TagKey} aws:TagKeys "
                   "eks:bootstrapClusterCreatorAdminPermissions eks:bootstrapSelfManagedAddons "
                   "eks:authenticationMode eks:supportType eks:computeConfigEnabled "
                   "eks:elasticLoadBalancingEnabled eks:blockStorageEnabled "
                   "eks:loggingType/${type} eks:kubernetesVersion eks:endpointPublicAccess "
                   "eks:endpointPrivateAccess eks:deletionProtection eks:controlPlaneScalingTier "
                   "eks:encryptionConfigProviderKeyArns eks:zonalShiftEnabled |",
            "access_level": "Write",
            "resource_types": {},
            "condition_keys": [
                "aws:RequestTag/${TagKey}", "aws:TagKeys",
                "eks:bootstrapClusterCreatorAdminPermissions", "eks:bootstrapSelfManagedAddons",
                "eks:authenticationMode", "eks:supportType", "eks:computeConfigEnabled",
                "eks:elasticLoadBalancingEnabled", "eks:blockStorageEnabled",
                "eks:loggingType/${type}", "eks:kubernetesVersion", "eks:endpointPublicAccess",
                "eks:endpointPrivateAccess", "eks:deletionProtection",
                "eks:controlPlaneScalingTier", "eks:encryptionConfigProviderKeyArns",
                "eks:zonalShiftEnabled",
            ],
        },
    },
    # Resource types table: Resource types | ARN | Condition keys
    "resources": {
        "eks:cluster": {
            "row": "cluster | arn:${Partition}:eks:${Region}:${Account}:cluster/${ClusterName} "
                   "| aws:ResourceTag/${TagKey}",
            "arn": "arn:${Partition}:eks:${Region}:${Account}:cluster/${ClusterName}",
            "condition_keys": ["aws:ResourceTag/${TagKey}"],
        },
    },
    # Condition keys table: Condition keys | Description | Type (types decide set operators)
    "keys": {
        "eks:loggingType/${type}": ("eks:loggingType/${type} | Filters access by the cluster logging "
                                    "enabled and type parameter in the create / update cluster "
                                    "request | Bool", "Bool"),
        "eks:kubernetesVersion": ("eks:kubernetesVersion | Filters access by the Kubernetes version "
                                  "in the create cluster/ update cluster version request | String",
                                  "String"),
        "eks:endpointPublicAccess": ("eks:endpointPublicAccess | Filters access by the endpoint public "
                                     "access setting in the create / update cluster request | Bool",
                                     "Bool"),
        "eks:endpointPrivateAccess": ("eks:endpointPrivateAccess | Filters access by the endpoint "
                                      "private access setting in the create / update cluster request "
                                      "| Bool", "Bool"),
        "eks:deletionProtection": ("eks:deletionProtection | Filters access by the deletion protection "
                                   "setting in the create / update cluster request | Bool", "Bool"),
        "eks:controlPlaneScalingTier": ("eks:controlPlaneScalingTier | Filters access by the control "
                                        "plane scaling tier in the create / update cluster request | "
                                        "String", "String"),
        "eks:encryptionConfigProviderKeyArns": ("eks:encryptionConfigProviderKeyArns | Filters access "
                                                "by the KMS key ARNs in the create cluster / Associate "
                                                "Encryption Config request | ArrayOfARN", "ArrayOfARN"),
        "eks:zonalShiftEnabled": ("eks:zonalShiftEnabled | Filters access by the zonal shift enabled "
                                  "setting in the create / update cluster request | Bool", "Bool"),
    },
}

# What the brief asks each linter about: the access-management actions and keys the tool
# prints today or is expected to.
WATCHED_ACTIONS = [
    "eks:CreateAccessEntry", "eks:UpdateAccessEntry", "eks:DeleteAccessEntry",
    "eks:DescribeAccessEntry", "eks:ListAccessEntries", "eks:AssociateAccessPolicy",
    "eks:DisassociateAccessPolicy", "eks:ListAssociatedAccessPolicies", "eks:ListAccessPolicies",
    "eks:DescribeCluster", "eks:UpdateClusterConfig", "eks:CreateCluster", "eks:ListUpdates",
    "eks:DescribeUpdate", "eks:CreatePodIdentityAssociation", "iam:PassRole", "iam:GetRole",
]
WATCHED_KEYS = [
    ("eks:CreateAccessEntry", "eks:principalArn"), ("eks:CreateAccessEntry", "eks:accessEntryType"),
    ("eks:CreateAccessEntry", "eks:kubernetesGroups"), ("eks:CreateAccessEntry", "eks:username"),
    ("eks:UpdateAccessEntry", "eks:kubernetesGroups"), ("eks:UpdateAccessEntry", "eks:username"),
    ("eks:AssociateAccessPolicy", "eks:policyArn"), ("eks:AssociateAccessPolicy", "eks:accessScope"),
    ("eks:AssociateAccessPolicy", "eks:namespaces"), ("eks:AssociateAccessPolicy", "eks:principalArn"),
    ("eks:DeleteAccessEntry", "eks:principalArn"), ("eks:UpdateClusterConfig", "eks:authenticationMode"),
    ("eks:UpdateClusterConfig", "eks:loggingType/api"),
    ("eks:CreateCluster", "eks:bootstrapClusterCreatorAdminPermissions"),
    ("iam:PassRole", "iam:PassedToService"),
]

# Global condition keys (IAM User Guide, "AWS global condition context keys"). The tag
# keys aws:RequestTag/*, aws:ResourceTag/* and aws:TagKeys are left out on purpose: the
# Service Authorization Reference lists them per action, so they are judged per action.
GLOBAL_KEYS = {k.lower() for k in [
    "aws:PrincipalArn", "aws:PrincipalAccount", "aws:PrincipalOrgPaths", "aws:PrincipalOrgID",
    "aws:PrincipalIsAWSService", "aws:PrincipalServiceName", "aws:PrincipalServiceNamesList",
    "aws:PrincipalType", "aws:userid", "aws:username", "aws:AssumedRoot", "aws:FederatedProvider",
    "aws:TokenIssueTime", "aws:MultiFactorAuthAge", "aws:MultiFactorAuthPresent",
    "aws:ChatbotSourceArn", "aws:Ec2InstanceSourceVpc", "aws:Ec2InstanceSourcePrivateIPv4",
    "aws:SourceIdentity", "aws:SourceIp", "aws:SourceVpc", "aws:SourceVpcArn", "aws:SourceVpce",
    "aws:VpcSourceIp", "aws:VpceAccount", "aws:VpceOrgID", "aws:VpceOrgPaths",
    "aws:ResourceAccount", "aws:ResourceOrgID", "aws:ResourceOrgPaths", "aws:CalledVia",
    "aws:CalledViaFirst", "aws:CalledViaLast", "aws:ViaAWSService", "aws:CurrentTime",
    "aws:EpochTime", "aws:referer", "aws:RequestedRegion", "aws:SecureTransport",
    "aws:SourceAccount", "aws:SourceArn", "aws:SourceOrgID", "aws:SourceOrgPaths", "aws:UserAgent",
]}
GLOBAL_KEY_PREFIXES = ("aws:principaltag/",)
GLOBAL_MULTIVALUED = {"aws:principalorgpaths", "aws:principalservicenameslist", "aws:calledvia",
                      "aws:resourceorgpaths", "aws:sourceorgpaths", "aws:vpceorgpaths"}

# parliament findings that mean a wrong (or not least-privilege) policy. Every other
# finding is a note, except unknown ones, which fail (a newer parliament may add some).
PARLIAMENT_FAIL = {
    "EXCEPTION", "MALFORMED_JSON", "MALFORMED", "DUPLICATE_SID", "UNKNOWN_ACTION",
    "UNKNOWN_PREFIX", "UNKNOWN_CONDITION_FOR_ACTION", "INVALID_ARN", "RESOURCE_MISMATCH",
    "INVALID_SID", "INVALID_VERSION", "NO_VERSION", "OLD_VERSION", "UNKNOWN_OPERATOR",
    "MISMATCHED_TYPE", "MISMATCHED_TYPE_OPERATION_TO_NULL", "RESOURCE_STAR",
    "RESOURCE_EFFECTIVELY_STAR", "UNKNOWN_PRINCIPAL", "UNKNOWN_FEDERATION_SOURCE",
    "BAD_PATTERN_FOR_MFA", "RESOURCE_POLICY_PRIVILEGE_ESCALATION",
}
PARLIAMENT_NOTE = {"MISMATCHED_TYPE_BUT_USABLE"}

PARTITIONS = {"aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f",
              "aws-eusc"}
REGION_PARTITION = [("cn-", "aws-cn"), ("us-gov-", "aws-us-gov"), ("us-isob-", "aws-iso-b"),
                    ("us-isof-", "aws-iso-f"), ("eu-isoe-", "aws-iso-e"), ("us-iso-", "aws-iso"),
                    ("eusc-", "aws-eusc")]
REGION_RE = re.compile(r"^[a-z]{2,4}(-[a-z]+)+-\d+$")
ACCOUNT_RE = re.compile(r"^\d{12}$")

OPERATORS = {
    "stringequals": "string", "stringnotequals": "string", "stringequalsignorecase": "string",
    "stringnotequalsignorecase": "string", "stringlike": "string", "stringnotlike": "string",
    "numericequals": "numeric", "numericnotequals": "numeric", "numericlessthan": "numeric",
    "numericlessthanequals": "numeric", "numericgreaterthan": "numeric",
    "numericgreaterthanequals": "numeric", "dateequals": "date", "datenotequals": "date",
    "datelessthan": "date", "datelessthanequals": "date", "dategreaterthan": "date",
    "dategreaterthanequals": "date", "bool": "bool", "binaryequals": "binary",
    "ipaddress": "ip", "notipaddress": "ip", "arnequals": "arn", "arnlike": "arn",
    "arnnotequals": "arn", "arnnotlike": "arn", "null": "null",
}
# key type (policy_sentry's spelling, lowered, ArrayOf stripped) -> operator families
TYPE_OPERATORS = {
    "string": {"string"}, "arn": {"arn", "string"}, "bool": {"bool"},
    "numeric": {"numeric"}, "date": {"date"}, "ipaddress": {"ip"}, "binary": {"binary"},
}


# ---------------------------------------------------------------------------------------
# Linter knowledge, normalised: {"name", "access_level", "resource_types": {"svc:type":
# {"arn", "required", "keys"}}, "keys": [documented key patterns]} or None.

def ps_action(action):
    """policy_sentry's definition of an exact action, or None if it does not know it."""
    svc, _, name = action.partition(":")
    entries = get_action_data(svc.lower(), name).get(svc.lower()) or []
    if not entries:
        return None
    canonical = entries[0]["action"]
    priv = get_privilege_info(svc.lower(), canonical.split(":", 1)[1])
    service = get_service_prefix_data(svc.lower())
    keys, rtypes = [], {}
    for entry in entries:
        keys.extend(entry["condition_keys"])
    for rt, spec in priv["resource_types"].items():
        keys.extend(spec.get("condition_keys") or [])
        if rt:
            res = service["resources"].get(rt) or {}
            rtypes["%s:%s" % (svc.lower(), rt)] = {
                "arn": res.get("arn"), "required": bool(spec.get("required")),
                "keys": res.get("condition_keys") or []}
            keys.extend(res.get("condition_keys") or [])
    return {"name": canonical, "access_level": priv["access_level"], "resource_types": rtypes,
            "keys": sorted(set(keys))}


def ps_key_type(key):
    """policy_sentry's type of a service condition key (e.g. ArrayOfString), or None."""
    svc = key.split(":", 1)[0].lower()
    data = get_service_prefix_data(svc) if svc in ps_services() else {}
    for name, spec in (data.get("conditions") or {}).items():
        if key_matches(name, key):
            return spec["type"]
    return None


_PS_SERVICES = []


def ps_services():
    if not _PS_SERVICES:
        _PS_SERVICES.append(set(get_all_service_prefixes()))
    return _PS_SERVICES[0]


_PA_INDEX = {}


def pa_action(action):
    """parliament's definition of an exact action, or None."""
    if not _PA_INDEX:
        for service in parliament.iam_definition:
            _PA_INDEX[service["prefix"]] = service
    svc, _, name = action.partition(":")
    service = _PA_INDEX.get(svc.lower())
    if not service:
        return None
    for priv in service["privileges"]:
        if priv["privilege"].lower() == name.lower():
            resources = {r["resource"]: r for r in service["resources"]}
            keys, rtypes = [], {}
            for spec in priv["resource_types"]:
                keys.extend(spec["condition_keys"])
                rt = spec["resource_type"].rstrip("*")
                if rt:
                    res = resources.get(rt) or {}
                    rtypes["%s:%s" % (svc.lower(), rt)] = {
                        "arn": res.get("arn"), "required": spec["resource_type"].endswith("*"),
                        "keys": res.get("condition_keys") or []}
                    keys.extend(res.get("condition_keys") or [])
            return {"name": "%s:%s" % (svc.lower(), priv["privilege"]),
                    "access_level": priv["access_level"], "resource_types": rtypes,
                    "keys": sorted(set(keys))}
    return None


def hand_action(action):
    for name, row in HAND_TABLE["actions"].items():
        if name.lower() == action.lower():
            rtypes = {}
            for rt, required in row["resource_types"].items():
                res = HAND_TABLE["resources"][rt]
                rtypes[rt] = {"arn": res["arn"], "required": required, "keys": res["condition_keys"]}
            keys = list(row["condition_keys"])
            for spec in rtypes.values():
                keys.extend(spec["keys"])
            return {"name": name, "access_level": row["access_level"], "resource_types": rtypes,
                    "keys": sorted(set(keys)), "row": row["row"]}
    return None


def key_matches(documented, used):
    """Does a key used in a policy match a documented key (templates like
    aws:RequestTag/${TagKey} or eks:loggingType/${type} match any tail)? Case-insensitive."""
    pattern = re.escape(documented.lower())
    pattern = re.sub(r"\\\$\\\{[^}]*\\\}|<[^>]*>", ".+", pattern)
    return re.fullmatch(pattern, used.lower()) is not None


def is_global_key(key):
    k = key.lower()
    return k in GLOBAL_KEYS or k.startswith(GLOBAL_KEY_PREFIXES)


def knows_key(defn, key):
    return defn is not None and any(key_matches(d, key) for d in defn["keys"])


# ---------------------------------------------------------------------------------------
# ARN patterns. A documented format (arn:${Partition}:eks:${Region}:${Account}:cluster/
# ${ClusterName}) and a policy's ARN (with * and ? wildcards and ${aws:...} variables) are
# both turned into token lists; they match when some concrete ARN satisfies both, found by
# walking the product of the two automata. A placeholder stands for one or more characters
# other than "/" and ":" (one path segment), except placeholders whose name says they hold
# a path (RoleNameWithPath, ObjectName, ...), which may hold "/".

ANY = ("any",)
SEG = ("not", frozenset("/:"))
NOCOLON = ("not", frozenset(":"))


def _meet(a, b):
    if a[0] == "lit" and b[0] == "lit":
        return a[1] == b[1]
    if a[0] == "lit":
        return b[0] == "any" or a[1] not in b[1]
    if b[0] == "lit":
        return a[0] == "any" or b[1] not in a[1]
    return True


def _template_tokens(text, placeholder_class):
    out, i = [], 0
    while i < len(text):
        m = re.match(r"\$\{([^}]*)\}", text[i:])
        if m:
            name = m.group(1)
            cls = NOCOLON if re.search(r"Path|ObjectName|ObjectPath", name) else placeholder_class
            out += [(cls, "1"), (cls, "*")]
            i += m.end()
        else:
            out.append((("lit", text[i]), "1"))
            i += 1
    return out


def _policy_tokens(text):
    out, i = [], 0
    while i < len(text):
        m = re.match(r"\$\{[^}]*\}", text[i:])
        if m:  # a policy variable such as ${aws:username}: any value
            out.append((ANY, "*"))
            i += m.end()
            continue
        c = text[i]
        out.append((ANY, "*") if c == "*" else (ANY, "1") if c == "?" else (("lit", c), "1"))
        i += 1
    return out


def _intersects(a, b):
    seen, stack = {(0, 0)}, [(0, 0)]
    while stack:
        i, j = stack.pop()
        if i == len(a) and j == len(b):
            return True
        nxt = []
        if i < len(a) and a[i][1] == "*":
            nxt.append((i + 1, j))
        if j < len(b) and b[j][1] == "*":
            nxt.append((i, j + 1))
        if i < len(a) and j < len(b) and _meet(a[i][0], b[j][0]):
            nxt.append((i if a[i][1] == "*" else i + 1, j if b[j][1] == "*" else j + 1))
        for state in nxt:
            if state not in seen:
                seen.add(state)
                stack.append(state)
    return False


def arn_matches_format(arn, fmt):
    """Can the policy ARN pattern `arn` name a resource of documented format `fmt`?"""
    got, want = arn.split(":", 5), fmt.split(":", 5)
    if len(got) != 6 or len(want) != 6:
        return False
    for n in range(5):
        if not _intersects(_template_tokens(want[n], NOCOLON), _policy_tokens(got[n])):
            return False
    return _intersects(_template_tokens(want[5], SEG), _policy_tokens(got[5]))


def arn_shape_problems(arn):
    """Problems of an ARN on its own: fields, partition, region, account."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return ["%r is not an ARN (arn:partition:service:region:account:resource)" % arn]
    problems = []
    _, partition, service, region, account, resource = parts
    if partition not in PARTITIONS:
        problems.append("partition %r of %s is not one partition" % (partition, arn))
    if not service or any(c in service for c in "*?"):
        problems.append("service of %s is not named" % arn)
    if region and not any(c in region for c in "*?"):
        if not REGION_RE.match(region):
            problems.append("region %r of %s is not a region" % (region, arn))
        elif partition in PARTITIONS:
            expect = next((p for prefix, p in REGION_PARTITION if region.startswith(prefix)), "aws")
            if expect != partition:
                problems.append("region %s belongs to partition %s, not %s (%s)"
                                % (region, expect, partition, arn))
    if account and account != "aws" and not any(c in account for c in "*?") \
            and not ACCOUNT_RE.match(account):
        problems.append("account %r of %s is not a 12-digit account id" % (account, arn))
    if not resource:
        problems.append("%s names no resource" % arn)
    return problems


# ---------------------------------------------------------------------------------------
# Finding policies

def load_collect():
    spec = importlib.util.spec_from_file_location("collect", HERE / "collect.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def policies_in_command(command):
    """Inline policy documents in a shell command: (label, document or raw text)."""
    found = []
    try:
        words = shlex.split(command)
    except ValueError as e:  # unbalanced quotes: the command itself is broken
        if "Statement" in command:
            found.append(("command not shell-parsable (%s)" % e, command))
        return found
    for n, word in enumerate(words):
        candidates = [(words[n - 1] if n and words[n - 1].startswith("-") else "argument %d" % n,
                       word)]
        if word.startswith("-") and "=" in word:
            candidates.append(tuple(word.split("=", 1)))
        for flag, text in candidates:
            stripped = text.strip()
            if not stripped.startswith("{"):
                continue
            try:
                doc = json.loads(stripped)
            except ValueError:
                if "Statement" in stripped:
                    found.append((flag, stripped))  # meant as a policy, not valid JSON
                continue
            if isinstance(doc, dict) and "Statement" in doc:
                found.append((flag, doc))
    if not found and "Statement" in command:
        # A document the shell does not hand over as one word (a heredoc, an echo of
        # unquoted text): look for JSON objects in the raw text.
        decoder = json.JSONDecoder()
        for m in re.finditer(r"\{", command):
            try:
                doc, _ = decoder.raw_decode(command, m.start())
            except ValueError:
                continue
            if isinstance(doc, dict) and "Statement" in doc and doc not in [d for _, d in found]:
                found.append(("text at offset %d" % m.start(), doc))
    return found


def gather(cli):
    """Distinct documents: [(origin, cause, where, document or raw text, also)]."""
    items = load_collect().collect(cli)
    by_key, order = {}, []
    for item in items:
        sources = []
        if item["iam_policy"] is not None:
            sources.append(("iam_policy", item["iam_policy"]))
        for c, command in enumerate(item["commands"]):
            for flag, doc in policies_in_command(command):
                trust = flag == "--assume-role-policy-document" or (
                    flag == "--policy-document" and "update-assume-role-policy" in command)
                sources.append(("command %d %s%s" % (c + 1, flag, TRUST_MARK if trust else ""), doc))
        for where, doc in sources:
            key = json.dumps(doc, sort_keys=True) if not isinstance(doc, str) else "raw:" + doc
            if key not in by_key:
                by_key[key] = [item["origin"], item["cause"], where, doc, []]
                order.append(key)
            else:
                by_key[key][4].append("%s [%s]" % (item["origin"], item["cause"]))
    return len(items), [by_key[k] for k in order]


# ---------------------------------------------------------------------------------------
# Judging one document

class Verdict:
    def __init__(self):
        self.parliament, self.sentry, self.least, self.notes, self.hand = [], [], [], [], []

    @property
    def ok(self):
        return not (self.parliament or self.sentry or self.least)


def as_list(value):
    return value if isinstance(value, list) else [value]


def judge_parliament(doc, v):
    text = doc if isinstance(doc, str) else json.dumps(doc, indent=2)
    try:
        policy = parliament.analyze_policy_string(text, ignore_private_auditors=True)
        findings = policy.findings
    except Exception as e:  # noqa: BLE001 - parliament raising is itself a verdict
        v.parliament.append("parliament raised %s: %s" % (type(e).__name__, e))
        return
    for f in findings:
        loc = f.location if isinstance(f.location, dict) else {}
        where = ", ".join("%s %s" % (k, loc[k]) for k in ("string", "line", "lineno", "column")
                          if loc.get(k) is not None)
        detail = f.detail if isinstance(f.detail, str) else json.dumps(f.detail, default=str)
        text = "parliament %s: %s%s" % (f.issue, detail, " (at %s)" % where if where else "")
        if f.issue == "UNKNOWN_ACTION":
            m = re.search(r"Unknown action (\S+)", str(f.detail))
            row = hand_action(m.group(1)) if m else None
            if row:
                v.hand.append("parliament does not know %s; hand table row: %s "
                              "(parliament judged nothing else in that statement)"
                              % (m.group(1), row["row"]))
                continue
        if f.issue == "UNKNOWN_CONDITION_FOR_ACTION":
            m = re.search(r"Unknown condition (\S+) for action (\S+)", str(f.detail))
            row = hand_action(m.group(2)) if m else None
            if row and knows_key(row, m.group(1)):
                v.hand.append("parliament does not know %s for %s; hand table row: %s"
                              % (m.group(1), m.group(2), row["row"]))
                continue
            # parliament reads condition keys from the action's rows only, not from the
            # resource types table; a key its own data lists for one of the action's
            # resource types is valid (policy_sentry judges it independently).
            own = pa_action(m.group(2)) if m else None
            via = [rt for rt, spec in (own or {}).get("resource_types", {}).items()
                   if any(key_matches(k, m.group(1)) for k in spec["keys"])]
            if via:
                v.notes.append("parliament flags %s for %s, but its own data lists that key for "
                               "resource type %s: parliament checks only the action's row"
                               % (m.group(1), m.group(2), ", ".join(via)))
                continue
        if f.issue in PARLIAMENT_NOTE:
            v.notes.append(text)
        else:  # PARLIAMENT_FAIL, and any issue this script does not know
            v.parliament.append(text)


def action_definition(action, v, complain):
    """policy_sentry's definition, or the hand table's when policy_sentry lacks it."""
    defn = ps_action(action)
    if defn is not None:
        return defn
    row = hand_action(action)
    if row is not None:
        v.hand.append("policy_sentry does not know %s; hand table row: %s" % (action, row["row"]))
        return row
    complain("unknown action %s (not in policy_sentry's data nor the hand table)" % action)
    return None


def key_type(key):
    k = key.lower()
    if is_global_key(k):
        return "ArrayOfString" if k in GLOBAL_MULTIVALUED else None
    t = ps_key_type(key)
    if t is None:
        for name, (_, typ) in HAND_TABLE["keys"].items():
            if key_matches(name, key):
                return typ
    return t


def judge_sentry(doc, v):
    """(b) and (c), from policy_sentry's data (and the hand table where it lacks)."""
    fail, least = v.sentry.append, v.least.append
    if isinstance(doc, str):
        fail("not valid JSON: %s" % doc[:120])
        return
    if not isinstance(doc, dict):
        fail("the document is not a JSON object")
        return
    extra = set(doc) - {"Version", "Id", "Statement"}
    if extra:
        fail("unknown top-level element(s) %s" % sorted(extra))
    if doc.get("Version") != "2012-10-17":
        fail("Version is %r, not \"2012-10-17\"" % doc.get("Version"))
    statements = doc.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        fail("Statement is missing or empty")
        return
    partitions, sids = {}, set()
    for s, st in enumerate(statements, 1):
        label = "statement %d%s" % (s, " (%s)" % st.get("Sid") if isinstance(st, dict)
                                    and st.get("Sid") else "")
        if not isinstance(st, dict):
            fail("%s is not an object" % label)
            continue
        extra = set(st) - {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource",
                           "Condition", "Principal", "NotPrincipal"}
        if extra:
            fail("%s: unknown element(s) %s" % (label, sorted(extra)))
        if "Principal" in st or "NotPrincipal" in st:
            fail("%s: an identity policy has no Principal" % label)
        if st.get("Effect") not in ("Allow", "Deny"):
            fail("%s: Effect is %r" % (label, st.get("Effect")))
        if "Sid" in st:
            if not isinstance(st["Sid"], str) or not re.fullmatch(r"[0-9A-Za-z]*", st["Sid"]):
                fail("%s: Sid must be alphanumeric" % label)
            elif st["Sid"] in sids:
                fail("%s: duplicate Sid" % label)
            sids.add(st.get("Sid"))
        allow = st.get("Effect") == "Allow"
        if "NotAction" in st or "NotResource" in st:
            (least if allow else fail)("%s: NotAction/NotResource grants everything else" % label)
        actions = as_list(st.get("Action", []))
        resources = as_list(st.get("Resource", []))
        if not actions or not all(isinstance(a, str) for a in actions):
            fail("%s: Action missing or not strings" % label)
            continue
        if not resources or not all(isinstance(r, str) for r in resources):
            fail("%s: Resource missing or not strings" % label)
            continue

        # Actions: exact and known.
        defs = {}
        for action in actions:
            if action == "*" or re.fullmatch(r"[^:]+:\*", action):
                least("%s: Action %r grants a whole service or everything" % (label, action))
                continue
            if not re.fullmatch(r"[a-z0-9-]+:[A-Za-z0-9*?]+", action):
                fail("%s: %r is not of the form service:Action" % (label, action))
                continue
            if any(c in action for c in "*?"):
                least("%s: wildcard action %r (the tool names actions exactly)" % (label, action))
                continue
            defn = action_definition(action, v, lambda m: fail("%s: %s" % (label, m)))
            if defn is not None:
                if defn["name"] != action:
                    v.notes.append("%s spelled %s in the data" % (action, defn["name"]))
                defs[action] = defn

        # Resources: each matches a resource type of an action here; each action is served.
        arns = [r for r in resources if r != "*"]
        for arn in arns:
            for problem in arn_shape_problems(arn):
                fail("%s: %s" % (label, problem))
            parts = arn.split(":", 5)
            if len(parts) == 6:
                partitions.setdefault(parts[1], arn)
                if parts[5][:1] in ("*", "?"):
                    least("%s: %s leaves the resource type open" % (label, arn))
        for action, defn in defs.items():
            rtypes = defn["resource_types"]
            if not rtypes:
                if arns:
                    fail("%s: %s takes only Resource \"*\" but the statement names %s"
                         % (label, action, ", ".join(arns)))
                continue
            if "*" in resources:
                least("%s: Resource \"*\" for %s, which has resource types %s"
                      % (label, action, ", ".join(sorted(rtypes))))
                continue
            needed = [rt for rt, spec in rtypes.items() if spec["required"]] or list(rtypes)
            served = {rt for rt in rtypes for arn in arns if arn_matches_format(arn, rtypes[rt]["arn"])}
            required = [rt for rt, spec in rtypes.items() if spec["required"]]
            missing = [rt for rt in required if rt not in served] if required else \
                ([] if served else needed)
            for rt in missing:
                fail("%s: no Resource of type %s (%s) for %s" % (label, rt, rtypes[rt]["arn"], action))
        for arn in arns:
            matched = [rt for d in defs.values() for rt, spec in d["resource_types"].items()
                       if arn_matches_format(arn, spec["arn"])]
            if defs and not matched:
                fail("%s: %s matches no resource type of %s"
                     % (label, arn, ", ".join("%s (%s)" % (a, ", ".join(
                         "%s %s" % (rt, s["arn"]) for rt, s in d["resource_types"].items()) or "*")
                         for a, d in defs.items())))

        # Conditions: each key applies to each action; operators fit the key's type.
        condition = st.get("Condition", {})
        if not isinstance(condition, dict):
            fail("%s: Condition is not an object" % label)
            continue
        for operator, block in condition.items():
            op = operator.lower()
            qualifier = None
            for q in ("forallvalues:", "foranyvalue:"):
                if op.startswith(q):
                    qualifier, op = q, op[len(q):]
            base = op[:-len("ifexists")] if op.endswith("ifexists") and op != "null" else op
            family = OPERATORS.get(base)
            if family is None:
                fail("%s: unknown condition operator %r" % (label, operator))
                continue
            if not isinstance(block, dict):
                fail("%s: %s is not an object of keys" % (label, operator))
                continue
            for key, values in block.items():
                for action, defn in defs.items():
                    if is_global_key(key) or knows_key(defn, key):
                        continue
                    row = hand_action(action)
                    if row is not None and knows_key(row, key):
                        v.hand.append("policy_sentry does not list %s for %s; hand table row: %s"
                                      % (key, action, row["row"]))
                        continue
                    fail("%s: condition key %s does not apply to %s (keys for it: %s)"
                         % (label, key, action, ", ".join(defn["keys"]) or "none"))
                typ = key_type(key)
                if typ is not None and family != "null":
                    multi = typ.lower().startswith("arrayof")
                    scalar = typ.lower().replace("arrayof", "")
                    if multi and qualifier is None:
                        fail("%s: %s is multivalued (%s): use ForAllValues:/ForAnyValue: with %s"
                             % (label, key, typ, operator))
                    if not multi and qualifier is not None:
                        fail("%s: %s is single-valued (%s): %s does not fit it"
                             % (label, key, typ, operator))
                    allowed = TYPE_OPERATORS.get(scalar)
                    if allowed is not None and family not in allowed:
                        fail("%s: %s is of type %s; %s does not compare it"
                             % (label, key, typ, operator))
                    elif scalar == "arn" and family == "string":
                        v.notes.append("%s: %s is an ARN; ArnEquals/ArnLike would be more exact"
                                       % (label, key))
                for value in as_list(values):
                    if isinstance(value, str) and value.startswith("arn:"):
                        for problem in arn_shape_problems(value):
                            fail("%s: condition %s: %s" % (label, key, problem))
                        parts = value.split(":", 5)
                        if len(parts) == 6:
                            partitions.setdefault(parts[1], value)
    if len(partitions) > 1:
        fail("ARNs of more than one partition: %s"
             % "; ".join("%s (%s)" % (p, a) for p, a in sorted(partitions.items())))


def judge(doc):
    v = Verdict()
    judge_parliament(doc, v)
    judge_sentry(doc, v)
    return v


# A role trust policy (create-role --assume-role-policy-document, update-assume-role-policy
# --policy-document) is a resource policy: it names Principals and has no Resource.
TRUST_MARK = " (trust policy)"
# The actions a trust policy may allow (IAM User Guide, "Role trust policy": the principals
# that may assume the role, pass session tags, set a source identity or context).
TRUST_ACTIONS = {"sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity", "sts:SetContext",
                 "sts:AssumeRoleWithWebIdentity", "sts:AssumeRoleWithSAML"}
SERVICE_PRINCIPAL = re.compile(r"^[a-z0-9.-]+\.amazonaws\.com(\.cn)?$")
AWS_PRINCIPAL = re.compile(r"^(\d{12}|arn:aws[a-z-]*:iam::\d{12}:(root|role/[\w+=,.@/-]+))$")


def judge_trust(doc):
    """A trust policy: parliament (bar its rule that every statement has a Resource, which
    is an identity policy's), policy_sentry's knowledge of each action, and the rules of
    trust policies: a Principal and no Resource in each statement, only STS's role
    actions, no wildcard action or principal, principals a service or an IAM account,
    role or root."""
    v = Verdict()
    judge_parliament(doc, v)
    v.parliament = [f for f in v.parliament if "neither Resource nor NotResource" not in f]
    if isinstance(doc, str) or not isinstance(doc, dict):
        v.sentry.append("not a JSON policy document")
        return v
    statements = as_list(doc.get("Statement"))
    if doc.get("Version") != "2012-10-17" or not statements:
        v.sentry.append("Version must be 2012-10-17 and Statement must not be empty")
    for n, st in enumerate(statements, 1):
        if not isinstance(st, dict):
            v.sentry.append("statement %d is not an object" % n)
            continue
        label = "statement %d (%s)" % (n, st.get("Sid", "no Sid"))
        if "Resource" in st or "NotResource" in st:
            v.sentry.append("%s: a trust policy statement has no Resource" % label)
        if "NotPrincipal" in st or "NotAction" in st:
            v.least.append("%s: NotPrincipal/NotAction" % label)
        principal = st.get("Principal")
        if not isinstance(principal, dict) or not principal:
            v.sentry.append("%s: a trust policy statement needs a Principal object" % label)
            principal = {}
        for kind, values in principal.items():
            for value in as_list(values):
                if kind == "Service" and not SERVICE_PRINCIPAL.match(str(value)):
                    v.sentry.append("%s: %r is not a service principal" % (label, value))
                elif kind == "AWS" and not AWS_PRINCIPAL.match(str(value)):
                    v.least.append("%s: AWS principal %r is not an account, root or role ARN" % (label, value))
                elif kind not in ("Service", "AWS", "Federated"):
                    v.sentry.append("%s: unknown principal type %r" % (label, kind))
        for action in as_list(st.get("Action")):
            if not isinstance(action, str) or "*" in action or "?" in action:
                v.least.append("%s: action %r is not one exact action" % (label, action))
            elif ps_action(action) is None:
                v.sentry.append("%s: unknown action %s" % (label, action))
            elif action not in TRUST_ACTIONS:
                v.sentry.append("%s: %s is not an action a trust policy grants" % (label, action))
    return v


def summary(doc):
    if isinstance(doc, str):
        return "unparsed text"
    acts = []
    for st in as_list(doc.get("Statement", [])) if isinstance(doc, dict) else []:
        if isinstance(st, dict):
            for a in as_list(st.get("Action", st.get("NotAction", []))):
                if isinstance(a, str) and a not in acts:
                    acts.append(a)
    out = []
    for a in acts:
        d = ps_action(a) if ":" in a and "*" not in a else None
        level = d["access_level"] if d else None
        if d and a.split(":")[0] in ps_services():
            listed = get_actions_with_access_level(a.split(":")[0].lower(), level)
            level = level if d["name"] in listed else level + "?"
        out.append("%s%s" % (a, " (%s)" % level if level else ""))
    return ", ".join(out)


def report(label, v):
    line = "%s %s" % ("OK  " if v.ok else "FAIL", label)
    reasons = ["[parliament] " + r for r in v.parliament] + ["[policy_sentry] " + r for r in v.sentry] \
        + ["[least-privilege] " + r for r in v.least]
    if reasons:
        line += ": " + " | ".join(reasons)
    print(line)
    for h in dict.fromkeys(v.hand):
        print("     hand table used: %s" % h)
    for n in dict.fromkeys(v.notes):
        print("     note: %s" % n)


# ---------------------------------------------------------------------------------------
# Self-test: the proof must be able to fail, and must not fail everything.

def _doc(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


CLUSTER = "arn:aws:eks:eu-west-1:111122223333:cluster/prod-eu"
ENTRY = "arn:aws:eks:eu-west-1:111122223333:access-entry/prod-eu/*"
SELF_TESTS = [
    # (name, document, expect "FAIL" caught by both linters / "FAIL" any / "OK")
    ("unknown action eks:CreateAccessEntri", "both",
     _doc({"Effect": "Allow", "Action": "eks:CreateAccessEntri", "Resource": CLUSTER})),
    ("eks:policyArn on eks:CreateAccessEntry", "both",
     _doc({"Effect": "Allow", "Action": "eks:CreateAccessEntry", "Resource": CLUSTER,
           "Condition": {"ArnEquals": {"eks:policyArn":
                                       "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"}}})),
    ("access-entry ARN for eks:CreateAccessEntry (takes the cluster)", "both",
     _doc({"Effect": "Allow", "Action": "eks:CreateAccessEntry", "Resource": ENTRY})),
    ("Resource \"*\" for eks:CreateAccessEntry", "both",
     _doc({"Effect": "Allow", "Action": "eks:CreateAccessEntry", "Resource": "*"})),
    ("Action eks:*", "any", _doc({"Effect": "Allow", "Action": "eks:*", "Resource": CLUSTER})),
    ("cluster ARN of aws-cn with a principal of aws", "any",
     _doc({"Effect": "Allow", "Action": "eks:CreateAccessEntry",
           "Resource": "arn:aws-cn:eks:cn-north-1:111122223333:cluster/prod",
           "Condition": {"ArnEquals": {"eks:principalArn": "arn:aws:iam::111122223333:role/x"}}})),
    ("region of another partition (aws-us-gov ARN in eu-west-1)", "any",
     _doc({"Effect": "Allow", "Action": "eks:DescribeCluster",
           "Resource": "arn:aws-us-gov:eks:eu-west-1:111122223333:cluster/prod"})),
    ("single-valued operator on multivalued eks:namespaces", "any",
     _doc({"Effect": "Allow", "Action": "eks:AssociateAccessPolicy", "Resource": ENTRY,
           "Condition": {"StringEquals": {"eks:namespaces": "team-a"}}})),
    ("a key neither linter nor the hand table knows (eks:accessEntryKind)", "both",
     _doc({"Effect": "Allow", "Action": "eks:UpdateClusterConfig", "Resource": CLUSTER,
           "Condition": {"StringEquals": {"eks:accessEntryKind": "STANDARD"}}})),
    ("inline policy that is not valid JSON", "both", '{"Version": "2012-10-17", "Statement": [}'),
    # Trust policies (judged by judge_trust).
    ("trust: a Resource in a trust statement", "trust",
     _doc({"Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": "sts:AssumeRole", "Resource": "*"})),
    ("trust: Principal \"*\"", "trust", _doc({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"})),
    ("trust: unknown action sts:AssumeRol", "trust",
     _doc({"Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": "sts:AssumeRol"})),
    ("trust: an action that is no trust action (s3:GetObject)", "trust",
     _doc({"Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": "s3:GetObject"})),
    ("trust: no Principal", "trust", _doc({"Effect": "Allow", "Action": "sts:AssumeRole"})),
    ("control: the Pod Identity trust statement", "trust-OK",
     _doc({"Sid": "AllowEksAuthToAssumeRoleForPodIdentity", "Effect": "Allow",
           "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": ["sts:AssumeRole", "sts:TagSession"]})),
    ("control: a role of another account trusted", "trust-OK",
     _doc({"Effect": "Allow", "Principal": {"AWS": "arn:aws-cn:iam::111122223333:role/orders-data-pod-identity"},
           "Action": ["sts:AssumeRole", "sts:TagSession"]})),
    # Controls that must pass.
    ("control: access-entry management, scoped and conditioned", "OK",
     _doc({"Sid": "Create", "Effect": "Allow", "Action": "eks:CreateAccessEntry", "Resource": CLUSTER,
           "Condition": {"ArnEquals": {"eks:principalArn": "arn:aws:iam::111122223333:role/Deployer"},
                         "StringEquals": {"eks:accessEntryType": "STANDARD"}}},
          {"Sid": "Associate", "Effect": "Allow", "Action": "eks:AssociateAccessPolicy",
           "Resource": ENTRY,
           "Condition": {"ArnEquals": {"eks:policyArn":
                                       "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"},
                         "StringEquals": {"eks:accessScope": "namespace"},
                         "ForAllValues:StringEquals": {"eks:namespaces": ["team-a"]}}},
          {"Sid": "Read", "Effect": "Allow",
           "Action": ["eks:DescribeAccessEntry", "eks:ListAssociatedAccessPolicies"],
           "Resource": ENTRY},
          {"Sid": "List", "Effect": "Allow", "Action": "eks:ListAccessPolicies", "Resource": "*"})),
    ("control: resource-type key eks:kubernetesGroups on eks:UpdateAccessEntry", "OK",
     _doc({"Effect": "Allow", "Action": "eks:UpdateAccessEntry", "Resource": ENTRY,
           "Condition": {"ForAllValues:StringEquals": {"eks:kubernetesGroups": ["viewers"]}}})),
    ("control: iam:PassRole to EKS in aws-us-gov", "OK",
     _doc({"Effect": "Allow", "Action": "iam:PassRole",
           "Resource": "arn:aws-us-gov:iam::123456789012:role/eks/ClusterRole",
           "Condition": {"StringEquals": {"iam:PassedToService": "eks.amazonaws.com"}}})),
    ("control: key only the hand table lists for parliament (eks:loggingType/api)", "OK",
     _doc({"Effect": "Allow", "Action": "eks:UpdateClusterConfig",
           "Resource": "arn:aws-cn:eks:cn-north-1:111122223333:cluster/prod",
           "Condition": {"Bool": {"eks:loggingType/api": "true"}}})),
]


def self_test():
    print("self-test: policies that must fail, and controls that must pass")
    bad = 0
    for name, expect, doc in SELF_TESTS:
        v = judge_trust(doc) if expect.startswith("trust") else judge(doc)
        caught = [layer for layer, found in (("parliament", v.parliament),
                                            ("policy_sentry", v.sentry),
                                            ("least-privilege", v.least)) if found]
        if expect in ("OK", "trust-OK"):
            good = v.ok and (name.find("hand table") < 0 or bool(v.hand))
        elif expect == "both":
            good = bool(v.parliament) and bool(v.sentry or v.least)
        else:
            good = not v.ok
        bad += not good
        print("  %s %-72s -> %s%s" % ("pass" if good else "MISJUDGED", name,
                                       "OK" if v.ok else "FAIL by " + ", ".join(caught),
                                       " (hand table used)" if v.hand else ""))
        if not good:
            report("    " + name, v)
    print("self-test: %s" % ("every case judged as it must be" if not bad
                             else "%d case(s) MISJUDGED: the proof cannot be trusted" % bad))
    return bad == 0


# ---------------------------------------------------------------------------------------

def describe_linters():
    ok = True
    for name, info in LINTER_DATA.items():
        version = importlib.metadata.version(name)
        digest = hashlib.sha256(info["file"].read_bytes()).hexdigest()
        if version == info["version"] and digest == info["sha256"]:
            print("linter %s %s: IAM data of %s" % (name, version, info["date"]))
        else:
            ok = False
            print("linter %s %s: data %s... is not the one recorded here; its date is unknown "
                  "(update LINTER_DATA)" % (name, version, digest[:12]))
    if Path(ps_constants.DATASTORE_FILE_PATH) != Path(ps_constants.BUNDLED_DATASTORE_FILE_PATH):
        print("policy_sentry is not reading its bundled database: %s" % ps_constants.DATASTORE_FILE_PATH)
        ok = False
    # What each one knows of the access-management actions and keys.
    for linter, lookup in (("policy_sentry", ps_action), ("parliament", pa_action)):
        lacks = [a for a in WATCHED_ACTIONS if lookup(a) is None]
        lacks += ["%s on %s" % (k, a) for a, k in WATCHED_KEYS
                  if lookup(a) is not None and not knows_key(lookup(a), k) and not is_global_key(k)]
        print("  %s lacks: %s" % (linter, ", ".join(lacks) or "none of the watched actions and keys"))
    # The hand table holds only what some linter lacks; say when a row became unneeded.
    for action, row in HAND_TABLE["actions"].items():
        lacked = {}
        for key in row["condition_keys"]:
            missing = tuple(n for n, f in (("policy_sentry", ps_action), ("parliament", pa_action))
                            if not knows_key(f(action), key))
            lacked.setdefault(missing, []).append(key)
        if not any(lacked.keys()):
            print("  hand table: the row for %s is no longer needed (both linters know it)" % action)
        for missing, keys in lacked.items():
            if missing:
                print("  hand table: %s with %s (lacked by %s)"
                      % (action, " ".join(keys), " and ".join(missing)))
    return ok


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    print("iam proof: IAM policy documents printed by %s" % sys.argv[1])
    print("hand table rows from %s (as stored 2026-05-10)" % SAR_URL)
    linters_ok = describe_linters()
    tests_ok = self_test()

    n_items, documents = gather(sys.argv[1])
    print("checking %d distinct policy document(s) from %d finding(s)" % (len(documents), n_items))
    passed = failed = 0
    hand_used = 0
    for origin, cause, where, doc, also in documents:
        v = judge_trust(doc) if where.endswith(TRUST_MARK) else judge(doc)
        label = "%s [%s] %s: %s" % (origin, cause, where, summary(doc))
        if also:
            label += " (also printed by %d other finding(s))" % len(also)
        report(label, v)
        for other in also:
            print("     also printed by %s" % other)
        hand_used += bool(v.hand)
        passed += v.ok
        failed += not v.ok
    if hand_used:
        print("the hand table was used for %d document(s)" % hand_used)
    if not documents:
        print("no policy document was found: nothing was proved")
    if not tests_ok:
        print("the self-test misjudged a case: this run proves nothing")
    if not linters_ok:
        print("the linters' data is not the recorded data")
    print("iam proof: %d passed, %d failed" % (passed, failed))
    return 0 if (failed == 0 and passed > 0 and tests_ok and linters_ok) else 1


if __name__ == "__main__":
    sys.exit(main())
