"""Make the bundled named-entity sample: template sentences filled with Faker names.

Writes ``train.conll``, ``dev.conll`` and ``test.conll`` beside this file:
one ``token<TAB>tag`` line per token (IOB2 tags for PER, LOC and ORG), a
blank line between sentences. Sentences come from hand-written templates
whose slots are filled with person, place and organisation names made by
Faker (MIT licence) in seven locales, so the text and tags are free to
redistribute.

So that a model must generalise rather than memorise, every kind of name
is drawn from two disjoint pools: train and dev sentences use only the
first pool; test sentences take about half of their names from the second,
so part of the test entities never appear in training. A few templates are
also kept for the test part only.

Run (rebuilds the files byte for byte with the same Faker version):

    pip install "faker==40.63.0"
    python data/text_analysis/make_sample.py
"""

from __future__ import annotations

import pathlib
import random
import sys

from faker import Faker

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from rnn_apps.data.tokenization import tokenize  # noqa: E402

LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "nl_NL", "sv_SE")
SIZES = {"train": 2000, "dev": 300, "test": 500}
POOL_SIZE = 400
SEED = 2026
COMPANY_WORDS = (
    "Group",
    "Holdings",
    "Industries",
    "Motors",
    "Media",
    "Partners",
    "Systems",
    "Ltd",
    "GmbH",
    "AG",
    "SA",
    "Inc",
    "Airlines",
    "Foods",
    "Energy",
    "Bank",
)
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

TEMPLATES = [
    "{PER} visited {LOC} last {DAY} .",
    "{PER} , who works for {ORG} , lives in {LOC} .",
    "{ORG} opened a new office in {LOC} .",
    "Shares of {ORG} rose {NUM} percent on {DAY} .",
    "{PER} met {PER} in {LOC} to talk about the deal with {ORG} .",
    "The mayor of {LOC} , {PER} , promised a new park .",
    "According to {ORG} , prices in {LOC} fell in {MONTH} .",
    "{PER} joined {ORG} as chief executive in {YEAR} .",
    "Flights from {LOC} to {LOC} were cancelled on {DAY} .",
    "{PER} scored twice as {ORG} beat {ORG} {NUM} - {NUM} .",
    "She moved to {LOC} after studying at {ORG} .",
    "{PER} said the report was wrong .",
    "It rained all week in {LOC} .",
    "Nobody expected the vote to be so close .",
    "In {YEAR} , {PER} founded {ORG} with {NUM} employees .",
    "Police in {LOC} are looking for a red van .",
    "{ORG} agreed to buy {ORG} for {NUM} million euros .",
    "Tourists love the old town of {LOC} in {MONTH} .",
    "{PER} won the election in {LOC} by {NUM} votes .",
    "A spokesman for {ORG} declined to comment .",
    "Doctor {LAST} treats patients at {ORG} .",
    "The train to {LOC} leaves at {NUM} o'clock .",
    "{PER} and {PER} married in {LOC} in {MONTH} {YEAR} .",
    "Workers at {ORG} went on strike on {DAY} .",
    "Last {MONTH} the river near {LOC} flooded again .",
    "{PER} told reporters that {ORG} would appeal .",
    "Our new neighbours come from {LOC} .",
    "The report by {ORG} was published on {DAY} .",
    "{LAST} has coached the team since {YEAR} .",
    "Yesterday {PER} flew home to {LOC} .",
    "The museum in {LOC} bought a painting for {NUM} dollars .",
    "Sales at {ORG} doubled , said {PER} .",
    "Everyone in the village knows {FIRST} .",
    "Talks between {ORG} and {ORG} broke down in {LOC} .",
    "On {DAY} the weather was calm and warm .",
    "{FIRST} sent a letter to {ORG} in {MONTH} .",
]
TEST_ONLY_TEMPLATES = [
    "{PER} is expected to sign with {ORG} before {MONTH} .",
    "Heavy snow closed the roads between {LOC} and {LOC} .",
    "Officials at {ORG} met {PER} in {LOC} on {DAY} .",
    "Fans waited outside the stadium in {LOC} for {PER} .",
]


class Locales:
    """One seeded Faker per locale; each call picks the locale with ``rng``.

    Choosing the locale with our own seeded generator keeps every draw
    reproducible. (Italian is left out: with Faker 40.63 its city names
    were not the same from run to run under a fixed seed.)
    """

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.fakers = []
        for index, locale in enumerate(LOCALES):
            fake = Faker(locale)
            fake.seed_instance(SEED + index)
            self.fakers.append(fake)

    def __getattr__(self, method):
        return lambda: getattr(self.rng.choice(self.fakers), method)()


def name_pools(fake: Locales, rng: random.Random) -> dict[str, list[str]]:
    """Distinct names of each kind, shuffled."""
    people, places, groups = set(), set(), set()
    while len(people) < 2 * POOL_SIZE:
        shape = rng.random()
        if shape < 0.7:
            people.add(f"{fake.first_name()} {fake.last_name()}")
        elif shape < 0.85:
            people.add(f"{fake.first_name()} {fake.first_name()} {fake.last_name()}")
        else:
            people.add(fake.last_name())
    while len(places) < 2 * POOL_SIZE:
        places.add(fake.city() if rng.random() < 0.75 else fake.country())
    while len(groups) < 2 * POOL_SIZE:
        city = fake.city()
        shape = rng.random()
        if shape < 0.3:
            groups.add(f"{fake.last_name()} {rng.choice(COMPANY_WORDS)}")
        elif shape < 0.45:
            groups.add(f"{fake.last_name()} & {fake.last_name()}")
        elif shape < 0.6:
            groups.add(f"University of {city}")
        elif shape < 0.7:
            groups.add(f"{city} General Hospital")
        elif shape < 0.8:
            groups.add(f"{fake.last_name()} Foundation")
        elif shape < 0.9:
            groups.add(f"{city} {rng.choice(('United', 'Rovers', 'Athletic', 'City'))}")
        else:
            groups.add(f"Bank of {city}")
    pools = {}
    for kind, names in (("PER", people), ("LOC", places), ("ORG", groups)):
        names = sorted(names)
        rng.shuffle(names)
        pools[kind] = names
    return pools


def fill(template: str, pools, held_out: float, fake: Locales, rng: random.Random):
    """Tokens and IOB2 tags of one sentence from ``template``."""
    tokens, tags = [], []
    for piece in template.split():
        slot = piece[1:-1] if piece.startswith("{") and piece.endswith("}") else None
        if slot in ("PER", "LOC", "ORG"):
            names = pools[slot]
            half = len(names) // 2
            pool = names[half:] if rng.random() < held_out else names[:half]
            words = tokenize(rng.choice(pool))
            tokens += words
            tags += [f"B-{slot}"] + [f"I-{slot}"] * (len(words) - 1)
            continue
        if slot == "LAST":
            words, kind = tokenize(rng.choice(pools["PER"][: len(pools["PER"]) // 2]).split()[-1]), "PER"
        elif slot == "FIRST":
            words, kind = tokenize(fake.first_name()), "PER"
        elif slot == "DAY":
            words, kind = [rng.choice(DAYS)], None
        elif slot == "MONTH":
            words, kind = [rng.choice(MONTHS)], None
        elif slot == "YEAR":
            words, kind = [str(rng.randint(1950, 2024))], None
        elif slot == "NUM":
            words, kind = [str(rng.randint(2, 90))], None
        else:
            words, kind = tokenize(piece), None
        tokens += words
        tags += [f"B-{kind}"] + [f"I-{kind}"] * (len(words) - 1) if kind else ["O"] * len(words)
    return tokens, tags


def main() -> None:
    rng = random.Random(SEED)
    fake = Locales(rng)
    pools = name_pools(fake, rng)
    for part, count in SIZES.items():
        templates = TEMPLATES + (TEST_ONLY_TEMPLATES if part == "test" else [])
        held_out = 0.5 if part == "test" else 0.0
        lines = []
        for _ in range(count):
            tokens, tags = fill(rng.choice(templates), pools, held_out, fake, rng)
            lines += [f"{token}\t{tag}" for token, tag in zip(tokens, tags)] + [""]
        (HERE / f"{part}.conll").write_text("\n".join(lines), encoding="utf-8")
        print(f"{part}.conll: {count} sentences, {sum(1 for line in lines if line)} tokens")


if __name__ == "__main__":
    main()
