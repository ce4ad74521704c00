"""The stacked network: K Fit4Function LSTMs as batched tensors, and its LSTM kernel.

:class:`StackedLSTM` holds model ``k`` in slot ``k`` of every weight tensor (gates kept in
the order i, f, o, g); :class:`_LSTMLayer` is one layer's recurrence over all K models with a
hand-written backward; :func:`init_stacked` draws the initial weights the plain
``LSTMClassifier`` would. See :mod:`badlabels.engine.stacked` for the design.

Assumptions: tokens are right-padded int64 ids with 0 = padding; every model of a stack has
the same architecture.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn


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
slower than its sigmoid). Tests switch it off (``badlabels.engine.stacked.network.
TANH_VIA_SIGMOID_ON_CPU``) to run the GPU branch on the CPU."""


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
    kept past their backward. A change of (K, B) or of the batch width T empties it (batches
    cut to their longest sequence vary in T; holding buffers for every T would grow).
    """

    def __init__(self):
        self.free: dict[tuple, list[torch.Tensor]] = {}
        self.signature: tuple | None = None

    def begin(self, k: int, b: int, t: int | None = None) -> None:
        """Start a step of K models on B rows of width T (None: any width)."""
        if self.signature != (k, b, t):
            self.free.clear()
            self.signature = (k, b, t)

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
    input_map : torch.Tensor of float32, shape (n_tokens - 1, d), optional
        A fixed residue -> feature map (a descriptor encoding, shared by the K models):
        layer 1 then takes ``d`` features, as ``EncodedInput(LSTMNet(d + 1, ...), map)``
        does. ``None``: one-hot input.

    Notes
    -----
    ``forward(tokens, lengths)`` takes ``tokens`` of shape ``(B, L)`` (every model sees
    the same sequences) or ``(K, B, L)`` (model ``k`` sees ``tokens[k]``) and returns
    logits of shape ``(K, B)``.
    """

    def __init__(
        self, k: int, n_tokens: int, hidden_sizes=(140, 20), mm_dtype=None, init=True,
        input_map: torch.Tensor | None = None,
    ):  # fmt: skip
        super().__init__()
        self.k = int(k)
        self.n_tokens = int(n_tokens)
        self.hidden_sizes = tuple(int(h) for h in hidden_sizes)
        self.mm_dtype = mm_dtype
        self.workspace: Workspace | None = None
        self.input_map: torch.Tensor | None
        if input_map is not None:
            input_map = torch.as_tensor(input_map, dtype=torch.float32)
            if tuple(input_map.shape[:1]) != (self.n_tokens - 1,) or input_map.dim() != 2:
                raise ValueError(f"input_map must have shape ({self.n_tokens - 1}, d)")
        self.register_buffer("input_map", input_map)
        sizes = [self.n_in, *self.hidden_sizes]
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

    @property
    def n_in(self) -> int:
        """Features per position at layer 1's input (one-hot: ``n_tokens - 1``)."""
        return self.n_tokens - 1 if self.input_map is None else int(self.input_map.shape[1])

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
    def to_lstmnet(self, k: int, net: nn.Module) -> nn.Module:
        """Copy model ``k`` into ``net``, an ``LSTMNet(n_tokens, hidden_sizes)`` on the CPU.

        The caller builds ``net`` (the models layer owns ``LSTMNet``; this engine sits below
        it). Returns ``net`` in eval mode.
        """
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
        out.register_buffer("input_map", self.input_map)
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
        if self.input_map is not None:  # (K, 4H, d) @ (d, A): the one-hot weights it amounts to
            w_ih = w_ih @ self.input_map.T
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
            ws.begin(self.k, int(tokens.shape[-2]), int(tokens.shape[-1]))
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


def _reference_init(seed: int, n_in: int, hidden_sizes: Sequence[int]):
    """The weights ``LSTMNet(n_in + 1, hidden_sizes)`` gets after ``torch.manual_seed(seed)``.

    Built from ``nn.LSTM`` / ``nn.Linear`` in ``LSTMNet``'s order (so this module needs
    nothing from ``badlabels.models``); a test checks the two stay the same.
    """
    sizes = [int(n_in), *[int(h) for h in hidden_sizes]]
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
    input_map: torch.Tensor | None = None,
) -> StackedLSTM:
    """A stack whose model ``k`` starts as ``LSTMClassifier(random_state=seeds[k])`` would.

    The plain estimator seeds the global RNG with its seed and builds an ``LSTMNet`` on the
    CPU; the same draws are made here for each seed (the caller's RNG is left alone). With
    an ``input_map`` (a descriptor encoding) its network is ``LSTMNet(d + 1, ...)``.
    """
    out = StackedLSTM(len(seeds), n_tokens, hidden_sizes, mm_dtype=mm_dtype, init=False,
                      input_map=input_map)  # fmt: skip
    with torch.no_grad():
        for k, seed in enumerate(seeds):
            lstms, head = _reference_init(seed, out.n_in, hidden_sizes)
            out._load_parts(k, lstms, head)
    return out.to(device)


__all__ = ["StackedLSTM", "Workspace", "init_stacked"]
