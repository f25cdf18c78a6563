"""The HTML report: self-contained, every section present, and it renders in a real browser."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from sentiment_lab.report import report

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def report_file(tiny_run, tmp_path_factory) -> Path:
    return report(tiny_run.run_dir, tmp_path_factory.mktemp("report") / "report.html")


def test_report_is_self_contained(report_file):
    html = report_file.read_text(encoding="utf-8")
    for title in ("Learning curves", "Metrics", "Evaluation", "Word embeddings", "Errors", "Challenge suite",
                  "Model card", "Configuration", "Data"):
        assert title in html
    assert html.count("data:image/png;base64,") >= 6  # curves, confusion, ROC, PR, reliability, slices
    assert not re.search(r"""(src|href)=["']https?://""", html)  # nothing fetched from the network


def test_report_refuses_a_non_run_directory(tmp_path):
    from sentiment_lab.errors import InputError

    with pytest.raises(InputError, match="not a run directory"):
        report(tmp_path)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed (/usr/bin/chromium)")
def test_report_renders_in_headless_chromium(report_file, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.goto(report_file.as_uri())
        assert page.locator("section.report-section").count() >= 7
        widths = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.naturalWidth)")
        assert widths and all(w > 100 for w in widths)  # every embedded figure decoded
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        browser.close()
    assert (tmp_path / "report.png").stat().st_size > 10_000
