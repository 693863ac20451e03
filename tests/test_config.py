"""Configuration comes from the environment; production refuses unsafe defaults."""
import pytest
from cryptography.fernet import Fernet

from portal.config import DEV_SECRET_KEY, ConfigError, config_from_env

GOOD_KEY = Fernet.generate_key().decode()


def test_production_refuses_to_start_without_a_secret_key():
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        config_from_env({"PORTAL_ENV": "production", "PORTAL_DATA_KEY": GOOD_KEY})


def test_production_refuses_the_development_secret_key():
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        config_from_env({"PORTAL_ENV": "production", "SECRET_KEY": DEV_SECRET_KEY, "PORTAL_DATA_KEY": GOOD_KEY})


def test_production_refuses_to_start_without_a_data_key():
    with pytest.raises(ConfigError, match="PORTAL_DATA_KEY"):
        config_from_env({"PORTAL_ENV": "production", "SECRET_KEY": "x" * 40})


def test_production_with_keys_uses_secure_cookies():
    cfg = config_from_env({"PORTAL_ENV": "production", "SECRET_KEY": "x" * 40, "PORTAL_DATA_KEY": GOOD_KEY,
                           "AUDIT_CHECKPOINT_KEY": "k1:" + "a" * 44, "DATABASE_URL": "postgresql://app@db/portal", "REDIS_URL": "redis://r:6379/0"})
    assert cfg["SESSION_COOKIE_SECURE"] is True
    assert cfg["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://app@db/portal"
    assert cfg["RATELIMIT_STORAGE_URI"] == "redis://r:6379/0"


def test_development_makes_up_keys_and_uses_sqlite_under_instance():
    cfg = config_from_env({})
    assert cfg["PORTAL_ENV"] == "development"
    Fernet(cfg["PORTAL_DATA_KEY"])  # a valid key was made up
    assert cfg["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///") and "/instance/" in cfg["SQLALCHEMY_DATABASE_URI"]
    assert cfg["REDIS_URL"] is None and cfg["SESSION_COOKIE_SECURE"] is False


def test_an_invalid_data_key_is_refused():
    with pytest.raises(ConfigError, match="Fernet"):
        config_from_env({"PORTAL_DATA_KEY": "not-a-key"})


def test_an_unknown_environment_is_refused():
    with pytest.raises(ConfigError):
        config_from_env({"PORTAL_ENV": "staging"})


def test_create_app_refuses_production_defaults(monkeypatch):
    from portal import create_app
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app()


def test_behind_a_proxy_the_client_address_comes_from_x_forwarded_for(database):
    from flask import request

    from portal import create_app
    proxied = create_app({"SQLALCHEMY_DATABASE_URI": database["url"], "TESTING": True, "PROXY_HOPS": 1})
    seen = {}

    @proxied.get("/__addr")
    def _addr():
        seen["addr"] = request.remote_addr
        return "ok"
    proxied.test_client().get("/__addr", headers={"X-Forwarded-For": "203.0.113.7"},
                              environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert seen["addr"] == "203.0.113.7"
