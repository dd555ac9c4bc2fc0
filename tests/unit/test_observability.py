"""JSON log lines and embedded-metric-format documents, and the settings that choose them."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from chalicelib.errors import ConfigurationError
from chalicelib.observability import (
    JsonFormatter,
    JsonHandler,
    Metrics,
    bind,
    configure_logging,
)
from chalicelib.settings import load_settings

CONTEXT = SimpleNamespace(aws_request_id="c6af9ac6-7b61", function_name="wildrydes-dev-vitals")
NOW = datetime(2026, 11, 22, 14, 10, 0, 250000, tzinfo=UTC).timestamp()


def record(
    message: str = "sent %s",
    *args: object,
    exc_info: Any = None,
    extra: dict[str, object] | None = None,
) -> logging.LogRecord:
    made = logging.getLogger("chalicelib.pipeline.batches").makeRecord(
        "chalicelib.pipeline.batches",
        logging.INFO,
        __file__,
        1,
        message,
        args or (("alert",) if "%s" in message else ()),
        exc_info,
        extra=extra,
    )
    made.created = NOW
    return made


def formatted(made: logging.LogRecord) -> dict[str, Any]:
    line = JsonFormatter().format(made)
    assert "\n" not in line
    document: dict[str, Any] = json.loads(line)
    return document


def test_a_log_line_is_one_json_object_with_level_message_logger_and_time() -> None:
    assert formatted(record()) == {
        "level": "INFO",
        "message": "sent alert",
        "logger": "chalicelib.pipeline.batches",
        "time": "2026-11-22T14:10:00.250Z",
    }


def test_inside_an_invocation_the_line_names_its_request_and_function() -> None:
    with bind(CONTEXT):
        document = formatted(record())
    assert document["request_id"] == "c6af9ac6-7b61"
    assert document["function"] == "wildrydes-dev-vitals"
    assert "request_id" not in formatted(record())  # unbound once the invocation is over


def test_an_exception_is_kept_with_its_traceback_on_the_same_line() -> None:
    try:
        raise ValueError("no such unicorn")
    except ValueError:
        made = record("failed\nbadly", exc_info=sys.exc_info())
    document = formatted(made)
    assert document["message"] == "failed\nbadly"
    assert document["exception"].startswith("Traceback (most recent call last)")
    assert "ValueError: no such unicorn" in document["exception"]


def test_extra_fields_are_added_and_values_json_cannot_hold_become_text() -> None:
    when = datetime(2026, 11, 22, tzinfo=UTC)
    made = record(extra={"unicorn": "Shadowfax", "records": 3, "ids": ["a"], "when": when})
    document = formatted(made)
    assert document["unicorn"] == "Shadowfax"
    assert document["records"] == 3 and document["ids"] == ["a"]
    assert document["when"] == repr(when)


@pytest.fixture
def chalicelib_logger() -> Iterator[logging.Logger]:
    logger = logging.getLogger("chalicelib")
    handlers, propagate = list(logger.handlers), logger.propagate
    yield logger
    logger.handlers[:] = handlers
    logger.propagate = propagate


def test_json_logging_writes_each_record_once_through_one_handler(
    chalicelib_logger: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("json")
    configure_logging("json")  # settings are loaded again: still one handler
    logging.getLogger("chalicelib.pipeline.batches").warning("window %s closed", "14:05")

    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line)["message"] for line in lines] == ["window 14:05 closed"]
    assert sum(isinstance(h, JsonHandler) for h in chalicelib_logger.handlers) == 1
    assert chalicelib_logger.propagate is False  # Lambda's root handler does not repeat it

    configure_logging("text")
    assert chalicelib_logger.handlers == [] and chalicelib_logger.propagate is True


def test_a_handler_someone_else_installed_is_left_alone(
    chalicelib_logger: logging.Logger, tmp_path: Any
) -> None:
    theirs = logging.FileHandler(tmp_path / "functions.log")
    chalicelib_logger.addHandler(theirs)
    chalicelib_logger.propagate = False

    configure_logging("json")

    assert chalicelib_logger.handlers == [theirs]
    theirs.close()


def emitted(metrics: Metrics) -> list[dict[str, Any]]:
    lines: list[str] = []
    metrics.write = lines.append
    metrics.flush()
    return [json.loads(line) for line in lines]


def test_a_flush_is_one_emf_document_naming_exactly_the_metrics_it_holds() -> None:
    metrics = Metrics("aggregate", clock=lambda: NOW)
    metrics.count("RecordsIn", 5)
    metrics.count("InvalidRecords", 2)
    metrics.count("InvalidRecords")
    metrics.iterator_lag(NOW - 1.5)
    metrics.put("ReportBytes", 2048, "Bytes")

    (document,) = emitted(metrics)

    assert document == {
        "_aws": {
            "Timestamp": int(NOW * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": "WildRydes",
                    "Dimensions": [["Function"]],
                    "Metrics": [
                        {"Name": "RecordsIn", "Unit": "Count"},
                        {"Name": "InvalidRecords", "Unit": "Count"},
                        {"Name": "IteratorLagMs", "Unit": "Milliseconds"},
                        {"Name": "ReportBytes", "Unit": "Bytes"},
                    ],
                }
            ],
        },
        "Function": "aggregate",
        "RecordsIn": 5,
        "InvalidRecords": 3,
        "IteratorLagMs": 1500,
        "ReportBytes": 2048,
    }
    assert emitted(metrics) == []  # flushed values are not written twice


def test_inside_an_invocation_the_dimension_is_the_deployed_function() -> None:
    metrics = Metrics("vitals", namespace="WildRydes/dev")
    metrics.count("AlertsSent")
    with bind(CONTEXT):
        (document,) = emitted(metrics)
    assert document["Function"] == "wildrydes-dev-vitals"
    assert document["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "WildRydes/dev"


def test_disabled_metrics_write_nothing() -> None:
    metrics = Metrics("persist", enabled=False)
    metrics.count("SummariesIn", 4)
    assert emitted(metrics) == []


@pytest.mark.parametrize("name", ["Function", "_aws", "", "Records In"])
def test_a_name_emf_cannot_carry_is_refused(name: str) -> None:
    with pytest.raises(ValueError):
        Metrics("aggregate").count(name)


LAMBDA = {"AWS_EXECUTION_ENV": "AWS_Lambda_python3.12", "AWS_LAMBDA_FUNCTION_NAME": "f"}
LOCAL = {"AWS_LAMBDA_FUNCTION_NAME": "wildrydes-local-vitals"}  # what the local runtime sets


@pytest.mark.parametrize(
    ("environ", "log_format", "metrics", "namespace"),
    [
        (LAMBDA, "json", True, "WildRydes"),
        (LOCAL, "text", False, "WildRydes"),
        ({}, "text", False, "WildRydes"),
        ({**LAMBDA, "LOG_FORMAT": "TEXT", "METRICS": "off"}, "text", False, "WildRydes"),
        ({"LOG_FORMAT": "json", "METRICS": "on"}, "json", True, "WildRydes"),
        ({"METRICS_NAMESPACE": "WildRydes/prod"}, "text", False, "WildRydes/prod"),
    ],
)
def test_logs_and_metrics_settings(
    environ: dict[str, str], log_format: str, metrics: bool, namespace: str
) -> None:
    settings = load_settings(environ)
    assert (settings.log_format, settings.metrics, settings.metrics_namespace) == (
        log_format,
        metrics,
        namespace,
    )


@pytest.mark.parametrize(
    "environ",
    [
        {"LOG_FORMAT": "xml"},
        {"METRICS": "yes"},
        {"METRICS_NAMESPACE": "AWS/Lambda"},
        {"METRICS_NAMESPACE": "Wild;Rydes"},
    ],
)
def test_a_bad_logs_or_metrics_setting_is_refused(environ: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError):
        load_settings(environ)
