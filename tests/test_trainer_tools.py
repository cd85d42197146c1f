"""The Trainer toolbox: sentence pairs encoded as BERT reads them (two segments, token_type_ids, the longer
sentence truncated first). Single sentences, metrics and arguments are tested in test_classify.py."""
import numpy as np
import pytest
from datasets import Dataset, DatasetDict

import kdcourse as kd
from kdcourse import trainer_tools as tt

PAIRS = Dataset.from_dict({"sentence1": ["The speech was short.", "Taxes rose sharply last year and again this year."],
                           "sentence2": ["It ended early.", "Spending fell by a third."], "label": [1, 0]})


def test_a_pair_is_two_segments_with_token_type_ids(tok):
    row = tt.tokenize_dataset(PAIRS, tok, 32, columns=("sentence1", "sentence2"))[0]
    tokens = tok.convert_ids_to_tokens(row["input_ids"])
    first_sep = tokens.index("[SEP]")
    assert tokens[0] == "[CLS]" and tokens[-1] == "[SEP]" and tokens.count("[SEP]") == 2
    assert tokens[1:first_sep] == tok.tokenize("The speech was short.")
    assert tokens[first_sep + 1:-1] == tok.tokenize("It ended early.")
    # segment A ([CLS] a [SEP]) is 0, segment B (b [SEP]) is 1
    assert row["token_type_ids"] == [0] * (first_sep + 1) + [1] * (len(tokens) - first_sep - 1)
    assert set(row) == {"input_ids", "token_type_ids", "attention_mask", "label"}  # the texts are dropped


def test_truncation_shortens_the_longer_sentence_first(tok):
    long, short = PAIRS[1]["sentence1"], PAIRS[1]["sentence2"]
    a, b = tok.tokenize(long), tok.tokenize(short)
    # 10 + 6 tokens, room for 8: the long sentence is cut down to the short one's length, then both lose one at a
    # time, so both keep 4 (cutting the first sentence only, `only_first`, would keep 2 + 6: the test tells them apart)
    assert (len(a), len(b)) == (10, 6)
    row = tt.tokenize_dataset(PAIRS, tok, 3 + 8, columns=("sentence1", "sentence2"))[1]
    tokens = tok.convert_ids_to_tokens(row["input_ids"])
    sep = tokens.index("[SEP]")
    assert len(tokens) == 11
    assert tokens[1:sep] == a[:4] and tokens[sep + 1:-1] == b[:4]  # each keeps its beginning


def test_single_sentences_have_one_segment(tok):
    data = DatasetDict({"train": Dataset.from_dict({"text": ["a fine film"], "label": [1]})})
    row = tt.tokenize_dataset(data, tok, 32)["train"][0]
    assert set(row["token_type_ids"]) == {0} and "text" not in row


def test_missing_or_too_many_columns_are_named(tok):
    with pytest.raises(ValueError, match="no 'premise' column"):
        tt.tokenize_dataset(PAIRS, tok, 32, columns=("premise", "sentence2"))
    with pytest.raises(ValueError, match="or two for a sentence pair"):
        tt.tokenize_dataset(PAIRS, tok, 32, columns=("sentence1", "sentence2", "label"))
    with pytest.raises(ValueError, match="no 'text' column"):
        tt.tokenize_dataset(PAIRS, tok, 32)


def test_trainer_checkpoints_stay_on_local_disk_not_in_the_cache(tmp_path, monkeypatch):
    """On Colab with Drive mounted the cache is Google Drive; a Trainer's checkpoints (hundreds of MB each) must not go there."""
    monkeypatch.setenv("KDCOURSE_CACHE", str(tmp_path / "drive" / "kdcourse_cache"))
    monkeypatch.setenv("KDCOURSE_RUNS", str(tmp_path / "local" / "runs"))
    run = kd.trainer_tools.empty_run_dir("full", kd.get_profile("smoke"))
    assert run.parent == tmp_path / "local" / "runs" and run.is_dir() and not any(run.iterdir())
    assert not (tmp_path / "drive").exists()
    monkeypatch.delenv("KDCOURSE_RUNS")
    assert kd.assets.runs_dir() != kd.assets.cache_dir()


def test_predict_proba_reads_pairs_as_the_tokenizer_builds_them(tok):
    tokenizer = tok
    import torch

    from kdcourse.trainer_tools import predict_proba

    torch.manual_seed(0)
    model = kd.classify.make_classifier("scratch", kd.get_profile("smoke"), label_names=["not next", "next"])
    assert model.config.id2label == {0: "not next", 1: "next"}
    first, second = ["We must act now.", "Jobs came back."], ["The economy will not wait for us.", "Thank you."]
    got = predict_proba(model, tokenizer, first, second=second, max_length=12)
    enc = tokenizer(first, second, truncation="longest_first", max_length=12, padding=True, return_tensors="pt")
    assert enc["token_type_ids"].max() == 1  # a real pair, segments and all
    with torch.no_grad():
        want = model(**enc).logits.softmax(-1).numpy()
    assert np.allclose(got, want, atol=1e-6)
    assert not np.allclose(got, predict_proba(model, tokenizer, first, max_length=12), atol=1e-3)  # b was read
    with pytest.raises(ValueError, match="one of each per pair"):
        predict_proba(model, tokenizer, first, second=second[:1])
