"""The questions of a questionnaire template and the rules they follow (Q1).

A question is a JSON object::

    {"id": "medicaments", "type": "yes_no", "text": "Prenez-vous des médicaments ?",
     "help": "", "required": true}
    {"id": "lesquels", "type": "long_text", "text": "Lesquels ?",
     "show_if": {"question": "medicaments", "equals": true}}

``check_questions`` returns the questions normalised (keys in a fixed order, defaults
filled in) and a dict of errors keyed ``questions.<index>.<field>`` (the shape of
colander's ``Invalid.asdict()``, which the forms show next to each field).
"""
import math
import re
from datetime import date

from cabinet.i18n import N_

#: type -> what people read (French msgids: the pages translate them)
QUESTION_TYPES = {
    "short_text": N_("Texte court"),
    "long_text": N_("Texte long"),
    "number": N_("Nombre"),
    "date": N_("Date"),
    "yes_no": N_("Oui / non"),
    "single_choice": N_("Choix unique"),
    "multiple_choice": N_("Choix multiple"),
    "scale": N_("Échelle de 0 à 10"),
}
CHOICE_TYPES = ("single_choice", "multiple_choice")
SCALE_MIN, SCALE_MAX = 0, 10
KEYS = ("id", "type", "text", "help", "required", "options", "min", "max", "show_if")
MAX_QUESTIONS = 200
MAX_OPTIONS = 50
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class QuestionsInvalid(ValueError):
    """The questions break a rule; ``errors`` maps ``questions.<i>.<field>`` to a
    message."""

    def __init__(self, errors):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def _is_number(value):
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


def _text(value, limit):
    return isinstance(value, str) and len(value) <= limit


def _options(raw, err):
    if not isinstance(raw, list) or not raw:
        err("options", "Un choix demande au moins une option.")
        return []
    if len(raw) > MAX_OPTIONS:
        err("options", f"Au plus {MAX_OPTIONS} options.")
        return []
    options, seen = [], set()
    for option in raw:
        if not isinstance(option, str) or not option.strip() or len(option) > 200:
            err("options", "Chaque option est un texte non vide (200 caractères au plus).")
            return []
        option = option.strip()
        if option in seen:
            err("options", f"L'option « {option} » apparaît deux fois.")
            return []
        seen.add(option)
        options.append(option)
    return options


def valid_answer(question, value):
    """Is ``value`` a possible answer to ``question`` (used by ``show_if.equals``)?"""
    kind = question["type"]
    if kind in ("short_text", "long_text"):
        return isinstance(value, str) and value != ""
    if kind == "yes_no":
        return isinstance(value, bool)
    if kind == "single_choice" or kind == "multiple_choice":
        return isinstance(value, str) and value in question.get("options", ())
    if kind == "scale":
        return (isinstance(value, int) and not isinstance(value, bool)
                and SCALE_MIN <= value <= SCALE_MAX)
    if kind == "number":
        return (_is_number(value)
                and (question.get("min") is None or value >= question["min"])
                and (question.get("max") is None or value <= question["max"]))
    if kind == "date":
        try:
            date.fromisoformat(value)
        except (TypeError, ValueError):
            return False
        return True
    return False


def _question(raw, index, earlier, err):
    """One question normalised, or None; ``earlier``: id -> the questions before."""
    if not isinstance(raw, dict):
        err(None, "Une question est un objet JSON.")
        return None
    for key in raw:
        if key not in KEYS:
            err(key, f"Champ inconnu « {key} ».")
    qid = raw.get("id")
    if not isinstance(qid, str) or not _ID.match(qid):
        err("id", "Identifiant requis : minuscules, chiffres, « - » ou « _ » "
                  "(64 caractères au plus).")
        qid = None
    elif qid in earlier:
        err("id", f"L'identifiant « {qid} » est déjà celui d'une autre question.")
    kind = raw.get("type")
    if kind not in QUESTION_TYPES:
        err("type", f"Type inconnu : choisir parmi {', '.join(QUESTION_TYPES)}.")
        kind = None
    text = raw.get("text")
    if not isinstance(text, str) or not text.strip() or len(text) > 1000:
        err("text", "L'intitulé est requis (1000 caractères au plus).")
    help_text = raw.get("help", "")
    if help_text is None:
        help_text = ""
    if not _text(help_text, 2000):
        err("help", "L'aide est un texte de 2000 caractères au plus.")
    required = raw.get("required", False)
    if not isinstance(required, bool):
        err("required", "« required » vaut true ou false.")
    question = {"id": qid, "type": kind, "text": text.strip() if isinstance(text, str)
                else text, "help": help_text.strip() if isinstance(help_text, str)
                else help_text, "required": required}

    options = raw.get("options")
    if kind in CHOICE_TYPES:
        question["options"] = _options(options, err)
    elif options not in (None, []):
        err("options", "Seuls les choix (unique ou multiple) ont des options.")

    bounds = {name: raw.get(name) for name in ("min", "max")}
    for name, value in bounds.items():
        if value is None:
            continue
        if kind != "number":
            err(name, "Seules les questions de type nombre ont des bornes.")
        elif not _is_number(value):
            err(name, "La borne est un nombre.")
        else:
            question[name] = value
    if (kind == "number" and _is_number(bounds["min"]) and _is_number(bounds["max"])
            and bounds["min"] > bounds["max"]):
        err("max", "Le maximum est inférieur au minimum.")

    condition = raw.get("show_if")
    if condition is not None:
        question["show_if"] = _condition(condition, earlier, err)
    return question


def _condition(condition, earlier, err):
    if not isinstance(condition, dict) or set(condition) != {"question", "equals"}:
        err("show_if", "La condition est {\"question\": <identifiant>, \"equals\": "
                       "<réponse>}.")
        return condition
    target = earlier.get(condition["question"]) if isinstance(
        condition["question"], str) else None
    if target is None:
        err("show_if", f"La condition porte sur « {condition['question']} », qui n'est "
                       "pas une question placée avant celle-ci.")
    elif target["type"] is not None and not valid_answer(target, condition["equals"]):
        err("show_if", f"« {condition['equals']} » n'est pas une réponse possible à la "
                       f"question « {target['id']} ».")
    return {"question": condition["question"], "equals": condition["equals"]}


def check_questions(raw):
    """The questions normalised, or QuestionsInvalid listing every error."""
    errors = {}
    if not isinstance(raw, list) or not raw:
        raise QuestionsInvalid({"questions": "Le questionnaire doit avoir au moins une "
                                             "question."})
    if len(raw) > MAX_QUESTIONS:
        raise QuestionsInvalid({"questions": f"Au plus {MAX_QUESTIONS} questions."})
    earlier, questions = {}, []
    for index, item in enumerate(raw):
        def err(field, message, index=index):
            key = f"questions.{index}" + (f".{field}" if field else "")
            errors.setdefault(key, message)
        question = _question(item, index, earlier, err)
        if question is None:
            continue
        questions.append(question)
        if question["id"] and question["id"] not in earlier:
            earlier[question["id"]] = question
    if errors:
        raise QuestionsInvalid(errors)
    return questions

