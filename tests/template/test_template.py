"""template.yaml: it lints, it wires every handler, and every role is least-privilege."""

from __future__ import annotations

import importlib
import json
import shutil
import subprocess
import sys

import pytest

from tasklane.settings import REQUIRED_ENV
from tasklane.settings.scheduler import SCHEDULER_REQUIRED_ENV
from tasklane.settings.stats import STATS_REQUIRED_ENV
from tests import cfn

FUNCTIONS = cfn.resources("AWS::Serverless::Function")
WRITE_ACTIONS = ("Put", "Update", "Delete", "BatchWrite", "Send", "Create", "Write", "Change")


def test_cfn_lint_passes():
    cfn_lint = str(cfn.ROOT / ".venv/bin/cfn-lint") if (cfn.ROOT / ".venv/bin/cfn-lint").exists() else "cfn-lint"
    result = subprocess.run([cfn_lint, str(cfn.TEMPLATE)], check=False, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(shutil.which("sam") is None and not (cfn.ROOT / ".venv/bin/sam").exists(), reason="SAM CLI absent")
def test_sam_validate_lint_passes():
    sam = shutil.which("sam") or str(cfn.ROOT / ".venv/bin/sam")
    result = subprocess.run(
        [sam, "validate", "--lint", "--template-file", str(cfn.TEMPLATE), "--region", "us-east-1"],
        check=False,
        capture_output=True,
        text=True,
        env={"SAM_CLI_TELEMETRY": "0", "PATH": "/usr/bin:/bin", "HOME": str(cfn.ROOT)},
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_every_handler_imports_and_exists(name, monkeypatch):
    module_name, function = FUNCTIONS[name]["Properties"]["Handler"].rsplit(".", 1)
    monkeypatch.setenv("LANE", "high")
    module = importlib.import_module(module_name)
    assert callable(getattr(module, function))


# Only the functions that validate submissions (submit, schedules, and a schedule's firing) load
# pydantic; the rest start without it.
WITH_PYDANTIC = {"SubmitFunction", "SchedulesFunction", "FiringFunction", "TaskTypesFunction"}
WITHOUT_PYDANTIC = sorted(name for name in FUNCTIONS if name not in WITH_PYDANTIC)


@pytest.mark.parametrize("name", WITHOUT_PYDANTIC)
def test_functions_that_only_move_or_read_tasks_start_without_pydantic(name):
    module_name = FUNCTIONS[name]["Properties"]["Handler"].rsplit(".", 1)[0]
    env = dict.fromkeys(REQUIRED_ENV, "x") | {"LANE": "high", "PYTHONPATH": str(cfn.ROOT / "functions")}
    env |= {"AWS_DEFAULT_REGION": "us-east-1", "POWERTOOLS_TRACE_DISABLED": "true"}
    probe = f"import sys, {module_name}; print(sorted(m for m in sys.modules if m.split('.')[0] == 'pydantic'))"
    result = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True, env=env)
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_no_function_loads_the_json_schema_validator_before_a_registered_type_needs_it(name):
    """jsonschema (and RE2, for its regexes) costs ~100 ms of imports: loaded with the first payload of a
    registered type (submit, schedules, firing, task types), never by a processor, which does not validate
    payloads."""
    module_name = FUNCTIONS[name]["Properties"]["Handler"].rsplit(".", 1)[0]
    env = dict.fromkeys(REQUIRED_ENV, "x") | {"LANE": "high", "PYTHONPATH": str(cfn.ROOT / "functions")}
    env |= {"AWS_DEFAULT_REGION": "us-east-1", "POWERTOOLS_TRACE_DISABLED": "true"}
    loaded = "sorted(m for m in sys.modules if m.split('.')[0] in ('jsonschema', 'referencing', 'rpds', 're2'))"
    probe = f"import sys, {module_name}, tasklane.logic.execution, tasklane.logic.targets; print({loaded})"
    result = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True, env=env)
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("name", sorted(set(FUNCTIONS) - {"SchedulesFunction"}))
def test_only_the_schedules_function_loads_the_cron_library(name):
    module_name = FUNCTIONS[name]["Properties"]["Handler"].rsplit(".", 1)[0]
    env = dict.fromkeys(REQUIRED_ENV, "x") | {"LANE": "high", "PYTHONPATH": str(cfn.ROOT / "functions")}
    env |= {"AWS_DEFAULT_REGION": "us-east-1", "POWERTOOLS_TRACE_DISABLED": "true"}
    probe = f"import sys, {module_name}; print(sorted(m for m in sys.modules if m.startswith('cronsim')))"
    result = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True, env=env)
    assert result.stdout.strip() == "[]"


def test_every_setting_the_code_reads_is_set_for_every_function():
    variables = cfn.template()["Globals"]["Function"]["Environment"]["Variables"]
    assert set(REQUIRED_ENV) <= set(variables)
    for name, function in FUNCTIONS.items():
        if function["Properties"]["Handler"].endswith("processor.lambda_handler"):
            assert function["Properties"]["Environment"]["Variables"]["LANE"] in ("high", "normal", "low"), name


def _statements(function):
    """A function's policy statements: its Policies, or those of the role it names (written for the functions
    SAM would otherwise give a managed policy on "*", tests/template/test_security.py); a conditional one
    (Fn::If) by each of its branches."""
    statements = [s for policy in function["Properties"].get("Policies", []) for s in policy["Statement"]]
    role = function["Properties"].get("Role")
    if role is not None:
        for policy in cfn.template()["Resources"][role["Fn::GetAtt"][0]]["Properties"].get("Policies", []):
            statements += policy["PolicyDocument"]["Statement"]
    for statement in statements:
        if "Fn::If" in statement:
            yield from (branch for branch in statement["Fn::If"][1:] if "Effect" in branch)
        else:
            yield statement


# Actions AWS authorizes on "*" only (no resource-level permissions), each reading no task data.
WITHOUT_RESOURCES = {"cloudwatch:GetMetricData"}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_no_role_has_a_wildcard_action_or_a_wildcard_data_resource(name):
    for statement in _statements(FUNCTIONS[name]):
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert all("*" not in action for action in actions), (name, actions)
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        if "*" in resources:
            # Allowed only in a statement of its own that grants nothing but such actions.
            assert set(actions) <= WITHOUT_RESOURCES, (name, actions)
            assert resources == ["*"], name


def test_the_listing_indexes_key_and_project_only_what_never_changes():
    """So that a task writes each listing index once (at submission), never at its claim or
    completion; each projects only the residual filters its listings apply."""
    table = cfn.template()["Resources"]["TasksTable"]["Properties"]
    indexes = {i["IndexName"]: i for i in table["GlobalSecondaryIndexes"]}
    expected = {
        "ByOwner": ("owner_shard", ["task_type", "priority", "created_at"]),
        "ByType": ("type_shard", ["priority"]),
        "BySchedule": ("schedule_key", ["task_type", "priority"]),
    }
    for name, (partition, projected) in expected.items():
        assert indexes[name]["KeySchema"] == [
            {"AttributeName": partition, "KeyType": "HASH"},
            {"AttributeName": "created_key", "KeyType": "RANGE"},
        ]
        assert indexes[name]["Projection"] == {"ProjectionType": "INCLUDE", "NonKeyAttributes": projected}


def test_the_status_function_reads_lane_figures_and_nothing_more():
    """GET /stats: queue attributes of the six lane queues and metric data, besides the task reads."""
    grants = {a: s["Resource"] for s in _statements(FUNCTIONS["StatusFunction"]) for a in s["Action"]}
    assert set(grants) == {
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",  # a listing reads its page's tasks from the table (ByOwner projects little)
        "dynamodb:Query",
        "s3:GetObject",
        "s3:ListBucket",
        "sqs:GetQueueAttributes",
        "cloudwatch:GetMetricData",
    }
    queues = [{"Fn::GetAtt": [f"{lane}{kind}", "Arn"]} for kind in ("Queue", "DeadLetterQueue") for lane in LANES]
    assert sorted(map(str, grants["sqs:GetQueueAttributes"])) == sorted(map(str, queues))
    assert grants["cloudwatch:GetMetricData"] == "*"


def test_the_status_function_gets_every_setting_of_get_stats():
    variables = FUNCTIONS["StatusFunction"]["Properties"]["Environment"]["Variables"]
    assert set(STATS_REQUIRED_ENV) <= set(variables)
    assert variables["THROUGHPUT_SOURCE"] == {"Ref": "ThroughputSource"}
    assert cfn.template()["Parameters"]["ThroughputSource"]["AllowedValues"] == ["cloudwatch", "tasks"]


def test_the_status_function_cannot_write():
    actions = [a for s in _statements(FUNCTIONS["StatusFunction"]) for a in s["Action"]]
    assert actions
    assert not [a for a in actions if any(w in a.split(":")[1] for w in WRITE_ACTIONS)]


LANES = ("High", "Normal", "Low")


@pytest.mark.parametrize("lane", LANES)
def test_each_lane_has_a_queue_a_dlq_and_a_processor_wired_as_specified(lane):
    resources = cfn.template()["Resources"]
    queue = resources[f"{lane}Queue"]["Properties"]
    dlq = resources[f"{lane}DeadLetterQueue"]["Properties"]
    assert queue["RedrivePolicy"]["maxReceiveCount"] == 5
    assert dlq["MessageRetentionPeriod"] == 14 * 24 * 3600
    events = resources[f"{lane}ProcessorFunction"]["Properties"]["Events"]["Lane"]["Properties"]
    assert events["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert events["ScalingConfig"]["MaximumConcurrency"] == {"Ref": f"{lane}LaneConcurrency"}
    assert events["Queue"] == {"Fn::GetAtt": [f"{lane}Queue", "Arn"]}


LANE_PARTS = ("DeadLetterQueue", "Queue", "ProcessorFunction", "ProcessorRole", "DeadLetterAlarm", "LaneAgeAlarm")


def test_the_lane_blocks_are_written_once_with_one_fn_foreach():
    """The five resources of a lane come from a single Fn::ForEach over the lanes; none is written out by hand."""
    written = cfn.source()
    assert written["Transform"] == ["AWS::LanguageExtensions", "AWS::Serverless-2016-10-31"]
    loops = {name: loop for name, loop in written["Resources"].items() if name.startswith(cfn.FOREACH)}
    assert len(loops) == 1, sorted(loops)
    [(identifier, collection, fragment)] = loops.values()
    assert collection == list(LANES)
    assert set(fragment) == {f"${{{identifier}}}{part}" for part in LANE_PARTS}
    assert not [name for name in written["Resources"] if name.startswith(LANES)]
    expanded = cfn.template()["Resources"]
    for lane in LANES:
        assert {f"{lane}{part}" for part in LANE_PARTS} <= set(expanded)
        function = expanded[f"{lane}ProcessorFunction"]["Properties"]
        assert function["Environment"]["Variables"]["LANE"] == lane.lower()
        assert function["Description"] == f"Runs the tasks of the {lane.lower()} lane."


def test_fn_foreach_expands_as_the_language_extensions_transform_does():
    """tests/cfn.py's expansion, on the forms the transform documents (keys, Fn::Sub, Ref, FindInMap, nesting)."""
    lower = {"Fn::FindInMap": ["Lower", {"Ref": "Id"}, "Name"]}
    document = {
        "Parameters": {"Names": {"Type": "CommaDelimitedList", "Default": "a.b, c"}},
        "Mappings": {"Lower": {"One": {"Name": "one"}, "Two": {"Name": "two"}}},
        "Resources": {
            "Kept": {"Type": "X", "Properties": {"Name": "${Id}"}},
            "Fn::ForEach::Outer": [
                "Id",
                ["One", "Two"],
                {
                    "${Id}Thing": {
                        "Type": "X",
                        "Properties": {
                            "Plain": "${Id} stays",
                            "Ref": {"Ref": "Id"},
                            "Other": {"Ref": {"Fn::Sub": "${Id}Param"}},
                            "Att": {"Fn::GetAtt": [{"Fn::Sub": "${Id}Queue"}, "Arn"]},
                            "Lower": lower,
                            "Text": {"Fn::Sub": ["${Id} is ${N}", {"N": lower}]},
                            "Late": {"Fn::Sub": "${Id}-${AWS::Region}"},
                        },
                    },
                    "Fn::ForEach::Inner": [
                        "Name",
                        {"Ref": "Names"},
                        {"${Id}&{Name}": {"Type": "Y", "Properties": {"Both": {"Fn::Sub": "${Id}/${Name}"}}}},
                    ],
                },
            ],
        },
    }
    resources = cfn.expand(document)["Resources"]
    assert list(resources) == ["Kept", "OneThing", "Oneab", "Onec", "TwoThing", "Twoab", "Twoc"]
    assert resources["Kept"] == document["Resources"]["Kept"]
    assert resources["TwoThing"]["Properties"] == {
        "Plain": "${Id} stays",
        "Ref": "Two",
        "Other": {"Ref": "TwoParam"},
        "Att": {"Fn::GetAtt": ["TwoQueue", "Arn"]},
        "Lower": "two",
        "Text": "Two is two",
        "Late": {"Fn::Sub": "Two-${AWS::Region}"},
    }
    assert resources["Oneab"]["Properties"] == {"Both": "One/a.b"}
    with pytest.raises(ValueError, match="defined twice"):
        cfn.expand({"Resources": {"OneThing": {}, "Fn::ForEach::L": ["Id", ["One"], {"${Id}Thing": {}}]}})


def test_lane_concurrency_defaults_are_10_5_2():
    params = cfn.template()["Parameters"]
    assert [params[f"{lane}LaneConcurrency"]["Default"] for lane in LANES] == [10, 5, 2]


def test_visibility_timeout_is_at_least_six_times_the_processor_timeout():
    mapping = cfn.template()["Mappings"]["LaneVisibility"]
    allowed = cfn.template()["Parameters"]["ProcessorTimeout"]["AllowedValues"]
    for timeout in allowed:
        assert int(mapping[str(timeout)]["Seconds"]) >= 6 * int(timeout)


def test_the_dead_letter_function_consumes_all_three_dlqs():
    events = FUNCTIONS["DeadLetterFunction"]["Properties"]["Events"]
    queues = {e["Properties"]["Queue"]["Fn::GetAtt"][0] for e in events.values()}
    assert queues == {f"{lane}DeadLetterQueue" for lane in LANES}


def test_the_tasks_table_is_on_demand_with_ttl_and_point_in_time_recovery():
    table = cfn.template()["Resources"]["TasksTable"]["Properties"]
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True


def test_outputs_name_everything_a_client_needs():
    outputs = cfn.template()["Outputs"]
    assert {"ApiUrl", "TasksTableName", "HighQueueUrl", "NormalQueueUrl", "LowQueueUrl"} <= set(outputs)


def test_the_api_requires_auth_on_every_route_but_health_and_the_console_page():
    body = cfn.template()["Resources"]["TasklaneApi"]["Properties"]["DefinitionBody"]
    assert body["security"] == {"Fn::If": ["UseApiKey", [{"api_key": []}], [{"sigv4": []}]]}
    for path, operations in body["paths"].items():
        for operation in operations.values():
            # The console's page and files carry no secret: they load before the page asks for a key.
            public = path in ("/health", "/console", "/console/{asset}")
            # An async attempt's routes: the token in the body is their only credential.
            by_token = path in {f"/tasks/{{task_id}}/{r}" for r in ("complete", "fail", "heartbeat", "result-upload")}
            assert ("security" in operation) == (public or by_token), path
            if public or by_token:
                assert operation["security"] == [], path
                assert list(operations) == (["post"] if by_token else ["get"]), path


@pytest.mark.parametrize("lane", LANES)
def test_each_lane_has_alarms_on_dlq_depth_and_oldest_message_age(lane):
    resources = cfn.template()["Resources"]
    dead = resources[f"{lane}DeadLetterAlarm"]["Properties"]
    assert dead["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert dead["Dimensions"][0]["Value"] == {"Fn::GetAtt": [f"{lane}DeadLetterQueue", "QueueName"]}
    age = resources[f"{lane}LaneAgeAlarm"]["Properties"]
    assert age["MetricName"] == "ApproximateAgeOfOldestMessage"
    assert age["Dimensions"][0]["Value"] == {"Fn::GetAtt": [f"{lane}Queue", "QueueName"]}
    for alarm in (dead, age):
        assert alarm["AlarmActions"] == {
            "Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]
        }


def test_the_dashboard_shows_depths_throughput_failures_and_durations():
    import json
    import re

    body = cfn.template()["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"][0]
    widgets = json.loads(re.sub(r"\$\{[A-Za-z:]+\}", "x", body))["widgets"]
    titles = " ".join(w["properties"]["title"] for w in widgets).lower()
    for word in ("depth", "throughput", "failures", "duration", "oldest"):
        assert word in titles


def test_the_values_bucket_is_encrypted_private_tls_only_and_expires_with_the_tasks():
    """The emulator drops encryption and lifecycle (docs: emulator notes), so they are checked here."""
    resources = cfn.template()["Resources"]
    bucket = resources["ValuesBucket"]["Properties"]
    rule = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert len(bucket["PublicAccessBlockConfiguration"]) == 4
    [expiry] = bucket["LifecycleConfiguration"]["Rules"]
    assert (expiry["Status"], expiry["ExpirationInDays"]) == ("Enabled", {"Ref": "TaskRetentionDays"})
    [tls] = resources["ValuesBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert (tls["Effect"], tls["Action"]) == ("Deny", "s3:*")
    assert tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def _s3_grants(name):
    grants = set()
    for statement in _statements(FUNCTIONS[name]):
        for action in statement["Action"]:
            if not action.startswith("s3:"):
                continue
            if action == "s3:ListBucket":  # on the bucket, narrowed to prefixes
                assert statement["Resource"] == {"Fn::GetAtt": ["ValuesBucket", "Arn"]}
                grants |= {(action, prefix) for prefix in statement["Condition"]["StringLike"]["s3:prefix"]}
            else:
                grants.add((action, statement["Resource"]["Fn::Sub"].split("}", 1)[1]))
    return grants


@pytest.mark.parametrize(
    ("name", "grants"),
    [
        (
            "StatusFunction",
            {("s3:GetObject", "/*"), ("s3:ListBucket", "payloads/*"), ("s3:ListBucket", "results/*")},
        ),
        (
            "HighProcessorFunction",
            {
                ("s3:GetObject", "/payloads/*"),
                ("s3:PutObject", "/results/*"),
                ("s3:ListBucket", "payloads/*"),
                ("s3:ListBucket", "results/*"),  # an uploaded result that is missing: a 404, not a 403
                ("s3:GetObject", "/results/*"),  # a workflow task's large inputs: the results it waited for
            },
        ),
        (
            "SubmitFunction",
            {
                ("s3:PutObject", "/payloads/*"),
                ("s3:GetObject", "/payloads/*"),
                ("s3:GetObject", "/results/*"),
                ("s3:PutObject", "/results/*"),  # signs an async worker's result upload URL
                ("s3:ListBucket", "payloads/*"),
                ("s3:ListBucket", "results/*"),
            },
        ),
        ("DeadLetterFunction", set()),
        ("ReconcilerFunction", set()),
    ],
)
def test_each_function_reaches_only_the_values_it_needs(name, grants):
    assert _s3_grants(name) == grants


def test_demo_task_types_are_off_on_aws_and_on_for_the_local_stack():
    import tomllib

    assert cfn.parameter_default("DemoTaskTypes") == "false"
    local = tomllib.loads((cfn.ROOT / "samconfig.toml").read_text())["local"]["global"]["parameters"]
    assert "DemoTaskTypes=true" in local["parameter_overrides"].split()


def test_snapstart_is_a_parameter_and_every_event_source_invokes_the_alias():
    """SnapStart=on sets ApplyOn: PublishedVersions on every function (Globals); every function is
    published under `live` either way, and the API's integrations and permissions name that alias
    (SAM points the SQS and schedule events at it)."""
    template = cfn.template()
    assert template["Parameters"]["SnapStart"]["Default"] == "off"
    assert template["Conditions"]["SnapStartOn"] == {"Fn::Equals": [{"Ref": "SnapStart"}, "on"]}
    function = template["Globals"]["Function"]
    assert function["AutoPublishAlias"] == "live"
    assert function["SnapStart"] == {
        "Fn::If": ["SnapStartOn", {"ApplyOn": "PublishedVersions"}, {"Ref": "AWS::NoValue"}]
    }
    text = json.dumps(template["Resources"]["TasklaneApi"])
    assert "Function.Arn" not in text
    assert text.count('"Ref": "SubmitFunction.Alias"') + text.count('"Ref": "StatusFunction.Alias"') >= 9
    for name in ("SubmitInvokePermission", "StatusInvokePermission"):
        assert template["Resources"][name]["Properties"]["FunctionName"]["Ref"].endswith("Function.Alias")


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_every_function_publishes_a_version_when_any_property_changes(name):
    """Else turning SnapStart off (a property, not code) would leave the alias on a SnapStart version."""
    assert FUNCTIONS[name]["Properties"]["AutoPublishAliasAllProperties"] is True


def _grants(name):
    grants = {}
    for statement in _statements(FUNCTIONS[name]):
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        for action in statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]:
            grants.setdefault(action, []).extend(resources)
    return grants


def test_the_schedules_function_manages_only_its_group_and_passes_only_the_scheduler_role():
    grants = _grants("SchedulesFunction")
    assert {a for a in grants if a.startswith("scheduler:")} == {
        "scheduler:CreateSchedule",
        "scheduler:UpdateSchedule",
        "scheduler:DeleteSchedule",
    }
    group = {"Fn::Sub": "arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}:schedule/${ScheduleGroup}/*"}
    assert grants["scheduler:CreateSchedule"] == [group]
    assert grants["iam:PassRole"] == [{"Fn::GetAtt": ["SchedulerRole", "Arn"]}]
    tables = {str(r) for a, rs in grants.items() if a.startswith("dynamodb:") for r in rs}
    # Never the tasks table; the task-types table only read (a schedule's task of a registered type).
    task_types = str({"Fn::GetAtt": ["TaskTypesTable", "Arn"]})
    assert tables == {str({"Fn::GetAtt": ["SchedulesTable", "Arn"]}), task_types}
    assert {a for a, rs in grants.items() if task_types in map(str, rs)} == {"dynamodb:GetItem"}
    variables = FUNCTIONS["SchedulesFunction"]["Properties"]["Environment"]["Variables"]
    assert set(SCHEDULER_REQUIRED_ENV) <= set(variables)
    assert variables["MAX_SCHEDULES_PER_OWNER"] == {"Ref": "MaxSchedulesPerOwner"}


def test_the_scheduler_role_may_only_invoke_the_firing_function():
    role = cfn.template()["Resources"]["SchedulerRole"]["Properties"]
    invoke, dead_letter = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
    assert invoke["Action"] == "lambda:InvokeFunction"
    assert invoke["Resource"] == {"Ref": "FiringFunction.Alias"}  # the live alias, as every event source
    assert (dead_letter["Action"], dead_letter["Resource"]) == (
        "sqs:SendMessage",
        {"Fn::GetAtt": ["FiringDeadLetterQueue", "Arn"]},
    )
    variables = FUNCTIONS["SchedulesFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["FIRING_FUNCTION_ARN"] == {"Ref": "FiringFunction.Alias"}
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "scheduler.amazonaws.com"}


def test_the_promoter_reads_only_the_due_index_and_writes_only_task_updates_and_lane_messages():
    grants = _grants("PromoterFunction")
    assert set(grants) == {"dynamodb:Query", "dynamodb:UpdateItem", "sqs:SendMessage"}
    assert grants["dynamodb:Query"] == [{"Fn::Sub": "${TasksTable.Arn}/index/Due"}]
    events = FUNCTIONS["PromoterFunction"]["Properties"]["Events"]
    assert {e["Properties"]["ScheduleExpression"]["Ref"] for e in events.values()} == {"PromoteSchedule"}
    groups = sorted(json.loads(e["Properties"]["Input"])["group"] for e in events.values())
    assert groups == [0, 1, 2, 3]  # every shard group runs each time
    assert {json.loads(e["Properties"]["Input"])["groups"] for e in events.values()} == {4}
    assert cfn.parameter_default("PromoteSchedule") == "rate(1 minute)"


def test_only_processors_may_invoke_target_functions_and_only_those_the_stack_names():
    """TargetFunctionArns decides which functions are targets: never lambda:InvokeFunction on '*', and
    with the parameter empty (the AWS default) the statement is not there at all."""
    granted = []
    for name, function in FUNCTIONS.items():
        statements = [s for policy in function["Properties"].get("Policies", []) for s in policy["Statement"]]
        if (role := function["Properties"].get("Role")) is not None:
            for policy in cfn.template()["Resources"][role["Fn::GetAtt"][0]]["Properties"].get("Policies", []):
                statements += policy["PolicyDocument"]["Statement"]
        for statement in statements:
            conditional = "Fn::If" in statement
            for branch in statement["Fn::If"][1:] if conditional else [statement]:
                if "Effect" not in branch or "lambda:InvokeFunction" not in branch["Action"]:
                    continue
                granted.append(name)
                assert function["Properties"]["Handler"].endswith("processor.lambda_handler"), name
                assert conditional
                assert statement["Fn::If"][0] == "HasTargetFunctions"
                assert statement["Fn::If"][2] == {"Ref": "AWS::NoValue"}
                assert branch["Resource"] == {"Fn::Split": [",", {"Ref": "TargetFunctionArns"}]}
    assert sorted(granted) == ["HighProcessorFunction", "LowProcessorFunction", "NormalProcessorFunction"]
    assert cfn.parameter_default("TargetFunctionArns") == ""
    assert cfn.template()["Conditions"]["HasTargetFunctions"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "TargetFunctionArns"}, ""]}]
    }


@pytest.mark.parametrize(
    "declared",
    [
        "tasklane.settings.Settings",
        "tasklane.settings.webhooks.WebhookSettings",
        "tasklane.settings.stats.StatsSettings",
        "tasklane.settings.scheduler.SchedulerSettings",
    ],
)
def test_each_settings_class_is_set_where_it_says_it_is_read_and_parses_from_that_environment(declared):
    from tasklane.settings.environment import EVERY_FUNCTION, required_env

    module, name = declared.rsplit(".", 1)
    cls = getattr(importlib.import_module(module), name)
    if cls.READ_BY == EVERY_FUNCTION:
        variables = cfn.template()["Globals"]["Function"]["Environment"]["Variables"]
    else:
        variables = FUNCTIONS[cls.READ_BY]["Properties"]["Environment"]["Variables"]
    required = required_env(cls)
    assert required
    assert set(required) <= set(variables)
    # Every required variable is read: one missing is a KeyError naming it.
    numbers = dict.fromkeys(required, "1") | {"THROUGHPUT_SOURCE": "tasks", "RATE_LIMITS": ""}
    assert cls.from_env(numbers) is not None
    for missing in required:
        with pytest.raises(KeyError, match=missing):
            cls.from_env({k: v for k, v in numbers.items() if k != missing})


def test_lane_is_a_processor_s_own_setting_and_optional_elsewhere():
    from tasklane.model.lanes import Lane
    from tasklane.settings import REQUIRED_ENV, Settings

    env = dict.fromkeys(REQUIRED_ENV, "1") | {"RATE_LIMITS": "", "DEMO_TASK_TYPES": "TRUE"}
    assert "LANE" not in REQUIRED_ENV
    assert Settings.from_env(env).lane is None
    settings = Settings.from_env(env | {"LANE": "low", "PROCESSOR_TIMEOUT_SECONDS": "60"})
    assert (settings.lane, settings.max_task_timeout_seconds, settings.demo_task_types) == (Lane.LOW, 30, True)
    assert settings.queue_urls == dict.fromkeys(Lane, "1")


def test_the_token_routes_are_throttled_by_the_stage_for_every_caller_together():
    api = cfn.template()["Resources"]["TasklaneApi"]["Properties"]
    throttled = {
        (m["ResourcePath"], m["HttpMethod"]): (m["ThrottlingRateLimit"], m["ThrottlingBurstLimit"])
        for m in api["MethodSettings"]
    }
    for route in ("complete", "fail", "heartbeat", "result-upload"):
        assert throttled[(f"/~1tasks~1{{task_id}}~1{route}", "POST")] == (
            {"Ref": "CompletionRateLimit"},
            {"Ref": "CompletionBurstLimit"},
        )
