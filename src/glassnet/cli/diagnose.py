"""``glassnet diagnose``: numerical health report of a network file, optionally after training steps."""


def add_arguments(parser):
    parser.add_argument("file", metavar="FILE",
                        help="network file (TOML or JSON) with the network, a batch and its training settings")
    parser.add_argument("--steps", type=int, default=0, metavar="N",
                        help="full-batch training steps to run first with the file's optimizer (default 0); "
                             "training stops early if it diverges")
    parser.add_argument("--format", choices=["text", "json"], default="text",
                        help="text for people (default) or json")


def run(args):
    """Print the report; return 0 when healthy, 1 when it lists a problem or training diverged."""
    import json

    from ..diagnose import diagnose
    from ..errors import DivergenceError, InvalidInputError
    from ..netfile import load_problem
    from ..training import fit

    if args.steps < 0:
        raise InvalidInputError(f"--steps {args.steps} is negative; expected 0 or more training steps")
    problem = load_problem(args.file)
    network, X, t, loss = problem.network, problem.X, problem.t, problem.loss

    divergence = None
    if args.steps:
        try:
            fit(network, X, t, loss=loss, optimizer=problem.optimizer, epochs=args.steps, batch_size=X.shape[0],
                shuffle=False)
        except DivergenceError as exc:
            divergence = exc
    report = diagnose(network, X, t, loss, learning_rate=problem.optimizer.learning_rate)

    if args.format == "json":
        document = report.to_dict()
        document["steps"] = args.steps
        document["diverged"] = None if divergence is None else {
            "epoch": divergence.epoch, "step": divergence.step, "message": str(divergence)}
        print(json.dumps(document, indent=2))
    else:
        if divergence is not None:
            print(f"glassnet diagnose: {divergence}")
            print(f"The report below is for the last finite parameters, those before step {divergence.step}.")
        elif args.steps:
            print(f"Ran {args.steps} training steps without divergence.")
        print(report)
    return 0 if report.healthy and divergence is None else 1
