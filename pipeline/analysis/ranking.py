"""The rank order of icebergs: real problems by score, then the ones people dismissed, then
boilerplate (courtesy with no problem in it); ties by iceberg id."""

from __future__ import annotations

from typing import Collection

import numpy as np
import pandas as pd

from pipeline.schemas import IcebergCols


def ranked(icebergs: pd.DataFrame, dismissed: Collection[str] = frozenset()) -> pd.DataFrame:
    """``icebergs`` sorted and numbered (``rank`` 1 = most important)."""
    boilerplate = (icebergs[IcebergCols.boilerplate].fillna(False).astype(bool)
                   if IcebergCols.boilerplate in icebergs.columns else False)
    order = icebergs.assign(_boilerplate=boilerplate,
                            _dismissed=icebergs[IcebergCols.iceberg_id].isin(list(dismissed)))
    order = order.sort_values(["_boilerplate", "_dismissed", IcebergCols.score, IcebergCols.iceberg_id],
                              ascending=[True, True, False, True], ignore_index=True)
    order[IcebergCols.rank] = np.arange(1, len(order) + 1, dtype=np.int64)
    return order.drop(columns=["_boilerplate", "_dismissed"])
