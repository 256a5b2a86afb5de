//! The AWS backends against AWS APIs emulated by moto server: Batch, S3,
//! SES, ECR and CloudWatch Logs. Each test has a moto server of its own.

mod batch;
mod batch_diagnosis;
mod batch_log;
mod batch_retries;
mod batch_status;
#[path = "../common/mod.rs"]
mod common;
mod faults;
mod installations;
mod listjobs_front;
mod registry;
mod run_resources;
mod secrets;
mod storage;
mod support;
mod sweeps;
