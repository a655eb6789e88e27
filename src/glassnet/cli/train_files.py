"""Options of ``glassnet train`` that write or read files.

``--out``, ``--history``, ``--plot``, ``--checkpoint-every``, ``--checkpoint``,
``--resume`` and ``--progress`` live here so that the train command only
calls :func:`add_file_arguments`, :func:`apply_resume` and
:class:`TrainingFiles`.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..training import Callback
    from ..checkpoint import Checkpoint
    from ..model import Model


def add_file_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the file and progress options to the ``train`` parser."""
    group = parser.add_argument_group("files and progress")
    group.add_argument("--out", metavar="PATH", help="save the trained model to PATH (e.g. model.glassnet)")
    group.add_argument("--history", metavar="PATH",
                       help="write the per-epoch history to PATH: CSV for a .csv suffix, else JSON")
    group.add_argument("--plot", metavar="PNG", help="draw the loss and metric curves to a PNG file "
                       "(needs the 'plot' extra)")
    group.add_argument("--checkpoint-every", type=int, metavar="N",
                       help="save a checkpoint every N epochs (and after the last)")
    group.add_argument("--checkpoint", metavar="PATH",
                       help="checkpoint file for --checkpoint-every and Ctrl-C "
                            "(default: next to --out, else glassnet-checkpoint.glassnet)")
    group.add_argument("--resume", metavar="PATH",
                       help="continue the run saved in checkpoint PATH with its own settings and data; "
                            "--epochs, --max-steps and --max-seconds may extend it")
    group.add_argument("--progress", choices=["auto", "rich", "plain", "notebook", "none"], default="auto",
                       help="progress display: a live bar on a terminal, one line per epoch otherwise "
                            "(default auto)")


# Settings that a resumed run may change: how long it trains. Every other setting comes from the checkpoint.
RESUME_BUDGETS = ("epochs", "max_steps", "max_seconds")


def apply_resume(args: argparse.Namespace) -> Checkpoint | None:
    """Load ``--resume`` and copy its training settings and data set name into ``args``.

    ``--epochs``, ``--max-steps`` and ``--max-seconds`` given with
    ``--resume`` replace the checkpoint's, so that a stopped run can be
    extended. Any other setting given must equal the checkpoint's.
    Returns the :class:`~glassnet.checkpoint.Checkpoint`, or None without
    ``--resume``.
    """
    if not args.resume:
        return None
    from ..checkpoint import load_checkpoint
    from ..errors import InvalidInputError

    checkpoint: Checkpoint = load_checkpoint(args.resume)
    data = checkpoint.data or {}
    if not checkpoint.config or not ("dataset" in data or "csv" in data):
        raise InvalidInputError(
            f"--resume {args.resume}: the checkpoint does not name its data and settings; "
            "only checkpoints written by 'glassnet train' can be resumed from the command line"
        )
    if args.dataset is not None or args.data is not None:
        raise InvalidInputError(
            f"--resume {args.resume} continues on the checkpoint's own data; omit --dataset and --data"
        )
    budgets = {key: getattr(args, key) for key in RESUME_BUDGETS if getattr(args, key, None) is not None}
    _check_budgets(args.resume, checkpoint, budgets)
    for key, value in checkpoint.config.items():
        if not hasattr(args, key):
            continue
        saved = tuple(value) if isinstance(value, list) else value
        if key not in RESUME_BUDGETS:
            _check_unchanged(args.resume, key, saved, getattr(args, key))
        setattr(args, key, saved)
    for key, value in budgets.items():
        setattr(args, key, value)
    if "dataset" in data:
        args.dataset = data["dataset"]
        source = f"data set {args.dataset}"
    else:
        # --target and --task choose the CSV file's target column and task, which the checkpoint fixes.
        for key in ("target", "task"):
            _check_unchanged(args.resume, key, data.get(key), getattr(args, key))
        args.data, args.target, args.task = data["csv"], data.get("target"), data.get("task")
        source = args.data
    if not args.checkpoint:
        args.checkpoint = args.resume
    changed = "".join(f", {'--' + key.replace('_', '-')} {value}" for key, value in budgets.items())
    print(f"resuming {args.resume} at epoch {checkpoint.point.epoch}, step {checkpoint.point.step}, "
          f"on {source}, with the checkpoint's settings{changed}")
    return checkpoint


def _option_text(key: str, value: object) -> str:
    """Return ``value`` of the option for field ``key`` as it is written on the command line."""
    option = "--" + key.replace("_", "-")
    if isinstance(value, bool):
        return option if value else "--no-" + option[2:]
    if value is None:
        return f"no {option}"
    if isinstance(value, tuple):
        return f"{option} {','.join(str(part) for part in value)}"
    return f"{option} {value}"


def _check_unchanged(resume: str, key: str, saved: object, requested: object) -> None:
    """Raise when option ``key`` was given with ``--resume`` and differs from the checkpoint's ``saved`` value."""
    from ..errors import InvalidInputError

    if requested is None or requested == saved:
        return
    option = "--" + key.replace("_", "-")
    raise InvalidInputError(
        f"--resume {resume} continues with the checkpoint's settings, which have {_option_text(key, saved)}, "
        f"not {_option_text(key, requested)}; omit {option}, or start a new run without --resume"
    )


def _check_budgets(resume: str, checkpoint: Checkpoint, budgets: dict[str, Any]) -> None:
    """Raise when ``--epochs`` or ``--max-steps`` is below what the checkpoint's run has already done.

    An equal budget is accepted, and the resumed run then takes no step. ``--epochs`` must also equal
    the checkpoint's under the cosine schedule, whose length it sets.
    """
    from ..errors import InvalidInputError

    point = checkpoint.point
    last_trained = point.last_trained_epoch
    epochs = budgets.get("epochs")
    if epochs is not None and epochs < last_trained:
        raise InvalidInputError(
            f"--epochs {epochs} is below epoch {last_trained}, in which the run of --resume {resume} has "
            f"already trained; give --epochs {last_trained} or more"
        )
    config = checkpoint.config or {}
    if epochs is not None and config.get("schedule") == "cosine" and epochs != config.get("epochs"):
        # The cosine schedule decays over all epochs, so another count would change the rates of the
        # epochs still to run and match no uninterrupted run.
        raise InvalidInputError(
            f"--epochs {epochs} differs from the {config.get('epochs')} epochs that the cosine schedule of "
            f"--resume {resume} decays over; omit --epochs, or start a new run without --resume"
        )
    max_steps = budgets.get("max_steps")
    if max_steps is not None and max_steps < point.step:
        raise InvalidInputError(
            f"--max-steps {max_steps} is below the {point.step} steps that the run of --resume {resume} has "
            f"already taken; give --max-steps {point.step} or more"
        )


def checkpoint_path(args: argparse.Namespace) -> Path:
    """Return the checkpoint path: ``--checkpoint``, else derived from ``--out``."""
    if args.checkpoint:
        return Path(args.checkpoint)
    if args.out:
        out = Path(args.out)
        return out.with_name(out.stem + ".checkpoint.glassnet")
    return Path("glassnet-checkpoint.glassnet")


class TrainingFiles:
    """The callbacks and output files of one ``glassnet train`` run.

    Parameters
    ----------
    args : argparse.Namespace
    config : dict
        ``TrainConfig.to_dict()`` of the run, stored in checkpoints.
    data : dict
        Where the data came from, e.g. ``{"dataset": "moons"}``.
    """

    def __init__(self, args: argparse.Namespace, config: dict[str, Any], data: dict[str, str]) -> None:
        from ..checkpoint import InterruptCheckpoint
        from ..errors import InvalidInputError

        from .paths import check_outputs

        self.args = args
        self.config = config
        self.data = data
        if args.checkpoint_every is not None and args.checkpoint_every < 1:
            raise InvalidInputError(
                f"--checkpoint-every {args.checkpoint_every} must be an integer >= 1 (epochs between checkpoints)"
            )
        # Checked before training, so that a run is never lost to an unwritable path
        # and no output lands on the data or on another output.
        check_outputs([("--out", args.out), ("--history", args.history), ("--plot", args.plot),
                       ("--checkpoint", str(checkpoint_path(args)))], inputs=[("--data", args.data)])
        if args.plot:
            from ..errors import require

            require("matplotlib", "plot", "--plot")
        self.interrupt = InterruptCheckpoint(checkpoint_path(args), config=config, data=data)

    def callbacks(self) -> list[Callback]:
        """Return the progress, checkpoint and Ctrl-C callbacks for :func:`fit`."""
        from ..checkpoint import CheckpointEvery
        from ..progress import make_progress

        callbacks: list[Callback] = []
        progress = make_progress(self.args.progress, config=self.config)
        if progress is not None:
            callbacks.append(progress)
        if self.args.checkpoint_every:
            callbacks.append(CheckpointEvery(checkpoint_path(self.args), self.args.checkpoint_every,
                                             config=self.config, data=self.data))
        callbacks.append(self.interrupt)
        return callbacks

    @property
    def interrupted(self) -> bool:
        return self.interrupt.interrupted

    def close(self) -> None:
        """Put back the SIGINT handler (needed when training raised)."""
        self.interrupt.close()

    def write(self, model: Model) -> None:
        """Write ``--out``, ``--history`` and ``--plot`` for the trained model."""
        model.data = self.data
        # train_model always stores the history that fit returned.
        assert model.history is not None
        if self.args.out:
            from ..serialization import save_model

            save_model(model, self.args.out)
            print(f"saved model to {self.args.out}")
        if self.args.history:
            model.history.save(self.args.history)
            print(f"saved history to {self.args.history}")
        if self.args.plot:
            from ..plots import plot_history

            plot_history(model.history, self.args.plot)
            print(f"saved curves to {self.args.plot}")
