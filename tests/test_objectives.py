"""The pretraining objectives: BERT's masking rule and the causal-LM likelihood computed by hand."""
import math

import pytest
import torch

import kdcourse as kd


def _ordinary_batch(tok, rows=200, cols=128, seed=0):
    """Random ordinary (non-special) token ids framed as [CLS] ... [SEP]."""
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(1000, len(tok), (rows, cols), generator=g)
    ids[:, 0], ids[:, -1] = tok.cls_token_id, tok.sep_token_id
    return ids


def test_80_10_10_proportions_hold_statistically(tok):
    ids = _ordinary_batch(tok)
    corrupted, labels = kd.lm.mask_tokens(ids, tok, 0.15, seed=1)
    c = kd.lm.masking_counts(ids, corrupted, labels, tok)
    assert c["eligible"] == 200 * 126
    # ~25,200 Bernoulli(0.15) draws: the standard deviation of the fraction is 0.0022.
    assert abs(c["selected"] / c["eligible"] - 0.15) < 0.011
    # ~3,800 selected tokens: standard deviations 0.0065 (80 %) and 0.0049 (10 %).
    assert abs(c["masked"] / c["selected"] - 0.8) < 0.03
    assert abs(c["random"] / c["selected"] - 0.1) < 0.025
    assert abs(c["kept"] / c["selected"] - 0.1) < 0.025
    assert c["masked"] + c["random"] + c["kept"] == c["selected"]
    kinds = kd.lm.masking_kinds(ids, corrupted, labels, tok)  # the per-position view agrees with the counts
    assert [int((kinds == k).sum()) for k in (2, 3, 4)] == [c["masked"], c["random"], c["kept"]]
    assert int((kinds == 0).sum()) == 2 * 200


def test_labels_are_minus_100_except_on_selected_positions(tok):
    ids = _ordinary_batch(tok, 20, 64)
    corrupted, labels = kd.lm.mask_tokens(ids, tok, seed=3)
    selected = labels != -100
    assert torch.equal(labels[selected], ids[selected])
    assert torch.equal(corrupted[~selected], ids[~selected])  # unselected tokens are never changed
    assert selected.any()


def test_special_tokens_and_padding_never_masked_even_at_probability_one(tok):
    batch = tok(["the state of the union is strong", "short"], padding="max_length", max_length=16,
                return_tensors="pt")
    ids = batch["input_ids"]
    corrupted, labels = kd.lm.mask_tokens(ids, tok, mlm_probability=1.0, seed=0)
    special = kd.lm.special_tokens_mask(ids, tok)
    assert special.sum() > 4  # [CLS], [SEP] and plenty of [PAD]
    assert torch.equal(corrupted[special], ids[special])
    assert (labels[special] == -100).all()
    assert (labels[~special] != -100).all()  # every ordinary token selected at p = 1
    assert kd.lm.masking_counts(ids, corrupted, labels, tok)["special_touched"] == 0


def test_random_replacements_are_ordinary_tokens(tok):
    ids = _ordinary_batch(tok, 100, 64)
    corrupted, labels = kd.lm.mask_tokens(ids, tok, mlm_probability=1.0, seed=5)
    replaced = (labels != -100) & (corrupted != ids) & (corrupted != tok.mask_token_id)
    assert replaced.sum() > 300
    assert not kd.lm.special_tokens_mask(corrupted[replaced], tok).any()


def test_masking_is_reproducible_under_a_seed(tok):
    ids = _ordinary_batch(tok, 8, 32)
    a = kd.lm.mask_tokens(ids, tok, seed=7)
    b = kd.lm.mask_tokens(ids, tok, generator=torch.Generator().manual_seed(7))
    c = kd.lm.mask_tokens(ids, tok, seed=8)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[1], c[1])


def test_mask_tokens_rejects_bad_input_with_a_clear_message(tok):
    ids = _ordinary_batch(tok, 2, 8)
    with pytest.raises(TypeError, match="integer"):
        kd.lm.mask_tokens(ids.float(), tok)
    with pytest.raises(ValueError, match="between 0 and 1"):
        kd.lm.mask_tokens(ids, tok, mlm_probability=15)
    with pytest.raises(ValueError, match="either a generator or a seed"):
        kd.lm.mask_tokens(ids, tok, seed=1, generator=torch.Generator())

    class NoMask:
        mask_token_id = None
    with pytest.raises(ValueError, match=r"no \[MASK\]"):
        kd.lm.mask_tokens(ids, NoMask())


def _tiny_causal_lms():
    from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    llama = LlamaForCausalLM(LlamaConfig(vocab_size=97, hidden_size=32, intermediate_size=64,
                                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                                         max_position_embeddings=64))
    gpt2 = GPT2LMHeadModel(GPT2Config(vocab_size=97, n_embd=32, n_layer=2, n_head=4, n_positions=64,
                                      bos_token_id=1, eos_token_id=2))
    return [llama.eval(), gpt2.eval()]


@pytest.mark.parametrize("model", _tiny_causal_lms(), ids=["llama", "gpt2"])
def test_hand_computed_clm_loss_equals_the_model_loss(model):
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(3, 97, (3, 12), generator=g)
    mask = torch.ones_like(ids)
    mask[1, 9:] = 0  # right padding on two rows
    mask[2, 5:] = 0
    labels = ids.masked_fill(mask == 0, -100)
    with torch.no_grad():
        out = model(input_ids=ids, attention_mask=mask, labels=labels)
    mine = kd.lm.causal_lm_loss(out.logits, ids, mask)
    assert abs(float(mine) - float(out.loss)) < 1e-5
    # The sum of log-likelihoods over sequences is -loss times the number of predicted tokens.
    ll = kd.lm.causal_lm_log_likelihood(out.logits, ids, mask)
    assert ll.shape == (3,)
    assert abs(float(ll.sum()) + float(out.loss) * (11 + 8 + 4)) < 1e-4


def test_log_likelihood_matches_an_explicit_loop_over_tokens():
    torch.manual_seed(1)
    logits = torch.randn(2, 5, 7)
    ids = torch.randint(0, 7, (2, 5))
    ll = kd.lm.causal_lm_log_likelihood(logits, ids)
    for b in range(2):
        expected = sum(math.log(float(logits[b, i - 1].softmax(-1)[ids[b, i]])) for i in range(1, 5))
        assert abs(float(ll[b]) - expected) < 1e-5
    assert abs(kd.lm.perplexity(kd.lm.causal_lm_loss(logits, ids)) - math.exp(-float(ll.sum()) / 8)) < 1e-4


def test_clm_functions_reject_mismatched_shapes():
    with pytest.raises(ValueError, match=r"\[batch, time, vocab\]"):
        kd.lm.causal_lm_loss(torch.randn(2, 5), torch.zeros(2, 5, dtype=torch.long))
    with pytest.raises(ValueError, match="at least 2 tokens"):
        kd.lm.causal_lm_loss(torch.randn(2, 1, 7), torch.zeros(2, 1, dtype=torch.long))


def test_attention_patterns():
    mask = torch.tensor([1, 1, 1, 1, 0])
    bi, causal = kd.lm.attention_pattern("bidirectional", mask), kd.lm.attention_pattern("causal", mask)
    assert bi[:, :4].all() and not bi[:, 4].any()
    assert torch.equal(causal[:4, :4], torch.ones(4, 4, dtype=torch.bool).tril())
    assert not causal[:, 4].any()
    with pytest.raises(ValueError, match="bidirectional"):
        kd.lm.attention_pattern("sideways", mask)
