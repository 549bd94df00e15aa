//! Resolving download-looking links (`/download/42`, "Get the app") to the file they lead to,
//! without fetching its body: a HEAD request (falling back to a one-byte ranged GET where HEAD is
//! refused) made by a blank page of the scrape's own browser context, so it carries that
//! context's cookies, user agent and the page as referer, and follows redirects across origins
//! as a click would. Requests are paused at the response headers and then aborted.

use std::time::Instant;

use serde_json::{json, Value};
use url::Url;

use crate::context::Context;
use crate::errors::Result;
use crate::transport::{Incoming, Interrupt, Subscription};
use crate::url_policy::UrlPolicy;

/// Redirect hops followed before giving up on a link.
const MAX_HOPS: u32 = 10;

/// The final response of a resolved link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    pub final_url: String,
    pub status: u16,
    pub mime: Option<String>,
    pub disposition: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Head,
    RangedGet,
}

/// Resolves each candidate in turn; `None` where a link could not be resolved (blocked,
/// unreachable, too many redirects, or out of time).
pub fn probe_all(
    context: &Context,
    candidates: &[(Url, String)],
    referer: &str,
    policy: &UrlPolicy,
    deadline: Instant,
    interrupt: &dyn Interrupt,
) -> Result<Vec<Option<Probe>>> {
    let (_target, session) = context.open_page()?;
    let stream = context.connection().subscribe(Some(&session));
    let patterns = json!({ "patterns": [
        { "urlPattern": "*", "requestStage": "Request" },
        { "urlPattern": "*", "requestStage": "Response" },
    ]});
    stream.call(
        Some(&session),
        "Fetch.enable",
        patterns,
        deadline,
        interrupt,
        &mut |_| Ok(()),
    )?;
    let mut results = Vec::with_capacity(candidates.len());
    for (url, _) in candidates {
        let mut found = None;
        for method in [Method::Head, Method::RangedGet] {
            match probe_one(
                &stream, &session, url, referer, method, policy, deadline, interrupt,
            )? {
                Outcome::Done(probe) => {
                    found = probe;
                    break;
                }
                Outcome::Refused => continue,
            }
        }
        results.push(found);
    }
    Ok(results)
}

enum Outcome {
    Done(Option<Probe>),
    /// The server does not allow this method; try the next one.
    Refused,
}

#[allow(clippy::too_many_arguments)]
fn probe_one(
    stream: &Subscription,
    session: &str,
    url: &Url,
    referer: &str,
    method: Method,
    policy: &UrlPolicy,
    deadline: Instant,
    interrupt: &dyn Interrupt,
) -> Result<Outcome> {
    let navigation = stream.send(
        Some(session),
        "Page.navigate",
        json!({ "url": url.as_str(), "referrer": referer }),
    )?;
    let mut hops = 0;
    let mut outcome: Option<Outcome> = None;
    let finished = stream.pump(deadline, interrupt, &mut |incoming| {
        let event = match incoming {
            Incoming::Reply { id, reply } if id == navigation => {
                // Our own abort also ends the navigation with an error; only an error before
                // any response (DNS, refused) means the link led nowhere.
                if outcome.is_none()
                    && reply.map_or(true, |r| {
                        r["errorText"].as_str().is_some_and(|t| !t.is_empty())
                    })
                {
                    outcome = Some(Outcome::Done(None));
                }
                return Ok(outcome.is_some());
            }
            Incoming::Reply { .. } => return Ok(outcome.is_some()),
            Incoming::Event(event) => event,
        };
        if event.method != "Fetch.requestPaused" {
            return Ok(outcome.is_some());
        }
        let params = &event.params;
        let request_id = params["requestId"].clone();
        let abort = |reason: &str| {
            stream.send(
                Some(session),
                "Fetch.failRequest",
                json!({ "requestId": request_id, "errorReason": reason }),
            )
        };
        let request_url = params["request"]["url"].as_str().unwrap_or_default();
        let Some(status) = params["responseStatusCode"].as_u64() else {
            // Request stage: apply the policy, then send it as HEAD or as a ranged GET.
            let allowed = Url::parse(request_url).is_ok_and(|u| policy.check_request(&u).is_ok());
            if !allowed || params["resourceType"] != "Document" {
                abort("BlockedByClient")?;
                if !allowed {
                    outcome = Some(Outcome::Done(None));
                }
                return Ok(outcome.is_some());
            }
            let mut continued = json!({ "requestId": request_id });
            match method {
                Method::Head => continued["method"] = json!("HEAD"),
                Method::RangedGet => {
                    continued["headers"] = with_range(&params["request"]["headers"])
                }
            }
            stream.send(Some(session), "Fetch.continueRequest", continued)?;
            return Ok(false);
        };
        let status = u16::try_from(status).unwrap_or(0);
        let headers = &params["responseHeaders"];
        if (300..400).contains(&status) && header(headers, "location").is_some() && hops < MAX_HOPS
        {
            hops += 1;
            stream.send(
                Some(session),
                "Fetch.continueRequest",
                json!({ "requestId": request_id }),
            )?;
            return Ok(false);
        }
        abort("Aborted")?;
        outcome = Some(
            if method == Method::Head && matches!(status, 400 | 403 | 405 | 501) {
                Outcome::Refused
            } else if (300..400).contains(&status) {
                Outcome::Done(None)
            } else {
                Outcome::Done(Some(Probe {
                    final_url: request_url.to_owned(),
                    status,
                    mime: header(headers, "content-type").map(str::to_owned),
                    disposition: header(headers, "content-disposition").map(str::to_owned),
                }))
            },
        );
        Ok(true)
    })?;
    Ok(match (finished, outcome) {
        (true, Some(outcome)) => outcome,
        _ => Outcome::Done(None),
    })
}

/// Response headers in Fetch come as `[{name, value}]`.
fn header<'a>(headers: &'a Value, name: &str) -> Option<&'a str> {
    headers.as_array()?.iter().find_map(|h| {
        h["name"]
            .as_str()
            .is_some_and(|n| n.eq_ignore_ascii_case(name))
            .then(|| h["value"].as_str())
            .flatten()
    })
}

/// The request's headers (an object in Fetch.requestPaused) as the list continueRequest takes,
/// plus a one-byte range so the server sends headers and next to no body.
fn with_range(request_headers: &Value) -> Value {
    let mut list: Vec<Value> = request_headers
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(name, _)| !name.eq_ignore_ascii_case("range"))
        .map(|(name, value)| json!({ "name": name, "value": value }))
        .collect();
    list.push(json!({ "name": "Range", "value": "bytes=0-0" }));
    Value::Array(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_headers_are_found_case_insensitively() {
        let headers = json!([{"name": "Content-Type", "value": "application/zip"}, {"name": "location", "value": "/x"}]);
        assert_eq!(header(&headers, "content-type"), Some("application/zip"));
        assert_eq!(header(&headers, "Location"), Some("/x"));
        assert_eq!(header(&headers, "content-disposition"), None);
    }

    #[test]
    fn ranged_get_keeps_headers_and_replaces_any_range() {
        let headers = with_range(&json!({"User-Agent": "UA", "range": "bytes=5-"}));
        let list = headers.as_array().unwrap();
        assert_eq!(list.len(), 2);
        assert!(list.contains(&json!({"name": "User-Agent", "value": "UA"})));
        assert!(list.contains(&json!({"name": "Range", "value": "bytes=0-0"})));
    }
}
