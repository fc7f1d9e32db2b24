"""The pictures of the docs, made from the bundled sample data by the
commands the pages show (never by hand): `make pictures` writes them into
docs/. The explorer's screenshot needs Chromium and playwright (the dev
extra), as the browser tests do."""
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = os.path.join(ROOT, "docs")
FOCAL = os.path.join(os.path.dirname(sys.executable), "focal")
DIGITS = ["sample_data/digits.npy", "sample_data/digits_targets.npy"]
TRAINING = ["sample_data/training", "sample_data/training_targets.npy"]
COMMANDS = {
    "curve.png": ["curve", "--plot"],
    "sweep.png": ["sweep", *DIGITS, "--alphas", "0.25,1,balanced", "--plot"],
    "reliability.png": ["score", *DIGITS, "--plot"],
    "seg_map.png": ["score", "sample_data/seg_logits.npy", "sample_data/seg_masks",
                    "--ignore-index", "255", "--class-names", "sample_data/seg_classes.txt",
                    "--top", "2", "--map"],
    "data_map.png": ["track", *TRAINING, "--data-map"],
    "track.png": ["track", *TRAINING, "--plot"],
}


def run(args):
    subprocess.run([FOCAL, *args], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


def screenshot(path: str):
    from playwright.sync_api import sync_playwright
    with tempfile.TemporaryDirectory() as tmp:
        page_path = os.path.join(tmp, "digits.html")
        run(["explore", *DIGITS, "--alphas", "1,0.25,balanced", "-o", page_path])
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=os.environ.get(
                "FOCAL_CHROMIUM", "/usr/bin/chromium"), args=["--no-sandbox"], headless=True)
            page = browser.new_page(viewport={"width": 1200, "height": 800})
            page.goto("file://" + page_path)
            page.wait_for_timeout(300)
            page.screenshot(path=path, full_page=True)
            browser.close()


def main():
    for name, args in COMMANDS.items():
        run([*args, os.path.join(DOCS, name)])
        print("wrote", os.path.join("docs", name))
    screenshot(os.path.join(DOCS, "explorer.png"))
    print("wrote docs/explorer.png")


if __name__ == "__main__":
    main()
