"""Names of the resources only the infrastructure knows about.

The functions never address these by name (the queue is the mappings' on-failure
destination, the bucket reaches them as ARCHIVE_BUCKET), so they live here
rather than in `chalicelib.names`. Names the functions do use come from there.
"""

from chalicelib import settings

# The environment variables through which functions receive generated names.
ALERT_TOPIC_VARIABLE = settings.ALERT_TOPIC_VARIABLE
FARE_TOPIC_VARIABLE = settings.FARE_TOPIC_VARIABLE
API_URL_VARIABLE = settings.API_URL_VARIABLE
ARCHIVE_BUCKET_VARIABLE = settings.ARCHIVE_BUCKET_VARIABLE

# On-failure destination of every Kinesis event source mapping.
FAILURE_QUEUE = "wildrydes-stream-failures"

# Athena over the archive: one Glue database, a table per archived stream,
# and the workgroup.
GLUE_DATABASE = "wildrydes"
GLUE_TABLE = "wildrydes"
TRIP_GLUE_TABLE = "taxi_trips"
ATHENA_WORKGROUP = "wildrydes"

# Firehose delivery streams archiving the raw stream and the taxi trips.
DELIVERY_STREAM = "wildrydes"
TRIP_DELIVERY_STREAM = "taxi-trips"

# The archive bucket's name is account- and region-specific (bucket names are
# global): `ARCHIVE_BUCKET` is a CloudFormation `Fn::Sub` string, and IAM
# policies, written before the account is known, match `ARCHIVE_BUCKET_GLOB`.
ARCHIVE_BUCKET_STEM = "wildrydes-archive"
ARCHIVE_BUCKET = ARCHIVE_BUCKET_STEM + "-${AWS::AccountId}-${AWS::Region}"
ARCHIVE_BUCKET_GLOB = ARCHIVE_BUCKET_STEM + "-*"

# Key prefixes in the archive bucket besides chalicelib's raw/ and dead-letter/.
FIREHOSE_ERROR_PREFIX = "firehose-errors/"
ATHENA_RESULTS_PREFIX = "athena-results/"


# The customer managed key that encrypts everything at rest, by its alias.
DATA_KEY_ALIAS = "alias/wildrydes"

# Chalice's names on the `chalice deploy` path: the API handler is
# `<app>-<stage>`, every other function `<app>-<stage>-<function>`. The
# packaged template gives its functions the same names, so both paths end in
# the same system and the functions' log groups are known in advance.
API_HANDLER_FUNCTION = "api_handler"


def function_name(app_name: str, stage: str, function: str) -> str:
    """The Lambda function name of `function`, e.g. `wildrydes-dev-aggregate`."""
    if function == API_HANDLER_FUNCTION:
        return f"{app_name}-{stage}"
    return f"{app_name}-{stage}-{function}"


def log_group(app_name: str, stage: str, function: str) -> str:
    """The log group Lambda writes `function`'s logs to."""
    return f"/aws/lambda/{function_name(app_name, stage, function)}"


def api_key(app_name: str, stage: str) -> str:
    """Name of the API key (and of its usage plan) for the query API of `stage`."""
    return f"{app_name}-{stage}"


def package_stack(app_name: str, stage: str) -> str:
    """The one stack of the `chalice package` path (way 1), e.g. `wildrydes-dev`."""
    return f"{app_name}-{stage}"


def resources_stack(app_name: str, stage: str) -> str:
    """The supporting stack of the `chalice deploy` path, e.g. `wildrydes-dev-resources`."""
    return f"{app_name}-{stage}-resources"
