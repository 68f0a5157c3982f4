"""`envadmin export | plan | apply`: environments as code against any Run:ai API.

Exit codes follow Terraform's -detailed-exitcode: 0 nothing to change (or all applied), 2 a plan
with changes, 1 an error (a bad file, a refused connection, an item that failed to apply).
Results go to stdout (YAML, text or --json), progress to stderr.
"""

import argparse
import json
import os
import sys
from pathlib import Path

from envadmin.contract.inputs import InputError, load_yaml
from envadmin.gitops import engine, files
from envadmin.gitops.engine import Refused
from envadmin.gitops.http import HttpTarget

OK, ERROR, CHANGES = 0, 1, 2
SYMBOLS = {"create": "+", "update": "~", "delete": "-", "no change": "=", "refused": "!"}


def parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--url",
        default=os.environ.get("RUNAI_URL"),
        help="the Run:ai API (envadmin or a control plane); default $RUNAI_URL",
    )
    common.add_argument("--json", action="store_true", help="machine-readable output")
    top = argparse.ArgumentParser(
        prog="envadmin", description=__doc__.split("\n\n")[0],
        epilog="Credentials: RUNAI_CLIENT_ID and RUNAI_CLIENT_SECRET (client-credentials grant).",
    )  # fmt: skip
    commands = top.add_subparsers(dest="command", required=True)
    export = commands.add_parser("export", parents=[common], help="write environments as YAML")
    export.add_argument("--scope", choices=files.ASSET_SCOPES)
    node = export.add_mutually_exclusive_group()
    node.add_argument("--project-id")
    node.add_argument("--department-id")
    node.add_argument("--cluster-id")
    export.add_argument("--include-descendants", action="store_true")
    export.add_argument("--name")
    export.add_argument("--include-builtin", action="store_true")
    export.add_argument("-o", "--output", help="file to write (default: stdout)")
    plan = commands.add_parser("plan", parents=[common], help="compare a file with the target")
    plan.add_argument("file")
    plan.add_argument("--prune", action="store_true", help="delete what the file leaves out, "
                      "in the placements its `prune` list names")  # fmt: skip
    plan.add_argument("-o", "--output", help="save the plan (JSON) for `apply`")
    apply = commands.add_parser("apply", parents=[common], help="apply a file or a saved plan")
    apply.add_argument("file", help="an environments file or a plan saved by `plan -o`")
    apply.add_argument("--prune", action="store_true")
    apply.add_argument("--yes", action="store_true", help="do not ask before applying")
    return top


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    try:
        target = connect(args)
        return {"export": export, "plan": plan, "apply": apply}[args.command](args, target)
    except files.FileError as error:
        say(args, {"error": "invalid file", "problems": error.problems},
            "The file has problems; nothing was sent:\n" + "\n".join(
                f"  {p}" for p in error.problems))  # fmt: skip
    except (Refused, ValueError, OSError) as error:
        say(args, {"error": str(error)}, f"error: {error}")
    return ERROR


def connect(args) -> HttpTarget:
    client_id, secret = os.environ.get("RUNAI_CLIENT_ID"), os.environ.get("RUNAI_CLIENT_SECRET")
    if not args.url:
        raise ValueError("give the API's address with --url or RUNAI_URL.")
    if not client_id or not secret:
        raise ValueError("set RUNAI_CLIENT_ID and RUNAI_CLIENT_SECRET (a service account).")
    return HttpTarget(args.url, client_id, secret)


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def say(args, document, text: str) -> None:
    if args.json:
        print(json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True))
    else:
        print(text)


def read_text(path: str) -> str:
    """The file's text, read no further than the size bound (a huge file is not loaded)."""
    with open(path, "rb") as handle:
        data = handle.read(files.MAX_FILE_BYTES + 1)
    if len(data) > files.MAX_FILE_BYTES:
        raise files.FileError([f"The file is larger than {files.MAX_FILE_BYTES:,} bytes."])
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise files.FileError(["The file is not UTF-8 text."]) from None


# --- the commands ------------------------------------------------------------------------------


def export(args, target) -> int:
    params = {"scope": args.scope, "projectId": args.project_id, "name": args.name,
              "departmentId": args.department_id, "clusterId": args.cluster_id}  # fmt: skip
    if args.include_descendants:
        params["includeDescendants"] = "true"
    params = {key: value for key, value in params.items() if value}
    progress("Reading the org tree and the environments…")
    org = engine.Org.of(target)
    documents = target.environments(params)
    entries = engine.exported(documents, org, include_builtin=args.include_builtin)
    text = files.write(entries)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        progress(f"Wrote {len(entries)} environments to {args.output}.")
    else:
        sys.stdout.write(text)
    return OK


def plan(args, target) -> int:
    the_file = files.read(read_text(args.file))
    result = engine.make_plan(target, the_file, prune=args.prune, progress=progress)
    result["target"] = target.base_url
    if args.output:
        Path(args.output).write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
        progress(f"Saved the plan to {args.output}.")
    show_plan(args, result)
    if any(item["action"] == "refused" for item in result["items"]):
        return ERROR
    return CHANGES if engine.has_changes(result) else OK


def show_plan(args, result: dict) -> None:
    totals = engine.counts(result)
    lines = []
    for item in result["items"]:
        if item["action"] == "no change":
            continue
        reason = f" ({item['reason']})" if item.get("reason") else ""
        lines.append(f"{SYMBOLS[item['action']]} {item['action']} {item['placement']} / "
                     f"{item['name']}{reason}")  # fmt: skip
        lines += [f"    {engine.diff.describe(change)}" for change in item.get("changes", ())]
    lines.append(
        f"Plan: {totals['create']} to create, {totals['update']} to update, "
        f"{totals['delete']} to delete, {totals['no change']} unchanged."
    )
    say(args, {**result, "summary": totals}, "\n".join(lines))


def apply(args, target) -> int:
    text = read_text(args.file)
    try:
        data = load_yaml(text, max_bytes=files.MAX_FILE_BYTES)
    except InputError as error:
        raise files.FileError([f"The file was refused: {error}"]) from None
    if engine.is_plan(data):
        if data.get("target") != target.base_url:
            raise ValueError(f"the plan was made against {data.get('target')}, "
                             f"not {target.base_url}.")  # fmt: skip
        if not isinstance(data.get("items"), list):
            raise ValueError("the plan has no items.")
        result = data
    else:
        result = engine.make_plan(target, files.read(text), prune=args.prune, progress=progress)
    if not engine.has_changes(result):
        say(args, {"results": []}, "Nothing to change.")
        return OK
    if not args.json:
        show_plan(args, result)
    if not args.yes and not confirm():
        say(args, {"error": "not applied"}, "Not applied.")
        return ERROR
    results = engine.apply_plan(target, result, progress=progress)
    lines = []
    for item in results:
        message = f": {item['message']}" if item.get("message") else ""
        lines.append(f"{item['placement']} / {item['name']}: {item['result']}{message}")
    say(args, {"results": results}, "\n".join(lines))
    return ERROR if engine.failed(results) else OK


def confirm() -> bool:
    print("Apply these changes? Type 'yes': ", end="", file=sys.stderr, flush=True)
    try:
        return input().strip().lower() == "yes"
    except EOFError:
        return False
