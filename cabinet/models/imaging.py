"""Patient imaging (issue #9, P5; issue #10, K3; migration 0021).

- ``Image``: a radiograph or photo of a patient, a node under the record
  (``<patient>/imaging/<image>``) so that its ACL comes from the record's local roles.
  Its workflow (workflows/image.yaml) grants it to the cabinet's people only: the
  patient and the guardians never reach an image node; they see the images the
  cabinet shares through the record's imaging views (cabinet.imaging), which filter
  by the cabinet's selection. Each image has a treatment stage and an image type
  (names from the cabinet's lists), and its file in the blob storage (cabinet.blobs),
  named by its SHA-256: JPEG, PNG (shown) or DICOM (downloaded only).
- ``ImagingSettings``: one row per cabinet (none: the defaults of cabinet.imaging):
  its lists of treatment stages and image types, and the (stage, type) pairs it
  shares with its patients (K3).
"""
from datetime import date, datetime

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column
from zope.interface import implementer

from cabinet import interfaces as i
from . import nodes
from .meta import Base


@implementer(i.IImage)
class Image(nodes.Node):
    __tablename__ = "images"
    __table_args__ = (
        # a record's album in the order it is shown
        Index("ix_images_patient_id_stage_image_type", "patient_id", "stage",
              "image_type"),
    )
    id: Mapped[int] = mapped_column(ForeignKey("nodes.id", ondelete="CASCADE"),
                                    primary_key=True)
    patient_id: Mapped[int | None] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"))
    #: names of the cabinet's treatment stage and image type (cabinet.imaging)
    stage: Mapped[str] = mapped_column(String(50), default="")
    image_type: Mapped[str] = mapped_column(String(50), default="")
    #: the day the image was taken (default: the day it was added)
    taken_on: Mapped[date | None] = mapped_column(Date)
    blob_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    size: Mapped[int | None] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(100), default="")
    file_name: Mapped[str] = mapped_column(String(255), default="")

    __mapper_args__ = {"polymorphic_identity": "image"}
    portal_type = "Image"
    workflow_name = "image"
    permission_prefix = "image"
    #: stage and image type are checked against the cabinet's lists (hooks)
    fields = ("taken_on",)


class ImagingSettings(Base):
    __tablename__ = "imaging_settings"

    cabinet_id: Mapped[int] = mapped_column(ForeignKey("cabinets.id", ondelete="CASCADE"),
                                            primary_key=True)
    #: [{"name", "title"}] in the order shown; None: the defaults
    stages: Mapped[list | None] = mapped_column(JSON)
    types: Mapped[list | None] = mapped_column(JSON)
    #: [[stage name, type name]] shared with the patients
    shared: Mapped[list | None] = mapped_column(JSON)
    modified: Mapped[datetime | None] = mapped_column(DateTime)


# a content type like those of cabinet.models.nodes (kept here: nodes.py is long)
nodes.CONTENT_TYPES[Image.portal_type] = Image
# staff find them in listings and searches; patients hold no grant on them
nodes.SEARCHABLE_TYPES = nodes.SEARCHABLE_TYPES + (Image.portal_type,)
