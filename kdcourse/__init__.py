"""kdcourse: the helper package of the knowledge-distillation course.

Notebooks import what they need from here; every function lives in one module with a name that
says what it holds (profiles, data, models, losses, train, bench, plots, ...).
"""
from .assets import MissingAssetError, cache_dir, data_dir
from . import bench, budget, device, exercises, hub, loop, models
from .course import colab_url, course_table, notebook_runtime
from .data import MNIST, load_corpus, load_mnist, load_rotten_tomatoes, load_sentiment
from .env import environment_report
from .models import load_causal_lm, load_encoder, load_tokenizer
from .profiles import PROFILE_NAMES, Profile, get_profile, profile
from .seed import set_seed

# --- notebook 03 (MNIST distillation): losses, training loop, measurement -----------------------
from .losses import distillation_loss, hidden_cosine_loss, soft_target_loss
from .bench import count_parameters, cpu_latency, size_on_disk_mb
from .mnist_models import CNN, MLP
from .plots import plot_heatmap, plot_history, plot_images, plot_lines, plot_mean_std, plot_soft_targets
from .train import Evaluation, History, evaluate, fit, fit_or_load, predict_logits, random_shift
# --- notebook 01 (pretraining objectives) --------------------------------------------------------
from .objectives import (attention_pattern, causal_lm_log_likelihood, causal_lm_loss, mask_tokens,
                         masking_counts, masking_kinds, next_token_log_probs, perplexity,
                         special_tokens_mask)
from .pretrain import (build_mlm_teacher, continue_text, encode_masked, evaluate_clm, evaluate_mlm,
                       evaluate_mlm_head, fill_mask, fixed_masked_set, load_encoder_with_mlm_head,
                       load_mlm_teacher, mlm_loss, mlm_teacher_dir, pack_blocks, sentence_perplexity,
                       show_fill_mask, shuffle_words, tiny_bert, tiny_gpt, train_clm, train_mlm,
                       train_mlm_head)
from .plots import (plot_attention_patterns, plot_grouped_bars, plot_masking, plot_observed_vs_expected,
                    plot_pretraining_curves, plot_token_surprisal)
# --- notebook 02 (fine-tuning) -------------------------------------------------------------------
from .finetune import (WAY_NAMES, WAYS, classification_metrics, compute_metrics, confident_mistakes,
                       confusion_matrix, default_learning_rate, fine_tune, load_classifier,
                       load_sentiment_teacher, make_classifier, make_collator, make_trainer, predict_proba,
                       run_dir, save_classifier, teacher_dir, token_lengths, tokenize_dataset,
                       trainable_parameters, training_arguments, training_history)
from .plots import plot_learning_curves, plot_length_histogram
# --- notebook 04 (BERT -> DistilBERT) ------------------------------------------------------------
from .distill import (DistillationTrainer, add_index_column, cache_teacher_logits, check_compatible,
                      compare_students, correct_predictions, evaluate_accuracy, general_distillation,
                      latency_by_batch_size, model_row, quantize_int8, seed_verdict, train_student)
from .student import make_student, parameter_breakdown, random_student, transplant_encoder
from .plots import plot_accuracy_vs_latency, plot_general_distillation

__version__ = "0.1.0"
