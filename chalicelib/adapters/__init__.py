"""The AWS edge: clients, DynamoDB, Kinesis, SNS and S3 dead letters.

Each turns botocore's errors into the project's own (`chalicelib.errors`).
"""
