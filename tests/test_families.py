"""kdcourse.families: each family's layers, embeddings and masked-LM head are found where they are,
the masked-LM tools work on DistilBERT as on BERT, and other models are refused clearly."""
import pytest
import torch
from transformers import (BertConfig, BertForMaskedLM, BertForSequenceClassification, BertModel, DistilBertConfig,
                          DistilBertForMaskedLM, DistilBertModel, GPT2Config, GPT2LMHeadModel, GPT2Model, LlamaConfig,
                          LlamaForCausalLM, LlamaModel, RobertaConfig, RobertaForMaskedLM, T5Config, T5Model)

import kdcourse as kd
from kdcourse import families, lm


def bert(cls=BertForMaskedLM, vocab_size=60, **kw):
    return cls(BertConfig(vocab_size=vocab_size, hidden_size=16, num_hidden_layers=4, num_attention_heads=2,
                          intermediate_size=32, max_position_embeddings=32, **kw))


def distilbert(cls=DistilBertForMaskedLM, vocab_size=60, **kw):
    return cls(DistilBertConfig(vocab_size=vocab_size, dim=16, n_layers=4, n_heads=2, hidden_dim=32,
                                max_position_embeddings=32, **kw))


def llama(cls=LlamaForCausalLM):
    return cls(LlamaConfig(vocab_size=60, hidden_size=16, num_hidden_layers=4, num_attention_heads=2,
                           num_key_value_heads=2, intermediate_size=32, max_position_embeddings=32,
                           bos_token_id=1, eos_token_id=2))


def gpt2(cls=GPT2LMHeadModel):
    return cls(GPT2Config(vocab_size=60, n_embd=16, n_layer=4, n_head=2, n_positions=32, bos_token_id=1,
                          eos_token_id=2))


def t5():
    return T5Model(T5Config(vocab_size=60, d_model=16, d_kv=8, d_ff=32, num_layers=2, num_heads=2))


MODELS = {"bert": bert, "distilbert": distilbert, "llama": llama, "gpt2": gpt2}
# One parameter name of layer 3 and one of the word embeddings, per family, as the model names them.
LAYER_3 = {"bert": "bert.encoder.layer.3.attention.self.query.weight",
           "distilbert": "distilbert.transformer.layer.3.attention.q_lin.weight",
           "llama": "model.layers.3.self_attn.q_proj.weight", "gpt2": "transformer.h.3.attn.c_attn.weight"}
WORDS = {"bert": "bert.embeddings.word_embeddings.weight", "distilbert": "distilbert.embeddings.word_embeddings.weight",
         "llama": "model.embed_tokens.weight", "gpt2": "transformer.wte.weight"}


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_layer_pattern_finds_the_layer_number(kind):
    model = MODELS[kind]()
    names = dict(model.named_parameters())
    assert LAYER_3[kind] in names and WORDS[kind] in names  # the names above are real
    pattern = families.layer_pattern(model)
    assert pattern.search(LAYER_3[kind]).group(3) == "3"
    assert pattern.search(WORDS[kind]) is None
    layer_names = [n for n in names if pattern.search(n)]
    assert {pattern.search(n).group(3) for n in layer_names} == {"0", "1", "2", "3"}
    # teacher_layer_of renumbers with the pattern of any family: student layer 3 <- teacher layer 7
    assert kd.distill.student.teacher_layer_of(LAYER_3[kind], (0, 2, 5, 7)) == LAYER_3[kind].replace(".3.", ".7.")


def test_layer_patterns_do_not_match_other_families_names():
    assert families.layer_pattern(bert()).search(LAYER_3["distilbert"]) is None
    assert families.layer_pattern(distilbert()).search(LAYER_3["bert"]) is None
    assert families.layer_pattern(gpt2()).search(LAYER_3["llama"]) is None
    assert families.layer_pattern(llama()).search(LAYER_3["gpt2"]) is None


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_is_embedding(kind):
    model = MODELS[kind]()
    assert families.is_embedding(WORDS[kind], model)
    assert not families.is_embedding(LAYER_3[kind], model)
    embedded = [n for n, _ in model.named_parameters() if families.is_embedding(n, model)]
    expected = {"bert": 5, "distilbert": 4, "llama": 1, "gpt2": 2}[kind]  # word, position, (type), LayerNorm
    assert len(embedded) == expected, embedded


@pytest.mark.parametrize("model, encoder_cls", [(bert(), BertModel), (bert(BertForSequenceClassification), BertModel),
                                                (distilbert(), DistilBertModel), (llama(), LlamaModel),
                                                (gpt2(), GPT2Model)])
def test_encoder_of_is_the_bare_transformer(model, encoder_cls):
    encoder = families.encoder_of(model)
    assert type(encoder) is encoder_cls
    assert any(encoder is m for m in model.children())  # the model's own module, not a copy
    bare = encoder_cls(model.config)
    assert families.encoder_of(bare) is bare


def test_encoder_is_embeddings_layers_and_final_norm():
    g, lm = gpt2(), llama()
    assert families.is_encoder("transformer.ln_f.weight", g) and families.is_encoder("transformer.wpe.weight", g)
    assert families.is_encoder(LAYER_3["gpt2"], g) and not families.is_encoder("lm_head.weight", g)
    assert families.is_encoder("model.norm.weight", lm) and not families.is_encoder("lm_head.weight", lm)
    assert not families.is_encoder("model.layers.0.input_layernorm.weight.x", bert())
    b = bert(BertForSequenceClassification)
    assert not families.is_encoder("bert.pooler.dense.weight", b) and not families.is_encoder("classifier.weight", b)


def test_num_hidden_layers_is_every_familys_layer_count():
    for model, n in ((bert(), 4), (distilbert(), 4), (llama(), 4), (gpt2(), 4)):
        assert model.config.num_hidden_layers == n
    d, g = distilbert().config, gpt2().config
    d.num_hidden_layers, g.num_hidden_layers = 2, 3
    assert d.n_layers == 2 and g.n_layer == 3


@pytest.mark.parametrize("build", [bert, distilbert])
def test_mlm_logits_equal_the_models_own_logits(build):
    torch.manual_seed(0)
    model = build().eval()
    ids = torch.randint(0, 60, (2, 7))
    mask = torch.ones_like(ids)
    with torch.no_grad():
        own = model(input_ids=ids, attention_mask=mask).logits
        hidden = families.encoder_of(model)(input_ids=ids, attention_mask=mask).last_hidden_state
        mine = families.mlm_logits(model, hidden)
    assert mine.shape == (2, 7, 60)
    assert torch.equal(mine, own)


@pytest.mark.parametrize("model", [bert(BertModel), bert(BertForSequenceClassification), gpt2(), llama(),
                                   torch.nn.Linear(3, 3),
                                   RobertaForMaskedLM(RobertaConfig(vocab_size=60, hidden_size=16, num_hidden_layers=1,
                                                                    num_attention_heads=2, intermediate_size=32))])
def test_check_masked_lm_refuses_other_models_with_a_fix(model):
    with pytest.raises(TypeError, match=rf"BertForMaskedLM or DistilBertForMaskedLM\), got {type(model).__name__}"):
        families.require_masked_lm(model)
    with pytest.raises(TypeError, match="tiny_bert"):
        families.mlm_logits(model, torch.zeros(1, 16))
    assert families.require_masked_lm(bert()).name == "BERT"
    assert families.require_masked_lm(distilbert()).name == "DistilBERT"


@pytest.mark.parametrize("model", [t5(), torch.nn.Linear(3, 3)])
def test_unsupported_models_are_refused_naming_the_families(model):
    for tool in (families.family_of, families.layer_pattern, families.encoder_of,
                 lambda m: families.is_embedding("x.weight", m)):
        with pytest.raises(TypeError) as err:
            tool(model)
        message = str(err.value)
        assert type(model).__name__ in message
        assert all(f.name in message for f in families.FAMILIES) and "GPT-2" in message
    with pytest.raises(TypeError, match="'t5'" if isinstance(model, T5Model) else "no Hugging Face `.config`"):
        families.family_of(model)


def test_roberta_is_of_the_bert_family():
    model = RobertaForMaskedLM(RobertaConfig(vocab_size=60, hidden_size=16, num_hidden_layers=2,
                                             num_attention_heads=2, intermediate_size=32))
    assert families.family_of(model).name == "BERT"
    student = kd.distill.make_student(model, (1,))
    assert torch.equal(student.roberta.encoder.layer[0].output.dense.weight,
                       model.roberta.encoder.layer[1].output.dense.weight)


# --- the masked-LM tools of kdcourse.pretrain on DistilBERT ------------------------------------------

def test_freeze_all_but_mlm_head_on_distilbert():
    model = distilbert()
    trainable = lm.freeze_all_but_mlm_head(model)
    expected = [*model.vocab_transform.parameters(), *model.vocab_layer_norm.parameters(), model.vocab_projector.bias]
    assert [id(p) for p in trainable] == [id(p) for p in expected]
    assert {n for n, p in model.named_parameters() if p.requires_grad} == {
        "vocab_transform.weight", "vocab_transform.bias", "vocab_layer_norm.weight", "vocab_layer_norm.bias",
        "vocab_projector.bias"}
    assert model.vocab_projector.weight is model.distilbert.embeddings.word_embeddings.weight  # still tied
    assert not model.vocab_projector.weight.requires_grad


def test_freeze_all_but_mlm_head_on_bert_is_unchanged():
    model = bert()
    head = model.cls.predictions
    trainable = lm.freeze_all_but_mlm_head(model)
    assert [id(p) for p in trainable] == [id(p) for p in [*head.transform.parameters(), head.bias]]
    assert sum(p.requires_grad for p in model.parameters()) == 5


def masked_batch(vocab_size=60, seed=0):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(5, vocab_size, (3, 8), generator=g)
    labels = torch.full_like(ids, -100)
    labels[:, 2], labels[0, 5] = ids[:, 2], ids[0, 5]
    return ids, torch.ones_like(ids), labels


@pytest.mark.parametrize("build", [bert, distilbert])
def test_masked_positions_logits_equal_the_full_logits_there(build):
    torch.manual_seed(0)
    model = build().eval()
    ids, mask, labels = masked_batch()
    with torch.no_grad():
        logits, targets = lm.masked_positions_logits(model, ids, mask, labels)
        full = model(input_ids=ids, attention_mask=mask).logits
        library_loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        mine = lm.mlm_loss(model, ids, mask, labels)
    assert logits.shape == (4, 60) and torch.equal(targets, labels[labels != -100])
    assert torch.allclose(logits, full[labels != -100], atol=1e-6)
    assert abs(float(mine) - float(library_loss)) < 1e-5


def test_encode_masked_and_head_evaluation_match_evaluate_mlm_on_distilbert():
    torch.manual_seed(0)
    model = distilbert().eval()
    ids, mask, labels = masked_batch(seed=1)
    data = {"input_ids": ids, "attention_mask": mask, "labels": labels}
    encoded = lm.encode_masked(model, data, batch_size=2)
    assert encoded["hidden"].shape == (4, 16) and encoded["hidden"].device.type == "cpu"
    assert encoded["sequence"].tolist() == [0, 0, 1, 2]
    cached, direct = lm.evaluate_mlm_head(model, encoded), lm.evaluate_mlm(model, data)
    assert cached["masked_tokens"] == direct["masked_tokens"] == 4
    assert abs(cached["loss"] - direct["loss"]) < 1e-5


def test_train_mlm_head_on_distilbert_trains_only_the_head():
    torch.manual_seed(0)
    model = distilbert()
    ids, mask, labels = masked_batch(seed=2)
    encoded = lm.encode_masked(model, {"input_ids": ids, "attention_mask": mask, "labels": labels})
    before = {k: v.clone() for k, v in model.state_dict().items()}
    lm.train_mlm_head(model, encoded, steps=3, batch_size=2, learning_rate=1e-2)
    changed = {k for k, v in model.state_dict().items() if not torch.equal(v, before[k])}
    assert changed == {"vocab_transform.weight", "vocab_transform.bias", "vocab_layer_norm.weight",
                       "vocab_layer_norm.bias", "vocab_projector.bias"}


def test_fill_mask_on_distilbert(tok):
    torch.manual_seed(0)
    model = distilbert(vocab_size=len(tok), pad_token_id=tok.pad_token_id)
    text = "the state of the [MASK] is [MASK]."
    out = kd.lm.fill_mask(model, tok, text, top_k=3)
    assert len(out) == 2 and all(len(p) == 3 for p in out)
    assert all(isinstance(t, str) and type(p) is float for proposals in out for t, p in proposals)
    enc = tok(text, return_tensors="pt")
    with torch.no_grad():
        logits = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).logits[0]
    where = (enc["input_ids"][0] == tok.mask_token_id).nonzero()[:, 0]
    for proposals, pos in zip(out, where):
        probs, best = logits[pos].softmax(-1).topk(3)
        assert [t for t, _ in proposals] == tok.convert_ids_to_tokens(best.tolist())
        assert [p for _, p in proposals] == pytest.approx(probs.tolist(), abs=1e-6)
    with pytest.raises(TypeError, match="DistilBertForMaskedLM"):
        kd.lm.fill_mask(gpt2(), tok, text)


def test_general_distillation_runs_on_distilbert(tok):
    torch.manual_seed(0)
    teacher = distilbert(vocab_size=len(tok), pad_token_id=tok.pad_token_id).eval()
    student = kd.distill.make_student(teacher, (0, 2))
    blocks = torch.randint(1000, 2000, (6, 12))
    blocks[:, 0], blocks[:, -1] = tok.cls_token_id, tok.sep_token_id
    history = kd.distill.general_distillation(student, teacher, blocks, tok, steps=3, batch_size=2,
                                                learning_rate=1e-4, temperature=2.0, progress=False)
    assert len(history["loss"]) == 3 and all(torch.isfinite(torch.tensor(history["loss"])))
    assert history["cos"][0] > 0  # two layers of four: the student's states differ from the teacher's
