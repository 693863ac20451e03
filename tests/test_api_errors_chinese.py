"""Every problem+json the API answers reads in Chinese by default: werkzeug's own English
descriptions (404, 405, …) are replaced, and the details the code gives are translated."""
from tests.test_api_base import bearer, chinese, credentials, post_token


def _detail(response):
    assert response.headers["Content-Type"].startswith("application/problem+json")
    return response.get_json()["detail"]


def test_http_errors_of_the_api_speak_chinese(client, demo):
    auth = bearer(post_token(client, credentials()).get_json()["token"])
    missing = client.get("/api/v1/no-such-endpoint", headers=auth)
    assert missing.status_code == 404 and _detail(missing) == "没有该资源。"
    wrong_method = client.delete("/api/v1/me", headers=auth)
    assert wrong_method.status_code == 405 and chinese(_detail(wrong_method))
    assert wrong_method.headers["Allow"]
    worker = bearer(post_token(client, credentials("a-worker1", tenant="ganxian")).get_json()["token"])
    not_json = client.post("/api/v1/visits:batch", data="x", content_type="text/plain", headers=worker)
    assert not_json.status_code == 415 and chinese(_detail(not_json))
    bad_json = client.post("/api/v1/visits:batch", data="{", content_type="application/json", headers=worker)
    assert bad_json.status_code == 400 and chinese(_detail(bad_json))
