"""The gpu-profile rehearsal: random stand-ins for the hub models, read offline from a filled cache."""
import pytest
import torch

from kdcourse.profiles import PROFILES, SMOLLM2_TEACHER
from kdcourse.rehearsal import (EOS, HUB_IDS, SST2_REPO, bert_config, build, commit_hash, distilbert_config,
                                gpt2_config, main, smollm2_config, smollm2_tokenizer, wordpiece_vocab)

MODELS = [("bert-base-uncased", "AutoModelForMaskedLM", 12),
          ("distilbert-base-uncased", "AutoModelForMaskedLM", 6),
          ("gpt2", "AutoModelForCausalLM", 12),
          (SMOLLM2_TEACHER, "AutoModelForCausalLM", 32)]


def offline(cache) -> dict:
    """Read from the rehearsal cache only: never from the hub (CI has none)."""
    return dict(cache_dir=str(cache), local_files_only=True)


def hub_ids_named_by_profiles() -> set[str]:
    """Every hub id any profile asks for: models by field, GLUE SST-2 when sentiment is 'sst2'."""
    named = set()
    for p in PROFILES.values():
        named |= {getattr(p, f, "") for f in ("encoder", "student_encoder", "causal_lm", "lm_teacher")}
        if getattr(p, "sentiment", "") == "sst2":
            named.add(SST2_REPO)
    return named - {"offline", ""}


def test_every_hub_id_a_profile_names_is_rehearsed():
    named = hub_ids_named_by_profiles()
    assert named, "no profile names a hub id: this check would prove nothing"
    assert named <= set(HUB_IDS), f"not rehearsed: {sorted(named - set(HUB_IDS))}"


@pytest.mark.parametrize("repo_id,auto_class,depth", MODELS)
def test_models_load_offline_with_the_promised_depth(rehearsal_cache, repo_id, auto_class, depth):
    import transformers

    model = getattr(transformers, auto_class).from_pretrained(repo_id, **offline(rehearsal_cache))
    tokenizer = transformers.AutoTokenizer.from_pretrained(repo_id, **offline(rehearsal_cache))
    layers = getattr(model.config, "num_hidden_layers", None) or model.config.n_layers
    assert layers == depth
    assert model.config.vocab_size == len(tokenizer)
    batch = tokenizer(["a rehearsal, not a result"], return_tensors="pt")
    with torch.no_grad():
        logits = model(**batch).logits
    assert tuple(logits.shape) == (1, batch["input_ids"].shape[1], len(tokenizer))


@pytest.mark.parametrize("repo_id,architecture", [("bert-base-uncased", "BertForMaskedLM"),
                                                  ("distilbert-base-uncased", "DistilBertForMaskedLM")])
def test_encoders_use_the_shipped_wordpiece_vocabulary(rehearsal_cache, tok, repo_id, architecture):
    from transformers import AutoConfig, AutoTokenizer

    rehearsed = AutoTokenizer.from_pretrained(repo_id, **offline(rehearsal_cache))
    assert len(rehearsed) == len(wordpiece_vocab()) == 30522
    assert rehearsed.get_vocab() == tok.get_vocab()
    text = "Distillation keeps the teacher's dark knowledge."
    assert rehearsed(text)["input_ids"] == tok(text)["input_ids"]
    config = AutoConfig.from_pretrained(repo_id, **offline(rehearsal_cache))
    assert config.architectures == [architecture]


def test_distilbert_tokenizer_has_no_token_type_ids(rehearsal_cache):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained("distilbert-base-uncased", **offline(rehearsal_cache))
    assert list(tokenizer("a film").keys()) == ["input_ids", "attention_mask"]


def test_gpt2_tokenizer_is_byte_level_bpe_without_pad(rehearsal_cache):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained("gpt2", **offline(rehearsal_cache))
    assert tokenizer.pad_token is None
    assert tokenizer.eos_token == tokenizer.bos_token == EOS
    assert 900 <= len(tokenizer) <= 1000
    text = "The state of the union is strong, ünïcödé too."
    assert tokenizer.decode(tokenizer(text)["input_ids"]) == text  # byte-level: nothing is unknown


def test_cache_layout_is_the_hub_layout(rehearsal_cache):
    for repo_id in HUB_IDS:
        kind = "datasets" if repo_id == SST2_REPO else "models"
        repo = rehearsal_cache / f"{kind}--{repo_id.replace('/', '--')}"
        commit = (repo / "refs" / "main").read_text()
        assert commit == commit_hash(repo_id, "tiny") and len(commit) == 40  # no newline: read verbatim
        assert (repo / "snapshots" / commit).is_dir()


class EightThousandTokens:
    """Stands in for a tokenizer: gpt2_config only asks its length and the id of <|endoftext|>."""

    def __len__(self):
        return 8000

    def convert_tokens_to_ids(self, token):
        return 0


@pytest.mark.parametrize("repo_id", [m[0] for m in MODELS])
def test_stand_ins_carry_the_real_configs_but_their_widths(rehearsal_cache, repo_id):
    """Every field of the real config.json (dtype, vocabulary, tied embeddings, depth, ...) reaches the saved
    stand-in, except tiny's widths (and gpt2's vocabulary, which does not ship): a GPU meets the same model."""
    import json

    from transformers import AutoConfig

    from kdcourse.rehearsal import TINY_WIDTHS, real_config

    real = real_config(repo_id)
    saved = json.loads((rehearsal_cache / f"models--{repo_id.replace('/', '--')}" / "snapshots"
                        / commit_hash(repo_id, "tiny") / "config.json").read_text())
    loaded = AutoConfig.from_pretrained(repo_id, **offline(rehearsal_cache)).to_dict()
    own_vocabulary = {"vocab_size", "bos_token_id", "eos_token_id"} if repo_id == "gpt2" else set()
    ignored = {"transformers_version", "torch_dtype", "dtype", "architectures"} | own_vocabulary
    for key, value in real.items():
        if key in ignored or key == "rope_theta":
            continue
        assert saved.get(key, loaded.get(key)) == TINY_WIDTHS[repo_id].get(key, value), key
    assert saved.get("dtype") == real.get("torch_dtype", "float32")  # bfloat16 for SmolLM2, as on the hub
    if "rope_theta" in real:
        assert loaded["rope_parameters"]["rope_theta"] == real["rope_theta"]


def test_full_size_configs_are_the_real_ones():
    bert, distil = bert_config("full"), distilbert_config("full")
    assert (bert.hidden_size, bert.num_hidden_layers, bert.num_attention_heads, bert.intermediate_size) == (
        768, 12, 12, 3072)
    assert (distil.dim, distil.n_layers, distil.n_heads, distil.hidden_dim) == (768, 6, 12, 3072)
    gpt2 = gpt2_config("full", EightThousandTokens())
    assert (gpt2.n_embd, gpt2.n_layer, gpt2.n_head, gpt2.n_positions, gpt2.vocab_size) == (768, 12, 12, 1024, 8000)
    assert bert_config("tiny").num_hidden_layers == 12 and bert_config("tiny").hidden_size == 32


def test_unknown_size_names_the_choices(tmp_path):
    with pytest.raises(ValueError, match="tiny"):
        build(tmp_path, "huge")
    with pytest.raises(SystemExit):
        main(["--output", str(tmp_path), "--size", "huge"])
    assert not any(tmp_path.iterdir())


def test_smollm2_stand_in_has_the_real_smollm2_tokenizer(rehearsal_cache):
    from transformers import AutoConfig, AutoTokenizer

    rehearsed = AutoTokenizer.from_pretrained(SMOLLM2_TEACHER, **offline(rehearsal_cache))
    packaged = smollm2_tokenizer()  # the tokenizer of the offline SmolLM2-135M: notebook 06's students share it
    assert len(rehearsed) == len(packaged) == 49_152
    text = "The state of the Union is strong, ünïcödé too."
    assert rehearsed(text)["input_ids"] == packaged(text)["input_ids"]
    config = AutoConfig.from_pretrained(SMOLLM2_TEACHER, **offline(rehearsal_cache))
    assert config.architectures == ["LlamaForCausalLM"] and config.tie_word_embeddings
    full = smollm2_config("full", packaged)
    assert (full.hidden_size, full.num_hidden_layers, full.num_attention_heads, full.num_key_value_heads,
            full.intermediate_size, full.vocab_size) == (960, 32, 15, 5, 2560, 49_152)


def test_the_smollm2_stand_in_is_bf16_like_the_real_one_and_the_course_loads_it_in_fp32(rehearsal_cache):
    import kdcourse as kd
    from transformers import AutoModelForCausalLM

    plain = AutoModelForCausalLM.from_pretrained(SMOLLM2_TEACHER, **offline(rehearsal_cache))
    assert plain.dtype == torch.bfloat16  # what transformers 5 gives by default: the T4's loss scaler would fail
    course = kd.models.from_pretrained(AutoModelForCausalLM, SMOLLM2_TEACHER, **offline(rehearsal_cache))
    assert course.dtype == torch.float32


def test_a_machine_without_the_asset_packages_reads_the_tokenizers_from_an_earlier_cache(rehearsal_cache, tmp_path,
                                                                                          monkeypatch):
    # a GPU machine is sent the tiny cache and writes the full one there: the tokenizers must be the same ones
    import kdcourse.rehearsal as rehearsal
    from kdcourse.assets import MissingAssetError

    real_vocab, real_tok = wordpiece_vocab(), smollm2_tokenizer()

    def missing(asset):
        raise MissingAssetError(f"{asset[0]} is not installed here")

    monkeypatch.setattr(rehearsal, "package_file", missing)
    with pytest.raises(MissingAssetError):
        wordpiece_vocab()
    assert wordpiece_vocab(rehearsal_cache) == real_vocab
    tok = smollm2_tokenizer(rehearsal_cache)
    assert tok.get_vocab() == real_tok.get_vocab() and tok.eos_token_id == real_tok.eos_token_id
    snapshot = rehearsal.write_smollm2(tmp_path / "hub", "tiny", rehearsal_cache)
    assert (snapshot / "tokenizer.json").exists() and (snapshot / "model.safetensors").exists()
    with pytest.raises(FileNotFoundError, match="--tokenizers-from"):
        smollm2_tokenizer(tmp_path / "nothing here")
