"""3D convolution and max pooling that take the faster CPU kernel torch's own rule passes over.

torch picks a CPU kernel for ``conv3d`` by a size rule (``ConvParams::use_mkldnn``): a batch of
one clip whose N·C·T·H is at most 20 480 goes to its native ``slow_conv3d`` (unfold + GEMM),
which a 2-core CPU runs several times slower than oneDNN on the same numbers, and pointwise
(1×1×1) convolutions above that size go to oneDNN, which is slower than the plain matrix
product they are. Measured with torch 2.14 on 2 cores, one clip (``benchmarks/bench_models.py
--mmaction`` has the whole-model effect):

=====================================  ===============  ==========================
convolution                            torch's choice   here
=====================================  ===============  ==========================
3×3×3, 64→64 at 8×40×40 (I3D)          slow_conv3d 52   oneDNN 8.4 ms
1×3×3, 64→64 at 4×40×40 (SlowFast)     slow_conv3d 4.4  oneDNN 1.8 ms
1×1×1, 256→512 at 8×40×40              oneDNN 28        matrix product 11 ms
=====================================  ===============  ==========================

``max_pool3d`` on CPU always computes the argmax indices, one output at a time: 12.9 ms for
ResNet3d's 1×3×3 stem pool at 64×8×80×80. Without gradients the maximum is separable, a few
element-wise ``maximum`` calls over strided views per axis: 3.5 ms, the same numbers exactly.

Both modules are ``nn.Conv3d`` / ``nn.MaxPool3d`` with their parameters and state-dict keys;
only ``forward`` differs, and only for float32 tensors on the CPU: anything else (CUDA, bf16,
CPU autocast, ``padding_mode`` other than zeros, a pool with dilation, ceil mode or indices) is
the parent's.
Results agree with torch's kernels to float rounding (a different summation order; pooling is
exact).
"""

from __future__ import annotations

import torch
from torch import nn


def _cpu_float(x: torch.Tensor) -> bool:
    """A float32 CPU tensor outside CPU autocast (under it, torch's own ops cast to bf16)."""
    return (
        x.device.type == "cpu"
        and x.dtype == torch.float32
        and x.layout == torch.strided
        and not torch.is_autocast_enabled("cpu")
    )


class Conv3d(nn.Conv3d):
    """``nn.Conv3d`` whose CPU forward is a matrix product (pointwise) or oneDNN (the rest)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not (_cpu_float(x) and self.padding_mode == "zeros" and isinstance(self.padding, tuple)):
            return super().forward(x)
        if self.kernel_size == (1, 1, 1) and self.groups == 1 and self.padding == (0, 0, 0):
            return self._pointwise(x)
        if not torch.backends.mkldnn.is_available() or not torch.backends.mkldnn.enabled:
            return super().forward(x)
        return torch.mkldnn_convolution(
            x.contiguous(),
            self.weight.contiguous(),
            self.bias,
            self.padding,
            self.stride,
            self.dilation,
            self.groups,
        )

    def _pointwise(self, x: torch.Tensor) -> torch.Tensor:
        st, sh, sw = self.stride
        if (st, sh, sw) != (1, 1, 1):
            x = x[:, :, ::st, ::sh, ::sw]
        n, c, t, h, w = x.shape
        weight = self.weight.view(self.out_channels, c)
        # (out, in) @ (in, T·H·W) per clip, straight into the (N, out, T·H·W) layout:
        # torch.matmul with a 3-D right side multiplies the transposes and copies the result
        # back (3× slower at 256×12 800).
        if n == 1:
            y = torch.mm(weight, x.reshape(c, t * h * w)).unsqueeze(0)
        else:
            y = torch.bmm(weight.expand(n, -1, -1), x.reshape(n, c, t * h * w))
        if self.bias is not None:
            y = y + self.bias.view(1, -1, 1)
        return y.view(n, self.out_channels, t, h, w)


class MaxPool3d(nn.MaxPool3d):
    """``nn.MaxPool3d`` that, without gradients on a CPU, takes the maximum axis by axis."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if (
            torch.is_grad_enabled()
            or not _cpu_float(x)
            or x.dim() != 5
            or self.return_indices
            or self.ceil_mode
            or _triple(self.dilation) != (1, 1, 1)
        ):
            return super().forward(x)
        kernel, stride = _triple(self.kernel_size), _triple(self.stride or self.kernel_size)
        padding = _triple(self.padding)
        sizes = [
            (x.shape[a] + 2 * padding[a - 2] - kernel[a - 2]) // stride[a - 2] + 1
            for a in (2, 3, 4)
        ]
        if min(sizes) < 1 or any(2 * p > k for p, k in zip(padding, kernel, strict=True)):
            return super().forward(x)  # torch's own error for an empty output or a wide pad
        out = x
        for axis in (4, 3, 2):  # W first: each pass shrinks what the next one reads
            k, s, p = kernel[axis - 2], stride[axis - 2], padding[axis - 2]
            if k != 1 or s != 1:
                out = _max_along(out, axis, k, s, p)
        # a 1×1×1 pool with stride 1 is a copy in torch too: never hand back the input itself
        return out.clone() if out is x else out


def _max_along(x: torch.Tensor, axis: int, kernel: int, stride: int, pad: int) -> torch.Tensor:
    """Max pooling of ``x`` along one axis; padded places never win (torch pads with -inf)."""
    length = x.shape[axis]
    n = (length + 2 * pad - kernel) // stride + 1
    spans = []  # (first output, last output) reading inside the input, per kernel offset
    for j in range(kernel):
        # Output i reads input i*stride - pad + j.
        first, last = max(0, -((j - pad) // stride)), min(n - 1, (length - 1 - j + pad) // stride)
        if first <= last:
            spans.append((first, last, j))
    spans.sort(key=lambda span: span[0] - span[1])  # a full span first: it needs no -inf fill

    def taken(first: int, last: int, j: int) -> torch.Tensor:
        view = x.narrow(axis, first * stride - pad + j, (last - first) * stride + 1)
        if stride == 1:
            return view
        index = [slice(None)] * x.dim()
        index[axis] = slice(None, None, stride)
        return view[tuple(index)]

    first, last, j = spans[0]  # kernel > pad (torch's rule), so some offset reads the input
    if (first, last) == (0, n - 1):
        out = taken(first, last, j).clone(memory_format=torch.contiguous_format)
    else:
        shape = (*x.shape[:axis], n, *x.shape[axis + 1 :])
        out = torch.full(shape, float("-inf"), dtype=x.dtype)
        spans.insert(0, spans[0])
    for first, last, j in spans[1:]:
        target = out.narrow(axis, first, last - first + 1)
        torch.maximum(target, taken(first, last, j), out=target)
    return out


def _triple(value: int | tuple[int, ...]) -> tuple[int, int, int]:
    if isinstance(value, int):
        return (value, value, value)
    return (int(value[0]), int(value[1]), int(value[2]))
