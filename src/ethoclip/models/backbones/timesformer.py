"""MMAction2's ``TimeSformer`` (Bertasius et al. 2021), with MMAction2's parameter names so its
checkpoints load as they are.

Three attention types, as MMAction2 builds them on MMCV's transformer layers:
``divided_space_time`` (per layer: temporal attention with its own LayerNorm and a zero-initialised
``temporal_fc``, then spatial attention, then a pre-norm FFN), ``joint_space_time`` and
``space_only`` (a pre-norm ViT layer over all tokens, or over each frame's tokens).

``pretrained`` takes MMAction2's ImageNet ViT file (MMCV names, ``norms.0/1``) or a TimeSformer
checkpoint. For divided attention the ViT's ``norms.0``/``norms.1`` become the temporal
attention's and the FFN's norms, and the spatial attention (``attentions.0``) is copied into
the temporal one as well, as MMAction2 does; ``time_embed`` and ``temporal_fc`` stay as
initialised (zeros). What does not fit is kept as initialised, with a warning.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import nn

from ...registry import config_error
from .._weights import HUGGINGFACE, state_dict_from
from ._vit_bricks import drop_path_or_identity, layer_norm, load_partial

ATTENTION_TYPES = ("divided_space_time", "space_only", "joint_space_time")


class PatchEmbed(nn.Module):
    """Each frame cut into patches by a strided convolution: (B, C, T, H, W) → (B·T, P, D)."""

    def __init__(self, img_size: int, patch_size: int, in_channels: int, embed_dims: int) -> None:
        super().__init__()
        if img_size % patch_size:
            raise config_error(
                "img_size", f"{img_size} is not a multiple of patch_size {patch_size}"
            )
        self.num_patches = (img_size // patch_size) ** 2
        self.projection = nn.Conv2d(in_channels, embed_dims, patch_size, stride=patch_size)
        # LeCun normal, as MMAction2 (kaiming, fan_in, linear gain)
        nn.init.kaiming_normal_(self.projection.weight, mode="fan_in", nonlinearity="linear")
        nn.init.zeros_(self.projection.bias)  # type: ignore[arg-type]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, t, h, w = x.shape
        x = x.transpose(1, 2).reshape(b * t, c, h, w)
        return self.projection(x).flatten(2).transpose(1, 2)


class FFN(nn.Module):
    """MMCV's FFN: Linear, GELU, dropout, Linear, dropout (``layers.0.0`` and ``layers.1``);
    with ``norm`` it is MMAction2's ``FFNWithNorm`` (pre-norm, adds its own input)."""

    def __init__(self, dims: int, hidden: int, drop_path: float, with_norm: bool) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            nn.Sequential(nn.Linear(dims, hidden), nn.GELU(), nn.Dropout(0.0)),
            nn.Linear(hidden, dims),
            nn.Dropout(0.0),
        )
        self.dropout_layer = drop_path_or_identity(drop_path)
        self.norm = nn.LayerNorm(dims, eps=1e-6) if with_norm else None

    def forward(self, x: torch.Tensor, identity: torch.Tensor | None = None) -> torch.Tensor:
        if self.norm is not None:
            identity, x = x, self.norm(x)
        return (x if identity is None else identity) + self.dropout_layer(self.layers(x))


class SelfAttention(nn.Module):
    """MMCV's ``MultiheadAttention`` with batch-first tokens: ``identity + drop(attn(x))``."""

    def __init__(self, dims: int, heads: int, drop_path: float) -> None:
        super().__init__()
        self.attn = nn.MultiheadAttention(dims, heads)
        self.proj_drop = nn.Dropout(0.0)
        self.dropout_layer = drop_path_or_identity(drop_path)

    def forward(self, x: torch.Tensor, identity: torch.Tensor) -> torch.Tensor:
        q = x.transpose(0, 1)  # nn.MultiheadAttention here is sequence-first
        out = self.attn(q, q, q, need_weights=False)[0].transpose(0, 1)
        return identity + self.dropout_layer(self.proj_drop(out))


class DividedAttention(nn.Module):
    """What both halves of divided space-time attention have: a pre-norm, MMCV's attention,
    its dropouts."""

    def __init__(self, dims: int, heads: int, num_frames: int, drop_path: float) -> None:
        super().__init__()
        self.num_frames = num_frames
        self.norm = nn.LayerNorm(dims, eps=1e-6)
        self.attn = nn.MultiheadAttention(dims, heads)
        self.proj_drop = nn.Dropout(0.0)
        self.dropout_layer = drop_path_or_identity(drop_path)


class DividedTemporalAttention(DividedAttention):
    """Attention over time at each patch position (the class token passes through)."""

    def __init__(self, dims: int, heads: int, num_frames: int, drop_path: float) -> None:
        super().__init__(dims, heads, num_frames, drop_path)
        self.temporal_fc = nn.Linear(dims, dims)
        # zero: a ViT's weights start as a ViT, the temporal branch adds nothing yet
        nn.init.zeros_(self.temporal_fc.weight)
        nn.init.zeros_(self.temporal_fc.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        cls, tokens = x[:, :1], x[:, 1:]
        b, pt, m = tokens.shape
        t = self.num_frames
        p = pt // t
        q = self.norm(tokens.reshape(b * p, t, m)).transpose(0, 1)
        out = self.attn(q, q, q, need_weights=False)[0].transpose(0, 1)
        out = self.temporal_fc(self.dropout_layer(self.proj_drop(out.contiguous())))
        return torch.cat((cls, tokens + out.reshape(b, p * t, m)), 1)


class DividedSpatialAttention(DividedAttention):
    """Attention within each frame, each frame with a copy of the class token; the class
    token's updates are averaged over the frames."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        cls, tokens = x[:, :1], x[:, 1:]
        b, pt, m = tokens.shape
        t = self.num_frames
        p = pt // t
        frame_cls = cls.repeat(1, t, 1).reshape(b * t, 1, m)
        # tokens are ordered (patch, time): regroup them by frame
        frames = tokens.reshape(b, p, t, m).transpose(1, 2).reshape(b * t, p, m)
        q = self.norm(torch.cat((frame_cls, frames), 1)).transpose(0, 1)
        out = self.attn(q, q, q, need_weights=False)[0].transpose(0, 1)
        out = self.dropout_layer(self.proj_drop(out.contiguous()))
        cls_out = out[:, 0].reshape(b, t, m).mean(1, keepdim=True)
        patches = out[:, 1:].reshape(b, t, p, m).transpose(1, 2).reshape(b, p * t, m)
        return x + torch.cat((cls_out, patches), 1)


class DividedLayer(nn.Module):
    """``attentions.0`` temporal, ``attentions.1`` spatial, ``ffns.0`` with its norm."""

    def __init__(self, dims: int, heads: int, num_frames: int, drop_path: float) -> None:
        super().__init__()
        self.attentions = nn.ModuleList(
            [
                DividedTemporalAttention(dims, heads, num_frames, drop_path),
                DividedSpatialAttention(dims, heads, num_frames, drop_path),
            ]
        )
        self.ffns = nn.ModuleList([FFN(dims, dims * 4, drop_path, with_norm=True)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for attention in self.attentions:
            x = attention(x)
        return self.ffns[0](x)


class PreNormLayer(nn.Module):
    """A ViT layer, MMCV's order ('norm', 'self_attn', 'norm', 'ffn'): ``norms.0/1``."""

    def __init__(self, dims: int, heads: int, drop_path: float) -> None:
        super().__init__()
        self.attentions = nn.ModuleList([SelfAttention(dims, heads, drop_path)])
        self.ffns = nn.ModuleList([FFN(dims, dims * 4, drop_path, with_norm=False)])
        self.norms = nn.ModuleList([nn.LayerNorm(dims, eps=1e-6), nn.LayerNorm(dims, eps=1e-6)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.attentions[0](self.norms[0](x), identity=x)
        return self.ffns[0](self.norms[1](x), identity=x)


class LayerSequence(nn.Module):
    """MMCV's ``TransformerLayerSequence``: the layers one after the other (``layers.N``)."""

    def __init__(self, layers: list[nn.Module]) -> None:
        super().__init__()
        self.layers = nn.ModuleList(layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x)
        return x


class TimeSformer(nn.Module):
    """MMAction2's TimeSformer: (B, C, T, H, W) → the class token (B, embed_dims)."""

    def __init__(
        self,
        num_frames: int,
        img_size: int,
        patch_size: int,
        pretrained: str | None = None,
        embed_dims: int = 768,
        num_heads: int = 12,
        num_transformer_layers: int = 12,
        in_channels: int = 3,
        dropout_ratio: float = 0.0,
        transformer_layers: Any = None,
        attention_type: str = "divided_space_time",
        norm_cfg: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        if attention_type not in ATTENTION_TYPES:
            raise config_error(
                "attention_type",
                f"must be one of {', '.join(ATTENTION_TYPES)} (got {attention_type!r})",
            )
        if transformer_layers is not None:
            raise config_error(
                "transformer_layers",
                "custom MMCV layer configs are not supported; leave it None (MMAction2's layers)",
            )
        if embed_dims % num_heads:
            raise config_error(
                "num_heads", f"embed_dims {embed_dims} is not divisible by num_heads {num_heads}"
            )
        if pretrained and pretrained.startswith(HUGGINGFACE):
            raise config_error(
                "pretrained",
                f"{pretrained}: Hugging Face TimeSformer weights load into type='HFTimeSformer'; "
                "type='TimeSformer' takes MMAction2 files (its ImageNet ViT or a TimeSformer)",
            )
        self.num_frames = num_frames
        self.embed_dims = self.out_channels = embed_dims
        self.attention_type = attention_type
        self.pretrained = pretrained
        self.patch_embed = PatchEmbed(img_size, patch_size, in_channels, embed_dims)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dims))
        self.pos_embed = nn.Parameter(torch.zeros(1, self.patch_embed.num_patches + 1, embed_dims))
        self.drop_after_pos = nn.Dropout(dropout_ratio)
        if attention_type != "space_only":
            self.time_embed = nn.Parameter(torch.zeros(1, num_frames, embed_dims))
            self.drop_after_time = nn.Dropout(dropout_ratio)
        self.norm = layer_norm(norm_cfg or {"type": "LN", "eps": 1e-6}, embed_dims)
        # MMAction2 fixes stochastic depth at 0 → 0.1 over the layers
        rates = np.linspace(0, 0.1, num_transformer_layers)
        layers: list[nn.Module] = [
            DividedLayer(embed_dims, num_heads, num_frames, float(r))
            if attention_type == "divided_space_time"
            else PreNormLayer(embed_dims, num_heads, float(r))
            for r in rates
        ]
        self.transformer_layers = LayerSequence(layers)
        nn.init.trunc_normal_(self.pos_embed, std=0.02, a=-2.0, b=2.0)
        nn.init.trunc_normal_(self.cls_token, std=0.02, a=-2.0, b=2.0)
        if pretrained:
            self.load_pretrained(pretrained)

    def load_pretrained(self, spec: str) -> list[str]:
        """MMAction2's ``init_weights(pretrained)``; returns the names loaded."""
        state = dict(state_dict_from(spec))
        if self.attention_type == "divided_space_time":
            for key in [k for k in state if "norms" in k]:
                new = key.replace("norms.0", "attentions.0.norm").replace("norms.1", "ffns.0.norm")
                state[new] = state.pop(key)
            # the spatial attention of a ViT starts both of TimeSformer's attentions
            for key in [k for k in state if "attentions.0" in k]:
                state[key.replace("attentions.0", "attentions.1")] = state[key].clone()
        return load_partial(
            self, state, source=spec, expected_missing=("time_embed", "temporal_fc")
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b = x.shape[0]
        x = self.patch_embed(x)  # (B·T, P, D)
        x = torch.cat((self.cls_token.expand(x.shape[0], -1, -1), x), 1) + self.pos_embed
        x = self.drop_after_pos(x)
        if self.attention_type != "space_only":
            cls = x[:b, :1]  # every row holds the same class token (+ its position): take B of them
            tokens = x[:, 1:]
            bt, p, m = tokens.shape
            t = bt // b
            tokens = tokens.reshape(b, t, p, m).transpose(1, 2).reshape(b * p, t, m)
            tokens = self.drop_after_time(tokens + self.time_embed)
            x = torch.cat((cls, tokens.reshape(b, p * t, m)), 1)
        x = self.transformer_layers(x)
        if self.attention_type == "space_only":
            x = x.view(-1, self.num_frames, *x.shape[-2:]).mean(1)
        return self.norm(x)[:, 0]
