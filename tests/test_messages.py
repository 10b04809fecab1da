"""Patient messaging (issue #9, P3) and reply templates (K3)."""
from tests.conftest import login

PARC = "/cabinets/parc"
LEROY = f"{PARC}/patients/leroy"


def test_smoke(demo, api):
    martin = api("dr.martin")
    r = martin.post(LEROY + "/@messages", {"text": "Bonjour"}, status=201)
    print(r.json)
    lea = api("p.leroy")
    print(lea.get(LEROY + "/@messages").json)
    print(lea.get("/@my-messages").json)
    print(martin.get(PARC + "/@messages?filter=all").json)
