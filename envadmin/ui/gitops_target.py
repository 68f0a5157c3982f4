"""The gitops engine's Target over envadmin's backend, as the signed-in user: their own rights
apply to every read and write, in local and in proxy mode alike."""

from envadmin.contract.environment import validate_creation
from envadmin.contract.errors import BackendError, InvalidRequest
from envadmin.gitops.engine import Refused
from envadmin.gitops.files import EnvironmentsFile

PAGE = 500
MAX_PAGES = 1000


class BackendTarget:
    def __init__(self, backend, caller):
        self.backend = backend
        self.caller = caller

    def _call(self, method, *args, **kwargs):
        try:
            return method(self.caller, *args, **kwargs)
        except BackendError as error:
            message = f"{error.message} ({error.details})" if error.details else error.message
            raise Refused(error.status, message) from None

    def environments(self, params: dict | None = None) -> list[dict]:
        return self._call(self.backend.list_environments, params or {})["entries"]

    def clusters(self) -> list[dict]:
        return self._call(self.backend.list_clusters, {})

    def departments(self) -> list[dict]:
        return self._pages(self.backend.list_departments, "departments")

    def projects(self) -> list[dict]:
        return self._pages(self.backend.list_projects, "projects")

    def _pages(self, method, key: str) -> list[dict]:
        items, offset = [], 0
        for _ in range(MAX_PAGES):
            page = self._call(method, {"offset": str(offset), "limit": str(PAGE)})
            items += page.get(key) or []
            following = page.get("next")
            if not isinstance(following, int) or following <= offset:
                break
            offset = following
        return items

    def get(self, asset_id: str) -> dict:
        return self._call(self.backend.get_environment, asset_id, {})

    def create(self, document: dict) -> dict:
        return self._call(self.backend.create_environment, document)

    def update(self, asset_id: str, document: dict, if_match: int | None) -> dict:
        return self._call(self.backend.update_environment, asset_id, document, if_match=if_match)

    def delete(self, asset_id: str, if_match: int | None) -> None:
        self._call(self.backend.delete_environment, asset_id, if_match=if_match)


def contract_problems(the_file: EnvironmentsFile) -> list[str]:
    """envadmin's own rules for each entry's spec (the ones between fields too), which the
    Django-free check of the command line leaves to the server: here they come before the plan."""
    problems = []
    for entry in the_file.entries:
        draft = {"meta": {"name": entry.meta["name"], "scope": "tenant"}, "spec": entry.spec}
        try:
            validate_creation(draft)
        except InvalidRequest as error:
            for field, messages in error.field_errors.items():
                if field.startswith("spec"):
                    problems.append(f"{entry.label}: {field}: {' '.join(messages)}")
    return problems
