import json
import subprocess
import sys

import numpy as np
import pytest

from glassnet.cli.main import main
from test_lesson import REFERENCE


def run_cli(capsys, *argv):
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_demo_json_matches_reference(capsys):
    status, out, _ = run_cli(capsys, "demo", "--format", "json")
    assert status == 0
    document = json.loads(out)
    values = {q["symbol"]: q for q in document["quantities"]}
    for symbol, expected in REFERENCE.items():
        np.testing.assert_allclose(values[symbol]["value"], expected, rtol=1e-12, err_msg=symbol)
        assert values[symbol]["shape"] == list(np.shape(expected))
        assert values[symbol]["formula"]
        assert values[symbol]["name"]
    assert document["loss"] == pytest.approx(REFERENCE["L"], rel=1e-12)
    np.testing.assert_allclose(document["parameters_after"]["b2"], REFERENCE["b2_new"], rtol=1e-12)
    assert set(document["parameters_before"]) == {"W1", "b1", "W2", "b2"}


def test_demo_text_prints_eight_significant_digits(capsys):
    status, out, _ = run_cli(capsys, "demo")
    assert status == 0
    for text in ["[[0.23, 0.36]]", "[[0.67896077]]", "[[-0.32103923]]", "[[0.21797304]]", "[[-0.069977899]]",
                 "[[-0.016094917], [-0.025192044]]", "[[-0.04898453, -0.05598232]]",
                 "[[0.30048985, 0.40055982], [0.50097969, 0.60111965]]", "[0.10489845, 0.20559823]",
                 "[[0.70160949], [0.8025192]]", "[0.30699779]", "0.051533095"]:
        assert text in out, text
    assert "binary cross-entropy" in out


def test_demo_precision_option(capsys):
    _, out, _ = run_cli(capsys, "demo", "--precision", "16")
    assert "0.3069977899435841" in out


def test_demo_steps_loss_falls(capsys):
    _, out, _ = run_cli(capsys, "demo", "--format", "json", "--steps", "3")
    losses = [step["loss"] for step in json.loads(out)["steps"]]
    assert losses[0] > losses[1] > losses[2]


def test_demo_bce_delta_has_no_sigmoid_factor(capsys):
    _, out, _ = run_cli(capsys, "demo", "--format", "json", "--loss", "binary-cross-entropy")
    values = {q["symbol"]: q["value"] for q in json.loads(out)["quantities"]}
    assert values["delta2"][0][0] == pytest.approx(-0.3210392348493427, rel=1e-12)
    assert values["L"] == pytest.approx(0.38719193637623267, rel=1e-12)


def test_demo_hidden_activation_tanh(capsys):
    _, out, _ = run_cli(capsys, "demo", "--format", "json", "--hidden-activation", "tanh")
    values = {q["symbol"]: q["value"] for q in json.loads(out)["quantities"]}
    np.testing.assert_allclose(values["a1"], np.tanh([[0.23, 0.36]]), rtol=1e-14)
    assert "tanh'(z1)" in values


def test_demo_learning_rate_option(capsys):
    _, out, _ = run_cli(capsys, "demo", "--format", "json", "--learning-rate", "0.5")
    values = {q["symbol"]: q["value"] for q in json.loads(out)["quantities"]}
    assert values["b2_new"][0] == pytest.approx(0.3 + 0.5 * 0.06997789943584107, rel=1e-12)


def test_gradcheck_command_passes(capsys):
    status, out, _ = run_cli(capsys, "gradcheck")
    assert status == 0
    assert "dense2.W" in out
    status, out, _ = run_cli(capsys, "gradcheck", "--layers", "4,8,3", "--activation", "tanh",
                             "--loss", "categorical-cross-entropy", "--format", "json")
    assert status == 0
    assert json.loads(out)["passed"] is True


def test_bad_option_value_is_one_line_error(capsys):
    status, _, err = run_cli(capsys, "gradcheck", "--layers", "4,x")
    assert status == 2
    assert err.count("\n") == 1
    assert "--layers" in err
    status, _, err = run_cli(capsys, "demo", "--precision", "0")
    assert status == 2
    assert "precision" in err


def test_console_script_version_and_help():
    result = subprocess.run([sys.executable, "-m", "glassnet", "--version"], capture_output=True, text=True)
    assert result.returncode == 0
    assert result.stdout.startswith("glassnet ")
    result = subprocess.run([sys.executable, "-m", "glassnet", "--help"], capture_output=True, text=True)
    assert "demo" in result.stdout
    assert "train" in result.stdout


def test_import_is_light():
    code = "import sys, glassnet; print(any(m in sys.modules for m in ('sklearn', 'matplotlib', 'torch', 'rich')))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False"


def _modules_after(code):
    """Return the names in sys.modules after running ``code`` in a fresh interpreter."""
    script = f"import sys\n{code}\nprint(' '.join(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return set(result.stdout.splitlines()[-1].split())


def test_demo_imports_only_what_it_runs():
    numpy_alone = _modules_after("import numpy")
    demo = _modules_after("import contextlib, io\nfrom glassnet.cli.main import main\n"
                          "with contextlib.redirect_stdout(io.StringIO()):\n    main(['demo'])")
    commands = {name for name in demo if name.startswith("glassnet.cli.") and name != "glassnet.cli.main"}
    assert commands <= {"glassnet.cli.demo", "glassnet.cli.paths"}
    # The file formats, the other commands' modules and importlib.resources (zipfile, tempfile) stay out.
    for module in ("glassnet.serialization", "zipfile", "tempfile", "importlib.resources"):
        assert module not in demo, module
    if "numpy.random" not in numpy_alone:
        # The lesson gives every weight, so nothing is drawn and numpy.random is not needed.
        assert "numpy.random" not in demo


def test_lazy_names_of_the_package():
    import glassnet
    import glassnet.serialization as serialization

    for name in ("load_model", "load_network", "save_model", "save_network"):
        assert getattr(glassnet, name) is getattr(serialization, name)
        assert name in dir(glassnet)
    namespace = {}
    exec("from glassnet import *", namespace)
    assert set(glassnet.__all__) <= set(namespace)
    with pytest.raises(AttributeError, match="'glassnet' has no attribute 'save_modle'"):
        glassnet.save_modle  # noqa: B018


def test_package_namespace_in_fresh_process():
    # A fresh interpreter, so that no other test has imported glassnet.serialization yet.
    code = ("import glassnet\n"
            "print(glassnet.serialization.save_model is glassnet.save_model)\n"
            "print(' '.join(sorted(set(dir(glassnet)) & {'Any', 'importlib', 'serialization'})))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    # glassnet.serialization stays an attribute of the package, as the docs use it.
    assert lines[0] == "True"
    # dir() lists the package's names, not the helpers its lazy loading imports.
    assert lines[1] == "serialization"


def test_every_command_parses_its_own_options(capsys):
    # Each command's options come from its module, which main imports only for that command.
    status, out, _ = run_cli(capsys, "explain", "lesson", "--format", "json")
    assert status == 0
    assert json.loads(out)
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--format", "json", "--no-such-option"])
    assert exit_info.value.code == 2
    assert "--no-such-option" in capsys.readouterr().err


def test_closed_stdout_pipe_is_quiet():
    process = subprocess.Popen([sys.executable, "-m", "glassnet", "demo", "--steps", "50"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.readline()
    process.stdout.close()
    stderr = process.stderr.read().decode()
    process.wait(timeout=60)
    assert "Traceback" not in stderr
    assert "error" not in stderr


def test_gradcheck_random_network_options_need_layers(capsys):
    status, _, err = run_cli(capsys, "gradcheck", "--activation", "relu")
    assert status == 2
    assert "--layers" in err


def test_train_momentum_with_adam_rejected(capsys):
    status, _, err = run_cli(capsys, "train", "--dataset", "xor", "--optimizer", "adam", "--momentum", "0.9")
    assert status == 2
    assert "--momentum applies only to --optimizer sgd" in err


def test_step_count_above_trace_cap_rejected(capsys):
    status, _, err = run_cli(capsys, "step", "lesson", "--steps", "20000")
    assert status == 2
    assert "too many to trace" in err


def test_resume_adam_checkpoint_saves_out(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    status, _, _ = run_cli(capsys, "train", "--dataset", "xor", "--epochs", "3", "--checkpoint-every", "1",
                           "--checkpoint", "ck.glassnet", "--progress", "none")
    assert status == 0
    status, _, err = run_cli(capsys, "train", "--resume", "ck.glassnet", "--out", "m.glassnet", "--progress", "none")
    assert status == 0, err
    assert (tmp_path / "m.glassnet").is_file()
