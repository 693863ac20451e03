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
  // what: {name} in the (server-translated) question stands for what the form's field ``name``
  // holds now, for a form that creates a record. A step with its own confirmation page has none.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (!question) { return; }
    question = question.replace(/\{([A-Za-z_][A-Za-z0-9_-]*)\}/g, function (token, name) {
      return form.elements[name] ? (shown(form, name) || "—") : token;
    });
    if (!window.confirm(question)) {
      event.preventDefault();
    }
  }, true);
})();
