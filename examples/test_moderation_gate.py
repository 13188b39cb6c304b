"""A moderation gate, tested on both paths with the fake's trigger words.

The fake flags a category when its trigger word is in the input: ``FLAG_`` + the category in
upper case, ``/`` and ``-`` as ``_`` (``FLAG_VIOLENCE``, ``FLAG_SELF_HARM_INTENT``...). The
table is ``pytest_openai_fake.resources.moderations.TRIGGERS``.
"""

import openai
import pytest

from pytest_openai_fake.resources.moderations import TRIGGERS


class Rejected(Exception):
    pass


def post_comment(client: openai.OpenAI, comments: list[str], text: str) -> None:
    """Code under test: refuses to store a comment the moderation endpoint flags."""
    result = client.moderations.create(model="omni-moderation-latest", input=text).results[0]
    if result.flagged:
        reasons = sorted(name for name, hit in result.categories.model_dump(by_alias=True).items() if hit)
        raise Rejected(", ".join(reasons))
    comments.append(text)


def test_clean_comment_is_posted(openai_client):
    comments: list[str] = []
    post_comment(openai_client, comments, "Great article, thanks!")
    assert comments == ["Great article, thanks!"]


def test_flagged_comment_is_refused(openai_client, openai_server):
    comments: list[str] = []
    with pytest.raises(Rejected, match="^harassment$"):
        post_comment(openai_client, comments, f"You are all {TRIGGERS['harassment']}")
    assert comments == []
    assert openai_server.requests.last.endpoint == "moderations.create"
