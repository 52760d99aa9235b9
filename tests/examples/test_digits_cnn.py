"""The example's building blocks, in process: network shapes, checkpoints, data split, PNG."""

from __future__ import annotations

import io
import struct
import zlib
from collections import Counter
from pathlib import Path

import pytest

from tests.examples.support import gpu, require_torch

# The example's own code, which needs torch and scikit-learn (installed for the example only,
# .ci/setup.d/25-example.sh): importing them takes seconds of CPU, so each test imports what it
# uses, and collecting the module (which the fast lane deselects) stays cheap.
pytestmark = pytest.mark.examples


@pytest.fixture(scope="module", autouse=True)
def torch_installed() -> None:
    require_torch()


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """Split a PNG into (type, payload) chunks, checking every CRC on the way."""
    from digits_cnn.png import PNG_SIGNATURE

    assert data[:8] == PNG_SIGNATURE
    chunks, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, payload = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + payload), kind
        chunks.append((kind, payload))
        pos += 12 + length
    return chunks


@pytest.mark.parametrize("conv_size", [1, 2, 3, 4, 5, 7])
def test_same_padding_halves_8_to_4_to_2_to_1(conv_size: int) -> None:
    import torch
    from digits_cnn.model import DigitsCNN, HParams

    model = DigitsCNN(HParams(conv_size=conv_size))
    x = torch.zeros(5, 1, 8, 8)
    sizes = [tuple(x.shape[-2:])]
    for layer in model.features:
        x = layer(x)
        sizes.append(tuple(x.shape[-2:]))
    assert sorted(set(sizes), reverse=True) == [(8, 8), (4, 4), (2, 2), (1, 1)]
    assert x.shape == (5, 128, 1, 1)


def test_output_is_log_probabilities_over_ten_digits() -> None:
    import torch
    from digits_cnn.model import DigitsCNN, HParams

    model = DigitsCNN(HParams()).eval()
    out = model(torch.rand(7, 1, 8, 8))
    assert out.shape == (7, 10)
    assert torch.allclose(out.exp().sum(dim=1), torch.ones(7), atol=1e-5)


def test_layers_follow_the_keras_convnet() -> None:
    import torch
    from digits_cnn.model import DigitsCNN, HParams

    model = DigitsCNN(HParams(conv_size=5))
    convs = [m for m in model.features if isinstance(m, torch.nn.Conv2d)]
    assert [(c.kernel_size, c.stride) for c in convs] == [((5, 5), (2, 2))] * 3
    kinds = [type(m).__name__ for m in model.classifier]
    assert kinds == ["Flatten", "Dropout", "Linear", "ReLU", "Dropout", "Linear", "LogSoftmax"]
    assert model.classifier[2].out_features == 512


def test_conv_size_zero_is_refused() -> None:
    from digits_cnn.model import DigitsCNN, HParams

    with pytest.raises(ValueError, match="conv_size"):
        DigitsCNN(HParams(conv_size=0))


def test_checkpoint_rebuilds_the_same_network(tmp_path: Path) -> None:
    import torch
    from digits_cnn.model import DigitsCNN, HParams, load_checkpoint, save_checkpoint

    torch.manual_seed(0)
    hp = HParams(conv_size=4)
    model = DigitsCNN(hp).eval()
    save_checkpoint(model, hp, tmp_path / "model.pt")
    loaded, loaded_hp = load_checkpoint(tmp_path / "model.pt", torch.device("cpu"))
    x = torch.rand(3, 1, 8, 8)
    assert loaded_hp == hp
    assert not loaded.training
    assert torch.equal(loaded(x), model(x))


def write_foreign(kind: str, path: Path) -> None:
    import torch
    from digits_cnn.model import DigitsCNN, HParams, save_checkpoint

    if kind == "other torch file":
        torch.save({"weights": torch.zeros(2)}, path)
    elif kind == "wrong weights":
        bad = DigitsCNN(HParams(conv_size=3))
        save_checkpoint(bad, HParams(conv_size=5), path)
    else:
        path.write_bytes(b"" if kind == "empty" else b"plain text")


@pytest.mark.parametrize("kind", ["other torch file", "wrong weights", "empty", "text"])
def test_a_foreign_file_is_not_taken_for_a_model(tmp_path: Path, kind: str) -> None:
    import torch
    from digits_cnn.model import load_checkpoint

    write_foreign(kind, tmp_path / "model.pt")
    with pytest.raises(ValueError, match="not a model file"):
        load_checkpoint(tmp_path / "model.pt", torch.device("cpu"))


def test_a_missing_model_file_is_an_os_error(tmp_path: Path) -> None:
    import torch
    from digits_cnn.model import load_checkpoint

    with pytest.raises(FileNotFoundError):
        load_checkpoint(tmp_path / "missing.pt", torch.device("cpu"))


def test_split_is_stratified_and_fixed_by_the_seed() -> None:
    import torch
    from digits_cnn.data import load_split

    a, b, c = load_split(42), load_split(42), load_split(7)
    assert (len(a.x_train), len(a.x_val)) == (1437, 360)
    assert a.x_val.shape[1:] == (1, 8, 8) and a.x_val.dtype == torch.float32
    assert float(a.x_train.min()) == 0.0 and float(a.x_train.max()) == 1.0
    assert torch.equal(a.x_val, b.x_val) and torch.equal(a.y_val, b.y_val)
    assert not torch.equal(a.y_val, c.y_val)
    val_counts = Counter(a.y_val.tolist())
    assert sorted(val_counts) == list(range(10))
    assert max(val_counts.values()) - min(val_counts.values()) <= 2


def test_evaluate_counts_every_image_once() -> None:
    import torch
    from digits_cnn.data import load_split
    from digits_cnn.evaluate import evaluate
    from digits_cnn.model import DigitsCNN, HParams

    torch.manual_seed(1)
    split = load_split(1)
    ev = evaluate(DigitsCNN(HParams()), split.x_val, split.y_val, torch.device("cpu"))
    assert sum(map(sum, ev.confusion)) == 360
    assert [sum(row) for row in ev.confusion] == [
        Counter(split.y_val.tolist())[d] for d in range(10)
    ]
    assert ev.accuracy == sum(ev.confusion[i][i] for i in range(10)) / 360
    assert ev.loss > 0


def test_devices() -> None:
    import torch
    from digits_cnn.runtime import DeviceUnavailable, choose_device

    assert choose_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert choose_device("auto").type == expected
    with pytest.raises(DeviceUnavailable, match="unknown device"):
        choose_device("tpu")


def test_cuda_without_a_gpu_says_so() -> None:
    if gpu():
        pytest.skip("this machine has a GPU")
    from digits_cnn.runtime import DeviceUnavailable, choose_device

    with pytest.raises(DeviceUnavailable, match="no CUDA GPU"):
        choose_device("cuda")


def test_png_is_valid_rgb_with_the_given_pixels() -> None:
    from digits_cnn.png import png_bytes

    pixels = bytes([255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9])  # 2x2: red, green / blue, grey
    data = png_bytes(2, 2, pixels)
    chunks = png_chunks(data)
    assert [kind for kind, _ in chunks] == [b"IHDR", b"IDAT", b"IEND"]
    assert struct.unpack(">IIBBBBB", chunks[0][1]) == (2, 2, 8, 2, 0, 0, 0)
    assert zlib.decompress(chunks[1][1]) == b"\x00" + pixels[:6] + b"\x00" + pixels[6:]
    with pytest.raises(ValueError):
        png_bytes(3, 2, pixels)


def test_confusion_png_opens_as_an_image_with_dark_diagonal() -> None:
    from digits_cnn.png import confusion_png

    image_mod = pytest.importorskip("PIL.Image")
    confusion = [[10 if i == j else 0 for j in range(10)] for i in range(10)]
    confusion[3][5] = 10  # half of row 3 is wrong: a mid-tone cell off the diagonal
    img = image_mod.open(io.BytesIO(confusion_png(confusion))).convert("RGB")
    assert img.size[0] == img.size[1] >= 300
    from digits_cnn.png import CELL, MARGIN

    def corner(row: int, col: int) -> tuple[int, int, int]:  # a cell pixel clear of its text
        px: tuple[int, int, int] = img.getpixel((MARGIN + col * CELL + 2, MARGIN + row * CELL + 2))
        return px

    assert corner(0, 0) == (8, 48, 107)
    assert corner(0, 1) == (255, 255, 255)
    assert sum(corner(3, 5)) < sum(corner(0, 1)) and sum(corner(3, 5)) > sum(corner(0, 0))
