"""Every page a demo user can reach, checked for what assistive technologies rely on:
one <h1> and a <main>, a <title>, ids unique on the page (a label points at one
field), every field labelled, every image with an alt text, no link or button
without a name, and tables with header cells.

The pages are found as a person finds them: following the links from the home page
(and the sign-in pages), up to MAX_PAGES per user."""
from collections import Counter
from urllib.parse import urljoin, urlparse

import pytest

from tests.conftest import login, patient_token

MAX_PAGES = 600
START = ("/", "/login", "/patient/login")


def reachable_pages(testapp):
    """{path: page} of the HTML pages reachable from START by links."""
    pages, queue, seen = {}, list(START), set()
    while queue and len(seen) < MAX_PAGES:
        url = queue.pop(0)
        path = urlparse(url).path
        if path in seen or "logout" in path or "@@language" in url or \
                path.startswith("/static"):
            continue
        seen.add(path)
        page = testapp.get(url, headers={"Accept": "text/html"}, expect_errors=True)
        if page.status_int != 200 or "html" not in page.content_type:
            continue
        pages[path] = page
        for link in page.html.select("a[href]"):
            target = urlparse(urljoin("http://localhost" + path, link["href"]))
            if target.netloc == "localhost" and target.path not in seen:
                # one page of a batched listing is enough
                query = target.query if target.query and "b_start" not in target.query else ""
                queue.append(target.path + ("?" + query if query else ""))
    return pages


def problems_of(html):
    found = []
    for name, count in Counter(tag["id"] for tag in html.select("[id]")).items():
        if count > 1:
            found.append(f"id {name!r} {count} times")
    for field in html.select("input, select, textarea"):
        if field.get("type") in ("hidden", "submit", "button"):
            continue
        named = (field.get("id") and html.select_one(f'label[for="{field["id"]}"]')) \
            or field.get("aria-label") or field.get("aria-labelledby") \
            or field.find_parent("label") or field.get("title")
        if not named:
            found.append(f"{field.name} {field.get('name')!r} without a label")
    found += [f"image {img.get('src')!r} without alt" for img in html.select("img")
              if img.get("alt") is None]
    if len(html.select("h1")) != 1:
        found.append(f"{len(html.select('h1'))} h1")
    if not html.select("main"):
        found.append("no <main>")
    if not html.find("title") or not html.find("title").get_text(strip=True):
        found.append("no title")
    found += ["a link without a name" for a in html.select("a")
              if not a.get_text(strip=True) and not a.get("aria-label")
              and not a.select("img[alt]")]
    found += ["a button without a name" for b in html.select("button")
              if not b.get_text(strip=True) and not b.get("aria-label")]
    found += ["a table without header cells" for table in html.select("table")
              if not table.select("th")]
    return found


@pytest.mark.parametrize("user", [None, "admin", "dr.martin", "sec.dupont", "p.leroy"])
def test_every_reachable_page_is_well_formed_for_assistive_technologies(
        demo, testapp, registry, user):
    if user == "p.leroy":
        patient_token(testapp, registry)   # her directory account (Hugo's guardian too)
    if user is not None:
        login(testapp, user)
    pages = reachable_pages(testapp)
    assert len(pages) >= (2 if user is None else 50), sorted(pages)
    problems = {path: found for path, page in pages.items()
                if (found := problems_of(page.html))}
    assert not problems, problems
