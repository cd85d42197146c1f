"""Self-checks of the distillation notebooks, in teaching order: 03 (the soft-target loss, the share
of the gap closed), 04 (DistilBERT's layers, the loss of a batch with cached teacher logits), 05 (one
distillation step free of the pitfalls), 06 (the masked token-level loss of a causal LM), 07 (the bytes of a
teacher store)."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ..distill.losses import soft_target_loss
from .core import Check, _call, _close, _not_attempted


# --- notebook 03: the soft-target loss ---------------------------------------------------------

def check_soft_target_loss(fn) -> Check:
    """Exercise: write `fn(student_logits, teacher_logits, T)` returning T^2 * KL(teacher || student)
    per sample. The hint recognises the missing T^2, 'mean' instead of 'batchmean', probabilities
    instead of log-probabilities, and the swapped KL direction."""
    if (missing := _not_attempted(fn)) is not None:
        return missing
    g = torch.Generator().manual_seed(0)
    s, t = torch.randn(8, 10, generator=g) * 2, torch.randn(8, 10, generator=g) * 3
    for T in (1.0, 4.0):
        got, error = _call(fn, s, t, T)
        if error is not None:
            return error
        if not torch.is_tensor(got) or got.numel() != 1:
            return Check(False, "return one scalar tensor: the loss averaged over the batch.")
        want = soft_target_loss(s, t, T)
        if _close(got, want):
            continue
        p_t = F.softmax(t / T, -1)
        log_p_s = F.log_softmax(s / T, -1)
        kl = F.kl_div(log_p_s, p_t, reduction="batchmean")
        if _close(got, kl) and T != 1:
            return Check(False, f"at T={T:g} your loss is T^2 = {T**2:g} times too small: multiply by T**2 "
                                "so the soft-target gradients keep their size as T grows.")
        if _close(got, want / s.shape[-1]):
            return Check(False, "your loss is divided by the number of classes too: "
                                "reduction='mean' averages over every element; use reduction='batchmean'.")
        if _close(got, F.kl_div(F.softmax(s / T, -1), p_t, reduction="batchmean") * T**2):
            return Check(False, "F.kl_div expects the student's LOG-probabilities as its first argument "
                                "(log_softmax), not probabilities.")
        swapped = F.kl_div(F.log_softmax(t / T, -1), F.softmax(s / T, -1), reduction="batchmean") * T**2
        if _close(got, swapped):
            return Check(False, "the KL direction is swapped: the teacher's distribution is the target "
                                "(second argument of F.kl_div), the student's the input.")
        return Check(False, f"at T={T:g} the value differs from the expected loss: check the temperature "
                            "divides both sets of logits before the softmax.")
    return Check(True, "your soft-target loss matches kdcourse.soft_target_loss at T=1 and T=4.")


def check_gap_closed(fn) -> Check:
    """Exercise: write `fn(alone_errors, distilled_errors, teacher_errors)` giving the share of the
    student-teacher gap that distillation closed (1.0 = the student reached the teacher)."""
    if (missing := _not_attempted(fn)) is not None:
        return missing
    cases = [((200, 150, 100), 0.5), ((120, 120, 90), 0.0), ((150, 160, 100), -0.2)]
    for args, want in cases:
        got, error = _call(fn, *args)
        if error is not None:
            return error
        if got is None or not _close(got, want):
            return Check(False, f"for alone={args[0]}, distilled={args[1]}, teacher={args[2]} expected a "
                                "share between the two reference points; divide the improvement "
                                "(alone - distilled) by the whole gap (alone - teacher).")
    return Check(True, "gap closed is computed right, including the case where distillation hurt (< 0).")


# --- notebook 04: the student's layers ----------------------------------------------------------

def check_distilbert_layers(layers) -> Check:
    """Exercise: which teacher layers does DistilBERT copy to build its 6-layer student from the
    12-layer bert-base?"""
    if (missing := _not_attempted(layers)) is not None:
        return missing
    chosen = tuple(sorted(int(i) for i in layers))
    if chosen in ((0, 2, 4, 6, 8, 10), (0, 2, 4, 7, 9, 11)):
        return Check(True, "the paper says 'one layer out of two': (0, 2, 4, 6, 8, 10). The released "
                           "extraction script actually copies (0, 2, 4, 7, 9, 11), keeping the top layer.")
    if len(chosen) != 6:
        return Check(False, "DistilBERT halves the depth: the student has 6 layers.")
    if chosen == tuple(range(6)):
        return Check(False, "the first six layers only keep the bottom of the network; DistilBERT "
                            "spreads its picks over the whole depth.")
    return Check(False, "six layers, spread evenly over the teacher's depth, starting from the first.")


# --- notebook 04: the loss of one batch, with cached teacher logits -----------------------------

class _TinyClassifier(torch.nn.Module):
    """Stands in for a transformers classifier: keyword inputs in, an output with `.logits` out; like
    the real ones it refuses keyword arguments it does not know (such as an index column)."""

    def __init__(self):
        super().__init__()
        with torch.random.fork_rng():
            torch.manual_seed(0)
            self.embed, self.head = torch.nn.EmbeddingBag(30, 8), torch.nn.Linear(8, 2)

    def forward(self, input_ids, attention_mask=None, labels=None):
        from types import SimpleNamespace

        logits = self.head(self.embed(input_ids))
        return SimpleNamespace(logits=logits, loss=None if labels is None else F.cross_entropy(logits, labels))


def check_cached_compute_loss(fn) -> Check:
    """Exercise: write `fn(student, inputs, cached_teacher_logits, T, alpha)`, the loss of one batch when
    the teacher's logits were cached once per training example: `inputs` holds input_ids,
    attention_mask, labels and `kd_index` (each example's row in the cache)."""
    from ..distill.losses import distillation_loss

    if (missing := _not_attempted(fn)) is not None:
        return missing
    g = torch.Generator().manual_seed(2)
    cache = 3 * torch.randn(20, 2, generator=g)
    inputs = {"input_ids": torch.randint(0, 30, (6, 5), generator=g), "attention_mask": torch.ones(6, 5, dtype=torch.long),
              "labels": torch.tensor([0, 1, 1, 0, 1, 0]), "kd_index": torch.tensor([7, 3, 15, 0, 12, 9])}
    T, alpha = 2.0, 0.5
    student = _TinyClassifier()
    got, error = _call(fn, student, dict(inputs), cache, T, alpha)
    if error is not None:
        if "kd_index" in error.message:
            return Check(False, "the student refuses the `kd_index` column: take it out of the inputs (inputs.pop) "
                                "before calling the model, and use it to pick the cached rows.")
        return error
    if not torch.is_tensor(got) or got.numel() != 1:
        return Check(False, "return one scalar tensor: the loss of the batch.")
    if not got.requires_grad:
        return Check(False, "the loss carries no gradient: compute the student's logits with gradients on.")
    s = student(inputs["input_ids"], inputs["attention_mask"]).logits
    t, y = cache[inputs["kd_index"]], inputs["labels"]
    if _close(got, distillation_loss(s, t, y, T, alpha)):
        return Check(True, "rows picked by example index, T² on the soft term: the loss of "
                           "kd.distill.DistillationTrainer.compute_loss with cached logits.")
    if _close(got, distillation_loss(s, cache[:len(y)], y, T, alpha)):
        return Check(False, "you used the first rows of the cache: the batch's examples are shuffled, so "
                            "pick the rows named by inputs['kd_index'].")
    soft = F.kl_div(F.log_softmax(s / T, -1), F.softmax(t / T, -1), reduction="batchmean")
    hard = F.cross_entropy(s, y)
    if _close(got, alpha * soft + (1 - alpha) * hard):
        return Check(False, "the soft term needs the factor T**2, so its gradients keep their size as T grows.")
    if _close(got, (1 - alpha) * soft * T**2 + alpha * hard):
        return Check(False, "alpha weighs the teacher's soft targets and (1 - alpha) the labels: swap them.")
    return Check(False, "the value differs: alpha · T² · KL(teacher ‖ student at T) + (1 − alpha) · "
                        "cross-entropy with the labels, with the teacher's rows picked by inputs['kd_index'].")


# --- notebook 05: one distillation step, free of the notebook's bugs ------------------------------

def check_distillation_step(fn) -> Check:
    """Exercise: write `fn(student, teacher, x, y, optimizer, T, alpha)`: one training step of the student
    that avoids notebook 05's bugs (teacher in eval mode and without gradients, gradients zeroed, T²),
    returning the loss before the step. The teacher arrives in training mode, with dropout."""
    import copy

    from ..distill.losses import distillation_loss

    if (missing := _not_attempted(fn)) is not None:
        return missing
    with torch.random.fork_rng():
        torch.manual_seed(3)
        teacher = torch.nn.Sequential(torch.nn.Linear(6, 32), torch.nn.ReLU(), torch.nn.Dropout(0.5),
                                      torch.nn.Linear(32, 4)).train()  # handed over in training mode
        student = torch.nn.Linear(6, 4)
        x, y = torch.randn(16, 6), torch.randint(0, 4, (16,))
    T, alpha, lr = 4.0, 0.7, 0.5
    expected = copy.deepcopy(student)
    with torch.no_grad():
        t = copy.deepcopy(teacher).eval()(x)
    want = distillation_loss(expected(x), t, y, T, alpha)
    want.backward()
    with torch.no_grad():
        for p in expected.parameters():
            p -= lr * p.grad
    before = copy.deepcopy(student)
    grad_on = []  # was autograd recording while the teacher ran?
    teacher.register_forward_hook(lambda *_: grad_on.append(torch.is_grad_enabled()))
    for p in student.parameters():
        p.grad = torch.ones_like(p)  # a gradient left over from the previous step
    got, error = _call(fn, student, teacher, x, y, torch.optim.SGD(student.parameters(), lr=lr), T, alpha)
    if error is not None:
        return error
    if any(grad_on) or any(p.grad is not None for p in teacher.parameters()):
        return Check(False, "the teacher ran with gradients on (autograd kept its activations, and could train "
                            "it): compute its logits under torch.no_grad().")
    if got is None or not _close(got, want, 1e-3):
        if teacher.training:
            return Check(False, "the teacher is still in training mode, so dropout changes its logits: "
                                "call teacher.eval() before asking it for targets.")
        return Check(False, "the returned loss is not alpha · T² · KL + (1 − alpha) · CE of this batch, "
                            "computed before the step (check the T² factor).")
    moved = [(a - b).abs().max().item() for a, b in zip(student.parameters(), before.parameters())]
    if max(moved) == 0:
        return Check(False, "the student did not change: call loss.backward() and optimizer.step().")
    if all(torch.allclose(a, b, atol=1e-5) for a, b in zip(student.parameters(), expected.parameters())):
        return Check(True, "teacher in eval mode without gradients, gradients zeroed, T² in the loss: "
                           "a clean step.")
    stale = all(torch.allclose(a, b - lr, atol=1e-5) for a, b in zip(student.parameters(), expected.parameters()))
    if stale:
        return Check(False, "the step used a gradient left over from the previous step: call "
                            "optimizer.zero_grad() before loss.backward().")
    return Check(False, "the student's new weights differ from one optimizer step on this loss.")


# --- notebook 06: the masked token-level distillation loss of a causal LM -------------------------

def check_token_kd_loss(fn) -> Check:
    """Exercise: write `fn(student_logits, teacher_logits, attention_mask, T)`: T^2 * KL(teacher || student)
    between next-token distributions, averaged over the real positions (the position and the token it
    predicts both real). The hint recognises padding left in, the missing shift, a per-sequence mean, a
    division by the batch size, 'mean' over the vocabulary, the missing T^2 and the swapped direction."""
    from ..distill.lm_losses import token_kd_loss
    from ..distill.losses import kl_per_row

    if (missing := _not_attempted(fn)) is not None:
        return missing
    g = torch.Generator().manual_seed(3)
    s, t = 2 * torch.randn(3, 6, 7, generator=g), 3 * torch.randn(3, 6, 7, generator=g)
    mask = torch.tensor([[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0], [1, 1, 0, 0, 0, 0]])  # right padding
    for T in (1.0, 2.0):
        got, error = _call(fn, s, t, mask, T)
        if error is not None:
            return error
        if not torch.is_tensor(got) or got.numel() != 1:
            return Check(False, "return one scalar tensor: the loss averaged over the real positions.")
        want = token_kd_loss(s, t, mask, temperature=T)
        if _close(got, want):
            continue
        kl = kl_per_row(F.log_softmax(t / T, -1), F.log_softmax(s / T, -1))  # [3, 6], unshifted
        shifted, real = kl[:, :-1], (mask[:, :-1] * mask[:, 1:]).bool()
        if _close(got, shifted.mean() * T**2) or _close(got, kl.mean() * T**2):
            return Check(False, "the padding positions are in your mean: average over the positions whose token "
                                "and next token are both real (attention_mask at i and at i+1).")
        if _close(got, kl[mask.bool()].mean() * T**2):
            return Check(False, "the last real token of each sequence predicts padding: shift by one, keeping "
                                "position i only when the token i+1 it predicts is real too.")
        per_sequence = torch.stack([shifted[b][real[b]].mean() for b in range(len(s))]).mean() * T**2
        if _close(got, per_sequence):
            return Check(False, "you averaged each sequence, then the sequences: a short sequence then weighs as "
                                "much as a long one. Sum over all real positions and divide by their number.")
        if _close(got, shifted[real].sum() * T**2 / len(s)):
            return Check(False, "you divided by the batch size (what reduction='batchmean' does with [batch, time, "
                                "vocab] logits): divide by the number of real positions instead, or the loss grows "
                                "with the length of the sequences and shrinks with their padding.")
        if _close(got, want / s.shape[-1]):
            return Check(False, "your loss is divided by the vocabulary size too: sum the KL over the vocabulary "
                                "(the 'batchmean' rule), then average over positions.")
        if T != 1 and _close(got, want / T**2):
            return Check(False, f"at T={T:g} your loss is T^2 = {T**2:g} times too small: multiply by T**2.")
        swapped = kl_per_row(F.log_softmax(s / T, -1), F.log_softmax(t / T, -1))[:, :-1]
        if _close(got, swapped[real].mean() * T**2):
            return Check(False, "that is the reverse KL(student || teacher); this exercise asks for the forward "
                                "KL(teacher || student), the teacher's distribution as the target.")
        return Check(False, f"at T={T:g} the value differs: log_softmax of both logits divided by T, the KL "
                            "summed over the vocabulary, averaged over the real predicting positions, times T**2.")
    return Check(True, "your masked token-level loss matches kd.distill.token_kd_loss at T=1 and T=2.")


# --- notebook 07: what a store of the teacher costs ----------------------------------------------

def check_store_bytes(fn) -> Check:
    """Exercise: write `fn(k, vocab_size, scheme)`, the bytes one position of a store takes as the course keeps it:
    "top-k + tail" (fp16 values, ids, an fp32 tail), "top-k renormalised" (no tail) or "sampled" (ids and counts
    of k draws). The reference is what the stores themselves take (`nbytes()`), so the check cannot drift from them."""
    from ..distill.sampled import sample_teacher
    from ..distill.topk import compress_topk

    if (missing := _not_attempted(fn)) is not None:
        return missing
    for vocab, k, scheme in ((200, 8, "top-k + tail"), (49_152, 256, "top-k + tail"), (49_152, 256, "top-k renormalised"),
                             (49_152, 16, "sampled"), (49_152, 255, "sampled"), (49_152, 256, "sampled"),
                             (49_152, 1024, "sampled"), (70_000, 64, "top-k + tail")):
        logits = torch.randn(2, vocab, generator=torch.Generator().manual_seed(0))
        if scheme == "sampled":
            want = sample_teacher(logits, k, 1.0, torch.Generator().manual_seed(0)).nbytes() / 2
        else:
            store = compress_topk(logits, k, 1.0)
            want = (store.nbytes() - (store.tail.nbytes if scheme == "top-k renormalised" else 0)) / 2
        got, error = _call(fn, k, vocab, scheme)
        if error is not None:
            return error
        if got is None or not _close(got, want):
            hint = {"top-k + tail": "k fp16 values (2 bytes), k ids and one fp32 tail (4 bytes)",
                    "top-k renormalised": "k fp16 values and k ids, no tail",
                    "sampled": "k ids and k counts: a count of up to 255 draws fits one byte, up to 32,767 two"}[scheme]
            return Check(False, f"{scheme}, k = {k}, a vocabulary of {vocab:,}: expected {want:g} bytes, got {got}. "
                                f"It holds {hint}; an id takes the smallest integer type that holds the vocabulary "
                                f"(kd.distill.index_dtype).")
    return Check(True, "your byte counts match what the stores take, for every scheme and vocabulary size tried.")
