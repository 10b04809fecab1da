"""Questionnaire templates (issue #5, Q1): questions, versions, FHIR export/import."""
from .versions import (  # noqa: F401
    current_version, lock_template, save_version, template_in_use, version_in_use,
    versions,
)
