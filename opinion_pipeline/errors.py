"""The base of every error a user must act on: a bad file, a bad setting, a refused request.

Assets turn these into a failed run whose message is the error's own text, on one line at the
top of the run (``reporting.checks.clear_failures``), rather than a stack trace.
"""


class UserFacingError(Exception):
    """An error whose message tells the user what is wrong and what to do."""
