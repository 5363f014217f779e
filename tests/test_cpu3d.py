"""The CPU kernels of ``models._cpu3d`` give torch's own results: max pooling exactly, the
convolutions to float rounding, gradients included; and the faster kernel is the one taken."""

from __future__ import annotations

import itertools

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.profiler import profile

from ethoclip.models._cpu3d import Conv3d, MaxPool3d

SHAPES = [(1, 2, 5, 7, 9), (2, 3, 4, 8, 8), (1, 1, 1, 5, 5), (1, 4, 8, 11, 10)]


POOLS = list(
    itertools.product(
        [1, 2, 3, (1, 3, 3), (3, 1, 1), (2, 1, 1), 4], [1, 2, 3, (1, 2, 2), None], [0, 1, 2]
    )
)


@pytest.mark.parametrize(("kernel", "stride", "pad"), POOLS)
def test_max_pool_is_torchs_exactly(kernel: object, stride: object, pad: int) -> None:
    torch.manual_seed(0)
    k = (kernel,) * 3 if isinstance(kernel, int) else kernel
    allowed = all(pad <= side // 2 for side in k)  # type: ignore[attr-defined]
    checked = 0
    for shape in SHAPES:
        x = torch.randn(*shape)
        x[x < -0.5] = 0.0  # ties, as after a ReLU
        theirs = nn.MaxPool3d(kernel, stride, pad)  # type: ignore[arg-type]
        ours = MaxPool3d(kernel, stride, pad)  # type: ignore[arg-type]
        try:
            want = theirs(x)
        except RuntimeError:  # an empty output, or a pad over half the kernel: so do we refuse
            with torch.no_grad(), pytest.raises(RuntimeError):
                ours(x)
            continue
        with torch.no_grad():
            got = ours(x)
        assert got.shape == want.shape and torch.equal(got, want), (shape, kernel, stride, pad)
        assert got.data_ptr() != x.data_ptr() and got.is_contiguous()
        checked += 1
    assert checked >= 2 if allowed else checked == 0


def test_max_pool_leaves_its_input_and_nan() -> None:
    x = torch.randn(1, 3, 4, 6, 6)
    x[0, 1, 2, 3, 3] = float("nan")
    before = x.clone()
    with torch.no_grad():
        got = MaxPool3d((1, 3, 3), (1, 2, 2), (0, 1, 1))(x)
    assert torch.allclose(x, before, rtol=0, atol=0, equal_nan=True)  # the input is untouched
    want = F.max_pool3d(x, (1, 3, 3), (1, 2, 2), (0, 1, 1))
    assert torch.equal(got.isnan(), want.isnan()) and bool(got.isnan().any())
    assert torch.allclose(got, want, rtol=0, atol=0, equal_nan=True)


def test_max_pool_with_gradients_is_torchs_own() -> None:
    x = torch.randn(2, 3, 4, 8, 8, requires_grad=True)
    pool = MaxPool3d((1, 3, 3), (1, 2, 2), (0, 1, 1))
    (grad,) = torch.autograd.grad(pool(x).square().sum(), x)
    (want,) = torch.autograd.grad(
        F.max_pool3d(x, (1, 3, 3), (1, 2, 2), (0, 1, 1)).square().sum(), x
    )
    assert torch.equal(grad, want)


def test_max_pool_keeps_torchs_options() -> None:
    x = torch.randn(1, 2, 5, 7, 7)
    with torch.no_grad():
        for kwargs in ({"ceil_mode": True}, {"dilation": 2}):
            got = MaxPool3d(2, 2, **kwargs)(x)  # type: ignore[arg-type]
            assert torch.equal(got, nn.MaxPool3d(2, 2, **kwargs)(x))  # type: ignore[arg-type]
        out, index = MaxPool3d(2, 2, return_indices=True)(x)
        want, want_index = nn.MaxPool3d(2, 2, return_indices=True)(x)
        assert torch.equal(out, want) and torch.equal(index, want_index)


CONVS = [
    # (in, out, kernel, stride, padding, groups, bias)
    (4, 6, 1, 1, 0, 1, True),
    (4, 6, 1, (1, 2, 2), 0, 1, False),
    (4, 6, 1, 2, 0, 1, True),
    (4, 6, 3, 1, 1, 1, True),
    (4, 4, 3, 2, 1, 4, False),  # depthwise (CSN)
    (4, 6, (1, 3, 3), 1, (0, 1, 1), 2, True),
    (4, 6, (3, 1, 1), 1, (1, 0, 0), 1, False),
    (3, 5, (3, 7, 7), (1, 2, 2), (1, 3, 3), 1, False),  # a stem
    (4, 6, 1, 1, 1, 1, True),  # pointwise with padding: not a plain matrix product
]


@pytest.mark.parametrize(("cin", "cout", "kernel", "stride", "pad", "groups", "bias"), CONVS)
@pytest.mark.parametrize("batch", [1, 3])
def test_conv_is_torchs_to_rounding(
    cin: int,
    cout: int,
    kernel: object,
    stride: object,
    pad: object,
    groups: int,
    bias: bool,
    batch: int,
) -> None:
    torch.manual_seed(1)
    ours = Conv3d(cin, cout, kernel, stride, pad, groups=groups, bias=bias)  # type: ignore[arg-type]
    x = torch.randn(batch, cin, 5, 9, 11, requires_grad=True)
    got = ours(x)
    want = F.conv3d(x, ours.weight, ours.bias, ours.stride, ours.padding, ours.dilation, groups)
    assert got.shape == want.shape and got.is_contiguous()
    # float32 rounding of sums of up to 4·3·7·7 products, in another order: ≤ 1e-6 of the largest
    assert (got - want).abs().max() <= 1e-6 * want.abs().max()
    seed = torch.randn_like(want)
    ours_grads = torch.autograd.grad(got, [x, ours.weight], seed)
    want_grads = torch.autograd.grad(want, [x, ours.weight], seed)
    for a, b in zip(ours_grads, want_grads, strict=True):
        assert (a - b).abs().max() <= 1e-6 * b.abs().max()


def test_conv_is_a_conv3d_with_its_keys_and_float64_is_torchs_own() -> None:
    ours, theirs = Conv3d(4, 6, 3, padding=1), nn.Conv3d(4, 6, 3, padding=1)
    assert isinstance(ours, nn.Conv3d) and list(ours.state_dict()) == list(theirs.state_dict())
    theirs.load_state_dict(ours.state_dict())
    x = torch.randn(1, 4, 3, 6, 6, dtype=torch.float64)
    ours, theirs = ours.double(), theirs.double()
    assert torch.equal(ours(x), theirs(x))  # not float32: the parent's own forward


def test_cpu_autocast_keeps_torchs_casts() -> None:
    """Under CPU autocast torch's conv3d runs in bf16; these do the same, not float32."""
    x = torch.randn(1, 4, 3, 8, 8)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        for module in (Conv3d(4, 6, 3, padding=1), Conv3d(4, 6, 1)):
            assert module(x).dtype == nn.Conv3d.forward(module, x).dtype == torch.bfloat16


def _kernels(module: nn.Module, x: torch.Tensor) -> set[str]:
    with torch.no_grad(), profile() as prof:
        module(x)
    return {event.key for event in prof.key_averages()}


def test_the_faster_kernel_is_taken() -> None:
    """torch sends this one-clip 3×3×3 conv (N·C·T·H = 20 480) to ``slow_conv3d`` and the
    pointwise one (above the size rule) to oneDNN; here they take oneDNN and a GEMM."""
    x = torch.randn(1, 64, 8, 40, 40)
    dense = Conv3d(64, 64, 3, padding=1, bias=False)
    if torch.backends.mkldnn.is_available():
        assert "aten::slow_conv3d_forward" in _kernels(nn.Conv3d(64, 64, 3, padding=1), x)
        taken = _kernels(dense, x)
        assert "aten::mkldnn_convolution" in taken and "aten::slow_conv3d_forward" not in taken
    pointwise = _kernels(Conv3d(64, 256, 1, bias=False), torch.randn(1, 64, 8, 48, 48))
    assert "aten::mm" in pointwise and "aten::mkldnn_convolution" not in pointwise
    pooled = _kernels(MaxPool3d((1, 3, 3), (1, 2, 2), (0, 1, 1)), x)
    assert "aten::max_pool3d_with_indices" not in pooled and "aten::maximum" in pooled
