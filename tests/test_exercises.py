"""The self-checks pass the reference solutions and give the right hint for the classic mistakes."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch.nn.functional as F

from kdcourse import exercises as ex

spec = importlib.util.spec_from_file_location(
    "solutions", Path(__file__).parent.parent / "solutions" / "exercise_solutions.py")
sol = importlib.util.module_from_spec(spec)
spec.loader.exec_module(sol)


def test_reference_solutions_pass():
    assert ex.check_soft_target_loss(sol.soft_target_loss)
    assert ex.check_gap_closed(sol.gap_closed)
    assert ex.check_clm_loss(sol.clm_loss)
    assert ex.check_perplexity(sol.perplexity(2.0), 2.0)
    assert ex.check_accuracy_from_logits(sol.accuracy_from_logits)
    assert ex.check_distilbert_layers(sol.DISTILBERT_LAYERS)


def test_unanswered_exercise_asks_for_an_answer():
    result = ex.check_soft_target_loss(None)
    assert not result and "no answer yet" in repr(result)


@pytest.mark.filterwarnings("ignore:reduction")  # the deliberate reduction="mean" bug makes torch warn
def test_soft_target_hints_name_the_bug():
    def no_t2(s, t, T):
        return F.kl_div(F.log_softmax(s / T, -1), F.softmax(t / T, -1), reduction="batchmean")

    def mean(s, t, T):
        return F.kl_div(F.log_softmax(s / T, -1), F.softmax(t / T, -1), reduction="mean") * T**2

    def probs(s, t, T):
        return F.kl_div(F.softmax(s / T, -1), F.softmax(t / T, -1), reduction="batchmean") * T**2

    def crash(s, t, T):
        raise RuntimeError("boom")

    assert "T**2" in repr(ex.check_soft_target_loss(no_t2))
    assert "batchmean" in repr(ex.check_soft_target_loss(mean))
    assert "LOG-probabilities" in repr(ex.check_soft_target_loss(probs))
    assert "RuntimeError: boom" in repr(ex.check_soft_target_loss(crash))


def test_other_hints():
    def unshifted(logits, ids):
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), ids.reshape(-1))

    assert "i+1" in repr(ex.check_clm_loss(unshifted))
    assert "nats" in repr(ex.check_perplexity(2 ** 2.0, 2.0))
    assert "percentage" in repr(ex.check_accuracy_from_logits(
        lambda l, y: 100 * float(np.mean(l.argmax(-1) == y))))
    assert "first six" in repr(ex.check_distilbert_layers(range(6)))
    assert ex.check_distilbert_layers((0, 2, 4, 7, 9, 11))  # what the released extraction script copies
    assert not ex.check_distilbert_layers((1, 3, 5, 7, 9, 11))
    assert not ex.check_gap_closed(lambda a, d, t: (a - d) / a)


def test_new_self_checks_pass_the_reference_and_name_the_mistake():
    import torch
    from kdcourse import distillation_loss

    assert ex.check_majority_baseline(sol.majority_baseline)
    assert "TEST labels" in repr(ex.check_majority_baseline(lambda tr, te: sol.majority_baseline(te, te)))
    assert "percentage" in repr(ex.check_majority_baseline(lambda tr, te: 100 * sol.majority_baseline(tr, te)))

    assert ex.check_cached_compute_loss(sol.cached_compute_loss)

    def first_rows(student, inputs, cache, T, alpha):
        inputs = dict(inputs)
        inputs.pop("kd_index")
        labels = inputs.pop("labels")
        return distillation_loss(student(**inputs).logits, cache[:len(labels)], labels, T, alpha)

    def keeps_idx(student, inputs, cache, T, alpha):
        return distillation_loss(student(**inputs).logits, cache[inputs["kd_index"]], inputs["labels"], T, alpha)

    assert "inputs['kd_index']" in repr(ex.check_cached_compute_loss(first_rows))
    assert "pop" in repr(ex.check_cached_compute_loss(keeps_idx))

    assert ex.check_distillation_step(sol.distillation_step)

    def train_mode_teacher(student, teacher, x, y, optimizer, T, alpha):
        with torch.no_grad():
            t = teacher(x)  # dropout still on
        loss = distillation_loss(student(x), t, y, T, alpha)
        optimizer.zero_grad(); loss.backward(); optimizer.step()
        return loss.item()

    def no_zero_grad(student, teacher, x, y, optimizer, T, alpha):
        teacher.eval()
        with torch.no_grad():
            t = teacher(x)
        loss = distillation_loss(student(x), t, y, T, alpha)
        loss.backward(); optimizer.step()
        return loss.item()

    def teacher_with_grad(student, teacher, x, y, optimizer, T, alpha):
        teacher.eval()
        loss = distillation_loss(student(x), teacher(x), y, T, alpha)
        optimizer.zero_grad(); loss.backward(); optimizer.step()
        return loss.item()

    assert "teacher.eval()" in repr(ex.check_distillation_step(train_mode_teacher))
    assert "zero_grad" in repr(ex.check_distillation_step(no_zero_grad))
    assert "no_grad" in repr(ex.check_distillation_step(teacher_with_grad))


def test_macro_f1_check_passes_the_reference_and_names_the_mistake():
    def f1_of(c):
        def fn(logits, labels):
            p = logits.argmax(-1)
            tp, wrong = np.sum((p == c) & (labels == c)), np.sum((p == c) != (labels == c))
            return 2 * tp / (2 * tp + wrong)
        return fn

    def weighted(logits, labels):
        return sum(f1_of(c)(logits, labels) * np.mean(labels == c) for c in range(logits.shape[-1]))

    def two_classes(logits, labels):
        return float(np.mean([f1_of(c)(logits, labels) for c in (0, 1)]))

    def nan_for_unpredicted(logits, labels):
        p, f1s = logits.argmax(-1), []
        for c in range(logits.shape[-1]):
            with np.errstate(invalid="ignore", divide="ignore"):
                precision = np.sum((p == c) & (labels == c)) / np.sum(p == c)
                recall = np.sum((p == c) & (labels == c)) / np.sum(labels == c)
                f1s.append(2 * precision * recall / (precision + recall))
        return float(np.mean(f1s))

    assert ex.check_macro_f1(sol.macro_f1)
    assert "no answer yet" in repr(ex.check_macro_f1(None))
    assert "positive class" in repr(ex.check_macro_f1(f1_of(1)))
    assert "micro-F1" in repr(ex.check_macro_f1(lambda l, y: float(np.mean(l.argmax(-1) == y))))
    assert "percentage" in repr(ex.check_macro_f1(lambda l, y: 100 * sol.macro_f1(l, y)))
    assert "not nan" in repr(ex.check_macro_f1(nan_for_unpredicted))
    assert "more classes" in repr(ex.check_macro_f1(two_classes))
    assert "weighted" in repr(ex.check_macro_f1(weighted))
    assert "average over classes" in repr(ex.check_macro_f1(lambda l, y: sol.macro_f1(l, y) + 0.05))


def test_token_kd_loss_check_passes_the_reference_and_names_the_mistake():
    import torch

    assert ex.check_token_kd_loss(sol.token_kd_loss)

    def kl(s, t, T):
        return (F.softmax(t / T, -1) * (F.log_softmax(t / T, -1) - F.log_softmax(s / T, -1))).sum(-1)

    def padding_in(s, t, mask, T):
        return kl(s, t, T)[:, :-1].mean() * T**2

    def unshifted(s, t, mask, T):
        return kl(s, t, T)[mask.bool()].mean() * T**2

    def per_sequence(s, t, mask, T):
        real = (mask[:, :-1] * mask[:, 1:]).bool()
        return torch.stack([kl(s, t, T)[b, :-1][real[b]].mean() for b in range(len(s))]).mean() * T**2

    def per_batch(s, t, mask, T):  # F.kl_div(..., reduction="batchmean") on [batch, time, vocab] logits
        real = (mask[:, :-1] * mask[:, 1:]).bool()
        return kl(s, t, T)[:, :-1][real].sum() / len(s) * T**2

    def no_t_squared(s, t, mask, T):
        return sol.token_kd_loss(s, t, mask, T) / T**2

    def reverse(s, t, mask, T):
        return sol.token_kd_loss(t, s, mask, T)

    assert "padding" in repr(ex.check_token_kd_loss(padding_in))
    assert "shift by one" in repr(ex.check_token_kd_loss(unshifted))
    assert "each sequence" in repr(ex.check_token_kd_loss(per_sequence))
    assert "batch size" in repr(ex.check_token_kd_loss(per_batch))
    assert "T**2" in repr(ex.check_token_kd_loss(no_t_squared))
    assert "reverse" in repr(ex.check_token_kd_loss(reverse))


def test_pair_encoding_reference_is_what_a_fast_tokenizer_does():
    """The reference cuts a pair exactly as the course's WordPiece tokenizer does, odd budgets and ties included:
    one word per token, every length of either sentence up to 13, five max_lengths."""
    import kdcourse as kd

    tokenizer = kd.load_tokenizer(kd.profiles.get_profile("smoke"))
    compared = cut = 0
    for n_a in range(1, 14):
        for n_b in range(1, 14):
            a, b = ["dog"] * n_a, ["cat"] * n_b
            for max_length in (8, 9, 10, 11, 30):
                enc = tokenizer(" ".join(a), " ".join(b), truncation="longest_first", max_length=max_length)
                want = (tokenizer.convert_ids_to_tokens(enc["input_ids"]), enc["token_type_ids"])
                assert ex.foundations.encode_pair_reference(a, b, max_length) == want, (n_a, n_b, max_length)
                compared, cut = compared + 1, cut + (n_a + n_b + 3 > max_length)
    assert cut > compared / 2  # most cases truncate: the rule is what is tested


def test_pair_encoding_check_passes_the_reference_and_names_the_mistake():
    def pair(a, b):
        return ["[CLS]", *a, "[SEP]", *b, "[SEP]"], [0] * (len(a) + 2) + [1] * (len(b) + 1)

    def cut(a, b, max_length, pick, keep_end=False, room=3):
        a, b = list(a), list(b)
        while len(a) + len(b) + room > max_length:
            side = pick(a, b)
            side.pop(0 if keep_end else -1)
        return a, b

    def longer(a, b):
        return a if len(a) > len(b) else b

    assert ex.check_pair_encoding(sol.encode_pair)
    assert "no answer yet" in repr(ex.check_pair_encoding(None))
    assert "count towards max_length" in repr(ex.check_pair_encoding(
        lambda a, b, m: pair(*cut(a, b, m, longer, room=0))))
    assert "start of a sentence" in repr(ex.check_pair_encoding(
        lambda a, b, m: pair(*cut(a, b, m, longer, keep_end=True))))
    assert "only_second" in repr(ex.check_pair_encoding(lambda a, b, m: pair(*cut(a, b, m, lambda a, b: b))))
    last_sep_zero = lambda a, b, m: (pair(*cut(a, b, m, longer))[0],  # noqa: E731
                                     pair(*cut(a, b, m, longer))[1][:-1] + [0])
    assert "last [SEP]" in repr(ex.check_pair_encoding(last_sep_zero))
    first_sep_one = lambda a, b, m: (lambda t, ty: (t, ty[:t.index("[SEP]")] + [1] + ty[t.index("[SEP]") + 1:]))(  # noqa: E731
        *pair(*cut(a, b, m, longer)))
    assert "first [SEP]" in repr(ex.check_pair_encoding(first_sep_one))
    assert "[CLS] a [SEP] b [SEP]" in repr(ex.check_pair_encoding(lambda a, b, m: (list(a) + list(b), [0] * (len(a) + len(b)))))
    assert "two lists" in repr(ex.check_pair_encoding(lambda a, b, m: None))


def test_store_bytes_pass_the_reference_and_name_what_a_store_holds():
    assert ex.check_store_bytes(sol.store_bytes)
    no_tail = lambda k, vocab, scheme: k * 4  # noqa: E731  fp16 values and uint16 ids, the tail forgotten
    result = ex.check_store_bytes(no_tail)
    assert not result and "one fp32 tail" in repr(result)
    wrong_counts = lambda k, vocab, scheme: k * 3 if scheme == "sampled" else sol.store_bytes(k, vocab, scheme)  # noqa: E731
    result = ex.check_store_bytes(wrong_counts)
    assert not result and "up to 255 draws fits one byte" in repr(result)
