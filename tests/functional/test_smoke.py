def test_demo_pages(demo, testapp):
    from tests.conftest import login
    login(testapp, "dr.martin")
    page = testapp.get("/cabinets/parc/patients/leroy/documents/consentement")
    assert "Consentement" in page.text
