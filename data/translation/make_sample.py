"""Generate the bundled English->French sample of the translation recipe.

Every pair is built from templates, so the sample is free to redistribute;
it is made to need what a translator must learn beyond word-for-word lookup:

- word order: most French adjectives follow the noun ("the red car" ->
  "la voiture rouge"), a few precede it ("the small car" -> "la petite
  voiture"), so two English adjectives land on opposite sides of the noun;
- agreement: articles, adjectives and verbs agree in gender and number with
  their noun ("three white houses" -> "trois maisons blanches"), and "de" + article
  contracts ("near the dog" -> "près du chien");
- numbers spelled out in both languages with `num2words` ("twenty-one"
  -> "vingt et une" before a feminine noun).

The split is made on unique English sentences, so no test or validation
sentence occurs in training. Run from the repository root:

    python data/translation/make_sample.py

It writes ``train.en/.fr``, ``val.en/.fr`` and ``test.en/.fr`` beside itself
(line-aligned, one sentence per line, the layout of Multi30k).
"""

import pathlib
import random

from num2words import num2words

SEED = 20240605
SIZES = {"train": 3000, "val": 300, "test": 300}

# English noun -> (French singular, French plural, gender)
NOUNS = {
    "dog": ("chien", "chiens", "m"),
    "cat": ("chat", "chats", "m"),
    "horse": ("cheval", "chevaux", "m"),
    "boat": ("bateau", "bateaux", "m"),
    "book": ("livre", "livres", "m"),
    "boy": ("garçon", "garçons", "m"),
    "car": ("voiture", "voitures", "f"),
    "house": ("maison", "maisons", "f"),
    "table": ("table", "tables", "f"),
    "flower": ("fleur", "fleurs", "f"),
    "chair": ("chaise", "chaises", "f"),
    "girl": ("fille", "filles", "f"),
}
ENGLISH_PLURALS = {"boy": "boys", "horse": "horses", "house": "houses"}

# adjective -> French forms (m sg, f sg, m pl, f pl); these go before the noun
BEFORE = {
    "small": ("petit", "petite", "petits", "petites"),
    "big": ("grand", "grande", "grands", "grandes"),
    "old": ("vieux", "vieille", "vieux", "vieilles"),
    "beautiful": ("beau", "belle", "beaux", "belles"),
}
# colours follow the noun
AFTER = {
    "red": ("rouge", "rouge", "rouges", "rouges"),
    "green": ("vert", "verte", "verts", "vertes"),
    "black": ("noir", "noire", "noirs", "noires"),
    "white": ("blanc", "blanche", "blancs", "blanches"),
    "blue": ("bleu", "bleue", "bleus", "bleues"),
}
# verb -> (English 3rd singular, English plural, French singular, French plural)
VERBS = {
    "see": ("sees", "see", "voit", "voient"),
    "like": ("likes", "like", "aime", "aiment"),
    "follow": ("follows", "follow", "suit", "suivent"),
    "find": ("finds", "find", "trouve", "trouvent"),
    "watch": ("watches", "watch", "regarde", "regardent"),
}


def form(forms, gender: str, plural: bool) -> str:
    return forms[(2 if plural else 0) + (1 if gender == "f" else 0)]


def french_number(n: int, gender: str) -> str:
    words = num2words(n, lang="fr")
    # "un" agrees with a feminine noun: vingt et une maisons.
    if gender == "f" and words.endswith("un"):
        words = words[:-2] + "une"
    return words


def noun_phrase(rng: random.Random, allow_number: bool = True):
    """(English words, French words, plural) of one random noun phrase."""
    noun = rng.choice(sorted(NOUNS))
    singular, plural_form, gender = NOUNS[noun]
    kind = rng.choice(["the", "a", "number"] if allow_number else ["the", "a"])
    plural = kind == "number" or (kind == "the" and rng.random() < 0.3)
    english_noun = ENGLISH_PLURALS.get(noun, noun + "s") if plural else noun
    french_noun = plural_form if plural else singular
    if kind == "number":
        n = rng.randint(2, 99)
        english, french = [num2words(n)], [french_number(n, gender)]
    elif kind == "a":
        english, french = ["a"], ["une" if gender == "f" else "un"]
    else:
        english, french = ["the"], ["les" if plural else ("la" if gender == "f" else "le")]
    before = rng.choice(sorted(BEFORE)) if rng.random() < 0.5 else None
    after = rng.choice(sorted(AFTER)) if rng.random() < 0.6 else None
    if before:
        english.append(before)
        french.append(form(BEFORE[before], gender, plural))
    if after:
        english.append(after)
    english.append(english_noun)
    french.append(french_noun)
    if after:
        french.append(form(AFTER[after], gender, plural))
    return english, french, plural, gender, kind


def place_phrase(rng: random.Random):
    """ "near the ..." with French "de" contracted with the article."""
    english, french, plural, gender, kind = noun_phrase(rng, allow_number=False)
    if kind == "the":
        article = "des" if plural else ("de la" if gender == "f" else "du")
        french = article.split() + french[1:]
    else:
        french = ["d'" + french[0]] + french[1:]  # de + un/une elides: d'une
    return ["near"] + english, ["près"] + french


def sentence(rng: random.Random) -> tuple[str, str]:
    subject_en, subject_fr, plural, _, _ = noun_phrase(rng)
    verb = rng.choice(sorted(VERBS))
    english_verb, english_plural, french_verb, french_plural = VERBS[verb]
    object_en, object_fr, _, _, _ = noun_phrase(rng)
    english = subject_en + [english_plural if plural else english_verb] + object_en
    french = subject_fr + [french_plural if plural else french_verb] + object_fr
    if rng.random() < 0.4:
        place_en, place_fr = place_phrase(rng)
        english += place_en
        french += place_fr
    english_text = " ".join(english).replace("a old", "an old")
    french_text = " ".join(french)
    return english_text[0].upper() + english_text[1:] + ".", french_text[0].upper() + french_text[1:] + "."


def main() -> None:
    rng = random.Random(SEED)
    pairs = {}
    total = sum(SIZES.values())
    while len(pairs) < total:
        english, french = sentence(rng)
        pairs.setdefault(english, french)
    english_sentences = list(pairs)
    rng.shuffle(english_sentences)
    folder = pathlib.Path(__file__).parent
    start = 0
    for split, size in SIZES.items():
        chosen = english_sentences[start : start + size]
        start += size
        (folder / f"{split}.en").write_text("\n".join(chosen) + "\n", encoding="utf-8")
        (folder / f"{split}.fr").write_text("\n".join(pairs[e] for e in chosen) + "\n", encoding="utf-8")
    print(f"wrote {SIZES} pairs to {folder}")


if __name__ == "__main__":
    main()
