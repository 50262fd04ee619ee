"""The official OpenAI SDK against example-axum-llm; see harness.py."""

import openai

import harness


def make_client(base_url):
    # No retries: a test must see the first answer, and not wait for more.
    return openai.OpenAI(base_url=base_url, api_key="sk-test", max_retries=0, timeout=30)


def error_info(error):
    """What the SDK raised, and what it read from the error body."""
    return {
        "class": type(error).__name__,
        "status": getattr(error, "status_code", None),
        "message": error.message,
        "type": error.type,
        "code": error.code,
        "param": error.param,
    }


def stream(client, request):
    """create(stream=True): the deltas, joined, and each chunk's shape."""
    text, finish_reasons, roles, usage, chunks = "", [], [], None, 0
    with client.chat.completions.create(
        stream=True, stream_options={"include_usage": True}, **request
    ) as chunks_stream:
        for chunk in chunks_stream:
            chunks += 1
            assert chunk.object == "chat.completion.chunk", chunk
            if chunk.usage is not None:
                usage = chunk.usage.model_dump(include={"prompt_tokens", "completion_tokens", "total_tokens"})
            for choice in chunk.choices:
                if choice.delta.role:
                    roles.append(choice.delta.role)
                if choice.delta.content:
                    text += choice.delta.content
                if choice.finish_reason:
                    finish_reasons.append(choice.finish_reason)
    return {"text": text, "finish_reasons": finish_reasons, "roles": roles, "usage": usage, "chunks": chunks}


def helper(client, request):
    """The SDK's stream helper, which assembles the completion itself."""
    deltas = ""
    with client.chat.completions.stream(**request) as events:
        for event in events:
            if event.type == "content.delta":
                deltas += event.delta
        final = events.get_final_completion()
    choice = final.choices[0]
    return {"text": deltas, "final_text": choice.message.content, "finish_reason": choice.finish_reason}


def complete(client, request):
    """create() without a stream: one completion."""
    completion = client.chat.completions.create(**request)
    choice = completion.choices[0]
    return {
        "text": choice.message.content,
        "finish_reason": choice.finish_reason,
        "object": completion.object,
        "usage": completion.usage.model_dump(include={"prompt_tokens", "completion_tokens", "total_tokens"}),
    }


def refused(client, request):
    """A request the server must refuse: the error the SDK raises."""
    try:
        client.chat.completions.create(**request)
    except openai.APIStatusError as error:
        return error_info(error)
    raise AssertionError("the request was not refused")


def stream_fails(client, request):
    """A stream that fails midway: the text before, then the SDK's error."""
    text = ""
    try:
        for chunk in client.chat.completions.create(stream=True, **request):
            for choice in chunk.choices:
                text += choice.delta.content or ""
    except openai.APIError as error:
        return {"text": text, "error": error_info(error)}
    raise AssertionError("the stream did not fail")


harness.main(make_client, [stream, helper, complete, refused, stream_fails])
