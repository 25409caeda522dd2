"""Server compute per slider change on the Explorer page, against its 100 ms budget.

    python -m benchmarks.app_compute [--repeats 20]

Times what one move of the alpha slider makes the server do for a 256 x 256 image with
16 feature channels: the LRN pass and every figure of the panel, serialised to JSON as
Streamlit sends them. Prints the median and 90th percentile of each step and the total,
with the LRN pass of PyTorch's own F.local_response_norm measured in the same run.
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import replace

import numpy as np
import torch

from lrn_app.compute import explorer
from lrn_app.figures import charts, maps
from lrn_app.inputs.features import feature_maps
from lrn_app.inputs.samples import load_sample
from lrn_app.state import Explorer, alpha_choices


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args(argv)
    image = load_sample("astronaut", 256)  # square: the full 256 x 256
    feats = feature_maps(image, "gabor", 16)
    alphas = alpha_choices(10.0)
    times: dict[str, list[float]] = {}

    def timed(name, fn):
        start = time.perf_counter()
        out = fn()
        times.setdefault(name, []).append(time.perf_counter() - start)
        return out

    for i in range(args.repeats + 1):
        state = replace(Explorer(), alpha=alphas[10 + i % 20])  # a slider move
        total = time.perf_counter()
        result = timed("lrn_parts (ours)", lambda: explorer.run_lrn(feats, state))
        shown = result.maps
        timed("one-channel panels", lambda: maps.panels_row(
            {p: shown[p][0] for p in maps.PANELS}).to_json())
        timed("all-channels mosaic", lambda: maps.channel_grid(
            shown["output"], True, "output").to_json())
        timed("statistics", lambda: explorer.channel_stats(shown["input"], shown["output"]))
        px = explorer.inspect_pixel(feats, state, 0, 128, 128)
        timed(
            "pixel inspector",
            lambda: charts.window_bars(px.labels, px.squares, px.centre).to_json(),
        )
        times.setdefault("total", []).append(time.perf_counter() - total)
        x = torch.from_numpy(feats)[None]
        timed("reference: F.local_response_norm", lambda: torch.nn.functional.local_response_norm(
            x, state.n, state.alpha, state.beta, state.k))
        if i == 0:  # warm-up
            for v in times.values():
                v.clear()
    print(f"Explorer server compute per slider change, 256 x 256 x 16 channels, "
          f"{torch.get_num_threads()} CPU threads, {args.repeats} moves")
    for name, samples in times.items():
        ms = np.array(samples) * 1e3
        print(f"  {name:<36} median {statistics.median(ms):7.1f} ms   "
              f"p90 {np.percentile(ms, 90):7.1f} ms")
    print(f"budget: 100 ms per change; total median = "
          f"{statistics.median(times['total']) * 1e3:.0f} ms")


if __name__ == "__main__":
    main()
