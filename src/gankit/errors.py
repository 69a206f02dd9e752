"""The one exception type for user mistakes.

The CLI turns a `GankitError` into a single line on stderr and exit code 2;
anything else is a bug and keeps its traceback.
"""


class GankitError(Exception):
    """Bad input from the user: the message names the problem and the fix."""
