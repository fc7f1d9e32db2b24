"""What a pass is asked (Settings) and what it gives back (Outcome)."""
from __future__ import annotations

from dataclasses import dataclass, field

from .summary import Accumulator


@dataclass
class Settings:
    mode: str = "softmax"
    probs: bool = False
    ignore_index: int | None = None
    gammas: tuple[float, ...] = (2.0,)
    arithmetic: str = "exact"  # or "keras": Keras' float32, clipped probabilities
    threads: int = 0           # 0: every core
    block_rows: int | None = None  # None: block_rows_for(K)
    logprobs: bool = False     # the one score per row is the target's log-probability
    bins: int = 15             # calibration bins (0: no calibration)
    gradient: bool = False     # gradient norms of CE and focal loss (--gradient)
    losses: tuple = ()         # (name, parameter) of relatives reported beside focal
    losses_per_gamma: bool = False  # a sweep: each relative at every gamma ("loss:X@i")
    temperature: float = 1.0   # logits are divided by it before everything
    pt_bins: int = 0           # a histogram of p_t over this many equal bins (explore)
    per_element: bool = False  # sigmoid rows: one per (example, class) element
    weights: object = None     # --weights: a number, or one per scored unit (an array)
    soft: bool = False         # --soft-targets: TARGETS are (N, K) distributions
    label_smoothing: float = 0.0  # targets become (1 - eps) y + eps / K (softmax)
    class_weight: tuple | None = None  # --class-weight: each class's loss times w_c
    pos_weight: tuple | None = None    # --pos-weight: sigmoid positives of class k times p_k
    row_sums: bool = False     # rows carry what they add to each reduction (compare)
    row_correct: bool = False  # softmax rows carry whether the top label is the target (track)
    only_ids: object = None    # a set of ids: rows with other ids are left out, unseen
    scale_mean: bool = False   # sigmoid 'mean' over the summed class weights (smp)
    probs_to_logits: str | None = None  # "smp": --probs turned into logits smp's way
    count_mean: bool = False   # 'mean' divides by the count even with weights (mmpretrain)
    drop_class: str | None = None  # --drop-class: a class (name or index) out of the problem


@dataclass
class Outcome:
    acc: Accumulator
    n_classes: int
    classes: list[str]
    top: list[dict] = field(default_factory=list)
    source: str | None = None
    dense: object = None  # readers.dense.Dense: rows were positions of N examples
    tokens: bool = False  # rows were tokens given by their log-probability
