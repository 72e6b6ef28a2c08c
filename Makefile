# theorylab: the two commands a new user needs.
#   make demo   set up .venv, install, run every study's quick preset -> report/index.html
#   make test   set up .venv with the dev tools, lint, run the test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
OUT ?= report

.PHONY: demo test lint docs install install-dev browser datasets bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

# torchattacks 3.5.1 with --no-deps: its dependencies would pull a CUDA torch and torchvision
install-dev: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev,dask,torch]'
	$(BIN)/pip install --quiet --no-deps torchattacks==3.5.1

# headless Chromium for the report test (Debian packages); skipped when not root
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
	  (apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1 || \
	   (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1)) \
	  || echo "warning: could not install chromium; the browser test will be skipped"; \
	else echo "note: run 'sudo apt-get install chromium chromium-driver' to enable the browser test"; fi

# Fashion-MNIST from Debian's dataset-fashion-mnist (the pixel_regularizer and adaptive_kernels
# full presets); skipped when not root, the loader then says how to get it
datasets:
	@if [ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
	  (apt-get install -y -qq dataset-fashion-mnist >/dev/null 2>&1 || \
	   (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq dataset-fashion-mnist >/dev/null 2>&1)) \
	  || echo "warning: could not install dataset-fashion-mnist; tests that need it will be skipped"; \
	else echo "note: run 'sudo apt-get install dataset-fashion-mnist' for the Fashion-MNIST experiments"; fi

demo: install
	$(BIN)/theorylab reproduce --preset quick --out $(OUT)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# the documentation site (MkDocs + Material + mkdocstrings) -> site/index.html; --strict:
# a broken link or a missing API reference fails the build
docs: install-dev
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

test: install-dev browser datasets lint docs
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 $(BIN)/python -m pytest -q -n 2 --dist loadgroup

# every benchmarks/bench_*.py, their tables collected in benchmarks/results.md
bench: install-dev
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) $(OUT) runs .pytest_cache .ruff_cache
