"""Teacher logits computed once and looked up by example index: a fixed dataset's teacher costs one
pass instead of one per epoch and per student (notebook 04). Keyed by the row number in an index
column, never by batch position, so a shuffled loader still pairs each example with its own logits.
"""
from __future__ import annotations

import time

import torch

from ..loop import eval_mode, teacher_precision, to_model
from ..models import forward_names
from ..trainer_tools import shortest_first
from .trainer import INDEX_COLUMN


@torch.no_grad()
def cache_teacher_logits(teacher: torch.nn.Module, dataset, data_collator, batch_size: int = 64,
                         index_column: str = INDEX_COLUMN, progress: bool = True):
    """Run the frozen teacher once over `dataset` and keep its logits: (logits [N, classes], seconds).

    Row i of the result belongs to the example whose `index_column` is i (see add_index_column).
    Training for E epochs then costs one teacher pass instead of E. This is valid because the teacher
    is in eval() mode, so its outputs for an example never change; it works for a FIXED dataset
    (no random augmentation of the inputs). Examples are batched by length (less padding, so fewer
    wasted computations); the index column puts every row back in its place.
    """
    from torch.utils.data import DataLoader
    from tqdm.auto import tqdm

    if index_column not in dataset.column_names:
        raise ValueError(f"The dataset has no {index_column!r} column; add one with "
                         f"kd.distill.add_index_column(dataset) before caching teacher logits.")
    names = forward_names(teacher)
    columns = [c for c in dataset.column_names if c in names or c == index_column]
    if "input_ids" in dataset.column_names:
        dataset = shortest_first(dataset)[0]  # less padding; the index column puts every row back
    loader = DataLoader(dataset.select_columns(columns), batch_size=batch_size, shuffle=False,
                        collate_fn=data_collator)
    start = time.perf_counter()
    rows, chunks = [], []
    with eval_mode(teacher), teacher_precision(teacher):
        for batch in tqdm(loader, desc="teacher logits", disable=not progress):
            rows.append(batch[index_column])
            inputs = to_model({k: v for k, v in batch.items() if k in names and k != "labels"}, teacher)
            chunks.append(teacher(**inputs).logits.float().cpu())
    seconds = time.perf_counter() - start
    rows, chunks = torch.cat(rows), torch.cat(chunks)
    logits = torch.empty_like(chunks)
    logits[rows] = chunks
    return logits, seconds
