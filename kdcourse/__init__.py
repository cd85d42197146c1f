"""kdcourse: the helper package of the knowledge-distillation course.

Notebooks import what they need from here; every function lives in one module with a name that
says what it holds (profiles, data, models, losses, train, bench, plots, ...).
"""
from .assets import MissingAssetError, cache_dir, data_dir
from .course import course_table, notebook_runtime
from .data import MNIST, load_corpus, load_mnist, load_rotten_tomatoes, load_sentiment
from .env import environment_report
from .models import load_causal_lm, load_encoder, load_tokenizer
from .profiles import PROFILE_NAMES, Profile, get_profile, profile
from .seed import set_seed

# --- notebook 03 (MNIST distillation): losses, training loop, measurement -----------------------
from .losses import distillation_loss, hidden_cosine_loss, soft_target_loss
# --- notebook 01 (pretraining objectives) --------------------------------------------------------
# --- notebook 02 (fine-tuning) -------------------------------------------------------------------
# --- notebook 04 (BERT -> DistilBERT) ------------------------------------------------------------

__version__ = "0.1.0"
