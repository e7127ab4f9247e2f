"""No recipe lets its validation or test part reach what it trains on, fits or stops on.

For every recipe, on its bundled sample with ``--quick`` settings:

- sentinels (words, characters, loud audio, bright clips, huge joint
  values, garbage prices) placed only in the validation and test parts of
  a dataset written in the recipe's own ``--data`` format leave the
  vocabularies, scalers, normalisation statistics, lengths and the
  training examples ``fit`` is given unchanged;
- ``fit`` trains on the training part and validates (early stopping and the
  checkpoint follow that data) on the validation part, never on test
  examples; stocks windows keep time order across the parts.

Nothing is trained: `leak_checks.fit_inputs` stops at `keras.Model.fit`.
The last tests plant each leak on purpose (a vectorizer fitted on every
part, the test part as validation data, ...) and show that the checks fail.
"""

from __future__ import annotations

import dataclasses
import importlib
import pathlib
import shutil

import leak_checks as checks
import numpy as np
import pandas as pd
import pytest
from scipy.io import wavfile

from rnn_apps import paths

VALIDATION_WORD, TEST_WORD = "zqxvalidation", "zqxtest"
VALIDATION_CHAR, TEST_CHAR = "ж", "ѯ"
PARTS = ("train", "validation", "test")


class Case:
    """One recipe: how to run it, write its data with sentinels, and read what it fitted."""

    id = ""
    module = ""  # the recipe's module in recipes/
    model = "gru"
    ambiguous_share = 0.1
    caught_by = ""  # what the sentinel checks say when the vocabulary (scaler, ...) is fitted on every part
    argv: tuple[str, ...] = ()

    @property
    def recipe(self):
        """The recipe object, imported when first asked for (importing a recipe starts Keras)."""
        return importlib.import_module(f"recipes.{self.module}").RECIPE

    def load(self, tmp_path, argv=()):
        """``(config, data)`` as `load_data` gives them for the quick settings and ``argv``."""
        output = tmp_path / "run"
        cfg = self.recipe.parse(["--quick", *self.argv, *argv, "--model", self.model, "--output-dir", str(output)])
        return cfg, self.recipe.load_data(cfg)

    def write(self, folder: pathlib.Path, sample, planted: bool) -> list[str]:
        """Write the sample's parts in the user's format (sentinels in validation and test when ``planted``)."""
        raise NotImplementedError

    def state(self, cfg, data) -> dict:
        """Everything fitted on the data: vocabularies, scalers, statistics, lengths."""
        raise NotImplementedError

    def vocabularies(self, data) -> dict:
        """``{what: entries}`` that must hold no sentinel."""
        return {}

    def fit_key(self, example):
        """Key of the model inputs of one example fit is given."""
        raise NotImplementedError

    def part_keys(self, data) -> dict:
        """``{part: [key, ...]}``: each part's examples as `fit_key` sees them."""
        raise NotImplementedError

    def validation_as_test(self, data):
        """``data`` with the test part in place of the validation part (a planted leak)."""
        raise NotImplementedError

    def fit_on_every_part(self, monkeypatch) -> None:
        """Plant the leak: fit the vocabulary (scaler, statistics) on every part."""
        raise NotImplementedError

    def refit_after_loading(self, monkeypatch, refit) -> None:
        """Plant a leak: after `load_data`, ``refit(data, config)`` fits again, on every part."""
        cls = type(self.recipe)
        original = cls.load_data

        def load_data(recipe, cfg):
            data = original(recipe, cfg)
            refit(data, cfg)
            return data

        monkeypatch.setattr(cls, "load_data", load_data)


def texts_with(texts, word):
    """Each text with a sentinel word; the first made longer than any training text."""
    out = [f"{t} {word}" for t in texts]
    out[0] += f" {word}" * 400
    return out


class Sentiment(Case):
    id = "sentiment"
    module = "sentiment"
    caught_by = "vocabulary holds"

    def write(self, folder, sample, planted):
        names, files = sample.splits.class_names, []
        for part, word in (("train", None), ("validation", VALIDATION_WORD), ("test", TEST_WORD)):
            texts, labels = getattr(sample.splits, part)
            texts = texts_with(texts, word) if planted and word else list(texts)
            path = folder / f"{part}.csv"
            pd.DataFrame({"text": texts, "label": [names[i] for i in labels]}).to_csv(path, index=False)
            files.append(str(path))
        return ["--data", files[0], "--validation-data", files[1], "--test-data", files[2]]

    def state(self, cfg, data):
        return {
            "vocabulary": data.vectorizer.get_vocabulary(),
            "sequence_length": data.sequence_length,
            "class_names": data.splits.class_names,
        }

    def vocabularies(self, data):
        return {"vocabulary": data.vectorizer.get_vocabulary()}

    def fit_key(self, example):
        return checks.key(example[0])

    def part_keys(self, data):
        from rnn_apps.data import text

        def keys(part):
            ids = text.vectorize(data.vectorizer, getattr(data.splits, part)[0], data.sequence_length)
            return [checks.key(row) for row in ids.to_list()]

        return {part: keys(part) for part in PARTS}

    def validation_as_test(self, data):
        return dataclasses.replace(data, splits=dataclasses.replace(data.splits, validation=data.splits.test))

    def fit_on_every_part(self, monkeypatch):
        from rnn_apps.data import text

        def refit(data, cfg):
            everything = [t for part in PARTS for t in getattr(data.splits, part)[0]]
            data.vectorizer = text.make_vectorizer(everything, vocabulary_size=cfg.vocabulary_size)

        self.refit_after_loading(monkeypatch, refit)


def write_conll(path, sentences):
    blocks = ["\n".join(f"{token}\t{tag}" for token, tag in zip(tokens, tags)) for tokens, tags in sentences]
    path.write_text("\n\n".join(blocks) + "\n", encoding="utf-8")


class TextAnalysis(Case):
    id = "text_analysis"
    module = "text_analysis"
    caught_by = "word vocabulary holds"
    argv = ("--char-features",)
    # The template sample repeats short sentences without names across its files.
    ambiguous_share = 0.2

    def write(self, folder, sample, planted):
        folder = folder / "conll"
        folder.mkdir()
        for part, name, word, char in (
            ("train", "train", None, None),
            ("validation", "dev", VALIDATION_WORD, VALIDATION_CHAR),
            ("test", "test", TEST_WORD, TEST_CHAR),
        ):
            sentences = [(list(tokens), list(tags)) for tokens, tags in getattr(sample.tagged, part)]
            if planted and word:
                for tokens, tags in sentences:
                    tokens.append(word.capitalize() + char)
                    tags.append("O")
                sentences[0][0][-1] += char * 40  # longer than any training word
            write_conll(folder / f"{name}.conll", sentences)
        return ["--data", str(folder)]

    def state(self, cfg, data):
        vocabulary = data.vocabulary
        return {
            "words": vocabulary.words,
            "chars": vocabulary.chars,
            "char_length": vocabulary.char_length,
            "tag_names": data.tagged.tag_names,
            "scheme": data.tagged.scheme,
        }

    def vocabularies(self, data):
        words = {word.lower() for word in data.vocabulary.words}
        return {"word vocabulary": words, "character vocabulary": data.vocabulary.chars}

    def fit_key(self, example):
        return checks.key(example[0]["token_ids"], example[0]["char_ids"])

    def part_keys(self, data):
        def keys(part):
            word_ids, char_ids = data.vocabulary.encode([tokens for tokens, _ in getattr(data.tagged, part)])
            return [checks.key(checks.trim(w), checks.trim(c)) for w, c in zip(word_ids, char_ids)]

        return {part: keys(part) for part in PARTS}

    def validation_as_test(self, data):
        return dataclasses.replace(data, tagged=dataclasses.replace(data.tagged, validation=data.tagged.test))

    def fit_on_every_part(self, monkeypatch):
        from rnn_apps.data import token_vocabulary

        def refit(data, cfg):
            data.vocabulary = token_vocabulary.TaggingVocabulary.from_sentences(
                [tokens for part in PARTS for tokens, _ in getattr(data.tagged, part)],
                min_count=cfg.min_count,
                max_size=cfg.vocabulary_size,
                lowercase=cfg.lowercase,
                char_length=cfg.char_length,
            )

        self.refit_after_loading(monkeypatch, refit)


class Speech(Case):
    id = "speech"
    module = "speech"
    caught_by = "mean changed"
    folder, words = "keywords", ("go", "no", "stop", "yes")
    training_takes = 10  # enough of each word for the split the loader makes before the given parts replace its own

    def write(self, folder, sample, planted):
        # Training: a few takes of each word; validation and test: 2 more takes each, or loud, long noise.
        noise = np.random.default_rng(0)
        arguments = []
        first, last = self.training_takes, self.training_takes + 2
        for part, takes in (
            ("train", range(first)),
            ("validation", range(first, last)),
            ("test", range(last, last + 2)),
        ):
            for word in self.words:
                (folder / part / word).mkdir(parents=True)
                for take in takes:
                    source = paths.bundled(f"speech/{self.folder}/{word}/{word}_{take:02d}.wav")
                    target = folder / part / word / source.name
                    if planted and part != "train":
                        rate, samples = wavfile.read(source)
                        loud = noise.integers(-30000, 30000, 3 * len(samples)).astype("int16")
                        wavfile.write(target, rate, loud)
                    else:
                        shutil.copy(source, target)
            arguments.append(str(folder / part))
        return ["--data", arguments[0], "--validation-data", arguments[1], "--test-data", arguments[2]]

    def state(self, cfg, data):
        mean, variance = data.statistics
        return {
            "mean": np.asarray(mean),
            "variance": np.asarray(variance),
            "length": data.length,
            "sidecar": data.sidecar(cfg.task),
        }

    def fit_key(self, example):
        return checks.key(example[0])

    def part_keys(self, data):
        return {
            part: [checks.key(checks.trim(np.asarray(clip, "float32"))) for clip in getattr(data.clips, part)[0]]
            for part in PARTS
        }

    def validation_as_test(self, data):
        return dataclasses.replace(data, clips=dataclasses.replace(data.clips, validation=data.clips.test))

    def fit_on_every_part(self, monkeypatch):
        from rnn_apps.tasks import acoustic_inference

        original = acoustic_inference.clip_statistics

        def every_part(clips, front_end, batch_size=64):
            return original(list(clips) + every_part.others, front_end, batch_size)

        prepare = acoustic_inference.prepare

        def prepare_with_every_part(clips, clip_seconds, mel_bins):
            every_part.others = list(clips.validation[0]) + list(clips.test[0])
            return prepare(clips, clip_seconds, mel_bins)

        monkeypatch.setattr(acoustic_inference, "clip_statistics", every_part)
        monkeypatch.setattr(acoustic_inference, "prepare", prepare_with_every_part)


class Digits(Speech):
    """Digit strings (CTC): joined from each part's own clips."""

    id = "speech_digits"
    argv = ("--task", "digits")
    folder, words = "digits", tuple("0123456789")
    training_takes = 16

    def state(self, cfg, data):
        strings = {part: [len(w) for w in waves] for part, (waves, _, _) in data.digits.items()}
        return super().state(cfg, data) | {"training_string_lengths": strings["train"]}

    @property
    def recipe(self):
        from recipes import speech

        return speech.DigitsRecipe()

    def part_keys(self, data):
        return {
            part: [checks.key(checks.trim(np.asarray(w, "float32"))) for w in data.digits[part][0]] for part in PARTS
        }

    def validation_as_test(self, data):
        return dataclasses.replace(data, digits={**data.digits, "validation": data.digits["test"]})


class Translation(Case):
    id = "translation"
    module = "translation"
    caught_by = "vocabulary holds"

    def write(self, folder, sample, planted):
        folder = folder / "pairs"
        folder.mkdir()
        for part, name, word in (
            ("train", "train", None),
            ("validation", "val", VALIDATION_WORD),
            ("test", "test", TEST_WORD),
        ):
            sources, targets = getattr(sample.splits, part)
            if planted and word:
                sources, targets = texts_with(sources, word), texts_with(targets, word + "fr")
            (folder / f"{name}.en").write_text("\n".join(sources) + "\n", encoding="utf-8")
            (folder / f"{name}.fr").write_text("\n".join(targets) + "\n", encoding="utf-8")
        return ["--data", str(folder), "--source-lang", "en", "--target-lang", "fr"]

    def state(self, cfg, data):
        return {
            "vocabularies": data.vocabularies,
            "source_length": data.source_length,
            "target_length": data.target_length,
        }

    def vocabularies(self, data):
        return {"source vocabulary": data.vocabularies[0], "target vocabulary": data.vocabularies[1]}

    def fit_key(self, example):
        return checks.key(example[0]["source"])

    def part_keys(self, data):
        from rnn_apps.data import parallel

        def keys(part):
            source, _ = parallel.teacher_forcing_ids(
                getattr(data.splits, part), *data.vocabularies, data.source_length, data.target_length + 2
            )
            return [checks.key(checks.trim(row)) for row in source]

        return {part: keys(part) for part in PARTS}

    def validation_as_test(self, data):
        return dataclasses.replace(data, splits=dataclasses.replace(data.splits, validation=data.splits.test))

    def fit_on_every_part(self, monkeypatch):
        from rnn_apps.data import parallel

        original = parallel.make_vocabularies

        def every_part(data, vocabulary_size, min_frequency):
            parts = (data.train, data.validation, data.test)
            everything = tuple([s for part in parts for s in part[side]] for side in (0, 1))
            return original(dataclasses.replace(data, train=everything), vocabulary_size, min_frequency)

        monkeypatch.setattr(parallel, "make_vocabularies", every_part)


def write_gif(path, clip):
    import imageio.v3 as iio

    path.parent.mkdir(parents=True, exist_ok=True)
    iio.imwrite(path, clip[..., 0], duration=100, loop=0)


class VideoFrames(Case):
    """Frames: the sample trains; validation and test clips come from folders (bright noise when planted)."""

    id = "video"
    module = "video"
    caught_by = "training examples came"

    def write(self, folder, sample, planted):
        noise = np.random.default_rng(1)
        arguments = []
        for part in ("validation", "test"):
            clips, labels = getattr(sample, part)
            for index in range(0, len(labels), 7):
                clip = clips[index]
                if planted:
                    clip = noise.integers(200, 256, clip.shape).astype("uint8")
                write_gif(folder / part / sample.class_names[labels[index]] / f"clip{index:03d}.gif", clip)
            arguments.append(str(folder / part))
        return ["--validation-data", arguments[0], "--test-data", arguments[1]]

    def state(self, cfg, data):
        from rnn_apps.data import video

        return {"sidecar": video.sidecar(data, cfg.input, cfg.stride, cfg.short_clips)}

    def fit_key(self, example):
        return checks.key(example[0])

    def part_keys(self, data):
        return {part: [checks.key(clip) for clip in getattr(data, part)[0]] for part in PARTS}

    def validation_as_test(self, data):
        return dataclasses.replace(data, validation=data.test)

    def fit_on_every_part(self, monkeypatch):
        # Frame models fit nothing on the data; the leak planted is training on the test clips as well.
        from recipes import video

        original = video.VideoRecipe.datasets

        def with_test(self, name, cfg, data):
            inputs = np.concatenate([data.train[0], data.test[0]])
            labels = np.concatenate([data.train[1], data.test[1]])
            return original(self, name, cfg, dataclasses.replace(data, train=(inputs, labels)))

        monkeypatch.setattr(video.VideoRecipe, "datasets", with_test)


def write_ts(path, series, labels, class_names):
    header = (
        "@problemName tracks\n@timeStamps false\n@missing false\n@univariate false\n"
        f"@dimensions {series[0].shape[1]}\n@equalLength false\n@classLabel true {' '.join(class_names)}\n@data\n"
    )
    rows = [
        ":".join(",".join(f"{v:.6g}" for v in values[:, c]) for c in range(values.shape[1])) + f":{class_names[label]}"
        for values, label in zip(series, labels)
    ]
    path.write_text(header + "\n".join(rows) + "\n")


class VideoJoints(Case):
    """Joint tracks from ``.ts`` files: the `Normalization` layer adapts on the training tracks."""

    id = "video_joints"
    module = "video"
    caught_by = "mean changed"
    argv = ("--input", "joints")

    def write(self, folder, sample, planted):
        arguments = []
        for part in PARTS:
            tracks, labels = getattr(sample, part)
            series = [np.asarray(t, "float64") for t in tracks]
            if planted and part != "train":
                # Far larger values, and series longer than any training one.
                series = [np.tile(t * 1000.0 + 500.0, (3, 1)) for t in series]
            path = folder / f"{part}.ts"
            write_ts(path, series, labels, sample.class_names)
            arguments.append(str(path))
        return ["--data", arguments[0], "--validation-data", arguments[1], "--test-data", arguments[2]]

    def state(self, cfg, data):
        layer = self.recipe.build_model(self.model, cfg, data).get_layer("normalize")
        return {
            "mean": np.asarray(layer.mean),
            "variance": np.asarray(layer.variance),
            "class_names": data.class_names,
        }

    def fit_key(self, example):
        return checks.key(example[0])

    def part_keys(self, data):
        return {part: [checks.key(checks.trim(t)) for t in getattr(data, part)[0]] for part in PARTS}

    def validation_as_test(self, data):
        return dataclasses.replace(data, validation=data.test)

    def fit_on_every_part(self, monkeypatch):
        from recipes import video

        original = video.build_joints_model

        def every_part(name, cfg, tracks, num_classes):
            channels = tracks.shape[-1]
            everything = np.concatenate([t.reshape(-1, channels) for t in every_part.parts])
            return original(name, cfg, everything[None], num_classes)

        build = video.VideoRecipe.build_model

        def build_model(self, name, cfg, data):
            every_part.parts = [data.train[0], data.validation[0], data.test[0]]
            return build(self, name, cfg, data)

        monkeypatch.setattr(video, "build_joints_model", every_part)
        monkeypatch.setattr(video.VideoRecipe, "build_model", build_model)


class Stocks(Case):
    """Prices: garbage from a part's first row on must leave everything before it alone."""

    id = "stocks"
    module = "stocks"
    caught_by = "input_scaler.mean changed"

    def write(self, folder, sample, planted, part="validation"):
        table = pd.read_csv(paths.bundled("stocks/vega_stocks.csv"))
        if planted:
            split = sample.splits[-1]
            first = getattr(split, part).start
            dates = pd.to_datetime(table["date"], format="%b %d %Y")
            later = (dates >= sample.index[first]).to_numpy()
            table.loc[later, "price"] = np.random.default_rng(2).uniform(1e3, 1e6, later.sum()).round(2)
        path = folder / "prices.csv"
        table.to_csv(path, index=False)
        return ["--data", str(path)]

    def state(self, cfg, data):
        d = data.samples
        found = {"split": [(p.start, p.stop) for p in data.splits[-1].parts().values()]}
        for name in ("input_scaler", "target_scaler", "feature_scaler"):
            scaler = getattr(d, name, None)
            if scaler is not None:
                found[f"{name}.mean"], found[f"{name}.variance"] = np.asarray(scaler.mean), np.asarray(scaler.variance)
        return found

    def fit_key(self, example):
        return checks.key(example[0])

    def part_keys(self, data):
        from rnn_apps.tasks import forecasting

        d = data.samples
        channels = d.train.inputs.shape[2]
        prepare = forecasting.input_model(d.window, channels, self.target(d), **forecasting.scaling(d))
        keys = {}
        for part in PARTS:
            windows = np.asarray(prepare(forecasting.raw_inputs(getattr(d, part))))
            keys[part] = [checks.key(checks.trim(w)) for w in windows]
        return keys

    def target(self, samples) -> str:
        return samples.target

    def validation_as_test(self, data):
        d = data.samples
        folds = [*data.folds[:-1], dataclasses.replace(d, validation=d.test)]
        return dataclasses.replace(data, folds=folds, prepared={})

    def fit_on_every_part(self, monkeypatch):
        from rnn_apps.data import windows

        original = windows.fit_scaler

        def whole_series(values, rows):
            return original(values, range(len(values)))

        monkeypatch.setattr(windows, "fit_scaler", whole_series)


class StocksMovement(Stocks):
    """Up/down moves (``--task movement``): the same split, a return scaler of its own."""

    id = "stocks_movement"
    argv = ("--task", "movement")

    @property
    def recipe(self):
        from recipes import stocks_movement

        return stocks_movement.RECIPE

    def target(self, samples) -> str:
        return "log_return"


CASES = [
    Sentiment(),
    TextAnalysis(),
    Speech(),
    Digits(),
    Translation(),
    VideoFrames(),
    VideoJoints(),
    Stocks(),
    StocksMovement(),
]
BY_ID = {case.id: case for case in CASES}


def observe(case, tmp_path, argv=()):
    """``(config, data, state, fit)`` of one run of ``case``."""
    cfg, data = case.load(tmp_path, argv)
    return cfg, data, case.state(cfg, data), checks.fit_inputs(case.recipe, case.model, cfg, data)


def written_run(case, tmp_path, sample, planted: bool):
    """`observe` on the sample's parts written in the user's format, with sentinels when ``planted``."""
    folder = tmp_path / ("planted" if planted else "clean")
    folder.mkdir(parents=True)
    return observe(case, folder, case.write(folder, sample, planted))


def sentinel_runs(case, tmp_path):
    """The clean and the planted run."""
    _, sample = case.load(tmp_path / "sample")
    return [written_run(case, tmp_path, sample, planted) for planted in (False, True)]


def check_sentinels(case, clean, planted):
    _, _, clean_state, clean_fit = clean
    _, planted_data, planted_state, planted_fit = planted
    for what, entries in case.vocabularies(planted_data).items():
        sentinels = {VALIDATION_CHAR, TEST_CHAR}
        for word, char in ((VALIDATION_WORD, VALIDATION_CHAR), (TEST_WORD, TEST_CHAR)):
            sentinels |= {word, word + "fr", word + char}
        checks.check_absent(sentinels, entries or (), what)
    checks.check_same_state(clean_state, planted_state)
    checks.check_same_training(clean_fit, planted_fit)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_fit_trains_on_training_and_validates_on_validation(case, tmp_path):
    _, data, _, fit = observe(case, tmp_path)
    checks.check_fit_parts(fit, case.fit_key, case.part_keys(data), case.ambiguous_share)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_sentinels_in_validation_and_test_change_nothing_fitted(case, tmp_path):
    clean, planted = sentinel_runs(case, tmp_path)
    check_sentinels(case, clean, planted)


def test_stocks_test_prices_never_reach_validation(tmp_path):
    case = BY_ID["stocks"]
    _, sample = case.load(tmp_path / "sample")
    clean = observe(case, tmp_path / "sample", case.write(tmp_path, sample, planted=False))
    (tmp_path / "test_garbage").mkdir()
    planted = observe(case, tmp_path / "test_garbage", case.write(tmp_path / "test_garbage", sample, True, "test"))
    checks.check_same_state(clean[2], planted[2])
    checks.check_same_training(clean[3], planted[3])
    checks.check_same_validation(clean[3], planted[3])


@pytest.mark.parametrize("argv", [(), ("--walk-forward", "3"), ("--task", "movement"), ("--horizon", "3")])
def test_stocks_windows_keep_time_order(argv, tmp_path):
    from recipes import stocks, stocks_movement

    recipe = stocks_movement.RECIPE if "movement" in argv else stocks.RECIPE
    cfg = recipe.parse(["--quick", *argv, "--output-dir", str(tmp_path)])
    data = recipe.load_data(cfg)
    window = cfg.window
    for split, samples in zip(data.splits, data.folds):
        train, validation, test = samples.train, samples.validation, samples.test
        # Every row a training window reads or predicts comes before validation; every validation
        # window (inputs and target) ends before test. Later windows may read earlier rows: the past is known.
        assert train.origins.min() - window + 1 >= 0
        assert np.max(train.target_rows) < split.validation.start
        assert np.min(validation.target_rows) >= split.validation.start
        assert np.max(validation.target_rows) < split.test.start
        assert np.min(test.target_rows) >= split.test.start
        assert split.train.stop <= split.validation.start and split.validation.stop <= split.test.start


# The checks catch each leak when it is planted -------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_the_checks_catch_fitting_on_every_part(case, tmp_path, monkeypatch):
    _, sample = case.load(tmp_path / "sample")
    clean = written_run(case, tmp_path, sample, planted=False)
    case.fit_on_every_part(monkeypatch)
    leaky = written_run(case, tmp_path, sample, planted=True)
    with pytest.raises(AssertionError, match=case.caught_by):
        check_sentinels(case, clean, leaky)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_the_checks_catch_validating_on_the_test_part(case, tmp_path, monkeypatch):
    cls = type(case.recipe)
    original = cls.datasets

    def on_test(self, name, cfg, data):
        return original(self, name, cfg, case.validation_as_test(data))

    monkeypatch.setattr(cls, "datasets", on_test)
    _, data, _, fit = observe(case, tmp_path)
    with pytest.raises(AssertionError, match="validation data holds .* of the test part"):
        checks.check_fit_parts(fit, case.fit_key, case.part_keys(data), case.ambiguous_share)


def test_the_checks_catch_stocks_early_stopping_on_test_windows(tmp_path, monkeypatch):
    from recipes import stocks

    case = BY_ID["stocks"]
    _, sample = case.load(tmp_path / "sample")
    clean = observe(case, tmp_path / "sample", case.write(tmp_path, sample, planted=False))
    original = stocks.StocksRecipe.datasets
    monkeypatch.setattr(
        stocks.StocksRecipe,
        "datasets",
        lambda self, name, cfg, data: original(self, name, cfg, case.validation_as_test(data)),
    )
    (tmp_path / "test_garbage").mkdir()
    planted = observe(case, tmp_path / "test_garbage", case.write(tmp_path / "test_garbage", sample, True, "test"))
    checks.check_same_training(clean[3], planted[3])
    with pytest.raises(AssertionError, match="validation examples came, went or changed with the test part"):
        checks.check_same_validation(clean[3], planted[3])


def test_joint_tracks_of_one_file_are_padded_after_the_split(tmp_path):
    # One .ts file, split here: training is padded to its own longest series, whichever part the longest lands in.
    from rnn_apps.data import video

    rng = np.random.default_rng(3)
    series = [rng.uniform(1.0, 2.0, (8 + i, 2)) for i in range(60)]  # every length once
    labels = [i % 3 for i in range(60)]
    write_ts(tmp_path / "tracks.ts", series, labels, ["a", "b", "c"])
    data = video.load(str(tmp_path / "tracks.ts"), video.ClipOptions(seed=0), "joints")
    lengths = {part: [len(checks.trim(t)) for t in getattr(data, part)[0]] for part in PARTS}
    assert max(lengths["train"]) < len(series[-1]), "the longest series should be held out for this check"
    assert data.train[0].shape[1] == max(lengths["train"]), "training tracks padded to a held-out length"
    assert sorted(lengths["train"] + lengths["validation"] + lengths["test"]) == [len(s) for s in series]
