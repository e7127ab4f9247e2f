"""The files real users have: encodings, byte-order marks, odd line ends, bare labels, extra columns, own parts.

Each test here failed before the readers went through `rnn_apps.data.text_files`
and took ``--encoding``, ``--validation-data`` and ``--test-data`` (issue 23,
item 3).
"""

import json
import shutil

import pytest
from test_bad_input import library_error, run_error

from rnn_apps import errors, paths
from rnn_apps.data import conll, parallel, price_tables, spoken, tagging_data, text, transcripts, uea, video
from rnn_apps.harness import cli, registry

LABELLED = "".join(f"{'pos' if i % 2 else 'neg'} review number {i}\n" for i in range(20))


def _prices(rows: int = 28) -> list[str]:
    return [f"2020-01-{day:02d},{100 + day}.5" for day in range(1, rows + 1)]


# --------------------------------------------------------------------------
# Decoding: anywhere in the file, with the line; --encoding


def test_stocks_csv_with_a_latin1_byte_after_the_first_line_names_the_line(tmp_path, capsys):
    path = tmp_path / "prices.csv"
    path.write_bytes(("Date,Close\n" + "\n".join(_prices()[:5]) + "\n2020-02-01,1\xe9\n").encode("latin-1"))
    line = run_error("stocks", ["--data", str(path)], tmp_path, capsys)
    assert "Received: 'prices.csv, line 7: byte 0xe9 is not utf-8'" in line
    assert "--encoding" in line


def test_headerless_matrix_with_a_latin1_byte_names_the_line(tmp_path):
    path = tmp_path / "matrix.txt"
    path.write_bytes(b"1.0,2.0\n1.5,2.5\n2.0,3\xe9\n")
    library_error(price_tables.load_prices, path, match="matrix.txt, line 3: byte 0xe9")


def test_encoding_flag_reads_a_cp1252_price_table(tmp_path):
    path = tmp_path / "prix.csv"
    path.write_bytes(("Date,Clôture\n" + "\n".join(_prices()) + "\n").encode("cp1252"))
    table = price_tables.load_prices(path, encoding="cp1252")
    assert table.series_names == ["Clôture"] and len(table.prices) == 28


@pytest.mark.parametrize("name", ["sentiment", "stocks"])
def test_unknown_encoding_is_refused(name, tmp_path, capsys):
    line = run_error(name, ["--encoding", "klingon"], tmp_path, capsys)
    assert "argument --encoding: expected a text encoding Python knows" in line
    line = run_error(name, ["--encoding", "base64"], tmp_path, capsys)
    assert "received 'base64'" in line


def test_byte_order_marks_are_ignored(tmp_path):
    labelled = tmp_path / "reviews.all"
    labelled.write_bytes(b"\xef\xbb\xbf" + LABELLED.encode())
    assert text.load_text_classification(labelled).class_names == ["neg", "pos"]
    tagged = tmp_path / "tagged.conll"
    tagged.write_bytes("\ufeffParis B-LOC\nis O\n\nRome B-LOC\n\ufeff\n".encode())
    assert conll.read_column_file(tagged) == [(["Paris", "is"], ["B-LOC", "O"]), (["Rome"], ["B-LOC"])]
    tagged.write_bytes("Paris B-LOC\n\ufeff".encode())
    assert conll.read_column_file(tagged) == [(["Paris"], ["B-LOC"])]


def test_a_tagged_file_with_a_latin1_byte_names_the_line(tmp_path):
    path = tmp_path / "tagged.conll"
    path.write_bytes("Paris B-LOC\n\nBogot\xe1 B-LOC\n".encode("latin-1"))
    library_error(conll.read_column_file, path, match="tagged.conll, line 3: byte 0xe1")
    assert conll.read_column_file(path, encoding="latin-1")[1] == (["Bogotá"], ["B-LOC"])


def _latin1_tracks(path, per_class: int = 8):
    """A labelled two-channel ``.ts`` file whose labels are accented words, written in Latin-1."""
    header = "@problemName gestes\n@timeStamps false\n@dimensions 2\n@classLabel true été hiver\n@data\n"
    rows = [f"{i},{i + 1},{i + 2}:{i},{i},{i}:{'été' if i % 2 else 'hiver'}" for i in range(2 * per_class)]
    path.write_bytes((header + "\n".join(rows) + "\n").encode("latin-1"))
    return path


def test_ts_series_are_decoded_with_the_encoding_flag(tmp_path, capsys):
    path = _latin1_tracks(tmp_path / "gestes_TRAIN.ts")
    # Before --encoding reached .ts files, undecodable bytes were replaced
    # silently (the label 'été' came in as '\ufffdt\ufffd'); now the line is named ...
    library_error(uea.read_ts, path, match=r"gestes_TRAIN.ts, line 4: byte 0xe9 is not utf-8")
    line = run_error("speech", ["--data", str(path)], tmp_path, capsys)
    assert "gestes_TRAIN.ts, line 4" in line and "--encoding" in line
    line = run_error("video", ["--data", str(path), "--input", "joints"], tmp_path, capsys)
    assert "gestes_TRAIN.ts, line 4" in line and "--encoding" in line
    # ... and the flag's codec reads the labels as written, in both recipes' loaders.
    assert uea.read_ts(path, "latin-1").class_names == ["été", "hiver"]
    assert spoken.load(str(path), encoding="latin-1").class_names == ["été", "hiver"]
    tracks = video.load(str(path), video.ClipOptions(seed=0, encoding="latin-1"), "joints")
    assert tracks.class_names == ["été", "hiver"]


def test_transcripts_metadata_is_decoded_with_the_encoding_flag(tmp_path):
    from test_transcripts import ljspeech_folder

    folder = ljspeech_folder(tmp_path, ["a|Café au lait", "b|Crème brûlée", "c|Déjà vu"])
    (folder / "metadata.csv").write_bytes("a|Café au lait\nb|Crème brûlée\nc|Déjà vu\n".encode("cp1252"))
    library_error(transcripts.read_metadata, folder, match=r"metadata.csv, line 1: byte 0xe9 is not utf-8")
    rows = transcripts.read_metadata(folder, encoding="cp1252")
    assert [text for _, text, _ in rows] == ["Café au lait", "Crème brûlée", "Déjà vu"]


# --------------------------------------------------------------------------
# Lines end at "\n" only


def test_cp1252_labelled_lines_are_not_split_at_byte_0x85(tmp_path):
    path = tmp_path / "reviews.all"
    content = LABELLED.replace("review number 3", "wait for it\x85 review number 3").replace("\n", "\r\n")
    path.write_bytes(content.encode("latin-1"))
    data = text.load_text_classification(path, encoding="cp1252", validation_fraction=0.25, test_fraction=0.2)
    texts = [*data.train[0], *data.validation[0], *data.test[0]]
    assert len(texts) == 20 and data.class_names == ["neg", "pos"]
    assert "wait for it\u2026 review number 3" in texts
    latin = text.load_text_classification(path, encoding="latin-1", validation_fraction=0.25, test_fraction=0.2)
    assert sum(latin.sizes().values()) == 20
    library_error(text.load_text_classification, path, match="reviews.all, line 4: byte 0x85 is not utf-8")


# --------------------------------------------------------------------------
# Rows with a label and no text


def test_labelled_lines_with_a_bare_label_are_left_out_with_a_notice(tmp_path, capsys):
    path = tmp_path / "TREC.train.all"
    path.write_text(LABELLED + "pos\nneg   \n")
    data = text.load_text_classification(path, validation_fraction=0.25, test_fraction=0.2)
    assert sum(data.sizes().values()) == 20
    assert (
        "notice: left out 2 line(s) of TREC.train.all with a label and no text (line 21, 22)" in capsys.readouterr().err
    )
    path.write_text("pos\nneg\n")
    library_error(text.load_text_classification, path, match="Received: 'only labels, on 2 line")


# --------------------------------------------------------------------------
# CoNLL column counts


def test_conll_line_with_an_extra_column_is_refused_with_its_line(tmp_path, capsys):
    path = tmp_path / "train.conll"
    path.write_text("The O\nGeneral I-ORG EXTRA\nwins O\n\nParis B-LOC\n")
    library_error(conll.read_column_file, path, match="2 columns on every token line of train.conll, as on line 1")
    line = run_error("text_analysis", ["--data", str(path)], tmp_path, capsys)
    assert "Received: \"3 on line 2: 'General I-ORG EXTRA'\"" in line


# --------------------------------------------------------------------------
# Own validation and test parts, and folder layouts


def _csv(path, count: int, start: int = 0):
    path.write_text(
        "text,label\n" + "".join(f"text number {i},{'pos' if i % 2 else 'neg'}\n" for i in range(start, start + count))
    )
    return path


def test_validation_and_test_data_replace_the_split_parts(tmp_path):
    train, dev, test = _csv(tmp_path / "a.csv", 30), _csv(tmp_path / "b.csv", 6, 100), _csv(tmp_path / "c.csv", 8, 200)
    data = text.load_text_classification(train, validation_source=dev, test_source=test)
    assert data.sizes() == {"train": 30, "validation": 6, "test": 8}
    assert data.name == "a.csv, validation from b.csv, test from c.csv"
    assert "text number 100" in data.validation[0] and "text number 200" in data.test[0]
    only_test = text.load_text_classification(train, test_source=test, validation_fraction=0.2)
    assert only_test.sizes() == {"train": 24, "validation": 6, "test": 8}
    only_validation = text.load_text_classification(train, validation_source=dev, test_fraction=0.2)
    assert only_validation.sizes() == {"train": 24, "validation": 6, "test": 6}
    (tmp_path / "d.csv").write_text("text,label\nsomething,maybe\n")
    library_error(text.load_text_classification, train, test_source=tmp_path / "d.csv", match="only classes of the")


@pytest.mark.parametrize(
    "files",
    [
        {"stsa.binary.train": 30, "stsa.binary.dev": 6, "stsa.binary.test": 8},
        {"train.csv": 30, "valid.csv": 6, "test.csv": 8},
        {"TREC.train.all": 30, "TREC.dev.all": 6, "TREC.test.all": 8},
    ],
    ids=["stsa", "csv", "trec"],
)
def test_folder_of_train_dev_test_files(files, tmp_path):
    for start, (name, count) in enumerate(files.items()):
        if name.endswith(".csv"):
            _csv(tmp_path / name, count, 100 * start)
        else:
            rows = (f"{'pos' if i % 2 else 'neg'} text number {i}\n" for i in range(100 * start, 100 * start + count))
            (tmp_path / name).write_text("".join(rows))
    data = text.load_text_classification(tmp_path)
    assert data.sizes() == {"train": 30, "validation": 6, "test": 8}


def test_refused_folder_lists_every_layout(tmp_path, capsys):
    (tmp_path / "notes.md").write_text("nothing here")
    line = run_error("sentiment", ["--data", str(tmp_path)], tmp_path, capsys)
    for layout in text.LAYOUTS:
        assert layout in line
    line = run_error("text_analysis", ["--data", str(tmp_path)], tmp_path, capsys)
    for layout in tagging_data.LAYOUTS:
        assert layout in line


def test_tagging_validation_and_test_data(tmp_path):
    def write(name, count):
        path = tmp_path / name
        path.write_text("".join(f"Paris{i} B-LOC\nis O\n\n" for i in range(count)))
        return path

    data = tagging_data.load_tagging(
        write("all.conll", 20), validation_source=write("v.conll", 3), test_source=write("t.conll", 4)
    )
    assert data.sizes() == {"train": 20, "validation": 3, "test": 4}
    assert data.name == "all.conll, validation from v.conll, test from t.conll"


def test_parallel_validation_and_test_data(tmp_path):
    pairs = "".join(f"hello {i}\tbonjour {i}\n" for i in range(30))
    (tmp_path / "pairs.tsv").write_text(pairs)
    (tmp_path / "dev.tsv").write_text("a dog\tun chien\n")
    for lang, sentence in (("en", "a cat"), ("fr", "un chat")):
        (tmp_path / f"held.{lang}").write_text(f"{sentence}\n{sentence} again\n")
    data = parallel.load_parallel(
        tmp_path / "pairs.tsv", "en", "fr", validation_source=tmp_path / "dev.tsv", test_source=tmp_path / "held"
    )
    assert data.sizes() == {"train": 30, "validation": 1, "test": 2}
    assert data.test == (["a cat", "a cat again"], ["un chat", "un chat again"])


@pytest.mark.parametrize("name", ["stocks"])
def test_recipes_that_cut_their_own_parts_refuse_given_ones(name, tmp_path, capsys):
    (tmp_path / "dev.csv").write_text("x\n")
    line = run_error(name, ["--validation-data", str(tmp_path / "dev.csv")], tmp_path, capsys)
    assert "Expected --validation-data to be no --validation-data for this recipe" in line


def test_a_run_with_own_parts_says_so(tmp_path, capsys):
    train, dev, test = _csv(tmp_path / "a.csv", 30), _csv(tmp_path / "b.csv", 6, 100), _csv(tmp_path / "c.csv", 8, 200)
    out = tmp_path / "run"
    argv = ["--data", str(train), "--validation-data", str(dev), "--test-data", str(test), "--quick"]
    cli.run_recipe(registry.get("sentiment"), [*argv, "--model", "cnn", "--output-dir", str(out), "--verbose", "0"])
    assert "data: a.csv, validation from b.csv, test from c.csv" in capsys.readouterr().out
    report = json.loads((out / "metrics.json").read_text())
    assert report["sizes"] == {"train": 30, "validation": 6, "test": 8}
    assert report["config"]["validation_data"] == str(dev) and report["config"]["test_data"] == str(test)


def _wav_folder(folder, labels, per_label=3):
    """A class-folder copy of a few bundled keyword clips."""
    source = paths.bundled("speech/keywords")
    for label in labels:
        (folder / label).mkdir(parents=True)
        for item in sorted((source / label).glob("*.wav"))[:per_label]:
            shutil.copy(item, folder / label / item.name)
    return folder


def test_speech_takes_its_own_validation_and_test_parts(tmp_path):
    source = paths.bundled("speech/keywords")
    split = spoken.load(source, None, 0.1, 0.1, 0)
    test = _wav_folder(tmp_path / "test", ["go", "down"])
    data = spoken.load(source, None, 0.1, 0.1, 0, test_source=test)
    assert data.sizes() == {"train": split.sizes()["train"] + split.sizes()["test"], "validation":
                            split.sizes()["validation"], "test": 6}  # fmt: skip
    assert sorted(data.test[1].tolist()) == sorted(
        [data.class_names.index("go")] * 3 + [data.class_names.index("down")] * 3
    )
    assert data.name.endswith(", test from test")
    validation = _wav_folder(tmp_path / "dev", ["left"], per_label=2)
    both = spoken.load(source, None, 0.1, 0.1, 0, validation_source=validation, test_source=test)
    assert both.sizes() == {"train": sum(split.sizes().values()), "validation": 2, "test": 6}


def test_speech_own_part_with_an_unknown_label_is_refused(tmp_path):
    own = _wav_folder(tmp_path / "test", ["go"])
    shutil.copytree(own / "go", own / "banana")
    with pytest.raises(errors.InputError, match="banana"):
        spoken.load(paths.bundled("speech/keywords"), test_source=own)
