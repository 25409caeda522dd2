"""Benchmark lrn_core against PyTorch's own LRN, measured in the same run.

    python -m lrn_core.bench [--device cuda] [--repeats 7] [--quick]

For each case it prints our time, the reference's time, their ratio (reference / ours,
so > 1 means we are faster), the largest relative difference of each float32 result
from a float64 reference, and the peak memory each adds above its inputs. Times are
medians of interleaved repeats, so a noisy shared machine slows both sides alike.

References: ``torch.nn.functional.local_response_norm`` across channels (with autograd
for the backward), and the direct ``avg_pool2d`` formulation (docs/conventions.md) within a channel.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F

from .conventions import resolve
from .local_response import LRNFunction, lrn

ALPHA, BETA, K = 1.0, 0.75, 1.0  # activations of order 1 with an alpha that matters


@dataclass
class Case:
    name: str
    ours: Callable
    reference: Callable
    exact: Callable  # float64 result both are checked against


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class PeakMemory:
    """Peak memory a call adds above what is allocated before it.

    CUDA: the caching allocator's peak. CPU: the process's peak resident size
    (VmHWM), reset through /proc/self/clear_refs; large tensors are mmapped and
    returned on free, so this follows tensor memory closely. None where unavailable.
    """

    def __init__(self, device: torch.device):
        self.device = device
        self._libc = None
        if device.type == "cpu":
            # glibc raises its mmap threshold after large frees and then keeps freed
            # memory resident, which would hide later peaks; a fixed threshold and a
            # trim before each measurement stop that. Both slow allocation, so this
            # object is made only after all timings.
            try:
                import ctypes
                self._libc = ctypes.CDLL("libc.so.6")
                self._libc.mallopt(-3, 128 * 1024)  # M_MMAP_THRESHOLD
            except (OSError, AttributeError):
                self._libc = None

    @staticmethod
    def _status_kib(field: str) -> int:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        raise OSError(field)

    def measure(self, fn: Callable) -> float | None:
        gc.collect()
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            base = torch.cuda.memory_allocated(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            fn()
            torch.cuda.synchronize(self.device)
            return (torch.cuda.max_memory_allocated(self.device) - base) / 2**20
        if self._libc is not None:
            self._libc.malloc_trim(0)
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")  # resets VmHWM to the current resident size
            base = self._status_kib("VmRSS")
            fn()
            return (self._status_kib("VmHWM") - base) / 1024
        except OSError:
            return None


def _time(fns: list[Callable], device: torch.device, repeats: int) -> list[float]:
    """Median seconds of each function, run interleaved after one warm-up each."""
    for fn in fns:
        fn()
    samples = [[] for _ in fns]
    for _ in range(repeats):
        for fn, out in zip(fns, samples):
            _sync(device)
            start = time.perf_counter()
            fn()
            _sync(device)
            out.append(time.perf_counter() - start)
    return [statistics.median(s) for s in samples]


def _max_rel(result: torch.Tensor, exact: torch.Tensor) -> float:
    scale = exact.abs().max().clamp_min(1e-30)  # relative to the tensor's scale: no 0/0
    return ((result.double() - exact).abs().max() / scale).item()


def _across_cases(device: torch.device) -> list[Case]:
    window = resolve(5, ALPHA, BETA, K)
    cases = []
    for shape in [(8, 96, 55, 55), (1, 64, 512, 512), (32, 64, 56, 56)]:
        torch.manual_seed(0)
        x = torch.randn(shape, device=device).relu_()
        g = torch.randn(shape, device=device)
        xg = x.clone().requires_grad_()

        def exact(x=x):
            return F.local_response_norm(x.double(), 5, ALPHA, BETA, K)

        def exact_grad(x=x, g=g):
            x64 = x.double().requires_grad_()
            F.local_response_norm(x64, 5, ALPHA, BETA, K).backward(g.double())
            return x64.grad

        def ours_fb(xg=xg, g=g):
            xg.grad = None
            LRNFunction.apply(xg, window).backward(g)
            return xg.grad

        def ref_fb(xg=xg, g=g):
            xg.grad = None
            F.local_response_norm(xg, 5, ALPHA, BETA, K).backward(g)
            return xg.grad

        cases.append(Case(f"across n=5 forward          {shape}",
                          lambda x=x: lrn(x, 5, ALPHA, BETA, K),
                          lambda x=x: F.local_response_norm(x, 5, ALPHA, BETA, K), exact))
        cases.append(Case(f"across n=5 forward+backward {shape}", ours_fb, ref_fb,
                          exact_grad))
    return cases


def _avg_pool_within(x: torch.Tensor, n: int) -> torch.Tensor:
    # The direct formulation of docs/conventions.md (odd n):
    # k + alpha * avg_pool2d(x*x, n, ...), n*n taps each.
    S_avg = F.avg_pool2d(x * x, n, stride=1, padding=(n - 1) // 2, count_include_pad=True)
    return x * (K + ALPHA * S_avg) ** -BETA


def _within_cases(device: torch.device) -> list[Case]:
    shape = (1, 16, 512, 512)
    torch.manual_seed(0)
    x = torch.randn(shape, device=device).relu_()
    return [
        Case(f"within n={n:<2} forward          {shape}",
             lambda n=n: lrn(x, n, ALPHA, BETA, K, mode="within", convention="onednn"),
             lambda n=n: _avg_pool_within(x, n),
             lambda n=n: _avg_pool_within(x.double(), n))
        for n in (3, 15, 31)
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="only the first case of each kind")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        parser.error("CUDA is not available on this machine")

    cases = _across_cases(device) + _within_cases(device)
    if args.quick:
        cases = [cases[0], cases[1], cases[-3]]
    rows = []
    for case in cases:  # timings and accuracy first, on an allocator left as it is
        print(f"timing {case.name.strip()}", file=sys.stderr, flush=True)
        t_ours, t_ref = _time([case.ours, case.reference], device, args.repeats)
        exact = case.exact()
        rows.append([case, t_ours, t_ref, _max_rel(case.ours(), exact),
                     _max_rel(case.reference(), exact)])
        del exact
    peak = PeakMemory(device)
    for row in rows:
        row += [peak.measure(row[0].ours), peak.measure(row[0].reference)]

    print(f"lrn_core benchmark on {device} ({torch.get_num_threads()} CPU threads), float32, "
          f"alpha={ALPHA}, beta={BETA}, k={K}; median of {args.repeats}")
    header = (f"{'case':<50} {'ours ms':>9} {'ref ms':>9} {'ref/ours':>9} "
              f"{'ours err':>9} {'ref err':>9} {'ours MiB':>9} {'ref MiB':>9}")
    print(header)
    print("-" * len(header))
    mem = lambda m: f"{m:9.1f}" if m is not None else f"{'n/a':>9}"  # noqa: E731
    within_times = {}
    for case, t_ours, t_ref, err_ours, err_ref, m_ours, m_ref in rows:
        print(f"{case.name:<50} {t_ours * 1e3:9.2f} {t_ref * 1e3:9.2f} {t_ref / t_ours:8.1f}x "
              f"{err_ours:9.1e} {err_ref:9.1e} {mem(m_ours)} {mem(m_ref)}")
        if case.name.startswith("within"):
            within_times[int(case.name.split("n=")[1].split()[0])] = t_ours
    if 3 in within_times and 31 in within_times:
        print(f"\nwithin-channel: our time at n=31 / our time at n=3 = "
              f"{within_times[31] / within_times[3]:.2f}")
    print("ref/ours > 1: ours is faster. err: max |result - float64 reference| / max |reference|.\n"
          "MiB: peak memory above the inputs (output included).")


if __name__ == "__main__":
    main()
