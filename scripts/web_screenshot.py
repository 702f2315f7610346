"""The README's screenshot of the web page: a real prediction, taken in headless Chromium.

    python scripts/web_screenshot.py examples/NaCl.cif --out docs/web-page.png

Starts ``crystaldos serve``'s application (every bundled model) on a free local port, uploads
the structure, waits for the plots and saves a full-page PNG.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path


def main() -> None:
    import uvicorn
    from playwright.sync_api import sync_playwright

    from crystaldos.web.app import create_app

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("structure", type=Path)
    parser.add_argument("--out", type=Path, default=Path("docs/web-page.png"))
    parser.add_argument("--width", type=int, default=1200)
    args = parser.parse_args()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("error: no chromium executable (apt-get install chromium)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryDirectory() as run:
        server = uvicorn.Server(uvicorn.Config(create_app(run), host="127.0.0.1", port=port,
                                               log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": args.width, "height": 900})
            page.set_default_timeout(120_000)
            page.goto(f"http://127.0.0.1:{port}")
            page.set_input_files("#file", str(args.structure))
            page.click("#predict")
            page.wait_for_selector("#result:not([hidden])")
            page.wait_for_timeout(1500)  # let plotly finish drawing
            args.out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(args.out), full_page=True)
            browser.close()
        server.should_exit = True
        thread.join(10)
    print(f"screenshot -> {args.out}")


if __name__ == "__main__":
    main()
