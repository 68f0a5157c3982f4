import os
from importlib import import_module

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "envadmin.settings")
application = get_wsgi_application()

# The URLconf (and with it every view, serializer and schema) is loaded now rather than by the
# first request, so that it is frozen with the rest of what the process keeps.
import_module(settings.ROOT_URLCONF)

from envadmin.process_tuning import freeze_after_start  # noqa: E402 - after Django's setup

freeze_after_start()
