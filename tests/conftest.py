import pytest
import torch

_DEVICES = [
    "cpu",
    pytest.param(
        "cuda",
        marks=pytest.mark.skipif(not torch.cuda.is_available(),
                                 reason="CUDA is not available on this machine"),
    ),
]


@pytest.fixture(params=_DEVICES)
def device(request):
    """Each test that takes `device` runs on the CPU and, where present, on CUDA."""
    return torch.device(request.param)
