//! Before anything is timed, every server answers the same requests from the same tables, and
//! the answers must agree with the Strata service's (the posts API's, or the blog API's on the
//! blog's route): the status, the content type and the JSON body (compared as values, so the
//! key order of NestJS's bodies does not matter). A fast wrong answer must not win.

use super::server::{Answer, send};
use super::{HttpScenario, Service};
use anyhow::{Result, bail};
use hyper::Method;
use std::net::SocketAddr;

/// The requests compared: each benchmarked route's first request, and for the posts API a
/// missing post (the blog's NestJS service serves `GET /posts` alone).
fn requests(scenarios: &[HttpScenario]) -> Vec<(Method, &'static str, Option<String>)> {
    let mut out: Vec<_> = scenarios.iter().map(|s| (s.request())(0, 0)).collect();
    if scenarios.iter().any(|s| s.service() == Service::Posts) {
        out.push((Method::GET, "/posts/999", None));
    }
    out
}

/// Sends each request of `scenarios` (routes of one service) to every server of that service
/// (a name and an address), each time after `reset`, and fails on the first answer that
/// differs from the first server's.
pub(crate) async fn compare<F, Fut>(
    servers: &[(&str, SocketAddr)],
    scenarios: &[HttpScenario],
    mut reset: F,
) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let Some(((reference, reference_addr), others)) = servers.split_first() else {
        return Ok(());
    };
    for (method, path, body) in requests(scenarios) {
        reset().await?;
        let expected = send(*reference_addr, method.clone(), path, body.clone()).await?;
        for (server, addr) in others {
            reset().await?;
            let got = send(*addr, method.clone(), path, body.clone()).await?;
            if let Some(difference) = differs(&expected, &got) {
                bail!(
                    "{method} {path} {}: the {} server answers differently from the {} server \
                     ({difference}):\n  {}: {}\n  {}: {}",
                    body.as_deref().unwrap_or(""),
                    server,
                    reference,
                    reference,
                    describe(&expected),
                    server,
                    describe(&got),
                );
            }
        }
    }
    Ok(())
}

/// What differs between two answers, if anything.
fn differs(expected: &Answer, got: &Answer) -> Option<&'static str> {
    if expected.status != got.status {
        return Some("status");
    }
    if expected.content_type != got.content_type {
        return Some("content type");
    }
    let json = |a: &Answer| serde_json::from_slice::<serde_json::Value>(&a.body).ok();
    let same_body = match (json(expected), json(got)) {
        (Some(e), Some(g)) => e == g,
        _ => expected.body == got.body,
    };
    (!same_body).then_some("body")
}

fn describe(a: &Answer) -> String {
    format!(
        "{} [{}] {}",
        a.status,
        a.content_type.as_deref().unwrap_or("no content type"),
        String::from_utf8_lossy(&a.body).chars().take(300).collect::<String>()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn answer(status: u16, body: &'static str) -> Answer {
        Answer {
            status,
            content_type: Some("application/json; charset=utf-8".into()),
            body: Bytes::from_static(body.as_bytes()),
        }
    }

    #[test]
    fn answers_compare_by_status_content_type_and_json_value() {
        let nest = answer(
            404,
            r#"{"message":"Post with id 9 not found","error":"Not Found","statusCode":404}"#,
        );
        let ours = answer(
            404,
            r#"{"statusCode":404,"message":"Post with id 9 not found","error":"Not Found"}"#,
        );
        assert_eq!(differs(&ours, &nest), None, "key order does not matter");
        assert_eq!(differs(&answer(200, "[]"), &answer(201, "[]")), Some("status"));
        assert_eq!(differs(&answer(200, r#"{"id":1}"#), &answer(200, r#"{"id":2}"#)), Some("body"));
        let mut text = answer(200, "[]");
        text.content_type = Some("application/json".into());
        assert_eq!(differs(&answer(200, "[]"), &text), Some("content type"));
    }
}
