"""JSON answers through orjson: a list of 10,000 environments is tens of megabytes, and the
standard library's encoder was the largest single cost of producing it."""

import orjson
from django.http import StreamingHttpResponse
from rest_framework.renderers import JSONRenderer


class FastJSONRenderer(JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        # Non-standard types (lazy translation strings in DRF's own errors) become str.
        return orjson.dumps(data, default=str)


class JSONStream(StreamingHttpResponse):
    """A JSON answer sent in chunks as they are written (the environment list at 100,000 is
    hundreds of megabytes). `content` joins them, once, for what reads a body whole (the test
    client, response checks); a server sends the chunks as they come."""

    def __init__(self, chunks, **kwargs):
        super().__init__(chunks, content_type="application/json", **kwargs)

    @property
    def content(self) -> bytes:
        if not hasattr(self, "_joined"):
            self._joined = b"".join(self.streaming_content)
        return self._joined

    @property
    def text(self) -> str:
        return self.content.decode(self.charset)
