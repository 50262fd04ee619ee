"""What both SDK scripts share: the command line, and the printing.

    python <sdk>_client.py <base_url> '[["<scenario>", {<request>}], ...]'

A script runs each scenario (one of its functions) with its request fields
(what the SDK's `create(...)` is called with) and prints what the SDK made
of them, as a JSON list on stdout; the Rust tests (tests/sdks.rs) compare
that with what the server should have sent. An SDK that raises where a
scenario expects an answer ends the script with status 1 and a traceback.
All scenarios run in one process: importing an SDK takes a second or two.
"""

import json
import sys


def main(make_client, scenarios):
    """Runs the scenarios (functions of a client and request fields) named
    on the command line, with the client `make_client(base_url)` makes."""
    base_url, runs = sys.argv[1], json.loads(sys.argv[2])
    client = make_client(base_url)
    by_name = {scenario.__name__: scenario for scenario in scenarios}
    print(json.dumps([by_name[name](client, request) for name, request in runs]))
