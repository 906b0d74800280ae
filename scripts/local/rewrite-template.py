#!/usr/bin/env python3
"""Writes a copy of template.yaml that `sam deploy` can use without `sam build`:
in every AWS::Serverless::Function, CodeUri becomes "code" (the directory next to
the copy that holds the one `bootstrap`, packaged as it is) and the build Metadata
(BuildMethod: rust-cargolambda) is dropped, since nothing is built.

Called by scripts/deploy-local. It needs samcli, whose YAML helpers read the
CloudFormation short forms (!Ref, !GetAtt, !Sub...) that a plain YAML loader rejects
(the copy has them in their long, equivalent form), hence the SAM venv's interpreter:

    .tools/sam/bin/python scripts/local/rewrite-template.py template.yaml OUT/template.yaml
"""
import sys
from samcli.yamlhelper import yaml_parse, yaml_dump
src, dst = sys.argv[1], sys.argv[2]
t = yaml_parse(open(src).read())
for res in t["Resources"].values():
    if res.get("Type") == "AWS::Serverless::Function":
        res.pop("Metadata", None)
        res["Properties"]["CodeUri"] = "code"
open(dst, "w").write(yaml_dump(t))
