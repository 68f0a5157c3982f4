"""Pages for team leads and administrators: compliance review, policies, the org tree."""

import yaml
from django.contrib import messages
from django.shortcuts import redirect, render
from django.views import View

from envadmin.accounts.models import Role
from envadmin.compliance.states import NOT_SUPPORTED, compliance_state, policy_reasons
from envadmin.contract.choices import POLICY_SCOPES, WORKLOAD_TYPE_KEYS, WORKLOAD_TYPES
from envadmin.contract.errors import BackendError, InvalidRequest, PreconditionFailed
from envadmin.contract.inputs import InputError, load_yaml
from envadmin.contract.policy import POLICY_PATHS, policy_version
from envadmin.contract.policy_paths import flatten_rules

from ..export import csv_response
from ..params import whole
from .base import PageView

POLICY_KINDS = WORKLOAD_TYPE_KEYS
# A policy is a few kilobytes; the editor takes far more, and far less than would cost memory.
POLICY_YAML_MAX_BYTES = 256 * 1024
POLICY_MAX_NODES = 100_000


class ComplianceReviewView(PageView, View):
    """For one project: every environment it can see against the four workload types."""

    template_name = "compliance/review.html"

    def project(self):
        requested = self.request.GET.get("project", "")
        if whole(requested) in self.org.projects:
            return whole(requested)
        project, _ = self.review_as()
        return project or next(iter(sorted(self.org.projects)), None)

    def matrix(self, project):
        """(rows, counts): a row per environment with a cell {compliance, state} per workload
        type; per type, how many of the environments supporting it comply."""
        rows: dict[str, dict] = {}
        for kind in WORKLOAD_TYPES:
            params = {"projectId": str(project), "complyToProject": str(project),
                      "complyToWorkloadType": kind}  # fmt: skip
            for entry in self.backend.list_environments(self.caller, params)["entries"]:
                row = rows.setdefault(
                    entry["meta"]["id"],
                    {"id": entry["meta"]["id"], "name": entry["meta"]["name"],
                     "scope": self.org.scope_path(entry["meta"]), "cells": {}},
                )  # fmt: skip
                found = entry.get("compliance")
                state = compliance_state(found, entry["meta"], kind)
                row["cells"][kind] = {"compliance": found, "state": state}
        ordered = sorted(rows.values(), key=lambda r: r["name"].lower())
        counts = {}
        for kind in WORKLOAD_TYPES:
            states = [(r["cells"].get(kind) or {}).get("state", "") for r in ordered]
            supporting = [s for s in states if s not in ("", NOT_SUPPORTED)]
            counts[kind] = {
                "comply": sum(s in ("compliant", "imposed") for s in supporting),
                "supporting": len(supporting),
            }
        return ordered, counts

    def only_problems(self) -> bool:
        return self.request.GET.get("problems") == "1"

    def get(self, request):
        project = self.project()
        rows, counts, error = [], {}, None
        if project is not None:
            try:
                rows, counts = self.matrix(project)
            except BackendError as exc:
                error = exc.message
        total = len(rows)
        if self.only_problems():
            # A problem is a policy violation; "n/a" (type not supported) is none.
            rows = [r for r in rows if any(_violates(c) for c in r["cells"].values())]
        if request.GET.get("format") == "csv":
            return self.csv(rows)
        return render(
            request,
            self.template_name,
            {
                **self.base_context(),
                "project": project,
                "project_label": self.org.project_label(project) if project else "",
                "rows": rows,
                "total": total,
                "counts": counts,
                "only_problems": self.only_problems(),
                "error": error,
            },
        )

    def csv(self, rows):
        header = ["Environment", "Scope", *WORKLOAD_TYPES, "Reasons"]
        return csv_response("compliance.csv", header, self.csv_rows(rows))

    @staticmethod
    def csv_rows(rows):
        for row in rows:
            cells, reasons = [], []
            for kind in WORKLOAD_TYPES:
                cell = row["cells"].get(kind) or {}
                state = cell.get("state", "")
                cells.append(CSV_STATES.get(state, ""))
                found = policy_reasons(cell.get("compliance"), state)
                reasons += [f"{kind}: {r['details']}" for r in found]
            yield [row["name"], row["scope"], *cells, " | ".join(reasons)]


# The matrix CSV's words for compliance.states' states.
CSV_STATES = {
    "imposed": "imposed",
    "compliant": "compliant",
    "not-compliant": "not compliant",
    NOT_SUPPORTED: "n/a",
}


def _violates(cell: dict) -> bool:
    return cell.get("state") == "not-compliant"


class PolicyView(PageView, View):
    """A node's effective policy per workload type, each rule with its source; YAML editing."""

    template_name = "policies/page.html"

    def node_params(self):
        scope = self.request.GET.get("scope") or self.request.POST.get("scope") or "project"
        params = {"scope": scope}
        for key in ("projectId", "departmentId", "clusterId"):
            value = self.request.GET.get(key) or self.request.POST.get(key)
            if value:
                params[key] = value
        if scope == "project" and "projectId" not in params:
            project, _ = self.review_as()
            project = project or next(iter(sorted(self.org.projects)), None)
            if project is None:
                params = {"scope": "tenant"}
            else:
                params["projectId"] = str(project)
        return params

    def sections(self, params, drafts=None, errors=None):
        sections = []
        for kind, policy_type in POLICY_KINDS.items():
            path = next(p for p, t in POLICY_PATHS.items() if t == policy_type)
            try:
                document = self.backend.get_policy(self.caller, policy_type, params)
            except BackendError as error:
                sections.append({"kind": kind, "error": error.message, "path": path})
                continue
            rules = []
            for field, rule in sorted(flatten_rules(document["effective"].get("rules")).items()):
                if isinstance(rule, dict):
                    source = rule.get("sourceOfRule") or {}
                    shown = {k: v for k, v in rule.items() if k != "sourceOfRule"}
                    rules.append({"field": field, "rule": shown, "source": _source(source)})
            own = document.get("policy") or {}
            sections.append({
                "kind": kind, "path": path, "rules": rules,
                "defaults": document["effective"].get("defaults") or {},
                "yaml": (drafts or {}).get(kind) or yaml.safe_dump(
                    {k: own.get(k) for k in ("defaults", "rules", "imposedAssets") if own.get(k)},
                    sort_keys=True,
                ),
                "errors": (errors or {}).get(kind, []),
                "name": (document.get("meta") or {}).get("name") or f"{policy_type} policy",
                # The version the editor was opened on: a save made from it after someone else
                # saved is refused instead of overwriting their change.
                "version": policy_version(document),
            })  # fmt: skip
        return sections

    def render_page(self, params, drafts=None, errors=None):
        return render(
            self.request,
            self.template_name,
            {
                **self.base_context(),
                "node": params,
                "scopes": POLICY_SCOPES,
                "sections": self.sections(params, drafts, errors),
                "can_edit": self.caller_can_edit(params),
                "org": self.org,
            },
        )

    def caller_can_edit(self, params) -> bool:
        # Only offered to system administrators; the backend still decides per node (403).
        return any(role == Role.SYSTEM_ADMINISTRATOR for role, _ in self.caller.rules)

    def get(self, request):
        return self.render_page(self.node_params())

    def post(self, request):
        params = self.node_params()
        kind = request.POST.get("kind", "")
        text = request.POST.get("yaml", "")
        if kind not in POLICY_KINDS:
            messages.error(request, "Unknown workload type.")
            return self.render_page(params)
        if not self.caller_can_edit(params):
            problems = {kind: ["Only system administrators change policies."]}
            return self.render_page(params, {kind: text}, problems)
        try:
            policy = load_yaml(text, max_bytes=POLICY_YAML_MAX_BYTES, max_nodes=POLICY_MAX_NODES)
        except InputError as error:
            return self.render_page(params, {kind: text}, {kind: [f"The policy is {error}"]})
        policy = {} if policy is None else policy
        meta = {"name": request.POST.get("name") or f"{POLICY_KINDS[kind]} policy", **params}
        if "projectId" in meta:
            meta["projectId"] = whole(meta["projectId"], meta["projectId"])
        version = request.POST.get("version", "")
        try:
            # Without the version it was opened on, a save could overwrite someone else's:
            # check the policy, then ask for a reload instead of writing.
            self.backend.write_policy(
                self.caller, POLICY_KINDS[kind], {"meta": meta, "policy": policy},
                partial=False, validate_only=not version, if_match=version or None,
            )  # fmt: skip
            if not version:
                problems = ["Not saved: this form does not say which version of the policy it "
                            "edits. Reload the page and make your change again."]  # fmt: skip
                return self.render_page(params, {kind: text}, {kind: problems})
        except PreconditionFailed as error:
            problems = [
                f"Not saved: {error.message} Your text is kept below; the rules shown above are "
                "theirs. Save again to replace their version with yours."
            ] + ([error.details] if error.details else [])
            return self.render_page(params, {kind: text}, {kind: problems})
        except InvalidRequest as error:
            problems = [f"{p}: {' '.join(m)}" for p, m in error.field_errors.items()]
            return self.render_page(params, {kind: text}, {kind: problems or [error.message]})
        except BackendError as error:
            return self.render_page(params, {kind: text}, {kind: [error.message]})
        messages.success(request, f"The {kind} policy was saved.")
        query = "&".join(f"{k}={v}" for k, v in params.items())
        return redirect(f"{request.path}?{query}")


def _source(source: dict) -> str:
    scope = source.get("scope", "")
    node = source.get("projectId") or source.get("departmentId") or source.get("clusterId")
    return f"{scope} {node}" if node else scope


class OrgTreeView(PageView, View):
    """Clusters, departments and projects with the number of environments at each node."""

    template_name = "org/tree.html"

    def get(self, request):
        entries = self.backend.list_environments(self.caller, {})["entries"]
        counts: dict[str, int] = {}
        for entry in entries:
            meta = entry["meta"]
            key = meta["scope"]
            if key == "cluster":
                key = f"cluster:{meta.get('clusterId')}"
            elif key == "department":
                key = f"department:{meta.get('departmentId')}"
            elif key == "project":
                key = f"project:{meta.get('projectId')}"
            counts[key] = counts.get(key, 0) + 1
        clusters = []
        for cluster_id, name in sorted(self.org.clusters.items(), key=lambda i: i[1]):
            departments = []
            for dep_id, dep in sorted(self.org.departments.items(), key=lambda i: i[1]["name"]):
                if dep.get("clusterId") != cluster_id:
                    continue
                projects = [
                    {"id": pid, "name": p["name"], "count": counts.get(f"project:{pid}", 0)}
                    for pid, p in sorted(self.org.projects.items(), key=lambda i: i[1]["name"])
                    if str(p.get("parentId")) == dep_id
                ]
                departments.append({"id": dep_id, "name": dep["name"], "projects": projects,
                                    "count": counts.get(f"department:{dep_id}", 0)})  # fmt: skip
            clusters.append({"id": cluster_id, "name": name, "departments": departments,
                             "count": counts.get(f"cluster:{cluster_id}", 0)})  # fmt: skip
        return render(
            request,
            self.template_name,
            {**self.base_context(), "clusters": clusters, "tenant_count": counts.get("tenant", 0)},
        )
