"""Image patches for binary sparse coding, from an image that ships with matplotlib.

matplotlib installs a few sample images with its package data (``mpl-data/sample_data``); we use
the grey-scale version of ``grace_hopper.jpg`` so that nothing is downloaded at run time. As in the
sparse-coding paper (Henke et al., arXiv:2405.20525), the image is reduced to 28×28 pixels and cut
into 16 tiles of 7×7 (64-variable QUBOs) or 4 tiles of 14×14 (128-variable QUBOs).
"""

from __future__ import annotations

import numpy as np

DEFAULT_IMAGE = "grace_hopper.jpg"


def load_image(size: int = 28, name: str = DEFAULT_IMAGE) -> np.ndarray:
    """Grey-scale sample image as float64 ``(size, size)`` in [0, 1].

    The image is centre-cropped to a square and area-averaged (PIL's box filter) down to ``size``."""
    if not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"size must be a positive integer, got {size!r}")
    import matplotlib.cbook as cbook
    from PIL import Image

    path = cbook.get_sample_data(name, asfileobj=False)
    with Image.open(path) as im:
        grey = im.convert("L")
        w, h = grey.size
        s = min(w, h)
        left, top = (w - s) // 2, (h - s) // 2
        grey = grey.crop((left, top, left + s, top + s)).resize((int(size), int(size)), Image.Resampling.BOX)
        return np.asarray(grey, dtype=np.float64) / 255.0


def tiles(image: np.ndarray, patch: int) -> np.ndarray:
    """Non-overlapping ``patch×patch`` tiles, row-major, each flattened: ``(k, patch²)``."""
    image = np.asarray(image, dtype=np.float64)
    H, W = image.shape
    if patch < 1 or H % patch or W % patch:
        raise ValueError(f"patch={patch!r} must divide the image shape {image.shape}")
    t = image.reshape(H // patch, patch, W // patch, patch).transpose(0, 2, 1, 3)
    return t.reshape(-1, patch * patch)


def untile(patches: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Inverse of :func:`tiles`: reassemble flattened tiles into an image of ``shape``."""
    patches = np.asarray(patches)
    k, m = patches.shape
    p = int(round(np.sqrt(m)))
    H, W = shape
    if p * p != m or (H // p) * (W // p) != k:
        raise ValueError(f"{k} tiles of {m} pixels do not make an image of shape {shape}")
    return patches.reshape(H // p, W // p, p, p).transpose(0, 2, 1, 3).reshape(H, W)


def sliding_patches(image: np.ndarray, patch: int, stride: int = 1) -> np.ndarray:
    """All ``patch×patch`` windows at the given stride, flattened: ``(k, patch²)``."""
    image = np.asarray(image, dtype=np.float64)
    H, W = image.shape
    if patch < 1 or patch > min(H, W):
        raise ValueError(f"patch={patch!r} does not fit the image shape {image.shape}")
    if stride < 1:
        raise ValueError(f"stride must be ≥ 1, got {stride!r}")
    win = np.lib.stride_tricks.sliding_window_view(image, (patch, patch))[::stride, ::stride]
    return win.reshape(-1, patch * patch).copy()


def training_patches(patch: int, sizes: tuple[int, ...] = (28, 56), name: str = DEFAULT_IMAGE) -> np.ndarray:
    """Unsupervised training set: every ``patch×patch`` window of the image at several resolutions
    (the 28×28 image the QUBOs come from, plus finer ones for more varied patches)."""
    return np.concatenate([sliding_patches(load_image(s, name), patch) for s in sizes])
