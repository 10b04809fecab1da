// Questionnaire template form: show the options only for choices and the bounds only
// for numbers. Without JavaScript every field stays visible and the form still works.
(function () {
  "use strict";
  function update(row) {
    var select = row.querySelector("select[name$='-type']");
    if (!select) { return; }
    var type = select.value;
    var choice = row.querySelector(".for-choice");
    var number = row.querySelector(".for-number");
    if (choice) { choice.hidden = type !== "single_choice" && type !== "multiple_choice"; }
    if (number) { number.hidden = type !== "number"; }
  }
  document.querySelectorAll("fieldset.question-row").forEach(function (row) {
    update(row);
    row.addEventListener("change", function (event) {
      if (event.target.name && /-type$/.test(event.target.name)) { update(row); }
    });
  });
})();
