"""The local pipeline assembled: endpoint, resources, and the runtime with its components.

`LocalStack` starts moto's server, provisions the stage's supporting
resources from infra's definitions, and runs on a thread of its own every
Kinesis mapping of the app, each scheduled function on its interval, a
Firehose emulation per delivery stream (one per archived stream) and a
mailbox per email subscription. Functions' logs go to
`<work dir>/logs/functions.log` (the local CloudWatch Logs); the endpoint's
to `endpoint.log`. Stream positions are checkpointed under
`<work dir>/checkpoints/`, so a runtime started again carries on where the
last one stopped (`restart_runtime`).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from chalicelib import bootstrap
from chalicelib.adapters.clients import Clients
from chalicelib.settings import load_settings
from infra import system
from infra.event_sources import event_source_settings
from infra.names import API_HANDLER_FUNCTION, GLUE_TABLE
from infra.resources import ARCHIVE_BUCKET_ID, DELIVERY_ROLE_ID
from infra.stages import CONFIG_PATH
from infra.system import ARCHIVED_STREAMS, TOPICS
from local.checkpoints import CheckpointStore
from local.endpoint import DEFAULT_PORT, REGION, Endpoint, client_environment
from local.faults import FaultInjector
from local.firehose import DeliverySettings, FirehoseEmulator
from local.functions import LocalFunction, local_functions, scheduled_local_functions
from local.invoke import FunctionSpec, Invoker, Outcome
from local.mailbox import Mailbox
from local.mapping import EventSourceMapping, SqsDestination
from local.provision import Provisioned, provision
from local.roles import RoleSession, assume, function_roles
from local.runtime import Component, Runtime
from local.schedule import Schedule
from local.shards import stream_arn
from local.sql import ArchiveTable, archive_tables
from local.state import state_dir

LOCAL_STAGE = "local"
ALERT_EMAIL = "ops@wildrydes.local"
FARE_EMAIL = "fares@wildrydes.local"
API_PORT = 8000
SCHEDULE_INTERVAL = 60.0  # seconds between scheduled runs locally (the report's rate is 15 min)
LOGGERS = ("chalicelib", "local", "wildrydes", "app")


def delivery_streams(provisioned: Provisioned) -> list[DeliverySettings]:
    """The settings of every Firehose delivery stream: one per archived stream."""
    bucket = provisioned.physical[ARCHIVE_BUCKET_ID]
    role = provisioned.arns[DELIVERY_ROLE_ID]
    return [DeliverySettings.of(archived, bucket, role) for archived in ARCHIVED_STREAMS]


RECORD_RETENTION = 600.0


@dataclass
class StackOptions:
    """How to run the local stack; every default is what `make demo` uses."""

    stage: str = LOCAL_STAGE
    port: int = DEFAULT_PORT
    work_dir: Path = field(default_factory=state_dir)  # local.state: outside the project
    alert_email: str = ALERT_EMAIL
    fare_email: str = FARE_EMAIL
    api_url: str = f"http://127.0.0.1:{API_PORT}"
    config_path: Path = CONFIG_PATH
    parameters: dict[str, str] = field(default_factory=dict)  # template parameters
    retry_base: float = 1.0
    # Seconds between runs of each scheduled function; None runs them at their declared rate.
    schedule_interval: float | None = SCHEDULE_INTERVAL
    # Makes the functions' AWS calls fail at chosen rates (fault-injection runs).
    faults: FaultInjector | None = None
    # Seconds the endpoint's streams keep their records (AWS: 24 hours at least): ten
    # minutes is far beyond any mapping's lag, and keeps a day-long `make up` flat.
    record_retention: float | None = RECORD_RETENTION


class LocalStack:
    """Start with `start()` (or `with`), stop with `stop()`; always stops everything it started."""

    def __init__(self, options: StackOptions | None = None) -> None:
        self.options = options or StackOptions()
        # A bad stage or setting is an error now, before anything is started.
        event_source_settings(self.options.stage, config_path=self.options.config_path)
        work = self.options.work_dir
        self.logs = work / "logs"
        self.mail = work / "mail"
        self.denials_path = self.logs / "iam-denials.jsonl"
        self.endpoint = Endpoint(
            self.options.port,
            log_path=self.logs / "endpoint.log",
            denials_path=self.denials_path,
            record_retention=self.options.record_retention,
        )
        self.provisioned: Provisioned | None = None
        self.functions: list[LocalFunction] = []
        self.mappings: list[EventSourceMapping] = []
        self.firehoses: list[FirehoseEmulator] = []
        self.mailboxes: list[Mailbox] = []
        self.schedules: list[Schedule] = []
        self.roles: dict[str, RoleSession] = {}  # function -> a session of its own role
        self._services: dict[str, bootstrap.Services] = {}  # function -> its clients
        self.invoker = Invoker(prepare=self._prepare)
        self.checkpoints = CheckpointStore(work / "checkpoints")
        self.runtime: Runtime | None = None
        self._thread: threading.Thread | None = None
        self._saved_environment: dict[str, str | None] = {}
        self._log_handler: logging.Handler | None = None

    @property
    def url(self) -> str:
        return self.endpoint.url

    @property
    def window(self) -> int:
        """The longest tumbling window of the stage's mappings, in seconds."""
        return max((f.mapping.tumbling_window for f in self.functions), default=0)

    def session(self) -> Any:
        return boto3.session.Session(region_name=REGION)

    def start(self) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        self.mail.mkdir(parents=True, exist_ok=True)
        self.denials_path.unlink(missing_ok=True)  # an earlier run's
        self._start_logging()
        self.endpoint.start()
        try:
            self._point_at_endpoint()
            bootstrap.reset()  # the functions' clients must be made for this endpoint
            session = self.session()
            parameters = {
                system.ALERT_EMAIL: self.options.alert_email,
                system.FARE_EMAIL: self.options.fare_email,
                **self.options.parameters,
            }
            self.provisioned = provision(
                session, self.options.stage, parameters, config_path=self.options.config_path
            )
            self.roles = function_roles(
                session, self.provisioned, self.options.stage, self.options.config_path
            )
            # A new endpoint has new, empty streams: positions from an earlier run mean nothing.
            self.checkpoints.clear()
            self._run(session, self.provisioned)
        except BaseException:
            self.stop()
            raise

    def _run(self, session: Any, provisioned: Provisioned) -> None:
        self._build(session, provisioned)
        self.runtime = Runtime(self.components)
        self._thread = threading.Thread(target=self.runtime.run, name="local-runtime", daemon=True)
        self._thread.start()

    def restart_runtime(self) -> None:
        """Start the runtime afresh on the same endpoint, as after a crash: new mappings,
        Firehose and mailboxes, carrying on from the checkpoints the old ones saved.

        Whatever the old runtime held in memory (read records, buffers, retries) is
        dropped without a drain, as a killed process would drop it.
        """
        assert self.provisioned is not None, "start() first"
        if self.runtime is not None:
            self.runtime.stop()
        if self._thread is not None:
            self._thread.join(timeout=30)
            if self._thread.is_alive():
                raise RuntimeError("the runtime thread did not stop; cannot restart it")
        self._thread = None
        self.mappings, self.firehoses, self.mailboxes, self.schedules = [], [], [], []
        self._services = {}  # a new process makes new clients
        self.invoker = Invoker(prepare=self._prepare)
        self._run(self.session(), self.provisioned)

    @property
    def components(self) -> list[Component]:
        return [*self.mappings, *self.schedules, *self.firehoses, *self.mailboxes]

    def _point_at_endpoint(self) -> None:
        # Handlers run in this process and make their clients from the
        # environment, as in Lambda: point every client at the endpoint.
        variables = client_environment(self.url)
        for key in (*variables, "AWS_PROFILE"):
            self._saved_environment.setdefault(key, os.environ.get(key))
        os.environ.pop("AWS_PROFILE", None)
        os.environ.update(variables)

    def _prepare(self, spec: FunctionSpec) -> None:
        """Before `spec`'s handler runs: its own clients, acting as its role on this endpoint
        (made on its first call, kept like a Lambda process keeps them)."""
        services = self._services.get(spec.name)
        if services is None:
            faults = self.options.faults
            clients = Clients(
                self.roles[spec.name].session(),
                configure=faults.attach if faults is not None else None,
                endpoint_url=self.url,
            )
            settings = load_settings({**os.environ, **spec.environment})  # read once
            services = bootstrap.Services(settings, clients)
            self._services[spec.name] = services
        bootstrap.install(services)

    def _build(self, session: Any, provisioned: Provisioned) -> None:
        self.functions = local_functions(
            self.options.stage,
            provisioned,
            api_url=self.options.api_url,
            endpoint_url=self.url,
            roles=self.roles,
            config_path=self.options.config_path,
            retry_base=self.options.retry_base,
        )
        now = time.time()
        for function in self.functions:
            # Lambda reads the stream and sends to the destination with the function's role.
            role = self.roles[function.spec.name].session()
            kinesis = role.client("kinesis", endpoint_url=self.url)
            mapping = EventSourceMapping(
                function.mapping,
                function.spec,
                kinesis,
                self.invoker,
                stream_arn=stream_arn(kinesis, function.mapping.stream),
                region=REGION,
                destination=SqsDestination(
                    role.client("sqs", endpoint_url=self.url),
                    function.mapping.on_failure,
                    lookup=session.client("sqs"),
                )
                if function.mapping.on_failure
                else None,
                checkpoints=self.checkpoints,
            )
            mapping.start(now)
            self.mappings.append(mapping)
        self.schedules = [
            Schedule(function, self.invoker, interval=self.options.schedule_interval)
            for function in scheduled_local_functions(
                self.options.stage,
                provisioned,
                api_url=self.options.api_url,
                endpoint_url=self.url,
                roles=self.roles,
                config_path=self.options.config_path,
            )
        ]
        self.firehoses = []
        for settings in delivery_streams(provisioned):
            # Firehose reads and writes as its delivery role.
            delivery = assume(session, settings.role_arn, f"firehose-{settings.name}").session()
            self.firehoses.append(
                FirehoseEmulator(
                    settings,
                    delivery.client("kinesis", endpoint_url=self.url),
                    delivery.client("s3", endpoint_url=self.url),
                    checkpoints=self.checkpoints,
                )
            )
        for topic in TOPICS:
            for address in topic.subscribers(provisioned.parameters):
                mailbox = Mailbox(
                    session.client("sns"),
                    session.client("sqs"),
                    provisioned.physical[topic.topic_id],
                    address,
                    self.mail / address,
                )
                mailbox.start()  # before any function runs, so no alert is missed
                self.mailboxes.append(mailbox)

    def _start_logging(self) -> None:
        handler = logging.FileHandler(self.logs / "functions.log")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        for name in LOGGERS:
            logger = logging.getLogger(name)
            logger.addHandler(handler)
            logger.setLevel(logging.INFO)
            logger.propagate = False
        self._log_handler = handler

    def drain(self, timeout: float) -> bool:
        """Stop polling on the thread and let every component finish; True if all did."""
        if not self._stop_thread() or self.runtime is None:
            return self.runtime is None
        return self.runtime.drain(timeout)

    def _stop_thread(self) -> bool:
        """Stop the runtime thread; False if it is still busy (a handler that hangs)."""
        if self.runtime is not None:
            self.runtime.stop()
        if self._thread is not None:
            self._thread.join(timeout=30)
            if self._thread.is_alive():
                logging.getLogger(__name__).error("the runtime thread did not stop in 30 s")
                return False
            self._thread = None
        return True

    def run_scheduled(self, function: str) -> Outcome:
        """Run a scheduled function now, once; only while the runtime thread is stopped
        (after `drain`), so handlers still run one at a time."""
        if self._thread is not None:
            raise RuntimeError("run_scheduled needs the runtime stopped: call drain() first")
        for schedule in self.schedules:
            if schedule.function.spec.name == function:
                return schedule.run(time.time())
        raise KeyError(f"no scheduled function named {function!r}")

    def stop(self) -> None:
        """Stop the runtime and the endpoint, and put the environment back."""
        self._stop_thread()
        self.endpoint.stop()
        bootstrap.reset()
        for key, value in self._saved_environment.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_environment.clear()
        if self._log_handler is not None:
            for name in LOGGERS:
                logger = logging.getLogger(name)
                logger.removeHandler(self._log_handler)
                logger.propagate = True
            self._log_handler.close()
            self._log_handler = None

    def archive_tables(self) -> tuple[ArchiveTable, ...]:
        """The Glue tables over the archive, as provisioned (the raw stream's first)."""
        assert self.provisioned is not None
        return archive_tables(self.provisioned.physical[ARCHIVE_BUCKET_ID])

    def archive_table(self, name: str = GLUE_TABLE) -> ArchiveTable:
        """The Glue table `name` over the archive, as provisioned: by default the raw stream's."""
        (table,) = [t for t in self.archive_tables() if t.name == name]
        return table

    def stats(self) -> dict[str, dict[str, int]]:
        """Counters of every component, by component name."""
        return {component.name: component.stats() for component in self.components}

    def lag(self) -> dict[str, float]:
        now = time.time()
        return {mapping.settings.function: mapping.lag(now) for mapping in self.mappings}

    def errors(self) -> list[str]:
        return list(self.runtime.errors) if self.runtime else []

    def api_environment(self) -> dict[str, str]:
        """What the API's process needs (`local.up.start_api`): this endpoint, and the
        credentials of the API function's own role."""
        return {**client_environment(self.url), **self.roles[API_HANDLER_FUNCTION].environment()}

    @property
    def role_sessions(self) -> int:
        """How many roles the run acts as: each function's, and each delivery stream's."""
        return len(self.roles) + len({f.settings.role_arn for f in self.firehoses})

    def denials(self) -> list[dict[str, str]]:
        """The calls the endpoint refused to a role session in this run (principal, action,
        resource, message), from its record."""
        if not self.denials_path.exists():
            return []
        lines = self.denials_path.read_text().splitlines()
        return [json.loads(line) for line in lines if line.strip()]
