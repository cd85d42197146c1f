"""Tests of the training loop, the measurement helpers and the MNIST models (tiny and fast)."""
import pytest
import torch
from torch import nn

from kdcourse.measure import count_parameters, cpu_latency, size_on_disk_mb
from kdcourse.mnist_models import CNN, MLP
from kdcourse.train import evaluate, fit, fit_or_load, predict_logits, random_shift


def _blobs(n=400, seed=0):
    """Four well separated Gaussian blobs in 8 dimensions: an easy 4-class problem."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 4
    centers = torch.randn(4, 8, generator=g) * 4
    return centers[y] + torch.randn(n, 8, generator=g), y


def _tiny(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))


def test_fit_learns_and_records_one_entry_per_epoch():
    x, y = _blobs()
    model = _tiny()
    before = evaluate(model, x, y).accuracy
    h = fit(model, (x, y), epochs=3, batch_size=32, lr=1e-2, test=(x, y), progress=False)
    assert len(h.loss) == len(h.train_acc) == len(h.test_acc) == 3
    assert h.loss[-1] < h.loss[0]
    assert h.test_acc[-1] > 0.95 > before
    assert not model.training  # fit leaves the model ready for evaluation


def test_fit_is_reproducible_with_the_same_seed():
    x, y = _blobs()
    runs = []
    for _ in range(2):
        model = _tiny(seed=1)
        fit(model, (x, y), epochs=1, batch_size=16, seed=7, jitter=0, progress=False)
        runs.append(predict_logits(model, x))
    assert torch.equal(runs[0], runs[1])


def test_precomputed_teacher_logits_follow_the_shuffled_batch():
    # A "teacher" that knows the labels perfectly; with alpha = 1 the student sees ONLY its logits.
    # If the logits were not picked with the batch's shuffled indices, the student would learn noise.
    x, y = _blobs()
    teacher_logits = 10 * nn.functional.one_hot(y, 4).float()
    model = _tiny()
    fit(model, (x, y), epochs=3, batch_size=32, lr=1e-2, teacher_logits=teacher_logits,
        temperature=2.0, alpha=1.0, progress=False)
    assert evaluate(model, x, y).accuracy > 0.95


def test_teacher_module_is_put_in_eval_mode_and_not_trained():
    x, y = _blobs()
    teacher = nn.Sequential(nn.Dropout(0.5), _tiny(seed=3))
    fit(teacher[1], (x, y), epochs=2, batch_size=32, lr=1e-2, progress=False)
    teacher.train()
    before = [p.clone() for p in teacher.parameters()]
    student = _tiny()
    fit(student, (x, y), epochs=2, batch_size=32, lr=1e-2, teacher=teacher, temperature=2.0, progress=False)
    assert not teacher.training
    assert all(torch.equal(a, b) for a, b in zip(before, teacher.parameters()))
    assert evaluate(student, x, y).accuracy > 0.9


def test_fit_rejects_misaligned_teacher_logits():
    x, y = _blobs()
    with pytest.raises(ValueError, match="teacher_logits has 10 rows"):
        fit(_tiny(), (x, y), 1, teacher_logits=torch.zeros(10, 4), temperature=2.0, progress=False)


def test_distillation_without_a_temperature_names_the_fix():
    x, y = _blobs()
    with pytest.raises(ValueError, match="temperature must be a number > 0 .*got None"):
        fit(_tiny(), (x, y), 1, teacher_logits=torch.zeros(len(x), 4), progress=False)


def test_evaluate_counts_errors():
    class Fixed(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.zeros(1))

        def forward(self, x):
            return nn.functional.one_hot(x[:, 0].long(), 3).float()

    x = torch.tensor([[0.0], [1.0], [2.0], [2.0]])
    result = evaluate(Fixed(), x, torch.tensor([0, 1, 1, 2]))
    assert (result.errors, result.n, result.accuracy) == (1, 4, 0.75)
    with pytest.raises(ValueError, match="labels"):
        evaluate(Fixed(), x, torch.tensor([0, 1]))


def test_random_shift_moves_pixels_by_at_most_max_shift():
    background = -0.1307 / 0.3081
    x = torch.full((64, 1, 28, 28), background)
    x[:, 0, 14, 14] = 5.0
    shifted = random_shift(x, 2, torch.Generator().manual_seed(0))
    assert shifted.shape == x.shape
    rows, cols = (shifted[:, 0] == 5.0).nonzero()[:, 1:].T
    assert len(rows) == 64 and (rows - 14).abs().max() <= 2 and (cols - 14).abs().max() <= 2
    assert len(set(zip(rows.tolist(), cols.tolist()))) > 10  # each image gets its own shift
    assert torch.equal(random_shift(x, 0), x)


def test_mnist_models_shapes_and_sizes():
    x = torch.zeros(3, 1, 28, 28)
    assert CNN()(x).shape == MLP()(x).shape == (3, 10)
    assert count_parameters(CNN()) == 824_458
    assert count_parameters(MLP((784, 800, 800, 10))) == 1_276_810
    assert CNN().flatten_size == 64 * 7 * 7
    with pytest.raises(RuntimeError, match="4096"):  # flatten size computed for 32x32 images
        CNN(input_size=32)(x)


def test_count_parameters_and_size_on_disk():
    model = nn.Sequential(nn.Linear(1000, 250), nn.Linear(250, 10))
    assert count_parameters(model) == 1000 * 250 + 250 + 250 * 10 + 10
    model[0].requires_grad_(False)
    assert count_parameters(model, trainable_only=True) == 2510
    size = size_on_disk_mb(model)
    assert 4 * 252_760 / 1e6 <= size < 4 * 252_760 / 1e6 + 0.01  # float32 weights + a little metadata


def test_cpu_latency_for_tensor_and_dict_inputs_restores_state():
    class KeywordModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(50, 8)

        def forward(self, input_ids, attention_mask):
            return (self.emb(input_ids) * attention_mask[..., None]).sum(1)

    threads = torch.get_num_threads()
    model = _tiny()
    model.train()
    r = cpu_latency(model, torch.zeros(4, 8), threads=1, warmup=2, runs=11)
    assert set(r) == {"median_ms", "p90_ms", "threads", "runs"}
    assert 0 < r["median_ms"] <= r["p90_ms"] and r["runs"] == 11
    assert model.training and torch.get_num_threads() == threads
    ids = torch.ones(2, 5, dtype=torch.long)
    r = cpu_latency(KeywordModel(), {"input_ids": ids, "attention_mask": ids}, warmup=1, runs=3)
    assert r["median_ms"] > 0
    with pytest.raises(ValueError, match="runs"):
        cpu_latency(model, torch.zeros(4, 8), runs=0)


def test_fit_or_load_trains_once_then_loads(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("KDCOURSE_CACHE", str(tmp_path))
    x, y = _blobs()
    first = _tiny()
    h1 = fit_or_load(first, "teacher", (x, y), 2, batch_size=32, progress=False)
    assert "No cached teacher" in capsys.readouterr().out
    second = _tiny(seed=5)
    h2 = fit_or_load(second, "teacher", (x, y), 2, batch_size=32, progress=False)
    assert "Loaded teacher" in capsys.readouterr().out
    assert h1.loss == h2.loss
    assert torch.equal(predict_logits(first, x), predict_logits(second, x))
    # any changed setting trains anew: a stale teacher is never reused
    fit_or_load(_tiny(), "teacher", (x, y), 2, batch_size=16, progress=False)
    fit_or_load(_tiny(), "teacher", (x[:-1], y[:-1]), 2, batch_size=32, progress=False)
    assert capsys.readouterr().out.count("No cached teacher") == 2
    assert len(list(tmp_path.glob("teacher_*.pt"))) == 3


def test_cosine_schedule_trains_and_bad_schedule_is_rejected():
    x, y = _blobs()
    model = _tiny()
    fit(model, (x, y), 2, batch_size=32, lr=1e-2, lr_schedule="cosine", progress=False)
    assert evaluate(model, x, y).accuracy > 0.9
    with pytest.raises(ValueError, match="lr_schedule"):
        fit(_tiny(), (x, y), 1, lr_schedule="step", progress=False)
