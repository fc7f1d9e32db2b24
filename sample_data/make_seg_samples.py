"""Make the bundled segmentation sample: four 48 x 64 "microscopy" images with
three classes (background, cell, nucleus), the label masks as palette PNGs
(VOC-style: 255 marks the ignored one-pixel border and a hand-drawn "unsure"
patch), and a model's logits (N, C, H, W) float32 that is right in the bulk
of each region, unsure at the edges, and misses one small cell outright.

    python sample_data/make_seg_samples.py      (numpy and Pillow)
"""
import os

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
CLASSES = ["background", "cell", "nucleus"]
N, H, W = 4, 48, 64


def masks(rng):
    yy, xx = np.mgrid[0:H, 0:W]
    out = np.zeros((N, H, W), np.uint8)
    for i in range(N):
        for _ in range(rng.integers(2, 5)):
            cy, cx = rng.integers(8, H - 8), rng.integers(8, W - 8)
            r = rng.uniform(5, 11)
            d = np.hypot((yy - cy) / 1.2, xx - cx)
            out[i][d < r] = 1
            out[i][d < r * 0.45] = 2
        out[i][[0, -1], :] = 255
        out[i][:, [0, -1]] = 255
    out[1, 20:24, 30:36] = 255  # an annotator's "unsure"
    return out


def logits(rng, label):
    z = rng.normal(0, 0.8, size=(N, len(CLASSES), H, W)).astype(np.float32)
    truth = np.where(label == 255, 0, label)
    # confident in the bulk, unsure where the class changes
    edge = np.zeros(truth.shape, bool)
    for axis in (1, 2):
        edge |= np.diff(truth, axis=axis, prepend=np.take(truth, [0], axis=axis)) != 0
    margin = np.where(edge, 0.6, 4.0).astype(np.float32)
    np.put_along_axis(z, truth[:, None].astype(np.int64),
                      np.take_along_axis(z, truth[:, None].astype(np.int64), 1)
                      + margin[:, None], 1)
    # a cell the model missed: it says background there
    miss = (truth[3] > 0) & (np.mgrid[0:H, 0:W][1] > W // 2)
    z[3, 0][miss] += 5.0
    return z


def main():
    rng = np.random.default_rng(2017)
    label = masks(rng)
    np.save(os.path.join(HERE, "seg_logits.npy"), logits(rng, label))
    folder = os.path.join(HERE, "seg_masks")
    os.makedirs(folder, exist_ok=True)
    palette = [0, 0, 0, 220, 120, 60, 60, 90, 230] + [0, 0, 0] * 252 + [255, 255, 255]
    for i in range(N):
        image = Image.fromarray(label[i], mode="P")
        image.putpalette(palette)
        image.save(os.path.join(folder, f"cells_{i:02d}.png"), optimize=True)
    with open(os.path.join(HERE, "seg_classes.txt"), "w") as f:
        f.write("\n".join(CLASSES) + "\n")


if __name__ == "__main__":
    main()
