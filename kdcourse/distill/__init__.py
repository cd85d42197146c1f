"""Knowledge distillation of transformers (notebook 04; notebook 05 shows what goes wrong).

    student       a shallower student built from the teacher's own layers (DistilBERT's start)
    trainer       DistillationTrainer: a transformers.Trainer whose loss learns from a teacher
    logit_cache   the teacher's logits computed once, looked up by example index
    general       general distillation: DistilBERT's triple loss on unlabelled text
    experiment    one student trained alone or distilled, with the profile's budget
    transfer      transfer sets: unlabelled and augmented examples that only the teacher labels
    command       the same recipe as `python -m kdcourse.distill` (one CPU/GPU, torchrun, accelerate)
"""
from .experiment import train_student
from .general import general_distillation
from .logit_cache import cache_teacher_logits
from .student import make_student, parameter_breakdown, random_student, transplant_encoder, validate_layers
from .transfer import UNLABELLED, augment_text, augmented_set, hide_labels
from .trainer import INDEX_COLUMN, DistillationTrainer, add_index_column, require_compatible
