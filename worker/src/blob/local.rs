//! The blob store as a local directory: `<data dir>/blobs/<key>`.
//!
//! Writes go to a temporary file that is renamed into place, so a reader
//! never sees half a file. Keys are checked by [`BlobKey`], so no key can
//! name a path outside the root; symbolic links are never followed when
//! listing.

use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use modelrun_core::blob::{Blob, BlobError, BlobKey, BlobStore, ObjectMeta, PutObject};
use modelrun_core::crypto::random_hex;
use modelrun_core::installation::StorageScope;
use modelrun_core::job_access::Presigned;
use sha2::{Digest, Sha256};
use tokio::fs;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::io::ReaderStream;

/// Temporary files start with this and are never listed.
const TEMP_PREFIX: &str = ".tmp-";

#[derive(Debug, Clone)]
pub struct LocalBlobStore {
    root: PathBuf,
    scope: StorageScope,
}

impl LocalBlobStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        LocalBlobStore {
            root: root.into(),
            scope: StorageScope::none(),
        }
    }

    /// Keeps this installation's files apart from another database's in
    /// the same directory ([`StorageScope`]).
    pub fn scoped(mut self, scope: StorageScope) -> Self {
        self.scope = scope;
        self
    }

    fn path(&self, key: &BlobKey) -> PathBuf {
        self.root.join(self.scope.apply(key.as_str()))
    }

    /// Writes `chunks` to a temporary file beside `key` and renames it into
    /// place, hashing as it goes.
    async fn write_atomically(
        &self,
        key: &BlobKey,
        content_type: &str,
        mut source: impl tokio::io::AsyncRead + Unpin,
    ) -> Result<ObjectMeta, BlobError> {
        let target = self.path(key);
        let parent = target.parent().unwrap_or(&self.root).to_path_buf();
        fs::create_dir_all(&parent).await?;
        let temp = parent.join(format!("{TEMP_PREFIX}{}", random_hex(8)));
        let result = async {
            let mut file = fs::File::create(&temp).await?;
            let mut hasher = Sha256::new();
            let mut size = 0u64;
            let mut buffer = vec![0u8; 64 * 1024];
            loop {
                let read = source.read(&mut buffer).await?;
                if read == 0 {
                    break;
                }
                hasher.update(&buffer[..read]);
                file.write_all(&buffer[..read]).await?;
                size += read as u64;
            }
            file.sync_all().await?;
            fs::rename(&temp, &target).await?;
            Ok::<_, std::io::Error>((size, hex::encode(hasher.finalize())))
        }
        .await;
        match result {
            Ok((size, sha256)) => Ok(ObjectMeta {
                key: key.clone(),
                size,
                sha256: Some(sha256),
                content_type: Some(content_type.to_owned()),
            }),
            Err(error) => {
                let _ = fs::remove_file(&temp).await;
                Err(error.into())
            }
        }
    }
}

/// SHA-256 of a file, read in pieces.
async fn hash_file(path: &Path) -> std::io::Result<String> {
    let mut file = fs::File::open(path).await?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let read = file.read(&mut buffer).await?;
        if read == 0 {
            return Ok(hex::encode(hasher.finalize()));
        }
        hasher.update(&buffer[..read]);
    }
}

fn guess_type(key: &str) -> String {
    mime_guess::from_path(key)
        .first_or_octet_stream()
        .essence_str()
        .to_owned()
}

#[async_trait]
impl BlobStore for LocalBlobStore {
    async fn put(
        &self,
        key: &BlobKey,
        bytes: Bytes,
        content_type: &str,
    ) -> Result<ObjectMeta, BlobError> {
        self.write_atomically(key, content_type, bytes.as_ref())
            .await
    }

    async fn put_file(
        &self,
        key: &BlobKey,
        path: &Path,
        content_type: &str,
    ) -> Result<ObjectMeta, BlobError> {
        let file = fs::File::open(path).await?;
        self.write_atomically(key, content_type, file).await
    }

    async fn get(&self, key: &BlobKey) -> Result<Blob, BlobError> {
        let path = self.path(key);
        let file = match fs::File::open(&path).await {
            Ok(file) => file,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Err(BlobError::NotFound(key.to_string()));
            }
            Err(error) => return Err(error.into()),
        };
        let size = file.metadata().await?.len();
        Ok(Blob {
            meta: ObjectMeta {
                key: key.clone(),
                size,
                sha256: None,
                content_type: Some(guess_type(key.as_str())),
            },
            body: Box::pin(ReaderStream::new(file)),
        })
    }

    fn local_path(&self, key: &BlobKey) -> Option<PathBuf> {
        Some(self.path(key))
    }

    async fn list(&self, prefix: &BlobKey) -> Result<Vec<ObjectMeta>, BlobError> {
        let mut found = Vec::new();
        let mut pending = vec![self.path(prefix)];
        while let Some(dir) = pending.pop() {
            let mut entries = match fs::read_dir(&dir).await {
                Ok(entries) => entries,
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
                Err(error) => return Err(error.into()),
            };
            while let Some(entry) = entries.next_entry().await? {
                let path = entry.path();
                let file_type = entry.file_type().await?;
                if file_type.is_dir() {
                    pending.push(path);
                    continue;
                }
                let name = entry.file_name();
                if !file_type.is_file() || name.to_string_lossy().starts_with(TEMP_PREFIX) {
                    continue;
                }
                let Some(relative) = path.strip_prefix(&self.root).ok().and_then(Path::to_str)
                else {
                    continue;
                };
                let Some(Ok(key)) = self.scope.remove(relative).map(BlobKey::new) else {
                    continue;
                };
                found.push(ObjectMeta {
                    size: entry.metadata().await?.len(),
                    sha256: Some(hash_file(&path).await?),
                    content_type: Some(guess_type(key.as_str())),
                    key,
                });
            }
        }
        found.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(found)
    }

    async fn presign_get(
        &self,
        _: &BlobKey,
        _: &str,
        _: Duration,
    ) -> Result<Option<String>, BlobError> {
        Ok(None)
    }

    async fn presign_put(
        &self,
        _: &BlobKey,
        _: &PutObject<'_>,
        _: Duration,
    ) -> Result<Option<Presigned>, BlobError> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(id: &str) -> StorageScope {
        StorageScope::of(&modelrun_core::installation::Installation {
            id: id.to_owned(),
            scoped_storage: true,
        })
    }

    #[tokio::test]
    async fn a_new_database_in_the_same_directory_sees_none_of_the_old_runs_files() {
        let dir = tempfile::tempdir().expect("dir");
        let old = LocalBlobStore::new(dir.path()).scoped(scope("aaaaaaaaaaaa"));
        let new = LocalBlobStore::new(dir.path()).scoped(scope("bbbbbbbbbbbb"));
        let key = BlobKey::new("runs/1/outputs/forecast.csv").expect("key");
        old.put(&key, Bytes::from_static(b"old"), "text/csv")
            .await
            .expect("put");
        assert!(
            dir.path()
                .join("runs/aaaaaaaaaaaa/1/outputs/forecast.csv")
                .is_file()
        );
        let outputs = BlobKey::run_outputs(modelrun_core::ids::RunId(1));
        assert!(new.list(&outputs).await.expect("list").is_empty());
        assert!(matches!(new.get(&key).await, Err(BlobError::NotFound(_))));
        let listed = old.list(&outputs).await.expect("list");
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].key, key);
    }

    #[tokio::test]
    async fn stores_lists_and_reads_back() {
        let dir = tempfile::tempdir().expect("dir");
        let store = LocalBlobStore::new(dir.path());
        let key = BlobKey::new("runs/1/outputs/forecast.csv").expect("key");
        let meta = store
            .put(&key, Bytes::from_static(b"a,b\n1,2\n"), "text/csv")
            .await
            .expect("put");
        assert_eq!(meta.size, 8);
        let nested = BlobKey::new("runs/1/outputs/charts/x.png").expect("key");
        store
            .put(&nested, Bytes::from_static(b"png"), "image/png")
            .await
            .expect("put");
        store
            .put(
                &BlobKey::new("runs/10/outputs/other.txt").expect("key"),
                Bytes::new(),
                "text/plain",
            )
            .await
            .expect("put");

        let listed = store
            .list(&BlobKey::run_outputs(modelrun_core::ids::RunId(1)))
            .await
            .expect("list");
        let keys: Vec<_> = listed.iter().map(|m| m.key.as_str()).collect();
        assert_eq!(
            keys,
            ["runs/1/outputs/charts/x.png", "runs/1/outputs/forecast.csv"]
        );
        assert_eq!(listed[1].sha256, meta.sha256);
        assert_eq!(listed[1].content_type.as_deref(), Some("text/csv"));

        let blob = store.get(&key).await.expect("get");
        assert_eq!(blob.meta.size, 8);
        assert_eq!(store.read_all(&key, 8).await.expect("read"), b"a,b\n1,2\n");
        assert_eq!(
            store.read_head(&key, 3).await.expect("head"),
            (b"a,b".to_vec(), true)
        );
        assert_eq!(
            store.read_head(&key, 100).await.expect("head"),
            (b"a,b\n1,2\n".to_vec(), false)
        );
        assert!(matches!(
            store.read_all(&key, 7).await,
            Err(BlobError::TooLarge { max: 7, .. })
        ));
        assert!(matches!(
            store.get(&BlobKey::new("runs/2/x").expect("key")).await,
            Err(BlobError::NotFound(_))
        ));
        assert!(
            store
                .list(&BlobKey::new("runs/404").expect("key"))
                .await
                .expect("list")
                .is_empty()
        );
        assert_eq!(
            store
                .presign_get(&key, "f.csv", Duration::from_secs(60))
                .await
                .expect("presign"),
            None
        );
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn listing_never_follows_symbolic_links() {
        let dir = tempfile::tempdir().expect("dir");
        let store = LocalBlobStore::new(dir.path().join("blobs"));
        let outputs = dir.path().join("blobs/runs/1/outputs");
        std::fs::create_dir_all(&outputs).expect("mkdir");
        std::fs::write(dir.path().join("secret"), "s").expect("write");
        std::os::unix::fs::symlink(dir.path().join("secret"), outputs.join("link"))
            .expect("symlink");
        std::fs::write(outputs.join("real.txt"), "r").expect("write");
        let listed = store
            .list(&BlobKey::run_outputs(modelrun_core::ids::RunId(1)))
            .await
            .expect("list");
        let keys: Vec<_> = listed.iter().map(|m| m.key.as_str()).collect();
        assert_eq!(keys, ["runs/1/outputs/real.txt"]);
    }
}
