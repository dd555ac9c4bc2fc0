"""The unicorns: readings on `wildrydes`, per-minute summaries, vitals and their alerts.

Also the fleet's read side behind the API and the hourly report.
"""
