"""Train K Fit4Function LSTMs at once: the *stacked* engine.

The experiment trains dozens of copies of one small network on the same sequences with
different labels (noise levels, seeds, methods). Trained one after another, each model
leaves the hardware mostly idle; here the K models' weights are stacked along a leading
axis and run as batched matrix products, so one optimiser step trains all K.

What is stacked
---------------
:class:`StackedLSTM` holds, for each LSTM layer, ``w_ih (K, 4H, in)``, ``w_hh (K, 4H, H)``,
``b_ih, b_hh (K, 4H)`` and a head ``w (K, 1, H_last)``, ``b (K, 1)``: model ``k`` is slot
``k`` of every tensor and is exactly an :class:`badlabels.models.lstm.LSTMNet`
(:meth:`StackedLSTM.to_lstmnet` / :meth:`StackedLSTM.from_lstmnets` convert). Internally
the gates are kept in the order i, f, o, g (PyTorch's is i, f, g, o) so that one sigmoid
covers three gates.

- Layer 1 sees one-hot residues, so its input projection is a gather: row ``a`` of
  ``[0 | W_ih^T] + b`` for residue token ``a`` (padding = token 0 = no input).
- Each layer's recurrence is one autograd function (:class:`_LSTMLayer`) with a
  hand-written backward: per time step one ``baddbmm`` over the K models forward, one
  ``bmm`` backward, and the recurrent weight gradient accumulated in place.
- Sequences of different lengths: the last layer's state is read at each sequence's
  last residue (states of padded positions are computed but never used), which is
  what packing does in the plain model.

Training (:func:`fit_stacked`)
------------------------------
Sequences are encoded once and kept on the device as int tokens (no float one-hot), each
model has its own labels ``y[k]`` and its own (noisy) validation labels. Every model has
its own seed: its initial weights are those ``LSTMClassifier(random_state=seed)`` would
draw, and its batch order is the permutation the plain :class:`~badlabels.training.
trainer.Trainer` would draw with that seed (``torch.randperm`` with a generator seeded
by ``seed``), taken by indexing. So a model's training does not depend on which other
models share its stack, and K = 1 is the plain training up to floating-point rounding.

One Adam over the stacked tensors is K independent Adams (it is elementwise). Early
stopping is per model, with the plain trainer's rule (patience on the validation loss,
best weights restored). A model that stops is *removed from the stack* (its weights
and Adam state are sliced out), so it stops changing and the remaining models train
faster; its best weights are kept aside and returned.

Losses are any registered loss (``badlabels.training.losses``): by the registry's
contract a loss is a mean of per-sample losses, so models that share a loss are
evaluated together; models with other loss parameters are evaluated group by group.

Nothing here imports typer, rich, cleanlab or safetensors: ``benchmarks/throughput.py``
runs it from source with torch, numpy, pandas and scikit-learn only.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from badlabels.training.losses import get_loss

# --- the stacked network ----------------------------------------------------------------


def _gate_order(h: int) -> torch.Tensor:
    """Indices taking PyTorch's gate rows (i, f, g, o) to ours (i, f, o, g)."""
    return torch.cat(
        [torch.arange(0, 2 * h), torch.arange(3 * h, 4 * h), torch.arange(2 * h, 3 * h)]
    )


def _gate_order_inverse(h: int) -> torch.Tensor:
    """Indices taking our gate rows (i, f, o, g) back to PyTorch's (i, f, g, o)."""
    return torch.argsort(_gate_order(h))


TANH_VIA_SIGMOID_ON_CPU = True
"""On the CPU compute tanh as ``2 sigmoid(2x) - 1`` (PyTorch's CPU tanh is several times
slower than its sigmoid). Tests switch it off to run the GPU branch on the CPU."""


def _via_sigmoid(x: torch.Tensor) -> bool:
    return TANH_VIA_SIGMOID_ON_CPU and x.device.type == "cpu"


def _tanh_(x: torch.Tensor) -> torch.Tensor:
    """In-place tanh; on the CPU as ``2 sigmoid(2x) - 1`` (see TANH_VIA_SIGMOID_ON_CPU)."""
    if _via_sigmoid(x):
        return x.mul_(2).sigmoid_().mul_(2).sub_(1)
    return x.tanh_()


class Workspace:
    """Reusable buffers for :class:`_LSTMLayer` (CPU training).

    Large fresh CPU tensors cost page faults on first touch every time they are
    allocated (the allocator hands big blocks back to the OS); reusing the per-layer
    buffers of the previous step avoids that. Buffers are taken in ``forward`` and given
    back at the end of ``backward`` -- including the layer's output, so a workspace is
    only for a plain training loop (forward, backward, forward, ...) whose outputs are not
    kept past their backward. A change of (K, B) empties it.
    """

    def __init__(self):
        self.free: dict[tuple, list[torch.Tensor]] = {}
        self.signature: tuple | None = None

    def begin(self, k: int, b: int) -> None:
        if self.signature != (k, b):
            self.free.clear()
            self.signature = (k, b)

    def take(self, shape, like: torch.Tensor) -> torch.Tensor:
        stack = self.free.get((tuple(shape), like.dtype, like.device))
        return stack.pop() if stack else like.new_empty(shape)

    def give(self, *tensors: torch.Tensor) -> None:
        for t in tensors:
            self.free.setdefault((tuple(t.shape), t.dtype, t.device), []).append(t)


class _LSTMLayer(torch.autograd.Function):
    """One LSTM layer over all K models and all time steps, with a hand-written backward.

    ``apply(x, index, w_hh, mm_dtype, workspace)``:

    - ``index is None``: ``x`` is ``gx (K, T, B, 4H)``, the input projections with both
      biases added (gates in the order i, f, o, g);
    - otherwise ``x`` is a ``(K * V, 4H)`` table and ``index (T, K, B)`` its rows: the
      projection of step ``t`` is ``x[index[t]]`` (one-hot inputs: nothing of size
      ``T x 4H`` is materialised, and the table's gradient is an ``index_add``).

    ``w_hh (K, 4H, H)``; ``mm_dtype``: dtype of the recurrent products (None: float32);
    ``workspace``: a :class:`Workspace` or None. Returns ``hs (K, T, B, H)``, the hidden
    state of every step (initial state zero), laid out so that the next layer's input
    projection is one matrix product per model.
    """

    @staticmethod
    @torch.amp.custom_fwd(device_type="cuda", cast_inputs=torch.float32)
    def forward(ctx, x, index, w_hh, mm_dtype, workspace):  # noqa: D102
        K, G, H = w_hh.shape[0], w_hh.shape[1], w_hh.shape[2]
        if index is None:
            _, T, B, _ = x.shape
        else:
            T, _, B = index.shape
        ws = workspace
        # On the CPU tanh is computed as 2 sigmoid(2x) - 1 (PyTorch's CPU tanh is several
        # times slower than its sigmoid): the g rows are doubled so that one sigmoid covers
        # all four gates.
        via_sigmoid = _via_sigmoid(x)

        def buf(shape):
            return x.new_empty(shape) if ws is None else ws.take(shape, x)

        acts = buf((T, K, B, G))  # activated gates: i, f, o (sigmoid), g (tanh)
        cs = buf((T, K, B, H))
        tcs = buf((T, K, B, H))  # tanh(c)
        hs = buf((K, T, B, H))
        w_t = w_hh.transpose(1, 2)  # (K, H, 4H)
        if via_sigmoid:
            w_t = w_t.clone()
            w_t[..., 3 * H :] *= 2
            if index is not None:
                x = x.clone()
                x[:, 3 * H :] *= 2
        if mm_dtype is not None:
            w_t = w_t.to(mm_dtype)
        for t in range(T):
            a = acts[t]
            if index is None:
                a.copy_(x[:, t])
                if via_sigmoid:
                    a[..., 3 * H :] *= 2
            else:
                torch.index_select(x, 0, index[t].reshape(-1), out=a.view(K * B, G))
            if t > 0:
                if mm_dtype is None:
                    a.baddbmm_(hs[:, t - 1], w_t)
                else:
                    a.add_(torch.bmm(hs[:, t - 1].to(mm_dtype), w_t))
            if via_sigmoid:
                a.sigmoid_()
                a[..., 3 * H :].mul_(2).sub_(1)
            else:
                a[..., : 3 * H].sigmoid_()
                a[..., 3 * H :].tanh_()
            i, f, o, g = a[..., :H], a[..., H : 2 * H], a[..., 2 * H : 3 * H], a[..., 3 * H :]
            c = cs[t]
            if t == 0:
                torch.mul(i, g, out=c)
            else:
                torch.mul(f, cs[t - 1], out=c)
                c.addcmul_(i, g)
            tc = tcs[t]
            if via_sigmoid:
                torch.mul(c, 2, out=tc)
                tc.sigmoid_().mul_(2).sub_(1)
            else:
                torch.tanh(c, out=tc)
            torch.mul(o, tc, out=hs[:, t])
        if index is None:
            ctx.save_for_backward(acts, cs, tcs, hs, w_hh)
            ctx.table_shape = None
        else:
            ctx.save_for_backward(acts, cs, tcs, hs, w_hh, index)
            ctx.table_shape = tuple(x.shape)
        ctx.mm_dtype = mm_dtype
        ctx.workspace = ws
        return hs

    @staticmethod
    @torch.amp.custom_bwd(device_type="cuda")
    def backward(ctx, dhs):  # noqa: D102
        if ctx.table_shape is None:
            acts, cs, tcs, hs, w_hh = ctx.saved_tensors
            index = None
        else:
            acts, cs, tcs, hs, w_hh, index = ctx.saved_tensors
        mm_dtype = ctx.mm_dtype
        ws = ctx.workspace
        T, K, B, G = acts.shape
        H = G // 4
        if index is None:
            dgx = acts.new_empty(K, T, B, G)
            dtable = None
        else:
            dgx = None
            dtable = acts.new_zeros(ctx.table_shape)
        dbuf = acts.new_empty(K, B, G)
        dw = torch.zeros_like(w_hh)  # (K, 4H, H)
        w = w_hh if mm_dtype is None else w_hh.to(mm_dtype)
        one = acts.new_ones(())
        dh_next = dc_next = None
        for t in range(T - 1, -1, -1):
            a = acts[t]
            i, f, o, g = a[..., :H], a[..., H : 2 * H], a[..., 2 * H : 3 * H], a[..., 3 * H :]
            tc = tcs[t]
            dh = dhs[:, t] if dh_next is None else dh_next.add_(dhs[:, t])
            dc = torch.addcmul(one, tc, tc, value=-1)  # 1 - tanh(c)^2
            dc.mul_(o).mul_(dh)
            if dc_next is not None:
                dc.add_(dc_next)
            d = dbuf if index is not None else dgx[:, t]
            d_i, d_f, d_o, d_g = d[..., :H], d[..., H : 2 * H], d[..., 2 * H : 3 * H], d[..., 3 * H :]
            # derivatives of the activations: s(1 - s) for the sigmoid gates, 1 - g^2 for g
            torch.addcmul(a[..., : 3 * H], a[..., : 3 * H], a[..., : 3 * H], value=-1,
                          out=d[..., : 3 * H])  # fmt: skip
            torch.addcmul(one, g, g, value=-1, out=d_g)
            d_i.mul_(dc).mul_(g)
            if t > 0:
                d_f.mul_(dc).mul_(cs[t - 1])
            else:
                d_f.zero_()
            d_o.mul_(dh).mul_(tc)
            d_g.mul_(dc).mul_(i)
            if index is not None:
                dtable.index_add_(0, index[t].reshape(-1), d.reshape(K * B, G))
            if t > 0:
                if mm_dtype is None:
                    dh_next = torch.bmm(d, w)
                    dw.baddbmm_(d.transpose(1, 2), hs[:, t - 1])
                else:
                    d_low = d.to(mm_dtype)
                    dh_next = torch.bmm(d_low, w).float()
                    dw.add_(torch.bmm(d_low.transpose(1, 2), hs[:, t - 1].to(mm_dtype)))
                dc_next = dc.mul_(f)
        if ws is not None:
            ws.give(acts, cs, tcs, hs)
        return (dgx if index is None else dtable), None, dw, None, None


def _lstm_layer_reference(x, index, w_hh):
    """Plain-autograd version of :class:`_LSTMLayer` (the tests check one against the other)."""
    gx = F.embedding(index, x) if index is not None else x.transpose(0, 1)  # (T, K, B, 4H)
    T, K, B, G = gx.shape
    H = G // 4
    h = gx.new_zeros(K, B, H)
    c = gx.new_zeros(K, B, H)
    out = []
    for t in range(T):
        gates = gx[t] + torch.bmm(h, w_hh.transpose(1, 2))
        i, f, o = torch.sigmoid(gates[..., : 3 * H]).split(H, dim=-1)
        g = torch.tanh(gates[..., 3 * H :])
        c = f * c + i * g
        h = o * torch.tanh(c)
        out.append(h)
    return torch.stack(out, dim=1)  # (K, T, B, H)


class StackedLSTM(nn.Module):
    """K independent Fit4Function LSTMs (one-hot -> LSTM ... -> Linear -> logit), stacked.

    Parameters
    ----------
    k : int
        Number of models.
    n_tokens : int
        Token ids ``0..n_tokens-1``, 0 = padding (``len(alphabet) + 1``).
    hidden_sizes : sequence of int
        Hidden size of each LSTM layer, first to last (default ``(140, 20)``).
    mm_dtype : torch.dtype, optional
        Run the recurrent matrix products in this dtype (e.g. ``torch.bfloat16``); the
        state, the gates and the weights stay float32. ``None``: float32 throughout.
    init : bool, default True
        Draw weights from ``nn.LSTM``'s ranges (global RNG); False leaves them
        uninitialised (see :func:`init_stacked` for the plain estimator's exact draws).

    Notes
    -----
    ``forward(tokens, lengths)`` takes ``tokens`` of shape ``(B, L)`` (every model sees
    the same sequences) or ``(K, B, L)`` (model ``k`` sees ``tokens[k]``) and returns
    logits of shape ``(K, B)``.
    """

    def __init__(self, k: int, n_tokens: int, hidden_sizes=(140, 20), mm_dtype=None, init=True):
        super().__init__()
        self.k = int(k)
        self.n_tokens = int(n_tokens)
        self.hidden_sizes = tuple(int(h) for h in hidden_sizes)
        self.mm_dtype = mm_dtype
        self.workspace: Workspace | None = None
        sizes = [self.n_tokens - 1, *self.hidden_sizes]
        for layer in range(len(self.hidden_sizes)):
            n_in, h = sizes[layer], sizes[layer + 1]
            bound = 1.0 / math.sqrt(h)
            for name, shape in (
                ("w_ih", (self.k, 4 * h, n_in)),
                ("w_hh", (self.k, 4 * h, h)),
                ("b_ih", (self.k, 4 * h)),
                ("b_hh", (self.k, 4 * h)),
            ):
                p = torch.empty(shape)
                self.register_parameter(f"{name}_{layer}", nn.Parameter(p.uniform_(-bound, bound) if init else p))
        h_last = sizes[-1]
        bound = 1.0 / math.sqrt(h_last)
        self.head_w = nn.Parameter(torch.empty(self.k, 1, h_last))
        self.head_b = nn.Parameter(torch.empty(self.k, 1))
        if init:  # nn.LSTM's and nn.Linear's ranges (bias: 1/sqrt(fan_in); weight: same bound)
            with torch.no_grad():
                self.head_w.uniform_(-bound, bound)
                self.head_b.uniform_(-bound, bound)

    # --- conversion to and from LSTMNet -------------------------------------------------
    @classmethod
    def from_lstmnets(cls, nets: Sequence[nn.Module], mm_dtype=None) -> StackedLSTM:
        """Stack ``LSTMNet`` modules (same architecture) into one :class:`StackedLSTM`."""
        first = nets[0]
        hidden = tuple(lstm.hidden_size for lstm in first.lstms)
        out = cls(len(nets), first.n_tokens, hidden, mm_dtype=mm_dtype, init=False)
        with torch.no_grad():
            for k, net in enumerate(nets):
                out.load_lstmnet(k, net)
        return out

    @torch.no_grad()
    def load_lstmnet(self, k: int, net: nn.Module) -> None:
        """Copy the weights of an ``LSTMNet`` into slot ``k``."""
        self._load_parts(k, net.lstms, net.head)

    @torch.no_grad()
    def _load_parts(self, k: int, lstms: Sequence[nn.LSTM], head: nn.Linear) -> None:
        for layer, lstm in enumerate(lstms):
            order = _gate_order(lstm.hidden_size)
            for ours, theirs in (("w_ih", "weight_ih_l0"), ("w_hh", "weight_hh_l0"),
                                 ("b_ih", "bias_ih_l0"), ("b_hh", "bias_hh_l0")):  # fmt: skip
                src = getattr(lstm, theirs).detach()[order]
                getattr(self, f"{ours}_{layer}")[k].copy_(src)
        self.head_w[k].copy_(head.weight.detach())
        self.head_b[k].copy_(head.bias.detach())

    @torch.no_grad()
    def to_lstmnet(self, k: int) -> nn.Module:
        """Model ``k`` as a stand-alone ``LSTMNet`` (on the CPU, eval mode)."""
        from badlabels.models.lstm import LSTMNet

        net = LSTMNet(self.n_tokens, self.hidden_sizes)
        for layer, lstm in enumerate(net.lstms):
            inv = _gate_order_inverse(lstm.hidden_size)
            for ours, theirs in (("w_ih", "weight_ih_l0"), ("w_hh", "weight_hh_l0"),
                                 ("b_ih", "bias_ih_l0"), ("b_hh", "bias_hh_l0")):  # fmt: skip
                src = getattr(self, f"{ours}_{layer}")[k].detach().cpu()[inv]
                getattr(lstm, theirs).copy_(src)
        net.head.weight.copy_(self.head_w[k].detach().cpu())
        net.head.bias.copy_(self.head_b[k].detach().cpu())
        return net.eval()

    @torch.no_grad()
    def select(self, idx: Sequence[int] | torch.Tensor) -> StackedLSTM:
        """A new stack holding models ``idx`` (copies, same device)."""
        idx_t = torch.as_tensor(idx, dtype=torch.long, device=self.head_b.device)
        out = StackedLSTM.__new__(StackedLSTM)
        nn.Module.__init__(out)
        out.k = int(idx_t.numel())
        out.n_tokens = self.n_tokens
        out.hidden_sizes = self.hidden_sizes
        out.mm_dtype = self.mm_dtype
        out.workspace = self.workspace
        for name, p in self.named_parameters():
            out.register_parameter(name, nn.Parameter(p.detach()[idx_t].clone()))
        return out

    def layer(self, i: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(w_ih, w_hh, b_ih, b_hh)`` of layer ``i``."""
        return tuple(getattr(self, f"{n}_{i}") for n in ("w_ih", "w_hh", "b_ih", "b_hh"))

    # --- forward ------------------------------------------------------------------------
    def _token_index(self, tokens: torch.Tensor) -> torch.Tensor:
        """Rows of the flattened (K * n_tokens, 4H) embedding table, shape (T, K, B)."""
        if tokens.dim() == 2:
            tokens = tokens.unsqueeze(0).expand(self.k, -1, -1)
        offsets = torch.arange(self.k, device=tokens.device) * self.n_tokens
        return (tokens.permute(2, 0, 1) + offsets.view(1, -1, 1)).contiguous()

    def _table(self) -> torch.Tensor:
        """Layer 1's input projection as a (K * n_tokens, 4H) table: padding row = bias only."""
        w_ih, _, b_ih, b_hh = self.layer(0)
        rows = torch.cat([w_ih.new_zeros(self.k, w_ih.shape[1], 1), w_ih], dim=2)
        table = rows.transpose(1, 2) + (b_ih + b_hh).unsqueeze(1)  # (K, n_tokens, 4H)
        return table.reshape(self.k * self.n_tokens, -1)

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Logits of every model.

        Parameters
        ----------
        tokens : torch.Tensor of int64, shape (B, L) or (K, B, L)
            0 = padding (right-padded).
        lengths : torch.Tensor of int64, shape (B,) or (K, B), optional
            Real lengths; ``None`` when every sequence is ``L`` long.

        Returns
        -------
        torch.Tensor of float32, shape (K, B)
        """
        if not torch.is_grad_enabled():
            return self._forward_no_grad(tokens, lengths)
        n_layers = len(self.hidden_sizes)
        ws = self.workspace
        if ws is not None:
            ws.begin(self.k, int(tokens.shape[-2]))
        x = None
        for layer in range(n_layers):
            w_ih, w_hh, b_ih, b_hh = self.layer(layer)
            if layer == 0:  # one-hot input: gather rows of the projection table
                index = self._token_index(tokens)
                x = _LSTMLayer.apply(self._table(), index, w_hh, self.mm_dtype, ws)
            else:
                # one product per model: (K, T * B, H_prev) @ (K, H_prev, 4H)
                K, T, B, H_prev = x.shape
                gx = torch.baddbmm((b_ih + b_hh).unsqueeze(1), x.reshape(K, T * B, H_prev),
                                   w_ih.transpose(1, 2))  # fmt: skip
                x = _LSTMLayer.apply(gx.view(K, T, B, -1), None, w_hh, self.mm_dtype, ws)
        h_last = self._last_state(x, lengths)  # (K, B, H)
        return torch.baddbmm(self.head_b.unsqueeze(1), h_last, self.head_w.transpose(1, 2)).squeeze(-1)

    def _last_state(self, hs: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
        """The hidden state at each sequence's last residue: ``hs (K, T, B, H) -> (K, B, H)``."""
        if lengths is None:
            return hs[:, -1]
        K, T, B, H = hs.shape
        if lengths.dim() == 1:
            lengths = lengths.unsqueeze(0).expand(K, -1)
        idx = (lengths - 1).clamp(min=0).view(K, 1, B, 1).expand(K, 1, B, H)
        return hs.gather(1, idx).squeeze(1)

    def _forward_no_grad(self, tokens: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
        """Forward without autograd, one time step at a time through all layers (little memory)."""
        index = self._token_index(tokens)  # (T, K, B)
        table = self._table()
        T, K, B = index.shape
        n_layers = len(self.hidden_sizes)
        layers = [self.layer(i) for i in range(n_layers)]
        w_hh_t = [w_hh.transpose(1, 2) for _, w_hh, _, _ in layers]
        w_ih_t = [None] + [w_ih.transpose(1, 2) for w_ih, _, _, _ in layers[1:]]
        bias = [None] + [(b_ih + b_hh).unsqueeze(1) for _, _, b_ih, b_hh in layers[1:]]
        if self.mm_dtype is not None:
            w_hh_t = [w.to(self.mm_dtype) for w in w_hh_t]
        h = [None] * n_layers
        c = [None] * n_layers
        last = None
        if lengths is not None and lengths.dim() == 1:
            lengths = lengths.unsqueeze(0).expand(K, -1)
        for t in range(T):
            x = None
            for i, size in enumerate(self.hidden_sizes):
                gates = F.embedding(index[t], table) if i == 0 else torch.baddbmm(bias[i], x, w_ih_t[i])
                if h[i] is not None:
                    if self.mm_dtype is None:
                        gates = gates.baddbmm_(h[i], w_hh_t[i])
                    else:
                        gates += torch.bmm(h[i].to(self.mm_dtype), w_hh_t[i]).float()
                gates[..., : 3 * size].sigmoid_()
                _tanh_(gates[..., 3 * size :])
                ig, fg, og, gg = gates.split(size, dim=-1)
                c[i] = ig * gg if c[i] is None else torch.addcmul(ig * gg, fg, c[i])
                h[i] = og * _tanh_(c[i].clone())
                x = h[i]
            if lengths is not None:
                hit = (lengths == t + 1).unsqueeze(-1)
                last = torch.where(hit, x, x if last is None else last)
        out = x if lengths is None else last
        return torch.baddbmm(self.head_b.unsqueeze(1), out, self.head_w.transpose(1, 2)).squeeze(-1)


def _reference_init(seed: int, n_tokens: int, hidden_sizes: Sequence[int]):
    """The weights ``LSTMNet(n_tokens, hidden_sizes)`` gets after ``torch.manual_seed(seed)``.

    Built from ``nn.LSTM`` / ``nn.Linear`` in ``LSTMNet``'s order (so this module needs
    nothing from ``badlabels.models``); a test checks the two stay the same.
    """
    sizes = [int(n_tokens) - 1, *[int(h) for h in hidden_sizes]]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed) % (2**32))
        lstms = [nn.LSTM(sizes[i], sizes[i + 1], batch_first=True) for i in range(len(sizes) - 1)]
        head = nn.Linear(sizes[-1], 1)
    return lstms, head


def init_stacked(
    seeds: Sequence[int],
    n_tokens: int,
    hidden_sizes=(140, 20),
    device: torch.device | str = "cpu",
    mm_dtype=None,
) -> StackedLSTM:
    """A stack whose model ``k`` starts as ``LSTMClassifier(random_state=seeds[k])`` would.

    The plain estimator seeds the global RNG with its seed and builds an ``LSTMNet`` on the
    CPU; the same draws are made here for each seed (the caller's RNG is left alone).
    """
    out = StackedLSTM(len(seeds), n_tokens, hidden_sizes, mm_dtype=mm_dtype, init=False)
    with torch.no_grad():
        for k, seed in enumerate(seeds):
            lstms, head = _reference_init(seed, n_tokens, hidden_sizes)
            out._load_parts(k, lstms, head)
    return out.to(device)


# --- losses -------------------------------------------------------------------------------


def _freeze_params(params: dict | None) -> tuple:
    return tuple(sorted((str(k), repr(v)) for k, v in (params or {}).items()))


def _bce_per_model(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(logits, y, reduction="none").mean(dim=1)


class StackedLoss:
    """Per-model mean losses ``(K,)`` of stacked logits ``(K, B)``; models grouped by loss.

    Parameters
    ----------
    specs : sequence of (name, params)
        Model ``k``'s registered loss and its parameters.

    Notes
    -----
    A registered loss is, by the registry's contract, the mean of per-sample losses over a
    batch. Built-in losses expose their elementwise ``per_sample`` form, applied here to
    the whole ``(K, B)`` block at once and averaged over ``B``; a loss without one is
    batched with ``torch.func.vmap``, or failing that called model by model. Models with
    different losses (or loss parameters) are evaluated group by group.
    """

    def __init__(self, specs: Sequence[tuple[str, dict | None]]):
        self.specs = [(str(name), dict(params or {})) for name, params in specs]
        groups: dict[tuple, list[int]] = {}
        fns: dict[tuple, Callable] = {}
        for k, (name, params) in enumerate(self.specs):
            key = (name, _freeze_params(params))
            groups.setdefault(key, []).append(k)
            if key not in fns:
                fn = get_loss(name, **params)  # checks the name and parameters
                fns[key] = _bce_per_model if name == "bce" and not params else self._batched(fn)
        self.groups = [(fns[key], idx) for key, idx in groups.items()]

    @staticmethod
    def _batched(fn: Callable) -> Callable:
        state: dict[str, Callable | None] = {}
        per_sample = getattr(fn, "per_sample", None)

        def loop(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            return torch.stack([fn(logits[j], y[j]) for j in range(logits.shape[0])])

        def elementwise(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            return per_sample(logits, y).mean(dim=1)

        def per_model(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            if "fn" not in state:  # pick the fastest form that agrees with the loop
                want = loop(logits[:, :3].detach(), y[:, :3])
                state["fn"] = loop
                candidates = [elementwise] if per_sample is not None else []
                candidates.append(torch.func.vmap(fn))
                for cand in candidates:
                    try:
                        got = cand(logits[:, :3].detach(), y[:, :3])
                    except Exception:  # not batchable this way
                        continue
                    if tuple(got.shape) == tuple(want.shape) and torch.allclose(
                        got, want, rtol=1e-5, atol=1e-6, equal_nan=True
                    ):
                        state["fn"] = cand
                        break
            return state["fn"](logits, y)

        return per_model

    def select(self, idx: Sequence[int]) -> StackedLoss:
        """The losses of models ``idx`` (in that order)."""
        return StackedLoss([self.specs[i] for i in idx])

    def __call__(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Mean loss of each model over its batch: shape ``(K,)``."""
        if len(self.groups) == 1:
            return self.groups[0][0](logits, y)
        out = torch.zeros(logits.shape[0], device=logits.device, dtype=logits.dtype)
        for fn, idx in self.groups:
            ix = torch.as_tensor(idx, device=logits.device)
            out = out.index_put((ix,), fn(logits[ix], y[ix]))
        return out


# --- training -----------------------------------------------------------------------------

PRECISIONS = ("auto", "fp32", "tf32", "bf16")
"""``fp32``: float32 throughout. ``tf32``: CUDA matrix products on TF32 tensor cores (what
cuDNN's LSTM, hence the plain model on a GPU, uses by default). ``bf16``: the recurrent
products in bfloat16 with float32 accumulation (state, gates and weights stay float32),
plus bfloat16 autocast for the other products on CUDA. ``auto``: ``tf32`` on CUDA;
on the CPU ``bf16`` where the CPU multiplies bfloat16 natively (AVX512-BF16 or AMX),
else ``fp32`` (docs/performance.md shows the test AUROC does not move)."""


@functools.lru_cache(maxsize=1)
def cpu_has_fast_bf16() -> bool:
    """Whether this CPU has native bfloat16 dot products (``avx512_bf16`` or ``amx_bf16``)."""
    if not torch.backends.mkldnn.is_available():
        return False
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool(flags & {"avx512_bf16", "amx_bf16"})
    except OSError:
        pass
    return False


def resolve_precision(precision: str, device: torch.device | str) -> str:
    """``precision`` with ``auto`` resolved for ``device``; ValueError if unknown."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if precision == "auto":
        if torch.device(device).type == "cuda":
            return "tf32"
        return "bf16" if cpu_has_fast_bf16() else "fp32"
    return precision


@dataclass
class StackedResult:
    """What :func:`fit_stacked` returns (lists are per model, in input order).

    Attributes
    ----------
    module : StackedLSTM
        All K models with their kept (best) weights, eval mode, on the training device.
    history : list of list of dict
        Per model, per epoch: ``epoch``, ``train_loss``, ``val_loss``, ``seconds`` (the
        epoch's wall time divided by the number of models trained in it).
    best_epoch, epochs_run : list of int
    best_val_loss : list of float or None
    seconds : float
        Wall time of the whole loop.
    model_epochs : int
        Epochs run, summed over the models.
    """

    module: StackedLSTM
    history: list[list[dict]] = field(default_factory=list)
    best_epoch: list[int] = field(default_factory=list)
    epochs_run: list[int] = field(default_factory=list)
    best_val_loss: list[float | None] = field(default_factory=list)
    seconds: float = 0.0
    model_epochs: int = 0


def eval_rows(k: int, hidden_sizes: Sequence[int], device: torch.device) -> int:
    """Rows per no-grad forward, so that one step's gates of all K models stay small."""
    budget = 2**25 if torch.device(device).type == "cuda" else 2**22  # floats per step
    return int(min(max(budget // (max(k, 1) * 4 * max(hidden_sizes)), 256), 16384))


def predict_stacked(
    module: StackedLSTM,
    tokens: torch.Tensor,
    lengths: torch.Tensor | None = None,
    rows: int | None = None,
) -> torch.Tensor:
    """Logits of all K models over shared sequences: ``(K, n)`` float32 on their device."""
    n = int(tokens.shape[0])
    rows = rows or eval_rows(module.k, module.hidden_sizes, tokens.device)
    was_training = module.training
    module.eval()
    out = []
    try:
        with torch.no_grad():
            for start in range(0, n, rows):
                stop = min(start + rows, n)
                ln = None if lengths is None else lengths[start:stop]
                out.append(module(tokens[start:stop], ln).float())
    finally:
        module.train(was_training)
    if not out:
        return torch.empty(module.k, 0, device=tokens.device)
    return torch.cat(out, dim=1)


def predict_stacked_rows(
    module: StackedLSTM,
    tokens: torch.Tensor,
    lengths: torch.Tensor | None,
    rows: Sequence[torch.Tensor],
) -> list[torch.Tensor]:
    """Logits of model ``k`` over its own rows ``tokens[rows[k]]``, for every k.

    Returns a list of K float32 tensors, ``len(rows[k])`` long each, on the device.
    """
    width = max((len(r) for r in rows), default=0)
    index = torch.stack([_top_up(r, width) for r in rows]) if width else None
    out = []
    step = eval_rows(module.k, module.hidden_sizes, tokens.device)
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            for start in range(0, width, step):
                idx = index[:, start : start + step]  # (K, B)
                out.append(module(tokens[idx], None if lengths is None else lengths[idx]).float())
    finally:
        module.train(was_training)
    if not out:
        return [torch.empty(0, device=tokens.device) for _ in rows]
    logits = torch.cat(out, dim=1)
    return [logits[k, : len(r)] for k, r in enumerate(rows)]


def _top_up(index: torch.Tensor, width: int) -> torch.Tensor:
    """``index`` made ``width`` long by repeating its start (no-op when it is that long)."""
    if len(index) >= width:
        return index
    reps = -(-width // max(len(index), 1))
    return index.repeat(reps)[:width]


def _check_rows(rows, k: int, n: int, what: str) -> list[torch.Tensor] | None:
    if rows is None:
        return None
    rows = list(rows)
    if len(rows) != k:
        raise ValueError(f"{what}: got {len(rows)} index tensors for {k} models")
    for j, r in enumerate(rows):
        if r.dim() != 1 or len(r) == 0:
            raise ValueError(f"{what}[{j}] must be a non-empty 1-D index tensor")
        if int(r.min()) < 0 or int(r.max()) >= n:
            raise ValueError(f"{what}[{j}] indexes outside the {n} rows")
    return rows


def _loss_on_rows(module, loss_fn, tokens, lengths, y, rows) -> list[float]:
    """Model ``k``'s mean loss over exactly its rows (models grouped by row count)."""
    logits = predict_stacked_rows(module, tokens, lengths, rows)
    out = [0.0] * len(rows)
    by_size: dict[int, list[int]] = {}
    for k, r in enumerate(rows):
        by_size.setdefault(len(r), []).append(k)
    for group in by_size.values():
        targets = torch.stack([y[k, rows[k]] for k in group])
        losses = loss_fn.select(group)(torch.stack([logits[k] for k in group]), targets)
        for k, value in zip(group, losses.tolist(), strict=True):
            out[k] = value
    return out


def _adam_kwargs(lr: float, weight_decay: float, device: torch.device) -> dict:
    kw: dict = {"lr": float(lr), "weight_decay": float(weight_decay)}
    kw["fused" if device.type == "cuda" else "foreach"] = True
    return kw


def _sliced_adam(
    opt: torch.optim.Adam, old: list[torch.Tensor], new: list[nn.Parameter],
    keep: torch.Tensor, kw: dict,
) -> torch.optim.Adam:  # fmt: skip
    """A new Adam over ``new`` holding ``opt``'s state for the models ``keep``."""
    out = torch.optim.Adam(new, **kw)
    for p_old, p_new in zip(old, new, strict=True):
        st = opt.state.get(p_old)
        if st:
            out.state[p_new] = {
                "step": st["step"].clone() if torch.is_tensor(st["step"]) else st["step"],
                "exp_avg": st["exp_avg"][keep].clone(),
                "exp_avg_sq": st["exp_avg_sq"][keep].clone(),
            }
    return out


class _TF32:
    """Context: float32 CUDA matrix products on TF32 tensor cores (restored on exit)."""

    def __init__(self, on: bool):
        self.on = on

    def __enter__(self):
        self.saved = torch.get_float32_matmul_precision()
        if self.on:
            torch.set_float32_matmul_precision("high")

    def __exit__(self, *exc):
        torch.set_float32_matmul_precision(self.saved)


def fit_stacked(
    tokens: torch.Tensor,
    lengths: torch.Tensor | None,
    y: torch.Tensor,
    *,
    seeds: Sequence[int],
    val_tokens: torch.Tensor | None = None,
    val_lengths: torch.Tensor | None = None,
    val_y: torch.Tensor | None = None,
    n_tokens: int = 21,
    hidden_sizes: Sequence[int] = (140, 20),
    losses: Sequence[tuple[str, dict | None]] | None = None,
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    batch_size: int = 500,
    max_epochs: int = 30,
    patience: int | None = 5,
    precision: str = "auto",
    progress: Callable[..., object] | None = None,
    rows: Sequence[torch.Tensor] | None = None,
    val_rows: Sequence[torch.Tensor] | None = None,
) -> StackedResult:
    """Train K LSTMs on shared sequences with per-model labels and per-model early stopping.

    Parameters
    ----------
    tokens : torch.Tensor of int64, shape (n, L)
        Training sequences, already on the training device (``to_device_data``).
    lengths : torch.Tensor of int64, shape (n,), or None
        ``None`` when every sequence is ``L`` long.
    y : torch.Tensor of float32, shape (K, n)
        Model ``k``'s training targets (0.0 / 1.0).
    seeds : sequence of int, length K
        Model ``k`` is initialised and its batches drawn as in
        ``LSTMClassifier(random_state=seeds[k])``.
    val_tokens, val_lengths : optional
        Validation sequences (shared by the models).
    val_y : torch.Tensor, shape (K, n_val), optional
        Per-model validation targets: early stopping and the weights kept use each
        model's own validation loss. Without them every model trains ``max_epochs``.
    n_tokens : int
        ``len(alphabet) + 1``.
    hidden_sizes : sequence of int
    losses : sequence of (name, params), length K, optional
        Model ``k``'s training loss (default: ``bce`` for every model).
    lr, weight_decay, batch_size, max_epochs, patience
        As in :class:`~badlabels.training.trainer.Trainer`; shared by the K models.
    precision : {"auto", "fp32", "tf32", "bf16"}
        See :data:`PRECISIONS`.
    progress : callable, optional
        ``progress("epoch", model=k, epoch=, max_epochs=, train_loss=, val_loss=)`` for
        every model trained in an epoch, and ``progress("model_done", model=k,
        epochs_run=, best_epoch=)`` once model ``k`` has stopped.
    rows : sequence of K int64 tensors, optional
        Model ``k`` trains on ``tokens[rows[k]]`` only (e.g. the folds of a
        cross-validation); default: every model on all ``n`` rows. Its batches are drawn
        as ``LSTMClassifier(random_state=seeds[k])`` draws them from that subset; where
        the subsets differ in size, a shorter one's last batch of an epoch is topped up
        with rows from the start of its epoch, so every model takes the same steps.
    val_rows : sequence of K int64 tensors, optional
        Model ``k``'s validation rows in ``val_tokens`` (its loss uses exactly these);
        default: all of them.

    Returns
    -------
    StackedResult
    """
    device = tokens.device
    precision = resolve_precision(precision, device)
    K = int(y.shape[0])
    n = int(tokens.shape[0])
    if len(seeds) != K:
        raise ValueError(f"got {K} label rows but {len(seeds)} seeds")
    if tuple(y.shape) != (K, n):
        raise ValueError(f"y must have shape (K, {n}), got {tuple(y.shape)}")
    has_val = val_y is not None and val_tokens is not None and len(val_tokens) > 0
    if has_val and tuple(val_y.shape) != (K, len(val_tokens)):
        raise ValueError("val_y must have shape (K, n_val)")
    rows = _check_rows(rows, K, n, "rows")
    val_rows = _check_rows(val_rows, K, len(val_tokens) if has_val else 0, "val_rows")
    losses = list(losses) if losses is not None else [("bce", None)] * K
    if len(losses) != K:
        raise ValueError(f"got {K} label rows but {len(losses)} losses")
    bs = int(batch_size)
    mm_dtype = torch.bfloat16 if precision == "bf16" else None
    use_autocast = precision == "bf16" and device.type == "cuda"
    t_start = time.perf_counter()

    module = init_stacked(seeds, n_tokens, hidden_sizes, device=device, mm_dtype=mm_dtype)
    if device.type == "cpu":
        module.workspace = Workspace()
    adam_kw = _adam_kwargs(lr, weight_decay, device)
    opt = torch.optim.Adam(list(module.parameters()), **adam_kw)
    loss_fn = StackedLoss(losses)
    seed_keys = [int(s) % (2**32) for s in seeds]
    if rows is not None:  # models draw from different rows: one generator per model
        seed_keys = [(j, key) for j, key in enumerate(seed_keys)]
    gens: dict[object, torch.Generator] = {}
    for key in seed_keys:  # one generator per distinct seed: equal seeds, equal batches
        if key not in gens:
            gens[key] = torch.Generator(device=device)
            gens[key].manual_seed(key if rows is None else key[1])
    n_epoch = n if rows is None else max(len(r) for r in rows)  # rows per model and epoch

    kept = [p.detach().clone() for p in module.parameters()]  # per model: weights kept
    best_score = [math.inf] * K
    best_epoch = [0] * K
    best_val: list[float | None] = [None] * K
    epochs_run = [0] * K
    since_best = [0] * K
    history: list[list[dict]] = [[] for _ in range(K)]
    active = list(range(K))  # original index of each model still in the stack
    y_act, val_y_act = y, val_y
    model_epochs = 0

    def keep_weights(positions: list[int]) -> None:
        if not positions:
            return
        src = torch.as_tensor(positions, device=device)
        dst = torch.as_tensor([active[p] for p in positions], device=device)
        with torch.no_grad():
            for kp, p in zip(kept, module.parameters(), strict=True):
                kp[dst] = p.detach()[src]

    with _TF32(precision == "tf32" and device.type == "cuda"):
        for epoch in range(1, int(max_epochs) + 1):
            t0 = time.perf_counter()
            module.train()
            k_act = len(active)
            drawn: dict[object, torch.Tensor] = {}
            for j in active:
                if seed_keys[j] not in drawn:
                    size = n if rows is None else len(rows[j])
                    drawn[seed_keys[j]] = torch.randperm(size, generator=gens[seed_keys[j]], device=device)
            if rows is not None:
                perm = torch.stack([_top_up(rows[j][drawn[seed_keys[j]]], n_epoch) for j in active])
            elif len(drawn) == 1:
                perm = next(iter(drawn.values())).unsqueeze(0).expand(k_act, -1)
            else:
                perm = torch.stack([drawn[seed_keys[j]] for j in active])
            total = torch.zeros(k_act, device=device)
            for start in range(0, n_epoch, bs):
                idx = perm[:, start : start + bs]  # (K_act, B)
                lb = None if lengths is None else lengths[idx]
                with torch.autocast("cuda", dtype=torch.bfloat16, enabled=use_autocast):
                    logits = module(tokens[idx], lb)
                per_model = loss_fn(logits.float(), y_act.gather(1, idx))
                opt.zero_grad(set_to_none=True)
                per_model.sum().backward()
                opt.step()
                total += per_model.detach() * idx.shape[1]
            train_loss = (total / max(n_epoch, 1)).tolist()
            val_loss: list[float | None] = [None] * k_act
            if has_val and val_rows is not None:
                val_loss = _loss_on_rows(module, loss_fn, val_tokens, val_lengths, val_y_act,
                                         [val_rows[j] for j in active])  # fmt: skip
            elif has_val:
                with torch.no_grad():
                    val_loss = loss_fn(predict_stacked(module, val_tokens, val_lengths), val_y_act).tolist()
            seconds = (time.perf_counter() - t0) / k_act
            model_epochs += k_act

            improved, stopped = [], []
            for pos, j in enumerate(active):
                vloss = val_loss[pos]
                history[j].append({"epoch": epoch, "train_loss": train_loss[pos],
                                   "val_loss": vloss, "seconds": seconds})  # fmt: skip
                epochs_run[j] = epoch
                score = vloss if vloss is not None else -epoch
                if score < best_score[j]:  # NaN compares False: no improvement
                    best_score[j], best_epoch[j], best_val[j] = score, epoch, vloss
                    since_best[j] = 0
                    improved.append(pos)
                else:
                    since_best[j] += 1
                if progress is not None:
                    progress("epoch", model=j, epoch=epoch, max_epochs=int(max_epochs),
                             train_loss=train_loss[pos], val_loss=vloss)  # fmt: skip
                if patience is not None and has_val and since_best[j] >= patience:
                    stopped.append(pos)
                elif epoch == int(max_epochs):
                    stopped.append(pos)  # reported done below, like the early-stopped ones
            # The weights kept: the best epoch's, or the last ones while nothing was better
            # (no validation data, or every validation loss NaN so far), as the plain trainer.
            keep_weights([p for p in range(k_act) if p in improved or best_epoch[active[p]] == 0])
            if progress is not None:
                for pos in stopped:
                    j = active[pos]
                    progress("model_done", model=j, epochs_run=epochs_run[j],
                             best_epoch=best_epoch[j] or epochs_run[j])  # fmt: skip
            if stopped:
                keep = [p for p in range(k_act) if p not in stopped]
                if not keep:
                    active = []
                    break
                keep_t = torch.as_tensor(keep, device=device)
                old = list(module.parameters())
                module = module.select(keep_t)
                opt = _sliced_adam(opt, old, list(module.parameters()), keep_t, adam_kw)
                loss_fn = loss_fn.select(keep)
                y_act = y_act[keep_t]
                if val_y_act is not None:
                    val_y_act = val_y_act[keep_t]
                active = [active[p] for p in keep]

    final = StackedLSTM(K, n_tokens, hidden_sizes, mm_dtype=mm_dtype, init=False).to(device)
    with torch.no_grad():
        for p, kp in zip(final.parameters(), kept, strict=True):
            p.copy_(kp)
    for j in range(K):
        if best_epoch[j] == 0:  # every validation loss NaN: the last weights were kept
            best_epoch[j] = epochs_run[j]
    return StackedResult(
        module=final.eval(),
        history=history,
        best_epoch=best_epoch,
        epochs_run=epochs_run,
        best_val_loss=best_val,
        seconds=time.perf_counter() - t_start,
        model_epochs=model_epochs,
    )


__all__ = [
    "PRECISIONS",
    "Workspace",
    "StackedLSTM",
    "StackedLoss",
    "StackedResult",
    "cpu_has_fast_bf16",
    "eval_rows",
    "fit_stacked",
    "resolve_precision",
    "init_stacked",
    "predict_stacked",
    "predict_stacked_rows",
]
