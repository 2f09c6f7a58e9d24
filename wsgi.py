"""WSGI entry point: `gunicorn wsgi:app`."""

import sys

from notes_service import ConfigError, create_app

try:
    app = create_app()
except ConfigError as error:
    # One line naming the variable, not a traceback; exit status 3 is gunicorn's "worker failed
    # to boot", on which its master stops instead of starting the worker again and again.
    sys.stderr.write(f"Error: {error}\n")
    sys.exit(3)
