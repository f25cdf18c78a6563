"""CSV/TSV outputs a spreadsheet may open (predict -o, errors.csv) never hold a live formula:
found in an audit, a review "=HYPERLINK(...)" was written as a formula cell (OWASP: CSV
injection). Such cells get a ' in front; everything else is written as it was."""
import pandas as pd
import pytest
from typer.testing import CliRunner

from sentiment_lab.fileio import spreadsheet_safe, spreadsheet_safe_frame

EVIL = ['=HYPERLINK("http://evil.example","click")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)", "\t=1+1", "\r=1"]


def test_formula_cells_get_a_quote_and_the_rest_is_untouched():
    assert [spreadsheet_safe(v) for v in EVIL] == ["'" + v for v in EVIL]
    for fine in ["a fine film", "It's = great", "", "10/10", 3, -2.5, None]:
        assert spreadsheet_safe(fine) == fine
    frame = pd.DataFrame({"text": ["=1+1", "ok"], "score": [-0.5, 0.9]})
    safe = spreadsheet_safe_frame(frame)
    assert safe["text"].tolist() == ["'=1+1", "ok"] and safe["score"].tolist() == [-0.5, 0.9]
    assert frame["text"].tolist() == ["=1+1", "ok"]  # a copy


@pytest.mark.parametrize("suffix", [".csv", ".tsv"])
def test_predict_output_holds_no_formula(tiny_bundle, tmp_path, suffix):
    from sentiment_lab.cli import app
    from sentiment_lab.data import read_table

    src = tmp_path / "in.csv"
    pd.DataFrame({"text": EVIL[:4] + ["a fine film"]}).to_csv(src, index=False)
    out = tmp_path / f"out{suffix}"
    r = CliRunner().invoke(app, ["predict", "-m", str(tiny_bundle), "--input", str(src), "-o", str(out)])
    assert r.exit_code == 0, r.output
    texts = read_table(out)["text"].tolist() if hasattr(read_table(out), "columns") else None
    raw = out.read_text(encoding="utf-8").splitlines()[1:]
    assert all(not line.lstrip('"').startswith(("=", "+", "-", "@")) for line in raw), raw
    assert texts is None or texts[-1] == "a fine film"
