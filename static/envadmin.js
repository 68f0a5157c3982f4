// envadmin's only script: adding and removing form rows in place, fitting tool rows to their
// tool, the image picker's choice, focusing the form's error summary, keeping what is typed in the environment form while
// its fields are re-rendered, and keeping the list's filter controls in step with the URL.
// Everything else is htmx.
(function () {
  "use strict";

  // Styles that only make sense with this script running (the tool rows' hidden fields).
  document.documentElement.classList.add("js");

  async function addRow(button) {
    const kind = button.dataset.addRow;
    const total = document.querySelector(`input[name="${kind}-TOTAL_FORMS"]`);
    const index = parseInt(total.value, 10);
    // Counted before the request: a second click while the first row loads gets its own index.
    total.value = String(index + 1);
    const url = new URL(button.dataset.url, window.location.href);
    url.searchParams.set("index", String(index));
    const response = await fetch(url, {
      headers: { "HX-Request": "true" },
      credentials: "same-origin",
    });
    if (!response.ok) {
      total.value = String(index);
      return;
    }
    const container = document.querySelector(`[data-rows="${kind}"]`);
    container.insertAdjacentHTML("beforeend", await response.text());
    const added = container.lastElementChild;
    if (window.htmx) window.htmx.process(added);
    const first = added.querySelector("input, select");
    if (first) first.focus();
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-add-row]");
    if (button) {
      event.preventDefault();
      addRow(button);
    }
  });

  // "Remove" keeps the row in the form (so the formset knows it is deleted) but hides it.
  document.addEventListener("change", (event) => {
    const box = event.target.closest("[data-remove-row]");
    if (!box) return;
    const row = box.closest("fieldset.row");
    row.classList.toggle("removed", box.checked);
    row.dispatchEvent(new Event("input", { bubbles: true }));
  });

  // A tool row shows only the fields of its kind of tool: ConnectionForm.SHOWN_WHEN gives each
  // such field's wrapper a data-show-when list ("internal", "external", "internal:NodePort"),
  // and the server marks the ones that do not fit the row as first shown with data-fit="off".
  function fitToolRow(row) {
    const tool = row.querySelector("select[data-external-tools]");
    if (!tool) return;
    const connection = row.querySelector('select[name$="-connectionType"]');
    let kind = [];
    if (tool.dataset.externalTools.split(" ").includes(tool.value)) kind = ["external"];
    else if (tool.value) kind = ["internal", `internal:${connection ? connection.value : ""}`];
    for (const wrapper of row.querySelectorAll("[data-show-when]")) {
      const fits = wrapper.dataset.showWhen.split(" ").some((when) => kind.includes(when));
      if (fits) delete wrapper.dataset.fit;
      else wrapper.dataset.fit = "off";
    }
  }
  document.addEventListener("change", (event) => {
    const row = event.target.closest("fieldset.row");
    if (row && event.target.tagName === "SELECT") fitToolRow(row);
  });

  // After a failed submit the error summary takes the focus, once, so a keyboard or screen
  // reader user starts from the list of problems; its links move the focus to the control.
  function focusErrorSummary() {
    const summary = document.querySelector("[data-error-summary]:not([data-focused])");
    if (!summary) return;
    summary.dataset.focused = "true";
    summary.focus();
  }
  document.addEventListener("DOMContentLoaded", focusErrorSummary);
  document.addEventListener("htmx:afterSettle", focusErrorSummary);
  document.addEventListener("click", (event) => {
    const link = event.target.closest("[data-error-summary] a[href^='#']");
    const control = link && document.getElementById(link.hash.slice(1));
    if (!control) return;
    event.preventDefault();
    control.scrollIntoView({ block: "center" });
    control.focus();
  });

  // The image picker's tag buttons fill the image field with their reference; its fields are
  // not the environment's, so Enter in them must not submit the environment form.
  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-image-ref]");
    const image = document.getElementById("id_image");
    if (!button || !image) return;
    image.value = button.dataset.imageRef;
    image.dispatchEvent(new Event("input", { bubbles: true }));
    image.dispatchEvent(new Event("change", { bubbles: true }));
    const status = document.getElementById("picker-status");
    if (status) status.textContent = `Image set to ${button.dataset.imageRef}.`;
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && event.target.closest(".image-picker input")) {
      event.preventDefault();
    }
  });

  // A plain GET form marked data-autosubmit applies a choice at once (its button is for no-JS).
  document.addEventListener("change", (event) => {
    const form = event.target.closest("form[data-autosubmit]");
    if (form) form.requestSubmit();
  });

  // The list's URL is the truth: after the back button restores a view from htmx's history
  // cache, the filter controls show that view's filters, not the ones last typed.
  function syncFiltersWithUrl() {
    const form = document.getElementById("filters");
    if (!form) return;
    const params = new URLSearchParams(window.location.search);
    for (const control of form.elements) {
      if (!control.name || control.type === "hidden" || control.type === "submit") continue;
      if (control.name === "per_page") continue; // rendered with the table, and remembered
      if (control.type === "checkbox" || control.type === "radio") {
        control.checked = params.getAll(control.name).includes(control.value);
      } else {
        control.value = params.get(control.name) || "";
      }
    }
  }
  document.addEventListener("htmx:historyRestore", syncFiltersWithUrl);
  window.addEventListener("pageshow", syncFiltersWithUrl);

  // The filters form listens to "change": a search box's change (on blur) would repeat the
  // request its input event already made. htmx may not eval under the CSP, so this is done
  // here rather than with an hx-trigger filter expression.
  document.addEventListener("htmx:confirm", (event) => {
    const trigger = event.detail.triggeringEvent;
    if (trigger && trigger.type === "change" && trigger.target.type === "search") {
      event.preventDefault();
    }
  });

  // Shorter, shareable links: a list request leaves out the filters that are not set.
  document.addEventListener("htmx:configRequest", (event) => {
    const source = event.detail.elt;
    if (event.detail.verb !== "get" || !source.closest("#filters, #env-table")) return;
    const parameters = event.detail.parameters;
    for (const name of Array.from(new Set(parameters.keys ? parameters.keys() : []))) {
      if (parameters.getAll(name).every((value) => value === "")) parameters.delete(name);
    }
  });

  // The environment form's fields are re-rendered with the policy hints of a new placement or
  // workload type. An answer to values the user has changed since would overwrite what they
  // typed: it is dropped, and the fields are asked for again with the values as they are now.
  function changedSince(sent, form) {
    const now = new FormData(form);
    // Every control's name (an unticked box is in neither), but a button's: it is sent only
    // by the request it made.
    const controls = [...form.elements].filter((e) => e.tagName !== "BUTTON");
    const names = new Set([...now.keys(), ...controls.map((e) => e.name)]);
    for (const name of names) {
      if (!name || name === "csrfmiddlewaretoken") continue;
      if (JSON.stringify(now.getAll(name)) !== JSON.stringify(sent.getAll(name))) return true;
    }
    return false;
  }
  document.addEventListener("htmx:beforeSwap", (event) => {
    const config = event.detail.requestConfig;
    if (event.detail.target.id !== "form-fields" || !config || !config.formData) return;
    const form = event.detail.target.closest("form");
    if (form && changedSince(config.formData, form)) {
      event.detail.shouldSwap = false;
      // Asked again as the control first asked (a change, or a default button's click).
      const source = config.elt;
      const again = source.tagName === "BUTTON" ? "click" : "change";
      if (source.isConnected) window.htmx.trigger(source, again);
    }
  });
})();
