"""The hygiene report's usage and compliance over the local model, in a fixed number of queries.

Run:ai answers last use and compliance per project and workload type, one list each: the
report's generic path (envadmin.lifecycle.hygiene) asks 4 lists per project. Here the same
answers come from the environments the report already read, one query for every policy above
the projects and one for the workloads' last uses. Projects under equal policy documents share
one compiled judge, which itself answers once per distinct set of the values its policy reads;
an environment stops being judged at the first project and type where it complies.
"""

import json
from collections import defaultdict

from django.db.models import Max

from envadmin.compliance.engine import compile_policy
from envadmin.compliance.states import supports
from envadmin.contract.choices import WORKLOAD_TYPE_KEYS, WORKLOAD_TYPES
from envadmin.inventory.documents import UUIDText, timestamp
from envadmin.inventory.models import Environment, Workload, scope_key
from envadmin.policies.models import Policy

from .local_policies import _placement_key

TYPE_NAMES = {key: name for name, key in WORKLOAD_TYPE_KEYS.items()}


class LocalHygieneOperations:
    """Mixed into LocalBackend; `_context` and `effective_policy` come from there."""

    def hygiene_verdicts(self, caller, project_ids, documents: dict) -> tuple[dict, set, set]:
        """What a list per project and type would tell of `documents` ({id: document}, all
        visible to `caller`): (newest lastUsedByWorkload per id, ids judged for some project
        that sees them and type they support, ids compliant or imposed for one of those)."""
        tree, access = self._context(caller)
        projects = [scope_key("project", int(p)) for p in project_ids]
        projects = [key for key in projects if key in tree and access.can_view(key)]
        seen_by = defaultdict(set)  # node -> the projects whose list shows its environments
        for project in projects:
            for key in tree.chain(project):
                seen_by[key].add(project)
        judges = _Judges(self, tree, projects)
        judged, complying = set(), set()
        for asset_id, document in documents.items():
            meta = document["meta"]
            node = _placement_key(meta)
            if not seen_by.get(node):
                continue
            for kind in WORKLOAD_TYPES:
                if not supports(meta, kind):
                    continue
                judged.add(asset_id)
                if any(_complies(judge(document)) for judge in judges.over(node, kind, seen_by)):
                    complying.add(asset_id)
                    break  # one project and type where it complies is enough
        return _last_uses(documents, seen_by, access), judged, complying


def _complies(answer: dict) -> bool:
    return bool(answer["imposed"] or answer["compliance"])


class _Judges:
    """One compiled judge per workload type and distinct sequence of policy documents above a
    project, from one query of the policies. Two projects under equal documents (in the data
    of issue 7, every project's own policy reads the same) have the same effective policy but
    for sourceOfRule, which only names the node in a reason's text: the same verdicts."""

    def __init__(self, backend, tree, projects):
        self.backend, self.tree = backend, tree
        above = {key for project in projects for key in tree.chain(project) if key != "system"}
        self.policies = defaultdict(dict)  # workload type key -> {scope key: Policy}
        self.contents = {}  # policy id -> a number per distinct document
        texts = {}
        for policy in Policy.objects.filter(scope_key__in=above):
            self.policies[policy.workload_type][policy.scope_key] = policy
            text = json.dumps(policy.document, sort_keys=True)
            self.contents[policy.id] = texts.setdefault(text, len(texts))
        self.compiled = {}  # (type, documents) -> judge
        self.distinct = {}  # (placement node, type) -> the judges its viewers need, each once

    def over(self, node: str, kind: str, seen_by: dict) -> list:
        """The judges of the projects that see environments placed at `node`, one per distinct
        effective policy for `kind`."""
        found = self.distinct.get((node, kind))
        if found is None:
            chains = {self._documents(p, kind): p for p in sorted(seen_by[node])}
            found = [self._judge(kind, documents, p) for documents, p in chains.items()]
            self.distinct[node, kind] = list({id(judge): judge for judge in found}.values())
        return self.distinct[node, kind]

    def _documents(self, project: str, kind: str) -> tuple[int, ...]:
        policies = self.policies[WORKLOAD_TYPE_KEYS[kind]]
        chain = self.tree.chain(project)
        return tuple(self.contents[policies[key].id] for key in chain if key in policies)

    def _judge(self, kind: str, documents: tuple, project: str):
        judge = self.compiled.get((kind, documents))
        if judge is None:
            type_key = WORKLOAD_TYPE_KEYS[kind]
            effective = self.backend.effective_policy(
                self.tree, project, type_key, self.policies[type_key]
            )
            # Only the verdict is read, never a reason's text: no labels to write.
            judge = self.compiled[kind, documents] = compile_policy(effective, kind, None)
        # Every environment judged here is placed in the project's chain: visible, no note.
        return judge


def _last_uses(documents: dict, seen_by: dict, access) -> dict[str, str]:
    """{id: newest workload's time, as Run:ai writes it} over the workloads of the projects
    that see the environment, of the types it supports: one query."""
    visible = Environment.objects.filter(scope_key__any=access.visible).values("id")
    projects = {key for keys in seen_by.values() for key in keys}
    numbers = [int(key.split(":", 1)[1]) for key in projects]
    rows = (
        Workload.objects.filter(environment_id__in=visible, project_id__any=numbers)
        .annotate(env_text=UUIDText("environment_id"))
        .values("env_text", "project_id", "type")
        .annotate(last=Max("created_at"))
        .values_list("env_text", "project_id", "type", "last")
    )
    newest = {}
    for asset_id, project_id, type_key, last in rows:
        document = documents.get(asset_id)
        if document is None or last is None:
            continue
        meta = document["meta"]
        project = scope_key("project", project_id)
        if project not in seen_by.get(_placement_key(meta), ()):
            continue
        if not supports(meta, TYPE_NAMES.get(type_key, "")):
            continue
        if asset_id not in newest or last > newest[asset_id]:
            newest[asset_id] = last
    return {asset_id: timestamp(last) for asset_id, last in newest.items()}
