"""The staff form of a template's questions, as plain form fields.

Row ``i`` of the form posts ``q-<i>-id``, ``q-<i>-type``, ``q-<i>-text``,
``q-<i>-help``, ``q-<i>-required``, ``q-<i>-options`` (one option a line),
``q-<i>-min``, ``q-<i>-max``, ``q-<i>-show_if_question``, ``q-<i>-show_if_equals``;
``count`` says how many rows there are. The buttons ``action=add``, ``remove-<i>``,
``up-<i>``, ``down-<i>`` change the rows without saving, so the form works with no
JavaScript at all.
"""
import re

from cabinet.content import slugify

FIELDS = ("id", "type", "text", "help", "required", "options", "min", "max",
          "show_if_question", "show_if_equals")
MAX_ROWS = 200
_YES = {"oui", "true", "1", "yes", "o"}
_NO = {"non", "false", "0", "no", "n"}


def blank_row():
    return {field: "" for field in FIELDS} | {"type": "short_text", "required": False}


def rows_from_post(post):
    try:
        count = max(0, min(int(post.get("count", "0")), MAX_ROWS))
    except ValueError:
        count = 0
    rows = []
    for i in range(count):
        row = {field: post.get(f"q-{i}-{field}", "").strip() for field in FIELDS}
        row["required"] = post.get(f"q-{i}-required") == "1"
        rows.append(row)
    return rows


def apply_action(rows, action):
    """Rows after a button other than 'save' (None: unknown action)."""
    if action == "add":
        return rows + [blank_row()] if len(rows) < MAX_ROWS else rows
    match = re.fullmatch(r"(remove|up|down)-(\d+)", action or "")
    if not match:
        return None
    verb, i = match.group(1), int(match.group(2))
    if i >= len(rows):
        return rows
    rows = list(rows)
    if verb == "remove":
        del rows[i]
    elif verb == "up" and i > 0:
        rows[i - 1], rows[i] = rows[i], rows[i - 1]
    elif verb == "down" and i + 1 < len(rows):
        rows[i + 1], rows[i] = rows[i], rows[i + 1]
    return rows


def rows_from_questions(questions):
    rows = []
    for q in questions:
        condition = q.get("show_if") or {}
        equals = condition.get("equals", "")
        if isinstance(equals, bool):
            equals = "oui" if equals else "non"
        rows.append({"id": q["id"], "type": q["type"], "text": q["text"],
                     "help": q.get("help", ""), "required": bool(q.get("required")),
                     "options": "\n".join(q.get("options", ())),
                     "min": _show(q.get("min")), "max": _show(q.get("max")),
                     "show_if_question": condition.get("question", ""),
                     "show_if_equals": str(equals)})
    return rows


def _show(value):
    return "" if value is None else str(value)


def _number(text):
    """'12' -> 12, '1,5' -> 1.5, '' -> None; what is not a number stays as typed
    (the question rules then say so)."""
    if text == "":
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text.replace(",", "."))
    except ValueError:
        return text


def _equals(text, target):
    kind = target.get("type") if target else None
    if kind == "yes_no":
        low = text.lower()
        return True if low in _YES else False if low in _NO else text
    if kind in ("number", "scale"):
        return _number(text)
    return text


def questions_from_rows(rows):
    """The questions the rows describe (checked afterwards by check_questions). A row
    without an id gets one made from its text."""
    taken = {row["id"] for row in rows if row["id"]}
    by_id, questions = {}, []
    for index, row in enumerate(rows):
        qid = row["id"]
        if not qid:
            base = slugify(row["text"])[:60] if row["text"] else f"q{index + 1}"
            qid, n = base, 2
            while qid in taken:
                qid, n = f"{base}-{n}", n + 1
            taken.add(qid)
            row["id"] = qid
        question = {"id": qid, "type": row["type"], "text": row["text"],
                    "help": row["help"], "required": row["required"]}
        if row["type"] in ("single_choice", "multiple_choice"):
            question["options"] = [line.strip() for line in row["options"].splitlines()
                                   if line.strip()]
        if row["type"] == "number":
            for bound in ("min", "max"):
                value = _number(row[bound])
                if value is not None:
                    question[bound] = value
        if row["show_if_question"]:
            target = by_id.get(row["show_if_question"])
            question["show_if"] = {"question": row["show_if_question"],
                                   "equals": _equals(row["show_if_equals"], target)}
        by_id[qid] = question
        questions.append(question)
    return questions


def field_errors(errors):
    """{'questions.2.options': msg} -> {'q-2-options': msg} (the inputs' names)."""
    out = {}
    for key, message in errors.items():
        match = re.fullmatch(r"questions\.(\d+)(?:\.(\w+))?", key)
        if not match:
            out[key] = message
            continue
        field = match.group(2) or "text"
        if field == "show_if":
            field = "show_if_question"
        elif field not in FIELDS:
            field = "text"
        out.setdefault(f"q-{match.group(1)}-{field}", message)
    return out
