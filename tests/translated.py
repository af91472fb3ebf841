"""template.yaml as CloudFormation deploys it: Fn::ForEach expanded (tests/cfn.py), then the SAM transform
applied offline by the same samtranslator that `sam validate` and the local emulator use."""

from __future__ import annotations

import copy
import os
from functools import cache
from typing import Any

from tests import cfn

SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
PACKAGED_CODE = "s3://tasklane-artifacts/functions.zip"


class _NoManagedPolicies:
    """The template names no managed policy by its short name, so nothing is looked up in IAM."""

    def load(self) -> dict[str, str]:
        return {}


@cache
def template(*, with_metadata: bool = False) -> dict[str, Any]:
    """The translated template. `with_metadata` copies each SAM resource's Metadata (a checkov skip, say)
    onto every resource generated from it, as samtranslator's `passthrough_metadata` does."""
    from samtranslator.translator.transform import transform

    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    document = copy.deepcopy(cfn.template())
    assert document["Transform"] == ["AWS::LanguageExtensions", SAM_TRANSFORM]
    document["Transform"] = SAM_TRANSFORM
    # As `sam package` does before CloudFormation sees it: the local code folder becomes an S3 object.
    for properties in [document["Globals"]["Function"], *(r["Properties"] for r in _functions(document))]:
        if isinstance(properties.get("CodeUri"), str) and not properties["CodeUri"].startswith("s3://"):
            properties["CodeUri"] = PACKAGED_CODE
    return transform(document, {}, _NoManagedPolicies(), passthrough_metadata=with_metadata)


def _functions(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in document["Resources"].values() if r["Type"] == "AWS::Serverless::Function"]


def resources(kind: str, *, with_metadata: bool = False) -> dict[str, dict[str, Any]]:
    return {n: r for n, r in template(with_metadata=with_metadata)["Resources"].items() if r["Type"] == kind}
