"""The CI subset of the torchvision conformance table (issue #13): small
members of four families, built from torchvision's own blocks, through the
same checks as tools/conformance/torchvision_families.py:
  - inference: the eval export from each exporter against onnxruntime;
  - training: the TorchScript train-mode export, one SGD step (lr 1), loss
    and gradients against PyTorch autograd in float64 (1e-4 of the largest).
The four: MobileNet v2 (depthwise convolutions), ConvNeXt (stochastic
depth, depthwise 7x7, LayerNorm over channels), Swin (shifted windows: the
window mask built by ScatterND, padding computed from shapes, roll), and a
ViT on nn.TransformerEncoder.
"""
import importlib.util
import warnings

import pytest

from conftest import ROOT, build_dir

spec = importlib.util.spec_from_file_location(
    "torchvision_families", ROOT / "tools" / "conformance" / "torchvision_families.py")
families = importlib.util.module_from_spec(spec)
spec.loader.exec_module(families)

MODELS = [("small_mobilenet_v2", 32), ("small_convnext", 32), ("small_swin", 32),
          ("small_encoder_vit", 32)]


@pytest.fixture(autouse=True)
def tools_and_warnings(monkeypatch):
    monkeypatch.setattr(families, "BIN", build_dir() / "bin")
    warnings.filterwarnings("ignore")


@pytest.mark.parametrize("exporter", ["torchscript", "dynamo"])
@pytest.mark.parametrize("name,size", MODELS)
def test_inference_matches_onnxruntime(name, size, exporter, tmp_path):
    result, _, _ = families.check_inference(name, size, exporter, tmp_path)
    assert result == "ok", f"{name} ({exporter}): {result}"


@pytest.mark.parametrize("name,size", MODELS)
def test_training_step_matches_autograd(name, size, tmp_path):
    result, _, _ = families.check_training(name, size, "torchscript", tmp_path)
    assert result == "ok", f"{name}: {result}"
