from django.contrib import admin
from django.http import HttpResponse
from django.urls import include, path

handler500 = "envadmin.api.errors.server_error"


def home(request):
    # The web admin arrives with the UI issue; until then the home page points at the API.
    return HttpResponse(
        "<!doctype html><title>envadmin</title><h1>envadmin</h1>"
        '<p><a href="/api/docs/">API documentation</a> · <a href="/admin/">admin</a></p>'
    )


urlpatterns = [
    path("", home, name="home"),
    path("admin/", admin.site.urls),
    path("api/", include("envadmin.api.urls")),
]
