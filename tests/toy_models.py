"""Tiny networks shared by the trainer tests (imported by test modules; holds no tests)."""

from __future__ import annotations

from torch import nn


class MeanEmbed(nn.Module):
    """A tiny model: mean of token embeddings -> logit (ignores lengths)."""

    def __init__(self, n_tokens=5):
        super().__init__()
        self.emb = nn.Embedding(n_tokens, 4, padding_idx=0)
        self.out = nn.Linear(4, 1)

    def forward(self, tokens, lengths=None):
        return self.out(self.emb(tokens).mean(dim=1)).squeeze(-1)
