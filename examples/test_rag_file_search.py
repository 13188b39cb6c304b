"""Testing retrieval-augmented generation: a vector store that finds the right document.

The fake reads the uploaded files, chunks them as the API does, and ranks chunks by the words
they share with the query (the rule of its embeddings). ``file_search`` in the Responses API
searches the stores the tool names and cites the files it found, so a test can assert that the
answer came from the right document. See docs/vector-stores.md.
"""

POLICIES = {
    "refunds.md": "# Refunds\n\nCustomers can request a refund within 30 days of purchase. Refunds go back to the original payment method.",
    "shipping.md": "# Shipping\n\nOrders ship within two business days. Delivery to Europe takes five business days.",
    "security.md": "# Security\n\nPasswords are stored hashed with bcrypt. Two-factor authentication is available for every account.",
}


def build_knowledge_base(client) -> str:
    """The code under test, part 1: upload the documents into a new vector store."""
    store = client.vector_stores.create(name="help-center")
    files = [(name, text.encode()) for name, text in POLICIES.items()]
    batch = client.vector_stores.file_batches.upload_and_poll(store.id, files=files)
    assert batch.status == "completed"
    return store.id


def answer(client, store_id: str, question: str) -> tuple[str, list[str]]:
    """The code under test, part 2: ask the model with file search; the answer and its sources."""
    response = client.responses.create(
        model="gpt-4o-mini",
        input=question,
        tools=[{"type": "file_search", "vector_store_ids": [store_id], "max_num_results": 3}],
    )
    message = response.output[-1]
    sources = [a.filename for a in message.content[0].annotations if a.type == "file_citation"]
    return response.output_text, sources


def test_the_answer_cites_the_refund_policy(openai_client):
    store_id = build_knowledge_base(openai_client)
    _, sources = answer(openai_client, store_id, "How many days do customers have to request a refund?")
    assert sources[0] == "refunds.md"


def test_search_finds_the_passage(openai_client):
    store_id = build_knowledge_base(openai_client)
    results = openai_client.vector_stores.search(store_id, query="Is two-factor authentication available?")
    best = results.data[0]
    assert best.filename == "security.md"
    assert "bcrypt" in best.content[0].text
    assert 0 < best.score <= 1


def test_a_scripted_answer_still_cites_what_was_found(openai_client, openai_server):
    store_id = build_knowledge_base(openai_client)
    openai_server.on("responses.create").respond("Delivery to Europe takes five business days.")
    text, sources = answer(openai_client, store_id, "How long does delivery to Europe take?")
    assert text == "Delivery to Europe takes five business days."
    assert sources[0] == "shipping.md"


def test_indexing_in_progress(openai_client, openai_server):
    openai_server.state.vector_store_file_seconds = 30  # files take 30 s of the fake clock
    store = openai_client.vector_stores.create(name="slow")
    file_id = openai_client.files.create(file=("refunds.md", POLICIES["refunds.md"].encode()), purpose="assistants").id
    attached = openai_client.vector_stores.files.create(vector_store_id=store.id, file_id=file_id)
    assert attached.status == "in_progress"
    assert openai_client.vector_stores.search(store.id, query="refund").data == []
    openai_server.clock.advance(30)
    assert openai_client.vector_stores.files.retrieve(file_id, vector_store_id=store.id).status == "completed"
    assert openai_client.vector_stores.search(store.id, query="refund").data[0].filename == "refunds.md"
