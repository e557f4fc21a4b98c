"""``harness run``: the whole comparison in one command (train, evaluate, publish)."""

from __future__ import annotations

import argparse
import sys

from harness.commands.config import (
    TRAINING_KEYS,
    add_config_args,
    add_field_flags,
    config_from_args,
)
from harness.commands.eval import LOAD_KEYS
from harness.config import Config


def add_to(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("run", help="train methods, evaluate every RM, publish")
    parser.add_argument("--models", default="vanilla,rrm,crome",
                        help="methods to train: any of vanilla, rrm, crome")
    parser.add_argument("--eval-model", action="append", default=[],
                        help="an outside RM to evaluate too (Hub id or path; repeatable)")
    parser.add_argument("--name", default=None, help="run name (default: default-<config hash>)")
    parser.add_argument("--runs-dir", default="runs", help="where runs are stored")
    add_field_flags(parser, TRAINING_KEYS)
    # Not model.form's flag: a run may train both forms.
    parser.add_argument("--form", default=None,
                        help="bt | pairpm | bt,pairpm (both forms, every method)")
    parser.add_argument("--new-run", action="store_true",
                        help="when --name holds a run with other settings, data or code, start "
                             "a new run under the next free name (NAME-2, ...) instead of "
                             "refusing")
    parser.add_argument("--no-progress", action="store_true")
    add_config_args(parser)
    add_field_flags(parser, LOAD_KEYS)
    parser.set_defaults(func=run)


def run_config(args: argparse.Namespace) -> tuple[Config, list[str] | None]:
    """(the config, the forms ``--form`` asks for): one form is the config's model.form."""
    config = config_from_args(args)
    forms = [f.strip() for f in (args.form or "").split(",") if f.strip()] or None
    if forms and len(forms) == 1:
        config.set_value("model.form", forms[0])
    return config, forms


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from harness.io import remove_if_unused
    from harness.locks import hold
    from harness.run import publish_run, run_all
    from harness.runstore import RunStore
    from harness.validate import check_run
    from leaderboards.publish import read_results
    from leaderboards.summary import print_summary

    config, forms = run_config(args)
    methods = [m.strip() for m in args.models.split(",") if m.strip()]
    # Every setting, name and the training data are checked before the card or any work.
    check_run(config, methods, forms, args.eval_model)
    name = args.name or f"default-{config.hash()}"
    store = RunStore(Path(args.runs_dir) / name, config)
    if args.new_run:
        store = next_free(store)
    created = not store.root.exists()
    store.root.mkdir(parents=True, exist_ok=True)
    with hold(store.root, "--name") as stale:
        if stale:
            print(f"taking over {store.root} from pid {stale.get('pid')} (no longer running); "
                  "resuming", file=sys.stderr)
        try:
            store.open(sys.argv[1:] if args.func is run else [])
            run_all(config, methods, store, forms=forms, eval_models=args.eval_model,
                    show_progress=not args.no_progress)
            board = publish_run(store)
        except BaseException:
            if created:  # removed while still held, so no other process is inside
                remove_if_unused(store.root)
            raise
    print_summary(read_results([store.root])[0])  # entries with their eval folders
    print(f"\nrun folder: {store.root}\nleaderboard: {board}")
    return 0


def next_free(store):
    """This store when its folder is new or holds this same run, else NAME-2, NAME-3, ..."""
    from harness.runstore import RunStore

    base, n = store.root, 1
    while store.conflict():
        n += 1
        store = RunStore(base.with_name(f"{base.name}-{n}"), store.config)
    if n > 1:
        print(f"{base} holds another run: this one is {store.root}", file=sys.stderr)
    return store

