"""make_student: the right layers are copied, nothing is shared, bad layer lists are refused."""
import pytest
import torch
from transformers import BertConfig, BertForMaskedLM, BertForSequenceClassification, BertModel

from kdcourse.student import make_student, parameter_breakdown, random_student, teacher_layer_of, transplant_encoder


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
