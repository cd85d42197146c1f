"""Build a shallower student from a teacher, the way DistilBERT was made.

DistilBERT (Sanh et al., 2019) keeps BERT's architecture, halves the number of layers, and starts
the student from the teacher itself: the embeddings are copied and the student's layer i is a copy
of one of the teacher's layers (DistilBERT took every other one). A student that starts there
begins close to a good solution instead of from random weights; the notebook measures how much
that is worth.

The same recipe works for every family listed in `kdcourse.families`: BERT (and RoBERTa),
DistilBERT, and the causal LMs Llama (SmolLM2, ...) and GPT-2. That module says where each keeps
its layers and embeddings; any other model is refused with a TypeError naming those families.
"""
from __future__ import annotations

import copy

import torch

from .. import families
from ..seed import seeded


def _num_layers(model) -> int:
    """The number of transformer layers of `model` (config.num_hidden_layers, in every family).
    Asking families.family_of first refuses unsupported models with a clear message."""
    families.family_of(model)
    return int(model.config.num_hidden_layers)


def strided_layers(teacher, stride: int = 2) -> tuple[int, ...]:
    """Every `stride`-th teacher layer from the first: (0, 2, 4) of a 6-layer teacher, (0, 2, ..., 10) of
    bert-base's 12, as DistilBERT chose. Derived from the teacher's depth, so any teacher gets a valid
    student. Taught in notebook 04."""
    return tuple(range(0, teacher.config.num_hidden_layers, stride))


def spread_layers(teacher, count: int) -> tuple[int, ...]:
    """`count` teacher layers spread evenly from the first to the last: (0, 6, 12, 17, 23, 29) of SmolLM2-135M's
    30 layers for 6. Derived from the teacher's depth, so any teacher gets a valid student. Taught in notebook 06."""
    n, m = teacher.config.num_hidden_layers, min(count, teacher.config.num_hidden_layers)
    if m == 1:
        return (0,)
    return tuple(round(i * (n - 1) / (m - 1)) for i in range(m))


def validate_layers(layers, num_teacher_layers: int) -> tuple[int, ...]:
    """The chosen teacher layers as a tuple, or a ValueError that says what is wrong and how to fix it."""
    try:
        chosen = tuple(layers)
    except TypeError:
        raise ValueError(f"layers must be a sequence of teacher layer indices such as (0, 2, 4), "
                         f"got {layers!r}.") from None
    if not chosen:
        raise ValueError("layers is empty: choose at least one teacher layer, e.g. layers=(0, 2, 4).")
    valid = f"0..{num_teacher_layers - 1}"
    for i in chosen:
        if isinstance(i, bool) or not isinstance(i, int):
            raise ValueError(f"Layer indices must be integers in {valid}; got {i!r} in {chosen}.")
        if not 0 <= i < num_teacher_layers:
            raise ValueError(f"Layer index {i} is out of range: the teacher has {num_teacher_layers} "
                             f"layers, numbered {valid}. Got layers={chosen}.")
    if any(b <= a for a, b in zip(chosen, chosen[1:])):
        raise ValueError(f"layers must be strictly increasing (each teacher layer once, in order, so "
                         f"the student keeps the teacher's order of computation); got {chosen}. "
                         f"Try {tuple(sorted(set(chosen)))}.")
    return chosen


def make_student(teacher: torch.nn.Module, layers=(0, 2, 4)) -> torch.nn.Module:
    """A copy of `teacher` that keeps only the teacher layers listed in `layers`.

    The student has the teacher's class and configuration except `num_hidden_layers = len(layers)`.
    Every weight outside the layer stack (embeddings, pooler, classification or MLM head) is copied;
    student layer k is a copy of teacher layer `layers[k]`. The teacher is not modified, and the
    student shares no tensor with it (training one never changes the other).

    Example: DistilBERT = make_student(bert_base, layers=(0, 2, 4, 6, 8, 10)).
    """
    chosen = validate_layers(layers, _num_layers(teacher))
    pattern = families.layer_pattern(teacher)

    teacher_state = teacher.state_dict()
    if not any(pattern.search(k) for k in teacher_state):
        raise TypeError(f"{type(teacher).__name__} keeps no layers under `{families.family_of(teacher).layers}`, "
                        f"where its family keeps them: check the model, or its row in kdcourse/families.py.")

    student_config = copy.deepcopy(teacher.config)
    student_config.num_hidden_layers = len(chosen)
    student = type(teacher)(student_config)

    # student layer k  <-  teacher layer chosen[k]; every other weight keeps its name
    new_state = {k: teacher_state[teacher_layer_of(k, chosen, pattern)].detach().clone()
                 for k in student.state_dict()}
    student.load_state_dict(new_state, strict=True)
    student.tie_weights()  # an MLM decoder or LM head shares the word embeddings, as in the teacher
    first = next(teacher.parameters())
    return student.to(device=first.device, dtype=first.dtype).train(teacher.training)


def teacher_layer_of(student_key: str, layers, pattern=None) -> str:
    """The teacher parameter name a student parameter is copied from: 'encoder.layer.k.' becomes
    'encoder.layer.{layers[k]}.' (or 'transformer.layer.k.', 'layers.k.', 'h.k.', by family);
    names outside the layer stack stay the same. `pattern`: families.layer_pattern(model), or any family's."""
    chosen = tuple(layers)
    pattern = pattern or families.ANY_LAYER
    return pattern.sub(lambda m: f"{m.group(1)}{m.group(2)}.{chosen[int(m.group(3))]}.", student_key, count=1)


def parameter_breakdown(model: torch.nn.Module) -> dict[str, int]:
    """Parameters by where they live: embeddings, the transformer layers, and the rest (pooler, heads).

    Shared (tied) tensors are counted once, where they first appear: an MLM decoder tied to the word
    embeddings adds nothing. This shows why halving the layers does not halve a small model: the
    30,522 x hidden word-embedding table stays whole.
    """
    pattern = families.layer_pattern(model)
    groups = {"embeddings": 0, "layers": 0, "other": 0}
    for name, p in model.named_parameters():  # named_parameters() already skips tied duplicates
        if families.is_embedding(name, model):
            groups["embeddings"] += p.numel()
        elif pattern.search(name):
            groups["layers"] += p.numel()
        else:
            groups["other"] += p.numel()
    groups["total"] = sum(groups.values())
    return groups


def random_student(teacher: torch.nn.Module, layers=(0, 2, 4), seed: int = 0) -> torch.nn.Module:
    """The student `make_student(teacher, layers)` would build, but with fresh random weights.

    The control experiment: same architecture and size, none of the teacher's knowledge in the
    weights. Whatever it reaches after training comes from the training signal alone.
    """
    chosen = validate_layers(layers, _num_layers(teacher))
    config = copy.deepcopy(teacher.config)
    config.num_hidden_layers = len(chosen)
    with seeded(seed):  # the same random weights for the same seed; the caller's random state untouched
        student = type(teacher)(config)
    first = next(teacher.parameters())
    return student.to(device=first.device, dtype=first.dtype)


def transplant_encoder(source: torch.nn.Module, target: torch.nn.Module) -> torch.nn.Module:
    """`target` with its embeddings and transformer layers replaced by `source`'s (heads untouched).

    How a general-purpose student (trained with an MLM head) becomes a classifier: its encoder goes
    under a classification head, which is then fine-tuned. Both must have the same configuration.
    For a causal LM (Llama, GPT-2) the final norm after the last layer is copied too; the LM head is not.
    """
    src = {k: v for k, v in source.state_dict().items() if families.is_encoder(k, source)}
    dst = target.state_dict()
    missing = [k for k in src if k not in dst]
    if missing or not src:
        raise ValueError(f"{type(source).__name__} and {type(target).__name__} do not share an encoder "
                         f"layout (e.g. {missing[:2]}); build both from the same teacher with make_student.")
    for k, v in src.items():
        if dst[k].shape != v.shape:
            raise ValueError(f"Shape mismatch for {k}: source {tuple(v.shape)}, target {tuple(dst[k].shape)}: "
                             f"the two models need the same hidden size and number of layers.")
    target.load_state_dict(src, strict=False)
    return target
