"""Read template.yaml (with its short-form intrinsics) and build its tables and queues on moto."""

from __future__ import annotations

import copy
import json
import re
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
def source() -> dict[str, Any]:
    """template.yaml as written: Fn::ForEach blocks unexpanded."""
    return yaml.load(TEMPLATE.read_text(), Loader=_Loader)


@cache
def template() -> dict[str, Any]:
    """template.yaml as CloudFormation sees it after AWS::LanguageExtensions: Fn::ForEach expanded."""
    return expand(source())


# ------------------------------------------------------------------ Fn::ForEach (AWS::LanguageExtensions)
# What the transform does, to the extent template.yaml uses it: every `Fn::ForEach::<Loop>: [Id, collection,
# fragment]` key in Conditions, Resources (properties included) and Outputs is replaced by one copy of the
# fragment per collection value, in which the value replaces `${Id}` (and `&{Id}`, the value without its
# non-alphanumeric characters) in keys and in Fn::Sub strings, and `{"Ref": Id}`. Other strings are left
# alone: those are the documented places (and the only ones cfn-lint substitutes), so a template that passes
# here does not rely on more. Then, within the copy, what became static is resolved: an Fn::Sub left without
# variables (or whose variables all take literal strings from its own map) becomes its string, so that
# `!Ref {Fn::Sub: "${Id}X"}` reads `{"Ref": "HighX"}`; an Fn::FindInMap whose keys are all literals becomes
# the mapped value. Nested loops expand from the outside in.

FOREACH = "Fn::ForEach::"
_SUB_VARIABLE = re.compile(r"\$\{([^!}][^}]*)\}")


def expand(document: dict[str, Any]) -> dict[str, Any]:
    """A copy of `document` with every Fn::ForEach of its Conditions, Resources and Outputs expanded."""
    expanded = copy.deepcopy(document)
    for section in ("Conditions", "Resources", "Outputs"):
        if section in expanded:
            expanded[section] = _expand(expanded[section], document)
    return expanded


def _expand(node: Any, document: dict[str, Any]) -> Any:
    if isinstance(node, list):
        return [_expand(item, document) for item in node]
    if not isinstance(node, dict):
        return node
    result: dict[str, Any] = {}
    for key, value in node.items():
        if not key.startswith(FOREACH):
            _merge(result, key, _expand(value, document), key)
            continue
        if not (isinstance(value, list) and len(value) == 3 and isinstance(value[0], str)):
            raise ValueError(f"{key}: expected [identifier, collection, fragment]")
        identifier, collection, fragment = value
        if not isinstance(fragment, dict):
            raise ValueError(f"{key}: the fragment must be a mapping")
        for item in _collection(key, collection, document):
            instance = _expand(_instantiate(fragment, identifier, str(item), document), document)
            for name, body in instance.items():
                _merge(result, name, body, key)
    return result


def _merge(result: dict[str, Any], name: str, body: Any, origin: str) -> None:
    if name in result:
        raise ValueError(f"{origin}: {name} is defined twice")
    result[name] = body


def _collection(key: str, collection: Any, document: dict[str, Any]) -> list[Any]:
    if isinstance(collection, list):
        return collection
    if isinstance(collection, dict) and set(collection) == {"Ref"}:
        parameter = document.get("Parameters", {}).get(collection["Ref"], {})
        if parameter.get("Type") == "CommaDelimitedList" and "Default" in parameter:
            return [item.strip() for item in str(parameter["Default"]).split(",")]
    raise ValueError(f"{key}: collection {collection!r} is neither a list nor a CommaDelimitedList parameter")


def _substitute(text: str, identifier: str, value: str) -> str:
    return text.replace(f"${{{identifier}}}", value).replace(f"&{{{identifier}}}", re.sub(r"[^0-9A-Za-z]", "", value))


def _instantiate(node: Any, identifier: str, value: str, document: dict[str, Any]) -> Any:
    """One copy of a fragment for one collection value (nested Fn::ForEach keys are left to `_expand`)."""
    if isinstance(node, list):
        return [_instantiate(item, identifier, value, document) for item in node]
    if not isinstance(node, dict):
        return node
    if set(node) == {"Ref"}:
        target = _instantiate(node["Ref"], identifier, value, document)
        return value if target == identifier else {"Ref": target}
    if set(node) == {"Fn::Sub"}:
        return _sub(node["Fn::Sub"], identifier, value, document)
    if set(node) == {"Fn::FindInMap"}:
        arguments = _instantiate(node["Fn::FindInMap"], identifier, value, document)
        if len(arguments) == 3 and all(isinstance(a, str) for a in arguments):
            mapping, key, attribute = arguments
            found = document.get("Mappings", {}).get(mapping, {}).get(key, {})
            if attribute in found:
                return copy.deepcopy(found[attribute])
        return {"Fn::FindInMap": arguments}
    return {_substitute(k, identifier, value): _instantiate(v, identifier, value, document) for k, v in node.items()}


def _sub(argument: Any, identifier: str, value: str, document: dict[str, Any]) -> Any:
    if isinstance(argument, str):
        text = _substitute(argument, identifier, value)
        return text if not _SUB_VARIABLE.search(text) else {"Fn::Sub": text}
    text = _substitute(argument[0], identifier, value)
    variables = _instantiate(argument[1], identifier, value, document) if len(argument) > 1 else {}
    names = set(_SUB_VARIABLE.findall(text))
    if names <= set(variables) and all(isinstance(variables[n], str) for n in names):
        return _SUB_VARIABLE.sub(lambda m: variables[m.group(1)], text)
    return {"Fn::Sub": [text, variables]}


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
            if ref == "AWS::AccountId":
                return "123456789012"
            if ref.endswith(".Alias"):  # SAM's reference to a function's AutoPublishAlias: its qualified ARN
                return self.arns[ref.removesuffix(".Alias")] + ":live"
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

    def environment(self, *functions: str) -> dict[str, str]:
        """Globals' variables, and those the named functions add (e.g. the status function's for /stats)."""
        variables = dict(template()["Globals"]["Function"]["Environment"]["Variables"])
        for name in functions:
            own = template()["Resources"][name]["Properties"].get("Environment", {}).get("Variables", {})
            variables.update(own)
        return {k: str(self.resolve(v)) for k, v in variables.items()}


def build(session: Any) -> Stack:
    """Create every DynamoDB table, S3 bucket, EventBridge bus and SQS queue of the template, DLQs first."""
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
        if "StreamSpecification" in props:
            args["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        table = dynamodb.create_table(TableName=f"tasklane-{name}", **args)["TableDescription"]
        stack.names[name], stack.arns[name] = table["TableName"], table["TableArn"]
    events = session.client("events")
    for name, resource in resources("AWS::Events::EventBus").items():
        bus = f"tasklane-{name}"
        stack.names[name], stack.arns[name] = bus, events.create_event_bus(Name=bus)["EventBusArn"]
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
    scheduler = session.client("scheduler")
    for name in resources("AWS::Scheduler::ScheduleGroup"):
        group = f"tasklane-{name}"
        stack.arns[name] = scheduler.create_schedule_group(Name=group)["ScheduleGroupArn"]
        stack.names[name] = group
    # Functions and roles are not created: their ARNs are what other resources' settings name.
    for name in resources("AWS::Serverless::Function"):
        stack.arns[name] = f"arn:aws:lambda:us-east-1:123456789012:function:tasklane-{name}"
        stack.names[f"{name}.Alias"] = f"{stack.arns[name]}:live"  # `!Ref Function.Alias`: the alias's ARN
    for name in resources("AWS::IAM::Role"):
        stack.arns[name] = f"arn:aws:iam::123456789012:role/tasklane-{name}"
    return stack
