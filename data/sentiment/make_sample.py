"""Build ``amazon_review_snippets.csv`` from the vaderSentiment source package.

The vaderSentiment package on PyPI (MIT licence) ships, in its source
distribution, the human-rated sentence snippets of its ICWSM 2014 evaluation.
This script downloads that source distribution with pip, reads the Amazon
review snippets (sentences from customer reviews of five products, each rated
by human judges from -4 to +4, averaged), keeps the clearly rated ones and
writes ``text,label,review,rating``:

- ``pos`` where the mean rating is above +0.5, ``neg`` below -0.5; snippets
  in between are left out as neutral;
- ``review`` is the review the snippet comes from (the first part of the
  snippet id), so users can split by review if they wish.

Run from the repository root: ``python data/sentiment/make_sample.py``.
"""

import csv
import pathlib
import subprocess
import sys
import tarfile
import tempfile

VERSION = "3.3.2"
MEMBER = "hutto_ICWSM_2014/amazonReviewSnippets_GroundTruth.txt"
THRESHOLD = 0.5
OUTPUT = pathlib.Path(__file__).with_name("amazon_review_snippets.csv")


def download(folder: pathlib.Path) -> pathlib.Path:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--no-binary",
            ":all:",
            f"vaderSentiment=={VERSION}",
            "-d",
            str(folder),
            "-q",
        ],
        check=True,
    )
    return next(folder.glob("vaderSentiment-*.tar.gz"))


def snippets(archive: pathlib.Path):
    with tarfile.open(archive) as outer:
        inner_member = next(m for m in outer.getmembers() if m.name.endswith("hutto_ICWSM_2014.tar.gz"))
        with tarfile.open(fileobj=outer.extractfile(inner_member)) as inner:
            raw = inner.extractfile(MEMBER).read().decode("latin-1")
    for line in raw.splitlines():
        snippet_id, rating, sentence = line.split("\t", 2)
        yield snippet_id, float(rating), sentence.strip()


def main():
    with tempfile.TemporaryDirectory() as folder:
        rows = []
        for snippet_id, rating, sentence in snippets(download(pathlib.Path(folder))):
            if abs(rating) <= THRESHOLD or not sentence:
                continue
            label = "pos" if rating > 0 else "neg"
            rows.append((sentence, label, snippet_id.split("_")[0], rating))
    with OUTPUT.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label", "review", "rating"])
        writer.writerows(rows)
    print(f"wrote {len(rows)} rows to {OUTPUT}")


if __name__ == "__main__":
    main()
