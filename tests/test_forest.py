"""Forest plots: produced, sensible, one row per study, marks, atomic PNG/SVG output."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from kb.analysis.csv_input import read_csv
from kb.analysis.data import from_rows
from kb.analysis.forest import forest_figure, save_forest
from kb.analysis.meta import analyse
from kb.errors import UsageError

DATA = Path(__file__).parent / "data" / "meta"


def gids(fig: object, prefix: str) -> list[str]:
    found = []
    for ax in fig.axes:  # type: ignore[attr-defined]
        for artist in [*ax.lines, *ax.patches]:
            gid = artist.get_gid()
            if gid and gid.startswith(prefix):
                found.append(gid)
    found += [t.get_gid() for t in fig.texts if (t.get_gid() or "").startswith(prefix)]  # type: ignore[attr-defined]
    return found


def texts(fig: object) -> list[str]:
    return [t.get_text() for t in fig.texts]  # type: ignore[attr-defined]


def test_forest_draws_one_row_per_study_the_diamond_and_heterogeneity() -> None:
    report = analyse(read_csv(DATA / "dat.bcg.csv"))
    fig = forest_figure(report)
    assert len(gids(fig, "study-row-")) == 13
    assert len(gids(fig, "study-marker-")) == 13
    assert gids(fig, "pooled-diamond") == ["pooled-diamond"]
    het = next(t for t in fig.texts if t.get_gid() == "heterogeneity").get_text()
    assert "I\u00b2 = 92.2%" in het and "Q(12) = 152.23" in het and "p < 0.0001" in het
    labels = texts(fig)
    assert "Aronson 1948" in labels and "0.49 [0.34, 0.70]" in labels
    assert "10.2%" in labels  # TPT Madras' weight


def test_ratio_measures_use_a_log_axis_and_proportions_a_linear_one() -> None:
    rr = forest_figure(analyse(read_csv(DATA / "dat.bcg.csv")))
    assert rr.axes[0].get_xscale() == "log"
    pr = forest_figure(analyse(read_csv(DATA / "dat.pritz1997.csv", measure="PR")))
    ax = pr.axes[0]
    assert ax.get_xscale() == "linear"
    lo, hi = ax.get_xlim()
    assert -0.1 <= lo and hi <= 1.1


def test_single_arm_and_open_label_studies_are_marked() -> None:
    rows = []
    for sid, x, n in (("pilot-a", 7, 10), ("pilot-b", 12, 20)):
        rows.append(
            {
                "study": f"https://w3id.org/evidence-kb/resource/study/{sid}",
                "arm": f"https://w3id.org/evidence-kb/resource/study/{sid}/arm/all",
                "arm_label": "IL-2",
                "arm_role": "single arm",
                "design": "single-arm trial",
                "blinding": "open label",
                "single_arm": True,
                "events": x,
                "total": n,
            }
        )
    fig = forest_figure(analyse(from_rows(rows)))
    labels = texts(fig)
    assert "pilot-a\u2020*" in labels and "pilot-b\u2020*" in labels
    legend = next(t for t in fig.texts if t.get_gid() == "marks-legend").get_text()
    assert "single-arm" in legend and "open-label" in legend
    markers = [ln for ln in fig.axes[0].lines if (ln.get_gid() or "").startswith("study-marker-")]
    assert all(ln.get_markerfacecolor() == "white" for ln in markers)


def test_single_study_plot_has_no_diamond_and_says_it_is_not_pooled() -> None:
    rows = [
        {
            "study": "s1",
            "arm": "a",
            "arm_role": "single arm",
            "single_arm": True,
            "events": 7,
            "total": 10,
        }
    ]
    fig = forest_figure(analyse(from_rows(rows)))
    assert gids(fig, "pooled-diamond") == []
    assert any("without pooling" in t for t in texts(fig))
    assert len(gids(fig, "study-row-")) == 1
    # No pooling model is named in the title for a study shown as reported.
    assert fig._suptitle.get_text().endswith("\u2014 one study, not pooled")


def test_png_is_written_atomically_with_a_sensible_size(tmp_path: Path) -> None:
    out = tmp_path / "plots" / "bcg.png"
    save_forest(analyse(read_csv(DATA / "dat.bcg.csv")), out)
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert width == 1650 and 900 <= height <= 1400  # 11 in wide at 150 dpi; 13 rows tall
    assert [p.name for p in out.parent.iterdir()] == ["bcg.png"]  # no temporary file left


def test_more_studies_make_a_taller_png(tmp_path: Path) -> None:
    small, big = tmp_path / "small.png", tmp_path / "big.png"
    save_forest(analyse(read_csv(DATA / "dat.miller1978.csv")), small)
    save_forest(analyse(read_csv(DATA / "dat.pritz1997.csv")), big)
    h_small = struct.unpack(">I", small.read_bytes()[20:24])[0]
    h_big = struct.unpack(">I", big.read_bytes()[20:24])[0]
    assert h_big > h_small


def test_svg_carries_every_study_row_and_is_reproducible(tmp_path: Path) -> None:
    report = analyse(read_csv(DATA / "dat.pritz1997.csv"))
    a, b = tmp_path / "a.svg", tmp_path / "b.svg"
    save_forest(report, a)
    save_forest(report, b)
    svg = a.read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert all(f'id="study-row-{i}"' in svg for i in range(1, 15))
    assert 'id="study-row-15"' not in svg
    assert 'id="pooled-diamond"' in svg
    assert a.read_bytes() == b.read_bytes()


def test_other_extensions_are_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=".png or .svg"):
        save_forest(analyse(read_csv(DATA / "dat.bcg.csv")), tmp_path / "plot.pdf")
    assert list(tmp_path.iterdir()) == []
