"""`--like torchvision|kornia|keras|smp|monai|mmpretrain`: each library's
conventions, so its number can be reproduced on the same predictions (see
the docs' "Comparing with other libraries"). Read from each library's own
source:

torchvision  ops.sigmoid_focal_loss: sigmoid per element, alpha 0.25 for
             positives and 0.75 for negatives, mean over all N*K elements.
kornia       losses.focal_loss: softmax; class 0 weighted by 1 - alpha and
             every other class by alpha; 'mean' divides by N*C, ignored
             examples included.
smp          segmentation_models_pytorch.losses.FocalLoss(mode="multiclass"): for
             each class a one-vs-rest sigmoid focal loss (no alpha by default),
             averaged over the non-ignored positions, and the classes' losses
             averaged (0.6: ``class_losses.mean()``; releases before summed
             them, C times this): the mean over every scored element. With
             class_weights, ``sum_c w_c L_c / sum_c w_c``; with
             from_logits=False, the logit is ``log(clamp(p, 1e-7, 1 - 1e-7))``
             (multiclass) or its log-odds (multilabel).
monai        monai.losses.FocalLoss: sigmoid by default (use_softmax=False), no
             alpha by default, mean over every element of (B, N, *spatial);
             with use_softmax the softmax form, alpha split as kornia's, and
             the mean still over B*N*spatial.
mmpretrain   mmpretrain.models.losses.FocalLoss: sigmoid per element (class
             indices one-hot), alpha 0.25 for positives and 0.75 for
             negatives; weight_reduce_loss: sample weights multiply each
             row's elements and 'mean' divides by N*K, not by the weights.
keras        losses.CategoricalFocalCrossentropy (softmax) and
             BinaryFocalCrossentropy (sigmoid): float32; probabilities
             renormalised and clipped to [1e-7, 1 - 1e-7]; categorical: alpha
             0.25 on the target term, mean over N; binary: no alpha unless
             apply_class_balancing (then like torchvision), mean over N*K.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .alpha import AlphaSpec, parse_alpha
from .errors import OptionError

PEERS = ("torchvision", "kornia", "keras", "smp", "monai", "mmpretrain")


@dataclass(frozen=True)
class Preset:
    mode: str
    alpha: AlphaSpec
    normalize: str | None = None     # None, "positives" or "classes" (N*K)
    arithmetic: str = "exact"        # or "keras"
    peer: str | None = None          # the --like in force

    def settings(self) -> dict:
        """What the preset sets in scoring.Settings beside the mode and alpha."""
        return {"arithmetic": self.arithmetic,
                # smp 0.6: sum_c w_c L_c / sum_c w_c, so scaling the weights changes nothing
                "scale_mean": self.peer == "smp",
                # smp's from_logits=False: its own way back from probabilities to logits
                "probs_to_logits": "smp" if self.peer == "smp" else None,
                # mmpretrain's weight_reduce_loss: 'mean' over the elements, not the weights
                "count_mean": self.peer == "mmpretrain"}


def _background_split(alpha_text: str, who: str) -> AlphaSpec:
    """One alpha in [0, 1]: class 0 (background) gets 1 - alpha, the others
    alpha, as Kornia and MONAI's softmax form weigh them."""
    spec = parse_alpha(alpha_text, "softmax")
    if spec.kind != "number" or not 0 <= spec.value <= 1:
        raise OptionError("--alpha", f"{who} takes one alpha in [0, 1] (class 0 gets "
                          "1 - alpha, the others alpha)")
    return AlphaSpec("kornia", spec.value)


def resolve(like: str | None, mode: str | None, alpha_text: str | None,
            normalize: str | None) -> Preset:
    """The mode, alpha and normalisation in force, from --like and the options
    the user gave (which win where they make sense for the peer)."""
    if like is None:
        mode = mode or "softmax"
        return Preset(mode, parse_alpha(alpha_text, mode), normalize)
    if like == "torchvision":
        if mode == "softmax":
            raise OptionError("--like", "torchvision's focal loss is the sigmoid form; "
                              "drop --mode softmax")
        return Preset("sigmoid", parse_alpha(alpha_text or "0.25", "sigmoid"), normalize)
    if like == "mmpretrain":
        if mode == "softmax":
            raise OptionError("--like", "mmpretrain's FocalLoss is the sigmoid form; drop "
                              "--mode softmax")
        if normalize is not None:
            raise OptionError("--normalize", "does not combine with --like mmpretrain")
        return Preset("sigmoid", parse_alpha(alpha_text or "0.25", "sigmoid"), None,
                      peer="mmpretrain")
    if like == "kornia":
        if mode == "sigmoid":
            raise OptionError("--like", "kornia's focal_loss is the softmax form "
                              "(its binary_focal_loss_with_logits is --like torchvision)")
        if normalize is not None:
            raise OptionError("--normalize", "does not combine with --like kornia")
        return Preset("softmax", _background_split(alpha_text or "0.25", "--like kornia"),
                      "classes")
    if like in ("smp", "monai") and normalize is not None:
        raise OptionError("--normalize", f"does not combine with --like {like}")
    if like == "smp":
        if mode == "softmax":
            raise OptionError("--like", "smp's multiclass FocalLoss is a one-vs-rest "
                              "sigmoid per class; drop --mode softmax")
        return Preset("sigmoid", parse_alpha(alpha_text or "-1", "sigmoid"), None, peer="smp")
    if like == "monai":
        if mode == "softmax":  # use_softmax=True: no alpha unless one is given
            spec = _background_split(alpha_text, "--like monai --mode softmax") \
                if alpha_text else AlphaSpec("number", 1.0)
            return Preset("softmax", spec, "classes")
        spec = parse_alpha(alpha_text or "-1", "sigmoid")
        if spec.kind != "number":
            # MONAI 1.6 weighs only the positives by alpha_c (negatives 1); focal's
            # sigmoid alpha per class gives negatives 1 - alpha_c: a different number
            raise OptionError("--alpha", "--like monai takes one alpha in sigmoid mode: "
                              "MONAI weighs only the positives by a per-class alpha, which "
                              "focal does not reproduce (--class-weight weighs whole classes)")
        return Preset("sigmoid", spec, None)
    mode = mode or "softmax"
    default = "0.25" if mode == "softmax" else "-1"  # binary: no class balancing
    return Preset(mode, parse_alpha(alpha_text or default, mode), normalize, "keras")


def smp_logits(p: np.ndarray, multiclass: bool) -> np.ndarray:
    """smp 0.6's FocalLoss(from_logits=False): probabilities clamped to
    [1e-7, 1 - 1e-7] in their own precision, then ``log p`` taken as the
    sigmoid logit in multiclass mode (one-vs-rest on softmax outputs), the
    log-odds in multilabel mode."""
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return np.log(p) if multiclass else np.log(p / (1 - p))
