"""The floor of POST /api/v1/visits (issue 15): a bare Flask app that stores a visit with one
INSERT under row-level security and nothing else of the portal — what any Flask request that
stores a visit costs on this machine and stack (Flask, SQLAlchemy Core, psycopg, PostgreSQL).

    POST /floor  (Authorization: Bearer <token>, the portal's visit body)

It parses the JSON body, hashes the bearer token, and in one transaction sends two statements:
``set_config`` of the token's bureau (row-level security) and one ``INSERT … SELECT … RETURNING``
of the visit, the contract, worker and contractor taken from the token's user and the person's
assignment in the same statement; then 201 with the id. No schema validation, no rules, no
audit, no queue. ``bench/post_profile.py`` runs it in process; ``bench/api_load.py`` serves it
with gunicorn beside the portal (``DATABASE_URL`` and ``FLOOR_ITEM_ID`` from the environment).
The visits it stores are not marked for comparison (no job would judge them).
"""
import hashlib
import os
import sys
from pathlib import Path

from flask import Flask, jsonify, request
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # under gunicorn --chdir bench
from portal.config import DEV_SECRET_KEY  # noqa: E402
from portal.core.pgsecurity import rls_pads  # noqa: E402

INSERT = text(
    "INSERT INTO visit (tenant_id, client_id, body_hash, contract_id, service_item_id, beneficiary_id, "
    "staff_id, worker_user_id, contractor_id, device_id, check_in_at, check_in_lat, check_in_lon, "
    "check_in_accuracy_m, check_out_at, check_out_lat, check_out_lon, services, notes, source, "
    "recorded_live, received_at, checked_out_received_at, status, comparison_due, penalised) "
    "SELECT t.tenant_id, :client_id, :hash, a.contract_id, :item, a.beneficiary_id, a.staff_id, t.user_id, "
    "u.contractor_id, :device, :in_at, :in_lat, :in_lon, :acc, :out_at, :out_lat, :out_lon, '[]', '', 'app', "
    "true, now(), now(), 'pending', false, false "
    "FROM api_token t JOIN user_account u ON u.id = t.user_id "
    "JOIN assignment a ON a.beneficiary_id = :beneficiary AND a.tenant_id = t.tenant_id "
    "WHERE t.token_hash = :token LIMIT 1 RETURNING id")
# The bureau and its proof for row-level security (core/pgsecurity.py), computed in the statement
# from the RLS key's padded halves (the portal's SECRET_KEY, from the environment as the portal's).
SETTING = text("SELECT set_config('app.tenant_id', tenant_id::text, true), "
               "set_config('app.tenant_proof', encode(sha256(:outer || sha256(:inner || "
               "convert_to(tenant_id::text, 'UTF8'))), 'hex'), true), "
               "set_config('app.all_tenants', 'off', true) FROM api_token WHERE token_hash = :token")


def make_app(database_url, item_id):
    engine = create_engine(database_url, pool_size=2)
    app = Flask("floor")
    app.config["ENGINE"] = engine
    pads = rls_pads(os.environ.get("SECRET_KEY") or DEV_SECRET_KEY)

    @app.post("/floor")
    def floor():
        body = request.get_json()
        token = hashlib.sha256(request.headers["Authorization"][7:].encode()).hexdigest()
        with engine.begin() as conn:
            conn.execute(SETTING, {"token": token, **pads})
            visit_id = conn.execute(INSERT, {
                "client_id": body["client_id"], "hash": hashlib.sha256(request.get_data()).hexdigest(),
                "item": item_id, "device": body["device_id"],
                "in_at": body["check_in"]["at"], "in_lat": body["check_in"]["lat"],
                "in_lon": body["check_in"]["lon"], "acc": body["check_in"]["accuracy_m"],
                "out_at": body["check_out"]["at"], "out_lat": body["check_out"]["lat"],
                "out_lon": body["check_out"]["lon"], "beneficiary": body["beneficiary_id"],
                "token": token}).scalar_one()
        response = jsonify({"id": visit_id})
        response.status_code = 201
        return response

    return app


app = make_app(os.environ["DATABASE_URL"], int(os.environ["FLOOR_ITEM_ID"])) if "FLOOR_ITEM_ID" in os.environ else None
