"""Patient imaging (issue #9, P5) and the cabinet's imaging selection (issue #10, K3).

- A cabinet has a list of treatment stages and a list of image types
  (``ImagingSettings``; the defaults below until it changes them), and chooses which
  (stage, type) pairs its patients see (``shared``; none by default: the cabinet
  decides what it shows).
- Its people add images to a record (``create_image``): JPEG or PNG (shown) or DICOM
  (downloaded only), recognised from their bytes, at most the upload limit
  (``cabinet.upload_max_bytes``), each with a stage and a type of the cabinet's lists.
- ``record_of(request, patient)`` is the one place where the module switch (K2,
  "imaging", minors' access for guardians, a closed portal) is checked for the
  record's imaging views; ``visible_images`` are the record's images of the shared
  pairs, in the album's order (stage, then type, as the cabinet lists them, then the
  day taken), read at each request: a new selection takes effect at once.
- ``build_zip`` writes the visible images into a temporary file (stored entries,
  names made of the stage, type and file name reduced to safe characters), refused
  (413) past ``cabinet.imaging.zip_max_bytes``.
"""
import re
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import and_, func, or_, select

from cabinet import errors, modules
from cabinet.content import add_node, slugify
from cabinet.document_sharing import cabinet_of
from cabinet.documents import TITLE_TOO_LONG, UploadRefused, sniff
from cabinet.i18n import N_, _
from cabinet.interfaces import IBlobStorage, IClock
from cabinet.locks import lock_node
from cabinet.models import Image, ImagingSettings
from cabinet.workflow import record_history

DEFAULT_STAGES = (
    ("debut", "Début de traitement"),
    ("en-cours", "En cours de traitement"),
    ("fin", "Fin de traitement"),
    ("contention", "Contention"),
)
DEFAULT_TYPES = (
    ("visage-face", "Visage de face"),
    ("visage-sourire", "Visage sourire"),
    ("visage-profil", "Visage de profil"),
    ("intra-buccale", "Photo intra-buccale"),
    ("radio-panoramique", "Radio panoramique"),
    ("teleradiographie", "Téléradiographie de profil"),
    ("radio-retro-alveolaire", "Radio rétro-alvéolaire"),
)
MAX_ENTRIES = 30
MAX_TITLE = 100
DICOM = "application/dicom"
#: the types a browser shows; DICOM is only downloaded
SHOWN = ("image/jpeg", "image/png")
ACCEPTED = (*SHOWN, DICOM)
EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", DICOM: ".dcm"}
SAME_TYPE_EXTENSIONS = {"image/jpeg": (".jpg", ".jpeg", ".jpe"), DICOM: (".dcm", ".dicom")}
DEFAULT_ZIP_MAX_BYTES = 200 * 1024 * 1024
WRONG_TYPE = N_("Type de fichier refusé : seules les images JPEG et PNG et les fichiers "
                "DICOM sont acceptés (reconnus à leur contenu, pas à leur nom).")
NO_IMAGING = N_("Il n'y a pas d'imagerie ici.")
NO_IMAGE = N_("Cette image n'existe pas.")


# -- the cabinet's lists and selection ---------------------------------------------------

@dataclass
class Lists:
    stages: list            # [(name, title)]
    types: list
    shared: set = field(default_factory=set)    # {(stage, type)}

    def stage_title(self, name):
        return dict(self.stages).get(name, name)

    def type_title(self, name):
        return dict(self.types).get(name, name)

    def order(self, image):
        stages = [n for n, _t in self.stages]
        types = [n for n, _t in self.types]
        return (stages.index(image.stage) if image.stage in stages else len(stages),
                types.index(image.image_type) if image.image_type in types else len(types),
                image.taken_on or date.min, image.id)


def _pairs(raw):
    return [(str(e.get("name")), str(e.get("title"))) for e in raw or ()
            if isinstance(e, dict)]


def lists_of(session, cabinet):
    """The cabinet's stages, types and shared pairs (one query)."""
    row = session.get(ImagingSettings, cabinet.id)
    stages = _pairs(row.stages) if row is not None and row.stages else list(DEFAULT_STAGES)
    types = _pairs(row.types) if row is not None and row.types else list(DEFAULT_TYPES)
    shared = set()
    if row is not None:
        shared = {(s, t) for s, t in (tuple(p) for p in row.shared or () if len(p) == 2)}
    return Lists(stages, types, shared)


def _clean_list(raw, what, problems):
    """[(name, title)] from [{"name"?, "title"}] (a name is made from the title)."""
    if not isinstance(raw, list) or not raw or len(raw) > MAX_ENTRIES:
        problems[what] = f"Une liste de 1 à {MAX_ENTRIES} éléments {{name, title}}."
        return None
    out, seen = [], set()
    for index, entry in enumerate(raw):
        if isinstance(entry, str):
            entry = {"title": entry}
        if not isinstance(entry, dict):
            problems[f"{what}.{index}"] = "Un objet {name, title}."
            continue
        title = entry.get("title")
        if not isinstance(title, str) or not title.strip() or len(title) > MAX_TITLE:
            problems[f"{what}.{index}.title"] = (f"Un intitulé de 1 à {MAX_TITLE} "
                                                 "caractères.")
            continue
        name = entry.get("name") or slugify(title)[:50]
        if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,49}", name):
            problems[f"{what}.{index}.name"] = ("Un nom de 1 à 50 lettres minuscules, "
                                                "chiffres ou tirets.")
            continue
        if name in seen:
            problems[f"{what}.{index}.name"] = f"« {name} » figure deux fois."
            continue
        seen.add(name)
        out.append((name, " ".join(title.split())))
    return out


def _clean_shared(raw, lists, problems):
    if not isinstance(raw, list):
        problems["shared"] = "Une liste de paires {stage, image_type}."
        return None
    stages, types = dict(lists.stages), dict(lists.types)
    out = set()
    for index, entry in enumerate(raw):
        if isinstance(entry, dict):
            pair = (entry.get("stage"), entry.get("image_type"))
        elif isinstance(entry, list) and len(entry) == 2:
            pair = tuple(entry)
        else:
            problems[f"shared.{index}"] = "Une paire {stage, image_type}."
            continue
        if pair[0] not in stages:
            problems[f"shared.{index}.stage"] = "Étape de traitement inconnue."
        elif pair[1] not in types:
            problems[f"shared.{index}.image_type"] = "Type d'image inconnu."
        else:
            out.add(pair)
    return out


def check_settings(session, cabinet, body):
    """The new Lists from a body {stages?, types?, shared?} (other keys ignored), or
    422 naming every problem (nothing changed). A stage or type still used by an
    image cannot be removed."""
    if not isinstance(body, dict):
        raise errors.unprocessable("Un objet {stages, types, shared}.",
                                   errors={"body": "Un objet."}, field="body")
    current = lists_of(session, cabinet)
    problems = {}
    lists = Lists(current.stages, current.types, set(current.shared))
    for key in ("stages", "types"):
        if key in body:
            cleaned = _clean_list(body[key], key, problems)
            if cleaned is not None:
                setattr(lists, key, cleaned)
    for key, column in (("stages", Image.stage), ("types", Image.image_type)):
        removed = ({n for n, _t in getattr(current, key)}
                   - {n for n, _t in getattr(lists, key)})
        if removed:
            used = session.execute(
                select(column, func.count(Image.id)).where(
                    column.in_(removed), Image.path >= cabinet.path,
                    Image.path < cabinet.path[:-1] + "0")
                .group_by(column)).all()
            for name, count in used:
                problems[key] = (f"« {name} » est encore utilisé par {count} image(s) : "
                                 "changez-les d'abord.")
    names = ({n for n, _t in lists.stages}, {n for n, _t in lists.types})
    lists.shared = {(s, t) for s, t in lists.shared if s in names[0] and t in names[1]}
    if "shared" in body:
        shared = _clean_shared(body["shared"], lists, problems)
        if shared is not None:
            lists.shared = shared
    if problems:
        raise errors.unprocessable(N_("Vérifiez les champs signalés : rien n'a été modifié."),
                                   errors=problems, field=next(iter(problems)))
    return lists


def save_settings(request, cabinet, lists):
    """Store ``lists`` as the cabinet's; a history row on the cabinet when changed."""
    session = request.dbsession
    lock_node(session, cabinet.id)      # two first saves at once: one row
    before = lists_of(session, cabinet)
    if (before.stages, before.types, before.shared) == (lists.stages, lists.types,
                                                        lists.shared):
        return False
    row = session.get(ImagingSettings, cabinet.id)
    if row is None:
        row = ImagingSettings(cabinet_id=cabinet.id)
        session.add(row)
    row.stages = [{"name": n, "title": t} for n, t in lists.stages]
    row.types = [{"name": n, "title": t} for n, t in lists.types]
    row.shared = sorted([s, t] for s, t in lists.shared)
    row.modified = request.registry.getUtility(IClock).now()
    session.flush()
    record_history(request, cabinet, "settings",
                   grant=request.has_permission("imaging:configure", cabinet),
                   comment="Sélection de l'imagerie modifiée",
                   details={"imaging_shared": len(lists.shared),
                            "stages": len(lists.stages), "types": len(lists.types)})
    return True


# -- files -------------------------------------------------------------------------------

def sniff_image(data):
    """image/jpeg, image/png or application/dicom from the bytes, else None."""
    found = sniff(data)
    if found in SHOWN:
        return found
    if len(data) > 132 and data[128:132] == b"DICM":
        return DICOM
    return None


def clean_file_name(name, content_type):
    """The uploader's file name without folders, control or quote characters and
    leading dots, with an extension that says the type found in the content."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable() and c not in '"\\;')[:200]
    name = name.strip().lstrip(". ")
    extension = EXTENSIONS[content_type]
    if not name:
        return f"image{extension}"
    if not name.lower().endswith(SAME_TYPE_EXTENSIONS.get(content_type, (extension,))):
        name = name[:200 - len(extension)] + extension
    return name


def _refuse(message, field_name="file", **extra):
    return UploadRefused(422, message, field=field_name, **extra)


#: field -> (message when empty, message when unknown)
CHOICES = {"stage": (N_("Choisissez une étape de traitement."),
                     N_("Étape de traitement inconnue : « ${value} ».")),
           "image_type": (N_("Choisissez un type d'image."),
                          N_("Type d'image inconnu : « ${value} »."))}
BAD_DAY = N_("Date au format AAAA-MM-JJ.")
FUTURE_DAY = N_("La date de l'image ne peut pas être dans le futur.")


def _choice(fields, key, known):
    """The name in ``fields[key]`` if it is one of ``known`` [(name, title)], or 422."""
    value = fields.get(key)
    value = value.strip() if isinstance(value, str) else ""
    empty, unknown = CHOICES[key]
    if not value:
        raise _refuse(_(empty), key)
    if value not in dict(known):
        raise _refuse(_(unknown, mapping={"value": value[:50]}), key,
                      accepted=[n for n, _t in known])
    return value


def create_image(request, folder, fields, data, file_name):
    """An Image with its file under ``folder`` (a record's ``imaging``); only the
    fields title, stage, image_type and taken_on are read (others are ignored)."""
    patient = folder.__parent__
    cabinet = cabinet_of(patient)
    lists = lists_of(request.dbsession, cabinet)
    content_type = sniff_image(data)
    if content_type is None:
        raise _refuse(_(WRONG_TYPE), accepted=list(ACCEPTED))
    stage = _choice(fields, "stage", lists.stages)
    image_type = _choice(fields, "image_type", lists.types)
    clock = request.registry.getUtility(IClock)
    raw_day = (fields.get("taken_on") or "").strip()
    try:
        taken_on = date.fromisoformat(raw_day) if raw_day else clock.today()
    except ValueError:
        raise _refuse(_(BAD_DAY), "taken_on")
    if taken_on > clock.today():
        raise _refuse(_(FUTURE_DAY), "taken_on")
    name = clean_file_name(file_name, content_type)
    title = " ".join((fields.get("title") or "").split()) or name.rsplit(".", 1)[0] or name
    if len(title) > 500:
        raise _refuse(_(TITLE_TOO_LONG), "title")
    sha256 = request.registry.getUtility(IBlobStorage).store(data, request.tm)
    image = add_node(request.dbsession, request.registry, folder, "Image", title=title,
                     owner=request.identity, patient_id=patient.id, stage=stage,
                     image_type=image_type, taken_on=taken_on, blob_sha256=sha256,
                     size=len(data), content_type=content_type, file_name=name)
    record_history(request, image, "create",
                   grant=request.has_permission("image:add", folder), to_state=image.state,
                   details={"sha256": sha256, "size": len(data), "stage": stage,
                            "image_type": image_type})
    return image


# -- what patients see -------------------------------------------------------------------

def record_of(request, patient):
    """(cabinet, Lists) of ``patient``'s imaging, or 404 / 403 (cabinet.modules)."""
    cabinet = cabinet_of(patient)
    if cabinet is None:
        raise errors.not_found(NO_IMAGING)
    modules.require(request, cabinet, "imaging", patient=patient)
    return cabinet, lists_of(request.dbsession, cabinet)


def visible_images(session, patient, lists):
    """The record's images of the shared pairs, in the album's order."""
    if not lists.shared:
        return []
    pairs = or_(*(and_(Image.stage == s, Image.image_type == t)
                  for s, t in sorted(lists.shared)))
    rows = list(session.scalars(select(Image).where(Image.patient_id == patient.id, pairs)))
    return sorted(rows, key=lists.order)


def all_images(session, patient, lists):
    rows = session.scalars(select(Image).where(Image.patient_id == patient.id))
    return sorted(rows, key=lists.order)


def grouped(images, lists):
    """[(stage name, stage title, [(type name, type title, [images])])]."""
    out = []
    for image in images:
        if not out or out[-1][0] != image.stage:
            out.append((image.stage, lists.stage_title(image.stage), []))
        types = out[-1][2]
        if not types or types[-1][0] != image.image_type:
            types.append((image.image_type, lists.type_title(image.image_type), []))
        types[-1][2].append(image)
    return out


def neighbours(images, name):
    """(previous, image, next) of the visible image named ``name``, or 404: an image
    not shared is as absent as a missing one."""
    for index, image in enumerate(images):
        if image.name == name:
            return (images[index - 1] if index else None, image,
                    images[index + 1] if index + 1 < len(images) else None)
    raise errors.not_found(NO_IMAGE)


# -- the zip of every visible image ------------------------------------------------------

def zip_max_bytes(settings):
    try:
        return int(settings.get("cabinet.imaging.zip_max_bytes") or DEFAULT_ZIP_MAX_BYTES)
    except ValueError:
        return DEFAULT_ZIP_MAX_BYTES


def safe_part(text, default="image"):
    """``text`` reduced to ASCII letters, digits, dots, dashes and underscores: no
    folder separator, no "..", never empty."""
    text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    text = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")
    text = re.sub(r"\.{2,}", ".", text)[:80].strip("-.")
    return text or default


def entry_names(images, lists):
    """{image id: zip entry name}: ``<nn>-<stage>/<type>/<file>``, each unique."""
    stages = [n for n, _t in lists.stages]
    names, taken = {}, set()
    for image in images:
        number = stages.index(image.stage) + 1 if image.stage in stages else 99
        stem, _dot, _ext = (image.file_name or "").rpartition(".")
        base = safe_part(stem or image.file_name)
        extension = EXTENSIONS.get(image.content_type, ".bin")
        folder = (f"{number:02d}-{safe_part(lists.stage_title(image.stage))}/"
                  f"{safe_part(lists.type_title(image.image_type))}")
        candidate, n = f"{folder}/{base}{extension}", 1
        while candidate in taken:
            n += 1
            candidate = f"{folder}/{base}-{n}{extension}"
        taken.add(candidate)
        names[image.id] = candidate
    return names


def build_zip(request, images, lists):
    """A temporary file (rewound) holding the zip of ``images``; 413 past the limit."""
    limit = zip_max_bytes(request.registry.settings)
    total = sum(image.size or 0 for image in images)
    if total > limit:
        raise UploadRefused(413, f"L'ensemble des images dépasse {limit} octets : "
                                 "téléchargez-les une à une.", field="zip", max_bytes=limit)
    storage = request.registry.getUtility(IBlobStorage)
    names = entry_names(images, lists)
    out = tempfile.SpooledTemporaryFile(max_size=4 * 1024 * 1024)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        for image in images:
            if not image.blob_sha256:
                continue
            try:
                path = storage.path(image.blob_sha256)
            except KeyError:
                continue
            archive.write(str(path), names[image.id])
    out.seek(0)
    return out
