"""The claims lab: what papers and tutorials say about LRN and BatchNorm, each put to an
experiment on the labs' network (lrn_lab.network) and protocol (lrn_lab.train), judged by
one rule (lrn_lab.stats), and judged again under the set-up choices that could have made
the verdict.

    lrn-claims                          # every claim, its defaults
    lrn-claims learning-rate order      # some of them
    lrn-claims --first-seed 10          # another set of seeds: does the verdict hold?
    lrn-claims --json                   # {"claims": [...]}, machine-readable

Each claim measures one figure per seed for two sides (the side it says is higher, and
the other) and compares them with ``stats.compare`` against its own margin. The base
set-up is the protocol (global-pool head, each variant at its own best rate, BatchNorm's
statistics recomputed); each variation changes one of those choices (``VARIATIONS``). A
verdict that changes under a variation is reported as "depends on <variation>", with both
results. Beside each verdict stands what the papers report (``Reported``), and whether
the lab's base set-up agrees. No figure or verdict is written in by hand.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, replace

import torch

from .claim_parts import (
    BASE,
    LIMITS,
    VARIATIONS,
    Claim,
    Reported,
    Result,
    Runs,
    Settings,
    Setup,
    accuracy_measure,
    pair_jobs,
)
from .measures import (
    FITS,
    SMALL,
    WIDE_RATES,
    cost_measure,
    gap_measure,
    rate_jobs,
    rate_measure,
    sensitivity_jobs,
    sensitivity_measure,
    shift_jobs,
    shift_measure,
)
from .train import Job, train_jobs

CLAIMS = {c.name: c for c in [
    Claim(1, "learning-rate", "BatchNorm lets you train with much higher learning rates.",
          f"The network without normalisation and with BatchNorm, each trained at the rates "
          f"{', '.join(f'{r:g}' for r in WIDE_RATES)}; per seed, the highest rate at which "
          "it still trains (twice chance validation accuracy), in decades.",
          "A three-layer network: Bjorck et al. (2018) found the effect grows with depth.",
          Reported("Ioffe & Szegedy 2015, sections 4.2.1-4.2.2: BN-Inception trained at 5x and "
                   "30x Inception's rate; the same 5x without BatchNorm diverged",
                   "supported", "at least 5x (0.7 decades)"),
          (1.0, " decades", "seeds"), Settings(seeds=3, epochs=5),
          ("head: flatten", "BatchNorm statistics: running"), rate_jobs, rate_measure),
    Claim(2, "covariate-shift", "BatchNorm works by reducing internal covariate shift.",
          "Both networks at their own best rates; every 10 steps, the second convolution's "
          "gradient before and after the first layer takes its step (Santurkar et al.'s "
          "definition of the shift), as cos(G, G') (1: no shift; the cosine does not depend "
          "on scale).",
          "Raw magnitudes (||G - G'||) compare different scales; the verdict uses the cosine.",
          Reported("Santurkar et al. 2018: with BatchNorm the shift is no smaller (often "
                   "larger); BatchNorm smooths the loss landscape instead", "contradicted",
                   "no reduction"),
          (1.0, "", "seeds"), Settings(seeds=3, epochs=5),
          ("head: flatten", "learning rate: shared"), shift_jobs, shift_measure),
    Claim(3, "lrn-effect", "LRN improves generalisation.",
          "No normalisation against LRN across channels (α set from the measured scale of "
          "its input, k = 2, n = 5, β = 0.75), each at its own best rate; test accuracy.",
          "AlexNet's gain was on ImageNet with a network a thousand times larger.",
          Reported("Krizhevsky et al. 2012, section 3.3: top-1 and top-5 error 1.4 and 1.2 "
                   "points lower; CIFAR-10 13% -> 11%. Against: Simonyan & Zisserman 2015, "
                   "Table 3: A-LRN 29.7% top-1 against 29.6% without", "supported",
                   "+1.4 points top-1 (ImageNet), +2 points (CIFAR-10)"),
          (100.0, " points", "seeds"), Settings(seeds=3, epochs=5),
          ("head: flatten", "learning rate: shared", "LRN: AlexNet's literal values",
           "LRN: k = 1"),
          pair_jobs("lrn_across", "none"), accuracy_measure("lrn_across", "none", 0.02)),
    Claim(4, "cost", "LRN is computationally expensive.",
          "Forward plus backward of each layer on the same activations (16 x 64 x 32 x 32, "
          "after a ReLU), over the 3x3 convolution that makes them: seven rounds of five "
          "repeats, on this server's CPU, one thread; 'expensive' from half the convolution.",
          "Timings depend on the machine and on each library's kernels; cuDNN's LRN on a GPU "
          "is another story.",
          Reported("Simonyan & Zisserman 2015, section 2.2: LRN 'does not improve the "
                   "performance on the ILSVRC dataset, but leads to increased memory "
                   "consumption and computation time'", "supported", "no figure given"),
          (1.0, "x the convolution", "rounds of timing"), Settings(seeds=1, epochs=1),
          ("implementation: lrn_core across", "implementation: lrn_core within"),
          lambda s, setup, runs: [], cost_measure),
    Claim(5, "sensitivity", "LRN is very sensitive to its hyperparameters.",
          "LRN across channels at its own best rate, with α at a tenth and at ten times its "
          "default and with n = 3 and 9; the largest move of test accuracy from the default, "
          "either way, against 10 points ('very sensitive'), each setting's interval widened "
          "for the four comparisons (Bonferroni).",
          "Around this lab's working point only, at a rate chosen for the default.",
          Reported("not measured in the papers: Krizhevsky et al. 2012 chose k, n, α and β "
                   "on a validation set (section 3.3); the claim is a tutorial's",
                   "supported", "not reported"),
          (100.0, " points", "seeds"), Settings(seeds=3, epochs=5),
          ("head: flatten", "learning rate: shared"), sensitivity_jobs, sensitivity_measure),
    Claim(6, "regularisation", "BatchNorm regularises.",
          f"No normalisation and BatchNorm, each at its own best rate, trained on {SMALL} "
          "images so that they can fit them; the gap between training and test accuracy.",
          "A network that fits less also overfits less: the verdict needs both to fit "
          f"({100 * FITS:.0f}% training accuracy in every seed), and is inconclusive otherwise.",
          Reported("Ioffe & Szegedy 2015, section 3.4: a batch's other examples make the "
                   "network's output for one example non-deterministic, 'advantageous to the "
                   "generalization'; Dropout could be removed", "supported",
                   "not measured on its own"),
          (100.0, " points", "seeds"), Settings(seeds=3, epochs=20, train_size=SMALL),
          ("head: flatten", "learning rate: shared", "BatchNorm statistics: running"),
          pair_jobs("batchnorm", "none"), gap_measure),
    Claim(7, "order", "BatchNorm belongs before the activation function.",
          "BatchNorm before the ReLU against after it, in every block, each at its own best "
          "rate; test accuracy.",
          "One depth, one data set: the order can matter more in deeper networks.",
          Reported("Ioffe & Szegedy 2015, section 3.2: BatchNorm 'immediately before the "
                   "nonlinearity', a design choice, not a comparison; practitioners' "
                   "benchmarks are mixed", "supported", "no comparison given"),
          (100.0, " points", "seeds"), Settings(seeds=3, epochs=5),
          ("head: flatten", "learning rate: shared", "BatchNorm statistics: running"),
          pair_jobs("batchnorm", "batchnorm", dict(norm_before_relu=True)),
          accuracy_measure("batchnorm", "batchnorm", 0.02, dict(norm_before_relu=True),
                         a_label="BatchNorm before the ReLU", b_label="BatchNorm after it")),
]}


def setups(claim: Claim) -> dict[str, Setup]:
    return {name: VARIATIONS[name] for name in (BASE, *claim.variations)}


def missing_jobs(claim: Claim, settings: Settings, runs: Runs) -> list[Job]:
    """The runs still to train, as far as the runs so far can tell (some claims need the
    rates the first runs choose before they can name the rest)."""
    return list(dict.fromkeys(j for setup in setups(claim).values()
                              for j in claim.jobs(settings, setup, runs)
                              if runs.get(j) is None))


def all_jobs(claim: Claim, settings: Settings, runs: Runs) -> list[Job]:
    """Every run the claim reads, once ``runs`` holds them all."""
    return list(dict.fromkeys(j for setup in setups(claim).values()
                              for j in claim.jobs(settings, setup, runs)))


def judge(name: str, settings: Settings, runs: Runs) -> Result:
    """The named claim's result from its runs, under the base set-up and each variation."""
    claim = CLAIMS[name]
    measured = {n: claim.measure(settings, setup, runs) for n, setup in setups(claim).items()}
    base = measured[BASE]
    verdicts = {n: m.verdict for n, m in measured.items()}
    changed = [n for n, v in verdicts.items() if v != base.verdict]
    verdict = f"depends on {', '.join(changed)}" if changed else base.verdict
    scale, unit, per = claim.unit
    differences = {n: m.comparison.text(scale, unit, per) for n, m in measured.items()}
    figures = {n: m.figures for n, m in measured.items()}
    # The base set-up is the one that tests the claim; the variations say what its verdict
    # hangs on, and the reason says so where one changes it.
    agrees = base.verdict == claim.reported.direction
    matching = [n for n, v in verdicts.items() if v == claim.reported.direction and n != BASE]
    if agrees and not changed:
        why = "The lab agrees with what is reported, under every set-up."
    elif agrees:
        why = (f"The base set-up agrees with what is reported; under {', '.join(changed)} it "
               "does not: the verdict hangs on that choice, as measured here.")
    elif matching:
        why = (f"Under {', '.join(matching)} the lab finds what is reported: that choice of "
               "set-up is the measured difference.")
    else:
        why = (f"The lab finds '{base.verdict}' where the literature reports "
               f"'{claim.reported.direction}', and no variation of the set-up tried here gives "
               "what is reported.")
    reason = (f"Difference {base.comparison.text(scale, unit, per)}: {base.verdict}. " + (
        " ".join(f"Under {n}: {verdicts[n]}." for n in changed) + " " if changed else
        "Every variation gives the same verdict. ") + why)
    return Result(name, verdict, reason, base.figures, claim.reported, agrees, verdicts,
                  differences, figures, base.charts)


def train_missing(claim: Claim, settings: Settings, done: Runs, train_some) -> Runs:
    """Train what the claim needs, round after round, with ``train_some(jobs, done)``."""
    while missing := missing_jobs(claim, settings, done):
        train_some(missing, done)
    return done


def run(claim: Claim, settings: Settings | None = None, done: Runs | None = None,
        workers: int = 2) -> Result:
    """One claim, start to end: its runs (those in ``done`` are reused) and its verdict."""
    settings = settings or claim.defaults
    started = time.perf_counter()
    runs = train_missing(claim, settings, {} if done is None else done,
                         lambda jobs, into: train_jobs(jobs, into, workers))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # timings as in the app's single-threaded training workers
    try:
        result = judge(claim.name, settings, runs)
    finally:
        torch.set_num_threads(threads)
    result.seconds = time.perf_counter() - started
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Test what is said about LRN and BatchNorm: "
                                     "one row per claim, with its verdict.")
    parser.add_argument("claims", nargs="*", metavar="NAME", choices=[[], *CLAIMS],
                        help=f"claims to run (default: all): {', '.join(CLAIMS)}")
    parser.add_argument("--seeds", type=int, help="seeds per configuration (default: each claim's)")
    parser.add_argument("--epochs", type=int, help="epochs per run (default: each claim's)")
    parser.add_argument("--first-seed", type=int, default=0,
                        help="the first seed (default 0): another set of seeds")
    parser.add_argument("--recheck-seed", type=int, metavar="N",
                        help="judge each claim again with the seeds N, N + 1, ... and report "
                             "whether its verdict holds")
    parser.add_argument("--workers", type=int, default=2, help="runs trained side by side")
    parser.add_argument("--json", action="store_true", help='print {"claims": [...]} only')
    parser.add_argument("--save", metavar="PATH.json",
                        help="also write the results, with a record of how they were made")
    args = parser.parse_args(argv)
    chosen = [CLAIMS[name] for name in (args.claims or CLAIMS)]
    say = (lambda *a, **k: None) if args.json else print
    say(f"{len(chosen)} claims; a verdict is a 95% interval of the difference over seeds "
        "against each claim's margin (lrn_lab.stats).\n")
    say("#  verdict (whether the base set-up agrees with the papers; time)\n"
        "   claim: measured (and where the verdict depends on the set-up, each set-up's)")
    done: Runs = {}  # runs shared between claims with the same settings
    results = []
    for claim in chosen:
        changes = {k: getattr(args, k) for k in ("seeds", "epochs") if getattr(args, k)}
        settings = replace(claim.defaults, first_seed=args.first_seed, **changes)
        result = run(claim, settings, done, args.workers)
        if args.recheck_seed is not None and claim.jobs(settings, VARIATIONS[BASE], {}):
            again = run(claim, replace(settings, first_seed=args.recheck_seed), done,
                        args.workers)
            result.other_seeds = {"first_seed": args.recheck_seed, "verdict": again.verdict,
                                  "variations": again.variations}
        results.append((claim, settings, result))
        say(f"{claim.number:<3}{result.verdict} (base set-up agrees with the papers: "
            f"{'yes' if result.agrees else 'no'}; {result.seconds:.0f} s)\n   \"{claim.text}\" "
            f"{result.figures}"
            + ("".join(f"\n     {n}: {v}" for n, v in result.variations.items())
               if result.verdict.startswith("depends") else "")
            + (f"\n   with the seeds from {result.other_seeds['first_seed']}: "
               f"{result.other_seeds['verdict']}" if result.other_seeds else ""), flush=True)
    say("\nWhy, and the papers:")
    for claim, _, result in results:
        say(f"{claim.number}. {result.reason}\n   Reported: {claim.reported.source} "
            f"({claim.reported.direction}, {claim.reported.size}).")
    say(f"\n{LIMITS}")
    say(f"total {sum(r.seconds for *_, r in results):.0f} s")
    claims = [{"name": r.claim, "verdict": r.verdict, "reported": asdict(r.reported),
               "agrees": r.agrees, "variations": r.variations, "seconds": round(r.seconds, 1),
               **({"other_seeds": r.other_seeds} if r.other_seeds else {})}
              for *_, r in results]
    if args.json:
        print(json.dumps({"claims": claims}, indent=1))
    if args.save:
        from .results import save
        save(args.save, "lrn-claims", argv, {r.claim: {"settings": asdict(s), **r.to_dict()}
                                               for _, s, r in results})


if __name__ == "__main__":
    sys.exit(main())
