"""One-off export of the bundled all-MiniLM-L6-v2 weights to ONNX (and an int8 variant).

Runs in its own process (`python -m orchestrator.embedding.onnx_export --out DIR`), started by
`onnx_minilm.ensure_model` the first time a cache directory lacks the model, or by
`make embed-model` at install time. This is the only place that imports torch and
transformers; the serving process never does. Needs the `onnx` package (the exporter and the
quantizer write through it).

The graph takes `input_ids`, `attention_mask`, `token_type_ids` (int64, [batch, seq]) and
returns `last_hidden_state` (float32, [batch, seq, 384]); pooling and normalisation are done by
the embedder in numpy, as sentence-transformers does them.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

OPSET = 17
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
OUTPUT = "last_hidden_state"
# Exported graphs must reproduce the torch model on these before they are published.
PROBES = (
    "create a task in ClickUp for tomorrow",
    "Wie spät ist es in Tokio?",
    "https://example.com/invoices?status=overdue&page=2",
    "a much longer request " * 60,
)
MIN_PROBE_COSINE = 0.99999


def export_fp32(model_dir: Path, target: Path) -> None:
    """Trace the bundled BertModel to `target` (atomically), then check it against torch."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    model = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))

    class LastHidden(torch.nn.Module):
        """Embeddings + encoder with an additive mask built here: transformers' own mask
        helpers branch in Python on shapes, which tracing would freeze into the graph."""

        def __init__(self, bert: Any) -> None:  # a transformers BertModel
            super().__init__()
            self.bert = bert

        def forward(
            self,
            input_ids: torch.Tensor,
            attention_mask: torch.Tensor,
            token_type_ids: torch.Tensor,
        ) -> torch.Tensor:
            hidden = self.bert.embeddings(input_ids=input_ids, token_type_ids=token_type_ids)
            keep = attention_mask[:, None, None, :].to(hidden.dtype)
            additive = (1.0 - keep) * torch.finfo(hidden.dtype).min
            return self.bert.encoder(hidden, attention_mask=additive).last_hidden_state

    sample = tokenizer(
        ["a sample", "another, longer sample text"], padding=True, return_tensors="pt"
    )
    args = tuple(sample[name] for name in INPUTS)
    axes = {name: {0: "batch", 1: "sequence"} for name in (*INPUTS, OUTPUT)}
    probes = tokenizer(
        list(PROBES), padding=True, truncation=True, max_length=256, return_tensors="pt"
    )
    partial = target.with_suffix(".partial")
    with torch.inference_mode():
        # The reference comes first: the tracer leaves the module unfit to run afterwards.
        reference = model(**probes).last_hidden_state.numpy()
        torch.onnx.export(
            LastHidden(model),
            args,
            str(partial),
            input_names=list(INPUTS),
            output_names=[OUTPUT],
            dynamic_axes=axes,
            opset_version=OPSET,
            do_constant_folding=True,
            dynamo=False,
        )
    check(partial, {k: probes[k].numpy() for k in INPUTS}, reference)
    os.replace(partial, target)


def check(path: Path, feeds: dict[str, np.ndarray], reference: np.ndarray) -> None:
    """Pooled ONNX vectors must match the torch ones (cosine >= MIN_PROBE_COSINE)."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    hidden = session.run([OUTPUT], {k: v.astype(np.int64) for k, v in feeds.items()})[0]
    mask = feeds["attention_mask"][..., None].astype(np.float32)

    def pool(x: np.ndarray) -> np.ndarray:
        v = (x * mask).sum(axis=1) / mask.sum(axis=1)
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    cosine = float((pool(hidden) * pool(reference)).sum(axis=1).min())
    if cosine < MIN_PROBE_COSINE:
        raise RuntimeError(f"exported model disagrees with torch: min cosine {cosine:.6f}")
    log.info("onnx_export_checked min_cosine=%.7f", cosine)


def quantize_int8(source: Path, target: Path) -> None:
    """Dynamic int8 quantisation of the weight MatMuls, per channel (attention's
    activation-by-activation MatMuls stay float: quantising them costs far more accuracy)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    partial = target.with_suffix(".partial")
    quantize_dynamic(
        str(source),
        str(partial),
        weight_type=QuantType.QInt8,
        op_types_to_quantize=["MatMul"],
        per_channel=True,
        extra_options={"MatMulConstBOnly": True},
    )
    os.replace(partial, target)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, help="bundled weights (default: the package's)")
    parser.add_argument("--out", type=Path, required=True, help="directory for the .onnx files")
    parser.add_argument("--int8", action="store_true", help="also write the int8 variant")
    ns = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(message)s")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

    from orchestrator.embedding.onnx_minilm import FP32_NAME, INT8_NAME, bundled_model_dir

    model_dir = ns.model_dir or bundled_model_dir()
    ns.out.mkdir(parents=True, exist_ok=True)
    fp32 = ns.out / FP32_NAME
    started = time.perf_counter()
    if not fp32.exists():
        export_fp32(model_dir, fp32)
        log.info("onnx_exported path=%s seconds=%.1f", fp32, time.perf_counter() - started)
    if ns.int8 and not (ns.out / INT8_NAME).exists():
        quantize_int8(fp32, ns.out / INT8_NAME)
        log.info("onnx_quantized path=%s", ns.out / INT8_NAME)
    (ns.out / "source.json").write_text(
        json.dumps({"model_dir": str(model_dir), "opset": OPSET}, indent=2) + "\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
