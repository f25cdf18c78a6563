"""Screenshots of the sentiment-lab page (desktop and phone width, English and French) in
headless Chromium, against a running server:

    sentiment-lab serve --port 8000 &
    .venv/bin/python docs/examples/serve/screenshots.py --url http://127.0.0.1:8000 --out docs/examples/serve
"""
from __future__ import annotations

import argparse
from pathlib import Path

from playwright.sync_api import sync_playwright

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
CONTRAST = "The first half was dull, but the ending was brilliant"
LONG = ("I expected a lot from this film after all the praise. The cast is excellent and the photography is "
        "gorgeous, but the script is a mess: the second act drags, the villain is a cliché and the twist "
        "makes no sense. Still, the last twenty minutes are genuinely moving and the score is wonderful.")
BATCH = ["This movie is absolutely fantastic and amazing", "Terrible movie, waste of time",
         "It was okay, nothing special", "The acting was not good at all", "Not bad at all, I'd watch it again",
         "A masterpiece of tedium, featuring Zorglub the unwatchable"]


def shoot(browser, url: str, out: Path, name: str, width: int, height: int, lang: str, text: str | None,
          batch: bool = False) -> None:
    ctx = browser.new_context(viewport={"width": width, "height": height}, locale=lang)
    page = ctx.new_page()
    page.goto(url + "/")
    page.wait_for_function("document.getElementById('model-info').textContent.length > 0")
    if batch:
        page.click("#tab-batch")
        page.fill("#batch-text", "\n".join(BATCH))
        page.click("#run-batch")
        page.wait_for_function(f"document.querySelectorAll('#batch-table tbody tr').length === {len(BATCH)}")
    else:
        page.fill("#text", text)
        page.click("#analyse")
        page.wait_for_function("document.querySelectorAll('#tokens .tok').length > 0", timeout=60_000)
    page.screenshot(path=str(out / f"{name}.png"), full_page=True)
    ctx.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="http://127.0.0.1:8000")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        shoot(browser, args.url, args.out, "desktop_en", 1200, 900, "en-US", CONTRAST)
        shoot(browser, args.url, args.out, "desktop_en_long", 1200, 900, "en-US", LONG)
        shoot(browser, args.url, args.out, "desktop_fr_batch", 1200, 900, "fr-FR", None, batch=True)
        shoot(browser, args.url, args.out, "phone_fr", 390, 844, "fr-FR", CONTRAST)
        shoot(browser, args.url, args.out, "phone_en_batch", 390, 844, "en-US", None, batch=True)
        browser.close()


if __name__ == "__main__":
    main()
