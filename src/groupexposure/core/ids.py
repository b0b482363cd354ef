"""Entity identifiers as integer codes: the position of each id in the sorted list of entity ids.

Codes keep the order of the ids (the smallest code is the smallest id, as SPEC §2-3 need), and
turn every lookup, count and join on identifiers into integer array operations. One hashing pass
(``pandas.factorize``) encodes all identifier columns at once.

>>> import pandas as pd
>>> ids, (owner, other) = encode(pd.Series(["b", "a", "c"]), pd.Series(["c", "x", None]),
...                              pd.Series(["a"]))
>>> ids.tolist(), owner.tolist(), other.tolist()
(['a', 'b', 'c'], [2, -1, -1], [0])
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["encode"]


def encode(entity_ids: pd.Series, *columns: pd.Series) -> tuple[np.ndarray, list[np.ndarray]]:
    """The sorted distinct entity ids, and each column's codes into them (-1: empty or unknown)."""
    parts = [entity_ids, *columns]
    values = pd.concat([p.reset_index(drop=True).astype("str") for p in parts], ignore_index=True)
    codes, uniques = pd.factorize(values)
    order = np.asarray(uniques.argsort())
    is_entity = np.zeros(len(uniques), dtype=bool)
    first = codes[: len(entity_ids)]
    is_entity[first[first >= 0]] = True
    entity_order = order[is_entity[order]]
    code_of = np.full(len(uniques) + 1, -1, dtype=np.int64)  # the last slot maps -1 to -1
    code_of[entity_order] = np.arange(entity_order.size)
    ids = np.asarray(uniques[entity_order].to_numpy(dtype=object))
    out, start = [], len(entity_ids)
    for col in columns:
        out.append(code_of[codes[start: start + len(col)]])
        start += len(col)
    return ids, out
