"""The course's figures, by subject; every one has a title, labelled axes and units.

    common     lines, mean and spread over seeds, heatmap, grouped bars, verdicts with intervals (every notebook)
    lm         attention masks, masking, pretraining curves, token surprisal, word order (notebook 01);
               students' perplexity against size and speed, next-token distributions (notebook 06)
    classify   snippet lengths, learning curves, test scores over seeds (notebook 02)
    mnist      training curves, digits, soft targets by temperature (notebook 03)
    distill    accuracy against latency, accuracy against labels and pool size, general-distillation losses (04);
               what a store of the teacher keeps, and the share of the full-logit gain kept (07)
"""
from .classify import plot_learning_curves, plot_length_histogram, plot_seed_scores
from .common import plot_grouped_bars, plot_heatmap, plot_lines, plot_mean_std, plot_verdicts
from .distill import (plot_accuracy_vs_latency, plot_few_labels, plot_general_distillation, plot_kept_share,
                      plot_pool_curve, plot_store_report)
from .lm import (plot_attention_patterns, plot_lm_students, plot_masked_accuracy, plot_masking, plot_masking_counts,
                 plot_next_token_distributions, plot_observed_vs_expected, plot_pretraining_curves,
                 plot_token_surprisal, plot_word_order)
from .mnist import plot_history, plot_images, plot_soft_targets
