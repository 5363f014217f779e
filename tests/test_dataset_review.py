"""The review page in a real headless browser: it loads, counts clips per label, plays video."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest

from ethoclip.dataset import PrepareOptions, prepare_dataset, read_manifest, write_review
from ethoclip.errors import DatasetError

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]


@pytest.fixture(scope="module")
def reviewed(demo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("review") / "ds"
    prepare_dataset(demo_root, out, PrepareOptions(workers=2))
    write_review(out)
    return out


def test_page_embeds_every_clip(reviewed: Path) -> None:
    page = (reviewed / "review.html").read_text()
    for entry in read_manifest(reviewed):
        assert entry.clip in page
    assert "clips per label and split" in page  # the dataset summary


def test_review_needs_a_dataset(tmp_path: Path) -> None:
    with pytest.raises(
        DatasetError,
        match=r"no label_map\.txt, so this is not a dataset made by 'ethoclip prepare'",
    ):
        write_review(tmp_path)


@pytest.mark.browser
def test_page_in_headless_chromium(reviewed: Path) -> None:
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    expected = Counter(label for e in read_manifest(reviewed) for label in e.labels)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        try:
            page = browser.new_page()
            page.goto((reviewed / "review.html").as_uri())
            counts = page.eval_on_selector_all(
                "section.group",
                "els => Object.fromEntries(els.map(e => "
                "[e.dataset.group, e.querySelectorAll('.card').length]))",
            )
            assert counts == dict(expected)
            # Filter to one label and one split: only those cards remain.
            page.select_option("#label", "wag")
            page.select_option("#split", "val")
            cards = page.eval_on_selector_all(".card", "els => els.map(e => e.dataset.clip)")
            wanted = sorted(
                e.clip for e in read_manifest(reviewed) if "wag" in e.labels and e.split == "val"
            )
            assert sorted(cards) == wanted and wanted
            state = page.evaluate(
                """async () => {
                    const video = document.querySelector("video");
                    await video.play();
                    await new Promise((done) => setTimeout(done, 700));
                    return {ready: video.readyState, time: video.currentTime,
                            width: video.videoWidth, error: video.error && video.error.code};
                }"""
            )
            assert state["error"] is None and state["width"] == 342
            assert state["ready"] >= 2 and state["time"] > 0.1  # it really plays
        finally:
            browser.close()
