/* ckanext-statrequest: accessibility fixes for widgets CKAN builds in the browser.
 *
 * CKAN's autocomplete (select2) replaces a labelled input with a combobox that has no name of
 * its own, so a screen reader announces an unnamed field. Name each one after the label of the
 * input it stands for, also for widgets created after the page loaded. */
(function () {
  "use strict";

  function nameWidgets() {
    document.querySelectorAll(".select2-container").forEach(function (box) {
      var original = box.previousElementSibling;
      if (!original || !original.id) { return; }
      var label = document.querySelector('label[for="' + original.id + '"]');
      if (!label) { return; }
      if (!label.id) { label.id = original.id + "-label"; }
      box.querySelectorAll(".select2-selection, .select2-choices, input.select2-input, .select2-search__field")
        .forEach(function (el) {
          if (!el.hasAttribute("aria-labelledby") && !el.hasAttribute("aria-label")) {
            el.setAttribute("aria-labelledby", label.id);
          }
        });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    // a form's error summary is read first: it takes the focus when the page loads
    var summary = document.querySelector('#form-errors[tabindex="-1"]');
    if (summary) { summary.focus(); }
    nameWidgets();
    new MutationObserver(nameWidgets).observe(document.body, { childList: true, subtree: true });
  });

  /* A step that cannot be undone is asked by CKAN's confirm-action dialog, which runs only
   * with scripts: say so to the server, which otherwise asks on a page of its own first. */
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("input[data-confirmed-by-script]").forEach(function (el) {
      el.value = "1";
    });
  });
})();
