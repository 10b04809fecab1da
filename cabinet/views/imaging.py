"""Patient imaging (issue #9, P5).

The cabinet's side (``image:add`` on the record, ``image:view`` on an image):
- ``GET <patient>/imaging`` (page): every image of the record, shared or not, with
  the upload form; ``POST <patient>/imaging`` (multipart: file, stage, image_type,
  title?, taken_on?): 201 with the image's JSON (or back to the page);
- ``<image>`` through the generic content API (JSON, PATCH stage / image_type /
  title / taken_on, DELETE), ``<image>/@@download``.

The patient's and guardian's side (``imaging:view`` on the record; the module switch,
minors' access and the cabinet's selection through cabinet.imaging):
- ``/@@my-imaging``: to the current patient's album; ``GET /@my-imaging``: the
  records whose album the user sees;
- ``<patient>/@@my-imaging`` (page), ``GET <patient>/@imaging`` (JSON): the shared
  images grouped by treatment stage, then type; ``<patient>/@@my-imaging/<image>``
  and ``GET <patient>/@imaging/<image>``: one image with the previous and next;
- ``<patient>/@@imaging-file/<image>``: its file (attachment, nosniff);
  ``<patient>/@@imaging-zip``: every shared image in one zip.
An image the cabinet does not share answers 404, as a missing one does."""

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.renderers import render_to_response
from pyramid.response import FileIter, Response

from cabinet import audit, errors
from cabinet.document_sharing import cabinet_of
from cabinet.documents import UploadRefused, file_size, max_bytes, read_upload
from cabinet.i18n import _, flash, N_
from cabinet.imaging import (
    ACCEPTED, DICOM, SHOWN, _choice, all_images, build_zip, create_image, grouped,
    lists_of, neighbours, record_of, visible_images,
)
from cabinet.interfaces import IClock, IFolder, IImage, IPatient, ISite
from cabinet.portal import current, module_records
from .base import (
    as_attachment, blob_download, isoformat, node_url, refuse_upload, wants_json,
)
from .content import ContentHooks, add_content_hooks

FILE_VIEW = "@@imaging-file"
ZIP_VIEW = "@@imaging-zip"


def serve(request, image):
    return blob_download(request, image, "image", N_("Cette image n'a pas de fichier."),
                         N_("Le fichier de cette image est introuvable."))


# -- JSON shapes -------------------------------------------------------------------------

def image_json(request, patient, image, lists, staff=False):
    record = node_url(request, patient.path)
    data = {"@id": f"{record}/@imaging/{image.name}", "@type": "Image", "id": image.name,
            "title": image.title, "stage": image.stage,
            "stage_title": lists.stage_title(image.stage),
            "image_type": image.image_type,
            "image_type_title": lists.type_title(image.image_type),
            "taken_on": isoformat(image.taken_on), "content_type": image.content_type,
            "size": image.size, "file_name": image.file_name,
            "viewable": image.content_type in SHOWN,
            "download": f"{record}/{FILE_VIEW}/{image.name}"}
    if staff:
        data.update({"@id": node_url(request, image.path),
                     "download": node_url(request, image.path) + "/@@download",
                     "shared": (image.stage, image.image_type) in lists.shared})
    return data


def album_json(request, patient, images, lists):
    record = node_url(request, patient.path)
    return {"@id": f"{record}/@imaging",
            "patient": {"@id": record, "title": patient.title},
            "groups": [{"stage": s, "title": st, "types": [
                {"image_type": t, "title": tt,
                 "items": [image_json(request, patient, i, lists) for i in items]}
                for t, tt, items in types]} for s, st, types in grouped(images, lists)],
            "items_total": len(images),
            "download_all": f"{record}/{ZIP_VIEW}" if images else None}


def _one(request, patient, images, lists, name):
    previous, image, following = neighbours(images, name)
    data = image_json(request, patient, image, lists)
    position = images.index(image)
    data.update({"position": position + 1, "items_total": len(images),
                 "previous": image_json(request, patient, previous, lists)["@id"]
                 if previous else None,
                 "next": image_json(request, patient, following, lists)["@id"]
                 if following else None})
    return previous, image, following, data


# -- the patient's side ------------------------------------------------------------------

def _visible(context, request):
    cabinet, lists = record_of(request, context)
    return cabinet, lists, visible_images(request.dbsession, context, lists)


def imaging_json(context, request):
    """GET <patient>/@imaging[/<image>]."""
    _cabinet, lists, images = _visible(context, request)
    sub = request.subpath
    if not sub:
        return album_json(request, context, images, lists)
    if len(sub) != 1:
        raise errors.not_found()
    return _one(request, context, images, lists, sub[0])[3]


def switcher(request, patient):
    return [{"title": r.patient.title, "current": r.patient.id == patient.id,
             "url": node_url(request, r.patient.path) + "/@@my-imaging"}
            for r in module_records(request, "imaging")]


def imaging_page(context, request):
    """<patient>/@@my-imaging: the album; .../<image>: the viewer."""
    cabinet, lists, images = _visible(context, request)
    record = node_url(request, context.path)
    values = {"patient": context, "cabinet": cabinet, "record_url": record,
              "records": switcher(request, context), "file_view": FILE_VIEW,
              "zip_url": f"{record}/{ZIP_VIEW}" if images else None,
              "shown": SHOWN, "dicom": DICOM}
    sub = request.subpath
    if not sub:
        return render_to_response("my_imaging.jinja2", {
            **values, "groups": grouped(images, lists), "total": len(images)},
            request=request)
    if len(sub) != 1:
        raise errors.not_found()
    previous, image, following, data = _one(request, context, images, lists, sub[0])
    return render_to_response("imaging_viewer.jinja2", {
        **values, "image": image, "data": data, "previous": previous,
        "following": following, "lists": lists}, request=request)


def imaging_file(context, request):
    _cabinet, _lists, images = _visible(context, request)
    if len(request.subpath) != 1:
        raise errors.not_found()
    return serve(request, neighbours(images, request.subpath[0])[1])


def imaging_zip(context, request):
    _cabinet, lists, images = _visible(context, request)
    if not images:
        raise errors.not_found(N_("Aucune image n'est partagée avec vous."))
    try:
        archive = build_zip(request, images, lists)
    except UploadRefused as exc:
        refuse_upload(exc, wrong_type_status=422)
    archive.seek(0, 2)
    length = archive.tell()
    archive.seek(0)
    # every image of a record at once: an export, in the audit trail
    audit.record(request, "export", obj=context,
                 details={"report": "imaging", "images": len(images)})
    response = Response(app_iter=FileIter(archive), content_length=length)
    day = request.registry.getUtility(IClock).today().isoformat()
    return as_attachment(response, f"imagerie-{context.name}-{day}.zip", "application/zip")


def my_imaging_json(context, request):
    records = module_records(request, "imaging")
    return {"@id": request.application_url + "/@my-imaging",
            "items": [{"@id": node_url(request, r.patient.path) + "/@imaging",
                       "title": r.patient.title,
                       "relation": "guardian" if r.guardian else "patient",
                       "cabinet": r.cabinet.title} for r in records],
            "items_total": len(records)}


def my_imaging(context, request):
    """/@@my-imaging: the current patient's album (or the first record's)."""
    record = current(request)
    records = module_records(request, "imaging")
    if record is None or record not in records:
        record = records[0] if records else None
    if record is None:
        raise errors.not_found(N_("Votre cabinet ne partage pas d'imagerie avec vous."))
    return HTTPSeeOther(location=node_url(request, record.patient.path) + "/@@my-imaging")


# -- the cabinet's side ------------------------------------------------------------------

class ImageHooks(ContentHooks):
    """Images are added with their file (multipart, below), never by a JSON body;
    their stage and type are checked against the cabinet's lists."""
    extra_fields = ("stage", "image_type")

    def create(self, request, folder, body, name):
        raise errors.unprocessable(
            N_("Une image s'ajoute avec son fichier : POST multipart/form-data "
            "(file, stage, image_type, title, taken_on) sur <patient>/imaging."),
            field="file")

    def check(self, request, context, extra, creating):
        lists = lists_of(request.dbsession, cabinet_of(context))
        problems = {}
        for key, known in (("stage", lists.stages), ("image_type", lists.types)):
            if key in extra:
                try:
                    extra[key] = _choice(extra, key, known)
                except UploadRefused as exc:
                    problems[key] = exc.message
        return problems

    def edited(self, request, node, extra, changed):
        names = [k for k, v in extra.items() if getattr(node, k) != v]
        for key in names:
            setattr(node, key, extra[key])
        return names

    def page(self, request, node):
        """The generic page, with the stage, type and file among the fields."""
        if request.__dict__.get("_image_page"):
            return None
        request.__dict__["_image_page"] = True
        from .content import node_page
        lists = lists_of(request.dbsession, cabinet_of(node))
        data = node_page(node, request)
        data["fields"].update({"stage": lists.stage_title(node.stage),
                               "image_type": lists.type_title(node.image_type),
                               "file_name": f"{node.file_name} ({node.content_type}, "
                                            f"{file_size(request, node.size or 0)})"})
        return render_to_response("node.jinja2", data, request=request)

    def to_json(self, request, node, data):
        lists = lists_of(request.dbsession, cabinet_of(node))
        data.update({k: v for k, v in image_json(request, node.__parent__.__parent__,
                                                 node, lists, staff=True).items()
                     if k not in ("@id", "@type", "id", "title")})


def folder_page(context, request, errors_=None, values=None, status=200):
    """The staff list and upload form; the record's patient and guardians (who may
    open the folder, not its images) are sent to the album of what is shared."""
    patient = context.__parent__
    if not request.has_permission("image:add", context):
        return HTTPSeeOther(location=node_url(request, patient.path) + "/@@my-imaging")
    cabinet = cabinet_of(patient)
    lists = lists_of(request.dbsession, cabinet)
    images = all_images(request.dbsession, patient, lists)
    request.response.status_int = status
    return {"context": context, "patient": patient, "lists": lists,
            "rows": [(image, node_url(request, image.path),
                      (image.stage, image.image_type) in lists.shared) for image in images],
            "url": node_url(request, context.path), "errors": errors_ or {},
            "values": values or {}, "accepted": ACCEPTED,
            "max_size": file_size(request, max_bytes(request.registry.settings)),
            "settings_url": node_url(request, cabinet.path) + "/@@imaging-settings",
            "can_configure": bool(request.has_permission("imaging:configure", cabinet)),
            "today": request.registry.getUtility(IClock).today()}


def upload(context, request):
    """POST <patient>/imaging (multipart)."""
    html = not wants_json(request)
    try:
        fields, data, file_name = read_upload(request)
        image = create_image(request, context, fields, data, file_name)
    except UploadRefused as exc:
        if html and exc.status == 422:
            values = {k: request.POST.get(k, "") for k in ("title", "stage", "image_type",
                                                           "taken_on")}
            response = render_to_response("imaging_folder.jinja2", folder_page(
                context, request, {exc.field: exc.message}, values), request=request)
            response.status_int = 422
            return response
        refuse_upload(exc, wrong_type_status=422)
    if html:
        flash(request, _("Image ajoutée : ${title}.", mapping={"title": image.title}))
        return HTTPSeeOther(location=node_url(request, context.path))
    lists = lists_of(request.dbsession, cabinet_of(context))
    response = render_to_response("json", {
        **image_json(request, context.__parent__, image, lists, staff=True),
        "title": image.title}, request=request)
    response.status_int = 201
    response.location = node_url(request, image.path)
    return response


def download(context, request):
    return serve(request, context)


def includeme(config):
    add_content_hooks(config, "Image", ImageHooks())
    add = config.add_view
    add(folder_page, context=IFolder, holds_type="Image", request_method="GET",
        accept="text/html", renderer="imaging_folder.jinja2", permission="folder:view")
    # read_upload checks the CSRF token once the size is known to be fine
    add(upload, context=IFolder, holds_type="Image", request_method="POST",
        header="Content-Type:multipart/form-data", permission="image:add",
        require_csrf=False)
    add(download, context=IImage, name="download", request_method="GET",
        permission="image:view")
    add(imaging_json, context=IPatient, name="@imaging", request_method="GET",
        renderer="json", permission="imaging:view")
    add(imaging_page, context=IPatient, name="my-imaging", request_method="GET",
        permission="imaging:view")
    add(imaging_file, context=IPatient, name="imaging-file", request_method="GET",
        permission="imaging:view")
    add(imaging_zip, context=IPatient, name="imaging-zip", request_method="GET",
        permission="imaging:view")
    add(my_imaging, context=ISite, name="my-imaging", request_method="GET",
        permission="site:view")
    add(my_imaging_json, context=ISite, name="@my-imaging", request_method="GET",
        renderer="json", permission="site:view")
    config.include("cabinet.views.imaging_settings")
