def test_officer_signs_in_and_sees_the_dashboard(login, demo):
    client = login("gx-officer")
    response = client.get("/")
    assert response.status_code == 200
    assert "gx-officer" in response.get_data(as_text=True) or "赣县区采购经办" in response.get_data(as_text=True)


def test_api_token_and_me(client, demo, api_token):
    headers = api_token("gx-officer")
    me = client.get("/api/v1/me", headers=headers).get_json()
    assert me["username"] == "gx-officer" and me["tenant"] == "ganxian" and me["role"] == "officer"
