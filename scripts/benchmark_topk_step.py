"""What a distillation step from a sparse teacher store costs against a plain next-token step (notebooks 06, 07).

The same student, batch and optimizer; four losses, timed in turn over whole training steps (forward, loss,
backward, AdamW):
- plain: the next-token loss alone;
- top-k, one pass: `kd.distill.topk_distillation_loss`, what `train_causal_student` uses;
- top-k, two losses: `topk_kd_loss` and `next_token_loss` computed apart (three passes over the vocabulary);
- sampled, one pass: `kd.distill.sampled_distillation_loss`, as many tokens drawn per position as top-k keeps.
A benchmark, not a test: timings depend on the machine, so it prints them side by side with the thread count.

    KDCOURSE_PROFILE=cpu OMP_NUM_THREADS=2 python scripts/benchmark_topk_step.py
"""
from __future__ import annotations

import statistics
import time

import torch

import kdcourse as kd


def main(repeats: int = 7) -> None:
    P = kd.profile()
    C = P.lm_distillation
    teacher, tok = kd.models.load_lm_teacher(P)
    blocks = kd.lm.pack_blocks(kd.load_corpus("train", P)[:400], tok, C.block_size, kind="clm")[: C.batch_size]
    store = kd.distill.cache_teacher_topk(teacher, blocks, C.top_k, C.temperature)
    drawn = kd.distill.cache_teacher_samples(teacher, blocks, C.top_k, C.temperature, seed=P.seed)
    student = kd.distill.make_student(teacher, kd.distill.spread_layers(teacher, C.student_layers))
    optimizer = torch.optim.AdamW(student.parameters(), lr=1e-6)
    ids = kd.loop.to_model(blocks, student)
    T, a = C.temperature, C.alpha
    losses = {
        "plain next-token loss": lambda z: kd.distill.next_token_loss(z, ids),
        "top-k + next-token, one pass": lambda z: kd.distill.topk_distillation_loss(z, ids, store, alpha=a,
                                                                                    temperature=T),
        "top-k + next-token, two losses": lambda z: (a * kd.distill.topk_kd_loss(z, store, temperature=T)
                                                     + (1 - a) * kd.distill.next_token_loss(z, ids)),
        "sampled + next-token, one pass": lambda z: kd.distill.sampled_distillation_loss(z, ids, drawn, alpha=a,
                                                                                         temperature=T),
    }
    times = {name: [] for name in losses}
    for i in range(repeats + 1):  # the losses take turns, so that a slow moment of the machine hits them all
        for name, loss in losses.items():
            start = time.perf_counter()
            optimizer.zero_grad(set_to_none=True)
            loss(student(input_ids=ids).logits).backward()
            optimizer.step()
            if i:  # the first round warms up and is not counted
                times[name].append(time.perf_counter() - start)
    seconds = {name: statistics.median(t) for name, t in times.items()}
    plain = seconds["plain next-token loss"]
    print(f"{P.name} profile: batch {C.batch_size} x {C.block_size} tokens, k = {C.top_k}, vocabulary {len(tok):,}, "
          f"{torch.get_num_threads()} threads, {kd.device.device()}; median of {repeats} steps")
    for name, s in seconds.items():
        print(f"  {name:32s} {s:6.3f} s a step   {s / plain - 1:+6.1%} against plain")


if __name__ == "__main__":
    main()
