"""Bad inputs are rejected with ntkproof's own errors and a one-line message.

Every table here is a list of cases ``(id, fault, error, pattern)``:

* ``id`` -- a short unique name, shown by pytest (``test_library_rejects_bad_input[id]``);
* ``fault`` -- a callable without arguments that makes the faulty call;
* ``error`` -- the exception class it must raise, exactly (a subclass does not count);
* ``pattern`` -- a regular expression the message must match (``re.search``): it should
  name the argument and the bad value or what was expected.

:func:`_check_rejects` runs one case and also requires a single-line message. Tables:

* ``LIBRARY_CASES`` -- calls of the library (networks, empirical NTK, training,
  descent, look-ahead, active learning, data), run by ``test_library_rejects_bad_input``.
* ``CLI_CASES`` -- the command line and the files it reads (arguments, selectors,
  theorem folders, damaged records, run.json and report.json files, an interrupt), run
  by ``test_cli_rejects_bad_input_in_one_line``: rows ``(id, setup, argv, exit status,
  pattern)``, see the table.

Keep every case small (library cases well under 0.1 s).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from ntkproof.errors import (
    InvalidArgument,
    NonFiniteError,
    ShapeError,
    SingularKernelError,
    UnknownName,
)
from ntkproof.nn.data import digits, hypercube_parity, single_neuron, sphere_teacher, uniform_sphere
from ntkproof.nn.descent import minimize_loss
from ntkproof.nn.empirical_ntk import empirical_ntk, two_layer_ntk
from ntkproof.nn.networks import MLP, TwoLayer
from ntkproof.nn.training import gradient_descent, max_learning_rate, mse_loss, train
from ntkproof.theory.active_learning import ALConfig, active_learning_curve
from ntkproof.theory.lookahead import KernelFactor, LookAhead, most_likely_label, top_k

Case = tuple[str, Callable[[], object], type[BaseException], str]

# -- tiny shared inputs --------------------------------------------------------------------
X = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.6, 0.8, 0.0]])
Y = np.array([1.0, -1.0, 1.0, -1.0])
NET = TwoLayer(3, 4, "relu", seed=0)
WIDE = TwoLayer(3, 6, "relu", seed=0)
DEEP = MLP(1, 4, "tanh", d=3, seed=0)
K = np.array([[2.0, 1.0], [1.0, 2.0]])


def _with(a: np.ndarray, index: tuple[int, int], value: float) -> np.ndarray:
    out = a.copy()
    out[index] = value
    return out


def _y_with(value: float) -> np.ndarray:
    out = Y.copy()
    out[0] = value
    return out


LIBRARY_CASES: list[Case] = [
    # networks
    ("mlp_width_zero", lambda: MLP(1, 0, "relu", d=3, seed=0),
     InvalidArgument, r"width must be a positive integer.*got 0"),
    ("mlp_width_list_negative", lambda: MLP(2, [4, -1], "relu", d=3, seed=0),
     InvalidArgument, r"width\[1\] must be a positive integer.*got -1"),
    ("mlp_width_fraction", lambda: MLP(1, 2.5, "relu", d=3, seed=0),
     InvalidArgument, r"width must be a positive integer.*got 2\.5"),
    ("mlp_depth_zero", lambda: MLP(0, 4, "relu", d=3, seed=0),
     InvalidArgument, r"depth must be a positive integer.*got 0"),
    ("mlp_W_std_negative", lambda: MLP(1, 4, "relu", -1.0, d=3, seed=0),
     InvalidArgument, r"W_std must be a finite number and > 0, got -1\.0"),
    ("two_layer_m_zero", lambda: TwoLayer(3, 0, seed=0),
     InvalidArgument, r"m must be a positive integer.*got 0"),
    ("two_layer_d_zero", lambda: TwoLayer(0, 4, seed=0),
     InvalidArgument, r"d must be a positive integer, got 0"),
    ("two_layer_m_negative", lambda: TwoLayer(3, -4, seed=0),
     InvalidArgument, r"m must be a positive integer.*got -4"),
    ("two_layer_m_none", lambda: TwoLayer(3, None, seed=0),
     InvalidArgument, r"m must be a positive integer.*got None"),
    ("two_layer_seed_negative", lambda: TwoLayer(3, 4, seed=-1),
     InvalidArgument, r"seed must be a non-negative integer, got -1"),
    ("unknown_activation_name", lambda: TwoLayer(3, 4, "rleu", seed=0),
     UnknownName, r"unknown activation 'rleu'; expected one of: .*relu"),
    ("apply_nan_X", lambda: NET.apply(NET.params0, _with(X, (1, 2), np.nan)),
     NonFiniteError, r"X holds 1 NaN/inf entries \(first in row 1\)"),
    ("mlp_apply_inf_X", lambda: DEEP.apply(DEEP.params0, _with(X, (3, 0), np.inf)),
     NonFiniteError, r"X holds 1 NaN/inf entries \(first in row 3\)"),
    ("apply_wrong_input_dimension", lambda: NET.apply(NET.params0, X[:, :2]),
     ShapeError, r"X must have shape \(n, 3\).*got shape \(4, 2\)"),
    ("apply_params_of_other_width", lambda: NET.apply(WIDE.params0, X),
     ShapeError, r"params\['W'\] has shape \(6, 3\), expected \(4, 3\)"),
    ("mlp_apply_params_of_other_width",
     lambda: DEEP.apply(MLP(1, 5, "tanh", d=3, seed=0).params0, X),
     ShapeError, r"params\['W1'\] has shape \(3, 5\), expected \(3, 4\)"),
    ("apply_missing_param_key", lambda: NET.apply({"W": NET.params0["W"]}, X),
     InvalidArgument, r"params lacks \['a'\]; expected the keys \['W', 'a'\]"),
    ("linearized_apply_params_of_other_width",
     lambda: NET.linearize().apply(WIDE.params0, X),
     ShapeError, r"params\['W'\] has shape \(6, 3\), expected \(4, 3\)"),
    ("jvp_tangent_wrong_shape", lambda: NET.jvp(NET.params0, X, {"W": np.zeros((4, 2))}),
     ShapeError, r"tangent\['W'\] has shape \(4, 2\), expected \(4, 3\)"),
    ("vjp_cot_wrong_length", lambda: NET.vjp(NET.params0, X, np.ones(3)),
     ShapeError, r"cot must have shape \(4,\).*got shape \(3,\)"),
    # empirical NTK
    ("entk_nan_X", lambda: empirical_ntk(NET, _with(X, (2, 0), np.nan)),
     NonFiniteError, r"X1 holds 1 NaN/inf entries \(first in row 2\)"),
    ("entk_mlp_inf_X2", lambda: empirical_ntk(DEEP, X, _with(X, (0, 1), -np.inf)),
     NonFiniteError, r"X2 holds 1 NaN/inf entries \(first in row 0\)"),
    ("entk_params_missing_key", lambda: empirical_ntk(NET, X, params={"W": NET.params0["W"]}),
     InvalidArgument, r"params lacks \['a'\]"),
    ("entk_arguments_swapped", lambda: empirical_ntk(X, NET),
     InvalidArgument, r"model must be a network .*got ndarray"),
    ("two_layer_ntk_unknown_activation",
     lambda: two_layer_ntk(NET.params0["W"], NET.params0["a"], X, activation="rleu",
                           backend="numpy"),
     UnknownName, r"unknown activation 'rleu'; expected one of: .*relu.*tanh"),
    ("two_layer_ntk_block_zero",
     lambda: two_layer_ntk(NET.params0["W"], NET.params0["a"], X, activation="relu",
                           backend="numpy", block=0),
     InvalidArgument, r"block must be a positive integer.*got 0"),
    # training
    ("max_lr_zero_kernel_relu_at_zero_inputs", lambda: max_learning_rate(NET, np.zeros((3, 3))),
     SingularKernelError, r"largest eigenvalue 0, so no step size"),
    ("max_lr_zero_kernel_zero_gradient",
     lambda: max_learning_rate(TwoLayer(3, 4, "relu", trained="a", seed=0), np.zeros((2, 3))),
     SingularKernelError, r"largest eigenvalue 0, so no step size"),
    ("gd_negative_lr", lambda: gradient_descent(NET, X, Y, lr=-0.1, steps=2),
     InvalidArgument, r"lr must be a finite number and > 0, got -0\.1"),
    ("gd_fractional_steps", lambda: gradient_descent(NET, X, Y, lr=0.1, steps=2.5),
     InvalidArgument, r"steps must be a non-negative integer, got 2\.5"),
    ("gd_y_wrong_length", lambda: gradient_descent(NET, X, Y[:3], lr=0.1, steps=2),
     ShapeError, r"y must have shape \(4,\).*got \(3,\)"),
    ("gd_nan_y", lambda: gradient_descent(NET, X, _y_with(np.nan), lr=0.1, steps=2),
     NonFiniteError, r"y holds 1 NaN/inf entries \(first in row 0\)"),
    ("gd_checkpoint_beyond_steps",
     lambda: gradient_descent(NET, X, Y, lr=0.1, steps=3, checkpoints=[9]),
     InvalidArgument, r"checkpoints \[9\] lie outside 0\.\.3"),
    ("gd_X_eval_wrong_dimension",
     lambda: gradient_descent(NET, X, Y, lr=0.1, steps=1, X_eval=np.zeros((2, 4))),
     ShapeError, r"X_eval must have shape \(n, 3\).*got shape \(2, 4\)"),
    ("train_nan_X", lambda: train(NET, _with(X, (0, 0), np.nan), Y, lr=0.1, steps=1),
     NonFiniteError, r"X holds 1 NaN/inf entries \(first in row 0\)"),
    ("train_inf_lr", lambda: train(NET, X, Y, lr=np.inf, steps=1),
     InvalidArgument, r"lr must be a finite number and > 0, got inf"),
    ("mse_loss_y_wrong_length", lambda: mse_loss(NET, NET.params0, X, Y[:2]),
     ShapeError, r"y must have shape \(4,\).*got \(2,\)"),
    # descent
    ("descent_unknown_loss", lambda: minimize_loss(NET, X, Y, lr=0.1, steps=1, loss="hinge"),
     InvalidArgument, r"loss must be one of \('mse', 'logistic'\), got 'hinge'"),
    ("descent_nan_X", lambda: minimize_loss(NET, _with(X, (1, 1), np.nan), Y, lr=0.1, steps=1),
     NonFiniteError, r"X holds 1 NaN/inf entries \(first in row 1\)"),
    ("descent_params_of_other_width",
     lambda: minimize_loss(NET, X, Y, lr=0.1, steps=1, params=WIDE.params0),
     ShapeError, r"params\['W'\] has shape \(6, 3\), expected \(4, 3\)"),
    ("descent_negative_weight_decay",
     lambda: minimize_loss(NET, X, Y, lr=0.1, steps=1, weight_decay=-1.0),
     InvalidArgument, r"weight_decay must be a finite number and >= 0, got -1\.0"),
    # look-ahead
    ("lookahead_kernel_not_square", lambda: LookAhead(np.ones((2, 3)), np.zeros(2), np.zeros(2)),
     ShapeError, r"must be a square \(n, n\) matrix, got shape \(2, 3\)"),
    ("lookahead_kernel_not_symmetric",
     lambda: LookAhead(np.array([[2.0, 1.0], [0.0, 2.0]]), np.zeros(2), np.zeros(2)),
     InvalidArgument, r"A = Θ\(𝒳, 𝒳\) is not symmetric \(max \|K - Kᵀ\| = 1,"),
    ("lookahead_kernel_nan", lambda: LookAhead(_with(K, (1, 1), np.nan), np.zeros(2), np.zeros(2)),
     NonFiniteError, r"A = Θ\(𝒳, 𝒳\) holds 1 NaN/inf entries \(first in row 1\)"),
    ("lookahead_f_train_nan", lambda: LookAhead(K, np.array([0.0, np.nan]), np.zeros(2)),
     NonFiniteError, r"f_train holds 1 NaN/inf entries \(first in row 1\)"),
    ("lookahead_negative_ridge", lambda: KernelFactor(K, ridge=-1.0),
     InvalidArgument, r"ridge must be a finite number and >= 0, got -1\.0"),
    ("lookahead_singular_kernel", lambda: KernelFactor(np.ones((2, 2))),
     SingularKernelError, r"singular or not positive definite.*ridge="),
    ("top_k_too_many", lambda: top_k([1.0, 2.0], 3),
     InvalidArgument, r"k must be an integer in \[0, 2\], got 3"),
    ("most_likely_label_3d", lambda: most_likely_label(np.zeros((2, 2, 2))),
     ShapeError, r"f must have shape \(n,\) or \(n, C\), got \(2, 2, 2\)"),
    # active learning
    ("al_unknown_method", lambda: active_learning_curve("bald", seed=0),
     InvalidArgument, r"method must be one of .*got 'bald'"),
    ("al_config_width_zero", lambda: ALConfig(width=0),
     InvalidArgument, r"ALConfig\.width must be a positive integer, got 0"),
    ("al_config_pool_too_small", lambda: ALConfig(n_pool=5, rounds=2, query=3),
     InvalidArgument, r"rounds × query = 2 × 3 = 6 queries from a pool of n_pool = 5"),
    ("al_config_unknown_activation", lambda: ALConfig(activation="rleu"),
     UnknownName, r"unknown activation 'rleu'"),
    # data
    ("teacher_no_training_points", lambda: sphere_teacher(0, 2, 3, seed=0),
     InvalidArgument, r"n_train must be a positive integer, got 0"),
    ("parity_k_above_d", lambda: hypercube_parity(4, 2, 3, 5, seed=0),
     InvalidArgument, r"k must satisfy 1 <= k <= d = 3, got 5"),
    ("single_neuron_d_zero", lambda: single_neuron(4, 2, 0, seed=0),
     InvalidArgument, r"d must be a positive integer, got 0"),
    ("teacher_nan_noise", lambda: sphere_teacher(4, 2, 3, seed=0, noise=float("nan")),
     InvalidArgument, r"noise must be a finite number and >= 0, got nan"),
    ("sphere_negative_n", lambda: uniform_sphere(-1, 3, seed=0),
     InvalidArgument, r"n must be a non-negative integer, got -1"),
    ("teacher_unknown_activation", lambda: sphere_teacher(4, 2, 3, seed=0, activation="rleu"),
     UnknownName, r"unknown activation 'rleu'"),
    ("digits_one_class", lambda: digits(10, seed=0, classes=(3,)),
     InvalidArgument, r"classes must be at least two distinct digits 0-9, got \(3,\)"),
]


def _check_rejects(fault: Callable[[], object], error: type[BaseException], pattern: str) -> None:
    """``fault()`` raises exactly ``error`` with a one-line message matching ``pattern``."""
    with pytest.raises(BaseException) as info:
        fault()
    assert type(info.value) is error, f"raised {type(info.value).__name__}: {info.value}"
    message = str(info.value)
    assert re.search(pattern, message), f"message {message!r} does not match {pattern!r}"
    assert "\n" not in message, f"message spans several lines: {message!r}"


def test_case_ids_are_unique():
    ids = [case[0] for case in LIBRARY_CASES]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize(("fault", "error", "pattern"),
                         [case[1:] for case in LIBRARY_CASES],
                         ids=[case[0] for case in LIBRARY_CASES])
def test_library_rejects_bad_input(fault, error, pattern):
    _check_rejects(fault, error, pattern)


# -- the command line and stored files ------------------------------------------------------
#
# ``CLI_CASES`` rows are ``(id, setup, argv, exit status, pattern)``: ``setup(project)``
# prepares a folder holding ``theorems/`` with one tiny theorem file and a finished run in
# ``run/`` (it may damage files there), ``argv`` is what follows ``ntkproof``. The check:
# the exit status, stderr matching ``pattern`` as its last line, and no traceback.

def _nothing(project: Path) -> None:
    pass


def _records_line(text: str, where: str = "end") -> Callable[[Path], None]:
    def damage(project: Path) -> None:
        path = project / "run" / "records" / "main.jsonl"
        lines = path.read_text().splitlines(keepends=True)
        lines.insert(len(lines) if where == "end" else 0, text + "\n")
        path.write_text("".join(lines))
    return damage


def _write(relative: str, text: str) -> Callable[[Path], None]:
    def write(project: Path) -> None:
        target = project / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return write


def _report_json(**fields: object) -> Callable[[Path], None]:
    def write(project: Path) -> None:
        report = json.loads((project / "run" / "report.json").read_text())
        report.update(fields)
        (project / "odd.json").write_text(json.dumps(report))
    return write


def _no_xdist(project: Path) -> None:
    import importlib.util

    real = importlib.util.find_spec

    def missing(name: str, *args: object, **kwargs: object) -> object:
        return None if name == "xdist" else real(name, *args, **kwargs)
    _PATCHES.append((importlib.util, "find_spec", missing))


def _interrupt(project: Path) -> None:
    from ntkproof.plugin import invoke

    def stop(pargs: list[str], theorems: object = None) -> int:
        raise KeyboardInterrupt
    _PATCHES.append((invoke, "run", stop))


_PATCHES: list[tuple[object, str, object]] = []

CliCase = tuple[str, Callable[[Path], None], list[str], int, str]

CLI_CASES: list[CliCase] = [
    ("no_command", _nothing, [], 4, r""),
    ("jobs_zero", _nothing, ["verify", "--jobs", "0"], 4, r"--jobs must be >= 1, got 0"),
    ("jobs_negative", _nothing, ["verify", "-j", "-3"], 4, r"--jobs must be >= 1, got -3"),
    ("jobs_not_a_number", _nothing, ["verify", "--jobs", "two"], 4,
     r"--jobs must be a whole number >= 1, got 'two'"),
    ("jobs_without_xdist", _no_xdist, ["verify", "--jobs", "2"], 4,
     r"--jobs 2 needs pytest-xdist.*ntkproof\[parallel\]"),
    ("seed_negative", _nothing, ["verify", "--seed", "-1"], 4, r"--seed must be >= 0, got -1"),
    ("budget_unknown", _nothing, ["verify", "--budget", "huge"], 4,
     r"--budget: invalid choice: 'huge'"),
    ("backend_unknown", _nothing, ["verify", "--backend", "jax"], 4,
     r"--backend: unknown backend 'jax'"),
    ("out_is_a_file", _write("afile", "x"), ["verify", "--out", "afile"], 4,
     r"--out afile is an existing file"),
    ("out_uncreatable", _nothing, ["verify", "--out", "/proc/no/such/dir"], 4,
     r"--out /proc/no/such/dir cannot be created"),
    ("selector_typo", _nothing, ["verify", "mini.tanh", "mini.tnah"], 4,
     r"selector 'mini.tnah' matches no claim; did you mean mini.tanh"),
    ("list_selector_typo", _nothing, ["list", "mnii"], 4,
     r"selector 'mnii' matches no claim; did you mean mini"),
    ("theorem_folder_missing", _nothing, ["verify", "--theorems", "nowhere"], 4,
     r"no theorem folder at .*nowhere"),
    ("theorem_folder_empty", _write("empty/README", "no claims here"),
     ["verify", "--theorems", "empty"], 5, r"declares no claim: nothing to verify"),
    ("theorem_file_broken", _write("theorems/test_broken.py", "def oops(:\n"), ["verify"], 3,
     r"collecting theorems failed"),
    ("interrupted", _interrupt, ["verify", "--out", "out"], 2, r"interrupted"),
    ("report_not_a_run", _nothing, ["report", "theorems"], 4, r"not an ntkproof run directory"),
    ("records_line_not_an_object", _records_line("[1, 2, 3]"), ["report", "run"], 4,
     r"main\.jsonl, line 3: a record must be a JSON object, got list"),
    ("records_line_not_json", _records_line("{oops", "start"), ["report", "run"], 4,
     r"main\.jsonl, line 1: not valid JSON"),
    ("records_line_unknown_verdict",
     _records_line(json.dumps({"id": "x.y", "theorem": "x", "kind": "bound",
                               "verdict": "MAYBE", "backend": "numpy"})),
     ["report", "run"], 4, r"line 3: unknown verdict 'MAYBE'"),
    ("run_json_corrupt", _write("run/run.json", "{\"id\": "), ["report", "run"], 4,
     r"run\.json: not valid JSON"),
    ("run_json_foreign", _write("run/run.json", "{\"foo\": 1}"), ["report", "run"], 4,
     r"run\.json: not an ntkproof run's metadata"),
    ("diff_foreign_report", _write("odd.json", "{\"foo\": 1}"), ["diff", "run", "odd.json"], 4,
     r"odd\.json: not an ntkproof report \(no schema_version\)"),
    ("diff_future_schema", _report_json(schema_version=99), ["diff", "run", "odd.json"], 4,
     r"odd\.json: report schema_version 99 is not one this ntkproof reads \(1\)"),
    ("diff_not_json", _write("odd.json", "\x00\x01binary"), ["diff", "run", "odd.json"], 4,
     r"odd\.json: not valid JSON"),
    ("diff_missing_path", _nothing, ["diff", "run", "nowhere"], 4, r"nowhere: no such file"),
    ("diff_threshold_negative", _nothing, ["diff", "run", "run", "--threshold", "-1"], 4,
     r"--threshold must be a relative change >= 0"),
    ("merge_one_run", _nothing, ["report", "--merge", "run", "--out", "m"], 4,
     r"--merge needs at least two run folders, got 1"),
    ("merge_without_out", _nothing, ["report", "--merge", "run", "run"], 4,
     r"use 'ntkproof report DIR' or 'ntkproof report --merge"),
    ("merge_out_is_a_file", _write("afile", "x"),
     ["report", "--merge", "run", "run", "--out", "afile"], 4, r"--out afile is an existing file"),
]


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with a tiny theorem file and one finished run of it (made once)."""
    from _theorem_fixtures import TAYLOR_LIKE

    from ntkproof.cli import main

    base = tmp_path_factory.mktemp("project")
    (base / "theorems").mkdir()
    (base / "theorems" / "test_mini.py").write_text(TAYLOR_LIKE)
    cwd = os.getcwd()
    os.chdir(base)
    try:
        assert main(["verify", "--out", "run"]) == 0
    finally:
        os.chdir(cwd)
    return base


@pytest.mark.parametrize("case", CLI_CASES, ids=[c[0] for c in CLI_CASES])
def test_cli_rejects_bad_input_in_one_line(case: CliCase, finished_run: Path, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    from ntkproof.cli import main

    _, setup, argv, status, pattern = case
    shutil.copytree(finished_run, tmp_path, dirs_exist_ok=True)
    monkeypatch.chdir(tmp_path)
    _PATCHES.clear()
    setup(tmp_path)
    for owner, name, value in _PATCHES:
        monkeypatch.setattr(owner, name, value)
    assert main(argv) == status
    err = capsys.readouterr().err
    assert "Traceback" not in err
    if pattern:
        lines = err.strip().splitlines() or [""]
        # a collection failure shows pytest's output after its one-line summary
        assert re.search(pattern, lines[0]), err
        if status != 3:
            assert len(lines) == 1, err
