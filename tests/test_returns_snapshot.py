"""Returns from a snapshot (SPEC §9, §10, §11): ``snap.returns(template)`` gives, table for table and
to the bit, what ``result.returns(template)`` gives for the result that was saved, under every
template and policy; a snapshot saved without what the returns read says so.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import groupexposure as gx
from groupexposure.ledger.store import SnapshotError
from groupexposure.returns import Returns

TEMPLATES = ("basel_lex20", "eu_corep_le", "cn_g14")


def _same(a: Returns, b: Returns) -> None:
    assert list(a) == list(b)
    for table in a:
        pd.testing.assert_frame_equal(a[table], b[table], check_exact=True)
    pd.testing.assert_frame_equal(a.issues, b.issues, check_exact=True)
    assert a.labels == b.labels


@pytest.mark.parametrize(("book", "policy"), [
    ("ningxia", "cn_cbirc_2018"), ("ningxia", "cn_group_credit"), ("synthetic", "eu_crr"),
    ("synthetic", "basel")])
def test_every_template_from_a_snapshot_is_the_results(tmp_path: Path, book: str, policy: str):
    data = gx.datasets.ningxia() if book == "ningxia" else gx.datasets.synthetic(3000, seed=3)
    result = gx.analyze(data, policy=policy)
    snap = gx.open_snapshot(result.save(tmp_path / "snap"))
    for template in TEMPLATES:
        _same(result.returns(template), snap.returns(template))


def test_a_snapshot_saved_without_the_returns_inputs_says_so(tmp_path: Path):
    path = gx.analyze(gx.datasets.ningxia()).save(tmp_path / "snap")
    manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    for name in ("facilities.parquet", "index/facility_obligor.npy"):
        del manifest["files"][name]  # as an earlier version wrote it
    (path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    snap = gx.open_snapshot(path)
    with pytest.raises(SnapshotError) as err:
        snap.returns("cn_g14")
    assert str(err.value) == (
        f"snapshot {snap.path} was saved by a version that did not keep what the returns read "
        "(facilities.parquet, index/facility_obligor.npy): save the analysis again")
    assert snap.check("RC-SPIN", 100_000_000).approved  # the rest of the snapshot still works
