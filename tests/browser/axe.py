"""axe-core, the accessibility engine, fetched once from the npm registry (with npm,
as configured on the machine) into ``var/axe/`` (git-ignored) and injected into pages
by the tests.

``audit(page, script)`` runs ``axe.run()`` on the page shown and returns its
violations of impact serious or critical (each a dict: id, impact, help, nodes)."""
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

AXE_DIR = Path(__file__).resolve().parents[2] / "var" / "axe"
AXE_VERSION = "4.14.1"     # pinned: a new version brings new rules
#: the impacts that fail a test (CABINET_AXE_IMPACTS=minor,moderate,serious,critical
#: for a stricter look)
BLOCKING = tuple(os.environ.get("CABINET_AXE_IMPACTS", "serious,critical").split(","))


def axe_script():
    """The text of axe.min.js, fetched with ``npm pack axe-core@<version>`` if missing."""
    script = AXE_DIR / f"axe-{AXE_VERSION}.min.js"
    if not script.exists():
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError("npm is missing: it fetches axe-core (apt-get install npm)")
        AXE_DIR.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=AXE_DIR) as folder:
            done = subprocess.run([npm, "pack", f"axe-core@{AXE_VERSION}", "--silent",
                                   "--pack-destination", folder],
                                  capture_output=True, text=True, timeout=300, cwd=folder)
            if done.returncode:
                raise RuntimeError(f"npm pack axe-core@{AXE_VERSION} failed: "
                                   f"{done.stderr[-2000:]}")
            tarball = next(Path(folder).glob("axe-core-*.tgz"))
            with tarfile.open(tarball) as archive:
                member = archive.extractfile("package/axe.min.js")
                data = member.read()
            partial = script.with_suffix(".part")
            partial.write_bytes(data)
            partial.replace(script)      # whole or absent, never half written
    return script.read_text(encoding="utf-8")


def audit(page, script):
    """Serious and critical violations of axe-core's rules on the page shown, once it
    has loaded (a click that loads a page returns before the page is there)."""
    page.wait_for_load_state()
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # evaluated through the DevTools protocol: the page's Content-Security-Policy
        # (script-src 'self') stays in force and still forbids inline scripts
        page.evaluate(script + "\n;undefined")
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map(n => n.target.join(' ') + ' :: '
                               + (n.failureSummary || '').replace(/\\s+/g, ' '))}));
    }""")
    return [v for v in result if v["impact"] in BLOCKING]


def describe(violations):
    return json.dumps(violations, ensure_ascii=False, indent=1)
