// The form of a household economic survey for the field-worker app (field-survey.js holds the queue
// and the page): the draft as the worker types it (strings, kept on the phone), the checks that
// mirror the server's for POST /api/v1/surveys, the body built from a checked draft, and the form
// drawn from the draft. Every message comes from the page's translated messages (``M``).
//
// Money is typed in yuan and becomes integer fen from the decimal string ("1200.5" → 120050):
// never through a float, so no amount is ever off by a fen.
window.FieldSurveyForm = (function () {
  "use strict";

  var ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  var ID_CHECK = "10X98765432";
  var CLOCK_SKEW_MS = 5 * 60000;  // the server's allowance for a phone clock ahead (visits.rules.CLOCK_SKEW)
  var MAX_YUAN_DIGITS = 11;  // ¥99,999,999,999.99 at most: far inside the integers a double holds exactly

  var el = window.FieldQueue.el;    // field-queue.js, loaded before this file
  var fmt = window.FieldQueue.fmt;

  function pad(n) {
    return String(n).padStart(2, "0");
  }

  // "2024-05-01T10:30:00+08:00": the phone's local time with its offset.
  function isoLocal(date) {
    var offset = -date.getTimezoneOffset();
    var sign = offset >= 0 ? "+" : "-";
    var abs = Math.abs(offset);
    return date.getFullYear() + "-" + pad(date.getMonth() + 1) + "-" + pad(date.getDate()) + "T" +
      pad(date.getHours()) + ":" + pad(date.getMinutes()) + ":" + pad(date.getSeconds()) +
      sign + pad(Math.floor(abs / 60)) + ":" + pad(abs % 60);
  }

  // The value of a datetime-local input for ``date`` ("2024-05-01T10:30").
  function inputTime(date) {
    return date.getFullYear() + "-" + pad(date.getMonth() + 1) + "-" + pad(date.getDate()) + "T" +
      pad(date.getHours()) + ":" + pad(date.getMinutes());
  }

  // Yuan typed by the worker → {fen} or {error: "format"|"negative"}, from the digits themselves.
  function toFen(text) {
    var value = String(text === undefined || text === null ? "" : text).trim().replace(/[,，\s]/g, "").replace(/^[¥￥]/, "");
    var match = /^(-)?(\d+)(?:\.(\d{0,2}))?$/.exec(value);
    if (!match) {
      return {error: /^-/.test(value) ? "negative" : "format"};
    }
    var whole = match[2].replace(/^0+(?=\d)/, "");
    if (whole.length > MAX_YUAN_DIGITS) {
      return {error: "format"};
    }
    var fen = parseInt(whole + (match[3] || "").padEnd(2, "0"), 10);
    if (match[1] && fen !== 0) {
      return {error: "negative"};
    }
    return {fen: fen};
  }

  // Integer fen → "1,234.50" (integer arithmetic only).
  function yuan(fen) {
    if (typeof fen !== "number" || !isFinite(fen)) {
      return "—";
    }
    var sign = fen < 0 ? "-" : "";
    var abs = Math.abs(fen);
    var whole = String(Math.floor(abs / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return sign + whole + "." + pad(abs % 100);
  }

  function toCount(text) {
    var value = String(text === undefined || text === null ? "" : text).trim();
    if (/^-\d+$/.test(value)) {
      return {error: "negative"};
    }
    return /^\d{1,9}$/.test(value) ? {count: parseInt(value, 10)} : {error: "format"};
  }

  // The server's checks of a resident ID number, in its order (the region and birth-date checks
  // need tables the phone does not have: the server says those).
  function idProblem(text, M) {
    var number = String(text || "").trim().toUpperCase().replace(/ /g, "");
    if (number.length !== 18) {
      return fmt(M.id_length, {n: number.length});
    }
    if (!/^\d{17}[\dX]$/.test(number)) {
      return M.id_format;
    }
    var sum = 0;
    for (var i = 0; i < 17; i += 1) {
      sum += parseInt(number[i], 10) * ID_WEIGHTS[i];
    }
    return ID_CHECK[sum % 11] === number[17] ? null : M.id_check;
  }

  // --- the draft --------------------------------------------------------------------------------

  function newMember(first) {
    return {key: window.FieldQueue.uuid(), name: "", relation: first ? "self" : "", id_number: "",
            work_ability: "able", disability_grade: "0"};
  }

  function newIncome() {
    return {key: window.FieldQueue.uuid(), member: "", kind: "wages", period: "monthly", amount: ""};
  }

  function newExpense() {
    return {key: window.FieldQueue.uuid(), kind: "medical", amount: ""};
  }

  function newInterview() {
    return {key: window.FieldQueue.uuid(), neighbour: "", at: inputTime(new Date()), statement: ""};
  }

  function blank(clientId, assignment) {
    return {client_id: clientId, beneficiary_id: assignment.beneficiary.id, contract_id: assignment.contract_id,
            display_name: assignment.beneficiary.display_name, kind: "application", category: "dibao", area: "urban",
            members: [newMember(true)], incomes: [], expenses: [], interviews: [newInterview()],
            assets: {deposits: "0", dwellings: "0", housing_area: "0", vehicles: "0"}, notes: "", errors: {}};
  }

  function isBlank(row, fields) {
    return fields.every(function (f) { return !String(row[f] || "").trim(); });
  }

  // Rows left empty are not part of the survey (an interview row the worker never filled in is
  // no interview); dropped before the checks, so the body's indexes are the form's.
  function dropBlankRows(draft) {
    draft.members = draft.members.filter(function (m) { return !isBlank(m, ["name", "id_number"]); });
    draft.incomes = draft.incomes.filter(function (i) { return !isBlank(i, ["amount"]); });
    draft.expenses = draft.expenses.filter(function (e) { return !isBlank(e, ["amount"]); });
    draft.interviews = draft.interviews.filter(function (v) { return !isBlank(v, ["neighbour", "statement"]); });
  }

  // --- the checks (the server's rules) and the body -----------------------------------------------

  // {errors: {path: message}, body} where path names the body's field ("members.0.id_number").
  function check(draft, M, now) {
    var errors = {};
    dropBlankRows(draft);
    function need(path, value) {
      if (!String(value === undefined || value === null ? "" : value).trim()) {
        errors[path] = M.required;
        return false;
      }
      return true;
    }
    function money(path, text, times) {
      var parsed = toFen(text);
      if (parsed.error) {
        errors[path] = parsed.error === "negative" ? M.amount_negative : M.amount_format;
      } else if (parsed.fen * (times || 1) > M.max_fen) {
        errors[path] = M.amount_too_large;
      }
      return parsed.fen;
    }
    function count(path, text) {
      var parsed = toCount(text);
      if (parsed.error) {
        errors[path] = parsed.error === "negative" ? M.amount_negative : M.count_format;
      }
      return parsed.count;
    }
    if (!draft.members.length) {
      errors.members = M.need_member;
    }
    var numbers = [];
    var members = draft.members.map(function (m, i) {
      var p = "members." + i + ".";
      need(p + "name", m.name);
      need(p + "relation", m.relation);
      var number = m.id_number.trim().toUpperCase().replace(/ /g, "");
      var idError = need(p + "id_number", m.id_number) ? idProblem(m.id_number, M) : null;
      if (!idError && numbers.indexOf(number) >= 0) { idError = M.same_id_number; }
      if (idError) { errors[p + "id_number"] = idError; }
      numbers.push(number);
      need(p + "work_ability", m.work_ability);
      return {name: m.name.trim(), relation: m.relation, id_number: number,
              work_ability: m.work_ability, disability_grade: parseInt(m.disability_grade, 10) || 0};
    });
    var memberKeys = draft.members.map(function (m) { return m.key; });
    var incomes = draft.incomes.map(function (row, i) {
      var p = "incomes." + i + ".";
      var index = row.member ? memberKeys.indexOf(row.member) : null;
      if (index === -1) { errors[p + "member"] = M.required; }  // the member was removed
      return {member: index, kind: row.kind, period: row.period, amount_fen: money(p + "amount_fen", row.amount, row.period === "monthly" ? 12 : 1)};
    });
    var expenses = draft.expenses.map(function (row, i) {
      return {kind: row.kind, annual_fen: money("expenses." + i + ".annual_fen", row.amount)};
    });
    if (!draft.interviews.length) {
      errors.interviews = M.need_interview;
    }
    var interviews = draft.interviews.map(function (v, i) {
      var p = "interviews." + i + ".";
      need(p + "neighbour", v.neighbour);
      need(p + "statement", v.statement);
      var at = v.at ? new Date(v.at) : null;
      if (!at || isNaN(at.getTime())) {
        errors[p + "interviewed_at"] = M.required;
      } else if (at.getTime() > now.getTime() + CLOCK_SKEW_MS) {
        errors[p + "interviewed_at"] = M.future_time;
      }
      return {neighbour: v.neighbour.trim(), interviewed_at: at && !isNaN(at.getTime()) ? isoLocal(at) : "",
              statement: v.statement.trim()};
    });
    var assets = {deposits_fen: money("assets.deposits_fen", draft.assets.deposits),
                  dwellings: count("assets.dwellings", draft.assets.dwellings),
                  housing_area_m2: count("assets.housing_area_m2", draft.assets.housing_area),
                  vehicles: count("assets.vehicles", draft.assets.vehicles)};
    var body = {kind: draft.kind, category: draft.category, area: draft.area, members: members, incomes: incomes,
                assets: assets, expenses: expenses, interviews: interviews};
    if (draft.notes.trim()) {
      body.notes = draft.notes.trim();
    }
    return {errors: errors, body: body};
  }

  // The problem's ``errors`` ({path: [message…]}) → {path: "message message"}.
  function serverErrors(errors) {
    var flat = {};
    Object.keys(errors || {}).forEach(function (path) {
      flat[path.replace(/\[(\d+)\]/g, ".$1")] = [].concat(errors[path]).join(" ");
    });
    return flat;
  }

  // --- drawing the form ---------------------------------------------------------------------------

  function render(section, draft, M, hooks) {
    var focusedId = document.activeElement && section.contains(document.activeElement) ? document.activeElement.id : "";
    var errors = draft.errors || {};
    var used = {};

    function inputId(path) {
      return "sf-" + path.replace(/\./g, "-");
    }

    function errorSlot(path) {
      used[path] = true;
      return el("p", {"class": "field-error note-error", id: inputId(path) + "-error", "data-error-for": path,
                       role: errors[path] ? "alert" : null, text: errors[path] || ""});
    }

    function bind(input, path, set, rebuild) {
      input.addEventListener(input.tagName === "SELECT" || input.type === "radio" ? "change" : "input", function () {
        set(input.value);
        if (errors[path]) {
          delete errors[path];
          var slot = document.getElementById(inputId(path) + "-error");
          if (slot) { slot.textContent = ""; slot.removeAttribute("role"); }
          input.removeAttribute("aria-invalid");
        }
        if (rebuild) { hooks.rebuilt(); } else { hooks.changed(); }
      });
      return input;
    }

    function control(path, input) {
      input.id = inputId(path);
      input.setAttribute("data-path", path);
      input.setAttribute("aria-describedby", inputId(path) + "-error");
      if (errors[path]) { input.setAttribute("aria-invalid", "true"); }
      return input;
    }

    function textField(label, path, value, set, attrs) {
      var input = control(path, attrs && attrs.multiline ? el("textarea", {rows: "3", maxlength: attrs.maxlength || "4000"})
                                                     : el("input", Object.assign({type: "text"}, attrs || {})));
      input.value = value || "";
      bind(input, path, set);
      return el("p", {"class": "field"}, [el("label", {"for": inputId(path), text: label}), input, errorSlot(path)]);
    }

    function selectField(label, path, value, choices, set, rebuild) {
      var select = control(path, el("select", {}, choices.map(function (c) {
        return el("option", {value: String(c.code), text: c.label, selected: String(c.code) === String(value)});
      })));
      select.value = String(value);
      bind(select, path, set, rebuild);
      return el("p", {"class": "field"}, [el("label", {"for": inputId(path), text: label}), select, errorSlot(path)]);
    }

    function radioField(label, path, value, choices, set) {
      return el("fieldset", {"class": "choices", id: inputId(path)}, [el("legend", {text: label})].concat(
        choices.map(function (c) {
          var id = inputId(path) + "-" + c.code;
          var input = el("input", {type: "radio", name: inputId(path), id: id, value: c.code, checked: c.code === value,
                                   "data-path": path});
          bind(input, path, set);
          return el("label", {"for": id, "class": "choice"}, [input, document.createTextNode(" " + c.label)]);
        })).concat([errorSlot(path)]));
    }

    function removeButton(list, index, label) {
      var button = el("button", {type: "button", "class": "button button-secondary remove-row",
                                 text: M.remove, "aria-label": M.remove + " " + label});
      button.addEventListener("click", function () { list.splice(index, 1); draft.errors = {}; hooks.rebuilt(); });
      return button;
    }

    function addButton(id, text, add) {
      var button = el("button", {type: "button", id: id, "class": "button button-secondary add-row", text: text});
      button.addEventListener("click", function () { add(); hooks.rebuilt(); });
      return button;
    }

    function rows(name, title, list, drawRow, addText, add) {
      return el("section", {"class": "survey-part", id: "sf-" + name}, [el("h3", {text: title}), errorSlot(name)]
        .concat(list.map(drawRow)).concat([addButton("sf-add-" + name, addText, add)]));
    }

    var memberChoices = [{code: "", label: M.household}].concat(draft.members.map(function (m, i) {
      return {code: m.key, label: fmt(M.member_n, {n: i + 1}) + (m.name.trim() ? " " + m.name.trim() : "")};
    }));

    var close = el("button", {type: "button", "class": "button button-secondary close-form", text: M.close_form});
    close.addEventListener("click", hooks.close);

    var parts = [
      el("div", {"class": "survey-form-head"}, [el("h2", {text: draft.display_name}), close]),
      radioField(M.kind, "kind", draft.kind, M.kinds, function (v) { draft.kind = v; }),
      selectField(M.category, "category", draft.category, M.categories, function (v) { draft.category = v; }),
      radioField(M.area, "area", draft.area, M.areas, function (v) { draft.area = v; }),
      rows("members", M.members, draft.members, function (m, i) {
        var p = "members." + i + ".";
        var legend = fmt(M.member_n, {n: i + 1});
        return el("fieldset", {"class": "survey-row-fields member-row", "data-row": m.key}, [
          el("legend", {text: legend}),
          textField(M.name, p + "name", m.name, function (v) { m.name = v; }, {maxlength: "64", autocomplete: "off"}),
          selectField(M.relation, p + "relation", m.relation,
                      (m.relation ? [] : [{code: "", label: "—"}]).concat(M.relations), function (v) { m.relation = v; }),
          textField(M.id_number, p + "id_number", m.id_number, function (v) { m.id_number = v; },
                    {maxlength: "18", autocomplete: "off", autocapitalize: "characters", spellcheck: "false"}),
          selectField(M.work_ability, p + "work_ability", m.work_ability, M.work_abilities,
                      function (v) { m.work_ability = v; }),
          selectField(M.disability_grade, p + "disability_grade", m.disability_grade, M.disability_grades,
                      function (v) { m.disability_grade = v; }),
          removeButton(draft.members, i, legend),
        ]);
      }, M.add_member, function () { draft.members.push(newMember(!draft.members.length)); }),
      rows("incomes", M.incomes, draft.incomes, function (row, i) {
        var p = "incomes." + i + ".";
        return el("fieldset", {"class": "survey-row-fields income-row", "data-row": row.key}, [
          el("legend", {text: M.incomes + " " + (i + 1)}),
          selectField(M.income_member, p + "member", row.member, memberChoices, function (v) { row.member = v; }),
          selectField(M.income_kind, p + "kind", row.kind, M.income_kinds, function (v) { row.kind = v; }),
          selectField(M.period, p + "period", row.period, M.income_periods, function (v) { row.period = v; }),
          textField(M.amount_yuan, p + "amount_fen", row.amount, function (v) { row.amount = v; },
                    {inputmode: "decimal", autocomplete: "off"}),
          removeButton(draft.incomes, i, M.incomes + " " + (i + 1)),
        ]);
      }, M.add_income, function () { draft.incomes.push(newIncome()); }),
      el("section", {"class": "survey-part", id: "sf-assets"}, [
        el("h3", {text: M.assets}),
        textField(M.deposits_yuan, "assets.deposits_fen", draft.assets.deposits,
                  function (v) { draft.assets.deposits = v; }, {inputmode: "decimal"}),
        textField(M.dwellings, "assets.dwellings", draft.assets.dwellings,
                  function (v) { draft.assets.dwellings = v; }, {inputmode: "numeric"}),
        textField(M.housing_area, "assets.housing_area_m2", draft.assets.housing_area,
                  function (v) { draft.assets.housing_area = v; }, {inputmode: "numeric"}),
        textField(M.vehicles, "assets.vehicles", draft.assets.vehicles,
                  function (v) { draft.assets.vehicles = v; }, {inputmode: "numeric"}),
      ]),
      rows("expenses", M.expenses, draft.expenses, function (row, i) {
        var p = "expenses." + i + ".";
        return el("fieldset", {"class": "survey-row-fields expense-row", "data-row": row.key}, [
          el("legend", {text: M.expenses + " " + (i + 1)}),
          selectField(M.expense_kind, p + "kind", row.kind, M.expense_kinds, function (v) { row.kind = v; }),
          textField(M.annual_yuan, p + "annual_fen", row.amount, function (v) { row.amount = v; },
                    {inputmode: "decimal", autocomplete: "off"}),
          removeButton(draft.expenses, i, M.expenses + " " + (i + 1)),
        ]);
      }, M.add_expense, function () { draft.expenses.push(newExpense()); }),
      rows("interviews", M.interviews, draft.interviews, function (v, i) {
        var p = "interviews." + i + ".";
        return el("fieldset", {"class": "survey-row-fields interview-row", "data-row": v.key}, [
          el("legend", {text: M.interviews + " " + (i + 1)}),
          textField(M.neighbour, p + "neighbour", v.neighbour, function (x) { v.neighbour = x; }, {maxlength: "120"}),
          textField(M.interviewed_at, p + "interviewed_at", v.at, function (x) { v.at = x; }, {type: "datetime-local"}),
          textField(M.statement, p + "statement", v.statement, function (x) { v.statement = x; }, {multiline: true}),
          removeButton(draft.interviews, i, M.interviews + " " + (i + 1)),
        ]);
      }, M.add_interview, function () { draft.interviews.push(newInterview()); }),
      textField(M.notes, "notes", draft.notes, function (v) { draft.notes = v; },
                {multiline: true, maxlength: String(window.FieldQueue.NOTES_TYPED)}),
    ];
    // The server's messages about fields the form has no place for (the time, the position…)
    var elsewhere = Object.keys(errors).filter(function (path) { return !used[path]; });
    var general = el("ul", {"class": "survey-problems note-error", id: "sf-general-errors"}, elsewhere.map(function (path) {
      return el("li", {text: path + ": " + errors[path]});
    }));
    var save = el("button", {type: "button", id: "sf-save", "class": "button big-button save-survey", text: M.save,
                             disabled: hooks.busy});
    save.addEventListener("click", hooks.save);
    var note = hooks.note;
    section.replaceChildren.apply(section, [parts[0], general].concat(parts.slice(1)).concat([
      save, el("p", {"class": "card-message" + (note ? " note-" + note.kind : ""), id: "sf-message", role: "status",
                     text: note ? note.text : ""})]));
    if (focusedId && document.getElementById(focusedId)) {
      document.getElementById(focusedId).focus();
    }
  }

  return {el: el, blank: blank, check: check, render: render, serverErrors: serverErrors, isoLocal: isoLocal,
          toFen: toFen, yuan: yuan};
})();
