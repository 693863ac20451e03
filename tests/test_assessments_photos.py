"""Photos of an assessment are evidence (docs/DOMAIN.md §6): the assessor adds them while the
assessment is "recorded"; once the contractor submits it, in publicity and when final, a new
photo is refused with a 409 in Chinese through the API, while a photo the server already holds
is still answered 200 (a phone resending one whose answer it lost)."""
import io
import struct
import zlib

import pytest
from sqlalchemy import func, select

from portal.core.timeutil import utcnow
from portal.extensions import db
from tests.assessment_world import assessment_world, body, scope

PROBLEM = "application/problem+json"


@pytest.fixture
def world(app):
    return assessment_world(app)


@pytest.fixture
def token(api_token):
    return lambda username="b-worker1": api_token(username, tenant="ganxian")


def png(shade):
    """A valid 1×1 PNG of grey ``shade``: each shade is another photo (another digest)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(bytes([0, shade]))) + chunk(b"IEND", b""))


def upload(client, headers, assessment_id, data):
    return client.post(f"/api/v1/assessments/{assessment_id}/photos", headers=headers,
                       data={"file": (io.BytesIO(data), "p.png")}, content_type="multipart/form-data")


def photo_count(app, assessment_id):
    from portal.assessments.models import AssessmentPhoto
    with app.app_context(), scope(app):
        return db.session.scalar(select(func.count(AssessmentPhoto.id))
                                 .where(AssessmentPhoto.assessment_id == assessment_id))


def set_status(app, assessment_id, status):
    """Submit through the contractor's manager, or move the assessment on as the flow would."""
    from portal.accounts.models import User
    from portal.assessments import recording
    from portal.assessments.models import Assessment
    with app.test_request_context(), scope(app):
        assessment = db.session.get(Assessment, assessment_id)
        if status == "submitted":
            manager = db.session.scalar(select(User).where(User.username == "b-manager"))
            recording.submit([assessment], manager, utcnow())
        else:
            assessment.status = status
            if status == "final":
                assessment.final_class, assessment.final_at = assessment.care_class, utcnow()
        db.session.commit()


def test_a_recorded_assessment_takes_photos_and_a_submitted_one_is_frozen(app, world, client, token):
    headers = token()
    created = client.post("/api/v1/assessments", json=body(world), headers=headers)
    assert created.status_code == 201, created.get_json()
    assessment_id = created.get_json()["id"]
    first = upload(client, headers, assessment_id, png(10))
    assert first.status_code == 201, first.get_json()
    assert upload(client, headers, assessment_id, png(20)).status_code == 201  # a second, while recorded
    assert photo_count(app, assessment_id) == 2

    set_status(app, assessment_id, "submitted")
    refused = upload(client, headers, assessment_id, png(30))
    assert refused.status_code == 409 and refused.mimetype == PROBLEM
    assert "冻结" in refused.get_json()["detail"], refused.get_json()
    assert "file" in refused.get_json()["errors"]
    again = upload(client, headers, assessment_id, png(10))  # the same photo resent: what the server has
    assert again.status_code == 200 and again.get_json()["id"] == first.get_json()["id"]
    assert photo_count(app, assessment_id) == 2

    for status in ("publicity", "final"):
        set_status(app, assessment_id, status)
        later = upload(client, headers, assessment_id, png(40))
        assert later.status_code == 409 and later.mimetype == PROBLEM, (status, later.get_json())
    assert photo_count(app, assessment_id) == 2
    shown = client.get(f"/api/v1/assessments/{assessment_id}", headers=headers).get_json()
    assert len(shown["photos"]) == 2


def test_a_frozen_assessment_refuses_before_storing_anything(app, world, client, token):
    """No file is stored for a refused photo (the refusal comes before the upload is kept)."""
    from portal.files.models import StoredFile
    headers = token()
    assessment_id = client.post("/api/v1/assessments", json=body(world, "陈德福"), headers=headers).get_json()["id"]
    set_status(app, assessment_id, "submitted")
    with app.app_context(), scope(app):
        files = db.session.scalar(select(func.count(StoredFile.id)))
    assert upload(client, headers, assessment_id, png(50)).status_code == 409
    with app.app_context(), scope(app):
        assert db.session.scalar(select(func.count(StoredFile.id))) == files
    assert photo_count(app, assessment_id) == 0
