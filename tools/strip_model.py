#!/usr/bin/env python3
"""Writes the Kinesis API model without its documentation strings, for embedding in kinesd.

Usage: tools/strip_model.py SERVICE_JSON > src/api/model/kinesis-2013-12-02.min.json
SERVICE_JSON is botocore's data/kinesis/2013-12-02/service-2.json (Apache License 2.0).
"""
import json
import sys


def strip(node):
    if isinstance(node, dict):
        return {k: strip(v) for k, v in node.items() if k not in ("documentation", "documentationUrl")}
    if isinstance(node, list):
        return [strip(v) for v in node]
    return node


with open(sys.argv[1]) as f:
    model = json.load(f)
json.dump(strip(model), sys.stdout, separators=(",", ":"), sort_keys=False)
sys.stdout.write("\n")
