"""A bureau's Atom 1.0 feed (RFC 4287) of its latest public notices, built with ElementTree so
that every title and body is escaped by the serialiser, never by hand."""
import re
from datetime import timezone
from html import escape
from xml.etree import ElementTree as ET  # nosec B405 # builds the Atom feed; parses no XML

from flask import url_for

ATOM = "http://www.w3.org/2005/Atom"
FEED_SIZE = 50
# Characters XML 1.0 cannot carry at all, even escaped: dropped rather than breaking the feed.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _sub(parent, tag, text=None, **attributes):
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attributes)
    if text is not None:
        element.text = NOT_XML.sub("", str(text))
    return element


def _stamp(value):
    return value.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def atom_feed(tenant, notices, kind_labels, title, updated, stylesheet=None):
    """The feed document (bytes, UTF-8). ``notices`` are published disclosures, newest first;
    ``updated`` the time of the newest (or now when there is none). With ``stylesheet`` (a URL)
    the document names an XSLT stylesheet, so a browser opening it shows a readable page; feed
    readers ignore the instruction."""
    ET.register_namespace("", ATOM)
    home = url_for("public.tenant_home", code=tenant.code, _external=True)
    feed = ET.Element(f"{{{ATOM}}}feed", {"{http://www.w3.org/XML/1998/namespace}lang": "zh-CN"})
    _sub(feed, "id", url_for("public.feed", code=tenant.code, _external=True))
    _sub(feed, "title", title)
    _sub(feed, "updated", _stamp(updated))
    _sub(feed, "link", rel="self", type="application/atom+xml",
         href=url_for("public.feed", code=tenant.code, _external=True))
    _sub(feed, "link", rel="alternate", type="text/html", href=home)
    author = _sub(feed, "author")
    _sub(author, "name", tenant.name)
    for notice in notices:
        url = url_for("public.notice", code=tenant.code, disclosure_id=notice.id, _external=True)
        entry = _sub(feed, "entry")
        _sub(entry, "id", url)
        _sub(entry, "title", notice.title)
        _sub(entry, "updated", _stamp(notice.published_at))
        _sub(entry, "published", _stamp(notice.published_at))
        _sub(entry, "link", rel="alternate", type="text/html", href=url)
        label = kind_labels.get(notice.kind)
        _sub(entry, "category", term=notice.kind, label=str(label) if label else notice.kind)
        _sub(entry, "content", notice.body, type="text")
    document = ET.tostring(feed, encoding="unicode")
    head = '<?xml version="1.0" encoding="utf-8"?>\n'
    if stylesheet:
        head += f'<?xml-stylesheet type="text/xsl" href="{escape(stylesheet, quote=True)}"?>\n'
    return (head + document).encode("utf-8")
