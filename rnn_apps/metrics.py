"""Task metrics computed with scikit-learn on NumPy predictions."""

from __future__ import annotations

import numpy as np
from sklearn import metrics as sk_metrics


def classification_metrics(labels, predictions, num_classes: int) -> dict[str, float]:
    """Accuracy, F1, precision and recall for integer class predictions.

    With two classes, F1, precision and recall are those of class 1 (the
    positive class); with more, they are macro averages over classes, so a
    rare class counts as much as a common one.

    Examples:
        >>> classification_metrics([0, 1, 1, 0], [0, 1, 0, 0], 2)["accuracy"]
        0.75
    """
    labels = np.asarray(labels)
    predictions = np.asarray(predictions)
    average = "binary" if num_classes == 2 else "macro"
    precision, recall, f1, _ = sk_metrics.precision_recall_fscore_support(
        labels,
        predictions,
        average=average,
        labels=None if num_classes == 2 else list(range(num_classes)),
        zero_division=0,
    )
    return {
        "accuracy": float(sk_metrics.accuracy_score(labels, predictions)),
        "f1": float(f1),
        "precision": float(precision),
        "recall": float(recall),
    }


def confusion_matrix(labels, predictions, num_classes: int) -> np.ndarray:
    """Counts ``[true, predicted]`` over all ``num_classes`` classes."""
    return sk_metrics.confusion_matrix(labels, predictions, labels=list(range(num_classes)))


def tagging_metrics(gold_tags, predicted_tags, scheme: str = "iob2", per_type: bool = True) -> dict[str, float]:
    """Sequence-labelling metrics for lists of tag sequences (one list of tag strings per sentence).

    For IOB2 entity tags: entity-level micro precision, recall and F1 with
    seqeval (an entity counts only if its type and both ends are right, as
    in conlleval), per-type F1 as ``f1_<TYPE>``, and token accuracy (which
    the frequent ``O`` tag inflates). For plain tags (parts of speech):
    token accuracy and macro F1 over tags. Only real tokens are given, so
    padding never counts. ``per_type=False`` leaves out the per-type F1,
    the slowest part (for a score after every epoch).

    Examples:
        >>> m = tagging_metrics([["B-PER", "I-PER", "O", "B-LOC"]], [["B-PER", "I-PER", "O", "O"]])
        >>> m["entity_precision"], m["entity_recall"], round(m["entity_f1"], 4), m["token_accuracy"], m["f1_PER"]
        (1.0, 0.5, 0.6667, 0.75, 1.0)
    """
    from seqeval import metrics as seq_metrics
    from seqeval.metrics import sequence_labeling

    gold_tags = [list(tags) for tags in gold_tags]
    predicted_tags = [list(tags) for tags in predicted_tags]
    flat_gold = [tag for tags in gold_tags for tag in tags]
    flat_predicted = [tag for tags in predicted_tags for tag in tags]
    accuracy = float(sk_metrics.accuracy_score(flat_gold, flat_predicted)) if flat_gold else 0.0
    if scheme != "iob2":
        return {
            "token_accuracy": accuracy,
            "macro_f1": float(sk_metrics.f1_score(flat_gold, flat_predicted, average="macro", zero_division=0)),
        }
    # One pass for all three: seqeval's f1_score, precision_score and recall_score each call this.
    precision, recall, f1, _ = sequence_labeling.precision_recall_fscore_support(
        gold_tags, predicted_tags, average="micro", zero_division=0
    )
    result = {
        "entity_f1": float(f1),
        "entity_precision": float(precision),
        "entity_recall": float(recall),
        "token_accuracy": accuracy,
    }
    if not per_type:
        return result
    report = seq_metrics.classification_report(gold_tags, predicted_tags, output_dict=True, zero_division=0)
    for kind in sorted(key for key in report if not key.endswith(" avg")):
        result[f"f1_{kind}"] = float(report[kind]["f1-score"])
    return result


def mean_metrics(metric_dicts: list[dict]) -> dict:
    """Mean of each metric over folds; a metric missing (`None`) in any fold stays `None`.

    Examples:
        >>> mean_metrics([{"mae": 1.0, "corr": None}, {"mae": 2.0, "corr": 0.5}])
        {'mae': 1.5, 'corr': None}
    """
    out = {}
    for key in metric_dicts[0]:
        values = [m[key] for m in metric_dicts if m.get(key) is not None]
        out[key] = float(np.mean(values)) if len(values) == len(metric_dicts) else None
    return out


def translation_metrics(hypotheses, references, tokenize: str = "13a") -> tuple[dict[str, float], dict[str, str]]:
    """Corpus BLEU and chrF (sacreBLEU), the exact-match rate, and each sacreBLEU metric's signature.

    With the default ``tokenize="13a"`` this is sacreBLEU's standard
    protocol: detokenised, cased hypotheses against untouched references,
    BLEU splitting both with its own 13a tokenizer. ``tokenize="none"``
    scores text that is tokenized already (split on spaces only). chrF
    reads characters and ignores spaces, so it takes no tokenizer.

    Args:
        hypotheses: translations, one string per sentence.
        references: one reference translation per sentence, in the same form.
        tokenize: sacreBLEU's BLEU tokenizer.

    Returns:
        ``(scores, signatures)``: ``{"bleu", "chrf", "exact_match"}`` with
            BLEU and chrF on 0-100 and the share of exact matches on 0-1, and
            ``{"bleu", "chrf"}`` sacreBLEU's signature strings (settings and
            version), to print beside the scores.

    Examples:
        >>> scores, signatures = translation_metrics(["The black cat."], ["The black cat."])
        >>> scores["bleu"], scores["exact_match"], signatures["bleu"].split("|")[:4]
        (100.0, 1.0, ['nrefs:1', 'case:mixed', 'eff:no', 'tok:13a'])
    """
    from sacrebleu import metrics as sacrebleu_metrics

    hypotheses, references = list(hypotheses), list(references)
    # force: with tokenize="none" sacreBLEU would warn that the text looks tokenized, which is intended.
    bleu = sacrebleu_metrics.BLEU(tokenize=tokenize, force=tokenize == "none")
    chrf = sacrebleu_metrics.CHRF()
    bleu_score = bleu.corpus_score(hypotheses, [references])
    chrf_score = chrf.corpus_score(hypotheses, [references])
    exact = float(np.mean([h == r for h, r in zip(hypotheses, references)])) if references else 0.0
    scores = {"bleu": round(bleu_score.score, 3), "chrf": round(chrf_score.score, 3), "exact_match": round(exact, 4)}
    return scores, {"bleu": str(bleu.get_signature()), "chrf": str(chrf.get_signature())}
