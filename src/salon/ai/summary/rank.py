"""TextRank over TF-IDF vectors: which sentences the rest of the meeting keeps coming back to.

Each sentence becomes a TF-IDF vector; cosine similarity between sentences weights a graph;
PageRank on that graph scores a sentence by how much it resembles other well-connected
sentences. A sentence near the meeting's main thread scores high wherever it was said,
which is what "first N sentences" gets wrong when a meeting opens with small talk.
"""

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

#: Words that carry no topic; kept short and English, like the rest of the cues.
STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers him his how i i'd i'll i'm i've if in into is
    it it's its itself just let's me more most my no nor not now of off on once only or other
    our ours out over own same she should so some such than that that's the their theirs them
    then there these they this those through to too under until up very was we we'll we're
    we've were what when where which while who whom why will with would you you'll you're your
    yours yeah yes okay ok oh um uh like really right well also think know going get got so
    gonna want""".split()
)

_TOKEN = re.compile(r"[a-z0-9][a-z0-9'_-]*")

DAMPING = 0.85
_ITERATIONS = 100
_TOLERANCE = 1e-9


def content_words(sentence: str) -> list[str]:
    """The topic-bearing words of a sentence, lower-cased."""
    return [word for word in _TOKEN.findall(sentence.lower()) if word not in STOPWORDS]


#: Sentences ranked on one graph. Its similarity matrix grows with the square of the
#: count (1,500 sentences: ~18 MB and a few hundred milliseconds; an eight-hour meeting's
#: ~10,000 would take over a gigabyte), so a longer meeting's graph holds the sentences
#: closest to the meeting's topic, and the rest rank below them by that closeness.
GRAPH_SENTENCES = 1500

#: A sentence's TF-IDF vector, L2-normalized: vocabulary column -> weight (the words it
#: has; a meeting's vocabulary runs to thousands of words, a sentence's to a dozen).
SparseRow = dict[int, float]


def tfidf_rows(sentences: Sequence[str]) -> list[SparseRow]:
    """Each sentence's TF-IDF vector; columns are the vocabulary in first-seen order
    (deterministic)."""
    tokenized = [content_words(sentence) for sentence in sentences]
    vocabulary: dict[str, int] = {}
    counts: list[dict[int, int]] = []
    for words in tokenized:
        row: dict[int, int] = {}
        for word in words:
            column = vocabulary.setdefault(word, len(vocabulary))
            row[column] = row.get(column, 0) + 1
        counts.append(row)
    frequency = [0] * len(vocabulary)
    for row in counts:
        for column in row:
            frequency[column] += 1
    idf = np.log((1 + len(sentences)) / (1 + np.array(frequency, dtype=float))) + 1
    rows = []
    for row in counts:
        weights = {column: count * float(idf[column]) for column, count in row.items()}
        norm = math.sqrt(sum(weight * weight for weight in weights.values()))
        rows.append({column: weight / norm for column, weight in weights.items()}
                    if norm > 0 else {})
    return rows


def cosine(a: SparseRow, b: SparseRow) -> float:
    """The cosine similarity of two normalized rows."""
    if len(b) < len(a):
        a, b = b, a
    return sum(weight * b.get(column, 0.0) for column, weight in a.items())


def _dense(rows: Sequence[SparseRow]) -> np.ndarray:
    """`rows` as a matrix over the columns they use."""
    columns: dict[int, int] = {}
    for row in rows:
        for column in row:
            columns.setdefault(column, len(columns))
    matrix = np.zeros((len(rows), max(len(columns), 1)))
    for index, row in enumerate(rows):
        for column, weight in row.items():
            matrix[index, columns[column]] = weight
    return matrix


def pagerank(
    similarity: np.ndarray, teleport: np.ndarray | None = None, damping: float = DAMPING
) -> np.ndarray:
    """Stationary scores of a weighted graph, the random jumps landing by `teleport`.

    A sentence linked to nothing keeps its share of the jumps.
    """
    size = similarity.shape[0]
    jump = (
        np.full(size, 1 / size)
        if teleport is None or teleport.sum() <= 0
        else teleport / teleport.sum()
    )
    out_weight = similarity.sum(axis=1, keepdims=True)
    transition = np.divide(
        similarity, out_weight, out=np.full_like(similarity, 1 / size), where=out_weight > 0
    )
    scores = np.full(size, 1 / size)
    for _ in range(_ITERATIONS):
        updated = (1 - damping) * jump + damping * transition.T @ scores
        if np.abs(updated - scores).sum() < _TOLERANCE:
            return updated
        scores = updated
    return scores


@dataclass(frozen=True)
class Ranking:
    """A centrality score per sentence, in input order (higher: more central), and the
    vectors they were computed from."""

    scores: list[float]
    rows: list[SparseRow]

    def most_similar(self, sentence: int, others: Iterable[int]) -> float:
        """The highest cosine similarity between `sentence` and any of `others` (0.0
        when there are none)."""
        row = self.rows[sentence]
        return max((cosine(row, self.rows[other]) for other in others), default=0.0)


def rank_sentences(sentences: Sequence[str]) -> list[float]:
    """A centrality score per sentence, in input order (higher: more central)."""
    return rank(sentences).scores


def rank(sentences: Sequence[str]) -> Ranking:
    """TextRank, with the random jumps landing by topic.

    Plain PageRank gives a pair of sentences that only resemble each other ("the weather is
    lovely" / "yes, great weather") as much as a meeting's main thread, since each
    connected group keeps the share of random jumps that lands on it. So the jumps land
    by each sentence's similarity to the whole meeting (the centroid of all vectors), and
    the score is the PageRank times that similarity: small talk off the meeting's topic
    ranks low even when two such sentences echo each other. A meeting of more than
    `GRAPH_SENTENCES` ranks that many closest to the topic on the graph; each of the
    others scores its similarity to the topic times the lowest PageRank on the graph.
    """
    rows = tfidf_rows(sentences)
    if not rows:
        return Ranking([], [])
    centroid: dict[int, float] = {}
    for row in rows:
        for column, weight in row.items():
            centroid[column] = centroid.get(column, 0.0) + weight
    norm = math.sqrt(sum(weight * weight for weight in centroid.values()))
    topic = np.array([cosine(row, centroid) / norm if norm > 0 else 0.0 for row in rows])
    graph = sorted(range(len(rows)), key=lambda i: (-topic[i], i))[:GRAPH_SENTENCES]
    graph.sort()
    vectors = _dense([rows[i] for i in graph])
    similarity = vectors @ vectors.T
    np.fill_diagonal(similarity, 0.0)
    teleport = topic[graph] if norm > 0 else None
    ranked = pagerank(similarity, teleport)
    if teleport is not None:
        scores = topic * float(ranked.min())  # the sentences left off the graph
        scores[graph] = ranked * teleport
    else:
        scores = np.zeros(len(rows))
        scores[graph] = ranked
    return Ranking([float(score) for score in scores], rows)
