"""A patient and consistent teacher (Beyer et al., 2022, "Knowledge distillation: A good teacher is
patient and consistent"; taught in notebook 03, section 7): the student is trained on exactly the
augmented images the teacher labelled, for many epochs.

Running the teacher on every jittered batch of every epoch costs more than training the student. So a
fixed number of jittered copies of the training set is drawn once (2 bytes per image and copy: its
shift), the teacher labels each copy once, and `kd.fit(..., copies=...)` cycles through them.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from tqdm.auto import tqdm

from .loop import eval_mode, to_model
from .train import shift_images


@dataclass
class JitteredCopies:
    """`n` fixed jittered copies of a training set: offsets[c, k] is the (dy, dx) shift of image k in copy c
    (0..2*max_shift; max_shift = unmoved), and, once labelled, the teacher's logits on each shifted image."""
    offsets: torch.Tensor  # [copies, images, 2] int8
    max_shift: int
    teacher_logits: torch.Tensor | None = None  # [copies, images, classes] float16: 20 bytes per image and copy

    @property
    def n(self) -> int:
        return len(self.offsets)

    def images(self, x: torch.Tensor, copy: int, idx: torch.Tensor) -> torch.Tensor:
        """Images x[idx] as they appear in copy `copy`."""
        return shift_images(x[idx], self.offsets[copy, idx], self.max_shift)


def jittered_copies(n_images: int, copies: int, max_shift: int = 2, seed: int = 0) -> JitteredCopies:
    """Draw `copies` jittered versions of a training set of `n_images` images (shifts only, no pixels)."""
    g = torch.Generator().manual_seed(seed)
    offsets = torch.randint(0, 2 * max_shift + 1, (copies, n_images, 2), generator=g, dtype=torch.int64)
    return JitteredCopies(offsets.to(torch.int8), max_shift)


@torch.no_grad()
def label_copies(teacher: nn.Module, x: torch.Tensor, copies: JitteredCopies, batch_size: int = 1000) -> JitteredCopies:
    """The teacher's logits on every image of every copy, in eval mode and without gradients, stored in
    float16 (the soft targets lose nothing that matters at T >= 1)."""
    rows = []
    with eval_mode(teacher):
        for c in tqdm(range(copies.n), desc="teacher labels the copies"):
            images = (copies.images(x, c, torch.arange(i, min(i + batch_size, len(x))))
                      for i in range(0, len(x), batch_size))
            rows.append(torch.cat([teacher(to_model(batch, teacher)).float().cpu() for batch in images]))
    copies.teacher_logits = torch.stack(rows).half()
    return copies
