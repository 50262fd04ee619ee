//! Review of `Idempotency-Key` on actix-web's `POST /messages` (issue 16):
//! header values the suite does not send, a key whose first post was
//! refused, and one key posted at once by many clients. The steps are
//! `example_chat_common::retried_posts`'s, run by the axum chat too.
#![allow(missing_docs)]

use example_chat_common::retried_posts;

mod common;

fn start_with(hub: sse_actix::hub::Hub) -> String {
    format!("http://{}", common::start_with(hub))
}

#[tokio::test]
async fn odd_header_values_are_refused_or_read_as_the_same_key() {
    let base = start_with(example_chat_common::hub());
    retried_posts::odd_header_values_are_refused_or_read_as_the_same_key(&base).await;
}

#[tokio::test]
async fn a_key_whose_first_post_was_refused_posts_when_sent_right() {
    let hub = example_chat_common::hub();
    let base = start_with(hub.clone());
    retried_posts::a_key_whose_first_post_was_refused_posts_when_sent_right(&base, &hub).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_key_posted_at_once_by_many_is_published_once() {
    let hub = example_chat_common::hub();
    let base = start_with(hub.clone());
    retried_posts::the_same_key_posted_at_once_by_many_is_published_once(&base, &hub).await;
}
