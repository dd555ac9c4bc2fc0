"""Infrastructure of Wild Rydes: everything around the Chalice app, defined once in Python.

Outside the Lambda package on purpose: nothing here is deployed as code. It
generates the CloudFormation merged into `chalice package`, the supporting
stack used by the `chalice deploy` path, the per-function IAM policies, and
the event-source settings Chalice cannot express. The local runtime reads the
same definitions, so AWS and the laptop agree on names and settings.

Entry points: `python -m infra --help`, and the functions in `infra.template`,
`infra.resources`, `infra.event_sources`, `infra.policies` and `infra.api_keys`;
`infra.accepted_findings` says why each finding `make scan` accepts is accepted.
"""
