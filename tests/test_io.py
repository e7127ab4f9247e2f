"""Atomic writes keep the permissions an ordinary write would have."""

import os
import stat

import pytest

from rnn_apps import io


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_written_files_follow_the_umask(tmp_path, umask):
    old = os.umask(umask)
    try:
        text = io.write_text(tmp_path / "a.txt", "x")
        data = io.write_json(tmp_path / "m.json", {"a": 1})
        plain = tmp_path / "plain.txt"
        plain.write_text("x")
    finally:
        os.umask(old)
    expected = stat.S_IMODE(plain.stat().st_mode)
    assert expected == 0o666 & ~umask
    assert stat.S_IMODE(text.stat().st_mode) == expected
    assert stat.S_IMODE(data.stat().st_mode) == expected
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
