"""The generic layer: every SDK endpoint answers, validated, schema-valid and stateful.

Families without hand-written behaviour (batches, vector stores, the admin API, containers,
evals, assistants, ...) through the real SDK with strict response validation.
"""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest

from pytest_openai_fake import FakeOpenAI
from pytest_openai_fake.resources.generic import ID_PREFIXES, operation_of
from pytest_openai_fake.surface import sdk_methods

pytestmark = pytest.mark.filterwarnings("ignore:.*(deprecated|Assistants API).*:DeprecationWarning")

BATCH = {"input_file_id": "file-abc", "endpoint": "/v1/chat/completions", "completion_window": "24h"}
#: A family the generic layer answers (batches are hand-written: ``resources/batches.py``).
JOB = {"model": "gpt-4o-mini-2024-07-18", "training_file": "file-abc"}


#: openai 2.0 has no admin API (client.admin): its routes are absent there (docs/versions.md).
SDK_ADMIN = hasattr(openai.OpenAI, "admin")


@pytest.fixture
def admin(openai_server: FakeOpenAI) -> Any:
    """A strict client that also carries an admin key (the admin API's auth)."""
    if not SDK_ADMIN:
        pytest.skip("this openai SDK has no admin API")
    return openai_server.client(_strict_response_validation=True, admin_api_key="sk-admin-fake")


# -- the table ---------------------------------------------------------------------------------


def test_every_sdk_method_is_a_route(openai_server: FakeOpenAI):
    methods = sdk_methods()
    names = {m.endpoint for m in methods}
    assert {"batches.create", "fine_tuning.alpha.graders.run"} <= names
    assert ("admin.organization.projects.users.retrieve" in names) == SDK_ADMIN
    assert "beta.threads.runs.steps.list" in names and "containers.files.content.retrieve" in names
    routes = openai_server.app.routes
    for method in methods:
        # Every SDK method has a route: its own, or the hand-written/generic one for its method + path.
        assert method.endpoint in routes or any(
            r.method == method.method and r.path.replace("path:", "") == method.rule for r in routes.values()
        ), method.endpoint
    job_create = routes["fine_tuning.jobs.create"]
    assert (job_create.method, job_create.path, job_create.generic) == ("POST", "/fine_tuning/jobs", True)
    assert routes["chat.completions.create"].generic is False  # hand-written wins
    assert routes["batches.create"].generic is False


def test_operations_are_read_from_the_paths():
    by_name = {m.endpoint: m for m in sdk_methods()}
    assert operation_of(by_name["batches.create"]).kind == "create"
    assert operation_of(by_name["batches.list"]).kind == "list"
    assert operation_of(by_name["batches.retrieve"]).kind == "retrieve"
    assert operation_of(by_name["batches.cancel"]).kind == "action"
    assert operation_of(by_name["vector_stores.update"]).kind == "update"
    assert operation_of(by_name["vector_stores.delete"]).kind == "delete"
    files = operation_of(by_name["containers.files.create"])
    assert (files.kind, files.collection, files.parents) == ("create", "/containers/{container_id}/files", (("/containers", "container_id"),))


@pytest.mark.openai_fake(problems="ignore")
def test_unknown_path_is_still_unknown_url(client):
    with pytest.raises(openai.NotFoundError) as info:
        client.get("/no-such-family/x", cast_to=object)
    assert info.value.body["message"] == "Invalid URL (GET /v1/no-such-family/x)"


# -- CRUD --------------------------------------------------------------------------------------


def test_create_stores_and_reflects(client, openai_server: FakeOpenAI):
    job = client.fine_tuning.jobs.create(**JOB, metadata={"job": "nightly"})
    assert job.id.startswith("ftjob-") and job.object == "fine_tuning.job"
    assert (job.model, job.training_file) == ("gpt-4o-mini-2024-07-18", "file-abc")
    assert job.metadata == {"job": "nightly"}
    assert job.created_at == openai_server.app.clock.now()
    again = client.fine_tuning.jobs.retrieve(job.id)
    assert again == job
    assert openai_server.requests.last.endpoint == "fine_tuning.jobs.retrieve"


def test_update_merges_and_delete_removes(client):
    store = client.vector_stores.create(name="kb", metadata={"team": "a"})
    assert store.id.startswith("vs_") and store.name == "kb"
    updated = client.vector_stores.update(store.id, name="kb-2")
    assert updated.name == "kb-2" and updated.metadata == {"team": "a"}
    assert client.vector_stores.retrieve(store.id).name == "kb-2"
    deleted = client.vector_stores.delete(store.id)
    assert (deleted.id, deleted.deleted, deleted.object) == (store.id, True, "vector_store.deleted")
    with pytest.raises(openai.NotFoundError) as info:
        client.vector_stores.retrieve(store.id)
    assert info.value.body == {
        "message": f"No vector store found with id '{store.id}'.",
        "type": "invalid_request_error",
        "param": "vector_store_id",
        "code": "not_found",
    }


def test_cancel_changes_status(client):
    job = client.fine_tuning.jobs.create(**JOB)
    cancelled = client.fine_tuning.jobs.cancel(job.id)
    assert cancelled.id == job.id and cancelled.status == "cancelled"
    assert client.fine_tuning.jobs.retrieve(job.id).status == "cancelled"


def test_unknown_file_is_the_apis_404(client):
    with pytest.raises(openai.NotFoundError) as info:
        client.files.retrieve("file-x")
    assert info.value.body["message"] == "No such File object: 'file-x'"


def test_list_pages_newest_first_and_auto_paginates(client):
    ids = [client.fine_tuning.jobs.create(**JOB).id for _ in range(25)]
    page = client.fine_tuning.jobs.list(limit=10)
    assert [j.id for j in page.data] == ids[::-1][:10] and page.has_more is True
    assert [j.id for j in client.fine_tuning.jobs.list(limit=10)] == ids[::-1]  # the SDK walks every page
    first = client.vector_stores.create(name="a")
    second = client.vector_stores.create(name="b")
    listed = client.vector_stores.list(order="asc")
    assert [s.id for s in listed.data] == [first.id, second.id]
    assert (listed.first_id, listed.last_id) == (first.id, second.id)
    assert [s.id for s in client.vector_stores.list(after=second.id).data] == [first.id]


def test_nested_collections_belong_to_their_parent(client):
    with pytest.raises(openai.NotFoundError) as info:
        client.containers.files.list("cntr_missing")
    assert info.value.body["message"] == "No container found with id 'cntr_missing'."
    one = client.containers.create(name="one")
    two = client.containers.create(name="two")
    assert one.id.startswith("cntr_")
    made = client.containers.files.create(one.id, file_id="file-abc")
    assert [f.id for f in client.containers.files.list(one.id)] == [made.id]
    assert list(client.containers.files.list(two.id)) == []
    with pytest.raises(openai.NotFoundError):
        client.containers.files.retrieve(made.id, container_id=two.id)
    assert client.containers.files.retrieve(made.id, container_id=one.id).id == made.id


def test_assistants_threads_and_messages(client):
    assistant = client.beta.assistants.create(model="gpt-4o", name="helper", instructions="Be brief.")
    assert assistant.id.startswith("asst_") and (assistant.name, assistant.instructions) == ("helper", "Be brief.")
    thread = client.beta.threads.create()
    assert thread.id.startswith("thread_")
    message = client.beta.threads.messages.create(thread.id, role="user", content="Hi")
    assert message.id.startswith("msg_") and message.role == "user"
    assert [m.id for m in client.beta.threads.messages.list(thread.id)] == [message.id]


def test_admin_project_and_its_users(admin):
    project = admin.admin.organization.projects.create(name="acme")
    assert project.id.startswith("proj_") and project.name == "acme"
    assert admin.admin.organization.projects.retrieve(project.id).name == "acme"
    assert list(admin.admin.organization.projects.users.list(project.id)) == []
    with pytest.raises(openai.NotFoundError):
        admin.admin.organization.projects.users.list("proj_never")


def test_everything_resets_between_tests(client):
    assert list(client.batches.list()) == []  # the batches of the tests above are gone


async def test_async_crud(async_client):
    store = await async_client.vector_stores.create(name="async")
    assert (await async_client.vector_stores.retrieve(store.id)).name == "async"
    assert [s.id async for s in async_client.vector_stores.list()] == [store.id]


# -- replies of other shapes -------------------------------------------------------------------


def test_binary_content_is_bytes(client):
    uploaded = client.files.create(file=("data.jsonl", b"{}\n"), purpose="batch")
    assert uploaded.id.startswith("file-") and uploaded.purpose == "batch"
    content = client.files.content(uploaded.id)
    assert isinstance(content.content, bytes) and content.content


def test_streaming_method_streams_valid_events(client):
    thread = client.beta.threads.create()
    events = list(client.beta.threads.runs.create(thread.id, assistant_id="asst_x", stream=True))
    assert events and all(event.event.startswith("thread.") for event in events)


def test_the_reply_is_deterministic(openai_server: FakeOpenAI, client):
    first = client.fine_tuning.jobs.create(**JOB).model_dump(exclude={"id"})
    openai_server.reset()
    second = client.fine_tuning.jobs.create(**JOB).model_dump(exclude={"id"})
    assert first == second


# -- validation --------------------------------------------------------------------------------


def test_bad_bodies_get_the_usual_400s(client):
    with pytest.raises(openai.BadRequestError) as info:
        client.batches.create(**{**BATCH, "input_file_id": 1})  # type: ignore[arg-type]
    assert info.value.body["message"] == "Invalid type for 'input_file_id': expected a string, but got an integer instead."
    with pytest.raises(openai.BadRequestError) as info:
        client.batches.create(**BATCH, extra_body={"colour": "red"})
    assert info.value.body["message"] == "Unrecognized request argument supplied: colour"
    with pytest.raises(openai.BadRequestError) as info:
        client.post("/batches", body={"endpoint": "/v1/chat/completions", "completion_window": "24h"}, cast_to=object)
    assert info.value.body["message"] == "Missing required parameter: 'input_file_id'."


def test_query_parameters_are_validated(client):
    with pytest.raises(openai.BadRequestError) as info:
        client.vector_stores.list(extra_query={"order": "sideways"})
    assert info.value.body["param"] == "order"
    with pytest.raises(openai.BadRequestError) as info:
        client.batches.list(extra_query={"limit": "many"})
    assert info.value.body["message"] == "Invalid type for 'limit': expected an integer, but got a string instead."


def test_a_file_part_must_be_a_file(openai_server: FakeOpenAI):
    import httpx2

    with httpx2.Client(base_url=openai_server.base_url, headers={"Authorization": "Bearer sk-x"}) as http:
        reply = http.post("/files", data={"purpose": "batch", "file": "not a file"}, files={"other": ("a.txt", b"x")})
    assert reply.status_code == 400
    assert json.loads(reply.content)["error"]["message"] == "Invalid type for 'file': expected a file, but got a string instead."


# -- scripting, faults and lenient ids ---------------------------------------------------------


def test_scripting_and_faults_work_on_generic_endpoints(openai_server: FakeOpenAI, client):
    openai_server.on("fine_tuning.jobs.retrieve").fail(429)
    with pytest.raises(openai.RateLimitError):
        client.fine_tuning.jobs.retrieve("ftjob-anything")
    job = client.fine_tuning.jobs.create(**JOB)
    openai_server.on("fine_tuning.jobs.create").respond({"status": "failed"})
    assert client.fine_tuning.jobs.create(**JOB).status == "failed"
    assert [r.endpoint for r in openai_server.requests] == ["fine_tuning.jobs.retrieve", "fine_tuning.jobs.create", "fine_tuning.jobs.create"]
    assert job.status != "failed"


@pytest.mark.openai_fake(lenient_ids=True)
def test_lenient_ids_answer_for_ids_never_created(client):
    batch = client.batches.retrieve("batch_placeholder")
    assert batch.id == "batch_placeholder"
    assert client.batches.cancel("batch_placeholder").id == "batch_placeholder"
    assert client.containers.files.retrieve("cfile_1", container_id="cntr_none").id == "cfile_1"
    assert client.vector_stores.delete("vs_1").deleted is True


def test_id_prefixes_are_the_apis():
    assert (ID_PREFIXES["file"], ID_PREFIXES["fine_tuning.job"], ID_PREFIXES["vector_store"]) == ("file-", "ftjob-", "vs_")


@pytest.mark.openai_fake(lenient_ids=True)
def test_lenient_ids_also_cover_hand_written_families(client):
    assert client.responses.retrieve("resp_placeholder").id == "resp_placeholder"
    assert client.conversations.retrieve("conv_123").id == "conv_123"
    assert client.chat.completions.retrieve("completion_id").id == "completion_id"


def test_hand_written_families_keep_their_404_by_default(client):
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve("resp_placeholder")


def test_the_sdk_is_read_on_first_use_only():
    import subprocess
    import sys

    code = (
        "import pytest_openai_fake.app, pytest_openai_fake.resources as r\n"
        "from pytest_openai_fake.surface import sdk_methods\n"
        "assert sdk_methods.cache_info().currsize == 0, 'read at import'\n"
        "from pytest_openai_fake.app import FakeApp\n"
        "from pytest_openai_fake.providers import get_provider\n"
        "FakeApp(get_provider('openai'))\n"
        "assert sdk_methods.cache_info().currsize == 1\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
