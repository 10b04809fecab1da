/* Conditional questions of the fill page (issue #5): a question whose condition
   ("show only if question X is answered Y") is not met is hidden. Without this
   script every question stays visible and the server drops what does not apply. */
(function () {
  "use strict";
  var data = document.getElementById("questionnaire-conditions");
  if (!data) { return; }
  var conditions = JSON.parse(data.textContent || "{}");
  var form = document.getElementById("questionnaire");
  if (!form) { return; }

  function values(block) {
    /* the answer of a question block: checked radios / boxes, or the typed text */
    if (!block || block.classList.contains("hidden-by-condition")) { return []; }
    var out = [];
    block.querySelectorAll("input, textarea, select").forEach(function (input) {
      if (input.type === "hidden") { return; }
      if (input.type === "radio" || input.type === "checkbox") {
        if (input.checked) { out.push(input.value); }
      } else if (input.value.trim() !== "") {
        out.push(input.value.trim());
      }
    });
    return out;
  }

  function matches(found, wanted) {
    return found.some(function (value) {
      if (typeof wanted === "boolean") { return value === String(wanted); }
      if (typeof wanted === "number") { return Number(value.replace(",", ".")) === wanted; }
      return value === String(wanted);
    });
  }

  function update() {
    /* in document order: a question hidden hides those that depend on it */
    Object.keys(conditions).forEach(function (id) {
      var block = document.getElementById(id);
      var condition = conditions[id];
      if (!block) { return; }
      var shown = matches(values(document.getElementById(condition.question)),
                          condition.equals);
      block.classList.toggle("hidden-by-condition", !shown);
      block.setAttribute("aria-hidden", shown ? "false" : "true");
    });
  }

  form.addEventListener("change", update);
  form.addEventListener("input", update);
  update();
}());
