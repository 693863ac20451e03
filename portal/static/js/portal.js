// Behaviour for every page. No inline scripts: the Content-Security-Policy forbids them.
(function () {
  "use strict";
  // What a form's field holds as the user sees it: a select's chosen option text, else its value.
  function shown(form, name) {
    var field = form.elements[name];
    if (!field) { return ""; }
    if (field.tagName === "SELECT") {
      var option = field.options[field.selectedIndex];
      return option ? option.text : "";
    }
    return field.value || "";
  }
  // Forms marked data-confirm ask before an irreversible step, saying what will happen and to
  // what: for a form that creates a record, {name} in the (server-translated) question stands for
  // what the form's field ``name`` holds now, but only for the names listed in data-confirm-fields
  // (so a name from the server that happens to hold "{reason}" stays as written). Each token is
  // replaced once, left to right, and a value put in is never read again. A step with its own
  // confirmation page has none.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (!question) { return; }
    var fields = (form.getAttribute("data-confirm-fields") || "").split(/\s+/).filter(Boolean);
    question = question.replace(/\{([A-Za-z_][A-Za-z0-9_-]*)\}/g, function (token, name) {
      return fields.indexOf(name) >= 0 && form.elements[name] ? (shown(form, name) || "—") : token;
    });
    if (!window.confirm(question)) {
      event.preventDefault();
    }
  }, true);
})();
