"""kdcourse: the helper package of the knowledge-distillation course. One module, one concept.

    module               concept                                                    taught in
    -------------------  ---------------------------------------------------------  ----------
    profiles             sizes and assets per profile (smoke, cpu, gpu, ...)        00
    profile_parts        each notebook's part of a profile: its settings            00
    assets, hub, models  where data, weights and caches are; loading pretrained     00
    device, seed         one device and precision rule; reproducible randomness     00, 02
    data                 MNIST, the speeches corpus, sentiment snippets, pairs      00, 02-04, 07
    lm/                  objectives, packed blocks, tiny LMs, metrics, pretraining,
                         the MLM teacher, predictions                               01
    trainer_tools        the Hugging Face Trainer toolbox: tokenising (sentences
                         and pairs), collators, metrics, arguments, save and load   02, 04
    classify             fine-tuning a classifier: the three ways, sentence pairs   02
    loop                 the training-loop core: step, warm-up, eval mode, steps    03
    mnist_models, train  MNIST CNN and MLPs; `fit` for tensors, with distillation   03
    consistent           a patient, consistent teacher: fixed jittered copies       03
    distill/             all of distillation: the losses (one KL, one temperature
                         check), teacher stores, students, trainers, for
                         classifiers and language models, the command               03-07
    measure/             size, speed, accuracy, seed tables, the one verdict rule   02-07
    families             where each model family keeps layers, embeddings, heads    04
    plots/               the figures, by subject                                    all
    pitfalls             popular bugs, kept on purpose to be measured               05
    exercises/           self-checks of the exercises, by notebook                  all
    demo                 a demonstrated error must happen: `expect_error`           02, 04, 05
    course, budget, env  the course map, time estimates, the environment report     00
    workloads            each notebook's work as phases, for the time estimates     00
    model_costs          FLOPs, parameters, training memory, on the meta device     00
    rehearsal            tiny models under real hub ids: the gpu path offline       (CI)
    placement            a pretend GPU on the CPU: tensors on two devices fail      (CI)

The top level holds what every notebook uses; everything else is reached through its module
(`kd.lm.tiny_bert`, `kd.distill.make_student`, `kd.measure.cpu_latency`, `kd.plots.plot_lines`).
A helper that depends on the profile takes it as an argument: a notebook reads it once, `P = kd.profile()`,
and hands P (or its part) on.
"""
from . import (budget, classify, consistent, course, data, device, distill, exercises, families, hub, lm, loop, measure,
               mnist_models, model_costs, models, placement, plots, profiles, seed, train, trainer_tools)
from .assets import MissingAssetError, cache_dir, data_dir
from .course import course_table
from .data import load_corpus, load_mnist, load_sentiment, load_speeches
from .demo import expect_error
from .env import environment_report
from .distill.losses import distillation_loss, soft_target_loss
from .measure import count_parameters
from .mnist_models import CNN, MLP
from .models import load_causal_lm, load_encoder, load_tokenizer
from .profiles import get_profile, profile
from .seed import set_seed
from .train import evaluate, fit

__all__ = ["CNN", "MLP", "MissingAssetError", "budget", "cache_dir", "classify", "consistent", "count_parameters", "course",
           "course_table", "data", "data_dir", "device", "distill", "distillation_loss", "environment_report",
           "evaluate", "exercises", "expect_error", "families", "fit", "get_profile", "hub", "lm", "load_causal_lm", "load_corpus", "load_speeches",
           "load_encoder", "load_mnist", "load_sentiment", "load_tokenizer", "loop", "measure",
           "mnist_models", "model_costs", "models", "placement", "plots", "profile", "profiles", "seed", "set_seed", "soft_target_loss", "train",
           "trainer_tools"]
__version__ = "0.1.1"

placement.simulate_from_environment()  # only when KDCOURSE_PLACEMENT=simulate (the rehearsal): see kd.placement
