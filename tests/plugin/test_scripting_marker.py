"""Scripts from the ``openai_fake`` marker, and exhaustive scripts at teardown, through pytester."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]


def test_marker_replies_and_faults(pytester: pytest.Pytester):
    pytester.makepyfile(
        """
        import openai
        import pytest
        from pytest_openai_fake import error, tool_call

        MESSAGES = [{"role": "user", "content": "hi"}]

        @pytest.mark.openai_fake(replies={"chat.completions.create": [tool_call("search", {"q": "x"}), "done"]})
        def test_reply_list_is_used_in_order(openai_client):
            first = openai_client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
            assert first.choices[0].message.tool_calls[0].function.name == "search"
            second = openai_client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
            assert second.choices[0].message.content == "done"

        @pytest.mark.openai_fake(replies={"chat.completions.create": "always"})
        def test_single_reply_is_for_every_call(openai_client):
            for _ in range(3):
                reply = openai_client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
                assert reply.choices[0].message.content == "always"

        @pytest.mark.openai_fake(faults={"*": [error(429, retry_after=0.001)]}, replies={"chat.completions.create": "ok"})
        def test_faults_come_first(openai_server):
            client = openai_server.client(max_retries=1)
            reply = client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
            assert reply.choices[0].message.content == "ok"
            assert [r.status for r in openai_server.requests] == [429, 200]

        @pytest.mark.openai_fake(faults={"models.list": error(503)})
        class TestClassMarker:
            def test_inherits(self, openai_client):
                with pytest.raises(openai.InternalServerError):
                    openai_client.models.list()
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)


def test_exhaustive_script_left_unused_fails_the_test(pytester: pytest.Pytester):
    pytester.makepyfile(
        """
        import pytest

        MESSAGES = [{"role": "user", "content": "hi"}]

        def test_uses_one_of_two(openai_server, openai_client):
            openai_server.on("chat.completions.create", exhaustive=True).once("a", "b")
            openai_client.chat.completions.create(model="gpt-4o", messages=MESSAGES)

        @pytest.mark.openai_fake(unused_replies="ignore")
        def test_unused_replies_may_be_ignored(openai_server, openai_client):
            openai_server.on("chat.completions.create").once("a", "b")
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*exhaustive script(s) not fully consumed*", "*<Script script_1 on(chat.completions.create)>: 1 reply(ies) left*"])


def test_once_replies_a_passing_test_left_unused_fail_it(pytester: pytest.Pytester):
    pytester.makepyfile(
        """
        import pytest

        MESSAGES = [{"role": "user", "content": "hi"}]

        def test_one_call_two_replies(openai_server, openai_client):
            openai_server.on("chat.completions.create").once("a", "b")
            openai_client.chat.completions.create(model="gpt-4o", messages=MESSAGES)

        def test_filter_never_matched(openai_server, openai_client):
            openai_server.on("chat.completions.create", message="bonjour").once("salut")
            openai_client.chat.completions.create(model="gpt-4o", messages=MESSAGES)

        def test_all_used(openai_server, openai_client):
            openai_server.on("chat.completions.create").once("a").respond("standing reply, may stay unused")
            openai_server.on("models.list").respond({})  # respond: never required
            openai_client.chat.completions.create(model="gpt-4o", messages=MESSAGES)

        def test_failing_test_gets_no_second_error(openai_server):
            openai_server.on("chat.completions.create").once("a")
            assert False

        @pytest.mark.openai_fake(unused_replies="ignore")
        def test_marker_opt_out(openai_server):
            openai_server.on("chat.completions.create").once("a")

        def test_opt_out_inside_the_test(openai_server, openai_servers):
            openai_server.on("chat.completions.create").once("a")
            openai_servers["mistral"].on("chat.completions.create").once("b")
            openai_server.configure(unused_replies="ignore")
            openai_servers["mistral"].configure(unused_replies="ignore")
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=5, failed=1, errors=2)
    result.stdout.fnmatch_lines_random(
        [
            "*ERROR at teardown of test_one_call_two_replies*",
            "*ERROR at teardown of test_filter_never_matched*",
            "the test passed but left scripted once replies unused*unused_replies='ignore')*",
            "  <Script script_1 on(chat.completions.create)>: 1 of its once replies unused after 1 call(s): <Outcome reply 'b'>",
            "  <Script script_1 on(chat.completions.create, message='bonjour')>: 1 of its once replies unused after 0 call(s): <Outcome reply 'salut'>",
        ]
    )
    assert "teardown of test_failing_test_gets_no_second_error" not in result.stdout.str()


def test_exhaustive_script_called_too_often_fails_the_test(pytester: pytest.Pytester):
    pytester.makepyfile(
        """
        import openai
        import pytest

        MESSAGES = [{"role": "user", "content": "hi"}]

        def test_calls_twice(openai_server, openai_client):
            openai_server.on("chat.completions.create", exhaustive=True).once("only")
            openai_client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
            with pytest.raises(openai.InternalServerError):
                openai_client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*has no replies left for this call*"])


def test_exhaustive_respond_no_call_matched_fails_the_test(pytester: pytest.Pytester):
    pytester.makepyfile(
        """
        import pytest
        from pytest_openai_fake import error

        MESSAGES = [{"role": "user", "content": "hi"}]

        def test_exhaustive_respond_never_matched(openai_server, openai_client):
            openai_server.on("chat.completions.create", model="gpt-4o-mini", exhaustive=True).respond("mini")
            openai_client.chat.completions.create(model="gpt-4o", messages=MESSAGES)

        def test_exhaustive_fail_never_matched(openai_server):
            openai_server.on("models.list", exhaustive=True).fail(503)

        def test_exhaustive_respond_matched(openai_server, openai_client):
            script = openai_server.on("chat.completions.create", exhaustive=True).once("a").respond("b")
            openai_client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
            assert script.called

        def test_loose_respond_may_stay_unused(openai_server):
            script = openai_server.on("chat.completions.create").respond("never")
            assert not script.called
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4, errors=2)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_exhaustive_respond_never_matched*",
            "*exhaustive script(s) not fully consumed*",
            "*<Script script_1 on(chat.completions.create, model='gpt-4o-mini')>: no call matched it (respond: <Outcome reply 'mini'>)*",
            "*ERROR at teardown of test_exhaustive_fail_never_matched*",
            "*<Script script_1 on(models.list)>: no call matched it (respond: <Outcome fault status=503>)*",
        ]
    )


@pytest.mark.parametrize(
    "marker, message",
    [
        ("replies={'chat.completion.create': 'x'}", "unknown endpoint 'chat.completion.create' (did you mean chat.completions.create"),
        ("faults={'model.list': []}", "unknown endpoint 'model.list'"),
        ("replies={'models.list': 'text'}", "models.list cannot reply with 'text'"),
        ("replies={'chat.completions.create': {'usage': {'prompt_tokens': 'many'}}}", "usage.prompt_tokens: 'many' is not a valid int"),
        ("provider='mistral', replies={'images.generate': 'x'}", "unknown endpoint 'images.generate'"),
        ("modls=['gpt-4o']", "unknown keyword modls= (did you mean models=?)"),
        ("models='gpt-4o'", "models= must be a list of model ids"),
        ("problems=1", "problems= must be 'fail' or 'ignore'"),
        ("provider='openia'", "provider= must be one of"),
        ("deployments=['x']", "deployments= must map deployment names to model ids"),
    ],
)
def test_marker_is_validated_without_an_openai_fixture(pytester: pytest.Pytester, marker: str, message: str):
    """A test that takes no openai fixture (it builds FakeOpenAI itself, or the marker sits on a
    class) still gets its marker checked at setup, and no server is started for that."""
    pytester.makepyfile(
        f"""
        import pytest
        from pytest_openai_fake.plugin import _SERVERS

        @pytest.mark.openai_fake({marker})
        def test_x():
            pass

        def test_no_server_was_started(request):
            assert not request.config.stash.get(_SERVERS, {{}})
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1, passed=1)
    result.stdout.fnmatch_lines(["*ERROR at setup of test_x*", f"*@pytest.mark.openai_fake on test_marker_is_validated_without_an_openai_fixture.py::test_x (test_marker_is_validated_without_an_openai_fixture.py:*): *{message}*"])


def test_a_valid_marker_without_an_openai_fixture_passes(pytester: pytest.Pytester):
    pytester.makepyfile(
        """
        import pytest
        from pytest_openai_fake import error, tool_call

        @pytest.mark.openai_fake(
            models=["gpt-4o"], problems="ignore", provider="azure", deployments={"prod": "gpt-4o"},
            replies={"chat.completions.create": [tool_call("f", {}), "done"]}, faults={"*": error(429)},
        )
        class TestMarked:
            def test_plain(self):
                pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
