"""Pages for team leads and administrators: compliance review, policies, the org tree."""

import hashlib
from collections import Counter
from functools import cached_property
from typing import NamedTuple
from urllib.parse import urlencode

import yaml
from django.contrib import messages
from django.shortcuts import redirect, render
from django.views import View

from envadmin.accounts.models import Role
from envadmin.compliance.states import NOT_SUPPORTED, policy_reasons
from envadmin.contract.choices import SCOPE_ID_FIELDS, WORKLOAD_TYPE_KEYS, WORKLOAD_TYPES
from envadmin.contract.errors import (
    BackendError,
    Forbidden,
    InvalidRequest,
    NotFound,
    PreconditionFailed,
)
from envadmin.contract.inputs import InputError, load_yaml
from envadmin.contract.policy import POLICY_PATHS, policy_version
from envadmin.contract.policy_paths import flatten_rules
from envadmin.contract.policy_text import (
    REPLICA_SECTIONS,
    default_items,
    field_label,
    field_values,
    rule_text,
)

from ..compliance_fixes import may_create_in
from ..export import csv_response
from ..org_nodes import Node, NodeError, OrgNodes
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
        requested = whole(self.request.GET.get("project", ""))
        if requested in self.org.projects:
            self.choose_project(requested)
            return requested
        return self.chosen_project() or next(iter(sorted(self.org.projects)), None)

    def matrix(self, project):
        """(rows, counts): a MatrixLine per environment, by name; per type, how many of the
        environments supporting it comply."""
        found, problems = self.backend.compliance_matrix(self.caller, project, WORKLOAD_TYPES)
        self.org.problems.extend(p for p in problems if p not in self.org.problems)
        scopes: dict[int, str] = {}  # rows of one node share their meta: one path each
        rows = []
        for row in found:
            scope = scopes.get(id(row.meta))
            if scope is None:
                scope = scopes[id(row.meta)] = self.org.scope_path(row.meta)
            rows.append(MatrixLine(row.id, row.name, scope, row.cells))
        # By name as the list sorts it; the backend's order is none, so ties go by name, id.
        rows.sort(key=lambda r: (r.name.lower(), r.name, r.id))
        # Alike rows share their cells: each distinct tuple is counted once, times its rows.
        tally = Counter(id(r.cells) for r in rows)
        distinct = {id(r.cells): r.cells for r in rows}
        counts = {}
        for index, kind in enumerate(WORKLOAD_TYPES):
            comply = supporting = 0
            for cells_id, times in tally.items():
                state = distinct[cells_id][index][1]
                if state not in ("", NOT_SUPPORTED):
                    supporting += times
                    comply += times if state in ("compliant", "imposed") else 0
            counts[kind] = {"comply": comply, "supporting": supporting}
        return rows, counts

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
            rows = [r for r in rows if _violates(r.cells)]
        if request.GET.get("format") == "csv":
            return self.csv(rows)
        # Rows that violate a policy offer a copy fixed to comply, placed in the project.
        copy_for = (
            project
            if any(_violates(r.cells) for r in rows)
            and may_create_in(self.backend, self.caller, project)
            else None
        )
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
                "compliant_copy_for": copy_for,
            },
        )

    def csv(self, rows):
        header = ["Environment", "Scope", *WORKLOAD_TYPES, "Reasons"]
        return csv_response("compliance.csv", header, self.csv_rows(rows))

    @staticmethod
    def csv_rows(rows):
        for row in rows:
            cells, reasons = [], []
            for kind, (compliance, state) in zip(WORKLOAD_TYPES, row.cells, strict=True):
                cells.append(CSV_STATES.get(state, ""))
                found = policy_reasons(compliance, state)
                reasons += [f"{kind}: {r['details']}" for r in found]
            yield [row.name, row.scope, *cells, " | ".join(reasons)]


# The matrix CSV's words for compliance.states' states.
CSV_STATES = {
    "imposed": "imposed",
    "compliant": "compliant",
    "not-compliant": "not compliant",
    NOT_SUPPORTED: "n/a",
}


class MatrixLine(NamedTuple):
    """A row of the matrix page: `cells` as the backend's MatrixRow has them (shared, read
    only), `scope` the placement's path."""

    id: str
    name: str
    scope: str
    cells: tuple


def _violates(cells: tuple) -> bool:
    return any(state == "not-compliant" for _, state in cells)


class PolicyView(PageView, View):
    """A node's effective policy per workload type, each rule in words with its source; YAML
    editing. The node is chosen in one picker by its path; old links (scope and ids) work."""

    template_name = "policies/page.html"

    @cached_property
    def nodes(self) -> OrgNodes:
        return OrgNodes(self.org)

    def node(self, data) -> Node:
        """The node `data` names, else the shared project choice, else the first project."""
        found = self.nodes.from_query(data)
        if found is None:
            project = self.chosen_project() or next(iter(sorted(self.org.projects)), None)
            found = self.nodes.get("project", project) if project else None
        elif found.scope == "project":
            self.choose_project(int(found.id))
        return found or self.nodes.all[0]

    def sections(self, node: Node, drafts=None, errors=None, impacts=None):
        sections = []
        for kind, policy_type in POLICY_KINDS.items():
            path = next(p for p, t in POLICY_PATHS.items() if t == policy_type)
            try:
                document = self.backend.get_policy(self.caller, policy_type, node.params)
            except BackendError as error:
                sections.append({"kind": kind, "error": error.message, "path": path})
                continue
            own = document.get("policy") or {}
            effective = document["effective"]
            sections.append({
                "kind": kind, "path": path, "rules": self.rules(effective.get("rules")),
                "defaults": default_items(effective.get("defaults") or {}),
                "imposed": self.imposed(effective.get("imposedAssets")),
                "yaml": (drafts or {}).get(kind) or yaml.safe_dump(
                    {k: own.get(k) for k in ("defaults", "rules", "imposedAssets") if own.get(k)},
                    sort_keys=True,
                ),
                "errors": (errors or {}).get(kind, []),
                "impact": (impacts or {}).get(kind),
                "name": (document.get("meta") or {}).get("name") or f"{policy_type} policy",
                # The version the editor was opened on: a save made from it after someone else
                # saved is refused instead of overwriting their change.
                "version": policy_version(document),
            })  # fmt: skip
        return sections

    def rules(self, rules) -> list[dict]:
        shown = []
        for field, rule in sorted(flatten_rules(rules).items()):
            if isinstance(rule, dict):
                shown.append({
                    "field": field, "label": field_label(field),
                    "text": rule_text(rule, field_values(field)),
                    "source": self.source(rule.get("sourceOfRule") or {}),
                })  # fmt: skip
        return shown

    def imposed(self, assets) -> list[str]:
        """The imposed environments by name and place; a distributed policy's per replica."""
        if isinstance(assets, dict):
            return [f"{REPLICA_SECTIONS.get(section, section)}: {name}"
                    for section, ids in assets.items() for name in self.imposed(ids)]  # fmt: skip
        names = []
        for asset_id in assets or []:
            try:
                meta = self.backend.get_environment(self.caller, str(asset_id), {})["meta"]
            except BackendError:
                names.append("an environment you cannot see")
                continue
            names.append(f"{meta['name']} ({self.org.scope_path(meta)})")
        return names

    def source(self, source: dict) -> str:
        """Where a rule comes from, by kind and name: department research."""
        scope = source.get("scope", "")
        node = self.nodes.get(scope, source.get(SCOPE_ID_FIELDS.get(scope, ""), ""))
        return node.title if node else f"a {scope} you cannot see"

    def render_page(self, node, drafts=None, errors=None, node_error="", status=200, impacts=None):
        return render(
            self.request,
            self.template_name,
            {
                **self.base_context(),
                "node": node,
                "node_error": node_error,
                "nodes": self.nodes.all,
                "sections": self.sections(node, drafts, errors, impacts) if node else [],
                "can_edit": self.caller_can_edit(),
            },
            status=status,
        )

    def caller_can_edit(self) -> bool:
        # Only offered to system administrators; the backend still decides per node (403).
        return any(role == Role.SYSTEM_ADMINISTRATOR for role, _ in self.caller.rules)

    def get(self, request):
        try:
            if request.GET.get("node", "").strip():
                # The picker's choice, read back into the query old links use.
                chosen = self.nodes.by_path(request.GET["node"])
                return redirect(f"{request.path}?{urlencode(chosen.params)}")
            node = self.node(request.GET)
        except NodeError as error:
            return self.render_page(None, node_error=str(error), status=400)
        return self.render_page(node)

    def post(self, request):
        try:
            # The editor posts its node; a post to a page's own address names it in the query.
            node = self.node(request.POST if "scope" in request.POST else request.GET)
        except NodeError as error:
            return self.render_page(None, node_error=str(error), status=400)
        kind = request.POST.get("kind", "")
        text = request.POST.get("yaml", "")
        if kind not in POLICY_KINDS:
            messages.error(request, "Unknown workload type.")
            return self.render_page(node)
        if not self.caller_can_edit():
            problems = {kind: ["Only system administrators change policies."]}
            return self.render_page(node, {kind: text}, problems)
        try:
            policy = load_yaml(text, max_bytes=POLICY_YAML_MAX_BYTES, max_nodes=POLICY_MAX_NODES)
        except InputError as error:
            return self.render_page(node, {kind: text}, {kind: [f"The policy is {error}"]})
        policy = {} if policy is None else policy
        meta = {"name": request.POST.get("name") or f"{POLICY_KINDS[kind]} policy", **node.params}
        if node.scope == "project":
            meta["projectId"] = int(node.id)
        version = request.POST.get("version", "")
        body = {"meta": meta, "policy": policy}
        impact = None
        try:
            # Checked first, and saving nothing: the policy, the right to write it and the
            # version the editor was opened on (a stale one is said before any impact).
            self.backend.write_policy(
                self.caller, POLICY_KINDS[kind], body,
                partial=False, validate_only=True, if_match=version or None,
            )  # fmt: skip
            if not version:
                # Without the version it was opened on, a save could overwrite someone else's:
                # ask for a reload instead of writing.
                problems = ["Not saved: this form does not say which version of the policy it "
                            "edits. Reload the page and make your change again."]  # fmt: skip
                return self.render_page(node, {kind: text}, {kind: problems})
            confirmation = _confirmation(kind, node, version, meta["name"], text)
            if request.POST.get("confirm") != confirmation:
                impact = self.impact(kind, body)
                if impact.get("error") or impact["summary"]["becomeNonCompliant"]:
                    impact["confirmation"] = confirmation
                    return self.render_page(node, {kind: text}, impacts={kind: impact})
            self.backend.write_policy(
                self.caller, POLICY_KINDS[kind], body,
                partial=False, validate_only=False, if_match=version,
            )  # fmt: skip
        except PreconditionFailed as error:
            problems = [
                f"Not saved: {error.message} Your text is kept below; the rules shown above are "
                "theirs. Save again to replace their version with yours."
            ] + ([error.details] if error.details else [])
            return self.render_page(node, {kind: text}, {kind: problems})
        except InvalidRequest as error:
            problems = [f"{p}: {' '.join(m)}" for p, m in error.field_errors.items()]
            return self.render_page(node, {kind: text}, {kind: problems or [error.message]})
        except BackendError as error:
            return self.render_page(node, {kind: text}, {kind: [error.message]})
        messages.success(request, f"The {kind} policy was saved.{_impact_sentence(impact)}")
        return redirect(f"{request.path}?{urlencode(node.params)}")

    def impact(self, kind: str, body: dict) -> dict:
        """What saving would change (envadmin/compliance/impact.py), grouped by project for
        the page. A policy the save would refuse is refused here too; an impact that cannot
        be judged (Run:ai unreachable, too many projects) is said, and the save confirmed."""
        try:
            impact = self.backend.policy_impact(self.caller, {"workloadType": kind, **body})
        except InvalidRequest as error:
            if error.field_errors:  # the policy itself: the save would refuse it as well
                raise
            return {"error": error.message}
        except (Forbidden, NotFound, PreconditionFailed):
            raise
        except BackendError as error:
            return {"error": error.message}
        projects: dict = {}
        for change in impact["changes"]:
            rows = projects.setdefault(change["projectName"], [])
            before, after = change["before"], change["after"]
            state = IMPACT_STATES[(before["compliance"], after["compliance"])]
            rows.append({"name": change["assetName"], "state": state,
                         "reasons": [r.get("details", "") for r in after["reason"]]})  # fmt: skip
        for rows in projects.values():  # what breaks first, then what is fixed
            rows.sort(key=lambda row: IMPACT_ORDER.index(row["state"][1]))
        return {**impact, "projects": projects}


# (compliant before, compliant after) -> (badge class, words); a pair listed with the same
# verdict changed its reasons, or whether it is imposed.
IMPACT_STATES = {
    (True, False): ("bad", "becomes non-compliant"),
    (False, True): ("ok", "becomes compliant"),
    (False, False): ("bad", "still non-compliant, for other reasons"),
    (True, True): ("info", "still compliant"),
}
IMPACT_ORDER = [words for _, words in IMPACT_STATES.values()]


def _confirmation(kind: str, node: Node, version: str, name: str, text: str) -> str:
    """What "Save anyway" confirms: this text, for this node and version, and nothing edited
    since its impact was shown."""
    shown = "\x1f".join([kind, urlencode(node.params), version, name, text])
    return hashlib.sha256(shown.encode()).hexdigest()[:32]


def _impact_sentence(impact: dict | None) -> str:
    if not impact or impact.get("error"):
        return ""
    summary = impact["summary"]
    parts = [
        f"{summary[key]} became {words}" if key != "reasonsChanged"
        else f"{summary[key]} changed reasons"
        for key, words in (("becomeNonCompliant", "non-compliant"),
                           ("becomeCompliant", "compliant"), ("reasonsChanged", ""))
        if summary[key]
    ]  # fmt: skip
    if not parts:
        return " No environment changes compliance for any project."
    return " (project, environment) pairs: " + ", ".join(parts) + "."


class OrgTreeView(PageView, View):
    """Clusters, departments and projects with the number of environments at each node."""

    template_name = "org/tree.html"

    def get(self, request):
        entries = self.usable(self.backend.list_environments(self.caller, {}))
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
