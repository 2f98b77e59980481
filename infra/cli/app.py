"""The `slotwise` console script: operators' commands against the local runtime or a deployed stack (docs/cli.md).

Every command answers `--help`, prints JSON with `--json`, and exits 0 (done), 1 (it failed), 2 (usage: a wrong
option or value) or 3 (the stack cannot be reached). The work itself is the layer's (`slotwise.ops`); this module
parses, reports progress on stderr and prints.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.table import Table

from infra.cli import doctor as doctor_checks
from infra.cli.output import err, fail, handled, operator, out, print_json, progress_bar, window
from infra.cli.target import DEFAULT_STATE_DIR, FAILURE, USAGE, Target, TargetOptions, connect
from slotwise.topology import TOPOLOGY

app = typer.Typer(
    name="slotwise",
    help="Operate a Slotwise stack: the local runtime by default, a deployed one with --stack NAME --profile P.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
users_app = typer.Typer(help="Accounts an operator makes.", no_args_is_help=True)
dlq_app = typer.Typer(help="Dead-letter queues: depths, messages, redrive.", no_args_is_help=True)
events_app = typer.Typer(help="Domain events: replay from the table's stream.", no_args_is_help=True)
bookings_app = typer.Typer(help="Bookings: export.", no_args_is_help=True)
jobs_app = typer.Typer(help="Scheduled jobs (what `make tick` runs).", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(dlq_app, name="dlq")
app.add_typer(events_app, name="events")
app.add_typer(bookings_app, name="bookings")
app.add_typer(jobs_app, name="jobs")

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON (for scripts) instead of text.")]
QueueName = Annotated[str, typer.Argument(help=f"Work queue: {', '.join(q.name for q in TOPOLOGY.queues)}.")]
From = Annotated[str, typer.Option("--from", help="Window start, ISO 8601 with an offset (2026-05-01T00:00:00Z).")]
To = Annotated[str, typer.Option("--to", help="Window end (excluded), ISO 8601 with an offset.")]


@app.callback()
def root(
    ctx: typer.Context,
    stack: Annotated[
        str | None, typer.Option("--stack", envvar="SLOTWISE_STACK", help="A deployed stack's CloudFormation name.")
    ] = None,
    profile: Annotated[str | None, typer.Option("--profile", help="AWS profile for --stack.")] = None,
    region: Annotated[str | None, typer.Option("--region", help="AWS region for --stack.")] = None,
    state_dir: Annotated[
        Path,
        typer.Option("--state-dir", envvar="SLOTWISE_STATE_DIR", help="The local runtime's state folder."),
    ] = DEFAULT_STATE_DIR,
) -> None:
    ctx.obj = TargetOptions(stack=stack, profile=profile, region=region, state_dir=state_dir)


def _target(ctx: typer.Context) -> Target:
    options: TargetOptions = ctx.obj
    with handled():
        return connect(options)


# ----------------------------------------------------------------------------------------------------------- users


@users_app.command("create-admin")
def create_admin(
    ctx: typer.Context,
    email: Annotated[str, typer.Option("--email", help="The admin's e-mail address (their sign-in).")],
    name: Annotated[str, typer.Option("--name", help="Display name.")] = "Admin",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from the first line of stdin (scripts).")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Make an active admin with a password (asked twice, hidden, unless --password-stdin)."""
    from slotwise.ops.admins import AdminInput
    from slotwise.ops.admins import create_admin as make_admin

    _target(ctx)  # an unreachable stack fails before the password is asked
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with handled():
        user = make_admin(AdminInput(email=email, name=name, password=password), operator=operator())
    if as_json:
        print_json(user.public())
    else:
        out.print(f"admin {user.email} created (id {user.id})", markup=False)


# ------------------------------------------------------------------------------------------------------------ seed


@app.command()
def seed(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Load the demo data (users with known passwords, venues, resources) into the local runtime; once only."""
    options: TargetOptions = ctx.obj
    if options.stack:
        raise fail(USAGE, "seed is for the local runtime: demo users have published passwords")
    _target(ctx)
    from infra.local import demo_data

    with handled():
        counts = demo_data.load()
    if as_json:
        print_json(counts)
    else:
        out.print("demo data: " + ", ".join(f"{n} {kind}" for kind, n in counts.items()), markup=False)


# ------------------------------------------------------------------------------------------------------------- dlq


@dlq_app.command("list")
def dlq_list(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Every work queue: messages waiting, in flight, and in its dead-letter queue."""
    from slotwise.ops import queues

    _target(ctx)
    with handled():
        items = queues.depths()
    if as_json:
        print_json({"items": items})
        return
    table = Table("queue", "visible", "in flight", "dead-letter queue", "dead-lettered")
    for item in items:
        dead = item["deadLetter"]
        table.add_row(item["name"], str(item["visible"]), str(item["inFlight"]), dead["name"], str(dead["visible"]))
    out.print(table)


@dlq_app.command("show")
def dlq_show(
    ctx: typer.Context,
    queue: QueueName,
    limit: Annotated[int, typer.Option("--limit", min=1, max=100, help="At most this many messages.")] = 10,
    as_json: JsonFlag = False,
) -> None:
    """The messages in a queue's dead-letter queue (left there): event id and type, receives, body."""
    from slotwise.ops import queues

    _target(ctx)
    with handled():
        messages = queues.dead_letters(queue, limit)
    if as_json:
        print_json({"queue": queue, "messages": messages})
        return
    if not messages:
        out.print(f"{queue}: its dead-letter queue is empty", markup=False)
    for message in messages:
        out.print(
            f"{message['messageId']}  {message['eventType'] or '-'}  {message['eventId'] or '-'}  "
            f"received {message['receiveCount']}x\n  {message['body'][:500]}",
            markup=False,
        )


@dlq_app.command("redrive")
def dlq_redrive(
    ctx: typer.Context,
    queue: QueueName,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1_000_000, help="Move at most this many.")] = 100_000,
    as_json: JsonFlag = False,
) -> None:
    """Move a queue's dead-lettered messages back to it, to be processed again (consumers deduplicate)."""
    from slotwise.ops import queue as sqs_queue
    from slotwise.ops import queues

    _target(ctx)
    moved = 0
    with handled():
        spec = queues.spec_of(queue)
        waiting, _ = sqs_queue.depth(spec.dlq_name)
        with progress_bar() as bar:
            task = bar.add_task(f"redrive {spec.dlq_name} → {spec.name}", total=min(waiting, limit) or None)
            while moved < limit:
                step = queues.redrive(spec.name, min(100, limit - moved), operator=operator())
                if step == 0:
                    break
                moved += step
                bar.update(task, completed=moved)
    if as_json:
        print_json({"queue": spec.name, "moved": moved})
    else:
        out.print(f"moved {moved} message(s) from {spec.dlq_name} back to {spec.name}", markup=False)


# ---------------------------------------------------------------------------------------------------------- events


@events_app.command("replay")
def events_replay(
    ctx: typer.Context,
    frm: From,
    to: To,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count the events, publish nothing.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Publish again the domain events of the changes made in [--from, --to) (the stream keeps 24 hours).

    Each event keeps its id, so consumers that handled it ignore it: a replay only fills what they missed."""
    from slotwise.ops.replay import replay

    start, end = window(frm, to)
    _target(ctx)
    with handled(), progress_bar() as bar:
        task = bar.add_task("stream shards", total=None)
        report = replay(
            start,
            end,
            dry_run=dry_run,
            on_shards=lambda n: bar.update(task, total=n),
            on_shard_done=lambda: bar.advance(task),
        )
    result = {"from": start.isoformat(), "to": end.isoformat(), "dryRun": dry_run, **report.public()}
    if as_json:
        print_json(result)
    else:
        verb = "would publish" if dry_run else "published"
        count = report.events if dry_run else report.published
        out.print(f"{report.records} change(s) in the window; {verb} {count} event(s)", markup=False)
        for kind, n in result["byType"].items():
            out.print(f"  {kind}: {n}", markup=False)
    if report.refused:
        raise fail(FAILURE, f"EventBridge refused {len(report.refused)} event(s): {', '.join(report.refused[:10])}")


# -------------------------------------------------------------------------------------------------------- bookings


@bookings_app.command("export")
def bookings_export(
    ctx: typer.Context,
    frm: From,
    to: To,
    fmt: Annotated[Literal["csv", "jsonl"], typer.Option("--format", help="csv (flat columns) or jsonl.")] = "csv",
    out_file: Annotated[Path | None, typer.Option("--out", help="Write here instead of stdout.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Every booking that starts in [--from, --to), read resource by resource from the indexes (no Scan).

    The data goes to --out or stdout; the summary (JSON with --json) to stdout with --out, else to stderr."""
    from slotwise.ops.export import CSV_COLUMNS, bookings_between, csv_row

    start, end = window(frm, to)
    _target(ctx)
    count = 0
    sink = out_file.open("w", newline="", encoding="utf-8") if out_file else sys.stdout
    try:
        writer = csv.DictWriter(sink, fieldnames=CSV_COLUMNS) if fmt == "csv" else None
        if writer is not None:
            writer.writeheader()
        with handled(), progress_bar() as bar:
            task = bar.add_task("resources", total=None)
            for booking in bookings_between(start, end, on_resource=lambda _: bar.advance(task)):
                if writer is not None:
                    writer.writerow(csv_row(booking))
                else:
                    sink.write(json.dumps(booking.public(), separators=(",", ":"), default=str) + "\n")
                count += 1
    finally:
        if out_file:
            sink.close()
        else:
            sink.flush()
    summary = {"from": start.isoformat(), "to": end.isoformat(), "format": fmt, "bookings": count}
    if out_file:
        summary["out"] = str(out_file)
    text = f"exported {count} booking(s)" + (f" to {out_file}" if out_file else "")
    if out_file and as_json:
        print_json(summary)
    elif out_file:
        out.print(text, markup=False)
    else:
        err.print(json.dumps(summary) if as_json else text, markup=False)


# ------------------------------------------------------------------------------------------------------------ jobs


@jobs_app.command("run")
def jobs_run(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help=f"Job: {', '.join(s.name for s in TOPOLOGY.schedules)}.")],
    as_json: JsonFlag = False,
) -> None:
    """Run one scheduled job now: in-process against the local runtime, or its function on a deployed stack."""
    from infra.cli import jobs

    schedule = next((s for s in TOPOLOGY.schedules if s.name == name), None)
    if schedule is None:
        known = ", ".join(s.name for s in TOPOLOGY.schedules)
        raise fail(USAGE, f"no job named {name!r} (jobs: {known})")
    target = _target(ctx)
    with handled():
        try:
            result = jobs.run(target, schedule)
        except jobs.JobFailed as exc:
            raise fail(FAILURE, str(exc)) from exc
    if as_json:
        print_json({"job": name, "result": result})
    else:
        out.print(f"job {name}: {json.dumps(result, default=str)}", markup=False)


# ---------------------------------------------------------------------------------------------------------- doctor


@app.command()
def doctor(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """What is up: Python, Java, Node, DynamoDB Local, moto, the API and its ports (or the stack's outputs).
    Exits 1 when anything is down or missing."""
    options: TargetOptions = ctx.obj
    checks = doctor_checks.run(options)
    if as_json:
        print_json({"ok": all(c.ok for c in checks), "checks": [c.public() for c in checks]})
    else:
        table = Table("check", "status", "detail")
        for check in checks:
            table.add_row(check.name, "ok" if check.ok else "DOWN", check.detail)
        out.print(table)
    if not all(check.ok for check in checks):
        raise typer.Exit(FAILURE)


def main() -> None:
    app()
