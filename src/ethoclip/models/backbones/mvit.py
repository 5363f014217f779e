"""MMAction2's ``MViT`` (MViTv2, Li et al. 2022), with MMAction2's parameter names
(``patch_embed.projection``, ``blocks.N.attn.pool_q``/``norm_q``, ``attn.rel_pos_t/h/w``,
``norm3``) so its checkpoints load as they are.

Pooling attention: q, k and v are pooled by depthwise 3D convolutions (q with stride 2 at the
stage changes, k/v with the adaptive stride), decomposed relative position biases over t, h
and w, residual pooling (the pooled q added to the attention output), the channel doubling in
the attention's projection (``dim_mul_in_attention``). The output is, per ``out_scales`` stage,
``[patch tokens (B, C, T, H, W), class token (B, C)]``, as MMAction2's ``MViTHead`` takes it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ...registry import config_error
from .._cpu3d import Conv3d, MaxPool3d
from .._weights import state_dict_from
from ._vit_bricks import (
    check_activation,
    drop_path_or_identity,
    layer_norm,
    load_partial,
    pretrained_init,
    with_prefix,
)

ARCHS: dict[str, dict[str, Any]] = {
    "tiny": {"embed_dims": 96, "num_layers": 10, "num_heads": 1, "downscale_indices": [1, 3, 8]},
    "small": {"embed_dims": 96, "num_layers": 16, "num_heads": 1, "downscale_indices": [1, 3, 14]},
    "base": {"embed_dims": 96, "num_layers": 24, "num_heads": 1, "downscale_indices": [2, 5, 21]},
    "large": {
        "embed_dims": 144,
        "num_layers": 48,
        "num_heads": 2,
        "downscale_indices": [2, 8, 44],
    },
}
Size3 = tuple[int, int, int]


def resize_pos_embed(
    pos: torch.Tensor, src: Sequence[int], dst: Sequence[int], mode: str, extra: int = 1
) -> torch.Tensor:
    """Absolute position embeddings of a (T, H, W) grid interpolated to another grid."""
    if tuple(src) == tuple(dst):
        return pos
    c = pos.shape[-1]
    grid = pos[:, extra:].reshape(1, *src, c).permute(0, 4, 1, 2, 3)
    grid = F.interpolate(grid, size=tuple(dst), mode=mode, align_corners=False)
    return torch.cat((pos[:, :extra], grid.flatten(2).transpose(1, 2)), 1)


def rel_pos_table(rel_pos: torch.Tensor, q_size: int, k_size: int) -> torch.Tensor:
    """(q_size, k_size, C): the bias for every query/key offset along one axis, the table
    resized linearly where it was made for another size, coordinates scaled when q and k
    are pooled differently."""
    length = int(2 * max(q_size, k_size) - 1)
    if rel_pos.shape[0] != length:
        rel_pos = F.interpolate(rel_pos.t().unsqueeze(0), size=length, mode="linear")[0].t()
    q_ratio = max(k_size / q_size, 1.0)
    k_ratio = max(q_size / k_size, 1.0)
    q_coords = torch.arange(q_size)[:, None] * q_ratio
    k_coords = torch.arange(k_size)[None, :] * k_ratio
    return rel_pos[((q_coords - k_coords) + (k_size - 1) * k_ratio).long()]


def add_rel_pos(
    attn: torch.Tensor,
    q: torch.Tensor,
    q_shape: Sequence[int],
    k_shape: Sequence[int],
    rel_h: torch.Tensor,
    rel_w: torch.Tensor,
    rel_t: torch.Tensor,
    with_cls_token: bool,
) -> torch.Tensor:
    """attn (B, heads, Nq, Nk) with the decomposed t, h, w biases added in place (the class
    token: none); returns it."""
    start = 1 if with_cls_token else 0
    b, heads, _, c = q.shape
    qt, qh, qw = q_shape
    kt, kh, kw = k_shape
    rt = rel_pos_table(rel_t, qt, kt)
    rh = rel_pos_table(rel_h, qh, kh)
    rw = rel_pos_table(rel_w, qw, kw)
    r_q = q[:, :, start:].reshape(b, heads, qt, qh, qw, c)
    bias_t = torch.einsum("bythwc,tkc->bythwk", r_q, rt)
    bias_h = torch.einsum("bythwc,hkc->bythwk", r_q, rh)
    bias_w = torch.einsum("bythwc,wkc->bythwk", r_q, rw)
    bias = (
        bias_t[:, :, :, :, :, :, None, None]
        + bias_h[:, :, :, :, :, None, :, None]
        + bias_w[:, :, :, :, :, None, None, :]
    )
    # In place, through a view (each token axis splits into its grid's axes, a view even with
    # the class token's row and column left out): no copy of the (Nq, Nk) weights. The
    # product q·kᵀ that attn is does not keep its output for backward.
    attn[:, :, start:, start:].view(b, heads, qt, qh, qw, kt, kh, kw).add_(bias)
    return attn


def attention_pool(
    x: torch.Tensor,
    pool: nn.Module,
    size: Sequence[int],
    with_cls_token: bool,
    norm: nn.Module | None = None,
) -> tuple[torch.Tensor, Size3]:
    """Tokens (B, heads, N, C) or (B, N, C) of a (T, H, W) grid pooled on the grid (the class
    token passes by); then ``norm``."""
    three = x.ndim == 3
    if three:
        x = x.unsqueeze(1)
    b, heads, _, c = x.shape
    t, h, w = size
    if with_cls_token:
        cls, x = x[:, :, :1], x[:, :, 1:]
    x = x.reshape(b * heads, t, h, w, c).permute(0, 4, 1, 2, 3).contiguous()
    x = pool(x)
    out = (int(x.shape[2]), int(x.shape[3]), int(x.shape[4]))
    x = x.reshape(b, heads, c, -1).transpose(2, 3)
    if with_cls_token:
        x = torch.cat((cls, x), 2)
    if norm is not None:
        x = norm(x)
    return (x.squeeze(1) if three else x), out


class MultiScaleAttention(nn.Module):
    def __init__(
        self,
        in_dims: int,
        out_dims: int,
        heads: int,
        qkv_bias: bool,
        norm_cfg: Mapping[str, Any],
        pool_kernel: Size3,
        stride_q: Size3,
        stride_kv: Size3,
        rel_pos_embed: bool,
        residual_pooling: bool,
        input_size: Size3,
        with_cls_token: bool,
    ) -> None:
        super().__init__()
        self.num_heads, self.out_dims = heads, out_dims
        self.with_cls_token = with_cls_token
        head_dims = out_dims // heads
        self.scale = head_dims**-0.5
        self.qkv = nn.Linear(in_dims, out_dims * 3, bias=qkv_bias)
        self.proj = nn.Linear(out_dims, out_dims)
        padding = (pool_kernel[0] // 2, pool_kernel[1] // 2, pool_kernel[2] // 2)
        self.pool_q, self.norm_q = self._pooling(
            head_dims, pool_kernel, stride_q, padding, norm_cfg
        )
        self.pool_k, self.norm_k = self._pooling(
            head_dims, pool_kernel, stride_kv, padding, norm_cfg
        )
        self.pool_v, self.norm_v = self._pooling(
            head_dims, pool_kernel, stride_kv, padding, norm_cfg
        )
        self.residual_pooling = residual_pooling
        self.rel_pos_embed = rel_pos_embed
        if rel_pos_embed:
            if input_size[1] != input_size[2]:
                raise config_error("spatial_size", "relative positions need square frames")
            side = input_size[1]
            length = 2 * max(side // stride_q[1], side // stride_kv[1]) - 1
            self.rel_pos_h = nn.Parameter(torch.zeros(length, head_dims))
            self.rel_pos_w = nn.Parameter(torch.zeros(length, head_dims))
            self.rel_pos_t = nn.Parameter(torch.zeros(2 * input_size[0] - 1, head_dims))

    @staticmethod
    def _pooling(
        dims: int, kernel: Size3, stride: Size3, padding: Size3, norm_cfg: Mapping[str, Any]
    ) -> tuple[nn.Conv3d, nn.LayerNorm]:
        """A depthwise 3D convolution over one head's channels, and its LayerNorm."""
        pool = Conv3d(dims, dims, kernel, stride=stride, padding=padding, groups=dims, bias=False)
        return pool, layer_norm(norm_cfg, dims)

    def forward(self, x: torch.Tensor, size: Sequence[int]) -> tuple[torch.Tensor, Size3]:
        b, n, _ = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.num_heads, -1).permute(2, 0, 3, 1, 4).unbind(0)
        cls = self.with_cls_token
        q, q_shape = attention_pool(q, self.pool_q, size, cls, self.norm_q)
        k, k_shape = attention_pool(k, self.pool_k, size, cls, self.norm_k)
        v, _ = attention_pool(v, self.pool_v, size, cls, self.norm_v)
        attn = (q * self.scale) @ k.transpose(-2, -1)
        if self.rel_pos_embed:
            attn = add_rel_pos(
                attn, q, q_shape, k_shape, self.rel_pos_h, self.rel_pos_w, self.rel_pos_t, cls
            )
        x = attn.softmax(-1) @ v
        if self.residual_pooling:
            # the class token gets no pooled residual
            x = torch.cat((x[:, :, :1], x[:, :, 1:] + q[:, :, 1:]), 2) if cls else x + q
        return self.proj(x.transpose(1, 2).reshape(b, -1, self.out_dims)), q_shape


class MLP(nn.Module):
    def __init__(self, in_dims: int, hidden: int, out_dims: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(in_dims, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, out_dims)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class MultiScaleBlock(nn.Module):
    def __init__(
        self,
        in_dims: int,
        out_dims: int,
        heads: int,
        mlp_ratio: float,
        qkv_bias: bool,
        drop_path: float,
        norm_cfg: Mapping[str, Any],
        pool_kernel: Size3,
        stride_q: Size3,
        stride_kv: Size3,
        rel_pos_embed: bool,
        residual_pooling: bool,
        with_cls_token: bool,
        dim_mul_in_attention: bool,
        input_size: Size3,
    ) -> None:
        super().__init__()
        self.with_cls_token = with_cls_token
        self.dim_mul_in_attention = dim_mul_in_attention
        self.norm1 = layer_norm(norm_cfg, in_dims)
        attn_dims = out_dims if dim_mul_in_attention else in_dims
        self.attn = MultiScaleAttention(
            in_dims,
            attn_dims,
            heads,
            qkv_bias,
            norm_cfg,
            pool_kernel,
            stride_q,
            stride_kv,
            rel_pos_embed,
            residual_pooling,
            input_size,
            with_cls_token,
        )
        self.drop_path = drop_path_or_identity(drop_path)
        self.norm2 = layer_norm(norm_cfg, attn_dims)
        self.mlp = MLP(attn_dims, int(attn_dims * mlp_ratio), out_dims)
        self.proj = nn.Linear(in_dims, out_dims) if in_dims != out_dims else None
        if np.prod(stride_q) > 1:
            kernel = tuple(s + 1 if s > 1 else s for s in stride_q)
            self.pool_skip: nn.Module | None = MaxPool3d(
                kernel, stride_q, tuple(k // 2 for k in kernel), ceil_mode=False
            )
            self.init_out_size: Size3 = (
                input_size[0] // stride_q[0],
                input_size[1] // stride_q[1],
                input_size[2] // stride_q[2],
            )
        else:
            self.pool_skip = None
            self.init_out_size = input_size

    def forward(self, x: torch.Tensor, size: Sequence[int]) -> tuple[torch.Tensor, Size3]:
        x_norm = self.norm1(x)
        x_attn, out_size = self.attn(x_norm, size)
        skip = self.proj(x_norm) if self.dim_mul_in_attention and self.proj is not None else x
        if self.pool_skip is not None:
            skip, _ = attention_pool(skip, self.pool_skip, size, self.with_cls_token)
        x = skip + self.drop_path(x_attn)
        x_norm = self.norm2(x)
        x_mlp = self.mlp(x_norm)
        skip = self.proj(x_norm) if not self.dim_mul_in_attention and self.proj is not None else x
        return skip + self.drop_path(x_mlp), out_size


def _three(value: Sequence[int]) -> Size3:
    return (int(value[0]), int(value[1]), int(value[2]))


class PatchEmbed3D(nn.Module):
    def __init__(
        self,
        in_channels: int,
        dims: int,
        input_size: Size3,
        kernel_size: Sequence[int] = (3, 7, 7),
        stride: Sequence[int] = (2, 4, 4),
        padding: Sequence[int] = (1, 3, 3),
    ) -> None:
        super().__init__()
        if isinstance(padding, str):
            raise config_error(
                "patch_cfg.padding", "give numbers (T, H, W); adaptive padding is not supported"
            )
        self.projection = Conv3d(
            in_channels, dims, _three(kernel_size), _three(stride), _three(padding)
        )
        self.init_out_size = tuple(
            (s + 2 * p - (k - 1) - 1) // st + 1
            for s, p, k, st in zip(input_size, padding, kernel_size, stride, strict=True)
        )

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, Size3]:
        x = self.projection(x)
        size = (int(x.shape[2]), int(x.shape[3]), int(x.shape[4]))
        return x.flatten(2).transpose(1, 2), size


class MViT(nn.Module):
    """MMAction2's MViTv2: (B, C, T, H, W) → a tuple with, per output stage,
    ``[patch tokens (B, C, T′, H′, W′), class token (B, C)]``."""

    num_extra_tokens = 1

    def __init__(
        self,
        arch: str | Mapping[str, Any] = "base",
        spatial_size: int = 224,
        temporal_size: int = 16,
        in_channels: int = 3,
        pretrained: str | None = None,
        pretrained_type: str | None = None,
        out_scales: int | Sequence[int] = -1,
        drop_path_rate: float = 0.0,
        use_abs_pos_embed: bool = False,
        interpolate_mode: str = "trilinear",
        pool_kernel: Sequence[int] = (3, 3, 3),
        dim_mul: int = 2,
        head_mul: int = 2,
        adaptive_kv_stride: Sequence[int] = (1, 8, 8),
        rel_pos_embed: bool = True,
        residual_pooling: bool = True,
        dim_mul_in_attention: bool = True,
        with_cls_token: bool = True,
        output_cls_token: bool = True,
        rel_pos_zero_init: bool = False,
        mlp_ratio: float = 4.0,
        qkv_bias: bool = True,
        norm_cfg: Mapping[str, Any] | None = None,
        patch_cfg: Mapping[str, Any] | None = None,
        act_cfg: Mapping[str, Any] | None = None,
        init_cfg: Any = None,
    ) -> None:
        super().__init__()
        if isinstance(arch, str):
            if arch.lower() not in ARCHS:
                raise config_error("arch", f"must be one of {', '.join(ARCHS)} (got {arch!r})")
            settings = dict(ARCHS[arch.lower()])
        else:
            needed = {"embed_dims", "num_layers", "num_heads", "downscale_indices"}
            if not needed <= set(arch):
                raise config_error("arch", f"a custom arch needs {', '.join(sorted(needed))}")
            settings = dict(arch)
        if pretrained_type not in (None, "maskfeat"):
            raise config_error(
                "pretrained_type", f"must be None or 'maskfeat' (got {pretrained_type!r})"
            )
        if output_cls_token and not with_cls_token:
            raise config_error("output_cls_token", "needs with_cls_token=True")
        from_init = pretrained_init(init_cfg)  # MMEngine's Pretrained init, if given
        check_activation(act_cfg)
        norm_cfg = norm_cfg or {"type": "LN", "eps": 1e-6}
        self.embed_dims = int(settings["embed_dims"])
        self.num_layers = int(settings["num_layers"])
        downscale = list(settings["downscale_indices"])
        dim_mul_indices = list(settings.get("dim_mul_indices", downscale))
        self.num_scales = len(downscale) + 1
        self.stage_indices = {index - 1: i for i, index in enumerate(downscale)}
        self.stage_indices[self.num_layers - 1] = self.num_scales - 1
        scales = [out_scales] if isinstance(out_scales, int) else list(out_scales)
        scales = [s + self.num_scales if s < 0 else s for s in scales]
        if any(not 0 <= s <= self.num_scales for s in scales):
            raise config_error("out_scales", f"stages are 0 to {self.num_scales - 1}")
        self.out_scales = sorted(scales)
        self.use_abs_pos_embed = use_abs_pos_embed
        self.interpolate_mode = interpolate_mode
        self.with_cls_token, self.output_cls_token = with_cls_token, output_cls_token
        self.pretrained, self.pretrained_type = pretrained, pretrained_type
        self.patch_embed = PatchEmbed3D(
            in_channels,
            self.embed_dims,
            (temporal_size, spatial_size, spatial_size),
            **dict(patch_cfg or {}),
        )
        self.patch_resolution: Size3 = self.patch_embed.init_out_size  # type: ignore[assignment]
        self.cls_token = nn.Parameter(torch.zeros(1, 1, self.embed_dims))
        if use_abs_pos_embed:
            tokens = int(np.prod(self.patch_resolution)) + self.num_extra_tokens
            self.pos_embed = nn.Parameter(torch.zeros(1, tokens, self.embed_dims))
        rates = np.linspace(0, drop_path_rate, self.num_layers)
        self.blocks = nn.ModuleList()
        widths = [self.embed_dims]
        heads = int(settings["num_heads"])
        stride_kv = [int(s) for s in adaptive_kv_stride]
        size = self.patch_resolution
        kernel = (int(pool_kernel[0]), int(pool_kernel[1]), int(pool_kernel[2]))
        for i in range(self.num_layers):
            if i in downscale or i in dim_mul_indices:
                heads *= head_mul
            if i in downscale:
                stride_q = (1, 2, 2)
                stride_kv = [max(s // 2, 1) for s in stride_kv]
            else:
                stride_q = (1, 1, 1)
            grow = i in dim_mul_indices if dim_mul_in_attention else i + 1 in dim_mul_indices
            out_dims = widths[-1] * dim_mul if grow else widths[-1]
            block = MultiScaleBlock(
                widths[-1],
                out_dims,
                heads,
                mlp_ratio,
                qkv_bias,
                float(rates[i]),
                norm_cfg,
                kernel,
                stride_q,
                (stride_kv[0], stride_kv[1], stride_kv[2]),
                rel_pos_embed,
                residual_pooling,
                with_cls_token,
                dim_mul_in_attention,
                size,
            )
            self.blocks.append(block)
            size = block.init_out_size
            widths.append(out_dims)
            stage = self.stage_indices.get(i)
            if stage is not None and stage in self.out_scales:
                self.add_module(f"norm{stage}", layer_norm(norm_cfg, out_dims))
        self.out_channels = widths[-1]
        self._init_weights(rel_pos_zero_init)
        if pretrained:
            self.load_pretrained(pretrained)
        elif from_init is not None:  # MMAction2's config route to a checkpoint's backbone
            spec, prefix = from_init
            load_partial(self, with_prefix(state_dict_from(spec), prefix), source=spec)

    def _init_weights(self, rel_pos_zero_init: bool) -> None:
        """MMAction2's init_cfg: convolutions and linears N(0, .02) truncated (linear biases
        0.02), LayerNorms 1 and bias 0.02; relative positions N(0, .02) unless zero."""
        for m in self.modules():
            if isinstance(m, (nn.Conv3d, nn.Conv2d)):
                nn.init.trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.constant_(m.bias, 0.02)
            elif isinstance(m, nn.LayerNorm):
                nn.init.ones_(m.weight)
                nn.init.constant_(m.bias, 0.02)
            elif isinstance(m, MultiScaleAttention) and m.rel_pos_embed and not rel_pos_zero_init:
                for p in (m.rel_pos_h, m.rel_pos_w, m.rel_pos_t):
                    nn.init.trunc_normal_(p, std=0.02)
        if self.use_abs_pos_embed:
            nn.init.trunc_normal_(self.pos_embed, std=0.02)

    def load_pretrained(self, spec: str) -> list[str]:
        """A checkpoint (MMAction2 names); ``maskfeat``: a MaskFeat one, its ``backbone.``
        part, relative-position tables resized linearly to this model's."""
        state = dict(state_dict_from(spec))
        if self.pretrained_type == "maskfeat":
            state = {
                k.removeprefix("backbone."): v
                for k, v in state.items()
                if k.startswith("backbone.")
            }
            own = self.state_dict()
            for key in [k for k in state if "attn.rel_pos" in k and k in own]:
                table, length = state[key], own[key].shape[0]
                if table.shape[1] == own[key].shape[1] and table.shape[0] != length:
                    resized = F.interpolate(table.t().unsqueeze(0), size=length, mode="linear")
                    state[key] = resized.view(table.shape[1], length).permute(1, 0)
        return load_partial(self, state, source=spec)

    def forward(self, x: torch.Tensor) -> tuple[Any, ...]:
        b = x.shape[0]
        x, size = self.patch_embed(x)
        x = torch.cat((self.cls_token.expand(b, -1, -1), x), 1)
        if self.use_abs_pos_embed:
            x = x + resize_pos_embed(
                self.pos_embed,
                self.patch_resolution,
                size,
                self.interpolate_mode,
                self.num_extra_tokens,
            )
        if not self.with_cls_token:
            x = x[:, 1:]
        outs: list[Any] = []
        for i, block in enumerate(self.blocks):
            x, size = block(x, size)
            stage = self.stage_indices.get(i)
            if stage is None or stage not in self.out_scales:
                continue
            x = getattr(self, f"norm{stage}")(x)
            tokens = x.transpose(1, 2)
            c = tokens.shape[1]
            if self.with_cls_token:
                patches, cls = tokens[:, :, 1:].reshape(b, c, *size), tokens[:, :, 0]
            else:
                patches, cls = tokens.reshape(b, c, *size), None
            outs.append([patches, cls] if self.output_cls_token else patches)
        return tuple(outs)
