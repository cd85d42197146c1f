"""The teacher stored as tokens drawn from its distribution (kdcourse.distill.sampled): what the store holds, that
its target and its gradient are unbiased where top-k's are not, and that the losses equal their definitions."""
import math

import pytest
import torch
import torch.nn.functional as F

import kdcourse as kd
from kdcourse.distill import (TeacherSamples, cache_teacher_samples, compress_topk, next_token_loss, sample_teacher,
                              sampled_distillation_loss, sampled_kd_loss, token_kd_loss)
from kdcourse.distill.sampled import count_dtype


def _logits(shape=(2, 5, 12), scale=3.0, seed=0):
    return scale * torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def test_the_store_holds_distinct_tokens_and_counts_that_sum_to_the_draws():
    logits = _logits()
    s = sample_teacher(logits, 16, temperature=1.0, generator=torch.Generator().manual_seed(0))
    assert s.indices.shape == s.counts.shape == (2, 5, 16) and s.draws == 16 and len(s) == 2
    assert s.indices.dtype == torch.uint8 and s.counts.dtype == torch.uint8  # 12 tokens, 16 draws
    assert (s.counts.long().sum(-1) == 16).all()
    used = s.counts > 0
    for ids, seen in zip(s.indices.reshape(-1, 16), used.reshape(-1, 16)):
        kept = ids[seen].tolist()
        assert len(kept) == len(set(kept)) and seen[:len(kept)].all()  # distinct, in the first slots
    assert 1 <= s.distinct() <= 12 and s.nbytes() == 2 * 2 * 5 * 16
    assert torch.allclose(s.target().sum(-1), torch.ones(2, 5))
    assert s[1].indices.shape == (1, 5, 16) and torch.equal(s[torch.tensor([1, 0])].counts[1], s.counts[0])
    again = sample_teacher(logits, 16, temperature=1.0, generator=torch.Generator().manual_seed(0))
    assert torch.equal(again.indices, s.indices) and torch.equal(again.counts, s.counts)  # seeded
    assert count_dtype(255) == torch.uint8 and count_dtype(256) == torch.int16
    with pytest.raises(ValueError, match="positive integer"):
        sample_teacher(logits, 0, temperature=1.0)


def test_a_sure_teacher_is_one_token_drawn_every_time():
    logits = torch.full((1, 3, 50), -30.0)
    logits[..., 7] = 30.0
    s = sample_teacher(logits, 8, temperature=1.0)
    assert (s.indices[..., 0] == 7).all() and (s.counts[..., 0] == 8).all() and s.distinct() == 1


def test_the_sampled_target_is_unbiased_and_top_k_renormalised_is_not():
    """Averaged over many draws, counts / k is the teacher's distribution; a top-k target renormalised without
    its tail puts more probability on the top token than the teacher does (overconfident)."""
    logits = _logits((1, 1, 10), scale=1.5, seed=3)
    p = F.softmax(logits, -1).reshape(10)
    g = torch.Generator().manual_seed(1)
    mean = torch.zeros(10)
    rounds = 4000
    for _ in range(rounds):
        s = sample_teacher(logits, 4, temperature=1.0, generator=g)
        mean.index_add_(0, s.indices.reshape(-1).long(), s.target().reshape(-1))
    mean /= rounds
    assert torch.allclose(mean, p, atol=0.01)  # the standard error of each share is under 0.004
    top = compress_topk(logits, 4, 1.0, dtype=torch.float32)
    renormalised = top.log_probs.exp() / (1 - top.tail).unsqueeze(-1)
    assert float(renormalised[..., 0]) > float(p.max()) + 0.05


def test_the_gradient_is_the_full_logit_gradient_in_expectation():
    """Averaged over the draws, the sampled loss's gradient is token_kd_loss's (each entry within about 4 standard
    errors of the average over 4,000 draws); at the same k, the gradients of both top-k losses are not."""
    student, teacher = _logits((1, 4, 9), scale=1.0, seed=5), _logits((1, 4, 9), scale=2.0, seed=6)
    full = student.clone().requires_grad_(True)
    token_kd_loss(full, teacher, temperature=2.0).backward()
    g = torch.Generator().manual_seed(2)
    mean = torch.zeros_like(student)
    rounds = 4000
    for _ in range(rounds):
        z = student.clone().requires_grad_(True)
        samples = sample_teacher(teacher[:, :-1], 3, temperature=2.0, generator=g)  # the predicting positions
        sampled_kd_loss(z, samples, temperature=2.0).backward()
        mean += z.grad
    assert (mean / rounds - full.grad).abs().max() < 0.015
    top = compress_topk(teacher[:, :-1], 3, 2.0, dtype=torch.float32)
    for loss in (kd.distill.topk_kd_loss, kd.distill.topk_kd_loss_renormalised):
        z = student.clone().requires_grad_(True)
        loss(z, top, temperature=2.0).backward()
        assert (z.grad - full.grad).abs().max() > 0.05  # biased: no number of steps averages it away


def test_the_losses_equal_their_definitions_with_padding():
    g = torch.Generator().manual_seed(4)
    student, teacher = _logits((2, 6, 11), seed=8), _logits((2, 6, 11), seed=9)
    ids = torch.randint(0, 11, (2, 6), generator=g)
    mask = torch.tensor([[1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0]])
    for T in (1.0, 2.0):
        s = sample_teacher(teacher[:, :-1], 5, temperature=T, generator=g)
        z = student[:, :-1] / T
        log_q = z.log_softmax(-1).gather(-1, s.indices.long())
        r = s.target()
        kl = torch.where(r > 0, r * (r.clamp_min(1e-12).log() - log_q), torch.zeros_like(r)).sum(-1)
        real = (mask[:, :-1] * mask[:, 1:]).bool()
        want = kl[real].mean() * T**2  # averaged over the real positions, not the batch
        assert math.isclose(float(sampled_kd_loss(student, s, mask, temperature=T)), float(want), rel_tol=1e-5)
        both = sampled_distillation_loss(student, ids, s, alpha=0.3, temperature=T, attention_mask=mask)
        apart = 0.3 * sampled_kd_loss(student, s, mask, temperature=T) + 0.7 * next_token_loss(student, ids, mask)
        assert math.isclose(float(both), float(apart), rel_tol=1e-5)
    assert math.isclose(float(sampled_distillation_loss(student, ids, s, alpha=1.0, temperature=2.0)),
                        float(sampled_kd_loss(student, s, temperature=2.0)), rel_tol=1e-6)


def test_the_losses_refuse_a_store_that_does_not_match():
    student, teacher = _logits((1, 4, 10), seed=1), _logits((1, 4, 10), seed=2)
    s = sample_teacher(teacher[:, :-1], 3, temperature=2.0)
    with pytest.raises(ValueError, match="drawn at temperature 2.0"):
        sampled_kd_loss(student, s, temperature=1.0)
    with pytest.raises(ValueError, match="teacher's tokenizer"):
        sampled_kd_loss(_logits((1, 4, 12)), s, temperature=2.0)
    with pytest.raises(ValueError, match="select the rows"):
        sampled_kd_loss(_logits((1, 5, 10)), s, temperature=2.0)


def test_the_cache_runs_the_teacher_once_per_block_and_is_seeded():
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    teacher = GPT2LMHeadModel(GPT2Config(vocab_size=40, n_embd=16, n_layer=1, n_head=2, n_positions=8))
    blocks = torch.randint(0, 40, (5, 8), generator=torch.Generator().manual_seed(0))
    store = cache_teacher_samples(teacher, blocks, draws=6, temperature=1.0, seed=3, batch_size=2)
    assert isinstance(store, TeacherSamples) and store.indices.shape == (5, 7, 6) and store.vocab_size == 40
    same = cache_teacher_samples(teacher, blocks, draws=6, temperature=1.0, seed=3, batch_size=5)
    assert torch.equal(store.indices, same.indices) and torch.equal(store.counts, same.counts)  # batches don't matter
    other = cache_teacher_samples(teacher, blocks, draws=6, temperature=1.0, seed=4)
    assert not torch.equal(store.counts, other.counts)
    row = cache_teacher_samples(teacher, blocks[3:4], draws=6, temperature=1.0, seed=3)
    assert row.indices.shape == (1, 7, 6)
    with pytest.raises(ValueError, match="num_blocks, block_size"):
        cache_teacher_samples(teacher, blocks[0], draws=6, temperature=1.0)


def test_one_pass_fills_every_store_as_its_own_cache_would():
    from transformers import GPT2Config, GPT2LMHeadModel

    from kdcourse.distill import cache_teacher_stores, cache_teacher_topk

    torch.manual_seed(0)
    teacher = GPT2LMHeadModel(GPT2Config(vocab_size=40, n_embd=16, n_layer=1, n_head=2, n_positions=8))
    blocks = torch.randint(0, 40, (5, 8), generator=torch.Generator().manual_seed(0))
    stores = cache_teacher_stores(teacher, blocks, temperature=1.0, topk=(3, 8), draws=(6, 16), seed=3, batch_size=2)
    assert list(stores) == [("top-k", 3), ("top-k", 8), ("sampled", 6), ("sampled", 16)]
    for k in (3, 8):
        alone = cache_teacher_topk(teacher, blocks, k, 1.0)
        assert torch.equal(stores["top-k", k].indices, alone.indices) and torch.equal(stores["top-k", k].tail, alone.tail)
    for d in (6, 16):  # each draws from its own seeded generator: the same as drawn alone
        alone = cache_teacher_samples(teacher, blocks, draws=d, temperature=1.0, seed=3)
        assert torch.equal(stores["sampled", d].indices, alone.indices)
        assert torch.equal(stores["sampled", d].counts, alone.counts)
    with pytest.raises(ValueError, match="at least one store"):
        cache_teacher_stores(teacher, blocks, temperature=1.0)


def test_what_each_store_keeps_before_training_by_hand():
    from kdcourse.distill import store_report

    p = torch.tensor([0.5, 0.3, 0.15, 0.05])
    logits = p.log().expand(4000, 4)  # 4,000 positions with the same teacher distribution
    entropy = float(-(p * p.log()).sum())
    tail = store_report(logits, 2, "top-k + tail", 1.0)
    assert tail["bytes"] == 2 * (2 + 1) + 4  # fp16 values and uint8 ids for 2 tokens, an fp32 tail
    assert tail["kept"] == pytest.approx(0.8, abs=1e-3) and tail["kl"] == 0.0
    assert tail["top1_excess"] == pytest.approx(0.0, abs=1e-3)  # the top token's own probability, kept
    buckets = -(0.5 * math.log(0.5) + 0.3 * math.log(0.3) + 0.2 * math.log(0.2))
    assert tail["entropy_gap"] == pytest.approx(buckets - entropy, abs=1e-3)
    renorm = store_report(logits, 2, "top-k renormalised", 1.0)
    assert renorm["bytes"] == 2 * (2 + 1)
    assert renorm["kl"] == pytest.approx(-math.log(0.8), abs=1e-3)  # KL(p / 0.8 on the top 2 || p) = -log 0.8
    assert renorm["top1_excess"] == pytest.approx(0.5 / 0.8 - 0.5, abs=1e-3)  # more confident than the teacher
    assert renorm["entropy_gap"] == pytest.approx(-(0.625 * math.log(0.625) + 0.375 * math.log(0.375)) - entropy, abs=1e-3)
    sampled = store_report(logits, 2, "sampled", 1.0, torch.Generator().manual_seed(0))
    assert sampled["bytes"] == 2 * (1 + 1)  # uint8 ids and uint8 counts
    assert abs(sampled["top1_excess"]) < 0.03  # unbiased: right on average, though each position is noisy
    assert sampled["entropy_gap"] < -0.5 and sampled["kl"] > 0.1  # two draws are far more certain than the teacher
    many = store_report(logits, 2000, "sampled", 1.0, torch.Generator().manual_seed(0))
    assert many["kl"] < 0.01 and many["kept"] == pytest.approx(1.0) and abs(many["entropy_gap"]) < 0.01
    with pytest.raises(ValueError, match="Unknown scheme"):
        store_report(logits, 2, "top-p", 1.0)


def test_the_store_recommended_is_the_smallest_that_keeps_enough_on_validation():
    from kdcourse.distill import choose_store

    loss = {("top-k + tail", 16): 5.95, ("top-k + tail", 256): 5.91, ("sampled", 16): 5.97, ("sampled", 256): 5.905}
    nbytes = {("top-k + tail", 16): 68, ("top-k + tail", 256): 1028, ("sampled", 16): 48, ("sampled", 256): 1024}
    chosen, shares = choose_store(loss, nbytes, plain=6.0, full=5.9)  # the full logits gain 0.1 nats
    assert math.isclose(shares["sampled", 16], 0.3) and math.isclose(shares["top-k + tail", 256], 0.9)
    assert chosen == ("sampled", 256)  # 95 % kept, 1,024 bytes: smaller than top-k's 1,028 that keeps 90 %
    assert choose_store(loss, nbytes, plain=6.0, full=5.9, keep=0.5)[0] == ("top-k + tail", 16)
    assert choose_store(loss, nbytes, plain=6.0, full=6.1)[0] is None  # no gain to keep
    with pytest.raises(ValueError, match="different stores"):
        choose_store(loss, {("sampled", 16): 48}, plain=6.0, full=5.9)
