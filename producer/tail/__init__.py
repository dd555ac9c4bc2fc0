"""`python -m producer.tail`: print the records of a Kinesis stream as they arrive.

`lines` turns one record into one line of text and `shards` decides which
shards to read, from where and in what order; both are pure. `cli` is the
command line and the polling loop around them.
"""
