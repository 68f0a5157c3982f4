"""JSON answers through orjson: a list of 10,000 environments is tens of megabytes, and the
standard library's encoder was the largest single cost of producing it."""

import orjson
from rest_framework.renderers import JSONRenderer


class FastJSONRenderer(JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        # Non-standard types (lazy translation strings in DRF's own errors) become str.
        return orjson.dumps(data, default=str)
