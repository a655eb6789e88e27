"""``glassnet export``: write a saved model or network as ONNX or as a PyTorch state_dict."""

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", metavar="MODEL",
                        help="model file written by glassnet train --out, or a network file written by save_network")
    parser.add_argument("--onnx", metavar="OUT.onnx",
                        help="write an ONNX inference graph (standardisation and label names included)")
    parser.add_argument("--opset", type=int, default=17, metavar="N", help="ONNX operator set version (default 17)")
    parser.add_argument("--torch", metavar="OUT.pt",
                        help="write the network's PyTorch state_dict (nn.Linear weights are W transposed)")


def run(args: argparse.Namespace) -> int:
    import io

    from ..errors import InvalidInputError, ModelFileError
    from ..serialization import atomic_write_bytes, load_model, load_network, read_archive
    from .paths import check_outputs

    if not args.onnx and not args.torch:
        raise InvalidInputError("no output requested; give --onnx OUT.onnx, --torch OUT.pt or both")
    check_outputs([("--onnx", args.onnx), ("--torch", args.torch)], inputs=[("MODEL", args.model)])
    metadata, _ = read_archive(args.model)
    kind = metadata.get("kind")
    model: object
    if kind == "network":
        model = load_network(args.model)
    elif kind == "model":
        model = load_model(args.model)
    else:
        raise ModelFileError(
            f"{args.model} is a {kind} file; export a model file (glassnet train --out) or a network file instead"
        )

    if args.onnx:
        from ..export import to_onnx

        to_onnx(model, args.onnx, opset=args.opset)
        print(f"wrote {args.onnx} (ONNX opset {args.opset}; input X, float32)")
    if args.torch:
        from ..errors import require
        from ..export import to_torch

        torch = require("torch", "torch", "PyTorch export")
        module = to_torch(model)
        buffer = io.BytesIO()
        torch.save(module.state_dict(), buffer)
        atomic_write_bytes(args.torch, buffer.getvalue())
        architecture = " ".join(str(module).split())
        print(f"wrote {args.torch} (state_dict of {architecture})")
    return 0
