"""Consistent distillation: fixed jittered copies, the teacher's labels on them, and `fit` on copies."""
import pytest
import torch
import torch.nn.functional as F

import kdcourse as kd
from kdcourse.consistent import jittered_copies, label_copies
from kdcourse.data import MNIST_MEAN, MNIST_STD
from kdcourse.train import random_shift, shift_images


def _old_random_shift(x, max_shift, generator):  # the implementation the stored notebooks were run with
    b, _, h, w = x.shape
    padded = F.pad(x, (max_shift,) * 4, value=-MNIST_MEAN / MNIST_STD)
    dy, dx = torch.randint(0, 2 * max_shift + 1, (2, b), generator=generator)
    rows = (dy[:, None] + torch.arange(h))[:, :, None]
    cols = (dx[:, None] + torch.arange(w))[:, None, :]
    return padded[torch.arange(b)[:, None, None], 0, rows, cols].unsqueeze(1)


def test_random_shift_draws_the_same_jitter_as_before():
    x = torch.randn(16, 1, 28, 28)
    new = random_shift(x, 2, torch.Generator().manual_seed(5))
    assert torch.equal(new, _old_random_shift(x, 2, torch.Generator().manual_seed(5)))


def test_a_centred_offset_leaves_the_image_and_a_shift_moves_it():
    x = torch.randn(3, 1, 28, 28)
    assert torch.equal(shift_images(x, torch.full((3, 2), 2), 2), x)
    moved = shift_images(x, torch.tensor([[3, 2]] * 3), 2)  # one row down
    assert torch.equal(moved[:, :, :27], x[:, :, 1:])


def test_copies_are_seeded_and_compact():
    a, b = jittered_copies(100, 4, seed=1), jittered_copies(100, 4, seed=1)
    assert torch.equal(a.offsets, b.offsets) and a.offsets.dtype == torch.int8 and a.n == 4
    assert not torch.equal(a.offsets, jittered_copies(100, 4, seed=2).offsets)
    assert int(a.offsets.min()) >= 0 and int(a.offsets.max()) <= 4


def test_teacher_labels_exactly_the_images_of_each_copy():
    torch.manual_seed(0)
    teacher = kd.MLP((784, 16, 10), dropout=0.5).train()
    x = torch.randn(50, 1, 28, 28)
    copies = label_copies(teacher, x, jittered_copies(50, 3, seed=0))
    assert teacher.training  # its mode is given back
    assert copies.teacher_logits.shape == (3, 50, 10) and copies.teacher_logits.dtype == torch.float16
    idx = torch.arange(50)
    with torch.no_grad():
        want = teacher.eval()(copies.images(x, 2, idx))
    assert torch.allclose(copies.teacher_logits[2].float(), want, atol=1e-2)


def test_fit_on_unmoved_copies_equals_fit_on_the_images():
    x, y = torch.randn(64, 1, 28, 28), torch.randint(0, 10, (64,))
    logits = torch.randn(64, 10)
    copies = jittered_copies(64, 2, seed=0)
    copies.offsets.fill_(2)  # no shift: every copy is the training set itself
    copies.teacher_logits = logits.expand(2, 64, 10).half()
    runs = []
    for kwargs in (dict(teacher_logits=logits.half().float()),
                   dict(copies=copies, teacher_logits=copies.teacher_logits)):
        torch.manual_seed(0)
        m = kd.MLP((784, 8, 10))
        kd.fit(m, (x, y), 2, batch_size=16, temperature=2.0, alpha=0.5, progress=False, **kwargs)
        runs.append(m.state_dict())
    assert all(torch.equal(runs[0][k], runs[1][k]) for k in runs[0])


def test_per_copy_logits_without_their_copies_are_refused():
    x, y = torch.randn(8, 1, 28, 28), torch.randint(0, 10, (8,))
    with pytest.raises(ValueError, match="pass the copies"):
        kd.fit(kd.MLP((784, 4, 10)), (x, y), 1, teacher_logits=torch.randn(2, 8, 10), temperature=2.0, progress=False)


def test_validation_indices_split_the_training_set():
    train, val = kd.data.validation_indices(100, 20, seed=0)
    assert len(val) == 20 and len(train) == 80
    assert sorted(torch.cat([train, val]).tolist()) == list(range(100))
    assert torch.equal(val, kd.data.validation_indices(100, 20, seed=0)[1])
    with pytest.raises(ValueError, match="n_validation"):
        kd.data.validation_indices(100, 100)


def test_agreement_counts_same_predictions_right_or_wrong():
    s = torch.tensor([[2.0, 1.0], [0.0, 3.0], [1.0, 0.0], [0.0, 1.0]])
    t = torch.tensor([[5.0, 1.0], [0.0, 1.0], [0.0, 1.0], [3.0, 1.0]])
    assert kd.measure.agreement(s, t) == 0.5
    with pytest.raises(ValueError, match="same examples"):
        kd.measure.agreement(s, t[:3])


def test_raising_a_class_bias_recovers_that_class():
    logits = torch.tensor([[0.0, 1.0, 0.5], [2.0, 0.0, 1.5], [0.0, 0.0, 3.0]])
    labels = torch.tensor([2, 2, 2])
    errors, share = kd.measure.with_class_bias(logits, labels, 2, 0.0)
    assert errors == 2 and share == pytest.approx(1 / 3)
    assert kd.measure.with_class_bias(logits, labels, 2, 1.0) == (0, 1.0)
