"""`make bench`: how fast the pipeline is and how much AWS it uses, measured, never asserted.

Run as `python -m bench` (`--quick` for a shorter run). Each section measures
one thing (the aggregate hot path, AWS calls per record, end-to-end latency,
sustained throughput, cold start) and returns a flat dictionary of figures;
`cli` prints them as one table and writes the same figures to JSON. Not part
of the Lambda package.
"""
