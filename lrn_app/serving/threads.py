"""The long-lived threads torch work runs on.

Streamlit runs every rerun in a fresh thread, and torch's OpenMP pool and glibc's malloc
arena are per thread: each rerun would start them cold (docs/performance.md). Torch work
therefore runs on these long-lived threads, one per core, each single-threaded: on a shared
server, two sessions then compute side by side, and a busy core (the browser, on a laptop)
no longer stalls an OpenMP barrier.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import torch

_TORCH_THREADS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="lrn-torch",
                                    initializer=torch.set_num_threads, initargs=(1,))


def on_torch_thread(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` on a warm, long-lived thread; its result or its exception."""
    return _TORCH_THREADS.submit(fn, *args, **kwargs).result()
