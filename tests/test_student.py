"""make_student: the right layers are copied, nothing is shared, bad layer lists are refused."""
import pytest
import torch
from transformers import BertConfig, BertForMaskedLM, BertForSequenceClassification, BertModel

from kdcourse.distill.student import make_student, parameter_breakdown, random_student, teacher_layer_of, transplant_encoder


def tiny_config(**kw):
    base = dict(vocab_size=60, hidden_size=16, num_hidden_layers=6, num_attention_heads=2,
                intermediate_size=32, max_position_embeddings=32, num_labels=3)
    base.update(kw)
    return BertConfig(**base)


@pytest.mark.parametrize("cls", [BertModel, BertForSequenceClassification, BertForMaskedLM])
def test_copied_weights_equal_the_teachers(cls):
    torch.manual_seed(0)
    teacher = cls(tiny_config())
    layers = (0, 2, 4)
    student = make_student(teacher, layers)
    assert type(student) is cls
    assert student.config.num_hidden_layers == 3 and teacher.config.num_hidden_layers == 6
    t_state = teacher.state_dict()
    for name, tensor in student.state_dict().items():
        assert torch.equal(tensor, t_state[teacher_layer_of(name, layers)]), name
    # layer 1 of the student is teacher layer 2, not teacher layer 1
    s_q = student.state_dict()[[k for k in t_state if "layer.1.attention.self.query.weight" in k][0]]
    t_q1 = t_state[[k for k in t_state if "layer.1.attention.self.query.weight" in k][0]]
    t_q2 = t_state[[k for k in t_state if "layer.2.attention.self.query.weight" in k][0]]
    assert torch.equal(s_q, t_q2) and not torch.equal(s_q, t_q1)


def test_student_shares_no_memory_and_teacher_is_unchanged():
    torch.manual_seed(0)
    teacher = BertForSequenceClassification(tiny_config())
    before = {k: v.clone() for k, v in teacher.state_dict().items()}
    student = make_student(teacher, (1, 3, 5))
    with torch.no_grad():
        for p in student.parameters():
            p.add_(1.0)
    for k, v in teacher.state_dict().items():
        assert torch.equal(v, before[k]), k
    assert teacher.config.num_hidden_layers == 6


def test_mlm_student_keeps_tied_decoder():
    student = make_student(BertForMaskedLM(tiny_config()), (0, 5))
    assert student.cls.predictions.decoder.weight is student.bert.embeddings.word_embeddings.weight


def test_student_computes_like_teacher_when_all_layers_kept():
    torch.manual_seed(0)
    teacher = BertModel(tiny_config()).eval()
    student = make_student(teacher, tuple(range(6))).eval()
    ids = torch.randint(0, 60, (2, 7))
    with torch.no_grad():
        assert torch.allclose(student(ids).last_hidden_state, teacher(ids).last_hidden_state, atol=1e-6)


def test_parameter_breakdown_counts_every_parameter():
    teacher = BertForMaskedLM(tiny_config())
    student = make_student(teacher, (0, 2, 4))
    bt, bs = parameter_breakdown(teacher), parameter_breakdown(student)
    assert bt["total"] == sum(p.numel() for p in teacher.parameters())
    assert bs["embeddings"] == bt["embeddings"] and bs["other"] == bt["other"]
    assert bs["layers"] * 2 == bt["layers"]


@pytest.mark.parametrize("layers, words", [((), "empty"), ((0, 6), "out of range"), ((-1, 2), "out of range"),
                                           ((2, 0), "increasing"), ((0, 0), "increasing"),
                                           ((0, 1.5), "integers"), (3, "sequence")])
def test_bad_layers_are_refused_clearly(layers, words):
    with pytest.raises(ValueError, match=words):
        make_student(BertModel(tiny_config()), layers)


def test_non_hf_model_is_refused():
    with pytest.raises(TypeError, match="config"):
        make_student(torch.nn.Linear(3, 3), (0,))


def test_random_student_has_the_shape_but_not_the_weights():
    teacher = BertForSequenceClassification(tiny_config())
    student, random = make_student(teacher, (0, 2, 4)), random_student(teacher, (0, 2, 4), seed=1)
    assert random.config.num_hidden_layers == 3
    assert [p.shape for p in random.parameters()] == [p.shape for p in student.parameters()]
    assert not torch.equal(random.bert.embeddings.word_embeddings.weight, student.bert.embeddings.word_embeddings.weight)
    again = random_student(teacher, (0, 2, 4), seed=1)
    assert torch.equal(again.classifier.weight, random.classifier.weight)  # seeded


def test_transplant_encoder_moves_the_encoder_and_keeps_the_head():
    torch.manual_seed(0)
    mlm = make_student(BertForMaskedLM(tiny_config()), (0, 1))
    classifier = make_student(BertForSequenceClassification(tiny_config()), (2, 3))
    head = classifier.classifier.weight.clone()
    transplant_encoder(mlm, classifier)
    assert torch.equal(classifier.bert.encoder.layer[1].output.dense.weight, mlm.bert.encoder.layer[1].output.dense.weight)
    assert torch.equal(classifier.bert.embeddings.word_embeddings.weight, mlm.bert.embeddings.word_embeddings.weight)
    assert torch.equal(classifier.classifier.weight, head)
    with pytest.raises(ValueError, match="Shape mismatch"):
        transplant_encoder(mlm, make_student(BertForSequenceClassification(tiny_config(hidden_size=32)), (0, 1)))


# --- every supported family: BERT, DistilBERT, Llama (SmolLM2), GPT-2 --------------------------------
from transformers import (DistilBertConfig, DistilBertForMaskedLM, DistilBertForSequenceClassification,  # noqa: E402
                          GPT2Config, GPT2ForSequenceClassification, GPT2LMHeadModel, GPT2Model, LlamaConfig,
                          LlamaForCausalLM, LlamaForSequenceClassification, T5Config, T5Model)


def tiny_distilbert(**kw):
    return DistilBertConfig(**{**dict(vocab_size=60, dim=16, n_layers=6, n_heads=2, hidden_dim=32,
                                      max_position_embeddings=32, num_labels=3), **kw})


def tiny_llama(**kw):
    return LlamaConfig(**{**dict(vocab_size=60, hidden_size=16, num_hidden_layers=6, num_attention_heads=2,
                                 num_key_value_heads=2, intermediate_size=32, max_position_embeddings=32,
                                 bos_token_id=1, eos_token_id=2, pad_token_id=0, num_labels=3), **kw})


def tiny_gpt2(**kw):
    return GPT2Config(**{**dict(vocab_size=60, n_embd=16, n_layer=6, n_head=2, n_positions=32,
                                bos_token_id=1, eos_token_id=2, pad_token_id=0, num_labels=3), **kw})


# For each model: how to build it, where its layer list is and which modules are its embeddings,
# written out by hand (not taken from kdcourse.families, so that a wrong table there fails here).
FAMILY_CASES = {
    "bert-mlm": (lambda: BertForMaskedLM(tiny_config()), lambda m: m.bert.encoder.layer,
                 lambda m: [m.bert.embeddings]),
    "distilbert-mlm": (lambda: DistilBertForMaskedLM(tiny_distilbert()), lambda m: m.distilbert.transformer.layer,
                       lambda m: [m.distilbert.embeddings]),
    "distilbert-cls": (lambda: DistilBertForSequenceClassification(tiny_distilbert()),
                       lambda m: m.distilbert.transformer.layer, lambda m: [m.distilbert.embeddings]),
    "llama-tied": (lambda: LlamaForCausalLM(tiny_llama(tie_word_embeddings=True)), lambda m: m.model.layers,
                   lambda m: [m.model.embed_tokens]),
    "llama-untied": (lambda: LlamaForCausalLM(tiny_llama(tie_word_embeddings=False)), lambda m: m.model.layers,
                     lambda m: [m.model.embed_tokens]),
    "gpt2-lm": (lambda: GPT2LMHeadModel(tiny_gpt2()), lambda m: m.transformer.h,
                lambda m: [m.transformer.wte, m.transformer.wpe]),
    "gpt2-bare": (lambda: GPT2Model(tiny_gpt2()), lambda m: m.h, lambda m: [m.wte, m.wpe]),
}


def a_matrix(module):
    """The first weight matrix of a module (LayerNorm weights start as all ones in every model)."""
    return next(p for p in module.parameters() if p.dim() == 2)


@pytest.mark.parametrize("case", sorted(FAMILY_CASES))
def test_every_family_copies_exactly_the_chosen_layers(case):
    build, layer_list, _ = FAMILY_CASES[case]
    torch.manual_seed(0)
    teacher = build()
    layers = (1, 3, 4)
    student = make_student(teacher, layers)
    assert type(student) is type(teacher) and student.config.num_hidden_layers == 3
    assert len(layer_list(student)) == 3 and len(layer_list(teacher)) == 6
    for k, t in enumerate(layers):
        t_params = dict(layer_list(teacher)[t].named_parameters())
        s_params = dict(layer_list(student)[k].named_parameters())
        assert s_params.keys() == t_params.keys() and s_params
        for name, p in s_params.items():
            assert torch.equal(p, t_params[name]), (k, name)
    # student layer 0 is teacher layer 1, not teacher layer 0
    assert not torch.equal(a_matrix(layer_list(student)[0]), a_matrix(layer_list(teacher)[0]))
    # everything outside the layers (embeddings, norms, heads) is copied under the same name
    t_state = teacher.state_dict()
    for name, tensor in student.state_dict().items():
        assert torch.equal(tensor, t_state[teacher_layer_of(name, layers)]), name


@pytest.mark.parametrize("case", sorted(FAMILY_CASES))
def test_every_family_student_shares_nothing_and_keeps_ties(case):
    build, _, _ = FAMILY_CASES[case]
    teacher = build()
    student = make_student(teacher, (0, 5))
    t_ptrs = {p.data_ptr() for p in teacher.parameters()}
    assert not any(p.data_ptr() in t_ptrs for p in student.parameters())
    t_out, s_out = teacher.get_output_embeddings(), student.get_output_embeddings()
    if t_out is not None:  # a model with an output layer: tied in the student exactly when in the teacher
        t_tied = t_out.weight is teacher.get_input_embeddings().weight
        assert (s_out.weight is student.get_input_embeddings().weight) == t_tied
        assert t_tied == (case != "llama-untied")
    before = {k: v.clone() for k, v in teacher.state_dict().items()}
    with torch.no_grad():
        for p in student.parameters():
            p.add_(1.0)
    assert all(torch.equal(v, before[k]) for k, v in teacher.state_dict().items())


@pytest.mark.parametrize("case", sorted(FAMILY_CASES))
def test_every_family_parameter_breakdown(case):
    build, layer_list, embeddings = FAMILY_CASES[case]
    teacher = build()
    student = make_student(teacher, (0, 2, 4))
    bt, bs = parameter_breakdown(teacher), parameter_breakdown(student)
    assert bt["embeddings"] == sum(p.numel() for m in embeddings(teacher) for p in m.parameters())
    assert bt["layers"] == sum(p.numel() for p in layer_list(teacher).parameters()) > 0
    assert bt["total"] == sum(p.numel() for p in teacher.parameters())
    assert bs["embeddings"] == bt["embeddings"] and bs["other"] == bt["other"]
    assert bs["layers"] * 2 == bt["layers"]


@pytest.mark.parametrize("case", sorted(FAMILY_CASES))
def test_every_family_random_student_has_the_shape_but_not_the_weights(case):
    build, layer_list, _ = FAMILY_CASES[case]
    teacher = build()
    student, random = make_student(teacher, (0, 2, 4)), random_student(teacher, (0, 2, 4), seed=1)
    assert random.config.num_hidden_layers == 3 and len(layer_list(random)) == 3
    assert [p.shape for p in random.parameters()] == [p.shape for p in student.parameters()]
    assert not torch.equal(a_matrix(layer_list(random)), a_matrix(layer_list(student)))


def test_distilbert_config_layer_count_goes_through_num_hidden_layers():
    student = make_student(DistilBertForMaskedLM(tiny_distilbert()), (0, 3))
    assert student.config.n_layers == 2 and student.config.to_dict()["n_layers"] == 2
    gpt = make_student(GPT2LMHeadModel(tiny_gpt2()), (0, 3))
    assert gpt.config.n_layer == 2 and gpt.config.to_dict()["n_layer"] == 2


@pytest.mark.parametrize("source_cls, target_cls, config, encoder, layer_list, head", [
    (DistilBertForMaskedLM, DistilBertForSequenceClassification, tiny_distilbert, lambda m: m.distilbert,
     lambda m: m.distilbert.transformer.layer, lambda m: [m.pre_classifier, m.classifier]),
    (LlamaForCausalLM, LlamaForSequenceClassification, tiny_llama, lambda m: m.model,
     lambda m: m.model.layers, lambda m: [m.score]),
    (GPT2LMHeadModel, GPT2ForSequenceClassification, tiny_gpt2, lambda m: m.transformer,
     lambda m: m.transformer.h, lambda m: [m.score]),
])
def test_transplant_encoder_for_other_families(source_cls, target_cls, config, encoder, layer_list, head):
    torch.manual_seed(0)
    source = make_student(source_cls(config()), (0, 1))
    target = make_student(target_cls(config()), (2, 3))
    head_before = [p.clone() for m in head(target) for p in m.parameters()]
    assert not torch.equal(a_matrix(layer_list(target)), a_matrix(layer_list(source)))
    transplant_encoder(source, target)
    s_enc, t_enc = dict(encoder(source).named_parameters()), dict(encoder(target).named_parameters())
    assert s_enc.keys() == t_enc.keys()
    for name, p in t_enc.items():  # embeddings, every layer and (causal LMs) the final norm
        assert torch.equal(p, s_enc[name]), name
    assert all(torch.equal(p, q) for p, q in zip([p for m in head(target) for p in m.parameters()], head_before))


def test_transplant_encoder_from_distilbert_mlm_keeps_the_tied_source_intact():
    torch.manual_seed(0)
    mlm = DistilBertForMaskedLM(tiny_distilbert(n_layers=2))
    classifier = DistilBertForSequenceClassification(tiny_distilbert(n_layers=2))
    transplant_encoder(mlm, classifier)
    assert torch.equal(classifier.distilbert.embeddings.word_embeddings.weight, mlm.vocab_projector.weight)
    assert mlm.vocab_projector.weight is mlm.distilbert.embeddings.word_embeddings.weight


@pytest.mark.parametrize("tool", [lambda m: make_student(m, (0,)), lambda m: random_student(m, (0,)),
                                  parameter_breakdown, lambda m: transplant_encoder(m, m)])
def test_unsupported_models_are_refused_naming_the_families(tool):
    t5 = T5Model(T5Config(vocab_size=60, d_model=16, d_kv=8, d_ff=32, num_layers=2, num_heads=2))
    for model in (t5, torch.nn.Linear(3, 3)):
        with pytest.raises(TypeError) as err:
            tool(model)
        message = str(err.value)
        assert type(model).__name__ in message
        for family in ("BERT", "DistilBERT", "Llama", "GPT-2"):
            assert family in message, (family, message)
    with pytest.raises(TypeError, match="'t5'"):
        tool(t5)
