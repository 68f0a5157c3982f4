"""The sign-in page with failure throttling (envadmin/security/throttles.py)."""

from django.contrib.auth import views as auth_views

from . import throttles


class ThrottledLoginView(auth_views.LoginView):
    """Django's LoginView; a username locked out from this address is refused with 429 before
    its password is even checked (so no backend, Run:ai included, is asked)."""

    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        username = request.POST.get("username", "")
        address = throttles.client_address(request)
        if username and throttles.is_locked(username, address):
            context = self.get_context_data(
                form=self.get_form(), throttled=throttles.locked_message()
            )
            return self.render_to_response(context, status=429)
        response = super().post(request, *args, **kwargs)
        if username and request.user.is_authenticated:
            throttles.clear_failures(username, address)
        elif username:
            throttles.record_failure(username, address)
        return response
