"""Make the bundled speech sample: spoken keywords and digits synthesized with espeak-ng.

The speech recipe needs real audio that can be shipped with the code. Debian's
``espeak-ng`` package (GPL-3 program; what it speaks is not covered by the
program's licence) says each word in many voices: eight English accents, each
with one of several voice variants, at random speed and pitch. Every take is
trimmed of leading and trailing silence, resampled, given a random gain and
mixed with white noise at a random signal-to-noise ratio, so no two takes
are alike. A seeded generator drives every random choice, so rerunning the
script with the same espeak-ng version rebuilds the same files.

Layout (one folder per label, as `keras.utils.audio_dataset_from_directory`
expects):

- ``keywords/<word>/<word>_<take>.wav``: ten command words, 16 kHz;
- ``digits/<digit>/<digit>_<take>.wav``: "zero" to "nine", 8 kHz (the rate
  of the Free Spoken Digit Dataset); the recipe's ``--task digits`` joins
  these into clips of several digits with random gaps.

Run (needs ``apt-get install espeak-ng``; the recipe itself does not):

    python data/speech/make_sample.py
"""

import pathlib
import shutil
import subprocess
import tempfile
import wave

import numpy as np
from scipy import signal
from scipy.io import wavfile

HERE = pathlib.Path(__file__).resolve().parent
KEYWORDS = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")
DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
ACCENTS = ("en-gb", "en-us", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-rp", "en-gb-x-gbcwmd", "en-029", "en-us-nyc")
VARIANTS = ("m1", "m2", "m3", "m4", "m7", "f1", "f2", "f3", "f4", "klatt", "klatt3", "croak")
KEYWORD_TAKES = 32
DIGIT_TAKES = 32
SEED = 20240501


def speak(text: str, voice: str, speed: int, pitch: int) -> tuple[np.ndarray, int]:
    """One espeak-ng utterance as float samples in [-1, 1] and its sample rate."""
    with tempfile.TemporaryDirectory() as folder:
        path = pathlib.Path(folder) / "take.wav"
        subprocess.run(
            ["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(path), text],
            check=True,
            capture_output=True,
        )
        with wave.open(str(path)) as handle:
            rate = handle.getframerate()
            samples = np.frombuffer(handle.readframes(handle.getnframes()), dtype="<i2")
    return samples.astype("float64") / 32768.0, rate


def trim(samples: np.ndarray, rate: int, threshold: float = 0.02, margin_seconds: float = 0.03) -> np.ndarray:
    """Cut leading and trailing silence, keeping a short margin."""
    loud = np.flatnonzero(np.abs(samples) > threshold * np.abs(samples).max())
    margin = int(margin_seconds * rate)
    return samples[max(0, loud[0] - margin) : loud[-1] + margin]


def take(text: str, rate: int, random: np.random.Generator) -> np.ndarray:
    """A randomized, noisy 16-bit take of ``text`` at ``rate`` Hz."""
    voice = f"{random.choice(ACCENTS)}+{random.choice(VARIANTS)}"
    samples, native = speak(text, voice, speed=int(random.integers(120, 221)), pitch=int(random.integers(25, 76)))
    samples = trim(samples, native)
    divisor = np.gcd(rate, native)
    samples = signal.resample_poly(samples, rate // divisor, native // divisor)
    samples *= random.uniform(0.25, 0.9) / np.abs(samples).max()
    snr_db = random.uniform(12.0, 30.0)
    noise_power = np.mean(samples**2) / 10 ** (snr_db / 10)
    samples = samples + random.normal(0.0, np.sqrt(noise_power), samples.shape)
    return np.clip(np.round(samples * 32767), -32768, 32767).astype("int16")


def write_words(folder: pathlib.Path, words, labels, takes: int, rate: int, random: np.random.Generator) -> int:
    shutil.rmtree(folder, ignore_errors=True)
    count = 0
    for word, label in zip(words, labels):
        (folder / label).mkdir(parents=True)
        for index in range(takes):
            wavfile.write(folder / label / f"{label}_{index:02d}.wav", rate, take(word, rate, random))
            count += 1
    return count


def main():
    random = np.random.default_rng(SEED)
    keywords = write_words(HERE / "keywords", KEYWORDS, KEYWORDS, KEYWORD_TAKES, 16000, random)
    digits = write_words(HERE / "digits", DIGITS, [str(d) for d in range(10)], DIGIT_TAKES, 8000, random)
    size = sum(path.stat().st_size for path in HERE.rglob("*.wav"))
    print(f"wrote {keywords} keyword clips and {digits} digit clips, {size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
