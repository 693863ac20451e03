"""Storing and serving uploads."""
import hashlib
import os
import re
import uuid
from pathlib import Path

from flask import current_app, send_file
from flask_babel import gettext as _

from portal.core.errors import DomainError
from portal.extensions import db
from portal.files.models import StoredFile

SIGNATURES = {
    "application/pdf": (b"%PDF-",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
}
DOCUMENT_TYPES = ("application/pdf", "image/jpeg", "image/png")
IMAGE_TYPES = ("image/jpeg", "image/png")
MB = 1024 * 1024


class UploadRefused(DomainError):
    pass


def sniff(head):
    """The content type a file's first bytes prove, or None."""
    for content_type, magics in SIGNATURES.items():
        if any(head.startswith(m) for m in magics):
            return content_type
    return None


def _storage_root():
    root = Path(current_app.config["UPLOAD_DIR"])
    root.mkdir(parents=True, exist_ok=True)
    return root


def store_upload(file_storage, *, allowed=DOCUMENT_TYPES, max_bytes=20 * MB, uploaded_by_id=None, data=None):
    """Check an uploaded file by its content and size and store it under a generated name.

    ``file_storage`` is a werkzeug FileStorage (or pass raw ``data`` bytes). Refuses anything
    whose bytes are not one of ``allowed``, whatever its name or declared type says."""
    if data is None:
        if file_storage is None or not getattr(file_storage, "filename", None):
            raise UploadRefused(_("Choose a file to upload."))
        data = file_storage.stream.read(max_bytes + 1)
    if not data:
        raise UploadRefused(_("The file is empty."))
    if len(data) > max_bytes:
        raise UploadRefused(_("The file is larger than %(mb)s MB.", mb=max_bytes // MB))
    content_type = sniff(data[:16])
    if content_type not in allowed:
        names = "、".join({"application/pdf": "PDF", "image/jpeg": "JPEG", "image/png": "PNG"}[t] for t in allowed)
        raise UploadRefused(_("Only %(types)s files are accepted, judged by their content.", types=names))
    key = uuid.uuid4().hex
    path = path_under(_storage_root(), key)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as out:
        out.write(data)
    original = getattr(file_storage, "filename", None) or "upload"
    stored = StoredFile(id=str(uuid.uuid4()), storage_key=key, original_name=_safe_name(original),
                        content_type=content_type, size=len(data),
                        sha256=hashlib.sha256(data).hexdigest(), uploaded_by_id=uploaded_by_id)
    db.session.add(stored)
    db.session.flush()
    return stored


def _safe_name(name):
    name = os.path.basename(name.replace("\\", "/"))
    return re.sub(r"[\x00-\x1f<>:\"|?*]", "_", name)[:200] or "upload"


def path_under(root, storage_key):
    """Where the file of ``storage_key`` lies under the upload folder ``root``."""
    return Path(root) / storage_key[:2] / storage_key


def file_path(stored):
    return path_under(_storage_root(), stored.storage_key)


def read_bytes(stored):
    return file_path(stored).read_bytes()


def serve(stored, as_attachment=True, download_name=None):
    """Send a stored file (named ``download_name``, else its original name); the caller has already
    checked that the person may see it."""
    response = send_file(file_path(stored), mimetype=stored.content_type, as_attachment=as_attachment,
                         download_name=download_name or stored.original_name, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response
