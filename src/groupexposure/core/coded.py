"""The validated book as integer entity codes: what every core algorithm takes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from .groups import Connections

__all__ = ["Coded", "exempt_flags"]


@dataclass(frozen=True)
class Coded:
    """The validated tables as integer entity codes (code = position in the sorted id list)."""

    ids: np.ndarray
    id_text: pa.Array
    entities: pd.DataFrame
    kind: np.ndarray
    gsib: np.ndarray
    exempt: np.ndarray
    owner: np.ndarray
    owned: np.ndarray
    connections: Connections


def exempt_flags(entities: pd.DataFrame, kind: np.ndarray, exempt_kinds: set[str]) -> np.ndarray:
    """Exempt or not, per entity: the policy's exempt kinds, overridden row by row by the
    entities table's ``exempt`` where given (SPEC §1).

    >>> ent = pd.DataFrame({"exempt": [None, False, True]})
    >>> exempt_flags(ent, np.array(["sovereign", "sovereign", "corporate"]), {"sovereign"})
    array([ True, False,  True])
    """
    by_kind = pd.Series(kind).isin(exempt_kinds).to_numpy()
    if "exempt" not in entities:
        return by_kind
    given = entities["exempt"].reset_index(drop=True)
    return np.where(given.notna().to_numpy(), given.eq(True).to_numpy(dtype=bool), by_kind)
