"""Read template.yaml (with its short-form intrinsics) and build its tables and queues on moto."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"


class _Loader(yaml.SafeLoader):
    pass


def _intrinsic(loader: yaml.Loader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_Loader.add_multi_constructor("!", _intrinsic)


@cache
def template() -> dict[str, Any]:
    return yaml.load(TEMPLATE.read_text(), Loader=_Loader)


def resources(kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template()["Resources"].items() if r["Type"] == kind}


def parameter_default(name: str) -> Any:
    return template()["Parameters"][name]["Default"]


@dataclass
class Stack:
    """Physical names of the template's tables and queues, created on moto."""

    names: dict[str, str] = field(default_factory=dict)  # logical id -> table name or queue URL
    arns: dict[str, str] = field(default_factory=dict)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict) and "Ref" in value:
            ref = value["Ref"]
            if ref in self.names:
                return self.names[ref]
            return str(parameter_default(ref))
        if isinstance(value, dict) and "Fn::GetAtt" in value:
            return self.arns[value["Fn::GetAtt"][0]]
        if isinstance(value, dict) and "Fn::If" in value:
            condition, when_true, when_false = value["Fn::If"]
            return self.resolve(when_true if self.condition(condition) else when_false)
        if isinstance(value, dict) and "Fn::FindInMap" in value:
            mapping, key, attr = (self.resolve(v) for v in value["Fn::FindInMap"])
            return template()["Mappings"][mapping][str(key)][attr]
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        return value

    def condition(self, name: str) -> bool:
        return bool(self._evaluate(template()["Conditions"][name]))

    def _evaluate(self, node: Any) -> Any:
        if isinstance(node, dict) and "Fn::Equals" in node:
            left, right = (self._evaluate(v) for v in node["Fn::Equals"])
            return str(left) == str(right)
        if isinstance(node, dict) and "Fn::Not" in node:
            return not self._evaluate(node["Fn::Not"][0])
        if isinstance(node, dict) and "Condition" in node:
            return self.condition(node["Condition"])
        return self.resolve(node)

    def environment(self) -> dict[str, str]:
        variables = template()["Globals"]["Function"]["Environment"]["Variables"]
        return {k: str(self.resolve(v)) for k, v in variables.items()}


def build(session: Any) -> Stack:
    """Create every DynamoDB table, S3 bucket and SQS queue of the template, DLQs first."""
    stack = Stack()
    dynamodb, sqs, s3 = session.client("dynamodb"), session.client("sqs"), session.client("s3")
    for name in resources("AWS::S3::Bucket"):
        bucket = f"tasklane-{name.lower()}"
        s3.create_bucket(Bucket=bucket)
        stack.names[name], stack.arns[name] = bucket, f"arn:aws:s3:::{bucket}"
    for name, resource in resources("AWS::DynamoDB::Table").items():
        props = resource["Properties"]
        args = {
            k: props[k]
            for k in ("AttributeDefinitions", "KeySchema", "BillingMode", "GlobalSecondaryIndexes")
            if k in props
        }
        table = dynamodb.create_table(TableName=f"tasklane-{name}", **args)["TableDescription"]
        stack.names[name], stack.arns[name] = table["TableName"], table["TableArn"]
    queues = resources("AWS::SQS::Queue")
    for name in sorted(queues, key=lambda n: "RedrivePolicy" in queues[n]["Properties"]):
        props = stack.resolve(queues[name]["Properties"])
        attributes = {
            k: json.dumps(v) if isinstance(v, dict) else str(v)
            for k, v in props.items()
            if k in ("VisibilityTimeout", "MessageRetentionPeriod", "RedrivePolicy")
        }
        url = sqs.create_queue(QueueName=f"tasklane-{name}", Attributes=attributes)["QueueUrl"]
        stack.names[name] = url
        stack.arns[name] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return stack
