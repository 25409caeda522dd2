"""The benchmark script runs and reports what it promises (speed itself is not asserted)."""

import re

from lrn_core import bench


def test_quick_benchmark_prints_times_ratios_errors_and_memory(capsys):
    bench.main(["--quick", "--repeats", "1"])
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith(("across", "within"))]
    assert len(rows) == 3
    for row in rows:
        # ours ms, ref ms, ratio, two errors, two memory figures (or n/a)
        fields = row.split(")")[-1].split()
        assert len(fields) == 7, row
        assert re.fullmatch(r"[\d.]+x", fields[2])
        assert float(fields[3]) < 1e-5 and float(fields[4]) < 1e-5  # float32 vs float64
