"""Errors at the user's line: script errors, marker errors, deprecated spellings."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]


def test_a_script_error_points_at_the_users_line(pytester: pytest.Pytester):
    pytester.makepyfile(
        test_user="""
        def test_x(openai_server):
            script = openai_server.on("chat.completions.create")
            script.once("fine", 42)
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(['>       script.once("fine", 42)', "E       pytest_openai_fake.scripting.ScriptError: cannot reply with int 42*", "test_user.py:3: ScriptError"])
    assert "scripting.py" not in result.stdout.str()  # the plugin's frames are hidden


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ('openai_server.on("chat.completion.create")', "unknown endpoint 'chat.completion.create' (did you mean chat.completions.create, *"),
        ('openai_server.on("models.list").respond("text")', "models.list cannot reply with 'text'"),
        ('openai_server.on("chat.completions.create", model="gpt-9-imaginary")', "on(model='gpt-9-imaginary'): no such model*"),
        ('openai_server.on("/v1/nowhere")', "no endpoint has the path '/v1/nowhere'*"),
    ],
)
def test_script_errors_show_the_test_line_only(pytester: pytest.Pytester, call: str, message: str):
    pytester.makepyfile(test_user=f"def test_x(openai_server):\n    {call}\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f">       {call}", f"E       *ScriptError: {message}*", "test_user.py:2: ScriptError"])
    output = result.stdout.str()
    assert "scripting.py" not in output and "fake.py" not in output


def test_a_marker_keyword_typo_suggests_the_keyword_and_is_printed_once(pytester: pytest.Pytester):
    pytester.makepyfile(
        test_user="""
        import pytest

        @pytest.mark.openai_fake(model=["gpt-4o"])
        def test_x(openai_server):
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*@pytest.mark.openai_fake on test_user.py::test_x (test_user.py:3): unknown keyword model= (did you mean models=?)*"])
    output = result.stdout.str()
    # The short summary repeats the message (in full when CI is set: pytest does not cut it
    # there); the report body must hold it once.
    body = output.split("short test summary info")[0]
    assert body.count("unknown keyword model=") == 1
    assert "During handling" not in output


def test_a_bad_marker_reply_points_at_the_test(pytester: pytest.Pytester):
    pytester.makepyfile(
        test_user="""
        import pytest

        @pytest.mark.openai_fake(replies={"models.list": "text"})
        def test_x(openai_server):
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*@pytest.mark.openai_fake on test_user.py::test_x (test_user.py:3): models.list cannot reply with 'text'*"])
    assert "During handling" not in result.stdout.str()


def test_deprecated_strict_spellings_warn_at_the_users_line(pytester: pytest.Pytester):
    pytester.makepyfile(
        test_user="""
        import pytest

        @pytest.mark.openai_fake(strict=False)
        def test_marker(openai_server):
            assert openai_server.problem_policy == "ignore"

        def test_script(openai_server, openai_client):
            script = openai_server.on("models.list", strict=True).once({})
            openai_client.models.list()
            assert script.exhaustive

        def test_configure_and_properties(openai_server):
            openai_server.configure(strict=False)
            assert openai_server.strict is False
            assert openai_server.on("models.list").strict is False
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines_random(
        [
            "*test_user.py:3: DeprecationWarning: @pytest.mark.openai_fake(strict=...) is deprecated: use problems='fail' (strict=True) or problems='ignore' (strict=False)*",
            "*test_user.py:8: DeprecationWarning: on(..., strict=...) is deprecated: use on(..., exhaustive=...)",
            "*test_user.py:13: DeprecationWarning: configure(strict=...) is deprecated*",
            "*test_user.py:14: DeprecationWarning: FakeOpenAI.strict is deprecated*",
            "*test_user.py:15: DeprecationWarning: Script.strict is deprecated: use Script.exhaustive",
        ]
    )


def test_strict_marker_still_works_for_one_release(pytester: pytest.Pytester):
    pytester.makepyfile(
        """
        import openai
        import pytest

        @pytest.mark.openai_fake(strict=False)
        def test_lenient(openai_client):
            with pytest.raises(openai.NotFoundError):
                openai_client.post("/assistants/nope", cast_to=object, body={})
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)
