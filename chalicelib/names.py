"""Names of the AWS resources the functions use, shared by `app.py` and `infra/`.

They are the workshop's names, fixed so that anything written for the original
workshop finds them. Generated names (the archive bucket, the topic's ARN)
reach the functions through settings instead.
"""

RAW_STREAM = "wildrydes"
SUMMARY_STREAM = "wildrydes-summary"
SUMMARY_TABLE = "UnicornSensorData"
STATUS_TABLE = "UnicornStatus"
ALERT_TOPIC = "wildrydes-vitals-alerts"
# Which invocation last took each shard of a stream, per function: `vitals` trusts
# the statuses it keeps in memory only while no other invocation took its shard since.
SHARD_TURN_TABLE = "StreamShardTurns"

# The taxi data set (see chalicelib/taxi/records.py and chalicelib/taxi/summaries.py).
TRIP_STREAM = "taxi-trips"
INSIGHT_STREAM = "taxi-insights"
INSIGHT_TABLE = "TaxiZoneWindows"
INSIGHT_BY_DAY_INDEX = "ByDay"  # every zone's windows of a day
TRIP_ID_TABLE = "TaxiTripIds"  # trips accepted by POST /trips, for idempotence
FARE_ALERT_TABLE = "TaxiZoneAlerts"  # each zone's fare watch state and outbox
FARE_TOPIC = "taxi-fare-alerts"

# Key prefixes in the archive bucket: each archived stream under its own.
ARCHIVE_PREFIX = "raw/"  # RAW_STREAM
TRIP_ARCHIVE_PREFIX = "trips/"  # TRIP_STREAM
DEAD_LETTER_PREFIX = "dead-letter/"
REPORT_PREFIX = "reports/"
LATEST_REPORT = REPORT_PREFIX + "latest.html"
