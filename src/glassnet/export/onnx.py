"""ONNX export: a glassnet model as an inference graph for onnxruntime and other runtimes.

The graph is built node by node with ``onnx.helper``, in float32:

* input ``X`` of shape (batch, in_features), raw features;
* when the model stores a standardisation, ``Sub`` (mean) and ``Div`` (scale);
* per Dense layer ``MatMul`` with ``W`` of shape (in_features, out_features)
  and ``Add`` with ``b``, then the activation: ``Relu``, ``LeakyRelu``,
  ``Sigmoid``, ``Tanh``, ``Softmax`` (over axis 1) or ``Identity``. Dropout is
  the identity at inference and is left out;
* the outputs, which depend on the model:

  - a bare network: ``output``, the network's output;
  - a regressor: ``output``, mapped back to target units when the model
    stores a target scaling, of shape (batch,) when the estimator was fitted
    on a 1-D target;
  - a classifier: ``probabilities`` of shape (batch, n_classes) in class
    order (a single sigmoid unit p becomes the columns 1 - p and p) and
    ``label``, the most probable class name (int64 when every name is an
    integer, else string).

The metadata (``metadata_props``) records the glassnet version, the task,
the class names and feature names as JSON, and how the inputs are scaled.
"""

from __future__ import annotations

import json
from typing import Any, cast

import numpy as np

from .. import __version__
from ..errors import InvalidInputError, require
from ..layers import Dense, LeakyReLU
from ..serialization import atomic_write_bytes
from ._source import ExportSource, export_source

ONNX_ACTIVATIONS = {
    "relu": "Relu",
    "leaky_relu": "LeakyRelu",
    "sigmoid": "Sigmoid",
    "tanh": "Tanh",
    "softmax": "Softmax",
    "identity": "Identity",
}
MIN_OPSET = 13  # Softmax over a single axis and Squeeze with an axes input start at opset 13.


class _GraphBuilder:
    """Collects nodes and constant tensors with unique names."""

    def __init__(self, helper: Any, numpy_helper: Any) -> None:
        self.helper = helper
        self.numpy_helper = numpy_helper
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []

    def constant(self, name: str, value: np.ndarray) -> str:
        self.initializers.append(self.numpy_helper.from_array(value, name=name))
        return name

    def node(self, operator: str, inputs: list[str], output: str, **attributes: Any) -> str:
        self.nodes.append(self.helper.make_node(operator, inputs, [output], name=f"{operator}_{output}",
                                                **attributes))
        return output


def to_onnx(model: Any, path: Any = None, *, opset: int = 17) -> Any:
    """Convert a glassnet model to ONNX, check it, and optionally write it atomically.

    Parameters
    ----------
    model : Sequential, glassnet.model.Model, GlassClassifier or GlassRegressor
        A fitted estimator or model; a bare network is exported as is.
    path : str or os.PathLike, optional
        Where to write the ``.onnx`` file. The file is written to a temporary
        name and renamed, so an existing file is never left half written.
    opset : int, default=17
        ONNX operator set version, >= 13.

    Returns
    -------
    onnx.ModelProto
        The model, already checked by ``onnx.checker.check_model``.
    """
    onnx = require("onnx", "onnx", "ONNX export")
    from onnx import TensorProto, helper, numpy_helper

    # The installed onnx package supports operator sets up to onnx_opset_version();
    # a file declaring a later one is rejected by onnxruntime.
    newest = onnx.defs.onnx_opset_version()
    if isinstance(opset, bool) or not isinstance(opset, int) or not MIN_OPSET <= opset <= newest:
        raise InvalidInputError(
            f"opset={opset!r} is not supported; use an integer >= {MIN_OPSET} and <= {newest} "
            "(the newest this onnx package supports), e.g. 17"
        )
    source = export_source(model)
    network = source.network
    builder = _GraphBuilder(helper, numpy_helper)

    current = _standardise(builder, source)
    current = _network_nodes(builder, source, current)
    outputs = _output_nodes(builder, source, current, TensorProto)

    graph = helper.make_graph(
        builder.nodes,
        "glassnet",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["batch", network.in_features])],
        outputs,
        initializer=builder.initializers,
    )
    proto = helper.make_model(graph, producer_name="glassnet", producer_version=__version__,
                              opset_imports=[helper.make_opsetid("", opset)])
    # An IR version that released onnxruntime builds accept; make_model uses the newest the onnx package supports.
    proto.ir_version = 8
    proto.doc_string = f"glassnet {source.kind} exported for inference"
    helper.set_model_props(proto, _metadata(source))
    onnx.checker.check_model(proto, full_check=True)
    if path is not None:
        atomic_write_bytes(path, proto.SerializeToString())
    return proto


def _standardise(builder: _GraphBuilder, source: ExportSource) -> str:
    if source.mean is None or source.scale is None:
        return "X"
    mean = np.asarray(source.mean, dtype=np.float32).reshape(1, -1)
    scale = np.asarray(source.scale, dtype=np.float32).reshape(1, -1)
    centred = builder.node("Sub", ["X", builder.constant("input_mean", mean)], "X_centred")
    return builder.node("Div", [centred, builder.constant("input_scale", scale)], "X_standardised")


def _network_nodes(builder: _GraphBuilder, source: ExportSource, current: str) -> str:
    """Add one MatMul and Add per Dense layer and one node per activation; return the output name."""
    for layer in source.network.layers:
        if isinstance(layer, Dense):
            k = layer.number
            W = builder.constant(f"W{k}", np.asarray(layer.params["W"], dtype=np.float32))
            b = builder.constant(f"b{k}", np.asarray(layer.params["b"], dtype=np.float32))
            product = builder.node("MatMul", [current, W], f"x_W{k}")  # (batch, in) · (in, out)
            current = builder.node("Add", [product, b], f"z{k}")
        elif layer.kind == "dropout":
            continue
        elif layer.kind in ONNX_ACTIVATIONS:
            operator = ONNX_ACTIVATIONS[layer.kind]
            attributes: dict[str, Any] = {}
            if layer.kind == "leaky_relu":
                attributes["alpha"] = float(cast(LeakyReLU, layer).alpha)
            elif layer.kind == "softmax":
                attributes["axis"] = 1
            current = builder.node(operator, [current], f"a{layer.number}", **attributes)
        else:
            raise NotImplementedError(
                f"layer {layer.name} of kind {layer.kind!r} has no ONNX export; supported: dense, dropout, "
                + ", ".join(ONNX_ACTIVATIONS)
            )
    return current


def _output_nodes(builder: _GraphBuilder, source: ExportSource, current: str, TensorProto: Any) -> list[Any]:
    helper = builder.helper
    width = source.network.out_features
    if source.task == "network":
        builder.node("Identity", [current], "output")
        return [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", width])]

    if source.task == "regression":
        if source.target_scale is not None and source.target_mean is not None:
            scale = np.asarray(source.target_scale, dtype=np.float32).reshape(1, -1)
            mean = np.asarray(source.target_mean, dtype=np.float32).reshape(1, -1)
            scaled = builder.node("Mul", [current, builder.constant("target_scale", scale)], "y_scaled")
            current = builder.node("Add", [scaled, builder.constant("target_mean", mean)], "y_units")
        if source.squeeze_output:
            axes = builder.constant("squeeze_axes", np.array([1], dtype=np.int64))
            builder.node("Squeeze", [current, axes], "output")
            return [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch"])]
        builder.node("Identity", [current], "output")
        return [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", width])]

    class_names = source.class_names or []
    if width == 1:
        one = builder.constant("one", np.ones((1, 1), dtype=np.float32))
        negative = builder.node("Sub", [one, current], "p_negative")
        builder.node("Concat", [negative, current], "probabilities", axis=1)
    else:
        builder.node("Identity", [current], "probabilities")
    n_classes = max(width, 2)
    if len(class_names) != n_classes:
        raise InvalidInputError(
            f"the model has {len(class_names)} class names but its network gives {n_classes} class "
            "probabilities; refit or reload the model"
        )
    index = builder.node("ArgMax", ["probabilities"], "class_index", axis=1, keepdims=0)
    if _all_integers(class_names):
        labels = np.array([int(name) for name in class_names], dtype=np.int64)
        label_type = TensorProto.INT64
    else:
        labels = np.array([str(name) for name in class_names], dtype=object)
        label_type = TensorProto.STRING
    builder.node("Gather", [builder.constant("class_names", labels), index], "label", axis=0)
    return [
        helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", n_classes]),
        helper.make_tensor_value_info("label", label_type, ["batch"]),
    ]


def _all_integers(values: list[Any]) -> bool:
    return all(isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)) for value in values)


def _metadata(source: ExportSource) -> dict[str, str]:
    standardisation = "none"
    if source.mean is not None:
        standardisation = "(X - input_mean) / input_scale, as the Sub and Div nodes at the start of the graph"
    metadata = {
        "glassnet_version": __version__,
        "glassnet_model": source.kind,
        "task": source.task,
        "input_standardisation": standardisation,
        "dtype": "float32",
    }
    if source.class_names is not None:
        metadata["class_names"] = json.dumps([_json_label(name) for name in source.class_names])
    if source.feature_names:
        metadata["feature_names"] = json.dumps(source.feature_names)
    if source.target_mean is not None:
        metadata["target_scaling"] = "output = network output * target_scale + target_mean, in the graph"
    return metadata


def _json_label(name: Any) -> Any:
    if isinstance(name, np.generic):
        return name.item()
    return name
