"""What every data set's stream functions share, whatever their records are.

The Lambda event, JSON records and timestamps; windowed aggregation and
merging rows into a table; rejected records; incidents and their messages.
"""
