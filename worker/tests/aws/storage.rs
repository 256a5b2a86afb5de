//! S3 as the blob store: checksums, listings, presigned downloads.

use std::time::Duration;

use bytes::Bytes;
use futures_util::TryStreamExt;
use modelrun_core::blob::{BlobError, BlobKey, BlobStore};

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_keep_their_checksums_and_download_through_a_presigned_url() {
    let h = Harness::new().await;
    let key = BlobKey::new("runs/7/outputs/prévision q1.csv").expect("key");
    let body = Bytes::from_static(b"month,revenue\n2027-01,103950.00\n");
    let stored = h
        .blob
        .put(&key, body.clone(), "text/csv")
        .await
        .expect("put");
    assert_eq!(
        stored.sha256.as_deref(),
        Some(modelrun_core::crypto::sha256_hex(&body).as_str())
    );

    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("big.bin");
    std::fs::write(&file, vec![7u8; 3 * 1024 * 1024]).expect("write");
    let big = BlobKey::new("runs/7/outputs/big.bin").expect("key");
    h.blob
        .put_file(&big, &file, "application/octet-stream")
        .await
        .expect("put file");

    let listed = h
        .blob
        .list(&BlobKey::run_outputs(modelrun_core::ids::RunId(7)))
        .await
        .expect("list");
    let keys: Vec<_> = listed.iter().map(|m| (m.key.as_str(), m.size)).collect();
    assert_eq!(
        keys,
        [
            ("runs/7/outputs/big.bin", 3 * 1024 * 1024),
            ("runs/7/outputs/prévision q1.csv", 32)
        ]
    );
    assert_eq!(
        listed[0].sha256.as_deref(),
        Some(modelrun_core::crypto::sha256_hex(vec![7u8; 3 * 1024 * 1024]).as_str())
    );
    assert_eq!(listed[1].content_type.as_deref(), Some("text/csv"));

    let read: Vec<u8> = h
        .blob
        .get(&key)
        .await
        .expect("get")
        .body
        .try_fold(Vec::new(), |mut all, chunk| async move {
            all.extend_from_slice(&chunk);
            Ok(all)
        })
        .await
        .expect("body");
    assert_eq!(read, body);
    assert!(matches!(
        h.blob.get(&BlobKey::new("runs/7/none").expect("key")).await,
        Err(BlobError::NotFound(_))
    ));

    // A presigned URL fetches the bytes as an attachment, and lives at most 15 minutes.
    let url = h
        .blob
        .presign_get(&key, "prévision q1.csv", Duration::from_secs(3600))
        .await
        .expect("presign")
        .expect("a URL");
    assert!(url.contains("X-Amz-Expires=900"), "{url}");
    let response = reqwest::get(&url).await.expect("GET");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response
            .headers()
            .get("content-disposition")
            .and_then(|v| v.to_str().ok()),
        Some(
            "attachment; filename=\"pr_vision q1.csv\"; filename*=UTF-8''pr%C3%A9vision%20q1%2Ecsv"
        )
    );
    assert_eq!(response.bytes().await.expect("bytes"), body);
}
