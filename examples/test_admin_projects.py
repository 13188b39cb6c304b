"""An admin script against an endpoint family the fake answers generically (the admin API).

Every endpoint of the installed ``openai`` SDK answers: families without hand-written behaviour
(the admin/organization API, vector stores, batches, evals, containers, assistants, ...) get
validated requests, schema-valid replies and stored create / retrieve / update / list / delete.
"""

import openai
import pytest

from pytest_openai_fake import FakeOpenAI

# The admin API is in the openai SDK from 2.x's later releases on; with an SDK that lacks it,
# the fake has no admin routes either (they come from the installed SDK).
pytestmark = pytest.mark.skipif(not hasattr(openai.OpenAI, "admin"), reason="this openai SDK has no admin API")


def onboard_team(client: openai.OpenAI, team: str, rate_limit_model: str) -> dict:
    """Code under test: a project per team, archived projects skipped, a report of what exists."""
    org = client.admin.organization
    existing = {p.name: p for p in org.projects.list() if p.status == "active"}
    project = existing.get(team) or org.projects.create(name=team)
    users = [user.email for user in org.projects.users.list(project.id)]
    return {"project": project.id, "name": project.name, "users": users, "reused": team in existing}


@pytest.fixture
def admin_client(openai_server: FakeOpenAI) -> openai.OpenAI:
    # The admin API authenticates with an admin key; any value works against the fake.
    return openai_server.client(admin_api_key="sk-admin-example")


def test_a_new_team_gets_a_project(admin_client, openai_server):
    report = onboard_team(admin_client, "acme", "gpt-4o")
    assert report["name"] == "acme" and report["project"].startswith("proj_")
    assert report == {**report, "users": [], "reused": False}
    # The request log names generic endpoints by their SDK call path, like every other.
    assert [r.endpoint for r in openai_server.requests] == [
        "admin.organization.projects.list",
        "admin.organization.projects.create",
        "admin.organization.projects.users.list",
    ]


def test_running_twice_reuses_the_project(admin_client):
    first = onboard_team(admin_client, "acme", "gpt-4o")
    second = onboard_team(admin_client, "acme", "gpt-4o")
    assert second["project"] == first["project"] and second["reused"]
    assert [p.name for p in admin_client.admin.organization.projects.list()] == ["acme"]


def test_an_archived_project_is_replaced(admin_client):
    old = admin_client.admin.organization.projects.create(name="acme")
    admin_client.admin.organization.projects.archive(old.id)  # status -> "archived"
    report = onboard_team(admin_client, "acme", "gpt-4o")
    assert report["project"] != old.id and not report["reused"]


def test_an_outage_is_scripted_like_any_endpoint(admin_client, openai_server):
    openai_server.on("admin.organization.projects.list").fail(503)
    with pytest.raises(openai.InternalServerError):
        onboard_team(admin_client, "acme", "gpt-4o")


def test_a_project_that_does_not_exist_is_a_404(admin_client):
    with pytest.raises(openai.NotFoundError):
        admin_client.admin.organization.projects.users.list("proj_never_created")
