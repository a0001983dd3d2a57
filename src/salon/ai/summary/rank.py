"""TextRank over TF-IDF vectors: which sentences the rest of the meeting keeps coming back to.

Each sentence becomes a TF-IDF vector; cosine similarity between sentences weights a graph;
PageRank on that graph scores a sentence by how much it resembles other well-connected
sentences. A sentence near the meeting's main thread scores high wherever it was said,
which is what "first N sentences" gets wrong when a meeting opens with small talk.
"""

import re
from collections.abc import Sequence

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


def tfidf_matrix(sentences: Sequence[str]) -> np.ndarray:
    """Rows: sentences, L2-normalized; columns: vocabulary in first-seen order (deterministic)."""
    tokenized = [content_words(sentence) for sentence in sentences]
    vocabulary: dict[str, int] = {}
    for words in tokenized:
        for word in words:
            vocabulary.setdefault(word, len(vocabulary))
    counts = np.zeros((len(sentences), max(len(vocabulary), 1)))
    for row, words in enumerate(tokenized):
        for word in words:
            counts[row, vocabulary[word]] += 1
    document_frequency = np.count_nonzero(counts, axis=0)
    idf = np.log((1 + len(sentences)) / (1 + document_frequency)) + 1
    weights = counts * idf
    norms = np.linalg.norm(weights, axis=1, keepdims=True)
    return np.divide(weights, norms, out=np.zeros_like(weights), where=norms > 0)


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


def rank_sentences(sentences: Sequence[str]) -> list[float]:
    """A centrality score per sentence, in input order (higher: more central)."""
    return rank_with_similarity(sentences)[0]


def rank_with_similarity(sentences: Sequence[str]) -> tuple[list[float], np.ndarray]:
    """`rank_sentences` and the sentence-by-sentence cosine similarity it was built on.

    Plain PageRank gives a pair of sentences that only resemble each other ("the weather is
    lovely" / "yes, great weather") as much as a meeting's main thread, since each
    connected group keeps the share of random jumps that lands on it. So the jumps land
    by each sentence's similarity to the whole meeting (the centroid of all vectors), and
    the score is the PageRank times that similarity: small talk off the meeting's topic
    ranks low even when two such sentences echo each other.
    """
    if not sentences:
        return [], np.zeros((0, 0))
    vectors = tfidf_matrix(sentences)
    similarity = vectors @ vectors.T
    np.fill_diagonal(similarity, 0.0)
    centroid = vectors.sum(axis=0)
    norm = np.linalg.norm(centroid)
    teleport = vectors @ (centroid / norm) if norm > 0 else None
    scores = pagerank(similarity, teleport)
    if teleport is not None:
        scores = scores * teleport
    return [float(score) for score in scores], similarity
