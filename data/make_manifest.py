"""Write ``data/MANIFEST.sha256``: the SHA-256 of every bundled data file.

``tests/test_reliability.py`` checks the bundled files against it, so a
sample that changes without its generator being rerun (and the manifest
rewritten) is caught. Run from anywhere: ``python data/make_manifest.py``.
"""

import hashlib
import pathlib

DATA = pathlib.Path(__file__).resolve().parent
SKIP = ("README.md", "MANIFEST.sha256")


def main():
    lines = []
    for path in sorted(DATA.rglob("*")):
        if not path.is_file() or path.suffix == ".py" or path.name in SKIP or "__pycache__" in path.parts:
            continue
        lines.append(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.relative_to(DATA).as_posix()}")
    (DATA / "MANIFEST.sha256").write_text("\n".join(lines) + "\n")
    print(f"{len(lines)} files")


if __name__ == "__main__":
    main()
