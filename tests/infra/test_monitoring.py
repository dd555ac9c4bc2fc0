"""The pipeline's alarms, the operations topic they notify, and the dashboard, as packaged.

Reads build/dev/package/sam.json as a user would deploy it: every mapping,
function and dead-letter path is watched, every alarm reaches the operations
topic, and the dashboard's body is valid JSON naming what exists.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from infra import monitoring
from infra.stages import load_stage

pytestmark = pytest.mark.slow

OPERATIONS_TOPIC = {"Ref": "OperationsTopic"}
STREAM_FUNCTIONS = {"Aggregate", "Persist", "Vitals", "AggregateTrips", "PersistInsights"}


def of_type(resources: dict[str, Any], kind: str) -> dict[str, Any]:
    return {k: v for k, v in resources.items() if v["Type"] == kind}


def function_names(resources: dict[str, Any]) -> dict[str, str]:
    """Logical id -> FunctionName of every function in the packaged template."""
    return {
        logical_id: r["Properties"]["FunctionName"]
        for logical_id, r in of_type(resources, "AWS::Serverless::Function").items()
    }


def watched(alarms: dict[str, Any], namespace: str, metric: str) -> dict[str, dict[str, Any]]:
    """Dimension value -> alarm properties, for the alarms on one metric."""
    found = {}
    for alarm in alarms.values():
        properties = alarm["Properties"]
        if (properties.get("Namespace"), properties.get("MetricName")) == (namespace, metric):
            (dimension,) = properties["Dimensions"]
            found[dimension["Value"]] = properties
    return found


@pytest.fixture(scope="module")
def alarms(resources: dict[str, Any]) -> dict[str, Any]:
    return of_type(resources, "AWS::CloudWatch::Alarm")


def test_each_mapping_has_an_iterator_age_alarm_on_its_function(
    resources: dict[str, Any], alarms: dict[str, Any]
) -> None:
    mapped = {
        logical_id: function_names(resources)[logical_id]
        for logical_id, r in of_type(resources, "AWS::Serverless::Function").items()
        if any(e["Type"] == "Kinesis" for e in r["Properties"].get("Events", {}).values())
    }
    assert set(mapped) == STREAM_FUNCTIONS
    ages = watched(alarms, "AWS/Lambda", "IteratorAge")
    assert set(ages) == set(mapped.values())
    for properties in ages.values():
        # The oldest record of each minute, over two minutes old three minutes running.
        assert properties["Statistic"] == "Maximum"
        assert (properties["Period"], properties["EvaluationPeriods"]) == (60, 3)
        assert properties["Threshold"] == 120_000
        assert properties["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


@pytest.mark.parametrize("metric", ["Errors", "Throttles"])
def test_every_function_has_an_alarm_on_its_first_error_and_throttle(
    resources: dict[str, Any], alarms: dict[str, Any], metric: str
) -> None:
    on_metric = watched(alarms, "AWS/Lambda", metric)
    assert set(on_metric) == set(function_names(resources).values())
    assert len(on_metric) == 7
    for properties in on_metric.values():
        assert (properties["Statistic"], properties["Threshold"]) == ("Sum", 1)


def test_a_batch_given_up_on_and_a_dead_lettered_record_each_raise_an_alarm(
    resources: dict[str, Any], alarms: dict[str, Any]
) -> None:
    depth = watched(alarms, "AWS/SQS", "ApproximateNumberOfMessagesVisible")
    queue = resources["FailureQueue"]["Properties"]["QueueName"]
    assert set(depth) == {queue}
    assert depth[queue]["Threshold"] == 1

    dead = alarms["DeadLetteredRecordsAlarm"]["Properties"]
    stats = {q["Id"]: q["MetricStat"] for q in dead["Metrics"] if "MetricStat" in q}
    read = {
        (
            s["Metric"]["Namespace"],
            s["Metric"]["MetricName"],
            s["Metric"]["Dimensions"][0]["Value"],
        )
        for s in stats.values()
    }
    assert read == {
        ("WildRydes", "InvalidRecords", "wildrydes-dev-aggregate"),
        ("WildRydes", "SummariesRejected", "wildrydes-dev-persist"),
        ("WildRydes", "InvalidRecords", "wildrydes-dev-aggregate_trips"),
        ("WildRydes", "ZoneWindowsRejected", "wildrydes-dev-persist_insights"),
    }
    (total,) = [q for q in dead["Metrics"] if q.get("ReturnData")]
    # A period with no rejects from one function must not hide the other's.
    assert total["Expression"] == " + ".join(f"FILL({i}, 0)" for i in sorted(stats))
    assert dead["Threshold"] == 1


def test_every_alarm_tells_the_operations_topic_when_it_fires_and_when_it_clears(
    alarms: dict[str, Any],
) -> None:
    assert len(alarms) == len(STREAM_FUNCTIONS) + 2 * 7 + 2
    names = set()
    for alarm in alarms.values():
        properties = alarm["Properties"]
        assert properties["AlarmActions"] == properties["OKActions"] == [OPERATIONS_TOPIC]
        assert properties["ActionsEnabled"] is True
        # No records or no invocations is a quiet pipeline, not a broken one.
        assert properties["TreatMissingData"] == "notBreaching"
        assert properties["AlarmDescription"]
        names.add(properties["AlarmName"])
    assert len(names) == len(alarms)
    assert all(name.startswith("wildrydes-dev-") for name in names)
    # Each names its function; the API's (named after the stage alone) as "api".
    assert {"wildrydes-dev-api-errors", "wildrydes-dev-vitals-throttles"} <= names


def test_the_operations_topic_is_encrypted_tls_only_and_open_only_to_this_accounts_alarms(
    resources: dict[str, Any], sam: dict[str, Any]
) -> None:
    topic = resources["OperationsTopic"]["Properties"]
    assert topic["KmsMasterKeyId"] == {"Ref": "DataKey"}
    assert topic["TopicName"] == "wildrydes-dev-operations"
    policy = resources["OperationsTopicPolicy"]["Properties"]
    assert policy["Topics"] == [OPERATIONS_TOPIC]
    deny, allow = policy["PolicyDocument"]["Statement"]
    assert (deny["Effect"], deny["Condition"]) == (
        "Deny",
        {"Bool": {"aws:SecureTransport": "false"}},
    )
    assert allow["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert allow["Action"] == "sns:Publish"
    assert allow["Resource"] == OPERATIONS_TOPIC
    assert allow["Condition"] == {
        "ArnLike": {
            "aws:SourceArn": {
                "Fn::Sub": "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}"
                ":alarm:*"
            }
        }
    }
    subscription = resources["OperationsEmailSubscription"]
    assert subscription["Condition"] == "HasOperationsEmail"
    assert subscription["Properties"]["Endpoint"] == {"Ref": "OperationsEmail"}
    assert sam["Parameters"]["OperationsEmail"]["Default"] == ""
    assert sam["Outputs"]["OperationsTopicArn"]["Value"] == OPERATIONS_TOPIC


def dashboard(resources: dict[str, Any]) -> dict[str, Any]:
    """The dashboard body as CloudFormation would substitute it in us-east-1."""
    (resource,) = of_type(resources, "AWS::CloudWatch::Dashboard").values()
    text = resource["Properties"]["DashboardBody"]["Fn::Sub"]
    values = {
        "AWS::Region": "us-east-1",
        "AWS::AccountId": "123456789012",
        "AWS::Partition": "aws",
    }
    substituted = re.sub(r"\$\{([^}]+)\}", lambda m: values[m.group(1)], text)
    body: dict[str, Any] = json.loads(substituted)
    return body


def test_the_dashboard_shows_every_function_and_every_alarm(
    resources: dict[str, Any], alarms: dict[str, Any]
) -> None:
    body = dashboard(resources)
    graphs = [w["properties"] for w in body["widgets"] if w["type"] == "metric"]
    titles = [g["title"] for g in graphs]
    assert titles[:4] == [
        "Records in",
        "Iterator age (ms): how long records waited",
        "Output",
        "Invalid and discarded",
    ]
    assert {"Errors", "Throttles", "Duration p99 (ms)"} <= set(titles)
    functions = set(function_names(resources).values())
    for graph in graphs:
        assert graph["region"] == "us-east-1"
        for line in graph["metrics"]:
            namespace, _metric, dimension, value = line[:4]
            if dimension in {"FunctionName", "Function"}:
                assert value in functions, (graph["title"], value)
            if dimension == "Function":  # the functions' own embedded metrics
                assert namespace == "WildRydes"
    errors = next(g for g in graphs if g["title"] == "Errors")
    assert {line[3] for line in errors["metrics"]} == functions
    (alarm_widget,) = [w["properties"] for w in body["widgets"] if w["type"] == "alarm"]
    assert sorted(arn.rpartition(":alarm:")[2] for arn in alarm_widget["alarms"]) == sorted(
        a["Properties"]["AlarmName"] for a in alarms.values()
    )
    assert all(
        arn.startswith("arn:aws:cloudwatch:us-east-1:123456789012:")
        for arn in alarm_widget["alarms"]
    )


def test_the_metrics_namespace_follows_the_stages_setting(config_path: Any) -> None:
    config = json.loads(config_path.read_text())
    config["stages"]["dev"]["environment_variables"] = {"METRICS_NAMESPACE": "Fleet/Test"}
    config_path.write_text(json.dumps(config))
    stage = load_stage("dev", config_path)
    (dead,) = [a for a in monitoring.alarms(stage) if a.logical_id == "DeadLetteredRecordsAlarm"]
    assert {q["MetricStat"]["Metric"]["Namespace"] for q in dead.metrics if "MetricStat" in q} == {
        "Fleet/Test"
    }
    assert '"Fleet/Test"' in json.dumps(monitoring.dashboard_body(stage))
