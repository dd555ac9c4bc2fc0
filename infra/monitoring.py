"""Watching the pipeline: alarms, the operations topic they notify, and a CloudWatch dashboard.

Vitals alerts (the alert topic) are about unicorns; these are about the
pipeline itself, for whoever runs it. Every alarm notifies the operations
topic when it fires and when it clears:

- each event source mapping's iterator age (records waiting too long: the
  function falls behind, alerts arrive late);
- each function's errors and throttles;
- the failure queue's depth (a mapping gave up on a batch) and records
  dead-lettered by the functions (`InvalidRecords`, `SummariesRejected`
  from their embedded metrics: bad data in `dead-letter/`).

Thresholds are constants below, each with its reason. The dashboard shows the
same metrics beside the throughput figures (records in, summaries written,
alerts sent, the streams' and tables' own metrics).

Alarms and dashboard name functions by their fixed names, not by reference,
so the supporting stack (made before `chalice deploy` creates the functions)
can hold them as well as the packaged template.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from chalicelib import names
from chalicelib.observability import DEFAULT_NAMESPACE
from infra import names as infra_names
from infra.cfn import deny_without_tls, ref, sub
from infra.stages import Stage
from infra.triggers import function_logical_ids, kinesis_triggers

OPERATIONS_TOPIC_ID = "OperationsTopic"
OPERATIONS_TOPIC_POLICY_ID = "OperationsTopicPolicy"
OPERATIONS_SUBSCRIPTION_ID = "OperationsEmailSubscription"
DASHBOARD_ID = "Dashboard"
OPERATIONS_EMAIL = "OperationsEmail"
HAS_OPERATIONS_EMAIL = "HasOperationsEmail"
OPERATIONS_TOPIC_OUTPUT = "OperationsTopicArn"
DASHBOARD_OUTPUT = "DashboardUrl"
ALARM_ARN = "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:"

# A record older than this when its function reads it has waited too long:
# vitals alerts are meant to arrive within seconds. Three minutes in a row,
# so that one slow batch (a cold start, a retried call) does not page anyone.
ITERATOR_AGE_LIMIT_MS = 120_000
ITERATOR_AGE_MINUTES = 3
# Errors, throttles, discarded batches and dead letters are each worth a look
# at the first one; counted over five minutes, one email per episode.
COUNT_PERIOD_SECONDS = 300
# Function -> the embedded metric counting what it wrote to `dead-letter/`.
# vitals rejects the same raw records as aggregate; counting both would
# double every bad record, so aggregate speaks for the raw stream.
DEAD_LETTER_METRICS = {
    "aggregate": "InvalidRecords",
    "persist": "SummariesRejected",
    "aggregate_trips": "InvalidRecords",
    "persist_insights": "ZoneWindowsRejected",
}
# How alarm names call a function whose own name does not say what it is.
ALARM_LABELS = {infra_names.API_HANDLER_FUNCTION: "api"}
# Function -> the embedded metric counting what it read.
READ_METRICS = {
    "aggregate": "RecordsIn",
    "vitals": "RecordsIn",
    "persist": "SummariesIn",
    "aggregate_trips": "RecordsIn",
    "persist_insights": "ZoneWindowsIn",
}


@dataclass(frozen=True)
class Alarm:
    """One CloudWatch alarm: what it watches and when it fires."""

    logical_id: str
    name: str
    description: str
    threshold: float
    period: int
    evaluation_periods: int
    # One metric (namespace, name, dimensions, statistic) or, for a sum of
    # several, CloudWatch's metric-math list.
    metric: dict[str, Any] = field(default_factory=dict)
    metrics: tuple[dict[str, Any], ...] = ()

    def properties(self, topic: Any) -> dict[str, Any]:
        """The alarm's CloudFormation properties, notifying `topic` on alarm and on OK."""
        properties: dict[str, Any] = {
            "AlarmName": self.name,
            "AlarmDescription": self.description,
            "ActionsEnabled": True,
            "AlarmActions": [topic],
            "OKActions": [topic],
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "Threshold": self.threshold,
            "EvaluationPeriods": self.evaluation_periods,
            "DatapointsToAlarm": self.evaluation_periods,
            # No data means no records, no invocations, no failures: not a fault.
            "TreatMissingData": "notBreaching",
        }
        if self.metrics:
            properties["Metrics"] = list(self.metrics)
        else:
            properties.update(self.metric)
            properties["Period"] = self.period
        return properties


def _lambda_metric(metric: str, function_name: str, statistic: str) -> dict[str, Any]:
    return {
        "Namespace": "AWS/Lambda",
        "MetricName": metric,
        "Dimensions": [{"Name": "FunctionName", "Value": function_name}],
        "Statistic": statistic,
    }


def alarms(stage: Stage) -> tuple[Alarm, ...]:
    """Every alarm of the stage, in a stable order."""

    def function_name(function: str) -> str:
        return infra_names.function_name(stage.app_name, stage.name, function)

    prefix = f"{stage.app_name}-{stage.name}"
    found = []
    for trigger in kinesis_triggers():
        name = function_name(trigger.function)
        found.append(
            Alarm(
                logical_id=f"{trigger.logical_id}IteratorAgeAlarm",
                name=f"{name}-iterator-age",
                description=(
                    f"{trigger.function} is falling behind on {trigger.stream}: its records "
                    f"waited over {ITERATOR_AGE_LIMIT_MS // 1000} s for "
                    f"{ITERATOR_AGE_MINUTES} minutes in a row"
                ),
                metric=_lambda_metric("IteratorAge", name, "Maximum"),
                threshold=ITERATOR_AGE_LIMIT_MS,
                period=60,
                evaluation_periods=ITERATOR_AGE_MINUTES,
            )
        )
    for function, logical_id in function_logical_ids().items():
        name = function_name(function)
        for metric, what in (("Errors", "failed"), ("Throttles", "was throttled")):
            found.append(
                Alarm(
                    logical_id=f"{logical_id}{metric}Alarm",
                    # The API's function is named after the stage alone; its
                    # alarms say "api" rather than look like the stage's.
                    name=f"{prefix}-{ALARM_LABELS.get(function, function)}-{metric.lower()}",
                    description=f"{function} {what} in the last 5 minutes (see its log group)",
                    metric=_lambda_metric(metric, name, "Sum"),
                    threshold=1,
                    period=COUNT_PERIOD_SECONDS,
                    evaluation_periods=1,
                )
            )
    found.append(
        Alarm(
            logical_id="FailureQueueDepthAlarm",
            name=f"{prefix}-failure-queue-depth",
            description=(
                f"a stream function gave up on a batch: {infra_names.FAILURE_QUEUE} holds "
                "its description (shard, sequence numbers) to replay from"
            ),
            metric={
                "Namespace": "AWS/SQS",
                "MetricName": "ApproximateNumberOfMessagesVisible",
                "Dimensions": [{"Name": "QueueName", "Value": infra_names.FAILURE_QUEUE}],
                "Statistic": "Maximum",
            },
            threshold=1,
            period=COUNT_PERIOD_SECONDS,
            evaluation_periods=1,
        )
    )
    found.append(_dead_letter_alarm(stage, prefix, function_name))
    return tuple(found)


def _dead_letter_alarm(stage: Stage, prefix: str, function_name: Any) -> Alarm:
    """Records the functions kept in `dead-letter/`, summed over the functions that write there."""
    queries = []
    for index, (function, metric) in enumerate(sorted(DEAD_LETTER_METRICS.items())):
        queries.append(
            {
                "Id": f"m{index}",
                "Label": f"{function} {metric}",
                "ReturnData": False,
                "MetricStat": {
                    "Metric": {
                        "Namespace": metrics_namespace(stage),
                        "MetricName": metric,
                        "Dimensions": [{"Name": "Function", "Value": function_name(function)}],
                    },
                    "Period": COUNT_PERIOD_SECONDS,
                    "Stat": "Sum",
                },
            }
        )
    total = " + ".join(f"FILL({q['Id']}, 0)" for q in queries)
    queries.append(
        {"Id": "deadlettered", "Label": "records dead-lettered", "Expression": total}
        | {"ReturnData": True}
    )
    return Alarm(
        logical_id="DeadLetteredRecordsAlarm",
        name=f"{prefix}-dead-lettered-records",
        description=(
            f"records were rejected as invalid and kept under {names.DEAD_LETTER_PREFIX} "
            "in the archive bucket, each with its reason"
        ),
        metrics=tuple(queries),
        threshold=1,
        period=COUNT_PERIOD_SECONDS,
        evaluation_periods=1,
    )


def metrics_namespace(stage: Stage) -> str:
    """The namespace of the functions' embedded metrics (the METRICS_NAMESPACE setting)."""
    return stage.environment_variables.get("METRICS_NAMESPACE") or DEFAULT_NAMESPACE


def dashboard_name(stage: Stage) -> str:
    return f"{stage.app_name}-{stage.name}"


def monitoring_fragment(stage: Stage, key: Any) -> dict[str, Any]:
    """Parameters, Conditions, Resources and Outputs of the monitoring, encrypted with `key`."""
    topic = ref(OPERATIONS_TOPIC_ID)
    resources: dict[str, Any] = {
        OPERATIONS_TOPIC_ID: {
            "Type": "AWS::SNS::Topic",
            "Properties": {
                "TopicName": f"{stage.app_name}-{stage.name}-operations",
                "DisplayName": "Wild Rydes operations",
                "KmsMasterKeyId": key,
            },
        },
        OPERATIONS_TOPIC_POLICY_ID: {
            "Type": "AWS::SNS::TopicPolicy",
            "Properties": {
                "Topics": [topic],
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        deny_without_tls("sns:Publish", topic),
                        {
                            # CloudWatch publishes as its service principal;
                            # only this account's alarms in this region may.
                            "Sid": "AlarmsOfThisAccount",
                            "Effect": "Allow",
                            "Principal": {"Service": "cloudwatch.amazonaws.com"},
                            "Action": "sns:Publish",
                            "Resource": topic,
                            "Condition": {"ArnLike": {"aws:SourceArn": sub(ALARM_ARN + "*")}},
                        },
                    ],
                },
            },
        },
        OPERATIONS_SUBSCRIPTION_ID: {
            "Type": "AWS::SNS::Subscription",
            "Condition": HAS_OPERATIONS_EMAIL,
            "Properties": {
                "TopicArn": topic,
                "Protocol": "email",
                "Endpoint": ref(OPERATIONS_EMAIL),
            },
        },
        DASHBOARD_ID: {
            "Type": "AWS::CloudWatch::Dashboard",
            "Properties": {
                "DashboardName": dashboard_name(stage),
                "DashboardBody": sub(json.dumps(dashboard_body(stage), separators=(",", ":"))),
            },
        },
    }
    for alarm in alarms(stage):
        resources[alarm.logical_id] = {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": alarm.properties(topic),
        }
    return {
        "Parameters": {
            OPERATIONS_EMAIL: {
                "Type": "String",
                "Default": "",
                "AllowedPattern": r"^$|^[^@\s]+@[^@\s]+$",
                "ConstraintDescription": "an email address, or empty for no email",
                "Description": (
                    "Email address subscribed to the pipeline's alarms (falling behind, "
                    "errors, throttles, dead letters); empty for none"
                ),
            },
        },
        "Conditions": {
            HAS_OPERATIONS_EMAIL: {"Fn::Not": [{"Fn::Equals": [ref(OPERATIONS_EMAIL), ""]}]}
        },
        "Resources": resources,
        "Outputs": {
            OPERATIONS_TOPIC_OUTPUT: {
                "Description": "Topic the pipeline's alarms notify (subscribe operations here)",
                "Value": topic,
            },
            DASHBOARD_OUTPUT: {
                "Description": "The pipeline's CloudWatch dashboard",
                "Value": sub(
                    "https://${AWS::Region}.console.aws.amazon.com/cloudwatch/home"
                    f"?region=${{AWS::Region}}#dashboards:name={dashboard_name(stage)}"
                ),
            },
        },
    }


def dashboard_body(stage: Stage) -> dict[str, Any]:
    """The dashboard's widgets, as CloudWatch's dashboard body (before `Fn::Sub`)."""
    namespace = metrics_namespace(stage)
    functions = {
        function: infra_names.function_name(stage.app_name, stage.name, function)
        for function in function_logical_ids()
    }
    streams = [trigger.function for trigger in kinesis_triggers()]

    def emf(metric: str, function: str, label: str) -> list[Any]:
        return [namespace, metric, "Function", functions[function], {"label": label}]

    def per_function(metric: str, which: list[str], stat: str) -> list[list[Any]]:
        return [
            ["AWS/Lambda", metric, "FunctionName", functions[f], {"label": f, "stat": stat}]
            for f in which
        ]

    def graph(
        title: str, metrics: list[list[Any]], stat: str = "Sum", **extra: Any
    ) -> dict[str, Any]:
        return {
            "type": "metric",
            "width": 12,
            "height": 6,
            "properties": {
                "title": title,
                "region": "${AWS::Region}",
                "view": "timeSeries",
                "stat": stat,
                "period": 60,
                "metrics": metrics,
                **extra,
            },
        }

    age_line = {"value": ITERATOR_AGE_LIMIT_MS, "label": "alarm", "color": "#d62728"}
    widgets = [
        {
            "type": "text",
            "width": 24,
            "height": 2,
            "properties": {
                "markdown": (
                    f"## Wild Rydes, stage {stage.name}\n"
                    "Raw records in → per-minute summaries → DynamoDB; vitals alerts by "
                    "email. Alarms notify the operations topic; dead letters are under "
                    f"`{names.DEAD_LETTER_PREFIX}` in the archive bucket."
                )
            },
        },
        graph(
            "Records in",
            [
                [
                    "AWS/Kinesis",
                    "IncomingRecords",
                    "StreamName",
                    names.RAW_STREAM,
                    {"label": f"{names.RAW_STREAM} (produced)"},
                ],
                [
                    "AWS/Kinesis",
                    "IncomingRecords",
                    "StreamName",
                    names.TRIP_STREAM,
                    {"label": f"{names.TRIP_STREAM} (produced)"},
                ],
                *[emf(metric, f, f"{f} read") for f, metric in READ_METRICS.items()],
            ],
        ),
        graph(
            "Iterator age (ms): how long records waited",
            per_function("IteratorAge", streams, "Maximum"),
            stat="Maximum",
            annotations={"horizontal": [age_line]},
        ),
        graph(
            "Output",
            [
                emf("SummariesEmitted", "aggregate", "summaries emitted"),
                emf("SummariesWritten", "persist", "summaries written"),
                emf("PartialsEmitted", "aggregate_trips", "taxi partials emitted"),
                emf("ZoneWindowsWritten", "persist_insights", "taxi zone windows written"),
                emf("AlertsSent", "vitals", "alerts sent"),
                emf("RecoveriesSent", "vitals", "recoveries sent"),
            ],
        ),
        graph(
            "Invalid and discarded",
            [
                *[emf(metric, f, f"{f} {metric}") for f, metric in DEAD_LETTER_METRICS.items()],
                [
                    "AWS/SQS",
                    "ApproximateNumberOfMessagesVisible",
                    "QueueName",
                    infra_names.FAILURE_QUEUE,
                    {"label": "failure queue", "stat": "Maximum"},
                ],
            ],
        ),
        graph("Errors", per_function("Errors", list(functions), "Sum")),
        graph("Throttles", per_function("Throttles", list(functions), "Sum")),
        graph("Duration p99 (ms)", per_function("Duration", list(functions), "p99"), stat="p99"),
        graph(
            "DynamoDB writes (consumed units)",
            [
                [
                    "AWS/DynamoDB",
                    "ConsumedWriteCapacityUnits",
                    "TableName",
                    table,
                    {"label": table},
                ]
                for table in (
                    names.SUMMARY_TABLE,
                    names.STATUS_TABLE,
                    names.SHARD_TURN_TABLE,
                    names.INSIGHT_TABLE,
                )
            ],
        ),
        {
            "type": "alarm",
            "width": 24,
            "height": 4,
            "properties": {
                "title": "Alarms",
                "alarms": [ALARM_ARN + a.name for a in alarms(stage)],
            },
        },
    ]
    return {"widgets": widgets}
