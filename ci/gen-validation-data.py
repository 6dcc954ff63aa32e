#!/usr/bin/env python3
"""Writes data sets for `zant run --inputs` (validation over a data set).

For mnist-8: 100 digit-like 28x28 images (strokes of a seven-segment digit,
jittered, thickened and blurred, the digit drawn is the label). For the
DS-CNN keyword-spotting benchmark model: 100 seeded MFCC-like inputs
(smooth noise), labelled with onnxruntime's own top-1 class (there is no
ground truth for synthetic audio). For each model, in OUT/<model>/:

  inputs.npy    float32, shape (100, *input shape without the batch axis)
  expects.npy   float32, onnxruntime's outputs, shape (100, *output shape)
  labels.txt    one integer class a line

Deterministic: a fixed seed, and onnxruntime on one thread.

Usage: ci/gen-validation-data.py [OUT] [--mnist PATH] [--ds-cnn PATH] [-n N]
(default OUT target/validation-data, mnist ../shared/models/mnist-8.onnx,
DS-CNN target/bench-models/ds-cnn.onnx, N 100). Needs numpy and onnxruntime.
"""

import argparse
import os
import sys

import numpy as np

# Seven-segment strokes: (x0, y0, x1, y1) in a 0..1 box.
SEGMENTS = {
    "a": (0.2, 0.1, 0.8, 0.1),
    "b": (0.8, 0.1, 0.8, 0.5),
    "c": (0.8, 0.5, 0.8, 0.9),
    "d": (0.2, 0.9, 0.8, 0.9),
    "e": (0.2, 0.5, 0.2, 0.9),
    "f": (0.2, 0.1, 0.2, 0.5),
    "g": (0.2, 0.5, 0.8, 0.5),
}
DIGITS = {
    0: "abcdef", 1: "bc", 2: "abged", 3: "abgcd", 4: "fgbc",
    5: "afgcd", 6: "afgedc", 7: "abc", 8: "abcdefg", 9: "abcdfg",
}


def digit_image(d, rng):
    """A 28x28 float32 image of digit d in [0, 1], MNIST-like placement."""
    img = np.zeros((28, 28), np.float32)
    yy, xx = np.mgrid[0:28, 0:28].astype(np.float32)
    scale = rng.uniform(14.0, 18.0)
    ox = 14.0 - scale * 0.5 * 0.6 + rng.uniform(-1.5, 1.5)
    oy = 14.0 - scale * 0.5 + rng.uniform(-1.5, 1.5)
    slant = rng.uniform(-0.25, 0.25)
    width = rng.uniform(1.2, 2.0)
    for s in DIGITS[d]:
        x0, y0, x1, y1 = SEGMENTS[s]
        x0, x1 = x0 * 0.6 * scale, x1 * 0.6 * scale
        y0, y1 = y0 * scale, y1 * scale
        x0 += slant * (scale - y0) + ox
        x1 += slant * (scale - y1) + ox
        y0 += oy
        y1 += oy
        # Distance from every pixel to the segment.
        px, py = xx - x0, yy - y0
        vx, vy = x1 - x0, y1 - y0
        t = np.clip((px * vx + py * vy) / max(vx * vx + vy * vy, 1e-6), 0.0, 1.0)
        dist = np.hypot(px - t * vx, py - t * vy)
        img = np.maximum(img, np.clip(width + 0.5 - dist, 0.0, 1.0))
    # A light blur and a little noise, as a scanned digit.
    k = np.array([0.25, 0.5, 0.25], np.float32)
    img = np.apply_along_axis(lambda r: np.convolve(r, k, "same"), 0, img)
    img = np.apply_along_axis(lambda r: np.convolve(r, k, "same"), 1, img)
    img = np.clip(img + rng.normal(0, 0.03, img.shape), 0.0, 1.0)
    return (img * 255.0).astype(np.float32)  # mnist-8 takes 0..255


def smooth_noise(shape, rng):
    """MFCC-like input: noise smoothed along time, scaled per coefficient."""
    x = rng.normal(0, 1, shape).astype(np.float32)
    k = np.ones(5, np.float32) / 5
    x = np.apply_along_axis(lambda r: np.convolve(r, k, "same"), 0, x)
    return (x * np.linspace(20.0, 2.0, shape[1], dtype=np.float32)).astype(np.float32)


def session(path):
    import onnxruntime as ort

    o = ort.SessionOptions()
    o.intra_op_num_threads = 1
    o.inter_op_num_threads = 1
    return ort.InferenceSession(path, o, providers=["CPUExecutionProvider"])


def write(out, name, inputs, sess, labels):
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    iname = sess.get_inputs()[0].name
    outs = np.stack([sess.run(None, {iname: x[None]})[0][0] for x in inputs]).astype(np.float32)
    if labels is None:
        labels = outs.reshape(len(outs), -1).argmax(axis=1)
    np.save(os.path.join(d, "inputs.npy"), inputs.astype(np.float32))
    np.save(os.path.join(d, "expects.npy"), outs)
    with open(os.path.join(d, "labels.txt"), "w") as f:
        f.write("".join(f"{int(l)}\n" for l in labels))
    agree = (outs.reshape(len(outs), -1).argmax(axis=1) == np.asarray(labels)).mean()
    print(f"{d}: {len(inputs)} samples, inputs {inputs.shape[1:]}, outputs {outs.shape[1:]}, "
          f"onnxruntime top-1 = label for {agree:.0%}")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(here)
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", nargs="?", default=os.path.join(root, "target", "validation-data"))
    p.add_argument("--mnist", default=os.path.join(root, "..", "shared", "models", "mnist-8.onnx"))
    p.add_argument("--ds-cnn", default=os.path.join(root, "target", "bench-models", "ds-cnn.onnx"))
    p.add_argument("-n", type=int, default=100)
    a = p.parse_args()
    rng = np.random.RandomState(2026)
    if os.path.exists(a.mnist):
        labels = np.arange(a.n) % 10
        imgs = np.stack([digit_image(int(d), rng)[None] for d in labels])
        write(a.out, "mnist-8", imgs, session(a.mnist), labels)
    else:
        print(f"skipped mnist-8: {a.mnist} not found", file=sys.stderr)
    if os.path.exists(a.ds_cnn):
        s = session(a.ds_cnn)
        shape = s.get_inputs()[0].shape[1:]  # (1, 49, 10)
        x = np.stack([smooth_noise(shape[1:], rng)[None] for _ in range(a.n)])
        write(a.out, "ds-cnn", x, s, None)
    else:
        print(f"skipped ds-cnn: {a.ds_cnn} not found (ci/gen-bench-models.sh makes it)", file=sys.stderr)


if __name__ == "__main__":
    main()
