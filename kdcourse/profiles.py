"""The run profiles of the course: one code path, three sizes.

`profile()` reads KDCOURSE_PROFILE and returns a frozen config; a notebook calls it once (`P = kd.profile()`)
and hands P, or its part, to the helpers that need it. Notebooks never branch on the profile name; they read
sizes and asset names from it, so `smoke` (CI), `cpu` (a laptop) and `gpu` (Colab) run the very same cells.
The `cpu` profile is the base, one part per notebook; every other profile states only its changes.
Taught in notebook 00.

Two more profiles serve the `gpu` one: `gpu-offline` is what `gpu` becomes when the Hugging Face
hub (or a cached copy of every model it names) cannot be reached: the offline assets, at sizes
that fit them and a GPU. `rehearsal` is the `gpu` profile's code path (hub ids, a 12-layer
teacher) at `smoke` sizes, run in CI on tiny random models saved under the real hub ids
(`python -m kdcourse.rehearsal`).
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field, replace

from .hub import SST2_REPO  # GLUE on the Hugging Face hub (a dataset repository)
from .profile_parts import (DistillationConfig, FinetuneConfig, LMDistillationConfig, LMStoresConfig, MnistConfig,
                            PairsConfig, PretrainConfig)


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    seed: int
    encoder: str  # hub id, or "offline" for the packaged all-MiniLM-L6-v2
    student_encoder: str  # hub id of a ready-made student ("" = build with make_student)
    causal_lm: str  # hub id, or "offline" for the packaged SmolLM2-135M
    lm_teacher: str  # notebook 06's teacher: hub id of a SmolLM2 (same tokenizer), or "offline" (SmolLM2-135M)
    sentiment: str  # "sst2" (hub) or "rotten_tomatoes" (data/)
    pair_task: str  # notebook 02's sentence pairs: "mrpc" (GLUE MRPC, hub) or "next_sentence" (the speeches, data/)
    mnist: MnistConfig
    pretrain: PretrainConfig
    finetune: FinetuneConfig
    pairs: PairsConfig
    distillation: DistillationConfig
    lm_distillation: LMDistillationConfig
    lm_stores: LMStoresConfig
    conclusive: bool = True  # sizes large enough for the notebooks' verdicts (False: they say so instead)
    fallback: str = ""  # the profile used when a hub asset of this one is unreachable ("" = none)
    notes: tuple[str, ...] = field(default=())

    def hub_assets(self) -> list[tuple[str, str]]:
        """(repository id, 'model' or 'dataset') of everything this profile loads from the hub."""
        models = [(r, "model") for r in (self.encoder, self.student_encoder, self.causal_lm, self.lm_teacher)
                  if r not in ("", "offline")]
        glue = self.sentiment == "sst2" or self.pair_task == "mrpc"  # one repository holds both tasks
        return models + ([(SST2_REPO, "dataset")] if glue else [])

    def __str__(self) -> str:
        """The profile as notebooks print it: one field a line, a part's settings wrapped at 116 characters so
        that a stored output reads without scrolling on a web page."""
        lines = [f"Profile '{self.name}': {self.description}"]
        for f in dataclasses.fields(self):
            if f.name in ("name", "description", "notes", "fallback"):
                continue
            value = getattr(self, f.name)
            if dataclasses.is_dataclass(value):
                line = f"  {f.name:16s}"
                for k, v in dataclasses.asdict(value).items():  # wrapped between settings, never inside one
                    if len(line) + len(f" {k}={v},") > 116:
                        lines.append(line)
                        line = " " * 18
                    line += f" {k}={v},"
                lines.append(line.rstrip(","))
            else:
                lines.append(f"  {f.name:16s} {value}")
        return "\n".join(lines)


# Notebook 06's teacher in `gpu`: SmolLM2's 360M model, with the tokenizer of the packaged SmolLM2-135M.
SMOLLM2_TEACHER = "HuggingFaceTB/SmolLM2-360M-Instruct"

# --- the `cpu` profile, one part per notebook: the base every other profile states its changes to -------------
MNIST = MnistConfig(train_size=None, test_size=None, teacher_epochs=5, student_epochs=15, sweep_epochs=15,
                    hinton_epochs=10, hinton_teacher_epochs=30, validation_size=5000, copies=8, patient_epochs=40,
                    batch_size=128, seeds=(0, 1, 2))
PRETRAIN = PretrainConfig(corpus_chars=None, max_length=64, steps=500, batch_size=16, head_sequences=8000)
FINETUNE = FinetuneConfig(train_size=None, eval_size=None, max_length=64, epochs=2, batch_size=32,
                          learning_rate=1e-4, head_learning_rate=1e-2, lr_demo_size=2000, seeds=(0, 1, 2))
# 2,000 training pairs, 500 to choose the epoch, the frozen and the full way 3 seeds each: 02 within 40 min on 2
# cores; max_length 96 (it cuts about 2 % of the pairs) keeps 02 under 4 GiB: at 128 a run of the full way peaked
# 0.6 GiB higher (the longest batch, 32 pairs of up to 131 tokens, sets the activation memory)
PAIRS = PairsConfig(train_size=2000, eval_size=500, test_size=None, max_length=96)
DISTILLATION = DistillationConfig(epochs=1, batch_size=32, learning_rate=1e-4, temperature=2.0, alpha=0.5,
                                  general_steps=100, seeds=(0, 1, 2), transfer_copies=1, few_labels=(250, 1000),
                                  few_label_steps=120, few_label_pool=4000,
                                  pool_sizes=(1000, 4000, 7000))  # < 40 min on 2 cores (kd.budget)
# One student run is 56 steps: one pass over 448 training blocks, every block seen once, so that the notebook
# stays under 30 minutes on 2 threads. k and alpha were chosen on validation speeches at these very sizes by
# scripts/choose_lm_settings.py (data/lm_settings_search.json; tests/test_profiles.py keeps them equal).
LM_DISTILLATION = LMDistillationConfig(student_layers=6, block_size=64, train_blocks=448, eval_blocks=128, steps=56,
                                       batch_size=8, learning_rate=3e-4, temperature=1.0, top_k=1024,
                                       seeds=(0, 1, 2), generate_batch_size=64, on_policy_steps=20)
# Notebook 07: 18 student runs (plain, full logits, two k of two stores, 3 seeds) of 40 steps, one pass over 320
# blocks, so that 07 stays under 40 minutes on 2 threads (kd.budget); k = 16 and 256 for both stores, fixed here
# before any score (256: the tokens Gemma 3 samples per position).
LM_STORES = LMStoresConfig(train_blocks=320, steps=40, validation_blocks=64, report_blocks=16, store_sizes=(16, 256),
                           report_sizes=(8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096))

CPU = Profile(name="cpu", description="A laptop CPU: real data and pretrained weights, minutes per notebook.",
              seed=0, encoder="offline", student_encoder="", causal_lm="offline", lm_teacher="offline",
              sentiment="rotten_tomatoes", pair_task="next_sentence", mnist=MNIST, pretrain=PRETRAIN,
              finetune=FINETUNE, pairs=PAIRS, distillation=DISTILLATION, lm_distillation=LM_DISTILLATION,
              lm_stores=LM_STORES)

# --- every other profile: its differences from `cpu` (or from the profile it serves) ----------------------------
SMOKE = replace(
    CPU, name="smoke", description="CI: tiny subsets that prove every cell runs; numbers mean nothing.",
    conclusive=False,
    mnist=replace(MNIST, train_size=2000, test_size=500, teacher_epochs=1, student_epochs=1, sweep_epochs=1,
                  hinton_epochs=1, hinton_teacher_epochs=1, validation_size=200, copies=2, patient_epochs=2,
                  seeds=(0,), few_labels=(50,), few_label_teacher_steps=5, few_label_epochs=1),
    pretrain=replace(PRETRAIN, corpus_chars=60_000, max_length=32, steps=20, hidden_size=64, num_layers=1,
                     head_sequences=64, eval_sequences=32, eval_every=10, generate_tokens=8),
    finetune=replace(FINETUNE, train_size=128, eval_size=64, max_length=32, epochs=1, batch_size=16,
                     lr_demo_size=64, seeds=(0, 1)),
    pairs=replace(PAIRS, train_size=96, eval_size=48, test_size=48, max_length=48),
    distillation=replace(DISTILLATION, batch_size=16, general_steps=3, train_size=64, seeds=(0, 1),
                         general_batch_size=4, latency_runs=5, few_labels=(16,), few_label_steps=2,
                         few_label_pool=None, pool_sizes=(16, 32, None), other_domain_size=32),
    lm_distillation=replace(LM_DISTILLATION, student_layers=2, block_size=32, train_blocks=16, eval_blocks=4,
                            steps=2, batch_size=4, top_k=8, seeds=(0, 1), generate_tokens=8,
                            generate_batch_size=16, on_policy_steps=2, on_policy_batch_size=2,
                            on_policy_full_steps=2),
    lm_stores=replace(LM_STORES, train_blocks=16, steps=2, validation_blocks=4, report_blocks=2, store_sizes=(4, 8),
                      report_sizes=(4, 8, 64)))

GPU = replace(
    CPU, name="gpu", fallback="gpu-offline",
    description="A CUDA GPU (e.g. a free Colab T4): full-size models and data from the Hugging Face hub; "
                "without the hub, the gpu-offline profile.",
    encoder="bert-base-uncased", student_encoder="distilbert-base-uncased", causal_lm="gpt2",
    lm_teacher=SMOLLM2_TEACHER, sentiment="sst2", pair_task="mrpc",
    mnist=replace(MNIST, teacher_epochs=10, student_epochs=20, sweep_epochs=20, hinton_epochs=30,
                  hinton_teacher_epochs=60, copies=16, patient_epochs=100, batch_size=256),
    # the corpus holds about 4,200 training and 360 held-out blocks of 128 tokens
    pretrain=replace(PRETRAIN, max_length=128, steps=1000, batch_size=32, hidden_size=256, num_layers=4,
                     learning_rate=5e-4, head_sequences=4096, eval_every=100),
    finetune=replace(FINETUNE, max_length=128, learning_rate=2e-5, lr_demo_size=4000,
                     seeds=(0,)),  # a second seed would overrun a T4 session
    pairs=replace(PAIRS, train_size=None, eval_size=None),  # all of MRPC: 3,301 training pairs
    distillation=replace(DISTILLATION, learning_rate=5e-5, general_steps=300, train_size=7_500,
                         general_batch_size=32, few_labels=(250,), few_label_steps=150,
                         few_label_pool=3000, pool_sizes=(250, 1000, 3000)),  # a T4 in <= 25 estimated min (kd.budget)
    # a 32-layer, 960-wide teacher; 8 of its layers make a student about SmolLM2-135M's size
    lm_distillation=replace(LM_DISTILLATION, student_layers=8, block_size=128, train_blocks=4000, eval_blocks=256,
                            steps=450, batch_size=16, learning_rate=2e-4, generate_tokens=64,  # a T4 in <= 25 min
                            on_policy_steps=30, on_policy_batch_size=16, on_policy_full_steps=120),
    lm_stores=replace(LM_STORES, train_blocks=3072, steps=192, validation_blocks=128))  # a T4 in <= 25 min

# A GPU without the hub: the offline assets of the cpu profile, at the gpu profile's MNIST and pretraining
# sizes, with fine-tuning and distillation sized for the smaller offline encoder.
GPU_OFFLINE = replace(
    GPU, name="gpu-offline", fallback="",
    description="A CUDA GPU without the hub: the offline assets of the cpu profile, at sizes a GPU runs in minutes.",
    encoder="offline", student_encoder="", causal_lm="offline", lm_teacher="offline", sentiment="rotten_tomatoes",
    pair_task="next_sentence", finetune=replace(FINETUNE, epochs=3), pairs=replace(PAIRS, train_size=None),
    distillation=replace(DISTILLATION, general_steps=1000, general_batch_size=32, transfer_copies=2,
                         few_label_steps=150))

# The gpu code path (hub ids, a 12-layer teacher, SST-2) at smoke sizes, on tiny random models saved under
# those ids: CI rehearses the gpu profile offline with it.
REHEARSAL = replace(
    SMOKE, name="rehearsal",
    description="CI: the gpu profile's code path (hub ids, 12-layer teacher) on tiny random models saved "
                "under those ids (python -m kdcourse.rehearsal); numbers mean nothing.",
    encoder=GPU.encoder, student_encoder=GPU.student_encoder, causal_lm=GPU.causal_lm,
    lm_teacher=GPU.lm_teacher, sentiment=GPU.sentiment, pair_task=GPU.pair_task)

PROFILES = {p.name: p for p in (SMOKE, CPU, GPU, GPU_OFFLINE, REHEARSAL)}
PROFILE_NAMES = tuple(PROFILES)


def default_profile_name() -> str:
    """`gpu` when CUDA is available, else `cpu`."""
    import torch

    return "gpu" if torch.cuda.is_available() else "cpu"


def get_profile(name: str) -> Profile:
    """The profile called `name`; a ValueError listing the valid names otherwise."""
    key = name.strip().lower()
    if key not in PROFILES:
        raise ValueError(f"Unknown profile {name!r}. Valid profiles: {', '.join(PROFILE_NAMES)}. "
                         f"Set KDCOURSE_PROFILE to one of them (or unset it for the default).")
    return PROFILES[key]


def resolve(p: Profile) -> Profile:
    """`p` itself when every hub asset it names can be loaded (from the hub, or from a pre-filled
    Hugging Face cache when HF_HUB_OFFLINE=1); otherwise its fallback, with one printed line."""
    from .hub import hub_has

    missing = [repo for repo, kind in p.hub_assets() if not hub_has(repo, repo_type=kind)]
    if not missing:
        return p
    if not p.fallback:
        from .assets import MissingAssetError

        raise MissingAssetError(
            f"Profile {p.name!r} needs {', '.join(missing)} from the Hugging Face hub, which is neither "
            f"reachable nor in the local cache. Connect to the hub, or for the CI rehearsal write tiny "
            f"models under those ids with `python -m kdcourse.rehearsal --output $HF_HOME/hub`.")
    print(f"Hugging Face hub unreachable (no copy of {', '.join(missing)}): using the {p.fallback!r} profile, "
          f"the offline assets at sizes that fit them.")
    return resolve(get_profile(p.fallback))


def profile(name: str | None = None, verbose: bool = True) -> Profile:
    """The profile to run with: `name`, else KDCOURSE_PROFILE, else the default (`gpu` with CUDA, `cpu`
    without), resolved against the hub. Printed when verbose, with the device and threads the outputs come
    from. A notebook calls it once (`P = kd.profile()`) and hands P, or its part, to every helper that needs it."""
    chosen = name or os.environ.get("KDCOURSE_PROFILE") or default_profile_name()
    p = resolve(get_profile(chosen))
    if verbose:
        from .device import describe

        print(p)
        print(f"  run on           {describe()}")  # how these outputs were produced: device and threads
    return p
