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


def macro_f1(logits, labels):  # notebook 02
    predicted = np.argmax(logits, axis=-1)
    f1s = []
    for c in range(logits.shape[-1]):
        tp = np.sum((predicted == c) & (labels == c))
        fp = np.sum((predicted == c) & (labels != c))
        fn = np.sum((predicted != c) & (labels == c))
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0)  # never predicted: 0, not nan
    return float(np.mean(f1s))


def encode_pair(tokens_a, tokens_b, max_length):  # notebook 02
    a, b = list(tokens_a), list(tokens_b)
    while len(a) + len(b) + 3 > max_length:  # [CLS] a [SEP] b [SEP] must fit
        (a if len(a) > len(b) else b).pop()  # cut the longer sentence's last token
    return ["[CLS]", *a, "[SEP]", *b, "[SEP]"], [0] * (len(a) + 2) + [1] * (len(b) + 1)


DISTILBERT_LAYERS = (0, 2, 4, 6, 8, 10)  # notebook 04


def majority_baseline(train_labels, test_labels):  # notebook 00
    majority = max(set(train_labels), key=list(train_labels).count)
    return float(np.mean(np.asarray(test_labels) == majority))


def cached_compute_loss(student, inputs, cached_teacher_logits, T, alpha):  # notebook 04
    from kdcourse import distillation_loss

    inputs = dict(inputs)
    index, labels = inputs.pop("kd_index"), inputs.pop("labels")
    logits = student(**inputs).logits
    return distillation_loss(logits, cached_teacher_logits[index], labels, T, alpha)


def distillation_step(student, teacher, x, y, optimizer, T, alpha):  # notebook 05
    import torch
    from kdcourse import distillation_loss

    teacher.eval()
    with torch.no_grad():
        teacher_logits = teacher(x)
    loss = distillation_loss(student(x), teacher_logits, y, T, alpha)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


def token_kd_loss(student_logits, teacher_logits, attention_mask, T):  # notebook 06
    log_p_student = F.log_softmax(student_logits[:, :-1] / T, dim=-1)  # position i predicts token i+1
    log_p_teacher = F.log_softmax(teacher_logits[:, :-1] / T, dim=-1)
    kl = (log_p_teacher.exp() * (log_p_teacher - log_p_student)).sum(-1)  # KL(teacher || student) per position
    real = (attention_mask[:, :-1] * attention_mask[:, 1:]).bool()  # the position and its next token are real
    return kl[real].mean() * T**2


def store_bytes(k, vocab_size, scheme):  # notebook 07
    id_bytes = 1 if vocab_size <= 2**8 else 2 if vocab_size <= 2**16 else 4  # uint8, int16/uint16, int32
    if scheme == "sampled":
        return k * (id_bytes + (1 if k <= 255 else 2))  # ids and counts (uint8, else int16)
    return k * (2 + id_bytes) + (4 if scheme == "top-k + tail" else 0)  # fp16 values, ids, the fp32 tail
