"""Environments as code in the web admin: export the list as an environments file, import one
(plan, then apply). The same engine as the `envadmin` command, through the backend with the
signed-in user's own rights: a viewer may plan, and each change they apply is refused (403)."""

import secrets

from django.http import HttpResponse
from django.shortcuts import render
from django.views import View

from envadmin.gitops import engine, files
from envadmin.gitops.engine import Refused

from ..gitops_target import BackendTarget, contract_problems
from .base import PageView

SESSION_KEY = "gitops_plan"


def yaml_response(backend, caller, documents: list[dict]) -> HttpResponse:
    target = BackendTarget(backend, caller)
    text = files.write(engine.exported(documents, engine.Org.of(target)))
    response = HttpResponse(text, content_type="application/yaml; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="environments.yaml"'
    return response


class ImportView(PageView, View):
    template_name = "environments/import.html"

    def get(self, request):
        return self.page()

    def page(self, status=200, **context):
        return render(request=self.request, template_name=self.template_name, status=status,
                      context={**self.base_context(), **context})  # fmt: skip

    def post(self, request):
        if request.POST.get("action") == "apply":
            return self.apply()
        prune = request.POST.get("prune") == "on"
        try:
            text = self.uploaded_text()
            the_file = files.read(text)
            problems = contract_problems(the_file)
            if problems:
                raise files.FileError(problems)
            target = BackendTarget(self.backend, self.caller)
            plan = engine.make_plan(target, the_file, prune=prune)
        except files.FileError as error:
            return self.page(400, problems=error.problems, text=self.pasted(), prune=prune)
        except Refused as error:
            return self.page(400, problems=[f"{error.status} {error.message}"], prune=prune)
        plan_id = secrets.token_urlsafe(16)
        request.session[SESSION_KEY] = {"id": plan_id, "plan": plan}
        summary = engine.counts(plan)
        return self.page(plan=plan, summary=summary, unchanged=summary["no change"],
                         plan_id=plan_id, changes=engine.has_changes(plan), text=self.pasted(),
                         prune=prune)  # fmt: skip

    def pasted(self) -> str:
        text = self.request.POST.get("text") or ""
        return text if len(text) <= 200_000 else ""  # a huge paste is not echoed back

    def uploaded_text(self) -> str:
        upload = self.request.FILES.get("file")
        if upload is None:
            text = self.request.POST.get("text") or ""
            if not text.strip():
                raise files.FileError(["Paste an environments file or choose one to upload."])
            return text
        if upload.size > files.MAX_FILE_BYTES:
            raise files.FileError([f"The file is larger than {files.MAX_FILE_BYTES:,} bytes."])
        try:
            return upload.read().decode("utf-8")
        except UnicodeDecodeError:
            raise files.FileError(["The file is not UTF-8 text."]) from None

    def apply(self):
        saved = self.request.session.get(SESSION_KEY) or {}
        if not saved or saved.get("id") != self.request.POST.get("plan_id"):
            problem = "This plan is no longer the current one: plan the file again."
            return self.page(409, problems=[problem])
        del self.request.session[SESSION_KEY]
        results = engine.apply_plan(BackendTarget(self.backend, self.caller), saved["plan"])
        return self.page(results=results, failed=engine.failed(results))
