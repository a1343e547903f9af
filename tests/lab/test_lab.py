"""The chapter notebooks as a reader sees them in JupyterLab: started by `make lab`, read in headless Chromium.

Run by `make test-lab` (two to three minutes: JupyterLab starts once, then every chapter is opened in
turn). JupyterLab renders the Markdown cells with jupyterlab-myst, which draws MyST's dropdowns, admonitions
and math, but draws nothing at all for `{literalinclude}`; so the listings of minigrad's code are code cells
that print the live source (`listing(...)`), and this test checks that every chapter reads without raw MyST:
no directive text, every solution collapsed, all math typeset, every listing shown.

Needs a `chromium` on PATH; without it the test is skipped, unless MINIGRAD_REQUIRE_BROWSER=1 (.ci/run).
"""

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.request

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import sync_playwright

from conftest import BOOK, ROOT

CHAPTERS = sorted(BOOK.glob("[0-9][0-9]_*.ipynb"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# Text that only unrendered MyST shows: a directive's fence or name, a role, TeX delimiters.
RAW_MYST = re.compile(r"```|:::|\{(?:literalinclude|dropdown|admonition|note|code-block|figure|glue)\}"
                      r"|\{(?:ref|numref|doc|eq)\}`|\$|\\\(|\\\[")

# Everything JupyterLab rendered from Markdown (cells, and Markdown that a code cell prints), as text with code
# and typeset math left out, plus the numbers the checks need.
RENDERED = """() => {
    const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
    const rendered = Array.from(panel.querySelectorAll(
        '.jp-MarkdownCell .jp-RenderedMarkdown, .jp-MarkdownCell .myst, '
        + '.jp-OutputArea-output[data-mime-type="text/markdown"]'));
    const prose = rendered.map(r => {
        const copy = r.cloneNode(true);
        copy.querySelectorAll('pre, code, .katex, mjx-container, style, script').forEach(e => e.remove());
        return copy.textContent;
    });
    const listings = Array.from(panel.querySelectorAll('.jp-CodeCell'))
        .filter(c => /^listing\\(/.test(c.querySelector('.jp-InputArea-editor').textContent.trim()))
        .map(c => Array.from(c.querySelectorAll('.jp-OutputArea-output[data-mime-type="text/markdown"] pre'))
                      .map(p => p.textContent));
    return {
        markdownCells: panel.querySelectorAll('.jp-MarkdownCell').length,
        renderedCells: panel.querySelectorAll('.jp-MarkdownCell.jp-mod-rendered').length,
        prose,
        rawDirectiveBlocks: panel.querySelectorAll('code[class*="language-{"]').length,
        details: panel.querySelectorAll('.jp-MarkdownCell details').length,
        openDetails: panel.querySelectorAll('details[open]').length,
        admonitions: panel.querySelectorAll('.jp-MarkdownCell aside, .jp-MarkdownCell .admonition').length,
        mathErrors: panel.querySelectorAll('.katex-error, mjx-merror').length,
        listings,
    };
}"""


def unavailable(reason):
    if os.environ.get("MINIGRAD_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (MINIGRAD_REQUIRE_BROWSER=1, so this is an error)", pytrace=False)
    pytest.skip(reason)


def markdown_sources(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "markdown"]


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.name for p in CHAPTERS])
def test_no_directive_that_jupyterlab_cannot_draw(path):
    """jupyterlab-myst draws nothing for {literalinclude} (it cannot read files); a listing is a code cell."""
    for source in markdown_sources(path):
        assert "{literalinclude}" not in source, "use a code cell with listing(...) instead of {literalinclude}"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """`make lab` on a free port with a known token, its settings and workspaces in a temporary folder."""
    tmp = tmp_path_factory.mktemp("lab")
    settings = tmp / "settings"
    # Every cell in the page (JupyterLab otherwise leaves cells far below the view out of the DOM), and no
    # request for Jupyter's news.
    for plugin, value in {"notebook-extension/tracker": {"windowingMode": "none"},
                          "apputils-extension/notification": {"fetchNews": "false"}}.items():
        file = settings / "@jupyterlab" / f"{plugin}.jupyterlab-settings"
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(json.dumps(value), encoding="utf-8")
    port, token = free_port(), secrets.token_hex(16)
    env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(settings), JUPYTERLAB_WORKSPACES_DIR=str(tmp / "workspaces"),
               JUPYTER_RUNTIME_DIR=str(tmp / "runtime"))
    log = open(tmp / "lab.log", "w")
    proc = subprocess.Popen(["make", "--no-print-directory", "lab",
                             f"LAB_FLAGS=--port={port} --IdentityProvider.token={token}"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not start: {(tmp / 'lab.log').read_text()[-3000:]}")
                time.sleep(0.5)
        yield base, token
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


@pytest.fixture(scope="module")
def page():
    executable = shutil.which("chromium")
    if executable is None:
        unavailable("no `chromium` on PATH (Debian: apt-get install chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
        yield context.new_page()
        browser.close()


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.name for p in CHAPTERS])
def test_chapter_reads_in_jupyterlab_as_in_the_book(page, lab, path):
    base, token = lab
    sources = markdown_sources(path)
    page.goto(f"{base}/lab/tree/{path.name}?reset&token={token}")
    page.wait_for_function(
        "n => document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-MarkdownCell.jp-mod-rendered')"
        ".length === n", arg=len(sources), timeout=60_000)
    page.wait_for_load_state("networkidle")
    # jupyterlab-myst draws a cell's boxes and math after the cell is marked rendered: wait until it is done.
    dropdowns = sum(len(re.findall(r"\{dropdown\}", s)) for s in sources)
    try:
        page.wait_for_function(
            "n => document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-MarkdownCell details')"
            ".length >= n", arg=dropdowns, timeout=30_000)
    except PlaywrightTimeout:
        pass  # the assertions below say what is missing
    found = page.evaluate(RENDERED)

    assert found["markdownCells"] == found["renderedCells"] == len(sources)
    assert found["rawDirectiveBlocks"] == 0, "a MyST directive shown as a code block"
    raw = [m.group(0) + " in: " + text[max(0, m.start() - 60):m.end() + 60].strip()
           for text in found["prose"] for m in [RAW_MYST.search(text)] if m]
    assert raw == [], "raw MyST or untypeset math in the rendered Markdown"
    assert found["mathErrors"] == 0, "math that KaTeX could not typeset"

    assert found["details"] == dropdowns, "every {dropdown} is a collapsible box"
    assert found["openDetails"] == 0, "solutions and 'under the hood' boxes start collapsed"
    boxes = sum(len(re.findall(r"\{(?:admonition|note)\}", s)) for s in sources)
    assert found["admonitions"] >= boxes, "every {admonition} and {note} is drawn as a box"

    for shown in found["listings"]:
        assert shown and all(re.search(r"^\s*(def|class) ", code, re.M) for code in shown), (
            f"a listing(...) cell shows no code: {shown}")
