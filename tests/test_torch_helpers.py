"""Torch helpers: device/dtype/positivity checks, eval mode restored exactly, and the layers of
Llama-, GPT-2- and BERT-style models found in one way."""

import math

import pytest
import torch
from torch import nn
from transformers import (
    BertConfig,
    BertForSequenceClassification,
    GPT2Config,
    GPT2LMHeadModel,
    LlamaConfig,
    LlamaForCausalLM,
)

from toolkit._torch import (
    check_device,
    check_dtype,
    check_module,
    check_positive,
    decoder_layers,
    eval_mode,
)

TINY = {"vocab_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2}


def test_check_device_returns_a_torch_device():
    assert check_device("device", "cpu") == torch.device("cpu")
    assert check_device("device", torch.device("cpu")) == torch.device("cpu")
    assert check_device("device", None, allow_none=True) is None


@pytest.mark.parametrize("device", [None, 1.5, True, ["cpu"]])
def test_check_device_wrong_type(device):
    with pytest.raises(TypeError, match="where must be a str or torch.device"):
        check_device("where", device)


@pytest.mark.parametrize(
    ("device", "match"),
    [("gpu", "where 'gpu' is not a torch device"), ("cuda:99", "no CUDA GPU with index 99")],
)
def test_check_device_wrong_value(device, match):
    with pytest.raises(ValueError, match=match):
        check_device("where", device)


def test_check_dtype():
    assert check_dtype("dtype", torch.float16) is torch.float16
    assert check_dtype("dtype", torch.float64, (torch.float32, torch.float64)) is torch.float64
    with pytest.raises(TypeError, match="dtype must be a torch.dtype"):
        check_dtype("dtype", "float32")
    with pytest.raises(ValueError, match="dtype must be one of"):
        check_dtype("dtype", torch.float16, (torch.float32, torch.float64))


def test_check_positive_numbers_and_tensors():
    assert check_positive("mass", 2) == 2.0
    masses = torch.tensor([0.5, 1.0])
    assert check_positive("mass", masses, maximum=2.0) is masses
    with pytest.raises(TypeError, match="mass must be a number"):
        check_positive("mass", True)
    with pytest.raises(TypeError, match="mass must be a floating-point tensor"):
        check_positive("mass", torch.tensor([1, 2]))


@pytest.mark.parametrize(
    ("value", "maximum", "match"),
    [
        (-1.0, None, r"mass must be finite and > 0, got -1.0"),
        (math.nan, None, "mass must be a finite number"),
        (torch.tensor([1.0, 0.0]), None, r"mass\[1\] must be finite and > 0"),
        (torch.tensor([[1.0], [math.inf]]), None, r"mass\[1, 0\] must be finite"),
        (torch.tensor([0.5, 1.0]), 1.0, r"mass\[1\] must be finite and in \(0, 1.0\)"),
    ],
)
def test_check_positive_names_the_first_bad_entry(value, maximum, match):
    with pytest.raises(ValueError, match=match):
        check_positive("mass", value, maximum=maximum)


def test_eval_mode_restores_each_flag_even_on_error():
    model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5), nn.Sequential(nn.Dropout(0.5)))
    model[2].eval()
    before = [module.training for module in model.modules()]
    with eval_mode(model) as inside:
        assert inside is model
        assert not any(module.training for module in model.modules())
    assert [module.training for module in model.modules()] == before
    with pytest.raises(RuntimeError, match="boom"), eval_mode(model):
        raise RuntimeError("boom")
    assert [module.training for module in model.modules()] == before


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (
            lambda: LlamaForCausalLM(
                LlamaConfig(**TINY, hidden_size=8, intermediate_size=16, num_key_value_heads=2)
            ),
            lambda model: model.model.layers,
        ),
        (
            lambda: GPT2LMHeadModel(GPT2Config(vocab_size=32, n_layer=2, n_head=2, n_embd=8)),
            lambda model: model.transformer.h,
        ),
        (
            lambda: BertForSequenceClassification(
                BertConfig(**TINY, hidden_size=8, intermediate_size=16)
            ),
            lambda model: model.bert.encoder.layer,
        ),
    ],
    ids=["llama", "gpt2", "bert"],
)
def test_decoder_layers_of_each_family(build, expected):
    model = build()
    layers = decoder_layers(model)
    assert layers is expected(model)
    assert len(layers) == 2
    assert decoder_layers(model.base_model) is layers


def test_decoder_layers_of_a_plain_module():
    class Stack(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([nn.Linear(2, 2)])

    model = Stack()
    assert decoder_layers(model) is model.layers


@pytest.mark.parametrize("model", [nn.Linear(2, 2), nn.Sequential(nn.ModuleList())])
def test_decoder_layers_names_an_unknown_model(model):
    with pytest.raises(ValueError, match=f"cannot find the layers of {type(model).__name__}"):
        decoder_layers(model)


def test_decoder_layers_refuses_a_non_module():
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        decoder_layers("gpt2")


def test_check_module():
    linear = nn.Linear(1, 1)
    assert check_module("model", linear) is linear
    with pytest.raises(TypeError, match="encoder must be a torch.nn.Module, got 'gpt2' \\(str\\)"):
        check_module("encoder", "gpt2")
