//! Test harnesses for modelrun's own tests.
//!
//! [`Moto`] runs moto server (AWS APIs, emulated) on a free port of
//! 127.0.0.1 for one test, and stops it when dropped. [`AwsWorld`] creates
//! what modelrun needs in it: a bucket, roles, a network, a Batch compute
//! environment and queue, a log group, an SES identity. [`Outage`] cuts the
//! line to it on demand. [`LambdaRuntime`] serves the Lambda Runtime API
//! to the real binary. [`wheelhouse`] makes a Python wheel for tests that
//! build model environments without a network. [`SmtpServer`] is a real
//! SMTP server (aiosmtpd) on 127.0.0.1.

mod lambda;
mod moto;
mod outage;
mod ports;
mod smtp;
mod wheels;
mod world;

pub use lambda::LambdaRuntime;
pub use moto::Moto;
pub use outage::Outage;
pub use smtp::{SMTP_PASSWORD, SMTP_USER, SmtpServer};
pub use wheels::{nosy_sdist, probe_wheel, wheelhouse};
pub use world::AwsWorld;
