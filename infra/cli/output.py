"""What every `slotwise` command shares: the consoles (data on stdout, messages and progress on stderr), the exit
codes a failure maps to, JSON output, the time window options, the progress bar and who the operator is."""

from __future__ import annotations

import contextlib
import getpass
import json
import sys
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from infra.cli.target import FAILURE, UNREACHABLE, USAGE, TargetUnreachable, UsageError

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False)


def fail(code: int, message: str) -> typer.Exit:
    err.print(f"error: {message}", markup=False)
    return typer.Exit(code)


@contextlib.contextmanager
def handled() -> Iterator[None]:
    """Map what went wrong to the exit codes scripts rely on."""
    from botocore.exceptions import BotoCoreError, ClientError
    from pydantic import ValidationError

    from slotwise import errors

    try:
        yield
    except TargetUnreachable as exc:
        raise fail(UNREACHABLE, str(exc)) from exc
    except UsageError as exc:
        raise fail(USAGE, str(exc)) from exc
    except ValidationError as exc:
        raise fail(USAGE, "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())) from exc
    except errors.DependencyUnavailable as exc:
        raise fail(UNREACHABLE, exc.detail) from exc
    except (errors.ValidationFailed, errors.BadRequest) as exc:
        raise fail(USAGE, exc.detail) from exc
    except errors.NotFound as exc:
        raise fail(USAGE if exc.code == "queue_not_found" else FAILURE, exc.detail) from exc
    except errors.SlotwiseError as exc:
        raise fail(FAILURE, exc.detail) from exc
    except (BotoCoreError, ClientError) as exc:
        # The endpoint went away mid-command, or AWS refused the credentials: the target, not the command.
        raise fail(UNREACHABLE, f"{type(exc).__name__}: {exc}") from exc


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, default=str) + "\n")


def when(text: str, option: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise fail(USAGE, f"{option}: not an ISO 8601 time: {text!r}") from exc
    if value.tzinfo is None:
        raise fail(USAGE, f"{option}: give an offset (Z or +02:00): {text!r}")
    return value


def window(frm: str, to: str) -> tuple[datetime, datetime]:
    start, end = when(frm, "--from"), when(to, "--to")
    if end <= start:
        raise fail(USAGE, "--to must be after --from")
    return start, end


def progress_bar() -> Progress:
    """Progress on stderr, only on a terminal: scripts reading stdout (or --json) see none of it."""
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )


def operator() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"
