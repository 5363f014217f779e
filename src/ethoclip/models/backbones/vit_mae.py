"""MMAction2's ``VisionTransformer``: the ViT of VideoMAE and VideoMAEv2 (Tong et al. 2022,
Wang et al. 2023), with MMAction2's parameter names (``patch_embed.projection``, ``blocks.N``,
``attn.q_bias``/``v_bias``, ``mlp.layers``, ``fc_norm``) so its checkpoints load as they are.

Tubelets (``tubelet_size`` frames × patch²) embedded by a 3D convolution; fixed sinusoidal
position embeddings (a buffer, as in MMAction2) or learnable ones; pre-norm blocks with
optional layer scale (``init_values``) and stochastic depth; the mean of the tokens through
``fc_norm`` (``use_mean_pooling``), else the first token after ``norm``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ...registry import config_error
from .._cpu3d import Conv3d
from .._weights import state_dict_from
from ._vit_bricks import (
    attend,
    drop_path_or_identity,
    layer_norm,
    load_partial,
    pretrained_init,
    trunc_normal_linears,
    with_prefix,
)


def sinusoid_table(positions: int, dims: int) -> torch.Tensor:
    """(1, positions, dims): sine on even channels, cosine on odd, wavelengths 10000^(2i/d)."""
    channel = torch.arange(dims, dtype=torch.float64)
    frequency = torch.pow(10000, -(channel - channel % 2) / dims).view(1, -1)
    table = torch.arange(positions).view(-1, 1) * frequency
    table[:, 0::2] = table[:, 0::2].sin()
    table[:, 1::2] = table[:, 1::2].cos()
    return table.to(torch.float32).unsqueeze(0)


class Attention(nn.Module):
    """Multi-head attention; with ``qkv_bias`` the bias is learnt for q and v only (k: zero)."""

    def __init__(
        self,
        dims: int,
        heads: int,
        qkv_bias: bool,
        qk_scale: float | None,
        attn_drop: float,
        drop: float,
    ) -> None:
        super().__init__()
        self.heads = heads
        self.scale = qk_scale or (dims // heads) ** -0.5
        if qkv_bias:
            self.q_bias = nn.Parameter(torch.zeros(dims))
            self.v_bias = nn.Parameter(torch.zeros(dims))
        self.qkv = nn.Linear(dims, dims * 3, bias=False)
        self.attn_drop = nn.Dropout(attn_drop)
        self.proj = nn.Linear(dims, dims)
        self.proj_drop = nn.Dropout(drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, _ = x.shape
        bias = None
        if hasattr(self, "q_bias"):
            bias = torch.cat((self.q_bias, torch.zeros_like(self.v_bias), self.v_bias))
        qkv = F.linear(x, self.qkv.weight, bias).reshape(b, n, 3, self.heads, -1)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        out = attend(q, k, v, self.scale, self.attn_drop)
        return self.proj_drop(self.proj(out.transpose(1, 2).reshape(b, n, -1)))


class MLP(nn.Module):
    """MMCV's FFN without its shortcut: ``layers.0.0`` (Linear+GELU), ``layers.1``."""

    def __init__(self, dims: int, hidden: int, drop: float) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            nn.Sequential(nn.Linear(dims, hidden), nn.GELU(), nn.Dropout(drop)),
            nn.Linear(hidden, dims),
            nn.Dropout(drop),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class Block(nn.Module):
    def __init__(
        self,
        dims: int,
        heads: int,
        mlp_ratio: float,
        qkv_bias: bool,
        qk_scale: float | None,
        drop: float,
        attn_drop: float,
        drop_path: float,
        init_values: float,
        norm_cfg: Mapping[str, Any] | None,
    ) -> None:
        super().__init__()
        self.norm1 = layer_norm(norm_cfg, dims)
        self.attn = Attention(dims, heads, qkv_bias, qk_scale, attn_drop, drop)
        self.drop_path = drop_path_or_identity(drop_path)
        self.norm2 = layer_norm(norm_cfg, dims)
        self.mlp = MLP(dims, int(dims * mlp_ratio), drop)
        if isinstance(init_values, float) and init_values > 0:  # layer scale
            self.gamma_1 = nn.Parameter(init_values * torch.ones(dims))
            self.gamma_2 = nn.Parameter(init_values * torch.ones(dims))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if hasattr(self, "gamma_1"):
            x = x + self.drop_path(self.gamma_1 * self.attn(self.norm1(x)))
            return x + self.drop_path(self.gamma_2 * self.mlp(self.norm2(x)))
        x = x + self.drop_path(self.attn(self.norm1(x)))
        return x + self.drop_path(self.mlp(self.norm2(x)))


class PatchEmbed(nn.Module):
    def __init__(self, in_channels: int, dims: int, tubelet: int, patch: int) -> None:
        super().__init__()
        size = (tubelet, patch, patch)
        self.projection = Conv3d(in_channels, dims, size, stride=size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.projection(x).flatten(2).transpose(1, 2)


class VisionTransformer(nn.Module):
    """MMAction2's VideoMAE ViT: (B, C, T, H, W) → (B, embed_dims), or with
    ``return_feat_map`` the tokens as (B, embed_dims, T/tubelet, H/patch, W/patch)."""

    def __init__(
        self,
        img_size: int = 224,
        patch_size: int = 16,
        in_channels: int = 3,
        embed_dims: int = 768,
        depth: int = 12,
        num_heads: int = 12,
        mlp_ratio: float = 4.0,
        qkv_bias: bool = True,
        qk_scale: float | None = None,
        drop_rate: float = 0.0,
        attn_drop_rate: float = 0.0,
        drop_path_rate: float = 0.0,
        norm_cfg: Mapping[str, Any] | None = None,
        init_values: float = 0.0,
        use_learnable_pos_emb: bool = False,
        num_frames: int = 16,
        tubelet_size: int = 2,
        use_mean_pooling: bool = True,
        pretrained: str | None = None,
        return_feat_map: bool = False,
        init_cfg: Any = None,
    ) -> None:
        super().__init__()
        from_init = pretrained_init(init_cfg)  # MMEngine's Pretrained init, if given
        if embed_dims % num_heads:
            raise config_error(
                "num_heads", f"embed_dims {embed_dims} is not divisible by num_heads {num_heads}"
            )
        norm_cfg = norm_cfg or {"type": "LN", "eps": 1e-6}
        self.embed_dims = self.out_channels = embed_dims
        self.patch_size = patch_size
        self.patch_embed = PatchEmbed(in_channels, embed_dims, tubelet_size, patch_size)
        grid = img_size // patch_size
        self.grid_size = (grid, grid)
        num_patches = grid**2 * (num_frames // tubelet_size)
        if use_learnable_pos_emb:
            self.pos_embed = nn.Parameter(torch.zeros(1, num_patches, embed_dims))
        else:
            self.register_buffer("pos_embed", sinusoid_table(num_patches, embed_dims))
        self.pos_drop = nn.Dropout(drop_rate)
        rates = [float(r) for r in torch.linspace(0, drop_path_rate, depth, device="cpu")]
        self.blocks = nn.ModuleList(
            Block(
                embed_dims,
                num_heads,
                mlp_ratio,
                qkv_bias,
                qk_scale,
                drop_rate,
                attn_drop_rate,
                rates[i],
                init_values,
                norm_cfg,
            )
            for i in range(depth)
        )
        if use_mean_pooling:
            self.norm: nn.Module = nn.Identity()
            self.fc_norm: nn.Module | None = layer_norm(norm_cfg, embed_dims)
        else:
            self.norm = layer_norm(norm_cfg, embed_dims)
            self.fc_norm = None
        self.return_feat_map = return_feat_map
        trunc_normal_linears(self)  # MMAction2's init_cfg: Linear N(0, .02), LayerNorm 1/0
        if use_learnable_pos_emb:
            nn.init.trunc_normal_(self.pos_embed, std=0.02)
        if pretrained:
            load_partial(self, state_dict_from(pretrained), source=pretrained)
        if from_init is not None:
            spec, prefix = from_init
            load_partial(self, with_prefix(state_dict_from(spec), prefix), source=spec)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, _, h, w = x.shape
        h, w = h // self.patch_size, w // self.patch_size
        x = self.patch_embed(x)
        pos: torch.Tensor = self.pos_embed
        if (h, w) != self.grid_size:  # another frame size: resize the grid per time step
            pos = pos.reshape(-1, *self.grid_size, self.embed_dims).permute(0, 3, 1, 2)
            pos = F.interpolate(pos, size=(h, w), mode="bicubic", align_corners=False)
            pos = pos.permute(0, 2, 3, 1).flatten(1, 2).reshape(1, -1, self.embed_dims)
        x = self.pos_drop(x + pos)
        for block in self.blocks:
            x = block(x)
        x = self.norm(x)
        if self.return_feat_map:
            return x.reshape(b, -1, h, w, self.embed_dims).permute(0, 4, 1, 2, 3)
        if self.fc_norm is not None:
            return self.fc_norm(x.mean(1))
        return x[:, 0]
