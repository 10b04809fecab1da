"""Patient imaging (P5) and the cabinet's imaging selection (K3) in /@openapi.json
(cabinet/views/imaging.py, imaging_settings.py). Images are added with their file
(multipart POST <patient>/imaging), edited (title, taken_on, stage, image_type) and
deleted through the generic content API by the cabinet's people."""
from cabinet.imaging import ACCEPTED, MAX_ENTRIES, MAX_TITLE


def openapi_parts(_op, _json, _errors, PATH):
    image_param = {"name": "image", "in": "path", "required": True,
                   "schema": {"type": "string"}, "description": "an image's id"}
    file_answer = {"description": "The file, as an attachment (nosniff)",
                   "content": {t: {"schema": {"type": "string", "format": "binary"}}
                               for t in ACCEPTED}}
    paths = {
        "/@my-imaging": {"get": _op(
            "The records whose imaging the user sees as their patient or a guardian "
            "(the module on, and open to guardians for a minor's record)",
            {"200": _json("MyImaging"), **_errors(401)})},
        "/{path}/@imaging": {"get": _op(
            "A record's album: the images of the (stage, type) pairs its cabinet shares, "
            "grouped by treatment stage, then image type, in the cabinet's order; for "
            "the record's patient, guardians (minors' access) and cabinet. 404 when the "
            "cabinet's imaging module is off",
            {"200": _json("ImagingAlbum"), **_errors(401, 403, 404)}, params=[PATH])},
        "/{path}/@imaging/{image}": {"get": _op(
            "One shared image with the previous and next of the album (an image not "
            "shared answers 404, as a missing one)",
            {"200": _json("ImagingItem"), **_errors(401, 403, 404)},
            params=[PATH, image_param])},
        "/{path}/@@imaging-file/{image}": {"get": _op(
            "The file of a shared image (JPEG, PNG or DICOM), as an attachment",
            {"200": file_answer, **_errors(401, 403, 404)}, params=[PATH, image_param])},
        "/{path}/@@imaging-zip": {"get": _op(
            "Every shared image of the record in one zip (stored entries "
            "<nn>-<stage>/<type>/<file>); 413 past cabinet.imaging.zip_max_bytes",
            {"200": {"description": "The zip, as an attachment", "content": {
                "application/zip": {"schema": {"type": "string", "format": "binary"}}}},
             **_errors(401, 403, 404, 413)}, params=[PATH])},
        "/{path}/imaging": {"post": {**_op(
            "Add an image to the record (staff): multipart/form-data with file (JPEG, "
            "PNG or DICOM recognised from its bytes, at most cabinet.upload_max_bytes), "
            "stage and image_type (names of the cabinet's lists), title and taken_on "
            "(optional); other fields are ignored. 413 names the limit, 422 a wrong "
            "type or field",
            {"201": _json("Image"), **_errors(400, 401, 403, 404, 413, 422)},
            params=[PATH]), "requestBody": {"required": True, "content": {
                "multipart/form-data": {"schema": {"$ref":
                                                   "#/components/schemas/ImageUpload"}}}}}},
        "/{path}/@imaging-settings": {
            "get": _op("The cabinet's treatment stages, image types and the pairs it "
                       "shares with its patients (the cabinet's people)",
                       {"200": _json("ImagingSettings"), **_errors(401, 403, 404)},
                       params=[PATH]),
            "patch": _op("Change the lists and / or the shared pairs "
                         "(imaging:configure); other keys are ignored; 422 names every "
                         "problem and nothing changes (a stage or type still used by "
                         "an image cannot be removed)",
                         {"200": _json("ImagingSettings"),
                          **_errors(400, 401, 403, 404, 422)},
                         body="ImagingSettingsEdit", params=[PATH])},
    }
    entry = {"type": "object", "properties": {"name": {"type": "string"},
                                              "title": {"type": "string"}}}
    pair = {"type": "object", "properties": {"stage": {"type": "string"},
                                             "image_type": {"type": "string"}}}
    image = {"type": "object", "properties": {
        "@id": {"type": "string"}, "@type": {"const": "Image"}, "id": {"type": "string"},
        "title": {"type": "string"}, "stage": {"type": "string"},
        "stage_title": {"type": "string"}, "image_type": {"type": "string"},
        "image_type_title": {"type": "string"},
        "taken_on": {"type": ["string", "null"], "format": "date"},
        "content_type": {"enum": list(ACCEPTED)}, "size": {"type": "integer"},
        "file_name": {"type": "string"}, "viewable": {"type": "boolean"},
        "download": {"type": "string"}}}
    schemas = {
        "MyImaging": {"type": "object", "properties": {
            "@id": {"type": "string"}, "items_total": {"type": "integer"},
            "items": {"type": "array", "items": {"type": "object", "properties": {
                "@id": {"type": "string"}, "title": {"type": "string"},
                "relation": {"enum": ["patient", "guardian"]},
                "cabinet": {"type": "string"}}}}}},
        "ImagingAlbum": {"type": "object", "properties": {
            "@id": {"type": "string"}, "patient": {"type": "object"},
            "items_total": {"type": "integer"},
            "download_all": {"type": ["string", "null"]},
            "groups": {"type": "array", "items": {"type": "object", "properties": {
                "stage": {"type": "string"}, "title": {"type": "string"},
                "types": {"type": "array", "items": {"type": "object", "properties": {
                    "image_type": {"type": "string"}, "title": {"type": "string"},
                    "items": {"type": "array", "items": image}}}}}}}}},
        "ImagingItem": {"allOf": [image, {"type": "object", "properties": {
            "position": {"type": "integer"}, "items_total": {"type": "integer"},
            "previous": {"type": ["string", "null"]},
            "next": {"type": ["string", "null"]}}}]},
        # not "NewImage": a JSON body cannot add an image (openapi._typed_content_bodies)
        "ImageUpload": {"type": "object", "required": ["file", "stage", "image_type"],
                     "properties": {
            "file": {"type": "string", "format": "binary"}, "stage": {"type": "string"},
            "image_type": {"type": "string"}, "title": {"type": "string", "maxLength": 500},
            "taken_on": {"type": "string", "format": "date"}}},
        "ImageEdit": {"type": "object", "properties": {
            "title": {"type": "string", "maxLength": 500},
            "taken_on": {"type": ["string", "null"], "format": "date"},
            "stage": {"type": "string"}, "image_type": {"type": "string"}}},
        "Image": {"allOf": [{"$ref": "#/components/schemas/Resource"}, image, {
            "type": "object", "properties": {"shared": {"type": "boolean"}}}]},
        "ImagingSettings": {"type": "object", "properties": {
            "@id": {"type": "string"}, "stages": {"type": "array", "items": entry},
            "types": {"type": "array", "items": entry},
            "shared": {"type": "array", "items": pair},
            "can_edit": {"type": "boolean"}}},
        "ImagingSettingsEdit": {"type": "object", "properties": {
            "stages": {"type": "array", "minItems": 1, "maxItems": MAX_ENTRIES,
                       "items": {"type": "object", "required": ["title"], "properties": {
                           "name": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$",
                                    "maxLength": 50},
                           "title": {"type": "string", "maxLength": MAX_TITLE}}}},
            "types": {"type": "array", "minItems": 1, "maxItems": MAX_ENTRIES,
                      "items": {"type": "object", "required": ["title"], "properties": {
                          "name": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$",
                                   "maxLength": 50},
                          "title": {"type": "string", "maxLength": MAX_TITLE}}}},
            "shared": {"type": "array", "items": pair}}},
    }
    return paths, schemas
