# Quickstart:  make run   (set up if needed, execute every notebook, write runs/latest/index.html)
#              make test  (set up if needed, unit tests + every notebook in smoke mode)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
KERNEL := research-toolkit
# CUDA users: make env TORCH_INDEX=https://download.pytorch.org/whl/cu128 (any index with torch 2.13.0)
TORCH_INDEX ?=
# make run SMOKE=1 NB="00 01" ARGS="-p seed=1"
SMOKE ?=
NB ?=
ARGS ?=
PYTEST_ARGS ?=

.PHONY: env kernel run test lab lint browser zoo baselines course bench bench-gpu

env: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "torch==2.13.0" $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(MAKE) kernel
	touch $@

kernel:
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python ($(KERNEL))"

run: env
	$(BIN)/python -m toolkit run $(if $(SMOKE),--smoke) $(foreach n,$(NB),-k $(n)) $(ARGS)

test: env browser
	@$(BIN)/python -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "error: pytest collected no tests (exit code 5)"; fi; exit $$rc

lab: env
	$(BIN)/jupyter lab

lint: env
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

zoo: env
	$(BIN)/python -m toolkit zoo build

# course-build/{student,autograder,teacher,site}: smoke-runs only notebooks without a run in runs/
course: env
	$(BIN)/python -m toolkit course build

# Benchmarks print tables and write benchmarks/results/ (make bench NAMES=kernels ARGS=--smoke);
# then python -m benchmarks.tables --readme README.md rewrites the README's tables.
NAMES ?=
bench: env
	$(BIN)/python -m benchmarks $(NAMES) $(ARGS)

# The GPU suite (CUDA required; sized for under 5 minutes on one GPU):
# results in benchmarks/results/<name>-gpu.json.
bench-gpu: env
	$(BIN)/python -m benchmarks --gpu $(NAMES) $(ARGS)

# Rewrite tests/notebooks/baselines/ from fresh smoke runs (make baselines NB="00 03"); review the diff.
baselines: env
	$(BIN)/python -m toolkit baselines update $(foreach n,$(NB),-k $(n))

# Debian's Chromium drives the widget browser tests (no browser download is needed).
browser:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else echo "note: /usr/bin/chromium is missing: sudo apt-get install chromium"; fi; }
