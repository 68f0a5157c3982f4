"""The environment form and its env var and connection formsets, in Run:ai's groups of fields.

The forms judge nothing themselves: `form_documents` turns their data into the contract's
document, the backend validates it with the same rules as the API, and `form_errors` puts each
message next to its field.
"""

from django import forms
from django.forms import BoundField, formset_factory

from envadmin.contract.choices import (
    CONNECTION_TYPES,
    DIST_FRAMEWORKS,
    EXTERNAL_TOOL_TYPES,
    INTERNAL_TOOL_TYPES,
    SUPPORTED_TYPE_KEYS,
    TOOL_TYPES,
    WORKLOAD_TYPE_KEYS,
)
from envadmin.contract.environment import (
    CAPABILITIES,
    IMAGE_PULL_POLICIES,
    PROBE_SCHEMES,
    SECCOMP_PROFILE_TYPES,
    SERVING_PROTOCOLS,
    UID_GID_SOURCES,
)

from .asset_pickers import Credentials


def _choices(values, blank="—"):
    return [("", blank)] + [(v, v) for v in values]


TRI_STATE = [("", "Not set"), ("true", "Yes"), ("false", "No")]
ENV_SOURCES = [
    ("value", "Value"),
    ("credential", "Credential (secret asset)"),
    ("configMap", "Config map"),
    ("podFieldRef", "Pod field"),
    ("none", "None (exclude a policy default)"),
]


class TriStateField(forms.TypedChoiceField):
    def __init__(self, **kwargs):
        super().__init__(
            choices=TRI_STATE,
            coerce=lambda v: {"true": True, "false": False}.get(v),
            empty_value=None,
            required=False,
            **kwargs,
        )


def _int(**kwargs):
    return forms.IntegerField(required=False, **kwargs)


def _text(**kwargs):
    return forms.CharField(required=False, strip=False, **kwargs)


class DescribedBoundField(BoundField):
    """Django names a field's help text and error in its aria-describedby; a policy hint shown
    beside the field (ui/policy_hints.py) is named too, after them."""

    @property
    def aria_describedby(self):
        described = super().aria_describedby
        if described is not None and self.name in getattr(self.form, "policy_hints", {}):
            described = " ".join(filter(None, [described, f"{self.auto_id}-policy"]))
        return described


class EnvironmentForm(forms.Form):
    bound_field_class = DescribedBoundField

    # Placement (fixed after creation).
    placement = forms.ChoiceField(label="Scope", help_text="Where the environment can be used.")
    # Name and description.
    name = forms.CharField(
        max_length=255, strip=False, error_messages={"required": "Name is required."}
    )
    description = _text(max_length=250, widget=forms.Textarea(attrs={"rows": 2}))
    # Image. The contract lets an API client leave it out; a person creating one gives it.
    image = forms.CharField(
        strip=False,
        help_text="e.g. nvcr.io/nvidia/pytorch:24.05-py3",
        error_messages={"required": "Image is required: the container image workloads run."},
    )
    imagePullPolicy = forms.ChoiceField(
        label="Pull policy", required=False, choices=_choices(IMAGE_PULL_POLICIES, "Default")
    )
    # Architecture and workload types: a box for each type is added in __init__.
    distFramework = forms.ChoiceField(
        label="Framework", required=False, choices=_choices(DIST_FRAMEWORKS)
    )
    # Runtime.
    command = _text()
    args = _text(label="Arguments")
    workingDir = _text(label="Working directory")
    # Security.
    uidGidSource = forms.ChoiceField(
        label="User and group ids from",
        required=False,
        choices=_choices(UID_GID_SOURCES, "Default"),
    )
    runAsUid = _int(label="User id (uid)")
    runAsGid = _int(label="Group id (gid)")
    supplementalGroups = _text(label="Supplemental groups", help_text="e.g. 2,3,5")
    overrideUidGidInWorkspace = forms.BooleanField(
        required=False, label="Allow workspaces to override uid/gid"
    )
    capabilities = forms.MultipleChoiceField(
        required=False, choices=[(c, c) for c in CAPABILITIES],
        widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip
    seccompProfileType = forms.ChoiceField(
        label="Seccomp profile", required=False, choices=_choices(SECCOMP_PROFILE_TYPES, "Default")
    )
    runAsNonRoot = TriStateField(label="Run as non-root")
    readOnlyRootFilesystem = TriStateField(label="Read-only root filesystem")
    allowPrivilegeEscalation = TriStateField(label="Allow privilege escalation")
    hostIpc = TriStateField(label="Host IPC")
    hostNetwork = TriStateField(label="Host network")
    createHomeDir = TriStateField(label="Create home directory")
    stdin = TriStateField(label="Stdin")
    tty = TriStateField(label="TTY")
    # Readiness probe.
    probe_initialDelaySeconds = _int(label="Initial delay (s)")
    probe_periodSeconds = _int(label="Period (s)")
    probe_timeoutSeconds = _int(label="Timeout (s)")
    probe_successThreshold = _int(label="Success threshold")
    probe_failureThreshold = _int(label="Failure threshold")
    probe_path = _text(label="HTTP path")
    probe_port = _int(label="HTTP port")
    probe_host = _text(label="HTTP host")
    probe_scheme = forms.ChoiceField(
        label="Scheme", required=False, choices=_choices(PROBE_SCHEMES)
    )

    GROUPS = [
        ("Placement", ["placement"]),
        ("Name and description", ["name", "description"]),
        ("Image", ["image", "imagePullPolicy"]),
        (
            "Architecture and workload types",
            [*SUPPORTED_TYPE_KEYS, "distFramework"],
        ),
        ("Runtime", ["command", "args", "workingDir"]),
        (
            "Security",
            [
                "uidGidSource",
                "runAsUid",
                "runAsGid",
                "supplementalGroups",
                "overrideUidGidInWorkspace",
                "capabilities",
                "seccompProfileType",
                "runAsNonRoot",
                "readOnlyRootFilesystem",
                "allowPrivilegeEscalation",
                "hostIpc",
                "hostNetwork",
                "createHomeDir",
                "stdin",
                "tty",
            ],
        ),  # fmt: skip
        (
            "Readiness probe",
            [
                "probe_initialDelaySeconds",
                "probe_periodSeconds",
                "probe_timeoutSeconds",
                "probe_successThreshold",
                "probe_failureThreshold",
                "probe_path",
                "probe_port",
                "probe_host",
                "probe_scheme",
            ],
        ),  # fmt: skip
    ]

    field_order = [name for _, names in GROUPS for name in names]

    def __init__(self, *args, placements=(), placement_fixed=False, **kwargs):
        super().__init__(*args, **kwargs)
        for label, key in WORKLOAD_TYPE_KEYS.items():
            self.fields[key] = forms.BooleanField(required=False, label=label)
        self.order_fields(self.field_order)
        self.fields["placement"].choices = [(p["key"], p["label"]) for p in placements]
        self.placements = {p["key"]: p for p in placements}
        if placement_fixed:
            self.fields["placement"].disabled = True
            self.fields["placement"].required = False
            for key in (*SUPPORTED_TYPE_KEYS, "distFramework"):
                self.fields[key].disabled = True

    def grouped(self):
        return [(title, [self[name] for name in names]) for title, names in self.GROUPS]


class EnvironmentVariableForm(forms.Form):
    # How templates/environments/_formset_row.html shows a row of this form.
    row_class, legend = "env-row", "Environment variable"

    name = _text()
    source = forms.ChoiceField(choices=ENV_SOURCES, initial="value", required=False)
    value = _text(
        help_text="The value, or the pod field path (e.g. metadata.name). Leave the value empty "
        "for the person who submits the workload, with instructions."
    )
    credential = _text(label="Credential", widget=forms.Select)
    ref = _text(label="Config map", help_text="The config map's name")
    key = _text(label="Key")
    description = _text(label="Instructions")
    exclude = forms.BooleanField(required=False)

    def __init__(self, *args, credentials=None, refresh=None, **kwargs):
        """`credentials`: those usable at the placement (asset_pickers.Credentials), listed by
        name; an id not among them stays, with a note. `refresh`: htmx attributes that re-render
        the form when another credential is chosen, so its keys become the key's choices."""
        super().__init__(*args, **kwargs)
        credentials = credentials or Credentials()
        current = self["credential"].value() or ""
        choices = [("", "Choose a credential")] + [(c.id, c.label) for c in credentials.choices]
        field = self.fields["credential"]
        if current and credentials.get(current) is None:
            choices.append((current, f"{current} (not in the list)"))
            field.help_text = "This credential is not among those listed here; it is kept as is."
        if credentials.error:
            field.help_text = credentials.error
        field.widget.choices = choices
        field.widget.attrs.update(refresh or {})
        chosen = credentials.get(current)
        if chosen and chosen.keys and (self["source"].value() or "") == "credential":
            key = self["key"].value() or ""
            keys = [("", "Choose a key")] + [(k, k) for k in chosen.keys]
            if key and key not in chosen.keys:
                keys.append((key, key))
            self.fields["key"].widget = forms.Select(choices=keys)
        # A bound field copies its help text when first made: made again with the note.
        self._bound_fields_cache.clear()


class ConnectionForm(forms.Form):
    row_class, legend = "conn-row", "Tool"
    # The fields only some tools have, and when they show: for an internal tool, for an external
    # one, or for an internal tool with one connection type. static/envadmin.js applies the
    # same rule when the user changes the tool; without it every field shows.
    SHOWN_WHEN = {
        "connectionType": "internal",
        "containerPort": "internal",
        "externalUrl": "external internal:ExternalUrl",
        "custom": "internal:NodePort internal:ExternalUrl",
        "protocol": "internal:ServingPort",
    }

    name = _text()
    tool = forms.ChoiceField(
        choices=_choices(TOOL_TYPES, "Choose a tool"),
        required=False,
        widget=forms.Select(attrs={"data-external-tools": " ".join(EXTERNAL_TOOL_TYPES)}),
    )
    connectionType = forms.ChoiceField(
        label="Connection", choices=_choices(CONNECTION_TYPES, "—"), required=False
    )
    containerPort = _int(label="Container port")
    externalUrl = _text(label="URL", help_text="External tool URL, or an ExternalUrl default")
    custom = forms.BooleanField(required=False, label="Set per workload")
    protocol = forms.ChoiceField(
        label="Serving protocol", choices=_choices(SERVING_PROTOCOLS), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        shown = self.kind_of_tool()
        for name, when in self.SHOWN_WHEN.items():
            self.fields[name].show_when = when
            self.fields[name].fits = not shown.isdisjoint(when.split())

    def kind_of_tool(self) -> set[str]:
        """The SHOWN_WHEN words that fit the row's tool as posted or shown."""
        tool = self["tool"].value() or ""
        if tool in EXTERNAL_TOOL_TYPES:
            return {"external"}
        if tool in INTERNAL_TOOL_TYPES:
            return {"internal", f"internal:{self['connectionType'].value() or ''}"}
        return set()


EnvironmentVariableFormSet = formset_factory(EnvironmentVariableForm, extra=0, can_delete=True)
ConnectionFormSet = formset_factory(ConnectionForm, extra=0, can_delete=True)
