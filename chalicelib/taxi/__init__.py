"""Taxi trips on `taxi-trips`: per-zone 15-minute windows, fare alerts, the read side, intake.

`POST /trips` is the intake. Modules are named as their counterparts in `chalicelib.unicorns`.
"""
