"""Screenshots of the teaching page, one per lesson, for docs/lessons.md.

Starts ``ctsim app`` and drives Chromium with the browser tests' page driver
(tests/teaching/page_driver.py): each lesson is opened at 1280x800 from its link, played for
``--weeks`` weeks, and the page's first screen is written to
``docs/images/app_LESSON.png``; free exploration in side-by-side mode is written to
``docs/images/app_compare.png``.

Run: ``.venv/bin/python scripts/screenshots.py [--weeks 52] [--out docs/images]``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ctsim.teaching.lessons import LESSONS, SHOT_WEEK, shot_week  # noqa: E402
from tests.teaching import page_driver  # noqa: E402

SIZE = (1280, 800)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weeks", type=int, default=SHOT_WEEK - 1,
                        help="weeks played before the shot (a lesson that ends sooner: "
                             "its last week but one)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    shots = [(f"app_{x.name}.png",
              f"lesson={x.name}&week={min(args.weeks, shot_week(x) - 1)}") for x in LESSONS]
    shots.append(("app_compare.png", f"lesson=trust_and_leaks&split=1&b.leak_rate=0&"
                                     f"week={args.weeks}"))
    with page_driver.app_server() as (url, _), sync_playwright() as p:
        browser = page_driver.launch(p)
        for name, query in shots:
            with page_driver.opened(browser, url, SIZE, query) as page:
                page_driver.step(page, 1)  # the narrator speaks of the week shown
                problems = page_driver.layout_problems(page)
                if problems:
                    raise SystemExit(f"{name}: {problems}")
                page.screenshot(path=str(args.out / name))
            print(f"wrote {args.out / name}")
        browser.close()


if __name__ == "__main__":
    main()
