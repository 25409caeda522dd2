"""A classroom at once, measured at the server (harness/classroom.py says how: students as
websocket sessions that speak Streamlit's protocol, no browser on the server's CPU).

    python -m benchmarks.classroom [--students 30] [--seconds 60] [--think 2.0]
        [--pages explorer,gradients,compare,conventions] [--arrive 2.0] [--trainer]
        [--url http://host:port | --replicas 2]

This is its command; ``--replicas`` starts deploy/'s cluster, which the harness does not know.
"""

import contextlib
import sys

from deploy.cluster import cluster
from harness.classroom import main

if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main(sys.argv[1:], cluster=cluster)
