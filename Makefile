# The README's two commands. Each sets up .venv (a local virtual environment with gankit
# installed into it) when it is missing or older than pyproject.toml, then does its job.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: train test setup clean chromium notebooks notebooks-html

train: $(VENV)/.installed
	$(BIN)/gankit train

test: $(VENV)/.installed chromium
	$(BIN)/python -m pytest

# The course notebooks in Jupyter (the test extra installs the notebooks extra, Jupyter with it).
notebooks: $(VENV)/.installed
	$(BIN)/jupyter lab notebooks

# Run every notebook at its default settings and export it as HTML into docs/notebooks/.
notebooks-html: $(VENV)/.installed
	$(BIN)/python scripts/render_notebooks.py

# The browser tests (web explorer, run report) drive Debian's Chromium through Playwright.
# Installing it needs root and Debian's registry; where that fails the tests say so and skip.
chromium:
	@command -v chromium >/dev/null 2>&1 || \
	  (apt-get install -y -q chromium >/dev/null 2>&1 || \
	   (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1)) || \
	  echo "note: could not install Debian's chromium; the browser tests will be skipped"

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

clean:
	rm -rf $(VENV)
