"""MMAction2's ``UniFormerV2``: a CLIP ViT whose blocks gain local temporal relation
aggregators (local MHRA), and a global decoder that reads chosen layers into one video token.

Parameter and state-dict names are MMAction2's (``conv1``, ``class_embedding``,
``transformer.resblocks.N.lmhra1.pos_embed.*``, ``transformer.dec.N.*``, ``transformer.dpe``,
``transformer.balance`` …), so its checkpoints load as they are. The output is one feature
vector per clip, (N, n_dim), for ``UniFormerHead`` or ``TimeSformerHead``.

``clip_pretrained=True`` starts from OpenAI CLIP's visual encoder as MMAction2 publishes it
(``pretrained='ViT-B/16'``, ``'ViT-L/14'``, ``'ViT-L/14_336'``: a URL, read from torch.hub's
cache without a network) or from a local file given as ``pretrained``; the 2D patch embedding
is inflated to 3D with the weights in the centre frame.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from pathlib import Path
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
from ._vit_bricks import load_centre_inflated

_CLIP_ROOT = (
    "https://download.openmmlab.com/mmaction/v1.0/recognition/uniformerv2/clipVisualEncoder"
)
CLIP_WEIGHTS = {
    "ViT-B/16": f"{_CLIP_ROOT}/vit-base-p16-res224_clip-rgb_20221219-b8a5da86.pth",
    "ViT-L/14": f"{_CLIP_ROOT}/vit-large-p14-res224_clip-rgb_20221219-9de7543e.pth",
    "ViT-L/14_336": f"{_CLIP_ROOT}/vit-large-p14-res336_clip-rgb_20221219-d370f9e5.pth",
}


class QuickGELU(nn.Module):
    """CLIP's activation, x·σ(1.702x)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if torch.is_grad_enabled():
            return x * torch.sigmoid(1.702 * x)
        # The same three operations in one buffer instead of three (bit for bit: x·s = s·x);
        # in place only without autograd, which keeps σ's output for the backward pass.
        gate = torch.mul(x, 1.702)
        return gate.sigmoid_().mul_(x)


class LocalMHRA(nn.Module):
    """Local MHRA: BN, 1×1×1 down, depth-wise temporal conv, 1×1×1 up (zero-initialised, so a
    fresh one leaves CLIP's features unchanged)."""

    def __init__(self, d_model: int, dw_reduction: float = 1.5, pos_kernel_size: int = 3) -> None:
        super().__init__()
        reduced = int(d_model // dw_reduction)
        up = Conv3d(reduced, d_model, kernel_size=1)
        nn.init.zeros_(up.weight)
        nn.init.zeros_(up.bias)  # type: ignore[arg-type]  # it has one
        self.pos_embed = nn.Sequential(
            nn.BatchNorm3d(d_model),
            Conv3d(d_model, reduced, kernel_size=1),
            Conv3d(
                reduced,
                reduced,
                kernel_size=(pos_kernel_size, 1, 1),
                padding=(pos_kernel_size // 2, 0, 0),
                groups=reduced,
            ),
            up,
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pos_embed(x)


def _mlp(d_model: int, hidden: int, dropout: float | None = None) -> nn.Sequential:
    layers: list[tuple[str, nn.Module]] = [
        ("c_fc", nn.Linear(d_model, hidden)),
        ("gelu", QuickGELU()),
    ]
    if dropout is not None:  # only the global blocks have one (and its name in the keys' order)
        layers.append(("dropout", nn.Dropout(dropout)))
    layers.append(("c_proj", nn.Linear(hidden, d_model)))
    return nn.Sequential(OrderedDict(layers))


class LocalUniBlock(nn.Module):
    """A CLIP block (MMAction2's ``ResidualAttentionBlock``) with local MHRA before the
    attention and, with ``double_lmhra``, again before the MLP. Tokens are (1+HW, N·T, C)."""

    def __init__(
        self,
        d_model: int,
        n_head: int,
        drop_path: float = 0.0,
        dw_reduction: float = 1.5,
        no_lmhra: bool = False,
        double_lmhra: bool = True,
    ) -> None:
        super().__init__()
        self.n_head = n_head
        self.drop_path = drop_path_or_identity(drop_path)
        self.no_lmhra, self.double_lmhra = no_lmhra, double_lmhra
        if not no_lmhra:
            self.lmhra1 = LocalMHRA(d_model, dw_reduction=dw_reduction)
            if double_lmhra:
                self.lmhra2 = LocalMHRA(d_model, dw_reduction=dw_reduction)
        self.attn = nn.MultiheadAttention(d_model, n_head)
        self.ln_1 = nn.LayerNorm(d_model)
        self.mlp = _mlp(d_model, d_model * 4)
        self.ln_2 = nn.LayerNorm(d_model)

    def _local(self, x: torch.Tensor, lmhra: nn.Module, frames: int) -> torch.Tensor:
        """Apply a local MHRA to the patch tokens (the class token passes through)."""
        patches = x[1:]
        length, nt, channels = patches.shape
        n = nt // frames
        side = int(length**0.5)
        # (H·W, N·T, C) → (N, C, T, H, W): a video the 3D convolutions can read
        video = patches.view(side, side, n, frames, channels).permute(2, 4, 3, 0, 1).contiguous()
        video = video + self.drop_path(lmhra(video))
        patches = (
            video.view(n, channels, frames, length)
            .permute(3, 0, 2, 1)
            .reshape(length, nt, channels)
        )
        return torch.cat([x[:1], patches], dim=0)

    def forward(self, x: torch.Tensor, frames: int = 8) -> torch.Tensor:
        if not self.no_lmhra:
            x = self._local(x, self.lmhra1, frames)
        y = self.ln_1(x)
        x = x + self.drop_path(self.attn(y, y, y, need_weights=False)[0])
        if not self.no_lmhra and self.double_lmhra:
            x = self._local(x, self.lmhra2, frames)
        return x + self.drop_path(self.mlp(self.ln_2(x)))


class GlobalUniBlock(nn.Module):
    """MMAction2's ``Extractor``: the video token attends to one layer's tokens (all frames),
    then an MLP with dropout; ``ln_3`` normalises the tokens it reads."""

    def __init__(
        self,
        d_model: int,
        n_head: int,
        mlp_factor: float = 4.0,
        dropout: float = 0.0,
        drop_path: float = 0.0,
    ) -> None:
        super().__init__()
        self.drop_path = drop_path_or_identity(drop_path)
        self.attn = nn.MultiheadAttention(d_model, n_head)
        self.ln_1 = nn.LayerNorm(d_model)
        self.mlp = _mlp(d_model, round(mlp_factor * d_model), dropout)
        self.ln_2 = nn.LayerNorm(d_model)
        self.ln_3 = nn.LayerNorm(d_model)
        # a fresh global block adds nothing: zero output projections (MMAction2's init)
        nn.init.xavier_uniform_(self.attn.in_proj_weight)
        nn.init.zeros_(self.attn.out_proj.weight)
        nn.init.zeros_(self.attn.out_proj.bias)
        c_fc, c_proj = self.mlp[0], self.mlp[-1]
        assert isinstance(c_fc, nn.Linear) and isinstance(c_proj, nn.Linear)
        nn.init.xavier_uniform_(c_fc.weight)
        nn.init.zeros_(c_proj.weight)
        nn.init.zeros_(c_proj.bias)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        keys = self.ln_3(y)
        x = x + self.drop_path(self.attn(self.ln_1(x), keys, keys, need_weights=False)[0])
        return x + self.drop_path(self.mlp(self.ln_2(x)))


class UniBlocks(nn.Module):
    """MMAction2's ``Transformer``: the local blocks, and after each layer in ``return_list``
    a depth-wise 3D conv position encoding (``dpe``) and a global block (``dec``); the video
    token and the frames' mean class token are mixed by a learned ``balance``."""

    def __init__(
        self,
        width: int,
        layers: int,
        heads: int,
        backbone_drop_path_rate: float = 0.0,
        t_size: int = 8,
        dw_reduction: float = 1.5,
        no_lmhra: bool = True,
        double_lmhra: bool = False,
        return_list: Sequence[int] = (8, 9, 10, 11),
        n_layers: int = 4,
        n_dim: int = 768,
        n_head: int = 12,
        mlp_factor: float = 4.0,
        drop_path_rate: float = 0.0,
        mlp_dropout: Sequence[float] = (0.5, 0.5, 0.5, 0.5),
    ) -> None:
        super().__init__()
        self.T = t_size
        self.return_list = list(return_list)
        rates = linear_rates(backbone_drop_path_rate, layers)
        self.resblocks = nn.ModuleList(
            LocalUniBlock(width, heads, rates[i], dw_reduction, no_lmhra, double_lmhra)
            for i in range(layers)
        )
        self.temporal_cls_token = nn.Parameter(torch.zeros(1, 1, n_dim))
        convs = [
            Conv3d(n_dim, n_dim, kernel_size=3, padding=1, groups=n_dim) for _ in range(n_layers)
        ]
        for conv in convs:
            nn.init.zeros_(conv.bias)  # type: ignore[arg-type]
        self.dpe = nn.ModuleList(convs)
        dec_rates = linear_rates(drop_path_rate, n_layers)
        self.dec = nn.ModuleList(
            GlobalUniBlock(n_dim, n_head, mlp_factor, mlp_dropout[i], dec_rates[i])
            for i in range(n_layers)
        )
        self.norm = nn.LayerNorm(n_dim)
        self.balance = nn.Parameter(torch.zeros(n_dim))
        self.sigmoid = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        frames = self.T
        length, nt, channels = x.shape
        n = nt // frames
        side = int((length - 1) ** 0.5)
        video_token = self.temporal_cls_token.repeat(1, n, 1)
        j = -1
        for i, block in enumerate(self.resblocks):
            x = block(x, frames)
            if i not in self.return_list:
                continue
            j += 1
            tokens = x.view(length, n, frames, channels)
            patches = tokens[1:].permute(1, 3, 2, 0).reshape(n, channels, frames, side, side)
            pos = self.dpe[j](patches).view(n, channels, frames, length - 1).permute(3, 0, 2, 1)
            tokens = torch.cat([tokens[:1], tokens[1:] + pos], dim=0)
            # (L, N, T, C) → (T·L, N, C): every frame's tokens are keys for the video token
            video_token = self.dec[j](video_token, tokens.permute(2, 0, 1, 3).flatten(0, 1))
        weight = self.sigmoid(self.balance)
        frames_cls = x.view(length, n, frames, channels)[0].mean(1)
        return self.norm((1 - weight) * video_token[0] + weight * frames_cls)


class UniFormerV2(nn.Module):
    """UniFormerV2 (Li et al. 2022) with MMAction2's arguments; see the module doc."""

    def __init__(
        self,
        input_resolution: int = 224,
        patch_size: int = 16,
        width: int = 768,
        layers: int = 12,
        heads: int = 12,
        backbone_drop_path_rate: float = 0.0,
        t_size: int = 8,
        kernel_size: int = 3,
        dw_reduction: float = 1.5,
        temporal_downsample: bool = False,
        no_lmhra: bool = True,
        double_lmhra: bool = False,
        return_list: Sequence[int] = (8, 9, 10, 11),
        n_layers: int = 4,
        n_dim: int = 768,
        n_head: int = 12,
        mlp_factor: float = 4.0,
        drop_path_rate: float = 0.0,
        mlp_dropout: Sequence[float] = (0.5, 0.5, 0.5, 0.5),
        clip_pretrained: bool = True,
        pretrained: str | None = None,
        init_cfg: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        return_list = list(return_list)
        if n_layers != len(return_list):
            raise config_error(
                "n_layers",
                f"is {n_layers} but return_list {return_list} names {len(return_list)} layers; "
                "one global block reads each listed layer",
            )
        if any(not 0 <= i < layers for i in return_list):
            raise config_error("return_list", f"{return_list}: each must be in 0..{layers - 1}")
        if len(mlp_dropout) < n_layers:
            raise config_error(
                "mlp_dropout", f"gives {len(mlp_dropout)} rates for {n_layers} global blocks"
            )
        if n_dim != width:
            raise config_error(
                "n_dim",
                f"is {n_dim} but width is {width}; the global blocks read the "
                "local blocks' tokens, so they must be equal",
            )
        if input_resolution % patch_size:
            raise config_error(
                "input_resolution",
                f"{input_resolution} is not a multiple of patch_size {patch_size}",
            )
        self.pretrained = pretrained
        self.clip_pretrained = clip_pretrained
        self.input_resolution = input_resolution
        self.out_channels = n_dim
        padding = (kernel_size - 1) // 2
        if temporal_downsample:
            self.conv1 = Conv3d(
                3,
                width,
                (kernel_size, patch_size, patch_size),
                (2, patch_size, patch_size),
                (padding, 0, 0),
                bias=False,
            )
            t_size //= 2
        else:
            self.conv1 = Conv3d(
                3, width, (1, patch_size, patch_size), (1, patch_size, patch_size), bias=False
            )
        scale = width**-0.5
        self.class_embedding = nn.Parameter(scale * torch.randn(width))
        self.positional_embedding = nn.Parameter(
            scale * torch.randn((input_resolution // patch_size) ** 2 + 1, width)
        )
        self.ln_pre = nn.LayerNorm(width)
        self.transformer = UniBlocks(
            width,
            layers,
            heads,
            backbone_drop_path_rate=backbone_drop_path_rate,
            t_size=t_size,
            dw_reduction=dw_reduction,
            no_lmhra=no_lmhra,
            double_lmhra=double_lmhra,
            return_list=return_list,
            n_layers=n_layers,
            n_dim=n_dim,
            n_head=n_head,
            mlp_factor=mlp_factor,
            drop_path_rate=drop_path_rate,
            mlp_dropout=mlp_dropout,
        )
        self._init(init_cfg)

    def _init(self, init_cfg: Mapping[str, Any] | None) -> None:
        # MMAction2's init_weights: CLIP weights skip the TruncNormal/Constant init altogether;
        # otherwise that init, then a full checkpoint (`pretrained`) or init_cfg's Pretrained.
        if self.clip_pretrained:
            if init_cfg is not None:
                raise config_error(
                    "init_cfg", "is not used with clip_pretrained=True; set one of them only"
                )
            self._load_clip(self.pretrained)
            return
        checkpoint = pretrained_init_cfg(init_cfg)
        trunc_normal_linear_and_constant_norm(self)
        # A CLIP name is not a checkpoint (MMAction2 would try to open a file 'ViT-B/16' in
        # init_weights and fail): clip_pretrained=False alone turns CLIP loading off.
        if self.pretrained and self.pretrained not in CLIP_WEIGHTS:
            load_pretrained_init(self, self.pretrained, key="pretrained")
        elif checkpoint is not None:
            load_pretrained_init(self, *checkpoint)

    def _load_clip(self, name: str | None) -> None:
        if name is None:
            raise config_error(
                "pretrained",
                "clip_pretrained=True needs pretrained='ViT-B/16', 'ViT-L/14', 'ViT-L/14_336' or "
                "a file of CLIP's visual encoder; or set clip_pretrained=False",
            )
        source = CLIP_WEIGHTS.get(name, name)
        if name not in CLIP_WEIGHTS and not Path(name).is_file():
            raise config_error(
                "pretrained",
                f"{name!r} is neither a CLIP name ({', '.join(CLIP_WEIGHTS)}) nor a file; or set "
                "clip_pretrained=False",
            )
        try:
            state = state_dict_from(source)
        except Exception as exc:
            raise config_error(
                "clip_pretrained",
                f"True, but CLIP's weights for {name!r} cannot be loaded: {exc}. Give a "
                "local file as pretrained=, or set clip_pretrained=False (--cfg-options "
                "model.backbone.clip_pretrained=False) to start from random weights",
            ) from None
        self.load_clip_state(state, source)

    def load_clip_state(self, state: Mapping[str, torch.Tensor], source: str) -> None:
        """CLIP's visual encoder into this model as MMAction2 does it: tensors whose name is
        here are copied, the patch embedding inflated to 3D (centre frame); the rest (local
        MHRA, global blocks) keep their initialisation."""
        own = self.state_dict()
        found = {k: v for k, v in state.items() if k in own}
        if "conv1.weight" not in found or "positional_embedding" not in found:
            raise config_error(
                "pretrained",
                f"{source} is not CLIP's visual encoder (no conv1/positional_embedding)",
            )
        load_centre_inflated(self, found, source, "another input_resolution, patch_size or width")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)
        n, channels, frames, h, w = x.shape
        if frames != self.transformer.T or (h * w + 1) != self.positional_embedding.shape[0]:
            # caught here: a wrong frame count would otherwise be folded into the batch
            raise ValueError(
                f"UniFormerV2 was built for {self.input_resolution}² clips of "
                f"{self.transformer.T} frames after the patch embedding (t_size), but got "
                f"{tuple(x.shape[2:])} patches×frames; make the pipeline's clip length and crop "
                "agree with t_size and input_resolution"
            )
        x = x.permute(0, 2, 3, 4, 1).reshape(n * frames, h * w, channels)
        cls = self.class_embedding.to(x.dtype).expand(x.shape[0], 1, channels)
        x = torch.cat([cls, x], dim=1) + self.positional_embedding.to(x.dtype)
        x = self.ln_pre(x).permute(1, 0, 2)  # (N·T, L, C) → (L, N·T, C)
        return self.transformer(x)
