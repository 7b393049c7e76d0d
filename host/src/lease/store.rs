//! A lock's store: S3 or a `file://` replica's directory, with the same answers.

use super::file::FileLock;
use super::s3::S3Lock;
use crate::rules::{LockPlace, LockSeen, WriteOutcome};
use crate::util::blocking::blocking;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone)]
pub enum Store {
    S3(Arc<S3Lock>),
    File(Arc<FileLock>),
}

impl Store {
    /// An AWS bucket whose replica names no region is asked for it first.
    pub async fn new(place: LockPlace, limit: Duration) -> Result<Store, String> {
        Ok(match place {
            LockPlace::S3(p) => {
                let region = match (&p.endpoint, &p.region) {
                    (None, None) => Some(super::s3::bucket_region(&p.bucket, limit).await?),
                    _ => None,
                };
                Store::S3(Arc::new(S3Lock::new(p, region, limit)?))
            }
            LockPlace::File(path) => Store::File(Arc::new(FileLock::new(path.into()))),
        })
    }

    pub fn describe(&self) -> String {
        match self {
            Store::S3(s) => s.describe(),
            Store::File(f) => f.describe(),
        }
    }

    pub async fn read(&self) -> Result<LockSeen, String> {
        match self {
            Store::S3(s) => s.read().await,
            Store::File(f) => {
                let f = f.clone();
                blocking(move || f.read()).await
            }
        }
    }

    pub async fn write(&self, if_match: Option<String>, body: String) -> (WriteOutcome, Option<String>) {
        match self {
            Store::S3(s) => s.write(if_match.as_deref(), &body).await,
            Store::File(f) => {
                let f = f.clone();
                blocking(move || f.write(if_match.as_deref(), &body)).await
            }
        }
    }

    pub async fn delete(&self, etag: String) -> WriteOutcome {
        match self {
            Store::S3(s) => s.delete(&etag).await,
            Store::File(f) => {
                let f = f.clone();
                blocking(move || f.delete(&etag)).await
            }
        }
    }
}
