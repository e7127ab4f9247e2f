"""Make the bundled video sample: handwritten digits circling on a small canvas.

Each clip shows one handwritten digit from scikit-learn's bundled digits
(the UCI optical-recognition test set, 8x8 pixels, shipped inside the
scikit-learn wheel) moving around a circle. Four classes differ only in the
order of the frames:

- ``clockwise``: one lap clockwise, 40 degrees per frame;
- ``anticlockwise``: one lap anticlockwise;
- ``clockwise_2laps``: two laps clockwise, 80 degrees per frame;
- ``anticlockwise_2laps``: two laps anticlockwise.

With ``FRAMES = 9`` (odd) and the circle cut into 9 equally spaced
positions, every clip visits each of the 9 positions exactly once, whatever
its class: stepping by 1 or 2 positions (forwards or backwards) is a
permutation of the same 9 frames. So the set of frames of a clip carries no
information about its class, and a model that averages its frames (in any
order) is at chance by construction, while a model that reads the frames in
order can tell the direction and the speed.

Every source digit image appears once in each class (with its own random
start angle, radius, centre and brightness), so clips share a source: the recipe
splits by source (``groups``), keeping every image of a digit on one side of
the split.

Run ``python data/video/make_sample.py`` to rebuild ``circling_digits.npz``
byte for byte (NumPy and scikit-learn only; seeded). It also writes
``examples/<class>.gif``, the first clip of two classes as GIF files (Pillow;
a grey GIF keeps the 8-bit values exactly): the raw inputs that
``rnn-apps predict video`` is shown with.
"""

import io
import pathlib

import numpy as np
from sklearn import datasets

SEED = 20260
SOURCES = 200
FRAMES = 9
SIZE = 32
DIGIT = 12
CLASSES = {
    # name: positions advanced per frame (positive is clockwise on screen)
    "clockwise": 1,
    "anticlockwise": -1,
    "clockwise_2laps": 2,
    "anticlockwise_2laps": -2,
}
OUTPUT = pathlib.Path(__file__).resolve().parent / "circling_digits.npz"


def upsample(image: np.ndarray, size: int) -> np.ndarray:
    """Bilinear resize of a square image to ``size`` x ``size``."""
    source = np.linspace(0, image.shape[0] - 1, size)
    low = np.floor(source).astype(int)
    high = np.minimum(low + 1, image.shape[0] - 1)
    weight = source - low
    rows = image[low] * (1 - weight)[:, None] + image[high] * weight[:, None]
    return rows[:, low] * (1 - weight)[None, :] + rows[:, high] * weight[None, :]


def clip(digit: np.ndarray, step: int, rng: np.random.Generator) -> np.ndarray:
    """One ``(FRAMES, SIZE, SIZE, 1)`` uint8 clip of ``digit`` circling by ``step``."""
    start = rng.uniform(0, 2 * np.pi)
    radius = rng.uniform(6.0, 8.0)
    centre = SIZE / 2 + rng.uniform(-1.0, 1.0, size=2)
    frames = np.zeros((FRAMES, SIZE, SIZE), dtype=np.float64)
    for index in range(FRAMES):
        position = (step * index) % FRAMES
        angle = start + 2 * np.pi * position / FRAMES
        # Screen rows grow downwards, so a growing angle turns clockwise.
        top = int(round(centre[0] + radius * np.sin(angle) - DIGIT / 2))
        left = int(round(centre[1] + radius * np.cos(angle) - DIGIT / 2))
        top, left = min(max(top, 0), SIZE - DIGIT), min(max(left, 0), SIZE - DIGIT)
        frames[index, top : top + DIGIT, left : left + DIGIT] = digit
    # A random brightness per clip rather than pixel noise, which would not
    # compress and would make the sample several times larger.
    frames *= rng.uniform(0.6, 1.0)
    return np.clip(frames, 0, 255).round().astype(np.uint8)[..., None]


def make() -> dict:
    rng = np.random.default_rng(SEED)
    images = datasets.load_digits().images
    chosen = rng.choice(len(images), size=SOURCES, replace=False)
    clips, labels, groups = [], [], []
    for group, image_index in enumerate(chosen):
        digit = upsample(images[image_index] / 16.0, DIGIT) * 255.0
        for label, step in enumerate(CLASSES.values()):
            clips.append(clip(digit, step, rng))
            labels.append(label)
            groups.append(group)
    order = rng.permutation(len(clips))
    return {
        "frames": np.stack(clips)[order],
        "labels": np.asarray(labels, dtype=np.int64)[order],
        "groups": np.asarray(groups, dtype=np.int64)[order],
        "class_names": np.asarray(list(CLASSES)),
        "digit_index": np.asarray(chosen, dtype=np.int64),
    }


def main():
    arrays = make()
    # np.savez_compressed stamps the current time into the zip; write the
    # archive ourselves with a fixed date so a rebuild is byte-identical.
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for key, value in arrays.items():
            entry = io.BytesIO()
            np.lib.format.write_array(entry, value, allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, entry.getvalue())
    OUTPUT.write_bytes(buffer.getvalue())
    print(f"wrote {OUTPUT} ({OUTPUT.stat().st_size / 1e6:.2f} MB): {arrays['frames'].shape} uint8")
    write_examples(arrays)


def write_examples(arrays: dict, names=("clockwise", "anticlockwise_2laps")) -> None:
    """Save the first clip of each class in ``names`` as ``examples/<name>.gif``."""
    from PIL import Image

    folder = OUTPUT.parent / "examples"
    folder.mkdir(exist_ok=True)
    for name in names:
        label = list(arrays["class_names"]).index(name)
        frames = arrays["frames"][np.flatnonzero(arrays["labels"] == label)[0], ..., 0]
        images = [Image.fromarray(frame) for frame in frames]
        images[0].save(folder / f"{name}.gif", save_all=True, append_images=images[1:], duration=100, loop=0)
        print(f"wrote {folder / name}.gif")


if __name__ == "__main__":
    main()
