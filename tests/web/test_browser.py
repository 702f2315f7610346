"""The page in a real browser: Debian's headless Chromium driven by Playwright."""

import io
import shutil
import socket
import threading
import time
import zipfile

import pytest

pytest.importorskip("fastapi")
playwright_api = pytest.importorskip("playwright.sync_api")

from tests.conftest import rocksalt, silicon_primitive  # noqa: E402

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def cif_text(crystal) -> str:
    out = io.BytesIO()
    crystal.to_ase().write(out, format="cif")
    return out.getvalue().decode()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    """The real server (uvicorn) on a free port, serving the bundled phdos and xtb-edos."""
    import uvicorn

    from crystaldos.web.app import create_app

    if CHROMIUM is None:
        pytest.fail("no chromium executable: .ci/run installs Debian's chromium package")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(tmp_path_factory.mktemp("served"), ["phdos", "xtb-edos"])
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    end = time.monotonic() + 30
    while not uv.started:
        assert time.monotonic() < end, "server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    uv.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def page(server):
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=["--no-sandbox"])
        context = browser.new_context(accept_downloads=True)
        page = context.new_page()
        page.set_default_timeout(60_000)
        yield page
        browser.close()


def n_points(page, plot: str) -> list[int]:
    return page.evaluate(f"document.getElementById('{plot}').data.map(t => t.x.length)")


def test_upload_a_cif_see_both_plots_switch_units_download(page, server, tmp_path) -> None:
    path = tmp_path / "NaCl.cif"
    path.write_text(cif_text(rocksalt()))
    page.goto(server)
    page.set_input_files("#file", str(path))
    page.click("#predict")
    page.wait_for_selector("#result:not([hidden])")
    page.wait_for_function("document.getElementById('electronic-plot').data !== undefined")
    assert n_points(page, "phonon-plot") == [221]  # phdos grid
    assert n_points(page, "electronic-plot") == [300]  # edos300 grid
    assert page.text_content("#title").startswith("NaCl")
    assert "Debye temperature" in page.text_content("#properties")
    cm1_top = page.evaluate("Math.max(...document.getElementById('phonon-plot').data[0].x)")
    page.select_option("#unit", "THz")
    thz_top = page.evaluate("Math.max(...document.getElementById('phonon-plot').data[0].x)")
    assert thz_top == pytest.approx(cm1_top / 33.35641, rel=1e-4)
    with page.expect_download() as info:
        page.click("#download-spectra")
    saved = tmp_path / "spectra.csv"
    info.value.save_as(saved)
    lines = saved.read_text().splitlines()
    assert lines[0] == "model,kind,x,unit,dos,normalization" and len(lines) == 1 + 221 + 300
    page.screenshot(path=str(tmp_path / "page.png"), full_page=True)


def test_a_broken_file_shows_its_error(page, server, tmp_path) -> None:
    path = tmp_path / "broken.cif"
    path.write_text("data_broken\n_cell_length_a oops\n")
    page.goto(server)
    page.set_input_files("#file", str(path))
    page.click("#predict")
    page.wait_for_selector("#error:not([hidden])")
    assert page.text_content("#error").startswith("broken.cif: ")


def test_a_small_batch_runs_to_completion(page, server, tmp_path) -> None:
    archive = tmp_path / "batch.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("NaCl.cif", cif_text(rocksalt()))
        zf.writestr("Si.cif", cif_text(silicon_primitive()))
        zf.writestr("KCl.cif", cif_text(rocksalt(6.29)))
    page.goto(server)
    page.click("#tab-many")
    page.set_input_files("#batch-file", str(archive))
    page.select_option("#batch-model", "phdos")
    page.click("#batch-run")
    page.wait_for_selector("#ranked", timeout=120_000)
    rows = page.locator("#ranked tr")
    assert rows.count() == 1 + 3
    assert "done" in page.text_content("#jobs")
    with page.expect_popup() as popup:
        page.click("#report-link")
    popup.value.wait_for_load_state()
    assert "crystaldos screening report" in popup.value.content()
