"""The corpus of real-world-style projects in tests/resources/projects, and what they hold."""

from __future__ import annotations

from dataclasses import dataclass, field

from tests.conftest import RESOURCES

PROJECTS = RESOURCES / "projects"


@dataclass(frozen=True)
class Case:
    name: str
    env: str  # the env kind
    env_file: str | None  # relative to the project
    entry_points: tuple[str, ...]
    # (entry point, -P values, the command mlproj and MLflow render; {dir} = project dir)
    runs: tuple[tuple[str, dict[str, str], str], ...] = field(default_factory=tuple)
    # (entry point, final status, mlproj's exit code): run for real, local env, real mlflow
    statuses: tuple[tuple[str, str, int], ...] = field(default_factory=tuple)
    # words of each warning `validate --strict` reports (the project runs anyway)
    validate_warnings: tuple[str, ...] = ()


CASES = [
    Case(
        "sklearn_elasticnet",
        "conda",
        "conda.yaml",
        ("main",),
        (
            ("main", {}, "python train.py 0.5 0.1"),
            ("main", {"alpha": "0.9", "seed": "7"}, "python train.py 0.9 0.1 --seed 7"),
        ),
    ),
    Case(
        "sklearn_logistic",
        "python",
        "python_env.yaml",
        ("main",),
        (("main", {}, "python train.py"),),
    ),
    Case(
        "keras_mnist",
        "conda",
        "conda.yml",
        ("main",),
        (
            (
                "main",
                {"epochs": "1"},
                "python train.py --epochs 1 --batch-size 128 "
                "--learning-rate 1e-3 --dropout 0.2 --optimizer adam",
            ),
        ),
    ),
    Case(
        "pytorch_lightning",
        "python",
        "python_env.yaml",
        ("main",),
        (
            (
                "main",
                {},
                "python mnist_autolog_example.py \\\n  --trainer.max_epochs 5 \\\n"
                "  --trainer.devices 1 \\\n  --trainer.strategy auto \\\n"
                "  --data.batch_size 64 \\\n"
                "  --data.num_workers 3 \\\n  --data.data_dir {dir}/data \\\n"
                "  --model.learning_rate 0.001 \\\n  --trainer.callbacks+=EarlyStopping "
                "--trainer.callbacks.patience 3 \\\n  --trainer.callbacks.mode min "
                "--trainer.callbacks.verbose True \\\n  --trainer.callbacks.monitor val_loss\n",
            ),
        ),
    ),
    Case(
        "docker_gpu",
        "docker",
        None,
        ("main",),
        (("main", {"alpha": "0.3"}, "python train.py --alpha 0.3 --l1-ratio 0.1"),),
    ),
    Case(
        "docker_plain", "docker", None, ("main",), (("main", {}, "python -u train.py --epochs 2"),)
    ),
    Case(
        "multistep",
        "conda",
        "conda.yaml",
        ("load_raw_data", "etl_data", "als", "train_keras", "summarize", "main"),
        (
            (
                "main",
                {},
                "python main.py --als-max-iter 10 --keras-hidden-units 20 --max-row-limit 100000",
            ),
            (
                "als",
                {"ratings_data": "runs:/abc/ratings"},
                "python als.py --ratings-data "
                "runs:/abc/ratings --max-iter 10 --reg-param 0.1 --rank 12",
            ),
            (
                "summarize",
                {},
                "awk -F, 'NR > 1 { n++; s += $2 } END { print s / n }' {dir}/results.csv",
            ),
        ),
    ),
    Case(
        "bare_scripts",
        "local",
        None,
        (),
        (("train.py", {"lr": "0.1", "name": "a b"}, "python train.py --lr 0.1 --name 'a b'"),),
    ),
    Case(
        "bare_python_env", "python", "python_env.yaml", (), (("script.py", {}, "python script.py"),)
    ),
    Case("lowercase_name", "local", None, ("main",), (("main", {}, "echo hello"),)),
    Case(
        "hyperparam",
        "conda",
        "conda.yaml",
        ("train", "hyperopt", "main"),
        (
            (
                "train",
                {"epochs": "3"},
                "python train.py s3://my-bucket/wine-quality.csv "
                "--batch-size 16 --epochs 3 --learning-rate 1e-1 --momentum 0.0",
            ),
            (
                "main",
                {"training_data": "https://example.com/d.csv"},
                "python search_random.py https://example.com/d.csv",
            ),
        ),
    ),
    Case(
        "anchors_shared",
        "python",
        "python_env.yaml",
        ("train", "evaluate"),
        (
            ("train", {"seed": "1"}, "python train.py --seed 1 --data train.parquet --epochs 10"),
            ("evaluate", {}, "python evaluate.py --seed 42 --data train.parquet"),
        ),
    ),
    Case(
        "shell_pipeline",
        "local",
        None,
        ("main", "report"),
        (
            (
                "main",
                {"pattern": "it's"},
                "mkdir -p out && grep -E 'it'\"'\"'s' 'data in.txt' | "
                "awk '{ print $1 }' > out/matches.txt && echo \"home is ${HOME}, {literal}\"\n",
            ),
        ),
    ),
    Case(
        "transformers_finetune",
        "python",
        "python_env.yaml",
        ("main",),
        (
            (
                "main",
                {"fp16": "true"},
                "accelerate launch finetune.py --model_name_or_path "
                "distilbert-base-uncased --learning_rate 5e-5 --num_train_epochs 3 --fp16 true "
                "--max_length 256 --output_dir ./outputs",
            ),
        ),
    ),
    Case(
        "xgboost_subdir_env",
        "conda",
        "envs/conda.yaml",
        ("main",),
        (
            (
                "main",
                {"max_depth": "3"},
                "python train.py \\\n  --learning-rate 0.3 \\\n"
                "  --colsample-bytree 1.0 \\\n  --subsample 1.0 \\\n  --max-depth 3\n",
            ),
        ),
    ),
    Case(
        "sh_entry_point",
        "local",
        None,
        ("main", "prepare"),
        (
            ("main", {}, "bash run.sh True 3 0.75 ''"),
            ("prepare", {"source": "run.sh"}, "cp -r {dir}/run.sh {dir}"),
        ),
    ),
    Case(
        "short_forms",
        "local",
        None,
        ("main", "validate.py"),
        (
            (
                "main",
                {
                    "data_file": "MLproject",
                    "regularization": "0.1",
                    "name": "$(whoami)",
                    "model_uri": "models:/m/1",
                },
                "python train.py -r 0.1 -n '$(whoami)' {dir}/MLproject models:/m/1",
            ),
            ("validate.py", {}, "python validate.py --strict"),
        ),
    ),
    Case(
        "status_cases",
        "local",
        None,
        ("crash_after_logging", "ends_itself_killed", "dies_by_signal", "clean_exit"),
        statuses=(
            ("crash_after_logging", "FAILED", 2),
            ("ends_itself_killed", "FINISHED", 0),
            ("dies_by_signal", "KILLED", 137),
            ("clean_exit", "FINISHED", 0),
        ),
    ),
    Case(
        "python_env_py310",
        "python",
        "python_env.yaml",
        ("main",),
        (("main", {}, "python show_version.py"),),
    ),
    Case(
        "python_env_exact_patch",
        "python",
        "python_env.yaml",
        ("main",),
        (("main", {}, "python show_version.py"),),
    ),
    Case(
        "python_env_build_mapping",
        "python",
        "python_env.yaml",
        ("main",),
        (("main", {}, "python show_version.py"),),
        validate_warnings=("its keys are installed (pip) and the values ignored",),
    ),
]
