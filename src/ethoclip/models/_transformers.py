"""Video transformers built on Hugging Face ``transformers``, so the published Kinetics weights
load by name (``hf://facebook/timesformer-base-finetuned-k400``): ``HFTimeSformer`` and
``HFVideoMAE``. MMAction2's own ``TimeSformer`` and ``VisionTransformer`` (its names, its
checkpoints) are in ``backbones/``.

transformers is imported only when one of these is built: it is slow to import.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from ..registry import config_error
from ._weights import HUGGINGFACE, hf_pretrained

ATTENTION_TYPES = ("divided_space_time", "space_only", "joint_space_time")


def _is_hf(spec: str) -> bool:
    from pathlib import Path

    return spec.startswith(HUGGINGFACE) or (
        Path(spec).is_dir() and (Path(spec) / "config.json").is_file()
    )


def _check_same(name: str, wanted: Any, found: Any, spec: str) -> None:
    if wanted != found:
        raise config_error(
            name, f"is {wanted!r} in the config but {found!r} in {spec}; make them agree"
        )


class HFTimeSformer(nn.Module):
    """transformers' TimeSformer (Bertasius et al. 2021): ``pretrained`` is ``hf://…`` or a
    local Hugging Face folder. MMAction2 files load into ``type='TimeSformer'``."""

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
        hf_config: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        from transformers import TimesformerConfig, TimesformerModel

        if attention_type not in ATTENTION_TYPES:
            raise config_error(
                "attention_type",
                f"must be one of {', '.join(ATTENTION_TYPES)} (got {attention_type!r})",
            )
        if transformer_layers is not None:
            raise config_error(
                "transformer_layers", "custom layer configs are not supported; leave it None"
            )
        norm = dict(norm_cfg or {"type": "LN", "eps": 1e-6})
        if norm.get("type") != "LN":
            raise config_error(
                "norm_cfg", f"only LayerNorm ('LN') is supported, not {norm.get('type')!r}"
            )
        if hf_config is not None:
            # Rebuilding a trained model (from a checkpoint): the exact architecture it had,
            # whatever hub config it started from; its weights come from the checkpoint.
            self.model = TimesformerModel(TimesformerConfig.from_dict(dict(hf_config)))
        elif pretrained and _is_hf(pretrained):
            from transformers import TimesformerForVideoClassification

            loaded = hf_pretrained(pretrained, TimesformerForVideoClassification.from_pretrained)
            model = loaded.timesformer
            c = model.config
            _check_same("embed_dims", embed_dims, c.hidden_size, pretrained)
            _check_same("patch_size", patch_size, c.patch_size, pretrained)
            _check_same(
                "num_transformer_layers", num_transformer_layers, c.num_hidden_layers, pretrained
            )
            _check_same("attention_type", attention_type, c.attention_type, pretrained)
            # Other clip lengths and sizes work: the model interpolates its position embeddings.
            self.model = model
        else:
            config = TimesformerConfig(
                image_size=img_size,
                patch_size=patch_size,
                num_channels=in_channels,
                num_frames=num_frames,
                hidden_size=embed_dims,
                num_hidden_layers=num_transformer_layers,
                num_attention_heads=num_heads,
                intermediate_size=embed_dims * 4,
                hidden_act="gelu",  # MMAction2's FFN: exact GELU
                hidden_dropout_prob=dropout_ratio,
                attention_probs_dropout_prob=dropout_ratio,
                layer_norm_eps=float(norm.get("eps", 1e-6)),
                attention_type=attention_type,
            )
            if pretrained:
                raise config_error(
                    "pretrained",
                    f"{pretrained}: HFTimeSformer loads hf://… or a Hugging Face folder; "
                    "MMAction2 TimeSformer or ImageNet-ViT files load into type='TimeSformer'",
                )
            self.model = TimesformerModel(config)
        self.out_channels = self.model.config.hidden_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, T, H, W) → the class token (B, C)."""
        out = self.model(pixel_values=x.permute(0, 2, 1, 3, 4)).last_hidden_state
        return out[:, 0]


class HFVideoMAE(nn.Module):
    """transformers' VideoMAE ViT (Tong et al. 2022): ``pretrained`` is
    ``hf://MCG-NJU/videomae-…`` or a local Hugging Face folder. Mean-pooled tokens (with a
    final LayerNorm), or the first token."""

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
        hf_config: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        from transformers import VideoMAEConfig, VideoMAEModel

        for name, value, default in (
            ("qk_scale", qk_scale, None),
            ("init_values", init_values, 0.0),
            ("use_learnable_pos_emb", use_learnable_pos_emb, False),
            ("return_feat_map", return_feat_map, False),
            ("drop_path_rate", drop_path_rate, 0.0),
        ):
            if value != default:
                raise config_error(
                    name, f"{value!r} is not supported by transformers' VideoMAE; use {default!r}"
                )
        eps = float(dict(norm_cfg or {"eps": 1e-6}).get("eps", 1e-6))
        if hf_config is not None:  # rebuilding a trained model: its exact architecture
            self.model = VideoMAEModel(VideoMAEConfig.from_dict(dict(hf_config)))
            hidden = self.model.config.hidden_size
            eps = float(getattr(self.model.config, "fc_norm_eps", 1e-5))
            self.fc_norm = nn.LayerNorm(hidden, eps=eps) if use_mean_pooling else None
        elif pretrained:
            if not _is_hf(pretrained):
                raise config_error(
                    "pretrained",
                    f"{pretrained}: VideoMAE weights load from hf://… or a Hugging Face folder",
                )
            from transformers import VideoMAEForVideoClassification

            loaded = hf_pretrained(pretrained, VideoMAEForVideoClassification.from_pretrained)
            self.model = loaded.videomae
            _check_same("embed_dims", embed_dims, self.model.config.hidden_size, pretrained)
            self.fc_norm = loaded.fc_norm if use_mean_pooling else None
        else:
            config = VideoMAEConfig(
                image_size=img_size,
                patch_size=patch_size,
                num_channels=in_channels,
                num_frames=num_frames,
                tubelet_size=tubelet_size,
                hidden_size=embed_dims,
                num_hidden_layers=depth,
                num_attention_heads=num_heads,
                intermediate_size=int(embed_dims * mlp_ratio),
                hidden_dropout_prob=drop_rate,
                attention_probs_dropout_prob=attn_drop_rate,
                layer_norm_eps=eps,
                qv_bias=qkv_bias,  # VideoMAE: biases on q and v (not k), as MMAction2's
                use_mean_pooling=use_mean_pooling,
            )
            self.model = VideoMAEModel(config)
            self.fc_norm = nn.LayerNorm(embed_dims, eps=eps) if use_mean_pooling else None
        self.out_channels = self.model.config.hidden_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, T, H, W) → (B, C)."""
        tokens = self.model(pixel_values=x.permute(0, 2, 1, 3, 4)).last_hidden_state
        if self.fc_norm is not None:
            return self.fc_norm(tokens.mean(1))
        return tokens[:, 0]
