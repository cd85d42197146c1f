"""Small-scale pretraining: data packing, the MLM loss on masked positions, training loops that
learn, the frozen-encoder MLM head, and the cached MLM teacher."""
import dataclasses

import pytest
import torch
from transformers import BertConfig, BertForMaskedLM

import kdcourse as kd
from kdcourse import lm

TEXTS = ["The state of the Union is strong, and the Congress will act.",
         "I ask the Congress to pass this bill and send it to my desk."] * 20


@pytest.fixture(scope="module")
def small():
    """The smoke profile with tiny model sizes for fast tests."""
    p = kd.get_profile("smoke")
    return dataclasses.replace(p, pretrain=dataclasses.replace(p.pretrain, hidden_size=32, max_length=16))


def test_pack_blocks_frames_mlm_blocks_and_keeps_clm_blocks_plain(tok):
    mlm = kd.lm.pack_blocks(TEXTS, tok, 16, kind="mlm")
    clm = kd.lm.pack_blocks(TEXTS, tok, 16, kind="clm")
    assert mlm.shape[1] == 16 and clm.shape[1] == 16
    assert (mlm[:, 0] == tok.cls_token_id).all() and (mlm[:, -1] == tok.sep_token_id).all()
    assert not (clm == tok.cls_token_id).any() and not (clm == tok.pad_token_id).any()
    # Every token of the stream is used once: the passages and their [SEP] separators.
    n_tokens = sum(len(tok(t, add_special_tokens=False)["input_ids"]) + 1 for t in TEXTS)
    assert clm.numel() == n_tokens // 16 * 16
    with pytest.raises(ValueError, match="kind"):
        kd.lm.pack_blocks(TEXTS, tok, 16, kind="seq2seq")
    with pytest.raises(ValueError, match="too few"):
        kd.lm.pack_blocks(["tiny"], tok, 64)


def test_mlm_loss_on_masked_positions_equals_the_library_loss(tok, small):
    model = kd.lm.tiny_bert(tok, small).eval()
    blocks = kd.lm.pack_blocks(TEXTS, tok, 16)
    data = kd.lm.fixed_masked_set(blocks, tok, seed=0)
    with torch.no_grad():
        library = model(**data).loss  # logits at every position, -100 ignored
        mine = kd.lm.mlm_loss(model, data["input_ids"], data["attention_mask"], data["labels"])
    assert abs(float(library) - float(mine)) < 1e-5


def test_tiny_models_have_the_profile_sizes(tok, small):
    bert, gpt = kd.lm.tiny_bert(tok, small), kd.lm.tiny_gpt(tok, small)
    assert bert.config.hidden_size == gpt.config.n_embd == 32
    assert bert.config.vocab_size == gpt.config.vocab_size == len(tok)
    # Same seed -> same initial weights (a rerun gives the same numbers).
    assert torch.equal(bert.bert.embeddings.word_embeddings.weight,
                       kd.lm.tiny_bert(tok, small).bert.embeddings.word_embeddings.weight)


def test_train_mlm_and_train_clm_lower_the_held_out_loss(tok, small):
    blocks = kd.lm.pack_blocks(TEXTS, tok, 16)
    data = kd.lm.fixed_masked_set(blocks[:8], tok, seed=0)
    bert = kd.lm.tiny_bert(tok, small)
    h = kd.lm.train_mlm(bert, blocks, tok, steps=20, batch_size=8, learning_rate=1e-2, eval_data=data,
                     eval_every=10, seed=0)
    assert len(h["loss"]) == 20 and h["eval_step"] == [0, 10, 20]
    assert h["eval_loss"][-1] < h["eval_loss"][0] - 1.0

    cblocks = kd.lm.pack_blocks(TEXTS, tok, 16, kind="clm")
    gpt = kd.lm.tiny_gpt(tok, small)
    before = kd.lm.evaluate_clm(gpt, cblocks)["loss"]
    h = kd.lm.train_clm(gpt, cblocks, steps=20, batch_size=4, learning_rate=1e-2, seed=0)
    assert kd.lm.evaluate_clm(gpt, cblocks)["loss"] < before - 2.0
    assert not gpt.training  # handed back in eval mode


def _tiny_pretrained_like(tok):
    torch.manual_seed(0)
    return BertForMaskedLM(BertConfig(vocab_size=len(tok), hidden_size=32, num_hidden_layers=1,
                                      num_attention_heads=1, intermediate_size=64,
                                      max_position_embeddings=16)).eval()


def test_mlm_head_training_leaves_the_encoder_and_embeddings_untouched(tok):
    model = _tiny_pretrained_like(tok)
    encoder_before = {k: v.clone() for k, v in model.bert.state_dict().items()}
    data = kd.lm.fixed_masked_set(kd.lm.pack_blocks(TEXTS, tok, 16), tok, seed=0)
    encoded = kd.lm.encode_masked(model, data)
    # Cached evaluation equals the full forward pass (the encoder is frozen, so nothing differs).
    full, cached = kd.lm.evaluate_mlm(model, data), kd.lm.evaluate_mlm_head(model, encoded)
    assert abs(full["loss"] - cached["loss"]) < 1e-4 and full["top5"] == cached["top5"]
    h = kd.lm.train_mlm_head(model, encoded, steps=20, batch_size=4, learning_rate=1e-2, eval_encoded=encoded,
                          eval_every=10)
    assert h["eval_loss"][-1] < h["eval_loss"][0]
    for k, v in model.bert.state_dict().items():
        assert torch.equal(v, encoder_before[k]), f"{k} changed although the encoder is frozen"
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable == {"cls.predictions.bias", "cls.predictions.transform.dense.weight",
                         "cls.predictions.transform.dense.bias", "cls.predictions.transform.LayerNorm.weight",
                         "cls.predictions.transform.LayerNorm.bias"}


def test_mlm_teacher_is_built_saved_and_reloaded(tok, tmp_path, monkeypatch):
    monkeypatch.setenv("KDCOURSE_CACHE", str(tmp_path))
    p = kd.get_profile("smoke")
    fresh, missing = kd.lm.load_encoder_with_mlm_head(p)
    assert "cls.predictions.transform.dense.weight" in missing  # MiniLM ships without an MLM head
    teacher = kd.lm.load_mlm_teacher(p)  # absent -> built in the smoke budget and saved
    folder = kd.lm.mlm_teacher_dir(p)
    assert folder.parent == tmp_path and folder.name.startswith("mlm_teacher_smoke_")
    import dataclasses
    edited = dataclasses.replace(p, pretrain=dataclasses.replace(p.pretrain, steps=p.pretrain.steps + 1))
    assert kd.lm.mlm_teacher_dir(edited) != folder  # an edited profile never reuses a stale teacher
    assert (folder / "config.json").exists() and (folder / "history.json").exists()
    again = kd.lm.load_mlm_teacher(p)  # present -> loaded
    enc = tok(["the state of the [MASK] is strong."], return_tensors="pt")
    with torch.no_grad():
        a, b, c = teacher(**enc).logits, again(**enc).logits, fresh(**enc).logits
    assert torch.allclose(a, b, atol=1e-5)
    assert not torch.allclose(a, c, atol=1e-3)  # the head was trained
    # The encoder itself is MiniLM's, unchanged.
    assert torch.equal(again.bert.encoder.layer[0].attention.self.query.weight,
                       fresh.bert.encoder.layer[0].attention.self.query.weight)


def test_builders_leave_the_callers_random_state_alone(tok, small):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    a = kd.lm.tiny_bert(tok, small, seed=5)
    assert torch.equal(torch.rand(3), expected)  # no hidden reseeding
    b = kd.lm.tiny_bert(tok, small, seed=5)
    assert all(torch.equal(x, y) for x, y in zip(a.parameters(), b.parameters()))  # same seed, same weights


def test_fill_mask_and_continue_text(tok, small):
    bert = kd.lm.tiny_bert(tok, small)
    out = kd.lm.fill_mask(bert, tok, "the state of the [MASK] is [MASK].", top_k=3)
    assert len(out) == 2 and len(out[0]) == 3
    with pytest.raises(ValueError, match=r"\[MASK\]"):
        kd.lm.fill_mask(bert, tok, "no mask here")
    gpt = kd.lm.tiny_gpt(tok, small)
    a = kd.lm.continue_text(gpt, tok, "the state of", 5, sample=True, seed=1)
    assert a == kd.lm.continue_text(gpt, tok, "the state of", 5, sample=True, seed=1)
    with pytest.raises(TypeError, match="BertForMaskedLM"):
        lm.mlm_loss(gpt, None, None, torch.zeros(1, 1, dtype=torch.long))


def test_random_init_control_is_the_encoder_architecture_with_random_weights(tok):
    p = kd.get_profile("smoke")
    pretrained, _ = kd.lm.load_encoder_with_mlm_head(p)
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    control = kd.lm.random_encoder_with_mlm_head(p)
    assert torch.equal(torch.rand(3), expected)  # built under its own seed: no hidden reseeding
    shape = ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
             "max_position_embeddings", "hidden_act", "layer_norm_eps")
    assert all(getattr(control.config, k) == getattr(pretrained.config, k) for k in shape)
    assert control.num_parameters() == pretrained.num_parameters()  # same size: only the weights differ
    query = lambda m: m.bert.encoder.layer[0].attention.self.query.weight  # noqa: E731
    assert not torch.allclose(query(control), query(pretrained))
    assert torch.equal(query(control), query(kd.lm.random_encoder_with_mlm_head(p)))  # same seed, same weights
    assert not control.training


def test_teacher_and_control_share_one_recipe_and_one_scoring(tok):
    p = kd.get_profile("smoke")
    small = dataclasses.replace(p, pretrain=dataclasses.replace(p.pretrain, head_sequences=8, steps=4, batch_size=4,
                                                                eval_every=2))
    eval_data = kd.lm.fixed_masked_set(kd.lm.pack_blocks(TEXTS, tok, small.pretrain.max_length), tok, seed=0)
    control = kd.lm.random_init_control(small, tok, eval_data=eval_data)
    _, teacher = kd.lm.build_mlm_teacher(small, tok, eval_data=eval_data, save=False)
    assert control["head_sequences"] == teacher["settings"]["head_sequences"] == 8
    assert len(control["loss"]) == len(teacher["loss"]) == 4 and control["eval_step"] == teacher["eval_step"]
    scored = int((eval_data["labels"] != -100).sum())
    for key in ("heldout_before", "heldout"):  # the same held-out masked tokens for both
        assert control[key]["masked_tokens"] == teacher[key]["masked_tokens"] == scored
    assert control["parameters"] == kd.lm.load_encoder_with_mlm_head(small)[0].num_parameters()
    assert control["heldout"] != teacher["heldout"]  # different weights, different scores


def test_mlm_results_table_lines_up_models_scored_on_the_same_tokens():
    a = {"top1": 0.125, "top5": 0.25, "perplexity": 512.0, "masked_tokens": 80}
    table = kd.lm.mlm_results_table({"tiny BERT": a, "MiniLM random weights": dict(a, top1=0.05)})
    lines = table.splitlines()
    assert len(lines) == 3 and "80 held-out masked tokens" in lines[0]
    assert "12.5%" in lines[1] and "5.0%" in lines[2] and "512.0" in lines[1]
    with pytest.raises(ValueError, match="same fixed masked set"):
        kd.lm.mlm_results_table({"a": a, "b": dict(a, masked_tokens=81)})


def test_word_order_test_scores_each_sentence_and_its_shuffle(tok, small, capsys):
    gpt = kd.lm.tiny_gpt(tok, small)
    sentences = ["the state of the union is strong .", "we must balance the budget ."]
    order = kd.lm.word_order_test(gpt, tok, sentences, seed=3)
    assert order["real"][0] == pytest.approx(kd.lm.sentence_perplexity(gpt, tok, sentences[0])["perplexity"])
    shuffled = kd.lm.sentence_perplexity(gpt, tok, kd.lm.shuffle_words(sentences[1], seed=4))["perplexity"]
    assert order["shuffled"][1] == pytest.approx(shuffled)  # sentence i is shuffled with seed + i
    assert order["wins"] == sum(r < s for r, s in zip(order["real"], order["shuffled"]))
    ratios = [s / r for r, s in zip(order["real"], order["shuffled"])]
    assert order["ratio"] == pytest.approx((ratios[0] * ratios[1]) ** 0.5)  # the geometric mean
    assert sentences[0] in capsys.readouterr().out


def test_notebook_01_figures_draw():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    counts = {"eligible": 1000, "selected": 150, "masked": 120, "random": 15, "kept": 15}
    assert kd.plots.plot_masking_counts(counts).get_title().startswith("The 80/10/10 rule counted over 1,000")
    kd.plots.plot_word_order({"real": [10.0, 20.0], "shuffled": [100.0, 90.0]}, title="order")
    r = {"top1": 0.1, "top5": 0.2}
    ax = kd.plots.plot_masked_accuracy({"a": r, "b": r, "c": r}, title="accuracy")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b", "c"]
    plt.close("all")


def test_mlm_head_scores_do_not_depend_on_the_evaluation_batch(tok):
    # the control is scored in smaller batches than the teacher (memory): the same scores
    model = _tiny_pretrained_like(tok)
    encoded = kd.lm.encode_masked(model, kd.lm.fixed_masked_set(kd.lm.pack_blocks(TEXTS, tok, 16), tok, seed=0))
    whole, chunked = kd.lm.evaluate_mlm_head(model, encoded), kd.lm.evaluate_mlm_head(model, encoded, batch_size=7)
    assert whole["masked_tokens"] == chunked["masked_tokens"] > 7
    assert whole["top1"] == chunked["top1"] and whole["top5"] == chunked["top5"]
    assert whole["loss"] == pytest.approx(chunked["loss"], rel=1e-5)
