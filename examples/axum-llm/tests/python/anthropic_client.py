"""The official Anthropic SDK against example-axum-llm; see harness.py."""

import anthropic

import harness


def make_client(base_url):
    # No retries: a test must see the first answer, and not wait for more.
    return anthropic.Anthropic(base_url=base_url, api_key="sk-ant-test", max_retries=0, timeout=30)


def error_info(error):
    """What the SDK raised, and what it read from the error body."""
    body = error.body if isinstance(error.body, dict) else {}
    return {
        "class": type(error).__name__,
        "status": getattr(error, "status_code", None),
        "type": body.get("error", {}).get("type"),
        "message": body.get("error", {}).get("message"),
    }


def stream(client, request):
    """create(stream=True): every event, and the text deltas joined."""
    text, events, stop_reason, usage = "", [], None, None
    for event in client.messages.create(stream=True, **request):
        events.append(event.type)
        if event.type == "content_block_delta":
            text += event.delta.text
        elif event.type == "message_delta":
            stop_reason = event.delta.stop_reason
            usage = {"output_tokens": event.usage.output_tokens}
    return {"text": text, "events": events, "stop_reason": stop_reason, "usage": usage}


def helper(client, request):
    """The SDK's stream helper, which assembles the message itself."""
    with client.messages.stream(**request) as message_stream:
        deltas = "".join(message_stream.text_stream)
        final = message_stream.get_final_message()
    return {
        "text": deltas,
        "final_text": "".join(block.text for block in final.content),
        "stop_reason": final.stop_reason,
        "usage": {"input_tokens": final.usage.input_tokens, "output_tokens": final.usage.output_tokens},
    }


def complete(client, request):
    """create() without a stream: one message."""
    message = client.messages.create(**request)
    return {
        "text": "".join(block.text for block in message.content),
        "stop_reason": message.stop_reason,
        "type": message.type,
        "usage": {"input_tokens": message.usage.input_tokens, "output_tokens": message.usage.output_tokens},
    }


def refused(client, request):
    """A request the server must refuse: the error the SDK raises."""
    try:
        client.messages.create(**request)
    except anthropic.APIStatusError as error:
        return error_info(error)
    raise AssertionError("the request was not refused")


def stream_fails(client, request):
    """A stream that fails midway: the text before, then the SDK's error."""
    text = ""
    try:
        for event in client.messages.create(stream=True, **request):
            if event.type == "content_block_delta":
                text += event.delta.text
    except anthropic.APIStatusError as error:
        return {"text": text, "error": error_info(error)}
    raise AssertionError("the stream did not fail")


harness.main(make_client, [stream, helper, complete, refused, stream_fails])
