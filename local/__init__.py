"""The whole pipeline on one machine with no AWS account.

An embedded AWS endpoint (moto server), resources provisioned from the same
definitions as the AWS deployment (`infra/`), and what no emulator offers: a
runtime for the app's Kinesis event-source mappings with Lambda's semantics
(tumbling windows, retries, bisect, partial batch responses, on-failure
destinations), a Firehose emulation, a mailbox for alert emails, and SQL over
the archive. None of it goes into the Lambda package.
"""
