"""Language models at small scale (notebook 01; notebook 04 reuses the MLM teacher and the blocks;
notebook 06's distillation of a causal LM lives with the rest of distillation, in `kdcourse.distill`).

    objectives    what MLM and CLM optimise, as tensor code: 80/10/10 masking, next-token log-probs
    blocks        the corpus as fixed-length blocks of token ids; a held-out set spread over texts; one fixed
                  masking; random batches
    tiny          a tiny BERT and a tiny GPT with random weights, of the profile's size
    metrics       held-out loss, perplexity and top-k accuracy of masked and causal LMs
    pretrain      pretraining from scratch with either objective (on the loop core, kd.loop)
    mlm_teacher   the frozen pretrained encoder + a trained MLM head: notebook 04's teacher, cached;
                  the same recipe on random weights, the control that separates pretraining from size
    predictions   fill-mask, continuations, one sentence's perplexity, real against shuffled word order
"""
from .blocks import fixed_masked_set, pack_blocks, random_batches, spread_blocks
from .metrics import evaluate_clm, evaluate_mlm, masked_positions_logits, mlm_loss, mlm_results_table, mlm_scores
from .mlm_teacher import (build_mlm_teacher, encode_masked, evaluate_mlm_head, freeze_all_but_mlm_head,
                          load_encoder_with_mlm_head, load_mlm_teacher, mlm_teacher_dir, random_encoder_with_mlm_head,
                          random_init_control, save_mlm_teacher, mlm_teacher_settings, train_head_on_frozen_encoder,
                          train_mlm_head)
from .objectives import (IGNORE_INDEX, attention_pattern, causal_lm_log_likelihood, causal_lm_loss, mask_tokens,
                         masking_counts, masking_kinds, next_token_log_probs, perplexity, special_tokens_mask)
from .predictions import continue_text, fill_mask, sentence_perplexity, show_fill_mask, shuffle_words, word_order_test
from .pretrain import train_clm, train_mlm, train_steps
from .tiny import tiny_bert, tiny_gpt
