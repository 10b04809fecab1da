"""Demo data of patient imaging (issue #9, P5; K3): a few small generated PNGs of
Léa Leroy in two treatment stages and one of Hugo, the Cabinet du Parc sharing some
(stage, type) pairs with its patients and opening imaging to the guardians of
minors. Idempotent: an image that exists is left as it is, and the selection is set
only while the cabinet has none."""
from sqlalchemy import select

from cabinet import modules
from cabinet.imaging import lists_of
from cabinet.interfaces import IBlobStorage, IClock
from cabinet.models import ImagingSettings, Node
from cabinet.sample_files import make_png

IMAGES = (
    # (patient, name, title, stage, type, days ago, colour)
    ("leroy", "sourire-debut", "Sourire avant traitement", "debut", "visage-sourire",
     300, (200, 120, 110)),
    ("leroy", "panoramique-debut", "Panoramique initiale", "debut", "radio-panoramique",
     300, (90, 90, 90)),
    ("leroy", "intra-buccale-debut", "Vue intra-buccale initiale", "debut",
     "intra-buccale", 299, (180, 60, 70)),
    ("leroy", "sourire-fin", "Sourire en fin de traitement", "fin", "visage-sourire",
     10, (230, 170, 150)),
    ("hugo-leroy", "panoramique-hugo", "Panoramique de Hugo", "debut",
     "radio-panoramique", 30, (110, 110, 120)),
)
#: what the demo cabinet shows its patients: not the intra-oral view
SHARED = (("debut", "visage-sourire"), ("debut", "radio-panoramique"),
          ("fin", "visage-sourire"))


def imaging_demo(request, cabinet):
    from cabinet.content import add_node
    from cabinet.scripts.demo import _child
    session = request.dbsession
    if not modules.option(cabinet, "imaging", "minors_access"):
        modules.update(cabinet, {"imaging": {"minors_access": True}})
    if session.get(ImagingSettings, cabinet.id) is None:
        lists = lists_of(session, cabinet)
        session.add(ImagingSettings(
            cabinet_id=cabinet.id,
            stages=[{"name": n, "title": t} for n, t in lists.stages],
            types=[{"name": n, "title": t} for n, t in lists.types],
            shared=[list(p) for p in SHARED],
            modified=request.registry.getUtility(IClock).now()))
    storage = request.registry.queryUtility(IBlobStorage)
    today = request.registry.getUtility(IClock).today()
    from datetime import timedelta
    patients = cabinet["patients"]
    for patient_name, name, title, stage, image_type, days, colour in IMAGES:
        patient = patients[patient_name]
        folder = session.scalar(select(Node).where(Node.parent_id == patient.id,
                                                   Node.name == "imaging"))
        if folder is None:          # a record made before the imaging folder existed
            folder = add_node(session, request.registry, patient, "Folder", name="imaging",
                              title="Imagerie")
        folder.__parent__ = patient
        data = make_png(96, 72, colour)
        fields = {}
        if storage is not None:
            fields = {"blob_sha256": storage.store(data, request.tm), "size": len(data),
                      "content_type": "image/png", "file_name": f"{name}.png"}
        _child(request, folder, "Image", name, title, patient_id=patient.id, stage=stage,
               image_type=image_type, taken_on=today - timedelta(days=days), **fields)
    session.flush()
