"""Which content types a path names (cabinet.resources.expected_types): the lineage
query joins their tables only."""
import pytest

from cabinet.models import (
    Cabinet, Delegation, Document, Image, Mandate, Patient, Professional, Space,
)
from cabinet.resources import candidate_paths, expected_types


@pytest.mark.parametrize("path, types", [
    ("/", ()),
    ("/login", ()),
    ("/@search", ()),
    ("/cabinets", ()),
    ("/cabinets/parc", (Cabinet,)),
    ("/cabinets/parc/@@sharing", (Cabinet,)),
    ("/cabinets/parc/patients", (Cabinet,)),
    ("/cabinets/parc/patients/leroy", (Cabinet, Patient)),
    ("/cabinets/parc/patients/leroy/documents/scan", (Cabinet, Patient, Document)),
    ("/cabinets/parc/patients/leroy/imaging/pano/@@view", (Cabinet, Patient, Image)),
    ("/professionals/dr.martin/delegations/d1", (Professional, Delegation)),
    ("/spaces/acme/mandates/m1", (Space, Mandate)),
    # a name that is no folder of its container: nothing is assumed below it
    ("/cabinets/parc/unknown/leroy", (Cabinet,)),
    ("/elsewhere/parc", ()),
])
def test_expected_types(path, types):
    assert expected_types(candidate_paths(path)) == types
