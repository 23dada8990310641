#!/usr/bin/env python3
"""Print {"python-dotenv@VERSION": dotenv_values(FILE)} as JSON for stackwire's round-trip tests.

Uses python-dotenv's defaults (interpolate=True), as an application calling load_dotenv() would.
Usage: python3 tests/readers/read_python_dotenv.py FILE
"""

import json
import sys
from importlib.metadata import version

from dotenv import dotenv_values

if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: read_python_dotenv.py FILE")
    parsed = dotenv_values(sys.argv[1])
    json.dump({f"python-dotenv@{version('python-dotenv')}": parsed}, sys.stdout)
    sys.stdout.write("\n")
