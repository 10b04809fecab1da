"""Patient imaging (issue #9, P5) and the cabinet's imaging selection (issue #10, K3):
staff upload images (JPEG, PNG, DICOM recognised from their bytes, size-limited),
the cabinet chooses the (stage, type) pairs its patients see, and the patient and
guardians browse them grouped by stage and type, one by one (next / previous), and
download one or all (zip). Module switch, minors' access, other patients."""
import io
import zipfile

import pytest
from sqlalchemy import select

from cabinet.imaging import entry_names, Lists, safe_part
from cabinet.models import HistoryEntry, Image, Node
from cabinet.sample_files import make_pdf, make_png
from tests.conftest import last_form, login, patient_token

PARC = "/cabinets/parc"
LEROY = f"{PARC}/patients/leroy"
HUGO = f"{PARC}/patients/hugo-leroy"
BERNARD = f"{PARC}/patients/bernard"
LIMIT = 50_000
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
DICOM = b"\x00" * 128 + b"DICM" + b"\x02\x00\x00\x00UL\x04\x00" + b"\x00" * 40
#: what the demo shows Léa: the intra-oral view of "debut" is not shared
LEA_VISIBLE = ["sourire-debut", "panoramique-debut", "sourire-fin"]


@pytest.fixture
def settings(settings):
    return {**settings, "cabinet.upload_max_bytes": str(LIMIT)}


@pytest.fixture
def lea(lea_api):
    return lea_api


def upload(client, data, name="photo.png", status=201, **fields):
    fields = {"stage": "debut", "image_type": "visage-sourire", **fields}
    return client.testapp.post(f"{LEROY}/imaging", params=fields,
                               upload_files=[("file", name, data)],
                               headers=client.headers, status=status)


def ids(album):
    return [item["id"] for group in album["groups"] for t in group["types"]
            for item in t["items"]]


def share(client, *pairs, status=200):
    return client.patch(f"{PARC}/@imaging-settings",
                        {"shared": [{"stage": s, "image_type": t} for s, t in pairs]},
                        status=status)


def switch(admin, **values):
    return admin.patch(f"{PARC}/@settings", {"modules": values}).json


def image_count(db):
    with db() as request:
        return len(list(request.dbsession.scalars(select(Image.id))))


# -- the album, the viewer, the files ----------------------------------------------------

def test_the_patient_sees_the_shared_images_grouped_by_stage_then_type(lea):
    album = lea.get(f"{LEROY}/@imaging").json
    assert album["items_total"] == 3
    assert [(g["stage"], [t["image_type"] for t in g["types"]]) for g in album["groups"]] \
        == [("debut", ["visage-sourire", "radio-panoramique"]), ("fin", ["visage-sourire"])]
    assert album["groups"][0]["title"] == "Début de traitement"
    assert album["groups"][0]["types"][1]["title"] == "Radio panoramique"
    assert ids(album) == LEA_VISIBLE
    assert album["download_all"].endswith(f"{LEROY}/@@imaging-zip")


def test_the_viewer_goes_next_and_previous_in_the_album_order(lea):
    items = [lea.get(f"{LEROY}/@imaging/{name}").json for name in LEA_VISIBLE]
    assert [i["position"] for i in items] == [1, 2, 3]
    assert items[0]["previous"] is None and items[-1]["next"] is None
    for before, after in zip(items, items[1:]):
        assert before["next"] == after["@id"] and after["previous"] == before["@id"]


def test_the_viewer_page_links_previous_and_next(demo, testapp, registry):
    patient_token(testapp, registry)
    login(testapp, "p.leroy")
    page = testapp.get(f"{LEROY}/@@my-imaging/panoramique-debut")
    assert page.html.find("h1").get_text(strip=True) == "Panoramique initiale"
    previous = page.html.select_one("a[rel=prev]")["href"]
    assert previous.endswith("/@@my-imaging/sourire-debut")
    # the record's imaging folder leads her to the album
    assert testapp.get(f"{LEROY}/imaging").location.endswith(f"{LEROY}/@@my-imaging")
    assert page.html.select_one("a[rel=next]")["href"].endswith("/@@my-imaging/sourire-fin")
    assert page.html.select_one("figure img")["src"].endswith(
        "/@@imaging-file/panoramique-debut")
    first = testapp.get(f"{LEROY}/@@my-imaging/sourire-debut")
    assert first.html.select_one("a[rel=prev]") is None
    album = testapp.get(f"{LEROY}/@@my-imaging")
    assert [h.get_text(strip=True) for h in album.html.select(".imaging-stage h2")] == [
        "Début de traitement", "Fin de traitement"]
    assert len(album.html.select(".thumbnails img")) == 3
    assert "Vue intra-buccale initiale" not in album.text
    assert 'name="viewport"' in album.text        # the layout's phone viewport (390 px)


def test_one_image_is_an_attachment_with_nosniff(lea, db):
    response = lea.get(f"{LEROY}/@@imaging-file/sourire-fin")
    assert response.content_type == "image/png"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"].startswith(
        'attachment; filename="sourire-fin.png"')
    assert response.body.startswith(b"\x89PNG")


def test_the_zip_holds_exactly_the_visible_images(lea, db, registry):
    response = lea.get(f"{LEROY}/@@imaging-zip")
    assert response.content_type == "application/zip"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in response.headers["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(response.body))
    assert archive.testzip() is None
    names = archive.namelist()
    assert names == ["01-Debut-de-traitement/Visage-sourire/sourire-debut.png",
                     "01-Debut-de-traitement/Radio-panoramique/panoramique-debut.png",
                     "03-Fin-de-traitement/Visage-sourire/sourire-fin.png"]
    for name in names:
        assert not name.startswith("/") and ".." not in name
    with db() as request:
        expected = {}
        for name in LEA_VISIBLE:
            image = request.dbsession.scalar(select(Image).where(Image.name == name))
            from cabinet.interfaces import IBlobStorage
            expected[name] = registry.getUtility(IBlobStorage).path(
                image.blob_sha256).read_bytes()
    assert sorted(archive.read(n) for n in names) == sorted(expected.values())
    from cabinet.models import AuditEvent
    with db() as request:      # the export is in the audit trail
        event = request.dbsession.scalar(select(AuditEvent).where(
            AuditEvent.action == "export").order_by(AuditEvent.seq.desc()))
        assert event.object_path == f"{LEROY}/" and event.details == {
            "report": "imaging", "images": 3}


def test_zip_entry_names_are_sanitised_and_unique():
    lists = Lists([("debut", "../../etc/Début")], [("t", "Type/..\\x")])
    images = [Image(id=i, stage="debut", image_type="t", file_name=name,
                    content_type="image/png")
              for i, name in enumerate(["../../passwd.png", "../../passwd.png", "",
                                        "/abs/x.png"])]
    names = entry_names(images, lists)
    assert len(set(names.values())) == 4
    for name in names.values():
        parts = name.split("/")
        assert len(parts) == 3 and all(p and p not in (".", "..") for p in parts)
        assert "\\" not in name and not name.startswith("/")
    assert safe_part("..") == "image"


def test_the_zip_is_refused_past_its_limit(app, lea):
    app.registry.settings["cabinet.imaging.zip_max_bytes"] = "100"
    try:
        response = lea.get(f"{LEROY}/@@imaging-zip", status=413)
    finally:
        del app.registry.settings["cabinet.imaging.zip_max_bytes"]
    assert "une à une" in response.json["message"]


def test_an_image_not_shared_answers_like_a_missing_one(lea):
    missing = lea.get(f"{LEROY}/@imaging/nothing", status=404).json
    hidden = lea.get(f"{LEROY}/@imaging/intra-buccale-debut", status=404).json
    assert missing["message"] == hidden["message"]
    assert "intra" not in str(hidden).lower()
    lea.get(f"{LEROY}/@@imaging-file/intra-buccale-debut", status=404)
    # nor through the image itself: the patient holds no permission on image nodes
    lea.get(f"{LEROY}/imaging/intra-buccale-debut", status=403)
    lea.get(f"{LEROY}/imaging/sourire-debut/@@download", status=403)
    assert lea.get(f"{LEROY}/imaging").json["items"] == []


# -- the selection (K3) takes effect at once ---------------------------------------------

def test_the_selection_changes_the_page_and_the_api_at_once(martin, lea):
    share(martin, ("debut", "intra-buccale"))
    assert ids(lea.get(f"{LEROY}/@imaging").json) == ["intra-buccale-debut"]
    login(lea.testapp, "p.leroy")           # the page too, in a session of hers
    album = lea.testapp.get(f"{LEROY}/@@my-imaging")
    assert [img["alt"] for img in album.html.select(".thumbnails img")] == [
        "Vue intra-buccale initiale"]
    lea.get(f"{LEROY}/@@imaging-file/intra-buccale-debut")
    lea.get(f"{LEROY}/@@imaging-file/sourire-debut", status=404)
    share(martin)
    assert lea.get(f"{LEROY}/@imaging").json["items_total"] == 0
    lea.get(f"{LEROY}/@@imaging-zip", status=404)


def test_the_selection_page_ticks_a_stage_or_single_pairs(demo, testapp, db):
    login(testapp, "dr.martin")
    page = testapp.get(f"{PARC}/@@imaging-settings")
    assert page.html.select_one("#f-share-debut-visage-sourire").has_attr("checked")
    assert not page.html.select_one("#f-stage-debut").has_attr("checked")
    form = page.forms["imaging-form"]
    form["stage.contention"] = True                        # the section's box: all types
    form["share.fin.visage-sourire"] = False
    form["share.fin.radio-panoramique"] = True
    form.submit().follow()
    data = testapp.get(f"{PARC}/@imaging-settings",
                       headers={"Accept": "application/json"}).json
    shared = {(p["stage"], p["image_type"]) for p in data["shared"]}
    assert {t for s, t in shared if s == "contention"} == {t["name"] for t in data["types"]}
    assert ("fin", "radio-panoramique") in shared
    assert ("fin", "visage-sourire") not in shared
    assert ("debut", "visage-sourire") in shared            # untouched
    page = testapp.get(f"{PARC}/@@imaging-settings")
    assert page.html.select_one("#f-stage-contention").has_attr("checked")
    form = page.forms["imaging-form"]
    form["stage.contention"] = False                        # unticking clears the stage
    form.submit()
    data = testapp.get(f"{PARC}/@imaging-settings",
                       headers={"Accept": "application/json"}).json
    assert not [p for p in data["shared"] if p["stage"] == "contention"]
    with db() as request:
        assert request.dbsession.scalar(select(HistoryEntry.id).where(
            HistoryEntry.action == "settings",
            HistoryEntry.comment == "Sélection de l'imagerie modifiée")) is not None


def test_bad_selections_change_nothing(martin, lea):
    before = martin.get(f"{PARC}/@imaging-settings").json
    for body, field in (({"shared": [{"stage": "nope", "image_type": "visage-sourire"}]},
                         "shared.0.stage"),
                        ({"shared": [["debut", "nope"]]}, "shared.0.image_type"),
                        ({"shared": "all"}, "shared"),
                        ({"stages": []}, "stages"),
                        ({"types": [{"title": ""}]}, "types.0.title"),
                        # a stage still used by images cannot go
                        ({"stages": [{"name": "fin", "title": "Fin"}]}, "stages")):
        answer = martin.patch(f"{PARC}/@imaging-settings", body, status=422).json
        assert field in answer["errors"], (body, answer)
    assert martin.get(f"{PARC}/@imaging-settings").json == before
    # extra fields are ignored, not applied
    martin.patch(f"{PARC}/@imaging-settings", {"cabinet_id": 999, "shared": []})
    assert martin.get(f"{PARC}/@imaging-settings").json["shared"] == []


def test_the_lists_of_stages_and_types_can_change(martin):
    data = martin.patch(f"{PARC}/@imaging-settings", {"stages": [
        {"name": "debut", "title": "Début"}, {"name": "fin", "title": "Fin"},
        {"title": "Suivi à un an"}]}).json
    assert [s["name"] for s in data["stages"]] == ["debut", "fin", "suivi-a-un-an"]
    # the pairs of the stages kept stay shared
    assert {"stage": "debut", "image_type": "visage-sourire"} in data["shared"]


def test_only_the_cabinet_changes_the_selection(lea, api, demo):
    share(lea, ("debut", "intra-buccale"), status=403)
    lea.get(f"{PARC}/@imaging-settings", status=403)
    api("sec.dupont").patch(f"{PARC}/@imaging-settings", {"shared": []})  # for dr.martin


# -- the module switch and minors' access ------------------------------------------------

def test_module_off_hides_the_page_the_api_and_the_home_link(admin, lea, demo, testapp,
                                                             registry):
    assert any(m["id"] == "imaging" for m in lea.get("/@portal").json["menu"])
    switch(admin, imaging={"enabled": False})
    lea.get(f"{LEROY}/@imaging", status=404)
    lea.get(f"{LEROY}/@@imaging-file/sourire-debut", status=404)
    lea.get(f"{LEROY}/@@imaging-zip", status=404)
    assert lea.get("/@my-imaging").json["items"] == []
    assert not any(m["id"] == "imaging" for m in lea.get("/@portal").json["menu"])
    # the cabinet's side keeps working
    admin.get(f"{LEROY}/@imaging")
    login(testapp, "p.leroy")
    testapp.get(f"{LEROY}/@@my-imaging", status=404)


def test_guardians_see_a_minors_images_only_with_minors_access(admin, lea):
    assert ids(lea.get(f"{HUGO}/@imaging").json) == ["panoramique-hugo"]  # the demo's on
    lea.post(f"{HUGO}/@portal-switch")
    assert any(m["id"] == "imaging" for m in lea.get("/@portal").json["menu"])
    switch(admin, imaging={"minors_access": False})
    lea.get(f"{HUGO}/@imaging", status=404)
    lea.get(f"{HUGO}/@@imaging-file/panoramique-hugo", status=404)
    assert not any(m["id"] == "imaging" for m in lea.get("/@portal").json["menu"])
    assert [i["title"] for i in lea.get("/@my-imaging").json["items"]] == ["Léa Leroy"]
    # her own images stay hers
    assert lea.get(f"{LEROY}/@imaging").json["items_total"] == 3


def test_another_patient_is_refused_without_data(lea, martin):
    upload(martin, make_png(), "bernard.png")    # an image of Léa, then one of Bernard
    martin.testapp.post(f"{BERNARD}/imaging", params={"stage": "debut",
                                                      "image_type": "visage-sourire"},
                        upload_files=[("file", "b.png", make_png())],
                        headers=martin.headers, status=201)
    for url in (f"{BERNARD}/@imaging", f"{BERNARD}/@imaging/b",
                f"{BERNARD}/@@imaging-file/b", f"{BERNARD}/@@imaging-zip",
                f"{BERNARD}/imaging/b", f"{BERNARD}/imaging/b/@@download"):
        response = lea.get(url, status=403)
        assert "b.png" not in response.text and "Bernard" not in response.text
    # Bernard's image named through Léa's own record: as absent as a missing one
    share(martin, ("debut", "visage-sourire"))
    for url in (f"{LEROY}/@imaging/b", f"{LEROY}/@@imaging-file/b"):
        assert "b.png" not in lea.get(url, status=404).text


def test_my_imaging_goes_to_the_current_patients_album(demo, testapp, registry):
    patient_token(testapp, registry)
    login(testapp, "p.leroy")
    home = testapp.get("/")
    link = home.html.select_one("a.portal-imaging")
    assert link["href"].endswith(f"{LEROY}/@@my-imaging")
    assert testapp.get("/@@my-imaging").location.endswith(f"{LEROY}/@@my-imaging")


# -- uploads -----------------------------------------------------------------------------

def test_staff_upload_png_jpeg_and_dicom(martin, lea, db):
    png = upload(martin, make_png(), "sourire.png", title="Contrôle").json
    assert png["title"] == "Contrôle" and png["content_type"] == "image/png"
    assert png["shared"] is True
    jpeg = upload(martin, JPEG, "photo.jpeg", image_type="intra-buccale").json
    assert jpeg["content_type"] == "image/jpeg" and jpeg["shared"] is False
    dicom = upload(martin, DICOM, "scan", stage="fin",
                   image_type="visage-sourire").json
    assert dicom["content_type"] == "application/dicom"
    assert dicom["file_name"] == "scan.dcm" and dicom["viewable"] is False
    visible = ids(lea.get(f"{LEROY}/@imaging").json)
    assert png["id"] in visible and dicom["id"] in visible and jpeg["id"] not in visible
    served = lea.get(f"{LEROY}/@@imaging-file/{dicom['id']}")
    assert served.content_type == "application/dicom"
    with db() as request:
        entry = request.dbsession.scalar(select(HistoryEntry).join(
            Node, Node.id == HistoryEntry.node_id).where(Node.name == png["id"]))
        assert entry.action == "create"


def test_a_secretary_uploads_for_her_professional(api, demo):
    secretary = api("sec.dupont")
    assert upload(secretary, make_png(), "s.png").json["stage"] == "debut"


@pytest.mark.parametrize("data, name, field", [
    (make_pdf("x"), "x.png", "file"),              # a PDF is not an image here
    (b"GIF89a" + b"\x00" * 40, "x.gif", "file"),
    (b"<svg onload=alert(1)>", "x.png", "file"),
])
def test_a_file_of_the_wrong_type_is_refused(martin, db, data, name, field):
    before = image_count(db)
    answer = upload(martin, data, name, status=422).json
    assert field in answer["errors"] and "JPEG" in answer["message"]
    assert image_count(db) == before


@pytest.mark.parametrize("fields, field", [
    ({"stage": "nope"}, "stage"), ({"image_type": ""}, "image_type"),
    ({"taken_on": "2026-13-45"}, "taken_on"), ({"taken_on": "2999-01-01"}, "taken_on")])
def test_bad_fields_are_refused(martin, db, fields, field):
    before = image_count(db)
    answer = upload(martin, make_png(), status=422, **fields).json
    assert field in answer["errors"]
    assert image_count(db) == before
    if fields.get("stage") == "nope":
        assert answer["message"] == "Étape de traitement inconnue : « nope »."
        assert "debut" in answer["accepted"]


def test_an_oversized_file_is_refused_with_413(martin, db):
    before = image_count(db)
    big = make_png() + b"\x00" * (LIMIT + 10)
    answer = upload(martin, big, "big.png", status=413).json
    assert answer["max_bytes"] == LIMIT
    assert image_count(db) == before


def test_extra_fields_are_ignored(martin):
    data = upload(martin, make_png(), owner_id="1", state="x", patient_id="999",
                  path="/evil/").json
    assert data["@id"].startswith(f"http://localhost{LEROY}/imaging/")


def test_a_json_body_cannot_add_an_image(martin):
    martin.post(f"{LEROY}/imaging", {"@type": "Image", "title": "x"}, status=422)
    martin.post(LEROY, {"@type": "Image", "title": "x"}, status=422)


def test_the_patient_cannot_upload(lea, db):
    before = image_count(db)
    upload(lea, make_png(), status=403)
    assert image_count(db) == before


def test_the_upload_form_needs_its_csrf_token(demo, testapp, db):
    login(testapp, "dr.martin")
    page = testapp.get(f"{LEROY}/imaging")
    assert page.html.select_one("form[enctype='multipart/form-data']") is not None
    before = image_count(db)
    testapp.post(f"{LEROY}/imaging", params={"stage": "debut",
                                             "image_type": "visage-sourire"},
                 upload_files=[("file", "x.png", make_png())], status=403)
    assert image_count(db) == before
    form = last_form(page)
    form["file"] = ("x.png", make_png())
    form["stage"] = "fin"
    form["image_type"] = "radio-panoramique"
    after = form.submit().follow()
    assert image_count(db) == before + 1
    assert "Image ajoutée" in after.text
    form = last_form(after)                  # a PDF: the form again, the error by the file
    form["file"] = ("x.pdf", make_pdf("x"))
    refused = form.submit(status=422)
    assert "JPEG" in refused.html.select_one("#e-file").get_text()
    assert image_count(db) == before + 1


def test_staff_edit_stage_and_type_through_the_api(martin, lea):
    url = f"{LEROY}/imaging/intra-buccale-debut"
    martin.patch(url, {"image_type": "nope"}, status=422)
    data = martin.patch(url, {"image_type": "visage-sourire", "stage": "fin"}).json
    assert (data["stage"], data["image_type"], data["shared"]) == ("fin", "visage-sourire",
                                                                  True)
    assert "intra-buccale-debut" in ids(lea.get(f"{LEROY}/@imaging").json)
    martin.delete(url)
    assert "intra-buccale-debut" not in ids(lea.get(f"{LEROY}/@imaging").json)


def test_the_albums_query_count_does_not_grow_with_the_images(lea, martin, demo):
    from tests.views.test_query_budget import selects, statements
    engine = demo.registry["db_engine"]

    def cost():
        with statements(engine) as seen:
            lea.get(f"{LEROY}/@imaging")
            lea.get(f"{LEROY}/@@imaging-zip")
        return len(selects(seen))

    before = cost()
    for n in range(4):
        upload(martin, make_png(rgb=(n, n, n)), f"n{n}.png")
    assert lea.get(f"{LEROY}/@imaging").json["items_total"] == 7
    assert cost() == before


def test_the_cabinet_settings_page_links_to_the_selection(demo, testapp):
    login(testapp, "admin")
    page = testapp.get(f"{PARC}/@@settings")
    link = page.html.select_one("[data-module=imaging] a")
    assert link["href"].endswith(f"{PARC}/@@imaging-settings")
    assert testapp.get(link["href"]).html.select_one("#f-stage-debut") is not None


def test_the_demo_loader_is_idempotent(demo, db, martin):
    from cabinet.scripts.demo import load_demo
    before = image_count(db)
    share(martin, ("fin", "visage-sourire"))         # the cabinet's own choice stays
    with db() as request:
        load_demo(request)
    assert image_count(db) == before == 5
    assert martin.get(f"{PARC}/@imaging-settings").json["shared"] == [
        {"stage": "fin", "image_type": "visage-sourire"}]


def test_the_staff_pages_show_every_image_and_its_fields(demo, testapp):
    login(testapp, "dr.martin")
    listing = testapp.get(f"{LEROY}/imaging")
    rows = {row["data-id"]: row.select_one(".shared").get_text(strip=True)
            for row in listing.html.select("tr[data-id]")}
    assert rows == {"sourire-debut": "oui", "panoramique-debut": "oui",
                    "intra-buccale-debut": "non", "sourire-fin": "oui"}
    page = testapp.get(f"{LEROY}/imaging/panoramique-debut")
    text = page.html.select_one("dl.fields").get_text(" ", strip=True)
    assert "Radio panoramique" in text and "Début de traitement" in text
    assert "panoramique-debut.png (image/png" in text
    download = testapp.get(f"{LEROY}/imaging/panoramique-debut/@@download")
    assert download.headers["X-Content-Type-Options"] == "nosniff"


def test_a_closed_portal_closes_the_album(admin, lea, martin):
    from cabinet import modules
    admin.patch(f"{PARC}/@settings", {"practitioners": {"martin": {"active": False},
                                                        "weber": {"active": False}}})
    for url in (f"{LEROY}/@imaging", f"{LEROY}/@@imaging-file/sourire-debut",
                f"{LEROY}/@@imaging-zip"):
        assert lea.get(url, status=403).json["message"] == modules.PORTAL_CLOSED
    assert martin.get(f"{LEROY}/@imaging").json["items_total"] == 3


def test_searches_never_show_images_to_patients(lea, martin):
    assert lea.get("/@search?portal_type=Image").json["items"] == []
    found = {i["id"] for i in martin.get(f"/@search?portal_type=Image&path={LEROY}")
             .json["items"]}
    assert found == {"sourire-debut", "panoramique-debut", "intra-buccale-debut",
                     "sourire-fin"}


def test_the_settings_page_renames_removes_and_adds_stages_and_types(demo, testapp, db):
    login(testapp, "admin")
    form = testapp.get(f"{PARC}/@@imaging-settings").forms["imaging-lists-form"]
    form["stages.en-cours"] = "Traitement actif"
    form["remove.stages.contention"] = True
    form["stages.new"] = "Suivi à un an"
    form["types.new"] = "Photo occlusale"
    form.submit().follow()
    data = testapp.get(f"{PARC}/@imaging-settings",
                       headers={"Accept": "application/json"}).json
    assert [(s["name"], s["title"]) for s in data["stages"]] == [
        ("debut", "Début de traitement"), ("en-cours", "Traitement actif"),
        ("fin", "Fin de traitement"), ("suivi-a-un-an", "Suivi à un an")]
    assert data["types"][-1] == {"name": "photo-occlusale", "title": "Photo occlusale"}
    assert len(data["shared"]) == 3                    # the demo's pairs are kept
    # a stage still used by images stays, with the reason next to the list
    form = testapp.get(f"{PARC}/@@imaging-settings").forms["imaging-lists-form"]
    form["remove.stages.fin"] = True
    page = form.submit(status=422)
    assert "encore utilisé par 1 image(s)" in page.html.select_one(
        "[data-list=stages] .field-error").get_text()
    assert "fin" in {s["name"] for s in testapp.get(
        f"{PARC}/@imaging-settings", headers={"Accept": "application/json"}).json["stages"]}


@pytest.mark.parametrize("lang,stage,day", [
    ("fr", "Choisissez une étape de traitement.",
     "La date de l'image ne peut pas être dans le futur."),
    ("de", "Wählen Sie eine Behandlungsphase.",
     "Das Datum des Bildes darf nicht in der Zukunft liegen."),
    ("en", "Choose a treatment stage.", "The image's date cannot be in the future.")])
def test_the_upload_form_s_problems_in_the_reader_s_language(demo, testapp, martin, lang,
                                                             stage, day):
    login(testapp, "dr.martin")
    headers = {"Accept-Language": lang}
    form = last_form(testapp.get(f"{LEROY}/imaging", headers=headers))
    form["file"] = ("x.png", make_png())
    form["image_type"] = "radio-panoramique"
    form["stage"].force_value("")
    refused = form.submit(status=422, headers=headers)
    assert refused.html.select_one("#e-stage").get_text(strip=True) == stage
    form = last_form(refused)
    form["file"] = ("x.png", make_png())
    form["stage"] = "fin"
    form["taken_on"] = "2999-01-01"
    refused = form.submit(status=422, headers=headers)
    assert refused.html.select_one("#e-taken_on").get_text(strip=True) == day
    # JSON keeps the French
    answer = upload(martin, make_png(), status=422, stage="", image_type="radio-panoramique")
    assert answer.json["errors"] == {"stage": "Choisissez une étape de traitement."}
