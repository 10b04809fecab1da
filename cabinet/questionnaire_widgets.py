"""The deform side of the questionnaire forms (Q4): a widget per question type, the
form of a response (the schema of cabinet.questionnaire_forms with its widgets and
the two buttons), rendered with deform's templates in the request's language.

Widgets avoid deform's JavaScript: plain inputs, radios and check boxes work without
it. Conditional questions carry their condition in ``data-show-if`` on their
block, which static/questionnaires.js reads to show or hide them; without
JavaScript they stay visible, with a note saying when to answer them, and the server
drops what does not apply (cabinet.questionnaire_forms.AnswersSchema).
"""
import json

import deform
import deform.template
from deform.widget import (
    CheckboxChoiceWidget, RadioChoiceWidget, TextAreaWidget, TextInputWidget,
)
from pyramid.i18n import get_localizer

from cabinet.i18n import N_, _, translate
from cabinet.questionnaire_forms import SCALE_MAX, SCALE_MIN, answers_schema

#: the form's buttons: "save" keeps a draft; the submit button is the ``fill``
#: transition's, as on every page (``transition=fill``)
SAVE, SUBMIT = "save", "fill"
YES_NO = (("true", _("Oui")), ("false", _("Non")))


def widget_for(question):
    kind = question["type"]
    classes = f"question question-{kind}"
    if question.get("show_if"):
        classes += " conditional"
    if question.get("required"):
        classes += " required"         # marked by the CSS (asked only if conditional)
    if kind == "short_text":
        widget = TextInputWidget(attributes={"maxlength": "500"})
    elif kind == "long_text":
        widget = TextAreaWidget(rows=4, attributes={"maxlength": "5000"})
    elif kind == "number":
        widget = TextInputWidget(attributes={"inputmode": "decimal"})
    elif kind == "date":
        widget = TextInputWidget(attributes={"type": "date"})
    elif kind == "yes_no":
        widget = RadioChoiceWidget(values=YES_NO, inline=True)
    elif kind == "single_choice":
        widget = RadioChoiceWidget(values=[(o, o) for o in question.get("options") or ()])
    elif kind == "multiple_choice":
        widget = CheckboxChoiceWidget(values=[(o, o) for o in question.get("options") or ()])
    elif kind == "scale":
        widget = RadioChoiceWidget(values=[(str(n), str(n)) for n in
                                           range(SCALE_MIN, SCALE_MAX + 1)], inline=True)
    else:
        raise ValueError(kind)
    widget.item_css_class = classes
    return widget


CONDITION_NOTE = N_("À remplir seulement si vous avez répondu « ${answer} » à la question "
                    "« ${question} ».")


def _condition_note(request, question, by_id):
    condition = question.get("show_if")
    if not condition:
        return ""
    target = by_id.get(condition["question"], {})
    equals = condition["equals"]
    if isinstance(equals, bool):
        equals = _("Oui") if equals else _("Non")
    return translate(request, CONDITION_NOTE, answer=equals,
                     question=target.get("text", condition["question"]))


def renderer(request):
    """deform's templates, translated into the request's language: one renderer (and
    its compiled templates) per application and language."""
    localizer = get_localizer(request)
    cache = request.registry.setdefault("cabinet.deform_renderers", {})
    found = cache.get(localizer.locale_name)
    if found is None:
        found = cache[localizer.locale_name] = deform.ZPTRendererFactory(
            (deform.template.default_dir,), translator=localizer.translate)
    return found


def response_form(request, questions, action, *, draft):
    """The deform Form of a response; ``draft``: required questions may stay empty
    (the "save the draft" button), else the full checks of a submission."""
    schema = answers_schema(questions, draft=draft, widgets=True)
    by_id = {q["id"]: q for q in questions}
    for node in schema.children:
        note = _condition_note(request, node.question, by_id)
        if note:
            node.description = f"{node.description} {note}".strip()
    buttons = (
        deform.Button(SAVE, _("Enregistrer le brouillon"), css_class="secondary",
                      attributes={"formnovalidate": "formnovalidate"}),
        deform.Button("transition", _("Envoyer"), value=SUBMIT, css_class="primary"),
    )
    form = deform.Form(schema, action=action, buttons=buttons, formid="questionnaire",
                       css_class="deform transitions", renderer=renderer(request))
    return form


def conditions_json(questions):
    """{block id: condition} for static/questionnaires.js."""
    return json.dumps({f"item-q-{q['id']}": {"question": f"item-q-{q['show_if']['question']}",
                                             "equals": q["show_if"]["equals"]}
                       for q in questions if q.get("show_if")})
