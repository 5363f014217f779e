"""MMAction2's ``SwinTransformer3D`` (Video Swin, Liu et al. 2022), with MMAction2's parameter
names (``patch_embed.proj``, ``layers.N.blocks.M.attn.relative_position_bias_table``,
``layers.N.downsample.reduction``, ``norm3``) so its checkpoints load as they are.

Shifted 3D windows with the attention mask between regions that the shift brought together;
windows shrink to the input where it is smaller (and then do not shift). With ``pretrained2d``
the ``pretrained`` file is a 2D Swin (ImageNet, weights under ``model``) inflated as MMAction2
does: the patch embedding repeated over time (divided by its length), each relative-position
table resized bicubically to the window and repeated over the 2·Wd−1 temporal offsets, the
final ``norm`` moved to ``norm3``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any, cast

import torch
import torch.nn.functional as F
from torch import nn

from ...registry import config_error
from .._cpu3d import Conv3d
from .._weights import load_file, state_dict_from
from ._vit_bricks import (
    attend,
    check_activation,
    drop_path_or_identity,
    layer_norm,
    load_partial,
    pretrained_init,
    trunc_normal_linears,
    with_prefix,
)

ARCHS = {
    **dict.fromkeys(("t", "tiny"), (96, (2, 2, 6, 2), (3, 6, 12, 24))),
    **dict.fromkeys(("s", "small"), (96, (2, 2, 18, 2), (3, 6, 12, 24))),
    **dict.fromkeys(("b", "base"), (128, (2, 2, 18, 2), (4, 8, 16, 32))),
    **dict.fromkeys(("l", "large"), (192, (2, 2, 18, 2), (6, 12, 24, 48))),
}

Size3 = tuple[int, int, int]


def partition(x: torch.Tensor, window: Size3) -> torch.Tensor:
    """(B, D, H, W, C) → (B·windows, Wd·Wh·Ww, C)."""
    b, d, h, w, c = x.shape
    x = x.view(
        b, d // window[0], window[0], h // window[1], window[1], w // window[2], window[2], c
    )
    return x.permute(0, 1, 3, 5, 2, 4, 6, 7).reshape(-1, window[0] * window[1] * window[2], c)


def reverse(windows: torch.Tensor, window: Size3, b: int, d: int, h: int, w: int) -> torch.Tensor:
    x = windows.view(b, d // window[0], h // window[1], w // window[2], *window, -1)
    return x.permute(0, 1, 4, 2, 5, 3, 6, 7).reshape(b, d, h, w, -1)


def fit_window(size: Size3, window: Size3, shift: Size3) -> tuple[Size3, Size3]:
    """A window no larger than the input; no shift along an axis the window covers whole."""
    win, sh = list(window), list(shift)
    for i in range(3):
        if size[i] <= window[i]:
            win[i], sh[i] = size[i], 0
    return (win[0], win[1], win[2]), (sh[0], sh[1], sh[2])


@functools.lru_cache(maxsize=32)
def shift_mask(
    d: int, h: int, w: int, window: Size3, shift: Size3, device: torch.device
) -> torch.Tensor:
    """(windows, N, N): −100 between tokens that come from different regions after the shift."""
    region = torch.zeros((1, d, h, w, 1), device=device)
    label = 0
    cuts = [
        (slice(-window[i]), slice(-window[i], -shift[i]), slice(-shift[i], None)) for i in range(3)
    ]
    for sd in cuts[0]:
        for sh in cuts[1]:
            for sw in cuts[2]:
                region[:, sd, sh, sw, :] = label
                label += 1
    labels = partition(region, window).squeeze(-1)
    mask = labels.unsqueeze(1) - labels.unsqueeze(2)
    return mask.masked_fill(mask != 0, -100.0).masked_fill(mask == 0, 0.0)


class WindowAttention3D(nn.Module):
    relative_position_index: torch.Tensor

    def __init__(
        self,
        dims: int,
        window: Size3,
        heads: int,
        qkv_bias: bool,
        qk_scale: float | None,
        attn_drop: float,
        proj_drop: float,
    ) -> None:
        super().__init__()
        self.window_size, self.num_heads = window, heads
        self.scale = qk_scale or (dims // heads) ** -0.5
        wd, wh, ww = window
        self.relative_position_bias_table = nn.Parameter(
            torch.zeros((2 * wd - 1) * (2 * wh - 1) * (2 * ww - 1), heads)
        )
        coords = torch.stack(
            torch.meshgrid(torch.arange(wd), torch.arange(wh), torch.arange(ww), indexing="ij")
        ).flatten(1)
        rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0)
        rel = rel + torch.tensor([wd - 1, wh - 1, ww - 1])
        index = rel[..., 0] * (2 * wh - 1) * (2 * ww - 1) + rel[..., 1] * (2 * ww - 1) + rel[..., 2]
        self.register_buffer("relative_position_index", index)
        self.qkv = nn.Linear(dims, dims * 3, bias=qkv_bias)
        self.attn_drop = nn.Dropout(attn_drop)
        self.proj = nn.Linear(dims, dims)
        self.proj_drop = nn.Dropout(proj_drop)
        nn.init.trunc_normal_(self.relative_position_bias_table, std=0.02)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.num_heads, c // self.num_heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        index = self.relative_position_index[:n, :n].reshape(-1)
        bias = self.relative_position_bias_table[index].reshape(n, n, -1).permute(2, 0, 1)
        bias = bias.unsqueeze(0)  # (1, heads, n, n): the same for every window
        if mask is not None:  # shifted windows: per window, the same for every clip
            windows = mask.shape[0]
            bias = (bias + mask[:, None]).repeat(b // windows, 1, 1, 1)
        out = attend(q, k, v, self.scale, self.attn_drop, bias)
        return self.proj_drop(self.proj(out.transpose(1, 2).reshape(b, n, c)))


class Mlp(nn.Module):
    def __init__(self, dims: int, hidden: int, drop: float) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dims, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dims)
        self.drop = nn.Dropout(drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(self.fc2(self.drop(self.act(self.fc1(x)))))


class SwinTransformerBlock3D(nn.Module):
    def __init__(
        self,
        dims: int,
        heads: int,
        window: Size3,
        shift: Size3,
        mlp_ratio: float,
        qkv_bias: bool,
        qk_scale: float | None,
        drop: float,
        attn_drop: float,
        drop_path: float,
        norm_cfg: Mapping[str, Any] | None,
        with_cp: bool,
    ) -> None:
        super().__init__()
        self.window_size, self.shift_size, self.with_cp = window, shift, with_cp
        self.norm1 = layer_norm(norm_cfg, dims)
        self.attn = WindowAttention3D(dims, window, heads, qkv_bias, qk_scale, attn_drop, drop)
        self.drop_path = drop_path_or_identity(drop_path)
        self.norm2 = layer_norm(norm_cfg, dims)
        self.mlp = Mlp(dims, int(dims * mlp_ratio), drop)

    def _attend(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        b, d, h, w, c = x.shape
        window, shift = fit_window((d, h, w), self.window_size, self.shift_size)
        x = self.norm1(x)
        pads = [(window[i] - s % window[i]) % window[i] for i, s in enumerate((d, h, w))]
        x = F.pad(x, (0, 0, 0, pads[2], 0, pads[1], 0, pads[0]))
        _, dp, hp, wp, _ = x.shape
        shifted = any(s > 0 for s in shift)
        if shifted:
            x = torch.roll(x, shifts=(-shift[0], -shift[1], -shift[2]), dims=(1, 2, 3))
        out = self.attn(partition(x, window), mask=mask if shifted else None)
        x = reverse(out.view(-1, *window, c), window, b, dp, hp, wp)
        if shifted:
            x = torch.roll(x, shifts=shift, dims=(1, 2, 3))
        return x[:, :d, :h, :w, :].contiguous() if any(pads) else x

    def _mlp(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop_path(self.mlp(self.norm2(x)))

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        if self.with_cp and x.requires_grad:
            from torch.utils.checkpoint import checkpoint

            x = x + self.drop_path(checkpoint(self._attend, x, mask, use_reentrant=False))
            return x + checkpoint(self._mlp, x, use_reentrant=False)
        x = x + self.drop_path(self._attend(x, mask))
        return x + self._mlp(x)


class PatchMerging(nn.Module):
    """2×2 neighbours concatenated (4C), normalised, reduced to 2C."""

    def __init__(self, dims: int, norm_cfg: Mapping[str, Any] | None) -> None:
        super().__init__()
        self.out_embed_dims = 2 * dims
        self.reduction = nn.Linear(4 * dims, 2 * dims, bias=False)
        self.norm = layer_norm(norm_cfg, 4 * dims)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[2], x.shape[3]
        if h % 2 or w % 2:
            x = F.pad(x, (0, 0, 0, w % 2, 0, h % 2))
        parts = [x[:, :, 0::2, 0::2], x[:, :, 1::2, 0::2], x[:, :, 0::2, 1::2], x[:, :, 1::2, 1::2]]
        return self.reduction(self.norm(torch.cat(parts, -1)))


class BasicLayer(nn.Module):
    """One stage: blocks alternating unshifted/shifted windows, then (maybe) patch merging."""

    def __init__(
        self,
        dims: int,
        depth: int,
        heads: int,
        window: Size3,
        rates: Sequence[float],
        downsample: bool,
        norm_cfg: Mapping[str, Any] | None,
        **block: Any,
    ) -> None:
        super().__init__()
        self.window_size = window
        self.shift_size = (window[0] // 2, window[1] // 2, window[2] // 2)
        self.blocks = nn.ModuleList(
            SwinTransformerBlock3D(
                dims,
                heads,
                window,
                (0, 0, 0) if i % 2 == 0 else self.shift_size,
                drop_path=rates[i],
                norm_cfg=norm_cfg,
                **block,
            )
            for i in range(depth)
        )
        self.downsample = PatchMerging(dims, norm_cfg) if downsample else None
        self.out_embed_dims = 2 * dims if downsample else dims

    def forward(self, x: torch.Tensor, do_downsample: bool = True) -> torch.Tensor:
        """(B, C, D, H, W) → (B, D, H, W, C′)."""
        _, _, d, h, w = x.shape
        window, shift = fit_window((d, h, w), self.window_size, self.shift_size)
        x = x.permute(0, 2, 3, 4, 1)
        padded = [-(-s // window[i]) * window[i] for i, s in enumerate((d, h, w))]
        mask = shift_mask(*padded, window, shift, x.device)
        for block in self.blocks:
            x = block(x, mask)
        if self.downsample is not None and do_downsample:
            x = self.downsample(x)
        return x


class PatchEmbed3D(nn.Module):
    def __init__(
        self, patch: Size3, in_channels: int, dims: int, norm_cfg: Mapping[str, Any] | None
    ) -> None:
        super().__init__()
        self.patch_size, self.embed_dims = patch, dims
        self.proj = Conv3d(in_channels, dims, patch, stride=patch)
        self.norm = layer_norm(norm_cfg, dims) if norm_cfg is not None else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        d, h, w = x.shape[2:]
        pd, ph, pw = (-s % p for s, p in zip((d, h, w), self.patch_size, strict=True))
        if pd or ph or pw:  # pad the far side up to whole patches
            x = F.pad(x, (0, pw, 0, ph, 0, pd))
        x = self.proj(x)
        if self.norm is not None:
            dp, hp, wp = x.shape[2:]
            x = self.norm(x.flatten(2).transpose(1, 2))
            x = x.transpose(1, 2).reshape(-1, self.embed_dims, dp, hp, wp)
        return x


def _triple(value: int | Sequence[int], name: str) -> Size3:
    if isinstance(value, int):
        return (value, value, value)
    if len(value) != 3:
        raise config_error(name, f"must be three numbers (T, H, W), got {list(value)}")
    return (int(value[0]), int(value[1]), int(value[2]))


class SwinTransformer3D(nn.Module):
    """MMAction2's Video Swin: (B, C, T, H, W) → (B, C′, T/2, H/32, W/32) (``out_indices=(3,)``)."""

    def __init__(
        self,
        arch: str | Mapping[str, Any],
        pretrained: str | None = None,
        pretrained2d: bool = True,
        patch_size: int | Sequence[int] = (2, 4, 4),
        in_channels: int = 3,
        window_size: Sequence[int] = (8, 7, 7),
        mlp_ratio: float = 4.0,
        qkv_bias: bool = True,
        qk_scale: float | None = None,
        drop_rate: float = 0.0,
        attn_drop_rate: float = 0.0,
        drop_path_rate: float = 0.1,
        act_cfg: Mapping[str, Any] | None = None,
        norm_cfg: Mapping[str, Any] | None = None,
        patch_norm: bool = True,
        frozen_stages: int = -1,
        with_cp: bool = False,
        out_indices: Sequence[int] = (3,),
        out_after_downsample: bool = False,
        init_cfg: Any = None,
    ) -> None:
        super().__init__()
        if isinstance(arch, str):
            if arch.lower() not in ARCHS:
                raise config_error(
                    "arch", f"must be one of tiny, small, base, large (got {arch!r})"
                )
            dims, depths, heads = ARCHS[arch.lower()]
        else:
            if set(arch) != {"embed_dims", "depths", "num_heads"}:
                raise config_error(
                    "arch", "a custom arch is dict(embed_dims=, depths=, num_heads=)"
                )
            dims, depths, heads = (
                arch["embed_dims"],
                tuple(arch["depths"]),
                tuple(arch["num_heads"]),
            )
        if len(depths) != len(heads) or not 1 <= len(depths) <= 4:
            raise config_error("arch", "depths and num_heads: the same length, 1 to 4 stages")
        if not out_indices or max(out_indices) >= len(depths):
            raise config_error("out_indices", f"must be stage numbers below {len(depths)}")
        from_init = pretrained_init(init_cfg)  # MMEngine's Pretrained init, if given
        check_activation(act_cfg)
        norm_cfg = norm_cfg or {"type": "LN"}
        self.pretrained, self.pretrained2d = pretrained, pretrained2d
        self.embed_dims, self.depths, self.num_heads = dims, depths, heads
        self.num_layers = len(depths)
        self.out_indices = tuple(out_indices)
        self.out_after_downsample = out_after_downsample
        self.frozen_stages = frozen_stages
        self.window_size = _triple(window_size, "window_size")
        self.patch_size = _triple(patch_size, "patch_size")
        self.patch_embed = PatchEmbed3D(
            self.patch_size, in_channels, dims, norm_cfg if patch_norm else None
        )
        self.pos_drop = nn.Dropout(drop_rate)
        rates = [float(r) for r in torch.linspace(0, drop_path_rate, sum(depths), device="cpu")]
        self.layers = nn.ModuleList()
        widths = [dims]
        for i, (depth, head) in enumerate(zip(depths, heads, strict=True)):
            layer = BasicLayer(
                widths[-1],
                depth,
                head,
                self.window_size,
                rates[:depth],
                downsample=i < self.num_layers - 1,
                norm_cfg=norm_cfg,
                mlp_ratio=mlp_ratio,
                qkv_bias=qkv_bias,
                qk_scale=qk_scale,
                drop=drop_rate,
                attn_drop=attn_drop_rate,
                with_cp=with_cp,
            )
            self.layers.append(layer)
            rates = rates[depth:]
            widths.append(layer.out_embed_dims)
        self.num_features = widths[1:] if out_after_downsample else widths[:-1]
        for i in self.out_indices:
            self.add_module(f"norm{i}", layer_norm(norm_cfg, self.num_features[i]))
        self.out_channels = self.num_features[self.out_indices[-1]]
        trunc_normal_linears(self)  # MMAction2's init_cfg: Linear N(0, .02), LayerNorm 1/0
        if pretrained:
            if pretrained2d:
                self.inflate_weights(pretrained)
            else:
                load_partial(self, state_dict_from(pretrained), source=pretrained)
        elif from_init is not None:  # MMAction2 honours init_cfg only without pretrained2d
            spec, prefix = from_init
            load_partial(self, with_prefix(state_dict_from(spec), prefix), source=spec)
        self._freeze_stages()

    def inflate_weights(self, spec: str) -> list[str]:
        """A 2D Swin's weights (``model`` in the file) made 3D, as MMAction2 does."""
        data = load_file(spec) if not spec.startswith(("http://", "https://")) else None
        if data is None:
            state = dict(state_dict_from(spec))
        elif isinstance(data, Mapping) and isinstance(data.get("model"), Mapping):
            state = dict(data["model"])
        else:
            raise config_error(
                "pretrained",
                f"{spec}: a 2D Swin file keeps its weights under 'model' (with pretrained2d=True); "
                "for a 3D checkpoint set pretrained2d=False",
            )
        state = {
            k: v
            for k, v in state.items()
            if "relative_position_index" not in k and "attn_mask" not in k
        }
        t = self.patch_size[0]
        if "patch_embed.proj.weight" in state:
            state["patch_embed.proj.weight"] = (
                state["patch_embed.proj.weight"].unsqueeze(2).repeat(1, 1, t, 1, 1) / t
            )
        own = self.state_dict()
        wd, wh, ww = self.window_size
        for key in [k for k in state if "relative_position_bias_table" in k]:
            table = state[key]
            if key not in own or table.shape[1] != own[key].shape[1]:
                continue  # other heads: MMAction2 passes it (it stays as initialised)
            side = (2 * wh - 1) * (2 * ww - 1)
            if table.shape[0] != side:
                s = int(table.shape[0] ** 0.5)
                heads = table.shape[1]
                grid = table.permute(1, 0).reshape(1, heads, s, s)
                grid = F.interpolate(grid, size=(2 * wh - 1, 2 * ww - 1), mode="bicubic")
                table = grid.reshape(heads, side).permute(1, 0)
            state[key] = table.repeat(2 * wd - 1, 1)
        if hasattr(self, "norm3") and "norm.weight" in state:
            state["norm3.weight"] = state.pop("norm.weight")
            state["norm3.bias"] = state.pop("norm.bias")
        return load_partial(self, state, source=spec)

    def _freeze_stages(self) -> None:
        frozen: list[nn.Module] = []
        if self.frozen_stages >= 0:
            frozen.append(self.patch_embed)
        if self.frozen_stages >= 1:
            frozen += [self.pos_drop, *self.layers[: self.frozen_stages]]
        for module in frozen:
            module.eval()
            for p in module.parameters():
                p.requires_grad = False

    def train(self, mode: bool = True) -> SwinTransformer3D:
        super().train(mode)
        self._freeze_stages()
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, ...]:
        x = self.pos_drop(self.patch_embed(x))
        outs = []
        for i, stage in enumerate(self.layers):
            layer = cast(BasicLayer, stage)
            x = layer(x.contiguous(), do_downsample=self.out_after_downsample)
            if i in self.out_indices:
                outs.append(getattr(self, f"norm{i}")(x).permute(0, 4, 1, 2, 3).contiguous())
            if layer.downsample is not None and not self.out_after_downsample:
                x = layer.downsample(x)
            if i < self.num_layers - 1:
                x = x.permute(0, 4, 1, 2, 3)
        return outs[0] if len(outs) == 1 else tuple(outs)
