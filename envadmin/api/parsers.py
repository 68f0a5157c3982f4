"""The JSON parser of every API view: DRF's, plus the bounds every input path applies
(envadmin.contract.inputs), so a body nothing downstream can take is a 400, never a 500."""

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from envadmin.contract.inputs import MAX_DEPTH, body_problem

# Far above the largest document the API takes (an environment at its list caps is a few
# thousand values), low enough that walking a hostile body stays cheap.
MAX_NODES = 100_000


class SafeJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_DEPTH} levels.") from None
        problem = body_problem(data, max_nodes=MAX_NODES)
        if problem:
            raise ParseError(problem)
        return data
