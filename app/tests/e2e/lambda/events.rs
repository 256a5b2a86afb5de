//! Real event payloads: what API Gateway and EventBridge send a function.

use serde_json::{Value, json};

use super::deployment::API;

/// An API Gateway HTTP API (payload 2.0) request.
pub fn http(
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    cookies: &[String],
    body: Option<&str>,
) -> Value {
    let mut all = json!({"host": API, "user-agent": "test", "x-forwarded-proto": "https", "x-forwarded-for": "203.0.113.7"});
    for (name, value) in headers {
        all[*name] = json!(value);
    }
    let (raw_path, query) = path.split_once('?').unwrap_or((path, ""));
    let mut event = json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": query,
        "headers": all,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abcd1234",
            "domainName": API,
            "domainPrefix": "abcd1234",
            "http": {"method": method, "path": raw_path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.7", "userAgent": "test"},
            "requestId": "LV7fzho-PHcEJPw=",
            "routeKey": "$default",
            "stage": "$default",
            "time": "22/Nov/2026:15:08:21 +0000",
            "timeEpoch": 1_795_360_101_067_i64
        },
        "isBase64Encoded": false
    });
    if !cookies.is_empty() {
        event["cookies"] = json!(cookies);
    }
    if let Some(body) = body {
        event["body"] = json!(body);
    }
    event
}

pub fn header(response: &Value, name: &str) -> String {
    response["headers"][name]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// A "Batch Job State Change" event about the job `job_name` (as Batch
/// knows it: the run's id and key).
pub fn batch_event(job_name: &str, job_id: &str, status: &str, container: Value) -> Value {
    json!({
        "version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": "Batch Job State Change", "source": "aws.batch",
        "account": "123456789012", "time": "2026-11-22T15:00:00Z", "region": "eu-west-1",
        "resources": [format!("arn:aws:batch:eu-west-1:123456789012:job/{job_id}")],
        "detail": {
            "jobArn": format!("arn:aws:batch:eu-west-1:123456789012:job/{job_id}"),
            "jobName": job_name, "jobId": job_id,
            "jobQueue": "arn:aws:batch:eu-west-1:123456789012:job-queue/modelrun",
            "status": status, "attempts": [], "createdAt": 1_795_360_101_067_i64, "dependsOn": [],
            "jobDefinition": "arn:aws:batch:eu-west-1:123456789012:job-definition/modelrun-version-1-a1b2c3d:1",
            "parameters": {}, "container": container, "tags": {}
        }
    })
}
