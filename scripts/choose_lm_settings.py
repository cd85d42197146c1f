"""Choose notebook 06's top-k size k and loss weight alpha on validation speeches, never on the held-out ones.

Every tenth speech is the notebook's test set (kd.load_speeches("test")). The training speeches split once more,
as everywhere in the course: every fifth of them is validation (kd.load_speeches("validation"), the rest "fit").
Students are trained exactly as in notebook 06 (same student, steps, batch size, learning rate and number of
training blocks, drawn from the "fit" speeches) and scored on blocks spread over the validation speeches. The
grid and its scores are written to data/lm_settings_search.json, which notebook 06 prints; the profile's k and
alpha must equal the choice (tests/test_profiles.py checks it).

    KDCOURSE_PROFILE=cpu OMP_NUM_THREADS=2 python scripts/choose_lm_settings.py    # about 15 minutes on 2 cores
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import torch

import kdcourse as kd

GRID = [(None, None), (256, 0.5), (256, 1.0), (1024, 0.25), (1024, 0.5), (1024, 1.0)]  # (k, alpha); None: plain
OUT = Path(__file__).resolve().parent.parent / "data" / "lm_settings_search.json"


def main() -> None:
    P = kd.profile()
    C = P.lm_distillation
    teacher, tok = kd.models.load_lm_teacher(P)
    validation = kd.load_speeches("validation", P)
    pool = [par for passages in kd.load_speeches("fit", P).values() for par in passages]
    blocks = kd.lm.pack_blocks(pool, tok, C.block_size, kind="clm")
    chosen = torch.randperm(len(blocks), generator=torch.Generator().manual_seed(P.seed))[: C.train_blocks]
    train = blocks[chosen]
    val_blocks, _ = kd.lm.spread_blocks(validation, tok, C.block_size, C.eval_blocks)
    layers = kd.distill.spread_layers(teacher, C.student_layers)
    caches, rows = {}, []
    for k, alpha in GRID:
        if k is not None and k not in caches:
            caches[k] = kd.distill.cache_teacher_topk(teacher, train, k, C.temperature, desc=f"teacher top-{k}")
        student = kd.distill.make_student(teacher, layers)
        start = time.perf_counter()
        kd.distill.train_causal_student(
            student, train, steps=C.steps, batch_size=C.batch_size, learning_rate=C.learning_rate, seed=P.seed,
            teacher=caches.get(k), temperature=None if k is None else C.temperature, alpha=1.0 if k is None else alpha,
            desc="plain" if k is None else f"k={k}, alpha={alpha}")
        scores = kd.distill.evaluate_next_token(student, val_blocks)
        rows.append({"k": k, "alpha": alpha, "validation loss": round(scores["loss"], 4),
                     "perplexity": round(scores["perplexity"], 1), "seconds": round(time.perf_counter() - start)})
        print(rows[-1], flush=True)
    best = min((r for r in rows if r["k"] is not None), key=lambda r: r["validation loss"])
    OUT.write_text(json.dumps({
        "what": "notebook 06's k and alpha, chosen on validation speeches (every fifth training speech)",
        "command": "KDCOURSE_PROFILE=cpu OMP_NUM_THREADS=2 python scripts/choose_lm_settings.py",
        "profile": P.name, "threads": torch.get_num_threads(), "seed": P.seed, "steps": C.steps,
        "train_blocks": len(train), "validation_blocks": len(val_blocks), "validation_speeches": list(validation),
        "rows": rows, "chosen": {"top_k": best["k"], "alpha": best["alpha"]}}, indent=1) + "\n")
    print(f"chosen: k = {best['k']}, alpha = {best['alpha']} -> {OUT.name}")


if __name__ == "__main__":
    main()
