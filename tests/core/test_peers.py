"""Our conventions against the peer libraries themselves, where they are installed.

onnxruntime and OpenCV are not dependencies of this project (they are large and the
conventions note already records their behaviour); these tests run wherever the
libraries happen to be importable, e.g. on a GPU machine's image, and are skipped
with the reason shown elsewhere.
"""

import numpy as np
import pytest
import torch

from lrn_core import lrn

onnx = pytest.importorskip("onnx", reason="onnx is not installed (optional peer check)")


def _lrn_model(size, alpha, beta, bias, shape):
    from onnx import TensorProto, helper

    node = helper.make_node("LRN", ["x"], ["y"], size=size, alpha=alpha, beta=beta, bias=bias)
    graph = helper.make_graph(
        [node], "lrn",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(shape))],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


X = torch.rand(2, 9, 6, 5) * 3
PARAMS = [(1, 0.5, 0.75, 1.0), (3, 1.0, 0.75, 2.0), (5, 2.0, 0.6, 1.5), (7, 0.3, 1.0, 0.5)]


@pytest.mark.parametrize("size, alpha, beta, k", PARAMS)
def test_onnxruntime_matches_onnx_convention(size, alpha, beta, k):
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed")
    model = _lrn_model(size, alpha, beta, k, X.shape)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    (theirs,) = session.run(None, {"x": X.numpy()})
    ours = lrn(X, size, alpha, beta, k, convention="onnx")
    np.testing.assert_allclose(ours.numpy(), theirs, rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("size, alpha, beta, k", PARAMS)
def test_opencv_matches_opencv_convention_across(size, alpha, beta, k):
    cv2 = pytest.importorskip("cv2", reason="OpenCV is not installed")
    model = _lrn_model(size, alpha, beta, k, X.shape)
    net = cv2.dnn.readNetFromONNX(np.frombuffer(model.SerializeToString(), dtype=np.uint8))
    net.setInput(X.numpy())
    theirs = net.forward()
    ours = lrn(X, size, alpha, beta, k, convention="opencv")
    np.testing.assert_allclose(ours.numpy(), theirs, rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("size, alpha, beta", [(3, 1.0, 0.75), (5, 2.0, 0.5)])
def test_opencv_within_channel_from_a_caffe_model(size, alpha, beta, tmp_path):
    # OpenCV imports Caffe's LRN with k = 1 (a known defect, docs/conventions.md), so k = 1 here.
    cv2 = pytest.importorskip("cv2", reason="OpenCV is not installed")
    if not hasattr(cv2.dnn, "readNetFromCaffe"):
        pytest.skip(f"OpenCV {cv2.__version__} has no Caffe importer (removed in 5.0)")
    n, c, h, w = X.shape
    prototxt = tmp_path / "lrn.prototxt"
    prototxt.write_text(
        f'name: "lrn"\ninput: "data"\ninput_shape {{ dim: {n} dim: {c} dim: {h} dim: {w} }}\n'
        f'layer {{ name: "norm" type: "LRN" bottom: "data" top: "norm"\n'
        f'  lrn_param {{ local_size: {size} alpha: {alpha} beta: {beta} '
        f'norm_region: WITHIN_CHANNEL }} }}\n'
    )
    net = cv2.dnn.readNetFromCaffe(str(prototxt))
    net.setInput(X.numpy())
    theirs = net.forward()
    for convention in ("opencv", "caffe"):
        ours = lrn(X, size, alpha, beta, 1.0, mode="within", convention=convention)
        np.testing.assert_allclose(ours.numpy(), theirs, rtol=2e-5, atol=1e-6)
