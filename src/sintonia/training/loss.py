"""The loss on output tokens, computing logits only where there is a label.

A causal LM's head maps every position to the whole vocabulary: for Gemma's 262k tokens that
is the largest single cost of a step. Only the positions that predict an output token
contribute to the loss, so the head runs on those alone.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from transformers import PreTrainedModel

from sintonia.training.batches import Batch


def output_token_loss(
    causal_lm: PreTrainedModel, batch: Batch, over: int | None = None
) -> torch.Tensor:
    """Cross-entropy summed over the batch's output tokens and divided by `over`: by default
    their count (the mean). A 0-d fp32 tensor.

    A data-parallel rank divides by the whole step's count instead: the ranks' losses (and
    gradients) then add up to exactly those of the step's batch in one process.
    """
    decoder = causal_lm.get_decoder()
    head = causal_lm.get_output_embeddings()
    hidden = decoder(
        input_ids=batch.input_ids, attention_mask=batch.attention_mask, use_cache=False
    ).last_hidden_state  # (B, T, C)
    # Position t predicts token t+1: keep the positions whose next token is a label.
    predicts_label = batch.label_mask[:, 1:]  # (B, T-1)
    selected = hidden[:, :-1][predicts_label]  # (N, C)
    targets = batch.input_ids[:, 1:][predicts_label]  # (N,)
    logits = head(selected).float()  # (N, V), fp32 for a stable softmax
    softcap = getattr(causal_lm.config, "final_logit_softcapping", None)
    if softcap:
        logits = torch.tanh(logits / softcap) * softcap
    return F.cross_entropy(logits, targets, reduction="sum") / (over or len(targets))
