"""The exception for problems a user can fix: a bad stage setting, a failed step.

The command line prints its message as one line and exits non-zero, so each
message names what is wrong and where (stage, function, property, file).
"""


class InfraError(Exception):
    """A problem the user can act on, described in one line."""
