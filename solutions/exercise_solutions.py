"""Reference answers to the self-checked exercises. Withhold this folder from a class if you like."""
import math

import numpy as np
import torch.nn.functional as F


def soft_target_loss(student_logits, teacher_logits, T):  # notebook 03
    log_p_student = F.log_softmax(student_logits / T, dim=-1)
    p_teacher = F.softmax(teacher_logits / T, dim=-1)
    return F.kl_div(log_p_student, p_teacher, reduction="batchmean") * T**2


def gap_closed(alone_errors, distilled_errors, teacher_errors):  # notebook 03
    return (alone_errors - distilled_errors) / (alone_errors - teacher_errors)


def clm_loss(logits, input_ids):  # notebook 01
    log_probs = F.log_softmax(logits[:, :-1], dim=-1)
    picked = log_probs.gather(-1, input_ids[:, 1:].unsqueeze(-1)).squeeze(-1)
    return -picked.mean()


def perplexity(mean_loss):  # notebook 01
    return math.exp(mean_loss)


def accuracy_from_logits(logits, labels):  # notebook 02
    return float(np.mean(np.argmax(logits, axis=-1) == labels))


DISTILBERT_LAYERS = (0, 2, 4, 6, 8, 10)  # notebook 04
