"""Token-level distillation of a causal LM (notebook 06): the masked KD loss against naive loops and
hand-computed values, the teacher stored as top-k + tail, and a causal student that trains."""
import math

import pytest
import torch
import torch.nn.functional as F
from transformers import LlamaConfig, LlamaForCausalLM

import kdcourse as kd
from kdcourse.distill import (TeacherTopK, cache_teacher_topk, compress_topk, evaluate_next_token, full_logits_bytes,
                         index_dtype, kl_per_row, masked_mean, next_token_loss, shift_for_next_token,
                         token_kd_loss, topk_kd_loss, topk_kd_loss_renormalised, train_causal_student)

VOCAB = 11


def random_logits(*shape, seed=0, scale=3.0):
    return scale * torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def naive_token_kd(student, teacher, mask, temperature, direction):
    """T^2 * KL summed over real predicting positions / their number, by plain Python loops:
    position i counts when tokens i and i+1 are both real (mask 1)."""
    total, count = 0.0, 0
    for b in range(student.shape[0]):
        for i in range(student.shape[1] - 1):
            if not (mask[b][i] and mask[b][i + 1]):
                continue
            s = [x / temperature for x in student[b][i].tolist()]
            t = [x / temperature for x in teacher[b][i].tolist()]
            zs, zt = sum(math.exp(x) for x in s), sum(math.exp(x) for x in t)
            ps, pt = [math.exp(x) / zs for x in s], [math.exp(x) / zt for x in t]
            p, q = (pt, ps) if direction == "forward" else (ps, pt)
            total += sum(a * math.log(a / c) for a, c in zip(p, q))
            count += 1
    return temperature**2 * total / count


# --- the shift by one and the mean over real tokens ----------------------------------------------
def test_shift_pairs_each_position_with_the_next_token_and_masks_padding():
    logits = random_logits(2, 5, VOCAB)
    ids = torch.tensor([[1, 2, 3, 4, 5], [6, 7, 8, 0, 0]])
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]])
    predicting, targets, real = shift_for_next_token(logits, ids, mask)
    assert torch.equal(predicting, logits[:, :-1]) and torch.equal(targets, ids[:, 1:])
    assert real.tolist() == [[True] * 4, [True, True, False, False]]
    left = torch.tensor([[0, 0, 1, 1, 1]])  # left padding: the pad position before the first token is not scored
    assert shift_for_next_token(logits[:1], attention_mask=left)[2].tolist() == [[False, False, True, True]]
    with pytest.raises(ValueError, match="batch, time"):
        shift_for_next_token(logits, ids[:, :4])


def test_masked_mean_is_over_real_tokens_not_per_sequence():
    values = torch.tensor([[1.0, 2.0, 3.0], [10.0, 99.0, 99.0]])
    real = torch.tensor([[True, True, True], [True, False, False]])
    assert masked_mean(values, real).item() == pytest.approx(16 / 4)  # not (2 + 10) / 2
    with pytest.raises(ValueError, match="No real position"):
        masked_mean(values, torch.zeros_like(real))


def test_kl_per_row_equals_a_loop_and_skips_zero_probability():
    p, q = torch.tensor([0.5, 0.3, 0.2, 0.0]), torch.tensor([0.25, 0.25, 0.25, 0.25])
    want = sum(a * math.log(a / b) for a, b in zip(p.tolist(), q.tolist()) if a > 0)
    assert kl_per_row(p.log(), q.log()).item() == pytest.approx(want, rel=1e-6)
    # q = 0 where p = 0 adds nothing (not nan)
    assert kl_per_row(p.log(), torch.tensor([0.5, 0.3, 0.2, 0.0]).log()).item() == pytest.approx(0, abs=1e-7)


# --- the KD loss on full logits ------------------------------------------------------------------
@pytest.mark.parametrize("direction", ["forward", "reverse"])
@pytest.mark.parametrize("temperature", [1.0, 2.0])
def test_token_kd_loss_equals_a_naive_loop(direction, temperature):
    s, t = random_logits(2, 6, VOCAB, seed=1), random_logits(2, 6, VOCAB, seed=2)
    mask = torch.tensor([[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0]])
    got = token_kd_loss(s, t, mask, temperature=temperature, direction=direction)
    assert got.item() == pytest.approx(naive_token_kd(s, t, mask.tolist(), temperature, direction), rel=1e-5)


def test_token_kd_loss_hand_computed_on_a_four_token_vocabulary():
    # teacher [0.5, 0.3, 0.15, 0.05], student [0.4, 0.4, 0.1, 0.1] at the first position (logits = log-probs, T = 1)
    teacher = torch.tensor([0.5, 0.3, 0.15, 0.05]).log().view(1, 1, 4).expand(1, 2, 4)
    student = torch.tensor([0.4, 0.4, 0.1, 0.1]).log().view(1, 1, 4).expand(1, 2, 4)
    forward = 0.5 * math.log(0.5 / 0.4) + 0.3 * math.log(0.3 / 0.4) + 0.15 * math.log(0.15 / 0.1) + 0.05 * math.log(0.5)
    reverse = 0.4 * math.log(0.4 / 0.5) + 0.4 * math.log(0.4 / 0.3) + 0.1 * math.log(0.1 / 0.15) + 0.1 * math.log(2)
    assert token_kd_loss(student, teacher, temperature=1.0).item() == pytest.approx(forward, rel=1e-5)  # 0.05143
    assert token_kd_loss(student, teacher, temperature=1.0, direction="reverse").item() == pytest.approx(reverse, rel=1e-5)
    assert forward == pytest.approx(0.051430, abs=1e-6) and reverse == pytest.approx(0.054584, abs=1e-6)


def test_padding_positions_do_not_change_the_loss():
    s, t = random_logits(1, 5, VOCAB, seed=3), random_logits(1, 5, VOCAB, seed=4)
    clean = token_kd_loss(s, t, temperature=2.0)
    # the same sequence padded with 3 positions of arbitrary logits
    s_pad = torch.cat([s, random_logits(1, 3, VOCAB, seed=5)], dim=1)
    t_pad = torch.cat([t, random_logits(1, 3, VOCAB, seed=6)], dim=1)
    mask = torch.tensor([[1] * 5 + [0] * 3])
    assert token_kd_loss(s_pad, t_pad, mask, temperature=2.0).item() == pytest.approx(clean.item(), rel=1e-6)
    # the pitfall: without the mask the padding positions enter the mean and change the loss
    assert abs(token_kd_loss(s_pad, t_pad, temperature=2.0).item() - clean.item()) > 0.05 * clean.item()


def test_t_squared_factor_and_zero_for_a_perfect_student():
    s, t = random_logits(2, 4, VOCAB, seed=7), random_logits(2, 4, VOCAB, seed=8)
    kl_at_3 = F.kl_div(F.log_softmax(s[:, :-1] / 3, -1).reshape(-1, VOCAB), F.softmax(t[:, :-1] / 3, -1).reshape(-1, VOCAB),
                       reduction="batchmean")
    assert token_kd_loss(s, t, temperature=3.0).item() == pytest.approx(9 * kl_at_3.item(), rel=1e-5)
    assert token_kd_loss(t, t, temperature=2.0).item() == pytest.approx(0.0, abs=1e-6)


def test_token_kd_loss_refuses_bad_arguments_clearly():
    s = random_logits(1, 4, VOCAB)
    with pytest.raises(ValueError, match="tokenizer"):
        token_kd_loss(s, random_logits(1, 4, VOCAB + 1), temperature=1.0)
    with pytest.raises(ValueError, match="temperature"):
        token_kd_loss(s, s, temperature=0)
    with pytest.raises(ValueError, match="MiniLLM"):
        token_kd_loss(s, s, temperature=1.0, direction="backward")


def test_next_token_loss_equals_causal_lm_loss_and_the_models_own_loss():
    model = tiny_llama(num_hidden_layers=2).eval()
    ids = torch.randint(3, 60, (2, 9), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        out = model(input_ids=ids, labels=ids)
    assert next_token_loss(out.logits, ids).item() == pytest.approx(out.loss.item(), rel=1e-5)
    assert next_token_loss(out.logits, ids).item() == pytest.approx(kd.lm.causal_lm_loss(out.logits, ids).item(), rel=1e-6)
    # the pitfall: logits and labels not shifted by one score each token against itself
    unshifted = F.cross_entropy(out.logits.reshape(-1, 60), ids.reshape(-1))
    assert abs(unshifted.item() - out.loss.item()) > 0.01


# --- the teacher stored as top-k + tail ----------------------------------------------------------
def test_index_dtype_is_the_smallest_that_fits():
    assert index_dtype(200) == torch.uint8 and index_dtype(256) == torch.uint8
    assert index_dtype(30_522) == torch.int16  # BERT's WordPiece
    assert index_dtype(49_152) == torch.uint16  # SmolLM2
    assert index_dtype(151_936) == torch.int32


def test_topk_and_tail_sum_to_one_and_storage_is_small():
    logits = random_logits(3, 7, VOCAB, seed=9)
    top = compress_topk(logits, 4, temperature=2.0, dtype=torch.float32)
    assert top.log_probs.shape == (3, 7, 4) and top.indices.dtype == torch.uint8 and top.tail.shape == (3, 7)
    assert torch.allclose(top.log_probs.exp().sum(-1) + top.tail, torch.ones(3, 7), atol=1e-6)
    assert torch.equal(top.indices.long(), logits.topk(4, -1).indices)  # temperature keeps the order
    assert 0 < top.kept_mass() < 1
    # SmolLM2's vocabulary, k = 32: 32 fp16 values + 32 uint16 ids + one fp32 tail per position
    big = compress_topk(random_logits(2, 5, 49_152, seed=10), 32, temperature=1.0)
    assert big.nbytes() == 2 * 5 * (32 * 2 + 32 * 2 + 4)
    assert full_logits_bytes(10, 49_152) == 10 * 49_152 * 4 and full_logits_bytes(10, 49_152, torch.float16) == 983_040
    assert big.nbytes() / full_logits_bytes(10, 49_152) < 0.001


@pytest.mark.parametrize("direction", ["forward", "reverse"])
def test_topk_with_k_equal_to_the_vocabulary_is_the_full_kl(direction):
    s, t = random_logits(2, 6, VOCAB, seed=11), random_logits(2, 6, VOCAB, seed=12)
    mask = torch.tensor([[1] * 6, [1, 1, 1, 0, 0, 0]])
    full = token_kd_loss(s, t, mask, temperature=2.0, direction=direction)
    stored = compress_topk(shift_for_next_token(t)[0], VOCAB, temperature=2.0, dtype=torch.float32)
    assert topk_kd_loss(s, stored, mask, temperature=2.0, direction=direction).item() == pytest.approx(full.item(), rel=1e-5)
    fp16 = compress_topk(shift_for_next_token(t)[0], VOCAB, temperature=2.0)  # as stored: fp16 values
    assert topk_kd_loss(s, fp16, mask, temperature=2.0, direction=direction).item() == pytest.approx(full.item(), rel=2e-3)


def test_topk_loss_hand_computed_and_renormalising_without_the_tail_is_wrong():
    # the four-token example, k = 2: the teacher's buckets are [0.5, 0.3, rest 0.2], the student's [0.4, 0.4, rest 0.2]
    teacher = torch.tensor([0.5, 0.3, 0.15, 0.05]).log().view(1, 1, 4).expand(1, 2, 4)
    student = torch.tensor([0.4, 0.4, 0.1, 0.1]).log().view(1, 1, 4).expand(1, 2, 4)
    stored = compress_topk(teacher[:, :-1], 2, temperature=1.0, dtype=torch.float32)
    assert stored.tail.item() == pytest.approx(0.2, rel=1e-6)
    with_tail = 0.5 * math.log(0.5 / 0.4) + 0.3 * math.log(0.3 / 0.4) + 0.2 * math.log(0.2 / 0.2)
    assert topk_kd_loss(student, stored, temperature=1.0).item() == pytest.approx(with_tail, rel=1e-5)  # 0.025267
    # renormalised: the teacher becomes [0.625, 0.375], compared with the student's 0.4 and 0.4
    renormalised = 0.625 * math.log(0.625 / 0.4) + 0.375 * math.log(0.375 / 0.4)
    assert topk_kd_loss_renormalised(student, stored, temperature=1.0).item() == pytest.approx(renormalised, rel=1e-5)
    full = token_kd_loss(student, teacher, temperature=1.0).item()  # 0.051430
    assert with_tail <= full  # merging tokens into one bucket can only lose information (a smaller KL)
    assert renormalised > 4 * full  # 0.2547: five times the true KL


def test_reverse_topk_loss_hand_computed_with_the_tail_bucket():
    # the same four tokens, k = 2, reverse KL(student || teacher) over the buckets [top 1, top 2, rest]:
    # the student's rest (0.2 + 0.1) is compared with the teacher's tail 0.2; without the tail bucket it would not be
    teacher = torch.tensor([0.5, 0.3, 0.15, 0.05]).log().view(1, 1, 4).expand(1, 2, 4)
    stored = compress_topk(teacher[:, :-1], 2, temperature=1.0, dtype=torch.float32)
    student = torch.tensor([0.4, 0.3, 0.2, 0.1]).log().view(1, 1, 4).expand(1, 2, 4)  # 0.3 of its mass in the rest
    want = 0.4 * math.log(0.4 / 0.5) + 0.3 * math.log(0.3 / 0.3) + 0.3 * math.log(0.3 / 0.2)  # 0.032384
    without_tail = 0.4 * math.log(0.4 / 0.5) + 0.3 * math.log(0.3 / 0.3)  # -0.089257: the rest bucket forgotten
    got = topk_kd_loss(student, stored, temperature=1.0, direction="reverse").item()
    assert got == pytest.approx(want, rel=1e-5) and abs(got - without_tail) > 0.1


def test_a_tail_that_underflowed_keeps_the_reverse_loss_finite():
    # one token holds all of the teacher's probability: the tail, exp(-200), underflows to 0 in fp32
    logits = torch.zeros(1, 2, 6)
    logits[..., 0] = 200.0
    stored = compress_topk(logits[:, :-1], 2, temperature=1.0, dtype=torch.float32)
    assert stored.tail.item() == 0.0
    student = torch.zeros(1, 2, 6, requires_grad=True)  # uniform: 4/6 of its mass in the teacher's empty tail
    loss = topk_kd_loss(student, stored, temperature=1.0, direction="reverse")
    assert torch.isfinite(loss)  # the floor: log(1e-30) instead of log(0) = -inf, which would make it infinite
    want = (1 / 6) * math.log((1 / 6) / 1.0) + (1 / 6) * math.log((1 / 6) / math.exp(-200)) \
        + (4 / 6) * math.log((4 / 6) / 1e-30)
    assert loss.item() == pytest.approx(want, rel=1e-4)
    loss.backward()
    assert torch.isfinite(student.grad).all()


def test_a_student_equal_to_the_teacher_scores_zero_only_with_the_tail():
    t = random_logits(2, 8, 50, seed=14)
    stored = compress_topk(shift_for_next_token(t)[0], 5, temperature=1.0, dtype=torch.float32)
    assert 0.5 < stored.kept_mass() < 0.99  # a real tail
    perfect = t.clone().requires_grad_(True)
    assert topk_kd_loss(perfect, stored, temperature=1.0).item() == pytest.approx(0.0, abs=1e-5)
    # renormalised: the perfect student is penalised and pushed away from the teacher
    wrong = topk_kd_loss_renormalised(perfect, stored, temperature=1.0)
    assert wrong.item() > 0.05
    wrong.backward()
    assert perfect.grad.abs().max() > 1e-3


def test_topk_loss_refuses_a_cache_of_another_temperature_or_batch():
    s, t = random_logits(2, 6, VOCAB, seed=15), random_logits(2, 6, VOCAB, seed=16)
    stored = compress_topk(shift_for_next_token(t)[0], 3, temperature=2.0)
    with pytest.raises(ValueError, match="Cache the teacher again"):
        topk_kd_loss(s, stored, temperature=1.0)
    with pytest.raises(ValueError, match="cache rows"):
        topk_kd_loss(s[:1], stored, temperature=2.0)


def test_topk_loss_has_finite_gradients_for_both_directions():
    s = random_logits(2, 6, VOCAB, seed=17).requires_grad_(True)
    stored = compress_topk(shift_for_next_token(random_logits(2, 6, VOCAB, seed=18, scale=20))[0], 3, temperature=1.0)
    for direction in ("forward", "reverse"):
        s.grad = None
        topk_kd_loss(s, stored, temperature=1.0, direction=direction).backward()
        assert torch.isfinite(s.grad).all() and s.grad.abs().sum() > 0
        assert s.grad[:, -1].abs().sum() == 0  # the last position predicts nothing: no gradient


# --- a causal student from a tiny Llama (SmolLM2's family) ---------------------------------------
def tiny_llama(**kw):
    """A Llama of SmolLM2's shape at toy size: grouped-query attention, tied embeddings."""
    config = dict(vocab_size=60, hidden_size=32, num_hidden_layers=6, num_attention_heads=4, num_key_value_heads=2,
                  intermediate_size=64, max_position_embeddings=64, tie_word_embeddings=True,
                  bos_token_id=1, eos_token_id=2, pad_token_id=0)
    torch.manual_seed(kw.pop("seed", 0))
    return LlamaForCausalLM(LlamaConfig(**{**config, **kw}))


@pytest.fixture(scope="module")
def teacher_and_blocks():
    teacher = tiny_llama().eval()
    g = torch.Generator().manual_seed(1)
    # text with structure (token i+1 often follows token i) so that a teacher and a student can learn it
    starts = torch.randint(3, 50, (24, 1), generator=g)
    blocks = (starts + torch.arange(16)) % 57 + 3
    noise = torch.rand(blocks.shape, generator=g) < 0.2
    blocks[noise] = torch.randint(3, 60, (int(noise.sum()),), generator=g)
    return teacher, blocks


def test_student_every_other_layer_of_a_gqa_llama_copies_those_layers(teacher_and_blocks):
    # tests/test_student.py checks every family's copy; here the student notebook 06 builds, and its logits
    teacher, blocks = teacher_and_blocks
    student = kd.distill.make_student(teacher, (0, 2, 4))
    for k, t in enumerate((0, 2, 4)):
        for (name, p), (_, q) in zip(student.model.layers[k].named_parameters(), teacher.model.layers[t].named_parameters()):
            assert torch.equal(p, q), (k, name)
    assert torch.equal(student.lm_head.weight, teacher.model.embed_tokens.weight)
    assert student.lm_head.weight is student.model.embed_tokens.weight  # tied, as in the teacher
    every_layer = kd.distill.make_student(teacher, range(6)).eval()
    with torch.no_grad():
        assert torch.allclose(every_layer(input_ids=blocks[:2]).logits, teacher(input_ids=blocks[:2]).logits, atol=1e-5)


def test_cache_teacher_topk_keys_rows_by_block(teacher_and_blocks):
    teacher, blocks = teacher_and_blocks
    teacher.train()
    cache = cache_teacher_topk(teacher, blocks, k=5, temperature=2.0, batch_size=5)
    assert teacher.training  # the teacher's mode is given back
    assert len(cache) == len(blocks) and cache.log_probs.shape == (24, 15, 5) and cache.indices.dtype == torch.uint8
    with torch.no_grad():
        alone = compress_topk(teacher.eval()(input_ids=blocks[7:8]).logits[:, :-1], 5, temperature=2.0)
    assert torch.equal(cache[7].indices, alone.indices) and torch.allclose(cache[7].tail, alone.tail, atol=1e-6)
    rows = torch.tensor([3, 7])
    assert torch.equal(cache[rows].log_probs[1], cache.log_probs[7])


def test_evaluate_next_token_perplexity_and_agreement(teacher_and_blocks):
    teacher, blocks = teacher_and_blocks
    cache = cache_teacher_topk(teacher, blocks, k=3, temperature=1.0)
    result = evaluate_next_token(teacher, blocks, cache, batch_size=10)
    assert result["agreement"] == 1.0  # the teacher agrees with itself
    with torch.no_grad():
        want = kd.lm.causal_lm_loss(teacher(input_ids=blocks).logits, blocks).item()
    assert result["loss"] == pytest.approx(want, rel=1e-5) and result["perplexity"] == pytest.approx(math.exp(want))
    assert result["tokens"] == 24 * 15
    with torch.no_grad():  # the mean entropy over the predicting positions (the last position predicts nothing)
        log_p = torch.log_softmax(teacher(input_ids=blocks).logits[:, :-1], dim=-1)
    assert result["entropy"] == pytest.approx(float(-(log_p.exp() * log_p).sum(-1).mean()), rel=1e-5)
    assert 0 < result["entropy"] < math.log(teacher.config.vocab_size)
    assert result["kl"] == pytest.approx(0, abs=1e-3) and result["reverse_kl"] == pytest.approx(0, abs=1e-3)
    student = tiny_llama(seed=5, tie_word_embeddings=False)
    other = evaluate_next_token(student, blocks, cache)
    assert other["agreement"] < 0.5
    # the block-by-block scores (what a verdict pairs) average to the overall ones, block i from block i
    assert len(other["per_block"]) == 24 and sum(other["per_block"]) / 24 == pytest.approx(other["loss"])
    alone = evaluate_next_token(student, blocks[5:6], cache[5:6])
    for name in ("loss", "entropy", "kl", "reverse_kl"):
        key = "per_block" if name == "loss" else f"per_block_{name}"
        assert other[key][5] == pytest.approx(alone[name], rel=1e-5)
    with torch.no_grad():  # the forward KL to the store is topk_kd_loss, block by block
        want = kd.distill.topk_kd_loss(student(input_ids=blocks[:1]).logits, cache[0:1], temperature=1.0)
    assert other["per_block_kl"][0] == pytest.approx(want.item(), rel=1e-5)


def test_calibration_by_hand_confidence_accuracy_and_ece(teacher_and_blocks):
    """Confidence, accuracy and the expected calibration error of evaluate_next_token, recomputed from the logits
    with a loop over the 10 bins (Guo et al., 2017)."""
    teacher, blocks = teacher_and_blocks
    student = tiny_llama(seed=3)
    result = evaluate_next_token(student, blocks, batch_size=7)
    with torch.no_grad():
        p = torch.softmax(student.eval()(input_ids=blocks).logits[:, :-1].double(), dim=-1)
    confidence, guess = p.max(-1)
    right = (guess == blocks[:, 1:]).double()
    assert result["confidence"] == pytest.approx(float(confidence.mean()), rel=1e-5)
    assert result["accuracy"] == pytest.approx(float(right.mean()), rel=1e-5)
    assert result["overconfidence"] == pytest.approx(result["confidence"] - result["accuracy"], rel=1e-5, abs=1e-9)
    ece = 0.0
    for b in range(10):
        inside = (confidence >= b / 10) & ((confidence < (b + 1) / 10) if b < 9 else True)
        if inside.any():
            ece += float(inside.sum()) / confidence.numel() * abs(float(right[inside].mean() - confidence[inside].mean()))
    assert result["ece"] == pytest.approx(ece, rel=1e-4, abs=1e-7)
    assert len(result["per_block_overconfidence"]) == len(blocks)
    assert 0 < result["ece"] < 1


def test_train_causal_student_plain_and_distilled_learn_and_are_reproducible(teacher_and_blocks):
    teacher, blocks = teacher_and_blocks
    cache = cache_teacher_topk(teacher, blocks, k=8, temperature=1.0)
    kwargs = dict(steps=30, batch_size=4, learning_rate=3e-3, eval_blocks=blocks[:8], eval_every=30)
    runs = {}
    for name, source in (("plain", None), ("top-k", cache), ("online", teacher)):
        student = kd.distill.make_student(teacher, (0, 5))
        before = evaluate_next_token(student, blocks, cache)
        history = train_causal_student(student, blocks, seed=0, teacher=source,
                                       temperature=None if source is None else 1.0, **kwargs)
        runs[name] = (before, evaluate_next_token(student, blocks, cache), history)
    for name, (before, after, history) in runs.items():
        assert history["step"][-1] == 30 and len(history["eval_loss"]) == 2
        assert sum(history["loss"][-5:]) < sum(history["loss"][:5]), name  # its own loss fell
    assert runs["top-k"][1]["agreement"] > runs["top-k"][0]["agreement"]  # distilled: closer to the teacher
    again = kd.distill.make_student(teacher, (0, 5))
    repeat = train_causal_student(again, blocks, seed=0, teacher=cache, temperature=1.0, **kwargs)
    assert repeat["loss"] == runs["top-k"][2]["loss"]  # same seed, same batches, same numbers


def test_train_causal_student_learns_from_drawn_tokens_with_the_loss_of_its_store(teacher_and_blocks):
    teacher, blocks = teacher_and_blocks
    samples = kd.distill.cache_teacher_samples(teacher, blocks, draws=16, temperature=1.0, seed=0)
    runs = [train_causal_student(kd.distill.random_student(teacher, (0, 5), seed=1), blocks, steps=30, batch_size=4,
                                 learning_rate=3e-3, seed=0, teacher=samples, temperature=1.0)["loss"] for _ in range(2)]
    assert sum(runs[0][-5:]) < sum(runs[0][:5])  # it learns the stored target
    assert runs[0] == runs[1]  # same seed, same batches, same numbers
    fresh = kd.distill.make_student(teacher, (0, 5))
    first = train_causal_student(fresh, blocks, steps=1, batch_size=4, learning_rate=1e-3, seed=0, teacher=samples,
                                 temperature=1.0, alpha=0.5)["loss"][0]
    rows = next(kd.lm.random_batches(len(blocks), 4, 1, torch.Generator().manual_seed(0)))  # the first batch
    with torch.no_grad():
        want = kd.distill.sampled_distillation_loss(kd.distill.make_student(teacher, (0, 5))(input_ids=blocks[rows]).logits,
                                                    blocks[rows], samples[rows], alpha=0.5, temperature=1.0)
    assert first == pytest.approx(want.item(), rel=1e-5)
    with pytest.raises(ValueError, match="forward KL only"):
        train_causal_student(fresh, blocks, steps=1, batch_size=4, learning_rate=1e-3, seed=0, teacher=samples,
                             temperature=1.0, direction="reverse")
    with pytest.raises(ValueError, match="these very blocks"):
        train_causal_student(fresh, blocks[:10], steps=1, batch_size=4, learning_rate=1e-3, seed=0, teacher=samples,
                             temperature=1.0)


def test_train_causal_student_refuses_a_mismatched_cache(teacher_and_blocks):
    teacher, blocks = teacher_and_blocks
    cache = cache_teacher_topk(teacher, blocks[:10], k=3, temperature=1.0)
    student = kd.distill.make_student(teacher, (0, 5))
    with pytest.raises(ValueError, match="these very blocks"):
        train_causal_student(student, blocks, steps=1, batch_size=2, learning_rate=1e-3, seed=0, teacher=cache,
                             temperature=1.0)
    with pytest.raises(ValueError, match="temperature"):
        train_causal_student(student, blocks[:10], steps=1, batch_size=2, learning_rate=1e-3, seed=0, teacher=cache)


def test_pack_blocks_uses_the_end_of_text_token_without_sep():
    from kdcourse.rehearsal import train_bpe

    texts = ["The state of the Union is strong.", "I ask the Congress to act."] * 30
    bpe = train_bpe(texts, 300)  # gpt2-like: an end-of-text token, no [SEP]
    assert bpe.sep_token_id is None
    blocks = kd.lm.pack_blocks(texts, bpe, 8, kind="clm")
    assert (blocks == bpe.eos_token_id).sum() > 0


def test_alpha_mixes_the_teacher_term_with_the_next_token_loss(teacher_and_blocks):
    teacher, blocks = teacher_and_blocks
    cache = cache_teacher_topk(teacher, blocks, k=8, temperature=1.0)
    first = {}
    for alpha in (1.0, 0.5, 0.0):
        student = kd.distill.make_student(teacher, (0, 5))
        history = train_causal_student(student, blocks, steps=1, batch_size=4, learning_rate=1e-3, seed=0, teacher=cache,
                                       temperature=1.0, alpha=alpha)
        first[alpha] = history["loss"][0]  # the loss of step 1, before any update
    student = kd.distill.make_student(teacher, (0, 5))
    plain = train_causal_student(student, blocks, steps=1, batch_size=4, learning_rate=1e-3, seed=0)["loss"][0]
    assert first[0.0] == pytest.approx(plain, rel=1e-6)
    assert first[0.5] == pytest.approx(0.5 * first[1.0] + 0.5 * plain, rel=1e-5)
    with pytest.raises(ValueError, match="alpha"):
        train_causal_student(student, blocks, steps=1, batch_size=4, learning_rate=1e-3, seed=0, teacher=cache,
                             temperature=1.0, alpha=2)


def test_teacher_generations_keep_the_prompt_have_full_length_and_repeat_with_the_seed(teacher_and_blocks):
    teacher, blocks = teacher_and_blocks
    prompts = blocks[:5, :4]
    generated = kd.distill.teacher_generations(teacher, prompts, new_tokens=6, seed=0, batch_size=2)
    assert generated.shape == (5, 10) and torch.equal(generated[:, :4], prompts)
    assert torch.equal(generated, kd.distill.teacher_generations(teacher, prompts, new_tokens=6, seed=0, batch_size=2))
    assert not torch.equal(generated, kd.distill.teacher_generations(teacher, prompts, new_tokens=6, seed=1, batch_size=2))
    greedy = kd.distill.teacher_generations(teacher, prompts[:1], new_tokens=1, seed=0, sample=False)
    with torch.no_grad():
        assert greedy[0, -1] == teacher(input_ids=prompts[:1]).logits[0, -1].argmax()


@pytest.mark.parametrize("direction", ["forward", "reverse"])
@pytest.mark.parametrize("temperature", [1.0, 2.0])
def test_the_one_pass_training_loss_equals_its_two_terms(direction, temperature):
    # what train_causal_student minimises from the store: alpha * top-k KD + (1 - alpha) * next-token, computed
    # together; the same value and gradient as the two losses computed apart
    g = torch.Generator().manual_seed(3)
    s, t = torch.randn(2, 6, 40, generator=g), 2 * torch.randn(2, 6, 40, generator=g)
    ids, mask = torch.randint(0, 40, (2, 6), generator=g), torch.tensor([[1] * 6, [1, 1, 1, 1, 0, 0]])
    store = kd.distill.compress_topk(t[:, :-1], 7, temperature)
    x1, x2 = s.clone().requires_grad_(), s.clone().requires_grad_()
    together = kd.distill.topk_distillation_loss(x1, ids, store, alpha=0.3, temperature=temperature,
                                                 direction=direction, attention_mask=mask)
    apart = (0.3 * kd.distill.topk_kd_loss(x2, store, mask, temperature=temperature, direction=direction)
             + 0.7 * kd.distill.next_token_loss(x2, ids, mask))
    together.backward(), apart.backward()
    torch.testing.assert_close(together, apart)
    torch.testing.assert_close(x1.grad, x2.grad)
    with pytest.raises(ValueError, match="alpha"):
        kd.distill.topk_distillation_loss(s, ids, store, alpha=1.5, temperature=temperature)


def test_compute_matched_steps_counts_the_teachers_pass_in_plain_steps(teacher_and_blocks):
    teacher, _ = teacher_and_blocks
    student = tiny_llama(seed=1, num_hidden_layers=2)
    # 2 FLOPs per teacher parameter and token for its pass, 6 per student parameter and token for a step
    by_hand = 2 * teacher.num_parameters() * 100 / (6 * student.num_parameters() * 4)
    assert kd.distill.compute_matched_steps(10, teacher, student, 100, 4) == 10 + round(by_hand)
    assert kd.distill.compute_matched_steps(10, teacher, student, 0, 4) == 10  # nothing cached: equal steps


def test_completion_lengths_stop_at_the_end_of_text_token(teacher_and_blocks):
    teacher, blocks = teacher_and_blocks

    class Tok:
        eos_token_id = int(blocks[0, 3])  # a token the tiny model writes often enough to stop some texts

    lengths = kd.distill.on_policy.completion_lengths(teacher, Tok, blocks[:6, :4], 8, seed=0)
    assert len(lengths) == 6 and all(1 <= n <= 8 for n in lengths)
    assert lengths == kd.distill.on_policy.completion_lengths(teacher, Tok, blocks[:6, :4], 8, seed=0)  # seeded
