"""Knowledge distillation, all of it in one place: the losses, the teacher stores, the students and the
trainers, for classifiers (notebooks 03 and 04; 05 shows what goes wrong) and language models (notebook 06).

    losses        the KL between two distributions (log-probs, batchmean, an optional mask), soft targets
                  with T^2, the hidden-state cosine; temperature and alpha checked in one place     03-06
    student       a shallower student built from the teacher's own layers (DistilBERT's start)  04, 06
    trainer       DistillationTrainer: a transformers.Trainer whose loss learns from a teacher   04
    logit_cache   the teacher's logits computed once, looked up by example index                 04
    transfer      transfer sets: unlabelled and augmented examples that only the teacher labels  03, 04
    general       general distillation: DistilBERT's triple loss on unlabelled text              04
    experiment    one classifier student trained alone or distilled, with the profile's budget   04
    command       the same recipe as `python -m kdcourse.distill` (one CPU/GPU, torchrun, accelerate)
    lm_losses     token-level losses of a causal LM: the shift by one, forward and reverse KL     06
    topk          the teacher stored as top-k log-probabilities + the tail mass, and its losses   06
    sampled       the teacher stored as tokens drawn from it, with counts: an unbiased target    07
    stores        several stores of one teacher from a single pass; what each keeps, untrained;
                  the store to recommend, chosen on validation                                   07
    causal        the teacher's generations, held-out scores, a causal student's training       06
    on_policy     on-policy distillation with TRL's DistillationTrainer                          06

Notebook 03's MNIST students are distilled by `kd.fit` (kdcourse.train), with these losses.
"""
from . import on_policy
from .causal import (compute_matched_steps, evaluate_next_token, lm_settings_search, teacher_generations,
                     train_causal_student)
from .experiment import train_classifier_student
from .general import general_distillation
from .lm_losses import DIRECTIONS, check_direction, directed_kl, next_token_loss, shift_for_next_token, token_kd_loss
from .logit_cache import cache_teacher_logits
from .losses import (USUAL_TEMPERATURE, check_alpha, check_temperature, distillation_loss, hidden_cosine_loss,
                     kl_divergence, kl_per_row, masked_mean, soft_target_loss)
from .student import (make_student, parameter_breakdown, random_student, spread_layers, strided_layers,
                      transplant_encoder, validate_layers)
from .topk import (TeacherTopK, cache_teacher_topk, compress_topk, full_logits_bytes, index_dtype,
                   topk_distillation_loss, topk_kd_loss, topk_kd_loss_renormalised)
from .sampled import (TeacherSamples, cache_teacher_samples, sample_teacher, sampled_distillation_loss,
                      sampled_kd_loss)
from .stores import SCHEMES, cache_teacher_stores, choose_store, store_report
from .transfer import (UNLABELLED, augment_text, augmented_set, hide_label_tensor, hide_labels, nested_pools,
                       pseudo_labels)
from .trainer import INDEX_COLUMN, DistillationTrainer, add_index_column, require_compatible
