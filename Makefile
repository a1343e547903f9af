# Build, test and run the book. Every target calls the tools in .venv/bin directly (nothing to activate).
#   make book        set up .venv, build the HTML into _build/html
#   make test        set up .venv, build with warnings as errors, run pytest (tests/ + nbval on book/)
# See `make help` for the rest.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# Written after a successful install; newer than both inputs means the set-up can be skipped.
STAMP  := $(VENV)/.stamp
# Which interpreter made $(VENV) ("version path"): another PYTHON makes a new $(VENV).
PYTHON_ID := $(VENV)/.python
HTML   := _build/html
# -W: warnings are errors; -n: nitpicky (every cross-reference must resolve); --keep-going: list them all;
# --all: fresh environment, so a warning from an unchanged page is reported again (a few seconds: the
# notebooks are not executed by the build).
JB_FLAGS := -W -n --keep-going --all
NOTEBOOKS ?= $(sort $(wildcard book/*.ipynb))
NBVAL_FLAGS := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg
# pytest-xdist: a worker per core, each taking whole modules and notebooks (a notebook's cells share a kernel;
# a module's fixtures, such as the browser or the unpacked archive, are made once).
XDIST_FLAGS := -n auto --dist loadscope

# `make test-portable`: nbval on every notebook with NumPy's SIMD dispatch and OpenBLAS's kernels set as on
# older x86 CPUs (AVX2 without AVX-512; AVX only; SSE4 only), so a number that depends on the CPU's last bits
# fails here, not on a reader's machine. Disabling X86_V4 alone leaves NumPy's AVX512_ICL/SPR kernels on, so
# each CPU is tried both ways. With PORTABLE_OPENBLAS=0 only NumPy's dispatch varies (each setting once) and
# OPENBLAS_CORETYPE stays as the environment has it (.ci/run does that: some machines set it for stability).
NO_AVX512 := AVX512_ICL,AVX512_SPR
PORTABLE_CPUS := X86_V4:Haswell X86_V4,$(NO_AVX512):Haswell X86_V3,X86_V4:Sandybridge \
                 X86_V3,X86_V4,$(NO_AVX512):Nehalem X86_V3,X86_V4:Nehalem
PORTABLE_OPENBLAS ?= 1
define CHECK_NUMPY_DISPATCH
import os
from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
off = os.environ["NPY_DISABLE_CPU_FEATURES"].split(",")
still = [name for name in off if __cpu_features__.get(name)]
assert not still, f"NumPy still dispatches to {still}: NPY_DISABLE_CPU_FEATURES did not take effect"
print("NumPy dispatches to:", [name for name in __cpu_dispatch__ if __cpu_features__.get(name)] or "baseline only")
endef
export CHECK_NUMPY_DISPATCH

.PHONY: FORCE help setup lock translations book pdf test-pdf test test-compare test-portable test-lab lab serve notebooks bench clean html

# Sphinx 7.4 (the version jupyter-book 1 allows) writes an inline <script> twice when an extension adds it
# after the builder has started (sphinx-doc/sphinx#13402, fixed in Sphinx 8.2). sphinx-thebe's
# `const THEBE_JS_URL = ...` is such a script, and its second copy is a SyntaxError in the console of
# every page. After each build (also a failed one: the pages are still written), drop exact repeats of an
# inline script; the first copy stays.
define DEDUPE_INLINE_SCRIPTS
import pathlib, re
for page in pathlib.Path("$(HTML)").rglob("*.html"):
    html = page.read_text(encoding="utf-8")
    seen = set()
    def once(m):
        if m.group(0) in seen:
            return ""
        seen.add(m.group(0))
        return m.group(0)
    new = re.sub(r"[ \t]*<script>.*?</script>\n?", once, html, flags=re.S)
    if new != html:
        page.write_text(new, encoding="utf-8")
endef
export DEDUPE_INLINE_SCRIPTS

help:
	@echo "make book       create .venv if needed, build the book into $(HTML)"
	@echo "make test       build with warnings as errors, then pytest tests/ and every notebook (nbval)"
	@echo "make pdf        the whole book as one PDF, _build/pdf/book.pdf (headless Chromium); the site links it"
	@echo "make test-pdf   make pdf, then check it: pages, embedded fonts, typeset math, chapters, figures"
	@echo "make test-compare  install the 'compare' extra (PyTorch CPU, Keras, JAX), pytest tests/compare against it"
	@echo "make test-portable  nbval on every notebook as on older CPUs (NumPy dispatch + OpenBLAS kernel)"
	@echo "make lab        JupyterLab on 127.0.0.1 with book/ as its root"
	@echo "make test-lab   open every chapter in make lab (headless Chromium): no raw MyST, listings shown"
	@echo "make serve      serve $(HTML) on http://127.0.0.1:8000"
	@echo "make notebooks  re-execute notebooks in place (NOTEBOOKS=\"book/x.ipynb ...\" for a subset)"
	@echo "make bench      run benchmarks/sequence_loss.py"
	@echo "make translations  after changing the English text: update locale/zh_CN's catalogs, list what to translate"
	@echo "make lock       pin every package of requirements.txt in constraints.txt, and with the 'compare' extra in"
	@echo "                constraints-compare.txt, for every supported Python (uv)"
	@echo "make clean      remove _build"
	@echo "Every target uses the python3 on PATH for a new .venv; PYTHON=python3.12 (say) names another."

# Before anything is installed: stop with one sentence when PYTHON is missing or outside the supported range
# (requires-python in pyproject.toml; tools/check_python.py). $(VENV) is made by PYTHON: the python3 on PATH
# unless named (`make test PYTHON=python3.12`). Naming another interpreter than the one that made $(VENV)
# makes it anew; a command that names none keeps the $(VENV) there is. The file is rewritten only when $(VENV)
# is made, so the install below runs again only then (or when its inputs change).
PYTHON_NAMED := $(filter command line environment,$(origin PYTHON))
CHECK_PYTHON = command -v $(PYTHON) >/dev/null 2>&1 || { \
	  echo "make: no '$(PYTHON)' found; point make at an installed Python, e.g. 'make test PYTHON=python3.12'." >&2; \
	  exit 1; }; \
	$(PYTHON) tools/check_python.py
$(PYTHON_ID): FORCE
	@if [ -z "$(PYTHON_NAMED)" ] && [ -f $@ ] && [ -x $(BIN)/python ]; then exit 0; fi; \
	$(CHECK_PYTHON); \
	id="$$($(PYTHON) -c 'import sys; print(sys.version.split()[0], sys.executable)')"; \
	if [ "$$(cat $@ 2>/dev/null)" != "$$id" ]; then \
	  echo "== $(VENV) for Python $$id"; rm -rf $(VENV); $(PYTHON) -m venv $(VENV); echo "$$id" > $@; \
	fi

# requirements.txt names what the book needs; constraints.txt (written by `make lock`) pins every package that
# this pulls in, so an install today and one next year get the same versions.
$(STAMP): requirements.txt constraints.txt pyproject.toml $(PYTHON_ID)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt -c constraints.txt
	touch $@

setup: $(STAMP)

# One lock for every supported Python, by construction: uv resolves requirements.txt for all of them at once
# (--universal, from the lowest version in requires-python up), writing an environment marker where a package
# must differ between Pythons or platforms. A pin already in constraints.txt is kept while it still fits, so
# only what must change changes; delete constraints.txt first to move every package to its newest release.
# uv runs from a temporary venv: it is needed for this target only.
# Then the same for `make test-compare`'s install (requirements.txt and minigrad's `compare` extra: PyTorch,
# Keras, JAX) into constraints-compare.txt, resolved with constraints.txt as constraints, so that every package
# both files pin has the same version in both.
UV_VERSION  := 0.13.9
LOCK_VENV   := _build/lock-venv
LOWEST_PYTHON = $(shell sed -n 's/^requires-python = ">=\([0-9.]*\).*/\1/p' pyproject.toml)
lock:
	@$(CHECK_PYTHON)
	rm -rf $(LOCK_VENV)
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	if [ -f constraints.txt ]; then cp constraints.txt constraints.txt.new; else rm -f constraints.txt.new; fi
	$(LOCK_VENV)/bin/uv pip compile requirements.txt --universal --python-version $(LOWEST_PYTHON) \
	  --no-emit-package minigrad --no-annotate --no-header --quiet --output-file constraints.txt.new
	{ echo "# Every package that 'pip install -r requirements.txt' installs, on every Python from $(LOWEST_PYTHON) (requires-python)"; \
	  echo "# and every platform: written by 'make lock' (uv $(UV_VERSION), --universal); do not edit by hand."; \
	  grep -v '^#' constraints.txt.new; \
	} > constraints.txt
	if [ -f constraints-compare.txt ]; then cp constraints-compare.txt constraints-compare.txt.new; \
	else rm -f constraints-compare.txt.new; fi
	$(LOCK_VENV)/bin/uv pip compile requirements.txt pyproject.toml --extra compare --constraint constraints.txt \
	  --universal --python-version $(LOWEST_PYTHON) \
	  --no-emit-package minigrad --no-annotate --no-header --quiet --output-file constraints-compare.txt.new
	{ echo "# Every package that 'make test-compare' installs (requirements.txt and minigrad's 'compare' extra), on every"; \
	  echo "# Python from $(LOWEST_PYTHON) and every platform, at constraints.txt's version where both pin one: written by"; \
	  echo "# 'make lock' (uv $(UV_VERSION), --universal); do not edit by hand."; \
	  grep -v '^#' constraints-compare.txt.new; \
	} > constraints-compare.txt
	rm -rf $(LOCK_VENV) constraints.txt.new constraints-compare.txt.new
	@echo "Wrote constraints.txt ($$(grep -vc '^#' constraints.txt) pins) and constraints-compare.txt ($$(grep -vc '^#' constraints-compare.txt) pins)."

# The HTML of both editions, built with warnings as errors (both `make book` and `make test` build it this
# way): English into $(HTML) and, at the same time on another core, Chinese (the same sources, translated by
# locale/zh_CN's catalogs) into $(ZH_BUILD), copied to $(HTML)/zh so that one site holds both. The Chinese
# figures are drawn again with Chinese text first (tools/figures_zh.py; only the notebooks changed since the
# last build are run). The English build's messages are printed when it ends, after the Chinese build's.
ZH_BUILD := _build/zh
EN_LOG   := _build/html-en.log
html: $(STAMP)
	mkdir -p _build
	status=0; \
	$(BIN)/jupyter-book build . $(JB_FLAGS) > $(EN_LOG) 2>&1 & english=$$!; \
	$(BIN)/python tools/i18n.py config zh_CN $(ZH_BUILD)/_config.yml; \
	$(BIN)/python tools/figures_zh.py build || status=$$?; \
	$(BIN)/jupyter-book build . --config $(ZH_BUILD)/_config.yml --path-output $(ZH_BUILD) $(JB_FLAGS) \
	  || status=$$?; \
	wait $$english || status=$$?; \
	echo "== the English edition's build ($(EN_LOG)):"; cat $(EN_LOG); \
	rm -rf $(HTML)/zh; cp -r $(ZH_BUILD)/_build/html $(HTML)/zh; \
	$(BIN)/python -c "$$DEDUPE_INLINE_SCRIPTS"; \
	exit $$status

# After changing the English text: extract its messages (Sphinx's gettext builder) and bring every catalog in
# locale/zh_CN/LC_MESSAGES up to date. New sentences arrive untranslated, changed ones marked fuzzy with the
# old translation kept as a draft, removed ones dropped; the same for the text in the figures (figures.po,
# tools/figures_zh.py); tools/check_translations.py lists what to do.
GETTEXT := _build/gettext
translations: $(STAMP)
	rm -rf $(GETTEXT)
	$(BIN)/jupyter-book build . --builder custom --custom-builder gettext --path-output $(GETTEXT) $(JB_FLAGS)
	$(BIN)/sphinx-intl update --pot-dir $(GETTEXT)/_build/gettext --locale-dir locale --language zh_CN \
	  --no-obsolete
	$(BIN)/python tools/figures_zh.py build
	$(BIN)/python tools/figures_zh.py update
	$(BIN)/python tools/check_translations.py --pot-dir $(GETTEXT)/_build/gettext | tail -n 20 || true

book: html
	@echo
	@echo "Open file://$(CURDIR)/$(HTML)/index.html"

# pytest exits 5 when it collected nothing; we always have tests, so that is an error, said out loud.
test: html
	status=0; $(BIN)/pytest tests book $(NBVAL_FLAGS) $(XDIST_FLAGS) --ignore=tests/compare --ignore=tests/lab \
	  || status=$$?; \
	if [ $$status -eq 5 ]; then echo "ERROR: pytest collected no tests" >&2; exit 1; fi; \
	exit $$status

SINGLEHTML := _build/singlehtml
PDF        := _build/pdf/book.pdf

# The whole book as one PDF (A4, a contents list, typeset math, figures, page numbers, bookmarks): the
# single-page HTML build, printed by the headless Chromium of the browser tests (tools/print_pdf.py). Then the
# website is built again, so that every page's header links the PDF (tools/book_downloads.py).
pdf: $(STAMP)
	$(BIN)/jupyter-book build . --builder singlehtml $(JB_FLAGS)
	$(BIN)/python tools/print_pdf.py $(SINGLEHTML) $(PDF)
	$(MAKE) --no-print-directory html

# About two minutes (most of it Chromium typesetting and printing ~200 pages), so not part of `make test`.
test-pdf: pdf
	status=0; MINIGRAD_REQUIRE_PDF=1 $(BIN)/pytest tests/test_pdf.py -p no:cacheprovider || status=$$?; \
	if [ $$status -eq 5 ]; then echo "ERROR: pytest collected no tests" >&2; exit 1; fi; \
	exit $$status

# PyTorch, Keras and JAX are test-only dependencies (the `compare` extra): only this target installs and needs
# them, every package pinned by constraints-compare.txt (written by `make lock`).
COMPARE_STAMP := $(VENV)/.stamp-compare

$(COMPARE_STAMP): $(STAMP) pyproject.toml constraints-compare.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[compare]' -c constraints-compare.txt
	touch $@

# minigrad against PyTorch (CPU): values and gradients on edge values, every dtype and axis spelling; and the
# book's programs (PyTorch, Keras on JAX, JAX), each run with a time limit and compared with its recorded output.
test-compare: $(COMPARE_STAMP)
	status=0; $(BIN)/pytest tests/compare || status=$$?; \
	if [ $$status -eq 5 ]; then echo "ERROR: pytest collected no tests" >&2; exit 1; fi; \
	exit $$status

test-portable: $(STAMP)
	seen=" "; for cpu in $(PORTABLE_CPUS); do \
	  export NPY_DISABLE_CPU_FEATURES=$${cpu%%:*}; \
	  if [ "$(PORTABLE_OPENBLAS)" = 1 ]; then export OPENBLAS_CORETYPE=$${cpu##*:}; \
	  elif [[ "$$seen" == *" $$NPY_DISABLE_CPU_FEATURES "* ]]; then continue; fi; \
	  seen="$$seen$$NPY_DISABLE_CPU_FEATURES "; \
	  echo "== NPY_DISABLE_CPU_FEATURES=$$NPY_DISABLE_CPU_FEATURES OPENBLAS_CORETYPE=$${OPENBLAS_CORETYPE:-(not set)}"; \
	  $(BIN)/python -c "$$CHECK_NUMPY_DISPATCH"; \
	  $(BIN)/pytest book $(NBVAL_FLAGS) $(XDIST_FLAGS) -p no:cacheprovider -q; \
	done

# Jupyter refuses to start as root without --allow-root (containers and CI machines run as root).
# LAB_FLAGS: more options for jupyter lab (tests/lab starts it with a free --port and a known token).
lab: $(STAMP)
	$(BIN)/jupyter lab --ip=127.0.0.1 --no-browser --notebook-dir=book \
	  $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_FLAGS)

# Every chapter opened in `make lab` by headless Chromium: no raw MyST, solutions collapsed, math typeset, the
# listings of minigrad's code shown (two to three minutes, so not part of `make test`).
test-lab: $(STAMP)
	$(BIN)/pytest tests/lab -p no:cacheprovider

serve:
	@test -f $(HTML)/index.html || { echo "No $(HTML)/index.html: run 'make book' first." >&2; exit 1; }
	$(BIN)/python -m http.server 8000 --bind 127.0.0.1 --directory $(HTML)

# One nbconvert run per notebook, exactly the command in the team notes, so a failure names its notebook.
notebooks: $(STAMP)
	@test -n "$(strip $(NOTEBOOKS))" || { echo "No notebooks in book/." >&2; exit 1; }
	for nb in $(NOTEBOOKS); do \
	  $(BIN)/jupyter nbconvert --to notebook --execute --inplace \
	    --ExecutePreprocessor.timeout=600 --ExecutePreprocessor.record_timing=False "$$nb"; \
	done

bench: $(STAMP)
	$(BIN)/python benchmarks/sequence_loss.py

clean:
	rm -rf _build

FORCE:
