"""MMAction2's ``UniFormer`` (v1, Li et al. 2022): four stages of 3D patch embedding and
blocks, convolutional relation aggregators (``CBlock``) in the first two, self-attention
(``SABlock``) in the last two; the output is the (N, C, T/2, H/32, W/32) feature map.

Parameter and state-dict names are MMAction2's (``patch_embed1.proj``, ``blocks3.0.attn.qkv``,
``norm`` …). ``pretrained='uniformer_small_in1k'`` / ``'uniformer_base_in1k'`` (MMAction2's
ImageNet weights, a URL read from torch.hub's cache) or a file inflates 2D kernels to 3D.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from ...registry import config_error
from .._cpu3d import Conv3d
from .._mma_init import (
    drop_path_or_identity,
    linear_rates,
    load_pretrained_init,
    pretrained_init_cfg,
    trunc_normal_linear_and_constant_norm,
)
from .._weights import state_dict_from
from ._vit_bricks import attend, load_centre_inflated

_ROOT = "https://download.openmmlab.com/mmaction/v1.0/recognition/uniformerv1"
IMAGENET_WEIGHTS = {
    "uniformer_small_in1k": f"{_ROOT}/uniformer_small_in1k_20221219-fe0a7ae0.pth",
    "uniformer_base_in1k": f"{_ROOT}/uniformer_base_in1k_20221219-82c01015.pth",
}


def _pointwise(cin: int, cout: int) -> nn.Conv3d:
    return Conv3d(cin, cout, 1)


class Mlp(nn.Module):
    """Token MLP: fc1, GELU, dropout, fc2, dropout."""

    def __init__(self, in_features: int, hidden_features: int, drop: float = 0.0) -> None:
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden_features)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden_features, in_features)
        self.drop = nn.Dropout(drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(self.fc2(self.drop(self.act(self.fc1(x)))))


class CMlp(Mlp):
    """The same MLP as 1×1×1 convolutions, on (N, C, T, H, W)."""

    def __init__(self, in_features: int, hidden_features: int, drop: float = 0.0) -> None:
        super().__init__(in_features, hidden_features, drop)
        self.fc1 = _pointwise(in_features, hidden_features)  # type: ignore[assignment]
        self.fc2 = _pointwise(hidden_features, in_features)  # type: ignore[assignment]


class Attention(nn.Module):
    """Multi-head self-attention over all T·H·W tokens (qkv in one linear layer)."""

    def __init__(
        self,
        dim: int,
        num_heads: int,
        qkv_bias: bool = True,
        qk_scale: float | None = None,
        attn_drop: float = 0.0,
        proj_drop: float = 0.0,
    ) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.scale = qk_scale or (dim // num_heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.attn_drop = nn.Dropout(attn_drop)
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, c = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.num_heads, c // self.num_heads).unbind(2)
        q, k, v = (t.transpose(1, 2) for t in (q, k, v))  # (B, heads, N, d)
        out = attend(q, k, v, self.scale, self.attn_drop)
        return self.proj_drop(self.proj(out.transpose(1, 2).reshape(b, n, c)))


class CBlock(nn.Module):
    """Local relation aggregator: depth-wise 3×3×3 position encoding, BN, 1×1×1, depth-wise
    5×5×5 "attention", 1×1×1; then BN and a convolutional MLP."""

    def __init__(
        self, dim: int, mlp_ratio: float = 4.0, drop: float = 0.0, drop_path: float = 0.0
    ) -> None:
        super().__init__()
        self.pos_embed = Conv3d(dim, dim, 3, padding=1, groups=dim)
        self.norm1 = nn.BatchNorm3d(dim)
        self.conv1 = _pointwise(dim, dim)
        self.conv2 = _pointwise(dim, dim)
        self.attn = Conv3d(dim, dim, 5, padding=2, groups=dim)
        self.drop_path = drop_path_or_identity(drop_path)
        self.norm2 = nn.BatchNorm3d(dim)
        self.mlp = CMlp(dim, int(dim * mlp_ratio), drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.pos_embed(x)
        x = x + self.drop_path(self.conv2(self.attn(self.conv1(self.norm1(x)))))
        return x + self.drop_path(self.mlp(self.norm2(x)))


class SABlock(nn.Module):
    """Global relation aggregator: depth-wise position encoding, then a transformer block."""

    def __init__(
        self,
        dim: int,
        num_heads: int,
        mlp_ratio: float = 4.0,
        qkv_bias: bool = False,
        qk_scale: float | None = None,
        drop: float = 0.0,
        attn_drop: float = 0.0,
        drop_path: float = 0.0,
    ) -> None:
        super().__init__()
        self.pos_embed = Conv3d(dim, dim, 3, padding=1, groups=dim)
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, num_heads, qkv_bias, qk_scale, attn_drop, drop)
        self.drop_path = drop_path_or_identity(drop_path)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio), drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.pos_embed(x)
        b, c, t, h, w = x.shape
        tokens = x.flatten(2).transpose(1, 2)
        tokens = tokens + self.drop_path(self.attn(self.norm1(tokens)))
        tokens = tokens + self.drop_path(self.mlp(self.norm2(tokens)))
        return tokens.transpose(1, 2).reshape(b, c, t, h, w)


class PatchEmbed(nn.Module):
    """A strided 3D convolution and LayerNorm over channels; the first stage's (MMAction2's
    ``SpeicalPatchEmbed``) also halves time with a 3-frame kernel."""

    def __init__(self, patch_size: int, in_chans: int, embed_dim: int, temporal: bool) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(embed_dim)
        if temporal:
            kernel, stride, pad = (
                (3, patch_size, patch_size),
                (2, patch_size, patch_size),
                (1, 0, 0),
            )
        else:
            kernel, stride, pad = (
                (1, patch_size, patch_size),
                (1, patch_size, patch_size),
                (0, 0, 0),
            )
        self.proj = Conv3d(in_chans, embed_dim, kernel, stride, pad)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.proj(x)
        b, c, t, h, w = x.shape
        x = self.norm(x.flatten(2).transpose(1, 2))
        return x.reshape(b, t, h, w, c).permute(0, 4, 1, 2, 3).contiguous()


class UniFormer(nn.Module):
    """UniFormer with MMAction2's arguments (``depth``, ``embed_dim``, ``head_dim`` …)."""

    def __init__(
        self,
        depth: Sequence[int] = (5, 8, 20, 7),
        img_size: int = 224,
        in_chans: int = 3,
        embed_dim: Sequence[int] = (64, 128, 320, 512),
        head_dim: int = 64,
        mlp_ratio: float = 4.0,
        qkv_bias: bool = True,
        qk_scale: float | None = None,
        drop_rate: float = 0.0,
        attn_drop_rate: float = 0.0,
        drop_path_rate: float = 0.0,
        pretrained2d: bool = True,
        pretrained: str | None = None,
        init_cfg: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        depth, embed_dim = list(depth), list(embed_dim)
        if len(depth) != 4 or len(embed_dim) != 4:
            raise config_error(
                "depth", f"UniFormer has 4 stages: depth {depth} and embed_dim {embed_dim}"
            )
        for dim in embed_dim[2:]:
            if dim % head_dim:
                raise config_error(
                    "head_dim", f"{head_dim} does not divide the attention stages' width {dim}"
                )
        self.img_size = img_size  # kept for MMAction2's signature; any size runs
        self.pretrained, self.pretrained2d = pretrained, pretrained2d
        self.out_channels = embed_dim[-1]
        widths = [in_chans, *embed_dim]
        for i, patch in enumerate((4, 2, 2, 2)):
            setattr(
                self, f"patch_embed{i + 1}", PatchEmbed(patch, widths[i], widths[i + 1], i == 0)
            )
        self.pos_drop = nn.Dropout(drop_rate)
        rates = linear_rates(drop_path_rate, sum(depth))
        starts = [sum(depth[:i]) for i in range(4)]
        for stage in range(2):
            cblocks = [
                CBlock(embed_dim[stage], mlp_ratio, drop_rate, rates[starts[stage] + i])
                for i in range(depth[stage])
            ]
            setattr(self, f"blocks{stage + 1}", nn.ModuleList(cblocks))
        for stage in range(2, 4):
            dim = embed_dim[stage]
            blocks = [
                SABlock(
                    dim,
                    dim // head_dim,
                    mlp_ratio,
                    qkv_bias,
                    qk_scale,
                    drop_rate,
                    attn_drop_rate,
                    rates[starts[stage] + i],
                )
                for i in range(depth[stage])
            ]
            setattr(self, f"blocks{stage + 1}", nn.ModuleList(blocks))
        self.norm = nn.BatchNorm3d(embed_dim[-1])
        self._init(init_cfg)

    def _init(self, init_cfg: Mapping[str, Any] | None) -> None:
        # MMAction2's init_weights: with pretrained2d (the default) only the ImageNet weights
        # are loaded, if named, and torch's default init stays; without it, TruncNormal /
        # Constant init and then a 3D checkpoint.
        if self.pretrained2d:
            if init_cfg is not None:
                raise config_error("init_cfg", "is not used with pretrained2d=True")
            if self.pretrained:
                self._load_2d(self.pretrained)
            return
        checkpoint = pretrained_init_cfg(init_cfg)
        trunc_normal_linear_and_constant_norm(self)
        if self.pretrained:
            load_pretrained_init(self, self.pretrained, key="pretrained")
        elif checkpoint is not None:
            load_pretrained_init(self, *checkpoint)

    def _load_2d(self, name: str) -> None:
        source = IMAGENET_WEIGHTS.get(name, name)
        try:
            state = state_dict_from(source)
        except Exception as exc:
            raise config_error(
                "pretrained",
                f"{name!r}: cannot load ({exc}); give a local file, or set pretrained=None",
            ) from None
        own = self.state_dict()
        found = {k: v for k, v in state.items() if k in own}
        if not found:
            raise config_error("pretrained", f"{source} has no tensor of this UniFormer")
        load_centre_inflated(self, found, source)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pos_drop(self.get_submodule("patch_embed1")(x))
        for stage in range(1, 5):
            if stage > 1:
                x = self.get_submodule(f"patch_embed{stage}")(x)
            for block in self.get_submodule(f"blocks{stage}").children():
                x = block(x)
        return self.norm(x)
