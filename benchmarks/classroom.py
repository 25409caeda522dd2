"""A classroom at once, measured at the server: students as websocket sessions that speak
Streamlit's own protocol, with no browser sharing the server's CPU.

    python -m benchmarks.classroom [--students 30] [--seconds 60] [--think 2.0]
        [--pages explorer,gradients,compare,conventions] [--arrive 2.0] [--trainer]
        [--url http://host:port | --replicas 2]

Each student opens one page of the mix (round robin), arriving at a random moment within
``--arrive`` seconds, and then, for ``--seconds``, moves the page's α slider one step at
random intervals (exponential, mean ``--think`` seconds; at least once), as a person
dragging it would.
A move is a ``BackMsg`` rerun carrying the slider's new value (a fragment rerun where the
slider lives in one, as the browser sends it); its latency runs until the server's
``script_finished``. An error is a closed connection, a move or page open that takes more
than ``--timeout`` seconds, or an exception element in the page. ``--trainer`` adds one
more session that opens the Training lab and presses its Run button (the lab's defaults:
three variants at four or more rates, three seeds each).

Without ``--url`` it starts the app itself (``streamlit run app.py`` on a free loopback
port, a fresh server; or ``--replicas`` of them behind nginx, warmed first) and also
reports the server's CPU (cores busy over the run) and peak RSS. Bounded: at most 200
students, 600 seconds; it stops by itself.

The work is harness.classroom's (the tests and deploy/ use it too); this is its command.
"""

import contextlib
import sys

from deploy.cluster import cluster
from harness.classroom import main

if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main(sys.argv[1:], cluster=cluster)
