"""Testing retrieval code: the fake's embeddings rank texts that share words higher.

Vectors are deterministic unit vectors, and the cosine similarity of two texts is about the
share of their words they have in common (0 for no shared word, 1 for the same text).
"""

DOCS = [
    "Reset your password from the account settings page.",
    "Our office is closed on public holidays.",
    "Invoices are emailed on the first day of each month.",
    "The mobile app supports dark mode.",
]


def search(client, query: str, docs: list[str], k: int = 1) -> list[str]:
    """The code under test: embed the query and the documents, rank by cosine similarity."""
    reply = client.embeddings.create(model="text-embedding-3-small", input=[query, *docs])
    query_vector, *doc_vectors = (item.embedding for item in reply.data)
    scores = [sum(q * d for q, d in zip(query_vector, vector)) for vector in doc_vectors]  # unit vectors
    ranked = sorted(zip(scores, docs), reverse=True)
    return [doc for _, doc in ranked[:k]]


def test_query_finds_the_document_that_shares_its_words(openai_client):
    assert search(openai_client, "How do I reset my password?", DOCS) == [DOCS[0]]
    assert search(openai_client, "When are invoices emailed?", DOCS) == [DOCS[2]]


def test_one_request_for_the_whole_batch(openai_client, openai_server):
    search(openai_client, "dark mode", DOCS)
    request = openai_server.requests.last
    assert request.endpoint == "embeddings.create"
    assert request.json["input"] == ["dark mode", *DOCS]
