"""A rehearsal of the `gpu` profile with no network: a Hugging Face hub cache filled by the course.

The `gpu` profile loads bert-base-uncased, distilbert-base-uncased, gpt2, SmolLM2-360M-Instruct
(notebook 06's teacher) and GLUE SST-2 from the hub. This module writes stand-ins for all five into a
folder laid out like the hub cache, under the real hub ids, so the gpu code path runs offline. The
weights are random and the "SST-2" sentences are the course's Rotten Tomatoes snippets: the rehearsal
proves the code runs (and times it with `--size full`), never what accuracy it reaches. SmolLM2's
stand-in gets the real SmolLM2 tokenizer, read from the packaged SmolLM2-135M GGUF file.

    python -m kdcourse.rehearsal --output /tmp/hf/hub --size tiny
    python -m kdcourse.rehearsal --output /tmp/full/hub --size full --tokenizers-from /tmp/hf/hub  # no asset packages
    HF_HUB_OFFLINE=1 HF_HOME=/tmp/hf KDCOURSE_PROFILE=gpu python ...   # the cache is HF_HOME/hub
"""
from __future__ import annotations

import argparse
import hashlib
import time
from pathlib import Path

import numpy as np

from .assets import MINILM, SMOLLM2, package_file
from .hub import MRPC_FILES, SST2_FILES, SST2_REPO
from .profiles import SMOLLM2_TEACHER

HUB_IDS = ("bert-base-uncased", "distilbert-base-uncased", "gpt2", SMOLLM2_TEACHER, SST2_REPO)
SIZES = ("tiny", "full")
EOS = "<|endoftext|>"  # gpt2's one special token: beginning, end and unknown; gpt2 has no pad token

# Rows of GLUE SST-2 on the hub (train, validation, test), and the tiny rehearsal's rows.
SST2_ROWS = {"full": {"train": 67_349, "validation": 872, "test": 1_821},
             "tiny": {"train": 400, "validation": 100, "test": 100}}
MRPC_ROWS = {"full": {"train": 3_668, "validation": 408, "test": 1_725},
             "tiny": {"train": 200, "validation": 60, "test": 60}}


def commit_hash(repo_id: str, size: str) -> str:
    """A fixed 40-hex-digit 'commit' for the snapshot folder of one repository.

    The hub cache names snapshots by commit; a hash of the id keeps rebuilds identical."""
    return hashlib.sha1(f"kdcourse-rehearsal/{size}/{repo_id}".encode()).hexdigest()


def snapshot_dir(cache: Path, repo_id: str, size: str, repo_type: str = "model") -> Path:
    """Create the hub-cache folders of one repository and return its snapshot folder.

    huggingface_hub resolves `refs/main` (a commit, no newline) to `snapshots/<commit>/`."""
    repo = cache / f"{repo_type}s--{repo_id.replace('/', '--')}"
    commit = commit_hash(repo_id, size)
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs" / "main").write_text(commit)
    snapshot = repo / "snapshots" / commit
    snapshot.mkdir(parents=True, exist_ok=True)
    return snapshot


def wordpiece_vocab(tokenizers_from: Path | None = None) -> dict[str, int]:
    """bert-base-uncased's WordPiece vocabulary (30,522 entries), from the packaged MiniLM, or from the bert
    stand-in of an earlier rehearsal cache `tokenizers_from` (a machine without the asset packages).

    All-MiniLM-L6-v2 kept BERT's vocabulary, so the course ships it without the hub."""
    if tokenizers_from is not None:
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(str(_earlier(tokenizers_from, "bert-base-uncased"))).get_vocab()
    lines = (package_file(MINILM) / "vocab.txt").read_text(encoding="utf-8").splitlines()
    return {token: i for i, token in enumerate(lines)}


def _earlier(cache: Path, repo_id: str) -> Path:
    """The snapshot folder of `repo_id` in an earlier rehearsal cache (either size: the tokenizers are the same)."""
    found = sorted((Path(cache) / f"models--{repo_id.replace('/', '--')}" / "snapshots").glob("*/"))
    if not found:
        raise FileNotFoundError(f"{cache} holds no {repo_id}: pass the hub folder of a rehearsal cache "
                                f"(python -m kdcourse.rehearsal --output DIR/hub) to --tokenizers-from.")
    return found[0]


# The real models' config.json files, shipped in data/hub_configs/ (a few hundred bytes each; data/provenance.json).
# `tiny` keeps every field (depth, vocabulary, dtype, tied embeddings, ...) but these widths, so CI is fast.
TINY_WIDTHS = {"bert-base-uncased": dict(hidden_size=32, num_attention_heads=2, intermediate_size=64),
               "distilbert-base-uncased": dict(dim=32, n_heads=2, hidden_dim=64),
               "gpt2": dict(n_embd=32, n_head=2),
               SMOLLM2_TEACHER: dict(hidden_size=32, intermediate_size=64, num_attention_heads=4,
                                     num_key_value_heads=2)}


def real_config(repo_id: str) -> dict:
    """The config.json of `repo_id` on the hub, as shipped in data/hub_configs/."""
    import json

    from .assets import data_file

    return json.loads(data_file(f"hub_configs/{repo_id.replace('/', '--')}.json").read_text())


def stand_in_config(repo_id: str, size: str, **changes) -> dict:
    """The real config of `repo_id`, with `tiny`'s widths when size is 'tiny', and `changes` on top."""
    widths = TINY_WIDTHS[repo_id] if size == "tiny" else {}
    return {**real_config(repo_id), **widths, **changes}


def bert_config(size: str):
    """bert-base-uncased's configuration; `tiny` keeps its 12 layers but makes them 32 wide.

    12 layers in both sizes: the course's students copy layers (0, 2, ..., 10)."""
    from transformers import BertConfig

    return BertConfig(**stand_in_config("bert-base-uncased", size))


def distilbert_config(size: str):
    """distilbert-base-uncased's configuration (6 layers); `tiny` makes them 32 wide."""
    from transformers import DistilBertConfig

    return DistilBertConfig(**stand_in_config("distilbert-base-uncased", size))


def gpt2_config(size: str, tokenizer):
    """gpt2's configuration (12 layers, 1024 positions) over the rehearsal's own BPE vocabulary: the one
    departure from the real config (gpt2's 50,257-token vocabulary does not ship with the course), so the
    vocabulary size and the end-of-text id are the tokenizer's. `tiny` makes the layers 32 wide."""
    from transformers import GPT2Config

    eos = tokenizer.convert_tokens_to_ids(EOS)
    return GPT2Config(**stand_in_config("gpt2", size, vocab_size=len(tokenizer), bos_token_id=eos, eos_token_id=eos))


def smollm2_config(size: str, tokenizer):
    """SmolLM2-360M-Instruct's configuration (32 layers, 960 wide, grouped-query attention, tied embeddings,
    "torch_dtype": "bfloat16") over SmolLM2's 49,152-token vocabulary; `tiny` keeps the 32 layers but makes
    them 32 wide. A tokenizer that disagrees with the config on the vocabulary or the special ids is an error."""
    from transformers import LlamaConfig

    config = stand_in_config(SMOLLM2_TEACHER, size)
    found = dict(vocab_size=len(tokenizer), bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                 pad_token_id=tokenizer.pad_token_id)
    wrong = {k: (v, config[k]) for k, v in found.items() if v != config[k]}
    if wrong:
        raise ValueError(f"The SmolLM2 tokenizer disagrees with SmolLM2-360M-Instruct's config.json on {wrong} "
                         f"(tokenizer, config): use the tokenizer of the packaged SmolLM2 (kd.rehearsal.smollm2_tokenizer).")
    return LlamaConfig(**config)


def smollm2_tokenizer(tokenizers_from: Path | None = None):
    """SmolLM2's tokenizer (shared by the 135M and 360M models), read from the packaged SmolLM2-135M GGUF, or from
    the SmolLM2 stand-in of an earlier rehearsal cache `tokenizers_from`."""
    from transformers import AutoTokenizer

    if tokenizers_from is not None:
        return AutoTokenizer.from_pretrained(str(_earlier(tokenizers_from, SMOLLM2_TEACHER)))
    gguf = package_file(SMOLLM2)
    return AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)


def write_smollm2(cache: Path, size: str, tokenizers_from: Path | None = None) -> Path:
    """A random 32-layer SmolLM2-360M-Instruct and SmolLM2's real tokenizer, saved under its hub id in the dtype
    of the real config ("torch_dtype": "bfloat16"), so the rehearsal meets what a GPU does.

    Loads as `AutoModelForCausalLM` / `AutoTokenizer.from_pretrained(SMOLLM2_TEACHER)`."""
    import torch
    from transformers import LlamaForCausalLM

    tokenizer = smollm2_tokenizer(tokenizers_from)
    config = smollm2_config(size, tokenizer)
    torch.manual_seed(0)
    model = LlamaForCausalLM(config).to(config.dtype)
    snapshot = snapshot_dir(cache, SMOLLM2_TEACHER, size)
    model.save_pretrained(snapshot)
    tokenizer.save_pretrained(snapshot)
    return snapshot


def write_encoder(cache: Path, repo_id: str, size: str, tokenizers_from: Path | None = None) -> Path:
    """A random masked-LM BERT or DistilBERT, and the WordPiece tokenizer, saved under `repo_id`.

    Loads as `AutoModelForMaskedLM` / `AutoModel` / `AutoTokenizer.from_pretrained(repo_id)`."""
    import torch
    from transformers import (BertForMaskedLM, BertTokenizerFast, DistilBertForMaskedLM,
                              DistilBertTokenizerFast)

    model_class, tokenizer_class, config = {
        "bert-base-uncased": (BertForMaskedLM, BertTokenizerFast, bert_config),
        "distilbert-base-uncased": (DistilBertForMaskedLM, DistilBertTokenizerFast, distilbert_config)}[repo_id]
    torch.manual_seed(0)
    model = model_class(config(size))
    snapshot = snapshot_dir(cache, repo_id, size)
    model.save_pretrained(snapshot)
    tokenizer_class(vocab=wordpiece_vocab(tokenizers_from), do_lower_case=True,
                    model_max_length=512).save_pretrained(snapshot)
    return snapshot


def train_bpe(texts: list[str], vocab_size: int):
    """A byte-level BPE tokenizer like gpt2's, trained on `texts`: one special token, no pad token.

    gpt2's own vocabulary does not ship with the course, so the rehearsal trains a small one."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GPT2TokenizerFast

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)  # text -> bytes shown as characters
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=2, special_tokens=[EOS], show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())  # all 256 bytes: no unknowns
    bpe.train_from_iterator(texts, trainer)
    return GPT2TokenizerFast(tokenizer_object=bpe, bos_token=EOS, eos_token=EOS, unk_token=EOS, model_max_length=1024)


def write_gpt2(cache: Path, size: str) -> Path:
    """A random 12-layer GPT-2 and a byte-level BPE trained on the course corpus, saved as 'gpt2'.

    `full` trains its ~8,000-token vocabulary on the cpu corpus; `tiny` ~1,000 tokens on smoke's."""
    import torch
    from transformers import GPT2LMHeadModel

    from .data import load_corpus
    from .profiles import get_profile

    corpus = load_corpus("train", get_profile("smoke" if size == "tiny" else "cpu"))
    tokenizer = train_bpe(corpus, 1_000 if size == "tiny" else 8_000)
    torch.manual_seed(0)
    model = GPT2LMHeadModel(gpt2_config(size, tokenizer))
    snapshot = snapshot_dir(cache, "gpt2", size)
    model.save_pretrained(snapshot)
    tokenizer.save_pretrained(snapshot)
    return snapshot


def write_glue(cache: Path, size: str) -> Path:
    """GLUE's SST-2 and MRPC parquet files, with the hub's columns, filled with the offline data: SST-2's
    sentences are Rotten Tomatoes snippets, MRPC's pairs are next-sentence pairs of the speeches (1: the
    next sentence). Each split draws from the same split of the offline data; test labels are -1, hidden as
    in GLUE."""
    from datasets import ClassLabel, Dataset, Features, Value

    from .data import load_rotten_tomatoes, next_sentence_pairs

    snapshot = snapshot_dir(cache, SST2_REPO, size, repo_type="dataset")
    rng = np.random.default_rng(0)
    snippets = load_rotten_tomatoes()
    tasks = [(SST2_FILES, SST2_ROWS, ["negative", "positive"], lambda split: {"sentence": snippets[split]["text"]},
              lambda split: snippets[split]["label"])]
    pairs = {split: next_sentence_pairs(split) for split in ("train", "validation", "test")}
    tasks.append((MRPC_FILES, MRPC_ROWS, ["not_equivalent", "equivalent"],
                  lambda split: {"sentence1": pairs[split]["sentence1"], "sentence2": pairs[split]["sentence2"]},
                  lambda split: pairs[split]["label"]))
    for files, rows_of, names, texts_of, labels_of in tasks:
        for split, filename in files.items():
            texts, labels, n = texts_of(split), list(labels_of(split)), rows_of[size][split]
            texts = {column: list(values) for column, values in texts.items()}
            rows = rng.choice(len(labels), size=n, replace=n > len(labels)).tolist()
            table = {column: [values[i] for i in rows] for column, values in texts.items()}
            table |= {"label": [-1] * n if split == "test" else [labels[i] for i in rows], "idx": list(range(n))}
            features = Features({**{column: Value("string") for column in texts},
                                 "label": ClassLabel(names=names), "idx": Value("int32")})
            (snapshot / filename).parent.mkdir(parents=True, exist_ok=True)
            Dataset.from_dict(table, features=features).to_parquet(str(snapshot / filename))
    return snapshot


def build(output: str | Path, size: str = "tiny", tokenizers_from: str | Path | None = None) -> Path:
    """Write every repository of HUB_IDS into the hub cache folder `output`, one printed line each.
    `tokenizers_from`: an earlier rehearsal cache to read SmolLM2's tokenizer and BERT's vocabulary from, where
    the asset packages are not installed (a GPU machine that is sent a tiny cache and writes the full one).

    Point the course at it with HF_HUB_CACHE=output (or HF_HOME=X when output is X/hub)."""
    if size not in SIZES:
        raise ValueError(f"size must be one of {SIZES}, got {size!r}.")
    cache, earlier = Path(output), None if tokenizers_from is None else Path(tokenizers_from)
    writers = {"bert-base-uncased": lambda: write_encoder(cache, "bert-base-uncased", size, earlier),
               "distilbert-base-uncased": lambda: write_encoder(cache, "distilbert-base-uncased", size, earlier),
               "gpt2": lambda: write_gpt2(cache, size),
               SMOLLM2_TEACHER: lambda: write_smollm2(cache, size, earlier),
               SST2_REPO: lambda: write_glue(cache, size)}
    for repo_id in HUB_IDS:
        start = time.perf_counter()
        snapshot = writers[repo_id]()
        print(f"wrote {repo_id:36s} ({size}) in {time.perf_counter() - start:5.1f} s: {snapshot}")
    return cache


def _quiet_progress_bars() -> None:
    """Silence the per-file progress bars of transformers and datasets: one line per item is enough."""
    import datasets
    from transformers.utils import logging

    datasets.disable_progress_bars()
    logging.disable_progress_bar()


def main(argv: list[str] | None = None) -> None:
    """The command line: `python -m kdcourse.rehearsal --output DIR [--size tiny|full]`."""
    parser = argparse.ArgumentParser(description="Write a Hugging Face hub cache with random stand-ins "
                                                 "for the gpu profile's models and GLUE SST-2.")
    parser.add_argument("--output", required=True, help="the hub cache folder to write (e.g. X/hub)")
    parser.add_argument("--size", choices=SIZES, default="tiny",
                        help="tiny: 32-wide layers, 400 training sentences; full: real sizes, for timing")
    parser.add_argument("--tokenizers-from", default=None,
                        help="an earlier rehearsal cache (DIR/hub) to read the tokenizers from, without the asset packages")
    args = parser.parse_args(argv)
    _quiet_progress_bars()
    cache = build(args.output, args.size, args.tokenizers_from)
    print(f"Use it with: HF_HUB_OFFLINE=1 HF_HUB_CACHE={cache.resolve()}")


if __name__ == "__main__":
    main()
