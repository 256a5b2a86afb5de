//! Where model secret values live: encrypted in the store on one machine
//! ([`key`]), in AWS Secrets Manager on AWS.

pub mod key;
