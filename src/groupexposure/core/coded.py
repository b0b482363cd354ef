"""The validated book as integer entity codes: what every core algorithm takes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from .groups import Connections

__all__ = ["Coded"]


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
