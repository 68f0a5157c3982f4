"""The org tree in memory: tenant > clusters > departments > projects, loaded in three queries.

Visibility and authorization are questions about ancestors and subtrees of scope keys; answering
them from this small structure keeps every list request at a fixed number of queries.

Every request needs the tree, and it seldom changes: a process keeps the last one it built and
reuses it while the three queries answer exactly the rows it was built from (plain tuples,
cheap to compare), so a change made by any process is seen by the next request.
"""

from dataclasses import dataclass, field

from .models import Cluster, Department, Project, scope_key

TENANT = "tenant"
SYSTEM = "system"


@dataclass
class Node:
    key: str
    scope: str
    id: object
    name: str
    parent: str | None
    children: list[str] = field(default_factory=list)


class OrgTree:
    def __init__(self, clusters, departments, projects, tenant_name="tenant"):
        self.nodes: dict[str, Node] = {
            SYSTEM: Node(SYSTEM, "system", None, "system", None),
            TENANT: Node(TENANT, "tenant", None, tenant_name, SYSTEM),
        }
        self.nodes[SYSTEM].children.append(TENANT)
        self._chains: dict[str, tuple[str, ...]] = {}
        self._paths: dict[str, str] = {}
        self.clusters = {str(c.id): c for c in clusters}
        self.departments = {str(d.id): d for d in departments}
        self.projects = {int(p.id): p for p in projects}
        for c in clusters:
            self._add(scope_key("cluster", c.id), "cluster", c.id, c.name, TENANT)
        for d in departments:
            self._add(
                scope_key("department", d.id), "department", d.id, d.name,
                scope_key("cluster", d.cluster_id),
            )  # fmt: skip
        for p in projects:
            self._add(
                scope_key("project", p.id), "project", p.id, p.name,
                scope_key("department", p.department_id),
            )  # fmt: skip

    def _add(self, key, scope, node_id, name, parent):
        self.nodes[key] = Node(key, scope, node_id, name, parent)
        self.nodes[parent].children.append(key)

    @classmethod
    def load(cls) -> "OrgTree":
        """The tree as stored now: the process's last one when its rows are unchanged. It is
        shared by the requests of the process, so nobody may change it or its model objects."""
        from django.conf import settings
        from django.db import connection

        if connection.vendor == "postgresql":
            return _load_postgresql(cls, connection, settings.ENVADMIN_TENANT_NAME)
        tables = {model: model.objects.values_list(*fields) for model, fields in _COLUMNS.items()}
        # Raw rows are the key: equal raw rows convert to equal values, and an unchanged tree
        # (nearly every request) skips converting some hundreds of datetimes and uuids.
        compilers = [query.query.get_compiler(query.db) for query in tables.values()]
        with connection.cursor() as cursor:
            rows = tuple(_raw_rows(cursor, compiler) for compiler in compilers)
        key = (settings.ENVADMIN_TENANT_NAME, rows)
        last = _last_loaded
        if last is not None and last[0] == key:
            return last[1]
        clusters, departments, projects = (
            [
                model.from_db(query.db, _COLUMNS[model], values)
                for values in _converted(compiler, table)
            ]
            for (model, query), compiler, table in zip(tables.items(), compilers, rows, strict=True)
        )
        tree = cls(clusters, departments, projects, tenant_name=settings.ENVADMIN_TENANT_NAME)
        _remember(key, tree)
        return tree

    def __contains__(self, key: str) -> bool:
        return key in self.nodes

    def chain(self, key: str) -> list[str]:
        """The node and its ancestors up to system, nearest first; empty for an unknown node."""
        # Asked once or twice per environment of a list: remembered (the tree never changes).
        cached = self._chains.get(key)
        if cached is None:
            cached = self._chains[key] = tuple(self._walk_up(key))
        return list(cached)

    def _walk_up(self, key: str) -> list[str]:
        keys = []
        while key is not None and key in self.nodes:
            keys.append(key)
            key = self.nodes[key].parent
        return keys

    def subtree(self, key: str) -> set[str]:
        """The node and every node below it; empty for an unknown node."""
        if key not in self.nodes:
            return set()
        found, stack = set(), [key]
        while stack:
            current = stack.pop()
            found.add(current)
            stack.extend(self.nodes[current].children)
        return found

    def path(self, key: str) -> str:
        """Human-readable position, e.g. 'cluster-a / research / team-a'."""
        # Asked per writable node and per placement by pages: remembered, as chain() is.
        path = self._paths.get(key)
        if path is None:
            path = self._path(key)
            if key in self.nodes:  # an unknown key is not kept: the memo stays the tree's size
                self._paths[key] = path
        return path

    def _path(self, key: str) -> str:
        names = [self.nodes[k].name for k in reversed(self.chain(key)) if k not in (SYSTEM, TENANT)]
        return " / ".join(names) or self.nodes.get(key, Node(key, "", None, key, None)).name

    def cluster_of(self, key: str):
        """The cluster id (uuid string) above or at the node, or None for tenant/system."""
        for k in self.chain(key):
            if self.nodes[k].scope == "cluster":
                return str(self.nodes[k].id)
        return None


# Each model's concrete columns, in the model's field order (what Model.from_db expects).
_COLUMNS = {
    Cluster: ("id", "name", "created_at"),
    Department: ("id", "name", "cluster_id", "created_at"),
    Project: ("id", "name", "department_id", "created_at"),
}
_last_loaded: tuple | None = None  # (the rows and tenant name it was built from, the tree)


def _raw_rows(cursor, compiler) -> tuple:
    sql, params = compiler.as_sql()
    cursor.execute(sql, params)
    return tuple(cursor.fetchall())


def _converted(compiler, rows) -> list:
    """`rows` as the compiler's queryset gives them (its database converters applied)."""
    converters = compiler.get_converters([column for column, _, _ in compiler.select])
    if not converters:
        return [tuple(row) for row in rows]
    return [tuple(row) for row in compiler.apply_converters(rows, converters)]


def _remember(key, tree: OrgTree):
    global _last_loaded  # one assignment: threads of the process may race, either tree is right
    _last_loaded = (key, tree)


# PostgreSQL: the three tables' rows as JSON and a SHA-256 of that text, in one statement (one
# snapshot). A request asks for the digest alone (one row, no parsing of 200 projects: about
# 7 ms of CPU less per request); the rows come only when it differs from the process's tree.
def _rows_json(model, fields) -> str:
    # In the model's order (by name, as the querysets of OrgTree.load), ties by id.
    columns = ", ".join(f'"{model._meta.get_field(name).column}"' for name in fields)
    return (
        f'(SELECT coalesce(json_agg(json_build_array({columns}) ORDER BY "name", "id"), '
        f"'[]'::json) FROM \"{model._meta.db_table}\")"
    )


_TREE_JSON = "SELECT json_build_array({})::text".format(
    ", ".join(_rows_json(model, fields) for model, fields in _COLUMNS.items())
)
_DIGEST = f"SELECT encode(sha256(convert_to(({_TREE_JSON}), 'UTF8')), 'hex')"
_ROWS = (
    f"SELECT tree, encode(sha256(convert_to(tree, 'UTF8')), 'hex') FROM ({_TREE_JSON}) AS t(tree)"
)


def _load_postgresql(cls, connection, tenant_name: str) -> "OrgTree":
    import json

    with connection.cursor() as cursor:
        cursor.execute(_DIGEST)
        digest = cursor.fetchone()[0]
        last = _last_loaded
        if last is not None and last[0] == (tenant_name, digest):
            return last[1]
        cursor.execute(_ROWS)
        text, digest = cursor.fetchone()
    tables = json.loads(text)
    clusters, departments, projects = (
        [model.from_db(connection.alias, fields, _typed(model, fields, row)) for row in rows]
        for (model, fields), rows in zip(_COLUMNS.items(), tables, strict=True)
    )
    tree = cls(clusters, departments, projects, tenant_name=tenant_name)
    _remember((tenant_name, digest), tree)
    return tree


def _typed(model, fields, row) -> list:
    """A JSON row as the model's Python values (uuids, datetimes) for Model.from_db."""
    return [
        model._meta.get_field(name).to_python(value) if value is not None else None
        for name, value in zip(fields, row, strict=True)
    ]
