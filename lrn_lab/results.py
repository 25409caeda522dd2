"""The labs' shipped results: JSON files that the command line writes (``lrn-claims --save``,
``lrn-train --save``), each with a record of how it was made, so that both lab pages open
with results and a test can tell when today's defaults no longer match them.

A result made on another CPU differs in its figures (the kernels sum in another order and
SGD amplifies the last bits), so the record keeps what can be checked anywhere: the
command, the settings in force, the versions and the machine.
"""

from __future__ import annotations

import datetime
import json
import platform
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from .trainer import TrainConfig

SHIPPED = Path(__file__).resolve().parent / "shipped"
CLAIMS_FILE = SHIPPED / "claims.json"
TRAINING_FILE = SHIPPED / "training.json"


def defaults() -> dict:
    """The settings the results depend on today: the protocol's config and each claim's
    defaults (a changed default makes a shipped result stale)."""
    from .claims import CLAIMS
    from .trainer import RATES
    return {"config": asdict(TrainConfig()), "rates": list(RATES),
            "claims": {name: asdict(c.defaults) for name, c in CLAIMS.items()}}


def save(path, command: str, argv: list[str] | None, results: dict) -> None:
    record = {"command": [command, *(argv if argv is not None else sys.argv[1:])],
              "defaults": defaults(), "torch": torch.__version__, "numpy": np.__version__,
              "python": platform.python_version(), "machine": platform.machine(),
              "made": datetime.date.today().isoformat()}
    Path(path).write_text(json.dumps({"record": record, "results": results}, indent=1,
                                     allow_nan=True))


def load(path) -> dict:
    """{"record": ..., "results": ...} as ``save`` wrote it."""
    return json.loads(Path(path).read_text())


def claims_table(path=CLAIMS_FILE) -> str:
    """The shipped claims as a markdown table (python -m lrn_lab.results), for the docs."""
    from .claims import CLAIMS
    results = load(path)["results"]
    rows = ["| # | claim | verdict | each set-up | another set of seeds | reported | base "
            "agrees |", "|---|---|---|---|---|---|---|"]
    for name, r in results.items():
        setups = "; ".join(f"{n}: {v}" for n, v in r["variations"].items())
        other = r.get("other_seeds")
        if other:
            moved = [f"{n}: {v}" for n, v in other["variations"].items()
                     if v != r["variations"].get(n)]
            again = (f"from seed {other['first_seed']}: "
                     + ("the same under every set-up" if not moved else "; ".join(moved)))
        else:
            again = "not run"
        rows.append(f"| {CLAIMS[name].number} | {CLAIMS[name].text} | **{r['verdict']}** | "
                    f"{setups} | {again} | {r['reported']['direction']} | "
                    f"{'yes' if r['agrees'] else 'no'} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(claims_table())
