"""Lessons: guided sequences of views that a teacher projects, authors and shares.

A lesson is a list of steps; a step is a page, that page's settings (exactly what its URL
holds), a title, a few sentences for the students and, in the built-in lessons, "what to
notice": a sentence whose numbers are computed now, on the step's own data, by a measure
below (never typed in). A lesson file is JSON; one uploaded is untrusted and ``read_file``
checks everything in it. No UI code here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from lrn_app import pages, urlstate
from lrn_app.compute import compare, conventions, explorer, gradients
from lrn_app.inputs import batch
from lrn_app.inputs.features import feature_maps
from lrn_app.inputs.samples import load_sample
from lrn_app.state import Compare, Conventions, Explorer, Gradients
from lrn_core import resolve, translate


@dataclass(frozen=True)
class Step:
    page: str  # the slug of a page with settings (lrn_app.pages.WITH_STATE)
    settings: dict  # the page's URL parameters, as strings
    title: str
    text: str
    notice: str = ""  # built-in only: a sentence with {names} that ``measure`` fills in
    measure: str = ""  # built-in only: a key of MEASURES

    def state(self):
        """The page's settings as its dataclass (repaired like a hand-edited URL)."""
        return urlstate.parse(self.settings, pages.get(self.page).state)[0]


@dataclass(frozen=True)
class Lesson:
    id: str
    title: str
    summary: str
    steps: tuple[Step, ...] = field(default_factory=tuple)


# --- measures: the numbers behind "what to notice" ---------------------------------------------

def _explorer_features(s: Explorer) -> np.ndarray:
    return feature_maps(load_sample(s.sample, s.side), s.source, s.channels)


def _square_features(label: str, side: int, source: str, channels: int) -> np.ndarray:
    """A batch member's features, as the batch pages build them ('cat', 'cat (flip)')."""
    image, augmentation = batch.split_label(label)
    return feature_maps(batch.member(load_sample(image, max(side, 256)), side, augmentation),
                        source, channels)


def gain_range(s: Explorer) -> dict:
    """The smallest and largest gain y / x over every channel and pixel."""
    gain = explorer.run_lrn(_explorer_features(s), s).maps["gain"]
    return {"low": float(gain.min()), "high": float(gain.max())}


def strong_and_background(s: Explorer) -> dict:
    """The gain of the chosen channel at its strongest activation, and its median gain on
    the background (pixels below a tenth of that activation)."""
    feats = _explorer_features(s)
    maps = explorer.run_lrn(feats, s).maps
    x, gain = maps["input"][s.channel], maps["gain"][s.channel]
    peak = np.unravel_index(np.argmax(x), x.shape)
    background = gain[x < 0.1 * x[peak]]
    return {"strong": float(gain[peak]), "background": float(np.median(background))}


def damped_share(s: Explorer) -> dict:
    """The share (%) of strong activations (above half their channel's peak) that lose more
    than a quarter, and the smallest gain anywhere."""
    maps = explorer.run_lrn(_explorer_features(s), s).maps
    x, gain = maps["input"], maps["gain"]
    strong = x > 0.5 * x.max(axis=(1, 2), keepdims=True)
    return {"share": 100 * float((gain[strong] < 0.75).mean()), "low": float(gain.min())}


def pixel_arithmetic(s: Explorer) -> dict:
    """The pixel inspector's numbers at the chosen channel's strongest activation."""
    feats = _explorer_features(s)
    row, col = np.unravel_index(np.argmax(feats[s.channel]), feats.shape[1:])
    px = explorer.inspect_pixel(feats, s, s.channel, int(row), int(col))
    return {"x": px.x, "S": px.S, "D": px.D, "gain": px.gain, "y": px.y}


def shuffle_change(s: Explorer) -> dict:
    """How much shuffling the channel order changes the output (% of its largest value)."""
    return {"change": 100 * explorer.shuffle_effect(_explorer_features(s), s)[1]}


def lateral_inhibition(s: Gradients) -> dict:
    """One output's Jacobian: its own slope and its most negative neighbour's."""
    # as the page's image picker builds them: the sample at the working size, then squared
    feats = feature_maps(batch.member(load_sample(s.sample, s.side), s.side), s.source,
                         s.channels)
    row, col = gradients.pick_pixel(feats, s.channel, s.row, s.col)
    jac = gradients.jacobian(feats, explorer.settings(s), s.channel, row, col)
    return {"centre": jac.centre, "neighbour": float(np.min(jac.values))}


def _comparison(s: Compare, bn_mode: str | None = None, warmup: int | None = None):
    labels = batch.batch_labels(s.images, s.augment)
    feats = np.stack([_square_features(n, s.side, s.source, s.channels) for n in labels])
    swap = np.stack([_square_features(n, s.side, s.source, s.channels)
                     for n in (list(s.swap) or ["noise"])])
    bn = compare.BatchNormSettings(
        training=(bn_mode or s.bn_mode) == "train", gamma=s.gamma, shift=s.shift, eps=s.eps,
        momentum=s.momentum, warmup=s.warmup if warmup is None else warmup)
    return compare.compare(feats, s.chosen, swap, explorer.settings(s), bn)


def signs(s: Compare) -> dict:
    """The smallest value of the chosen image after LRN and after BatchNorm."""
    maps = _comparison(s).maps
    return {"lrn_min": float(maps["LRN"].min()), "bn_min": float(maps["BatchNorm"].min())}


def batch_dependence(s: Compare) -> dict:
    """How much swapping the batch-mates changes each output, and train against eval (%)."""
    result = _comparison(s)
    return {"bn": 100 * result.swap_change["BatchNorm"], "lrn": 100 * result.swap_change["LRN"],
            "train_eval": 100 * result.train_eval_change}


def warmup_effect(s: Compare) -> dict:
    """Train against eval (%) after this step's warm-up and after none."""
    return {"train_eval": 100 * _comparison(s).train_eval_change,
            "none": 100 * _comparison(s, warmup=0).train_eval_change}


def naive_port(s: Conventions) -> dict:
    """PyTorch's numbers given to TensorFlow as they are, and translated: the largest
    difference of the outputs (% of the largest output), and the translated parameters."""
    feats = _explorer_features(Explorer(sample=s.sample, side=128))
    params = dict(size=s.n, alpha=s.alpha, beta=s.beta, k=s.k)
    out = {}
    for name, translated in (("naive", False), ("translated", True)):
        result = conventions.agreement(feats, params, s.convention, "across", translated)
        i, j = result.names.index(s.convention), result.names.index("tensorflow")
        out[name] = 100 * float(result.matrix[i, j])
    tf = translate(params, s.convention, "tensorflow")
    return {**out, "radius": tf["size"], "tf_alpha": tf["alpha"]}


def paper_in_pytorch(s: Conventions) -> dict:
    """The setting (in its convention) as PyTorch's alpha, and the factor between them."""
    params = dict(size=s.n, alpha=s.alpha, beta=s.beta, k=s.k)
    pt = translate(params, s.convention, "pytorch")
    return {"alpha": s.alpha, "pt_alpha": pt["alpha"], "factor": pt["alpha"] / s.alpha,
            "window": resolve(s.n, s.alpha, s.beta, s.k, convention=s.convention).taps}


def tutorial_output(s: Conventions) -> dict:
    """The chosen tutorial example's output at its explained cell, on its own numbers."""
    example = conventions.EXAMPLES[s.example]
    y = conventions.compute(example, example.grid())
    return {"y": float(y.ravel()[s.cell]), "first": float(y.ravel()[0])}


MEASURES: dict[str, Callable[..., dict]] = {f.__name__: f for f in (
    gain_range, strong_and_background, damped_share, pixel_arithmetic, shuffle_change,
    lateral_inhibition, signs, batch_dependence, warmup_effect, naive_port, paper_in_pytorch,
    tutorial_output)}


def measure(step: Step) -> dict:
    """The numbers of a step's "what to notice", computed on its page's settings."""
    return MEASURES[step.measure](step.state()) if step.measure else {}


def notice(step: Step, values: dict) -> str:
    return step.notice.format(**values) if step.notice else ""


# --- the built-in lessons --------------------------------------------

def _step(page, settings, title, text, notice="", measure=""):
    return Step(page, {k: str(v) for k, v in settings.items()}, title, text, notice, measure)


BUILT_IN = (
    Lesson("what-lrn-does", "What LRN does",
           "The formula, α from 0 upwards, the gain map, one pixel's arithmetic and lateral "
           "inhibition in the Jacobian.", (
        _step("explorer", {"alpha": 0.0},
              "α = 0: a constant",
              "LRN divides each activation x by (k + a·S)^β, where S sums the squares of x's "
              "neighbours: here 5 channels at the same pixel. With α = 0 the neighbours drop "
              "out and every activation is divided by the same k^β.",
              "Every gain y / x lies between **{low:.4f}** and **{high:.4f}**: one number for "
              "the whole map.", "gain_range"),
        _step("explorer", {"alpha": 1.0},
              "Turn α up",
              "With α > 0 the denominator grows with the energy of the neighbourhood. Compare "
              "the gain panel with the input: where is the gain lowest?",
              "At the channel's strongest activation the gain is **{strong:.2f}**; on the "
              "background it is **{background:.2f}**: strong responses are damped most.",
              "strong_and_background"),
        _step("explorer", {"view": "gain"},
              "The gain map of every channel",
              "At α = 10 (PyTorch's a = α / n = 2) the damping is easy to see. The grid shows "
              "the gain of all 16 channels, each on its own colour scale.",
              "**{share:.0f}%** of the strong activations (above half their channel's peak) "
              "lose more than a quarter; the smallest gain anywhere is **{low:.2f}**.",
              "damped_share"),
        _step("explorer", {"tab": "Pixel inspector"},
              "One pixel, number by number",
              "The pixel inspector writes out the formula at the channel's strongest "
              "activation: the window's squares, their sum S, the denominator and the gain.",
              "There x = **{x:.3g}**, S = **{S:.3g}**, k + a·S = **{D:.3g}**, so the gain is "
              "**{gain:.3g}** and y = **{y:.3g}**.", "pixel_arithmetic"),
        _step("gradients", {},
              "Lateral inhibition",
              "Below the gradients, the bars are one output's Jacobian row: how y of channel "
              "c moves when each input channel moves. A unit's own input raises its output; "
              "its neighbours' inputs lower it.",
              "∂y/∂x of its own input is **{centre:.3g}**; the most negative neighbour's is "
              "**{neighbour:.3g}**.", "lateral_inhibition"),
        _step("conventions", {},
              "The tutorial's example, by hand",
              "Four channels at one pixel, (k, α, β, n) = (0, 1, 1, 2): each channel is "
              "divided by the sum of its own and its neighbours' squares. Scroll to \"The "
              "tutorials' examples, live\", change a number and watch which outputs change.",
              "Channel 0, whose only neighbour is also 1, gives y = **{y:.3g}** = 1 / (1² + "
              "1²).", "tutorial_output"),
    )),
    Lesson("across-vs-within", "Across versus within channels",
           "Two neighbourhoods for the same formula, and why the order of the channels matters "
           "to one of them.", (
        _step("explorer", {"channel": 4},
              "Across channels",
              "Across channels, an activation's neighbours are the other feature maps at the "
              "same pixel: here filters of nearby orientations. Channel 4 has neighbours on "
              "both sides.",
              "At its strongest activation the gain is **{strong:.2f}**; on the background "
              "**{background:.2f}**.", "strong_and_background"),
        _step("explorer", {"mode": "within", "convention": "caffe", "channel": 4},
              "Within a channel",
              "Within a channel, the neighbours are the nearby pixels of the same map: a "
              "5 x 5 window (Caffe's convention divides α by n² = 25). A strong edge is damped "
              "by its own surroundings.",
              "At the strongest activation the gain is **{strong:.2f}**; on the background "
              "**{background:.2f}**.", "strong_and_background"),
        _step("explorer", {"tab": "Channel order", "shuffle": 1},
              "Shuffle the channels",
              "A layer's filters have no natural order, yet across-channel LRN sums over "
              "index neighbours. Shuffle the order, run LRN, and put the channels back.",
              "The output changes by up to **{change:.0f}%** of its largest value.",
              "shuffle_change"),
        _step("explorer", {"mode": "within", "convention": "caffe", "tab": "Channel order"},
              "Within a channel, order is irrelevant",
              "Within-channel LRN never mixes channels, so their order cannot matter. In a "
              "trained network (the Training lab) that is one argument for it.",
              "Shuffling changes the output by **{change:.0f}%**.", "shuffle_change"),
    )),
    Lesson("lrn-vs-batchnorm", "LRN versus BatchNorm",
           "The same image in different batches, and training against evaluation mode.", (
        _step("compare", {},
              "One image, two normalisations",
              "LRN divides by the energy of the neighbours in the same image. BatchNorm "
              "subtracts each channel's batch mean and divides by its standard deviation.",
              "After LRN the smallest value is **{lrn_min:.2f}** (LRN keeps the sign); after "
              "BatchNorm **{bn_min:.2f}**.", "signs"),
        _step("compare", {},
              "Change the company",
              "Swap the cat's batch-mates for other images and run both again. Which output "
              "moves?",
              "BatchNorm's output of the same image changes by **{bn:.1f}%**; LRN's by "
              "**{lrn:.1f}%**.", "batch_dependence"),
        _step("compare", {"bn_mode": "eval"},
              "Evaluation mode",
              "At test time BatchNorm uses running averages of the batch statistics, collected "
              "during training (here 10 warm-up batches), so the company no longer matters.",
              "Swapping the batch-mates now changes BatchNorm's output by **{bn:.1f}%**; "
              "training and evaluation mode still differ by **{train_eval:.0f}%**.",
              "batch_dependence"),
        _step("compare", {"bn_mode": "eval", "warmup": 100},
              "Let the running statistics catch up",
              "With more warm-up batches the running averages approach this batch's "
              "statistics, and evaluation mode approaches training mode.",
              "Training against evaluation mode: **{train_eval:.1f}%** after 100 warm-up "
              "batches, **{none:.0f}%** with none.", "warmup_effect"),
    )),
    Lesson("conventions-trap", "The conventions trap",
           "The same four numbers in PyTorch and TensorFlow, and the translation between "
           "them.", (
        _step("conventions", {"convention": "pytorch", "k": 1.0, "alpha": 1.0},
              "The same four numbers",
              "PyTorch's size = 5, α = 1, β = 0.75, k = 1, typed into TensorFlow as "
              "depth_radius = 5, alpha = 1, bias = 1, beta = 0.75: a naive port.",
              "Given the same numbers, TensorFlow's output differs from PyTorch's by "
              "**{naive:.0f}%** of the largest output.", "naive_port"),
        _step("conventions", {"convention": "pytorch", "k": 1.0, "alpha": 1.0},
              "The translation",
              "PyTorch divides α by the size and counts the whole window; TensorFlow takes a "
              "radius and does not divide. The table translates.",
              "TensorFlow needs depth_radius = **{radius}**, alpha = **{tf_alpha:.3g}**; then "
              "the outputs agree to within **{translated:.1e}%** of the largest.", "naive_port"),
        _step("conventions", {},
              "The paper's values",
              "The AlexNet paper's k = 2, n = 5, α = 1e-4, β = 0.75 do not divide α; most "
              "tutorials port them to PyTorch unchanged.",
              "PyTorch needs alpha = **{pt_alpha:.2g}** for the paper's **{alpha:.2g}**: "
              "**{factor:g}** times larger, one factor per channel of the window.",
              "paper_in_pytorch"),
        _step("conventions", {"example": "tensorflow"},
              "TensorFlow's own example",
              "A tutorial prints tf.nn.lrn of the numbers 1..32 as an NHWC tensor. The same "
              "numbers, in TensorFlow's convention, by lrn_core.",
              "The first output is **{first:.8f}**; the tutorial prints 0.13119929 (TensorFlow "
              "computes in float32).",
              "tutorial_output"),
    )),
)
LESSONS = {lesson.id: lesson for lesson in BUILT_IN}
MINE = "mine"  # the id of a session's own lesson


# --- lesson files: what a teacher downloads, and what an upload may contain -----------------------

FORMAT = "lrn-explorer-lesson"
MAX_FILE_BYTES = 64 * 1024
MAX_STEPS = 30
MAX_TITLE, MAX_TEXT = 120, 1500


class LessonFileError(ValueError):
    """A lesson file that cannot be used at all (the message says why)."""


def to_file(lesson: Lesson) -> bytes:
    """A lesson as the JSON file teachers download and upload (no computed notices: those
    belong to the built-in lessons)."""
    return json.dumps({"format": FORMAT, "version": 1, "title": lesson.title, "steps": [
        {"page": s.page, "settings": s.settings, "title": s.title, "text": s.text}
        for s in lesson.steps]}, indent=2, ensure_ascii=False).encode()


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _text(value, limit: int, what: str, notices: list[str]) -> str:
    """Plain text of at most ``limit`` characters, with control characters removed."""
    if not isinstance(value, str):
        notices.append(f"{what} is not text; left empty.")
        return ""
    clean = _CONTROL.sub("", value).strip()
    if len(clean) > limit:
        notices.append(f"{what} is longer than {limit} characters; cut.")
        clean = clean[:limit]
    return clean


def read_file(data: bytes) -> tuple[Lesson, list[str]]:
    """An uploaded lesson file, checked: its size, its JSON, each step's page and settings
    (repaired like a hand-edited address, each repair noted) and its texts (plain text,
    capped). Raises LessonFileError when nothing usable is left."""
    if len(data) > MAX_FILE_BYTES:
        raise LessonFileError(f"the file has {len(data):,} bytes; a lesson file has at most "
                              f"{MAX_FILE_BYTES:,}.")
    try:
        content = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
        raise LessonFileError(f"not a lesson file (JSON expected): {err}") from None
    if not isinstance(content, dict) or content.get("format") != FORMAT:
        raise LessonFileError(f"not a lesson file: its \"format\" must be \"{FORMAT}\".")
    raw_steps = content.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise LessonFileError("the lesson has no steps.")
    notices: list[str] = []
    if len(raw_steps) > MAX_STEPS:
        notices.append(f"a lesson has at most {MAX_STEPS} steps; kept the first {MAX_STEPS}.")
        raw_steps = raw_steps[:MAX_STEPS]
    steps = []
    for number, raw in enumerate(raw_steps, 1):
        where = f"step {number}"
        if not isinstance(raw, dict) or raw.get("page") not in pages.WITH_STATE:
            page = raw.get("page") if isinstance(raw, dict) else None
            notices.append(
                f"{where}: unknown page {page!r} (known: {', '.join(pages.WITH_STATE)}); left out."
            )
            continue
        page = raw["page"]
        settings = raw.get("settings", {})
        if not isinstance(settings, dict):
            notices.append(f"{where}: its settings are not a table; using the page's defaults.")
            settings = {}
        query = {str(k): str(v) for k, v in settings.items()
                 if isinstance(v, (str, int, float, bool)) and str(k) not in urlstate.FRAME_PARAMS}
        state, repairs = urlstate.parse(query, pages.get(page).state)
        notices += [f"{where}: {repair}" for repair in repairs]
        title = _text(raw.get("title", ""), MAX_TITLE, f"{where}'s title", notices)
        steps.append(Step(page, urlstate.to_query(state), title or pages.get(page).title,
                          _text(raw.get("text", ""), MAX_TEXT, f"{where}'s text", notices)))
    if not steps:
        raise LessonFileError("none of its steps opens a page of this app.")
    title = _text(content.get("title", ""), MAX_TITLE, "the title", notices) or "My lesson"
    return Lesson(MINE, title, "", tuple(steps)), notices


def escape_markdown(text: str) -> str:
    """A teacher's text shown as written: no markdown, links, images or HTML of its own."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~$:])", r"\\\1", text)
