"""The `sintonia` command: thin commands over the same functions the server uses.

Everything but the generated text goes to stderr, so `sintonia generate` composes in scripts.
"""

from __future__ import annotations

import faulthandler
import os
import signal
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # weights come from packages, never a hub
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
# peft calls a transformers API that transformers deprecates; users can do nothing about it.
warnings.filterwarnings("ignore", category=FutureWarning)

import typer  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from sintonia.auth.keys import LOCAL_USER  # noqa: E402
from sintonia.auth.scopes import DEFAULT_SCOPES  # noqa: E402
from sintonia.errors import DatasetInvalid, InvalidArgument, SintoniaError  # noqa: E402
from sintonia.settings import Settings  # noqa: E402

app = typer.Typer(
    help="Sintonia: tune text models on your own examples (LoRA), on your own machine.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
models_app = typer.Typer(help="Base and tuned models.", no_args_is_help=True)
app.add_typer(models_app, name="models")
keys_app = typer.Typer(help="API keys for the server.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
err = Console(stderr=True, soft_wrap=True)  # messages stay whole for grep and logs
out = Console()


@dataclass
class _Context:
    settings: Settings

    @property
    def store(self) -> Any:
        from sintonia.storage.db import Database
        from sintonia.storage.tuned_models import TunedModelStore

        return TunedModelStore(Database(self.settings.database_url), self.settings.artifacts)


def _context() -> _Context:
    return _Context(Settings.from_env())


@contextmanager
def _errors(creating: bool = False) -> Iterator[None]:
    """Domain errors become a message on stderr and an exit code: 2 for bad input, else 1."""
    try:
        yield
    except DatasetInvalid as exc:
        outcome = "; nothing was created" if creating else ""
        err.print(f"[bold red]{exc.source}[/] has {len(exc.problems)} problem(s){outcome}:")
        for problem in exc.problems:
            err.print(f"  • {problem}", markup=False, highlight=False)
        raise typer.Exit(2) from None
    except SintoniaError as exc:
        err.print(f"[bold red]Error:[/] {exc}", highlight=False)
        raise typer.Exit(2 if isinstance(exc, InvalidArgument) else 1) from None


# --- Options shared by tune and validate ------------------------------------------------------

DataArg = Annotated[Path, typer.Argument(help="Examples: .jsonl, .json or .csv (at most 4 MB).")]
InputKey = Annotated[str, typer.Option(help="Field or column holding the input text.")]
OutputKey = Annotated[str, typer.Option(help="Field or column holding the expected output.")]
BaseModelOpt = Annotated[
    str, typer.Option("--base-model", help="A bundled model name, or a local HF model folder.")
]
EpochsOpt = Annotated[int, typer.Option("--epochs", help="Passes over the examples.")]
ServerOpt = Annotated[
    str | None,
    typer.Option("--server", envvar="SINTONIA_SERVER", help="Act through a Sintonia server."),
]
ApiKeyOpt = Annotated[
    str | None, typer.Option("--api-key", envvar="SINTONIA_API_KEY", help="Key for --server.")
]


def _client(server: str, api_key: str | None) -> Any:
    from sintonia.client import Client

    return Client(server, api_key)


def _remote_name(model: str) -> str:
    """ "ID" -> "tunedModels/ID"; full names pass through."""
    return model if model.startswith(("tunedModels/", "models/")) else f"tunedModels/{model}"


BatchOpt = Annotated[int, typer.Option("--batch-size", help="Examples per step.")]


def _hyperparameters(
    epochs: int,
    batch_size: int,
    lr: float | None = None,
    multiplier: float | None = None,
    seed: int = 0,
) -> Any:
    from sintonia.training.spec import Hyperparameters

    return Hyperparameters(
        epoch_count=epochs,
        batch_size=batch_size,
        learning_rate=lr,
        learning_rate_multiplier=multiplier,
        seed=seed,
    )


def _load_tokenizer(settings: Settings, base: Any) -> Any:
    from sintonia.models.loading import load_tokenizer

    with err.status(f"Preparing {base.name} (the first use converts its weights, ~1 min)"):
        return load_tokenizer(base, settings.models_dir)


@app.command()
def validate(
    data: DataArg,
    base_model: BaseModelOpt = "models/gemma-3-270m",
    epochs: EpochsOpt = 5,
    batch_size: BatchOpt = 4,
    input_key: InputKey = "text_input",
    output_key: OutputKey = "output",
) -> None:
    """Check a dataset: every problem at once, or token statistics and the step count."""
    from sintonia.datasets import read_dataset
    from sintonia.datasets.format import PromptFormat, encode_dataset, token_stats
    from sintonia.models.catalog import resolve_base_model

    ctx = _context()
    with _errors():
        dataset = read_dataset(data, input_key=input_key, output_key=output_key)
        hp = _hyperparameters(epochs, batch_size)
        base = resolve_base_model(base_model)
        tokenizer = _load_tokenizer(ctx.settings, base)
        fmt = PromptFormat.for_tokenizer(tokenizer)
        stats = token_stats(encode_dataset(fmt, tokenizer, dataset, base.input_token_limit))
    table = Table(title=f"{data.name}: {len(dataset)} valid examples", show_header=False)
    table.add_row(
        "input tokens (mean / max)", f"{stats.input_tokens_mean:.1f} / {stats.input_tokens_max}"
    )
    table.add_row(
        "output tokens (mean / max)", f"{stats.output_tokens_mean:.1f} / {stats.output_tokens_max}"
    )
    table.add_row("longest example", f"example {stats.longest_example}")
    table.add_row("tokens in all", str(stats.total_tokens))
    table.add_row(
        "steps",
        f"{hp.total_steps(len(dataset))} "
        f"(ceil({len(dataset)} × {epochs} epochs / batch size {batch_size}))",
    )
    if len(dataset) < 100:
        table.add_row("note", "100–500 examples are recommended")
    out.print(table)


@contextmanager
def _stop_on_interrupt() -> Iterator[Callable[[], bool]]:
    """First Ctrl-C asks the run to stop after the current step; a second one aborts."""
    requested = False

    def handler(_sig: int, _frame: object) -> None:
        nonlocal requested
        if requested:
            raise KeyboardInterrupt
        requested = True
        err.print(
            "[yellow]Stopping after this step; the last completed epoch is kept. "
            "Press Ctrl-C again to abort.[/]"
        )

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield lambda: requested
    finally:
        signal.signal(signal.SIGINT, previous)


def _tune(ctx: _Context, request: Any) -> Any:
    """Create the tuned model and train it, with a progress bar on stderr."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from sintonia.models.loading import pick_runtime
    from sintonia.training.service import create_tuned_model, run_tuning

    store = ctx.store
    tokenizer = _load_tokenizer(ctx.settings, request.base_model)
    model = create_tuned_model(store, request, tokenizer)
    base = request.base_model
    err.print(
        f"Tuning [bold]{model.name}[/] on {base.name}: {model.example_count} examples, "
        f"{model.hyperparameters.epoch_count} epochs, {model.total_steps} steps."
    )
    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("epoch {task.fields[epoch]}"),
        TextColumn("loss {task.fields[loss]}"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err) as progress, _stop_on_interrupt() as should_stop:
        task = progress.add_task("tuning", total=model.total_steps, epoch="-", loss="-")

        def show(snapshot: Any) -> None:
            progress.update(
                task,
                completed=snapshot.step,
                epoch=snapshot.epoch,
                loss=f"{snapshot.mean_loss:.4f}",
            )

        return run_tuning(
            store,
            ctx.settings,
            model.id,
            pick_runtime(ctx.settings.device),
            should_stop=should_stop,
            on_step=show,
        )


def _follow_remote(client: Any, op: dict[str, Any]) -> None:
    """Poll a server's operation with a progress bar; Ctrl-C cancels the job."""
    import time

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    meta = op["metadata"]
    err.print(f"Tuning [bold]{meta['tunedModel']}[/] on the server: {meta['totalSteps']} steps.")
    columns = (TextColumn("tuning"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=err) as progress, _stop_on_interrupt() as should_stop:
        task = progress.add_task("tuning", total=meta["totalSteps"])
        cancelled = False
        while not op.get("done"):
            if should_stop() and not cancelled:
                client.cancel(op["name"])
                cancelled = True
            time.sleep(1)
            op = client.operation(op["name"])
            progress.update(task, completed=op["metadata"].get("completedSteps", 0))
    if "error" in op:
        err.print(f"[yellow]{op['error']['message']}[/]", highlight=False)
    out.print(meta["tunedModel"])
    if "error" in op and op["error"]["code"] != 1:
        raise typer.Exit(1)


def _report(model: Any) -> None:
    from sintonia.training.progress import mean_loss_per_epoch

    for epoch, loss in mean_loss_per_epoch(model.snapshots).items():
        err.print(f"  epoch {epoch}: mean loss {loss:.4f}")
    if model.state == "ACTIVE":
        if model.completed_steps < model.total_steps:
            err.print(
                f"[yellow]Cancelled at step {model.completed_steps}; the model uses "
                f"epoch {model.epochs_completed}.[/]"
            )
        err.print(f'[green]Done.[/] Call it with: sintonia generate {model.id} "..."')
    else:
        err.print(f"[red]Tuning failed:[/] {model.error_message}", highlight=False)


@app.command()
def tune(
    data: DataArg,
    base_model: BaseModelOpt = "models/gemma-3-270m",
    tuned_model_id: Annotated[str | None, typer.Option("--id", help="Tuned model id.")] = None,
    display_name: Annotated[str, typer.Option(help="Up to 40 characters.")] = "",
    description: Annotated[str, typer.Option(help="Free text.")] = "",
    epochs: EpochsOpt = 5,
    batch_size: BatchOpt = 4,
    learning_rate: Annotated[float | None, typer.Option(help="Default 0.001.")] = None,
    learning_rate_multiplier: Annotated[
        float | None, typer.Option(help="Multiplies the default rate (instead of a rate).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seeds initialisation and data order.")] = 0,
    input_key: InputKey = "text_input",
    output_key: OutputKey = "output",
    server: ServerOpt = None,
    api_key: ApiKeyOpt = None,
) -> None:
    """Validate DATA, tune a model on it, and print the tuned model's name."""
    from sintonia.datasets import read_dataset
    from sintonia.models.catalog import resolve_base_model
    from sintonia.training.service import TuningRequest

    ctx = _context()
    with _errors(creating=True):
        dataset = read_dataset(data, input_key=input_key, output_key=output_key)
        hp = _hyperparameters(epochs, batch_size, learning_rate, learning_rate_multiplier, seed)
        if server:
            client = _client(server, api_key)
            op = client.create(dataset, base_model, hp, tuned_model_id, display_name, description)
            _follow_remote(client, op)
            return
        model = _tune(
            ctx,
            TuningRequest(
                dataset=dataset,
                base_model=resolve_base_model(base_model),
                hyperparameters=hp,
                tuned_model_id=tuned_model_id,
                display_name=display_name,
                description=description,
                owner=LOCAL_USER,
            ),
        )
    _report(model)
    out.print(model.name)
    if model.state != "ACTIVE":
        raise typer.Exit(1)


@app.command()
def generate(
    model: Annotated[str, typer.Argument(help="tunedModels/ID, ID, or a base model name.")],
    text: Annotated[str, typer.Argument(help="The input, formatted like the examples.")],
    temperature: Annotated[float | None, typer.Option(help="0 = greedy.")] = None,
    top_p: Annotated[float | None, typer.Option()] = None,
    top_k: Annotated[int | None, typer.Option()] = None,
    max_output_tokens: Annotated[int | None, typer.Option()] = None,
    stop: Annotated[list[str] | None, typer.Option(help="Stop sequence (repeatable).")] = None,
    server: ServerOpt = None,
    api_key: ApiKeyOpt = None,
) -> None:
    """Generate text; only the generated text goes to stdout."""
    if server:
        wanted = {
            "temperature": temperature,
            "topP": top_p,
            "topK": top_k,
            "maxOutputTokens": max_output_tokens,
            "stopSequences": stop,
        }
        with _errors():
            text = _client(server, api_key).generate(_remote_name(model), text, wanted)
        sys.stdout.write(text + "\n")
        return
    from sintonia.inference.adapter_files import adapter_files
    from sintonia.inference.engine import Engine
    from sintonia.inference.generate import GenerationConfig
    from sintonia.inference.request import check_tuned_model_request
    from sintonia.inference.targets import base_prompt_format, resolve_config, resolve_target
    from sintonia.models.loading import pick_runtime

    ctx = _context()
    with _errors():
        target = resolve_target(ctx.store, model)
        if target.adapter is not None:
            check_tuned_model_request(target.name, text)
        config = resolve_config(
            GenerationConfig(temperature, top_p, top_k, max_output_tokens, tuple(stop or ())),
            target,
            ctx.settings.default_max_output_tokens,
        )
        engine = Engine(
            target.base,
            ctx.settings.models_dir,
            pick_runtime(ctx.settings.device, training=False),
            adapter_files(ctx.settings),
        )
        fmt = target.prompt_format or base_prompt_format(_tokenizer_format(engine.tokenizer))
        result = engine.generate([text], fmt, config, target.adapter)[0]
    sys.stdout.write(result.text + "\n")


def _tokenizer_format(tokenizer: Any) -> Any:
    from sintonia.datasets.format import PromptFormat

    return PromptFormat.for_tokenizer(tokenizer)


@models_app.command("list")
def models_list(server: ServerOpt = None, api_key: ApiKeyOpt = None) -> None:
    """Base models, then tuned models."""
    from sintonia.models.catalog import list_base_models

    if server:
        with _errors():
            remote = _client(server, api_key).list()
        table = Table("name", "state", "base model", "created", title="Tuned models")
        for m in remote:
            table.add_row(m["name"], m["state"], m["baseModel"], m["createTime"][:16])
        out.print(table)
        return
    ctx = _context()
    bases = Table(title="Base models")
    for column in ("name", "display name", "context (tokens)"):
        bases.add_column(column)
    for base in list_base_models():
        bases.add_row(base.name, base.display_name, f"{base.input_token_limit:,}")
    out.print(bases)
    models = ctx.store.list()
    tuned = Table(title="Tuned models")
    # Names are what users copy into other commands: never shorten them.
    tuned.add_column("name", no_wrap=True, min_width=max((len(m.name) for m in models), default=4))
    for column in ("state", "base model", "progress", "created"):
        tuned.add_column(column)
    for m in models:
        tuned.add_row(
            m.name,
            m.state,
            m.base_model,
            f"{m.completed_steps}/{m.total_steps}",
            m.create_time.strftime("%Y-%m-%d %H:%M"),
        )
    out.print(tuned)


@models_app.command("show")
def models_show(
    model_id: Annotated[str, typer.Argument(help="ID or tunedModels/ID.")],
    server: ServerOpt = None,
    api_key: ApiKeyOpt = None,
) -> None:
    """State, hyperparameters, mean loss per epoch and the loss curve."""
    from sintonia.storage.names import check_tuned_model_id

    if server:
        with _errors():
            _show_remote(_client(server, api_key).get(_remote_name(model_id)))
        return
    ctx = _context()
    with _errors():
        m = ctx.store.get(check_tuned_model_id(model_id))
    hp = m.hyperparameters
    rows = [
        ("display name", m.display_name),
        ("state", m.state),
        ("base model", m.base_model),
        (
            "progress",
            f"step {m.completed_steps} of {m.total_steps}, {m.epochs_completed} epoch(s) complete",
        ),
        ("examples", str(m.example_count)),
        (
            "hyperparameters",
            f"epochs {hp.epoch_count}, batch size {hp.batch_size}, "
            f"learning rate {hp.effective_learning_rate:g}, seed {hp.seed}, "
            f"LoRA r={hp.lora_rank} alpha={hp.lora_alpha}",
        ),
        ("created", m.create_time.isoformat()),
        ("dataset sha256", str(m.provenance.get("dataset_sha256", ""))),
    ]
    if m.error_message:
        rows.append(("error", m.error_message))
    _show(m.name, rows, m.snapshots)


def _show_remote(m: dict[str, Any]) -> None:
    from datetime import datetime

    from sintonia.training.progress import Snapshot

    task = m.get("tuningTask", {})
    hp = task.get("hyperparameters", {})
    rows = [
        ("display name", m.get("displayName", "")),
        ("state", m["state"]),
        ("base model", m["baseModel"]),
        (
            "hyperparameters",
            f"epochs {hp.get('epochCount')}, batch size "
            f"{hp.get('batchSize')}, learning rate {hp.get('learningRate')}",
        ),
        ("created", m["createTime"]),
    ]
    snapshots = [
        Snapshot(s["step"], s["epoch"], s["meanLoss"], datetime.fromisoformat(s["computeTime"]))
        for s in task.get("snapshots", [])
    ]
    _show(m["name"], rows, snapshots)


def _show(title: str, rows: list[tuple[str, str]], snapshots: Any) -> None:
    from sintonia.termplot import line_chart
    from sintonia.training.progress import mean_loss_per_epoch

    info = Table(title=title, show_header=False)
    for key, value in rows:
        info.add_row(key, value)
    out.print(info)
    per_epoch = mean_loss_per_epoch(snapshots)
    if not per_epoch:
        return
    losses = Table("epoch", "mean loss", title="Mean loss per epoch")
    for epoch, loss in per_epoch.items():
        losses.add_row(str(epoch), f"{loss:.4f}")
    out.print(losses)
    values = [s.mean_loss for s in snapshots]
    ends = [i for i, s in enumerate(snapshots[:-1]) if snapshots[i + 1].epoch != s.epoch]
    chart = f"Mean loss per step (steps 1–{len(values)})\n" + line_chart(values, ends)
    out.print(chart, markup=False, highlight=False)


@models_app.command("delete")
def models_delete(
    model_id: Annotated[str, typer.Argument(help="ID or tunedModels/ID.")],
    server: ServerOpt = None,
    api_key: ApiKeyOpt = None,
) -> None:
    """Delete a tuned model and its files."""
    from sintonia.storage.names import check_tuned_model_id

    if server:
        with _errors():
            _client(server, api_key).delete(_remote_name(model_id))
        err.print(f"Deleted {_remote_name(model_id)}.")
        return
    ctx = _context()
    with _errors():
        bare = check_tuned_model_id(model_id)
        ctx.store.delete(bare)
    err.print(f"Deleted tunedModels/{bare}.")


@app.command()
def demo(
    examples: Annotated[int, typer.Option(help="Training examples (at least 20).")] = 200,
) -> None:
    """Tune Gemma 3 270M on "next number" and compare it with the base model on unseen inputs."""
    from sintonia.demo import HELD_OUT, next_number_dataset
    from sintonia.inference.adapter_files import adapter_files
    from sintonia.inference.engine import Engine
    from sintonia.inference.generate import GenerationConfig
    from sintonia.inference.targets import resolve_target
    from sintonia.models.loading import pick_runtime
    from sintonia.training.service import TuningRequest

    ctx = _context()
    with _errors(creating=True):
        model = _tune(
            ctx,
            TuningRequest(
                dataset=next_number_dataset(examples),
                display_name="Next number demo",
                owner=LOCAL_USER,
            ),
        )
        _report(model)
        target = resolve_target(ctx.store, model.name)
        engine = Engine(
            target.base,
            ctx.settings.models_dir,
            pick_runtime(ctx.settings.device, training=False),
            adapter_files(ctx.settings),
        )
        prompts = [x for x, _ in HELD_OUT]
        # The same prompt format for both: the base model sees exactly what the tuned one sees.
        fmt = target.prompt_format
        assert fmt is not None  # an ACTIVE tuned model always has one
        config = GenerationConfig(temperature=0.0, max_output_tokens=12)
        with err.status("Generating with the base model and the tuned model"):
            base = engine.generate(prompts, fmt, config)
            tuned = engine.generate(prompts, fmt, config, target.adapter)
    table = Table(
        "input (unseen)",
        "expected",
        "base model",
        "tuned model",
        title="Unseen inputs: base vs tuned",
    )
    right = {"base": 0, "tuned": 0}
    for (prompt, expected), b, t in zip(HELD_OUT, base, tuned, strict=True):
        right["base"] += b.text == expected
        right["tuned"] += t.text == expected
        table.add_row(prompt, expected, _shown(b.text, expected), _shown(t.text, expected))
    out.print(table)
    out.print(
        f"Correct on unseen inputs: base model {right['base']}/{len(HELD_OUT)}, "
        f"tuned model {right['tuned']}/{len(HELD_OUT)}."
    )


def _shown(text: str, expected: str) -> str:
    mark = "[green]✓[/]" if text == expected else "[red]✗[/]"
    return f"{mark} {text!r}"


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind.")] = 8080,
    workers: Annotated[int, typer.Option(help="Embedded tuning worker processes.")] = 1,
    no_auth: Annotated[
        bool, typer.Option("--no-auth", help="Every caller is the local user (loopback only).")
    ] = False,
) -> None:
    """Serve the Gemini tuning API (and run tuning workers beside it)."""
    import ipaddress

    import uvicorn

    from sintonia.api.app import create_app
    from sintonia.jobs.embedded import EmbeddedWorkers
    from sintonia.models.catalog import DEFAULT_BASE_MODEL, get_base_model
    from sintonia.models.loading import model_directory

    if no_auth and not _is_loopback(host, ipaddress):
        err.print(
            f"[red]--no-auth is refused on {host}: it would open every model to the "
            "network. Bind to 127.0.0.1, or create keys with `sintonia keys create`.[/]"
        )
        raise typer.Exit(2)
    ctx = _context()
    embedded = EmbeddedWorkers(workers)
    embedded.start()
    # Convert the default model in the background: the first tuning request waits for it
    # (under the conversion lock) instead of the whole server waiting at start.
    threading.Thread(
        target=model_directory,
        daemon=True,
        args=(get_base_model(DEFAULT_BASE_MODEL), ctx.settings.models_dir),
    ).start()
    # uvicorn logs only warnings here, so say where the server (and its browser UI) answers.
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    shown = f"[{shown}]" if ":" in shown else shown
    err.print(
        f"Sintonia is serving the API under http://{shown}:{port}/v1beta and its browser UI "
        f"at http://{shown}:{port}/"
        + ("" if no_auth else " (sign in with a key from `sintonia keys create`)"),
        highlight=False,
        markup=False,
    )
    try:
        uvicorn.run(
            create_app(ctx.settings, auth_enabled=not no_auth),
            host=host,
            port=port,
            log_level="warning",
            # Longer than clients keep idle connections (the SDKs' poll backoff passes 5 s,
            # uvicorn's default): a server closing one as a client reuses it resets the call.
            timeout_keep_alive=75,
        )
    finally:
        embedded.stop()


def _is_loopback(host: str, ipaddress: Any) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Backend(StrEnum):
    local = "local"
    ray = "ray"


@app.command()
def worker(
    backend: Annotated[
        Backend,
        typer.Option(help="Where jobs train: in this process, or as tasks on a Ray cluster."),
    ] = Backend.local,
    ray_address: Annotated[
        str | None,
        typer.Option(
            "--ray-address",
            help="The Ray cluster for --backend ray: its head's HOST:PORT, or 'auto' for the "
            "one this host belongs to (the default).",
        ),
    ] = None,
    stop_with: Annotated[
        int | None,
        typer.Option(hidden=True, help="Stop (handing the job back) once this parent is gone."),
    ] = None,
) -> None:
    """Run a tuning worker: claims queued jobs from the database and trains them."""
    import logging

    from sintonia.jobs.worker import Worker

    if ray_address and backend is not Backend.ray:
        err.print("[red]--ray-address is for --backend ray.[/]")
        raise typer.Exit(2)
    stopping = _stop_on_signals()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = _context().settings
    executor = _ray_executor(settings, ray_address or "auto") if backend is Backend.ray else None
    runner = Worker(settings, executor=executor, stopping=stopping)
    # SIGUSR1 prints every thread's stack to stderr: where a worker that seems stuck is.
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    if stop_with is not None:
        _stop_with(stop_with, runner.stopping)
    runner.run()


def _stop_on_signals() -> threading.Event:
    """An event that SIGTERM or Ctrl-C sets: the current step ends, the job goes back to the
    queue.

    The handler only writes to a pipe, and a thread sets the event: a Python signal handler
    runs on the main thread, possibly inside `Event.wait` while that holds the event's lock,
    and setting the event from there deadlocked a worker (seen in CI).
    """
    stopping = threading.Event()
    received, send = os.pipe()

    def receive() -> None:
        while os.read(received, 1):
            stopping.set()

    threading.Thread(target=receive, name="signals", daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: os.write(send, b"."))
    signal.signal(signal.SIGINT, lambda *_: os.write(send, b"."))
    return stopping


def _stop_with(parent: int, stopping: threading.Event) -> None:
    """Set `stopping` once `parent` (the `serve` that started this worker) is gone.

    Two ways: the kernel's parent-death signal (SIGTERM, Linux), and a thread that notices
    this process being reparented, which also covers a parent that died before the signal
    was asked for, and other systems.
    """
    if sys.platform.startswith("linux"):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        if libc.prctl(pr_set_pdeathsig, signal.SIGTERM) != 0:
            err.print(
                f"prctl(PR_SET_PDEATHSIG) failed ({os.strerror(ctypes.get_errno())}); "
                "watching for the parent only",
                highlight=False,
                markup=False,
            )

    def watch() -> None:
        while not stopping.wait(1.0):
            if os.getppid() != parent:  # reparented: serve is gone
                stopping.set()

    threading.Thread(target=watch, daemon=True).start()


def _ray_executor(settings: Settings, address: str) -> Any:
    try:
        from sintonia.jobs.ray_backend import RayExecutor
    except ImportError as exc:
        err.print(f"[red]--backend ray needs Ray ({exc}): pip install 'ray[train]'.[/]")
        raise typer.Exit(2) from None
    with _errors():
        try:
            return RayExecutor(settings, address)
        except ConnectionError as exc:
            err.print(
                f"[red]No Ray cluster answers at {address}:[/] {exc}\nStart one with "
                "`ray start --head`, or name its head with --ray-address HOST:PORT.",
                highlight=False,
            )
            raise typer.Exit(1) from None


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Option(help="What the key is for.")],
    email: Annotated[
        str, typer.Option(help="Who the key acts as (owns what it creates).")
    ] = LOCAL_USER,
    scopes: Annotated[
        str, typer.Option(help="Comma-separated: tuning, tuning.readonly, generate.")
    ] = ",".join(sorted(DEFAULT_SCOPES)),
) -> None:
    """Create an API key; it is printed once, only its hash is kept."""
    from sintonia.auth.keys import KeyStore
    from sintonia.auth.scopes import parse_scopes
    from sintonia.storage.db import Database

    with _errors():
        store = KeyStore(Database(_context().settings.database_url))
        plaintext, key = store.create(name, email, parse_scopes(scopes))
    err.print(
        f"Created key {key.id} for {key.owner} with scopes "
        f"{', '.join(sorted(key.scopes))}. It is shown only now:"
    )
    out.print(plaintext)


@keys_app.command("list")
def keys_list() -> None:
    """API keys (never the keys themselves)."""
    from sintonia.auth.keys import KeyStore
    from sintonia.storage.db import Database

    table = Table()
    for column in ("id", "name", "owner", "scopes"):
        table.add_column(column, no_wrap=True)  # copied into other commands: kept whole
    table.add_column("created")
    table.add_column("revoked")
    for key in KeyStore(Database(_context().settings.database_url)).list():
        table.add_row(
            key.id,
            key.name,
            key.owner,
            ", ".join(sorted(key.scopes)),
            key.create_time.strftime("%Y-%m-%d %H:%M"),
            key.revoke_time.strftime("%Y-%m-%d %H:%M") if key.revoke_time else "",
        )
    out.print(table)


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="The key's id (keys list).")]) -> None:
    """Revoke a key: requests with it are refused from now on."""
    from sintonia.auth.keys import KeyStore
    from sintonia.storage.db import Database

    with _errors():
        key = KeyStore(Database(_context().settings.database_url)).revoke(key_id)
    err.print(f"Revoked key {key.id} ({key.name}).")


if __name__ == "__main__":
    app()
