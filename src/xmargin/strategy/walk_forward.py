"""Walk-forward splits with purging and an embargo, for labels that look ``horizon`` ahead.

Sample ``i`` has features from bars ``≤ i`` and a label from the close at ``i + horizon``.
For a test block starting at sample ``s``, a training sample is *purged* when its label
window ``[i, i + horizon]`` reaches ``s`` (``i + horizon ≥ s``), and the ``embargo``
samples before that are dropped too. So training samples satisfy
``i ≤ s − horizon − 1 − embargo``: their labels were known strictly before the first test
sample, with a gap of ``embargo`` samples.
"""

from __future__ import annotations

from collections.abc import Iterator


def train_end(test_start: int, horizon: int, embargo: int) -> int:
    """The first sample index *not* allowed in training for a test block at ``test_start``."""
    if horizon < 1 or embargo < 0:
        raise ValueError(f"need horizon >= 1 and embargo >= 0, got {horizon}, {embargo}")
    return max(test_start - horizon - embargo, 0)


def purged_train_range(
    test_start: int, horizon: int, embargo: int, max_train: int | None = None
) -> range:
    """Training indices for a test block at ``test_start`` (the last ``max_train`` allowed)."""
    end = train_end(test_start, horizon, embargo)
    start = 0 if max_train is None else max(end - max_train, 0)
    return range(start, end)


def walk_forward_splits(
    samples: int,
    test_size: int,
    horizon: int,
    embargo: int,
    *,
    min_train: int,
    max_train: int | None = None,
) -> Iterator[tuple[range, range]]:
    """Yield ``(train, test)`` index ranges: consecutive test blocks of ``test_size``,
    each trained on the purged, embargoed past (skipped while it has < ``min_train``)."""
    if test_size < 1 or min_train < 1:
        raise ValueError("test_size and min_train must be positive")
    start = 0
    while start < samples:
        train = purged_train_range(start, horizon, embargo, max_train)
        if len(train) >= min_train:
            yield train, range(start, min(start + test_size, samples))
        start += test_size
