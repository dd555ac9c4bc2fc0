"""The AWS edge: clients, DynamoDB tables, Kinesis writes, SNS, the S3 archive and dead letters.

Each adapter turns botocore's errors into the project's own
(`chalicelib.errors`); `backoff` is the pause between the retries they make
themselves.
"""
