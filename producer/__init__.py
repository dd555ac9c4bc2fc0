"""The Wild Rydes sensor producer: a simulated unicorn fleet, or a replay, onto Kinesis.

Run it with `python -m producer --help`. It lives outside `chalicelib/`
because it never runs in Lambda: it is the workshop's data source, run from a
laptop against AWS or a local endpoint.
"""
