"""Self-checks for the exercises: a pass, or a hint that points at the bug, never the solution.

Each `check_...` takes the learner's answer (usually a function they wrote) and tries it on fixed
inputs against the course's reference. Wrong answers are compared with the classic mistakes so
the hint can name the one that was made. Solutions live in `solutions/`, which an instructor can
withhold from a class.

    core           the result of a check (`Check`, printed as PASS or NOT YET with its hint) and
                   the helpers every check shares: no answer yet, a call that may raise, closeness
    foundations    notebooks 00, 01, 02: the majority baseline; the causal-LM loss and perplexity;
                   accuracy and macro-F1 from a classifier's logits; a sentence pair as BERT reads it
    distillation   notebooks 03-07: the soft-target loss and the share of the gap closed;
                   DistilBERT's layers and the loss of a batch with cached teacher logits; one clean
                   distillation step; the masked token-level loss of a causal LM; 07: the bytes of a
                   teacher store

Every check is reached from here, as `kd.exercises.check_...`.
"""
from .core import Check
from .foundations import (check_accuracy_from_logits, check_clm_loss, check_macro_f1, check_majority_baseline,
                          check_pair_encoding, check_perplexity)
from .distillation import (check_cached_compute_loss, check_distilbert_layers, check_distillation_step,
                           check_gap_closed, check_soft_target_loss, check_store_bytes, check_token_kd_loss)
