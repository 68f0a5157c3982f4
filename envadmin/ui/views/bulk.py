"""Bulk actions in the web admin: the list's toolbar posts here; a preview shows what each
row would become (and its compliance for the reviewed project); applying it leads to a summary
with each row's outcome and the way back (a revision to restore, the deleted list)."""

from urllib.parse import urlencode

from django.contrib import messages
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.functional import cached_property

from envadmin.backends.bulk import MAX_ITEMS, Bulk, parse
from envadmin.backends.revision_operations import creation_document
from envadmin.compliance.states import compliance_state
from envadmin.contract.environment import validate_creation
from envadmin.contract.errors import BackendError, InvalidRequest

from ..params import whole
from .environments import BULK_ACTIONS, EnvironmentListView

SUMMARY_KEY = "bulk_summary"
# Judging compliance twice per row is two backend calls: the preview judges this many rows.
COMPLIANCE_ROWS = 200
FIELDS = ("action", "image", "message", "replacement")


def _body(post, items: list[dict], dry_run: bool) -> dict:
    body = {"action": post.get("action"), "items": items, "dryRun": dry_run}
    for key in FIELDS[1:]:
        value = post.get(key, "").strip()
        if value:
            body[key] = value
    return body


def _was_active(action: str, result: dict) -> bool:
    if action not in ("deprecate", "archive") or result["status"] != 202:
        return False
    states = [c for c in result.get("changes") or () if c["field"] == "lifecycle.state"]
    return bool(states) and states[0]["before"] == "active"


class BulkPreviewView(EnvironmentListView):
    template_name = "environments/bulk_preview.html"

    @cached_property
    def query(self):
        return QueryDict(self.request.POST.get("query", "")[:4000])

    def list_url(self) -> str:
        query = self.query.urlencode()
        return reverse("environments:list") + (f"?{query}" if query else "")

    def selected(self) -> tuple[list[str], str]:
        """The ids to act on and, when "all matching" met the limit, a note saying so."""
        if self.request.POST.get("all_matching"):
            rows, total, error = self.window(0, MAX_ITEMS)
            if error:
                raise InvalidRequest(error)
            note = ""
            if total > MAX_ITEMS:
                note = (
                    f"{total} environments match the filters: this action takes the first "
                    f"{MAX_ITEMS} in the list's order. Apply it, then select the rest again."
                )
            return [row["id"] for row in rows], note
        ids = list(dict.fromkeys(self.request.POST.getlist("ids")))
        if len(ids) > MAX_ITEMS:
            raise InvalidRequest(f"At most {MAX_ITEMS} environments at once.")
        return ids, ""

    def get(self, request):
        return redirect("environments:list")

    def post(self, request):
        try:
            ids, note = self.selected()
        except InvalidRequest as error:
            messages.error(request, error.message)
            return redirect(self.list_url())
        if not ids:
            messages.error(request, "Select at least one environment, or all matching ones.")
            return redirect(self.list_url())
        context = {**self.base_context(), "ids": ids, "note": note, "post": request.POST,
                   "bulk_actions": BULK_ACTIONS, "back": self.list_url()}  # fmt: skip
        try:
            bulk = Bulk(
                self.backend,
                self.caller,
                parse(_body(request.POST, [{"id": i} for i in ids], True)),
            )
        except InvalidRequest as error:
            context.update(errors=error.field_errors, error=error.message)
            return render(request, self.template_name, context, status=400)
        results = bulk.run()
        project, kind = self.review_as()
        judge = project and bulk.request.action == "set-image" and len(results) <= COMPLIANCE_ROWS
        rows = []
        for result in results:
            document = bulk.documents.get(result["id"])
            row = {**result, "name": result["id"], "version": None}
            if document:
                row.update(name=document["meta"].get("name"),
                           version=document["meta"].get("updateCount"))  # fmt: skip
                if judge and result["status"] == 202 and result.get("changes"):
                    row["compliance"] = self.compliance_change(document, result, project, kind)
            rows.append(row)
        context.update(rows=rows, review_kind=kind if judge else "",
                       ready=sum(r["status"] == 202 for r in rows))  # fmt: skip
        return render(request, self.template_name, context)

    def compliance_change(self, document: dict, result: dict, project: int, kind: str):
        """(before, after) as (compliance, state) for the reviewed project and type."""
        params = {"complyToProject": str(project), "complyToWorkloadType": kind}
        try:
            judged = self.backend.get_environment(self.caller, result["id"], params)
            draft = creation_document(document)
            draft["spec"] = {**draft["spec"], "image": result["changes"][0]["after"]}
            after = self.backend.draft_compliance(
                self.caller, validate_creation(draft), project, kind, None
            )
        except BackendError:
            return None
        before = judged.get("compliance")
        return (
            (before, compliance_state(before, judged["meta"], kind)),
            (after, compliance_state(after, document["meta"], kind)),
        )


class BulkApplyView(BulkPreviewView):
    def post(self, request):
        items = []
        for value in request.POST.getlist("item")[: MAX_ITEMS + 1]:
            asset_id, _, version = value.rpartition(":")
            items.append({"id": asset_id, "ifMatch": whole(version)})
        try:
            bulk = Bulk(self.backend, self.caller, parse(_body(request.POST, items, False)))
        except InvalidRequest as error:
            messages.error(request, f"Nothing was changed: {error.message}")
            return redirect(self.list_url())
        results = bulk.run()
        names = {i: (d.get("meta") or {}).get("name") for i, d in bulk.documents.items()}
        request.session[SUMMARY_KEY] = {
            "action": bulk.request.action,
            "back": self.list_url(),
            "results": [{**r, "name": names.get(r["id"]) or r["id"]} for r in results],
        }
        return redirect("environments:bulk-summary")


class BulkSummaryView(EnvironmentListView):
    template_name = "environments/bulk_summary.html"

    def get(self, request):
        summary = request.session.get(SUMMARY_KEY)
        if not summary:
            return redirect("environments:list")
        labels = dict(BULK_ACTIONS)
        results = summary["results"]
        for result in results:
            revision = result.get("revision")
            if result["status"] != 202 or not revision:
                continue
            if summary["action"] == "delete":
                result["undo"] = (
                    f"{reverse('environments:deleted')}?{urlencode({'name': result['name']})}"
                )
            elif revision > 1:
                result["undo"] = reverse("environments:restore", args=[result["id"], revision - 1])
        context = {
            **self.base_context(),
            "action_label": labels.get(summary["action"], summary["action"]),
            "action": summary["action"],
            "results": results,
            "done": sum(r["status"] == 202 for r in results),
            "back": summary["back"],
            # Deprecated or archived from active: making them active again is the undo.
            "undo_lifecycle": [r["id"] for r in results if _was_active(summary["action"], r)],
        }
        return render(request, self.template_name, context)
